"""Edits on YAML *text*, computed from node positions: the only way pipelint changes a file.

Nothing is re-serialized. A scalar is replaced inside its own span, keeping its quoting style where the
new value allows it; a key is inserted as one new line indented like its siblings (or into a flow mapping
before its `}`), with the file's own newline. Every edit records what it means (`Intent`) so that the
fixer can check the re-parsed result against exactly the intended change.
"""

from __future__ import annotations

import re

from pipelint.document import MappingNode, Node, ScalarNode, SequenceNode, scalar_value_start

_PLAIN_FIRST_FORBIDDEN = set("-?:,[]{}#&*!|>'\"%@`")
_NOT_STRINGS_PATTERN = (
    r"""~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF
    |[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9][0-9_]*(?::[0-5]?[0-9])+"""
)


class SetScalar:
    """Intent: this scalar's value becomes `value`."""

    __slots__ = ("node", "value", "verbatim")

    def __init__(self, node: ScalarNode, value: str, verbatim: bool = False):
        self.node = node
        self.value = value
        self.verbatim = verbatim  # write `value` as a plain scalar as it is (`false` the boolean, not a string)


class InsertPair:
    """Intent: `key: value` is added to this mapping."""

    __slots__ = ("mapping", "key", "value", "verbatim")

    def __init__(self, mapping: MappingNode, key: str, value: str, verbatim: bool = False):
        self.mapping = mapping
        self.key = key
        self.value = value
        self.verbatim = verbatim


Intent = SetScalar | InsertPair


def plain_ok(value: str, flow: bool = False) -> bool:
    """Can `value` be written as a plain scalar and still read back as this exact string?"""
    if not value or value != value.strip() or value[0] in _PLAIN_FIRST_FORBIDDEN:
        return False
    if ": " in value or " #" in value or value.endswith(":") or "\n" in value or "\t" in value:
        return False
    if flow and any(c in value for c in ",[]{}"):
        return False
    if re.fullmatch(_NOT_STRINGS_PATTERN, value, re.VERBOSE):  # compiled on first use (start-up time)
        return False
    return all(c.isprintable() for c in value)


def double_quoted(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{out}"'


def single_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_scalar(value: str, style: str | None, flow: bool = False) -> str:
    if style == "'" and value.isprintable():
        return single_quoted(value)
    if style == '"' or not plain_ok(value, flow):
        return double_quoted(value)
    return value


def replace_scalar(text: str, node: ScalarNode, value: str, verbatim: bool = False):
    """(start, end, replacement) replacing a single-line scalar's value; None for block scalars."""
    style = node.style or None
    if style in ("|", ">"):
        return None
    start = scalar_value_start(node, text)
    end = node.end_mark.index
    if "\n" in text[start:end]:
        return None  # a multi-line flow scalar: rewrite by hand
    return start, end, value if verbatim else render_scalar(value, style, flow=True)


def line_start(text: str, index: int) -> int:
    return text.rfind("\n", 0, index) + 1


_ALIAS_AFTER_KEY = r"[ \t]*:[ \t]*\*[^\s,\[\]{}]+"  # compiled on first use (start-up time)


def _last_content_end(text: str, key: ScalarNode | None, node: Node) -> int | None:
    """Index just past the last character of `node`'s own content: for a block collection the end of
    its last leaf (its end mark lies at the next token, after any comments); for a block scalar the end
    of its last non-blank line; for an alias (whose node sits at its anchor) the `*name` token."""
    if key is not None and node.start_mark.index < key.end_mark.index:
        m = re.compile(_ALIAS_AFTER_KEY).match(text, key.end_mark.index)
        return m.end() if m else None
    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        k, v = node.value[-1]
        return _last_content_end(text, k, v)
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        item = node.value[-1]
        if item.start_mark.index < node.start_mark.index:
            return None  # an alias as the last item: find it by hand
        return _last_content_end(text, None, item)
    if isinstance(node, ScalarNode) and (node.style or None) in ("|", ">"):
        start = scalar_value_start(node, text)
        header = text[start:text.find("\n", start)]
        if "+" in header.split("#", 1)[0]:  # keep chomping: trailing blank lines are content
            return node.end_mark.index - 1 if text[node.end_mark.index - 1] == "\n" else node.end_mark.index
        return len(text[: node.end_mark.index].rstrip(" \t\r\n"))
    return node.end_mark.index


def insert_pair(text: str, mapping: MappingNode, key: str, value: str, newline: str, verbatim: bool = False):
    """(index, index, text) inserting `key: value` into `mapping`; None when no safe place exists."""
    rendered = value if verbatim else render_scalar(value, None, bool(mapping.flow_style))
    if mapping.flow_style:
        close = mapping.end_mark.index - 1
        if close < 0 or text[close] != "}":
            return None
        if not mapping.value:
            if text[mapping.start_mark.index + 1:close].strip():
                return None
            return close, close, f"{key}: {rendered}"
        last_key, last = mapping.value[-1]
        if last.start_mark.index < last_key.end_mark.index or last.end_mark.index > close:
            return None  # alias as last value
        return last.end_mark.index, last.end_mark.index, f", {key}: {rendered}"
    if not mapping.value:
        return None
    first_key = mapping.value[0][0]
    indent_col = first_key.start_mark.column
    if any(k.start_mark.column != indent_col for k, _ in mapping.value):
        return None  # keys not each on a line of their own at one column
    last_key, last_value = mapping.value[-1]
    end = _last_content_end(text, last_key, last_value)
    if end is None:
        return None
    eol = text.find("\n", end)
    if eol == -1:  # the last line of a file without a final newline
        return len(text), len(text), f"{newline}{' ' * indent_col}{key}: {rendered}"
    return eol + 1, eol + 1, f"{' ' * indent_col}{key}: {rendered}{newline}"


def edit_for(text: str, intent: Intent, newline: str):
    """The (start, end, replacement) that carries out `intent` on `text`, or None."""
    if isinstance(intent, SetScalar):
        return replace_scalar(text, intent.node, intent.value, intent.verbatim)
    return insert_pair(text, intent.mapping, intent.key, intent.value, newline, intent.verbatim)

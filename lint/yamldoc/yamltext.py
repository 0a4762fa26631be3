"""Edits on YAML *text*, computed from node positions: the only way pipelint changes a file.

Nothing is re-serialized. A scalar is replaced inside its own span, keeping its quoting style where the
new value allows it; a key is inserted as one new line indented like its siblings (or into a flow mapping
before its `}`), with the file's own newline. Every edit records what it means (`Intent`) so that the
fixer can check the re-parsed result against exactly the intended change.
"""

from __future__ import annotations

import re

from pipelint.yamldoc.document import STR_TAG, MappingNode, Node, ScalarNode, SequenceNode, scalar_value_start
from pipelint.yamldoc.resolved import Change

_PLAIN_FIRST_FORBIDDEN = set("-?:,[]{}#&*!|>'\"%@`")
_NOT_STRINGS_PATTERN = (
    r"""~|null|Null|NULL|true|True|TRUE|false|False|FALSE|y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF
    |[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?
    |0x[0-9a-fA-F_]+|0o?[0-7_]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)|[0-9][0-9_]*(?::[0-5]?[0-9])+"""
)


class SetScalar:
    """Intent: this scalar's value becomes `value`, at `paths` (where the document's data reads it: keys and
    list indexes from the root; a scalar shared through an alias is read at each of its uses)."""

    __slots__ = ("node", "paths", "value", "verbatim")

    def __init__(self, node: ScalarNode, value: str, verbatim: bool = False, paths: tuple = ()):
        self.node = node
        self.value = value
        self.verbatim = verbatim  # write `value` as a plain scalar as it is (`false` the boolean, not a string)
        self.paths = paths

    def changes(self) -> list[Change]:
        return [Change(p, self.value, self.verbatim, "replace") for p in self.paths]

    def target(self):
        return self.node


class RenameKey:
    """Intent: this mapping key is written `value` instead (its value stays), read at `paths` (the key's place).
    `mapping`, the mapping the key is in, is what may be shared through an alias: the key is read wherever it is."""

    __slots__ = ("mapping", "node", "paths", "value")
    verbatim = False  # a key is written as a string, like every other intent's `verbatim=False`

    def __init__(self, node: ScalarNode, value: str, paths: tuple = (), mapping: MappingNode | None = None):
        self.node = node
        self.value = value
        self.paths = paths
        self.mapping = mapping

    def changes(self) -> list[Change]:
        return [Change(p, self.value, False, "rename") for p in self.paths]

    def target(self):
        return self.node


class InsertPair:
    """Intent: `key: value` is added to this mapping, read at `paths`."""

    __slots__ = ("key", "mapping", "paths", "value", "verbatim")

    def __init__(self, mapping: MappingNode, key: str, value: str, verbatim: bool = False, paths: tuple = ()):
        self.mapping = mapping
        self.key = key
        self.value = value
        self.verbatim = verbatim
        self.paths = paths

    def changes(self) -> list[Change]:
        return [Change(p + (self.key,), self.value, self.verbatim, "add") for p in self.paths]

    def target(self):
        return self.mapping


class CopyInsert(InsertPair):
    """Intent: like InsertPair, but for one use of a shared mapping: its `*alias` (text[start:end]) becomes a
    flow-mapping copy of the anchored mapping with `key: value` added; the anchor and its other uses stay."""

    __slots__ = ("alias",)

    def __init__(self, alias: tuple[int, int], mapping: MappingNode, key: str, value: str, verbatim: bool = False,
                 paths: tuple = ()):
        super().__init__(mapping, key, value, verbatim, paths)
        self.alias = alias


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


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}


def double_quoted(value: str) -> str:
    out = []
    for c in value:
        if c in _ESCAPES:
            out.append(_ESCAPES[c])
        elif not c.isprintable() or c in "\u2028\u2029\ufeff":
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def single_quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def render_scalar(value: str, style: str | None, flow: bool = False) -> str:
    if style == "'" and value.isprintable():
        return single_quoted(value)
    if style == '"' or not plain_ok(value, flow):
        return double_quoted(value)
    return value


def _properties(text: str, node: ScalarNode) -> list[tuple[int, int]]:
    """Spans of the `&anchor` and `!tag` tokens written before a scalar's value."""
    out = []
    i, end = node.start_mark.index, node.end_mark.index
    while i < end and text[i] in "&!":
        j = i
        while j < end and text[j] not in " \t\r\n":
            j += 1
        out.append((i, j))
        while j < end and text[j] in " \t\r\n":
            j += 1
        i = j
    return out


def replace_scalar(text: str, node: ScalarNode, value: str, verbatim: bool = False):
    """(start, end, replacement) replacing a single-line scalar's value (an empty or `null` one included);
    None for block scalars and multi-line flow scalars."""
    style = node.style or None
    if style in ("|", ">"):
        return None
    start = scalar_value_start(text=text, node=node)
    end = node.end_mark.index
    if "\n" in text[start:end] or "\r" in text[start:end]:
        return None  # a multi-line flow scalar: rewrite by hand
    rendered = value if verbatim else render_scalar(value, style, flow=True)
    if node.tag != STR_TAG:  # `!!null`, `!!int`...: the tag would make the new value something else
        tags = [p for p in _properties(text, node) if text[p[0]] == "!"]
        if tags:
            start = tags[0][0]
    if start == end and not node.value:  # an empty value: `key:`, `key: &a`, `{key}`
        before = start
        while before > 0 and text[before - 1] in " \t":
            before -= 1
        prev = text[before - 1] if before else ""
        if prev == ":" or (prev and prev not in ",{[" and _follows_property(text, before)):
            rendered = (" " if start == before else "") + rendered
        elif prev in ("", ",", "{", "[", "\n", "\r", "-"):
            return None  # not after a `key:`
        else:  # a flow entry written as a key alone: `{key}`
            rendered = ": " + rendered
    return start, end, rendered


def _follows_property(text: str, index: int) -> bool:
    """Does text[:index] end with an `&anchor` or `!tag` token?"""
    j = index
    while j > 0 and text[j - 1] not in " \t\r\n:":
        j -= 1
    return j < index and text[j] in "&!"


def line_start(text: str, index: int) -> int:
    nl = text.rfind("\n", 0, index)
    return max(nl, text.rfind("\r", nl + 1, index)) + 1  # a bare CR ends a line too (looked for after nl)


def next_line_start(text: str, index: int) -> int | None:
    """Index of the start of the line after the one `index` is on (any of \\n, \\r\\n, \\r ends a line)."""
    n = text.find("\n", index)
    r = text.find("\r", index, n if n != -1 else len(text))  # only a CR before that LF matters
    if r == -1:
        return None if n == -1 else n + 1
    return r + 2 if text.startswith("\r\n", r) else r + 1


_ALIAS_AFTER_KEY = r"[ \t]*:[ \t]*(\*[^\s,\[\]{}]+)"  # compiled on first use (start-up time)


def alias_token(text: str, key: ScalarNode) -> tuple[int, int] | None:
    """The span of `*name` written as the value of `key`."""
    m = re.compile(_ALIAS_AFTER_KEY).match(text, key.end_mark.index)
    return m.span(1) if m else None


def _block_scalar_end(text: str, node: ScalarNode) -> int | None:
    """End of a block scalar's last content line (clip and strip chomping: trailing empty lines are not
    content, but a line of more spaces than the scalar's indentation is)."""
    start = scalar_value_start(node, text)
    first_break = next_line_start(text, start)
    if first_break is None:
        return node.end_mark.index
    header = text[start:first_break].split("#", 1)[0]
    lines = re.split(r"(?<=\n)|(?<=\r)(?!\n)", text[first_break:node.end_mark.index])
    content = [ln for ln in lines if ln.strip(" \r\n")]
    if not content:
        return None
    indent = len(content[0]) - len(content[0].lstrip(" "))
    explicit = any(c.isdigit() for c in header)  # an indentation indicator (`|2`)
    pos = node.end_mark.index
    for ln in reversed(lines):
        body = ln.rstrip("\r\n")
        if body.strip(" ") == "" and len(body) <= indent:
            pos -= len(ln)
            continue
        if body.strip(" ") == "" and explicit:
            return None  # the indentation is set by an indicator: cannot tell content from padding here
        return pos - (len(ln) - len(body))
    return None


def _last_content_end(text: str, key: ScalarNode | None, node: Node) -> int | None:
    """Index just past the last character of `node`'s own content: for a block collection the end of
    its last leaf (its end mark lies at the next token, after any comments); for a block scalar the end
    of its last content line; for an alias (whose node sits at its anchor) the `*name` token."""
    if key is not None and node.start_mark.index < key.end_mark.index:
        span = alias_token(text, key)
        return span[1] if span else None
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
        eol = next_line_start(text, start)
        header = text[start:eol if eol is not None else len(text)]
        if "+" in header.split("#", 1)[0]:  # keep chomping: trailing blank lines are content
            end = node.end_mark.index
            if text.startswith("\r\n", end - 2):
                return end - 2
            return end - 1 if text[end - 1:end] in ("\n", "\r") else end
        return _block_scalar_end(text, node)
    return node.end_mark.index


def _entry_column(text: str, key: ScalarNode) -> int | None:
    """The column where a block mapping entry starts: the key's, or its `?` for an explicit key; None when
    something else stands before it on its line."""
    start = line_start(text, key.start_mark.index)
    before = text[start:key.start_mark.index]
    if not before.strip(" "):
        return key.start_mark.column
    stripped = before.rstrip(" ")
    if stripped.strip(" ") == "?":
        return len(stripped) - 1  # the column of the `?`
    return None


def insert_pair(text: str, mapping: MappingNode, key: str, value: str, newline: str, verbatim: bool = False):
    """(index, index, text) inserting `key: value` into `mapping`; None when no safe place exists."""
    if mapping.flow_style:
        return _insert_flow(text, mapping, key, value, verbatim)
    if not mapping.value:
        return None
    rendered = value if verbatim else render_scalar(value, None)
    columns = {_entry_column(text, k) for k, _ in mapping.value}
    indent_col = columns.pop() if len(columns) == 1 else None
    if indent_col is None:
        return None  # keys not each on a line of their own at one column
    last_key, last_value = mapping.value[-1]
    if last_value.__class__ is ScalarNode and last_value.start_mark.index == last_value.end_mark.index \
            and _entry_column(text, last_key) != last_key.start_mark.column:
        return None  # `? key` with no `: value` last: libyaml reads no new key on the line after it
    end = _last_content_end(text, last_key, last_value)
    if end is None:
        return None
    eol = next_line_start(text, end)
    if eol is None:  # the last line of a file without a final newline
        return len(text), len(text), f"{newline}{' ' * indent_col}{key}: {rendered}"
    return eol, eol, f"{' ' * indent_col}{key}: {rendered}{newline}"


def _insert_flow(text: str, mapping: MappingNode, key: str, value: str, verbatim: bool):
    close = mapping.end_mark.index - 1
    if close < 0 or text[close] != "}":
        return None
    json_style = bool(mapping.value) and all(
        isinstance(k, ScalarNode) and k.style == '"' for k, _ in mapping.value)
    if json_style:  # `{"pipeline": {...}}`: a JSON document stays JSON
        import json

        pair = f"{json.dumps(key, ensure_ascii=False)}: {value if verbatim else json.dumps(value, ensure_ascii=False)}"
    else:
        pair = f"{key}: {value if verbatim else render_scalar(value, None, True)}"
    if not mapping.value:
        if text[mapping.start_mark.index + 1:close].strip():
            return None
        return close, close, pair
    last_key, last = mapping.value[-1]
    if last.start_mark.index < last_key.end_mark.index:  # an alias as the last value
        span = alias_token(text, last_key)
        if span is None:
            return None
        end = span[1]
    else:
        end = max(last.end_mark.index, last_key.end_mark.index)
    if end > close:
        return None
    return end, end, f", {pair}"


def render_flow(text: str, node: Node, depth: int = 0) -> str | None:
    """A node's value written as one flow-style line (mappings `{...}`, lists `[...]`, scalars quoted as
    they need); None for what cannot be written so (explicit tags, complex keys, very deep nesting)."""
    if depth > 50:
        return None
    if isinstance(node, ScalarNode):
        if node.tag != STR_TAG:
            return None
        style = node.style or None
        if style in ("|", ">") or "\n" in node.value:
            return double_quoted(node.value)
        if style is None:
            return node.value if plain_ok(node.value, flow=True) or _plain_nonstring_ok(node.value) else None
        return render_scalar(node.value, style, flow=True)
    if isinstance(node, SequenceNode):
        items = [render_flow(text, item, depth + 1) for item in node.value]
        return None if None in items else "[" + ", ".join(i for i in items if i is not None) + "]"
    parts: list[str] = []
    for k, v in node.value:
        if not isinstance(k, ScalarNode) or (k.value == "<<" and not k.style):
            return None
        rk, rv = render_flow(text, k, depth + 1), render_flow(text, v, depth + 1)
        if rk is None or rv is None:
            return None
        parts.append(f"{rk}: {rv}")
    return "{" + ", ".join(parts) + "}"


def _plain_nonstring_ok(value: str) -> bool:
    """A plain scalar that is not a string (`3`, `true`, `~`) keeps its meaning written plain in flow."""
    return bool(value) and value == value.strip() and not any(c in value for c in ",[]{}#") \
        and value[0] not in _PLAIN_FIRST_FORBIDDEN and ": " not in value


def edit_for(text: str, intent: Intent, newline: str):
    """The (start, end, replacement) that carries out `intent` on `text`, or None."""
    if isinstance(intent, SetScalar):
        return replace_scalar(text, intent.node, intent.value, intent.verbatim)
    if isinstance(intent, RenameKey):
        return replace_scalar(text, intent.node, intent.value, False)
    if isinstance(intent, CopyInsert):
        copy = render_flow(text, intent.mapping)
        if copy is None:
            return None
        rendered = intent.value if intent.verbatim else render_scalar(intent.value, None, True)
        pair = f"{intent.key}: {rendered}"
        copy = "{" + pair + "}" if copy == "{}" else copy[:-1] + ", " + pair + "}"
        start, end = intent.alias
        return start, end, copy
    return insert_pair(text, intent.mapping, intent.key, intent.value, newline, intent.verbatim)

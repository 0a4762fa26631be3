"""Parsing: text -> documents of nodes with exact positions. The only module that imports a YAML parser.

The parser is PyYAML's composer on libyaml (`CSafeLoader`), falling back to PyYAML's pure-Python composer
where libyaml is missing. Only *composition* is used: no constructor runs, so no tag can build an object,
and an alias is the very node it refers to (never expanded: an alias bomb stays small). Scalars keep the
string as written (`yes` stays "yes"; YAML 1.1 resolution never happens here).

Nodes are PyYAML's nodes; the rest of pipelint reaches them only through the helpers below, so another
parser can be swapped in behind this module.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pipelint.text import source as sourcelib
from pipelint.text.source import Source

TYPE_CHECKING = False  # typing is not imported on the pre-commit path (tests/test_cli.py)
if TYPE_CHECKING:
    from typing import Any

_Base: Any  # the C loader where PyYAML has libyaml, the Python one otherwise
try:
    _Base = yaml.CSafeLoader
    from yaml import _yaml as _libyaml

    # libyaml 0.2.6 stops at 1,000 levels of nesting while scanning, before any node is built; older
    # versions (PyYAML 6.0.3's wheels, some distributions' builds) compose any depth, so `parse` measures it.
    _DEPTH_CHECKED_BY_PARSER = tuple(_libyaml.get_version()) >= (0, 2, 6)
except (AttributeError, ImportError):  # PyYAML built without libyaml: its composer recurses, and
    _Base = yaml.SafeLoader            # Python's recursion limit stops it (RecursionError below)
    _DEPTH_CHECKED_BY_PARSER = True

MAX_DEPTH = 1000  # libyaml 0.2.6's limit; Harness files nest a few dozen levels

STR_TAG = "tag:yaml.org,2002:str"
_DEFAULT_TAGS = {ScalarNode: STR_TAG, SequenceNode: "tag:yaml.org,2002:seq", MappingNode: "tag:yaml.org,2002:map"}


class _Loader(_Base):
    """No implicit tag resolution while composing: a third of the parse time, and pipelint compares scalars
    as the strings written. `implicit_tag` resolves a scalar when it matters (verifying a fix)."""

    def resolve(self, kind, value, implicit):
        return _DEFAULT_TAGS[kind]

    # The composer calls these two around every node, to track the path implicit resolvers match on; with no
    # resolution there is nothing to track. C built-ins that take the same arguments and do nothing anyone sees
    # (a slice object dropped, the empty tuple) cost less than Python functions that do nothing: composing the
    # generated corpus takes 11% less time (800 files, best of 5: 0.697 s -> 0.620 s)
    descend_resolver = staticmethod(slice)  # (current_node, current_index)
    ascend_resolver = staticmethod(tuple)  # ()


_resolver = yaml.resolver.Resolver()


def implicit_tag(node: ScalarNode) -> str:
    """The tag YAML 1.1 resolution gives this scalar (`false` plain is a bool, quoted a string)."""
    if node.tag != STR_TAG:
        return node.tag
    return _resolver.resolve(ScalarNode, node.value, (not node.style, bool(node.style)))

__all__ = [
    "MAX_DEPTH",
    "STR_TAG",
    "Document",
    "MappingNode",
    "Node",
    "ParseError",
    "ScalarNode",
    "SequenceNode",
    "get",
    "get_pair",
    "implicit_tag",
    "is_map",
    "is_null",
    "items",
    "parse",
    "scalar",
    "scalar_value_start",
    "walk",
]


class ParseError(Exception):
    def __init__(self, message: str, line: int, column: int, language: str = "YAML"):
        super().__init__(message)
        self.message = message
        self.line = line  # 1-based
        self.column = column  # 1-based
        self.language = language  # what did not parse: "YAML", or the container's language ("HCL")


class Document:
    """One YAML document of a file: its root node and, once `harness.documents` has classified it, its kind
    and entity body (parsing alone leaves them None)."""

    __slots__ = ("body", "facts", "kind", "number", "path_prefix", "root", "source")

    def __init__(self, source: Source, number: int, root: Node | None, kind: str | None = None,
                 body: Node | None = None, path_prefix: tuple = ()):
        # what one walk over every key found (pipelint.harness.vocabulary.scan), once asked
        self.facts: object | None = None
        self.source = source
        self.number = number  # 0-based index of the document in its file
        self.root = root
        self.kind = kind  # a harness.ROOT_KEYS entry, "headless", or None (not a Harness document)
        self.body = body  # the entity body: the root key's value, or the root itself when headless
        self.path_prefix = path_prefix

    @property
    def text(self) -> str:
        text = self.source.text
        assert text is not None, "documents come from decoded sources only"
        return text

    @property
    def span(self) -> tuple[int, int]:
        """(start, end) of the document's root in `text`: where a search for something in this document looks (a
        file of thousands of documents must not be searched whole for each)."""
        root = self.root
        return (root.start_mark.index, root.end_mark.index) if root is not None else (0, 0)


def parse(source: Source) -> tuple[list[Document], ParseError | None]:
    """Every document of `source` that parses (not yet classified: see `harness.documents`), and the error
    that stopped parsing, if any."""
    docs: list[Document] = []
    text = source.text or ""
    # Composing creates a node per scalar and nothing cyclic: the cyclic collector would only rescan the
    # growing graph again and again (5x slower on a large document). Reference counting frees it all.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for number, root in enumerate(yaml.compose_all(text, Loader=_Loader)):
            if root is None:
                continue
            if not _DEPTH_CHECKED_BY_PARSER:
                _check_depth(root)
            docs.append(Document(source, number, root))
    except ParseError as exc:
        return docs, exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "syntax error"
        if exc.context and exc.context not in problem:
            problem = f"{problem} ({exc.context})"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if mark is not None and not sourcelib.marks_agree(text):  # lines as the file's, not as YAML 1.1 counts
            line, col = sourcelib.line_col(text, min(mark.index, len(text)))
        if mark is not None and "cannot start any token" in problem and mark.index < len(text):
            char = text[mark.index]
            if char == "\t":
                problem = "a tab character where YAML allows only spaces (indentation must use spaces)"
            elif repr(char)[1:-1] not in problem:
                problem = problem.replace("found character", f"found character {char!r}")
        return docs, ParseError(_clean(problem), line, col)
    except yaml.YAMLError as exc:
        return docs, ParseError(_clean(str(exc)), 1, 1)
    except RecursionError:
        return docs, ParseError("document is nested too deeply", 1, 1)
    finally:
        if collecting:
            gc.enable()
    return docs, None


def _check_depth(root: Node) -> None:
    """Raise a ParseError at the first collection nested deeper than MAX_DEPTH (iteratively: a deep tree
    must not exhaust the Python stack on its way to being refused)."""
    stack = [(root, 1)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if node.__class__ is ScalarNode or id(node) in seen:
            continue
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise ParseError(f"exceeded maximum nesting depth ({MAX_DEPTH} levels)", mark.line + 1, mark.column + 1)
        seen.add(id(node))
        children = [c for pair in node.value for c in pair] if node.__class__ is MappingNode else node.value
        stack.extend((child, depth + 1) for child in reversed(children))


def _clean(message: str) -> str:
    return " ".join(message.split())


# --- node helpers: the only way the rest of pipelint reads nodes ---------------------------------------

def is_map(node: Node | None) -> bool:
    return isinstance(node, MappingNode)


def scalar(node: Node | None) -> str | None:
    """The scalar's text as written (no YAML 1.1 resolution), or None for a non-scalar or missing node."""
    if isinstance(node, ScalarNode):
        return node.value
    return None


def is_null(node: Node | None) -> bool:
    return node is None or (
        isinstance(node, ScalarNode) and not node.style and node.value in ("", "~", "null", "Null", "NULL")
    )


def get_pair(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    """The last (key node, value node) pair for `key` (YAML keeps the last of duplicates)."""
    if not isinstance(node, MappingNode):
        return None
    for pair in reversed(node.value):  # from the end: the first match is the last pair (the walker's hot loop)
        k = pair[0]
        if k.value == key and isinstance(k, ScalarNode):  # a complex key's value is a list: never equal
            return pair
    return None


def get(node: Node | None, key: str) -> Node | None:
    pair = get_pair(node, key)
    return pair[1] if pair else None


def items(node: Node | None) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value


def walk(root: Node) -> Iterator[Node]:
    """Every node once (aliases are visited once: no blow-up on alias bombs)."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack.append(v)
                stack.append(k)
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))


def scalar_value_start(node: ScalarNode, text: str) -> int:
    """Index of the scalar's value proper: past any `&anchor` and `!tag` before it."""
    i = node.start_mark.index
    end = node.end_mark.index
    while i < end and text[i] in "&!":
        while i < end and text[i] not in " \t\r\n":
            i += 1
        while i < end and text[i] in " \t\r\n":
            i += 1
    return i

"""JSONPath over YAML nodes, bounded: what a custom rule's `given` reads (pipelint.ruleapi.custom).

A document's node graph becomes Python data as Harness reads it (`<<` an ordinary key, plain scalars typed as YAML
1.1 types them), aliases expanded up to a budget of nodes (an alias bomb or a recursive anchor reads as null past
it, never in exponential time). A JSONPath is compiled once (jsonpath-ng's extended syntax, at most MAX_GIVEN
characters and MAX_STEPS steps, no `=~` filters: Python's regular expressions have no time bound) into one walk
over the data for the shapes policies are written in; other shapes are left to jsonpath-ng. Both are metered:
a path may produce or visit at most WORK_BUDGET places per document (WorkExceeded past it). Each match is mapped
back to its node through its path (`node_at`), so findings carry the node's exact span.
"""

from __future__ import annotations

import threading

from pipelint.text.source import quoted
from pipelint.yamldoc.document import MappingNode, Node, ScalarNode, SequenceNode

NODE_BUDGET = 200_000  # data nodes one document may expand to (aliases counted at every use)


class JsonPathError(Exception):
    """Why a `given` is refused (the caller names the file, the rule and the key)."""


MAX_GIVEN = 1000  # characters of a JSONPath `given`
MAX_STEPS = 64  # steps of a JSONPath `given` (fields, indexes, filters, `..`), nested filters counted
WORK_BUDGET = 500_000  # places one rule's JSONPath may produce or visit in one document


def parse(given: str):
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext import parse

    if len(given) > MAX_GIVEN:
        raise JsonPathError(f"longer than {MAX_GIVEN} characters")
    try:
        path = parse(given)
    except (JsonPathParserError, JsonPathLexerError) as exc:
        raise JsonPathError(f"{quoted(given)} is not a JSONPath: {' '.join(str(exc).split())[:200]}") from None
    except RecursionError:
        raise JsonPathError(f"more than {MAX_STEPS} steps") from None
    except Exception as exc:  # jsonpath-ng raises others for some inputs (ply's own errors, ValueError)
        text = " ".join(str(exc).split())[:200]
        raise JsonPathError(f"{quoted(given)} is not a JSONPath: {type(exc).__name__}: {text}") from None
    if _steps(path) > MAX_STEPS:
        raise JsonPathError(f"more than {MAX_STEPS} steps")
    if _matches_regex(path):
        raise JsonPathError("a regular expression in a filter (`=~`) is not supported: jsonpath-ng runs it "
                                       "with Python's backtracking engine, which has no time bound; match with "
                                       'then.function = "pattern" (RE2) instead')
    _meter_jsonpath_ng()
    return path


def _steps(path) -> int:
    """How many steps a parsed JSONPath has (the nodes of its tree, filters' expressions included), counted up
    to just past MAX_STEPS."""
    from jsonpath_ng.ext.filter import Expression
    from jsonpath_ng.jsonpath import JSONPath

    def is_step(v) -> bool:
        return isinstance(v, (JSONPath, Expression))

    count = 0
    stack = [path]
    while stack and count <= MAX_STEPS:
        p = stack.pop()
        count += 1
        for v in getattr(p, "__dict__", {}).values():
            if is_step(v):
                stack.append(v)
            elif isinstance(v, (list, tuple)):
                stack.extend(x for x in v if is_step(x))
    return count


def _matches_regex(path) -> bool:
    """Whether a parsed JSONPath has a filter comparing with `=~` (nested filters included)."""
    from jsonpath_ng.ext.filter import Expression

    stack = [path]
    while stack:
        p = stack.pop()
        if isinstance(p, Expression) and getattr(p, "op", None) == "=~":
            return True
        for v in getattr(p, "__dict__", {}).values():
            stack.extend(v if isinstance(v, (list, tuple)) else [v])
    return False


class WorkExceeded(Exception):
    """A JSONPath produced or visited more places in one document than WORK_BUDGET."""


_METER = threading.local()  # .left: places the JSONPath being evaluated may still produce or visit (None: off)


def _spend(n: int) -> None:
    left = getattr(_METER, "left", None)
    if left is not None:
        left -= n
        _METER.left = left
        if left < 0:
            raise WorkExceeded


def _metered(step):
    """A compiled step that charges each place it produces to the meter."""

    def run(items):
        out = step(items)
        _spend(len(out))
        return out

    return run


def _meter_jsonpath_ng() -> None:
    """Charge every match object jsonpath-ng makes (its own walk, and the filters' expressions the compiled walk
    hands it) to the meter: jsonpath-ng has no budget of its own, and a path like `$..*..*..*..*` grows
    exponentially with the document's depth. Installed once, when a custom rule's JSONPath is compiled; it
    counts only while a custom rule's JSONPath is being evaluated."""
    from jsonpath_ng import jsonpath as jp

    original = jp.DatumInContext.__init__
    if getattr(original, "_pipelint_metered", False):
        return

    def counted(self, *args, **kwargs):
        if getattr(_METER, "left", None) is not None:
            _spend(1)
        original(self, *args, **kwargs)

    counted._pipelint_metered = True  # type: ignore[attr-defined]
    jp.DatumInContext.__init__ = counted  # type: ignore[method-assign]



_TAGS: dict[str, str] = {}
_RESOLVER: list = []  # one PyYAML resolver, made on first use


def _resolve(text: str) -> str:
    """The YAML 1.1 tag of a plain scalar, as PyYAML's resolver gives it (bool, int, float, null, str...)."""
    tag = _TAGS.get(text)
    if tag is None:
        if not _RESOLVER:
            from yaml.resolver import Resolver

            _RESOLVER.append(Resolver())
        tag = _RESOLVER[0].resolve(ScalarNode, text, (True, False))
        if len(_TAGS) < 4096:
            _TAGS[text] = tag
    return tag


_BOOLS = {"true": True, "yes": True, "on": True, "false": False, "no": False, "off": False}


def scalar_value(node: Node):
    """A node's value as YAML 1.1 types it (bool, int, float, null, str); mappings and sequences as data."""
    if not isinstance(node, ScalarNode):
        return _data(node, [NODE_BUDGET])
    text = node.value
    if node.style:  # quoted or block: a string (pipelint's composer leaves every tag `str`; plain style is "")
        return text
    tag = _resolve(text)
    if tag.endswith(":bool"):
        return _BOOLS.get(text.lower(), text)
    if tag.endswith(":null"):
        return None
    if tag.endswith(":int"):
        try:
            return int(text.replace("_", ""), 0)
        except ValueError:
            return text
    if tag.endswith(":float"):
        try:
            return float(text.replace("_", ""))
        except ValueError:
            return text
    return text


_LAST: list = [None, None]  # (root node, its data): every custom rule of a document reads one conversion


def document_data(root: Node):
    if _LAST[0] is not root:
        _LAST[0], _LAST[1] = root, _data(root, [NODE_BUDGET])
    return _LAST[1]


def _data(node: Node, budget: list[int]):
    """Python data of `node` with aliases expanded while `budget` lasts (then null)."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    if isinstance(node, MappingNode):
        out = {}
        for k, v in node.value:
            key = k.value if isinstance(k, ScalarNode) else repr(k.start_mark.index)
            out[key] = _data(v, budget)
        return out
    if isinstance(node, SequenceNode):
        return [_data(v, budget) for v in node.value]
    return scalar_value(node)


def find_paths(path, data, walk=None) -> list[tuple]:
    """The places (keys and indexes from the root) where the parsed JSONPath `path` matches `data`.

    `walk` is `compile_path(path)`: the shapes policies are written in (`$`, `@`, `.field`, `['a','b']`, `..`,
    `*`, `[0]`, `[?(...)]`) become one Python function, made once per rule, that walks the data itself in
    jsonpath-ng's order and with its semantics (a filter's expressions are jsonpath-ng's own) and builds no match
    objects; any other shape is left to jsonpath-ng's `find`. bench/bench_custom.py measures the difference.
    """
    if walk is None:
        walk = compile_path(path)
    _METER.left = WORK_BUDGET
    try:
        if walk is not False:
            return [place for place, _ in walk([((), data)])]
        places = (_segments(match.full_path) for match in path.find(data))
        return [place for place in places if place is not None]
    finally:
        _METER.left = None


def compile_path(path):
    """A function (place, value) items -> matches for `path`, or False for a shape left to jsonpath-ng."""
    from jsonpath_ng import jsonpath as jp
    from jsonpath_ng.ext.filter import Filter

    def build(p, leftmost=True):
        kind = type(p)
        if kind is jp.Root and leftmost:  # `$` first: the items are the root
            return lambda items: items
        if kind is jp.This:
            return lambda items: items
        if kind is jp.Child:
            left, right = metered(p.left, leftmost), metered(p.right, False)
            return lambda items: right(left(items))
        if kind is jp.Descendants:
            first = p.right
            while isinstance(first, (jp.Child, jp.Descendants)):
                first = first.left
            if isinstance(first, (jp.This, jp.Root)):  # `..` onto the value itself: scalars too; jsonpath-ng's walk
                raise _Unsupported
            return _descendants(metered(p.left, leftmost), metered(p.right, False), _first_names(p.right, jp))
        if kind is jp.Fields and "*" not in p.fields:  # before 1.16 `*` was Fields("*"): left to jsonpath-ng
            names = p.fields
            return lambda items: [(place + (f,), value[f]) for place, value in items if type(value) is dict
                                  for f in names if f in value]
        if kind is getattr(jp, "Wildcard", None):  # jsonpath-ng 1.16+
            return _children
        if kind is jp.Index and getattr(p, "indices", None):
            indices = p.indices
            return lambda items: [(place + (i % len(value),), value[i]) for place, value in items
                                  if type(value) is list for i in indices if -len(value) <= i < len(value)]
        references_root = getattr(p, "_references_root", None)  # jsonpath-ng 1.8+; else its own walk
        if kind is Filter and references_root is not None and not references_root():
            expressions = p.expressions
            return lambda items: [(place, value) for place, value in _children(items)
                                  if all(e.find(value) for e in expressions)]
        raise _Unsupported

    def metered(p, leftmost=True):
        return _metered(build(p, leftmost))

    try:
        return metered(path)
    except _Unsupported:
        return False


class _Unsupported(Exception):
    pass


def _children(items: list) -> list:
    out: list = []
    for place, value in items:
        if type(value) is list:
            out.extend((place + (i,), v) for i, v in enumerate(value))
        elif type(value) is dict:
            out.extend((place + (k,), v) for k, v in value.items())
    return out


def _first_names(path, jp) -> frozenset | None:
    """The keys one of which a value must hold for `path` to match anything from it (None: no such bound)."""
    while isinstance(path, (jp.Child, jp.Descendants)):
        path = path.left
    if type(path) is jp.Fields and "*" not in path.fields:
        return frozenset(path.fields)
    return None


def _descendants(left, right, names: frozenset | None):
    """`left..right`: `right` from every value under each match of `left` (itself included).

    `right` starts with a step into a child (a field, `*`, an index, a filter), so nothing under a scalar matches;
    when it starts with named fields only mappings holding one of them are tried.
    """

    def walk(items: list) -> list:
        out: list = []
        stack = left(items)[::-1]
        while stack:  # depth first, pre-order, as jsonpath-ng walks
            _spend(1)
            item = stack.pop()
            place, value = item
            if type(value) is list:
                if names is None:
                    out.extend(right([item]))
                stack.extend((place + (i,), v) for i, v in reversed(list(enumerate(value)))
                             if type(v) is dict or type(v) is list)
            elif type(value) is dict:
                if names is None or not names.isdisjoint(value):
                    out.extend(right([item]))
                stack.extend((place + (k,), v) for k, v in reversed(value.items())
                             if type(v) is dict or type(v) is list)
        return out

    return walk


def _segments(path) -> tuple | None:
    """A jsonpath-ng match path (Child/Fields/Index) as keys and indexes; None for what has no place."""
    from jsonpath_ng import jsonpath as jp

    out: list = []
    stack = [path]
    while stack:
        p = stack.pop()
        if isinstance(p, jp.Child):
            stack.append(p.right)
            stack.append(p.left)
        elif isinstance(p, jp.Fields):
            if len(p.fields) != 1:
                return None
            out.append(p.fields[0])
        elif isinstance(p, jp.Index):
            indices = getattr(p, "indices", None) or (getattr(p, "index", None),)  # jsonpath-ng 1.6+: indices
            if len(indices) != 1 or not isinstance(indices[0], int):
                return None
            out.append(indices[0])
        elif isinstance(p, (jp.Root, jp.This)):
            continue
        else:
            return None
    return tuple(out)


def node_at(root: Node, raw: tuple) -> tuple[Node, ScalarNode | None] | None:
    """The node at `raw` (keys and indexes) and the key it sits under; the last of duplicate keys, as the data."""
    node, key = root, None
    for part in raw:
        if isinstance(part, int) and isinstance(node, SequenceNode) and 0 <= part < len(node.value):
            node, key = node.value[part], None
        elif isinstance(part, str) and isinstance(node, MappingNode):
            for k, v in reversed(node.value):
                if k.value == part and isinstance(k, ScalarNode):
                    key, node = k, v
                    break
            else:
                return None
        else:
            return None
    return node, key

"""The keys Harness's published schema declares at each place of a document, and the near misses of them.

`vocabulary.json` beside this module is compiled by `scripts/harness_vocabulary.py` from harness/harness-schema
(v0/pipeline.json and v0/trigger.json at the commit the file names): per object, its keys with the objects their
values may be, the keys only a `type` value brings, whether it is free-form (variables, environment maps, plugin
settings, matrix axes), and its own `type` value. `vocabulary-keys.txt` lists every key declared anywhere: a
document whose keys are all in it has no typo to find, and the larger file is not read (the pre-commit path).

Harness's schema is permissive and incomplete: most keys it does not declare are legitimate (ALLOWED lists those
Harness reads anyway). So only a near miss of a declared key is reported: a difference of case, or an edit
distance of 1 (keys of up to 5 characters) or 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from operator import attrgetter, itemgetter

from pipelint.yamldoc.document import Document, MappingNode, Node, ScalarNode, SequenceNode
from pipelint.yamldoc.document import get as _get
from pipelint.yamldoc.resolved import has_alias

_FIRST, _VALUE = itemgetter(0), attrgetter("value")

HERE = os.path.dirname(os.path.abspath(__file__))

# Keys Harness reads where its schema does not declare them, each with where that is seen.
ALLOWED: dict[str, str] = {
    "retry": "a step's retry count in pipelines Harness's own UI writes (harness-core's StepElementConfig)",
    "isAutoRejectEnabled": "Approval steps' auto-reject flag (the Harness UI writes it)",
    "stageType": "a stage template's stage type (harness-core's template YAML)",
    "contextType": "shell and HTTP step output variables (harness-core)",
    "icon": "pipeline and template icons the Harness UI stores",
}

_vocabulary: dict | None = None
_word_lists: dict[str, frozenset[str]] = {}


def _words(name: str) -> frozenset[str]:
    """The words of a list beside this module, read once."""
    found = _word_lists.get(name)
    if found is None:
        with open(os.path.join(HERE, name), encoding="utf-8") as fh:
            found = _word_lists[name] = frozenset(fh.read().split())
    return found


def names() -> frozenset[str]:
    """Every key the schema declares anywhere."""
    return _words("vocabulary-keys.txt")


def vocabulary() -> dict:
    global _vocabulary  # noqa: PLW0603 -- read once, on first need
    if _vocabulary is None:
        with open(os.path.join(HERE, "vocabulary.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        types = data["types"]
        by_key: dict[str, set[int]] = {}  # the objects a key's value may be, anywhere (template specs)
        for keys, cond, _, _ in types:
            for props in (keys, *cond.values()):
                for k, ids in props.items():
                    by_key.setdefault(k, set()).update(ids)
        data["by_key"] = by_key
        _vocabulary = data
    return _vocabulary


def near(key: str, candidates) -> list[str]:
    """The candidates `key` is a near miss of: the same but for case, or within edit distance 1 (5 characters
    or fewer) or 2."""
    lowered = key.lower()
    limit = 1 if len(key) <= 5 else 2
    out = []
    for c in candidates:
        if c == key:
            return []
        if c.lower() == lowered or (abs(len(c) - len(key)) <= limit and _distance(key, c, limit) <= limit):
            out.append(c)
    return sorted(out)


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with transpositions, stopped once past `limit`."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


class Unknown:
    """A key the schema does not declare at its place, near a key it does."""

    __slots__ = ("candidates", "key", "mapping", "path", "place")

    def __init__(self, key: ScalarNode, mapping: MappingNode, candidates: list[str], place: str, path: tuple):
        self.key = key
        self.mapping = mapping
        self.candidates = candidates
        self.place = place
        self.path = path  # the mapping's place in the data (keys and list indexes)


def unknown_keys(doc: Document) -> Iterator[Unknown]:
    """The near-miss keys of a document."""
    root, kind = doc.root, doc.kind
    if root is None or not scan(doc).stranger:
        return
    data = vocabulary()
    types = data["types"]
    start = _start(root, kind, data)
    if start is None:
        return
    node, ids, path = start
    seen: set[int] = set()
    stack: list[tuple] = [(node, frozenset(ids), path, path, None, None)]  # `shown`: the path with typos read as meant
    while stack:
        node, ids, path, shown, owner_key, owner_type = stack.pop()
        if id(node) in seen or not ids:  # a node shared through aliases is read once (an alias bomb stays linear)
            continue
        seen.add(id(node))
        # children are pushed last first, so that they are read in the document's order: a node shared through
        # aliases is read at its first use, where its anchor (and its text) is
        if node.__class__ is SequenceNode:
            for i in range(len(node.value) - 1, -1, -1):
                stack.append((node.value[i], ids, (*path, i), (*shown, i), owner_key, owner_type))
            continue
        if node.__class__ is not MappingNode:
            continue
        tag = _type_value(node)
        table = _table(types, ids, tag)
        if table is None:
            continue  # free-form: any key goes
        declared, conditional, misses = table
        mark = len(stack)
        for k, v in node.value:
            if k.__class__ is not ScalarNode:
                continue
            name = k.value
            if name in declared:
                stack.append((v, declared[name], (*path, name), (*shown, name), name, tag))
                continue
            if name in conditional or name in ALLOWED or name == "<<" or "<+" in name:
                continue
            candidates = misses.get(name)
            if candidates is None:
                candidates = near(name, [*declared, *conditional])
                if len(misses) < 4096:  # key names are the document's to choose: the memo stays bounded
                    misses[name] = candidates
            if candidates:
                yield Unknown(k, node, list(candidates), _place(shown, owner_key, owner_type), path)
                if len(candidates) == 1 and candidates[0] in declared:  # read on as the key it was meant to be
                    meant = candidates[0]
                    stack.append((v, declared[meant], (*path, name), (*shown, meant), meant, tag))
        stack[mark:] = stack[mark:][::-1]


# (the objects a mapping may be, its `type` value) -> (declared keys -> the objects their values may be, keys only
# another `type` brings, near misses found so far), or None for a free-form mapping. The schema is fixed for the
# run, so each combination is worked out once (a corpus has a few hundred), not per mapping.
_TABLES: dict[tuple, tuple[dict[str, frozenset[int]], frozenset[str], dict[str, list[str]]] | None] = {}


def _table(types: list, ids: frozenset[int], tag: str | None):
    key = (ids, tag)
    if key in _TABLES:
        return _TABLES[key]
    kinds = [types[i] for i in ids]
    if any(t[2] for t in kinds):
        _TABLES[key] = None
        return None
    if tag is not None:  # a union of step (stage, infrastructure) kinds: the one this node says it is
        same = [t for t in kinds if t[3] == tag]
        kinds = same or kinds
    declared: dict[str, set[int]] = {}
    conditional: set[str] = set()
    for keys, cond, _, _ in kinds:
        for k, child in keys.items():
            declared.setdefault(k, set()).update(child)
        for when, props in cond.items():
            if tag is not None and when == f"type={tag}":
                for k, child in props.items():
                    declared.setdefault(k, set()).update(child)
            else:
                conditional.update(props)
    table: tuple[dict[str, frozenset[int]], frozenset[str], dict[str, list[str]]] = (
        {k: frozenset(v) for k, v in declared.items()}, frozenset(conditional), {})
    if len(_TABLES) < 65536:  # a `type` value is the document's to choose: the memo stays bounded
        _TABLES[key] = table
    return table


class KeyScan:
    """What one walk over every key of a document finds: the mappings that may hold a key twice (YML002 reads
    them), and whether a key is declared nowhere in the schema outside a free-form value (else YML006 has no
    typo to look for)."""

    __slots__ = ("repeats", "stranger")

    def __init__(self, repeats: list[MappingNode], stranger: bool):
        self.repeats = repeats
        self.stranger = stranger


def scan(doc: Document) -> KeyScan:
    """The document's KeyScan, walked once however many rules ask (aliases visited once; a node first reached
    inside a free-form value counts as free-form)."""
    if isinstance(doc.facts, KeyScan):
        return doc.facts
    known, free = names(), free_names()
    repeats: list[MappingNode] = []
    stranger = False
    seen: set[int] | None = set() if has_alias(doc.text, *doc.span) else None  # only an alias reaches a node twice
    stack: list[tuple[Node, bool]] = [(doc.root, False)] if doc.root is not None else []
    push, pop = stack.append, stack.pop
    while stack:
        node, in_free = pop()
        if seen is not None:
            if id(node) in seen:
                continue
            seen.add(id(node))
        if node.__class__ is MappingNode:
            pairs = node.value
            if len(pairs) > 1:
                try:  # the keys' strings, in C
                    distinct = len(set(map(_VALUE, map(_FIRST, pairs))))
                except TypeError:  # a complex key (its value is a list)
                    distinct = 0
                if distinct != len(pairs):
                    repeats.append(node)  # a repeated key, or a complex one: YML002 looks closer
            for k, v in pairs:
                free_here = in_free
                if k.__class__ is ScalarNode:
                    if not in_free:
                        name = k.value
                        if name in free:
                            free_here = True
                        elif not stranger and name not in known and name not in ALLOWED:
                            stranger = True
                else:
                    push((k, in_free))
                if v.__class__ is not ScalarNode:
                    push((v, free_here))
        elif node.__class__ is SequenceNode:
            for item in node.value:
                if item.__class__ is not ScalarNode:
                    push((item, in_free))
    found = doc.facts = KeyScan(repeats, stranger)
    return found


def free_names() -> frozenset[str]:
    """The keys whose value is free-form wherever the schema declares them (`envVariables`, `nodeSelector`)."""
    return _words("vocabulary-free.txt")


def _start(root: Node, kind: str | None, data: dict) -> tuple | None:
    """(the node to start at, the objects it may be, its path) for a document of `kind`."""
    roots, by_key = data["roots"], data["by_key"]
    if kind == "pipeline":
        return root, [roots["pipeline"]], ()
    if kind == "trigger":
        return root, [roots["trigger"]], ()
    body = _get(root, kind) if kind in ("inputSet", "template") else None
    prefix: tuple[str, ...] = ("inputSet",)
    if body is None and kind == "inputSet":  # a trigger's inputYaml may hold the input set's pipeline alone
        body, prefix = root, ()
    if body is None:
        return None
    if kind == "inputSet":
        pipeline = _get(body, "pipeline")
        return (pipeline, sorted(by_key.get("pipeline", ())), (*prefix, "pipeline")) if pipeline is not None \
            else None
    spec, template_type = _get(body, "spec"), _type_value(body)
    key = {"Stage": "stage", "Step": "step", "StepGroup": "stepGroup", "Pipeline": "pipeline"}.get(template_type or "")
    if spec is None or key is None:
        return None
    return spec, sorted(by_key.get(key, ())), ("template", "spec")


def _type_value(node: Node) -> str | None:
    found = _get(node, "type")
    return found.value if found.__class__ is ScalarNode and found is not None else None


def _place(path: tuple, owner_key: str | None, owner_type: str | None) -> str:
    """How a finding names the place: `CI stage spec`, `KubernetesDirect infrastructure spec`, `Run step spec`,
    `stage`, `pipeline`."""
    keys = [p for p in path if isinstance(p, str)]
    if owner_key == "spec" and len(keys) >= 2:
        return f"{owner_type + ' ' if owner_type else ''}{keys[-2]} spec"
    return keys[-1] if keys else "document"

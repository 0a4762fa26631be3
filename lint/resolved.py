"""What a reader of the YAML gets: plain data, with aliases expanded, under the two readings people use.

How Harness reads YAML (established from Harness's own source, harness-core `YamlUtils`): the pipeline and
connector services parse with Jackson, `new ObjectMapper(new YAMLFactory()).readTree(...)`. Jackson's YAML
module keeps a merge key `<<` as an ordinary key named "<<" (FasterXML/jackson-dataformat-yaml#20), and its
tree model does not expand aliases either (the plain parser reports an alias as a string, the anchor's name:
jackson-dataformats-text#85). YAML 1.1 tools (PyYAML, ruamel, SnakeYAML's constructor, most editors and
previewers) expand aliases and apply merges. So a person reading a file with anchors or `<<` may expect
either model, and a fix must be right under both:

- `LITERAL` -- aliases expanded, `<<` an ordinary key (what Harness's `<<` handling is);
- `MERGED` -- aliases expanded, `<<` merges (YAML 1.1 merge keys: local keys win, earlier merges win).

`data(root, reading)` builds the plain data of a document: a scalar is the tuple (text, plain?, tag), a
mapping a dict, a sequence a list. A node reached twice (an alias) is built once and shared, so an alias
bomb stays as small as its node graph; `same()` compares such graphs pair by pair, once, in linear time.

`verify()` is the check every fix passes before it is offered or written: the new text's data must equal
the old text's data with exactly the intended changes at the intended paths, under both readings.
"""

from __future__ import annotations

from pipelint.document import STR_TAG, MappingNode, ScalarNode, SequenceNode, implicit_tag

LITERAL = "literal"
MERGED = "merged"
MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_ENTRIES = 4_000_000  # mapping entries a merge reading may build (merge chains grow quadratically)


class TooLarge(Exception):
    pass


class Mismatch(Exception):
    """The new text does not mean the old one with exactly the intended changes."""


def is_merge_key(node) -> bool:
    return (node.__class__ is ScalarNode and node.value == "<<" and not node.style
            and node.tag in (STR_TAG, MERGE_TAG))


def has_merge_keys(root) -> bool:
    from pipelint.document import mappings

    return any(is_merge_key(k) for m in mappings(root) for k, _ in m.value)


def data(root, reading: str = LITERAL):
    """The plain data of the document at `root`, aliases expanded (shared, not copied)."""
    built: dict[int, object] = {}
    merged_maps: dict[int, dict] = {}
    entries = [0]

    def scalar(n):
        return (n.value, not n.style, n.tag)

    def build(node):
        # iterative post-order: nesting may be as deep as the parser allows
        stack = [(node, False)]
        active: set[int] = set()  # collections whose children are being built: meeting one again is a cycle
        while stack:
            n, ready = stack.pop()
            if id(n) in built:
                continue
            cls = n.__class__
            if cls is ScalarNode:
                built[id(n)] = scalar(n)
                continue
            if not ready:
                if id(n) in active:
                    raise TooLarge("a recursive alias (a node that contains itself) has no plain data")
                active.add(id(n))
                stack.append((n, True))
                kids = [c for pair in n.value for c in pair] if cls is MappingNode else n.value
                stack.extend((c, False) for c in kids if id(c) not in built)
                continue
            active.discard(id(n))
            if cls is SequenceNode:
                built[id(n)] = [built[id(c)] for c in n.value]
            elif reading == MERGED and any(is_merge_key(k) for k, _ in n.value):
                built[id(n)] = merge(n)
            else:
                out = {}
                for k, v in n.value:
                    out[_key(built[id(k)])] = built[id(v)]
                entries[0] += len(n.value)
                if entries[0] > MAX_ENTRIES:
                    raise TooLarge("the document's mappings are too large to compare")
                built[id(n)] = out
        return built[id(node)]

    def merge(n):
        # YAML 1.1 merge: keys of the merged mappings first (earlier mappings win over later ones),
        # then the mapping's own keys (which win over all merged ones)
        if id(n) in merged_maps:
            return merged_maps[id(n)]
        out: dict = {}
        own: dict = {}
        for k, v in n.value:
            if is_merge_key(k):
                sources = v.value if v.__class__ is SequenceNode else [v]
                for s in reversed(sources):
                    value = built[id(s)]
                    if isinstance(value, dict):
                        out.update(value)
                    else:  # not a mapping: YAML 1.1 refuses it; keep it as the literal key it is
                        own[_key(built[id(k)])] = built[id(v)]
                        break
            else:
                own[_key(built[id(k)])] = built[id(v)]
        out.update(own)
        entries[0] += len(out)
        if entries[0] > MAX_ENTRIES:
            raise TooLarge("the document's merge keys expand too far to compare")
        merged_maps[id(n)] = out
        return out

    return build(root)


def _key(value):
    """A hashable form of a mapping key (complex keys are rare, but YAML allows them)."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, list):
        return ("seq", tuple(_key(v) for v in value))
    return ("map", tuple(sorted(((k, _key(v)) for k, v in value.items()), key=repr)))


def is_string(value, verbatim: bool, want: str) -> bool:
    """Does this data scalar read back as the intended value?"""
    if not isinstance(value, tuple) or value[0] != want:
        return False
    if verbatim:
        return value[1]  # written plain, to be read as YAML reads that plain text (`false`, a boolean)
    text, plain, tag = value
    if tag != STR_TAG:
        return False
    return not plain or implicit_tag(ScalarNode(STR_TAG, text)) == STR_TAG


class Change:
    """At `path` (keys and list indexes from the document root), the scalar becomes `value`.
    `mode`: "replace" (it was there), "add" (a new key: it was not), "set" (either)."""

    __slots__ = ("path", "value", "verbatim", "mode")

    def __init__(self, path: tuple, value: str, verbatim: bool = False, mode: str = "replace"):
        self.path = path
        self.value = value
        self.verbatim = verbatim
        self.mode = mode


def _trie(changes: list[Change]) -> dict:
    root: dict = {}
    for c in changes:
        node = root
        for part in c.path:
            node = node.setdefault(part, {})
        node[_HERE] = c
    return root


_HERE = object()


def _lookup(mapping: dict, part):
    """The entry of a data mapping for a path part (a key's text, as a walker names it)."""
    for key in ((part, True, STR_TAG), (part, False, STR_TAG)):
        if key in mapping:
            return key
    for key in mapping:
        if isinstance(key, tuple) and len(key) == 3 and key[0] == part:
            return key
    return None


def same(old, new, changes: list[Change] = (), *, where=()) -> None:
    """Raise Mismatch unless `new` is `old` with exactly `changes` applied."""
    memo: set[tuple[int, int]] = set()
    stack = [(old, new, _trie(changes) if changes else None, where)]
    while stack:
        a, b, trie, path = stack.pop()
        if trie is None:
            if a is b:
                continue
            pair = (id(a), id(b))
            if pair in memo:
                continue
            memo.add(pair)
        change = trie.get(_HERE) if trie else None
        if change is not None:
            if a is None and change.mode == "replace":
                raise Mismatch(f"nothing to change at {show(path)}")
            if a is not None and change.mode == "add":
                raise Mismatch(f"{show(path)} is already set (merged or written), the fix would override it")
            if not is_string(b, change.verbatim, change.value):
                raise Mismatch(f"{show(path)} reads back as {_text(b)}, not {change.value!r}")
            continue
        if type(a) is not type(b):
            raise Mismatch(f"{show(path)} changed from {_text(a)} to {_text(b)}")
        if isinstance(a, tuple):
            if a != b:
                raise Mismatch(f"{show(path)} changed from {_text(a)} to {_text(b)}")
        elif isinstance(a, list):
            if len(a) != len(b):
                raise Mismatch(f"the list at {show(path)} changed length")
            for i, (x, y) in enumerate(zip(a, b)):
                stack.append((x, y, trie.get(i) if trie else None, path + (i,)))
        else:
            sub = {}
            if trie:
                for part, t in trie.items():
                    if part is _HERE:
                        continue
                    ka, kb = _lookup(a, part), _lookup(b, part)
                    if ka is None and kb is None:
                        raise Mismatch(f"{show(path + (part,))} is missing")
                    sub[ka] = sub[kb] = (part, t)
                    stack.append((a.get(ka) if ka is not None else None, b.get(kb) if kb is not None else None,
                                  t, path + (part,)))
            extra = [k for k in b if k not in a and k not in sub]
            if extra:
                raise Mismatch(f"{show(path)} gained the key {_keytext(extra[0])}")
            for k, x in a.items():
                if k in sub:
                    continue
                if k not in b:
                    raise Mismatch(f"{show(path)} lost the key {_keytext(k)}")
                stack.append((x, b[k], None, path + (_keytext(k),)))


def _keytext(key) -> str:
    return key[0] if isinstance(key, tuple) and len(key) == 3 else repr(key)


def _text(value) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, tuple):
        return repr(value[0])
    return "a mapping" if isinstance(value, dict) else "a list"


def show(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (part if not out else "." + str(part))
    return out or "the document"


def verify_document(old_root, new_root, changes: list[Change], number: int = 0, cache: dict | None = None) -> None:
    """Raise Mismatch unless the new document reads as the old one with exactly `changes`, under both
    readings (aliases expanded; `<<` literal, as Harness reads it, and merged, as YAML 1.1 does).
    `cache` keeps the old document's data between trials of the same text."""
    cache = cache if cache is not None else {}
    prefix = (f"--- {number}",) if number else ()
    if ("merges", id(old_root)) not in cache:
        cache[("merges", id(old_root))] = has_merge_keys(old_root)
    readings = [LITERAL]
    if cache[("merges", id(old_root))] or has_merge_keys(new_root):
        readings.append(MERGED)
    for reading in readings:
        key = (reading, id(old_root))
        if key not in cache:
            cache[key] = data(old_root, reading)
        try:
            same(cache[key], data(new_root, reading), changes, where=prefix)
        except Mismatch as exc:
            if reading == MERGED:
                raise Mismatch(f"{exc} (reading `<<` as a YAML 1.1 merge)") from None
            raise


class Use:
    """One place a node is used: its parent collection, and the key (node) or index there."""

    __slots__ = ("parent", "part", "key")

    def __init__(self, parent, part, key):
        self.parent = parent
        self.part = part  # the key's text, or the list index
        self.key = key  # the key node (mapping values), or None

    def is_alias(self, node) -> bool:
        """Is the node written here as `*alias` (its text lies elsewhere, before this place)?"""
        if self.key is not None:
            return node.start_mark.index < self.key.end_mark.index
        return node.start_mark.index < self.parent.start_mark.index


class Uses:
    """Where the nodes of one document are used, as Harness reads it (`<<` literal): built once per
    document that has a fix, in one pass over its node graph."""

    LIMIT = 32  # more uses than this and a node counts as used everywhere

    def __init__(self, root):
        self.root = root
        self.uses: dict[int, list[Use]] = {}
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if id(node) in seen or node.__class__ is ScalarNode:
                continue
            seen.add(id(node))
            if node.__class__ is MappingNode:
                for k, v in node.value:
                    part = k.value if k.__class__ is ScalarNode else None
                    self.uses.setdefault(id(v), []).append(Use(node, part, k))
                    stack.append(v)
                    stack.append(k)
            else:
                for i, item in enumerate(node.value):
                    self.uses.setdefault(id(item), []).append(Use(node, i, None))
                    stack.append(item)

    def of(self, node) -> list[Use]:
        return self.uses.get(id(node), [])

    def shared(self, node) -> bool:
        """Is this node, or a collection that holds it, used in more than one place?"""
        paths = self.paths(node)
        return paths is None or len(paths) > 1

    def paths(self, node) -> list[tuple] | None:
        """Every path (keys and indexes from the root) at which `node` is read; None past LIMIT (or for a
        node inside a recursive alias)."""
        memo: dict[int, list[tuple] | None] = {id(self.root): [()]}
        stack = [(node, False)]
        active: set[int] = set()
        while stack:
            n, ready = stack.pop()
            if id(n) in memo:
                continue
            uses = self.uses.get(id(n), [])
            if not ready:
                if id(n) in active:
                    return None
                active.add(id(n))
                stack.append((n, True))
                stack.extend((u.parent, False) for u in uses if id(u.parent) not in memo)
                continue
            active.discard(id(n))
            out: list[tuple] | None = []
            for u in uses:
                above = memo.get(id(u.parent))
                if above is None or u.part is None:
                    out = None
                    break
                out.extend(p + (u.part,) for p in above)
                if len(out) > self.LIMIT:
                    out = None
                    break
            memo[id(n)] = out
        return memo.get(id(node))

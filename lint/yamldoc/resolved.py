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

`same(old, new, changes, reading)` compares what two documents read as, walking both node graphs at once:
a scalar is (text, plain?, tag), a mapping its keys and values (under MERGED with its merges applied), a
sequence its items. An alias is its anchor's node, read again at each use; a pair of nodes is compared
once, so an alias bomb costs what its node graph costs, not its expansion.

`verify_document()` is the check every fix passes before it is offered or written: the new text must read
as the old one with exactly the intended changes at the intended paths, under both readings.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipelint.yamldoc.document import STR_TAG, MappingNode, ScalarNode, SequenceNode, implicit_tag

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


def has_alias(text: str, start: int = 0, end: int | None = None) -> bool:
    """Could `text` hold a YAML alias (`*name` where a node starts)? A `*` inside a plain scalar (`ls *.py`)
    answers yes too: that only costs the slower, complete comparison."""
    end = len(text) if end is None else end
    i = text.find("*", start, end)
    while i != -1:
        if (i == 0 or text[i - 1] in " \t\r\n[{,") and text[i + 1:i + 2] not in ("", " ", "\t", "\r", "\n", ",",
                                                                              "[", "]", "{", "}"):
            return True
        i = text.find("*", i + 1, end)
    return False


def is_string(value, verbatim: bool, want: str) -> bool:
    """Does this scalar (as `_scalar` gives it) read back as the intended value?"""
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
    `mode`: "replace" (it was there), "add" (a new key: it was not), "set" (either), "rename" (the key at `path`
    is written `value` instead, its value unchanged), "any" (a string that holds YAML of its own, which is verified
    as such: pipelint.findings.fixplan.rewrite_regions)."""

    __slots__ = ("mode", "path", "value", "verbatim")

    def __init__(self, path: tuple, value: str, verbatim: bool = False, mode: str = "replace"):
        self.path = path
        self.value = value
        self.verbatim = verbatim
        self.mode = mode


def _trie(changes: Sequence[Change]) -> dict:
    root: dict = {}
    for c in changes:
        node = root
        for part in c.path:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
        node[_HERE] = c
    return root


_HERE = object()


def _lookup(mapping: dict, part):
    """The key of a read mapping for a path part (a key's text, as a walker names it)."""
    for key in ((part, True, STR_TAG), (part, False, STR_TAG)):
        if key in mapping:
            return key
    for key in mapping:
        if isinstance(key, tuple) and len(key) == 3 and key[0] == part:
            return key
    return None


class _Reader:
    """Reads a document's node graph as plain data, lazily: a mapping as a dict of key -> value node (under
    MERGED, with its `<<` merges applied), a scalar as (text, plain?, tag). Shared nodes are read once."""

    def __init__(self, reading: str):
        self.reading = reading
        self.maps: dict[int, dict] = {}
        self.active: set[int] = set()
        self.saw_merge = False
        self.entries = 0

    def mapping(self, node) -> dict:
        found = self.maps.get(id(node))
        if found is not None:
            return found
        own: dict = {}
        merges = []
        for k, v in node.value:
            if is_merge_key(k):
                self.saw_merge = True
                if self.reading == MERGED:
                    merges.append(v)
                    continue
            own[_scalar(k) if k.__class__ is ScalarNode else _complex(k)] = v
        if merges:
            if id(node) in self.active:
                raise TooLarge("a merge key that merges a mapping into itself has no plain data")
            self.active.add(id(node))
            out: dict = {}
            for v in reversed(merges):
                sources = v.value if v.__class__ is SequenceNode else [v]
                if not all(s.__class__ is MappingNode for s in sources):
                    raise TooLarge("a merge key whose value is not a mapping (YAML 1.1 refuses it)")
                for source in reversed(sources):  # earlier mappings win over later ones
                    out.update(self.mapping(source))
            out.update(own)
            own = out
            self.active.discard(id(node))
        self.entries += len(own)
        if self.entries > MAX_ENTRIES:
            raise TooLarge("the document's merge keys expand too far to compare")
        self.maps[id(node)] = own
        return own


def _scalar(node) -> tuple:
    return (node.value, not node.style, node.tag)


def _complex(node):
    """A hashable form of a complex (mapping or sequence) key: rare, but YAML allows them."""
    stack_guard = [0]

    def freeze(n):
        stack_guard[0] += 1
        if stack_guard[0] > 10_000:
            raise TooLarge("a complex key too large to compare")
        if n.__class__ is ScalarNode:
            return _scalar(n)
        if n.__class__ is SequenceNode:
            return ("seq", tuple(freeze(x) for x in n.value))
        return ("map", tuple(sorted(((freeze(k), freeze(v)) for k, v in n.value), key=repr)))

    try:
        return freeze(node)
    except RecursionError:
        raise TooLarge("a recursive complex key") from None


def same(old_root, new_root, changes: Sequence[Change] = (), *, reading: str = LITERAL, where=(),
         texts: tuple[str, str] | None = None) -> tuple[bool, bool]:
    """Raise Mismatch unless the new document reads as the old one with exactly `changes` applied (in
    time linear in the two node graphs). Returns whether each side has a merge key.

    `texts` (old, new): a collection whose text is the same in both, starting at the same column, and holds
    no alias reads the same (nothing outside it can change what it means): it is not walked. Only the
    collections on the way to a change, or whose text differs or refers to an anchor, are."""
    ra, rb = _Reader(reading), _Reader(reading)
    memo: set[tuple[int, int]] = set()
    # a path travels as a linked pair (parent, part), made a tuple only for a message
    start: tuple | None = None
    for part in where:
        start = (start, part)
    stack: list[tuple] = [(old_root, new_root, _trie(changes) if changes else None, start)]
    while stack:
        a, b, trie, path = stack.pop()
        if trie is None:
            pair = (id(a), id(b))
            if pair in memo:
                continue
            memo.add(pair)
            if texts is not None and a.__class__ is not ScalarNode and a.__class__ is b.__class__ \
                    and a.start_mark.column == b.start_mark.column and a.flow_style == b.flow_style:
                s0, e0 = a.start_mark.index, a.end_mark.index
                if texts[0][s0:e0] == texts[1][b.start_mark.index:b.end_mark.index] \
                        and not has_alias(texts[0], s0, e0):
                    continue
        change = trie.get(_HERE) if trie else None
        if change is not None:
            if a is None and change.mode == "replace":
                raise Mismatch(f"nothing to change at {show_linked(path)}")
            if change.mode == "any":
                if a.__class__ is not ScalarNode or b.__class__ is not ScalarNode:
                    raise Mismatch(f"{show_linked(path)} is no longer a string")
                continue
            if a is not None and change.mode == "add":
                raise Mismatch(f"{show_linked(path)} is already set (merged or written), the fix would override it")
            value = _scalar(b) if b.__class__ is ScalarNode else None
            if not is_string(value, change.verbatim, change.value):
                raise Mismatch(f"{show_linked(path)} reads back as {_text(b)}, not {change.value!r}")
            continue
        cls = a.__class__
        if cls is not b.__class__:
            raise Mismatch(f"{show_linked(path)} changed from {_text(a)} to {_text(b)}")
        if cls is ScalarNode:
            if a.value != b.value or (not a.style) != (not b.style) or a.tag != b.tag:
                raise Mismatch(f"{show_linked(path)} changed from {_text(a)} to {_text(b)}")
            if trie:  # a change below a scalar: the fix edits something Harness does not read here
                raise Mismatch(f"nothing is read at {show_linked((path, next(iter(trie))))}")
        elif cls is SequenceNode:
            if len(a.value) != len(b.value):
                raise Mismatch(f"the list at {show_linked(path)} changed length")
            if trie:  # every change must be reached: one past the list's end edits what Harness does not read
                for i in trie:
                    if not (i.__class__ is int and 0 <= i < len(a.value)):
                        raise Mismatch(f"nothing is read at {show_linked((path, i))}")
            for i, (x, y) in enumerate(zip(a.value, b.value, strict=True)):
                stack.append((x, y, trie.get(i) if trie else None, (path, i)))
        else:
            ma, mb = ra.mapping(a), rb.mapping(b)
            sub = set()
            if trie:
                for part, t in trie.items():
                    if part is _HERE:
                        continue
                    renamed = t.get(_HERE)
                    if renamed is not None and renamed.mode == "rename":  # the key `part` is now `renamed.value`
                        ka, kb = _lookup(ma, part), _lookup(mb, renamed.value)
                        if ka is None or kb is None or _lookup(mb, part) is not None \
                                or _lookup(ma, renamed.value) is not None:
                            raise Mismatch(f"{show_linked((path, part))} is not renamed {renamed.value!r} alone")
                        sub.add(ka)
                        sub.add(kb)
                        rest = {p: x for p, x in t.items() if p is not _HERE} or None
                        stack.append((ma[ka], mb[kb], rest, (path, renamed.value)))
                        continue
                    ka, kb = _lookup(ma, part), _lookup(mb, part)
                    if ka is None and kb is None:
                        raise Mismatch(f"nothing is read at {show_linked((path, part))}")
                    sub.add(ka)
                    sub.add(kb)
                    stack.append((ma.get(ka) if ka is not None else None, mb.get(kb) if kb is not None else None,
                                  t, (path, part)))
            if len(ma) != len(mb) or sub:
                extra = [k for k in mb if k not in ma and k not in sub]
                if extra:
                    raise Mismatch(f"{show_linked(path)} gained the key {_keytext(extra[0])}")
            for k, x in ma.items():
                if k in sub:
                    continue
                y = mb.get(k)
                if y is None:
                    raise Mismatch(f"{show_linked(path)} lost the key {_keytext(k)}")
                stack.append((x, y, None, (path, k)))
    return ra.saw_merge, rb.saw_merge


def show_linked(path) -> str:
    """show() for the linked pairs (parent, part) `same` keeps its paths in."""
    parts = []
    while path is not None:
        path, part = path
        parts.append(_keytext(part) if isinstance(part, tuple) else part)
    return show(tuple(reversed(parts)))


def _keytext(key) -> str:
    return key[0] if isinstance(key, tuple) and len(key) == 3 else repr(key)


def _text(node) -> str:
    if node is None:
        return "nothing"
    if node.__class__ is ScalarNode:
        return repr(node.value)
    return "a mapping" if node.__class__ is MappingNode else "a list"


def show(path: tuple) -> str:
    """`pipeline.stages[0].stage`: a path as findings write it."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (part if not out else "." + str(part))
    return out or "the document"


def verify_document(old_root, new_root, changes: list[Change], number: int = 0,
                    texts: tuple[str, str] | None = None) -> None:
    """Raise Mismatch unless the new document reads as the old one with exactly `changes`, under both
    readings: aliases expanded, `<<` literal (as Harness reads it) and, where either text has a merge
    key, `<<` merged (as YAML 1.1 tools read it). `texts`: see `same`."""
    prefix = (f"--- {number}",) if number else ()
    merges = same(old_root, new_root, changes, reading=LITERAL, where=prefix, texts=texts)
    # a merge key in the new document (looked for in its own text: a file of thousands of documents is not
    # searched whole for each)
    if any(merges) or (texts is not None and new_root is not None
                       and texts[1].find("<<", new_root.start_mark.index, new_root.end_mark.index) != -1):
        try:
            same(old_root, new_root, changes, reading=MERGED, where=prefix)
        except Mismatch as exc:
            raise Mismatch(f"{exc} (reading `<<` as a YAML 1.1 merge)") from None
        except RecursionError:
            raise TooLarge("merge keys nested too deeply to compare") from None


class Use:
    """One place a node is used: its parent collection, and the key (node) or index there."""

    __slots__ = ("key", "parent", "part")

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
    document that has a fix and an alias, in one pass over its node graph. A node's first use is kept as a
    plain tuple (parent, part, key); only nodes used again (aliases) get a list of the others."""

    LIMIT = 32  # more uses than this and a node counts as used everywhere

    def __init__(self, root):
        self.root = root
        self.first: dict[int, tuple] = {}
        self.more: dict[int, list[tuple]] = {}
        self.memo: dict[int, list[tuple] | None] = {id(root): [()]}
        self._shared: set[int] | None = None
        first, more = self.first, self.more
        seen: set[int] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if node.__class__ is ScalarNode or id(node) in seen:
                continue
            seen.add(id(node))
            if node.__class__ is MappingNode:
                for k, v in node.value:
                    use = (node, k.value if k.__class__ is ScalarNode else None, k)
                    if id(v) in first:
                        more.setdefault(id(v), []).append(use)
                    else:
                        first[id(v)] = use
                        stack.append(v)
            else:
                for i, item in enumerate(node.value):
                    use = (node, i, None)
                    if id(item) in first:
                        more.setdefault(id(item), []).append(use)
                    else:
                        first[id(item)] = use
                        stack.append(item)

    @property
    def multi(self) -> bool:
        """Is any node of the document used twice (is anything shared at all)?"""
        return bool(self.more)

    def _uses(self, node_id: int) -> list[tuple]:
        found = self.first.get(node_id)
        if found is None:
            return []
        return [found] + self.more.get(node_id, [])

    def of(self, node) -> list[Use]:
        return [Use(*u) for u in self._uses(id(node))]

    def shared_nodes(self) -> set[int]:
        """Ids of the nodes read at more than one place: those used twice and everything inside them."""
        if self._shared is None:
            shared: set[int] = set()
            stack = self._nodes(self.more)
            while stack:
                n = stack.pop()
                if id(n) in shared:
                    continue
                shared.add(id(n))
                if n.__class__ is MappingNode:
                    stack.extend(v for _, v in n.value)
                elif n.__class__ is SequenceNode:
                    stack.extend(n.value)
            self._shared = shared
        return self._shared

    def _nodes(self, ids) -> list:
        """The nodes with these ids (found through their first use's parent)."""
        out: list = []
        for n in ids:
            parent, part, key = self.first[n]
            if parent.__class__ is MappingNode:
                out.extend(v for k, v in parent.value if k is key and id(v) == n)
            else:
                out.append(parent.value[part])
        return out

    def paths(self, node) -> list[tuple] | None:
        """Every path (keys and indexes from the root) at which `node` is read; None past LIMIT (or for a
        node inside a recursive alias)."""
        memo = self.memo
        stack = [(node, False)]
        active: set[int] = set()
        while stack:
            n, ready = stack.pop()
            if id(n) in memo:
                continue
            uses = self._uses(id(n))
            if not ready:
                if id(n) in active:
                    return None
                active.add(id(n))
                stack.append((n, True))
                stack.extend((u[0], False) for u in uses if id(u[0]) not in memo)
                continue
            active.discard(id(n))
            out: list[tuple] | None = []
            for parent, part, _ in uses:
                above = memo.get(id(parent))
                if above is None or part is None:
                    out = None
                    break
                out.extend(p + (part,) for p in above)  # type: ignore[union-attr]  # None only after break
                if len(out) > self.LIMIT:  # type: ignore[arg-type]
                    out = None
                    break
            memo[id(n)] = out
        return memo.get(id(node))

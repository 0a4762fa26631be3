"""Which fixes are offered, and the check every written fix passes: judged by what readers of the YAML get.

`settle(src, docs, fixes)` runs once per file that has fixes, before any finding is shown (so `[*]` is
never shown for a fix that cannot apply):

1. **Shared nodes.** An anchored node is read at every alias of it. When every use of a shared node is a
   site of the same fix (two CI stages sharing one infrastructure spec), one edit at the anchor fixes them
   all and counts as one fix per site. When it is also used where the change does not belong, the safe fix
   edits the site without touching the anchor: its `*alias` becomes a copy with the change (a flow-mapping
   copy of a mapping with the key added, the new value for a scalar). Where the site *is* the anchor, or its
   use cannot be rewritten so, the fix becomes unsafe and says which other places the anchor changes too.
2. **Trial.** The chosen fixes are applied to the text, the result is parsed, and `resolved.verify` compares
   the plain data of both texts (aliases expanded; `<<` literal as Harness reads it, and merged as YAML 1.1
   tools do): exactly the intended changes at the intended paths, nothing else. A fix that fails is not
   offered, and its finding says why. When a set fails together, it is halved until the failing fixes are
   found (a few parses, not one per fix).

`rewrite()` is the same check at write time (`fix`, `pin`): it raises NotApplicable, never writes.

A check that only shows the fixes (`pipelint check`, not `fix`, `--diff` or the editor) pays for the trial only
where a fix can fail it (`trial_can_refuse`): a text with an alias or a merge key, fixes whose edits meet.
Elsewhere every fix the intents gave passes the trial; tests/test_properties.py holds the two paths to offering the
same fixes on generated files in every style real files use, as plain files and in Terraform heredocs.
"""

from __future__ import annotations

import bisect
import itertools
import re

from pipelint.findings.finding import Edit
from pipelint.text import source as sourcelib
from pipelint.yamldoc import document, resolved
from pipelint.yamldoc.yamltext import CopyInsert, InsertPair, RenameKey, SetScalar, alias_token, edit_for, render_scalar

MAX_TRIALS = 64  # parses one file's trial may cost (bisection of a failing set)


class NotApplicable(Exception):
    """A fix whose result would not read as intended: not written, reported with this reason."""


class SetAtAlias(SetScalar):
    """Intent: at one use of a shared scalar, its `*alias` (text[start:end]) becomes the new value."""

    __slots__ = ("alias",)

    def __init__(self, alias: tuple[int, int], node, value: str, verbatim: bool = False, paths: tuple = ()):
        super().__init__(node, value, verbatim, paths)
        self.alias = alias


def _edit(text: str, intent, newline: str):
    if isinstance(intent, SetAtAlias):
        start, end = intent.alias
        return start, end, intent.value if intent.verbatim else render_scalar(intent.value, None, True)
    return edit_for(text, intent, newline)


def apply_edits(text: str, edits) -> str:
    """`text` with `edits` made; the same edit twice (two fixes of one shared node: choose()) is made once."""
    out, pos = [], 0
    for e in sorted(dict.fromkeys(edits), key=lambda e: (e.start, e.end)):  # first seen first, where two meet
        out.append(text[pos:e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def overlaps(a: Edit, b: Edit) -> bool:
    if a.start == a.end or b.start == b.end:  # insertions: clash at the same point or inside the other
        return a.start == b.start or b.start < a.start < b.end or a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def choose(fixes: list) -> tuple[list, list]:
    """(fixes that can be applied together, the rest): no two touching the same text; the same edit made by
    two fixes (two sites sharing an anchor, two rules agreeing) is one edit. O(n log n)."""
    chosen, rest = [], []
    starts: list[int] = []  # sorted starts of the edits taken
    taken: list[Edit] = []
    same: set[Edit] = set()
    for fix in sorted(fixes, key=lambda f: min(e.start for e in f.edits)):
        new = [e for e in fix.edits if e not in same]
        clash = False
        for e in new:
            i = bisect.bisect_left(starts, e.start)
            for j in (i - 1, i):  # taken edits do not overlap each other: only the neighbours can clash
                if 0 <= j < len(taken) and overlaps(e, taken[j]):
                    clash = True
            if i < len(taken) and taken[i].start == e.start:
                clash = True
        if clash or _self_overlap(new):
            rest.append(fix)
            continue
        for e in new:
            i = bisect.bisect_left(starts, e.start)
            starts.insert(i, e.start)
            taken.insert(i, e)
            same.add(e)
        chosen.append(fix)
    return chosen, rest


def _self_overlap(edits: list[Edit]) -> bool:
    edits = sorted(edits, key=lambda e: (e.start, e.end))
    return any(overlaps(a, b) for a, b in itertools.pairwise(edits))


def changes_by_doc(fixes) -> dict[int, list]:
    out: dict[int, list] = {}
    for fix in fixes:
        for intent in fix.intents:
            out.setdefault(fix.doc, []).extend(intent.changes())
    return out


class _Trial:
    """Applies sets of fixes to one text and checks what the result reads as."""

    def __init__(self, src: sourcelib.Source, docs: list):
        self.src = src
        self.docs = docs
        self.trials = 0
        self.passed: tuple | None = None  # (edits, new Source, its parsed documents) of the last set that passed

    def run(self, fixes: list) -> str | None:
        """None when these fixes together read exactly as intended, else why not."""
        self.trials += 1
        edits = frozenset(e for f in fixes for e in f.edits)
        assert self.src.text is not None, "only decoded sources are rewritten"
        try:
            new_src, new_docs = _verified_docs(self.src, self.docs, apply_edits(self.src.text, edits),
                                               changes_by_doc(fixes))
        except NotApplicable as exc:
            return str(exc)
        self.passed = (edits, new_src, new_docs)
        return None

    def failing(self, fixes: list) -> dict[int, str]:
        """id(fix) -> reason, for the fixes of `fixes` that do not apply (halving the set)."""
        reason = self.run(fixes)
        if reason is None:
            return {}
        if len(fixes) == 1:
            return {id(fixes[0]): reason}
        if self.trials >= MAX_TRIALS:
            return {id(f): f"not verified: {reason}" for f in fixes}
        half = len(fixes) // 2
        out = self.failing(fixes[:half])
        out.update(self.failing(fixes[half:]))
        if not out:  # each half applies, not both: keep the first; the next pass finds the other again, and
            # applies it if it still has a fix then (two renames to one key: it has none, so no promise here)
            out = {id(f): f"with the other fixes, {reason}" for f in fixes[half:]}
        return out


def rewrite_regions(report, chosen: list) -> sourcelib.Source:
    """A file with embedded Harness YAML (report.regions) with the `chosen` fixes applied: each region's inner
    text is rewritten and verified as YAML (`rewrite`), the moved edits are applied to the outer text, and the
    outer text must still parse and hold exactly the rewritten inner texts, in order. A unit that holds a changed
    unit (a trigger and its inputYaml) is compared as data instead: its own fixes' changes, and the string that
    holds the other unit, whose own text was compared exactly. Raises NotApplicable."""
    src = report.source
    assert src.text is not None, "only decoded sources are rewritten"
    expected: list[str | None] = []
    changes: list[dict[int, list]] = []
    for part in report.regions:
        region = part.source.region
        mine = [f.inner for f in chosen if f.region is region and f.inner is not None]
        mine += [inner for f in chosen for r, inner in f.others if r is region and inner is not None]
        # a template's rendering that leaves out the arm a fix edits: the edit is blank there too
        hidden = [e for f in chosen if f.region is not region and not any(r is region for r, _ in f.others)
                  for e in _hidden_edits(f, region)]
        changes.append(changes_by_doc(mine))
        if mine or hidden:
            edits = {e for x in mine for e in x.edits} | set(hidden)
            new_inner = rewrite(part.source, part.parsed, edits, changes[-1])
            expected.append(new_inner.text)
        else:
            expected.append(part.source.text)
    holding = _holding(report.regions, expected)
    new_text = apply_edits(src.text, [e for f in chosen for e in f.edits])
    got = report.reread(src.path, new_text)
    if got is None:
        raise NotApplicable("the fixed file would no longer parse")
    if len(got) != len(expected):
        raise NotApplicable("the fixed file would not hold exactly the fixed YAML")
    for i, (part, new, want) in enumerate(zip(report.regions, got, expected, strict=True)):
        if i in holding:
            for number, held in holding[i].items():
                changes[i].setdefault(number, []).extend(held)
            _verified(part.source, part.parsed, new, changes[i])
        elif new != want:
            raise NotApplicable("the fixed file would not hold exactly the fixed YAML")
    return sourcelib.Source(src.path, new_text, src.bom, src.newline, raw=src.raw)


def _holding(parts: list, texts: list) -> dict[int, dict[int, list]]:
    """unit index -> {document number: [Change]}: the strings of a unit that hold another unit whose text
    changes (to `texts`)."""
    out: dict[int, dict[int, list]] = {}
    for part, text in zip(parts, texts, strict=True):
        region = part.source.region
        if region is not None and region.parent is not None and text != part.source.text:
            i, number, path = region.parent
            out.setdefault(i, {}).setdefault(number, []).append(resolved.Change(path, "", mode="any"))
    return out


def _hidden_edits(fix, region) -> list[Edit]:
    """`fix`'s inner edits as they read in another rendering of the same template text (`region`), where they lie
    in a blanked arm: blanked themselves. [] when `region` is another text, or none lies in its blanked arms."""
    home = fix.region
    if fix.inner is None or home is None or not region.blanked or not region.renders_same_text(home):
        return []
    out = []
    for e in fix.inner.edits:
        if not region.blanks(e.start, e.end):
            return []  # visible here: this rendering had to report it (engine._once_across_renderings)
        out.append(Edit(e.start, e.end, sourcelib.blank(e.text)))
    return out


def verify_unchanged(report, new_text: str) -> None:
    """The verifier for an edit that must change no data (a suppression comment): `report`'s file rewritten as
    `new_text` still reads, through its container (each unit read back by `report.reread`), as exactly the old
    documents under both readings (a string that holds another unit may change: that unit must not).
    Raises NotApplicable."""
    src = report.source
    if report.reread is None:
        _verified(src, report.parsed, new_text, {})
        return
    got = report.reread(src.path, new_text)
    if got is None or len(got) != len(report.regions):
        raise NotApplicable("the file would no longer hold the same Harness YAML")
    holding = _holding(report.regions, got)
    for i, (part, inner) in enumerate(zip(report.regions, got, strict=True)):
        if inner != part.source.text:
            _verified(part.source, part.parsed, inner, holding.get(i, {}))


def rewrite(src: sourcelib.Source, old_docs: list, edits, changes: dict[int, list]) -> sourcelib.Source:
    """`src` with `edits` applied, verified to read as its old documents with exactly `changes`; raises
    NotApplicable."""
    assert src.text is not None, "only decoded sources are rewritten"
    return _verified(src, old_docs, apply_edits(src.text, edits), changes)


def _verified(src: sourcelib.Source, old_docs: list, new_text: str, changes: dict[int, list]) -> sourcelib.Source:
    """`src` as `new_text`, verified to read as its old documents with exactly `changes` (document number ->
    [Change]) under both readings; raises NotApplicable."""
    return _verified_docs(src, old_docs, new_text, changes)[0]


def _verified_docs(src: sourcelib.Source, old_docs: list, new_text: str,
                   changes: dict[int, list]) -> tuple[sourcelib.Source, list]:
    """_verified, and the new text's documents as parsed to verify it (`fix` checks the fixed text from them)."""
    new_src = sourcelib.Source(src.path, new_text, src.bom, src.newline, raw=src.raw)
    new_docs, error = document.parse(new_src)
    if error is not None:
        raise NotApplicable(f"the fixed text would not parse: {error.message} (line {error.line})")
    old = {d.number: d.root for d in old_docs}
    new = {d.number: d.root for d in new_docs}
    if old.keys() != new.keys():
        raise NotApplicable("the fixed text would have other documents")
    try:
        for number in old:
            resolved.verify_document(old[number], new[number], changes.get(number, []), number,
                                     (src.text or "", new_text))
    except resolved.Mismatch as exc:
        raise NotApplicable(str(exc)) from None
    except resolved.TooLarge as exc:
        raise NotApplicable(str(exc)) from None
    return new_src, new_docs


def settle(src: sourcelib.Source, docs: list, findings: list, full: bool = True, unparsed: bool = False):
    """Decide the fixes of one file's findings (see the module docstring): rewrite shared-node fixes,
    then keep only those that pass the trial. A finding whose fix does not apply keeps no fix, and its
    message says why. Returns (edits, new Source, its documents) of the first set of safe fixes when it passed
    whole: what `fix` writes in its first pass, already verified. Not `full`: the trial runs only where it can refuse.
    `unparsed`: the text does not parse to its end (`docs` are the documents before the syntax error): no fix
    applies, since no fixed text would parse either (Harness reads none of it), and none is tried."""
    with_fix = [f for f in findings if f.fix is not None]
    if not with_fix or src.text is None:
        return None
    if unparsed:
        for f in with_fix:
            _refuse(f, "the YAML is invalid further on: fix its syntax error first")
        return None
    if not full and not trial_can_refuse(src, with_fix, docs):
        return None
    if resolved.has_alias(src.text):  # no `*alias` in the text: nothing is shared
        _share(src, {d.number: d for d in docs}, with_fix)
    live = [f for f in with_fix if f.fix is not None]
    trial = _Trial(src, docs)
    first = None
    for safe in (True, False):
        pending = [f for f in live if f.fix is not None and f.fix.safe is safe]
        while pending and trial.trials < MAX_TRIALS:
            chosen, pending = _choose_findings(pending)
            bad = trial.failing([f.fix for f in chosen])
            if safe and first is None and not bad:
                first = trial.passed
            for f in chosen:
                if id(f.fix) in bad:
                    _refuse(f, bad[id(f.fix)])
        for f in pending:
            _refuse(f, "not verified (too many fixes overlap here; run fix again)")
    return first


def trial_can_refuse(src: sourcelib.Source, findings: list, docs: list | tuple = ()) -> bool:
    """Whether the trial could refuse one of these fixes: the text has an alias or a merge key (a node read at
    several places, or keys a merge brings), a mapping repeats a key (a fix under the pair Harness does not read
    changes nothing it reads), two fixes bring the same key into one mapping (two typos of one key renamed), or
    the edits of different fixes meet (one may undo or shift another).
    Otherwise each edit rewrites one node of a plain document as its intent says (yamldoc.yamltext renders and
    quotes the value), which is exactly what the trial would find. A unit in a container is no different here:
    this trial reads the unit's own text (an edit into template syntax is refused when it is moved to the file,
    and the file is read back through its container when `fix` writes it)."""
    text = src.text
    if text is None or resolved.has_alias(text) or _MERGE_KEY.search(text):
        return True
    # Only the key scan (harness.vocabulary.scan, kept as each document's `facts`: YML002, YML006) reaches the
    # pairs a repeated key shadows; every other rule reads a mapping through its last pair, as Harness does.
    # The scan lists each mapping that may repeat a key.
    if any(getattr(d.facts, "repeats", None) for d in docs):
        return True
    brought: set[tuple[int, str]] = set()
    for f in findings:
        for intent in f.fix.intents:
            if isinstance(intent, RenameKey | InsertPair):
                mapping = intent.mapping
                if mapping is None:
                    return True
                key = (id(mapping), intent.value if isinstance(intent, RenameKey) else intent.key)
                if key in brought:
                    return True
                brought.add(key)
    reach, owner = -1, -1  # the furthest end of the edits so far, and whose
    for start, end, i in sorted((e.start, e.end, i) for i, f in enumerate(findings) for e in f.fix.edits):
        if start <= reach and i != owner:
            return True
        if end > reach:
            reach, owner = end, i
    return False


_MERGE_KEY = re.compile(r"<<['\"]?\s*:")


def _choose_findings(findings: list) -> tuple[list, list]:
    chosen, _rest = choose([f.fix for f in findings])
    ids = {id(x) for x in chosen}
    return [f for f in findings if id(f.fix) in ids], [f for f in findings if id(f.fix) not in ids]


def _refuse(finding, reason: str) -> None:
    finding.fix = None
    finding.message += f" (no automatic fix: {reason})"


def _share(src: sourcelib.Source, by_number: dict, findings: list) -> None:
    """The shared-node policy, for intents whose target is read at more than one place."""
    text = src.text
    assert text is not None, "only decoded sources are fixed"
    intended: dict[tuple, set] = {}
    uses: dict[int, resolved.Uses] = {}  # document number -> where its nodes are read, built once

    def sig(fix, intent):
        return (fix.doc, id(intent.target()), type(intent).__name__, getattr(intent, "key", None),
                intent.value, intent.verbatim)

    for f in findings:
        for intent in f.fix.intents:
            intended.setdefault(sig(f.fix, intent), set()).update(intent.paths)
    for f in findings:
        fix = f.fix
        doc = by_number.get(fix.doc)
        if doc is None or doc.root is None:
            continue
        if fix.doc not in uses:
            uses[fix.doc] = resolved.Uses(doc.root)
        index = uses[fix.doc]
        if not index.multi:
            continue  # no node of this document is used twice
        intents: list = []
        others: list = []
        changed = False
        shared = index.shared_nodes()
        for intent in fix.intents:
            target = intent.target()
            renamed = intent.mapping if isinstance(intent, RenameKey) else None  # a key: read where its mapping is
            if id(target) not in shared and (renamed is None or id(renamed) not in shared):
                intents.append(intent)
                continue
            paths = index.paths(target) if renamed is None else index.paths(renamed)
            if paths is not None and renamed is not None:
                paths = [p + (target.value,) for p in paths]
            if paths is not None and set(paths) <= intended[sig(fix, intent)]:
                intents.append(intent)
                continue
            if paths is None:
                _refuse(f, "the value is reached through recursive or too many aliases")
                break
            local = _at_site(text, index, intent)
            edit = _edit(text, local, src.newline) if local is not None else None
            if edit is not None:
                intents.append(local)
                changed = True
                continue
            # edit the anchor: every use changes, which only --unsafe-fixes may do
            others.extend(p for p in paths if p not in intended[sig(fix, intent)])
            intent.paths = tuple(paths)
            intents.append(intent)
        else:
            if changed:
                new_edits = [_edit(text, i, src.newline) for i in intents]
                fix.edits = tuple(Edit(*e) for e in new_edits)
                fix.intents = tuple(intents)
            if others:
                fix.safe = False
                where = ", ".join(resolved.show(p) for p in others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
                note = f"the anchored value is also read at {where}"
                fix.description += f" (edits the anchor: also changes {where})"
                f.message += f" ({note}: only --unsafe-fixes edits the anchor)"


def _at_site(text: str, index: resolved.Uses, intent):
    """The intent carried out at its own use of a shared node (its `*alias` rewritten), or None."""
    if len(intent.paths) != 1 or isinstance(intent, RenameKey):  # a key read through `*alias:` is renamed at its anchor
        return None
    path = intent.paths[0]
    target = intent.target()
    for use in index.of(target):
        if use.key is None or use.part != path[-1] or not use.is_alias(target):
            continue
        if index.paths(use.parent) != [path[:-1]]:
            continue
        span = alias_token(text, use.key)
        if span is None:
            return None
        if isinstance(intent, InsertPair):
            return CopyInsert(span, target, intent.key, intent.value, intent.verbatim, intent.paths)
        return SetAtAlias(span, target, intent.value, intent.verbatim, intent.paths)
    return None

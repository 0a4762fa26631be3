"""Fixing: apply fixes' text edits, verify, repeat; then write atomically or show a diff.

Guarantees: bytes outside the edits never change; the new text must read (plain data, aliases expanded,
`<<` literal and merged: `fixplan.rewrite`) as exactly the old documents with the intended changes, or
the file is left alone and reported; check already offered only fixes that pass this (`fixplan.settle`),
so a failure here is a bug. Overlapping fixes are applied one per pass, re-checking in between, for at
most MAX_PASSES passes; a file is replaced atomically only if it still holds the bytes the fixes were
computed from (a person's edit meanwhile is never lost), keeping its mode; unchanged files are not
touched. Choosing, applying and diffing edits take time linear in the file and the number of edits.
"""

from __future__ import annotations

import difflib
import gc
import os
import re
from functools import partial

from pipelint.engine.core import Engine, RunResult
from pipelint.findings import fixplan
from pipelint.findings.finding import Finding
from pipelint.text import source as sourcelib
from pipelint.text.files import ChangedMeanwhile, why_unwritten, write_all
from pipelint.yamldoc.resolved import has_alias

MAX_PASSES = 10


def fix(engine: Engine, paths: list[str], stdin_filename: str | None = None, *, unsafe: bool = False,
        write: bool = True) -> RunResult:
    files, missing = engine.discover(paths)
    sources, errors = engine.read(files, stdin_filename)
    errors = [f"{p}: no such file or directory" for p in missing] + errors
    originals = {s.path: s for s in sources}
    current = {s.path: s for s in sources}  # path -> the text as fixed so far
    fixed: dict[tuple, tuple[str, Finding]] = {}
    internal: list[str] = []
    frozen: set[str] = set()  # files whose fix failed verification: left as they were
    settled: set[str] = set()  # files whose fixes stopped changing them: no more passes
    # every file checked with its full fix trial, in a pool when there are many; a report is compact, and keeps
    # the text its trial passed (fixplan.settle), which is what this pass writes when it chooses the same edits,
    # and that text's own report (checked ahead by the worker, from the trial's parse), which the next pass reads
    reports = engine.check_sources(sources)
    result = engine.finish(reports, errors)
    for _ in range(MAX_PASSES):
        by_path: dict[str, list[Finding]] = {}
        for f in result.findings:
            if f.fix is not None and f.path not in frozen and f.path not in settled and (f.fix.safe or unsafe):
                by_path.setdefault(f.path, []).append(f)
        changed_now: list[sourcelib.Source] = []  # files whose new text is to be checked
        moved = False  # whether any file changed in this pass
        for path, findings in by_path.items():
            try:
                new_src, chosen_findings = _apply(engine, reports, current[path], findings, unsafe)
            except fixplan.NotApplicable as exc:
                # settle() tried these very fixes: reaching here is a bug, reported as one
                internal.append(f"{path}: a fix was not applied, the file is left unchanged: {exc}")
                frozen.add(path)
                if current[path] is not originals[path]:
                    current[path] = originals[path]
                    changed_now.append(originals[path])
                continue
            if new_src.text == current[path].text:  # edits that change nothing fix nothing: not counted
                settled.add(path)
                continue
            for f in chosen_findings:  # a problem fixed again in a later pass is counted once
                fixed.setdefault((path, f.code, f.yaml_path), (path, f))
            current[path] = new_src
            moved = True
            report = reports[path]
            if report.after is not None and report.trial is not None and report.trial[1] == new_src.text:
                reports[path] = report.after  # the worker checked this very text ahead (its trial's)
            else:
                changed_now.append(new_src)
        if not moved:
            break
        if changed_now:
            reports.update(engine.check_sources(changed_now))  # only the files changed are checked again
        if not gc.isenabled() and any(has_alias(s.text or "") for s in changed_now):
            gc.collect()  # the graphs this pass replaced may hold a recursive anchor's cycle (the collector is off)
        result = engine.finish(reports, errors)
    changed = {path: (originals[path], s.text) for path, s in current.items()
               if path not in frozen and s.text is not None and s.text != originals[path].text}
    unwritten: set[str] = set()
    if write:
        items = [(path, original.raw, partial(original.encode, text)) for path, (original, text) in changed.items()]
        for (path, _, _), problem in zip(items, write_all(items, engine.boundary), strict=True):
            if problem is None:
                continue
            unwritten.add(path)
            if isinstance(problem, ChangedMeanwhile):
                errors.append(f"{path} changed while fixing; run again")
            else:
                errors.append(f"{path}: {why_unwritten(problem)}")
    if unwritten:  # report those files as they are on disk
        reports.update(engine.check_sources([originals[path] for path in unwritten]))
        result = engine.finish(reports, errors)
    result.errors = list(dict.fromkeys(result.errors + errors))
    result.warnings = list(engine.skipped)
    result.fixed = [(p, f) for p, f in fixed.values() if p not in frozen and p not in unwritten]
    result.internal_errors = result.internal_errors + internal
    result.changed = {p: c for p, c in changed.items() if p not in unwritten}
    result.sources = originals
    return result


def _apply(engine: Engine, reports: dict, src: sourcelib.Source, findings: list[Finding],
           unsafe: bool) -> tuple[sourcelib.Source, list[Finding]]:
    """`src` (the file's text as fixed so far) with the fixes of one pass applied and verified, and the findings
    they fix. The fixes chosen are exactly those the check's trial passed (the common case): its text, already
    verified. Otherwise (unsafe fixes, cross-file fixes, suppressions, a container) the file is checked again here
    with its node graphs, and the chosen fixes are applied and verified. Raises fixplan.NotApplicable."""
    report = reports[src.path]
    chosen, _ = fixplan.choose([f.fix for f in findings])
    ids = {id(x) for x in chosen}
    trial = report.trial
    if trial is not None and trial[0] == frozenset(e for x in chosen for e in x.edits):
        return (sourcelib.Source(src.path, trial[1], src.bom, src.newline, raw=src.raw),
                [f for f in findings if id(f.fix) in ids])
    full = engine.check_file(src, keep=True)
    again = engine.finish({**reports, src.path: full}, focus=src.path)
    return _one_pass(full, [f for f in again.findings if f.fix is not None and (f.fix.safe or unsafe)])


def _one_pass(report, todo: list[Finding]) -> tuple[sourcelib.Source, list[Finding]]:
    """The file of `report` (checked with keep=True) with the fixes of `todo` that can go together applied and
    verified, and the findings they fix. The check's trial tries the safe fixes together and the unsafe ones
    together, not both at once, and they may not apply at once (an unsafe rename at an anchor whose use a safe
    fix copies out): then the safe ones go in this pass, and the unsafe ones are checked and tried again on its
    text in the next. Raises fixplan.NotApplicable."""
    chosen, _ = fixplan.choose([f.fix for f in todo])
    try:
        ids = {id(x) for x in chosen}
        return applied(report, chosen), [f for f in todo if id(f.fix) in ids]
    except fixplan.NotApplicable:
        if not any(x.safe for x in chosen) or all(x.safe for x in chosen):
            raise  # one kind alone: the trial passed these very fixes together
    todo = [f for f in todo if f.fix is not None and f.fix.safe]
    chosen, _ = fixplan.choose([f.fix for f in todo])
    ids = {id(x) for x in chosen}
    return applied(report, chosen), [f for f in todo if id(f.fix) in ids]


def applied(report, chosen: list) -> sourcelib.Source:
    """The file of `report` (checked with keep=True) with the fixes `chosen` applied and verified; raises
    fixplan.NotApplicable."""
    edits = frozenset(e for x in chosen for e in x.edits)
    if report.regions:
        return fixplan.rewrite_regions(report, chosen)
    if report.trial is not None and report.trial[0] == edits:
        return report.trial[1]  # check tried exactly these edits, and they passed
    return fixplan.rewrite(report.source, report.parsed, edits, fixplan.changes_by_doc(chosen))


def fix_text(engine: Engine, src: sourcelib.Source, context: dict, unsafe: bool = False) -> tuple[str, int]:
    """`src`'s text with every (safe, or also unsafe) fix applied as `fix` would, passes included, and how many;
    `context` holds the other files' reports for cross-file rules. Nothing is written (the language server)."""
    count = 0
    for _ in range(MAX_PASSES):
        report = engine.check_file(src, keep=True)
        result = engine.finish({**context, src.path: report}, focus=src.path)
        todo = [f for f in result.findings if f.fix is not None and (f.fix.safe or unsafe)]
        if not todo:
            break
        try:
            src, done = _one_pass(report, todo)
        except fixplan.NotApplicable:
            break
        count += len(done)
    return src.text or "", count


_C_ESCAPES = {"\a": "\\a", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\v": "\\v", "\f": "\\f", "\r": "\\r",
              '"': '\\"', "\\": "\\\\"}


def _git_name(name: str) -> str:
    """A file name in a diff header as git writes it: quoted C-style when it holds a quote, a backslash or a
    character a terminal would act on or a byte that is not UTF-8 (octal bytes), so that no file name drives the
    terminal and `git apply` still reads it."""
    printable = sourcelib.printable
    if printable(name) == name and '"' not in name and "\\" not in name and "\t" not in name:
        return name
    out = []
    for ch in name:
        if ch in _C_ESCAPES:
            out.append(_C_ESCAPES[ch])
        elif printable(ch) != ch:
            out.extend(f"\\{byte:03o}" for byte in sourcelib.file_bytes(ch))  # a byte that is not UTF-8 too
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def unified_diff(result: RunResult) -> str:
    """A unified diff `git apply` accepts (a/ b/ prefixes, `\\ No newline at end of file`), in time linear in
    the files' size: fixes only replace text within lines and insert whole lines, so the lines align in one
    pass (`_opcodes`) instead of a general diff."""
    out: list[str] = []
    for path in sorted(result.changed):
        original, text = result.changed[path]
        bom = "\ufeff" if original.bom else ""
        old_lines = _lines(bom + (original.text or ""))
        new_lines = _lines(bom + text)
        rel = path.replace(os.sep, "/")
        a, b = _git_name("a/" + rel), _git_name("b/" + rel)
        out.append(f"diff --git {a} {b}\n")
        out.append(f"--- {a}\n+++ {b}\n")
        for group in _Aligned(_opcodes(old_lines, new_lines)).get_grouped_opcodes(3):
            first, last = group[0], group[-1]
            out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
            for tag, i1, i2, j1, j2 in group:
                if tag == "equal":
                    out.extend(_out(" ", line) for line in old_lines[i1:i2])
                    continue
                out.extend(_out("-", line) for line in old_lines[i1:i2])
                out.extend(_out("+", line) for line in new_lines[j1:j2])
    return "".join(out)


class _Aligned(difflib.SequenceMatcher):
    """difflib's hunk grouping over opcodes computed elsewhere."""

    def __init__(self, opcodes: list):
        self._opcodes = opcodes

    def get_opcodes(self):
        return self._opcodes


def _opcodes(old: list[str], new: list[str]) -> list[tuple]:
    """difflib-style opcodes turning `old` into `new`, where `new` is `old` with some lines changed and some
    inserted: a line that differs is an insertion when the old line comes next, else a replacement."""
    ops: list[tuple] = []
    i = j = 0

    def add(tag, i1, i2, j1, j2):
        if ops and ops[-1][0] == tag and ops[-1][2] == i1 and ops[-1][4] == j1:
            ops[-1] = (tag, ops[-1][1], i2, ops[-1][3], j2)
        elif ops and tag != "equal" and ops[-1][0] != "equal" and ops[-1][2] == i1 and ops[-1][4] == j1:
            ops[-1] = ("replace", ops[-1][1], i2, ops[-1][3], j2)
        else:
            ops.append((tag, i1, i2, j1, j2))

    while i < len(old) and j < len(new):
        if old[i] == new[j]:
            add("equal", i, i + 1, j, j + 1)
            i, j = i + 1, j + 1
        elif j + 1 < len(new) and new[j + 1] == old[i]:
            add("insert", i, i, j, j + 1)
            j += 1
        else:
            add("replace", i, i + 1, j, j + 1)
            i, j = i + 1, j + 1
    if j < len(new):
        add("insert", i, i, j, len(new))
    if i < len(old):
        add("delete", i, len(old), j, j)
    return ops or [("equal", 0, 0, 0, 0)]


def _range(start: int, stop: int) -> str:
    length = stop - start
    first = start + 1 if length else start
    return str(first) if length == 1 else f"{first},{length}"


def _out(mark: str, line: str) -> str:
    return mark + line if line.endswith("\n") else mark + line + "\n\\ No newline at end of file\n"


def _lines(text: str) -> list[str]:
    """Lines as git sees them: split at \\n only (a CR stays part of its line)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def describe_fixes(result: RunResult) -> str:
    lines = []
    by_path: dict[str, dict[str, int]] = {}
    for path, f in result.fixed:
        by_path.setdefault(path, {}).setdefault(f"{f.code} ({f.name})", 0)
        by_path[path][f"{f.code} ({f.name})"] += 1
    for path in sorted(by_path):
        lines.append(f"Fixed in {path}:")
        for rule, n in sorted(by_path[path].items()):
            lines.append(f"  {n:>3} × {rule}")
    return "\n".join(lines) + "\n"

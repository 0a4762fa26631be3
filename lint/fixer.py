"""Fixing: apply fixes' text edits, re-parse, verify, repeat; then write atomically or show a diff.

Guarantees (issue 3): bytes outside the edits never change; the new text must parse to exactly the old
documents with the intended changes (checked node by node, aliases included) or the file is left alone
and reported as an internal error; overlapping fixes are applied one per pass, re-checking in between,
for at most MAX_PASSES passes; files are replaced atomically, keeping their mode; unchanged files are
not touched.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import tempfile

from pipelint import document, source as sourcelib
from pipelint.document import STR_TAG, MappingNode, ScalarNode, SequenceNode, implicit_tag
from pipelint.engine import Engine, RunResult
from pipelint.finding import Edit, Finding
from pipelint.yamltext import InsertPair, SetScalar

MAX_PASSES = 10


class VerifyError(Exception):
    pass


def apply_edits(text: str, edits: list[Edit]) -> str:
    out, pos = [], 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        out.append(text[pos:e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)


def _choose(findings: list[Finding], unsafe: bool) -> list[Finding]:
    """Fixes of one file that can be applied together: no two touching the same text."""
    chosen: list[Finding] = []
    taken: list[Edit] = []
    for f in sorted((f for f in findings if f.fix and (f.fix.safe or unsafe)),
                    key=lambda f: min(e.start for e in f.fix.edits)):
        edits = f.fix.edits
        if all(e in taken for e in edits):  # the same edit again (an alias, two rules agreeing)
            chosen.append(f)
            continue
        if any(_overlap(e, t) for e in edits for t in taken):
            continue  # next pass
        chosen.append(f)
        taken.extend(e for e in edits if e not in taken)
    return chosen


def _overlap(a: Edit, b: Edit) -> bool:
    if a.start == a.end or b.start == b.end:  # insertions: clash at the same point or inside the other
        return a.start == b.start or b.start < a.start < b.end or a.start < b.start < a.end
    return a.start < b.end and b.start < a.end


def verify(old_docs: list[document.Document], new_src: sourcelib.Source, intents: list) -> None:
    """Raise VerifyError unless `new_src` parses to `old_docs` with exactly `intents` applied."""
    new_docs, error = document.parse(new_src)
    if error is not None:
        raise VerifyError(f"the fixed text does not parse: {error.message} (line {error.line})")
    if len(new_docs) != len(old_docs):
        raise VerifyError("the fixed text has a different number of documents")
    sets = {id(i.node): i for i in intents if isinstance(i, SetScalar)}
    inserts: dict[int, list[InsertPair]] = {}
    for i in intents:
        if isinstance(i, InsertPair):
            inserts.setdefault(id(i.mapping), []).append(i)
    for old, new in zip(old_docs, new_docs):
        _same(old.root, new.root, sets, inserts)


def _scalar_ok(new: ScalarNode, value: str, verbatim: bool) -> bool:
    return new.value == value and (verbatim or implicit_tag(new) == STR_TAG)


def _same(old_root, new_root, sets, inserts) -> None:
    seen: set[tuple[int, int]] = set()
    stack = [(old_root, new_root)]
    while stack:
        old, new = stack.pop()
        if (id(old), id(new)) in seen:
            continue
        seen.add((id(old), id(new)))
        where = f"line {new.start_mark.line + 1}"
        if type(old) is not type(new):
            raise VerifyError(f"a node changed kind at {where}")
        if isinstance(old, ScalarNode):
            intent = sets.get(id(old))
            if intent is not None:
                if not _scalar_ok(new, intent.value, intent.verbatim):
                    raise VerifyError(f"the new value at {where} reads back as {new.value!r}, not {intent.value!r}")
            elif old.value != new.value or implicit_tag(old) != implicit_tag(new):
                raise VerifyError(f"a value changed at {where}: {old.value!r} -> {new.value!r}")
        elif isinstance(old, SequenceNode):
            if len(old.value) != len(new.value):
                raise VerifyError(f"a list changed length at {where}")
            stack.extend(zip(old.value, new.value))
        elif isinstance(old, MappingNode):
            extra = inserts.get(id(old), [])
            if len(new.value) != len(old.value) + len(extra):
                raise VerifyError(f"a mapping has {len(new.value)} keys at {where}, expected {len(old.value) + len(extra)}")
            new_pairs = list(new.value)
            for ins in extra:
                match = [p for p in new_pairs if isinstance(p[0], ScalarNode) and p[0].value == ins.key
                         and isinstance(p[1], ScalarNode) and _scalar_ok(p[1], ins.value, ins.verbatim)]
                if not match:
                    raise VerifyError(f"the inserted {ins.key} is not read back at {where}")
                new_pairs.remove(match[-1])
            for (ok, ov), (nk, nv) in zip(old.value, new_pairs):
                stack.append((ok, nk))
                stack.append((ov, nv))


def rewrite(src: sourcelib.Source, parsed: list, edits, intents: list) -> sourcelib.Source:
    """`src` with `edits` applied, verified to mean exactly `intents`; raises VerifyError."""
    new_text = apply_edits(src.text, sorted(edits, key=lambda e: (e.start, e.end)))
    new_src = sourcelib.Source(src.path, new_text, src.bom, src.newline, raw=src.raw)
    verify(parsed, new_src, intents)
    return new_src


def fix(engine: Engine, paths: list[str], stdin_filename: str | None = None, *, unsafe: bool = False,
        write: bool = True) -> RunResult:
    files, missing = engine.discover(paths)
    sources, errors = engine.read(files, stdin_filename)
    errors = [f"{p}: no such file or directory" for p in missing] + errors
    originals = {s.path: s for s in sources}
    current = {s.path: s for s in sources}  # path -> the text as fixed so far
    fixed: list[tuple[str, Finding]] = []
    internal: list[str] = []
    frozen: set[str] = set()  # files whose fix failed verification: left as they were
    reports = {s.path: engine.check_file(s, keep=True) for s in sources}
    result = engine.finish(reports, errors)
    for _ in range(MAX_PASSES):
        by_path: dict[str, list[Finding]] = {}
        for f in result.findings:
            if f.fix is not None and f.path not in frozen:
                by_path.setdefault(f.path, []).append(f)
        progressed = False
        for path, findings in by_path.items():
            chosen = _choose(findings, unsafe)
            if not chosen:
                continue
            report = result.reports[path]
            src = report.source
            edits = {e for f in chosen for e in f.fix.edits}
            intents = [i for f in chosen for i in f.fix.intents]
            try:
                new_src = rewrite(src, report.parsed, edits, intents)
            except VerifyError as exc:
                internal.append(f"{path}: a fix was not applied, the file is left unchanged: {exc}")
                frozen.add(path)
                _set(engine, current, reports, originals[path])
                continue
            fixed.extend((path, f) for f in chosen)
            _set(engine, current, reports, new_src)
            progressed = True
        if not progressed:
            break
        result = engine.finish(reports, errors)  # only the files changed were checked again
    changed = {path: (originals[path], s.text) for path, s in current.items()
               if path not in frozen and s.text != originals[path].text}
    unwritten: set[str] = set()
    if write:
        for path, (original, text) in changed.items():
            try:
                write_atomic(path, original.encode(text))
            except OSError as exc:
                errors.append(f"{path}: cannot write: {exc.strerror or exc}")
                unwritten.add(path)
    if frozen or unwritten:  # report those files as they are on disk
        for path in unwritten:
            _set(engine, current, reports, originals[path])
        result = engine.finish(reports, errors)
    result.errors = errors
    result.fixed = [(p, f) for p, f in fixed if p not in frozen and p not in unwritten]
    result.internal_errors = internal
    result.changed = {p: c for p, c in changed.items() if p not in unwritten}
    return result


def _set(engine: Engine, current: dict, reports: dict, src: sourcelib.Source) -> None:
    """`src` is now the text of its file: check that file again (the others keep their reports)."""
    if current[src.path] is not src:
        current[src.path] = src
        reports[src.path] = engine.check_file(src, keep=True)


def write_atomic(path: str, data: bytes) -> None:
    """Replace (or create) `path` with `data`: a temporary file in the same folder, then a rename; mode kept.
    A reader sees the old file or the new one, never a part; an interrupted write leaves no temporary file."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    if os.path.exists(real):
        mode = os.stat(real).st_mode & 0o7777
        if not mode & 0o222:  # read-only: respected even by root, who could replace it
            raise PermissionError(13, "file is read-only")
        if not os.access(real, os.W_OK):
            raise PermissionError(13, "Permission denied")
    else:  # a new file: the mode open() would give it
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    # SIGINT and SIGTERM wait until the file is written and renamed (or cleaned up): an interrupt between
    # creating the temporary file and the rename would otherwise leave it behind
    with _signals_deferred():
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=".pipelint-tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, real)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


@contextlib.contextmanager
def _signals_deferred():
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    deferred = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def unified_diff(result: RunResult) -> str:
    """A unified diff `git apply` accepts (a/ b/ prefixes, `\\ No newline at end of file`)."""
    out: list[str] = []
    for path in sorted(result.changed):
        original, text = result.changed[path]
        bom = "\ufeff" if original.bom else ""
        old_lines = _lines(bom + original.text)
        new_lines = _lines(bom + text)
        rel = path.replace(os.sep, "/")
        out.append(f"diff --git a/{rel} b/{rel}\n")
        for line in difflib.unified_diff(old_lines, new_lines, f"a/{rel}", f"b/{rel}", n=3):
            if line.startswith(("---", "+++")):
                out.append(line.rstrip("\n") + "\n")
            elif line.endswith("\n"):
                out.append(line)
            else:
                out.append(line + "\n\\ No newline at end of file\n")
    return "".join(out)


def _lines(text: str) -> list[str]:
    """Lines as git sees them: split at \n only (a CR stays part of its line)."""
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

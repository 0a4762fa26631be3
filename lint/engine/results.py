"""What checking produces: one file's report, and a run's result (the records the engine, the cache, the
fixer and the reporters pass between them). Plain classes, no behaviour: a leaf module."""

from __future__ import annotations

from pipelint.findings.finding import Finding
from pipelint.text import source as sourcelib
from pipelint.yamldoc import suppression


class FileReport:
    """What checking one file produced."""

    __slots__ = ("after", "docs", "errors", "findings", "harness", "internal", "parsed", "regions", "reread", "source",
                 "suppressions", "trial", "unparsed")

    def __init__(self, source: sourcelib.Source, docs: list | None = None, parsed: list | None = None,
                 findings: list[Finding] | None = None, suppressions: suppression.Suppressions | None = None,
                 harness: bool = False):
        self.source = source
        self.docs = docs if docs is not None else []
        self.parsed = parsed if parsed is not None else []  # every document.Document of the file, Harness or not
        self.unparsed = False  # a syntax error stopped parsing `parsed` short (a later document is not in it)
        self.findings = findings if findings is not None else []
        self.suppressions = suppressions if suppressions is not None else suppression.Suppressions()
        self.harness = harness  # did the file hold anything pipelint checks
        self.trial = None  # (edits, new Source, its documents): the file's safe fixes applied and verified (fixplan.settle)
        self.after: FileReport | None = None  # `fix`'s passes: the compact report of the trial's text, checked ahead
        self.internal: list[str] = []  # pipelint's own failures on this file (a bug: exit 2, never cached)
        self.errors: list[str] = []  # what the configuration asked and could not be done here (exit 2, never cached)
        self.regions: list[FileReport] = []  # a file holding embedded Harness YAML: each region's own report
        self.reread = None  # (path, changed text) -> the regions' texts it holds, or None: verifies a fix


class RunResult:
    """What a run found (and, for `fix`, changed), for the reporters."""

    def __init__(self, findings: list[Finding], files_checked: int, errors: list[str],
                 reports: dict[str, FileReport] | None = None, fixed: list[tuple[str, Finding]] | None = None,
                 changed: dict[str, tuple[sourcelib.Source, str]] | None = None,
                 internal_errors: list[str] | None = None, checked: list[str] | None = None):
        self.findings = findings
        self.files_checked = files_checked
        self.errors = errors  # one line each: files that could not be read or written
        self.reports = reports if reports is not None else {}
        self.fixed = fixed if fixed is not None else []  # (path, finding) fixes applied
        self.changed = changed if changed is not None else {}  # path -> (source, new text)
        self.internal_errors = internal_errors if internal_errors is not None else []
        self.checked = checked if checked is not None else []  # every file read, in order (JUnit lists them all)
        self.warnings: list[str] = []  # said on stderr, not an error (symlinks a walk did not follow)
        self.harness_files = 0  # of the files checked, those holding Harness configuration
        self.sources: dict[str, sourcelib.Source] = {}  # `fix`: each file as it was read (bytes kept)

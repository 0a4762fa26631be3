"""The cross-file pass: rules that read every file's sites (a connector defined anywhere counts), their fixes tried
like the others, then suppressions and per-file ignores, sorted into the run's result."""

from __future__ import annotations

from pipelint.engine.results import FileReport, RunResult
from pipelint.engine.state import State
from pipelint.findings import fixplan
from pipelint.findings.finding import Finding
from pipelint.harness import sites as harness
from pipelint.ruleapi.rule import RunIndex


class CrossFile(State):
    """The engine's cross-file pass (a part of engine.core.Engine)."""

    def finish(self, reports: dict[str, FileReport], errors: list[str] | None = None,
               focus: str | None = None) -> RunResult:
        """Cross-file rules over every file's sites, then suppressions and per-file ignores, sorted. With `focus`
        (the language server's open file), the other reports are context only: the findings are that file's."""
        mine = [reports[focus]] if focus is not None else reports.values()
        findings = [f for r in mine for f in r.findings]
        internal = [e for r in mine for e in r.internal]
        errors = [*(errors or []), *(e for r in mine for e in r.errors)]
        governs = {path: self.layer(path) for path in reports}
        layers = [layer for layer in self.layers if layer.run_rules and any(g is layer for g in governs.values())]
        if layers:
            # a cross-file rule reads every file's sites (a connector defined anywhere counts) and reports on
            # the files its own configuration governs
            index = RunIndex([d for r in reports.values() for d in r.docs])
            fixable: dict[str, list[Finding]] = {}
            for layer in layers:
                for rule in layer.run_rules:
                    try:
                        found = [f for f in rule.check_run(index) if governs.get(f.path) is layer
                                 and (focus is None or f.path == focus)]
                    except Exception as exc:  # a bug in a cross-file rule: the run goes on without it
                        internal.append(f"in {rule.code} (across files): {type(exc).__name__}: {exc}; "
                                        "please report it")
                        continue
                    for f in found:
                        findings.append(f)
                        if f.fix is not None:
                            fixable.setdefault(f.path, []).append(f)
            for path, found in fixable.items():  # cross-file fixes pass the same trial as the others
                report = reports[path]
                if report.reread is not None:  # moved out of regions: each tried on its region's text
                    _settle_in_regions(report, found)
                    continue
                parsed, unparsed = report.parsed, report.unparsed
                if not parsed and report.source.text is not None:  # a report from the cache or a worker
                    parsed, error = harness.documents(report.source)
                    unparsed = error is not None
                try:
                    fixplan.settle(report.source, parsed, found, unparsed=unparsed)
                except Exception as exc:
                    internal.append(f"in the fix planner on {path}: {type(exc).__name__}: {exc}; please report it")
                    for f in found:
                        f.fix = None
        if any(layer.settings.per_file_ignores for layer in self.layers) or any(r.suppressions for r in reports.values()):
            findings = [f for f in findings if not self._suppressed(f, reports[f.path])]
        for path, report in reports.items():
            if focus is not None and path != focus:
                continue
            layer = governs[path]
            for rule in layer.unused_rules if report.suppressions else ():
                findings.extend(f for f in rule.check_unused_suppressions(report.source, report.suppressions,
                                                                          layer.enabled)
                                if f.code not in self._ignored_for(path))
        findings.sort(key=Finding.sort_key)
        result = RunResult(findings, len(reports), list(errors or []), reports, checked=list(reports),
                           internal_errors=internal)
        result.harness_files = sum(1 for r in reports.values() if r.harness)
        return result

    def _suppressed(self, f: Finding, report: FileReport) -> bool:
        if report.suppressions and report.suppressions.covers(f.code, f.name, f.span.line):
            return True
        return f.code in self._ignored_for(f.path)

    def _ignored_for(self, path: str) -> set[str]:
        if path not in self._ignored:
            settings = self.layer(path).settings
            self._ignored[path] = settings.ignored_codes(path) if settings.per_file_ignores else set()
        return self._ignored[path]


def _settle_in_regions(report: FileReport, found: list[Finding]) -> None:
    """Cross-file fixes on a file's regions (a Terraform connector's REG004): each is tried as the fix on its
    region's text (fixplan.settle), and one that fails there, or whose region is not at hand, is not offered."""
    for f in found:
        fix = f.fix
        part = next((p for p in report.regions if fix is not None and p.source.region is fix.region), None)
        if part is None or fix is None or fix.inner is None or not part.parsed:
            f.fix = None
            continue
        inner = Finding(f.code, f.name, f.severity, f.message, f.path, f.span, fix.inner, f.yaml_path, f.value)
        fixplan.settle(part.source, part.parsed, [inner], unparsed=part.unparsed)
        if inner.fix is None:
            f.fix = None
            f.message = inner.message

"""The engine: files -> sources -> documents -> sites -> rules -> findings; and fixing, on top of it.

    paths --discover--> file names --read--> Source --parse--> Document --harness.sites--> HarnessDoc
        --rules--> Finding --suppression, per-file-ignores--> sorted findings

Fixing is the same run followed by applying edits, re-parsing to verify, and repeating until nothing is
left to fix (a bounded number of passes); see `fix`.
"""

from __future__ import annotations

import gc
import os
import sys

from pipelint.embed import terraform
from pipelint.embed.expand import expand
from pipelint.engine import records
from pipelint.engine.config import DEFAULT_EXCLUDED_DIRS, Settings
from pipelint.engine.results import FileReport, RunResult
from pipelint.findings import fixplan
from pipelint.findings.finding import Finding, translate, translate_span
from pipelint.harness import sites as harness
from pipelint.ruleapi.rule import HarnessDoc, Rule, RuleLimit, RunIndex
from pipelint.text import files as filelib
from pipelint.text import source as sourcelib
from pipelint.yamldoc import document, suppression

# .tf: Harness YAML in the provider's heredocs (pipelint.terraform); .tpl: templatefile() sources
YAML_SUFFIXES = (".yaml", ".yml", ".tf", ".tpl")
STDIN = "-"


class Layer:
    """One configuration in force (a configuration file's settings and the rules they enable), and the rules
    sorted by the hooks they use. A run over a tree with several configuration files has one layer each."""

    def __init__(self, settings: Settings, rules: list[Rule]):
        self.settings = settings
        self.rules = rules
        self.doc_rules = [r for r in rules if not r.cross_file]
        self.run_rules = [r for r in rules if r.cross_file]
        self.unparsed_rules = [r for r in rules if type(r).check_unparsed is not Rule.check_unparsed]
        self.comment_rules = [r for r in rules if type(r).check_suppressions is not Rule.check_suppressions]
        self.unused_rules = [r for r in rules
                             if type(r).check_unused_suppressions is not Rule.check_unused_suppressions]
        self.superseded = {r.code: set(r.superseded_by) for r in rules if r.superseded_by}
        self.enabled = {r.code for r in rules} | {r.name for r in rules}
        self._key: str | None = None

    @property
    def key(self) -> str:
        """What the findings depend on besides the file (rules, severities, options, per-file ignores): part of
        every cache key of a file this layer governs."""
        if self._key is None:
            from pipelint.engine.cache import config_key

            self._key = config_key(self.rules, self.settings)
        return self._key


class Engine:
    def __init__(self, settings: Settings, rules: list[Rule], force_exclude: bool = False, layers=None):
        """`settings` and `rules`: the configuration found from the current directory (or named by --config);
        `layers(folder) -> Layer`, when given, is the configuration closest to each folder (ruff's discovery)."""
        self.settings = settings
        self.rules = rules
        self.root = Layer(settings, rules)
        self._layers = layers
        self._layer_of: dict[str, Layer] = {}  # folder -> its layer
        self.force_exclude = force_exclude
        self._known: tuple[int, set[str]] | None = None
        self._ignored: dict[str, set[str]] = {}  # path -> codes its per-file-ignores drop
        self.named: dict[str, str] = {}  # absolute path -> the Terraform resource that file()s it (discover)
        self.skipped: list[str] = []  # symlinks a directory walk did not follow (one line each)
        self.excluded: list[str] = []  # files and folders (ending in a separator) `exclude` kept out of the last walk
        self.stdin_source: sourcelib.Source | None = None  # standard input's text, once read (reports show it)
        self.boundary = filelib.Boundary()  # the trees the last discovery may read and write in

    @property
    def known_names(self) -> set[str]:
        """What a suppression may name: every rule's code and name, custom rules of the run's configurations too."""
        from pipelint.rules import CUSTOM, RULES

        if self._known is None or self._known[0] != len(CUSTOM):
            rules = RULES + tuple(CUSTOM.values())
            self._known = (len(CUSTOM), {r.code for r in rules} | {r.name for r in rules})
        return self._known[1]

    def layer(self, path: str, folder: bool = False) -> Layer:
        """The configuration that applies to a file (or, with `folder`, to a folder's entries); raises
        config.ConfigError for a configuration file that does not parse or validate."""
        if self._layers is None:
            return self.root
        where = os.path.abspath(path if folder else os.path.dirname(path) or ".")
        layer = self._layer_of.get(where)
        if layer is None:
            layer = self._layer_of[where] = self._layers(where)
        return layer

    @property
    def layers(self) -> list[Layer]:
        """Every layer used so far (the root first)."""
        out = [self.root]
        for layer in self._layer_of.values():
            if all(layer is not seen for seen in out):
                out.append(layer)
        return out

    # --- discovery ----------------------------------------------------------------------------------
    def discover(self, paths: list[str]) -> tuple[list[str], list[str]]:
        """(files to check, missing paths). `-` stands for standard input. Neither a directory walk nor a file
        named on the command line follows a symlink that leads outside the checked tree (files.Boundary: it is
        skipped, and said once: `self.skipped`); a walk does not check a file twice through a link."""
        files: list[str] = []
        missing: list[str] = []
        self.skipped = []
        self.excluded = []
        self.boundary = filelib.Boundary()
        for given in paths:
            self.boundary.add(given)
            if given == STDIN:
                files.append(STDIN)
            elif os.path.isdir(given):
                files.extend(self._walk(given))
            elif os.path.lexists(given):
                if self.force_exclude and self.layer(given).settings.is_excluded(given):
                    self.excluded.append(os.path.normpath(given))
                elif os.path.islink(given) and os.path.exists(given) and not self.boundary.holds(given, given):
                    self.skipped.append(f"{os.path.normpath(given)}: skipped: a symlink to a file outside the "
                                        f"checked tree ({self.boundary.of(given)})")
                else:
                    files.append(os.path.normpath(given))
            else:
                missing.append(given)
        files = list(dict.fromkeys(files))
        return files + self._named_by_terraform(files), missing

    def _named_by_terraform(self, files: list[str]) -> list[str]:
        """The files that a Harness resource's file()/templatefile() reads, which the walk did not bring (and
        remembers them all as Harness YAML: `self.named`). A path that resolves outside the `.tf` file's tree
        (`..`, an absolute path, a symlink) is neither read nor written, and said once (`self.skipped`)."""
        extra: list[str] = []
        known = {os.path.abspath(f) for f in files}
        for path in files:
            if not path.endswith(terraform.SUFFIX):
                continue
            try:
                src = sourcelib.read(path, self.layer(path).settings.max_file_bytes)
            except sourcelib.ReadError:
                continue  # said when the file itself is checked
            for ref in terraform.references(src):
                target, address, line, column, written = ref
                if not self.boundary.holds(path, target):
                    self.skipped.append(f"{path}:{line}:{column}: {address}: not read: {written} is outside the "
                                        f"checked tree ({self.boundary.of(path)})")
                    continue
                if not os.path.isfile(target):
                    continue
                self.named[os.path.abspath(target)] = f"{address}"
                if os.path.abspath(target) not in known:
                    known.add(os.path.abspath(target))
                    extra.append(target)
        return extra

    def _walk(self, top: str) -> list[str]:
        out: list[str] = []
        links: list[tuple[str, str]] = []
        real_top = os.path.realpath(top)
        for dirpath, dirnames, filenames in os.walk(top):  # symlinked folders are not entered
            kept = []
            here = self.layer(dirpath, folder=True).settings
            for d in sorted(dirnames):
                if d in DEFAULT_EXCLUDED_DIRS:
                    continue
                if here.is_excluded(os.path.join(dirpath, d)):
                    self.excluded.append(os.path.normpath(os.path.join(dirpath, d)) + os.sep)
                else:
                    kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                if name.endswith(YAML_SUFFIXES):
                    path = os.path.normpath(os.path.join(dirpath, name))
                    if here.is_excluded(path):
                        self.excluded.append(path)
                        continue
                    if os.path.islink(path):
                        links.append((path, os.path.realpath(path)))
                    out.append(path)
        if links:
            reals = {os.path.realpath(p) for p in out if not os.path.islink(p)}
            drop = set()
            for path, real in links:
                if not filelib.inside(real, real_top):
                    self.skipped.append(f"{path}: skipped: a symlink to a file outside {top}")
                    drop.add(path)
                elif real in reals:
                    drop.add(path)  # its target is checked under its own name
            out = [p for p in out if p not in drop]
        return out

    # --- reading ------------------------------------------------------------------------------------
    def read(self, files: list[str], stdin_filename: str | None = None) -> tuple[list[sourcelib.Source], list[str]]:
        sources: list[sourcelib.Source] = []
        errors: list[str] = []
        for path in files:
            if path == STDIN:
                src = self._read_stdin(stdin_filename, errors)
                if src is not None:
                    sources.append(src)
                continue
            try:
                sources.append(sourcelib.read(path, self.layer(path).settings.max_file_bytes))
            except sourcelib.ReadError as exc:
                errors.append(f"{path}: {exc}")
        return sources, errors

    # --- checking -----------------------------------------------------------------------------------
    def check_file(self, src: sourcelib.Source, keep: bool = False) -> FileReport:
        """Check one file. Unless `keep` (fixing needs the node graphs and texts), the report is made
        compact: only what cross-file rules read is kept of its documents, fixes keep their edits but not
        the nodes they were computed from, and the text is dropped unless a kept document needs it. A
        run's memory then does not grow with the tree, and reports travel cheaply between processes and
        into the cache."""
        collecting = gc.isenabled()
        gc.disable()  # a file's node graph is acyclic: see document.parse
        try:
            report = self._check_file(src)
        finally:
            if collecting:
                gc.enable()
        if keep:
            return report
        docs = [d for d in report.docs if d.sites.connectors or d.sites.refs or d.sites.cloud_stages]
        # connectors' texts stay (cross-file fixes edit them; connector files are small); others go
        keep_text = any(d.sites.connectors for d in docs)
        slim = sourcelib.Source(src.path, src.text if keep_text else None, src.bom, src.newline, src.error,
                                src.error_line, src.error_column)
        report.source = slim
        report.trial = None
        # connector files keep their nodes: cross-file rules fix them (they are small)
        report.parsed = report.parsed if keep_text else []
        report.docs = [_light(d, slim) for d in docs]
        # regions holding connectors stay (small): a cross-file fix on one is tried on its own text
        report.regions = [r for r in report.regions if any(d.sites.connectors for d in r.docs)]
        for f in report.findings:
            if f.fix is not None:
                f.fix = f.fix.without_intents()
        return report

    def _check_file(self, src: sourcelib.Source) -> FileReport:
        parts, reread = expand(src, self.named.get(os.path.abspath(src.path)) if self.named else None)
        if reread is not None:
            return self._check_embedding(src, parts, reread)
        report = FileReport(src)
        layer = self.layer(src.path if src.path != STDIN else os.path.join(".", STDIN))
        if src.region is None and not harness.may_hold_harness(src):  # a region: the Harness attribute that holds it
            return report
        if src.text is None:
            report.harness = True
            self._unparsed(report, layer, document.ParseError(src.error or "unreadable", src.error_line,
                                                              src.error_column))
            return report
        try:
            report.parsed, error = harness.documents(src)
            report.docs = []
            for d in report.parsed:
                if d.kind is None:
                    continue
                try:
                    hdoc = HarnessDoc(d, harness.sites(d))
                except RecursionError:
                    raise
                except Exception as exc:  # a bug in the walker: this document is not checked
                    report.internal.append(internal_error("the walker", src, d, exc))
                    continue
                report.docs.append(hdoc)
                for rule in layer.doc_rules:
                    try:
                        report.findings.extend(rule.check(hdoc))
                    except RuleLimit as exc:  # the configuration's doing: one line, the other rules go on
                        report.errors.append(f"{src.path}: {exc}")
                    except RecursionError:
                        raise
                    except Exception as exc:  # a bug in one rule: the other rules and files go on
                        report.internal.append(internal_error(rule.code, src, d, exc))
            for d in report.docs:  # a trigger's inputYaml: an input set in a string, checked as one
                if d.doc.kind == "trigger":
                    inner = harness.input_yaml(src, d.doc)
                    if inner is not None:
                        part = self._check_file(inner)
                        report.findings.extend(_no_fix(part.findings))
                        report.internal.extend(part.internal)
                        report.errors.extend(part.errors)
            if layer.superseded:
                report.findings = _without_superseded(report.findings, layer.superseded)
            try:
                report.trial = fixplan.settle(src, report.parsed, report.findings)  # only fixes that apply
            except RecursionError:
                raise
            except Exception as exc:
                report.internal.append(internal_error("the fix planner", src, None, exc))
                for f in report.findings:
                    f.fix = None
        except RecursionError:  # nesting within the parser's limit can still be too deep for a walker
            report.parsed, report.docs, report.findings = [], [], []
            error = document.ParseError("document is nested too deeply to check", 1, 1)
        report.harness = bool(report.docs) or error is not None
        if error is not None:
            self._unparsed(report, layer, error)
        report.suppressions = suppression.find(src.text, report.parsed)
        for rule in layer.comment_rules if report.suppressions else ():
            report.findings.extend(rule.check_suppressions(src, report.suppressions, self.known_names))
        if src.region is not None:  # the one point where positions and edits move to the outer file
            report.findings = [translate(f, src.region) for f in report.findings]
            report.suppressions = report.suppressions.moved(src.region.outer_line)
        return report

    def _check_embedding(self, src: sourcelib.Source, regions: list[sourcelib.Source], reread) -> FileReport:
        """A file holding Harness YAML in regions (Terraform heredocs): each region checked as a source of its
        own (its findings already at the outer file's positions), gathered into the file's report."""
        report = FileReport(src)
        report.reread = reread
        directives = []
        for region in regions:
            if region.text is None:  # the container itself does not parse: said at the line where it stopped
                report.harness = True
                self._unparsed(report, self.layer(src.path), document.ParseError(
                    region.error or "unreadable", region.error_line, region.error_column, "HCL"))
                continue
            part = self._check_file(region)
            report.regions.append(part)
            report.findings.extend(part.findings)
            report.docs.extend(part.docs)
            report.internal.extend(part.internal)
            report.errors.extend(part.errors)
            report.harness = report.harness or part.harness
            directives.extend(part.suppressions.directives)
            if region.region is not None:  # the outer format's comments above the region
                for comment, start, end, line, col, first, last in region.region.directives:
                    codes = suppression.directive_codes(comment)
                    if codes is not None:
                        directives.append(suppression.Directive(start, end, line, col, first, codes, last))
        report.suppressions = suppression.Suppressions(directives)
        if len(regions) > 1:
            report.findings = _once_across_renderings(report.findings, [p.source.region for p in report.regions])
        return report

    def _unparsed(self, report: FileReport, layer: Layer, error: document.ParseError) -> None:
        for rule in layer.unparsed_rules:
            report.findings.extend(rule.check_unparsed(report.source, error))

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
                parsed = report.parsed
                if not parsed and report.source.text is not None:  # a report from the cache
                    parsed = harness.documents(report.source)[0]
                try:
                    fixplan.settle(report.source, parsed, found)
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

    def check(self, paths: list[str], stdin_filename: str | None = None, *, cache=None,
              jobs: int | None = None, progress=None) -> RunResult:
        """Check files: from the cache where it knows them, the rest in parallel when there are many."""
        files, missing = self.discover(paths)
        errors = [f"{p}: no such file or directory" for p in missing]
        keys = self._file_keys(files, cache, errors) if cache is not None else []
        if cache is not None and STDIN not in files:
            whole = records.decode_run(cache.get(cache.run_key(keys, errors)))
            if whole is not None:  # nothing changed since a run like this one: its answer stands
                result = RunResult(whole["findings"], whole["files_checked"], errors, checked=whole["checked"])
                result.harness_files = whole["harness_files"]
                result.warnings = list(self.skipped)
                return result
        reports, todo = self._cached_reports(files, dict(keys), cache, stdin_filename, errors)
        self._run(todo, reports, errors, cache, jobs, progress, len(files))
        ordered = {p: reports[p] for p in files if p in reports}
        ordered.update((p, r) for p, r in reports.items() if p not in ordered)  # standard input's own name
        result = self.finish(ordered, errors)
        if keys and STDIN not in files and not result.internal_errors and len(result.errors) == len(errors):
            cache.put(cache.run_key(keys, errors), records.encode_run(result))
        result.warnings = list(self.skipped)
        return result

    def _file_keys(self, files: list[str], cache, errors: list[str]) -> list[tuple[str, str]]:
        """(path, cache key) of each file that can be read; the others' read errors go to `errors`."""
        keys = []
        for path in files:
            if path == STDIN:
                continue  # standard input is checked every time; the files beside it may be cached
            try:
                layer = self.layer(path)
                keys.append((path, cache.file_key(path, layer.settings.max_file_bytes, layer.key)))
            except sourcelib.ReadError as exc:
                errors.append(f"{path}: {exc}")
        cache.save_index()
        return keys

    def _read_stdin(self, stdin_filename: str | None, errors: list[str]) -> sourcelib.Source | None:
        """Standard input, under the max-file-size of the file it stands for (else its error, in `errors`)."""
        name = stdin_filename or STDIN
        limit = self.layer(name).settings.max_file_bytes if stdin_filename else self.settings.max_file_bytes
        try:
            self.stdin_source = sourcelib.decode(name, sourcelib.read_stream(sys.stdin.buffer, limit))
        except sourcelib.ReadError as exc:
            errors.append(f"{name}: {exc}")
            return None
        return self.stdin_source

    def _cached_reports(self, files: list[str], known: dict[str, str], cache, stdin_filename: str | None,
                        errors: list[str]):
        """The reports the cache holds (and standard input's, checked now), and (path, key) of the files
        left to check."""
        reports: dict[str, FileReport] = {}
        todo: list[tuple[str, str | None]] = []
        for path in files:
            if path == STDIN:
                src = self._read_stdin(stdin_filename, errors)
                if src is not None:
                    reports[src.path] = self.check_file(src)
                continue
            key = known.get(path)
            if cache is not None:
                if key is None:
                    continue  # could not be read: reported already
                hit = records.decode_report(cache.get(key))
                if hit is not None:
                    reports[path] = hit
                    continue
            todo.append((path, key))
        return reports, todo

    def _run(self, todo, reports: dict[str, FileReport], errors: list[str], cache, jobs, progress,
             total: int) -> None:
        """Check the files in `todo` (in a pool when there are many), adding to `reports` and `errors`."""
        done = total - len(todo)
        found = sum(len(r.findings) for r in reports.values())
        for path, outcome in self._map(todo, cache, jobs):
            done += 1
            if isinstance(outcome, str):
                errors.append(f"{path}: {outcome}")
            else:
                reports[path] = outcome
                found += len(outcome.findings)
            if progress is not None:
                progress(done, total, found)

    def _map(self, todo, cache, jobs):
        """(path, FileReport or error text) for each file to check: in this process, or in a pool."""
        if jobs is None:
            jobs = os.cpu_count() or 1
        jobs = min(jobs, _work_units(todo) // PARALLEL_MIN_FILES_PER_JOB or 1, len(todo))
        if jobs <= 1:
            for item in todo:
                yield _check_one(self, cache, item)
            return
        import multiprocessing

        global _WORKER  # noqa: PLW0603 -- the pool initializer hands the engine to forked workers
        _WORKER = (self, cache)
        # Not `with Pool()`: its exit is terminate(), which SIGTERMs workers that may sit in the task queue's
        # lock; a run that has every result closes the pool and lets the workers end on their own.
        pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_init)
        finished = False
        try:
            yield from pool.imap_unordered(_worker, todo, chunksize=8)
            finished = True
        finally:
            if finished:
                pool.close()
            else:  # ^C, an error, or a consumer that stopped early
                pool.terminate()
            pool.join()
            _WORKER = None


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
        fixplan.settle(part.source, part.parsed, [inner])
        if inner.fix is None:
            f.fix = None
            f.message = inner.message


def _once_across_renderings(findings: list[Finding], regions: list) -> list[Finding]:
    """A file read in several renderings (a template's if/else arms, pipelint.templated): a finding reported in
    more than one is kept once, and keeps its fix only when every rendering that shows the fixed text reported
    it with the same edits (the others are recorded in `fix.others`, for fixplan.rewrite_regions)."""
    kept: dict[tuple, Finding] = {}
    seen_in: dict[int, list] = {}  # id(kept finding) -> the regions that reported it
    out = []
    for f in findings:
        key = (f.code, f.span.start, f.span.end)
        first = kept.get(key)
        region = f.fix.region if f.fix is not None else None
        if first is None:
            kept[key] = f
            seen_in[id(f)] = [region]
            out.append(f)
            continue
        if first.fix is None:
            continue
        if f.fix is None or f.fix.edits != first.fix.edits or f.fix.safe != first.fix.safe:
            first.fix = None
            first.message += " (no automatic fix: the template's renderings disagree)"
            continue
        if f.fix.region is not None:
            first.fix.others.append((f.fix.region, f.fix.inner))
        seen_in[id(first)].append(region)
    for f in out:  # a fix must be right in every rendering that shows its text
        if f.fix is None or f.fix.region is None:
            continue
        reported = seen_in[id(f)]
        for region in regions:
            if region is None or any(region is r for r in reported) or region.outer_path != f.fix.region.outer_path:
                continue
            same_text = region.length == f.fix.region.length and region.offset(0) == f.fix.region.offset(0)
            if region.at is None and same_text and not _hidden(f.fix.edits, region):
                f.fix = None
                f.message += " (no automatic fix: the template's renderings disagree)"
                break
    return out


def _hidden(edits, region) -> bool:
    """Whether every edit lies in the region's blanked ranges (a template arm this rendering leaves out)."""
    return all(any(s <= e.start and e.end <= t for s, t in region.blanked) for e in edits)


def _no_fix(findings: list[Finding]) -> list[Finding]:
    """Findings from a trigger's inputYaml: reported, without a fix (its edits would have to be verified as edits
    of that string, which the fix planner does not do yet)."""
    for f in findings:
        if f.fix is not None:
            f.fix = None
            f.message += " (no automatic fix: edits inside a trigger's inputYaml are not verified yet)"
        if f.code == "YML001":
            f.message = f"the trigger's inputYaml is not an input set: {f.message}"
    return findings


def _without_superseded(findings: list[Finding], superseded: dict[str, set[str]]) -> list[Finding]:
    """Drop a finding when a rule that supersedes it reports the same span (IMG003 "no digest" where IMG001
    "no tag" or IMG002 "latest" already says more)."""
    at = {(f.code, f.span.start, f.span.end) for f in findings}
    return [f for f in findings
            if not any((code, f.span.start, f.span.end) in at for code in superseded.get(f.code, ()))]


def internal_error(where: str, src: sourcelib.Source, doc, exc: BaseException) -> str:
    """One line for a bug of pipelint's: what failed, on which file (and where), what it said."""
    at = src.path
    if doc is not None and doc.root is not None:
        mark = doc.root.start_mark
        at += f":{mark.line + 1}:{mark.column + 1}"
    text = " ".join(str(exc).split())[:300]
    return f"in {where} on {at}: {type(exc).__name__}{': ' + text if text else ''}; please report it"


def documents(src: sourcelib.Source):
    """(every parsed document, the Harness ones with their sites, the parse error or None)."""
    docs, error = harness.documents(src)
    return docs, [HarnessDoc(d, harness.sites(d)) for d in docs if d.kind is not None], error


PARALLEL_MIN_FILES_PER_JOB = 32  # below this many files per process, a pool costs more than it saves
LARGE_FILE = 64 * 1024  # a file this large counts as that many more small ones (a .tf of ten heredoc pipelines)


def _work_units(todo) -> int:
    """How much checking `todo` is, in small files: a few large files are worth a pool as much as many small."""
    units = 0
    for path, _ in todo:
        try:
            units += 1 + os.path.getsize(path) // LARGE_FILE
        except OSError:
            units += 1
    return units
_WORKER: tuple | None = None  # (engine, cache), inherited by forked workers


def _check_one(engine: Engine, cache, item):
    path, key = item
    try:
        src = sourcelib.read(path, engine.layer(path).settings.max_file_bytes)
    except sourcelib.ReadError as exc:
        return path, str(exc)
    report = engine.check_file(src)
    if cache is not None:
        cache.put(key or cache.key(path, src.raw, engine.layer(path).key), records.encode_report(report))
    return path, report


def _worker_init():
    """^C is the parent's to handle (it ends the pool): a worker printing its own traceback helps nobody. SIGTERM
    (Pool.terminate) ends a worker at once: the parent's handler, inherited through fork, would raise SystemExit
    in it, and a worker waiting on the pool's task lock then never ended (the parent hung in join)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _worker(item):
    engine, cache = _WORKER
    return _check_one(engine, cache, item)


def _light(hdoc: HarnessDoc, source: sourcelib.Source) -> HarnessDoc:
    """The part of a checked document that cross-file rules read: no node graph, no per-document sites."""
    d = hdoc.doc
    if d.source.region is not None and hdoc.sites.connectors:
        source = d.source  # a Terraform connector: its (small) region, which cross-file findings are moved out of
    doc = document.Document(source, d.number, None, d.kind, None, d.path_prefix)
    text = d.source.text
    assert text is not None, "a checked document has text"
    # references and Cloud stages travel as spans, not nodes: they are most of what is kept
    refs = [r.light(text) for r in hdoc.sites.refs]
    region = d.source.region
    if region is not None:  # the spans cross-file rules report at: the outer file's
        for r in refs:
            r.at = translate_span(r.at, region)
    clouds = [harness.CloudStageSite(None, c.yaml_path) for c in hdoc.sites.cloud_stages]
    sites = harness.Sites(refs=refs, cloud_stages=clouds,
                          connectors=[c.replace(doc=doc) for c in hdoc.sites.connectors])
    return HarnessDoc(doc, sites)



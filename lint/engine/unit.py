"""Checking one file: its units (pipelint.embed.expand) each walked into Harness sites, checked by the rules,
its fixes tried (pipelint.findings.fixplan.settle) and translated once to the file; a template's renderings
merged; the report made compact for the cache and the pool.

The one engine module that imports the expansion stage (pipelint.embed): discovery asks it which files a file
reads, and `pin` and `images` take units from here through engine.core."""

from __future__ import annotations

import gc
import os

from pipelint.embed.expand import expand, references
from pipelint.engine.layers import Layer
from pipelint.engine.results import FileReport
from pipelint.engine.state import STDIN, State
from pipelint.findings import fixplan
from pipelint.findings.finding import Finding, translate, translate_span
from pipelint.harness import sites as harness
from pipelint.ruleapi.rule import HarnessDoc, RuleLimit
from pipelint.text import source as sourcelib
from pipelint.yamldoc import document, suppression
from pipelint.yamldoc.resolved import has_alias

__all__ = ["UnitChecker", "documents", "expand", "internal_error", "references"]


class UnitChecker(State):
    """The engine's check of one file (a part of engine.core.Engine)."""

    def check_file(self, src: sourcelib.Source, keep: bool = False, trial: bool = False, ahead: int = 0,
                   parsed: list | None = None) -> FileReport:
        """Check one file. Unless `keep` (the editor, and a fix that is not the trial's, need the node graphs
        and texts), the report is made compact: only what cross-file rules read is kept of its documents, fixes
        keep their edits but not the nodes they were computed from, and the text is dropped unless a kept
        document needs it. A run's memory then does not grow with the tree, and reports travel cheaply between
        processes and into the cache. `trial` (fix's passes): the full fix trial, and a compact report keeps
        what it passed, (its edits, the new text), which `fix` writes when it chooses exactly those edits; with
        `ahead` (fix's passes, in the worker that has the trial's parse at hand), `report.after` is the same check of
        that text, for up to `ahead` more passes: `fix` needs no second round trip, nor a second parse of a text its
        trial already parsed. `parsed`: `src`'s documents, already parsed whole (the trial's)."""
        collecting = gc.isenabled()
        gc.disable()  # a file's node graph is acyclic but for recursive anchors: see below
        try:
            report = self._check_file(src, full_trial=keep or trial, parsed=parsed)
        finally:
            if collecting:
                gc.enable()
        if keep:
            return report
        verified = report.trial if trial and ahead > 0 and not report.regions else None  # (edits, Source, documents)
        docs = [d for d in report.docs if d.sites.connectors or d.sites.refs or d.sites.cloud_stages]
        # connectors' texts stay (cross-file fixes edit them; connector files are small); others go
        keep_text = any(d.sites.connectors for d in docs)
        slim = sourcelib.Source(src.path, src.text if keep_text else None, src.bom, src.newline, src.error,
                                src.error_line, src.error_column)
        report.source = slim
        report.trial = (report.trial[0], report.trial[1].text) if trial and report.trial is not None else None
        # connector files keep their nodes: cross-file rules fix them (they are small)
        report.parsed = report.parsed if keep_text else []
        report.docs = [_light(d, slim) for d in docs]
        # regions holding connectors stay (small): a cross-file fix on one is tried on its own text
        report.regions = [r for r in report.regions if any(d.sites.connectors for d in r.docs)]
        for f in report.findings:
            if f.fix is not None:
                f.fix = f.fix.without_intents()
        if not collecting and src.text is not None and has_alias(src.text):
            # `&a [*a]`: the one cycle a node graph can hold. With the collector off for the run (the CLI's check
            # and fix), this file's graph, no longer referenced, is reclaimed now, while it is young and cheap to scan
            gc.collect(0)
        if verified is not None:
            report.after = self.check_file(verified[1], trial=True, ahead=ahead - 1, parsed=verified[2])
        return report

    def _check_file(self, src: sourcelib.Source, full_trial: bool = True, parsed: list | None = None) -> FileReport:
        units, reread = expand(src, self.named.get(os.path.abspath(src.path)) if self.named else None)
        if reread is None:  # the file is its only unit
            return self._check_unit(src, full_trial, parsed)
        return self._check_units(src, units, reread, full_trial)

    def _check_unit(self, src: sourcelib.Source, full_trial: bool = True, parsed: list | None = None) -> FileReport:
        """One unit: its documents walked into sites, the rules, the fix trial, and (for a region) the one
        translation of positions and edits to the outer file. Not `full_trial` (a check that only shows fixes,
        not `fix`, `--diff` or the editor): the trial runs only where it can refuse a fix."""
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
            report.parsed, error = harness.documents(src, parsed)
            report.unparsed = error is not None
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
            if layer.superseded:
                report.findings = _without_superseded(report.findings, layer.superseded)
            try:
                report.trial = fixplan.settle(src, report.parsed, report.findings, full_trial,  # only fixes that apply
                                              unparsed=report.unparsed)
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

    def _check_units(self, src: sourcelib.Source, regions: list[sourcelib.Source], reread,
                     full_trial: bool = True) -> FileReport:
        """A file holding Harness YAML in units (Terraform heredocs, a template's renderings, a trigger and its
        inputYaml): each checked as a source of its own (its findings already at the outer file's positions),
        gathered into the file's report; report.regions holds one report per unit, in the units' order."""
        report = FileReport(src)
        report.reread = reread
        directives = []
        for region in regions:
            if region.text is None:  # the container itself does not parse: said at the line where it stopped
                report.harness = True
                self._unparsed(report, self.layer(src.path), document.ParseError(
                    region.error or "unreadable", region.error_line, region.error_column, "HCL"))
                report.regions.append(FileReport(region))
                report.regions[-1].unparsed = True
                continue
            part = self._check_unit(region, full_trial)
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
            report.findings = _once_across_renderings(report.findings, [p.source.region for p in report.regions],
                                                      {id(p.source.region) for p in report.regions if p.unparsed})
        return report

    def _unparsed(self, report: FileReport, layer: Layer, error: document.ParseError) -> None:
        for rule in layer.unparsed_rules:
            report.findings.extend(rule.check_unparsed(report.source, error))


def _once_across_renderings(findings: list[Finding], regions: list,
                            unparsed: set[int] | frozenset[int] = frozenset()) -> list[Finding]:
    """A file read in several renderings (a template's if/else arms, pipelint.templated): a finding reported in
    more than one is kept once, and keeps its fix only when every rendering that shows the fixed text reported
    it with the same edits (the others are recorded in `fix.others`, for fixplan.rewrite_regions), and every
    rendering that hides it in a blanked arm parses (ids of the regions that do not: `unparsed`), since the fix is
    verified there too."""
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
    # a fix must be right in every rendering that shows its text: the regions of one place and length (renderings
    # of one text, Region.renders_same_text), found by a lookup, not by a pass over every region per finding (a
    # .tf file of 3,000 connectors took 6 s)
    renderings: dict[tuple, list] = {}
    for region in regions:
        if region is not None and region.at is None:
            renderings.setdefault((region.outer_path, region.offset(0), region.length), []).append(region)
    for f in out:
        if f.fix is None or f.fix.region is None:
            continue
        home = f.fix.region
        reported = seen_in[id(f)]
        for region in renderings.get((home.outer_path, home.offset(0), home.length), ()):
            if any(region is r for r in reported):
                continue
            if not all(region.blanks(e.start, e.end) for e in f.fix.edits):
                f.fix = None
                f.message += " (no automatic fix: the template's renderings disagree)"
                break
            if id(region) in unparsed:
                f.fix = None
                f.message += " (no automatic fix: a rendering of the template is invalid YAML: fix that first)"
                break
    return out


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
        line, col = sourcelib.line_col(src.text, doc.root.start_mark.index) if src.text else (1, 1)
        at += f":{line}:{col}"
    text = " ".join(str(exc).split())[:300]
    return f"in {where} on {at}: {type(exc).__name__}{': ' + text if text else ''}; please report it"


def documents(src: sourcelib.Source):
    """(every parsed document, the Harness ones with their sites, the parse error or None)."""
    docs, error = harness.documents(src)
    return docs, [HarnessDoc(d, harness.sites(d)) for d in docs if d.kind is not None], error


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

"""What the check cache stores, as plain JSON data, and back: a file's report and a whole run's answer.

A cache can be restored from anywhere (see pipelint.engine.cache), but an entry is read only when its seal (an
HMAC under the user's own key, over this pipelint version and format) proves that this pipelint's encoder wrote
it: so the seal is verified once per entry, and its findings are rebuilt without checking each field again (a run
of 20,000 findings spent most of a warm check doing that). The structure is still what the rebuilding reads, and
anything of another shape raises (the caller's miss); the few fields a reader acts on (a report's paths and
kinds) stay checked.
"""

from __future__ import annotations

from pipelint.engine.results import FileReport, RunResult
from pipelint.findings.finding import SEVERITIES, Finding, Fix, Span
from pipelint.harness import sites as harness
from pipelint.ruleapi.rule import HarnessDoc
from pipelint.text import source as sourcelib
from pipelint.yamldoc import document, suppression

_MALFORMED = (ValueError, TypeError, KeyError, IndexError, AttributeError)


def _or_none(decode, body):
    """`decode(body)`, or None when there is no body or it has another shape (a miss, never an error)."""
    if body is None:
        return None
    try:
        return decode(body)
    except _MALFORMED:
        return None


def decode_report(body) -> FileReport | None:
    """The report `encode_report` stored, or None for anything else."""
    return _or_none(_decode_report, body)


def encode_run(result: RunResult) -> dict:
    return {"findings": encode_findings(result.findings), "files_checked": result.files_checked,
            "checked": result.checked, "harness_files": result.harness_files}


def decode_run(body) -> dict | None:
    """A whole run's answer (findings, files_checked, checked, harness_files), or None."""
    return _or_none(_decode_run, body)


def encode_findings(findings) -> list:
    return [_encode_finding(f) for f in findings]


def decode_findings(rows) -> list:
    if not isinstance(rows, list):
        raise ValueError("findings")
    return [_decode_finding(r) for r in rows]


def _encode_finding(f) -> list:
    # only `check` reads the cache; it reports whether a finding is fixable, never the edits, which `fix`
    # computes afresh from the file
    fix = [f.fix.description, f.fix.safe] if f.fix else None
    return [f.code, f.name, f.severity, f.message, f.path, _encode_span(f.span), fix, list(f.yaml_path), f.value,
            f.hint]


def _strs(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _span(value):
    if not (isinstance(value, list) and len(value) == 6 and all(type(x) is int and x >= 0 for x in value)):
        raise ValueError("span")
    return Span(*value)


def _decode_finding(row):
    """A finding as `_encode_finding` wrote it (a sealed entry: see the module docstring)."""
    code, name, severity, message, path, span, fix, yaml_path, value, hint = row
    if severity not in SEVERITIES:
        raise ValueError("finding")
    return Finding(code, name, severity, message, path, Span(*span), Fix(fix[0], (), fix[1]) if fix else None,
                   tuple(yaml_path), value, hint)


def encode_report(report: FileReport) -> dict | None:
    """A checked file's report as plain data, or None when it must not be cached (a connector file: its
    text is needed and may hold credentials; a file pipelint failed on)."""
    if getattr(report, "internal", None) or getattr(report, "errors", None) or any(d.sites.connectors for d in report.docs):
        return None
    docs = [{"number": d.doc.number, "kind": d.doc.kind, "prefix": list(d.doc.path_prefix),
             "refs": [[r.value, _encode_span(r.at), list(r.yaml_path)] for r in d.sites.refs],
             "clouds": [list(c.yaml_path) for c in d.sites.cloud_stages]} for d in report.docs]
    s = report.source
    sup = report.suppressions
    return {"path": s.path, "harness": report.harness, "error": s.error,
            "findings": encode_findings(report.findings), "docs": docs,
            "suppressions": [[d.start, d.end, d.line, d.column, d.target, d.last, sorted(d.codes)]
                             for d in sup.directives]}


def _encode_span(span) -> list:
    return [span.start, span.end, span.line, span.column, span.end_line, span.end_column]


def _decode_report(body):
    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or type(body.get("harness")) is not bool:
        raise ValueError("report")
    error = body.get("error")
    if error is not None and not isinstance(error, str):
        raise ValueError("error")
    src = sourcelib.Source(body["path"], None, error=error)
    rows = body.get("suppressions")
    if not isinstance(rows, list):
        raise ValueError("suppressions")
    directives = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 7 and all(type(x) is int and x >= 0 for x in row[:6])
                and _strs(row[6])):
            raise ValueError("suppression")
        directives.append(suppression.Directive(*row[:5], set(row[6]), row[5]))
    sup = suppression.Suppressions(directives)
    docs = []
    raw_docs = body.get("docs")
    if not isinstance(raw_docs, list):
        raise ValueError("docs")
    for d in raw_docs:
        if not isinstance(d, dict) or type(d.get("number")) is not int or not isinstance(d.get("kind"), str) \
                or not _strs(d.get("prefix")) or not isinstance(d.get("refs"), list) or not isinstance(d.get("clouds"), list):
            raise ValueError("doc")
        doc = document.Document(src, d["number"], None, d["kind"], None, tuple(d["prefix"]))
        refs = []
        for r in d["refs"]:
            if not (isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and _strs(r[2])):
                raise ValueError("ref")
            refs.append(harness.RefSite(_span(r[1]), r[0], tuple(r[2])))
        clouds = []
        for c in d["clouds"]:
            if not _strs(c):
                raise ValueError("cloud")
            clouds.append(harness.CloudStageSite(None, tuple(c)))
        docs.append(HarnessDoc(doc, harness.Sites(refs=refs, cloud_stages=clouds)))
    return FileReport(src, docs, [], decode_findings(body.get("findings")), sup, body["harness"])


def _decode_run(body):
    if not isinstance(body, dict) or type(body.get("files_checked")) is not int or not _strs(body.get("checked")) \
            or type(body.get("harness_files")) is not int:
        raise ValueError("run")
    return {"findings": decode_findings(body.get("findings")), "files_checked": body["files_checked"],
            "checked": body["checked"], "harness_files": body["harness_files"]}

"""Baselines: record today's findings, then report only new ones.

A finding is known by its fingerprint (finding.fingerprint): the file (relative to the baseline's folder),
the rule, the YAML path of the node (identifiers, not list indexes, where the YAML has them) and the
offending value -- never a line number, so edits above a finding, reordered stages and reformatting keep
it baselined, while a changed value brings it back. The file is JSON, sorted, meant to be reviewed.
"""

from __future__ import annotations

import json
import os
from collections import Counter

from pipelint.findings.finding import Finding
from pipelint.text.source import read_json

VERSION = 1


class BaselineError(Exception):
    pass


def _key_path(finding: Finding, baseline_path: str) -> str:
    if finding.path == "-":
        return "-"
    folder = os.path.dirname(os.path.abspath(baseline_path))
    return os.path.relpath(os.path.abspath(finding.path), folder).replace(os.sep, "/")


def write(baseline_path: str, findings: list[Finding]) -> None:
    entries = sorted(({
        "fingerprint": f.fingerprint(_key_path(f, baseline_path)),
        "code": f.code,
        "path": _key_path(f, baseline_path),
        "yaml_path": f.yaml_path_text,
        "value": f.value,
        "message": f.full_message,
    } for f in findings), key=lambda e: (e["path"], e["code"], e["yaml_path"], e["value"], e["fingerprint"]))
    data = {"version": VERSION, "tool": "pipelint", "findings": entries}
    from pipelint.text.files import write_atomic
    from pipelint.text.source import json_text

    write_atomic(baseline_path, (json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n").encode())


def load(baseline_path: str) -> Counter:
    if not os.path.exists(baseline_path):
        raise BaselineError(f"{baseline_path}: baseline file not found (create it with --write-baseline)")
    try:
        data = read_json(baseline_path, "baseline")
    except ValueError as exc:
        raise BaselineError(str(exc)) from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("findings"), list):
        raise BaselineError(f"{baseline_path}: not a pipelint baseline (version {VERSION})")
    if not all(isinstance(e, dict) and isinstance(e.get("fingerprint"), str) for e in data["findings"]):
        raise BaselineError(f"{baseline_path}: baseline entries need a 'fingerprint' string")
    return Counter(e["fingerprint"] for e in data["findings"])


def apply(baseline_path: str, known: Counter, findings: list[Finding]) -> tuple[list[Finding], int]:
    """(findings not in the baseline, how many baselined findings no longer occur)."""
    left = Counter(known)
    new = []
    for f in findings:
        fp = f.fingerprint(_key_path(f, baseline_path))
        if left[fp] > 0:
            left[fp] -= 1
        else:
            new.append(f)
    return new, sum(left.values())

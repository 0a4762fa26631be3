"""GitLab Code Quality report (a JSON array): shown in merge requests as code quality findings."""

from __future__ import annotations

import json

from pipelint.text.source import json_text

SEVERITIES = {"error": "major", "warning": "minor", "info": "info"}


def render(result, **_) -> str:
    issues = [{
        "description": f"{f.code} {f.full_message}",
        "check_name": f"{f.code} {f.name}",
        "fingerprint": f.fingerprint(),
        "severity": SEVERITIES[f.severity],
        "location": {"path": f.path.replace("\\", "/"), "lines": {"begin": f.span.line, "end": f.span.end_line}},
    } for f in result.findings]
    return json_text(json.dumps(issues, indent=2, ensure_ascii=False)) + "\n"

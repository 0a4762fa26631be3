"""The JSON contract (version 1): stable keys, 1-based lines and columns, findings sorted."""

from __future__ import annotations

import json


def finding_dict(f) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "message": f.message,
        "path": f.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "fixable": f.fixable,
    }


def render(result, fix_mode: bool = False, **_) -> str:
    out = {"version": 1, "findings": [finding_dict(f) for f in result.findings], "files_checked": result.files_checked}
    if fix_mode:
        out["fixed"] = len(result.fixed)
    return json.dumps(out, indent=2, ensure_ascii=False) + "\n"

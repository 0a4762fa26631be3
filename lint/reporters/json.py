"""The JSON contract (version 1): stable keys, 1-based lines and columns, findings sorted. Fields are only
ever added within a version: `fix` (applicability and description, or null) and `errors` came later."""

from __future__ import annotations

import json

from pipelint.text.source import json_text


def finding_dict(f) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "severity": f.severity,
        "message": f.full_message,
        "path": f.path,
        "line": f.span.line,
        "column": f.span.column,
        "end_line": f.span.end_line,
        "end_column": f.span.end_column,
        "fixable": f.fixable,
        "fix": ({"applicability": "safe" if f.fix.safe else "unsafe", "message": f.fix.description}
                if f.fix is not None else None),
    }


def render(result, fix_mode: bool = False, **_) -> str:
    out = {"version": 1, "findings": [finding_dict(f) for f in result.findings], "files_checked": result.files_checked,
           "errors": [error_dict(e, "error") for e in result.errors]
           + [error_dict(e, "internal") for e in result.internal_errors]}
    if fix_mode:
        out["fixed"] = len(result.fixed)
    return json_text(json.dumps(out, indent=2, ensure_ascii=False)) + "\n"


def error_dict(line: str, kind: str) -> dict:
    """{"path", "message", "kind"} for an error line (`PATH: message`, or an internal error)."""
    if kind == "internal":
        return {"path": None, "message": line, "kind": kind}
    path, sep, message = line.partition(": ")
    return {"path": path, "message": message, "kind": kind} if sep else {"path": None, "message": line, "kind": kind}

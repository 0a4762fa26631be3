"""SARIF 2.1.0: one run, every rule in tool.driver.rules, results with physical and logical locations."""

from __future__ import annotations

import json
import os

from pipelint import __version__

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def _uri(path: str) -> str:
    """A path as a URI: its bytes percent-encoded, so a name that is not UTF-8 is named exactly."""
    from urllib.parse import quote

    from pipelint.text.source import file_bytes

    if os.path.isabs(path):
        return "file://" + quote(file_bytes(path.replace(os.sep, "/")))
    return quote(file_bytes(path.replace(os.sep, "/")))


def render(result, **_) -> str:
    from pipelint.rules import all_rules

    RULES = all_rules()
    index = {r.code: i for i, r in enumerate(RULES)}
    rules = [{
        "id": r.code,
        "name": r.name,
        "shortDescription": {"text": r.summary()},
        "fullDescription": {"text": r.doc()},
        "help": {"text": r.doc(), "markdown": r.doc()},
        "defaultConfiguration": {"level": LEVELS[r.severity], "enabled": r.enabled_by_default},
        "properties": {"fix": r.fix_safety or "none"},
    } for r in RULES]
    results = []
    for f in result.findings:
        region = {"startLine": f.span.line, "startColumn": f.span.column,
                  "endLine": f.span.end_line, "endColumn": max(f.span.end_column, f.span.column)}
        location: dict[str, object] = {"physicalLocation": {"artifactLocation": {"uri": _uri(f.path), "uriBaseId": "%SRCROOT%"},
                                         "region": region}}
        if f.yaml_path:
            location["logicalLocations"] = [{"fullyQualifiedName": f.yaml_path_text, "kind": "object"}]
        results.append({
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": LEVELS[f.severity],
            "message": {"text": f.full_message},
            "locations": [location],
            "partialFingerprints": {"pipelintFingerprint/v1": f.fingerprint()},
            "properties": {"fixable": f.fixable},
        })
    run: dict[str, object] = {
        "tool": {"driver": {"name": "pipelint", "version": __version__, "semanticVersion": __version__,
                            "informationUri": "https://github.com/pipelint/pipelint", "rules": rules}},
    }
    try:  # the folder the relative URIs start from; a folder removed while the run was in it has none
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": _uri(os.getcwd()).rstrip("/") + "/"}}
    except OSError:
        pass
    run.update(columnKind="unicodeCodePoints", results=results)
    log = {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
    from pipelint.text.source import json_text

    return json_text(json.dumps(log, indent=2, ensure_ascii=False)) + "\n"

"""GitHub Actions workflow commands: one `::error file=…::message` line per finding (annotations on the PR)."""

from __future__ import annotations

from pipelint.text.source import printable

LEVELS = {"error": "error", "warning": "warning", "info": "notice"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(result, **_) -> str:
    lines = []
    for f in result.findings:
        props = (f"file={_prop(printable(f.path))},line={f.span.line},col={f.span.column},endLine={f.span.end_line},"
                 f"endColumn={f.span.end_column},title={_prop(f.code + ' ' + f.name)}")
        lines.append(f"::{LEVELS[f.severity]} {props}::{_data(f.code + ' ' + f.full_message)}")
    return "".join(line + "\n" for line in lines)

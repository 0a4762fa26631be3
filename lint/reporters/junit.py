"""JUnit XML: one testcase per checked file, a failure per finding (Harness CI's and GitLab's test views)."""

from __future__ import annotations

from xml.etree import ElementTree as ET

from pipelint.text.source import printable


def render(result, **_) -> str:
    by_path: dict[str, list] = {path: [] for path in sorted(result.checked)}
    for f in result.findings:
        by_path.setdefault(f.path, []).append(f)
    failures = sum(1 for fs in by_path.values() if fs)
    suites = ET.Element("testsuites", name="pipelint", tests=str(len(by_path)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name="pipelint", tests=str(len(by_path)), failures=str(failures),
                          errors="0", skipped="0")
    for path, findings in by_path.items():
        # XML 1.0 holds no control character and no lone surrogate (a file name's byte that is not UTF-8):
        # names and messages as the text report shows them
        shown = printable(path)
        case = ET.SubElement(suite, "testcase", classname="pipelint", name=shown, file=shown)
        for f in findings:
            message = printable(f.full_message)
            failure = ET.SubElement(case, "failure", message=f"{f.code} {message}", type=f.code)
            failure.text = f"{shown}:{f.span.line}:{f.span.column}: {f.code} [{f.severity}] {message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

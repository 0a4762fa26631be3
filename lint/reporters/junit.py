"""JUnit XML: one testcase per checked file, a failure per finding (Harness CI's and GitLab's test views)."""

from __future__ import annotations

from xml.etree import ElementTree as ET


def render(result, **_) -> str:
    by_path: dict[str, list] = {path: [] for path in sorted(result.checked)}
    for f in result.findings:
        by_path.setdefault(f.path, []).append(f)
    failures = sum(1 for fs in by_path.values() if fs)
    suites = ET.Element("testsuites", name="pipelint", tests=str(len(by_path)), failures=str(failures), errors="0")
    suite = ET.SubElement(suites, "testsuite", name="pipelint", tests=str(len(by_path)), failures=str(failures),
                          errors="0", skipped="0")
    for path, findings in by_path.items():
        case = ET.SubElement(suite, "testcase", classname="pipelint", name=path, file=path)
        for f in findings:
            failure = ET.SubElement(case, "failure", message=f"{f.code} {f.full_message}", type=f.code)
            failure.text = f"{f.path}:{f.span.line}:{f.span.column}: {f.code} [{f.severity}] {f.full_message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

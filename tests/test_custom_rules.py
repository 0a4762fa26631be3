"""Custom rules (issue 16): the five policies of docs/custom-rules.md on fixtures/custom, through check, fix, every format, the
baseline, selection and suppression; bad declarations as one configuration line; hostile documents."""

from __future__ import annotations

import json
import re
import shutil
import time

import jsonschema
import pytest
from conftest import CORPUS, FIXTURES, ROOT, pipelint
from junitparser import JUnitXml

PAGE = (ROOT / "docs" / "custom-rules.md").read_text()
POLICIES = re.search(r"# Your own rules.*?```toml\n(.*?)```", PAGE, re.S)[1]
CASES = FIXTURES / "custom"
SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"
CODES = ["ORG001", "ORG002", "ORG003", "ORG004", "ORG005"]


@pytest.fixture
def tree(in_tmp):
    for case in CASES.glob("*.yaml"):
        if not case.name.endswith(".fixed.yaml"):
            shutil.copy(case, in_tmp / case.name)
    (in_tmp / ".pipelint.toml").write_text(POLICIES)
    return in_tmp


def test_the_readme_policies_report_at_exact_places(tree, snapshot):
    result = pipelint("check", ".", "--output-format", "concise")
    assert result.exit_code == 1
    assert result.stdout == snapshot
    found = {(f["path"], f["code"], f["line"], f["column"])
             for f in pipelint("check", ".", "--format", "json").json()["findings"]}
    assert ("pipeline.yaml", "ORG003", 52, 117) in found  # inside a flow mapping: the value, not the step
    assert ("many.yaml", "ORG003", 16, 35) in found  # the first document of two: an input set
    assert ("many.yaml", "ORG002", 29, 9) in found  # the second: a template; the key of the mapping missing `timeout`
    assert not any(f[0] == "many.yaml" and f[1] == "ORG002" and f[2] < 17 for f in found)  # entities: not input sets
    assert not any(f[0] == "ok_pipeline.yaml" for f in found)
    assert ("pipeline.yaml", "ORG001", 40, 28) not in found  # `<+input>` is skipped


def test_fix_writes_the_expected_bytes_once(tree):
    pipelint("fix", ".", "--unsafe-fixes")
    for name in ("pipeline.yaml", "many.yaml"):
        assert (tree / name).read_bytes() == (CASES / name.replace(".yaml", ".fixed.yaml")).read_bytes(), name
    assert (tree / "ok_pipeline.yaml").read_bytes() == (CASES / "ok_pipeline.yaml").read_bytes()
    again = pipelint("fix", ".", "--unsafe-fixes")
    assert "Fixed" not in again.stdout
    left = {f["code"] for f in pipelint("check", ".", "--format", "json").json()["findings"]}
    assert left == {"ORG001", "ORG005", "CON001"}  # no fix declared for those


def test_safe_and_unsafe_as_declared(tree):
    pipelint("fix", ".")  # ORG003 declares no fix-safety: unsafe, left for --unsafe-fixes
    codes = {f["code"] for f in pipelint("check", ".", "--format", "json").json()["findings"]}
    assert "ORG003" in codes and "ORG002" not in codes and "ORG004" not in codes


def test_every_format_knows_them(tree):
    sarif = pipelint("check", ".", "--format", "sarif").json()
    if SCHEMA.exists():
        jsonschema.validate(sarif, json.loads(SCHEMA.read_text()))
    driver = sarif["runs"][0]["tool"]["driver"]
    ids = [r["id"] for r in driver["rules"]]
    assert all(code in ids for code in CODES)
    timeout = driver["rules"][ids.index("ORG002")]
    assert timeout["name"] == "run-step-timeout" and "24 hours" in timeout["fullDescription"]["text"]
    assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= set(CODES)
    for result in sarif["runs"][0]["results"]:
        assert ids[result["ruleIndex"]] == result["ruleId"]
    github = pipelint("check", ".", "--format", "github").stdout
    assert "::warning title=pipelint (ORG002)" in github or "ORG002" in github
    (tree / "junit.xml").write_text(pipelint("check", ".", "--format", "junit").stdout)
    cases = [c for suite in JUnitXml.fromfile(str(tree / "junit.xml")) for c in suite]
    assert any("ORG004" in (c.name or "") + str(c.result) for c in cases)
    gitlab = pipelint("check", ".", "--format", "gitlab").json()
    assert all(any(code in i["check_name"] for i in gitlab) for code in CODES)
    stats = pipelint("check", ".", "--statistics").stdout
    assert re.search(r"^3\s+ORG002\s+run-step-timeout", stats, re.M)
    report = pipelint("report", ".").stdout
    assert "ORG002" in report and "run-step-timeout" in report


def test_selection_suppression_and_baseline(tree):
    def codes(*args):
        return sorted({f["code"] for f in pipelint("check", ".", "--format", "json", *args).json()["findings"]})

    assert codes("--select", "ORG") == CODES
    assert codes("--select", "run-step-timeout") == ["ORG002"]
    assert "ORG002" not in codes("--ignore", "ORG002,ORG003")
    text = (tree / "pipeline.yaml").read_text().replace(
        "              - step:\n                  identifier: test\n",
        "              - step: # pipelint: ignore[ORG002, no-privileged-steps]\n                  identifier: test\n")
    (tree / "pipeline.yaml").write_text(text)
    lines = {(f["code"], f["line"]) for f in pipelint("check", ".", "--format", "json", "--extend-select", "YML005",
                                                        "--select", "ORG,YML").json()["findings"]}
    assert ("ORG002", 17) not in lines and ("ORG003", 22) in lines  # a comment covers its own line
    assert not any(code.startswith("YML") for code, _ in lines)  # the comment is valid and used
    (tree / ".pipelint.toml").write_text('per-file-ignores = { "many.yaml" = ["ORG"] }\n' + POLICIES)
    assert not any(f["path"] == "many.yaml" and f["code"].startswith("ORG")
                   for f in pipelint("check", ".", "--format", "json").json()["findings"])
    assert pipelint("check", ".", "--write-baseline", "baseline.json").exit_code == 0
    assert pipelint("check", ".", "--baseline", "baseline.json").stdout.startswith("All checks passed.\n")


def test_rules_and_rule_show_them(tree):
    listing = pipelint("rules").stdout
    assert re.search(r"^ORG002\s+run-step-timeout\s+warning\s+on\s+safe\s+custom, from .pipelint.toml$", listing, re.M)
    doc = pipelint("rule", "ORG002").stdout
    assert "A custom rule, declared in .pipelint.toml" in doc and "24 hours" in doc
    assert pipelint("rule", "pinned-plugins").exit_code == 0


def test_a_changed_rule_is_not_answered_from_the_cache(tree):
    first = pipelint("check", "pipeline.yaml", "--format", "json").json()["findings"]
    (tree / ".pipelint.toml").write_text(POLICIES.replace("has no timeout", "needs a timeout"))
    second = pipelint("check", "pipeline.yaml", "--format", "json").json()["findings"]
    assert any("has no timeout" in f["message"] for f in first)
    assert any("needs a timeout" in f["message"] for f in second)


RULE = {"code": "ORG009", "name": "x-rule", "message": "m", "given": "$..step", "then": {"function": "defined"}}


def _toml(decl: dict) -> str:
    def value(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, bool):
            return "true" if v else "false"
        return json.dumps(v)
    return "[[custom-rules]]\n" + "".join(f'"{k}" = {value(v)}\n' for k, v in decl.items())


@pytest.mark.parametrize(("change", "expected"), [
    ({"given": "$..steps[?(@.step.type == "}, "custom rule ORG009: 'custom-rules[0].given': '$..steps[?(@.step.type == ' is not a JSONPath: Parse error"),
    ({"given": "$$"}, "is not a JSONPath: Parse error at 1:1"),
    ({"given": "@steps"}, "[0].given': '@steps': the site lists are @images"),
    ({"then": {"function": "contains"}}, "[0].then.function': 'contains': expected one of defined"),
    ({"then": {"function": "pattern", "match": "("}}, "[0].then.match': '(' is not a regular expression"),
    ({"then": {"function": "pattern"}}, "pattern needs match and/or not-match"),
    ({"then": {"function": "defined", "values": [1]}}, "[0].then.values': not an argument of defined"),
    ({"code": "IMG009"}, "the prefixes YML, REG, CON, IMG are pipelint's own"),
    ({"code": "org1"}, "expected 2-4 capitals and 3 digits"),
    ({"name": "untagged-image"}, "untagged-image is already a rule's name"),
    ({"name": "Not_Kebab"}, "expected kebab-case"),
    ({"message": "{nope}"}, "unknown placeholder {nope}"),
    ({"severity": "fatal"}, "expected \"error\" or \"warning\""),
    ({"colour": "red"}, "[0].colour': unknown key"),
    ({"fix": {"set": "x"}, "then": {"function": "undefined", "field": "a"}}, "a fix cannot make a key undefined"),
    ({"entities": ["stage"]}, "[0].entities': expected a list of pipeline"),
])
def test_a_bad_rule_is_one_line_naming_file_rule_and_key(in_tmp, change, expected):
    (in_tmp / ".pipelint.toml").write_text(_toml({**RULE, **change}))
    (in_tmp / "p.yaml").write_text("pipeline:\n  identifier: p\n")
    result = pipelint("check", "p.yaml")
    assert result.exit_code == 2, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pipelint: error: .pipelint.toml: custom rule "), lines
    assert expected in lines[0], lines[0]
    assert "Traceback" not in result.stderr


def test_a_code_declared_twice_collides(in_tmp):
    (in_tmp / ".pipelint.toml").write_text(_toml(RULE) + _toml({**RULE, "name": "other"}))
    result = pipelint("check", ".")
    assert result.exit_code == 2 and "custom rule ORG009: 'custom-rules[1].code': ORG009 is already a rule's code" in result.stderr


def test_an_alias_bomb_is_read_within_its_budget(in_tmp):
    """Nine levels of ten aliases (10^9 nodes expanded): the custom rule's data stops at its node budget."""
    lines = ["pipeline:", "  identifier: p", "  variables:", "    - &a0 {name: x, type: String, value: v}"]
    for i in range(1, 10):
        lines.append(f"    - &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    (in_tmp / "bomb.yaml").write_text("\n".join(lines) + "\n")
    (in_tmp / ".pipelint.toml").write_text(_toml({**RULE, "given": "$..name", "then": {"function": "truthy"}}))
    start = time.monotonic()
    result = pipelint("check", "bomb.yaml")
    assert time.monotonic() - start < 60  # bounded (the budget is 200,000 nodes), not a timed promise
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr



PATHS = ["$..steps[?(@.step.type == 'Run')].step", "$..step.spec", "$.pipeline.stages[*].stage", "$..*",
         "$..stages[0]", "$..steps[-1].step.identifier", "$..spec['image','connectorRef']",
         "$..[?(@.type == 'CI')]", "$..steps[?(@.step.timeout)]", "$.pipeline.stages[*]..image",
         "$..steps[?(@.step.spec.privileged == true)]", "$..stage.spec.infrastructure.spec",
         "$..variables[?(@.name =~ '^[A-Z]')]", "$..[*].type", "$..steps..image", "$..[0]", "$.pipeline.properties.ci.codebase.build"]


def _absolute(raw: tuple, data) -> tuple:
    """A jsonpath-ng place with its negative indexes counted from the front, as the fast walk gives them."""
    out = []
    for part in raw:
        if isinstance(part, int):
            part %= len(data)
        out.append(part)
        data = data[part]
    return tuple(out)


@pytest.mark.slow  # the whole corpus, once per path: 18 s; the fixtures' tests run the same walk
@pytest.mark.parametrize("given", PATHS)
def test_the_fast_walk_matches_jsonpath_ng_on_the_corpus(given):
    """jsonpath.find_paths walks common shapes itself: the same places, in the same order, as jsonpath-ng's find
    (on the corpus and every fixture: aliases, merge keys, duplicate keys, flow mappings, odd keys)."""
    from jsonpath_ng.ext import parse as jp_parse

    from pipelint.text.source import read
    from pipelint.yamldoc import jsonpath
    from pipelint.yamldoc.document import parse

    path, compared, matched = jp_parse(given), 0, 0
    walk = jsonpath.compile_path(path)
    assert walk is not False  # the fast walk takes this shape itself
    for file in sorted([*CORPUS.rglob("*.y*ml"), *FIXTURES.rglob("*.y*ml")]):
        docs, _ = parse(read(str(file)))
        for doc in docs:
            data = jsonpath.document_data(doc.root)
            expected = [_absolute(jsonpath._segments(m.full_path), data) for m in path.find(data)]
            assert jsonpath.find_paths(path, data, walk) == expected, file
            compared, matched = compared + 1, matched + len(expected)
    assert compared > 50 and matched > 0, (compared, matched)


def test_other_shapes_are_left_to_jsonpath_ng():
    from jsonpath_ng.ext import parse as jp_parse

    from pipelint.yamldoc import jsonpath

    data = {"pipeline": {"stages": [{"stage": {"name": "b"}}, {"stage": {"name": "a"}}]}}
    for given, places in [("$.pipeline.stages[0:1]", [("pipeline", "stages", 0)]),
                          ("$.pipeline.stages[?(@.stage.name == $.pipeline.stages[1].stage.name)]",
                           [("pipeline", "stages", 1)])]:
        path = jp_parse(given)
        assert jsonpath.compile_path(path) is False
        assert jsonpath.find_paths(path, data) == places

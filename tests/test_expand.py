"""Expansion (pipelint.embed.expand): file expanders, then unit expanders as a worklist, so container kinds compose.
A trigger's `inputYaml` is a unit of its own, in a `.harness/` file and inside a Terraform heredoc alike; a fix
inside it is verified through every container it lives in."""
from __future__ import annotations

import pytest
from conftest import pipelint

from pipelint.embed import expand as expansion
from pipelint.engine import config
from pipelint.engine.core import Engine
from pipelint.findings import fixplan
from pipelint.text.source import Region, Source

TRIGGER = """\
trigger:
  identifier: push  # on every push
  pipelineIdentifier: build
  inputYaml: |
    inputSet:
      identifier: i
      pipeline:
        identifier: build
        stages:
          - stage:
              identifier: build
              type: CI
              spec:
                infrastructure:
                  type: KubernetesDirect
                  spec:
                    harnessImageConectorRef: account.mirror
"""

HEREDOC = """\
resource "harness_platform_triggers" "push" {
  identifier = "push"
  yaml       = <<-EOT
    trigger:
      identifier: push
      pipelineIdentifier: build
      inputYaml: |
        pipeline:
          identifier: build
          stages:
            - stage:
                identifier: build
                type: CI
                spec:
                  infrastructure:
                    type: KubernetesDirect
                    spec:
                      harnessImageConectorRef: account.mirror
  EOT
}
"""


def _engine() -> Engine:
    settings = config.Settings()
    return Engine(settings, config.enabled_rules(settings, select=["ALL"]))


def test_a_trigger_and_its_input_yaml_are_two_units_and_read_back():
    src = Source(".harness/t.yaml", TRIGGER)
    units, reread = expansion.expand(src)
    assert [u.region.kind for u in units] == [None, "inputSet"]
    assert units[1].region.parent == (0, 0, ("trigger", "inputYaml"))
    assert units[1].text.startswith("inputSet:\n  identifier: i\n")
    assert reread is not None and reread(src.path, TRIGGER) == [u.text for u in units]
    assert reread(src.path, TRIGGER.split("  inputYaml")[0]) is None  # no longer holds the input set
    plain = Source("p.yaml", "pipeline:\n  identifier: p\n")
    assert expansion.expand(plain) == ([plain], None)  # a file holding no other unit is its own unit


def test_a_typo_inside_input_yaml_is_fixed_through_the_trigger(in_tmp):
    (in_tmp / ".harness").mkdir()
    path = in_tmp / ".harness" / "trigger.yaml"
    path.write_text(TRIGGER)
    found = pipelint("check", ".", "--isolated", "--format", "json").json()["findings"]
    assert [(f["code"], f["line"], f["column"], f["fix"]["applicability"]) for f in found] == [
        ("YML006", 17, 21, "unsafe")]
    pipelint("fix", ".", "--isolated", "--unsafe-fixes")
    assert path.read_text() == TRIGGER.replace("ConectorRef", "ConnectorRef")  # the comment and all else kept
    assert "Fixed" not in pipelint("fix", ".", "--isolated", "--unsafe-fixes").stdout


def test_a_trigger_in_a_heredoc_composes_and_is_fixed_in_the_tf_file(in_tmp):
    path = in_tmp / "main.tf"
    path.write_text(HEREDOC)
    found = pipelint("check", "main.tf", "--isolated", "--format", "json").json()["findings"]
    assert [(f["code"], f["line"], f["column"]) for f in found] == [("YML006", 18, 23)]
    assert HEREDOC.splitlines()[17][22:].startswith("harnessImageConectorRef")
    pipelint("fix", "main.tf", "--isolated", "--unsafe-fixes")
    assert path.read_text() == HEREDOC.replace("ConectorRef", "ConnectorRef")


def test_a_quoted_input_yaml_is_checked_but_never_edited(in_tmp):
    (in_tmp / ".harness").mkdir()
    path = in_tmp / ".harness" / "trigger.yaml"
    text = ('trigger:\n  identifier: push\n  pipelineIdentifier: build\n  inputYaml: "pipeline:\\n  identifier: '
            'build\\n  stages:\\n    - stage:\\n        identifier: build\\n        type: CI\\n        spec:\\n          '
            'infrastructure:\\n            type: KubernetesDirect\\n            spec:\\n              harnessImageConectorRef: account.mirror\\n"\n')
    path.write_text(text)
    found = pipelint("check", ".", "--isolated", "--format", "json").json()["findings"]
    assert [(f["code"], f["line"], f.get("fix")) for f in found] == [("YML006", 4, None)]
    assert "no automatic fix: the YAML is a quoted string" in found[0]["message"]
    pipelint("fix", ".", "--isolated", "--unsafe-fixes")
    assert path.read_text() == text


def test_an_input_set_that_does_not_parse_is_said_as_such(in_tmp):
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "trigger.yaml").write_text(
        "trigger:\n  identifier: push\n  pipelineIdentifier: build\n  inputYaml: |\n    pipeline: [\n")
    found = pipelint("check", ".", "--isolated", "--format", "json").json()["findings"]
    assert [(f["code"], f["line"]) for f in found] == [("YML001", 6)]
    assert found[0]["message"].startswith("the trigger's inputYaml is not an input set: invalid YAML")


@pytest.mark.parametrize("new, verdict", [
    # a comment inside the input set changes the trigger's string, not the input set: the same data
    (TRIGGER.replace("      identifier: i\n", "      # note\n      identifier: i\n"), None),
    (TRIGGER.replace("identifier: i\n", "identifier: j\n"), "inputSet.identifier changed"),
    (TRIGGER.replace("identifier: push", "identifier: pull"), "trigger.identifier changed"),
    (TRIGGER.split("  inputYaml")[0], "no longer hold the same Harness YAML"),
])
def test_the_verifier_reads_a_trigger_and_its_input_set_each_as_data(new, verdict):
    report = _engine().check_file(Source(".harness/t.yaml", TRIGGER), keep=True)
    assert len(report.regions) == 2
    if verdict is None:
        fixplan.verify_unchanged(report, new)
        return
    with pytest.raises(fixplan.NotApplicable, match=verdict.replace(".", r"\.")):
        fixplan.verify_unchanged(report, new)


def test_a_region_within_a_region_maps_through_both():
    outer = "x = <<-EOT\n    a: 1\n    b: |\n      c: ${v}\n      d: 2\n  EOT\n"
    start = outer.index("    a")
    end = outer.index("  EOT")
    heredoc, inner = Region.of_lines("main.tf", outer, start, end, strip=4)
    heredoc.holes = ((inner.index("${"), inner.index("}") + 1),)
    begin = inner.index("  c:")
    block, text = Region.of_lines("main.tf", inner, begin, len(inner), strip=2)
    assert text == "c: ${v}\nd: 2\n"
    both = block.within(heredoc)
    assert both.outer_text is outer and both.outer_path == "main.tf"
    for i, ch in enumerate(text):
        if ch != "\n":
            assert outer[both.offset(i)] == ch
    assert both.line_col(text.index("d")) == (5, 7)
    assert both.holes == ((text.index("${"), text.index("}") + 1),)  # the heredoc's hole, in the inner text
    assert both.edit(text.index("${"), text.index("${") + 1, "x") is None
    at = text.index("d:")
    assert both.edit(at, at, "e: 3\n") == (outer.index("d:"), outer.index("d:"), "e: 3\n      ")
    point = Region.point("main.tf", inner, inner.index("1"), "one")
    assert point.within(heredoc).offset(2) == outer.index("1")

"""A typo never silences a check (issue 30): YML006 reports a key Harness's schema does not declare at its place
when it is a near miss of one it does, wherever Harness YAML lives; CON001 says "did you mean" instead of adding a
second key beside a misspelt one; the compiled vocabulary names its schema commit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import CORPUS, FIXTURES, ROOT, pipelint

TYPOS = (FIXTURES / "YML006" / "bad_typos.yaml").read_text()


def test_each_typo_class_is_reported_at_its_line_with_the_key_it_should_be(in_tmp):
    (in_tmp / "p.yaml").write_text(TYPOS)
    result = pipelint("check", "p.yaml", "--isolated", "--select", "YML006")
    assert result.stdout.splitlines()[:4] == [
        'p.yaml:11:11: warning YML006 [~] unknown key "infrastrucure" in the CI stage spec: did you mean '
        '"infrastructure"?',
        'p.yaml:16:15: warning YML006 [~] unknown key "harnessImageConectorRef" in the KubernetesDirect '
        'infrastructure spec: did you mean "harnessImageConnectorRef"?',
        'p.yaml:25:21: warning YML006 [~] unknown key "comand" in the Run step spec: did you mean "command"?',
        'p.yaml:26:21: warning YML006 [~] unknown key "ImagePullPolicy" in the Run step spec: did you mean '
        '"imagePullPolicy"?']


def test_con001_names_the_misspelt_key_and_adds_no_second_one(in_tmp):
    (in_tmp / ".pipelint.toml").write_text('[rules.CON001]\nimage-connector = "account.mirror"\n')
    (in_tmp / "p.yaml").write_text(TYPOS.replace("infrastrucure:", "infrastructure:"))
    data = pipelint("check", "p.yaml", "--select", "CON001", "--format", "json").json()
    (f,) = data["findings"]
    assert f["fix"] is None and f["line"] == 11
    assert 'has no harnessImageConnectorRef, but "harnessImageConectorRef": did you mean harnessImageConnectorRef?' \
        in f["message"]
    pipelint("fix", "p.yaml", "--unsafe-fixes")  # YML006 renames it; CON001 then has nothing to add
    text = (in_tmp / "p.yaml").read_text()
    assert text.count("harnessImageConnectorRef: account.mirror") == 1 and "Conector" not in text
    assert pipelint("check", "p.yaml", "--select", "CON001,YML006").stdout == "All checks passed.\n"


def test_the_rename_is_verified_and_refused_when_the_key_is_there(in_tmp):
    both = TYPOS.replace("                    comand: echo hi\n",
                         "                    comand: echo hi\n                    command: echo hello\n")
    (in_tmp / "p.yaml").write_text(both)
    found = {f["message"].split('"')[1]: f for f in
             pipelint("check", "p.yaml", "--isolated", "--select", "YML006", "--format", "json").json()["findings"]}
    assert found["comand"]["fix"] is None  # renaming it would make two `command` keys
    assert found["ImagePullPolicy"]["fix"]["applicability"] == "unsafe"


def test_in_heredocs_templates_and_input_sets(in_tmp):
    body = "".join(f"    {line}" if line.strip() else line for line in TYPOS.splitlines(True) if not line.startswith("#"))
    (in_tmp / "main.tf").write_text(f'resource "harness_platform_pipeline" "p" {{\n  yaml = <<-EOT\n{body}  EOT\n}}\n')
    (in_tmp / "p.yaml.tpl").write_text(TYPOS.replace("name: r\n", "name: ${step_name}\n"))
    (in_tmp / "input.yaml").write_text(
        "inputSet:\n  identifier: i\n  pipeline:\n    identifier: p\n    stages:\n      - stage:\n"
        "          identifier: b\n          type: CI\n          spec:\n            execution:\n              steps:\n"
        "                - step:\n                    identifier: r\n                    type: Run\n"
        "                    spec:\n                      comand: echo\n")
    data = pipelint("check", ".", "--isolated", "--no-cache", "--select", "YML006", "--format", "json").json()
    where = sorted((f["path"], f["line"], f["message"].split('"')[1]) for f in data["findings"])
    assert [w for w in where if w[0] == "main.tf"] == [("main.tf", 12, "infrastrucure"), ("main.tf", 17, "harnessImageConectorRef"),
                                                      ("main.tf", 26, "comand"), ("main.tf", 27, "ImagePullPolicy")]
    assert [w[2] for w in where if w[0] == "p.yaml.tpl"] == ["infrastrucure", "harnessImageConectorRef", "comand",
                                                             "ImagePullPolicy"]
    assert [w for w in where if w[0] == "input.yaml"] == [("input.yaml", 16, "comand")]


def test_the_real_files_are_quiet(in_tmp):
    """The corpus's pipelines, templates and input sets: legitimate keys the schema omits are not typos."""
    data = pipelint("check", str(CORPUS), "--isolated", "--no-cache", "--select", "YML006", "--format", "json").json()
    assert data["findings"] == [] and data["files_checked"] >= 25


def test_the_vocabulary_names_its_schema_commit_and_the_script_reproduces_it():
    vocabulary = json.loads((ROOT / "lint" / "harness" / "vocabulary.json").read_text())
    script = (ROOT / "scripts" / "harness_vocabulary.py").read_text()
    assert vocabulary["commit"] in script and len(vocabulary["commit"]) == 40
    assert vocabulary["source"] == "harness/harness-schema v0/pipeline.json, v0/trigger.json"
    # the schemas are not redistributable (harness/harness-schema has no license): reproduce when a checkout of
    # the named commit is at hand (PIPELINT_HARNESS_SCHEMA=/path/to/checkout)
    checkout = os.environ.get("PIPELINT_HARNESS_SCHEMA")
    if not checkout or not Path(checkout, "v0", "pipeline.json").exists():
        pytest.skip("no checkout of harness/harness-schema (set PIPELINT_HARNESS_SCHEMA to reproduce the file)")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "harness_vocabulary.py"), checkout, "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr

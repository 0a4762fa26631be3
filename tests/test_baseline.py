"""Baselines survive edits that do not touch a finding, and let a changed value through."""

from __future__ import annotations

import json

from conftest import pipelint

PIPELINE = """\
pipeline:
  name: build
  identifier: build
  stages:
    - stage:
        name: test
        identifier: test
        type: CI
        spec:
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s
          execution:
            steps:
              - step:
                  type: Run
                  identifier: unit
                  spec:
                    image: alpine
    - stage:
        name: lint
        identifier: lint
        type: CI
        spec:
          execution:
            steps:
              - step:
                  type: Run
                  identifier: lint
                  spec:
                    image: maven:latest
"""


def _codes(result):
    return sorted((f["code"], f["line"]) for f in result.json()["findings"])


def _setup(tmp):
    (tmp / ".harness").mkdir()
    (tmp / ".harness" / "p.yaml").write_text(PIPELINE)
    written = pipelint("check", "--isolated", "--write-baseline", "baseline.json")
    assert written.exit_code == 0
    assert written.stdout == "Wrote a baseline of 3 findings to baseline.json.\n"
    data = json.loads((tmp / "baseline.json").read_text())
    assert [(e["code"], e["path"], e["yaml_path"]) for e in data["findings"]] == [
        ("CON001", ".harness/p.yaml", "pipeline.stages[test].stage.spec.infrastructure"),
        ("IMG001", ".harness/p.yaml", "pipeline.stages[test].stage.spec.execution.steps[unit].step.spec.image"),
        ("IMG002", ".harness/p.yaml", "pipeline.stages[lint].stage.spec.execution.steps[lint].step.spec.image"),
    ]


def _check(*args):
    return pipelint("check", "--isolated", "--baseline", "baseline.json", "--format", "json", *args)


def test_unchanged_tree_is_clean(in_tmp):
    _setup(in_tmp)
    result = pipelint("check", "--isolated", "--baseline", "baseline.json")
    assert (result.exit_code, result.stdout) == (0, "All checks passed.\n3 findings hidden by the baseline baseline.json\n")


def test_lines_above_reordered_stages_and_reindent_keep_it_baselined(in_tmp):
    _setup(in_tmp)
    path = in_tmp / ".harness" / "p.yaml"
    text = "# a new comment\n# and another\n" + PIPELINE
    head, test_stage, lint_stage = text.split("    - stage:\n")
    text = head + "    - stage:\n" + lint_stage + "    - stage:\n" + test_stage  # lint first now
    text = text.replace("\n  ", "\n    ")  # 4-space top level: every line moves right
    text = text.replace("pipeline:\n", "pipeline:\n    description: reordered\n", 1)
    path.write_text(text)
    assert pipelint("check", "--isolated", "--select", "YML001").exit_code == 0
    assert len(pipelint("check", "--isolated", "--format", "json").json()["findings"]) == 3
    result = _check()
    assert result.exit_code == 0 and result.json()["findings"] == []


def test_a_changed_value_resurfaces(in_tmp):
    _setup(in_tmp)
    path = in_tmp / ".harness" / "p.yaml"
    path.write_text(PIPELINE.replace("image: alpine", "image: busybox"))
    result = _check()
    assert result.exit_code == 1
    assert [(f["code"], f["message"]) for f in result.json()["findings"]] == [
        ("IMG001", 'image "busybox" has no tag or digest (it means "latest"); '
                   "`pipelint pin --allow-latest` pins today's latest")]


def test_a_new_finding_fails_and_gone_ones_are_counted(in_tmp):
    _setup(in_tmp)
    path = in_tmp / ".harness" / "p.yaml"
    path.write_text(PIPELINE.replace("image: maven:latest", "image: maven:3.9")
                    .replace("              connectorRef: account.k8s\n",
                             "              connectorRef: account.k8s\n              harnessImageConnectorRef: org.x\n"))
    text = pipelint("check", "--isolated", "--baseline", "baseline.json")
    assert text.exit_code == 1
    assert text.stdout.splitlines() == [
        '.harness/p.yaml:14:41: error CON002 harnessImageConnectorRef "org.x" is not an account connector: the override '
        "image connector must be created at account scope (account.<id>)",
        "Found 1 problem in 1 file (1 error).",
        "1 finding hidden by the baseline baseline.json",
        "2 baselined findings are gone; rewrite the baseline with --write-baseline baseline.json",
    ]
    path.write_text(PIPELINE.replace("image: maven:latest", "image: maven:3.9"))
    clean = pipelint("check", "--isolated", "--baseline", "baseline.json", "--format", "json")
    assert clean.exit_code == 0  # gone findings never fail the run
    assert clean.stderr == ("2 findings hidden by the baseline baseline.json\n"
                            "1 baselined finding is gone; rewrite the baseline with --write-baseline baseline.json\n")


def test_baseline_paths_are_relative_to_the_baseline(in_tmp):
    import os

    _setup(in_tmp)
    (in_tmp / "sub").mkdir()
    os.chdir(in_tmp / "sub")
    result = pipelint("check", "..", "--isolated", "--baseline", "../baseline.json")
    assert (result.exit_code, result.stdout) == (
        0, "All checks passed.\n3 findings hidden by the baseline ../baseline.json\n")


def test_bad_baseline_files(in_tmp):
    (in_tmp / "p.yaml").write_text(PIPELINE)
    missing = pipelint("check", "--isolated", "--baseline", "nope.json")
    assert missing.exit_code == 2
    assert missing.stderr == ("pipelint: error: nope.json: baseline file not found (create it with "
                              "--write-baseline)\n")
    (in_tmp / "bad.json").write_text("{\n  oops")
    bad = pipelint("check", "--isolated", "--baseline", "bad.json")
    assert bad.exit_code == 2 and bad.stderr.startswith("pipelint: error: bad.json:2:3: invalid baseline JSON")
    (in_tmp / "other.json").write_text('{"version": 9}')
    assert "not a pipelint baseline" in pipelint("check", "--isolated", "--baseline", "other.json").stderr


def test_reordered_documents_stay_baselined(in_tmp):
    """Documents of one file are known by their entity and identifier, not their position."""
    def connector(ident):
        return (f"connector:\n  identifier: {ident}\n  type: DockerRegistry\n  spec:\n"
                "    dockerRegistryUrl: https://app.harness.io/registry\n    providerType: Other\n"
                "    auth:\n      type: Anonymous\n    executeOnDelegate: false\n")
    (in_tmp / "c.yaml").write_text(connector("first") + "---\n" + connector("second"))
    assert pipelint("check", "c.yaml", "--isolated", "--write-baseline", "baseline.json").exit_code == 0
    data = json.loads((in_tmp / "baseline.json").read_text())
    assert sorted(e["yaml_path"] for e in data["findings"]) == [
        "--- connector[first].connector.spec.dockerRegistryUrl",
        "--- connector[second].connector.spec.dockerRegistryUrl"]
    (in_tmp / "c.yaml").write_text(connector("second") + "---\n" + connector("first"))
    again = pipelint("check", "c.yaml", "--isolated", "--baseline", "baseline.json")
    assert again.exit_code == 0, again.stdout

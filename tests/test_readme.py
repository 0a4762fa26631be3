"""The README's snippets, tried as a new user would: its Harness step passes pipelint, its pre-commit
configuration runs with pre-commit, its CI YAML parses, its first commands are what .ci/run runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, pipelint

README = (ROOT / "README.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def test_first_commands_and_ci_run():
    first = blocks("sh")[0].strip().splitlines()
    assert first[0] == "python3 -m pip install . && python3 -m pipelint check examples/"
    assert first[1] == "python3 -m pip install '.[test]' && python3 -m pytest"
    assert first[1] in (ROOT / ".ci" / "run").read_text()
    # the check runs with the interpreter alone: no `pipelint` script on PATH (an unactivated venv)
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run([sys.executable, "-m", "pipelint", "check", "examples/"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Found 5 problems in 2 files" in proc.stdout, proc.stdout + proc.stderr


def test_harness_ci_step_is_clean_harness_yaml(in_tmp):
    step = next(b for b in blocks("yaml") if "type: JUnit" in b)
    body = "\n".join("              " + line for line in step.splitlines())
    pipeline = ("pipeline:\n  name: lint\n  identifier: lint\n  stages:\n    - stage:\n        name: lint\n"
                "        identifier: lint\n        type: CI\n        spec:\n          platform: {os: Linux, arch: Amd64}\n"
                "          runtime: {type: Cloud, spec: {}}\n          execution:\n            steps:\n" + body + "\n")
    (in_tmp / "lint.yaml").write_text(pipeline)
    result = pipelint("check", "lint.yaml", "--isolated", "--select", "ALL", "--ignore", "IMG003,IMG005")
    assert (result.exit_code, result.stdout) == (0, "All checks passed.\n")


def test_ci_snippets_parse():
    for block in blocks("yaml"):
        assert yaml.safe_load(block) is not None


def test_toml_snippets_are_valid_configuration(in_tmp):
    for block in blocks("toml"):
        text = block
        if "[language-server." in text:
            continue  # Helix's languages.toml (tests/test_server.py reads it)
        if "[tool.pipelint" in text:
            (in_tmp / "pyproject.toml").write_text(text)
            result = pipelint("check", "--config", "pyproject.toml")
        else:
            (in_tmp / "c.toml").write_text(text)
            result = pipelint("check", "--config", "c.toml")
        assert result.exit_code == 0, result.stderr


@pytest.mark.slow
def test_readme_precommit_config_runs(tmp_path):
    config = next(b for b in blocks("yaml") if "repos:" in b)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        import pytest

        pytest.skip("not a git checkout")
    config = config.replace("https://github.com/pipelint/pipelint", str(ROOT)).replace(
        "rev: v0.1.0", f"rev: {head.stdout.strip()}")
    repo = tmp_path / "repo"
    (repo / ".harness").mkdir(parents=True)
    (repo / ".pre-commit-config.yaml").write_text(config)
    (repo / ".harness" / "p.yaml").write_text(
        "pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        identifier: s\n        type: CI\n"
        "        spec:\n          execution:\n            steps:\n              - step: {type: Run, identifier: r, "
        "spec: {image: alpine}}\n")
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True)
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "home"), PRE_COMMIT_COLOR="never")
    run = subprocess.run([sys.executable, "-m", "pre_commit", "run", "--all-files"], cwd=repo,
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    assert '.harness/p.yaml:11:64: error IMG001 image "alpine" has no tag or digest' in run.stdout


def test_json_example_is_real_output():
    import json

    example = json.loads(blocks("json")[0])
    import os

    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        real = pipelint("check", "examples", "--isolated", "--no-cache", "--format", "json").json()
    finally:
        os.chdir(cwd)
    assert example["files_checked"] == real["files_checked"] and example["version"] == real["version"]
    assert example["findings"][0] in real["findings"]


def test_rules_table_is_what_pipelint_rules_prints():
    """The README's rules table names every rule, in the same order, with the code, name, default severity,
    whether it is on by default, and the fix safety `pipelint rules` prints (the README may add a note)."""
    section = README.split("\n## Rules\n", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| code")]
    table = [(code, name, default.split(",")[0], "off by default" not in default, fix.split(" ")[0])
             for code, name, default, fix in rows]
    printed = pipelint("rules", "--format", "json").json()
    expected = [(r["code"], r["name"], r["severity"], r["enabled_by_default"], r["fix"] or "-") for r in printed]
    assert table == expected

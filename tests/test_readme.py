"""The README's and the docs' snippets, tried as a new user would: the Harness step passes pipelint, the
pre-commit configuration runs with pre-commit, CI YAML parses, the first commands are what .ci/run runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT, pipelint

README = (ROOT / "README.md").read_text()
DOCS = {p.relative_to(ROOT).as_posix(): p.read_text() for p in sorted((ROOT / "docs").rglob("*.md"))}
PAGES = {"README.md": README, **DOCS}
PLACEHOLDER_REPO = "https://git.example.com/your-org/pipelint"
PLACEHOLDER_COMMIT = "0123456789abcdef0123456789abcdef01234567"


def blocks(lang: str, text: str | None = None) -> list[str]:
    """The `lang` code blocks of one page, or of the README and every docs page."""
    pages = [text] if text is not None else PAGES.values()
    return [b for page in pages for b in re.findall(rf"```{lang}\n(.*?)```", page, flags=re.S)]


def test_first_commands_and_ci_run():
    first = blocks("sh", README)[0].strip().splitlines()
    assert first[0] == "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/pipelint check examples/"
    assert first[1] == "python3 -m venv .venv && .venv/bin/pip install '.[test]' && .venv/bin/python -m pytest"
    assert first[1] in (ROOT / ".ci" / "run").read_text().splitlines()
    # the check runs with the interpreter alone: no `pipelint` script on PATH (an unactivated venv)
    env = {k: v for k, v in os.environ.items() if k != "PATH"}
    env["PATH"] = "/usr/bin:/bin"
    proc = subprocess.run([sys.executable, "-m", "pipelint", "check", "examples/"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and "Found 5 problems in 2 files" in proc.stdout, proc.stdout + proc.stderr


def test_the_readme_is_a_page_a_new_user_reads():
    """Short, and every link it has lands on a page that exists; install lines name their placeholders."""
    assert len(README.splitlines()) < 250
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README):
        if not target.startswith("http"):
            assert (ROOT / target).exists(), target
    # pipelint is not on PyPI: no snippet installs it by name (only from a checkout or a git URL)
    by_name = re.compile(r"pip install (?:--\S+ )*['\"]?pipelint(?:\[[a-z,]+\])?(?!\s*@)['\"]?(?:\s|$)")
    for name, page in PAGES.items():
        assert not by_name.search(page), name
    assert "pipelint @ git+https://<git host>/<org>/pipelint@<commit>" in README


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
    for name, page in PAGES.items():
        if name.startswith("docs/rules/"):
            continue  # rule pages show bad YAML on purpose (YML001's example)
        for block in blocks("yaml", page):
            assert yaml.safe_load(block) is not None, name


def test_toml_snippets_are_valid_configuration(in_tmp):
    for block in blocks("toml"):
        if "[[custom-rules]]" in block and "ORG001" not in block:
            continue  # a fragment of one custom rule, shown alone
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
    config = next(b for b in blocks("yaml", README) if "repos:" in b)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    if head.returncode != 0:
        import pytest

        pytest.skip("not a git checkout")
    assert PLACEHOLDER_REPO in config and PLACEHOLDER_COMMIT in config  # named as placeholders
    config = config.replace(PLACEHOLDER_REPO, str(ROOT)).replace(PLACEHOLDER_COMMIT, head.stdout.strip())
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

    example = json.loads(blocks("json", DOCS["docs/command-line.md"])[0])
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
    """docs/rules/index.md names every rule, in the same order, with the code, name, default severity, whether it
    is on by default, and the fix safety `pipelint rules` prints."""
    section = DOCS["docs/rules/index.md"]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| ") and not line.startswith("| code")]
    table = [(code, re.sub(r"\[(.*?)\]\(.*?\)", r"\1", name), severity, on == "yes", fix)
             for code, name, severity, on, fix in rows]
    printed = pipelint("rules", "--format", "json").json()
    expected = [(r["code"], r["name"], r["severity"], r["enabled_by_default"], r["fix"] or "-") for r in printed]
    assert table == expected
    assert f"({len(printed)} today" in README

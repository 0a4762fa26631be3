"""Every rule against its fixtures: `bad_*` cases fire (only that rule), `ok_*` cases stay silent, and where a
`*.fixed.yaml` sits beside a file, `pipelint fix` must produce exactly those bytes, then change nothing more.

Each case -- a file, or a folder for cross-file rules -- is checked as a run of its own, from a copy, with
only its rule selected and the rule folder's `pipelint.toml` (if any) as configuration. The text and JSON
that a user sees are snapshots (syrupy); the assertions below hold whatever the snapshots say.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import FIXTURES, copy_case, pipelint

from pipelint.rules import BY_CODE, RULES


def _cases():
    for rule_dir in sorted(FIXTURES.iterdir()):
        if not rule_dir.is_dir() or rule_dir.name not in BY_CODE:
            continue
        for case in sorted(rule_dir.iterdir()):
            if case.name.endswith(".fixed.yaml") or not case.name.startswith(("bad_", "ok_")):
                continue
            yield pytest.param(rule_dir.name, case, id=f"{rule_dir.name}/{case.name}")


def _config_args(code: str) -> list[str]:
    config = FIXTURES / code / "pipelint.toml"
    return ["--config", str(config)] if config.exists() else ["--isolated"]


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("code,case", list(_cases()))
def test_fixture(code, case, in_tmp, snapshot):
    target = copy_case(case, in_tmp)
    args = [target.name, "--select", code, *_config_args(code)]
    text = pipelint("check", *args)
    data = pipelint("check", *args, "--format", "json")
    assert text.stderr == "" and data.stderr == ""
    findings = data.json()["findings"]
    if case.name.startswith("bad_"):
        assert findings, f"{case} should fire {code}"
        assert {f["code"] for f in findings} == {code}
        assert text.exit_code == 1
    else:
        assert findings == [], f"{case} should be silent"
        assert text.exit_code == 0
        assert text.stdout == "All checks passed.\n" or text.stdout.startswith("No Harness configuration in the 1 file")
    assert text.stdout == snapshot(name="text")
    assert findings == snapshot(name="json")

    expected = {f: _fixed_path(case, target, f) for f in _files(target)}
    if not any(p.exists() for p in expected.values()):
        return
    before = {f: f.read_bytes() for f in expected}
    diff = pipelint("fix", *args, "--unsafe-fixes", "--diff")
    assert diff.exit_code == 1 and diff.stdout == snapshot(name="diff")
    assert {f: f.read_bytes() for f in expected} == before, "--diff must not write"
    pipelint("fix", *args, "--unsafe-fixes")
    for f, fixed in expected.items():
        want = fixed.read_bytes() if fixed.exists() else before[f]
        assert f.read_bytes() == want, f"{f.name} differs from {fixed.name}"
    mtimes = {f: os.stat(f).st_mtime_ns for f in expected}
    again = pipelint("fix", *args, "--unsafe-fixes", "--format", "json")
    assert again.json()["fixed"] == 0
    assert {f: os.stat(f).st_mtime_ns for f in expected} == mtimes, "a second fix must not rewrite files"
    assert not [f for f in again.json()["findings"] if f["fixable"]]


def _fixed_path(case: Path, target: Path, copied: Path) -> Path:
    source = case if case.is_file() else case / copied.relative_to(target)
    return source.with_name(source.name[: -len(".yaml")] + ".fixed.yaml")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_every_rule_has_fixtures_and_docs(rule):
    folder = FIXTURES / rule.code
    names = [p.name for p in folder.iterdir()]
    assert any(n.startswith("bad_") for n in names), f"{rule.code} needs a firing fixture"
    assert any(n.startswith("ok_") for n in names), f"{rule.code} needs a silent fixture"
    doc = rule.doc()
    for heading in ("## What it does", "## Why is this bad?", "## Example", "## Fix"):
        assert heading in doc, f"{rule.code} docstring lacks {heading!r}"
    if rule.fix_safety:
        assert any(n.endswith(".fixed.yaml") for n in names) or any(
            p.is_dir() and list(p.rglob("*.fixed.yaml")) for p in folder.iterdir()
        ), f"{rule.code} has a fix but no expected output"

"""The real public Harness files in tests/corpus (see its SOURCES.tsv), and the project's own fixtures, end to end."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import CORPUS, FIXTURES, assert_minimal_change, pipelint, pipelint_process

CON001_CONFIG = '[rules.CON001]\nimage-connector = "account.harnessImageMirror"\n'


def test_check_corpus(in_tmp, snapshot):
    shutil.copytree(CORPUS, in_tmp / "corpus")
    result = pipelint("check", "corpus", "--isolated")
    assert result.exit_code == 1 and result.stderr == ""
    assert "Traceback" not in result.stdout
    assert result.stdout == snapshot(name="text")
    data = pipelint("check", "corpus", "--isolated", "--format", "json").json()
    assert data["files_checked"] == 28  # 13 YAML files, 8 Terraform files of the Harness provider, 7 templates
    by_code = {}
    for f in data["findings"]:
        by_code.setdefault(f["code"], set()).add(f["path"].split("/", 2)[1])
    # Which rules fire on which repositories (reviewed in the issue note).
    assert by_code == snapshot(name="codes-by-repository")


@pytest.mark.parametrize("tree", ["corpus", "fixtures"])
def test_fix_changes_only_what_it_must(tree, in_tmp):
    source = CORPUS if tree == "corpus" else FIXTURES
    work = in_tmp / tree
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("*.fixed.yaml", "*.fixed.tf", "*.fixed.yaml.tpl"))
    for p in work.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    (in_tmp / "fix.toml").write_text(CON001_CONFIG)
    before = {p: p.read_bytes() for p in work.rglob("*") if p.is_file()}
    result = pipelint("fix", tree, "--config", "fix.toml", "--unsafe-fixes", "--select", "ALL",
                      "--format", "json")
    assert result.exit_code in (0, 1), result.stderr
    assert "internal error" not in result.stderr
    fixed = result.json()["fixed"]
    assert fixed > 0
    changed = 0
    for path, old in before.items():
        new = path.read_bytes()
        if new == old:
            continue
        changed += 1
        assert path.suffix in (".yaml", ".yml", ".tf", ".tpl")
        assert new.startswith(b"\xef\xbb\xbf") == old.startswith(b"\xef\xbb\xbf")
        assert new.endswith(b"\n") == old.endswith(b"\n")
        assert_minimal_change(old.decode("utf-8-sig"), new.decode("utf-8-sig"),
                              {"harnessImageConnectorRef", "providerType", "executeOnDelegate", "execute_on_delegate"})
        # the result parses and is Harness YAML still
        assert pipelint("check", str(path.relative_to(in_tmp)), "--isolated", "--select", "YML001").exit_code == 0
    assert changed > 0
    after = {p: p.read_bytes() for p in before}
    again = pipelint("fix", tree, "--config", "fix.toml", "--unsafe-fixes", "--select", "ALL", "--format", "json")
    assert again.json()["fixed"] == 0
    assert {p: p.read_bytes() for p in before} == after


def test_fix_diff_applies_with_git(in_tmp):
    work = in_tmp / "repo"
    shutil.copytree(CORPUS, work)
    for p in work.rglob("*"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    shutil.copytree(FIXTURES / "REG001", work / "reg001", ignore=shutil.ignore_patterns("*.fixed.yaml"))
    (work / ".pipelint.toml").write_text(CON001_CONFIG)
    git = lambda *a: subprocess.run(["git", *a], cwd=work, check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("-c", "core.autocrlf=false", "add", "-A")
    git("-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    import os

    os.chdir(work)
    # a real process: the patch's bytes (CRLF lines, a BOM) must reach git as written
    diff = pipelint_process("fix", "--diff", "--unsafe-fixes", cwd=work)
    assert diff.returncode == 1 and diff.stdout.startswith(b"diff --git a/")
    assert b"\r\n" in diff.stdout
    assert git("status", "--porcelain").stdout == b""  # --diff wrote nothing
    (work.parent / "fix.patch").write_bytes(diff.stdout)
    git("apply", "--check", str(work.parent / "fix.patch"))
    git("apply", str(work.parent / "fix.patch"))
    applied = {p: p.read_bytes() for p in work.rglob("*.y*ml")}
    git("checkout", "--", ".")
    assert pipelint("fix", "--unsafe-fixes").exit_code in (0, 1)
    assert {p: p.read_bytes() for p in work.rglob("*.y*ml")} == applied
    assert pipelint("fix", "--diff", "--unsafe-fixes").stdout == ""
    assert pipelint("fix", "--diff", "--unsafe-fixes").exit_code == 0

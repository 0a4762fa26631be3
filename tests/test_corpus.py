"""The real public Harness files in ../shared/corpus, and the project's own fixtures, end to end."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from conftest import CORPUS, FIXTURES, pipelint, pipelint_process

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside the checkout")

CON001_CONFIG = '[rules.CON001]\nimage-connector = "account.harnessImageMirror"\n'


def test_check_corpus(in_tmp, snapshot):
    shutil.copytree(CORPUS, in_tmp / "corpus")
    result = pipelint("check", "corpus", "--isolated")
    assert result.exit_code == 1 and result.stderr == ""
    assert "Traceback" not in result.stdout
    assert result.stdout == snapshot(name="text")
    data = pipelint("check", "corpus", "--isolated", "--format", "json").json()
    assert data["files_checked"] == 22
    by_code = {}
    for f in data["findings"]:
        by_code.setdefault(f["code"], set()).add(f["path"].split("/", 2)[1])
    # Which rules fire on which repositories (reviewed in the issue note).
    assert by_code == snapshot(name="codes-by-repository")


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def assert_minimal_change(old: str, new: str, inserted_keys: set[str]) -> None:
    """Every line is kept, except value replacements on the same line and new `key: value` lines. (Lines are
    aligned in one pass, not by difflib: in files of repeated documents a general diff may pair a line
    with the wrong one of its twins.)"""
    if not old.endswith("\n"):  # an insertion after a last line without newline ends that line
        nl = "\r\n" if "\r\n" in old else "\n"
        old, new = old + nl, new + nl
    a, b = _lines(old), _lines(new)

    def inserted(line: str) -> bool:
        return line.strip().split(":", 1)[0] in inserted_keys

    def replaces(x: str, y: str) -> bool:
        prefix = x.split(":", 1)[0] if ": " in x else x[: len(x) - len(x.lstrip(" -"))]
        return y.startswith(prefix) and x.endswith("\r\n") == y.endswith("\r\n")

    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i, j = i + 1, j + 1
        elif inserted(b[j]) and j + 1 < len(b) and b[j + 1] == a[i]:
            j += 1
        elif replaces(a[i], b[j]):
            i, j = i + 1, j + 1
        elif inserted(b[j]):
            j += 1
        else:
            raise AssertionError(f"line {i + 1} {a[i]!r} became {b[j]!r}")
    assert i == len(a), f"lines removed: {a[i:]}"
    for line in b[j:]:
        assert inserted(line), f"unexpected inserted line {line!r}"


@pytest.mark.parametrize("tree", ["corpus", "fixtures"])
def test_fix_changes_only_what_it_must(tree, in_tmp):
    source = CORPUS if tree == "corpus" else FIXTURES
    work = in_tmp / tree
    shutil.copytree(source, work, ignore=shutil.ignore_patterns("*.fixed.yaml"))
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
        assert path.suffix in (".yaml", ".yml")
        assert new.startswith(b"\xef\xbb\xbf") == old.startswith(b"\xef\xbb\xbf")
        assert new.endswith(b"\n") == old.endswith(b"\n")
        assert_minimal_change(old.decode("utf-8-sig"), new.decode("utf-8-sig"),
                              {"harnessImageConnectorRef", "providerType", "executeOnDelegate"})
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

"""The real public Harness files in ../shared/corpus, and the project's own fixtures, end to end."""

from __future__ import annotations

import difflib
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
    """Every line is kept, except value replacements on the same line and new `key: value` lines."""
    if not old.endswith("\n"):  # an insertion after a last line without newline ends that line
        nl = "\r\n" if "\r\n" in old else "\n"
        old, new = old + nl, new + nl
    ops = difflib.SequenceMatcher(a=_lines(old), b=_lines(new), autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        assert tag != "delete", f"lines removed: {_lines(old)[i1:i2]}"
        if tag == "insert":
            for line in _lines(new)[j1:j2]:
                key = line.strip().split(":", 1)[0]
                assert key in inserted_keys, f"unexpected inserted line {line!r}"
            continue
        # replace: one changed line for one, the same up to the key (indentation, key, opening quote)
        olds, news = _lines(old)[i1:i2], _lines(new)[j1:j2]
        if len(news) == len(olds) + 1 and news[-1].strip().split(":", 1)[0] in inserted_keys:
            news = news[:-1]  # an insertion next to a replaced line
        assert len(olds) == len(news), f"{olds} -> {news}"
        for a, b in zip(olds, news):
            prefix = a.split(":", 1)[0] if ": " in a else a[: len(a) - len(a.lstrip(" -"))]
            assert b.startswith(prefix), f"{a!r} -> {b!r}"
            assert a.endswith("\r\n") == b.endswith("\r\n")


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

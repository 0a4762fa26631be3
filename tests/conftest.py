"""Shared test helpers: run the real CLI in-process (click's runner) or as a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipelint.app.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = ROOT / "tests" / "corpus"  # real public files, with their sources and licenses (SOURCES.tsv)
SCHEMAS = ROOT / "tests" / "schemas"


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


def pipelint(*args: str, input: bytes | str | None = None, env: dict | None = None) -> Run:
    """Run `pipelint ARGS` in-process, in the current directory."""
    runner = CliRunner()
    result = runner.invoke(main, list(args), input=input, env=env, catch_exceptions=False)
    return Run(result.exit_code, result.stdout, result.stderr)


def pipelint_process(*args: str, cwd=None, input: bytes | None = None, env=None) -> subprocess.CompletedProcess:
    """Run pipelint as users do: a separate process (`python -m pipelint`)."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "pipelint", *args], cwd=cwd, input=input,
                          capture_output=True, env=full_env, timeout=120)


def copy_case(case: Path, dest: Path, with_fixed: bool = False) -> Path:
    """Copy a fixture case (file or folder) byte for byte, leaving out the expected `.fixed.yaml` files."""
    target = dest / case.name
    if case.is_dir():
        ignore = None if with_fixed else shutil.ignore_patterns("*.fixed.yaml")
        shutil.copytree(case, target, ignore=ignore)
    else:
        shutil.copyfile(case, target)
    return target


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """git with a test identity and `main` as the default branch, whatever the machine's configuration."""
    gitconfig = tmp_path / "gitconfig"
    gitconfig.write_text("[user]\n\tname = Test\n\temail = test@example.com\n[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(gitconfig))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return dict(os.environ)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def assert_minimal_change(old: str, new: str, inserted_keys: set[str]) -> None:
    """Every line is kept, except value replacements on the same line, renamed keys and new `key: value` lines. (Lines are
    aligned in one pass, not by difflib: in files of repeated documents a general diff may pair a line
    with the wrong one of its twins.)"""
    if not old.endswith("\n"):  # an insertion after a last line without newline ends that line
        nl = "\r\n" if "\r\n" in old else "\n"
        old, new = old + nl, new + nl
    a, b = _lines(old), _lines(new)

    def inserted(line: str, after: str = "") -> bool:
        if not line.strip():  # a blank line before an inserted HCL attribute (its own alignment group)
            return bool(after) and inserted(after)
        return line.strip().split(":", 1)[0].split(" = ", 1)[0] in inserted_keys

    def replaces(x: str, y: str) -> bool:
        prefix = x.split(":", 1)[0] if ": " in x else x[: len(x) - len(x.lstrip(" -"))]
        return y.startswith(prefix) and x.endswith("\r\n") == y.endswith("\r\n") and bool(y.strip())

    def renames(x: str, y: str) -> bool:  # a misspelt key renamed (YML006), its value as it was
        if ":" not in x or ":" not in y:
            return False
        (kx, vx), (ky, vy) = x.split(":", 1), y.split(":", 1)
        return vx == vy and kx.strip() != ky.strip() and len(kx) - len(kx.lstrip()) == len(ky) - len(ky.lstrip())

    i = j = 0
    while i < len(a) and j < len(b):
        if a[i] == b[j]:
            i, j = i + 1, j + 1
        elif inserted(b[j], b[j + 1] if j + 1 < len(b) else "") and j + 1 < len(b) and b[j + 1] == a[i]:
            j += 1
        elif replaces(a[i], b[j]) or renames(a[i], b[j]):
            i, j = i + 1, j + 1
        elif inserted(b[j], b[j + 1] if j + 1 < len(b) else ""):
            j += 1
        else:
            raise AssertionError(f"line {i + 1} {a[i]!r} became {b[j]!r}")
    assert i == len(a), f"lines removed: {a[i:]}"
    for line in b[j:]:
        assert inserted(line), f"unexpected inserted line {line!r}"

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

from pipelint.cli import main

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
CORPUS = (ROOT.parent / "shared" / "corpus").resolve()


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
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path

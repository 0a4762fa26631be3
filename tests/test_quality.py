"""The project's own code is linted (ruff) and type-checked (mypy), with the configuration in pyproject.toml.

mypy reads `pipelint` the way it is installed (`lint/` is `pipelint`, `rules/` is `pipelint.rules`), so the test
builds that package as a tree of symbolic links and checks it there.
"""
from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    if shutil.which(name) is None and subprocess.run([sys.executable, "-m", name, "--version"],
                                                     capture_output=True).returncode != 0:
        pytest.fail(f"{name} is not installed: pip install '.[test]'")
    return [sys.executable, "-m", name]


def test_ruff_is_clean():
    out = subprocess.run([*_tool("ruff"), "check", "--no-cache", "lint", "rules", "tests", "bench", "scripts", "docs"],
                         cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def _package_tree(tmp: pathlib.Path) -> pathlib.Path:
    pkg = tmp / "pipelint"
    pkg.mkdir()
    for entry in (ROOT / "lint").iterdir():
        if entry.name != "__pycache__":
            (pkg / entry.name).symlink_to(entry)
    (pkg / "rules").symlink_to(ROOT / "rules")
    return tmp


@pytest.mark.slow  # 5 s
def test_mypy_is_clean(tmp_path):
    tree = _package_tree(tmp_path)
    out = subprocess.run([*_tool("mypy"), "--config-file", str(ROOT / "pyproject.toml"), "--no-incremental",
                          "--cache-dir", str(tmp_path / ".mypy_cache"), "-p", "pipelint"],
                         cwd=tree, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr

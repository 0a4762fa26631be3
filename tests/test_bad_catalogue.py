"""The bad-input catalogue (fixtures/bad/expected.toml): each case's exact output and exit status, and all
of them together in one run that must finish, in bounded time, and still check the good file."""

from __future__ import annotations

import os
import shutil
import time
import tomllib

import pytest
from conftest import FIXTURES, pipelint

BAD = FIXTURES / "bad"
CASES = tomllib.loads((BAD / "expected.toml").read_text())
GOOD = (BAD / "good.yaml").read_text()
CONNECTOR = (FIXTURES / "REG001" / "bad_connector.yaml").read_text()


def _setup(kind: str, root, monkeypatch):
    (root / "good.yaml").write_text(GOOD)
    if kind == "big":
        (root / ".harness").mkdir()
        step = "              - step: {type: Run, identifier: s%d, spec: {image: golang:1.22}}\n"
        head = ("pipeline:\n  name: big\n  identifier: big\n  stages:\n    - stage:\n        identifier: b\n"
                "        type: CI\n        spec:\n          execution:\n            steps:\n")
        with open(root / ".harness" / "big.yaml", "w") as fh:
            fh.write(head)
            for i in range(605_000):
                fh.write(step % i)
            fh.write("              - step: {type: Run, identifier: last, spec: {image: alpine}}\n")
        assert os.path.getsize(root / ".harness" / "big.yaml") > 50_000_000
    elif kind == "vanish":
        (root / "gone.yaml").write_text(GOOD)
        from pipelint.engine.core import Engine

        real = Engine.discover

        def discover_then_delete(self, paths):
            listed = real(self, paths)
            if (root / "gone.yaml").exists():
                os.remove(root / "gone.yaml")  # between listing and reading
            return listed

        monkeypatch.setattr(Engine, "discover", discover_then_delete)
    elif kind == "symlink_loop":
        os.symlink("loop.yaml", root / "loop.yaml")
    elif kind == "directory":
        (root / "dir.yaml").mkdir()
        (root / "dir.yaml" / "inner.yaml").write_text(GOOD)
        os.remove(root / "good.yaml")
    elif kind == "fifo":
        os.mkfifo(root / "fifo.yaml")
    elif kind == "read_only":
        (root / "connector.yaml").write_text(CONNECTOR)
        (root / "connector.yaml").chmod(0o444)
        os.remove(root / "good.yaml")
    else:  # pragma: no cover
        raise AssertionError(kind)


@pytest.mark.parametrize("name", list(CASES))
def test_catalogue(name, in_tmp, monkeypatch):
    case = CASES[name]
    if "setup" in case:
        _setup(case["setup"], in_tmp, monkeypatch)
    else:
        shutil.copytree(BAD / ".harness", in_tmp / ".harness")
    before = {p: p.read_bytes() for p in in_tmp.rglob("*") if p.is_file() and not p.is_symlink()}
    start = time.monotonic()
    result = pipelint(case.get("command", "check"), case["file"], "--isolated",
                      *(["--no-cache"] if case.get("command", "check") == "check" else []))
    assert time.monotonic() - start < 60
    assert result.stdout == case["stdout"].lstrip("\n")
    assert result.stderr == case.get("stderr", "")
    assert result.exit_code == case["exit"]
    assert not (in_tmp / "pwned.txt").exists()
    kept = {p: data for p, data in before.items() if p.exists()}  # the vanishing file is gone by design
    assert {p: p.read_bytes() for p in kept} == kept  # nothing lost, nothing half-written


def test_all_bad_files_in_one_run(in_tmp):
    shutil.copytree(BAD, in_tmp / "bad")
    os.mkfifo(in_tmp / "bad" / "fifo.yaml")
    os.symlink("loop.yaml", in_tmp / "bad" / "loop.yaml")
    (in_tmp / "bad" / "dir.yaml").mkdir()
    start = time.monotonic()
    result = pipelint("check", "bad", "--isolated", "--no-cache")
    assert time.monotonic() - start < 60
    assert result.exit_code == 2
    assert 'bad/good.yaml:11:64: error IMG001 image "alpine"' in result.stdout
    assert sorted(line.split(": ", 1)[0] for line in result.stdout.splitlines() if " YML0" in line or " IMG0" in line) == [
        "bad/.harness/binary.yaml:3:1", "bad/.harness/deep_nesting.yaml:2:1007",
        "bad/.harness/duplicate_keys.yaml:4:3", "bad/.harness/not_utf8.yaml:2:12", "bad/.harness/tabs.yaml:2:1",
        "bad/.harness/utf16_bom.yaml:1:1", "bad/good.yaml:11:64"]
    assert result.stderr == ("pipelint: error: bad/fifo.yaml: not a regular file\n"
                             "pipelint: error: bad/loop.yaml: Too many levels of symbolic links\n")

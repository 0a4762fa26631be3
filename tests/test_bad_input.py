"""Bad input gets a one-line message naming the file (and position), the run goes on, never a traceback."""

from __future__ import annotations

import os
import time

import pytest
from conftest import pipelint, pipelint_process

GOOD = b"pipeline:\n  name: p\n  identifier: p\n  stages: []\n"


@pytest.mark.parametrize("name,content,expected", [
    (".harness/binary.yaml", b"pipeline:\n  name: \x00\x01\x02\n", ".harness/binary.yaml:2:9: error YML001 binary file (NUL byte)"),
    (".harness/latin1.yaml", b"pipeline:\n  name: caf\xe9\n", ".harness/latin1.yaml:2:12: error YML001 not UTF-8: invalid byte 0xe9"),
    (".harness/utf16.yaml", "pipeline:\n  name: p\n".encode("utf-16"),
     ".harness/utf16.yaml:1:1: error YML001 file is UTF-16 (byte order mark); pipelint reads UTF-8 only"),
    (".harness/tabs.yaml", b"pipeline:\n\tname: p\n",
     ".harness/tabs.yaml:2:1: error YML001 invalid YAML: a tab character where YAML allows only spaces (indentation must use spaces)"),
    ("p.yaml", b"pipeline:\n  name: [unclosed\n",
     "p.yaml:3:1: error YML001 invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence)"),
])
def test_unparsable_harness_files(name, content, expected, in_tmp):
    path = in_tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    (in_tmp / "good.yaml").write_bytes(GOOD)
    result = pipelint("check", ".", "--isolated")
    assert result.stdout.splitlines()[0] == expected
    assert result.exit_code == 1 and "Traceback" not in result.stdout + result.stderr


# never "All checks passed." when nothing Harness's was checked
NO_HARNESS = ("No Harness configuration in the {n} checked (no root key such as `pipeline:`, and not under a "
              ".harness/ folder).\n")


@pytest.mark.parametrize("content", [
    b"", b"# only a comment\n", b"\n\n", b"---\n...\n", b"\xef\xbb\xbf", b"key: [unclosed\n", b"\x00\x01binary",
])
def test_silent_on_empty_and_foreign_files(content, in_tmp):
    (in_tmp / "x.yaml").write_bytes(content)
    result = pipelint("check", "x.yaml", "--isolated")
    assert (result.exit_code, result.stdout, result.stderr) == (0, NO_HARNESS.format(n="1 file"), "")


def test_empty_harness_files_are_silent(in_tmp):
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "empty.yaml").write_bytes(b"")
    (in_tmp / ".harness" / "comments.yaml").write_bytes(b"# nothing yet\n")
    assert pipelint("check", ".", "--isolated").stdout == NO_HARNESS.format(n="2 files")


def test_python_tags_are_never_constructed(in_tmp):
    (in_tmp / "p.yaml").write_text(
        "pipeline:\n  name: !!python/object/apply:os.system ['touch pwned']\n  identifier: p\n"
        "  stages: !!python/object:builtins.dict {}\n"
    )
    result = pipelint("check", "p.yaml", "--isolated")
    assert result.exit_code == 0 and not (in_tmp / "pwned").exists()


def test_alias_bomb_is_bounded(in_tmp):
    lines = ["pipeline:", "  name: p", "  identifier: p", "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"  a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    lines.append("  stages:")
    lines.append("    - stage: &s {identifier: s, type: CI, spec: {execution: {steps: [{step: {type: Run, identifier: r, spec: {image: alpine}}}]}}}")
    lines += ["    - stage: *s"] * 1000
    (in_tmp / "p.yaml").write_text("\n".join(lines) + "\n")
    start = time.monotonic()
    result = pipelint("check", "p.yaml", "--isolated")
    assert time.monotonic() - start < 20  # 10**12 nodes if expanded: this only finishes if it is not
    assert result.stdout.count("IMG001") == 1  # the aliased stage is one node, reported once


def test_deep_nesting(in_tmp):
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "deep.yaml").write_text("pipeline:\n  x: " + "[" * 10000 + "]" * 10000 + "\n")
    result = pipelint("check", ".", "--isolated")
    assert result.stdout.startswith(".harness/deep.yaml:2:")
    assert "YML001 invalid YAML: exceeded maximum nesting depth" in result.stdout


def _nested_step_groups(levels: int) -> str:
    lines = ["pipeline:", "  identifier: p", "  stages:", "    - stage:", "        identifier: s", "        type: CI",
             "        spec:", "          execution:", "            steps:"]
    indent = 14
    for i in range(levels):
        lines += [" " * indent + "- stepGroup:", " " * (indent + 4) + f"identifier: g{i}", " " * (indent + 4) + "steps:"]
        indent += 6
    return "\n".join(lines + [" " * indent + "- step: {identifier: x, type: Run, spec: {image: alpine}}", ""])


def test_nesting_limit(in_tmp):
    """Step groups nested 325 deep (~990 levels) are checked; 340 deep (over 1,000 levels) are refused."""
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "ok.yaml").write_text(_nested_step_groups(325))
    (in_tmp / ".harness" / "deep.yaml").write_text(_nested_step_groups(340))
    result = pipelint("check", ".", "--isolated", "--no-cache")
    lines = result.stdout.splitlines()
    assert lines[0].startswith(".harness/deep.yaml:") and "YML001 invalid YAML: exceeded maximum nesting depth" in lines[0]
    assert lines[1].startswith(".harness/ok.yaml:985:2014: error IMG001")


def test_own_depth_check_where_libyaml_counts_none(in_tmp, monkeypatch):
    """libyaml before 0.2.6 (PyYAML 6.0.3's wheels) composes any depth: pipelint then measures it itself,
    without recursion. Exercised here under a lower limit than the parser's, so it is the one that fires."""
    from pipelint.yamldoc import document

    monkeypatch.setattr(document, "_DEPTH_CHECKED_BY_PARSER", False)
    monkeypatch.setattr(document, "MAX_DEPTH", 500)
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "ok.yaml").write_text(_nested_step_groups(160))
    (in_tmp / ".harness" / "deep.yaml").write_text(_nested_step_groups(170))
    result = pipelint("check", ".", "--isolated", "--no-cache")
    lines = result.stdout.splitlines()
    assert [lines[0], lines[1][:len(".harness/ok.yaml:490:1024: error IMG001")]] == [
        ".harness/deep.yaml:502:1001: error YML001 invalid YAML: exceeded maximum nesting depth (500 levels)",  # group 165
        ".harness/ok.yaml:490:1024: error IMG001",
    ]


def test_several_megabytes(in_tmp):
    step = ("              - step:\n                  type: Run\n                  identifier: s{i}\n"
            "                  spec:\n                    image: golang:1.{i}\n                    command: go test\n")
    head = "pipeline:\n  name: big\n  identifier: big\n  stages:\n    - stage:\n        identifier: b\n" \
           "        type: CI\n        spec:\n          execution:\n            steps:\n"
    text = head + "".join(step.format(i=i) for i in range(40000))
    (in_tmp / "big.yaml").write_text(text + "              - step: {type: Run, identifier: last, spec: {image: alpine}}\n")
    assert len(text) > 5_000_000
    result = pipelint("check", "big.yaml", "--isolated")
    assert result.stdout.startswith("big.yaml:240011:")


def test_unreadable_paths_are_reported_and_the_run_goes_on(in_tmp):
    (in_tmp / "dir.yaml").mkdir()
    (in_tmp / "good.yaml").write_bytes(b"pipeline:\n  name: p\n  identifier: p\n  stages:\n"
                                       b"    - stage: {identifier: s, type: CI, spec: {execution: {steps: "
                                       b"[{step: {type: Run, identifier: r, spec: {image: alpine}}}]}}}\n")
    os.mkfifo(in_tmp / "fifo.yaml")
    os.symlink("missing-target.yaml", in_tmp / "dangling.yaml")
    os.symlink("loop.yaml", in_tmp / "loop.yaml")
    proc = pipelint_process("check", ".", "--isolated", cwd=in_tmp, env={"NO_COLOR": "1"})
    assert proc.returncode == 2
    assert proc.stderr.decode().splitlines() == [
        "pipelint: error: dangling.yaml: no such file",
        "pipelint: error: fifo.yaml: not a regular file",
        "pipelint: error: loop.yaml: Too many levels of symbolic links",
    ]
    assert proc.stdout.decode().startswith("good.yaml:5:")
    named = pipelint_process("check", "dir.yaml", "--isolated", cwd=in_tmp)
    assert named.returncode == 0  # a directory named x.yaml is walked, like any directory


def _explode():
    raise TypeError("this object cannot be rebuilt")


class _Unreadable:
    """Pickles, but cannot be unpickled (as a report holding an exception whose arguments pickling drops)."""

    def __reduce__(self):
        return _explode, ()


class _Unpicklable:
    def __reduce__(self):
        raise TypeError("this object cannot be pickled")


@pytest.mark.parametrize("holder", [_Unreadable, _Unpicklable])
def test_a_report_that_cannot_leave_its_worker_is_that_file_s_internal_error(holder, in_tmp, monkeypatch):
    """A worker's report the parent cannot read used to kill the pool's result thread, and the run waited forever
    (found when a report held a document.ParseError). Now: one internal-error line for that file, exit 2, every
    other file checked."""
    import signal

    from pipelint.engine import unit

    real = unit.UnitChecker.check_file

    def check_file(self, src, *args, **kwargs):
        report = real(self, src, *args, **kwargs)
        if src.path.endswith("p07.yaml"):
            report.trial = holder()
        return report

    monkeypatch.setattr(unit.UnitChecker, "check_file", check_file)
    (in_tmp / ".harness").mkdir()
    for i in range(80):
        (in_tmp / ".harness" / f"p{i:02}.yaml").write_bytes(
            b"pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
            b"        spec:\n          execution:\n            steps:\n              - step:\n                  type: Run\n"
            b"                  identifier: r\n                  spec:\n                    image: alpine\n")

    def hung(*_):
        raise AssertionError("the run hung")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(120)
    try:
        result = pipelint("check", ".", "--isolated", "--no-cache", "--jobs", "2", "--format", "json")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "pipelint: internal error in the worker's report on .harness/p07.yaml: TypeError: this object cannot be")
    paths = {f["path"] for f in result.json()["findings"]}
    assert len(paths) == 79 and ".harness/p07.yaml" not in paths


def _pipelines(root, count: int) -> None:
    (root / ".harness").mkdir()
    for i in range(count):
        (root / ".harness" / f"p{i:02}.yaml").write_bytes(
            b"pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
            b"        spec:\n          execution:\n            steps:\n              - step:\n                  type: Run\n"
            b"                  identifier: r\n                  spec:\n                    image: alpine\n")


@pytest.mark.parametrize("how", ["exit", "SIGKILL", "SIGSEGV"])
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_worker_that_dies_loses_only_the_file_it_died_on(how, command, in_tmp, monkeypatch):
    """A worker that ends in a file (a crash in C, the OOM killer, a bug) used to leave the run waiting forever on
    multiprocessing.Pool. Its chunk is tried again a file at a time: only that file is not checked (one internal
    error line, exit 2); every other file is."""
    import signal

    from pipelint.engine import unit

    real = unit.UnitChecker.check_file

    def check_file(self, src, *args, **kwargs):
        if src.path.endswith("p07.yaml") and os.getpid() != parent:
            if how == "exit":
                os._exit(3)
            import faulthandler

            faulthandler.disable()  # pytest enables it, and forked workers inherit it: no trace on the test log
            os.kill(os.getpid(), getattr(signal, how))
        return real(self, src, *args, **kwargs)

    parent = os.getpid()
    monkeypatch.setattr(unit.UnitChecker, "check_file", check_file)
    monkeypatch.setattr(os, "cpu_count", lambda: 2)  # fix works in a pool of as many workers as cores
    _pipelines(in_tmp, 80)
    result = pipelint(command, ".", "--isolated", "--format", "json",
                      *(("--no-cache", "--jobs", "2") if command == "check" else ()))
    assert result.exit_code == 2
    code = {"exit": "exit code 3", "SIGKILL": "signal 9", "SIGSEGV": "signal 11"}[how]
    assert result.stderr == (f"pipelint: internal error: .harness/p07.yaml: not checked: the worker checking it ended "
                             f"({code}); please report it\n")
    paths = {f["path"] for f in result.json()["findings"]}
    assert len(paths) == 79 and ".harness/p07.yaml" not in paths


def test_workers_that_keep_dying_end_the_run(in_tmp, monkeypatch):
    """Workers that end on every file: a bounded number is started again, then every file left is reported as
    not checked, and the run ends."""
    from pipelint.engine import unit

    parent = os.getpid()
    real = unit.UnitChecker.check_file
    monkeypatch.setattr(unit.UnitChecker, "check_file", lambda self, src, *a, **k:
                        os._exit(3) if os.getpid() != parent else real(self, src, *a, **k))
    _pipelines(in_tmp, 80)
    result = pipelint("check", ".", "--isolated", "--no-cache", "--jobs", "2", "--format", "json")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 80 and all("not checked" in line for line in lines)
    assert result.json()["findings"] == []

"""Nothing lost under failure: `fix` interrupted at random points (SIGINT, SIGTERM, SIGKILL) leaves every
file either fully old or fully new; after a clean interrupt (SIGINT, SIGTERM) no temporary file is left."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time

import pytest
from conftest import FIXTURES
from interrupting import TRACER, lines_of

pytestmark = pytest.mark.slow

OLD = (FIXTURES / "REG001" / "bad_images.yaml").read_bytes()
NEW = (FIXTURES / "REG001" / "bad_images.fixed.yaml").read_bytes()
FILES = 150


def _tree(root):
    for i in range(FILES):
        (root / f"p{i:03}.yaml").write_bytes(OLD)


# A process a shell started in the background (`pytest &`, some CI runners) inherits ^C ignored, and pipelint,
# like any program, keeps it so: the processes under test get ^C as a terminal gives it.
_AS_IN_A_TERMINAL = "import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
_PIPELINT = [sys.executable, "-c", _AS_IN_A_TERMINAL + "import runpy\nrunpy.run_module('pipelint', run_name='__main__')\n"]


def _start(root):
    return subprocess.Popen([*_PIPELINT, "fix", ".", "--isolated"], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def full_run_seconds(tmp_path_factory):
    root = tmp_path_factory.mktemp("timing")
    _tree(root)
    start = time.monotonic()
    proc = _start(root)
    proc.wait(timeout=120)
    assert all((root / f"p{i:03}.yaml").read_bytes() == NEW for i in range(FILES))
    return time.monotonic() - start


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=lambda s: s.name)
def test_interrupted_fix_leaves_whole_files(sig, tmp_path, full_run_seconds):
    rng = random.Random(f"pipelint-{sig.name}")  # deterministic points in time
    outcomes = set()
    span = full_run_seconds  # how long a run takes: on a shared machine it varies from run to run
    for run in range(12):
        root = tmp_path / f"run{run}"
        root.mkdir()
        _tree(root)
        proc = _start(root)
        # the writes happen in the last part of a run: aim the signals there, and anywhere
        time.sleep(rng.uniform(0.3, 1.0) * span)
        if proc.poll() is not None:
            span *= 0.7  # ended before its signal: aim earlier
        proc.send_signal(sig)
        proc.wait(timeout=60)
        contents = [(root / f"p{i:03}.yaml").read_bytes() for i in range(FILES)]
        assert all(c in (OLD, NEW) for c in contents), "a file is neither old nor new"
        leftovers = [p.name for p in root.iterdir() if p.name.endswith(".pipelint-tmp")]
        if sig != signal.SIGKILL:
            assert leftovers == [], f"temporary files left after {sig.name}: {leftovers}"
            # handled (130, 143), or -- when the signal came before pipelint's handlers -- Python's own
            # death by that signal; never a traceback
            assert proc.returncode in (0, 128 + sig, -sig), proc.returncode
            assert b"Traceback" not in proc.stderr.read()
        outcome = (sum(c == NEW for c in contents) > 0, sum(c == OLD for c in contents) > 0)
        if outcome == (False, True):
            span *= 1.3  # nothing written yet: aim later
        outcomes.add(outcome)
    # the signals landed before, during and after the writes at least once between them
    assert len(outcomes) >= 2, outcomes


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_signal_while_the_interpreter_shuts_down(sig, command, tmp_path):
    """A ^C that lands after pipelint's work, while Python shuts down (seen in CI), ends the process by the
    signal, without a traceback. Sent here from an atexit callback, so it lands there every time."""
    (tmp_path / "p.yaml").write_bytes(OLD)
    code = ("import atexit, os, sys\n"
            f"atexit.register(lambda: os.kill(os.getpid(), {int(sig)}))\n"
            f"sys.argv = ['pipelint', '{command}', 'p.yaml', '--isolated']\n"
            "from pipelint.app.entry import run\nrun()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == -sig
    assert proc.stderr == b""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_inside_a_del_still_ends_the_run(sig, tmp_path):
    """A signal whose handler runs inside a __del__ (or a weakref callback): Python only prints its exception there
    and goes on, and a fix after SIGTERM went on to write every file and exit 0 (seen under load, in a pipe's
    __del__). Here the signal is sent from a __del__ at the start of the run; the run ends by it, writes nothing
    and prints one line, no traceback."""
    (tmp_path / "p.yaml").write_bytes(OLD)
    code = (_AS_IN_A_TERMINAL + "import os, sys\n"
            "from pipelint.app import console\n"
            "class Bomb:\n"
            "    def __del__(self):\n"
            f"        os.kill(os.getpid(), {int(sig)})\n"
            "        for _ in range(1000):  # its handler runs here, in __del__\n"
            "            pass\n"
            "real = console.fix\n"
            "def fix(**kwargs):\n"
            "    Bomb()\n"
            "    return real(**kwargs)\n"
            "console.fix = fix\n"
            "sys.argv = ['pipelint', 'fix', 'p.yaml', '--isolated']\n"
            "from pipelint.app.entry import run\nrun()\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, timeout=60)
    assert proc.returncode == 128 + sig, proc.stderr
    assert (tmp_path / "p.yaml").read_bytes() == OLD
    assert b"Traceback" not in proc.stderr and b"Exception ignored" not in proc.stderr, proc.stderr


# Where the test raises ^C: the entry point's code below `run` (whose own first line and `except` are where
# Python itself takes over, as during its start-up), the fix command's, and the pool's in the run (not the
# workers', which ignore ^C)
_TARGETS = ("entry._main, entry._give_back, entry._run, entry._unraisable, entry._again, "
            "run._Workers.run, run._Workers._lost, run._Workers._start")
_COMMAND = "fixer.fix, console.fix"  # the same for either signal (an exception that goes up): ^C only
_INTERRUPT_AT_LINE = _AS_IN_A_TERMINAL + TRACER + """
from pipelint.app import console, entry
from pipelint.commands import fixer
from pipelint.engine import run

where, line, sig = sys.argv[1], int(sys.argv[2]), getattr(signal, sys.argv[3])
handler, raised = {signal.SIGINT: (signal.default_int_handler, KeyboardInterrupt),
                   signal.SIGTERM: (entry._terminated, lambda: entry._Terminated(143))}[sig]
interrupt_at([@TARGETS@] + ([@COMMAND@] if sig == signal.SIGINT else []), where, line, sig, handler, raised)
sys.argv = ["pipelint", "fix", ".", "--isolated"]
entry.run()
""".replace("@TARGETS@", _TARGETS).replace("@COMMAND@", _COMMAND)


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="fix works in a pool only on two cores or more")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_an_interrupt_on_any_line_of_the_pool_or_the_entry_point_ends_the_run(sig, tmp_path):
    """^C (and SIGTERM) at each line of the pool's code in the run (pipelint's own: handing out chunks, reading
    results, a worker's death, ending) and of the entry point (for ^C, of the fix command's too), one line per
    run of `fix` over 80 files: the run ends at once with 130 (or as it would have, when the line comes after
    the last chance to stop), no worker outlives it (its pipes reach their end), every file is whole, no
    traceback. Where a real ^C would raise: not while the signal is held back, nor after the entry point has
    given it back to the system."""
    from concurrent.futures import ThreadPoolExecutor

    from pipelint.app import console, entry
    from pipelint.commands import fixer
    from pipelint.engine import run as runmod

    targets = _TARGETS + (", " + _COMMAND if sig == signal.SIGINT else "")
    lines = lines_of(eval(f"[{targets}]", {"entry": entry, "run": runmod, "fixer": fixer, "console": console}))

    def one(n: int):
        where, line = lines[n]
        root = tmp_path / str(n)
        root.mkdir()
        for i in range(80):
            (root / f"p{i:02}.yaml").write_bytes(OLD)
        try:
            proc = subprocess.run([sys.executable, "-c", _INTERRUPT_AT_LINE, where, str(line), sig.name], cwd=root,
                                  capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            return where, line, None, b"hung (or a worker outlived the run)", []
        return where, line, proc.returncode, proc.stderr, [p.read_bytes() for p in sorted(root.glob("p*.yaml"))]

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(one, range(len(lines))))
    fired = [line for _, line, _, err, _ in outcomes if err.startswith(b"fired")]
    assert len(fired) >= 30, outcomes  # the test reaches the lines it means to
    wrong = [(os.path.basename(where), line, code, err.decode(errors="replace")[-400:])
             for where, line, code, err, contents in outcomes
             if code != (128 + sig if err.startswith(b"fired") else 0) or b"Traceback" in err
             or b"Exception" in err or len(contents) != 80 or not all(c in (OLD, NEW) for c in contents)]
    assert not wrong, "\n".join(f"{where}:{line}: exit {code}: {err}" for where, line, code, err in wrong)


def test_a_worker_ends_with_its_run():
    """A pool worker busy on one long file when its run is killed outright (SIGKILL, the OOM killer) ends at once,
    not when the file is done: it would hold the run's output pipe open all that while (a CI step that does not
    end). Here the run is a process that forks a worker, which takes the pool's set-up and then sleeps as if on
    a long file, and the run ends at once."""
    code = ("import os, sys, time\n"
            "from pipelint.engine import run\n"
            "run._WORKER = (None, None, None, os.getpid())\n"
            "if os.fork() == 0:\n"
            "    run._worker_init()\n"
            "    time.sleep(60)\n"
            "    os._exit(0)\n"
            "os._exit(0)\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    done: list[bytes] = []
    reader = threading.Thread(target=lambda: done.append(proc.stdout.read()), daemon=True)
    reader.start()
    reader.join(timeout=20)  # EOF: every process holding the pipe has ended
    assert done, "the worker outlived its run"


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as fh:
            return [int(x) for x in fh.read().split()]
    except OSError:
        return []


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="fix works in a pool only on two cores or more")
@pytest.mark.parametrize("command", ["check", "fix"])
def test_a_killed_run_takes_its_workers_with_it(command, tmp_path):
    """SIGKILL of a run that works in a pool: its workers end too (they would otherwise wait on their task pipes
    forever, holding the run's output pipe open: a CI step that never finishes)."""
    big = b"---\n".join([OLD] * 40)  # a run of some seconds: it is killed while its workers work
    for i in range(FILES * 4):
        (tmp_path / f"p{i:03}.yaml").write_bytes(big)
    extra = ["--no-cache", "--jobs", "2"] if command == "check" else []  # fix: a pool of one per core
    proc = subprocess.Popen([sys.executable, "-m", "pipelint", command, ".", "--isolated", *extra], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not _children(proc.pid) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.3)
    workers = _children(proc.pid)
    assert workers and proc.poll() is None, "the run did not start a pool"
    proc.kill()
    proc.wait(timeout=10)
    done: list[bytes] = []
    reader = threading.Thread(target=lambda: done.append(proc.stdout.read()), daemon=True)
    reader.start()
    reader.join(timeout=20)
    for pid in workers:  # were it to fail, leave nothing behind
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    assert done, "a worker outlived the run and holds its output open"

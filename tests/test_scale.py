"""Large runs: the process pool gives the same answer as one process, the cache is invalidated by what
should invalidate it, and progress shows on a terminal only."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import pipelint, pipelint_process
from synthetic import generate


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    generate(str(root), 120, seed=7)
    return root


def _entries(root, kind="file"):
    """Cache entries: one per file checked ("file"), or one per whole run ("run")."""
    names = [p.name for p in (root / ".pipelint_cache").rglob("*")
             if p.is_file() and p.name not in (".gitignore", "stat-index")]
    return sorted(n for n in names if n.startswith("run-") == (kind == "run"))


def test_pool_equals_one_process(corpus):
    args = ["check", ".", "--isolated", "--no-cache", "--format", "json", "--extend-select", "IMG003"]
    serial = pipelint_process(*args, "--jobs", "1", cwd=corpus)
    pooled = pipelint_process(*args, "--jobs", "2", cwd=corpus)
    assert serial.returncode == pooled.returncode == 1
    assert json.loads(serial.stdout) == json.loads(pooled.stdout)
    assert len(json.loads(serial.stdout)["findings"]) > 500
    assert not (corpus / ".pipelint_cache").exists()


def test_cache_hits_and_invalidation(corpus, tmp_path, monkeypatch):
    import shutil

    work = tmp_path / "tree"
    shutil.copytree(corpus, work)
    monkeypatch.chdir(work)
    first = pipelint("check", ".", "--isolated", "--format", "json")
    entries = _entries(work)
    # files with connector documents are never cached (their text may hold credentials; they are small)
    connectors = sum(1 for p in work.rglob("*.yaml") if "connector:" in p.read_text())
    n = 120 - connectors
    assert 0 < connectors < 20
    assert len(entries) == n and (work / ".pipelint_cache" / ".gitignore").read_text().endswith("*\n")
    assert len(_entries(work, "run")) == 1
    again = pipelint("check", ".", "--isolated", "--format", "json")
    assert again.stdout == first.stdout and _entries(work) == entries  # all hits, nothing new
    assert len(_entries(work, "run")) == 1  # the whole run was known

    # a content change: one new entry, and the new finding
    target = next(work.rglob("p_2.yaml"))
    target.write_text(target.read_text() + "# edited\n")
    changed = pipelint("check", ".", "--isolated", "--format", "json")
    assert len(_entries(work)) == n + 1
    assert changed.stdout == first.stdout  # same findings: the edit was a comment

    target.write_text(target.read_text().replace("golang:1.22", "golang"))
    after = pipelint("check", ".", "--isolated", "--format", "json")
    assert len(_entries(work)) == n + 2 and after.stdout != first.stdout

    # a configuration change: every file is checked again under a new key
    pipelint("check", ".", "--isolated", "--format", "json", "--extend-select", "IMG003")
    assert len(_entries(work)) == n + 2 + n

    # another pipelint version: another folder
    import pipelint.engine.cache as cachelib

    monkeypatch.setattr(cachelib, "__version__", "99.0.0")
    pipelint("check", ".", "--isolated")
    assert len(list((work / ".pipelint_cache" / "99.0.0").rglob("*"))) > 120


def test_configuration_change_on_files_the_stat_index_trusts(corpus, tmp_path, monkeypatch):
    """Files unchanged for a while (here: modified an hour ago) are known by the stat index; a configuration
    change must still check them again. The index once held entry keys, which depend on the configuration:
    on a tree older than its racy window, `--extend-select` was answered from the old configuration."""
    import shutil
    import time

    work = tmp_path / "tree"
    shutil.copytree(corpus, work)
    an_hour_ago = time.time() - 3600
    for path in work.rglob("*.yaml"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    monkeypatch.chdir(work)
    args = ["check", ".", "--isolated", "--format", "json"]
    assert pipelint(*args).stdout == pipelint(*args, "--no-cache").stdout
    cached = pipelint(*args, "--extend-select", "IMG003")
    fresh = pipelint(*args, "--extend-select", "IMG003", "--no-cache")
    assert '"IMG003"' in fresh.stdout
    assert cached.stdout == fresh.stdout


def test_cache_follows_the_lockfile_for_img004(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    digest = "sha256:" + "1" * 64
    (tmp_path / "p.yaml").write_text("template:\n  name: t\n  identifier: t\n  versionLabel: v1\n  type: Step\n"
                                     f"  spec:\n    type: Run\n    spec:\n      image: alpine:3.20@{digest}\n")
    lock = {"version": 1, "images": {"docker.io/library/alpine:3.20": {"digest": digest, "resolved_at": "x"}}}
    (tmp_path / "pipelint.lock").write_text(json.dumps(lock))
    assert pipelint("check", ".", "--isolated", "--select", "IMG004").exit_code == 0
    lock["images"]["docker.io/library/alpine:3.20"]["digest"] = "sha256:" + "2" * 64
    (tmp_path / "pipelint.lock").write_text(json.dumps(lock))
    assert pipelint("check", ".", "--isolated", "--select", "IMG004").exit_code == 1


def test_progress_only_on_a_terminal(corpus):
    from test_cli import _on_a_terminal

    env = dict(os.environ, PIPELINT_PROGRESS_DELAY="0")
    env.pop("NO_COLOR", None)
    shown = _on_a_terminal(["check", str(corpus), "--isolated", "--no-cache", "--jobs", "1"], env)
    assert "] 120/120 files, " in shown and "problems so far" in shown
    as_json = _on_a_terminal(["check", str(corpus), "--isolated", "--no-cache", "--format", "json"], env)
    assert "files, " not in as_json
    piped = pipelint_process("check", ".", "--isolated", "--no-cache", cwd=corpus, env={"PIPELINT_PROGRESS_DELAY": "0"})
    assert b"so far" not in piped.stdout + piped.stderr


def test_a_same_size_edit_with_the_old_mtime_is_seen(tmp_path, monkeypatch):
    """The stat index trusts (size, mtime, ctime, inode); ctime cannot be set back, so an edit is seen."""
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "p.yaml"
    path.write_text("template:\n  name: t\n  identifier: t\n  versionLabel: v1\n  type: Step\n"
                    "  spec:\n    type: Run\n    spec:\n      image: alpine:3.20\n")
    old = os.stat(path)
    os.utime(path, ns=(old.st_atime_ns, old.st_mtime_ns - 10_000_000_000))  # long ago: trusted by the index
    args = ("check", ".", "--isolated", "--format", "json", "--no-cache")  # [:-1]: with the cache
    assert pipelint(*args[:-1]).json()["findings"] == []
    assert pipelint(*args[:-1]).json()["findings"] == []  # from the cache
    before = os.stat(path)
    path.write_text(path.read_text().replace("alpine:3.20", "alpine     "))  # same size, now untagged
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size and os.stat(path).st_mtime_ns == before.st_mtime_ns
    assert [f["code"] for f in pipelint(*args[:-1]).json()["findings"]] == ["IMG001"]


def test_whole_run_cache_follows_per_file_ignores(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p.yaml").write_text("template:\n  name: t\n  identifier: t\n  versionLabel: v1\n  type: Step\n"
                                     "  spec:\n    type: Run\n    spec:\n      image: alpine\n")
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "q.yaml").write_text((tmp_path / "p.yaml").read_text())
    assert pipelint("check", ".").exit_code == 1
    assert pipelint("check", ".").exit_code == 1  # answered whole from the cache
    (tmp_path / ".pipelint.toml").write_text('per-file-ignores = { "*.yaml" = ["IMG001"] }\n')
    result = pipelint("check", ".")
    assert (result.exit_code, result.stdout) == (0, "All checks passed.\n")


def test_interrupting_a_pooled_check_is_quiet(corpus):
    import signal
    import subprocess
    import time

    proc = subprocess.Popen([sys.executable, "-m", "pipelint", "check", ".", "--isolated", "--no-cache", "--jobs", "2"],
                            cwd=corpus, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(0.4)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err
    assert proc.returncode in (0, 1, 130, -signal.SIGINT)  # it may have finished first on a fast machine


@pytest.mark.slow
def test_a_pooled_check_always_ends(corpus):
    """The pool used to end with terminate(): a worker waiting on the task lock under the inherited SIGTERM
    handler never died, and about one run in ten hung in join (bench/bench.py found it). Twenty runs must end."""
    import subprocess

    for _ in range(20):
        try:
            proc = subprocess.run([sys.executable, "-m", "pipelint", "check", ".", "--isolated", "--no-cache",
                                   "--jobs", "2", "--exit-zero", "--format", "json"],
                                  cwd=corpus, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("a pooled check hung")
        assert proc.returncode == 0, proc.stderr

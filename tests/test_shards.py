"""Org-wide runs over CI runners (issue 18): all_repos_fix --shard K/N and --summary with real all-repos over
file:// origins, and `pipelint report --merge` of the shards' summaries."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import pipelint
from test_all_repos import BROKEN_CONNECTOR, CLEAN_PIPELINE, _git, _origin

pytest.importorskip("all_repos", reason="pip install all-repos (the test extra has it)")

REPOS = {
    "team-a/needs-fix": {".harness/connectors/harnessImage.yaml": BROKEN_CONNECTOR},
    "team-a/clean": {".harness/pipeline.yaml": CLEAN_PIPELINE},
    "team-b/no-harness": {"k8s/pod.yaml": "apiVersion: v1\nkind: Pod\n"},
    "team-b/untagged": {".harness/p.yaml": CLEAN_PIPELINE.replace("stages: []", "stages:\n" + "".join(
        f"    - stage:\n        identifier: s{i}\n        type: CI\n        spec:\n          execution:\n"
        f"            steps:\n              - step:\n                  type: Run\n                  identifier: r\n"
        f"                  spec:\n                    image: busybox\n" for i in range(2)))},
    "team-c/needs-fix-too": {".harness/connectors/harnessImage.yaml": BROKEN_CONNECTOR, "README.md": "x\n"},
    "team-c/other": {".harness/pipeline.yaml": CLEAN_PIPELINE},
    "team-d/more": {".harness/connectors/harnessImage.yaml": BROKEN_CONNECTOR},
}


def _org(root, clone=True):
    """Origins and an all-repos workspace over them, cloned (unless told not to)."""
    origins = {name: _origin(root, name.replace("/", "__"), files) for name, files in REPOS.items()}
    work = root / "all-repos"
    work.mkdir()
    (work / "repos.json").write_text(json.dumps({n: f"file://{b}" for n, b in origins.items()}))
    config = work / "all-repos.json"
    config.write_text(json.dumps({
        "output_dir": "output", "source": "all_repos.source.json_file",
        "source_settings": {"filename": "repos.json"},
        "push": "all_repos.push.merge_to_master", "push_settings": {"fast_forward": False}}))
    config.chmod(0o600)
    if clone:
        _clone(work, config)
    return origins, work, config


def _clone(work, config):
    clone = subprocess.run([sys.executable, "-m", "all_repos.clone", "-C", str(config)], cwd=work,
                           capture_output=True, text=True, timeout=300)
    assert clone.returncode == 0, clone.stdout + clone.stderr


def _heads(origins):
    return {name: _git(bare, "rev-parse", "main").strip() for name, bare in origins.items()}


def _fix(work, config, *args):
    run = subprocess.run([sys.executable, "-m", "pipelint.all_repos_fix", "-C", str(config), "--jobs", "2", *args],
                         cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Errored" not in run.stdout + run.stderr, run.stdout + run.stderr
    return run


def test_the_shard_split_is_stable_disjoint_and_whole():
    from pipelint.orgwide.fix import parse_shard, shard_of

    names = [f"org/repo-{i}" for i in range(500)]
    for n in (1, 2, 3, 7):
        shards = [{x for x in names if shard_of(x, n) == k} for k in range(n)]
        assert set().union(*shards) == set(names) and sum(map(len, shards)) == len(names)
        assert all(len(s) > len(names) / n / 2 for s in shards)  # roughly even
    # the same split on every machine and run: a fixed hash, not Python's salted one
    assert [shard_of(x, 4) for x in ("a", "org/repo", "team-a/needs-fix")] == [
        int.from_bytes(__import__("hashlib").sha256(x.encode()).digest()[:8], "big") % 4
        for x in ("a", "org/repo", "team-a/needs-fix")]
    assert parse_shard("2/5") == (2, 5)
    for bad in ("5/5", "-1/3", "1", "a/b", "1/0"):
        with pytest.raises(ValueError):
            parse_shard(bad)


@pytest.mark.slow
def test_shards_touch_each_repository_once_and_merge_to_the_unsharded_run(tmp_path, git_env):
    from pipelint.commands import summary
    from pipelint.orgwide.fix import shard_of

    # one unsharded run over one copy of the organisation
    (tmp_path / "whole").mkdir()
    origins, work, config = _org(tmp_path / "whole")
    before = _heads(origins)
    _fix(work, config, "--summary", str(tmp_path / "whole.json"))
    changed = {n for n, h in _heads(origins).items() if h != before[n]}
    assert changed == {"team-a/needs-fix", "team-c/needs-fix-too", "team-d/more"}

    # three shards over another copy, as three CI runners would: each writes its shard's configuration,
    # clones only its own repositories and fixes them; together they touch every one exactly once
    (tmp_path / "sharded").mkdir()
    origins, work, config = _org(tmp_path / "sharded", clone=False)
    touched: list[str] = []
    for k in range(3):
        heads = _heads(origins)
        mine = work / f"shard{k}.json"
        run = subprocess.run([sys.executable, "-m", "pipelint.all_repos_shard", "-C", str(config), "--shard",
                              f"{k}/3", "-o", str(mine), "--output-dir", str(work / f"clones{k}")],
                             cwd=work, capture_output=True, text=True, timeout=60)
        expected = sorted(n for n in REPOS if shard_of(n, 3) == k)
        assert run.returncode == 0 and f"{len(expected)} of 7 repositories" in run.stdout, run.stdout + run.stderr
        assert mine.stat().st_mode & 0o777 == 0o600
        _clone(work, mine)
        cloned = json.loads((work / f"clones{k}" / "repos.json").read_text())
        assert sorted(cloned) == expected
        _fix(work, mine, "--shard", f"{k}/3", "--summary", str(tmp_path / f"shard{k}.json"))
        now = {n for n, h in _heads(origins).items() if h != heads[n]}
        assert all(shard_of(n, 3) == k for n in now), (k, now)
        touched += sorted(now)
        listed = [r["name"] for r in json.loads((tmp_path / f"shard{k}.json").read_text())["repositories"]]
        assert listed == expected
    assert sorted(touched) == sorted(changed)

    whole = summary.read(str(tmp_path / "whole.json"))
    parts = [summary.read(str(tmp_path / f"shard{k}.json")) for k in range(3)]
    merged = summary.merge(parts)
    assert summary.comparable(merged) == summary.comparable(whole)
    # associative and order-independent
    assert summary.comparable(summary.merge([summary.merge(parts[:2]), parts[2]])) == summary.comparable(merged)
    assert summary.comparable(summary.merge(parts[::-1])) == summary.comparable(merged)
    entry = next(r for r in whole["repositories"] if r["name"] == "team-a/needs-fix")
    assert entry["harness"] and entry["pushed"] and entry["before"].get("REG001") and not entry["after"]
    entry = next(r for r in whole["repositories"] if r["name"] == "team-b/no-harness")
    assert entry == {"name": "team-b/no-harness", "harness": False, "before": {}, "after": {}, "pushed": False,
                     "error": None}
    entry = next(r for r in whole["repositories"] if r["name"] == "team-b/untagged")
    assert entry["before"] == entry["after"] == {"IMG001": 2} and not entry["pushed"]

    # the organisation report: the same from the shards as from the whole run
    for fmt in ("md", "json", "html"):
        a = pipelint("report", "--merge", *(str(tmp_path / f"shard{k}.json") for k in range(3)), "--format", fmt)
        b = pipelint("report", "--merge", str(tmp_path / "whole.json"), "--format", fmt)
        assert a.exit_code == b.exit_code == 0, a.stderr + b.stderr
        if fmt == "json":
            assert summary.comparable(json.loads(a.stdout)) == summary.comparable(json.loads(b.stdout))
        else:  # the same page, apart from when and from how many shards
            def strip(text):
                return re.sub(r"generated [^<\n]*", "", text).replace(" from 3 shards", "")

            assert "untagged" in a.stdout and " from 3 shards" in a.stdout and strip(a.stdout) == strip(b.stdout)
    md = pipelint("report", "--merge", str(tmp_path / "whole.json"), "--format", "md").stdout
    assert "**2 problems left in 1 repository.**" in md
    assert "| IMG001 | untagged-image | 2 | 2 | 1 |" in md


def test_a_bad_summary_is_one_line(tmp_path):
    cases = {
        "notjson.json": ("{", "not JSON"),
        "other.json": ('{"version": 1}', 'not a pipelint summary'),
        "badcounts.json": ('{"pipelint-summary": 1, "repositories": [{"name": "a", "before": {"X": -1}}]}',
                           'repositories[0]: "before" must map rule codes to counts'),
        "noname.json": ('{"pipelint-summary": 1, "repositories": [{}]}', 'needs a "name"'),
    }
    for name, (text, expected) in cases.items():
        (tmp_path / name).write_text(text)
        result = pipelint("report", "--merge", str(tmp_path / name))
        lines = result.stderr.strip().splitlines()
        assert result.exit_code == 2 and len(lines) == 1 and expected in lines[0] and name in lines[0], lines
    a = '{"pipelint-summary": 1, "repositories": [{"name": "r", "before": {"REG001": 1}}]}'
    b = '{"pipelint-summary": 1, "repositories": [{"name": "r", "before": {"REG001": 2}}]}'
    (tmp_path / "a.json").write_text(a)
    (tmp_path / "b.json").write_text(b)
    result = pipelint("report", "--merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"))
    assert result.exit_code == 2 and "repository r appears in two summaries" in result.stderr


def test_a_shard_configuration_from_a_bad_one_is_one_line(tmp_path):
    def shard(config, *extra):
        return subprocess.run([sys.executable, "-m", "pipelint.all_repos_shard", "-C", str(config), "--shard", "0/2",
                               "-o", str(tmp_path / "out.json"), *extra], cwd=tmp_path, capture_output=True,
                              text=True, timeout=60)

    loose = tmp_path / "loose.json"
    loose.write_text('{"output_dir": "o"}')
    loose.chmod(0o644)
    listing = tmp_path / "list.json"
    listing.write_text('[1]')
    listing.chmod(0o600)
    failing = tmp_path / "failing.json"
    failing.write_text(json.dumps({"output_dir": "o", "source": "all_repos.source.json_file",
                                   "source_settings": {"filename": "missing.json"},
                                   "push": "all_repos.push.readonly", "push_settings": {}}))
    failing.chmod(0o600)
    cases = [(tmp_path / "absent.json", "No such file"), (loose, "too-permissive permissions"),
             (listing, "not a JSON object"), (failing, "missing.json")]
    for config, expected in cases:
        run = shard(config)
        lines = run.stderr.strip().splitlines()
        assert run.returncode == 2 and len(lines) == 1 and expected in lines[0] and config.name in lines[0], lines
        assert not (tmp_path / "out.json").exists()
    run = shard(failing, "--shard", "2/2")
    assert run.returncode == 2 and "K must be from 0 to N-1" in run.stderr


def test_a_dry_run_shard_changes_nothing_and_still_summarises(tmp_path, git_env):
    """--dry-run with --shard: all-repos shows the diffs and pushes nothing; the summary still says, for this
    shard's repositories only, what was found and what the fix would leave."""
    from pipelint.orgwide.fix import shard_of

    origins, work, config = _org(tmp_path)
    before = _heads(origins)
    k = shard_of("team-a/needs-fix", 2)  # a shard with work in it
    run = subprocess.run([sys.executable, "-m", "pipelint.all_repos_fix", "-C", str(config), "--dry-run",
                          "--shard", f"{k}/2", "--summary", str(tmp_path / "dry.json")],  # all-repos: no --jobs
                         cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert _heads(origins) == before
    mine = sorted(n for n in REPOS if shard_of(n, 2) == k)
    data = json.loads((tmp_path / "dry.json").read_text())
    assert data["dry_run"] is True and data["shards"] == [f"{k}/2"]
    assert [r["name"] for r in data["repositories"]] == mine
    for entry in data["repositories"]:
        assert not entry["pushed"] and entry["error"] is None, entry
        if REPOS[entry["name"]].get(".harness/connectors/harnessImage.yaml"):
            assert entry["before"].get("REG001") == 1 and "REG001" not in entry["after"], entry
            assert f"{entry['name']}" in run.stdout + run.stderr  # all-repos showed its diff

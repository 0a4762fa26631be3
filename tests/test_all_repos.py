"""The all-repos autofixer, run by real all-repos against local git repositories (file:// clones, and the
merge-to-master push mode that pushes to those local origins)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import FIXTURES

pytest.importorskip("all_repos", reason="pip install all-repos (the test extra has it)")

BROKEN_CONNECTOR = (FIXTURES / "REG001" / "bad_connector.yaml").read_text()
FIXED_CONNECTOR = (FIXTURES / "REG001" / "bad_connector.fixed.yaml").read_text()
CLEAN_PIPELINE = "pipeline:\n  name: p\n  identifier: p\n  stages: []\n"


def _git(cwd, *args, env=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env).stdout


def _origin(root, name, files):
    work = root / "src" / name
    work.mkdir(parents=True)
    for rel, text in files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)
    _git(work, "init", "-q")
    _git(work, "add", "-A")
    _git(work, "commit", "-qm", "initial")
    bare = root / "origins" / f"{name}.git"
    _git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare


def test_autofixer_commits_only_where_something_changes(tmp_path, git_env):
    origins = {
        "needs-fix": _origin(tmp_path, "needs-fix", {".harness/connectors/harnessImage.yaml": BROKEN_CONNECTOR,
                                                     "README.md": "x\n"}),
        "clean": _origin(tmp_path, "clean", {".harness/pipeline.yaml": CLEAN_PIPELINE}),
        "no-harness": _origin(tmp_path, "no-harness", {"k8s/pod.yaml": "apiVersion: v1\nkind: Pod\n"}),
    }
    heads = {name: _git(bare, "rev-parse", "main").strip() for name, bare in origins.items()}
    work = tmp_path / "all-repos"
    work.mkdir()
    (work / "repos.json").write_text(json.dumps({n: f"file://{b}" for n, b in origins.items()}))
    config = work / "all-repos.json"
    config.write_text(json.dumps({
        "output_dir": "output",
        "source": "all_repos.source.json_file",
        "source_settings": {"filename": "repos.json"},
        "push": "all_repos.push.merge_to_master",
        "push_settings": {"fast_forward": False},
    }))
    config.chmod(0o600)
    clone = subprocess.run([sys.executable, "-m", "all_repos.clone", "-C", str(config)], cwd=work,
                           capture_output=True, text=True)
    assert clone.returncode == 0, clone.stdout + clone.stderr
    run = subprocess.run([sys.executable, "-m", "pipelint.all_repos_fix", "-C", str(config), "--jobs", "1"],
                         cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Errored" not in run.stdout + run.stderr

    for name, bare in origins.items():
        head = _git(bare, "rev-parse", "main").strip()
        if name != "needs-fix":
            assert head == heads[name], f"{name} should be untouched"
            continue
        assert head != heads[name]
        log = _git(bare, "log", "--format=%s", f"{heads[name]}..main")
        assert "Move Harness YAML off the retired app.harness.io/registry" in log
        diff = _git(bare, "diff", "--stat", heads[name], "main")
        assert ".harness/connectors/harnessImage.yaml | 2 +-" in diff  # the URL; providerType Other stays
        assert "1 file changed" in diff
        assert _git(bare, "show", "main:.harness/connectors/harnessImage.yaml") == FIXED_CONNECTOR


def test_find_repos_picks_harness_repositories(tmp_path, git_env):
    from all_repos.config import load_config

    from pipelint.orgwide.fix import find_repos

    out = tmp_path / "output"
    for name, files in {"a": {"ci/p.yaml": CLEAN_PIPELINE}, "b": {".harness/x.yml": "tags: {}\n"},
                        "c": {"k8s.yaml": "kind: Pod\n"},
                        "d": {"infra/main.tf": 'resource "harness_platform_connector_docker" "x" {\n}\n'},
                        "e": {"infra/main.tf": 'resource "aws_s3_bucket" "x" {\n}\n'}}.items():
        repo = out / name
        repo.mkdir(parents=True)
        for rel, text in files.items():
            (repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (repo / rel).write_text(text)
        _git(repo, "init", "-q")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-qm", "x")
    (tmp_path / "repos.json").write_text(json.dumps({n: f"file:///{n}" for n in "abcde"}))
    (out / "repos.json").write_text(json.dumps({n: f"file:///{n}" for n in "abcde"}))
    (out / "repos_filtered.json").write_text(json.dumps({n: f"file:///{n}" for n in "abcde"}))
    config = tmp_path / "all-repos.json"
    config.write_text(json.dumps({"output_dir": str(out), "source": "all_repos.source.json_file",
                                  "source_settings": {"filename": str(tmp_path / "repos.json")},
                                  "push": "all_repos.push.readonly", "push_settings": {}}))
    config.chmod(0o600)
    found = find_repos(load_config(str(config)))
    assert sorted(os.path.basename(p) for p in found) == ["a", "b", "d"]


def test_each_repository_has_its_own_custom_rules(tmp_path, git_env):
    """Two repositories declare ORG001 differently: each is counted by its own declaration (the counts are
    taken in all-repos' process, one repository after another), and neither fails for the other's."""
    pipeline = ("pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n"
                "        type: CI\n        spec:\n          infrastructure:\n            type: KubernetesDirect\n"
                "            spec: {connectorRef: k, namespace: n, harnessImageConnectorRef: account.mirror}\n"
                "          execution:\n            steps:\n              - step:\n                  type: Run\n"
                "                  identifier: r\n                  spec: {image: docker.io/library/alpine:3}\n")

    def rule(pattern):
        return ('[[custom-rules]]\ncode = "ORG001"\nname = "corporate-registry"\nmessage = "{value}"\n'
                f'given = "@images"\nthen = {{ function = "pattern", match = "{pattern}" }}\n')

    origins = {
        "strict": _origin(tmp_path, "strict", {".harness/p.yaml": pipeline, ".pipelint.toml": rule("^corp/"),
                                               ".harness/connectors/c.yaml": BROKEN_CONNECTOR}),
        "lenient": _origin(tmp_path, "lenient", {".harness/p.yaml": pipeline, ".pipelint.toml": rule("alpine"),
                                                 ".harness/connectors/c.yaml": BROKEN_CONNECTOR}),
    }
    work = tmp_path / "all-repos"
    work.mkdir()
    (work / "repos.json").write_text(json.dumps({n: f"file://{b}" for n, b in origins.items()}))
    config = work / "all-repos.json"
    config.write_text(json.dumps({"output_dir": "output", "source": "all_repos.source.json_file",
                                  "source_settings": {"filename": "repos.json"},
                                  "push": "all_repos.push.merge_to_master", "push_settings": {}}))
    config.chmod(0o600)
    subprocess.run([sys.executable, "-m", "all_repos.clone", "-C", str(config)], cwd=work, check=True,
                   capture_output=True)
    run = subprocess.run([sys.executable, "-m", "pipelint.all_repos_fix", "-C", str(config), "--jobs", "1",
                          "--summary", "summary.json"], cwd=work, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    repos = {r["name"]: r for r in json.loads((work / "summary.json").read_text())["repositories"]}
    assert repos["strict"]["before"].get("ORG001") == 1 and repos["strict"]["after"].get("ORG001") == 1
    assert "ORG001" not in repos["lenient"]["before"]
    assert all(r["pushed"] and r["error"] is None for r in repos.values()), repos

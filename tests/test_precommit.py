"""The hooks in .pre-commit-hooks.yaml, run by pre-commit itself against this checkout (`try-repo`)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow

BAD = """\
pipeline:
  name: build
  identifier: build
  stages:
    - stage:
        name: build
        identifier: build
        type: CI
        spec:
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s   # build cluster
              namespace: ci
          execution:
            steps:
              - step:
                  type: Plugin
                  identifier: addon
                  spec:
                    image: app.harness.io/registry/harness/drone-git:1.6.0
"""
WORKFLOW = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    container: alpine\n"
K8S = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers: [{name: a, image: alpine}]\n"


@pytest.fixture(scope="module")
def precommit_home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo, home, hook, *files):
    env = dict(os.environ, PRE_COMMIT_HOME=str(home), NO_COLOR="1", PRE_COMMIT_COLOR="never")
    return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), hook, "--files", *files],
                          cwd=repo, capture_output=True, text=True, env=env, timeout=600)


def test_hooks_fail_on_harness_problems_then_fix_them(tmp_path, precommit_home):
    repo = tmp_path / "repo"
    (repo / ".harness").mkdir(parents=True)
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".harness" / "build.yaml").write_text(BAD)
    (repo / ".github" / "workflows" / "ci.yml").write_text(WORKFLOW)
    (repo / "pod.yaml").write_text(K8S)
    (repo / ".pipelint.toml").write_text('[rules.CON001]\nimage-connector = "account.harnessImageMirror"\n')
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    files = [".harness/build.yaml", ".github/workflows/ci.yml", "pod.yaml"]

    check = _try_repo(repo, precommit_home, "pipelint", *files)
    assert check.returncode == 1, check.stdout + check.stderr
    assert "pipelint" in check.stdout and "Failed" in check.stdout
    assert ".harness/build.yaml:10:11: warning CON001 [*] build stage \"build\"" in check.stdout
    assert ".harness/build.yaml:21:28: error REG001 [*] image \"app.harness.io/registry/harness/drone-git:1.6.0\"" in check.stdout
    assert "ci.yml" not in check.stdout.split("- exit code")[-1] and "pod.yaml:" not in check.stdout

    fix = _try_repo(repo, precommit_home, "pipelint-fix", *files)
    assert fix.returncode == 1  # pre-commit fails a hook that modified files
    assert "files were modified by this hook" in fix.stdout
    fixed = (repo / ".harness" / "build.yaml").read_text()
    assert fixed == BAD.replace(
        "              namespace: ci\n",
        "              namespace: ci\n              harnessImageConnectorRef: account.harnessImageMirror\n",
    ).replace("app.harness.io/registry/harness/drone-git", "public.ecr.aws/harness/drone-git")  # target auto
    assert (repo / "pod.yaml").read_text() == K8S and (repo / ".github/workflows/ci.yml").read_text() == WORKFLOW

    again = _try_repo(repo, precommit_home, "pipelint", *files)
    assert again.returncode == 0, again.stdout
    assert "Passed" in again.stdout


def test_non_harness_files_only(tmp_path, precommit_home):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "pod.yaml").write_text(K8S)
    (repo / "broken.yaml").write_text("key: [unclosed\n")
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    result = _try_repo(repo, precommit_home, "pipelint", "pod.yaml", "broken.yaml")
    assert result.returncode == 0, result.stdout


def test_the_hooks_apply_a_repositorys_custom_rules(tmp_path, precommit_home):
    """The custom rules of docs/custom-rules.md in the repository's .pipelint.toml: the hook's own environment (installed by
    pre-commit from this checkout) reports them and the fix hook writes their declared fixes."""
    import re
    import shutil

    from conftest import FIXTURES

    policies = re.search(r"# Your own rules.*?```toml\n(.*?)```", (ROOT / "docs" / "custom-rules.md").read_text(),
                         re.S)[1]
    repo = tmp_path / "repo"
    (repo / ".harness").mkdir(parents=True)
    shutil.copy(FIXTURES / "custom" / "pipeline.yaml", repo / ".harness" / "pipeline.yaml")
    (repo / ".pipelint.toml").write_text(policies)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")

    check = _try_repo(repo, precommit_home, "pipelint", ".harness/pipeline.yaml")
    assert check.returncode == 1, check.stdout + check.stderr
    found = set(re.findall(r"^\.harness/pipeline\.yaml:\d+:\d+: \w+ (ORG\d{3})", check.stdout, re.M))
    assert found == {"ORG001", "ORG002", "ORG003", "ORG004", "ORG005"}, check.stdout

    fix = _try_repo(repo, precommit_home, "pipelint-fix", ".harness/pipeline.yaml")
    assert "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    after = (repo / ".harness" / "pipeline.yaml").read_text()
    assert after != (FIXTURES / "custom" / "pipeline.yaml").read_text()
    again = _try_repo(repo, precommit_home, "pipelint", ".harness/pipeline.yaml")
    left = set(re.findall(r"^\.harness/pipeline\.yaml:\d+:\d+: \w+ (ORG\d{3})", again.stdout, re.M))
    assert "ORG002" not in left and "ORG004" not in left, again.stdout  # their safe fixes were applied


def test_a_file_named_like_an_option_is_checked_not_obeyed(tmp_path, precommit_home):
    """pre-commit passes the files after the hook's options, with no `--`: a committed file named
    `--write-baseline=pod.yaml` made the hook write a baseline over pod.yaml (and hide every finding from then
    on). It is a file to check now, like any other."""
    repo = tmp_path / "repo"
    (repo / ".harness").mkdir(parents=True)
    (repo / ".harness" / "build.yaml").write_text(BAD)
    (repo / "--write-baseline=pod.yaml").write_text(K8S)
    (repo / "pod.yaml").write_text(K8S)
    _git(repo, "init", "-q")
    _git(repo, "add", "-A")
    env = dict(os.environ, PRE_COMMIT_HOME=str(precommit_home), NO_COLOR="1", PRE_COMMIT_COLOR="never")

    def hook(name):
        return subprocess.run([sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), name, "--all-files"],
                              cwd=repo, capture_output=True, text=True, env=env, timeout=600)

    check = hook("pipelint")
    assert check.returncode == 1 and ".harness/build.yaml:21:28: error REG001 [*]" in check.stdout, check.stdout
    assert (repo / "pod.yaml").read_text() == K8S
    fix = hook("pipelint-fix")
    assert "files were modified by this hook" in fix.stdout, fix.stdout + fix.stderr
    assert (repo / "pod.yaml").read_text() == K8S
    assert "public.ecr.aws/harness/drone-git:1.6.0" in (repo / ".harness" / "build.yaml").read_text()

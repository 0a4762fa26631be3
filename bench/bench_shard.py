"""Repositories per minute for one shard of an organisation-wide migration, over local file:// repositories.

    python3 bench/bench_shard.py [--repos 60] [--jobs 2] [--rounds 3]

Makes R repositories (bare origins on this disk, each with a Harness pipeline and a Docker connector on the
retired registry; one in four has no Harness file), then for each round, on fresh copies of the origins:
  1. clone: `all_repos_shard` for shard 0/1 and `all-repos-clone` (git's cost, the same for any fixer);
  2. pipelint: `all_repos_fix --summary` (check before, fix, second-run check, check after, commit, push);
  3. floor: all-repos' own `all-repos-sed` making the same URL change with sed, with the same
     clone-commit-push machinery, on its own fresh copies.
It prints the medians, repositories per minute for pipelint (the figure for sizing N shards) and the ratio of
pipelint to the floor. Needs all-repos and git.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PIPELINE = """\
pipeline:
  name: build
  identifier: build
  stages:
    - stage:
        name: Build
        identifier: build
        type: CI
        spec:
          cloneCodebase: true
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s
              namespace: builds
          execution:
            steps:
              - step:
                  type: Run
                  name: test
                  identifier: test
                  spec:
                    connectorRef: account.dockerhub
                    image: python:3.12
                    command: make test
"""
CONNECTOR = """\
connector:
  name: Harness Docker Connector
  identifier: harnessImage
  type: DockerRegistry
  spec:
    dockerRegistryUrl: https://app.harness.io/registry
    providerType: DockerHub
    auth:
      type: Anonymous
"""


def git(cwd, *args):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def make_origins(root: str, count: int) -> dict[str, str]:
    origins = {}
    for i in range(count):
        name = f"team-{i % 7}/service-{i}"
        src = os.path.join(root, "src", name)
        os.makedirs(os.path.join(src, ".harness"))
        with open(os.path.join(src, "README.md"), "w") as fh:
            fh.write(f"service {i}\n")
        if i % 4:
            with open(os.path.join(src, ".harness", "build.yaml"), "w") as fh:
                fh.write(PIPELINE)
            with open(os.path.join(src, ".harness", "harnessImage.yaml"), "w") as fh:
                fh.write(CONNECTOR)
        git(src, "init", "-q", "-b", "main")
        git(src, "add", "-A")
        git(src, "commit", "-qm", "initial")
        bare = os.path.join(root, "origins", name + ".git")
        git(root, "clone", "-q", "--bare", src, bare)
        origins[name] = bare
    return origins


def workspace(root: str, origins: dict[str, str], label: str) -> tuple[str, str]:
    """A copy of every origin and an all-repos configuration over the copies."""
    work = os.path.join(root, label)
    os.makedirs(work)
    repos = {}
    for name, bare in origins.items():
        copy = os.path.join(work, "origins", name + ".git")
        shutil.copytree(bare, copy)
        repos[name] = "file://" + copy
    with open(os.path.join(work, "repos.json"), "w") as fh:
        json.dump(repos, fh)
    config = os.path.join(work, "all-repos.json")
    with open(config, "w") as fh:
        json.dump({"output_dir": "output", "source": "all_repos.source.json_file",
                   "source_settings": {"filename": "repos.json"},
                   "push": "all_repos.push.merge_to_master", "push_settings": {"fast_forward": False}}, fh)
    os.chmod(config, 0o600)
    return work, config


def timed(cmd, cwd) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return took


def clone(work: str, config: str) -> float:
    shard = os.path.join(work, "shard.json")
    return (timed([sys.executable, "-m", "pipelint.all_repos_shard", "-C", config, "--shard", "0/1", "-o", shard],
                  work)
            + timed([sys.executable, "-m", "all_repos.clone", "-C", shard], work))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repos", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipelint-bench-shard-") as root:
        gitconfig = os.path.join(root, "gitconfig")
        with open(gitconfig, "w") as fh:
            fh.write("[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n")
        os.environ.update(GIT_CONFIG_GLOBAL=gitconfig, GIT_CONFIG_NOSYSTEM="1")
        origins = make_origins(root, args.repos)
        harness = sum(1 for i in range(args.repos) if i % 4)
        clones, fixes, floors = [], [], []
        for r in range(args.rounds):
            work, config = workspace(root, origins, f"pipelint-{r}")
            clones.append(clone(work, config))
            fixes.append(timed([sys.executable, "-m", "pipelint.all_repos_fix", "-C", os.path.join(work, "shard.json"),
                                "--jobs", str(args.jobs), "--summary", os.path.join(work, "summary.json")], work))
            with open(os.path.join(work, "summary.json")) as fh:
                pushed = sum(1 for e in json.load(fh)["repositories"] if e["pushed"])
            assert pushed == harness, (pushed, harness)
            work, config = workspace(root, origins, f"sed-{r}")
            clone(work, config)
            floors.append(timed([sys.executable, "-m", "all_repos.sed", "-C", os.path.join(work, "shard.json"),
                                 "--jobs", str(args.jobs),
                                 "s|https://app.harness.io/registry|https://registry.hub.docker.com|",
                                 "*.yaml"], work))
        c, f, s = (statistics.median(x) for x in (clones, fixes, floors))
        print(f"{args.repos} repositories ({harness} with Harness files, each fixed and pushed), --jobs {args.jobs}, "
              f"medians of {args.rounds}")
        print(f"clone (all_repos_shard + all-repos-clone): {c:.2f} s  ({args.repos / c * 60:.0f} repositories/min)")
        print(f"pipelint all_repos_fix --summary:          {f:.2f} s  ({args.repos / f * 60:.0f} repositories/min)")
        print(f"floor, all-repos-sed (same change):        {s:.2f} s  ({args.repos / s * 60:.0f} repositories/min)")
        print(f"one shard, clone + fix: {args.repos / (c + f) * 60:.0f} repositories/min; "
              f"fix against the floor: {f / s:.2f}x")


if __name__ == "__main__":
    main()

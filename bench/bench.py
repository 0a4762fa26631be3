"""Benchmark pipelint against yamllint (the reference peer) on a generated corpus, in one run.

    python3 bench/bench.py [--files 2000] [--repeat 3]

Reports wall time, files/s, MB/s and peak memory (max RSS of the process) for:
  - `pipelint check` over the whole corpus (cold: no cache), and yamllint (default config) on the same files;
  - both on one small pipeline file (the pre-commit case: the whole process, start-up included).
Figures are ratios taken in the same run on the same machine: the machines here are shared and noisy, so
no test asserts a time. yamllint must be installed (`pip install '.[bench]'`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from synthetic import generate  # the tests' generator: benchmarks measure what the tests check


def run(cmd: list[str], cwd: str) -> tuple[float, int, int]:
    """(seconds, peak RSS in MB, exit status) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    return elapsed, usage.ru_maxrss // 1024, os.waitstatus_to_exitcode(status)


def best(cmd: list[str], cwd: str, repeat: int) -> tuple[float, int]:
    runs = [run(cmd, cwd) for _ in range(repeat)]
    for _, _, code in runs:
        if code not in (0, 1):
            raise SystemExit(f"{' '.join(cmd)} exited {code}")
    return min(r[0] for r in runs), max(r[1] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", help="generate into this folder and keep it")
    args = parser.parse_args()

    yamllint = shutil.which("yamllint") or shutil.which("yamllint", path=os.path.dirname(sys.executable))
    pipelint = shutil.which("pipelint", path=os.path.dirname(sys.executable)) or shutil.which("pipelint")
    if not yamllint or not pipelint:
        raise SystemExit("needs pipelint and yamllint on PATH: pip install '.[bench]'")

    root = args.keep or tempfile.mkdtemp(prefix="pipelint-bench-")
    files, size = generate(root, args.files)
    yaml_files = sorted(os.path.relpath(os.path.join(d, f), root)
                        for d, _, fs in os.walk(root) for f in fs if f.endswith(".yaml"))
    mb = size / 1e6
    print(f"corpus: {files} files, {mb:.1f} MB ({root}); machine: {os.cpu_count()} cores, Python "
          f"{sys.version.split()[0]}; best of {args.repeat}")

    rows = []
    t_pl, m_pl = best([pipelint, "check", ".", "--isolated", "--exit-zero", "--no-cache"]
                      if _has_cache_flag(pipelint) else [pipelint, "check", ".", "--isolated", "--exit-zero"],
                      root, args.repeat)
    rows.append(("pipelint check (cold)", t_pl, m_pl))
    if _has_cache_flag(pipelint):
        run([pipelint, "check", ".", "--isolated", "--exit-zero"], root)  # fill the cache
        t_warm, m_warm = best([pipelint, "check", ".", "--isolated", "--exit-zero"], root, args.repeat)
        rows.append(("pipelint check (warm cache)", t_warm, m_warm))
    t_yl, m_yl = best([yamllint, "-f", "parsable", *yaml_files], root, 1)
    rows.append(("yamllint (default config)", t_yl, m_yl))

    # the pre-commit case: one file, whole process; a 2.8 KB pipeline (the reference size) and a
    # typical generated one
    tiny = os.path.join(root, "tiny.yaml")
    with open(tiny, "w") as fh:
        fh.write(TINY)
    singles = []
    for f in (tiny, os.path.join(root, next(f for f in yaml_files if "/pipelines/" in f))):
        t_p, t_y = _paired_medians([pipelint, "check", f, "--isolated", "--exit-zero"], [yamllint, f], root, 15)
        singles.append((os.path.getsize(f), t_p, t_y))

    print(f"\n{'command':<30}{'seconds':>9}{'files/s':>10}{'MB/s':>8}{'peak MB':>9}")
    for name, t, m in rows:
        print(f"{name:<30}{t:>9.2f}{files / t:>10.0f}{mb / t:>8.2f}{m:>9}")
    print("\none file, whole process with start-up, median of 15:")
    for size, t_p, t_y in singles:
        print(f"  {size:>6} bytes: pipelint {t_p * 1000:.0f} ms, yamllint {t_y * 1000:.0f} ms, ratio {t_p / t_y:.2f}")
    print("\nratios (same run):")
    print(f"  cold check: pipelint is {t_yl / t_pl:.1f}x faster than yamllint (target >= 10x)")
    if len(rows) == 3:
        print(f"  warm check: {t_pl / rows[1][1]:.1f}x faster than cold (target >= 10x)")
    print(f"  one small file: pipelint/yamllint = {singles[0][1] / singles[0][2]:.2f} at {singles[0][0]} bytes, "
          f"{singles[1][1] / singles[1][2]:.2f} at {singles[1][0]} bytes (target <= 0.8)")
    print(f"  peak memory, whole corpus: {m_pl} MB (target < 200 MB)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


TINY = """\
pipeline:
  name: build and test
  identifier: build_and_test
  projectIdentifier: platform
  orgIdentifier: default
  tags: {}
  properties:
    ci:
      codebase:
        connectorRef: account.github
        repoName: service
        build: <+input>
  stages:
    - stage:
        name: test
        identifier: test
        description: ""
        type: CI
        spec:
          cloneCodebase: true
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s_builds
              namespace: ci
              automountServiceAccountToken: true
              nodeSelector: {}
              os: Linux
          execution:
            steps:
              - step:
                  type: Run
                  name: unit tests
                  identifier: unit_tests
                  spec:
                    connectorRef: account.dockerhub
                    image: golang:1.22
                    shell: Sh
                    command: |-
                      go vet ./...
                      go test -race -count=1 ./...
                    resources:
                      limits:
                        memory: 2Gi
                        cpu: "1"
              - step:
                  type: Run
                  name: lint
                  identifier: lint
                  spec:
                    connectorRef: account.dockerhub
                    image: golangci/golangci-lint:v1.59
                    shell: Sh
                    command: golangci-lint run --timeout 5m
              - step:
                  type: Plugin
                  name: git addon
                  identifier: git_addon
                  spec:
                    connectorRef: account.harnessImage
                    image: app.harness.io/registry/harness/drone-git:1.6.0
              - step:
                  type: BuildAndPushDockerRegistry
                  name: push
                  identifier: push
                  spec:
                    connectorRef: account.dockerhub
                    repo: example/service
                    tags:
                      - <+pipeline.sequenceId>
                    dockerfile: Dockerfile
          serviceDependencies:
            - identifier: db
              name: db
              type: Service
              spec:
                connectorRef: account.dockerhub
                image: postgres:16
        variables:
          - name: GOFLAGS
            type: String
            value: -mod=readonly
"""


def _paired_medians(cmd_a, cmd_b, cwd, n):
    """Median seconds of each command over n runs taken in turns (a, b, a, b...), so that a spell of load on
    this shared machine falls on both alike."""
    a, b = [], []
    for _ in range(n):
        a.append(run(cmd_a, cwd)[0])
        b.append(run(cmd_b, cwd)[0])
    return statistics.median(a), statistics.median(b)


def _has_cache_flag(pipelint: str) -> bool:
    out = subprocess.run([pipelint, "check", "--help"], capture_output=True, text=True).stdout
    return "--no-cache" in out


if __name__ == "__main__":
    main()

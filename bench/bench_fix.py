"""How `fix` scales with the number of fixes in one file: `fix` and `fix --diff` time as ratios to `check`
on the same file, in one run (the machines are shared and noisy: no test asserts a time).

    python3 bench/bench_fix.py [--stages 12000] [--repeat 3]

The file is one pipeline with `--stages` CI stages, each missing its harnessImageConnectorRef (CON001, with
`image-connector` set) and pulling one image from the retired registry (REG001): two fixes per stage, a few
MB of YAML. Every other stage shares its infrastructure spec with the next through an anchor, so the
shared-node policy is on the measured path too. Target: `fix` within 3x of `check`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

STAGE = """    - stage:
        identifier: s{i}
        name: stage {i}
        type: CI
        spec:
          infrastructure:
            type: KubernetesDirect
            spec:{anchor}
          execution:
            steps:
              - step:
                  identifier: run{i}
                  type: Run
                  spec:
                    image: app.harness.io/registry/harness/ci-addon:1.16.{i}   # retired
                    command: make test
"""
SPEC = """
              connectorRef: account.k8s
              namespace: builds-{i}"""


def generate(path: str, stages: int) -> int:
    parts = ["pipeline:\n  identifier: big\n  name: big\n  stages:\n"]
    for i in range(stages):
        if i % 2 == 0:
            anchor = f" &infra{i}" + SPEC.format(i=i)
        else:
            anchor = f" *infra{i - 1}"
        parts.append(STAGE.format(i=i, anchor=anchor))
    text = "".join(parts)
    with open(path, "w") as fh:
        fh.write(text)
    return len(text)


def timed(cmd: list[str], cwd: str) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - start, proc.returncode, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stages", type=int, default=12000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pipelint = shutil.which("pipelint", path=os.path.dirname(sys.executable)) or shutil.which("pipelint")
    if not pipelint:
        raise SystemExit("needs pipelint on PATH: pip install .")
    root = tempfile.mkdtemp(prefix="pipelint-bench-fix-")
    try:
        with open(os.path.join(root, ".pipelint.toml"), "w") as fh:
            fh.write('[rules.CON001]\nimage-connector = "account.harnessImageMirror"\n')
        original = os.path.join(root, "original.yaml")
        size = generate(original, args.stages)
        target = os.path.join(root, "big.yaml")
        results: dict[str, float] = {}
        for name, cmd in (("check", [pipelint, "check", "big.yaml", "--no-cache"]),
                          ("fix --diff", [pipelint, "fix", "big.yaml", "--diff"]),
                          ("fix", [pipelint, "fix", "big.yaml"])):
            runs = []
            for _ in range(args.repeat):
                shutil.copyfile(original, target)
                seconds, code, out = timed(cmd, root)
                if code not in (0, 1) or "Traceback" in out or "internal error" in out:
                    raise SystemExit(f"{name} exited {code}:\n{out[-2000:]}")
                runs.append(seconds)
            results[name] = min(runs)
        shutil.copyfile(original, target)
        _, _, out = timed([pipelint, "check", "big.yaml", "--no-cache", "--statistics"], root)
        print(f"one file, {size / 1e6:.1f} MB, {args.stages} CI stages (half sharing an anchored spec), "
              f"best of {args.repeat}:")
        print(out.strip())
        for name, seconds in results.items():
            print(f"  {name:<11} {seconds:7.2f} s   {seconds / results['check']:.2f} x check")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

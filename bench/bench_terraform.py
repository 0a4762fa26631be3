"""Harness YAML in Terraform heredocs against the same pipelines as plain YAML files, in one run.

    python3 bench/bench_terraform.py [--pipelines 1000] [--repeat 3]

The same generated pipelines are written twice: as `.harness/` YAML files, and as `harness_platform_pipeline`
resources (`yaml = <<-EOT`, ten to a `.tf` file, indented as `terraform fmt` leaves them). Both trees are checked
cold (`--no-cache`); the figure is the ratio of the Terraform tree's time to the YAML tree's, and the two must
report the same problems (by rule). Runs alternate between the trees (a noisy minute hits both alike), from a
regular install of this tree (as bench_floor.py). Times on these shared machines are noisy: read the ratio, not the
seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from synthetic import pipeline  # the tests' generator


def write_trees(root: str, n: int) -> tuple[str, str]:
    rng = random.Random(7)
    yaml_root, tf_root = os.path.join(root, "yaml"), os.path.join(root, "tf")
    os.makedirs(os.path.join(yaml_root, ".harness"))
    os.makedirs(tf_root)
    resources: list[str] = []
    for i in range(n):
        text = pipeline(rng, i)
        with open(os.path.join(yaml_root, ".harness", f"p_{i}.yaml"), "w") as fh:
            fh.write(text)
        resources.append(f'resource "harness_platform_pipeline" "p_{i}" {{\n  identifier = "p_{i}"\n'
                         f'  yaml       = <<-EOT\n{textwrap.indent(text, "    ")}    EOT\n}}\n')
        if len(resources) == 10 or i == n - 1:
            with open(os.path.join(tf_root, f"pipelines_{i // 10}.tf"), "w") as fh:
                fh.write("\n".join(resources))
            resources = []
    return yaml_root, tf_root


def run(root: str) -> tuple[float, Counter]:
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pipelint", "check", ".", "--isolated", "--no-cache", "--exit-zero",
                          "--format", "json"], cwd=root, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, Counter(f["code"] for f in json.loads(out.stdout)["findings"])


def growth(repeat: int) -> float:
    """Time to check one `.tf` file of 3,000 Docker connector resources and 150 pipeline heredocs (4.7 MB, under the
    8 MB max-file-size), over one of half as many (a Terraform-managed estate in one file: every per-unit step must
    stay linear in the file)."""
    def tf(n: int) -> str:
        rng = random.Random(n)
        out = []
        for i in range(n):
            out.append(f'resource "harness_platform_connector_docker" "c{i}" {{\n  identifier = "c{i}"\n'
                       f'  name       = "c{i}"\n  type       = "DockerHub"\n  url        = "https://app.harness.io/registry"\n}}\n')
            if i % 20 == 0:
                text = pipeline(rng, i)
                out.append(f'resource "harness_platform_pipeline" "p_{i}" {{\n  identifier = "p_{i}"\n'
                           f'  yaml       = <<-EOT\n{textwrap.indent(text, "    ")}    EOT\n}}\n')
        return "\n".join(out)

    times = {}
    with tempfile.TemporaryDirectory(prefix="pipelint-bench-tf-growth-") as root:
        for n in (1500, 3000):
            folder = os.path.join(root, str(n))
            os.makedirs(folder)
            with open(os.path.join(folder, "main.tf"), "w") as fh:
                fh.write(tf(n))
            times[n] = statistics.median(run(folder)[0] for _ in range(repeat))
    return times[3000] / times[1500]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pipelint-bench-tf-") as root:
        installed = os.path.join(root, "installed")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", installed,
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")], check=True, capture_output=True)
        os.environ["PYTHONPATH"] = installed
        yaml_root, tf_root = write_trees(root, args.pipelines)
        yaml_runs, tf_runs = [], []
        for _ in range(args.repeat):
            yaml_runs.append(run(yaml_root))
            tf_runs.append(run(tf_root))
        grows = growth(args.repeat)
    t_yaml, t_tf = statistics.median(t for t, _ in yaml_runs), statistics.median(t for t, _ in tf_runs)
    same = yaml_runs[0][1] == tf_runs[0][1]
    print(f"{args.pipelines} pipelines, medians of {args.repeat} alternating runs, cold")
    print(f"  as .harness/ YAML files:        {t_yaml:6.2f} s")
    print(f"  as Terraform heredocs (10/.tf): {t_tf:6.2f} s")
    print(f"  ratio heredoc / plain YAML:     {t_tf / t_yaml:6.2f}")
    print(f"  same problems by rule: {'yes' if same else 'NO'} ({sum(yaml_runs[0][1].values())} problems)")
    print(f"  one .tf of N resources, 2N / N: {grows:6.2f} (linear: about 2)")
    if not same:
        print(f"  yaml: {dict(yaml_runs[0][1])}\n  tf:   {dict(tf_runs[0][1])}")
        raise SystemExit(1)


if __name__ == "__main__":
    main()

"""The five custom rules of docs/custom-rules.md ("Your own rules") against the same check without them, in one run.

    python3 bench/bench_custom.py [--files 2000] [--repeat 5]

The tests' generator writes the 2,000-file corpus that `bench/bench.py` uses, twice:
- "first run": as generated, where the policies fail almost everywhere (tens of thousands of new findings, most with
  a verified fix offered), the day a team adds them;
- "steady state": the same tree after the team complied (images moved under registry.example.com, the override
  connector set to account.corpMirror, then `pipelint fix --select ORG002` adding the timeouts), where the rules
  run on every file and find little.
Each tree is checked cold (`--no-cache`), alternating per round: with a `.pipelint.toml` holding exactly the
docs/custom-rules.md's `toml` block of five policies, and with an empty one. The figure is the ratio of the medians (with /
without) per tree. The built-in findings must be the same with and without the rules. Times on these shared
machines are noisy: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
from synthetic import generate  # noqa: E402  (the tests' generator, on the path just above)


def policies() -> str:
    with open(os.path.join(HERE, "..", "docs", "custom-rules.md"), encoding="utf-8") as fh:
        page = fh.read()
    found = re.search(r"# Your own rules.*?```toml\n(.*?)```", page, re.S)
    if not found:
        raise SystemExit("docs/custom-rules.md has no toml block under 'Your own rules'")
    return found[1]


def run(root: str, config: str) -> tuple[float, Counter]:
    with open(os.path.join(root, ".pipelint.toml"), "w", encoding="utf-8") as fh:
        fh.write(config)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "pipelint", "check", ".", "--no-cache", "--exit-zero",
                          "--format", "json"], cwd=root, capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - start
    return elapsed, Counter(f["code"] for f in json.loads(out.stdout)["findings"])


def comply(root: str, rules: str) -> None:
    """The generated tree as it is once a team follows the five policies."""
    image = re.compile(r"^(\s*image: )(?!registry\.example\.com/|<\+)(\S+)$", re.M)
    for folder, _, names in os.walk(root):
        for name in names:
            if name.endswith(".yaml"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8", newline="") as fh:
                    text = fh.read()
                text = image.sub(lambda m: m[1] + "registry.example.com/" + m[2].replace("app.harness.io/registry/",
                                                                                        ""), text)
                text = text.replace("harnessImageConnectorRef: account.harnessImageMirror",
                                    "harnessImageConnectorRef: account.corpMirror")
                with open(path, "w", encoding="utf-8", newline="") as fh:
                    fh.write(text)
    with open(os.path.join(root, ".pipelint.toml"), "w", encoding="utf-8") as fh:
        fh.write(rules)
    subprocess.run([sys.executable, "-m", "pipelint", "fix", ".", "--select", "ORG002", "--exit-zero"],
                   cwd=root, capture_output=True, check=True)


def measure(root: str, rules: str, repeat: int) -> tuple[float, float, dict, int]:
    run(root, "")  # warm the OS file cache and Python's bytecode
    with_rules, without = [], []
    for _ in range(repeat):
        with_rules.append(run(root, rules))
        without.append(run(root, ""))
    t_with = statistics.median(t for t, _ in with_rules)
    t_without = statistics.median(t for t, _ in without)
    counts_with, counts_without = with_rules[0][1], without[0][1]
    custom = {code: n for code, n in counts_with.items() if code.startswith("ORG")}
    if Counter({c: n for c, n in counts_with.items() if not c.startswith("ORG")}) != counts_without:
        raise SystemExit(f"{root}: the built-in findings differ with the custom rules")
    return t_with, t_without, custom, sum(counts_without.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rules = policies()
    with tempfile.TemporaryDirectory(prefix="pipelint-bench-custom-") as root:
        first, steady = os.path.join(root, "first"), os.path.join(root, "steady")
        files, size = generate(first, args.files)
        generate(steady, args.files)
        comply(steady, rules)
        results = [("first run", measure(first, rules, args.repeat)),
                   ("steady state", measure(steady, rules, args.repeat))]
    print(f"{files} files, {size / 1e6:.1f} MB, median of {args.repeat}, cold (--no-cache)")
    for label, (t_with, t_without, custom, builtin) in results:
        print(f"  {label}:")
        print(f"    without custom rules:    {t_without:6.2f} s   ({builtin} built-in findings)")
        print(f"    with the docs' five:    {t_with:6.2f} s   (+{sum(custom.values())}: {custom})")
        print(f"    ratio with / without:    {t_with / t_without:6.2f}")
    if not results[0][1][2]:
        raise SystemExit("the five rules found nothing on the generated tree: the bench measures nothing")

if __name__ == "__main__":
    main()

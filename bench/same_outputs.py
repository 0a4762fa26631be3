"""Every output unchanged: `check` (full text, JSON, SARIF) and `fix --unsafe-fixes` (the written trees and the
output) of this tree against a base revision, on the generated corpus, the same kind of pipelines as Terraform
heredocs, fixtures/ and tests/corpus (issue 31: a speed change must not change an answer).

    python3 bench/same_outputs.py [--base HEAD~1] [--files 2000]

Prints one line per comparison and exits 1 when any differs.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _run(pythonpath: str | None, cwd: str, *args: str) -> bytes:
    env = dict(os.environ)
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    proc = subprocess.run([sys.executable, "-m", "pipelint", *args], cwd=cwd, env=env, capture_output=True,
                          check=False)
    return proc.stdout + proc.stderr + f"\nexit {proc.returncode}\n".encode()


def _same_tree(a: str, b: str) -> bool:
    cmp = filecmp.dircmp(a, b, ignore=[".pipelint_cache"])
    stack = [cmp]
    while stack:
        c = stack.pop()
        if c.left_only or c.right_only or c.diff_files or c.funny_files:
            return False
        stack.extend(c.subdirs.values())
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="HEAD~1")
    parser.add_argument("--files", type=int, default=2000)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="pipelint-same-")
    failed = False
    try:
        base_src, base_pkg = os.path.join(work, "base-src"), os.path.join(work, "base-pkg")
        subprocess.run(["git", "-C", ROOT, "worktree", "add", "-q", "--detach", base_src, args.base], check=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", base_pkg, base_src],
                       check=True, capture_output=True)
        corpus = os.path.join(work, "corpus")
        sys.path.insert(0, HERE)
        sys.path.insert(0, os.path.join(ROOT, "tests"))
        import bench_floor
        import bench_terraform

        bench_floor.generate(corpus, args.files)
        _, heredocs = bench_terraform.write_trees(os.path.join(work, "terraform"), max(10, args.files // 10))
        trees = {"corpus": corpus, "terraform heredocs": heredocs, "fixtures": os.path.join(ROOT, "fixtures"),
                 "tests/corpus": os.path.join(ROOT, "tests", "corpus")}
        for name, tree in trees.items():
            for fmt in ("full", "json", "sarif"):
                check = ("check", ".", "--isolated", "--no-cache", "--select", "ALL", "--output-format", fmt)
                same = _run(None, tree, *check) == _run(base_pkg, tree, *check)
                failed |= not same
                print(f"{'same' if same else 'DIFFERENT'}  check --output-format {fmt}  {name}")
            copies = {}
            for side, path in (("new", None), ("base", base_pkg)):
                copy = os.path.join(work, f"fix-{side}")
                shutil.rmtree(copy, ignore_errors=True)
                shutil.copytree(tree, copy)
                copies[side] = (copy, _run(path, copy, "fix", ".", "--isolated", "--select", "ALL", "--unsafe-fixes"))
            same = copies["new"][1] == copies["base"][1] and _same_tree(copies["new"][0], copies["base"][0])
            failed |= not same
            print(f"{'same' if same else 'DIFFERENT'}  fix --unsafe-fixes (output and files)  {name}")
    finally:
        subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", os.path.join(work, "base-src")],
                       check=False, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

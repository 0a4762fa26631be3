"""An all-repos autofixer: `python -m pipelint.all_repos_fix -C all-repos.json [options]`.

all-repos (https://github.com/asottile/all-repos) clones an organisation's repositories; this module follows
its autofix_lib conventions: `find_repos` picks the clones that hold Harness YAML (`git grep` for a Harness
root key line, or any YAML under `.harness/`) or Harness Terraform (a `harness_platform_` resource in a `.tf` file), `apply_fix` runs `pipelint fix` in each, `check_fix` makes sure a
second `fix` would change nothing, and all-repos commits on a branch and pushes with the configured push
mode (a pull request, or a merge to the default branch). Repositories where nothing changes get no commit.

Options besides all-repos' own (`--dry-run`, `--repos`, `--jobs`, `--limit`, `-i`...): `--target`,
`--unsafe-fixes`, `--select`/`--ignore`, and `--pipelint-config FILE` (one configuration for every
repository, e.g. the CON001 image connector; without it each repository's own configuration is used).
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
from collections.abc import Sequence

from pipelint import harness


def find_repos(config) -> set[str]:
    from all_repos.grep import repos_matching

    with_root_keys = repos_matching(config, ("-E", harness.ROOT_KEY_ERE, "--", "*.yaml", "*.yml"))
    under_harness = repos_matching(config, ("-e", "", "--", ".harness/*.yaml", ".harness/*.yml",
                                            "**/.harness/*.yaml", "**/.harness/*.yml"))
    # Harness configuration in Terraform (the provider's resources) and templatefile() sources
    terraform = repos_matching(config, ("-F", "resource \"harness_platform_", "--", "*.tf"))
    templates = repos_matching(config, ("-E", harness.ROOT_KEY_ERE, "--", "*.yaml.tpl", "*.yml.tpl"))
    return with_root_keys | under_harness | terraform | templates


def _pipelint_args(args: argparse.Namespace) -> list[str]:
    out = []
    if args.pipelint_config:
        out += ["--config", os.path.abspath(args.pipelint_config)]
    if args.target:
        out += ["--target", args.target]
    if args.unsafe_fixes:
        out.append("--unsafe-fixes")
    for option in ("select", "ignore"):
        value = getattr(args, option)
        if value:
            out += [f"--{option}", value]
    return out


def apply_fix(extra: Sequence[str] = ()) -> None:
    from all_repos import autofix_lib

    # exit 1 means problems are left that fix cannot repair: the fixes made are still committed
    result = autofix_lib.run(sys.executable, "-m", "pipelint", "fix", ".", "--exit-zero", *extra, check=False)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"pipelint fix failed in {os.getcwd()} (exit {result.returncode}): {result.stderr}")


def check_fix(extra: Sequence[str] = ()) -> None:
    from all_repos import autofix_lib

    # idempotence: a second run must find nothing more to change
    autofix_lib.run(sys.executable, "-m", "pipelint", "fix", ".", "--diff", *extra)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        from all_repos import autofix_lib
    except ImportError:
        print("pipelint.all_repos_fix needs all-repos: pip install all-repos", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="python -m pipelint.all_repos_fix",
                                     description="Run `pipelint fix` across the repositories all-repos cloned.")
    autofix_lib.add_fixer_args(parser)
    parser.add_argument("--target", help="registry for REG001 fixes: dockerhub, gar, gcr, ecr or a URL")
    parser.add_argument("--unsafe-fixes", action="store_true", help="also apply unsafe fixes")
    parser.add_argument("--select", help="rules to fix (comma-separated codes, prefixes or names)")
    parser.add_argument("--ignore", help="rules not to fix")
    parser.add_argument("--pipelint-config", help="one pipelint configuration for every repository")
    parser.add_argument("--branch-name", default="pipelint-fix", help="branch name (default %(default)s)")
    parser.add_argument("--commit-msg", default="Move Harness YAML off the retired app.harness.io/registry\n\n"
                        "Rewritten by `pipelint fix`: only the values that had to change, byte for byte.",
                        help="commit message")
    args = parser.parse_args(argv)
    extra = _pipelint_args(args)
    repos, config, commit, autofix_settings = autofix_lib.from_cli(
        args, find_repos=find_repos, msg=args.commit_msg, branch_name=args.branch_name,
    )
    autofix_lib.fix(
        repos,
        apply_fix=functools.partial(apply_fix, tuple(extra)),
        check_fix=functools.partial(check_fix, tuple(extra)),
        config=config,
        commit=commit,
        autofix_settings=autofix_settings,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

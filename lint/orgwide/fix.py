"""An all-repos autofixer: `python -m pipelint.all_repos_fix -C all-repos.json [options]`.

all-repos (https://github.com/asottile/all-repos) clones an organisation's repositories; this module follows
its autofix_lib conventions: `find_repos` picks the clones that hold Harness YAML (`git grep` for a Harness
root key line, or any YAML under `.harness/`) or Harness Terraform (a `harness_platform_` resource in a `.tf` file), `apply_fix` runs `pipelint fix` in each, `check_fix` makes sure a
second `fix` would change nothing, and all-repos commits on a branch and pushes with the configured push
mode (a pull request, or a merge to the default branch). Repositories where nothing changes get no commit.

Options besides all-repos' own (`--dry-run`, `--repos`, `--jobs`, `--limit`, `-i`...): `--target`,
`--unsafe-fixes`, `--select`/`--ignore`, and `--pipelint-config FILE` (one configuration for every
repository, e.g. the CON001 image connector; without it each repository's own configuration is used).

Across CI runners: `--shard K/N` keeps the repositories whose name hashes (SHA-256, the same on every machine and
run) to K of N (0 <= K < N): N runners with K = 0..N-1 split the cloned repositories into disjoint shards whose
union is all of them. `--summary FILE` writes what happened per repository of the shard (JSON, see
`pipelint.summary`): whether it holds Harness configuration, findings per rule before and after, whether the fix
was pushed, and any error in one line; `pipelint report --merge` joins the shards' summaries.
`python -m pipelint.all_repos_shard` writes a configuration that clones only one shard's repositories.

Exit status: 0, or 1 when a repository failed (its fix, the second-run check or its push; the others still go
on, and the last line names the failed ones).
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence

from pipelint.harness import sites as harness
from pipelint.text.files import write_atomic


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
        out += ["--config", args.pipelint_config]
    if args.target:
        out += ["--target", args.target]
    if args.unsafe_fixes:
        out.append("--unsafe-fixes")
    for option in ("select", "ignore"):
        value = getattr(args, option)
        if value:
            out += [f"--{option}", value]
    return out


def shard_of(name: str, count: int) -> int:
    """The shard (0 .. count-1) of a repository name: a stable hash, the same on every machine and run."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big") % count


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` -> (K, N) with 0 <= K < N; raises ValueError with the reason."""
    k, sep, n = text.partition("/")
    if not sep or not k.strip().isdigit() or not n.strip().isdigit():
        raise ValueError(f"--shard {text!r}: give K/N, e.g. 0/4 (K from 0 to N-1)")
    shard, count = int(k), int(n)
    if count < 1 or not 0 <= shard < count:
        raise ValueError(f"--shard {text!r}: K must be from 0 to N-1 and N at least 1")
    return shard, count


def _name(config, repo: str) -> str:
    return os.path.relpath(os.path.abspath(repo), os.path.abspath(config.output_dir))


def sharded_find_repos(config, shard: tuple[int, int] | None) -> set[str]:
    found = find_repos(config)
    if shard is None:
        return found
    return {r for r in found if shard_of(_name(config, r), shard[1]) == shard[0]}


def _counts(args: argparse.Namespace) -> dict[str, int]:
    """Findings per rule in the current directory, as `pipelint check` with the same options reports them.

    In this process (all-repos' worker, one repository at a time), not a `pipelint check` subprocess: two
    interpreter start-ups fewer per repository. Any error is the repository's error, in one line."""
    from pipelint.app import console
    from pipelint.engine.config import ConfigError
    from pipelint.rules import clear_custom

    clear_custom()  # custom rules are each repository's own: the one before may declare the same code otherwise
    try:
        engine = console.engine_for(".", args.pipelint_config, False, (args.select,) if args.select else (), (),
                                    (args.ignore,) if args.ignore else (), False, args.target)
        result = engine.check(["."], jobs=1)
    except ConfigError as exc:
        raise RuntimeError(_one_line(f"pipelint check failed: {exc}")) from None
    problems = result.errors + result.internal_errors  # what makes `pipelint check` exit 2
    if problems:
        raise RuntimeError(_one_line(f"pipelint check failed: {problems[0]}"))
    counts: dict[str, int] = {}
    for f in result.findings:
        counts[f.code] = counts.get(f.code, 0) + 1
    return dict(sorted(counts.items()))


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _record(records: str, **fields) -> None:
    """Merge `fields` into this repository's record (one JSON file per repository, in `records`)."""
    # all-repos works in a temporary clone whose origin is the repository's remote: that names it
    remote = subprocess.run(["git", "remote", "get-url", "origin"], capture_output=True, text=True,
                            check=False).stdout.strip()
    path = os.path.join(records, hashlib.sha256(remote.encode()).hexdigest() + ".json")
    data = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    data.update(fields)
    data["remote"] = remote
    write_atomic(path, json.dumps(data).encode())


def apply_fix(extra: Sequence[str], args: argparse.Namespace, records: str) -> None:
    from all_repos import autofix_lib

    try:
        _record(records, before=_counts(args))
        # exit 1 means problems are left that fix cannot repair: the fixes made are still committed
        result = autofix_lib.run(sys.executable, "-m", "pipelint", "fix", ".", "--exit-zero", *extra, check=False)
        if result.returncode not in (0, 1):
            raise RuntimeError(_one_line(f"pipelint fix failed (exit {result.returncode}): {result.stderr}"))
        _record(records, after=_counts(args))
    except Exception as exc:
        _record(records, error=_one_line(str(exc)))
        raise


def check_fix(extra: Sequence[str], records: str) -> None:
    from all_repos import autofix_lib

    # idempotence: a second run must find nothing more to change
    try:
        autofix_lib.run(sys.executable, "-m", "pipelint", "fix", ".", "--diff", *extra)
    except Exception as exc:
        _record(records, error=_one_line(f"a second fix would change more: {exc}"))
        raise


def _push(push, records: str, settings, branch_name: str) -> None:
    """all-repos' push, recording in the repository's summary that it happened (or why not: what git and the
    remote said, e.g. a protected branch's refusal, rather than only the failed command)."""
    with tempfile.TemporaryFile() as said:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(said.fileno(), 2)  # git's own messages; one repository at a time in this process
        try:
            push(settings, branch_name)
        except BaseException as exc:
            reason = _git_said(said) or str(exc)
            _record(records, error=_one_line(f"push failed: {reason}"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            said.seek(0)
            sys.stderr.write(said.read().decode("utf-8", "replace"))  # still shown, as all-repos shows it
    _record(records, pushed=True)


def _git_said(said) -> str:
    """The lines of git's error output that give a reason: the remote's words, rejections, errors."""
    said.seek(0)
    lines = said.read(64 * 1024).decode("utf-8", "replace").splitlines()
    keep = [line.strip() for line in lines
            if line.startswith(("remote:", "error:", "fatal:", "hint: Updates were rejected")) or "rejected]" in line]
    return " ".join(line for line in keep if line != "remote:")


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
    parser.add_argument("--shard", help="K/N: only the repositories of shard K (0 to N-1) of N, by name hash")
    parser.add_argument("--summary", help="write a JSON summary per repository of this run to FILE")
    parser.add_argument("--branch-name", default="pipelint-fix", help="branch name (default %(default)s)")
    parser.add_argument("--commit-msg", default="Move Harness YAML off the retired app.harness.io/registry\n\n"
                        "Rewritten by `pipelint fix`: only the values that had to change, byte for byte.",
                        help="commit message")
    args = parser.parse_args(argv)
    if args.pipelint_config:  # the fixers run in each repository's clone
        args.pipelint_config = os.path.abspath(args.pipelint_config)
    try:
        shard = parse_shard(args.shard) if args.shard else None
    except ValueError as exc:
        parser.error(str(exc))
    extra = _pipelint_args(args)
    repos, config, commit, autofix_settings = autofix_lib.from_cli(
        args, find_repos=functools.partial(sharded_find_repos, shard=shard), msg=args.commit_msg,
        branch_name=args.branch_name,
    )
    repos = sorted(repos)
    with tempfile.TemporaryDirectory(prefix="pipelint-all-repos-") as records:
        config = config._replace(push=functools.partial(_push, config.push, records))
        autofix_lib.fix(
            repos,
            apply_fix=functools.partial(apply_fix, tuple(extra), args, records),
            check_fix=functools.partial(check_fix, tuple(extra), records),
            config=config,
            commit=commit,
            autofix_settings=autofix_settings,
        )
        by_remote = {}
        for name in os.listdir(records):
            if name.endswith(".json"):
                with open(os.path.join(records, name), encoding="utf-8") as fh:
                    data = json.load(fh)
                by_remote[data["remote"]] = data
        names = {remote: name for name, remote in config.get_cloned_repos().items()}
        # by name: a remote's URL may hold a token
        failed = sorted(names.get(r, "?") for r, data in by_remote.items() if data.get("error"))
        if args.summary:
            from pipelint.commands import summary

            entries = []
            harness_repos = {os.path.abspath(r) for r in repos[: autofix_settings.limit]}
            chosen = {os.path.abspath(r) for r in repos}
            for name, remote in sorted(config.get_cloned_repos().items()):
                path = os.path.abspath(os.path.join(config.output_dir, name))
                if shard is not None and shard_of(name, shard[1]) != shard[0]:
                    continue
                if args.repos and path not in chosen:
                    continue
                data = by_remote.get(remote, {})
                before = data.get("before", {})
                entries.append(summary.repository(
                    name, harness=path in harness_repos, before=before, after=data.get("after", before),
                    pushed=bool(data.get("pushed")), error=data.get("error")))
            summary.write(args.summary, summary.make(entries, shard=args.shard, dry_run=args.dry_run))
    if failed:  # all-repos printed each one's error; the exit status tells CI
        print(f"pipelint.all_repos_fix: {len(failed)} of {len(repos)} repositories failed: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

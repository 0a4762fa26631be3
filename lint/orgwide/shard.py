"""One shard's all-repos configuration: `python -m pipelint.all_repos_shard -C all-repos.json --shard K/N -o F`.

A CI runner that migrates shard K of N should clone only its own repositories, not the whole organisation and
then skip most of it. This lists the repositories with the configuration's own source (GitHub, GitLab, a JSON
file...), keeps those whose name falls in shard K (`pipelint.all_repos_fix.shard_of`, the split `--shard` uses),
and writes an all-repos configuration F whose source is a JSON file of just those (F with `.repos.json` for
`.json`); everything else (push, include/exclude, all_branches) is copied. Then:

    all-repos-clone -C F
    python -m pipelint.all_repos_fix -C F --shard K/N --summary summary-K.json

Both files are written whole, mode 0600 (all-repos requires it of a configuration, and repository URLs and
push settings may hold credentials). `--output-dir DIR` puts the clones somewhere else than the original's
`output_dir`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from pipelint.orgwide.fix import parse_shard, shard_of
from pipelint.text.files import write_atomic


def shard_config(raw: dict, repos: dict, shard: tuple[int, int], repos_file: str, output_dir: str) -> tuple:
    """(the shard's configuration, its repositories) from the original configuration and the source's list."""
    mine = {name: url for name, url in sorted(repos.items()) if shard_of(name, shard[1]) == shard[0]}
    config = dict(raw)
    config["output_dir"] = output_dir
    config["source"] = "all_repos.source.json_file"
    config["source_settings"] = {"filename": repos_file}
    return config, mine


def _write_private(path: str, text: str) -> None:
    """Whole or not at all, readable by this user only from the first byte (write_atomic's temporary file is
    created so)."""
    write_atomic(path, text.encode("utf-8"), mode=0o600)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipelint.all_repos_shard",
                                     description="Write an all-repos configuration for one shard's repositories.")
    parser.add_argument("-C", "--config-filename", default="all-repos.json", help="all-repos configuration")
    parser.add_argument("--shard", required=True, help="K/N: shard K (0 to N-1) of N, as all_repos_fix --shard")
    parser.add_argument("-o", "--output", required=True, help="the shard's configuration to write")
    parser.add_argument("--output-dir", help="where the shard's clones go (default: the original's output_dir)")
    args = parser.parse_args(argv)
    try:
        shard = parse_shard(args.shard)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        from all_repos.config import load_config
    except ImportError:
        print("pipelint.all_repos_shard needs all-repos: pip install all-repos", file=sys.stderr)
        return 2
    name = args.config_filename
    try:
        with open(name, encoding="utf-8") as fh:
            raw = json.load(fh)
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
        config = load_config(name)
        repos = config.list_repos(config.source_settings)
        if not isinstance(repos, dict):
            raise ValueError("the source listed no repositories")
    except SystemExit as exc:  # all-repos' own checks (permissions, output_dir) end this way
        print(f"{name}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bad configuration or a failing source: one line
        print(f"{name}: {type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 2
    output = os.path.abspath(args.output)
    repos_file = (output[:-5] if output.endswith(".json") else output) + ".repos.json"
    output_dir = os.path.abspath(args.output_dir) if args.output_dir else config.output_dir
    new, mine = shard_config(raw, repos, shard, repos_file, output_dir)
    _write_private(repos_file, json.dumps(mine, indent=2) + "\n")
    _write_private(output, json.dumps(new, indent=2) + "\n")
    print(f"shard {shard[0]}/{shard[1]}: {len(mine)} of {len(repos)} repositories -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Migration summaries: what a run did per repository, written by `all_repos_fix --summary`, joined by
`pipelint report --merge`.

    {"pipelint-summary": 1, "generated": "...", "inputs": [...], "shards": ["0/4"], "dry_run": false,
     "repositories": [{"name": "org/repo", "harness": true, "before": {"REG001": 3}, "after": {},
                       "pushed": true, "error": null}, ...]}

Merging is a union of the repositories by name (a name in two inputs must say the same, else the merge
refuses), sorted by name, so it is associative and order-independent: the merge of N shards' summaries equals
the summary of one unsharded run, apart from `generated` and `inputs`. A summary file is untrusted input: `read`
checks every field's type and bounds its size, and a bad one is one line naming the file.
"""

from __future__ import annotations

import datetime
import json

VERSION = 1
MAX_BYTES = 64 * 1024 * 1024


class SummaryError(Exception):
    pass


def repository(name: str, *, harness: bool, before: dict, after: dict, pushed: bool, error: str | None) -> dict:
    return {"name": name, "harness": harness, "before": dict(sorted(before.items())),
            "after": dict(sorted(after.items())), "pushed": pushed, "error": error}


def make(entries: list[dict], *, shard: str | None = None, dry_run: bool = False, inputs=()) -> dict:
    return {"pipelint-summary": VERSION,
            "generated": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "inputs": list(inputs), "shards": [shard] if shard else [], "dry_run": dry_run,
            "repositories": sorted(entries, key=lambda e: e["name"])}


def write(path: str, data: dict) -> None:
    """Write whole or not at all (files.write_output)."""
    from pipelint.text.files import write_output

    write_output(path, json.dumps(data, indent=2) + "\n")


def read(path: str) -> dict:
    """A summary file, checked field by field; raises SummaryError (one line naming the file)."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SummaryError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise SummaryError(f"{path}: larger than {MAX_BYTES // (1024 * 1024)} MB; not a pipelint summary")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise SummaryError(f"{path}: not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("pipelint-summary") != VERSION:
        raise SummaryError(f"{path}: not a pipelint summary (version {VERSION}): no \"pipelint-summary\": {VERSION}")
    repos = data.get("repositories")
    if not isinstance(repos, list):
        raise SummaryError(f"{path}: \"repositories\" must be a list")
    out = []
    for i, entry in enumerate(repos):
        where = f"{path}: repositories[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise SummaryError(f"{where}: needs a \"name\" (a non-empty string)")
        counts = {}
        for key in ("before", "after"):
            value = entry.get(key, {})
            if not isinstance(value, dict) or not all(isinstance(k, str) and type(v) is int and v >= 0
                                                      for k, v in value.items()):
                raise SummaryError(f"{where}: \"{key}\" must map rule codes to counts")
            counts[key] = value
        if not isinstance(entry.get("harness", False), bool) or not isinstance(entry.get("pushed", False), bool):
            raise SummaryError(f"{where}: \"harness\" and \"pushed\" must be true or false")
        error = entry.get("error")
        if error is not None and not isinstance(error, str):
            raise SummaryError(f"{where}: \"error\" must be a string or null")
        out.append(repository(entry["name"], harness=entry.get("harness", False), before=counts["before"],
                              after=counts["after"], pushed=entry.get("pushed", False), error=error))
    shards = data.get("shards", [])
    if not isinstance(shards, list) or not all(isinstance(s, str) for s in shards):
        raise SummaryError(f"{path}: \"shards\" must be a list of K/N strings")
    return {"pipelint-summary": VERSION, "generated": data.get("generated"), "inputs": [path],
            "shards": shards, "dry_run": bool(data.get("dry_run", False)), "repositories": out}


def merge(summaries: list[dict], inputs=()) -> dict:
    """One summary of all; raises SummaryError when two summaries say different things of one repository."""
    by_name: dict[str, dict] = {}
    for s in summaries:
        for entry in s["repositories"]:
            known = by_name.get(entry["name"])
            if known is not None and known != entry:
                raise SummaryError(f"repository {entry['name']} appears in two summaries with different results "
                                   "(shards of different runs?)")
            by_name[entry["name"]] = entry
    shards = sorted({sh for s in summaries for sh in s.get("shards", [])})
    merged = make(list(by_name.values()), dry_run=any(s.get("dry_run") for s in summaries),
                  inputs=[i for s in summaries for i in s.get("inputs", [])] + list(inputs))
    merged["shards"] = shards
    return merged


def comparable(data: dict) -> dict:
    """The summary without what differs between equal runs (when and from which files)."""
    return {k: v for k, v in data.items() if k not in ("generated", "inputs", "shards")}


def totals(data: dict) -> dict:
    """Organisation totals: repositories, with Harness configuration, pushed, failed; findings per rule before and
    after, and the repositories most affected (by findings left, then found)."""
    repos = data["repositories"]
    before: dict[str, int] = {}
    after: dict[str, int] = {}
    for r in repos:
        for code, n in r["before"].items():
            before[code] = before.get(code, 0) + n
        for code, n in r["after"].items():
            after[code] = after.get(code, 0) + n
    affected = sorted((r for r in repos if r["before"] or r["after"]),
                      key=lambda r: (-sum(r["after"].values()), -sum(r["before"].values()), r["name"]))
    return {"repositories": len(repos), "harness": sum(1 for r in repos if r["harness"]),
            "pushed": sum(1 for r in repos if r["pushed"]), "failed": [r for r in repos if r["error"]],
            "before": dict(sorted(before.items())), "after": dict(sorted(after.items())), "affected": affected}

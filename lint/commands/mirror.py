"""`pipelint mirror`: copy the images the files reference into a private registry, under the names IMG005's fix
writes (`pipelint.mirror_layout`), with `skopeo copy --all --preserve-digests`, and prove the copies.

The plan: every image the inventory lists (and `--images FILE`) that is outside the allowed registries and not on
the mirror yet, once per reference. An image on the retired Harness registry is copied from Docker Hub's
`harness/...`, where Harness publishes the same images. For each item: the source digest (the reference's own, or
what its tag names now), the destination checked with the project's OCI client (already there with that digest:
nothing to copy), the copy, and the destination's digest read back and compared with the source's. Nothing here
prints; the command line shows progress and the table.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pipelint.oci import mirror_layout, registries
from pipelint.oci.client import Client, Options, RegistryError, auth_file_path, plain_http
from pipelint.oci.images import ImageRef, parse_image

COPIED, PRESENT, FAILED, PLANNED = "copied", "already present", "failed", "would copy"
MAX_REASON = 240


@dataclass
class Item:
    source: ImageRef  # what the files name (or --images lists)
    dest: ImageRef | None  # its name on the mirror; None: the layout has none
    pull: ImageRef  # where it is copied from (the retired registry's images: Docker Hub)
    uses: int = 0
    status: str = PLANNED
    reason: str = ""
    digest: str = ""  # the source digest, once known


class MirrorError(Exception):
    """A mistake in the invocation or in --images: one line, exit 2."""


def settings(engine) -> tuple[str, str, list[str], str]:
    """(mirror, layout, allowed registries, lockfile) as IMG005 is configured for the run (the lockfile relative
    to the configuration file, as the rule reads it); raises config.ConfigError."""
    from pipelint.engine.config import enabled_rules

    (rule,) = enabled_rules(engine.settings, select=["IMG005"])
    allowed = rule.opts["allowed-registries"]
    return (str(rule.opts["mirror"]), str(rule.opts["mirror-layout"]),
            [str(a) for a in allowed] if isinstance(allowed, list) else [], str(rule.opts["lockfile"]))


def record(items: list[Item], lockfile: str) -> int:
    """Record in the lockfile each image copied to the mirror or found there, under the mirror's name with its
    digest (what IMG005's and REG001's fixes read); how many. Raises LockfileError, OSError."""
    from pipelint.oci.lockfile import Lockfile

    done = [i for i in items if i.status in (COPIED, PRESENT) and i.dest is not None and i.digest]
    if not done:
        return 0
    lock = Lockfile.load(lockfile)
    for item in done:
        assert item.dest is not None and item.digest is not None
        lock.set(item.dest, item.digest, source=item.pull)
    lock.save()
    return len(done)


def read_image_list(path: str) -> list[ImageRef]:
    """`--images FILE`: one reference a line; blank lines and `#` comments are skipped."""
    from pipelint.text.source import read

    src = read(path, limit=16 * 1024 * 1024)
    if src.error is not None or src.text is None:
        raise MirrorError(f"{path}: {src.error or 'not a text file'}")
    out = []
    for number, line in enumerate(src.text.splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        ref = parse_image(text)
        if ref is None:
            raise MirrorError(f"{path}:{number}:1: {text[:120]!r} is not an image reference")
        out.append(ref)
    return out


NO_SCOPED_NAME = ("the scoped layout has no name for an image from a registry with a port or an IPv6 address "
                  "(not a valid path component): use the path layout")


def plan(found: dict[ImageRef, int], mirror: str, layout: str, allowed: list[str]) -> list[Item]:
    """What to copy, in name order: images outside `allowed` and not on `mirror`, with their use counts."""
    items: list[Item] = []
    by_dest: dict[str, Item] = {}
    for ref in sorted(found, key=str):
        if mirror_layout.allowed(ref, allowed, mirror):
            continue
        pull = ref
        cut = registries.retired_image_prefix(str(ref))
        if cut:
            pull = parse_image("docker.io/" + str(ref)[cut:]) or ref
        item = Item(ref, mirror_layout.mirrored(ref, mirror, layout), pull, found[ref])
        if item.dest is None:  # refused now, so that the dry run, the copy and the sync files all say so
            item.status, item.reason = FAILED, NO_SCOPED_NAME
        else:
            same = by_dest.get(str(item.dest))
            if same is not None and mirror_layout.canonical(same.pull) == mirror_layout.canonical(pull):
                same.uses += item.uses  # `golang:1.22` and `docker.io/library/golang:1.22`: one image
                continue
            if same is not None:  # two registries' `org/tool` onto one name: never mix them up silently
                item.status = FAILED
                item.reason = f"{same.source} has the same name on the mirror; use the scoped layout"
            else:
                by_dest[str(item.dest)] = item
        items.append(item)
    return items


def _transport(ref: ImageRef) -> str:
    registry, repo = ref.canonical_repository()
    name = f"{registry}/{repo}"
    if ref.digest:
        return f"docker://{name}@{ref.digest}"
    return f"docker://{name}:{ref.tag or 'latest'}"


def copy_all(items: list[Item], options: Options, *, jobs: int = 4, timeout: float = 900.0,
             skopeo: str | None = None, done: Callable[[Item], None] | None = None) -> None:
    """Copy each planned item (in parallel, `jobs` at once), setting its status and reason."""
    skopeo = skopeo or shutil.which("skopeo")
    if skopeo is None:
        raise MirrorError("skopeo is not installed: `apt-get install skopeo` (or see "
                          "https://github.com/containers/skopeo/blob/main/install.md)")
    client = Client(options)
    auth = auth_file_path(options.auth_file)
    lock = threading.Lock()

    def one(item: Item) -> Item:
        if item.status == FAILED:  # decided by the plan
            return item
        try:
            _copy_one(item, client, options, skopeo, auth, timeout)
        except RegistryError as exc:
            item.status, item.reason = FAILED, _short(str(exc).removeprefix(f"{item.pull}: "))
        if done is not None:
            with lock:
                done(item)
        return item

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        list(pool.map(one, items))


def _copy_one(item: Item, client: Client, options: Options, skopeo: str, auth: str | None, timeout: float) -> None:
    if item.dest is None:
        item.status, item.reason = FAILED, NO_SCOPED_NAME
        return
    src = item.pull
    item.digest = src.digest or client.digest(src)
    dest = item.dest
    try:
        there = client.digest(dest, tag=item.digest) if not dest.tag else client.digest(dest)
    except RegistryError as exc:
        if not exc.not_found:  # the mirror refuses us (credentials, access): copying would fail the same way
            item.status, item.reason = FAILED, "the mirror: " + _short(str(exc).removeprefix(f"{dest}: "))
            return
        there = None
    if there == item.digest:
        item.status, item.reason = PRESENT, f"{item.digest[:19]}…"
        return
    exact = ImageRef(src.registry, src.path, None, item.digest)  # the digest just read: a tag that moves meanwhile does not matter
    target = ImageRef(dest.registry, dest.path, dest.tag, None if dest.tag else item.digest)
    cmd = [skopeo, "copy", "--all", "--preserve-digests", "--retry-times", "2", "-q"]
    if auth:
        cmd += ["--authfile", auth]
    src_host, dest_host = src.canonical_repository()[0], dest.canonical_repository()[0]
    if plain_http(src_host, options.insecure):
        cmd.append("--src-tls-verify=false")
    if plain_http(dest_host, options.insecure):
        cmd.append("--dest-tls-verify=false")
    cmd += [_transport(exact), _transport(target)]
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        item.status, item.reason = FAILED, f"skopeo copy did not finish within {timeout:g} s"
        return
    except OSError as exc:
        item.status, item.reason = FAILED, f"cannot run skopeo: {exc.strerror or exc}"
        return
    if proc.returncode != 0:
        item.status, item.reason = FAILED, "skopeo: " + _short(_last_line(proc.stderr) or f"exit {proc.returncode}")
        return
    got = client.digest(target, tag=item.digest) if not target.tag else client.digest(target)
    if got != item.digest:
        item.status, item.reason = FAILED, f"the mirror holds {got[:19]}…, the source {item.digest[:19]}…"
        return
    item.status, item.reason = COPIED, f"digest verified {item.digest[:19]}…"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    if 'msg="' in line:  # logrus: time="..." level=fatal msg="..."
        line = line.split('msg="', 1)[1].rsplit('"', 1)[0]
    return line


def _short(text: str) -> str:
    """One line of at most MAX_REASON characters; a long one keeps its start and its end (skopeo says what went
    wrong last: `...: unauthorized: authentication required`)."""
    text = " ".join(text.split())
    if len(text) <= MAX_REASON:
        return text
    head = MAX_REASON // 3
    return text[:head] + " … " + text[len(text) - (MAX_REASON - head - 3):]


def sync_files(items: list[Item], mirror: str, layout: str, insecure: tuple[str, ...]) -> list[tuple[str, str]]:
    """The `skopeo sync --src yaml` files that copy `items` with `layout`: [(destination, YAML text)]. The scoped
    layout is one file (`skopeo sync --scoped`); the path layout needs one file per destination folder, since
    `skopeo sync` puts an image at `<destination>/<last path component>`."""
    groups: dict[str, dict[str, dict[str, list[str]]]] = {}  # destination -> source registry -> repo -> tags
    for item in items:
        if item.dest is None:
            continue
        registry, repo = item.pull.canonical_repository()
        if layout == "scoped":
            where = mirror.rstrip("/")
        else:
            where = f"{item.dest.registry}/{item.dest.path}".rsplit("/", 1)[0]
        versions = groups.setdefault(where, {}).setdefault(registry, {}).setdefault(repo, [])
        version = item.pull.digest or item.pull.tag or "latest"
        if version not in versions:
            versions.append(version)
    out = []
    for where in sorted(groups):
        lines = [f"# skopeo sync --all --src yaml --dest docker{' --scoped' if layout == 'scoped' else ''} FILE {where}"]
        for registry in sorted(groups[where]):
            lines.append(f"{_yaml_key(registry)}:")
            lines.append("  images:")
            for repo in sorted(groups[where][registry]):
                lines.append(f"    {repo}:")
                lines.extend(f'      - "{v}"' for v in groups[where][registry][repo])
            if plain_http(registry, insecure):
                lines.append("  tls-verify: false")
        out.append((where, "\n".join(lines) + "\n"))
    return out


def _yaml_key(text: str) -> str:
    """A registry host as a YAML key: plain when it is a DNS name, else double-quoted (`[::1]:5000`, a port)."""
    return text if re.fullmatch(r"[A-Za-z0-9.-]+", text) else json.dumps(text)


def write_sync_files(path: str, files: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Write the sync files: `path` for the first, `<stem>.2<suffix>`... for the others; [(file, destination)]."""
    from pipelint.text.files import write_atomic

    stem, suffix = os.path.splitext(path)
    written = []
    for i, (where, text) in enumerate(files):
        name = path if i == 0 else f"{stem}.{i + 1}{suffix or '.yml'}"
        write_atomic(name, text.replace("FILE", name, 1).encode("utf-8"))
        written.append((name, where))
    return written


def table(items: list[Item]) -> str:
    """The items as a table a person reads: image, where it goes, what happened."""
    rows = [("image", "mirror", "result")]
    for item in items:
        result = item.status + (f": {item.reason}" if item.reason else "")
        rows.append((str(item.source), str(item.dest) if item.dest else "-", result))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    return "".join(f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}\n" for a, b, c in rows)


def summary(items: list[Item]) -> str:
    counts = {s: sum(1 for i in items if i.status == s) for s in (COPIED, PRESENT, FAILED)}
    return f"Copied {counts[COPIED]}, already present {counts[PRESENT]}, failed {counts[FAILED]}."

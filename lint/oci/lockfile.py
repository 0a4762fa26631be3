"""`pipelint.lock`: what each `registry/repository:tag` resolved to, so later runs are offline and reviewable.

JSON, keys sorted, one entry per image:

    {"version": 1, "images": {"docker.io/library/alpine:3.20": {"digest": "sha256:…",
                                                                  "resolved_at": "2026-11-28T04:00:00Z"}}}

`pipelint mirror` records each image it copied to the mirror, or found there, under the mirror's name, with
`"mirrored_from"` naming the source: what IMG005's and REG001's fixes read to move a reference onto the mirror
only when the image is there (an image pinned only by digest is keyed `registry/repository@digest`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC

from pipelint.oci.images import ImageRef
from pipelint.text.source import ReadError, parse_json, read_bytes

VERSION = 1
SAVE_TRIES = 5


class LockfileError(Exception):
    pass


# The digests the OCI image spec registers: sha256 (64 hex) and sha512 (128 hex), lower case. A lockfile is
# a file of the repository, which anyone may edit in a pull request: what is not a digest is never written.
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128}")


def valid_digest(value) -> bool:
    return isinstance(value, str) and _DIGEST.fullmatch(value) is not None


def key(ref: ImageRef, tag: str | None = None) -> str:
    registry, repo = ref.canonical_repository()
    return f"{registry}/{repo}:{tag or ref.tag or 'latest'}"


@dataclass
class Lockfile:
    path: str
    images: dict[str, dict] = field(default_factory=dict)
    read: bytes | None = None  # the file's bytes when loaded (None: there was none)
    changed: set[str] = field(default_factory=set)  # the entries this run set

    @classmethod
    def load(cls, path: str) -> Lockfile:
        if not os.path.lexists(path):
            return cls(path)
        try:
            raw = read_bytes(path, MAX_BYTES)
        except ReadError as exc:
            raise LockfileError(f"{path}: cannot read the lockfile: {exc}") from None
        try:
            data = parse_json(raw, path, "lockfile")
        except ValueError as exc:
            raise LockfileError(str(exc)) from None
        if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("images"), dict):
            raise LockfileError(f"{path}: not a pipelint lockfile (version {VERSION})")
        for name, entry in data["images"].items():
            if not isinstance(entry, dict) or not isinstance(entry.get("digest"), str):
                raise LockfileError(f"{path}: entry {name!r} has no digest")
            if not valid_digest(entry["digest"]):
                raise LockfileError(f"{path}: entry {name!r}: {entry['digest'][:80]!r} is not a digest "
                                    "(sha256: and 64 hex digits, or sha512: and 128)")
        return cls(path, dict(data["images"]), raw)

    def get(self, ref: ImageRef) -> str | None:
        entry = self.images.get(key(ref))
        return entry["digest"] if entry else None

    def set(self, ref: ImageRef, digest: str, now=None, source: ImageRef | None = None) -> None:
        """Record what `ref` resolves to; with `source`, that `ref` is a mirror's copy of it (`pipelint mirror`)."""
        from datetime import datetime

        if not valid_digest(digest):
            raise LockfileError(f"{ref}: {digest[:80]!r} is not a digest")
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        entry = {"digest": digest, "resolved_at": stamp}
        if source is not None:
            entry["mirrored_from"] = str(source)
        self.images[mirror_key(ref)] = entry
        self.changed.add(mirror_key(ref))

    def holds(self, ref: ImageRef) -> bool:
        """Whether the lockfile knows `ref` is there: its name recorded (by `pin` or `mirror`), and for a
        reference with a digest, that very digest."""
        entry = self.images.get(mirror_key(ref))
        return entry is not None and (ref.digest is None or entry["digest"] == ref.digest)


    def text(self) -> str:
        data = {"version": VERSION, "images": {k: self.images[k] for k in sorted(self.images)}}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self) -> None:
        """Write the lockfile, keeping what was written to it since it was loaded (another `pin` or `mirror`, a
        `git pull`, a person): if the file changed meanwhile, the entries this run set go over it as it is now
        (read again), never over the stale copy. Raises LockfileError (the file is no lockfile now), OSError."""
        from pipelint.text import files

        for _ in range(SAVE_TRIES):
            data = self.text().encode()
            try:
                if self.read is None:  # there was none: unless one was made meanwhile
                    files.write_new(self.path, data)
                else:
                    files.write_if_unchanged(self.path, self.read, data)
            except files.ChangedMeanwhile:
                now = Lockfile.load(self.path)
                self.images = {**now.images, **{k: self.images[k] for k in self.changed}}
                self.read = now.read
                continue
            self.read = data
            return
        raise LockfileError(f"{self.path}: changed each time it was about to be written ({SAVE_TRIES} times); "
                            "run again")


def mirror_key(ref: ImageRef) -> str:
    """`key`, except that a reference with a digest and no tag is `registry/repository@digest`."""
    if ref.tag is None and ref.digest is not None:
        registry, repo = ref.canonical_repository()
        return f"{registry}/{repo}@{ref.digest}"
    return key(ref)


class Reader:
    """A rule's view of a configured lockfile: read on first use; the error, if it cannot be read; its content's
    digest for cache keys (findings that read the lockfile change with it)."""

    def __init__(self, path: str):
        self.path = path
        self._lock: Lockfile | None = None
        self.error: str | None = None

    def get(self) -> Lockfile | None:
        if self._lock is None and self.error is None:
            try:
                self._lock = Lockfile.load(self.path)
            except LockfileError as exc:
                self.error = str(exc)
        return self._lock

    def cache_key(self) -> str:
        import hashlib

        try:  # a regular file of a bounded size only: a FIFO planted as pipelint.lock would block open().read()
            return hashlib.sha256(read_bytes(self.path, MAX_BYTES)).hexdigest()
        except ReadError as exc:
            return f"unreadable: {exc}"


MAX_BYTES = 64 * 1024 * 1024  # a larger lockfile is not read


def on_mirror(reader: Reader, new: ImageRef) -> tuple[bool, str]:
    """(whether the lockfile records `new` on the mirror, and if not, what a finding says instead of a fix)."""
    lock = reader.get()
    if lock is None:
        return False, f"cannot tell whether {new} is on the mirror: {reader.error}"
    if lock.holds(new):
        return True, ""
    return False, (f"{new} is not on the mirror yet: run `pipelint mirror` (it records each copy in "
                   f"{os.path.basename(reader.path)})")

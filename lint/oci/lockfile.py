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
from pipelint.text.source import read_json

VERSION = 1


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

    @classmethod
    def load(cls, path: str) -> Lockfile:
        if not os.path.exists(path):
            return cls(path)
        try:
            data = read_json(path, "lockfile")
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
        return cls(path, dict(data["images"]))

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

    def holds(self, ref: ImageRef) -> bool:
        """Whether the lockfile knows `ref` is there: its name recorded (by `pin` or `mirror`), and for a
        reference with a digest, that very digest."""
        entry = self.images.get(mirror_key(ref))
        return entry is not None and (ref.digest is None or entry["digest"] == ref.digest)


    def text(self) -> str:
        data = {"version": VERSION, "images": {k: self.images[k] for k in sorted(self.images)}}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self) -> None:
        from pipelint.text.files import write_atomic

        write_atomic(self.path, self.text().encode())


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

        from pipelint.text.source import ReadError, read_bytes

        try:  # a regular file of a bounded size only: a FIFO planted as pipelint.lock would block open().read()
            return hashlib.sha256(read_bytes(self.path, MAX_BYTES)).hexdigest()
        except ReadError as exc:
            return f"unreadable: {exc}"


MAX_BYTES = 64 * 1024 * 1024  # read_json's bound for a lockfile


def on_mirror(reader: Reader, new: ImageRef) -> tuple[bool, str]:
    """(whether the lockfile records `new` on the mirror, and if not, what a finding says instead of a fix)."""
    lock = reader.get()
    if lock is None:
        return False, f"cannot tell whether {new} is on the mirror: {reader.error}"
    if lock.holds(new):
        return True, ""
    return False, (f"{new} is not on the mirror yet: run `pipelint mirror` (it records each copy in "
                   f"{os.path.basename(reader.path)})")

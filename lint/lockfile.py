"""`pipelint.lock`: what each `registry/repository:tag` resolved to, so later runs are offline and reviewable.

JSON, keys sorted, one entry per image:

    {"version": 1, "images": {"docker.io/library/alpine:3.20": {"digest": "sha256:…",
                                                                  "resolved_at": "2026-11-28T04:00:00Z"}}}
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC

from pipelint.images import ImageRef
from pipelint.source import read_json

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

    def set(self, ref: ImageRef, digest: str, now=None) -> None:
        from datetime import datetime

        if not valid_digest(digest):
            raise LockfileError(f"{ref}: {digest[:80]!r} is not a digest")
        stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.images[key(ref)] = {"digest": digest, "resolved_at": stamp}

    def text(self) -> str:
        data = {"version": VERSION, "images": {k: self.images[k] for k in sorted(self.images)}}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def save(self) -> None:
        from pipelint.files import write_atomic

        write_atomic(self.path, self.text().encode())

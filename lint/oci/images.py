"""Image references, parsed the way Docker (distribution/reference) does, and rebuilt."""

from __future__ import annotations

import re

# The reference grammar of the OCI distribution spec / docker's `reference` package (regexp.go), ASCII only:
# lowercase path components, a host (DNS name, or an IPv6 address in brackets) with an optional port, a tag of at
# most 128 characters, and a name of at most 255.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9A-Fa-f]{32,}"
NAME_MAX = 255  # characters of registry and path together

PATH_RE = re.compile(rf"{_COMPONENT}(?:/{_COMPONENT})*", re.ASCII)
DOMAIN_RE = re.compile(_DOMAIN, re.ASCII)
_TAG_RE = re.compile(_TAG, re.ASCII)
_DIGEST_RE = re.compile(_DIGEST, re.ASCII)

DOCKER_HUB = "docker.io"


class ImageRef:
    """An image reference split into registry, repository path, tag and digest. Compared by value."""

    __slots__ = ("digest", "path", "registry", "tag")

    def __init__(self, registry: str | None, path: str, tag: str | None, digest: str | None):
        self.registry = registry  # None: Docker Hub, implicitly
        self.path = path  # repository path, e.g. "library/alpine" is written "alpine"
        self.tag = tag
        self.digest = digest

    def _key(self) -> tuple:
        return (self.registry, self.path, self.tag, self.digest)

    def __eq__(self, other: object) -> bool:
        return type(other) is ImageRef and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"ImageRef{self._key()!r}"

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.path}" if self.registry else self.path

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    def canonical_repository(self) -> tuple[str, str]:
        """(registry host, repository) as a registry client addresses them."""
        registry = self.registry or DOCKER_HUB
        path = self.path
        if registry in (DOCKER_HUB, "index.docker.io", "registry-1.docker.io") and "/" not in path:
            path = "library/" + path
        return registry, path

    def __str__(self) -> str:
        out = self.name
        if self.tag is not None:
            out += ":" + self.tag
        if self.digest is not None:
            out += "@" + self.digest
        return out


def parse_image(text: str) -> ImageRef | None:
    """Parse a reference like Docker; None when `text` is not a valid image reference."""
    ref = text.strip()
    if not ref or len(ref.split(None, 1)) > 1:  # empty, or white space inside (str.split: C, isspace's set)
        return None
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
        if not _DIGEST_RE.fullmatch(digest):
            return None
    tag = None
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        ref, tag = ref[:colon], ref[colon + 1:]
        if not _TAG_RE.fullmatch(tag):
            return None
    registry = None
    first, sep, rest = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost" or first != first.lower()):
        if not DOMAIN_RE.fullmatch(first):
            return None
        registry, ref = first, rest
    if not PATH_RE.fullmatch(ref) or len(ref) + (len(registry) + 1 if registry else 0) > NAME_MAX:
        return None
    return ImageRef(registry, ref, tag, digest)

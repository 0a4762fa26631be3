"""Where an image lives in a private mirror, and whether a registry is allowed: the names IMG005's fix writes
and `pipelint mirror` copies to, computed in one place so that the two always agree.

Two layouts, as in `skopeo sync`:

- `path` (the default): `<mirror>/<repository path>`. Docker Hub's official images keep their implicit
  `library/` (`golang` -> `<mirror>/library/golang`). An image under one of the Harness registry roots (the
  retired `app.harness.io/registry`, `us-docker.pkg.dev/gar-prod-setup/harness-public`, `gcr.io/gcr-prod`) keeps
  the name Harness gives it (`harness/ci-addon`): the notice says not to rename mirrored Harness images.
- `scoped`: `<mirror>/<source registry host>/<repository path>`, what `skopeo sync --scoped` writes
  (`<mirror>/docker.io/library/golang`). A registry with a port cannot be a path component (`host:5000` is not a
  valid repository name), so such images have no scoped name.

Tags and digests never change.
"""

from __future__ import annotations

import re

from pipelint.oci.images import DOMAIN_RE, PATH_RE, ImageRef, parse_image

LAYOUTS = ("path", "scoped")
DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
# registry roots whose images are named below a path of theirs: the image name is what follows
HARNESS_ROOTS = ("app.harness.io/registry/", "us-docker.pkg.dev/gar-prod-setup/harness-public/", "gcr.io/gcr-prod/")
_ENTRY = re.compile(r"(?P<host>[^/]+)(?:/(?P<path>.+))?")


def canonical(ref: ImageRef) -> tuple[str, str]:
    """(registry host, repository path) with Docker Hub spelled `docker.io` and its official images under
    `library/`: how allowed prefixes are matched (`golang` is `docker.io/library/golang`)."""
    host = (ref.registry or DOCKER_HUB).lower()
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    path = ref.path
    if host == DOCKER_HUB and "/" not in path:
        path = "library/" + path
    return host, path


def entry_error(value: object) -> str | None:
    """Why `value` is not a registry prefix (`host[:port]` or `host[:port]/path`), or None."""
    if not isinstance(value, str):
        return "expected a string"
    problem = f'"{value}" is not a registry prefix: write host[:port] or host[:port]/path, like "registry.example.com/ci"'
    if "://" in value:
        return problem + " (no https://)"
    m = _ENTRY.fullmatch(value.rstrip("/"))
    if m is None or not DOMAIN_RE.fullmatch(m["host"]) or (m["path"] is not None and not PATH_RE.fullmatch(m["path"])):
        return problem
    return None


def entries_error(values: object) -> str | None:
    if not isinstance(values, list):
        return "expected a list of strings"
    for v in values:
        problem = entry_error(v)
        if problem:
            return problem
    return None


def mirror_error(value: object) -> str | None:
    """The `mirror` option: empty (no fix), or a registry prefix."""
    return None if value == "" else entry_error(value)


def _normal(entry: str) -> str:
    host, _, path = entry.rstrip("/").partition("/")
    host = host.lower()
    if host in _HUB_ALIASES:
        host = DOCKER_HUB
    return f"{host}/{path}" if path else host


def under(ref: ImageRef, prefix: str) -> bool:
    """`ref` lies under the registry prefix `prefix` (whole path components: `r.example/ci` does not hold
    `r.example/cicd/x`)."""
    host, path = canonical(ref)
    want = _normal(prefix)
    full = f"{host}/{path}"
    return full == want or full.startswith(want + "/")


def allowed(ref: ImageRef, prefixes: list[str], mirror: str = "") -> bool:
    """`ref` comes from an allowed registry: one of `prefixes`, or the mirror itself."""
    return any(under(ref, p) for p in prefixes) or bool(mirror and under(ref, mirror))


def image_name(ref: ImageRef) -> str:
    """The repository path an image keeps in the `path` layout: its path, `library/` for Docker Hub's official
    images, and below a Harness registry root the name Harness gives it."""
    host, path = canonical(ref)
    full = f"{host}/{path}"
    for root in HARNESS_ROOTS:
        if full.startswith(root):
            return full[len(root):]
    return path


def mirrored(ref: ImageRef, mirror: str, layout: str = "path") -> ImageRef | None:
    """`ref` as named on the mirror (tag and digest kept), or None when the layout has no name for it (scoped,
    from a registry with a port)."""
    mirror = mirror.rstrip("/")
    mhost, _, mpath = mirror.partition("/")
    if layout == "scoped":
        host, path = canonical(ref)
        if ":" in host or host.startswith("["):
            return None
        new_path = f"{host}/{path}"
    else:
        new_path = image_name(ref)
    new_path = f"{mpath}/{new_path}" if mpath else new_path
    made = ImageRef(mhost, new_path, ref.tag, ref.digest)
    return made if parse_image(str(made)) == made else None


def registry_prefix(url: str) -> str | None:
    """A Docker connector's `dockerRegistryUrl` as the registry prefix its images are named under
    (`https://registry.example.com/harness-mirror/` -> `registry.example.com/harness-mirror`; Docker Hub's URLs ->
    `docker.io`), or None when it is not a registry URL."""
    rest = url.strip().split("://", 1)[-1].rstrip("/")
    for suffix in ("/v2", "/v1"):
        rest = rest.removesuffix(suffix)
    host, _, path = rest.partition("/")
    if host.lower() in _HUB_ALIASES:
        host = DOCKER_HUB
    prefix = f"{host}/{path}" if path else host
    return prefix if entry_error(prefix) is None else None


def serves_from_allowed(url: str, prefixes: list[str], mirror: str = "") -> bool:
    """Whether a connector with this URL pulls Harness's images (`<prefix>/harness/...`) from an allowed registry
    or the mirror; a URL that is no registry URL is not judged here (True)."""
    prefix = registry_prefix(url)
    if prefix is None:
        return True
    ref = parse_image(f"{prefix}/harness/ci-addon")
    return ref is None or allowed(ref, prefixes, mirror)

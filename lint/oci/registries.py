"""Registry facts (harness-yaml.md § 3): the retired Harness registry and its replacements."""

from __future__ import annotations

import re

RETIRED = "app.harness.io/registry"
EOL_NOTE = "end of life 15 May 2024"

# `app.harness.io/registry`, any case, with or without scheme, trailing `/` or `/v2/`.
_RETIRED_URL = re.compile(r"(?:https?://)?app\.harness\.io/registry(?:/v2)?/?", re.IGNORECASE)
_RETIRED_IMAGE_PREFIX = re.compile(r"(?:https?://)?app\.harness\.io/registry/", re.IGNORECASE)

DOCKER_HUB_HOSTS = frozenset({"registry.hub.docker.com", "index.docker.io", "docker.io", "registry-1.docker.io"})
MIRROR_HOSTS = frozenset({"gcr.io", "us-docker.pkg.dev", "public.ecr.aws"})


class Target:
    """Where Harness images are pulled from instead of the retired registry. Compared by value."""

    __slots__ = ("image_prefix", "provider", "url")

    def __init__(self, url: str, provider: str, image_prefix: str):
        self.url = url  # dockerRegistryUrl
        self.provider = provider  # providerType
        self.image_prefix = image_prefix  # what replaces `app.harness.io/registry/` in an image reference

    def __eq__(self, other: object) -> bool:
        return type(other) is Target and (self.url, self.provider, self.image_prefix) == (
            other.url, other.provider, other.image_prefix)

    def __hash__(self) -> int:
        return hash((self.url, self.provider, self.image_prefix))

    def __repr__(self) -> str:
        return f"Target({self.url!r}, {self.provider!r}, {self.image_prefix!r})"


TARGETS = {
    "dockerhub": Target("https://registry.hub.docker.com", "DockerHub", ""),
    "gar": Target("https://us-docker.pkg.dev/gar-prod-setup/harness-public", "Other",
                  "us-docker.pkg.dev/gar-prod-setup/harness-public/"),
    "gcr": Target("https://gcr.io/gcr-prod", "Other", "gcr.io/gcr-prod/"),
    "ecr": Target("https://public.ecr.aws/harness", "Other", "public.ecr.aws/"),
}

_CUSTOM_URL = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[A-Za-z0-9._/-]*)?")


AUTO = "auto"


def target(name: str, authenticated: bool = False) -> Target:
    """A named target, or a custom `https://host/path` URL (providerType Other). `auto` (the default): the
    Harness ECR public gallery for what pulls anonymously (no Docker Hub rate limits), Docker Hub for a
    connector with credentials (the notice's instruction; those credentials must then change)."""
    if name == AUTO:
        return TARGETS["dockerhub"] if authenticated else TARGETS["ecr"]
    if name in TARGETS:
        return TARGETS[name]
    url = name.rstrip("/")
    host_path = url.split("://", 1)[1]
    return Target(url, "Other", host_path + "/")


def target_error(name: object) -> str | None:
    if isinstance(name, str) and (name in TARGETS or name == AUTO or _CUSTOM_URL.fullmatch(name)):
        if name not in TARGETS and is_retired_url(name):
            return "the target cannot be the retired registry"
        return None
    return 'expected "auto", "dockerhub", "gar", "gcr", "ecr" or a URL like "https://my.registry.example/harness"'


def is_retired_url(url: str) -> bool:
    return _RETIRED_URL.fullmatch(url.strip()) is not None


def retired_image_prefix(image: str) -> int:
    """Length of the `app.harness.io/registry/` prefix of `image`, 0 when it has none."""
    m = _RETIRED_IMAGE_PREFIX.match(image)
    return m.end() if m else 0


def url_host(url: str) -> str:
    rest = url.strip().split("://", 1)[-1]
    host = re.split(r"[/?#]", rest, maxsplit=1)[0]
    return host.rsplit("@", 1)[-1].split(":", 1)[0].lower()


def expected_provider(url: str) -> str | None:
    host = url_host(url)
    if host in DOCKER_HUB_HOSTS:
        return "DockerHub"
    if host in MIRROR_HOSTS:
        return "Other"
    return None

"""A client for the OCI Distribution API: enough to turn `name:tag` into a digest.

Standard library only (urllib, a thread pool): the API needed is four requests, and a dependency would
add start-up time to every pre-commit run for nothing. What it does:

- `GET /v2/` to learn the auth scheme; `WWW-Authenticate: Bearer realm=…,service=…,scope=…` token flow
  (anonymous or with Basic credentials), or `Basic` auth;
- credentials from `$REGISTRY_AUTH_FILE` (containers' auth.json), `$DOCKER_CONFIG/config.json` or
  `~/.docker/config.json` (`auths` entries: base64 `auth`, or `username`/`password`); credential helpers
  (`credsStore`) are not run;
- `HEAD /v2/<repo>/manifests/<tag>` accepting OCI index/manifest and Docker manifest list/v2; the digest from
  `Docker-Content-Digest`, else a GET and the sha256 of the body;
- Docker Hub naming (`alpine` -> `registry-1.docker.io`, `library/alpine`);
- timeouts, retries with backoff on 429 and 5xx, one clear error per image for 401/403/404, timeouts and
  refused connections -- never with a token or password in it; bounded concurrency;
- HTTPS always, except plain HTTP for loopback registries (`localhost`, `127.0.0.0/8`, `[::1]`, as Docker
  does) and hosts named as insecure.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import os
import re
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from pipelint.images import DOCKER_HUB, ImageRef

ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
DOCKER_HUB_API = "registry-1.docker.io"
_DOCKER_HUB_KEYS = ("https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io",
                    "https://registry-1.docker.io")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


class RegistryError(Exception):
    """A per-image failure, with a message fit for the user (no secrets)."""


@dataclass
class Options:
    timeout: float = 10.0
    retries: int = 3
    backoff: float = 0.5  # seconds; doubled each retry (a Retry-After header is honoured up to 30 s)
    jobs: int = 8
    insecure: tuple[str, ...] = ()  # HOST or HOST:PORT reached over plain HTTP
    auth_file: str | None = None  # overrides the search for a Docker/containers auth file


def api_host(registry: str) -> str:
    return DOCKER_HUB_API if registry in (DOCKER_HUB, "index.docker.io") else registry


def is_loopback(host: str) -> bool:
    name = host
    if name.startswith("["):
        name = name[1:name.index("]")] if "]" in name else name
    else:
        name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def load_credentials(auth_file: str | None = None) -> dict[str, tuple[str, str]]:
    """host -> (username, password), from the first auth file found."""
    candidates = [auth_file] if auth_file else [
        os.environ.get("REGISTRY_AUTH_FILE"),
        os.path.join(os.environ["DOCKER_CONFIG"], "config.json") if os.environ.get("DOCKER_CONFIG") else None,
        os.path.join(os.path.expanduser("~"), ".docker", "config.json"),
    ]
    for path in candidates:
        if not path or not os.path.isfile(path):
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            raise RegistryError(f"cannot read the registry auth file {path}") from None
        creds = {}
        for key, entry in (data.get("auths") or {}).items():
            if not isinstance(entry, dict):
                continue
            user = entry.get("username")
            password = entry.get("password")
            if entry.get("auth"):
                try:
                    user, _, password = base64.b64decode(entry["auth"]).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
            if user is not None and password is not None:
                host = re.sub(r"^https?://", "", key).split("/", 1)[0]
                creds[host] = (user, password)
                if key in _DOCKER_HUB_KEYS or host in _DOCKER_HUB_KEYS:
                    creds[DOCKER_HUB_API] = (user, password)
        return creds
    return {}


@dataclass
class _Host:
    scheme: str
    host: str
    challenge: tuple[str, dict] | None = None  # ("bearer"|"basic", params), learnt from GET /v2/
    tokens: dict = field(default_factory=dict)  # scope -> token
    lock: threading.Lock = field(default_factory=threading.Lock)


def _parse_challenge(header: str) -> tuple[str, dict] | None:
    m = re.match(r"\s*(\w+)\s*(.*)", header or "")
    if not m:
        return None
    params = dict((k.lower(), v) for k, v in re.findall(r'(\w+)="([^"]*)"', m.group(2)))
    return m.group(1).lower(), params


class Client:
    def __init__(self, options: Options | None = None):
        self.options = options or Options()
        self.credentials = load_credentials(self.options.auth_file)
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()

    # --- public -------------------------------------------------------------------------------------
    def digest(self, ref: ImageRef, tag: str | None = None) -> str:
        """The digest `ref`'s tag (or `tag`) points at now. Raises RegistryError."""
        registry, repo = ref.canonical_repository()
        tag = tag or ref.tag or "latest"
        host = self._host(api_host(registry))
        path = f"/v2/{repo}/manifests/{urllib.parse.quote(tag, safe='')}"
        headers = {"Accept": ACCEPT}
        status, resp_headers, body = self._request(host, "HEAD", path, headers, repo, str(ref))
        digest = resp_headers.get("docker-content-digest")
        if not digest or not _DIGEST.fullmatch(digest):
            status, resp_headers, body = self._request(host, "GET", path, headers, repo, str(ref))
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
        return digest

    def digests(self, refs: list[ImageRef]) -> dict[ImageRef, str | RegistryError]:
        """Resolve many at once, at most `jobs` requests in flight."""
        def one(ref):
            try:
                return ref, self.digest(ref)
            except RegistryError as exc:
                return ref, exc

        with ThreadPoolExecutor(max_workers=max(1, self.options.jobs)) as pool:
            return dict(pool.map(one, refs))

    # --- internals ----------------------------------------------------------------------------------
    def _host(self, name: str) -> _Host:
        with self._lock:
            if name not in self._hosts:
                plain = is_loopback(name) or name in self.options.insecure or \
                    name.split(":")[0] in self.options.insecure
                self._hosts[name] = _Host("http" if plain else "https", name)
            return self._hosts[name]

    def _auth_header(self, host: _Host, repo: str, image: str) -> dict:
        if host.challenge is None:
            with host.lock:
                if host.challenge is None:
                    status, headers, _ = self._send(host, "GET", "/v2/", {}, image, expect_auth=True)
                    host.challenge = _parse_challenge(headers.get("www-authenticate", "")) if status == 401 \
                        else ("none", {})
        scheme, params = host.challenge or ("none", {})
        creds = self.credentials.get(host.host)
        if scheme == "basic":
            if not creds:
                return {}
            return {"Authorization": "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()}
        if scheme == "bearer":
            scope = f"repository:{repo}:pull"
            with host.lock:
                token = host.tokens.get(scope)
            if token is None:
                token = self._token(host, params, scope, creds, image)
                with host.lock:
                    host.tokens[scope] = token
            return {"Authorization": f"Bearer {token}"}
        return {}

    def _token(self, host: _Host, params: dict, scope: str, creds, image: str) -> str:
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"{image}: {host.host} asked for a token but named no realm")
        query = {"scope": scope}
        if params.get("service"):
            query["service"] = params["service"]
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {}
        if creds:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        status, _, body = self._fetch(url, "GET", headers, image, host.host)
        if status in (401, 403):
            raise RegistryError(f"{image}: {host.host} refused a token ({status}): check the credentials for "
                                f"{host.host} in your Docker config")
        if status != 200:
            raise RegistryError(f"{image}: {host.host} token endpoint answered {status}")
        try:
            data = json.loads(body)
            return data.get("token") or data["access_token"]
        except (ValueError, KeyError, TypeError):
            raise RegistryError(f"{image}: {host.host} token endpoint gave no token") from None

    def _request(self, host: _Host, method: str, path: str, headers: dict, repo: str, image: str):
        headers = dict(headers, **self._auth_header(host, repo, image))
        status, resp_headers, body = self._send(host, method, path, headers, image)
        if status == 401 and host.challenge and host.challenge[0] == "bearer":
            # the token may have expired: fetch a new one once
            with host.lock:
                host.tokens.pop(f"repository:{repo}:pull", None)
            headers = dict(headers, **self._auth_header(host, repo, image))
            status, resp_headers, body = self._send(host, method, path, headers, image)
        if status == 200:
            return status, resp_headers, body
        where = host.host
        if status == 401:
            hint = "check the credentials" if self.credentials.get(host.host) else "no credentials found"
            raise RegistryError(f"{image}: {where} requires authentication (401): {hint} for {where} "
                                "in your Docker config")
        if status == 403:
            raise RegistryError(f"{image}: {where} denied access (403)")
        if status == 404:
            raise RegistryError(f"{image}: not found on {where} (404): no such repository or tag")
        if status == 429:
            raise RegistryError(f"{image}: {where} is rate limiting (429), still after "
                                f"{self.options.retries} retries")
        raise RegistryError(f"{image}: {where} answered {status}")

    def _send(self, host: _Host, method: str, path: str, headers: dict, image: str, expect_auth: bool = False):
        return self._fetch(f"{host.scheme}://{host.host}{path}", method, headers, image, host.host)

    def _fetch(self, url: str, method: str, headers: dict, image: str, where: str):
        """(status, lower-cased headers, body); retries 429 and 5xx with backoff; RegistryError otherwise."""
        delay = self.options.backoff
        for attempt in range(self.options.retries + 1):
            request = urllib.request.Request(url, method=method, headers=headers)
            try:
                with _OPENER.open(request, timeout=self.options.timeout) as resp:
                    body = resp.read() if method != "HEAD" else b""
                    return resp.status, {k.lower(): v for k, v in resp.headers.items()}, body
            except urllib.error.HTTPError as exc:
                status = exc.code
                resp_headers = {k.lower(): v for k, v in exc.headers.items()} if exc.headers else {}
                exc.close()
                if (status == 429 or status >= 500) and attempt < self.options.retries:
                    wait = delay
                    retry_after = resp_headers.get("retry-after", "")
                    if retry_after.isdigit():
                        wait = min(float(retry_after), 30.0)
                    time.sleep(wait)
                    delay *= 2
                    continue
                return status, resp_headers, b""
            except (TimeoutError, urllib.error.URLError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, (TimeoutError, socket.timeout)):
                    if attempt < self.options.retries:
                        time.sleep(delay)
                        delay *= 2
                        continue
                    raise RegistryError(f"{image}: {where} did not answer within {self.options.timeout:g} s "
                                        f"({self.options.retries + 1} attempts)") from None
                if isinstance(reason, ConnectionRefusedError):
                    raise RegistryError(f"{image}: cannot connect to {where}: connection refused") from None
                if isinstance(reason, socket.gaierror):
                    raise RegistryError(f"{image}: cannot resolve {where}") from None
                if isinstance(reason, OSError) and reason.__class__.__name__.startswith("SSL"):
                    raise RegistryError(f"{image}: TLS with {where} failed: {reason.__class__.__name__} "
                                        f"(an HTTP-only registry? name it with --insecure-registry)") from None
                raise RegistryError(f"{image}: cannot reach {where}: {reason}") from None
            except (ConnectionError, OSError) as exc:
                raise RegistryError(f"{image}: cannot reach {where}: {exc.__class__.__name__}") from None
        raise RegistryError(f"{image}: {where}: too many attempts")  # pragma: no cover


class _NoRedirectAuth(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob stores) but never carry the Authorization header to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


_OPENER = urllib.request.build_opener(_NoRedirectAuth())

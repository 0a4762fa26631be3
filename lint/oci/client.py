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

from pipelint.oci.images import DOCKER_HUB, ImageRef

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
_TOKEN = re.compile(r"[!-~]{1,65536}")  # printable ASCII, no white space: nothing to smuggle into a header


class RegistryError(Exception):
    """A per-image failure, with a message fit for the user (no secrets)."""

    not_found = False  # the registry answered 404: no such repository or tag


class NotFound(RegistryError):
    not_found = True


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


def plain_http(host: str, insecure: tuple[str, ...]) -> bool:
    """A registry reached over plain HTTP: a loopback host, or one named with --insecure-registry."""
    return is_loopback(host) or host in insecure or host.split(":")[0] in insecure


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


def auth_file_path(auth_file: str | None = None) -> str | None:
    """The auth file credentials come from: `auth_file`, else `$REGISTRY_AUTH_FILE`, `$DOCKER_CONFIG/config.json`,
    `~/.docker/config.json`, the first that exists (`pipelint mirror` hands the same one to skopeo)."""
    candidates = [auth_file] if auth_file else [
        os.environ.get("REGISTRY_AUTH_FILE"),
        os.path.join(os.environ["DOCKER_CONFIG"], "config.json") if os.environ.get("DOCKER_CONFIG") else None,
        os.path.join(os.path.expanduser("~"), ".docker", "config.json"),
    ]
    return next((p for p in candidates if p and os.path.isfile(p)), None)


def load_credentials(auth_file: str | None = None) -> dict[str, tuple[str, str]]:
    """host -> (username, password), from the first auth file found."""
    path = auth_file_path(auth_file)
    if path is not None:
        from pipelint.text.source import read_json

        try:
            data = read_json(path, "registry auth file", limit=4 * 1024 * 1024)
        except ValueError as exc:
            raise RegistryError(str(exc)) from None
        auths = data.get("auths") if isinstance(data, dict) else None
        if not isinstance(data, dict) or (auths is not None and not isinstance(auths, dict)):
            raise RegistryError(f"{path}: not a Docker or containers auth file (\"auths\" must be a mapping)")
        creds = {}
        for key, entry in (auths or {}).items():
            if not isinstance(entry, dict):
                continue
            user = entry.get("username")
            password = entry.get("password")
            if isinstance(entry.get("auth"), str) and entry["auth"]:
                try:
                    user, _, password = base64.b64decode(entry["auth"], validate=True).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    continue
            if isinstance(user, str) and isinstance(password, str) and user:
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
    params = {k.lower(): v for k, v in re.findall(r'(\w+)="([^"]*)"', m.group(2))}
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
        _status, resp_headers, body = self._request(host, "HEAD", path, headers, repo, str(ref))
        digest = resp_headers.get("docker-content-digest")
        if not digest or not _DIGEST.fullmatch(digest):
            _status, resp_headers, body = self._request(host, "GET", path, headers, repo, str(ref))
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
                self._hosts[name] = _Host("http" if plain_http(name, self.options.insecure) else "https", name)
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
        problem = self.allowed(url)
        if problem:  # before any credential is attached
            raise RegistryError(f"{image}: {host.host} named a token realm that is refused: {problem}")
        headers = {}
        realm_parts = urllib.parse.urlsplit(url)
        if creds and (realm_parts.scheme == "https" or realm_parts.netloc == host.host):
            headers["Authorization"] = "Basic " + base64.b64encode(f"{creds[0]}:{creds[1]}".encode()).decode()
        status, _, body = self._fetch(url, "GET", headers, image, host.host, limit=MAX_TOKEN)
        if status in (401, 403):
            raise RegistryError(f"{image}: {host.host} refused a token ({status}): check the credentials for "
                                f"{host.host} in your Docker config")
        if status != 200:
            raise RegistryError(f"{image}: {host.host} token endpoint answered {status}")
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            data = None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not _TOKEN.fullmatch(token):
            raise RegistryError(f"{image}: {host.host} token endpoint gave no usable token")
        return token

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
            raise NotFound(f"{image}: not found on {where} (404): no such repository or tag")
        if status == 429:
            raise RegistryError(f"{image}: {where} is rate limiting (429), still after "
                                f"{self.options.retries} retries")
        raise RegistryError(f"{image}: {where} answered {status}")

    def _send(self, host: _Host, method: str, path: str, headers: dict, image: str, expect_auth: bool = False):
        return self._fetch(f"{host.scheme}://{host.host}{path}", method, headers, image, host.host,
                           limit=MAX_MANIFEST)

    def allowed(self, url: str) -> str | None:
        """None when `url` may be fetched (HTTPS, or plain HTTP to a loopback or --insecure-registry host),
        else why not."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return None
        if parts.scheme == "http" and parts.hostname:
            netloc = parts.netloc.rsplit("@", 1)[-1]
            if is_loopback(netloc) or netloc in self.options.insecure or parts.hostname in self.options.insecure:
                return None
            return f"plain HTTP to {netloc} (only loopback and --insecure-registry hosts)"
        return f"not an http(s) URL: {url[:80]!r}"

    def _fetch(self, url: str, method: str, headers: dict, image: str, where: str, limit: int = 0):
        """(status, lower-cased headers, body); retries 429 and 5xx with backoff; RegistryError otherwise.
        Each attempt has one deadline (`--timeout`) for connecting, the headers and the whole body; a body
        over `limit` bytes is refused; redirects are followed (at most 5) only to URLs `allowed` accepts,
        and the Authorization header never leaves the host it was meant for."""
        delay = self.options.backoff
        for attempt in range(self.options.retries + 1):
            try:
                return self._attempt(url, method, headers, image, where, limit or MAX_MANIFEST)
            except _Retry as retry:
                if attempt >= self.options.retries:
                    if retry.status is not None:
                        return retry.status, retry.headers, b""
                    raise RegistryError(f"{image}: {where} did not answer within {self.options.timeout:g} s "
                                        f"({self.options.retries + 1} attempts)") from None
                wait = delay
                retry_after = (retry.headers or {}).get("retry-after", "")
                if retry_after.isdigit():
                    wait = min(float(retry_after), 30.0)
                time.sleep(wait)
                delay *= 2
        raise RegistryError(f"{image}: {where}: too many attempts")  # pragma: no cover

    def _attempt(self, url: str, method: str, headers: dict, image: str, where: str, limit: int):
        import http.client
        import ssl

        origin = urllib.parse.urlsplit(url).netloc
        for _ in range(6):
            problem = self.allowed(url)
            if problem:
                raise RegistryError(f"{image}: refused to fetch {problem}")
            parts = urllib.parse.urlsplit(url)
            send = dict(headers)
            if parts.netloc != origin:
                send.pop("Authorization", None)  # credentials only to the host they belong to
            deadline = time.monotonic() + self.options.timeout
            cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = cls(parts.hostname or "", parts.port, timeout=self.options.timeout)
            aborted = threading.Event()
            watchdog = threading.Timer(self.options.timeout, _abort, (conn, aborted))
            watchdog.daemon = True
            watchdog.start()
            try:
                target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
                conn.request(method, target, headers=send)
                resp = conn.getresponse()
                if aborted.is_set():  # what was read before the deadline cut it is not an answer
                    raise TimeoutError
                resp_headers = {k.lower(): v for k, v in resp.getheaders()}
                status = resp.status
                if status in (301, 302, 303, 307, 308) and resp_headers.get("location"):
                    url = urllib.parse.urljoin(url, resp_headers["location"])
                    continue
                if status == 429 or status >= 500:
                    raise _Retry(status, resp_headers)
                if status != 200 or method == "HEAD":
                    return status, resp_headers, b""
                length = resp_headers.get("content-length", "")
                if length.isdigit() and int(length) > limit:
                    raise RegistryError(f"{image}: {where} announced {int(length):,} bytes, over the "
                                        f"{limit:,} a manifest or token may have")
                chunks, size = [], 0
                while True:
                    chunk = resp.read(min(65536, limit + 1 - size))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > limit:
                        raise RegistryError(f"{image}: {where} sent more than the {limit:,} bytes a manifest "
                                            "or token may have")
                    if time.monotonic() > deadline:
                        raise TimeoutError
                if aborted.is_set() or (length.isdigit() and size != int(length)):
                    raise TimeoutError if aborted.is_set() else http.client.IncompleteRead(b"", int(length) - size)
                return status, resp_headers, b"".join(chunks)
            except (RegistryError, _Retry):
                raise
            except TimeoutError:
                raise _Retry(None, {}) from None
            except ConnectionRefusedError:
                raise RegistryError(f"{image}: cannot connect to {where}: connection refused") from None
            except socket.gaierror:
                raise RegistryError(f"{image}: cannot resolve {where}") from None
            except ssl.SSLError as exc:
                raise RegistryError(f"{image}: TLS with {where} failed: {exc.__class__.__name__} "
                                    f"(an HTTP-only registry? name it with --insecure-registry)") from None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                if aborted.is_set():  # the watchdog ended a request past its deadline
                    raise _Retry(None, {}) from None
                raise RegistryError(f"{image}: cannot reach {where}: {exc.__class__.__name__}") from None
            finally:
                watchdog.cancel()
                conn.close()
        raise RegistryError(f"{image}: {where}: too many redirects")


MAX_MANIFEST = 4 * 1024 * 1024  # bytes: the OCI distribution spec's limit for a manifest
MAX_TOKEN = 1024 * 1024


class _Retry(Exception):
    """A timed-out attempt (status None), or a 429/5xx answer worth trying again."""

    def __init__(self, status, headers):
        super().__init__(status)
        self.status = status
        self.headers = headers


def _abort(conn, aborted: threading.Event) -> None:
    """The deadline passed: end the request wherever it is (connecting, headers, body)."""
    aborted.set()
    sock = getattr(conn, "sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

"""Real registries for the tests: Debian's `docker-registry` (CNCF distribution) on 127.0.0.1, images pushed
with `skopeo copy` from OCI layouts the tests write, and a small token server for the Bearer flow."""

from __future__ import annotations

import base64
import gzip
import hashlib
import http.server
import io
import json
import os
import shutil
import socket
import subprocess
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

REQUIRED = os.environ.get("PIPELINT_REQUIRE_REGISTRY") == "1"  # set by .ci/run: CI never skips these


def need(*binaries: str) -> None:
    missing = [b for b in binaries if shutil.which(b) is None]
    if missing:
        message = f"needs {', '.join(missing)} (apt-get install docker-registry skopeo apache2-utils)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Registry:
    """`docker-registry serve` on a free loopback port, storage in a temporary folder."""

    def __init__(self, root: Path, users: dict[str, str] | None = None):
        need("docker-registry")
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.users = users or {}
        config = [
            "version: 0.1",
            "log: {level: error}",
            f"storage: {{filesystem: {{rootdirectory: {root / 'data'}}}, delete: {{enabled: true}}}}",
            f"http: {{addr: '{self.host}'}}",
        ]
        if self.users:
            need("htpasswd")
            htpasswd = root / "htpasswd"
            lines = []
            for user, password in self.users.items():
                out = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True)
                lines.append(out.stdout.strip())
            htpasswd.write_text("\n".join(lines) + "\n")
            config.append(f"auth: {{htpasswd: {{realm: pipelint-test, path: {htpasswd}}}}}")
        (root / "config.yml").write_text("\n".join(config) + "\n")
        self.log = open(root / "registry.log", "wb")  # noqa: SIM115 -- open as long as the server runs
        self.proc = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://{self.host}/v2/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # 401: up, and asking for credentials
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("docker-registry did not start: " + (root / "registry.log").read_text()) from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()

    def push(self, work: Path, repo: str, tag: str, platforms=("amd64",), creds: str | None = None) -> str:
        """Push a tiny image (an index when several platforms) with skopeo; return its digest."""
        need("skopeo")
        layout = work / f"layout-{repo.replace('/', '_')}-{tag}"
        digest, multi = write_oci_layout(layout, tag, platforms, seed=f"{repo}:{tag}")
        cmd = ["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", "--preserve-digests", "-q"]
        if multi:
            cmd.append("--all")
        if creds:
            cmd += ["--dest-creds", creds]
        cmd += [f"oci:{layout}:{tag}", f"docker://{self.host}/{repo}:{tag}"]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
        return digest


def _blob(layout: Path, data: bytes) -> dict:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = layout / "blobs" / "sha256" / digest.split(":")[1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"digest": digest, "size": len(data)}


def _image(layout: Path, arch: str, seed: str) -> dict:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        content = f"{seed} {arch}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(content)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(content))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    config = json.dumps({"architecture": arch, "os": "linux", "config": {},
                         "rootfs": {"type": "layers",
                                    "diff_ids": ["sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()]}},
                        sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_blob(layout, config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_blob(layout, layer)}],
    }, sort_keys=True).encode()
    return {"mediaType": "application/vnd.oci.image.manifest.v1+json", **_blob(layout, manifest),
            "platform": {"architecture": arch, "os": "linux"}}


def write_oci_layout(layout: Path, tag: str, platforms=("amd64",), seed: str = "x") -> tuple[str, bool]:
    """An OCI image layout holding one image (or an index of several platforms) tagged `tag`."""
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    images = [_image(layout, arch, seed) for arch in platforms]
    if len(images) == 1:
        top = {k: v for k, v in images[0].items() if k != "platform"}
    else:
        index = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": images}, sort_keys=True).encode()
        top = {"mediaType": "application/vnd.oci.image.index.v1+json", **_blob(layout, index)}
    top["annotations"] = {"org.opencontainers.image.ref.name": tag}
    (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    return top["digest"], len(images) > 1


class TokenRegistry:
    """A registry front that speaks the Bearer token flow (and can misbehave on purpose), for what the
    distribution registry cannot be configured to do without a JWT signing setup: a token endpoint, 403,
    429, slow answers, missing Docker-Content-Digest."""

    def __init__(self, user: str = "bot", password: str = "s3cret-canary", digests: dict | None = None):
        self.user, self.password = user, password
        self.digests = digests or {}  # "repo:tag" -> (digest, body)
        self.mode = "ok"  # ok | forbidden | ratelimit | slow | nodigest | flaky
        self.requests: list[tuple[str, str, str]] = []
        self.tokens: set[str] = set()
        self.flaky_left = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _challenge(self):
                self.send_response(401)
                self.send_header("WWW-Authenticate",
                                 f'Bearer realm="http://{outer.host}/token",service="pipelint-test"')
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_GET(self):
                self._handle(body=True)

            def do_HEAD(self):
                self._handle(body=False)

            def _handle(self, body: bool):
                auth = self.headers.get("Authorization", "")
                outer.requests.append((self.command, self.path, auth))
                if self.path.startswith("/token"):
                    expected = "Basic " + base64.b64encode(f"{outer.user}:{outer.password}".encode()).decode()
                    if auth != expected:
                        self.send_response(401)
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    token = f"tok-{len(outer.tokens)}"
                    outer.tokens.add(token)
                    data = json.dumps({"token": token}).encode()
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                if not auth.startswith("Bearer ") or auth[7:] not in outer.tokens:
                    return self._challenge()
                if outer.mode == "slow":
                    time.sleep(1.5)
                if outer.mode == "forbidden":
                    return self._status(403)
                if outer.mode == "ratelimit":
                    return self._status(429, {"Retry-After": "0"})
                if outer.mode == "flaky" and outer.flaky_left > 0:
                    outer.flaky_left -= 1
                    return self._status(503)
                if self.path == "/v2/":
                    return self._status(200)
                parts = self.path.split("/manifests/")
                name = parts[0][len("/v2/"):] + ":" + parts[1] if len(parts) == 2 else None
                if name not in outer.digests:
                    return self._status(404)
                digest, data = outer.digests[name]
                self.send_response(200)
                self.send_header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                if outer.mode != "nodigest":
                    self.send_header("Docker-Content-Digest", digest)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if body:
                    self.wfile.write(data)

            def _status(self, code, headers=None):
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def add(self, repo: str, tag: str, body: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        self.digests[f"{repo}:{tag}"] = (digest, body)
        return digest

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def docker_config(folder: Path, host: str, user: str, password: str) -> Path:
    """A Docker config.json with base64 `auth` for `host`; returns the folder (for DOCKER_CONFIG)."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return folder

"""A client for Harness's REST API (the classic NG endpoints), built not to trust the peer.

Facts from Harness's own sources (harness/harness-go-sdk, generated from the API description; harness-core's
resources): every call carries `accountIdentifier` (and `orgIdentifier`/`projectIdentifier` where scoped) and the
`x-api-key` header; answers come in a `{status, data, ...}` envelope (errors: `{status: ERROR, code, message}`);
lists are paged (`pageIndex`/`pageSize` or `page`/`size`), and every page is followed whatever its size; about
400 calls a minute per key are allowed, and a 429 carries no `Retry-After`.

So: HTTPS only (plain HTTP for a loopback endpoint alone); one deadline for the whole run, each call bounded by a
timeout; a 429 is waited out with growing pauses inside that deadline; calls are paced under 350 a minute; an
answer is capped at 32 MiB and must be a JSON object; the key is never printed, logged or written (errors name
the call, not its headers).
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request

from pipelint.oci.client import is_loopback

DEFAULT_ENDPOINT = "https://app.harness.io/gateway"
MAX_ANSWER = 32 * 1024 * 1024
PACE = 60 / 350  # seconds between calls: under the ~400 a minute Harness allows a key
BURST = 20  # calls allowed at once before the pace applies


class ApiError(Exception):
    """One line for a person: which call, and what Harness (or the network) said."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def account_of(key: str) -> str | None:
    """The account a personal or service-account token belongs to (`pat.<account>.<id>.<secret>`), or None."""
    parts = key.split(".")
    return parts[1] if len(parts) >= 4 and parts[0] in ("pat", "sat") and parts[1] else None


def endpoint_error(url: str) -> str | None:
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https" and parsed.hostname:
        return None
    if parsed.scheme == "http" and parsed.hostname and is_loopback(parsed.netloc):
        return None
    return f"{url!r}: the endpoint must be an https:// URL (plain http only for a loopback address)"


class Client:
    def __init__(self, endpoint: str, key: str, account: str, *, timeout: float = 30.0, deadline: float = 600.0,
                 pace: float = PACE):
        problem = endpoint_error(endpoint)
        if problem:
            raise ApiError(problem)
        self.endpoint = endpoint.rstrip("/")
        self._key = key
        self.account = account
        self.timeout = timeout
        self.deadline = time.monotonic() + deadline
        self.pace = pace
        self._sent: list[float] = []
        self.calls = 0

    @classmethod
    def from_environment(cls, endpoint: str | None = None, **kwargs) -> Client:
        """The key from HARNESS_API_KEY (never a file of the repository), the account from HARNESS_ACCOUNT_ID or the
        key itself, the endpoint from --endpoint, HARNESS_ENDPOINT or Harness's SaaS gateway."""
        key = os.environ.get("HARNESS_API_KEY", "").strip()
        if not key:
            raise ApiError("HARNESS_API_KEY is not set: a personal or service-account token of the account")
        account = os.environ.get("HARNESS_ACCOUNT_ID", "").strip() or account_of(key)
        if not account:
            raise ApiError("no account: set HARNESS_ACCOUNT_ID (the key does not name one)")
        return cls(endpoint or os.environ.get("HARNESS_ENDPOINT") or DEFAULT_ENDPOINT, key, account, **kwargs)

    # --- calls ----------------------------------------------------------------------------------------
    def call(self, method: str, path: str, params: dict | None = None, body: object = None,
             text: str | None = None, headers: dict | None = None) -> tuple[dict, dict]:
        """(the answer's JSON object, its headers, lower-cased) for one call; raises ApiError."""
        query = {"accountIdentifier": self.account, **{k: v for k, v in (params or {}).items() if v is not None}}
        url = f"{self.endpoint}{path}?{urllib.parse.urlencode(query)}"
        data, content_type = None, None
        if text is not None:
            data, content_type = text.encode("utf-8"), "application/yaml"
        elif body is not None:
            data, content_type = json.dumps(body).encode("utf-8"), "application/json"
        wait = 0.5
        while True:
            self._pace()
            request = urllib.request.Request(url, data=data, method=method)
            request.add_header("x-api-key", self._key)
            request.add_header("Accept", "application/json")
            if content_type:
                request.add_header("Content-Type", content_type)
            for k, v in (headers or {}).items():
                request.add_header(k, v)
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise ApiError(f"{method} {path}: no answer within the run's deadline")
            try:
                with urllib.request.urlopen(request, timeout=min(self.timeout, left)) as answer:
                    raw = answer.read(MAX_ANSWER + 1)
                    status, got = answer.status, {k.lower(): v for k, v in answer.headers.items()}
            except urllib.error.HTTPError as exc:
                status, got = exc.code, {k.lower(): v for k, v in (exc.headers or {}).items()}
                raw = exc.read(MAX_ANSWER + 1) if exc.fp is not None else b""
            except (urllib.error.URLError, TimeoutError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                raise ApiError(f"{method} {path}: {reason}") from None
            if status == 429:  # no Retry-After: back off, within the deadline
                if time.monotonic() + wait >= self.deadline:
                    raise ApiError(f"{method} {path}: rate limited (429) until the run's deadline", 429)
                time.sleep(wait)
                wait = min(wait * 2, 30.0)
                continue
            return self._envelope(method, path, status, raw), got

    def _pace(self) -> None:
        now = time.monotonic()
        self._sent = [t for t in self._sent if now - t < 60]
        if len(self._sent) >= BURST:
            gap = self._sent[-1] + self.pace - now
            if gap > 0:
                time.sleep(gap)
        self._sent.append(time.monotonic())
        self.calls += 1

    def _envelope(self, method: str, path: str, status: int, raw: bytes) -> dict:
        if len(raw) > MAX_ANSWER:
            raise ApiError(f"{method} {path}: an answer over {MAX_ANSWER // (1024 * 1024)} MiB", status)
        try:
            data = json.loads(raw.decode("utf-8")) if raw else {}
        except (UnicodeDecodeError, ValueError, RecursionError):
            data = None
        if status in (401, 403):
            raise ApiError(f"{method} {path}: the API key was refused ({status})", status)
        if not isinstance(data, dict):
            raise ApiError(f"{method} {path}: HTTP {status}, and the answer is not a JSON object", status)
        if status >= 400 or data.get("status") in ("ERROR", "FAILURE"):
            message = data.get("message") or data.get("code") or f"HTTP {status}"
            raise ApiError(f"{method} {path}: {' '.join(str(message).split())[:300]}", status)
        return data

    def pages(self, method: str, path: str, params: dict | None = None, body: object = None,
              style: str = "pageIndex") -> list:
        """Every item of a paged list, following every page whatever its size."""
        names = ("pageIndex", "pageSize") if style == "pageIndex" else ("page", "size")
        out: list = []
        page = 0
        while True:
            data, _ = self.call(method, path, {**(params or {}), names[0]: page, names[1]: 100}, body)
            content = (data.get("data") or {}).get("content")
            if not isinstance(content, list):
                raise ApiError(f"{method} {path}: the answer has no list of content")
            out.extend(content)
            total = (data.get("data") or {}).get("totalPages")
            page += 1
            if not content or not isinstance(total, int) or page >= total or page > 10_000:
                return out

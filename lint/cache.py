"""The check cache: `.pipelint_cache/`, one entry per (file path, content, pipelint version, configuration).

Safe to restore from an untrusted place (a CI cache, a pull request that commits the folder):
- entries are JSON, read by `json` only and checked field by field against the shape below; anything
  malformed, truncated, oversized (over MAX_ENTRY bytes), deeply nested or of another format is a miss,
  never an error, and nothing in an entry is ever executed or imported;
- every entry carries an HMAC-SHA256 of its content under a secret that is not in the cache folder
  (`$PIPELINT_CACHE_KEY`, else a random key in `~/.cache/pipelint/key`, created mode 0600): an entry planted
  by someone without the key, claiming that a file has no findings, is a miss too;
- an entry holds only what a warm run reports: findings (code, message, span, fixable or not), the file's
  suppressions, and the `harnessImageConnectorRef` values and Harness Cloud stages cross-file rules read.
  No source text: files with connector documents (whose text cross-file fixes need, and which may hold
  credentials) are never cached, and are small.

A changed byte, a changed configuration (rules, severities, options, anything a rule declares in
`cache_key()`) or another pipelint version is another key, so stale entries are never read; deleting the
folder reclaims the space. Writes are atomic renames, safe with several worker processes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from pipelint import __version__

DIRNAME = ".pipelint_cache"
FORMAT = "6"  # bumped whenever what an entry holds changes
MAX_ENTRY = 64 * 1024 * 1024  # bytes: a larger entry is not read


class Cache:
    def __init__(self, root: str, config_key: str):
        self.dir = os.path.join(root, DIRNAME, __version__)
        self.config_key = config_key
        self._ready = False
        self._index: dict | None = None
        self._index_time = 0
        self._seen: dict = {}
        self._secret: bytes | None = None

    def key(self, path: str, data: bytes) -> str:
        return self._key(path, hashlib.sha256(data).hexdigest())

    def _key(self, path: str, digest: str) -> str:
        """An entry's key: the file's content digest under this pipelint version and configuration."""
        h = hashlib.sha256()
        for part in (__version__, FORMAT, self.config_key, path, digest):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    # --- signing ----------------------------------------------------------------------------------------
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = _secret()
        return self._secret

    def _seal(self, kind: str, body) -> bytes:
        payload = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        mac = hmac.new(self.secret(), f"{FORMAT}\0{kind}\0{payload}".encode(), hashlib.sha256).hexdigest()
        return json.dumps({"format": FORMAT, "kind": kind, "mac": mac, "body": payload}).encode()

    def _open(self, kind: str, data: bytes):
        """The body of a sealed entry of this kind, or None (malformed, foreign, forged)."""
        try:
            outer = json.loads(data)
            if not isinstance(outer, dict) or outer.get("format") != FORMAT or outer.get("kind") != kind:
                return None
            payload, mac = outer.get("body"), outer.get("mac")
            if not isinstance(payload, str) or not isinstance(mac, str):
                return None
            want = hmac.new(self.secret(), f"{FORMAT}\0{kind}\0{payload}".encode(), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(mac, want):
                return None
            return json.loads(payload)
        except (ValueError, RecursionError, MemoryError):
            return None

    # --- a stat index, as git's: (size, mtime, ctime, inode) unchanged means the content digest is known.
    # It holds digests, not entry keys: those depend on the configuration, and the index outlives it.
    RACY_NS = 2_000_000_000  # an mtime this close to the index's own is not trusted (it may change again)

    def _index_path(self) -> str:
        return os.path.join(self.dir, "stat-index")

    def file_key(self, path: str, limit: int | None = None) -> str:
        """The key of `path`: from the stat index when the file is unchanged, else by hashing its bytes."""
        from pipelint import source as sourcelib

        st = sourcelib.stat_regular(path, limit)
        if self._index is None:
            self._index = self._load_index()
        sig = [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        known = self._index.get(path)
        if known is not None and known[:4] == sig and st.st_mtime_ns < self._index_time - self.RACY_NS:
            digest = known[4]
        else:
            digest = hashlib.sha256(sourcelib.read_bytes(path, limit)).hexdigest()
        self._seen[path] = sig + [digest]
        return self._key(path, digest)

    def _load_index(self) -> dict:
        body = self._open("index", _read(self._index_path()))
        if not isinstance(body, dict) or not isinstance(body.get("stamp"), int):
            return {}
        index = body.get("files")
        if not isinstance(index, dict):
            return {}
        ok = {}
        for path, entry in index.items():
            if (isinstance(entry, list) and len(entry) == 5 and all(type(x) is int for x in entry[:4])
                    and isinstance(entry[4], str)):
                ok[path] = entry
        self._index_time = body["stamp"]
        return ok

    def save_index(self) -> None:
        import time

        if not self._seen:
            return
        index = dict(self._index or {})
        index.update(self._seen)
        self._write(self._index_path(), self._seal("index", {"stamp": time.time_ns(), "files": index}))

    def run_key(self, keys, errors) -> str:
        return run_key(self.config_key, keys, errors)

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key)

    # --- entries ---------------------------------------------------------------------------------------
    def get(self, key: str):
        """A FileReport (or, for a run key, the run's dict), or None."""
        kind = "run" if key.startswith("run-") else "file"
        body = self._open(kind, _read(self._path(key)))
        if body is None:
            return None
        try:
            return _decode_run(body) if kind == "run" else _decode_report(body)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return None

    def put(self, key: str, value) -> None:
        if isinstance(value, dict):
            kind, body = "run", value
        else:
            body = _encode_report(value)
            if body is None:
                return  # not cacheable: a connector file, or a file pipelint failed on
            kind = "file"
        self._write(self._path(key), self._seal(kind, body))

    def _write(self, path: str, data: bytes) -> None:
        import tempfile

        folder = os.path.dirname(path)
        try:
            if not self._ready:
                top = os.path.dirname(self.dir)
                os.makedirs(top, exist_ok=True)
                ignore = os.path.join(top, ".gitignore")
                if not os.path.exists(ignore):
                    with open(ignore, "w") as fh:
                        fh.write("# Created by pipelint\n*\n")
                self._ready = True
            os.makedirs(folder, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError:
            pass  # a cache that cannot be written is only slower


def _read(path: str) -> bytes:
    """An entry's bytes: b"" for anything but a regular file of at most MAX_ENTRY bytes."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return b""
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_ENTRY:
            return b""
        with os.fdopen(fd, "rb", closefd=False) as fh:
            return fh.read(MAX_ENTRY + 1)
    except OSError:
        return b""
    finally:
        os.close(fd)


def _secret() -> bytes:
    """The key entries are signed with: `$PIPELINT_CACHE_KEY`, else the user's own, outside any repository."""
    env = os.environ.get("PIPELINT_CACHE_KEY")
    if env:
        return env.encode()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "pipelint", "key")
    try:
        with open(path, "rb") as fh:
            data = fh.read(256)
        if len(data) >= 32:
            return data
    except OSError:
        pass
    data = os.urandom(32).hex().encode()
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except FileExistsError:  # another process made it first: use theirs
        try:
            with open(path, "rb") as fh:
                return fh.read(256) or data
        except OSError:
            return data
    except OSError:
        pass  # no place for a key: entries of this run are signed with a key nobody else knows
    return data


def run_key(config: str, keys: list[tuple[str, str]], errors: list[str]) -> str:
    """The key of a whole run: every file's key (so every byte), the configuration, the read errors."""
    h = hashlib.sha256((FORMAT + config).encode())
    for path, key in keys:
        h.update(f"{path}\0{key}\n".encode())
    for error in errors:
        h.update(f"!{error}\n".encode())
    return "run-" + h.hexdigest()


def config_key(rules, settings=None) -> str:
    """Everything besides the files that a run's answer depends on: rules, severities, options, and the
    per-file ignores (applied after each file is checked, so part of the whole-run entry's meaning)."""
    parts = [repr(sorted((k, sorted(v)) for k, v in settings.per_file_ignores.items())) if settings else ""]
    for rule in rules:
        options = sorted((k, repr(v)) for k, v in rule.opts.items())
        parts.append(f"{rule.code}|{rule.effective_severity}|{options}|{rule.cache_key()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# --- the shapes of entries ------------------------------------------------------------------------------
def encode_findings(findings) -> list:
    return [_encode_finding(f) for f in findings]


def decode_findings(rows) -> list:
    if not isinstance(rows, list):
        raise ValueError("findings")
    return [_decode_finding(r) for r in rows]


def _encode_finding(f) -> list:
    # only `check` reads the cache; it reports whether a finding is fixable, never the edits, which `fix`
    # computes afresh from the file
    s = f.span
    fix = [f.fix.description, f.fix.safe] if f.fix else None
    return [f.code, f.name, f.severity, f.message, f.path, [s.start, s.end, s.line, s.column, s.end_line, s.end_column],
            fix, list(f.yaml_path), f.value]


def _strs(value) -> bool:
    return isinstance(value, list) and all(isinstance(x, str) for x in value)


def _span(value):
    from pipelint.finding import Span

    if not (isinstance(value, list) and len(value) == 6 and all(type(x) is int and x >= 0 for x in value)):
        raise ValueError("span")
    return Span(*value)


def _decode_finding(row):
    from pipelint.finding import SEVERITIES, Finding, Fix

    if not isinstance(row, list) or len(row) != 9:
        raise ValueError("finding")
    code, name, severity, message, path, span, fix, yaml_path, value = row
    if not all(isinstance(x, str) for x in (code, name, severity, message, path, value)) or severity not in SEVERITIES:
        raise ValueError("finding")
    if not _strs(yaml_path):
        raise ValueError("yaml path")
    if fix is not None:
        if not (isinstance(fix, list) and len(fix) == 2 and isinstance(fix[0], str) and type(fix[1]) is bool):
            raise ValueError("fix")
        fix = Fix(fix[0], (), fix[1])
    return Finding(code, name, severity, message, path, _span(span), fix, tuple(yaml_path), value)


def _encode_report(report):
    """A checked file's report as plain data, or None when it must not be cached."""
    if getattr(report, "internal", None) or any(d.sites.connectors for d in report.docs):
        return None
    docs = [{"number": d.doc.number, "kind": d.doc.kind, "prefix": list(d.doc.path_prefix),
             "refs": [[r.value, _encode_span(r.at), list(r.yaml_path)] for r in d.sites.refs],
             "clouds": [list(c.yaml_path) for c in d.sites.cloud_stages]} for d in report.docs]
    s = report.source
    sup = report.suppressions
    return {"path": s.path, "harness": report.harness, "error": s.error,
            "findings": encode_findings(report.findings), "docs": docs,
            "suppressions": {"lines": {str(k): sorted(v) for k, v in sup.lines.items()}, "file": sorted(sup.file)}}


def _encode_span(span) -> list:
    return [span.start, span.end, span.line, span.column, span.end_line, span.end_column]


def _decode_report(body):
    from pipelint import document, harness, suppression
    from pipelint import source as sourcelib
    from pipelint.results import FileReport
    from pipelint.rule import HarnessDoc

    if not isinstance(body, dict) or not isinstance(body.get("path"), str) or type(body.get("harness")) is not bool:
        raise ValueError("report")
    error = body.get("error")
    if error is not None and not isinstance(error, str):
        raise ValueError("error")
    src = sourcelib.Source(body["path"], None, error=error)
    sup_data = body.get("suppressions")
    if not isinstance(sup_data, dict) or not isinstance(sup_data.get("lines"), dict) or not _strs(sup_data.get("file")):
        raise ValueError("suppressions")
    lines = {}
    for k, v in sup_data["lines"].items():
        if not k.isdigit() or not _strs(v):
            raise ValueError("suppressions")
        lines[int(k)] = set(v)
    sup = suppression.Suppressions(lines, set(sup_data["file"]))
    docs = []
    raw_docs = body.get("docs")
    if not isinstance(raw_docs, list):
        raise ValueError("docs")
    for d in raw_docs:
        if not isinstance(d, dict) or type(d.get("number")) is not int or not isinstance(d.get("kind"), str) \
                or not _strs(d.get("prefix")) or not isinstance(d.get("refs"), list) or not isinstance(d.get("clouds"), list):
            raise ValueError("doc")
        doc = document.Document(src, d["number"], None, d["kind"], None, tuple(d["prefix"]))
        refs = []
        for r in d["refs"]:
            if not (isinstance(r, list) and len(r) == 3 and isinstance(r[0], str) and _strs(r[2])):
                raise ValueError("ref")
            refs.append(harness.RefSite(_span(r[1]), r[0], tuple(r[2])))
        clouds = []
        for c in d["clouds"]:
            if not _strs(c):
                raise ValueError("cloud")
            clouds.append(harness.CloudStageSite(None, tuple(c)))
        docs.append(HarnessDoc(doc, harness.Sites(refs=refs, cloud_stages=clouds)))
    return FileReport(src, docs, [], decode_findings(body.get("findings")), sup, body["harness"])


def _decode_run(body):
    if not isinstance(body, dict) or type(body.get("files_checked")) is not int or not _strs(body.get("checked")):
        raise ValueError("run")
    return {"findings": decode_findings(body.get("findings")), "files_checked": body["files_checked"],
            "checked": body["checked"]}

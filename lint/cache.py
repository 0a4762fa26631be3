"""The check cache: `.pipelint_cache/`, one entry per (file path, content, pipelint version, configuration).

An entry is the file's compact report (findings with their edits, suppressions, the sites cross-file rules
read), pickled. A changed byte, a changed configuration (rules, severities, options, anything a rule
declares in `cache_key()`) or another pipelint version is another key, so stale entries are never read;
deleting the folder reclaims the space (entries of other versions live in
subfolders of their own). Writes are atomic renames, safe with
several worker processes.
"""

from __future__ import annotations

import hashlib
import os

from pipelint import __version__

DIRNAME = ".pipelint_cache"
FORMAT = "5"  # bumped whenever what an entry holds changes


class Cache:
    def __init__(self, root: str, config_key: str):
        self.dir = os.path.join(root, DIRNAME, __version__)
        self.config_key = config_key
        self._ready = False
        self._index: dict | None = None
        self._index_time = 0
        self._seen: dict = {}

    def key(self, path: str, data: bytes) -> str:
        return self._key(path, hashlib.sha256(data).hexdigest())

    def _key(self, path: str, digest: str) -> str:
        """An entry's key: the file's content digest under this pipelint version and configuration."""
        h = hashlib.sha256()
        for part in (__version__, FORMAT, self.config_key, path, digest):
            h.update(part.encode())
            h.update(b"\0")
        return h.hexdigest()

    # --- a stat index, as git's: (size, mtime, ctime, inode) unchanged means the content digest is known.
    # It holds digests, not entry keys: those depend on the configuration, and the index outlives it.
    RACY_NS = 2_000_000_000  # an mtime this close to the index's own is not trusted (it may change again)
    INDEX_FORMAT = 2

    def _index_path(self) -> str:
        return os.path.join(self.dir, "stat-index")

    def file_key(self, path: str, limit: int | None = None) -> str:
        """The key of `path`: from the stat index when the file is unchanged, else by hashing its bytes."""
        from pipelint import source as sourcelib

        st = sourcelib.stat_regular(path, limit)
        if self._index is None:
            self._index = self._load_index()
        sig = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        known = self._index.get(path)
        if known is not None and known[0] == sig and st.st_mtime_ns < self._index_time - self.RACY_NS:
            digest = known[1]
        else:
            digest = hashlib.sha256(sourcelib.read_bytes(path, limit)).hexdigest()
        self._seen[path] = (sig, digest)
        return self._key(path, digest)

    def _load_index(self) -> dict:
        import pickle

        try:
            with open(self._index_path(), "rb") as fh:
                version, stamp, index = pickle.load(fh)
            if version != self.INDEX_FORMAT:
                return {}
            self._index_time = stamp
            return index
        except (OSError, pickle.PickleError, EOFError, ValueError, TypeError):
            return {}

    def save_index(self) -> None:
        import pickle
        import tempfile
        import time

        if not self._seen:
            return
        index = dict(self._index or {})
        index.update(self._seen)
        try:
            os.makedirs(self.dir, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump((self.INDEX_FORMAT, time.time_ns(), index), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._index_path())
        except OSError:
            pass

    def run_key(self, keys, errors) -> str:
        return run_key(self.config_key, keys, errors)

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key)

    def get(self, key: str):
        import pickle

        try:
            with open(self._path(key), "rb") as fh:
                return _decode(pickle.load(fh))
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None

    def put(self, key: str, value) -> None:
        import pickle
        import tempfile

        folder = os.path.dirname(self._path(key))
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
                pickle.dump(_encode(value), fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(key))
        except OSError:
            pass  # a cache that cannot be written is only slower


def run_key(config: str, keys: list[tuple[str, str]], errors: list[str]) -> str:
    """The key of a whole run: every file's key (so every byte), the configuration, the read errors."""
    h = hashlib.sha256((FORMAT + config).encode())
    for path, key in keys:
        h.update(f"{path}\0{key}\n".encode())
    for error in errors:
        h.update(f"!{error}\n".encode())
    return "run-" + h.hexdigest()


def encode_findings(findings):
    return [_encode_finding(f) for f in findings]


def decode_findings(rows):
    return [_decode_finding(r) for r in rows]


def config_key(rules, settings=None) -> str:
    """Everything besides the files that a run's answer depends on: rules, severities, options, and the
    per-file ignores (applied after each file is checked, so part of the whole-run entry's meaning)."""
    parts = [repr(sorted((k, sorted(v)) for k, v in settings.per_file_ignores.items())) if settings else ""]
    for rule in rules:
        options = sorted((k, repr(v)) for k, v in rule.opts.items())
        parts.append(f"{rule.code}|{rule.effective_severity}|{options}|{rule.cache_key()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# Findings dominate an entry: stored as plain tuples they load several times faster than as objects.
def _encode_finding(f):
    # only `check` reads the cache; it reports whether a finding is fixable, never the edits, which `fix`
    # computes afresh from the file
    s = f.span
    fix = (f.fix.description, f.fix.safe) if f.fix else None
    return (f.code, f.name, f.severity, f.message, f.path,
            (s.start, s.end, s.line, s.column, s.end_line, s.end_column), fix, f.yaml_path, f.value)


def _decode_finding(row):
    from pipelint.finding import Finding, Fix, Span

    code, name, severity, message, path, span, fix, yaml_path, value = row
    if fix is not None:
        fix = Fix(fix[0], (), fix[1])
    return Finding(code, name, severity, message, path, Span(*span), fix, yaml_path, value)


def _encode(report):
    if isinstance(report, dict):  # a run entry
        return report
    findings = [_encode_finding(f) for f in report.findings]
    return (report.source, report.docs, report.suppressions, report.harness, findings)


def _decode(data):
    if isinstance(data, dict):
        return data
    from pipelint.engine import FileReport

    source, docs, suppressions, harness, findings = data
    return FileReport(source, docs, [], [_decode_finding(r) for r in findings], suppressions, harness)

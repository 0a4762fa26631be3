"""The check cache: `.pipelint_cache/`, one entry per (file path, content, pipelint version, configuration).

A store of sealed JSON values: what the values mean (a file's report, a whole run's answer) is
`pipelint.records`'s business; this module knows nothing of reports.

Safe to restore from an untrusted place (a CI cache, a pull request that commits the folder):
- entries are JSON, read by `json` only and checked field by field against the shape below; anything
  malformed, truncated, oversized (over MAX_ENTRY bytes), deeply nested or of another format is a miss,
  never an error, and nothing in an entry is ever executed or imported;
- no symlink is followed: each folder is opened from the one before with O_NOFOLLOW, and entries are
  read and written relative to it (`_folder`), so a committed link (the folder, one inside it, the
  `.gitignore`) makes every entry a miss and stores nothing, never reading or writing outside the tree;
- every entry carries an HMAC-SHA256 of its content under a secret that is not in the cache folder
  (`$PIPELINT_CACHE_KEY`, else a random key in `~/.cache/pipelint/key`, created mode 0600): an entry planted
  by someone without the key, claiming that a file has no findings, is a miss too;
- an entry holds only what a warm run reports (pipelint.records): findings (code, message, span, fixable or not), the file's
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
FORMAT = "10"  # bumped whenever what an entry holds (or what its key covers) changes
MAX_ENTRY = 64 * 1024 * 1024  # bytes: a larger entry is not read


# A folder of the cache is opened one name at a time from the root's, none of them followed if a symlink: a
# repository that commits `.pipelint_cache` (or a folder in it) as a symlink cannot make a run read or write
# outside the tree (the entries are then misses, and nothing is stored)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
_FD_SAFE = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW")


class Cache:
    def __init__(self, root: str, config_key: str):
        self.root = root
        self.dir = os.path.join(root, DIRNAME, __version__)
        self.config_key = config_key
        self._base: int | None = None  # the version folder, opened once
        self._index: dict | None = None
        self._index_time = 0
        self._seen: dict = {}
        self._secret: bytes | None = None

    def key(self, path: str, data: bytes, config: str | None = None) -> str:
        return self._key(path, hashlib.sha256(data).hexdigest(), config)

    def _key(self, path: str, digest: str, config: str | None = None) -> str:
        """An entry's key: the file's content digest under this pipelint version and the configuration that
        governs the file (`config`, else the run's)."""
        from pipelint.text.source import file_bytes

        h = hashlib.sha256()
        for part in (__version__, FORMAT, config or self.config_key, path, digest):
            h.update(file_bytes(part))  # a file name's bytes that are not UTF-8 too
            h.update(b"\0")
        return h.hexdigest()

    # --- signing ----------------------------------------------------------------------------------------
    def secret(self) -> bytes:
        if self._secret is None:
            self._secret = _secret()
        return self._secret

    def _seal(self, kind: str, body) -> bytes:
        from pipelint.text.source import json_text

        payload = json_text(json.dumps(body, separators=(",", ":"), ensure_ascii=False))
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

    _INDEX = "stat-index"

    def file_key(self, path: str, limit: int | None = None, config: str | None = None) -> str:
        """The key of `path`: from the stat index when the file is unchanged, else by hashing its bytes."""
        from pipelint.text import source as sourcelib

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
        return self._key(path, digest, config)

    def _load_index(self) -> dict:
        body = self._open("index", self._read(None, self._INDEX))
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
        self._write(None, self._INDEX, self._seal("index", {"stamp": time.time_ns(), "files": index}))

    def run_key(self, keys, errors) -> str:
        return run_key(self.config_key, keys, errors)

    # --- entries ---------------------------------------------------------------------------------------
    def get(self, key: str):
        """The plain data (JSON) stored under `key` by this cache's owner, or None. Its shape is the
        reader's to check (records.decode_*): the seal proves who wrote it, not that it is well formed."""
        return self._open(_kind(key), self._read(key[:2], key))

    def put(self, key: str, body) -> None:
        """Store plain data (JSON-serializable) under `key`; None stores nothing."""
        if body is not None:
            self._write(key[:2], key, self._seal(_kind(key), body))

    # --- the folder -------------------------------------------------------------------------------------
    def _folder(self, sub: str | None, create: bool) -> int | None:
        """A descriptor of the version folder, or of its subfolder `sub` (the caller closes that one), each
        step opened from the one before without following a symlink; None where a step is missing (and not
        `create`), a symlink or anything but a folder."""
        if not _FD_SAFE:
            return None
        if self._base is None:
            try:  # the root is the user's own choice (a symlink there is theirs): followed
                fd: int | None = os.open(self.root, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            except OSError:
                return None
            for name in (DIRNAME, __version__):
                fd = _step(fd, name, create) if fd is not None else None
                if fd is not None and name == DIRNAME:
                    _ignore_all(fd)
            if fd is None:
                return None
            self._base = fd
        if sub is None:
            return self._base
        try:
            return _step(os.dup(self._base), sub, create)
        except OSError:  # out of descriptors
            return None

    def __del__(self) -> None:
        if self._base is not None:
            os.close(self._base)
            self._base = None

    def _read(self, sub: str | None, name: str) -> bytes:
        """An entry's bytes: b"" for anything but a regular file of at most MAX_ENTRY bytes in a folder of the
        cache (no symlink on the way)."""
        import stat

        folder = self._folder(sub, create=False)
        if folder is None:
            return b""
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0), dir_fd=folder)
        except OSError:
            return b""
        finally:
            if sub is not None:
                os.close(folder)
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

    def _write(self, sub: str | None, name: str, data: bytes) -> None:
        """`data` as the entry `name`: a temporary file in the same folder of the cache, then a rename (which
        replaces a symlink of that name, never its target)."""
        folder = None
        try:
            folder = self._folder(sub, create=True)
            if folder is None:
                return
            tmp = f"{name}.{os.urandom(6).hex()}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=folder)
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
            except BaseException:
                with _quiet():
                    os.unlink(tmp, dir_fd=folder)
                raise
        except OSError:
            pass  # a cache that cannot be written is only slower
        finally:
            if sub is not None and folder is not None:
                os.close(folder)


def _step(fd: int, name: str, create: bool) -> int | None:
    """The folder `name` in the folder `fd` (closed here), opened without following a symlink, or None."""
    try:
        if create:
            with _quiet():
                os.mkdir(name, 0o777, dir_fd=fd)  # a symlink there stays one: EEXIST, then refused below
        return os.open(name, _DIR_FLAGS, dir_fd=fd)
    except OSError:
        return None
    finally:
        os.close(fd)


def _ignore_all(top: int) -> None:
    """A `.gitignore` of `*` in the cache's top folder, unless there is one (or anything of that name)."""
    try:
        fd = os.open(".gitignore", os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=top)
    except OSError:
        return
    with os.fdopen(fd, "w") as fh:
        fh.write("# Created by pipelint\n*\n")


def _quiet():
    import contextlib

    return contextlib.suppress(OSError)


def _secret() -> bytes:
    """The key entries are signed with: `$PIPELINT_CACHE_KEY`, else the user's own, outside any repository."""
    env = os.environ.get("PIPELINT_CACHE_KEY")
    if env:
        return env.encode()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(base):  # no home (a user with no passwd entry and no HOME: "~") or a relative
        return os.urandom(32).hex().encode()  # XDG_CACHE_HOME, which would put the key in the tree: this run's
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


def _kind(key: str) -> str:
    return "run" if key.startswith("run-") else "file"


def run_key(config: str, keys: list[tuple[str, str]], errors: list[str]) -> str:
    """The key of a whole run: every file's key (so every byte), the configuration, the read errors."""
    from pipelint.text.source import file_bytes

    h = hashlib.sha256((FORMAT + config).encode())
    for path, key in keys:
        h.update(file_bytes(f"{path}\0{key}\n"))
    for error in errors:
        h.update(file_bytes(f"!{error}\n"))
    return "run-" + h.hexdigest()


def config_key(rules, settings=None) -> str:
    """Everything besides the files that a run's answer depends on: rules, severities, options, and the
    per-file ignores (applied after each file is checked, so part of the whole-run entry's meaning)."""
    parts = [repr(sorted((k, sorted(v)) for k, v in settings.per_file_ignores.items())) if settings else ""]
    for rule in rules:
        options = sorted((k, repr(v)) for k, v in rule.opts.items())
        peers = sorted((code, sorted((k, repr(v)) for k, v in opts.items())) for code, opts in rule.peer_opts.items())
        parts.append(f"{rule.code}|{rule.effective_severity}|{options}|{peers}|{rule.cache_key()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()

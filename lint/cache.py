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
import pickle
import tempfile

from pipelint import __version__

DIRNAME = ".pipelint_cache"


class Cache:
    def __init__(self, root: str, config_key: str):
        self.dir = os.path.join(root, DIRNAME, __version__)
        self.config_key = config_key
        self._ready = False

    def key(self, path: str, data: bytes) -> str:
        h = hashlib.sha256()
        for part in (__version__, self.config_key, path):
            h.update(part.encode())
            h.update(b"\0")
        h.update(data)
        return h.hexdigest()

    def _path(self, key: str) -> str:
        return os.path.join(self.dir, key[:2], key)

    def get(self, key: str):
        try:
            with open(self._path(key), "rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None

    def put(self, key: str, value) -> None:
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
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._path(key))
        except OSError:
            pass  # a cache that cannot be written is only slower


def config_key(rules) -> str:
    parts = []
    for rule in rules:
        options = sorted((k, repr(v)) for k, v in rule.opts.items())
        parts.append(f"{rule.code}|{rule.effective_severity}|{options}|{rule.cache_key()}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()

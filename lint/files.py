"""Writing files safely: what every command that rewrites a file (fix, pin, baselines, the lockfile) uses.

- `write_atomic`: a temporary file in the same folder, then a rename (a reader sees the old file or the new
  one); mode, owner and group kept; hard-linked files rewritten in place; SIGINT/SIGTERM deferred while a
  file is being replaced; temporaries a killed run left removed by the next write beside them;
- `write_if_unchanged`: the same, only if the file still holds the bytes the new text was computed from;
- `may_write`: a path that leads through a symlink is written only inside the project (the current folder).

Nothing here knows YAML or pipelint's rules: a leaf module every writer may import.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from pipelint import source as sourcelib


class ChangedMeanwhile(Exception):
    """The file no longer holds the bytes the fixes were computed from."""


def _before_replace(path: str) -> None:
    """Called between computing a file's new text and checking it is unchanged (a seam for tests)."""


def write_if_unchanged(path: str, original: bytes, data: bytes) -> None:
    """write_atomic, unless the file no longer holds `original` (a person saved it meanwhile): then nothing
    is written and ChangedMeanwhile is raised. The content is compared, not the time stamp."""
    _before_replace(path)
    try:
        now = sourcelib.read_bytes(path)
    except sourcelib.ReadError:
        raise ChangedMeanwhile(path) from None
    if now != original:
        raise ChangedMeanwhile(path)
    write_atomic(path, data)


def write_atomic(path: str, data: bytes) -> None:
    """Replace (or create) `path` with `data`: a temporary file in the same folder, then a rename; mode, owner
    and group kept (where this process may set them). A reader sees the old file or the new one, never a
    part; an interrupted write leaves no temporary file, and a later write in that folder removes what an
    earlier, killed one left. A file with several hard links is rewritten in place (a rename would split
    it from its other names)."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    st = None
    if os.path.exists(real):
        st = os.stat(real)
        mode = st.st_mode & 0o7777
        if not mode & 0o222:  # read-only: respected even by root, who could replace it
            raise PermissionError(13, "file is read-only")
        if not os.access(real, os.W_OK):
            raise PermissionError(13, "Permission denied")
    else:  # a new file: the mode open() would give it
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    _remove_stale_temporaries(folder, os.path.basename(real))
    # SIGINT and SIGTERM wait until the file is written and renamed (or cleaned up): an interrupt between
    # creating the temporary file and the rename would otherwise leave it behind
    with _signals_deferred():
        if st is not None and st.st_nlink > 1:
            with open(real, "r+b") as fh:
                fh.write(data)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            return
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(real)}.", suffix=TMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
            if st is not None and (st.st_uid, st.st_gid) != (os.geteuid(), os.getegid()):
                try:
                    os.chown(tmp, st.st_uid, st.st_gid)  # `fix` as root keeps a file nobody's
                except OSError:
                    pass  # not allowed to: the file becomes ours, as with any editor
            os.replace(tmp, real)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


TMP_SUFFIX = ".pipelint-tmp"
STALE_SECONDS = 60  # a temporary file this old is not being written any more
_cleaned: set[tuple[str, str]] = set()


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Remove `.NAME.XXXX.pipelint-tmp` files that a killed run left beside NAME (once per folder and name)."""
    import time

    if (folder, name) in _cleaned:
        return
    _cleaned.add((folder, name))
    try:
        entries = os.scandir(folder)
    except OSError:
        return
    prefix = f".{name}."
    now = time.time()
    with entries:
        for entry in entries:
            if entry.name.startswith(prefix) and entry.name.endswith(TMP_SUFFIX) and len(entry.name) > len(prefix) + len(TMP_SUFFIX):
                try:
                    if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                        os.unlink(entry.path)
                except OSError:
                    pass


def may_write(path: str) -> str | None:
    """None when `fix` may write `path`, else why not: a path that leads through a symlink is written only
    when the file it reaches lies inside the current directory (the project): a repository must not be
    able to make pipelint edit files elsewhere."""
    real = os.path.realpath(path)
    if real == os.path.abspath(path):
        return None
    project = os.path.realpath(".")
    if real == project or real.startswith(project.rstrip(os.sep) + os.sep):
        return None
    return f"not written: a symlink to {real}, outside the project ({project})"


@contextlib.contextmanager
def _signals_deferred():
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    deferred = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)

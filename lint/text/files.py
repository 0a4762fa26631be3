"""Writing files safely: what every command that rewrites a file (fix, pin, baselines, the lockfile) uses.

- `write_atomic`: a temporary file in the same folder, then a rename (a reader sees the old file or the new
  one); mode, owner and group kept; hard-linked files rewritten in place; SIGINT/SIGTERM deferred while a
  file is being replaced; temporaries a killed run left removed by the next write beside them;
- `write_output`: a report or an inventory where `--output` says, by write_atomic unless it names a device or a
  pipe;
- `write_if_unchanged`: the same, only if the file still holds the bytes the new text was computed from;
- `write_all`: many files each so (fix's and pin's writes), in a few threads when there are many;
- `Boundary`, `may_write`: a file is read or written only inside the tree being checked (a symlink, a `file()`
  reference or a configured path that leads outside is refused).

Nothing here knows YAML or pipelint's rules: a leaf module every writer may import.
"""

from __future__ import annotations

import _thread
import contextlib
import os
import stat
import tempfile

from pipelint.text import source as sourcelib

TYPE_CHECKING = False  # typing is not imported on the pre-commit path
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence


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


def write_new(path: str, data: bytes) -> None:
    """Create `path` holding `data`, whole, unless a file of that name appeared since the caller found none
    (ChangedMeanwhile): a temporary file is linked to the name, and link() never replaces, so a file another
    run made meanwhile is never written over. Where the file system has no hard links, the name is tested and
    the file renamed into place (a window of microseconds)."""
    _before_replace(path)
    folder = os.path.dirname(os.path.abspath(path)) or "."
    mode = 0o666 & ~_umask()
    with _signals_deferred():
        tmp = _temporary(folder, os.path.basename(path), data)
        try:
            os.chmod(tmp, mode)
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ChangedMeanwhile(path) from None
            except OSError:  # no hard links here
                if os.path.lexists(path):
                    raise ChangedMeanwhile(path) from None
                os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class Refused(Exception):
    """A file `write_all` does not write (may_write's reason)."""


def why_unwritten(outcome: BaseException, changed: str = "changed meanwhile; run again") -> str:
    """What to say after a file's path when write_all did not write it; `changed`: the words for a file a person
    changed meanwhile (each command says what it was doing)."""
    if isinstance(outcome, ChangedMeanwhile):
        return changed
    if isinstance(outcome, OSError):
        return f"cannot write: {outcome.strerror or outcome}"
    return str(outcome)


WRITE_THREADS = 4  # creating and renaming a file is the kernel's work (and a wait for the disk): threads overlap it
THREADED_WRITES_FROM = 32  # fewer files than this are written in this thread (one file, pre-commit's: no threads)


def write_all(items: Sequence[tuple[str, bytes, Callable[[], bytes]]],
              boundary: Boundary | None = None) -> list[BaseException | None]:
    """write_if_unchanged for each (path, bytes read, what makes the new bytes) that may_write allows (the new bytes
    are made as each file is written, so a run never holds them all at once); for each item None when it was
    written, else why not: Refused, ChangedMeanwhile or OSError. One file under two names (hard links) is written
    once: the second name shares the first's outcome when it was to get the same bytes, and is Refused when not
    (written twice, the second write would find the file changed by the first)."""
    same = _same_files(items)
    if not same:
        return _write_each(items, boundary)
    firsts = [i for i in range(len(items)) if i not in same]
    done = dict(zip(firsts, _write_each([items[i] for i in firsts], boundary), strict=True))
    outcome: list[BaseException | None] = []
    for i, (_, original, make) in enumerate(items):
        if i not in same:
            outcome.append(done[i])
            continue
        other, other_original, other_make = items[same[i]]
        alike = original == other_original and make() == other_make()
        outcome.append(done[same[i]] if alike else Refused(
            f"not written: the same file as {sourcelib.printable(other)} (a hard link), whose fixes differ"))
    return outcome


def _same_files(items: Sequence[tuple[str, bytes, Callable[[], bytes]]]) -> dict[int, int]:
    """For each item that names a file an earlier item names too (one inode, two names: hard links), the index
    of the first; a file of one name (nearly all) costs one stat."""
    first: dict[tuple[int, int], int] = {}
    same: dict[int, int] = {}
    for i, (path, _, _) in enumerate(items):
        try:
            st = os.stat(path)
        except OSError:
            continue  # said when it is written
        if st.st_nlink > 1:
            same_as = first.setdefault((st.st_dev, st.st_ino), i)
            if same_as != i:
                same[i] = same_as
    return same


def _write_each(items: Sequence[tuple[str, bytes, Callable[[], bytes]]],
                boundary: Boundary | None = None) -> list[BaseException | None]:
    """write_all's work, each item on its own. Each file is replaced atomically on its own, so
    the order does not matter; with many files, a few threads write them (a fix of 1,700 pipelines spent 1.4 s
    here in one thread, most of it the kernel creating and renaming files and waiting for fsync, while the other
    cores idled). An interrupt (^C, SIGTERM: raised in this thread) lets the files being written finish, starts no
    other, and is raised again. A bug (any other exception) is raised after every thread has stopped."""
    outcome: list[BaseException | None] = [None] * len(items)

    def one(i: int) -> None:
        path, original, make = items[i]
        refused = may_write(path, boundary)
        if refused:
            outcome[i] = Refused(refused)
            return
        try:
            write_if_unchanged(path, original, make())
        except (ChangedMeanwhile, OSError) as exc:
            outcome[i] = exc

    if len(items) < THREADED_WRITES_FROM:
        for i in range(len(items)):
            one(i)
        return outcome
    import queue
    import threading

    for path, _, _ in items:  # each folder listed for stale temporaries here, not by two threads at once
        folder = os.path.dirname(os.path.realpath(path)) or "."
        if folder not in _stale:
            _stale[folder] = _stale_in(folder)
    todo = iter(range(len(items)))
    take = threading.Lock()
    stop = threading.Event()
    finished: list[None] = []  # one item per thread that has ended, added by the thread itself
    ended: queue.SimpleQueue = queue.SimpleQueue()  # and one token, to wake this thread
    bugs: list[BaseException] = []

    def work() -> None:
        try:
            while not stop.is_set():
                with take:
                    i = next(todo, None)
                if i is None:
                    return
                try:
                    one(i)
                except BaseException as exc:  # a bug: the others stop too, and it is raised in the caller's thread
                    bugs.append(exc)
                    stop.set()
        finally:
            finished.append(None)
            ended.put(None)

    # Waiting on the threads' own count, not Thread.join: a join interrupted by ^C can mark the thread ended while
    # it still runs (CPython 3.11's bpo-45274 handling), and the interpreter then exits without waiting for it, in
    # the middle of a file (seen: a temporary file left after ^C). Nor a count kept here: a signal whose handler
    # ran between taking a thread's token and counting it left this thread waiting for a token that never came
    # (a fix that SIGTERM could not end, seen under load). The tokens only wake this thread. The threads are started
    # with ^C and SIGTERM held back, so that each thread that runs is counted (a Thread.start that ^C interrupts
    # has started the thread); they inherit that mask, so the signals go to this thread only
    running = 0
    try:
        with _signals_deferred():
            for n in range(WRITE_THREADS):
                threading.Thread(target=work, name=f"pipelint-write-{n}").start()
                running += 1
        while len(finished) < running:
            ended.get()
    except BaseException:
        stop.set()  # no file is begun after an interrupt; those being written are completed
        while len(finished) < running:
            try:
                ended.get()
            except BaseException:  # a second ^C: the files being written still complete (milliseconds)
                continue
        raise
    if bugs:
        raise bugs[0]
    return outcome


def write_atomic(path: str, data: bytes, mode: int | None = None) -> None:
    """Replace (or create) `path` with `data`: a temporary file in the same folder, then a rename; mode, owner
    and group kept (where this process may set them), or the file given `mode` (readable by this user only
    from the first byte, with 0o600). A reader sees the old file or the new one, never a part; an interrupted
    write leaves no temporary file, and a later write in that folder removes what an earlier, killed one left.
    A file with several hard links is rewritten in place (a rename would split it from its other names)."""
    real = os.path.realpath(path)
    folder = os.path.dirname(real) or "."
    st = None
    given = mode
    if os.path.exists(real):
        st = os.stat(real)
        mode = st.st_mode & 0o7777
        if not mode & 0o222:  # read-only: respected even by root, who could replace it
            raise PermissionError(13, "file is read-only")
        if not os.access(real, os.W_OK):
            raise PermissionError(13, "Permission denied")
    else:  # a new file: the mode open() would give it
        mode = 0o666 & ~_umask()
    if given is not None:
        mode = given
    _remove_stale_temporaries(folder, os.path.basename(real))
    # SIGINT and SIGTERM wait until the file is written and renamed (or cleaned up): an interrupt between
    # creating the temporary file and the rename would otherwise leave it behind
    with _signals_deferred():
        if st is not None and st.st_nlink > 1:
            with open(real, "r+b") as fh:
                if given is not None:
                    os.fchmod(fh.fileno(), given)
                fh.write(data)
                fh.truncate()
                fh.flush()
                os.fsync(fh.fileno())
            return
        tmp = _temporary(folder, os.path.basename(real), data)
        try:
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


def _temporary(folder: str, name: str, data: bytes) -> str:
    """A new temporary file beside `name` in `folder` (`.NAME.XXXXXXXX.pipelint-tmp`, mode 0600) holding `data`,
    on the disk (fsync); its path. Removed again if the write fails."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{_stem(name)}.", suffix=TMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return tmp


def write_output(path: str, text: str) -> None:
    """A report, an inventory or a summary written where the user said (`--output`): whole or not at all, as
    write_atomic writes, so an interrupted run leaves the last report, not half of a new one. What is not a
    regular file (`--output /dev/stdout`, a pipe) is written to as it is."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        regular = True  # not there (or not readable): write_atomic creates it, or says why it cannot
    if not regular:
        with open(path, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            fh.write(text)
        return
    write_atomic(path, text.encode("utf-8", "surrogateescape"))  # a file name's bytes, as standard output has them


_umask_lock = _thread.allocate_lock()


def _umask() -> int:
    """This process's umask. Reading it means setting it, so threads take turns (two at once could each read the
    other's temporary 0)."""
    with _umask_lock:
        umask = os.umask(0)
        os.umask(umask)
    return umask


TMP_SUFFIX = ".pipelint-tmp"
STALE_SECONDS = 60  # a temporary file this old is not being written any more
_stale: dict[str, dict[str, list[str]]] = {}  # folder -> file name -> the stale temporaries left beside it


def _remove_stale_temporaries(folder: str, name: str) -> None:
    """Remove `.NAME.XXXXXXXX.pipelint-tmp` files that a killed run left beside NAME. A folder is listed once per
    run (a `fix` of N files in one folder lists it once, not N times); what it held is removed name by name."""
    found = _stale.get(folder)
    if found is None:
        found = _stale[folder] = _stale_in(folder)
    for path in found.pop(_stem(name), ()):
        try:
            os.unlink(path)
        except OSError:
            pass


STEM_BYTES = 200  # of a file name, in its temporary file's name: with the rest, within the usual 255


def _stem(name: str) -> str:
    """A file's name as its temporary files' names hold it: the name itself, or, when that would make them too
    long for the file system (a name of 233 bytes or more, with the dot, the random part and TMP_SUFFIX), its
    start and a digest of the whole, so that a long name can be fixed too and its leftovers still found."""
    raw = os.fsencode(name)
    if len(raw) <= STEM_BYTES:
        return name
    import hashlib

    start = raw[:STEM_BYTES - 17].decode("utf-8", "ignore")  # a character cut in two: dropped
    return f"{start}~{hashlib.sha256(raw).hexdigest()[:16]}"


def _stale_in(folder: str) -> dict[str, list[str]]:
    import time

    out: dict[str, list[str]] = {}
    try:
        entries = os.scandir(folder)
    except OSError:
        return out
    now = time.time()
    with entries:
        for entry in entries:
            n = entry.name
            if not (n.startswith(".") and n.endswith(TMP_SUFFIX)):
                continue
            name, dot, rand = n[1:-len(TMP_SUFFIX)].rpartition(".")
            if not dot or not name or not rand:
                continue
            try:
                if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > STALE_SECONDS:
                    out.setdefault(name, []).append(entry.path)
            except OSError:
                pass
    return out


def inside(path: str, folder: str) -> bool:
    """Whether `path` is `folder` or lies below it (both absolute and normalised)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


_repo_roots: dict[str, str | None] = {}


def repository_root(folder: str) -> str | None:
    """The nearest folder at or above `folder` (absolute) holding `.git`, or None (cached per folder)."""
    seen = []
    here = folder
    while True:
        if here in _repo_roots:
            found = _repo_roots[here]
            break
        seen.append(here)
        if os.path.lexists(os.path.join(here, ".git")):
            found = here
            break
        parent = os.path.dirname(here)
        if parent == here:
            found = None
            break
        here = parent
    for f in seen:
        _repo_roots[f] = found
    return found


class Boundary:
    """The trees a run may read and write in: each directory named on the command line (the current directory
    for a file named there), and never above a repository root below it, so that side-by-side clones are each
    their own tree. A `file()` reference, a symlink or a configured path that resolves outside a file's tree is
    neither read nor written."""

    def __init__(self) -> None:
        self.roots: list[str] = []  # the directories named, absolute

    def add(self, given: str) -> None:
        if os.path.isdir(given):
            self.roots.append(os.path.abspath(given))

    def of(self, path: str) -> str:
        """The tree `path` (a file found or named) belongs to, as a real path."""
        where = os.path.dirname(os.path.abspath(path))
        cwd = os.path.abspath(".")
        roots = [r for r in self.roots if inside(where, r)]
        if roots:
            root = max(roots, key=len)
        else:  # named on the command line
            root = cwd if inside(where, cwd) else where
        repo = repository_root(where)
        if repo is not None and inside(repo, root):
            root = repo
        return os.path.realpath(root)

    def holds(self, path: str, target: str) -> bool:
        """Whether `target` (what a file at `path` names) resolves inside `path`'s tree."""
        return inside(os.path.realpath(target), self.of(path))


def may_write(path: str, boundary: Boundary | None = None) -> str | None:
    """None when `fix` may write `path`, else why not: a path that leads through a symlink is written only
    when the file it reaches lies inside the file's tree (`boundary`; without one, the current directory): a
    repository must not be able to make pipelint edit files elsewhere."""
    real = os.path.realpath(path)
    if real == os.path.abspath(path):
        return None
    project = boundary.of(path) if boundary is not None else os.path.realpath(".")
    if inside(real, project):
        return None
    return f"not written: a symlink to {real}, outside the checked tree ({project})"


@contextlib.contextmanager
def _signals_deferred():
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    deferred = {signal.SIGINT, signal.SIGTERM, signal.SIGALRM}  # SIGALRM: a swallowed one raised again (entry)
    old = signal.pthread_sigmask(signal.SIG_BLOCK, deferred)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)

"""A run: the cache first (a whole-run entry, then each file's), the rest checked in this process or a pool of
forked workers, then the cross-file pass."""

from __future__ import annotations

import os

from pipelint.engine import records
from pipelint.engine.results import FileReport, RunResult
from pipelint.engine.state import STDIN, State
from pipelint.text import source as sourcelib


class Runner(State):
    """The engine's run (a part of engine.core.Engine)."""

    def check(self, paths: list[str], stdin_filename: str | None = None, *, cache=None,
              jobs: int | None = None, progress=None) -> RunResult:
        """Check files: from the cache where it knows them, the rest in parallel when there are many."""
        files, missing = self.discover(paths)
        errors = [f"{p}: no such file or directory" for p in missing]
        keys = self._file_keys(files, cache, errors) if cache is not None else []
        if cache is not None and STDIN not in files:
            whole = records.decode_run(cache.get(cache.run_key(keys, errors)))
            if whole is not None:  # nothing changed since a run like this one: its answer stands
                result = RunResult(whole["findings"], whole["files_checked"], errors, checked=whole["checked"])
                result.harness_files = whole["harness_files"]
                result.warnings = list(self.skipped)
                return result
        reports, todo = self._cached_reports(files, dict(keys), cache, stdin_filename, errors)
        self._run(todo, reports, errors, cache, jobs, progress, len(files))
        ordered = {p: reports[p] for p in files if p in reports}
        ordered.update((p, r) for p, r in reports.items() if p not in ordered)  # standard input's own name
        result = self.finish(ordered, errors)
        if keys and STDIN not in files and not result.internal_errors and len(result.errors) == len(errors):
            cache.put(cache.run_key(keys, errors), records.encode_run(result))
        result.warnings = list(self.skipped)
        return result

    def _file_keys(self, files: list[str], cache, errors: list[str]) -> list[tuple[str, str]]:
        """(path, cache key) of each file that can be read; the others' read errors go to `errors`."""
        keys = []
        for path in files:
            if path == STDIN:
                continue  # standard input is checked every time; the files beside it may be cached
            try:
                layer = self.layer(path)
                keys.append((path, cache.file_key(path, layer.settings.max_file_bytes, layer.key)))
            except sourcelib.ReadError as exc:
                errors.append(f"{path}: {exc}")
        cache.save_index()
        return keys

    def _cached_reports(self, files: list[str], known: dict[str, str], cache, stdin_filename: str | None,
                        errors: list[str]):
        """The reports the cache holds (and standard input's, checked now), and (path, key) of the files
        left to check."""
        reports: dict[str, FileReport] = {}
        todo: list[tuple[str, str | None]] = []
        for path in files:
            if path == STDIN:
                src = self._read_stdin(stdin_filename, errors)
                if src is not None:
                    reports[src.path] = self.check_file(src)
                continue
            key = known.get(path)
            if cache is not None:
                if key is None:
                    continue  # could not be read: reported already
                hit = records.decode_report(cache.get(key))
                if hit is not None:
                    reports[path] = hit
                    continue
            todo.append((path, key))
        return reports, todo

    def _run(self, todo, reports: dict[str, FileReport], errors: list[str], cache, jobs, progress,
             total: int) -> None:
        """Check the files in `todo` (in a pool when there are many), adding to `reports` and `errors`."""
        done = total - len(todo)
        found = sum(len(r.findings) for r in reports.values())
        for path, outcome in self._map(todo, cache, jobs):
            done += 1
            if isinstance(outcome, str):
                errors.append(f"{path}: {outcome}")
            else:
                reports[path] = outcome
                found += len(outcome.findings)
            if progress is not None:
                progress(done, total, found)

    def check_sources(self, sources: list[sourcelib.Source], jobs: int | None = None) -> dict[str, FileReport]:
        """Compact reports of texts already read, each with its full fix trial kept (`fix`'s passes: a file's text
        as fixed so far is not on disk yet) and the trial's text checked ahead (FileReport.after), in a pool when
        there are many."""
        units = sum(1 + len(s.text or "") // LARGE_FILE for s in sources)
        # a decoded text travels without its bytes (the worker does not need them twice)
        light = [s if s.text is None else sourcelib.Source(s.path, s.text, s.bom, s.newline, region=s.region)
                 for s in sources]
        return dict(self._pooled(light, _check_source, units, None, jobs))

    def _map(self, todo, cache, jobs):
        """(path, FileReport or error text) for each file to check: in this process, or in a pool."""
        return self._pooled(todo, _check_one, _work_units(todo), cache, jobs)

    def _pooled(self, todo, work, units: int, cache, jobs):
        """work(engine, cache, item) for each item: in this process, or in a pool of forked workers."""
        if jobs is None:
            jobs = os.cpu_count() or 1
        jobs = min(jobs, units // PARALLEL_MIN_FILES_PER_JOB or 1, len(todo))
        if jobs <= 1:
            for item in todo:
                yield work(self, cache, item)
            return
        import multiprocessing

        global _WORKER  # noqa: PLW0603 -- the pool initializer hands the engine to forked workers
        _WORKER = (self, cache, work, os.getpid())
        # Not `with Pool()`: its exit is terminate(), which SIGTERMs workers that may sit in the task queue's
        # lock; a run that has every result closes the pool and lets the workers end on their own.
        pool = _pool_class()(jobs, initializer=_worker_init, context=multiprocessing.get_context("fork"))
        finished = False
        try:
            # about 32 chunks per worker, of at most 64 items: each chunk costs the parent ~0.6 ms of its own CPU
            # (the pool's threads), taken from the workers on a machine with as many cores as workers (2,000 files
            # in chunks of 8: a quarter of the parent's CPU); with few items (large .tf files) chunks of one or
            # two, since the last chunk a worker takes is what the other waits for
            for path, sent in pool.imap_unordered(_worker, todo, chunksize=max(1, min(64, len(todo) // (jobs * 32)))):
                yield path, _received(path, sent)
            finished = True
        finally:
            if finished:
                pool.close()
            else:  # ^C, an error, or a consumer that stopped early
                pool.terminate()
            pool.join()
            _WORKER = None


def _pool_class():
    """multiprocessing's Pool, but for what wakes its thread that keeps the workers: a worker ending, or the pool
    changing (closed, terminated, its last task done). The stock Pool also wakes it whenever results wait to be
    read, and it then spins until they are (0.14 s of the parent's CPU in a cold check of 2,000 files, on two
    cores taken from the workers: 2,000 tasks in a toy, 0.12-0.17 s -> 0.04 s). Relies on Pool._get_sentinels
    (CPython 3.8 and later); where it is absent the override is never called and the stock behaviour stays."""
    from multiprocessing.pool import Pool

    class _Pool(Pool):
        def _get_sentinels(self):
            return [self._change_notifier._reader]

    return _Pool


PARALLEL_MIN_FILES_PER_JOB = 32  # below this many files per process, a pool costs more than it saves
LARGE_FILE = 64 * 1024  # a file this large counts as that many more small ones (a .tf of ten heredoc pipelines)


def _work_units(todo) -> int:
    """How much checking `todo` is, in small files: a few large files are worth a pool as much as many small."""
    units = 0
    for path, _ in todo:
        try:
            units += 1 + os.path.getsize(path) // LARGE_FILE
        except OSError:
            units += 1
    return units
_WORKER: tuple | None = None  # (engine, cache, work, the run's pid), inherited by forked workers


def _check_one(engine, cache, item):  # engine.core.Engine
    path, key = item
    try:
        src = sourcelib.read(path, engine.layer(path).settings.max_file_bytes)
    except sourcelib.ReadError as exc:
        return path, str(exc)
    report = engine.check_file(src)
    if cache is not None:
        cache.put(key or cache.key(path, src.raw, engine.layer(path).key), records.encode_report(report))
    return path, report


def _check_source(engine, cache, src: sourcelib.Source):  # engine.core.Engine
    return src.path, engine.check_file(src, trial=True, ahead=AHEAD)


AHEAD = 3  # fix's passes a worker checks ahead on its trial's texts (most files settle in one; overlapping fixes take more)


def _worker_init():
    """^C is the parent's to handle (it ends the pool): a worker printing its own traceback helps nobody. SIGTERM
    (Pool.terminate) ends a worker at once: the parent's handler, inherited through fork, would raise SystemExit
    in it, and a worker waiting on the pool's task lock then never ended (the parent hung in join). A parent
    killed outright (SIGKILL, the OOM killer) takes its workers with it: left alone they would wait on the task
    queue forever, holding the parent's output pipes open."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert _WORKER is not None, "set before the pool forks"
    _die_with(_WORKER[3])


def _die_with(parent: int) -> None:
    """End this process when process `parent` (the run, which forked it) ends, or now if it has ended."""
    if os.getppid() != parent:
        os._exit(1)
    try:  # Linux: the kernel sends SIGTERM when the parent ends
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(1, int(signal.SIGTERM), 0, 0, 0) == 0:  # PR_SET_PDEATHSIG
            if os.getppid() != parent:  # it ended before the call took effect
                os._exit(1)
            return
    except (OSError, AttributeError):
        pass
    import threading
    import time

    def watch() -> None:  # elsewhere: look every half second
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker(item):
    """One item's (path, outcome), the outcome pickled here and read back by the run's own thread (_received):
    the pool's thread that gathers results ends for good on a result it cannot unpickle, and the run then waited
    forever (a report holding an exception whose arguments pickling does not keep). A report that cannot travel is
    that file's internal error; the other files go on."""
    import pickle  # here, not at the top: the one-file path (pre-commit) never starts a pool

    engine, cache, work, _ = _WORKER
    path, outcome = work(engine, cache, item)
    try:
        return path, pickle.dumps(outcome, pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # any failure to pickle: that file's internal error
        return path, f"{type(exc).__name__}: {exc}"


def _received(path: str, sent):
    """The outcome a worker sent for `path` (see _worker), or a report holding the internal error."""
    import pickle

    problem = sent
    if isinstance(sent, bytes):
        try:
            return pickle.loads(sent)  # pickled by this run's own forked worker, never stored
        except Exception as exc:  # any failure to unpickle: that file's internal error
            problem = f"{type(exc).__name__}: {exc}"
    report = FileReport(sourcelib.Source(path, None, error="not checked: its report could not be read"))
    report.internal.append(f"in the worker's report on {path}: {problem}; please report it")
    return report

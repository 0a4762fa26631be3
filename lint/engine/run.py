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
                keys.append((path, cache.file_key(path, layer.settings.max_file_bytes, self.cache_config(path))))
            except sourcelib.ReadError as exc:
                errors.append(f"{path}: {exc}")
        cache.save_index()
        return keys

    def cache_config(self, path: str) -> str:
        """What besides a file's bytes its report depends on, for its cache key: the configuration that governs
        it, and the Terraform resource that reads it with file()/templatefile(), if any (that makes it Harness
        YAML, and names it in fingerprints: a file no resource reads any more is another file to check)."""
        named = self.named.get(os.path.abspath(path)) if self.named else None
        key = self.layer(path).key
        return key if named is None else f"{key}\0file() of {named}"

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
        global _WORKER  # noqa: PLW0603 -- handed to the forked workers
        _WORKER = (self, cache, work, os.getpid())
        try:
            # about 32 chunks per worker, of at most 64 items: each chunk costs the parent some of its own CPU,
            # taken from the workers on a machine with as many cores as workers; with few items (large .tf files)
            # chunks of one or two, since the last chunk a worker takes is what the other waits for
            yield from _Workers(jobs).run(todo, max(1, min(64, len(todo) // (jobs * 32))))
        finally:
            _WORKER = None


class _Workers:
    """A pool of forked workers, each with its own two pipes (chunks in, results out) and no lock shared with
    the run or another worker: multiprocessing.Pool waited forever when a worker died in a task (killed, out of
    memory, a crash in C), and its terminate() could wait forever on the task queue's lock that an idle worker
    held. Here the run hands each idle worker the next chunk, reads results and deaths from one wait(), and
    knows which chunk a dead worker held: its files are tried again one at a time in a new worker, so that only
    the file that ends a worker is lost (that file's internal error; the others go on). Ending (^C, SIGTERM, an
    error, a consumer that stops early) kills the workers outright: nothing they hold is waited on."""

    RESTARTS = 8  # workers started beyond the first, for deaths: then the lost files are reported, not retried

    def __init__(self, jobs: int):
        self.jobs = jobs
        self.procs: list = []
        self.conns: list = []  # closed by the run, not by the collector: a signal in __del__ is only printed
        self.restarts = 0

    def _start(self, ctx):
        """A new worker, known to the run before it is started, so that ^C just after the fork still finds it
        to kill. One left to multiprocessing's exit is SIGTERMed and joined there, and the run waited forever
        when that SIGTERM came while the new process was still being set up after its fork (CPython drops
        signals then)."""
        tasks_out, tasks_in = ctx.Pipe(duplex=False)  # (reader, writer)
        results_out, results_in = ctx.Pipe(duplex=False)
        self.conns += (tasks_in, results_out, tasks_out, results_in)
        proc = ctx.Process(target=_worker_loop, args=(tasks_out, results_in), daemon=True)
        self.procs.append(proc)
        proc.start()
        tasks_out.close()  # the worker's ends: closed here, so a dead worker's results pipe reads as ended
        results_in.close()
        return proc, tasks_in, results_out

    def run(self, todo, chunksize: int):
        import multiprocessing
        import pickle
        from collections import deque
        from multiprocessing.connection import wait

        ctx = multiprocessing.get_context("fork")
        pending: deque = deque(todo[i:i + chunksize] for i in range(0, len(todo), chunksize))
        idle: list = []
        busy: dict = {}  # results connection -> (process, tasks connection, items, retried alone?)

        def hand(worker) -> None:
            """The next chunk to an idle worker (it then reads it; nothing else is ever sent it meanwhile, so
            this write and the worker's of its results never wait on each other)."""
            proc, tasks, results = worker
            chunk = pending.popleft()
            alone = isinstance(chunk, _Alone)
            items = [chunk.item] if alone else chunk
            try:
                tasks.send_bytes(pickle.dumps(items, pickle.HIGHEST_PROTOCOL))
            except OSError:  # died idle: seen below, through its results pipe
                pass
            busy[results] = (proc, tasks, items, alone)

        try:
            for _ in range(min(self.jobs, len(pending))):
                idle.append(self._start(ctx))
            while pending or busy:
                while idle and pending:
                    hand(idle.pop())
                if not busy:  # no worker left (restarts spent): what is left is not checked
                    for chunk in pending:
                        for item in [chunk.item] if isinstance(chunk, _Alone) else chunk:
                            path = _path(item)
                            yield path, _not_checked(path, f"{path}: not checked: workers kept ending; please report it")
                    break
                ready = set(wait(list(busy)))  # a result, or the end of the pipe when its worker ended
                for results in [r for r in busy if r in ready]:
                    proc, tasks, items, alone = busy.pop(results)
                    try:
                        sent = results.recv_bytes()
                    except (EOFError, OSError):  # the worker ended in this chunk
                        yield from self._lost(ctx, proc, tasks, results, items, alone, pending, idle)
                        continue
                    if pending:  # its next chunk first: it works while these results are read and used
                        hand((proc, tasks, results))
                    else:
                        idle.append((proc, tasks, results))
                    try:
                        outcomes = pickle.loads(sent)  # pickled by this run's own forked worker
                    except Exception as exc:  # any failure to unpickle: these files' internal error
                        outcomes = [(_path(item), f"{type(exc).__name__}: {exc}") for item in items]
                    for path, outcome in outcomes:
                        yield path, _received(path, outcome)
        finally:
            # done, the workers wait idle on their pipes (nothing half-done: a cache entry is written before its
            # result is sent); else ^C, SIGTERM, an error, a consumer that stopped early. Either way they are
            # ended outright, and nothing they hold is waited on.
            started = [proc for proc in self.procs if proc.pid is not None]
            for proc in started:
                if proc.exitcode is None:
                    proc.kill()
            for conn in self.conns:
                conn.close()
            for proc in started:
                proc.join()
                proc.close()

    def _lost(self, ctx, proc, tasks, results, items, alone, pending, idle):
        """A worker ended in `items`: each is tried again alone, in a new worker; a file that ends a worker
        alone is reported, as is every file lost once the restarts are spent."""
        proc.join()
        code = proc.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        tasks.close()
        results.close()
        if alone or self.restarts >= self.RESTARTS:
            for item in items:
                path = _path(item)
                yield path, _not_checked(path, f"{path}: not checked: the worker checking it ended ({how})"
                                         + ("" if alone else " and no worker was left to try it again")
                                         + "; please report it")
        else:
            pending.extendleft(_Alone(item) for item in reversed(items))
        if pending and self.restarts < self.RESTARTS:
            self.restarts += 1
            idle.append(self._start(ctx))


class _Alone:
    """A chunk of one item, tried again after a worker ended in the chunk that held it."""

    __slots__ = ("item",)

    def __init__(self, item):
        self.item = item


def _path(item) -> str:
    """The path of a work item: (path, cache key), or a Source."""
    return item[0] if isinstance(item, tuple) else item.path


def _worker_loop(tasks, results) -> None:
    """A worker: chunks in, each item's (path, pickled outcome) out, until the run closes its pipe."""
    import pickle

    try:
        _worker_init()
        while True:
            try:
                items = pickle.loads(tasks.recv_bytes())
            except EOFError:
                return
            results.send_bytes(pickle.dumps([_worker(item) for item in items], pickle.HIGHEST_PROTOCOL))
    except BaseException:  # a bug here, or the run gone: end quietly, the run reports the chunk (never a traceback)
        os._exit(70)


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
        cache.put(key or cache.key(path, src.raw, engine.cache_config(path)), records.encode_report(report))
    return path, report


def _check_source(engine, cache, src: sourcelib.Source):  # engine.core.Engine
    return src.path, engine.check_file(src, trial=True, ahead=AHEAD)


AHEAD = 3  # fix's passes a worker checks ahead on its trial's texts (most files settle in one; overlapping fixes take more)


def _worker_init():
    """^C is the run's to handle (it ends the pool): a worker printing its own traceback helps nobody. SIGTERM
    (multiprocessing's exit, the parent's death below) ends a worker at once: the run's handler, inherited through
    fork, would raise SystemExit in it instead. A run killed outright (SIGKILL, the OOM killer) takes its workers
    with it: left alone they would wait on their task pipes forever, holding the run's output pipes open."""
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
    """One item's (path, outcome), the outcome pickled here, on its own, and read back by the run on its own
    (_received): a report that cannot travel (one holding an exception whose arguments pickling does not keep)
    is that file's internal error, and the other files of its chunk go on."""
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
    return _not_checked(path, f"in the worker's report on {path}: {problem}; please report it")


def _not_checked(path: str, internal: str) -> FileReport:
    report = FileReport(sourcelib.Source(path, None, error="not checked"))
    report.internal.append(internal)
    return report

"""What the commands share, without click; and `check` and `fix`, which the pre-commit hooks run without it.

`pipelint.entry` calls `check` and `fix` here directly on the pre-commit path; `pipelint.cli` (click) calls the
same functions for every other command line. Nothing here imports either of them.
"""

from __future__ import annotations

import os
import sys

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def split_values(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


class OutputError(Exception):
    """Standard output cannot take the report (a full disk, closed): one error line, exit 2 (entry)."""


class ClosedOutput:
    """Standard output for a process started with it closed (`>&-`): a report written there is an OutputError."""

    encoding = "utf-8"

    def write(self, text) -> int:  # str, or bytes through `buffer`
        raise OutputError("it is closed")

    @property
    def buffer(self) -> ClosedOutput:
        return self

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def fit_standard_output(machine: bool = False) -> None:
    """Standard output whose encoding is not UTF-8 (PYTHONIOENCODING=ascii, a Latin-1 locale) failed on the first
    character it has none for (`internal error: UnicodeEncodeError`). Text shows such a character escaped
    (`\\xe9`); a machine format (`machine`: JSON, SARIF, JUnit...), which its reader takes as UTF-8, is written
    in UTF-8 whatever the locale says."""
    out = sys.stdout
    encoding = (getattr(out, "encoding", None) or "utf-8").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8") or not hasattr(out, "reconfigure"):
        return
    if machine:
        out.reconfigure(encoding="utf-8", errors="surrogateescape")
    else:
        out.reconfigure(errors="backslashreplace")


def echo(message: str = "", err: bool = False, nl: bool = True, file=None) -> None:
    """Write a line to standard output (or error, or `file`), as click.echo does for text. A pipe closed by its
    reader is BrokenPipeError (entry: exit 1, as `| head` expects); any other failure to write standard output is
    an OutputError; standard error that cannot be written to is left alone (there is nowhere else to say it)."""
    stream = file if file is not None else sys.stderr if err else sys.stdout
    if err:  # error and warning lines name files and quote values: nothing in them may drive the terminal
        from pipelint.text.source import printable

        message = printable(message)
    try:
        stream.write(message + "\n" if nl else message)
        stream.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        if stream is sys.stdout:
            raise OutputError(exc.strerror or str(exc)) from None
        if stream is not sys.stderr:
            raise


def internal_line(error: str) -> str:
    """`pipelint: internal error in CON001 on p.yaml:3:1: ...`, or `pipelint: internal error: ...`."""
    return f"pipelint: internal error {error}" if error.startswith("in ") else f"pipelint: internal error: {error}"


def fail(message: str) -> None:
    echo(f"pipelint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def no_cyclic_collector() -> None:
    """A check or fix runs without Python's cyclic garbage collector (in its pool's workers too: they fork from
    here): the node graphs, reports and findings hold no cycles, and reference counting frees them; the collector
    only rescanned the growing heap (27% of a cold check's time, 42-48% of a large fix's, measured in issue 31).
    The one cycle YAML can make, a recursive anchor (`&a [*a]`), is reclaimed right after its file
    (engine.unit). What imports made is frozen out of any later collection. The language server keeps the
    collector: it runs for days, and so does a test process calling the commands in-process (entry.run, the
    console script, is where this is called)."""
    import gc

    gc.freeze()
    gc.disable()


def make_engine(config_file, isolated, select, extend_select, ignore, force_exclude, target):
    from pipelint.engine import config as configlib
    from pipelint.rules import clear_custom

    if isolated and config_file:
        fail("--config and --isolated cannot be used together")
    if config_file and not os.path.isfile(config_file):
        fail(f"{config_file}: configuration file not found")
    clear_custom()  # custom rules are the configuration's: this run's files declare them anew
    try:
        engine = engine_for(".", config_file, isolated, select, extend_select, ignore, force_exclude, target)
    except configlib.ConfigError as exc:
        fail(str(exc))
        raise  # not reached
    for warning in configlib.WARNINGS:
        echo(f"pipelint: warning: {warning}", err=True)
    configlib.WARNINGS.clear()
    return engine


def engine_for(start: str, config_file=None, isolated=False, select=(), extend_select=(), ignore=(),
               force_exclude=False, target=None):
    """The engine for files under `start`: the configuration found from there (or `config_file`), and ruff's
    discovery below it (the closest configuration to each file). Raises config.ConfigError."""
    from pipelint.engine import config as configlib
    from pipelint.engine.core import Engine, Layer

    if isolated:
        settings = configlib.Settings()
    else:
        path = config_file or configlib.find(start)
        settings = configlib.load(path, given=bool(config_file)) if path else configlib.Settings()
    overrides = configlib.flag_overrides({"--target": target})
    flags = (split_values(select) if select else None, split_values(extend_select), split_values(ignore), overrides)
    rules = configlib.enabled_rules(settings, *flags)
    layers = None
    if not isolated and not config_file:  # ruff's discovery: the configuration closest to each file applies
        by_file: dict = {settings.path: None}

        def layers(folder: str):
            path = configlib.find(folder)
            if path not in by_file or by_file[path] is None:
                if path == settings.path:
                    by_file[path] = engine.root
                else:
                    found = configlib.load(path) if path else configlib.Settings()
                    by_file[path] = Layer(found, configlib.enabled_rules(found, *flags))
            return by_file[path]

    engine = Engine(settings, rules, force_exclude=force_exclude, layers=layers)
    return engine


TEXT_STYLES = ("concise", "full")
SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}


def use_color(choice: str = "auto") -> bool:
    """`--color always|never`, else on a terminal unless NO_COLOR is set to something (an empty NO_COLOR does not
    count, as the convention says); FORCE_COLOR (non-empty) colours a pipe too."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


FEW_FILES = 8  # a handful of files named on the command line (pre-commit) is checked without the cache


def few_files(paths: list[str]) -> bool:
    return len(paths) < FEW_FILES and all(p == "-" or os.path.isfile(p) for p in paths)


class Progress:
    """A one-line progress bar on standard error, for runs over a second, only on a terminal."""

    DELAY = 1.0

    def __init__(self, enabled: bool = True):
        import time

        self.enabled = enabled and sys.stderr.isatty() and "PIPELINT_NO_PROGRESS" not in os.environ
        self.delay = float(os.environ.get("PIPELINT_PROGRESS_DELAY", self.DELAY))
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int, found: int) -> None:
        if not self.enabled:
            return
        import time

        now = time.monotonic()
        if now - self.start < self.delay or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        width = 30
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r[{bar}] {done}/{total} files, {found} problem{'s' if found != 1 else ''} so far")
        sys.stderr.flush()
        self.shown = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


class Report:
    """How a run's result reaches the user: the report, the summary, the baseline."""

    def __init__(self, output_format, output_file, statistics, baseline_file, fail_on="warning", color="auto",
                 quiet=False):
        # `text` is `full` on a terminal and `concise` elsewhere (pipes, files, CI logs)
        self.style = output_format if output_format in TEXT_STYLES else None
        self.format = "text" if self.style else output_format
        self.fail_on = fail_on
        self.color = color
        self.quiet = quiet
        self.output_file = output_file
        self.statistics = statistics
        self.baseline_file = baseline_file
        self.known = None
        if baseline_file:
            from pipelint.findings import baseline

            try:
                self.known = baseline.load(baseline_file)
            except baseline.BaselineError as exc:
                fail(str(exc))

    def emit(self, result, fix_mode: bool = False, stream=None, source_of=None) -> None:
        from pipelint import reporters

        for warning in [] if self.quiet else result.warnings:
            echo(f"pipelint: warning: {warning}", err=True)
        for error in result.errors:
            echo(f"pipelint: error: {error}", err=True)
        for error in result.internal_errors:
            echo(internal_line(error), err=True)
        notes = []
        if self.known is not None:
            from pipelint.findings import baseline

            before = len(result.findings)
            result.findings, gone = baseline.apply(self.baseline_file, self.known, result.findings)
            hidden = before - len(result.findings)
            if hidden:
                notes.append(f"{hidden} finding{'s' if hidden != 1 else ''} hidden by the baseline {self.baseline_file}")
            if gone:
                notes.append(f"{gone} baselined finding{'s are' if gone != 1 else ' is'} gone; "
                             f"rewrite the baseline with --write-baseline {self.baseline_file}")
        to_file = self.output_file is not None
        on_terminal = stream is None and not to_file
        if on_terminal and self.format != "text" and not self.statistics:
            fit_standard_output(machine=True)
        color = self.format == "text" and on_terminal and use_color(self.color)
        style = self.style or ("full" if on_terminal and sys.stdout.isatty() else "concise")
        try:
            if self.statistics:
                text = statistics_text(result, self.format)
                if self.format == "text" and result.findings and not self.quiet:  # the closing lines, as ruff's
                    text += reporters.get("text").summary(result, fix_mode=fix_mode)
            else:
                text = reporters.get(self.format).render(result, color=color, fix_mode=fix_mode, style=style,
                                                         source_of=source_of, quiet=self.quiet)
        except Exception as exc:  # a bug in a reporter: say so in one line, exit 2
            echo(f"pipelint: internal error in the {self.format} report: {type(exc).__name__}: {exc}; "
                 "please report it", err=True)
            sys.exit(EXIT_ERROR)
        if to_file:
            try:
                from pipelint.text.files import write_output

                write_output(self.output_file, text)
            except OSError as exc:
                fail(f"{self.output_file}: cannot write the report: {exc.strerror or exc}")
            if not self.quiet:
                echo(reporters.get("text").summary(result, fix_mode=fix_mode), nl=False, file=stream)
        else:
            echo(text, nl=False, file=stream)
        for note in notes:
            echo(note, err=self.format != "text" or to_file or stream is not None)


def statistics_text(result, output_format: str) -> str:
    rows: dict[str, list] = {}
    for f in result.findings:
        row = rows.setdefault(f.code, [f.code, f.name, 0, 0, 0])
        row[2] += 1
        row[3] += f.fixable
        row[4] += f.unsafe_fixable
    ordered = sorted(rows.values(), key=lambda r: (-r[2], r[0]))
    if output_format == "text":
        if not ordered:
            return "All checks passed.\n"
        width = max(len(str(r[2])) for r in ordered)

        def fixes(r):
            parts = ([f"[*] {r[3]} fixable"] if r[3] else []) + ([f"[~] {r[4]} unsafe"] if r[4] else [])
            return ", ".join(parts)

        return "".join(f"{r[2]:>{width}}  {r[0]}  {r[1]:<34}{fixes(r)}".rstrip() + "\n" for r in ordered)
    import json

    return json.dumps([{"code": c, "name": n, "count": k, "fixable": x, "unsafe_fixable": u}
                       for c, n, k, x, u in ordered], indent=2) + "\n"


def exit_status(result, exit_zero: bool, fail_on: str = "warning") -> int:
    """2 when something could not be checked; 1 when a finding at `fail_on` severity or above remains (by
    default errors and warnings; `info` findings are reported without failing the run)."""
    if result.errors or result.internal_errors:
        return EXIT_ERROR
    least = SEVERITY_RANK[fail_on]
    if not exit_zero and any(SEVERITY_RANK.get(f.severity, 2) >= least for f in result.findings):
        return EXIT_FINDINGS
    return EXIT_OK


def shown(path: str) -> str:
    """A path as a message shows it: relative to the current directory when it lies inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def nothing_checked(engine, result, paths) -> list[str]:
    """Why a run checked nothing, in a line: nothing found, all excluded, or nothing Harness's."""
    if result.errors or result.findings or (result.files_checked == 0 and engine.skipped):
        return []  # the skipped files were said already, one warning each
    where = ", ".join(paths)
    if result.files_checked == 0:
        if engine.excluded:
            n = len(engine.excluded)
            return [f"nothing checked in {where}: {n} YAML file{'s' if n != 1 else ''} or folder{'s' if n != 1 else ''} "
                    f"excluded by `exclude` in {shown(engine.settings.path) if engine.settings.path else 'the configuration'} "
                    f"(first: {engine.excluded[0]})"]
        return [f"no YAML files found in {where}"]
    return []  # files without Harness configuration: the summary line says so


def settings_text(engine) -> str:
    """`--show-settings`: the configuration in force, as TOML-like lines a person can compare with their file."""
    from pipelint.ruleapi.rule import toml_value

    s = engine.settings
    lines = [f"# configuration file: {shown(s.path) if s.path else 'none (the defaults)'}", f"# root: {shown(s.root)}"]
    lines.append(f"select = [{', '.join(toml_value(r.code) for r in engine.rules)}]")
    lines.append(f"exclude = [{', '.join(toml_value(p) for p in s.exclude)}]")
    lines.append(f"max-file-size = {toml_value(s.max_file_mb)}")
    if s.per_file_ignores:
        lines.append("[per-file-ignores]")
        lines += [f"{toml_value(k)} = [{', '.join(toml_value(c) for c in v)}]" for k, v in s.per_file_ignores.items()]
    for r in engine.rules:
        lines.append(f"[rules.{r.code}]  # {r.name}")
        lines.append(f"severity = {toml_value(r.effective_severity)}")
        lines += [f"{k} = {toml_value(v)}" for k, v in sorted(r.opts.items()) if v is not None]
    return "\n".join(lines) + "\n"


def list_files(engine, paths: list[str], verbose: bool) -> int:
    """`--show-files`: the files a check would read, one a line; with --verbose, also those it would not, and why."""
    from pipelint.harness import sites as harness
    from pipelint.text import source as sourcelib

    files, missing = engine.discover(paths)
    for path in files:
        note = ""
        if verbose and path != "-":
            try:
                src = sourcelib.read(path, engine.settings.max_file_bytes)
                note = "" if harness.may_hold_harness(src) else "  (read, but no Harness root key: not linted)"
            except sourcelib.ReadError as exc:
                note = f"  (not checked: {exc})"
        echo(sourcelib.printable(path + note))  # a file's name is anyone's to choose
    if verbose:
        for path in engine.excluded:
            echo(sourcelib.printable(f"{path}  (skipped: excluded by `exclude`)"))
        for line in engine.skipped:
            echo(sourcelib.printable(line))
    for path in missing:
        echo(f"pipelint: error: {path}: no such file or directory", err=True)
    return EXIT_ERROR if missing else EXIT_OK


def say_configuration(engine) -> None:
    where = engine.settings.path or "none found: the defaults"
    echo(f"pipelint: configuration: {where}; rules: {', '.join(r.code for r in engine.rules)}", err=True)


def source_reader(engine, result):
    """`path -> text` for the full text style: the text a run ended with (fixed, standard input) or the file."""
    def source_of(path: str) -> str | None:
        if path in result.changed:
            return result.changed[path][1]
        stdin = engine.stdin_source
        if stdin is not None and path == stdin.path:
            return stdin.text
        try:
            return sourcelib.read(path, engine.settings.max_file_bytes).text
        except sourcelib.ReadError:
            return None
    from pipelint.text import source as sourcelib

    return source_of


def check(paths=(), config_file=None, isolated=False, select=(), extend_select=(), ignore=(), output_format="text",
          output_file=None, statistics=False, baseline_file=None, exit_zero=False, force_exclude=False,
          stdin_filename=None, target=None, write_baseline=None, no_cache=False, jobs=None, fail_on="warning",
          color="auto", quiet=False, verbose=False, show_settings=False, show_files=False):
    """Check Harness YAML files and report problems."""
    import time

    started = time.monotonic()
    engine = make_engine(config_file, isolated, select, extend_select, ignore, force_exclude, target)
    if show_settings:
        echo(settings_text(engine), nl=False)
        sys.exit(EXIT_OK)
    if show_files:
        sys.exit(list_files(engine, list(paths) or ["."], verbose))
    if verbose:
        say_configuration(engine)
    report = Report(output_format, output_file, statistics, baseline_file, fail_on, color, quiet)
    cache = None
    paths = list(paths) or ["."]
    if not no_cache and not few_files(paths):
        from pipelint.engine.cache import Cache, config_key

        root = engine.settings.root if engine.settings.path else "."
        cache = Cache(root, config_key(engine.rules, engine.settings))
    from pipelint.engine.config import ConfigError

    with Progress(enabled=output_format == "text" and output_file is None) as progress:
        try:
            result = engine.check(paths, stdin_filename, cache=cache, jobs=jobs, progress=progress)
        except ConfigError as exc:  # the configuration closest to one of the files
            fail(str(exc))
    if write_baseline:
        from pipelint.findings import baseline

        for error in result.errors:
            echo(f"pipelint: error: {error}", err=True)
        try:
            baseline.write(write_baseline, result.findings)
        except OSError as exc:
            fail(f"{write_baseline}: cannot write the baseline: {exc.strerror or exc}")
        n = len(result.findings)
        echo(f"Wrote a baseline of {n} finding{'s' if n != 1 else ''} to {write_baseline}.")
        sys.exit(EXIT_ERROR if result.errors else EXIT_OK)
    if not quiet:
        for why in nothing_checked(engine, result, paths):
            echo(f"pipelint: warning: {why}", err=True)
    report.emit(result, source_of=source_reader(engine, result))
    if verbose:
        echo(f"pipelint: checked {result.files_checked} files in {time.monotonic() - started:.2f} s"
             f"{' (answered from the cache)' if cache is not None and not result.reports else ''}", err=True)
    sys.exit(exit_status(result, exit_zero, fail_on))


def fix(paths=(), config_file=None, isolated=False, select=(), extend_select=(), ignore=(), output_format="text",
        output_file=None, statistics=False, baseline_file=None, exit_zero=False, force_exclude=False,
        stdin_filename=None, target=None, unsafe_fixes=False, show_diff=False, show_fixes=False, fail_on="warning",
        color="auto", quiet=False, verbose=False):
    """Apply fixes in place, changing only the bytes that must change; report what is left."""
    from pipelint.commands import fixer

    engine = make_engine(config_file, isolated, select, extend_select, ignore, force_exclude, target)
    if verbose:
        say_configuration(engine)
    report = Report(output_format, output_file, statistics, baseline_file, fail_on, color, quiet)
    paths = list(paths) or ["."]
    from pipelint.engine.config import ConfigError

    try:
        result = fixer.fix(engine, paths, stdin_filename, unsafe=unsafe_fixes,
                           write=not show_diff and paths != ["-"])
    except ConfigError as exc:  # the configuration closest to one of the files
        fail(str(exc))
    if show_diff:
        diff = fixer.unified_diff(result)
        for error in result.errors:
            echo(f"pipelint: error: {error}", err=True)
        for error in result.internal_errors:
            echo(internal_line(error), err=True)
        fit_standard_output(machine=True)  # a patch: UTF-8, as the files are
        echo(diff, nl=False)
        if not quiet:  # on standard error, as ruff does: the diff stays a patch `git apply` reads
            n, files = len(result.fixed), len(result.changed)
            echo(f"Would fix {n} problem{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}."
                 if n else "No fixes to apply.", err=True)
        if result.errors or result.internal_errors:
            sys.exit(EXIT_ERROR)
        sys.exit(EXIT_FINDINGS if result.changed else EXIT_OK)
    if paths == ["-"]:
        # the fixed text goes to standard output; the report to standard error
        original = next(iter(result.sources.values()), None)
        if original is not None:
            new = result.changed.get(original.path, (original, None))[1]
            try:
                sys.stdout.buffer.write(original.raw if new is None else original.encode(new))
                sys.stdout.flush()
            except BrokenPipeError:
                raise
            except OSError as exc:
                raise OutputError(exc.strerror or str(exc)) from None
        report.emit(result, fix_mode=True, stream=sys.stderr, source_of=source_reader(engine, result))
        sys.exit(exit_status(result, exit_zero, fail_on))
    if show_fixes and result.fixed:
        echo(fixer.describe_fixes(result), nl=False)
    report.emit(result, fix_mode=True, source_of=source_reader(engine, result))
    sys.exit(exit_status(result, exit_zero, fail_on))


def rule_doc(cls) -> str:
    """What `pipelint rule CODE` prints: defaults, options (TOML spelling), the docstring."""
    head = f"# {cls.name} ({cls.code})\n\n"
    if getattr(cls, "custom", False):
        head += f"A custom rule, declared in {cls.source}. "
    head += f"Default severity: {cls.severity}. "
    head += "Enabled by default. " if cls.enabled_by_default else "Off by default. "
    head += {"safe": "Fix: safe.", "unsafe": "Fix: unsafe (with --unsafe-fixes)."}.get(cls.fix_safety, "No fix.")
    options = "".join(f"\n- `{o.name}` ({o.default_text()}): {o.help}" for o in cls.options)
    options += (f"\n- `severity` (default \"{cls.severity}\"): \"error\", \"warning\" or \"info\", as this rule's "
                "findings are reported")
    head += f"\n\nOptions, in [tool.pipelint.rules.{cls.code}] (or .pipelint.toml's [rules.{cls.code}]):\n{options}"
    return f"{head}\n\n{cls.doc()}"

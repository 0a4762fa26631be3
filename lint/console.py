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


def echo(message: str = "", err: bool = False, nl: bool = True, file=None) -> None:
    """Write a line to standard output (or error, or `file`), as click.echo does for text."""
    stream = file if file is not None else sys.stderr if err else sys.stdout
    stream.write(message + "\n" if nl else message)
    stream.flush()


def internal_line(error: str) -> str:
    """`pipelint: internal error in CON001 on p.yaml:3:1: ...`, or `pipelint: internal error: ...`."""
    return f"pipelint: internal error {error}" if error.startswith("in ") else f"pipelint: internal error: {error}"


def fail(message: str) -> None:
    echo(f"pipelint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def make_engine(config_file, isolated, select, extend_select, ignore, force_exclude, target):
    from pipelint import config as configlib
    from pipelint.engine import Engine

    if isolated and config_file:
        fail("--config and --isolated cannot be used together")
    try:
        if isolated:
            settings = configlib.Settings()
        else:
            path = config_file or configlib.find(".")
            if config_file and not os.path.isfile(config_file):
                fail(f"{config_file}: configuration file not found")
            settings = configlib.load(path) if path else configlib.Settings()
        overrides = configlib.flag_overrides({"--target": target})
        rules = configlib.enabled_rules(
            settings, split_values(select) if select else None, split_values(extend_select), split_values(ignore), overrides,
        )
    except configlib.ConfigError as exc:
        fail(str(exc))
    return Engine(settings, rules, force_exclude=force_exclude)


def use_color() -> bool:
    """On a terminal, unless NO_COLOR is set to something (an empty NO_COLOR does not count, as the
    convention says); FORCE_COLOR (non-empty) colours a pipe too."""
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

    def __init__(self, output_format, output_file, statistics, baseline_file):
        self.format = output_format
        self.output_file = output_file
        self.statistics = statistics
        self.baseline_file = baseline_file
        self.known = None
        if baseline_file:
            from pipelint import baseline

            try:
                self.known = baseline.load(baseline_file)
            except baseline.BaselineError as exc:
                fail(str(exc))

    def emit(self, result, fix_mode: bool = False, stream=None) -> None:
        from pipelint import reporters

        for warning in result.warnings:
            echo(f"pipelint: warning: {warning}", err=True)
        for error in result.errors:
            echo(f"pipelint: error: {error}", err=True)
        for error in result.internal_errors:
            echo(internal_line(error), err=True)
        notes = []
        if self.known is not None:
            from pipelint import baseline

            result.findings, gone = baseline.apply(self.baseline_file, self.known, result.findings)
            if gone:
                notes.append(f"{gone} baselined finding{'s are' if gone != 1 else ' is'} gone; "
                             f"rewrite the baseline with --write-baseline {self.baseline_file}")
        to_file = self.output_file is not None
        color = self.format == "text" and stream is None and not to_file and use_color()
        try:
            if self.statistics:
                text = statistics_text(result, self.format)
            else:
                text = reporters.get(self.format).render(result, color=color, fix_mode=fix_mode)
        except Exception as exc:  # a bug in a reporter: say so in one line, exit 2
            echo(f"pipelint: internal error in the {self.format} report: {type(exc).__name__}: {exc}; "
                 "please report it", err=True)
            sys.exit(EXIT_ERROR)
        if to_file:
            try:
                with open(self.output_file, "w", encoding="utf-8") as fh:
                    fh.write(text)
            except OSError as exc:
                fail(f"{self.output_file}: cannot write the report: {exc.strerror or exc}")
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


def exit_status(result, exit_zero: bool) -> int:
    if result.errors or result.internal_errors:
        return EXIT_ERROR
    if result.findings and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


def check(paths=(), config_file=None, isolated=False, select=(), extend_select=(), ignore=(), output_format="text",
          output_file=None, statistics=False, baseline_file=None, exit_zero=False, force_exclude=False,
          stdin_filename=None, target=None, write_baseline=None, no_cache=False, jobs=None):
    """Check Harness YAML files and report problems."""
    engine = make_engine(config_file, isolated, select, extend_select, ignore, force_exclude, target)
    report = Report(output_format, output_file, statistics, baseline_file)
    cache = None
    paths = list(paths) or ["."]
    if not no_cache and not few_files(paths):
        from pipelint.cache import Cache, config_key

        root = engine.settings.root if engine.settings.path else "."
        cache = Cache(root, config_key(engine.rules, engine.settings))
    with Progress(enabled=output_format == "text" and output_file is None) as progress:
        result = engine.check(paths, stdin_filename, cache=cache, jobs=jobs, progress=progress)
    if write_baseline:
        from pipelint import baseline

        for error in result.errors:
            echo(f"pipelint: error: {error}", err=True)
        try:
            baseline.write(write_baseline, result.findings)
        except OSError as exc:
            fail(f"{write_baseline}: cannot write the baseline: {exc.strerror or exc}")
        n = len(result.findings)
        echo(f"Wrote a baseline of {n} finding{'s' if n != 1 else ''} to {write_baseline}.")
        sys.exit(EXIT_ERROR if result.errors else EXIT_OK)
    if result.files_checked == 0 and not result.errors:
        echo(f"pipelint: warning: no YAML files found in {', '.join(paths)}", err=True)
    report.emit(result)
    sys.exit(exit_status(result, exit_zero))


def fix(paths=(), config_file=None, isolated=False, select=(), extend_select=(), ignore=(), output_format="text",
        output_file=None, statistics=False, baseline_file=None, exit_zero=False, force_exclude=False,
        stdin_filename=None, target=None, unsafe_fixes=False, show_diff=False, show_fixes=False):
    """Apply fixes in place, changing only the bytes that must change; report what is left."""
    from pipelint import fixer

    engine = make_engine(config_file, isolated, select, extend_select, ignore, force_exclude, target)
    report = Report(output_format, output_file, statistics, baseline_file)
    paths = list(paths) or ["."]
    result = fixer.fix(engine, paths, stdin_filename, unsafe=unsafe_fixes, write=not show_diff and paths != ["-"])
    if show_diff:
        diff = fixer.unified_diff(result)
        for error in result.errors:
            echo(f"pipelint: error: {error}", err=True)
        for error in result.internal_errors:
            echo(internal_line(error), err=True)
        echo(diff, nl=False)
        if result.errors or result.internal_errors:
            sys.exit(EXIT_ERROR)
        sys.exit(EXIT_FINDINGS if result.changed else EXIT_OK)
    if paths == ["-"]:
        # the fixed text goes to standard output; the report to standard error
        src = next(iter(result.reports.values()), None) if result.reports else None
        if src is not None:
            new = result.changed.get(src.source.path, (src.source, src.source.text))[1]
            if new is None:
                sys.stdout.buffer.write(src.source.raw)
            else:
                sys.stdout.buffer.write(src.source.encode(new))
            sys.stdout.flush()
        report.emit(result, fix_mode=True, stream=sys.stderr)
        sys.exit(exit_status(result, exit_zero))
    if show_fixes and result.fixed:
        echo(fixer.describe_fixes(result), nl=False)
    report.emit(result, fix_mode=True)
    sys.exit(exit_status(result, exit_zero))

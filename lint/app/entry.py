"""The console script: the pre-commit path without click, everything else through click.

Importing click costs about 30 ms, a third of yamllint's whole run on one file (bench/bench.py). The
pre-commit hooks run `pipelint check --force-exclude FILE...` and `pipelint fix --force-exclude FILE...`: when
the arguments are only paths and flags that are off by default (FAST_COMMANDS), `run` calls `console.check` or
`console.fix` directly; anything else (any other option, a value, `--help`, a path starting with `-`) goes to
click (`pipelint.cli`), which calls the same functions. tests/test_cli.py checks that both ways give the same
output, exit status and files for the same arguments.

This module sits above both `console` and `cli` (tests/test_architecture.py): neither imports it.
"""

from __future__ import annotations

import os
import sys

# Nothing of pipelint's is imported here at the top: `run` sets its signal handlers first, so that a ^C that lands
# while the rest is imported (the start of a run) ends it with one line, not a traceback.

# What `run` takes without click: per command, its flags that are off by default (tested against click's).
_COMMON_FLAGS = {"--force-exclude": "force_exclude", "--isolated": "isolated", "--exit-zero": "exit_zero",
                 "--statistics": "statistics", "-q": "quiet", "--quiet": "quiet"}
FAST_COMMANDS = {  # the name of the command's function in pipelint.app.console, its flags
    "check": ("check", {**_COMMON_FLAGS, "--no-cache": "no_cache"}),
    "fix": ("fix", {**_COMMON_FLAGS, "--unsafe-fixes": "unsafe_fixes", "--diff": "show_diff",
                    "--show-fixes": "show_fixes"}),
}


def fast_args(argv: list[str]):
    """(command function's name in console, keyword arguments) when `argv` is `check` or `fix` with only paths and the
    command's plain flags (what the pre-commit hooks run); else None, and click parses `argv`."""
    if not argv or argv[0] not in FAST_COMMANDS:
        return None
    command, flags = FAST_COMMANDS[argv[0]]
    kwargs: dict = {"paths": []}
    for i, arg in enumerate(argv[1:], 1):
        if arg == "--":  # paths only from here on
            kwargs["paths"].extend(argv[i + 1:])
            break
        if arg in flags:
            kwargs[flags[arg]] = True
        elif arg.startswith("-") and arg != "-":
            return None
        else:
            kwargs["paths"].append(arg)
    return command, kwargs


def files_not_options(argv: list[str]) -> list[str]:
    """`argv` with each argument that starts with `-` but is the name of a file there (`--output=a.yaml`,
    committed to a repository, which pre-commit passes with the other files, after the hook's options) moved
    after a `--`, where it is a path. Else that file's name chose an option: the report written over a.yaml."""
    end = argv.index("--") if "--" in argv else len(argv)
    named = [a for a in argv[:end] if a.startswith("-") and a != "-" and os.path.lexists(a)]
    if not named:
        return argv
    rest = [a for a in argv[:end] if a not in named]
    return [*rest, "--", *named, *argv[end + 1:]]


def run() -> None:
    """The console script: `check` or `fix` straight away on the pre-commit path, else click's command line; either
    way interrupts end the way shells expect (exit 130 on ^C, 143 on SIGTERM), after any file being written
    was either completed or left as it was (files.write_atomic). A ^C anywhere from here on, even while the
    handlers are set or given back, or while another error is reported, is this one line (tests/test_interrupts.py
    raises it at every line of this module's code and the pool's)."""
    try:
        _main()
    except KeyboardInterrupt:
        _give_back()  # a second ^C ends the process by the signal, without a word
        sys.stderr.write("pipelint: interrupted\n")
        sys.exit(130)


def _main() -> None:
    import signal

    signal.signal(signal.SIGTERM, _terminated)
    signal.signal(signal.SIGALRM, _again)
    sys.unraisablehook = _unraisable
    try:
        _run()
    finally:
        _give_back()
        if _swallowed:  # a signal's exception swallowed, and the run ended before it was raised again
            raise SystemExit(128 + _swallowed[0])  # the signal's exit status wins


def _give_back() -> None:
    """The work is done or abandoned and the exit status decided: a signal from here on, while the interpreter
    shuts down, ends the process as it would any program, not with a Python traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_REAL, 0)
    sys.unraisablehook = sys.__unraisablehook__


def _run() -> None:
    from pipelint.app import console
    from pipelint.engine.config import ConfigError

    EXIT_ERROR, echo = console.EXIT_ERROR, console.echo
    if sys.stdout is None:  # started with it closed (`>&-`)
        sys.stdout = console.ClosedOutput()
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 -- nowhere to say anything; for the process's life
    console.fit_standard_output()
    sys.argv[1:] = files_not_options(sys.argv[1:])
    if sys.argv[1:2] in (["check"], ["fix"]):
        console.no_cyclic_collector()
    try:
        fast = fast_args(sys.argv[1:])
        if fast is not None:
            name, kwargs = fast
            getattr(console, name)(**kwargs)
        else:
            from pipelint.app.cli import main_with_click

            main_with_click()
    except ConfigError as exc:  # a configuration file found during the run (the one closest to a file)
        echo(f"pipelint: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except BrokenPipeError:
        sys.stderr.close()  # `pipelint check | head`: not an error worth a traceback
        sys.exit(1)
    except console.OutputError as exc:  # a full disk, a closed standard output: the report is not there
        echo(f"pipelint: error: cannot write to standard output: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # a bug of ours: one line and exit 2, never a traceback
        if os.environ.get("PIPELINT_TRACEBACK"):
            raise
        text = " ".join(str(exc).split())[:300]
        echo(f"pipelint: internal error: {type(exc).__name__}{': ' + text if text else ''}; please report it "
             "(PIPELINT_TRACEBACK=1 shows where)", err=True)
        sys.exit(EXIT_ERROR)


class _Terminated(SystemExit):
    """SIGTERM's exception (exit 143), told apart from any other SystemExit."""


def _terminated(signum, frame):
    raise _Terminated(128 + signum)


# Signals whose exception Python swallowed, to be raised again. A signal's handler runs in whatever Python code
# the main thread runs when it arrives: inside a __del__ or a weakref callback (a pipe's, the import system's),
# its exception is only printed ("Exception ignored in ...") and the run went on, to exit 0 after a SIGTERM (seen
# in tests/test_interrupts.py). The hook that Python calls instead raises it again a millisecond later, from a
# SIGALRM, in whatever runs then (again, should that be another __del__).
_swallowed: list[int] = []


def _unraisable(unraisable) -> None:
    import signal

    exc = unraisable.exc_value
    if isinstance(exc, KeyboardInterrupt):
        _swallowed.append(signal.SIGINT)
    elif isinstance(exc, _Terminated):
        _swallowed.append(signal.SIGTERM)
    else:
        sys.__unraisablehook__(unraisable)
        return
    signal.setitimer(signal.ITIMER_REAL, 0.001)


def _again(signum, frame):
    """SIGALRM: the signal whose exception was swallowed, raised again."""
    import signal

    if not _swallowed:
        return
    again = _swallowed.pop()
    _swallowed.clear()
    if again == signal.SIGINT:
        raise KeyboardInterrupt
    raise _Terminated(128 + again)

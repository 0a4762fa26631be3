"""`path:line:column: CODE [*] message`, then a summary line; ANSI colour only when asked."""

from __future__ import annotations

_FG = {"red": 31, "green": 32, "yellow": 33}


def _style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """ANSI colour and weight, as click.style writes them (the pre-commit path runs without click)."""
    codes = ([f"\x1b[{_FG[fg]}m"] if fg else []) + (["\x1b[1m"] if bold else [])
    return "".join(codes) + text + "\x1b[0m"


def _plain(text: str, **_) -> str:
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(result, color: bool = False, fix_mode: bool = False, **_) -> str:
    if color:
        lines = [f"{_style(f.path, bold=True)}:{f.span.line}:{f.span.column}: "
                 f"{_style(f.code, fg='red' if f.severity == 'error' else 'yellow', bold=True)}"
                 f"{_marker(f)} {f.message}\n" for f in result.findings]
    else:
        lines = [f"{f.path}:{f.span.line}:{f.span.column}: {f.code}{_marker(f)} {f.message}\n"
                 for f in result.findings]
    return "".join(lines) + summary(result, color, fix_mode)


def _marker(f) -> str:
    """` [*]` a safe fix (`pipelint fix`), ` [~]` an unsafe one (`--unsafe-fixes`), nothing without a fix."""
    if f.fix is None:
        return ""
    return " [*]" if f.fix.safe else " [~]"


def summary(result, color: bool = False, fix_mode: bool = False) -> str:
    """The closing lines: what was fixed, how many problems, how many `fix` repairs."""
    lines = []
    style = _style if color else _plain
    if fix_mode and result.fixed:
        files = len({p for p, _ in result.fixed})
        lines.append(f"Fixed {_plural(len(result.fixed), 'problem')} in {_plural(files, 'file')}.")
    if result.findings:
        files = len({f.path for f in result.findings})
        fixable = sum(1 for f in result.findings if f.fixable)
        found = f"Found {_plural(len(result.findings), 'problem')} in {_plural(files, 'file')}"
        lines.append(found + (f" ({fixable} fixable)." if fixable else "."))
        unsafe = sum(1 for f in result.findings if f.unsafe_fixable)
        if fixable and not fix_mode:
            lines.append(f"[*] {fixable} fixable with `pipelint fix`.")
        if unsafe:
            lines.append(f"[~] {unsafe} more fixable with `pipelint fix --unsafe-fixes` (unsafe: read the message).")
    elif result.errors or result.internal_errors:  # not a pass: something was not checked (said on stderr)
        failed = len(result.errors) + len(result.internal_errors)
        lines.append(f"No problems found, but {_plural(failed, 'error')} kept pipelint from checking everything.")
    else:
        lines.append(style("All checks passed.", fg="green"))
    return "\n".join(lines) + "\n"

"""Text output, in two styles, then a summary; ANSI colour only when asked.

- `concise`, one line a finding: `path:line:column: SEVERITY CODE [*] message`;
- `full`, ruff's default: the same line, then the source lines around the finding with a marker under its span
  and the fix's title and safety (`= fix: ...`).

`[*]` marks a safe fix (`pipelint fix`), `[~]` an unsafe one (`pipelint fix --unsafe-fixes`).
"""

from __future__ import annotations

import re

from pipelint.text.source import printable

_FG = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "cyan": 36}
_SEVERITY_COLOR = {"error": "red", "warning": "yellow", "info": "cyan"}
# YAML's line breaks as libyaml counts them (its marks' line numbers): CRLF, CR, LF, NEL, LS, PS
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
WIDTH = 100  # a source line longer than this is cut around the span
CONTEXT = 1  # lines shown before and after the finding's lines


def _style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """ANSI colour and weight, as click.style writes them (the pre-commit path runs without click)."""
    codes = ([f"\x1b[{_FG[fg]}m"] if fg else []) + (["\x1b[1m"] if bold else [])
    return "".join(codes) + text + "\x1b[0m"


def _plain(text: str, **_) -> str:
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(result, color: bool = False, fix_mode: bool = False, style: str = "concise", source_of=None,
           quiet: bool = False, **_) -> str:
    """`style` "concise" or "full"; `source_of(path)` gives a file's text for the full style (None: no
    snippet for that file)."""
    paint = _style if color else _plain
    if style == "full":
        texts: dict[str, list[str] | None] = {}
        blocks = []
        for f in result.findings:
            if f.path not in texts:
                text = source_of(f.path) if source_of is not None else None
                texts[f.path] = _LINE_BREAK.split(text) if text is not None else None
            blocks.append(headline(f, paint) + "\n" + _full(f, texts[f.path], paint))
        body = "\n".join(blocks) + ("\n" if blocks else "")
    else:
        body = "".join(headline(f, paint) + "\n" for f in result.findings)
    return body if quiet else body + summary(result, color, fix_mode)


def headline(f, paint=_plain) -> str:
    """`path:line:column: error CODE [*] message`."""
    severity = paint(f.severity, fg=_SEVERITY_COLOR.get(f.severity), bold=True)
    return f"{paint(printable(f.path), bold=True)}:{f.span.line}:{f.span.column}: {severity} {paint(f.code, bold=True)}" \
           f"{_marker(f)} {f.message}"


def _marker(f) -> str:
    if f.fix is None:
        return ""
    return " [*]" if f.fix.safe else " [~]"


def _full(f, lines: list[str] | None, paint) -> str:
    """The source lines of the finding, a marker under its span, and the fix."""
    out = []
    s = f.span
    if lines is not None and 1 <= s.line <= len(lines):
        last = min(max(s.end_line, s.line), len(lines), s.line + 2)  # a long span: its first three lines
        if s.end_line > s.line and s.end_column == 1:
            last = max(s.line, min(last, s.end_line - 1))  # a span ending at a line's start ends on the line before
        first_shown, last_shown = max(1, s.line - CONTEXT), min(len(lines), last + CONTEXT)
        gutter = len(str(last_shown))
        bar = paint(" " * gutter + " |", fg="blue", bold=True)
        out.append(bar)
        for n in range(first_shown, last_shown + 1):
            line = printable(lines[n - 1].replace("\t", " "))  # one character for one: the columns hold
            if s.line <= n <= last:
                start = s.column - 1 if n == s.line else _indent(line)
                end = (s.end_column - 1) if n == s.end_line else len(line)
                end = max(end, start + 1)
                shown, start, end = _window(line, start, end)
                out.append(paint(f"{n:>{gutter}} |", fg="blue", bold=True) + f" {shown}".rstrip())
                marks = " " * start + "^" * (end - start)
                label = f" {f.code}" if n == s.line else ""
                out.append(bar + " " + paint(marks + label, fg=_SEVERITY_COLOR.get(f.severity), bold=True))
            else:
                shown, _, _ = _window(line, s.column - 1, s.column)
                out.append(paint(f"{n:>{gutter}} |", fg="blue", bold=True) + f" {shown}".rstrip())
        out.append(bar)
    if f.fix is not None:
        safety = "safe, `pipelint fix`" if f.fix.safe else "unsafe, `pipelint fix --unsafe-fixes`"
        out.append(paint("  = fix: ", bold=True) + f"{f.fix.description} ({safety})")
    if f.hint:
        out.append(paint("  = help: ", bold=True) + f.hint)
    return "".join(line + "\n" for line in out)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _window(line: str, start: int, end: int) -> tuple[str, int, int]:
    """`line` cut to about WIDTH characters around [start, end) (`…` where cut), and the span's new place."""
    if len(line) <= WIDTH:
        return line, min(start, len(line)), min(end, max(len(line), start + 1))
    left = max(0, min(start - WIDTH // 3, len(line) - WIDTH))
    right = min(len(line), left + WIDTH)
    head = "…" if left > 0 else ""
    tail = "…" if right < len(line) else ""
    shift = left - len(head)
    return head + line[left:right] + tail, start - shift, min(end, right) - shift


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
        by_severity = [f"{n} {sev}{'s' if n != 1 else ''}" for sev in ("error", "warning", "info")
                       if (n := sum(1 for f in result.findings if f.severity == sev))]
        lines.append(found + f" ({', '.join(by_severity)}" + (f"; {fixable} fixable)." if fixable else ")."))
        unsafe = sum(1 for f in result.findings if f.unsafe_fixable)
        if fixable and not fix_mode:
            lines.append(f"[*] {fixable} fixable with `pipelint fix`.")
        if unsafe:
            lines.append(f"[~] {unsafe} more fixable with `pipelint fix --unsafe-fixes` (unsafe: read the message).")
    elif result.files_checked == 0 and result.errors and not result.internal_errors:
        return ""  # nothing could be read (a missing path): the error lines say it all
    elif result.errors or result.internal_errors:  # not a pass: something was not checked (said on stderr)
        failed = len(result.errors) + len(result.internal_errors)
        lines.append(f"No problems found, but {_plural(failed, 'error')} kept pipelint from checking everything.")
    elif result.files_checked == 0:
        lines.append("No files were checked.")
    elif not getattr(result, "harness_files", 1):
        lines.append(f"No Harness configuration in the {_plural(result.files_checked, 'file')} checked (no root key "
                     "such as `pipeline:`, and not under a .harness/ folder).")
    else:
        lines.append(style("All checks passed.", fg="green"))
    return "\n".join(lines) + "\n"

"""`# pipelint: ignore[...]` and `# pipelint: ignore-file[...]` comments, found in the text.

The parser gives no comments; a `#` is a comment when it starts a line's content or follows white space,
and is not inside a quoted or block scalar (there it is text). Scalar spans come from the parsed nodes.
"""

from __future__ import annotations

import re

from pipelint.text.source import line_of
from pipelint.yamldoc.document import Document, ScalarNode, walk

_DIRECTIVE = re.compile(r"#[ \t]*pipelint:[ \t]*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")
ALL = "*"


class Directive:
    """One `# pipelint: ignore[...]` comment: where it is, what it names, the line it covers (0: the file), or with
    `last` the lines target..last (a comment above a Terraform attribute covers its whole heredoc)."""

    __slots__ = ("codes", "column", "end", "last", "line", "start", "target", "used")

    def __init__(self, start: int, end: int, line: int, column: int, target: int, codes: set[str], last: int = 0):
        self.start, self.end, self.line, self.column = start, end, line, column
        self.target = target
        self.last = last
        self.codes = codes  # as written (codes upper-cased), or {ALL}
        self.used = False  # it suppressed a finding in this run

    def names(self, code: str, name: str) -> bool:
        return ALL in self.codes or code in self.codes or name in self.codes


class Suppressions:
    """The `# pipelint: ignore` comments of a file, by the line they cover and for the whole file."""

    __slots__ = ("directives", "file", "lines", "ranges")

    def __init__(self, directives: list[Directive] | None = None):
        self.directives = directives if directives is not None else []
        self.lines: dict[int, list[Directive]] = {}
        self.file: list[Directive] = []
        self.ranges: list[Directive] = []
        for d in self.directives:
            if d.last:
                self.ranges.append(d)
            elif d.target:
                self.lines.setdefault(d.target, []).append(d)
            else:
                self.file.append(d)

    def covers(self, code: str, name: str, line: int) -> bool:
        """Whether a comment suppresses this finding (and those that do are marked used)."""
        hit = False
        spans = [d for d in self.ranges if d.target <= line <= d.last] if self.ranges else ()
        for d in (*self.file, *self.lines.get(line, ()), *spans):
            if d.names(code, name):
                d.used = hit = True
        return hit

    def moved(self, line_of) -> Suppressions:
        """The same comments with their lines renumbered by `line_of` (an embedded text's lines in its file)."""
        return Suppressions([Directive(d.start, d.end, line_of(d.line), d.column, line_of(d.target) if d.target else 0,
                                       d.codes, line_of(d.last) if d.last else 0) for d in self.directives])

    def __bool__(self) -> bool:
        return bool(self.directives)


def directive_codes(comment: str) -> set[str] | None:
    """The codes an ignore comment (`# pipelint: ignore[...]`, or HCL's `// pipelint: ignore[...]`) names."""
    m = _DIRECTIVE.search("#" + comment.lstrip("/").lstrip("#"))
    if m is None or m.group(1) != "ignore":
        return None
    codes = {c.strip() for c in (m.group(2) or "").split(",") if c.strip()} or {ALL}
    return {c.upper() if c[:3].isalpha() and c[3:].isdigit() else c for c in codes}


def find(text: str, docs: list[Document]) -> Suppressions:
    if "pipelint:" not in text:
        return Suppressions()
    found: list[Directive] = []
    scalar_spans = None
    for m in _DIRECTIVE.finditer(text):
        start = m.start()
        if start > 0 and text[start - 1] not in " \t\n":
            continue
        if scalar_spans is None:
            scalar_spans = [
                (n.start_mark.index, n.end_mark.index)
                for d in docs for n in walk(d.root)
                if isinstance(n, ScalarNode) and n.style in ("|", ">", "'", '"')
            ]
        if any(a <= start < b for a, b in scalar_spans):
            continue
        codes = {c.strip() for c in (m.group(2) or "").split(",") if c.strip()} or {ALL}
        codes = {c.upper() if c[:3].isalpha() and c[3:].isdigit() else c for c in codes}
        line_start = text.rfind("\n", 0, start) + 1
        line = line_of(text, start)  # the line starts found once per text, not counted per comment
        if m.group(1) == "ignore-file":
            target = 0
        else:
            target = line + 1 if not text[line_start:start].strip() else line
        found.append(Directive(start, m.end(), line, start - line_start + 1, target, codes))
    return Suppressions(found)

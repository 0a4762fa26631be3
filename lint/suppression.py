"""`# pipelint: ignore[...]` and `# pipelint: ignore-file[...]` comments, found in the text.

The parser gives no comments; a `#` is a comment when it starts a line's content or follows white space,
and is not inside a quoted or block scalar (there it is text). Scalar spans come from the parsed nodes.
"""

from __future__ import annotations

import re

from pipelint.document import Document, ScalarNode, walk

_DIRECTIVE = re.compile(r"#[ \t]*pipelint:[ \t]*(ignore-file|ignore)\b(?:\[([^\]]*)\])?")
ALL = "*"


class Suppressions:
    """The `# pipelint: ignore` comments of a file, by line and for the whole file."""

    __slots__ = ("file", "lines")

    def __init__(self, lines: dict[int, set[str]] | None = None, file: set[str] | None = None):
        self.lines = lines if lines is not None else {}  # 1-based line -> codes (or ALL)
        self.file = file if file is not None else set()

    def covers(self, code: str, name: str, line: int) -> bool:
        return any(ALL in codes or code in codes or name in codes
                   for codes in (self.file, self.lines.get(line, ())))

    def moved(self, line_of) -> Suppressions:
        """The same comments with their lines renumbered by `line_of` (an embedded text's lines in its file)."""
        return Suppressions({line_of(n): codes for n, codes in self.lines.items()}, self.file)

    def __bool__(self) -> bool:
        return bool(self.lines or self.file)


def find(text: str, docs: list[Document]) -> Suppressions:
    out = Suppressions()
    if "pipelint:" not in text:
        return out
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
        if m.group(1) == "ignore-file":
            out.file |= codes
            continue
        line_start = text.rfind("\n", 0, start) + 1
        line = text.count("\n", 0, start) + 1
        target = line + 1 if not text[line_start:start].strip() else line
        out.lines.setdefault(target, set()).update(codes)
    return out

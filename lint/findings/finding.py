"""Findings, their spans, and the fixes attached to them (edits on the original text).

The records here and on the rest of the check path are plain classes with __slots__, not dataclasses:
importing dataclasses (with inspect) and generating each class's methods cost 15 ms of the 56 ms that
`pipelint check FILE` took (the pre-commit path, whose target is 80% of yamllint's time; bench/bench.py).
Modules off that path (pin, report, inventory, registry, lockfile) use dataclasses."""

from __future__ import annotations

from pipelint.text.source import Region, line_col, marks_agree, printable
from pipelint.yamldoc.document import Node, ScalarNode, scalar_value_start

Severity = str  # "error", "warning" or "info" (SEVERITIES); typing.Literal would cost 4 ms of start-up
SEVERITIES = ("error", "warning", "info")


class Span:
    """A stretch of the source text: character indexes and 1-based line/column at both ends."""

    __slots__ = ("column", "end", "end_column", "end_line", "line", "start")

    def __init__(self, start: int, end: int, line: int, column: int, end_line: int, end_column: int):
        self.start = start  # character index into the source text (BOM excluded)
        self.end = end
        self.line = line  # 1-based
        self.column = column  # 1-based
        self.end_line = end_line
        self.end_column = end_column

    def _key(self) -> tuple:
        return (self.start, self.end, self.line, self.column, self.end_line, self.end_column)

    def __eq__(self, other: object) -> bool:
        return type(other) is Span and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Span{self._key()}"

    @classmethod
    def of(cls, node: Node, text: str) -> Span:
        start_mark, end_mark = node.start_mark, node.end_mark
        start = start_mark.index
        line, col = start_mark.line + 1, start_mark.column + 1
        if isinstance(node, ScalarNode) and text is not None:
            vstart = scalar_value_start(node, text)
            if vstart != start:
                line, col = line_col(text, vstart)
                start = vstart
        if text is not None and not marks_agree(text):  # a YAML-only line break (U+2028...) before: the marks'
            line, col = line_col(text, start)          # lines are not the file's
            return cls(start, end_mark.index, line, col, *line_col(text, end_mark.index))
        return cls(start, end_mark.index, line, col, end_mark.line + 1, end_mark.column + 1)

    @classmethod
    def at_line_col(cls, text: str, line: int, column: int) -> Span:
        """An empty span at a 1-based line and column (where a parser stopped), clamped to the text."""
        pos = 0
        for _ in range(line - 1):
            nl = text.find("\n", pos)
            if nl < 0:
                pos = len(text)
                break
            pos = nl + 1
        index = min(pos + column - 1, len(text))
        return cls(index, index, line, column, line, column)


def translate_span(s: Span, region: Region) -> Span:
    """A span of a region's inner text as a span of the outer file."""
    line, col = region.line_col(s.start)
    end_line, end_col = region.line_col(s.end)
    return Span(region.offset(s.start), region.offset(s.end), line, col, end_line, end_col)


def translate(f: Finding, region: Region) -> Finding:
    """`f` on a region's inner text as a finding on the outer file: its path, span and edits (the intents stay
    the inner text's, for verifying). A fix with an edit the region cannot carry (into a hole) is dropped."""
    span = translate_span(f.span, region)
    fix, message = f.fix, f.message
    if fix is not None:
        edits = [region.edit(e.start, e.end, e.text) for e in fix.edits]
        moved = [Edit(*e) for e in edits if e is not None]
        inner = fix
        fix = Fix(fix.description, tuple(moved), fix.safe, fix.intents, fix.doc) if len(moved) == len(edits) else None
        if fix is not None:
            fix.inner, fix.region = inner, region
        else:
            message += f" (no automatic fix: {region.hole_reason})"
    if region.holes and "<+_" in message:
        message = _unmasked(message, f.span.start, region)
    return Finding(f.code, f.name, f.severity, message, region.outer_path, span, fix, f.yaml_path, f.value, f.hint)


_MASK = None


def _unmasked(message: str, at: int, region: Region) -> str:
    """A message that quotes a masked template hole (`<+_____>`, pipelint.templated) quotes the template's own
    text instead (`${identifier}`): the hole of that length nearest before the finding (else after it)."""
    import re

    global _MASK  # noqa: PLW0603 -- compiled on first need
    if _MASK is None:
        _MASK = re.compile(r"<\+_*>")

    def original(m) -> str:
        token = m.group(0)
        best = None
        for a, b in region.holes:
            start, end = region.offset(a), region.offset(b)
            text = region.outer_text[start:end]
            first = text.split("\n", 1)[0]
            if len(first) != len(token):
                continue
            distance = (at - a) if a <= at else (a - at) + len(region.outer_text)
            if best is None or distance < best[0]:
                best = (distance, first + ("…" if "\n" in text else ""))
        return best[1] if best is not None else token

    return _MASK.sub(original, message)


class Edit:
    """Replace text[start:end] with `text`. An insertion has start == end. Compared by value (fixes that
    make the same edit are applied once)."""

    __slots__ = ("end", "start", "text")

    def __init__(self, start: int, end: int, text: str):
        self.start = start
        self.end = end
        self.text = text

    def __eq__(self, other: object) -> bool:
        return type(other) is Edit and (self.start, self.end, self.text) == (other.start, other.end, other.text)

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.text))

    def __repr__(self) -> str:
        return f"Edit({self.start}, {self.end}, {self.text!r})"


class Fix:
    """Text edits that repair a finding, safe or unsafe."""

    __slots__ = ("description", "doc", "edits", "inner", "intents", "others", "region", "safe")

    def __init__(self, description: str, edits: tuple[Edit, ...], safe: bool = True, intents: tuple = (),
                 doc: int = 0):
        self.description = printable(description)
        self.edits = edits
        self.safe = safe
        self.intents = intents  # what the edits mean (yamltext.Intent), for verifying; dropped in compact reports
        self.doc = doc  # the number of the document (in its file) the intents' paths are in
        self.inner: Fix | None = None  # a fix moved out of a region (finding.translate): the fix on the inner text
        self.region: Region | None = None  # ... and that region
        # the same fix in a template's other renderings: (region, inner fix) each (engine._once_across_renderings)
        self.others: list[tuple[Region, Fix | None]] = []

    def without_intents(self) -> Fix:
        return Fix(self.description, self.edits, self.safe, doc=self.doc)


class Finding:
    """One problem a rule reports, where it is, and the fix for it, if any."""

    __slots__ = ("code", "fix", "hint", "message", "name", "path", "severity", "span", "value", "yaml_path")

    def __init__(self, code: str, name: str, severity: Severity, message: str, path: str, span: Span,
                 fix: Fix | None = None, yaml_path: tuple = (), value: str = "", hint: str = ""):
        self.code = code
        self.name = name
        self.severity = severity
        self.message = printable(message)  # values from the file: never a terminal's escape or a line of its own
        self.path = path
        self.span = span
        self.fix = fix
        self.yaml_path = yaml_path  # where in the document: keys and identifiers
        self.value = value  # the offending value (baseline fingerprints)
        self.hint = printable(hint)  # what to do about it, when that is not a fix: `= help:` in the full text style

    @property
    def full_message(self) -> str:
        """The message with its hint, for the formats that have one message field (JSON, SARIF, CI)."""
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def __repr__(self) -> str:
        return f"Finding({self.path}:{self.span.line}:{self.span.column} {self.code} {self.message!r})"

    @property
    def line(self) -> int:
        return self.span.line

    @property
    def column(self) -> int:
        return self.span.column

    @property
    def fixable(self) -> bool:
        """`pipelint fix` repairs it (a safe fix); unsafe fixes need `--unsafe-fixes`."""
        return self.fix is not None and self.fix.safe

    @property
    def unsafe_fixable(self) -> bool:
        return self.fix is not None and not self.fix.safe

    @property
    def yaml_path_text(self) -> str:
        """`pipeline.stages[build].stage.spec.infrastructure`: identifiers, not indexes, where the YAML has them."""
        out = ""
        for part in self.yaml_path:
            out += part if not out or part.startswith("[") else "." + part
        return out

    def fingerprint(self, path: str | None = None) -> str:
        """Stable across edits elsewhere in the file: file, rule, YAML path and offending value; no line numbers."""
        import hashlib

        from pipelint.text.source import file_bytes

        parts = ((path or self.path).replace("\\", "/"), self.code, self.yaml_path_text, self.value)
        return hashlib.sha256(file_bytes("\0".join(parts))).hexdigest()[:32]

    def sort_key(self):
        return (self.path, self.span.line, self.span.column, self.code)

"""Findings, their spans, and the fixes attached to them (edits on the original text)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pipelint.document import Node, ScalarNode, scalar_value_start

Severity = str  # "error", "warning" or "info" (SEVERITIES); typing.Literal would cost 4 ms of start-up
SEVERITIES = ("error", "warning", "info")


@dataclass(slots=True)  # not frozen: frozen dataclasses are four times slower to build (cache loads)
class Span:
    """A stretch of the source text: character indexes and 1-based line/column at both ends."""

    start: int  # character index into the source text (BOM excluded)
    end: int
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int

    @classmethod
    def of(cls, node: Node, text: str) -> Span:
        start_mark, end_mark = node.start_mark, node.end_mark
        start = start_mark.index
        line, col = start_mark.line + 1, start_mark.column + 1
        if isinstance(node, ScalarNode) and text is not None:
            vstart = scalar_value_start(node, text)
            if vstart != start:
                line, col = _line_col(text, vstart)
                start = vstart
        return cls(start, end_mark.index, line, col, end_mark.line + 1, end_mark.column + 1)

    @classmethod
    def point(cls, text: str, index: int) -> Span:
        line, col = _line_col(text, index)
        return cls(index, index, line, col, line, col)


def _line_col(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


@dataclass(frozen=True)
class Edit:
    """Replace text[start:end] with `text`. An insertion has start == end."""

    start: int
    end: int
    text: str


@dataclass(slots=True)
class Fix:
    """Text edits that repair a finding, safe or unsafe."""

    description: str
    edits: tuple[Edit, ...]
    safe: bool = True
    intents: tuple = field(default=(), compare=False)  # what the edits mean (yamltext.Intent), for verifying


@dataclass(slots=True)
class Finding:
    """One problem a rule reports, where it is, and the fix for it, if any."""

    code: str
    name: str
    severity: Severity
    message: str
    path: str
    span: Span
    fix: Fix | None = None
    yaml_path: tuple = field(default=(), compare=False)  # where in the document: keys and identifiers
    value: str = field(default="", compare=False)  # the offending value (baseline fingerprints)

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

        parts = ((path or self.path).replace("\\", "/"), self.code, self.yaml_path_text, self.value)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]

    def sort_key(self):
        return (self.path, self.span.line, self.span.column, self.code)

"""Templated Harness YAML: Terraform `templatefile()` sources (`*.yaml.tpl`) and Harness YAML holding `${...}`
interpolations or `%{...}` directives. The template syntax is masked, character for character, as a Harness
expression (`<+___>`): the YAML parser reads each hole as a scalar, every position is kept, no rule reports or
rewrites a value holding one, and no fix edits one (the file is a region of itself, source.Region, with holes).
`$${` and `%%{` are the template's escapes for a literal `${`/`%{`: not holes.
"""

from __future__ import annotations

from pipelint.source import Region, Source

SUFFIXES = (".yaml.tpl", ".yml.tpl")


def is_template(path: str) -> bool:
    return path.endswith(SUFFIXES)


def holes(text: str) -> list[tuple[int, int]]:
    """The [start, end) of every `${...}` and `%{...}` (braces nested, quoted strings inside skipped)."""
    out: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while True:
        i = _next_open(text, i)
        if i < 0:
            return out
        j, depth, quote = i + 2, 1, False
        while j < n and depth:
            c = text[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == '"':
                    quote = False
            elif c == '"':
                quote = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == "\n" and text[i] == "$":
                break  # an interpolation does not span lines: not template syntax
            j += 1
        if depth == 0:
            out.append((i, j))
            i = j
        else:
            i += 2


def _next_open(text: str, start: int) -> int:
    best = -1
    for mark in ("${", "%{"):
        k = text.find(mark, start)
        while k > 0 and text[k - 1] == mark[0]:  # `$${`: an escaped, literal `${`
            k = text.find(mark, k + 2)
        if k >= 0 and (best < 0 or k < best):
            best = k
    return best


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """Each hole as a same-length `<+___>`; a directive alone on its line (`%{ if x }`, which renders to
    nothing there) as a same-length comment."""
    parts = []
    at = 0
    for a, b in spans:
        parts.append(text[at:a])
        line_start = text.rfind("\n", 0, a) + 1
        line_end = text.find("\n", b)
        alone = (text[a] == "%" and not text[line_start:a].strip()
                 and not text[b:line_end if line_end >= 0 else len(text)].strip())
        if alone:
            parts.append("#" + " " * (b - a - 1))
        else:
            parts.append("<+" + "_" * max(b - a - 3, 0) + ">" if b - a >= 3 else text[a:b])
        at = b
    parts.append(text[at:])
    return "".join(parts)


def region_source(src: Source) -> Source | None:
    """The file as a region of itself with its template syntax masked; None when it holds none."""
    text = src.text
    if text is None or ("${" not in text and "%{" not in text):
        return None
    spans = holes(text)
    if not spans:
        return None
    region = Region.whole(src.path, text)
    region.holes = tuple(spans)
    return Source(src.path, mask(text, spans), src.bom, src.newline, region=region)


def reread(path: str, text: str) -> list[str]:
    """The masked text of a changed file: what a fix must have produced."""
    return [mask(text, holes(text))]

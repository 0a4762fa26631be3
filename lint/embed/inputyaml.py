"""The expander for a trigger's `inputYaml`: a string holding an input set (or the input set's pipeline), which
Harness parses as YAML of its own when the trigger fires.

It expands a unit, not a file (pipelint.embed.expand runs it on every unit the file expanders gave, so a trigger
in a Terraform heredoc composes: the input set is a region of the heredoc's region). A literal block scalar
(`inputYaml: |`) maps line by line, and fixes may edit inside it: the trigger is read back, its string taken
again the same way, and it must be exactly the fixed input set (pipelint.findings.fixplan.rewrite_regions);
any other string (quoted, folded) maps every position to the value's start, and nothing in it may be edited (an
escape would shift every later character).
"""

from __future__ import annotations

from pipelint.harness import sites as harness
from pipelint.text.source import Region, Source
from pipelint.yamldoc import document
from pipelint.yamldoc.document import ScalarNode, get

KEY = "inputYaml"
UNPARSED = "the trigger's inputYaml is not an input set"  # what YML001 says first when it does not parse


def units(src: Source) -> list[tuple[Source, int, tuple[str, ...]]]:
    """Each trigger's input set in the unit `src`, as (a unit whose region is a region of `src`'s text, the
    trigger's document number, the path of the string in it). [] when there is none (a substring test first:
    only a unit that names the key is parsed)."""
    text = src.text
    if text is None or KEY not in text:
        return []
    try:
        docs, _ = harness.documents(src)
    except RecursionError:  # the unit's own check says so
        return []
    out: list[tuple[Source, int, tuple[str, ...]]] = []
    for d in docs:
        if d.kind != "trigger":
            continue
        cut = _cut(src.path, text, get(d.body, KEY))
        if cut is not None:
            region, inner = cut
            out.append((Source(src.path, inner, newline=src.newline, region=region), d.number, ("trigger", KEY)))
    return out


def reread(number: int, text: str) -> str | None:
    """The input set of document `number` of a changed trigger text, cut as `units` cut it; None when the text no
    longer holds one there."""
    try:
        docs, error = document.parse(Source("inputYaml", text))
    except RecursionError:
        return None
    doc = next((d for d in docs if d.number == number), None)
    if error is not None or doc is None:
        return None
    kind, body = harness.classify(doc.root, "", headless=False)
    cut = _cut("", text, get(body, KEY)) if kind == "trigger" else None
    return cut[1] if cut is not None else None


def _cut(path: str, text: str, node) -> tuple[Region, str] | None:
    """(region of `text`, the input set's text) for the string `node`, or None when it holds nothing."""
    if not isinstance(node, ScalarNode) or not node.value.strip():
        return None
    region = None
    if node.style == "|":
        start = text.find("\n", node.start_mark.index)
        if start >= 0:
            start += 1
            end = node.end_mark.index
            while end > start and text[end - 1] in " \n":  # trailing blank lines belong to no line of the value
                end -= 1
            end = text.find("\n", end) + 1 if text.find("\n", end) >= 0 else len(text)
            first = text[start:end].split("\n", 1)[0]
            mapped, inner = Region.of_lines(path, text, start, end, strip=len(first) - len(first.lstrip(" ")))
            if inner.rstrip("\n") == node.value.rstrip("\n"):
                region, value = mapped, inner
    if region is None:  # quoted, folded, or not the same text: every position is the value's start
        value = node.value
        region = Region.point(path, text, node.start_mark.index, value)
    region.kind = "inputSet"
    region.unparsed = UNPARSED
    return region, value

"""Sources as regions of an outer file (source.Region): positions and edits on an embedded text map to the
outer file, at one point (engine -> finding.translate), and a fix is verified on both layers.

The outer file here is a Terraform resource with its pipeline in a `<<-EOT` heredoc, read back by the
small heredoc reader below (the real Terraform reader is issue 14's; these tests are about the mapping).
"""
from __future__ import annotations

import re

import pytest

from pipelint.engine import config
from pipelint.engine.core import Engine
from pipelint.findings.finding import Edit, Span, translate
from pipelint.findings.fixplan import apply_edits
from pipelint.text import source
from pipelint.text.source import Region, Source

TF = '''resource "harness_platform_pipeline" "build" {
  identifier = "build"
  yaml       = <<-EOT
    pipeline:
      name: build
      identifier: build
      stages:
        - stage:
            identifier: build
            type: CI
            spec:
              execution:
                steps:
                  - step:
                      type: Run
                      identifier: test
                      spec:
                        image: golang  # pipelint: ignore[IMG003]
                        command: go test ./...
              infrastructure:
                type: KubernetesDirect
                spec:
                  connectorRef: account.k8s
                  namespace: ${var.namespace}
    EOT
}
'''

_HEREDOC = re.compile(r"<<-EOT\n(.*?)^([ \t]*)EOT$", re.S | re.M)


def _region(outer: str) -> tuple[Region, str] | None:
    m = _HEREDOC.search(outer)
    if m is None:
        return None
    holes = []
    region, inner = Region.of_lines("main.tf", outer, m.start(1), m.end(1), strip=4)
    for h in re.finditer(r"\$\{[^}]*\}", inner):
        holes.append((h.start(), h.end()))
    region.holes = tuple(holes)
    return region, inner


def _reread(outer: str) -> str | None:
    got = _region(outer)
    return got[1] if got else None


def _engine(*codes: str) -> Engine:
    settings = config.Settings()
    rules = config.enabled_rules(settings, select=list(codes),
                                 overrides={"CON001": {"image-connector": "account.mirror"}})
    return Engine(settings, rules)


def _check(outer: str, *codes: str):
    region, inner = _region(outer)
    src = Source("main.tf", inner, region=region)
    return region, inner, _engine(*codes).check_file(src, keep=True)


def test_the_inner_text_is_the_heredoc_without_its_indentation():
    region, inner = _region(TF)
    assert inner.startswith("pipeline:\n  name: build\n")
    assert inner.endswith("      namespace: ${var.namespace}\n")
    assert region.outer_line(1) == 4 and region.outer_line(2) == 5


def test_offsets_and_lines_map_into_the_outer_file():
    region, inner = _region(TF)
    at = inner.index("image: golang")
    line, col = region.line_col(at)
    assert TF.splitlines()[line - 1][col - 1:].startswith("image: golang")
    assert TF[region.offset(at):].startswith("image: golang")


def test_a_plain_file_is_the_trivial_region():
    text = "pipeline:\n  name: x\n"
    region = Region.whole("p.yaml", text)
    for i in range(len(text) + 1):
        assert region.offset(i) == i
    assert region.line_col(text.index("name")) == (2, 3)
    assert region.edit(2, 4, "a\nb") == (2, 4, "a\nb")
    assert region.outer_line(2) == 2


def test_findings_carry_the_outer_file_s_lines_and_columns():
    _, _, report = _check(TF, "IMG001")
    (f,) = report.findings
    assert f.path == "main.tf"
    assert (f.span.line, f.span.column) == (18, 32)
    assert TF.splitlines()[17][31:].startswith("golang")
    assert TF[f.span.start:f.span.end] == "golang"


def test_suppression_comments_cover_the_outer_line():
    _, _, report = _check(TF, "IMG003")
    assert report.findings and report.suppressions.covers("IMG003", "unpinned-image", report.findings[0].span.line)


def test_an_inserted_line_gets_the_heredoc_s_indentation_and_verifies_on_both_layers():
    _, inner, report = _check(TF, "CON001")
    (f,) = report.findings
    assert f.fix is not None and f.fix.safe
    new_outer = apply_edits(TF, list(f.fix.edits))
    assert "                  harnessImageConnectorRef: account.mirror\n    EOT\n" in new_outer
    # the inner edit, made on the inner text, is what the outer file now holds
    (inner_fix,) = _engine("CON001").check_file(Source("inner.yaml", inner), keep=True).findings
    new_inner = apply_edits(inner, list(inner_fix.fix.edits))
    assert _reread(new_outer) == new_inner
    assert _reread(new_outer.replace("account.mirror", "account.other")) != new_inner
    assert _reread(new_outer.replace("EOT", "END")) is None


def test_an_edit_into_a_hole_is_never_made():
    region, inner = _region(TF)
    hole = inner.index("${var.namespace}")
    assert region.edit(hole + 2, hole + 5, "x") is None
    assert region.edit(hole - 1, hole + 1, "x") is None
    assert region.edit(hole + 3, hole + 3, "x") is None
    assert region.edit(hole, hole, "x") is not None  # before the hole: the outer text's own
    f = translate(_finding(Span(hole, hole + 4, 1, 1, 1, 5), Edit(hole + 2, hole + 4, "y")), region)
    assert f.fix is None and f.path == "main.tf"


def _finding(span, edit):
    from pipelint.findings.finding import Finding, Fix

    return Finding("IMG001", "untagged-image", "error", "m", "main.tf", span, Fix("f", (edit,)))


@pytest.mark.parametrize("text", ["a\n", "a", ""])
def test_an_edit_at_the_end_of_the_region(text):
    outer = f"x = <<-EOT\n  {text}\n  EOT\n" if text else "x = <<-EOT\n  EOT\n"
    start = outer.index("\n") + 1
    end = outer.index("  EOT")
    region, inner = Region.of_lines("t.tf", outer, start, end, strip=2)
    e = region.edit(len(inner), len(inner), "b: 1\n")
    assert e is not None
    new = outer[:e[0]] + e[2] + outer[e[1]:]
    assert new.endswith("  b: 1\n  EOT\n")


def _of_lines_by_hand(outer: str, start: int, end: int, strip: int):
    """The definition of Region.of_lines, one line at a time: (inner text, inner line starts, outer starts, indent)."""
    inner, inner_starts, outer_starts, prefixes = [], [], [], {}
    pos, at = start, 0
    lines = [line + "\n" for line in outer[start:end].split("\n")]
    lines[-1] = lines[-1][:-1]
    for line in lines:
        if not line:
            continue
        cut = min(strip, len(line) - len(line.lstrip(" \t\f\v")))
        if cut == strip and strip:
            prefixes[line[:cut]] = prefixes.get(line[:cut], 0) + 1
        inner_starts.append(at)
        outer_starts.append(pos + cut)
        inner.append(line[cut:])
        at += len(line) - cut
        pos += len(line)
    if not inner_starts:
        inner_starts, outer_starts = [0], [start]
    indent = max(prefixes, key=lambda p: prefixes[p]) if prefixes else " " * strip
    return "".join(inner), inner_starts, outer_starts, indent


def test_lines_are_cut_as_their_definition_says():
    """of_lines cuts with one regular expression (speed, issue 31); on random bodies of spaces, tabs, form feeds,
    carriage returns and text it gives what the line-by-line definition gives."""
    import random

    rng = random.Random(31)
    alphabet = [" ", "\t", "a", "b", "\n", "\n", " ", "\f", "\r"]
    for _ in range(5000):
        body = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        outer = "x = <<-EOT\n" + body + "EOT\n"
        strip = rng.randrange(0, 5)
        region, text = Region.of_lines("p", outer, 11, 11 + len(body), strip)
        assert (text, region._inner_starts, region._outer_starts, region.indent) == \
            _of_lines_by_hand(outer, 11, 11 + len(body), strip), (body, strip)


def _indented_body(rng, strip: int) -> str:
    """Lines as heredocs have them: mostly `strip` spaces and more, some empty, now and then one indented less, with
    a tab or a carriage return, or without its last line break."""
    lines = []
    for _ in range(rng.randrange(0, 8)):
        kind = rng.random()
        if kind < 0.6:
            lines.append(" " * strip + " " * rng.randrange(0, 3) + rng.choice(["a", "b: c", "- d", "\t e"]))
        elif kind < 0.8:
            lines.append("")
        else:
            lines.append(rng.choice([" " * max(strip - 1, 0) + "x", "\tx", " " * strip + "x\r", "   ", "\r"]))
    body = "\n".join(lines)
    return body + "\n" if lines and rng.random() < 0.8 else body


def test_indented_lines_are_cut_as_their_definition_says():
    """The same on bodies where most lines carry the indentation (one `replace` cuts them: `source.uniformly_indented`),
    and on those where a line breaks the pattern, and `<<-`'s common indentation against its definition."""
    import random

    from pipelint.embed.terraform import _common_indent

    rng = random.Random(3100)
    uniform = 0
    for _ in range(5000):
        strip = rng.randrange(1, 6)
        body = _indented_body(rng, strip)
        outer = "x = <<-EOT\n" + body + "EOT\n"
        region, text = Region.of_lines("p", outer, 11, 11 + len(body), strip)
        assert (text, region._inner_starts, region._outer_starts, region.indent) == \
            _of_lines_by_hand(outer, 11, 11 + len(body), strip), (body, strip)
        uniform += source.uniformly_indented(body.split("\n"), strip)
        content = [line for line in body.split("\n") if line.strip()]
        assert _common_indent(body) == min((len(line) - len(line.lstrip(" \t\f\v")) for line in content), default=0)
    assert 1000 < uniform < 4000  # both ways were taken, often

"""Expansion, one stage below the engine: a file becomes the units of Harness YAML the rules read.

Two lists of expanders. FILE_EXPANDERS are asked in order; the first that claims a file gives its units (sources
whose `region` maps every position and edit back to the file) and how to read them back from a changed text. A
file no file expander claims is its own unit. UNIT_EXPANDERS then run as a worklist over every unit, the file
itself included, so kinds compose: a trigger's `inputYaml` in a Terraform heredoc is a region of the heredoc's
region, made one region of the `.tf` file (`Region.within`). The engine asks here once per file and never which
kind a unit came from; `pin`, `images` and the server take the same units through the engine.

A unit expanded from another records it (`region.parent`: the other unit's index, the document and path of the
string that holds it), so the verifier knows that a fix inside it changes that string of the other unit, and
nothing else there (pipelint.findings.fixplan.rewrite_regions).

Adding a container kind: a module in this folder and one line here. A file kind has `units(src, named)` (None when
the file is not of its kind) and `reread(path, text)` (the units' texts of a changed file, None when it no longer
holds them); a unit kind has `units(src)` (a list of (unit, document number, path)) and `reread(number, text)`.

Stage fragments (a `- stage:` list alone in a `.harness/` file) are not a container: their text is the file's, and
pipelint.harness.sites.classify reads them as a document kind of their own.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pipelint.embed import inputyaml, templated, terraform
from pipelint.text.source import Region, Source

Reread = Callable[[str, str], "list[str] | None"]

# (units(src, named) -> list of units, or None when the file is not of this kind; reread)
FILE_EXPANDERS: tuple[tuple[Callable[[Source, str | None], list[Source] | None], Reread], ...] = (
    (terraform.units, terraform.reread_all),  # Harness YAML in a .tf file's heredocs and Docker-connector resources
    (templated.units, templated.reread),  # `${...}`/`%{...}` templates, and files a Terraform resource reads
)
# (units(unit) -> [(inner unit, document number, path of the string holding it)]; reread(number, unit text))
UNIT_EXPANDERS: tuple[tuple[Callable[[Source], list], Callable[[int, str], str | None]], ...] = (
    (inputyaml.units, inputyaml.reread),  # a trigger's inputYaml: an input set in a string
)
MAX_UNITS = 256  # per file: nested units past this are not expanded (each nesting level re-reads its text)


def references(src: Source) -> list[tuple[str | None, str, int, int, str]]:
    """The files a file's Harness resources read (`file()`, `templatefile()`): (path, resource, line, column, the
    path as written) each; discovery adds them to the run, inside the checked tree only. A path of None is a
    pipeline written as HCL values (`yamlencode(...)`, named in the last field), which discovery says is unchecked."""
    return terraform.references(src) if src.path.endswith(terraform.SUFFIX) else []


def expand(src: Source, named: str | None = None) -> tuple[list[Source], Reread | None]:
    """(the units a file's Harness YAML is in, how to read them back from a changed text), or ([src], None): the
    file is its own unit and holds no other. `named`: the Terraform resource whose `file()` or `templatefile()`
    reads this file (it is then Harness YAML whatever its name and root)."""
    if src.region is not None:
        return [src], None
    units, reread = None, None
    for file_units, file_reread in FILE_EXPANDERS:
        units = file_units(src, named)
        if units is not None:
            reread = file_reread
            break
    if units is None:
        units = [src]
    # the worklist: every unit is asked once, what it holds joins the list (and is asked in turn)
    nested: list[tuple[int, int, int]] = []  # (parent index, unit expander, document number) per inner unit
    i = 0
    while i < len(units):
        unit = units[i]
        for n, (unit_units, _) in enumerate(UNIT_EXPANDERS):
            for inner, number, path in unit_units(unit) if len(units) < MAX_UNITS else ():
                if unit.region is None:  # the file's own text: it becomes a region of itself
                    assert unit.text is not None, "a unit that holds another has text"
                    units[i] = unit = Source(unit.path, unit.text, unit.bom, unit.newline,
                                             region=Region.whole(unit.path, unit.text))
                    reread = _whole
                assert inner.region is not None and unit.region is not None, "an inner unit is a region of its unit"
                inner.region.parent = (i, number, path)
                inner.region = inner.region.within(unit.region)
                nested.append((i, n, number))
                units.append(inner)
        i += 1
    if not nested:
        return units, reread
    assert reread is not None, "a file holding nested units reads back"
    return units, functools.partial(_reread_nested, reread, tuple(nested))


def _whole(path: str, text: str) -> list[str]:
    """The reread of a file that is its own first unit."""
    return [text]


def _reread_nested(outer: Reread, nested: tuple[tuple[int, int, int], ...], path: str, text: str) -> list[str] | None:
    """The units' texts of a changed file: the file expander's, then each nested unit read from its parent's."""
    got = outer(path, text)
    if got is None:
        return None
    for parent, n, number in nested:
        inner = UNIT_EXPANDERS[n][1](number, got[parent]) if parent < len(got) else None
        if inner is None:
            return None
        got.append(inner)
    return got

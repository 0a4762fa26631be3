"""Expansion, one stage below the engine: a file becomes the units of Harness YAML the rules read.

Each container kind is an expander in EXPANDERS, asked in order; the first that claims a file gives its units
(sources whose `region` maps every position and edit back to the file) and how to read them back from a changed
text (the verifier reads a fixed file through it: pipelint.findings.fixplan.rewrite_regions). A file no expander
claims is its own unit. The engine asks here once per file and never which kind a unit came from; `pin`,
`images` and the server take the same units through the engine.

Adding a container kind: a module in this folder with `units(src, named)` (None when the file is not its kind)
and `reread(path, text)`, and one line in EXPANDERS.

Not here yet: a trigger's `inputYaml` and stage fragments, which the engine still reads as it walks a document.
"""

from __future__ import annotations

from collections.abc import Callable

from pipelint.embed import templated, terraform
from pipelint.text.source import Source

Reread = Callable[[str, str], "list[str] | None"]

# (units(src, named) -> list of units, or None when the file is not of this kind; reread)
EXPANDERS: tuple[tuple[Callable[[Source, str | None], list[Source] | None], Reread], ...] = (
    (terraform.units, terraform.reread_all),  # Harness YAML in a .tf file's heredocs and Docker-connector resources
    (templated.units, templated.reread),  # `${...}`/`%{...}` templates, and files a Terraform resource reads
)


def references(src: Source) -> list[tuple[str, str, int, int, str]]:
    """The files a file's Harness resources read (`file()`, `templatefile()`): (path, resource, line, column, the
    path as written) each; discovery adds them to the run, inside the checked tree only."""
    return terraform.references(src) if src.path.endswith(terraform.SUFFIX) else []


def expand(src: Source, named: str | None = None) -> tuple[list[Source], Reread | None]:
    """(the units a file's Harness YAML is in, how to read them back from a changed text), or ([src], None): the
    file is its own unit. `named`: the Terraform resource whose `file()` or `templatefile()` reads this file (it
    is then Harness YAML whatever its name and root)."""
    if src.region is not None:
        return [src], None
    for units, reread in EXPANDERS:
        found = units(src, named)
        if found is not None:
            return found, reread
    return [src], None

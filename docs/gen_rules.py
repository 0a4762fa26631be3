"""Writes docs/rules/: one page per built-in rule, from the rule's own documentation (what `pipelint rule CODE`
prints), and the index table, as ruff's docs are made from its rules. `python3 docs/gen_rules.py` after changing
a rule; `--check` exits 1 when a page is not what the rules say (tests/test_docs.py runs it)."""

from __future__ import annotations

import sys
from pathlib import Path

from pipelint.app.console import rule_doc
from pipelint.rules import RULES

OUT = Path(__file__).resolve().parent / "rules"


def pages() -> dict[str, str]:
    out = {}
    rows = ["| code | name | default severity | on by default | fix |", "|---|---|---|---|---|"]
    for cls in RULES:
        out[f"{cls.name}.md"] = rule_doc(cls).rstrip() + "\n"
        rows.append(f"| {cls.code} | [{cls.name}]({cls.name}.md) | {cls.severity} | "
                    f"{'yes' if cls.enabled_by_default else 'no'} | {cls.fix_safety or '-'} |")
    out["index.md"] = (
        "# Rules\n\n"
        "Every rule, in code order. `pipelint rules` prints this table; `pipelint rule CODE` (or the rule's name)\n"
        "prints a rule's page. Select rules with `select`, `extend-select` and `ignore` (a code, a prefix such as\n"
        "`IMG`, a name, or `ALL`); set a rule's options under `[rules.CODE]`. A safe fix is applied by\n"
        "`pipelint fix`; an unsafe one only with `--unsafe-fixes`, and its message says what else it changes.\n\n"
        + "\n".join(rows) + "\n")
    return out


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    wanted = pages()
    for name, text in wanted.items():
        path = OUT / name
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            OUT.mkdir(exist_ok=True)
            path.write_text(text)
    extra = sorted(p.name for p in OUT.glob("*.md") if p.name not in wanted)
    if check and (stale or extra):
        print(f"docs/rules is stale: {', '.join(stale + extra)}; run python3 docs/gen_rules.py", file=sys.stderr)
        return 1
    for name in extra if not check else ():
        (OUT / name).unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

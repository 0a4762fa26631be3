"""`pipelint report`: a migration report people would rather look at than read (HTML, or Markdown).

Self-contained: inline CSS and an inline SVG chart, no scripts, no network assets.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pipelint.commands import fixer, inventory
from pipelint.engine.core import Engine, RunResult
from pipelint.oci import registries
from pipelint.rules import by_code


@dataclass
class ReportData:
    paths: list[str]
    generated: str
    result: RunResult
    inv: inventory.Inventory
    would_fix: dict[str, Counter] = field(default_factory=dict)  # path -> rule code -> fixes
    lines_changed: dict[str, int] = field(default_factory=dict)
    # what `pipelint account pull` brought among the paths: (folder, its manifest) each
    accounts: list[tuple[str, dict]] = field(default_factory=list)

    @property
    def findings(self):
        return self.result.findings

    @property
    def scope(self) -> str:
        """What was checked, as a reader knows it: `.` is the folder's (repository's) own name."""
        import os

        return ", ".join(os.path.basename(os.path.abspath(p)) or p if p in (".", "./") else p for p in self.paths)

    def verdict(self) -> str:
        """The report's first line: what is left of the migration, or that nothing is."""
        findings = self.findings
        if not findings and not self.result.errors:
            return f"Done: nothing left to migrate in {_count(self.result.files_checked, 'file')} checked."
        retired_pullers = [p for p in self.inv.pullers if p.registry and registries.is_retired_url(p.registry)]
        retired_images = [i for i in self.inv.images.values() if i.retired]
        parts = []
        if retired_pullers:
            parts.append(f"{_count(len(retired_pullers), 'stage or step group', 'stages and step groups')} still "
                         f"pull{'s' if len(retired_pullers) == 1 else ''} Harness images through the retired registry")
        if retired_images:  # "it" only after the part that names the registry
            parts.append(f"{_count(len(retired_images), 'image')} still come{'s' if len(retired_images) == 1 else ''}"
                         + (" from it" if retired_pullers else f" from the retired registry {registries.RETIRED}"))
        fixable = sum(1 for f in findings if f.fixable)
        parts.append(f"{_count(len(findings), 'problem')} left, {fixable} of them fixable by `pipelint fix`")
        text = "; ".join(parts)
        if self.result.errors:
            text += f"; {_count(len(self.result.errors), 'path')} could not be checked"
        return text[0].upper() + text[1:] + "."


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def build(engine: Engine, paths: list[str]) -> ReportData:
    result = engine.check(paths)
    dry = fixer.fix(engine, paths, write=False)
    would: dict[str, Counter] = defaultdict(Counter)
    for path, f in dry.fixed:
        would[path][f.code] += 1
    lines = {}
    for path, (original, text) in dry.changed.items():
        old, new = (original.text or "").splitlines(), text.splitlines()
        import difflib

        lines[path] = sum(1 for line in difflib.unified_diff(old, new, n=0, lineterm="")
                          if line[:1] in "+-" and not line.startswith(("+++", "---")))
    inv = inventory.collect(engine, paths)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return ReportData(paths, stamp, result, inv, dict(would), lines, pulled_accounts(paths, result.errors))


def pulled_accounts(paths: list[str], errors: list[str]) -> list[tuple[str, dict]]:
    """The folders among `paths` (or just below one) that `pipelint account pull` wrote, with their manifests; a
    manifest that does not read is one error line."""
    import os

    from pipelint.commands.account import MANIFEST, read_manifest

    found = []
    for path in paths:
        if not os.path.isdir(path):
            continue
        below = sorted(e.path for e in os.scandir(path) if e.is_dir(follow_symlinks=False) and not e.name.startswith("."))
        for folder in [path, *below]:
            if os.path.isfile(os.path.join(folder, MANIFEST)):
                try:
                    found.append((os.path.normpath(folder), read_manifest(folder)))
                except ValueError as exc:
                    errors.append(str(exc))
    return found


# --- the content, format-neutral: (title, intro, headers, rows) -------------------------------------------
def sections(data: ReportData) -> list[tuple[str, str, list[str], list[list[str]]]]:
    findings = data.findings
    out = []
    per_rule = Counter(f.code for f in findings)
    fixable = Counter(f.code for f in findings if f.fixable)
    out.append(("Problems by rule", "Each rule's findings, and how many of them `pipelint fix` repairs.",
                ["code", "rule", "severity", "problems", "fixable"],
                [[c, by_code()[c].name, by_code()[c].severity, str(n), str(fixable[c])]
                 for c, n in sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))]))
    per_file = Counter(f.path for f in findings)
    out.append(("Files most affected", "The 15 files with the most problems.",
                ["file", "problems", "errors", "fixable"],
                [[p, str(n), str(sum(1 for f in findings if f.path == p and f.severity == "error")),
                  str(sum(1 for f in findings if f.path == p and f.fixable))]
                 for p, n in per_file.most_common(15)]))
    # the REG001 findings on connector files (suppressions respected), named from the inventory's sites
    by_url = {(c.path, c.url_line): c for c in data.inv.connectors.values()}
    reg_connectors = [(f, by_url.get((f.path, f.line))) for f in findings
                      if f.code == "REG001" and f.yaml_path[-1:] == ("dockerRegistryUrl",)]
    out.append(("Retired registry: connectors", f"DockerRegistry connectors still on {registries.RETIRED}.",
                ["file", "line", "connector", "dockerRegistryUrl"],
                [[f.path, str(f.line), c.identifier if c else "-", f.value] for f, c in reg_connectors]))
    retired = [img for img in data.inv.images.values() if img.retired]
    out.append(("Retired registry: images", f"Step images pulled from {registries.RETIRED}.",
                ["image", "uses", "files"],
                [[img.reference, str(len(img.uses)), ", ".join(sorted({u.path for u in img.uses}))]
                 for img in sorted(retired, key=lambda i: i.reference)]))
    missing = defaultdict(list)
    for p in data.inv.pullers:
        if p.override is None:
            missing[(p.path, p.entity)].append(f"{p.owner} ({p.kind})")
    out.append(("Missing an image connector, by pipeline",
                "Build stages and containerized step groups without harnessImageConnectorRef.",
                ["file", "pipeline / template", "stages and groups"],
                [[path, entity or "-", ", ".join(owners)] for (path, entity), owners in sorted(missing.items())]))
    rows = []
    for p in data.inv.pullers:
        registry = p.registry or "(connector not among the checked files)"
        if p.registry and registries.is_retired_url(p.registry):
            registry += "  RETIRED"
        rows.append([p.path, p.entity or "-", p.owner, p.kind, p.override or "-", p.connector, registry])
    out.append(("Who pulls the Harness images",
                "For every build stage and containerized step group: the connector Harness pulls its own images "
                "through (the stage's override, else account.harnessImage) and, where that connector's file was "
                "checked, the registry it points at.",
                ["file", "pipeline", "stage / group", "infrastructure", "override", "connector", "registry"], rows))
    out.extend(_account_sections(data))
    out.append(("What pipelint fix would change", "Fixes per file (safe fixes only) and lines changed.",
                ["file", "fixes", "lines changed", "by rule"],
                [[path, str(sum(c.values())), str(data.lines_changed.get(path, 0)),
                  ", ".join(f"{code} x{n}" for code, n in sorted(c.items()))]
                 for path, c in sorted(data.would_fix.items())]))
    return out


def _account_sections(data: ReportData) -> list[tuple[str, str, list[str], list[list[str]]]]:
    """What lives in the Harness account, where a pulled account is among the paths: every entity pulled with its
    problems, the Git-synced ones (checked in their repositories), and the CI images the account's builds pull."""
    import os

    import yaml

    from pipelint.commands.account import name_of

    if not data.accounts:
        return []
    problems = Counter(f.path for f in data.findings)
    fixable = Counter(f.path for f in data.findings if f.fixable)
    entities, images = [], []
    for folder, manifest in data.accounts:
        for e in manifest.get("entities", []):
            if not isinstance(e, dict) or not isinstance(e.get("identifier"), str):
                continue
            path = os.path.normpath(os.path.join(folder, str(e.get("file", ""))))
            entities.append([name_of(e), path, str(problems[path]), str(fixable[path])])
            if e.get("kind") != "ciExecutionConfig":
                continue
            try:
                with open(path, encoding="utf-8") as fh:
                    config = (yaml.safe_load(fh) or {}).get("ciExecutionConfig") or {}
            except (OSError, yaml.YAMLError, AttributeError):
                continue
            for name, entry in sorted((config.get("images") or {}).items()):
                if isinstance(entry, dict):
                    images.append([str(config.get("infra", e["identifier"])), str(name), str(entry.get("image")),
                                   "yes" if entry.get("overridden") else "no", str(entry.get("default") or "-")])
        for e in manifest.get("remote", []):
            if isinstance(e, dict) and isinstance(e.get("identifier"), str):
                entities.append([name_of(e), f"Git-synced: {e.get('repo')}:{e.get('path')}", "-", "-"])
    out = [("Harness account: entities",
            "What `pipelint account pull` brought from the account, with each file's problems; a Git-synced entity "
            "is checked in its repository, and `pipelint account push` never writes it.",
            ["entity", "file", "problems", "fixable"], entities)]
    if images:
        out.append(("Harness account: CI images",
                    "The images every build pulls (the CI execution configuration): what a private mirror must hold. "
                    "An image not overridden follows Harness's default, which a Harness release can change.",
                    ["infrastructure", "field", "image", "overridden", "default it replaces"], images))
    return out


def totals(data: ReportData) -> list[tuple[str, str]]:
    findings = data.findings
    sev = Counter(f.severity for f in findings)
    return [
        ("files checked", str(data.result.files_checked)),
        ("problems", str(len(findings))),
        ("errors", str(sev["error"])),
        ("warnings", str(sev["warning"])),
        ("fixable", str(sum(1 for f in findings if f.fixable))),
        ("need a person", str(sum(1 for f in findings if not f.fixable))),
        ("files fix would change", str(len(data.would_fix))),
        ("images", str(len(data.inv.images))),
    ]


# --- HTML ---------------------------------------------------------------------------------------------------
CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2433;background:#f5f7fa}
header{background:#1d2433;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#b8c1d3}main{padding:16px 32px 40px;max-width:1280px}
.verdict{font-size:17px;font-weight:600;margin:16px 0 4px}
.cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin:8px 0 20px}
@media (max-width:700px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}
.card{background:#fff;border-radius:8px;padding:12px 16px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.card b{display:block;font-size:24px}.card span{color:#5b6478;font-size:12px;text-transform:uppercase}
section{background:#fff;border-radius:8px;padding:14px 18px;margin:14px 0;box-shadow:0 1px 2px rgba(0,0,0,.08);
overflow-x:auto}svg{max-width:100%;height:auto}
h2{font-size:17px;margin:0 0 4px}section p{margin:0 0 10px;color:#5b6478}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #e6e9ef;vertical-align:top}th{color:#5b6478;font-weight:600}
td{overflow-wrap:break-word}.empty{color:#5b6478;font-style:italic}.retired{color:#b42318;font-weight:600}
"""


def _chart(data: ReportData) -> str:
    per_rule = Counter(f.code for f in data.findings)
    fixable = Counter(f.code for f in data.findings if f.fixable)
    if not per_rule:
        return '<p class="empty">No problems: nothing to chart.</p>'
    rows = sorted(per_rule.items(), key=lambda kv: (-kv[1], kv[0]))
    top = max(per_rule.values())
    longest = max(len(f"{code} {by_code()[code].name}") for code in per_rule)
    bar_h, gap, width = 22, 8, 760
    label_w = 16 + int(longest * 7.2)  # 12 px system-ui is at most ~7 px a character
    height = len(rows) * (bar_h + gap) + 24
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="Problems per rule">']
    for i, (code, n) in enumerate(rows):
        y = i * (bar_h + gap)
        w = max(2, int((width - label_w - 60) * n / top))
        wf = int(w * fixable[code] / n)
        name = html.escape(f"{code} {by_code()[code].name}")
        parts.append(f'<text x="0" y="{y + 15}" font-size="12" fill="#1d2433">{name}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" rx="3" fill="#f97066"/>')
        if wf:
            parts.append(f'<rect x="{label_w}" y="{y}" width="{wf}" height="{bar_h}" rx="3" fill="#32d583"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 15}" font-size="12" fill="#1d2433">{n}</text>')
    y = len(rows) * (bar_h + gap) + 14
    parts.append(f'<rect x="{label_w}" y="{y - 10}" width="12" height="12" fill="#32d583"/>'
                 f'<text x="{label_w + 18}" y="{y}" font-size="12">fixable by pipelint fix</text>'
                 f'<rect x="{label_w + 180}" y="{y - 10}" width="12" height="12" fill="#f97066"/>'
                 f'<text x="{label_w + 198}" y="{y}" font-size="12">needs a person</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cell(value: str) -> str:
    """A table cell: long paths and identifiers may wrap after a separator (`/`, `.`, `_`, `-`, `:`), never
    inside a word."""
    import re

    from pipelint.text.source import printable

    text = re.sub(r"([/._:\-])(?=\w)", r"\1<wbr>", html.escape(printable(value)))
    return text.replace("  RETIRED", ' <span class="retired">retired registry</span>')


def render_html(data: ReportData) -> str:
    return _page_html("pipelint migration report", data.scope, data.generated, data.verdict(), totals(data),
                      sections(data), lambda title, rows: _chart(data) if title == "Problems by rule" and rows else "")


def _page_html(title: str, scope: str, generated: str, verdict: str, cards_data, sections_data, chart) -> str:
    """The report's page: a verdict, cards of totals, then one section per table (`chart(title, rows)` may put a
    chart above a table)."""
    e = html.escape
    cards = "".join(f'<div class="card"><b>{e(v)}</b><span>{e(k)}</span></div>' for k, v in cards_data)
    body = []
    for heading, intro, headers, rows in sections_data:
        if rows:
            head = "".join(f"<th>{e(h)}</th>" for h in headers)
            table = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>" for row in rows)
            content = f"<table><thead><tr>{head}</tr></thead><tbody>{table}</tbody></table>"
        else:
            content = '<p class="empty">None.</p>'
        drawn = chart(heading, rows)
        if drawn:  # the chart and its numbers, one section
            content = drawn + content
            intro += " Green: what it repairs; red: what needs a person."
        body.append(f"<section><h2>{e(heading)}</h2><p>{_code(intro)}</p>{content}</section>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
            f"<header><h1>Harness registry migration report</h1><p>{e(scope)} &middot; "
            f"generated {e(generated)} by pipelint</p></header><main>"
            f'<p class="verdict">{_code(verdict)}</p>'
            f'<div class="cards">{cards}</div>{"".join(body)}</main></body></html>\n')


def _code(text: str) -> str:
    """Escaped text with `code` spans."""
    import re

    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text))


def _md_text(text: str) -> str:
    """Text from files, repositories and summaries as Markdown shows it and no more: control characters made
    visible, `<` escaped so that no file or repository name becomes HTML where the Markdown is rendered."""
    from pipelint.text.source import printable

    return printable(text).replace("<", "\\<")


def render_markdown(data: ReportData) -> str:
    return _page_markdown(data.scope, data.generated, data.verdict(), totals(data), sections(data))


def _page_markdown(scope: str, generated: str, verdict: str, cards_data, sections_data) -> str:
    def esc(v: str) -> str:
        return _md_text(v).replace("|", "\\|").replace("  RETIRED", " **(retired registry)**")

    lines = ["# Harness registry migration report", "",
             f"**{_md_text(verdict)}**", "",
             f"{_md_text(scope)} - generated {_md_text(generated)} by pipelint", "",
             "| " + " | ".join(k for k, _ in cards_data) + " |",
             "|" + "---|" * len(cards_data),
             "| " + " | ".join(v for _, v in cards_data) + " |", ""]
    for title, intro, headers, rows in sections_data:
        lines += [f"## {title}", "", intro, ""]
        if rows:
            lines.append("| " + " | ".join(headers) + " |")
            lines.append("|" + "---|" * len(headers))
            lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
        else:
            lines.append("None.")
        lines.append("")
    return "\n".join(lines)


# --- the organisation's report: merged summaries (pipelint.summary) ----------------------------------------
MOST_AFFECTED = 50


def org_parts(merged: dict) -> tuple[str, list[tuple[str, str]], list]:
    """(verdict, cards, sections) of the organisation report of a merged summary."""
    from pipelint.commands import summary

    t = summary.totals(merged)
    left = sum(t["after"].values())
    with_left = sum(1 for r in merged["repositories"] if r["after"])
    if t["failed"]:
        verdict = (f"{_count(len(t['failed']), 'repository', 'repositories')} failed; "
                   f"{_count(left, 'problem')} left in {_count(with_left, 'repository', 'repositories')}.")
    elif left:
        verdict = f"{_count(left, 'problem')} left in {_count(with_left, 'repository', 'repositories')}."
    else:
        verdict = "Nothing left: every repository is migrated."
    cards = [("repositories", str(t["repositories"])), ("with Harness configuration", str(t["harness"])),
             ("pushed", str(t["pushed"])), ("failed", str(len(t["failed"]))),
             ("problems found", str(sum(t["before"].values()))), ("problems left", str(left))]
    affected = [[r["name"], str(sum(r["before"].values())), str(sum(r["after"].values())),
                 "yes" if r["pushed"] else "no", r["error"] or ""] for r in t["affected"][:MOST_AFFECTED]]
    from pipelint.rules import by_code

    rules = []
    for code in sorted(set(t["before"]) | set(t["after"])):
        cls = by_code().get(code)
        repos_left = sum(1 for r in merged["repositories"] if r["after"].get(code))
        rules.append([code, cls.name if cls is not None else "", str(t["before"].get(code, 0)),
                      str(t["after"].get(code, 0)), str(repos_left)])
    failed = [[r["name"], r["error"]] for r in t["failed"]]
    sections_data = [
        ("What is left per rule", "Findings before and after the run, over every repository.",
         ["rule", "name", "found", "left", "repositories with some left"], rules),
        ("Repositories most affected", f"The {MOST_AFFECTED} with the most problems left, then found.",
         ["repository", "found", "left", "pushed", "error"], affected),
        ("Failed repositories", "Their reason, in one line; run them again after a fix.",
         ["repository", "reason"], failed),
    ]
    return verdict, cards, sections_data


def render_org(merged: dict, fmt: str) -> str:
    import json

    if fmt == "json":
        return json.dumps(merged, indent=2) + "\n"
    verdict, cards, sections_data = org_parts(merged)
    shards = f" from {len(merged['shards'])} shards" if merged["shards"] else ""
    scope = f"{_count(len(merged['repositories']), 'repository', 'repositories')}{shards}"
    generated = merged["generated"] or ""
    if fmt == "md":
        return _page_markdown(scope, generated, verdict, cards, sections_data)
    return _page_html("pipelint organisation report", scope, generated, verdict, cards, sections_data,
                      lambda title, rows: "")

"""The reference under docs/: the rule pages are what the rules say, every page is in the site's navigation, and
MkDocs builds it with --strict (broken links and missing pages fail)."""

from __future__ import annotations

import subprocess
import sys

import yaml
from conftest import ROOT


def test_the_rule_pages_are_the_rules_own_documentation():
    result = subprocess.run([sys.executable, str(ROOT / "docs" / "gen_rules.py"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_every_page_is_in_the_navigation():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())

    def pages(nav):
        for item in nav:
            if isinstance(item, str):
                yield item
            else:
                for value in item.values():
                    yield from pages(value) if isinstance(value, list) else [value]

    listed = set(pages(config["nav"]))
    on_disk = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert listed == on_disk


def test_the_site_builds_strictly(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    rule = (tmp_path / "site" / "rules" / "retired-harness-registry" / "index.html").read_text()
    assert "What it does" in rule and "REG001" in rule

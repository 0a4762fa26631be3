"""Property tests of every fix, on generated Harness-shaped YAML (tests/strategies.py):

1. every line outside the edits is unchanged (value replacements keep the line's prefix and comment;
   insertions are whole new lines);
2. the result parses, and equals the document the model says it must become under both readings of YAML
   a person may have in mind: `<<` an ordinary key, as Harness (Jackson) reads it, and `<<` merged, as
   YAML 1.1 tools do, aliases expanded in both (an oracle independent of pipelint's own verification:
   PyYAML's loader and a model built by the generator);
3. fix twice = fix once;
4. check after fix offers no fix any more (and what is left of the fixed rules says why no fix applies).

CI runs a few hundred derandomized examples. For thousands:
    PIPELINT_HYPOTHESIS_EXAMPLES=5000 python3 -m pytest tests/test_properties.py
"""

from __future__ import annotations

import json
import os
import re
import tempfile

import pytest
import yaml
from conftest import assert_minimal_change
from hypothesis import HealthCheck, given, settings
from strategies import MIRROR, harness_file, merged

pytestmark = pytest.mark.slow


class LiteralLoader(yaml.SafeLoader):
    """PyYAML reading `<<` as an ordinary key, as Jackson (Harness) does."""

    def flatten_mapping(self, node):
        for key, _ in node.value:
            if key.tag == "tag:yaml.org,2002:merge":
                key.tag = "tag:yaml.org,2002:str"


def _literal(text: str):
    return list(yaml.load_all(text, Loader=LiteralLoader))


def _merged(text: str):
    return list(yaml.safe_load_all(text))


def _lf(text: str) -> str:
    return re.sub(r"\r(?!\n)", "\n", text)  # CR-only line ends, as LF, for the line-by-line check

EXAMPLES = int(os.environ.get("PIPELINT_HYPOTHESIS_EXAMPLES", "300"))
FIXED_CODES = {"REG001", "REG002", "REG004", "CON001"}


def _engine():
    from pipelint.engine import config
    from pipelint.engine.core import Engine

    settings_ = config.Settings()
    rules = config.enabled_rules(settings_, select=["ALL"], overrides={"CON001": {"image-connector": MIRROR}})
    return Engine(settings_, rules)


ENGINE = _engine()


def _fix(path: str):
    from pipelint.commands import fixer

    return fixer.fix(ENGINE, [path], unsafe=True)


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(harness_file())
def test_fix_properties(case):
    data, befores, afters = case
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "p.yaml")
        with open(path, "wb") as fh:
            fh.write(data)
        text = data.decode("utf-8-sig")
        assert _literal(text) == befores, "the generator's own model"
        assert _merged(text) == merged(befores), "the generator's own model, merged"
        result = _fix(path)
        assert not result.errors and not result.internal_errors, (result.errors, result.internal_errors)
        with open(path, "rb") as fh:
            fixed = fh.read()
        # 1. nothing but the edits
        assert fixed.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
        assert fixed.endswith(b"\n") == data.endswith(b"\n")
        new_text = fixed.decode("utf-8-sig")
        assert_minimal_change(_lf(text), _lf(new_text), {"harnessImageConnectorRef", "providerType", "executeOnDelegate"})
        # 2. parses, and is exactly what the model says, under both readings
        assert _literal(new_text) == afters
        assert _merged(new_text) == merged(afters)
        if text.lstrip("\ufeff").startswith("{"):
            json.loads(new_text.split("\n---")[0].split("\r---")[0])  # a JSON document stays JSON
        # 3. idempotent
        again = _fix(path)
        assert not again.fixed and not again.changed
        with open(path, "rb") as fh:
            assert fh.read() == fixed
        # 4. nothing left of what was fixed
        left = [f for f in again.findings if f.fix is not None]  # a fix offered but not applied
        assert not left, [f.message for f in left]
        # what is left of the fixed rules is only what no fix was offered for, and says why
        for f in again.findings:
            if f.code in FIXED_CODES and f.code != "CON001":
                assert "no automatic fix" in f.message or "only --unsafe-fixes" in f.message, f.message


def _offered(src, full: bool):
    """(code, span, message, edits, safe) of every finding, with the check's trial full or only where it can refuse."""
    report = ENGINE.check_file(src, keep=full)  # keep: the full trial (`fix`, the editor); else what `check` pays
    return [(f.code, f.span.start, f.span.end, f.message,
             None if f.fix is None else (tuple((e.start, e.end, e.text) for e in f.fix.edits), f.fix.safe))
            for f in report.findings]


@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(harness_file())
def test_the_check_s_trial_shortcut_offers_the_same_fixes(case):
    """`check` runs the trial only where it can refuse a fix (pipelint.findings.fixplan.trial_can_refuse); on
    files in every style the generator writes (anchors, merge keys, flow and block, quoting, CRLF, BOM, JSON), it
    offers exactly the fixes, messages and edits the full trial does."""
    from pipelint.text.source import decode

    data, _, _ = case
    src = decode("p.yaml", data)
    assert _offered(src, full=False) == _offered(src, full=True)
    text = src.text
    if text is not None and "\r" not in text and not text.lstrip().startswith("{"):  # a heredoc holds lines
        body = "".join("    " + line if line.strip() else line for line in text.splitlines(True))
        tf = decode("main.tf", ('resource "harness_platform_pipeline" "p" {\n  yaml = <<-EOT\n' + body
                                + ("" if body.endswith("\n") else "\n") + "  EOT\n}\n").encode())
        assert _offered(tf, full=False) == _offered(tf, full=True)

"""Property tests of every fix, on generated Harness-shaped YAML (tests/strategies.py):

1. every line outside the edits is unchanged (value replacements keep the line's prefix and comment;
   insertions are whole new lines);
2. the result parses, and equals the document the model says it must become (an oracle independent of
   pipelint's own verification);
3. fix twice = fix once;
4. check after fix reports nothing the fix claimed to repair.

CI runs a few hundred derandomized examples. For thousands:
    PIPELINT_HYPOTHESIS_EXAMPLES=5000 python3 -m pytest tests/test_properties.py
"""

from __future__ import annotations

import os
import tempfile

import yaml
from hypothesis import HealthCheck, given, settings

from strategies import MIRROR, harness_file
from test_corpus import assert_minimal_change

EXAMPLES = int(os.environ.get("PIPELINT_HYPOTHESIS_EXAMPLES", "300"))
FIXED_CODES = {"REG001", "REG002", "REG004", "CON001"}


def _engine():
    from pipelint import config
    from pipelint.engine import Engine

    settings_ = config.Settings()
    rules = config.enabled_rules(settings_, select=["ALL"], overrides={"CON001": {"image-connector": MIRROR}})
    return Engine(settings_, rules)


ENGINE = _engine()


def _fix(path: str):
    from pipelint import fixer

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
        assert list(yaml.safe_load_all(data.decode("utf-8-sig"))) == befores, "the generator's own model"
        result = _fix(path)
        assert not result.errors and not result.internal_errors, (result.errors, result.internal_errors)
        with open(path, "rb") as fh:
            fixed = fh.read()
        # 1. nothing but the edits
        assert fixed.startswith(b"\xef\xbb\xbf") == data.startswith(b"\xef\xbb\xbf")
        assert fixed.endswith(b"\n") == data.endswith(b"\n")
        assert_minimal_change(data.decode("utf-8-sig"), fixed.decode("utf-8-sig"),
                              {"harnessImageConnectorRef", "providerType", "executeOnDelegate"})
        # 2. parses, and is exactly what the model says
        assert list(yaml.safe_load_all(fixed.decode("utf-8-sig"))) == afters
        # 3. idempotent
        again = _fix(path)
        assert not again.fixed and not again.changed
        with open(path, "rb") as fh:
            assert fh.read() == fixed
        # 4. nothing left of what was fixed
        left = {f.code for f in again.findings}
        assert not left & FIXED_CODES, [f.message for f in again.findings if f.code in FIXED_CODES]

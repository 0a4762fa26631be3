"""Mutation fuzzing of `check` and `fix`: the fixtures and tests/corpus files (Harness YAML, Terraform), each
mutated a few times (YAML's, Terraform's and Harness's own tokens inserted, bytes cut, lines repeated or
re-indented, spans copied), then checked and fixed.

Every rule runs, the custom rules of docs/custom-rules.md among them. On every mutant:
1. no internal error, no exception, no hang (10 s a case);
2. `check`'s shortcut (the trial only where it can refuse a fix) offers exactly the fixes, messages and edits of
   the full trial that `fix` runs (tests/test_properties.py holds the same on generated files);
3. fix twice = fix once, and what is left after it offers no fix (one it could not apply).

Each bug it found has a test of its own (tests/test_fix.py's DISAGREED cases, fixtures/YML006/
bad_typos_beside_anchors.yaml, tests/test_bad_input.py's worker report). CI runs 2,000 derandomized mutants (seconds); for more:
    PIPELINT_MUTANTS=20000 python3 -m pytest tests/test_mutations.py -n 2
PIPELINT_MUTANTS_FROM=N starts at the Nth group of 50 (others than CI's); PIPELINT_MUTANT_SEEDS=DIR mutates the
files under DIR instead (a hand run on another set of real files).
"""

from __future__ import annotations

import os
import random
import re
import signal
from pathlib import Path

import pytest
from conftest import CORPUS, FIXTURES, ROOT

pytestmark = pytest.mark.slow

MUTANTS = int(os.environ.get("PIPELINT_MUTANTS", "2000"))
FIRST = int(os.environ.get("PIPELINT_MUTANTS_FROM", "0"))
SEEDS = os.environ.get("PIPELINT_MUTANT_SEEDS")
PER_TEST = 50
TOKENS = [
    b"&a ", b"*a", b"<<: *a\n", b"!!str ", b"!foo ", b"{", b"}", b"[", b"]", b'"', b"'", b"\t", b"\r", b"\r\n",
    b"\xef\xbb\xbf", b"\x00", b"---\n", b"...\n", b"? ", b": ", b"- ", b"#", b"|\n", b">-\n", b"\\", b"${", b"%{",
    b"<+", b">", b"~", b"null", b"&b [*a, *a]\n", "\u2028".encode(), b"\xc3\xa9", b"\xff", b"<<EOT\n", b"EOT\n",
    b"${var.x}", b"%{ if a }", b"%{ endif }", b"%{ for x in y }", b"<+input>", b"<+pipeline.variables.x>",
    b"image: app.harness.io/registry/harness/foo\n", b"harnessImageConnectorRef: x\n", b"type: CI\n",
    b"connectorRef: account.harnessImage\n", b"type: DockerRegistry\n",
    b"dockerRegistryUrl: https://app.harness.io/registry\n", b"inputYaml: |\n", b"!!binary ", b"  ", b"\n",
]


def _seeds() -> list:
    out = []
    for root in (Path(SEEDS),) if SEEDS else (FIXTURES, CORPUS):
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in (".yaml", ".yml", ".tf") and path.stat().st_size < 200_000:
                out.append(path)
    return out


def _mutate(data: bytes, rnd: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rnd.randint(1, 6)):
        op, pos = rnd.random(), rnd.randint(0, len(out))
        lines = bytes(out).split(b"\n")
        if op < 0.35:
            out[pos:pos] = rnd.choice(TOKENS)
        elif op < 0.55:
            del out[pos:pos + rnd.randint(1, 20)]
        elif op < 0.7:  # a line repeated elsewhere
            lines.insert(rnd.randrange(len(lines)), lines[rnd.randrange(len(lines))])
            out = bytearray(b"\n".join(lines))
        elif op < 0.85:  # one line indented or dedented
            i = rnd.randrange(len(lines))
            lines[i] = b" " * rnd.choice([1, 2, 4]) + lines[i] if rnd.random() < 0.5 else lines[i].lstrip(b" ")
            out = bytearray(b"\n".join(lines))
        elif op < 0.95:  # a span copied elsewhere
            a = rnd.randint(0, len(out))
            out[pos:pos] = out[a:rnd.randint(a, min(len(out), a + 200))]
        else:  # a block of lines shifted, some of them
            i = rnd.randrange(len(lines))
            pad = b" " * rnd.choice([1, 2, 3, 4])
            lines[i:i + 8] = [pad + x if rnd.random() < 0.5 else x[len(pad):] if x.startswith(pad) else x
                              for x in lines[i:i + 8]]
            out = bytearray(b"\n".join(lines))
    return bytes(out)


def _engine(tmp_path):
    """Every rule, the custom rules of docs/custom-rules.md among them (their fixes set and insert values through
    JSONPath), and CON001 with a connector to insert."""
    from pipelint.engine import config
    from pipelint.engine.core import Engine

    page = (ROOT / "docs" / "custom-rules.md").read_text()
    policies = re.search(r"# Your own rules.*?```toml\n(.*?)```", page, re.S)[1]
    path = tmp_path / ".pipelint.toml"
    path.write_text(policies + '\n[rules.CON001]\nimage-connector = "account.mirror"\n')
    settings = config.load(str(path))
    return Engine(settings, config.enabled_rules(settings, select=["ALL"]))


def _offered(engine, src, full: bool) -> list:
    report = engine.check_file(src, keep=full)
    return [(f.code, f.span.start, f.span.end, f.message,
             None if f.fix is None else (tuple((e.start, e.end, e.text) for e in f.fix.edits), f.fix.safe))
            for f in report.findings]


class _Hung(Exception):
    pass


def _hung(*_):
    raise _Hung


@pytest.mark.parametrize("chunk", range(FIRST, FIRST + max(1, MUTANTS // PER_TEST)))
def test_mutants(chunk, tmp_path):
    from pipelint.commands import fixer
    from pipelint.text.source import decode

    engine = _engine(tmp_path)
    seeds = _seeds()
    assert len(seeds) > (0 if SEEDS else 100)
    rnd = random.Random(chunk)
    failures = []
    previous = signal.signal(signal.SIGALRM, _hung)
    try:
        for k in range(PER_TEST):
            seed = rnd.choice(seeds)
            mutant = _mutate(seed.read_bytes(), rnd)
            where = tmp_path / str(k) / ".harness"
            where.mkdir(parents=True)
            path = where / ("f.tf" if seed.suffix == ".tf" else "f.yaml")
            path.write_bytes(mutant)
            case = f"{seed.relative_to(seed.parents[1]) if len(seed.parents) > 1 else seed} mutant {chunk}/{k}"
            signal.alarm(10)
            try:
                src = decode(str(path), mutant)
                if _offered(engine, src, False) != _offered(engine, src, True):
                    failures.append(f"{case}: check offers other fixes than fix's trial")
                first = fixer.fix(engine, [str(path)], unsafe=True)
                if first.internal_errors:
                    failures.append(f"{case}: {first.internal_errors[0]}")
                fixed = path.read_bytes()
                again = fixer.fix(engine, [str(path)], unsafe=True)
                if path.read_bytes() != fixed:
                    failures.append(f"{case}: a second fix changed the file again")
                left = [f.code for f in again.findings if f.fix is not None]
                if left:
                    failures.append(f"{case}: fixes offered after fix: {left}")
            except _Hung:
                failures.append(f"{case}: took more than 10 s")
            except Exception as exc:  # what the test is for: any exception is a failure, named with its case
                failures.append(f"{case}: {type(exc).__name__}: {exc}")
            finally:
                signal.alarm(0)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not failures, "\n".join(failures)

"""Report formats checked by real consumers: the SARIF 2.1.0 schema, junitparser, and the formats' contracts."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import jsonschema
import pytest
from conftest import FIXTURES, ROOT, pipelint
from junitparser import JUnitXml

SCHEMA = ROOT / "tests" / "schemas" / "sarif-schema-2.1.0.json"


@pytest.fixture
def tree(in_tmp):
    # the demo tree, without the org-migration CI templates (test_org_templates has those)
    shutil.copytree(ROOT / "examples", in_tmp / "examples", ignore=shutil.ignore_patterns("org-migration"))
    shutil.copyfile(FIXTURES / "YML001" / "bad_indentation.yaml", in_tmp / "examples" / "broken.yaml")
    (in_tmp / "examples" / "clean.yaml").write_text("pipeline: {name: p, identifier: p, stages: []}\n")
    return in_tmp


def test_sarif_is_valid_and_complete(tree, snapshot):
    result = pipelint("check", "examples", "--isolated", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    run = log["runs"][0]
    from pipelint.rules import RULES

    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [r.code for r in RULES]
    for r in run["results"]:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert not loc["artifactLocation"]["uri"].startswith("/")
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert r["partialFingerprints"]["pipelintFingerprint/v1"]
    run["originalUriBaseIds"] = "<cwd>"
    assert [(r["ruleId"], r["level"], r["locations"]) for r in run["results"]] == snapshot


def test_github_annotations(tree, snapshot):
    result = pipelint("check", "examples", "--isolated", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout == snapshot
    for line in result.stdout.splitlines():
        assert line.startswith(("::error file=", "::warning file=", "::notice file="))


def test_github_escaping():
    from pipelint.reporters.github import _data, _prop

    assert _data("50% done\nnext") == "50%25 done%0Anext"
    assert _prop("a:b,c") == "a%3Ab%2Cc"


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_junit_read_by_junitparser(tree, cache):
    if cache == "warm":  # the same answer from the whole-run cache entry
        pipelint("check", "examples", "--isolated")
    result = pipelint("check", "examples", "--isolated", "--format", "junit", "--output", "report.xml")
    assert result.exit_code == 1
    assert result.stdout.startswith("Found 6 problems in 3 files")  # the summary, not the report
    xml = JUnitXml.fromfile(str(tree / "report.xml"))
    cases = {case.name: case for suite in xml for case in suite}
    assert set(cases) == {
        "examples/.harness/connectors/harnessImage.yaml",
        "examples/.harness/orgs/default/projects/ci/pipelines/build.yaml",
        "examples/broken.yaml", "examples/clean.yaml",
    }
    assert cases["examples/clean.yaml"].is_passed
    failures = list(cases["examples/broken.yaml"].result)
    assert [f.type for f in failures] == ["YML001"]
    assert len(cases["examples/.harness/orgs/default/projects/ci/pipelines/build.yaml"].result) == 3


def test_gitlab_code_quality(tree, snapshot):
    result = pipelint("check", "examples", "--isolated", "--format", "gitlab")
    issues = json.loads(result.stdout)
    assert issues == snapshot
    for issue in issues:
        assert set(issue) == {"description", "check_name", "fingerprint", "severity", "location"}
        assert issue["severity"] in {"info", "minor", "major", "critical", "blocker"}
        assert isinstance(issue["location"]["lines"]["begin"], int)
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_statistics(tree, snapshot):
    text = pipelint("check", "examples", "--isolated", "--statistics")
    assert text.exit_code == 1 and text.stdout == snapshot(name="text")
    data = pipelint("check", "examples", "--isolated", "--statistics", "--format", "json")
    assert json.loads(data.stdout) == snapshot(name="json")


def test_output_file_and_summary(tree):
    result = pipelint("check", "examples", "--isolated", "--format", "json", "--output", "out.json")
    data = json.loads((tree / "out.json").read_text())
    assert len(data["findings"]) == 6
    assert result.stdout.splitlines()[0] == "Found 6 problems in 3 files (4 errors, 2 warnings; 2 fixable)."
    bad = pipelint("check", "examples", "--isolated", "--output", "missing/dir/out.txt")
    assert bad.exit_code == 2 and bad.stderr.startswith("pipelint: error: missing/dir/out.txt: cannot write")


# pipelint as a process whose files can grow to 512 bytes only: a write beyond that fails (EFBIG), as on a full disk
_SMALL_FILES = ("import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                "resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512)); sys.argv[0] = 'pipelint'; "
                "runpy.run_module('pipelint', run_name='__main__', alter_sys=True)")


@pytest.mark.parametrize("command", [("check", "examples", "--format", "sarif"), ("images", "examples", "--format", "json"),
                                     ("report", "examples")])
def test_an_output_file_that_cannot_be_finished_leaves_the_last_one_whole(tree, command):
    """`--output` writes as fix does (files.write_atomic): a report cut short (a full disk, a limit, an interrupt)
    leaves the one written before, not the start of a new one, and no temporary file."""
    (tree / "out.txt").write_text("the last report\n")
    report = ["--format", "md"] if command[0] == "report" else []  # out.txt says nothing of the kind
    result = subprocess.run([sys.executable, "-c", _SMALL_FILES, *command, "--isolated", "--output", "out.txt",
                             *report], cwd=tree, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines()[-1].startswith("pipelint: error: out.txt: cannot write"), result.stderr
    assert "Traceback" not in result.stderr
    assert (tree / "out.txt").read_text() == "the last report\n"
    assert sorted(p.name for p in tree.iterdir() if p.name != ".pipelint_cache") == ["examples", "out.txt"]


def test_an_output_that_is_a_device_or_a_pipe_is_written_to_as_it_is(tree):
    """`--output /dev/stdout` (and a named pipe) get the report: there is no folder to put a temporary file in."""
    result = subprocess.run([sys.executable, "-m", "pipelint", "check", "examples", "--isolated", "--format",
                             "json", "--output", "/dev/stdout"], cwd=tree, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1, result.stderr
    assert len(json.loads(result.stdout.split("\nFound ")[0])["findings"]) == 6
    os.mkfifo(tree / "pipe")
    reader = subprocess.Popen(["cat", "pipe"], cwd=tree, stdout=subprocess.PIPE, text=True)
    images = pipelint("images", "examples", "--isolated", "--format", "csv", "--output", "pipe")
    assert images.exit_code == 0 and reader.communicate(timeout=60)[0].startswith("image,")
    assert (tree / "pipe").is_fifo()


def test_sarif_from_a_folder_removed_meanwhile(tree):
    """SARIF names the folder its relative URIs start from; run from a folder that was removed (a CI step left in
    a deleted workspace) it said `internal error in the sarif report: FileNotFoundError`. The base is left out."""
    gone = tree / "gone"
    gone.mkdir()
    script = ("import os, runpy, sys; os.chdir(sys.argv[1]); os.rmdir(sys.argv[1]); sys.argv[:2] = ['pipelint']; "
              "runpy.run_module('pipelint', run_name='__main__', alter_sys=True)")
    result = subprocess.run([sys.executable, "-c", script, str(gone), "check", str(tree / "examples"), "--isolated",
                             "--no-cache", "--format", "sarif"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and result.stderr == "", result.stderr
    run = json.loads(result.stdout)["runs"][0]
    assert "originalUriBaseIds" not in run and len(run["results"]) == 6

"""The organisation templates in examples/org-migration (issue 18), run as written.

pipelint checks its Harness pipeline clean. Then a small runner plays each CI system's part over real all-repos
and file:// origins: every run of the sharded stage or matrix job in its own folder, the template's shell
commands verbatim (expressions filled in), its upload and download steps as copies into a local bucket or
artifact store, and the report stage after them. The organisation holds a repository whose origin refuses the
push, as a protected branch would: that shard fails, still publishes its summary, and the merged report names
the repository and the reason.
"""

from __future__ import annotations

import fnmatch
import html
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT, pipelint
from test_all_repos import BROKEN_CONNECTOR, _git, _origin
from test_shards import REPOS

pytest.importorskip("all_repos", reason="pip install all-repos (the test extra has it)")

TEMPLATES = ROOT / "examples" / "org-migration"
HARNESS = TEMPLATES / "harness-pipeline.yaml"
GITHUB = TEMPLATES / "github-workflow.yml"
PROTECTED = "team-e/protected"
SECRET = "not-a-real-secret"

# what the images and runners have; pipelint and all-repos come from the test environment instead of `pip install`
PRELUDE = """\
pip() { :; }
aws() {
  [ "$1 $2 $3" = "s3 cp --recursive" ] || { echo "aws $*: not played by the test" >&2; return 2; }
  mkdir -p "$5" && cp -r "$BUCKETS/${4#s3://}/." "$5"
}
"""


def test_pipelint_checks_its_own_harness_template_clean():
    result = pipelint("check", str(HARNESS), "--isolated", "--no-cache")
    assert result.exit_code == 0 and "All checks passed." in result.stdout, result.stdout + result.stderr
    # clean because it is right, not because it was skipped: an opt-in rule does find its two unpinned images
    data = pipelint("check", str(HARNESS), "--isolated", "--no-cache", "--extend-select", "IMG003",
                    "--format", "json").json()
    assert [f["code"] for f in data["findings"]] == ["IMG003", "IMG003"]


def test_the_readme_shows_the_templates_own_lines():
    """The docs' excerpts of both templates are cut from them, not rewritten: each line is a template's line."""
    page = (ROOT / "docs" / "bulk.md").read_text()
    section = page.split("\n### Sharded over CI runners\n", 1)[1].split("\n## ", 1)[0]
    excerpts = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    assert len(excerpts) == 2
    for excerpt, template in zip(excerpts, (HARNESS, GITHUB), strict=True):
        own = {line.strip().removeprefix("- ") for line in template.read_text().splitlines()}
        for line in excerpt.splitlines():
            assert line.strip().removeprefix("- ") in own, (template.name, line)
        yaml.safe_load(excerpt)


def _bin(folder: Path) -> Path:
    """python, pipelint and all-repos-clone as the test environment has them, whatever its layout."""
    folder.mkdir()
    for name, command in {"python": "", "pipelint": "-m pipelint", "all-repos-clone": "-m all_repos.clone"}.items():
        (folder / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" {command} "$@"\n')
        (folder / name).chmod(0o755)
    return folder


def _organisation(root: Path) -> tuple[dict, Path]:
    """The origins (one refusing every push) and the codebase the templates clone: all-repos.json over them,
    its repos.json, and org-pipelint.toml."""
    repos = dict(REPOS, **{PROTECTED: {".harness/connectors/harnessImage.yaml": BROKEN_CONNECTOR}})
    origins = {name: _origin(root, name.replace("/", "__"), files) for name, files in repos.items()}
    hook = origins[PROTECTED] / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'main is protected: changes need a review' >&2\nexit 1\n")
    hook.chmod(0o755)
    codebase = root / "codebase"
    codebase.mkdir()
    (codebase / "repos.json").write_text(json.dumps({n: f"file://{b}" for n, b in origins.items()}))
    (codebase / "all-repos.json").write_text(json.dumps({
        "output_dir": "output", "source": "all_repos.source.json_file",
        "source_settings": {"filename": "repos.json"},
        "push": "all_repos.push.merge_to_master", "push_settings": {"fast_forward": False}}))
    (codebase / "all-repos.json").chmod(0o644)  # as a checkout leaves it: the templates chmod it
    (codebase / "org-pipelint.toml").write_text('[rules.REG001]\ntarget = "gar"\n')
    return origins, codebase


def _heads(origins):
    return {name: _git(bare, "rev-parse", "main").strip() for name, bare in origins.items()}


def _filled(text, pattern: str, values: dict) -> str:
    def one(match):
        key = match.group(1).strip()
        if key.startswith(("secrets.getValue(", "secrets.")):
            return SECRET
        return str(values[key])  # an expression this runner does not know fails the test

    return re.sub(pattern, one, text)


def _bash(script: str, cwd: Path, env: dict, flags: str) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--noprofile", "--norc", *flags.split(), "-c", PRELUDE + script], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=600)


def _run_harness(codebase: Path, work: Path, env: dict) -> list:
    """Each stage in order, each run of a stage with a parallelism strategy in its own folder."""
    pipeline = yaml.safe_load(HARNESS.read_text())["pipeline"]
    buckets = work / "s3"
    env = dict(env, BUCKETS=str(buckets))
    log, pipeline_failed = [], False
    for item in pipeline["stages"]:
        stage = item["stage"]
        if pipeline_failed and stage.get("when", {}).get("pipelineStatus") != "All":
            continue
        n = stage.get("strategy", {}).get("parallelism")
        for i in range(n) if n else [None]:
            values = {"pipeline.sequenceId": 7}
            if n:
                values |= {"strategy.iteration": i, "strategy.iterations": n}
            ws = work / f"{stage['identifier']}-{i if n else 0}"
            if stage["spec"].get("cloneCodebase"):
                shutil.copytree(codebase, ws)
            else:
                ws.mkdir()
            failed = False
            for entry in stage["spec"]["execution"]["steps"]:
                step, fill = entry["step"], (lambda t: _filled(t, r"<\+([^>]*)>", values))  # noqa: B023
                spec = step["spec"]
                if failed and step.get("when", {}).get("stageStatus") != "All":
                    continue
                if step["type"] == "Run":
                    assert spec["shell"] in ("Bash", "Sh")
                    step_env = dict(env, **{k: fill(str(v)) for k, v in spec.get("envVariables", {}).items()})
                    proc = _bash(fill(spec["command"]), ws, step_env, "-e")
                    log.append((stage["identifier"], i, step["identifier"], proc))
                    failed |= proc.returncode != 0
                elif step["type"] == "S3Upload":
                    dest = buckets / spec["bucket"] / fill(spec["target"])
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.copy(ws / fill(spec["sourcePath"]), dest)
                else:
                    raise AssertionError(f"step type {step['type']} is not played by this test")
            pipeline_failed |= failed
    return log


def _run_github(codebase: Path, work: Path, env: dict) -> list:
    """Each job in order of `needs`, each matrix combination in its own folder."""
    jobs = yaml.safe_load(GITHUB.read_text())["jobs"]
    artifacts = work / "artifacts"
    log, done = [], []
    while len(done) < len(jobs):
        name = next(j for j, job in jobs.items() if j not in done
                    and set([job["needs"]] if isinstance(job.get("needs"), str) else job.get("needs", [])) <= set(done))
        job = jobs[name]
        matrix = job.get("strategy", {}).get("matrix", {})
        combos = [dict(zip(matrix, values, strict=True)) for values in itertools.product(*matrix.values())] or [{}]
        for index, combo in enumerate(combos):
            values = {"strategy.job-index": index, "strategy.job-total": len(combos)}
            values |= {f"matrix.{k}": v for k, v in combo.items()}

            def fill(text):
                return _filled(text, r"\$\{\{([^}]*)\}\}", values)  # noqa: B023

            ws = work / f"{name}-{index}"
            ws.mkdir()
            failed = False
            for step in job["steps"]:
                if failed and step.get("if") != "always()":
                    continue
                given = {k: fill(str(v)) for k, v in step.get("with", {}).items()}
                action = step.get("uses", "").split("@")[0]
                if "run" in step:
                    step_env = dict(env, GITHUB_STEP_SUMMARY=str(ws / "step-summary.md"),
                                    **{k: fill(str(v)) for k, v in step.get("env", {}).items()})
                    proc = _bash(fill(step["run"]), ws, step_env, "-e")  # GitHub's default: bash -e {0}
                    log.append((name, index, step.get("name", step["run"][:40]), proc))
                    failed |= proc.returncode != 0
                elif action == "actions/checkout":
                    shutil.copytree(codebase, ws, dirs_exist_ok=True)
                elif action == "actions/setup-python":
                    pass
                elif action == "actions/upload-artifact":
                    (artifacts / given["name"]).mkdir(parents=True)
                    shutil.copy(ws / given["path"], artifacts / given["name"])
                elif action == "actions/download-artifact":
                    assert given.get("merge-multiple") == "True"
                    (ws / given["path"]).mkdir(parents=True)
                    for store in sorted(artifacts.iterdir()):
                        if fnmatch.fnmatch(store.name, given["pattern"]):
                            shutil.copytree(store, ws / given["path"], dirs_exist_ok=True)
                else:
                    raise AssertionError(f"{step['uses']} is not played by this test")
        done.append(name)
    return log


@pytest.mark.slow
@pytest.mark.parametrize("system", ["harness", "github"])
def test_the_template_migrates_an_organisation_as_written(tmp_path, git_env, system):
    from pipelint.commands import summary
    from pipelint.orgwide.fix import shard_of

    origins, codebase = _organisation(tmp_path)
    before = _heads(origins)
    env = dict(git_env, PATH=f"{_bin(tmp_path / 'bin')}:{git_env['PATH']}")
    work = tmp_path / "runs"
    work.mkdir()
    log = (_run_harness if system == "harness" else _run_github)(codebase, work, env)

    shard_runs = [entry for entry in log if "pipelint.all_repos_fix" in entry[3].args[-1]]
    n = len(shard_runs)
    assert n == 8, [entry[:3] for entry in log]
    for stage, k, _, proc in shard_runs:
        mine = sorted(name for name in origins if shard_of(name, n) == k)
        output = proc.stdout + proc.stderr
        assert f"shard {k}/{n}: {len(mine)} of {len(origins)} repositories" in output, output
        cloned = sorted(json.loads((work / f"{stage}-{k}" / "output" / "repos.json").read_text()))
        assert cloned == mine  # each runner cloned only its own repositories
        # only the shard holding the protected repository fails, and says which one
        if PROTECTED in mine:
            assert proc.returncode == 1 and f"1 of {len(mine)} repositories failed: {PROTECTED}" in output, output
        else:
            assert proc.returncode == 0, output

    fixed = {name for name, head in _heads(origins).items() if head != before[name]}
    assert fixed == {"team-a/needs-fix", "team-c/needs-fix-too", "team-d/more"}

    report_run = [entry for entry in log if "report --merge" in entry[3].args[-1]]
    assert len(report_run) == 1 and report_run[0][3].returncode == 0, report_run[0][3].stderr
    folder = work / "report-0"  # the one run of the report stage or job
    summaries = sorted((folder / "summaries").glob("*.json"))
    assert len(summaries) == n  # every shard published, the failed one too
    merged = summary.merge([summary.read(str(p)) for p in summaries])
    assert sorted(r["name"] for r in merged["repositories"]) == sorted(origins)
    protected = next(r for r in merged["repositories"] if r["name"] == PROTECTED)
    assert protected["error"].startswith("push failed: remote: main is protected: changes need a review")
    assert "pre-receive hook declined" in protected["error"] and not protected["pushed"]
    assert protected["before"].get("REG001") and not protected["after"]

    page = html.unescape((folder / "org-report.html").read_text().replace("<wbr>", ""))
    assert "Failed repositories" in page and PROTECTED in page and "main is protected" in page
    markdown = (folder / "step-summary.md").read_text() if system == "github" else report_run[0][3].stdout
    assert "1 repository failed" in markdown and PROTECTED in markdown

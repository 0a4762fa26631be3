"""A hostile repository (issue 26, round 3): what a pull request's author controls -- its `.tf` files, its
`.pipelint.toml`, its image names -- cannot make pipelint read or write outside the checked tree, hang it, exhaust
its memory, crash it, or make it silently wrong. Each case ends with the exact outcome a user sees.

Hang guards are subprocess timeouts (a run that hangs fails the test), never timed assertions on speed.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, pipelint, pipelint_process
from test_all_repos import _git, _origin

from pipelint.app import console
from pipelint.text import source as sourcelib

RETIRED = "app.harness.io/registry/harness/ci-addon:1.16.4"
PIPELINE = f"""\
pipeline:
  name: victim
  identifier: victim
  stages:
    - stage:
        name: b
        identifier: b
        type: CI
        spec:
          runtime:
            type: Cloud
            spec: {{}}
          execution:
            steps:
              - step:
                  type: Run
                  name: r
                  identifier: r
                  spec:
                    image: {RETIRED}
"""


def _tf(expr: str) -> str:
    return f'resource "harness_platform_pipeline" "p" {{\n  identifier = "p"\n  yaml       = {expr}\n}}\n'


@pytest.fixture
def layout(tmp_path, monkeypatch):
    """tmp/repo (a git repository, the current directory) and tmp/outside/victim.yaml beside it."""
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "infra").mkdir(parents=True)
    outside.mkdir()
    (outside / "victim.yaml").write_text(PIPELINE)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    monkeypatch.chdir(repo)
    return repo, outside


# --- the boundary ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["dotdot", "absolute", "templatefile", "symlinked_folder"])
def test_a_file_reference_outside_the_tree_is_neither_read_nor_written(layout, how):
    repo, outside = layout
    victim = outside / "victim.yaml"
    if how == "dotdot":
        expr, written = 'file("${path.module}/../../outside/victim.yaml")', "${path.module}/../../outside/victim.yaml"
    elif how == "absolute":
        expr, written = f'file("{victim}")', str(victim)
    elif how == "templatefile":
        expr = 'templatefile("${path.module}/../../outside/victim.yaml", { tag = "1" })'
        written = "${path.module}/../../outside/victim.yaml"
    else:
        (repo / "infra" / "shared").symlink_to(outside)
        expr, written = 'file("${path.module}/shared/victim.yaml")', "${path.module}/shared/victim.yaml"
    (repo / "infra" / "main.tf").write_text(_tf(expr))
    warning = (f"pipelint: warning: infra/main.tf:3:{19 if how == 'templatefile' else 17 + 2}: "
               f"harness_platform_pipeline.p: not read: {written} is outside the checked tree ({repo.resolve()})\n")
    column = 3 + len("  yaml       = ") + len("templatefile(" if how == "templatefile" else "file(") - 2
    warning = warning.replace(":3:19:", f":3:{column}:")
    for command in ("check", "fix"):
        result = pipelint(command, ".", "--isolated", "--no-cache") if command == "check" else pipelint(
            command, ".", "--isolated")
        assert result.exit_code == 0, result.stdout + result.stderr
        assert result.stderr == warning
        assert "victim" not in result.stdout and RETIRED not in result.stdout
    assert victim.read_text() == PIPELINE
    images = pipelint("images", ".", "--isolated")
    assert RETIRED not in images.stdout and images.stderr == warning


def test_a_file_reference_inside_the_tree_is_checked_and_fixed(layout):
    repo, _ = layout
    (repo / "infra" / "pipeline.yaml.tpl").write_text(PIPELINE)
    (repo / "infra" / "main.tf").write_text(_tf('templatefile("${path.module}/pipeline.yaml.tpl", {})'))
    result = pipelint("check", ".", "--isolated", "--no-cache", "--select", "REG001")
    assert result.exit_code == 1 and result.stderr == ""
    assert result.stdout.startswith("infra/pipeline.yaml.tpl:20:28: error REG001 [*]")
    assert pipelint("fix", ".", "--isolated", "--select", "REG001").exit_code == 0
    assert "public.ecr.aws/harness/ci-addon:1.16.4" in (repo / "infra" / "pipeline.yaml.tpl").read_text()


def test_side_by_side_clones_are_each_their_own_tree(tmp_path, monkeypatch):
    """Checked together from their parent (an org-wide run), one repository cannot edit another's files."""
    for name in ("a", "b"):
        subprocess.run(["git", "init", "-q", str(tmp_path / name)], check=True)
    (tmp_path / "b" / "pipeline.yaml").write_text(PIPELINE)
    (tmp_path / "a" / "main.tf").write_text(_tf('file("${path.module}/../b/pipeline.yaml")'))
    monkeypatch.chdir(tmp_path)
    result = pipelint("fix", "a", "--isolated", "--select", "REG001")
    assert result.stderr == (f"pipelint: warning: a/main.tf:3:21: harness_platform_pipeline.p: not read: "
                             f"${{path.module}}/../b/pipeline.yaml is outside the checked tree "
                             f"({(tmp_path / 'a').resolve()})\n")
    assert (tmp_path / "b" / "pipeline.yaml").read_text() == PIPELINE
    # from the parent: each clone is still its own tree; b's own file is fixed as b's, not through a
    result = pipelint("fix", ".", "--isolated", "--select", "REG001")
    assert "a/main.tf:3:21: harness_platform_pipeline.p: not read" in result.stderr
    assert result.stdout.startswith("Fixed 1 problem in 1 file.")
    assert "public.ecr.aws" in (tmp_path / "b" / "pipeline.yaml").read_text()


def test_a_configured_path_outside_the_configuration_folder_is_refused(layout):
    repo, outside = layout
    (outside / "secret.lock").write_text("{}")
    (repo / ".pipelint.toml").write_text('extend-select = ["IMG004"]\n[rules.IMG004]\nlockfile = "../outside/secret.lock"\n')
    (repo / "p.yaml").write_text(PIPELINE)
    result = pipelint("check", "p.yaml")
    assert result.exit_code == 2
    assert result.stderr == (f"pipelint: error: .pipelint.toml: 'rules.IMG004.lockfile': '../outside/secret.lock' is "
                             f"outside the configuration's folder ({repo}); name a file inside it\n")


@pytest.mark.parametrize("where", ["the cache folder", "the version folder", "an entry folder", ".gitignore"])
def test_a_symlink_committed_in_the_cache_is_never_followed(layout, where):
    """A pull request can commit `.pipelint_cache` (or a folder or file in it) as a symlink to anywhere. The
    cache then answers nothing and stores nothing: no file is read or written through the link, and the
    findings are those of a run without the cache."""
    from pipelint import __version__

    repo, outside = layout
    target = outside / "cache"
    target.mkdir()
    for i in range(12):  # enough files for the pool and the cache
        (repo / f"p{i}.yaml").write_text(PIPELINE.replace("victim", f"p{i}"))
    cache = repo / ".pipelint_cache"
    uncached = pipelint_process("check", ".", "--isolated", "--no-cache", cwd=repo)
    if where == "the cache folder":
        cache.symlink_to(target)
    elif where == ".gitignore":
        cache.mkdir()
        (cache / ".gitignore").symlink_to(target / "written")  # a dangling link: open("w") would create it
    else:
        pipelint_process("check", ".", "--isolated", cwd=repo)  # a cache of this tree, its folders then linked
        folder = cache / __version__ / ("." if where == "the version folder" else "ru")  # "ru": the run's answer
        folder = folder.resolve()
        for entry in folder.iterdir():  # the entries, beside the link, to be read through it
            shutil.move(str(entry), target / entry.name)
        folder.rmdir()
        folder.symlink_to(target)
    before = {p: p.read_bytes() for p in target.rglob("*") if p.is_file()}
    for _ in range(2):  # the second run would read what the first stored
        result = pipelint_process("check", ".", "--isolated", cwd=repo)
        assert (result.returncode, result.stdout, result.stderr) == (1, uncached.stdout, uncached.stderr)
        verbose = pipelint_process("check", ".", "--isolated", "-v", cwd=repo).stderr.decode()
        assert "checked 12 files" in verbose
        assert ("answered from the cache" in verbose) == (where == ".gitignore")  # its cache is not linked
    assert {p: p.read_bytes() for p in target.rglob("*") if p.is_file()} == before
    assert all(p.is_symlink() for p in (cache, cache / __version__, cache / ".gitignore") if p.is_symlink())


# --- the configuration is untrusted input ---------------------------------------------------------------
def _rule(given: str, then: str, fix: str = "") -> str:
    return (f'[[custom-rules]]\ncode = "ORG001"\nname = "org-rule"\nmessage = "bad {{value}}"\n'
            f"given = {json.dumps(given)}\nthen = {then}\n{fix}")


NAME_41 = "pipeline:\n  name: " + "a" * 41 + "\n  identifier: x\n"


@pytest.mark.parametrize("name,target", [(".pipelint.toml", "secret"), ("pyproject.toml", "secret"),
                                         (".pipelint.toml", "/dev/zero"), (".pipelint.toml", "/nonexistent")])
def test_a_configuration_linked_out_of_the_repository_is_not_read(layout, name, target):
    """A repository's configuration that is a symlink to a file elsewhere (another project's, a device, nothing)
    was read, and an unknown key in it echoed into the log (`unknown rule 'rules.TOKEN'`); a device or a
    dangling link was skipped without a word, for the defaults. Each is one error line now, naming the link."""
    repo, outside = layout
    (repo / "p.yaml").write_text(PIPELINE)
    if target == "secret":
        target = str(outside / "secret.toml")
        prefix = "[tool.pipelint]\n" if name == "pyproject.toml" else ""
        (outside / "secret.toml").write_text(f"{prefix}[rules.ghp_s3cr3tTOKEN]\nx = 1\n")
    (repo / name).symlink_to(target)
    result = pipelint_process("check", ".", "--no-cache", cwd=repo)
    assert (result.returncode, result.stdout) == (2, b""), result.stdout
    real = os.path.realpath(target)
    assert result.stderr.decode() == (f"pipelint: error: {name}: not read: a symlink to {real}, outside the "
                                      f"repository ({repo.resolve()})\n")
    if "secret" in target and name == ".pipelint.toml":  # named on the command line, the user's choice: read
        given = pipelint_process("check", ".", "--no-cache", "--config", target, cwd=repo)
        assert given.returncode == 2 and b"ghp_s3cr3tTOKEN" in given.stderr


def test_a_configuration_linked_within_the_repository_is_read(layout):
    repo, _ = layout
    (repo / "shared").mkdir()
    (repo / "shared" / "pipelint.toml").write_text('select = ["IMG001"]\n')
    (repo / ".pipelint.toml").symlink_to("shared/pipelint.toml")
    (repo / "p.yaml").write_text(PIPELINE)
    result = pipelint_process("check", ".", "--no-cache", "-v", cwd=repo)
    assert result.returncode == 0 and b"rules: IMG001\n" in result.stderr, result.stderr


def test_a_catastrophic_regex_runs_in_linear_time(layout):
    repo, _ = layout
    (repo / ".pipelint.toml").write_text(_rule("$.pipeline", "{ field = \"name\", function = \"pattern\", "
                                                             "not-match = '^(a+)+$' }"))
    (repo / "p.yaml").write_text(NAME_41.replace("a" * 41, "a" * 5000 + "!"))
    result = pipelint_process("check", "p.yaml", "--no-cache", cwd=repo)  # 120 s guard; RE2 answers at once
    assert result.returncode == 0, result.stderr
    (repo / "p.yaml").write_text(NAME_41)
    result = pipelint_process("check", "p.yaml", "--no-cache", cwd=repo)
    assert result.returncode == 1 and b"ORG001 bad " + b"a" * 41 in result.stdout


@pytest.mark.parametrize("key,value,problem", [
    ("then", "{ field = \"name\", function = \"pattern\", match = 'a{99999999999}' }",
     "'custom-rules[0].then.match': 'a{99999999999}' is not a regular expression: the repetition {99999999999} "
     "is over 1000"),
    ("then", "{ field = \"name\", function = \"pattern\", match = '(?<=a)b' }",
     "'custom-rules[0].then.match': '(?<=a)b' is not a regular expression RE2 accepts: invalid perl operator: (?<="),
    ("then", "{ field = \"name\", function = \"pattern\", match = '[' }",
     "'custom-rules[0].then.match': '[' is not a regular expression RE2 accepts: missing ]: ["),
    ("given", None, "'custom-rules[0].given': longer than 1000 characters"),
    ("given", "$" + ".a" * 70, "'custom-rules[0].given': more than 64 steps"),
    ("given", "$.pipeline[?(@.name ==", "'custom-rules[0].given': '$.pipeline[?(@.name ==' is not a JSONPath"),
    ("given", '$.pipeline[?(@.name =~ "(a+)+$")]', "'custom-rules[0].given': a regular expression in a filter "
                                                    "(`=~`) is not supported: jsonpath-ng runs it with Python's "
                                                    "backtracking engine"),
    ("given", "$" + "[" * 400, "'custom-rules[0].given': '" + "$" + "[" * 76 + "'... is not a JSONPath: Parse error"),
])
def test_a_bad_pattern_or_path_is_one_line_naming_file_rule_and_key(layout, key, value, problem):
    repo, _ = layout
    if key == "given":
        config = _rule(value or "$" + ".a" * 600, '{ function = "truthy" }')
    else:
        config = _rule("$.pipeline", value)
    (repo / ".pipelint.toml").write_text(config)
    (repo / "p.yaml").write_text(NAME_41)
    result = pipelint_process("check", "p.yaml", cwd=repo)
    assert result.returncode == 2
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"pipelint: error: .pipelint.toml: custom rule ORG001: {problem}")


@pytest.mark.parametrize("name", [".pipelint.toml", "pyproject.toml"])
def test_a_configuration_nested_too_deeply_is_one_line(layout, name):
    repo, _ = layout
    (repo / name).write_text(("[tool.pipelint]\n" if name == "pyproject.toml" else "") + "x = " + "[" * 100_000)
    (repo / "p.yaml").write_text(NAME_41)
    result = pipelint_process("check", "p.yaml", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.decode() == f"pipelint: error: {name}: invalid TOML: nested too deeply\n"


def test_a_jsonpath_over_its_work_budget_is_one_error_line(layout):
    repo, _ = layout
    deep = ["pipeline:", "  name: x", "  identifier: x", "  stages:", "    - stage:", "        identifier: s",
            "        type: Custom", "        spec:"]
    deep += [" " * (10 + 2 * i) + f"k{i}:" for i in range(40)] + [" " * 90 + "v: 1"]
    (repo / "deep.yaml").write_text("\n".join(deep) + "\n")
    (repo / "fine.yaml").write_text(NAME_41)
    (repo / ".pipelint.toml").write_text(_rule("$..*..*..*..*..*..*", '{ function = "truthy" }'))
    result = pipelint_process("check", "deep.yaml", "fine.yaml", "--no-cache", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.decode() == ("pipelint: error: deep.yaml: ORG001 (.pipelint.toml, 'given'): "
                                      "'$..*..*..*..*..*..*' visited more than 500,000 places in this document; "
                                      "narrow it\n")
    assert result.stdout.decode() == "No problems found, but 1 error kept pipelint from checking everything.\n"


def test_a_message_format_cannot_fill_the_memory(layout):
    repo, _ = layout
    (repo / ".pipelint.toml").write_text(_rule("$.pipeline", '{ field = "name", function = "defined" }')
                                         .replace('message = "bad {value}"', 'message = "{value:>999999999}"'))
    (repo / "p.yaml").write_text(NAME_41)
    result = pipelint_process("check", "p.yaml", cwd=repo)
    assert result.returncode == 2
    assert result.stderr.decode() == ("pipelint: error: .pipelint.toml: custom rule ORG001: 'custom-rules[0].message': "
                                      "placeholders take no format (write {value}, not {value:...} or {value!r})\n")


def test_a_fix_that_would_not_pass_its_own_rule_is_refused(layout):
    repo, _ = layout
    (repo / ".pipelint.toml").write_text(_rule("$.pipeline", '{ field = "timeout", function = "enumeration", '
                                                             'values = ["5m"] }', "fix = { set = true }\n"))
    (repo / "p.yaml").write_text("pipeline:\n  identifier: x\n  timeout: 10m\n")
    result = pipelint("fix", "p.yaml")
    assert result.exit_code == 2 and (repo / "p.yaml").read_text().endswith("timeout: 10m\n")
    assert result.stderr == ("pipelint: error: .pipelint.toml: custom rule ORG001: 'custom-rules[0].fix.set': true "
                             "does not pass the rule's own check (enumeration), so the fix would never converge\n")


# --- what crosses a process boundary is data -------------------------------------------------------------
def _every_container(root: Path, copies: int) -> None:
    """`copies` of each container kind: .harness YAML, Terraform heredocs and a Docker connector, a templated
    file, a trigger with inputYaml."""
    for i in range(copies):
        d = root / f"team{i}"
        (d / ".harness").mkdir(parents=True)
        (d / ".harness" / "pipeline.yaml").write_text(PIPELINE)
        shutil.copyfile(FIXTURES / "terraform" / "delegate.tf", d / "delegate.tf")
        shutil.copyfile(FIXTURES / "terraform" / "main.tf", d / "main.tf")
        shutil.copyfile(FIXTURES / "templated" / "pipeline.yaml.tpl", d / "pipeline.yaml.tpl")
        (d / ".harness" / "trigger.yaml").write_text(
            "trigger:\n  identifier: t\n  pipelineIdentifier: victim\n  inputYaml: |\n    pipeline:\n"
            "      identifier: victim\n      stages: []\n")


def test_the_pooled_check_and_fix_on_every_container_kind(tmp_path, monkeypatch):
    _every_container(tmp_path, 60)  # 300 files: well past the pool's threshold
    monkeypatch.chdir(tmp_path)
    pooled = pipelint_process("check", ".", "--isolated", "--no-cache", "--format", "json", cwd=tmp_path)
    single = pipelint_process("check", ".", "--isolated", "--no-cache", "--format", "json", "--jobs", "1",
                              cwd=tmp_path)
    assert pooled.returncode == 1 and pooled.stderr == b"", pooled.stderr[-500:]
    assert json.loads(pooled.stdout) == json.loads(single.stdout)
    fixed = pipelint_process("fix", ".", "--isolated", cwd=tmp_path)
    assert fixed.returncode == 1 and b"internal error" not in fixed.stderr, fixed.stderr[-500:]
    assert b"\nFixed 180 problems in 180 files.\n" in fixed.stdout  # REG001 in 3 containers, 60 times


def test_every_report_pickles(tmp_path):
    """A worker sends reports back by pickle: no closure or live object may hide in a report, region or fix."""
    _every_container(tmp_path, 1)
    engine = console.engine_for(str(tmp_path))
    files, _ = engine.discover([str(tmp_path)])
    assert len(files) == 5
    for path in files:
        src = sourcelib.read(path)
        for keep in (False, True):
            report = engine.check_file(src, keep=keep)
            if not keep:  # what a worker sends back
                back = pickle.loads(pickle.dumps(report))
                assert [f.code for f in back.findings] == [f.code for f in report.findings]


# --- parse failures are never silent ---------------------------------------------------------------------
def test_a_heredoc_ended_early_is_an_error_not_silence(in_tmp):
    body = "".join(f"    {line}\n" for line in PIPELINE.splitlines())
    body = body.replace("      identifier: victim\n", "      identifier: victim\n      description: |\n"
                                                        "        a note\n        EOT\n        more\n", 1)
    (in_tmp / "main.tf").write_text(f'resource "harness_platform_pipeline" "p" {{\n  yaml = <<-EOT\n{body}  EOT\n}}\n')
    result = pipelint("check", "main.tf", "--isolated")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        "main.tf:9:9: error YML001 not valid Terraform (HCL) from here on, so the Harness resources in this file "
        "are not checked (a heredoc ended early by its own delimiter line?)")


def test_a_literal_retired_prefix_before_a_template_hole_is_reported(in_tmp):
    (in_tmp / "pipeline.yaml.tpl").write_text(PIPELINE.replace(RETIRED, "app.harness.io/registry/harness/ci-addon:${tag}"))
    result = pipelint("check", "pipeline.yaml.tpl", "--isolated", "--select", "REG001")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[0] == (
        'pipeline.yaml.tpl:20:28: error REG001 image "app.harness.io/registry/harness/ci-addon:…" is on the retired '
        "Harness registry app.harness.io/registry (end of life 15 May 2024); the rest of the reference is set at "
        "run time or by a template: replace app.harness.io/registry/ with public.ecr.aws/ by hand")


# --- image names a registry would refuse ----------------------------------------------------------------
@pytest.mark.parametrize("image", ["[1.2.3.4]/x/y:1", "alpine:ＡＢＣ", "Alpine:3", "a/" + "b" * 260 + ":1"])
def test_an_invalid_reference_is_a_finding_and_never_listed(in_tmp, image):
    (in_tmp / "p.yaml").write_text(PIPELINE.replace(RETIRED, json.dumps(image)))
    result = pipelint("check", "p.yaml", "--isolated", "--format", "json")
    assert [f["code"] for f in result.json()["findings"]] == ["IMG006"]
    listed = pipelint("images", "p.yaml", "--isolated", "--format", "json").json()
    assert listed["images"] == []
    assert pipelint("pin", "p.yaml", "--isolated", "--offline").stdout == "Pinned 0 images in 0 files.\n"


def test_an_ipv6_registry_in_both_mirror_layouts(in_tmp):
    (in_tmp / "p.yaml").write_text(PIPELINE.replace(RETIRED, '"[::1]:5000/x:1"'))
    (in_tmp / ".pipelint.toml").write_text('[rules.IMG005]\nmirror = "registry.example.com/m"\n')
    path = pipelint("mirror", "p.yaml", "--dry-run")
    assert path.exit_code == 0 and "[::1]:5000/x:1  registry.example.com/m/x:1" in path.stdout
    scoped = pipelint("mirror", "p.yaml", "--dry-run", "--layout", "scoped")
    assert scoped.exit_code == 1
    assert "the scoped layout has no name for an image from a registry with a port or an IPv6 address" in scoped.stdout
    assert scoped.stdout.endswith("0 images to copy to registry.example.com/m (scoped layout); 1 refused by the plan.\n")
    sync = pipelint("mirror", "p.yaml", "--emit-sync", "sync.yml", "--layout", "scoped")
    assert sync.exit_code == 1 and not os.path.exists("sync.yml")
    assert sync.stderr.startswith("pipelint: error: [::1]:5000/x:1: not in the sync files: the scoped layout")
    sync = pipelint("mirror", "p.yaml", "--emit-sync", "sync.yml")
    assert sync.exit_code == 0
    # YAML skopeo reads: the host a quoted key, not a flow sequence
    assert '"[::1]:5000":\n  images:\n    x:\n      - "1"\n' in Path("sync.yml").read_text()


def test_the_org_wide_autofixer_on_every_container_kind_keeps_each_clone_to_itself(tmp_path, git_env):
    """Real all-repos over file:// origins: a repository of every container kind (a few hundred files) is fixed
    and pushed; its Terraform reads a file of the clone beside it through file(), which stays as it was."""
    pytest.importorskip("all_repos", reason="pip install all-repos (the test extra has it)")
    tree = tmp_path / "tree"
    _every_container(tree, 40)  # 200 files
    (tree / "reach.tf").write_text(_tf('file("${path.module}/../victim/data/pipeline.txt")'))
    files = {str(p.relative_to(tree)): p.read_text() for p in tree.rglob("*") if p.is_file()}
    origins = {"evil": _origin(tmp_path, "evil", files),
               "victim": _origin(tmp_path, "victim", {"data/pipeline.txt": PIPELINE, "README.md": "x\n"})}
    heads = {name: _git(bare, "rev-parse", "main").strip() for name, bare in origins.items()}
    work = tmp_path / "all-repos"
    work.mkdir()
    (work / "repos.json").write_text(json.dumps({n: f"file://{b}" for n, b in origins.items()}))
    config = work / "all-repos.json"
    config.write_text(json.dumps({"output_dir": "output", "source": "all_repos.source.json_file",
                                  "source_settings": {"filename": "repos.json"},
                                  "push": "all_repos.push.merge_to_master", "push_settings": {"fast_forward": False}}))
    config.chmod(0o600)
    clone = subprocess.run([sys.executable, "-m", "all_repos.clone", "-C", str(config)], cwd=work,
                           capture_output=True, text=True)
    assert clone.returncode == 0, clone.stdout + clone.stderr
    run = subprocess.run([sys.executable, "-m", "pipelint.all_repos_fix", "-C", str(config), "--jobs", "1",
                          "--summary", "summary.json"],
                         cwd=work, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (work / "output" / "victim" / "data" / "pipeline.txt").read_text() == PIPELINE
    assert _git(origins["victim"], "rev-parse", "main").strip() == heads["victim"]
    diff = _git(origins["evil"], "diff", "--stat", heads["evil"], "main")
    assert "120 files changed" in diff  # REG001 in the YAML, the heredoc and the template of each copy
    summary = json.loads((work / "summary.json").read_text())
    evil, victim = summary["repositories"]
    assert evil["pushed"] and evil["error"] is None and evil["before"]["REG001"] == 120 and "REG001" not in evil["after"]
    assert victim == {"name": "victim", "harness": False, "before": {}, "after": {}, "pushed": False, "error": None}


def _peak_rss_kb(tree: Path) -> int:
    code = ("import atexit, resource, sys\n"
            "atexit.register(lambda: print('RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr))\n"
            "sys.argv = ['pipelint', 'check', '.', '--isolated', '--no-cache', '--exit-zero', '--jobs', '1', '-q']\n"
            "from pipelint.app.entry import run\nrun()\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, timeout=300)
    return int(run.stderr.rsplit("RSS", 1)[1].split()[0])


def test_memory_stays_flat_without_the_cyclic_collector(tmp_path):
    """check runs without Python's cyclic collector (issue 31); the one cycle YAML makes, a recursive anchor, is
    reclaimed after its file: 5x the files with recursive anchors do not take 5x the memory."""
    recursive = "pipeline:\n  identifier: p\n  tags: &t\n" + "".join(f"    k{i}: [{i}, *t]\n" for i in range(3000))
    peaks = []
    for n in (20, 100):
        tree = tmp_path / f"t{n}"
        (tree / ".harness").mkdir(parents=True)
        for i in range(n):
            (tree / ".harness" / f"p{i}.yaml").write_text(recursive)
        peaks.append(_peak_rss_kb(tree))
    assert peaks[1] < peaks[0] * 1.3, peaks

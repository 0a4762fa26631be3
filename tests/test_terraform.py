"""Harness YAML in Terraform (pipelint.terraform): the provider's `yaml`/`template_yaml` heredocs are regions of
the `.tf` file; every rule runs on them, findings carry the `.tf` file's lines and columns, fixes edit inside the
heredoc with its indentation and are verified on both layers, `${...}`/`%{...}` are holes."""
from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import CORPUS, FIXTURES, pipelint

TF = FIXTURES / "terraform"


def _copy(in_tmp):
    shutil.copy(TF / "main.tf", in_tmp / "main.tf")
    shutil.copy(TF / "pipelint.toml", in_tmp / ".pipelint.toml")


def test_findings_in_heredocs_carry_the_tf_file_s_positions(in_tmp, snapshot):
    _copy(in_tmp)
    result = pipelint("check", "main.tf", "--format", "concise", "--no-cache")
    assert result.exit_code == 1
    assert result.stdout == snapshot
    lines = (in_tmp / "main.tf").read_text().splitlines()
    for f in pipelint("check", "main.tf", "--format", "json", "--no-cache").json()["findings"]:
        assert lines[f["line"] - 1][f["column"] - 1:].split()[0].strip('"') in {
            "golang", "infrastructure:", "app.harness.io/registry/harness/drone-git:1.6.0"}


def test_fix_edits_inside_the_heredoc_byte_exactly_and_only_once(in_tmp):
    _copy(in_tmp)
    first = pipelint("fix", "main.tf")
    assert first.exit_code == 1 and "Fixed 2 problems in 1 file." in first.stdout
    assert (in_tmp / "main.tf").read_bytes() == (TF / "main.fixed.tf").read_bytes()
    again = pipelint("fix", "main.tf")
    assert "Fixed" not in again.stdout
    assert (in_tmp / "main.tf").read_bytes() == (TF / "main.fixed.tf").read_bytes()


def test_the_diff_applies_with_git(in_tmp):
    _copy(in_tmp)
    diff = pipelint("fix", "main.tf", "--diff").stdout
    subprocess.run(["git", "init", "-q"], cwd=in_tmp, check=True)
    (in_tmp / "fix.diff").write_text(diff)
    subprocess.run(["git", "apply", "fix.diff"], cwd=in_tmp, check=True)
    assert (in_tmp / "main.tf").read_bytes() == (TF / "main.fixed.tf").read_bytes()


def test_interpolations_are_never_sites_nor_edited(in_tmp):
    _copy(in_tmp)
    text = pipelint("check", "main.tf", "--format", "concise", "--select", "ALL", "--no-cache").stdout
    assert "var.go_version" not in text and "lint_image" not in text and "namespace" not in text


def test_a_tab_indented_heredoc_reads_as_hcl_does(in_tmp):
    """`<<-` removes the fewest leading white-space characters of any line, a tab counting one (HCL's spec
    suite, `tabs`): the provider's own template examples mix a tab-indented first line with spaces."""
    from pipelint.embed import terraform
    from pipelint.harness import sites as harness
    from pipelint.text import source

    path = next(CORPUS.glob("terraform/**/harness_platform_template/resource.tf"))
    kinds = [d.kind for r in terraform.regions(source.read(str(path))) for d in harness.documents(r)[0]]
    assert kinds == ["template"] * 21


def test_the_provider_examples_and_fix_leaves_them_alone(in_tmp):
    """One real problem: the trigger example's inputYaml is `pipeline: {}\\n` in a heredoc, where HCL keeps the
    backslash, so Harness gets YAML that does not parse."""
    shutil.copytree(CORPUS / "terraform", in_tmp / "tf")
    before = {p: p.read_bytes() for p in (in_tmp / "tf").rglob("*.tf")}
    found = pipelint("check", "tf", "--isolated", "--select", "ALL", "--format", "json").json()["findings"]
    assert [(f["path"].rsplit("/", 2)[-2], f["code"], f["line"], f["column"]) for f in found] == [
        ("harness_platform_triggers", "YML001", 37, 19)]
    assert found[0]["message"].startswith("the trigger's inputYaml is not an input set: invalid YAML")
    pipelint("fix", "tf", "--isolated", "--select", "ALL", "--unsafe-fixes")
    assert {p: p.read_bytes() for p in before} == before


def test_a_trigger_s_input_yaml_is_checked_as_an_input_set(in_tmp):
    ref = "harnessImageConnectorRef: org.mirror"
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "block.yaml").write_text(
        "trigger:\n  identifier: push\n  pipelineIdentifier: build\n  inputYaml: |\n    inputSet:\n"
        "      identifier: i\n      pipeline:\n        identifier: build\n        stages:\n          - stage:\n"
        "              identifier: build\n              spec:\n                infrastructure:\n"
        f"                  spec:\n                    {ref}\n")
    (in_tmp / ".harness" / "quoted.yaml").write_text(
        'trigger:\n  identifier: push\n  pipelineIdentifier: build\n  inputYaml: "pipeline:\\n  identifier: build\\n'
        '  stages:\\n    - stage:\\n        identifier: build\\n        spec:\\n          infrastructure:\\n'
        f'            spec:\\n              {ref}\\n"\n')
    found = pipelint("check", ".", "--isolated", "--format", "json").json()["findings"]
    got = {(f["path"].split("/")[-1], f["code"], f["line"]) for f in found}
    assert got == {("block.yaml", "CON002", 15), ("quoted.yaml", "CON002", 4)}  # no CON001: input sets hold values
    block = next(f for f in found if f["path"].endswith("block.yaml"))
    assert block["column"] == 47 and not block["fixable"]


def test_terraform_without_harness_resources_is_not_parsed(in_tmp):
    (in_tmp / "aws.tf").write_text('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n')
    code = ("import sys\nsys.argv = ['pipelint', 'check', 'aws.tf', '--isolated']\n"
            "from pipelint.app.entry import run\ntry:\n    run()\nexcept SystemExit:\n    pass\n"
            "print('tree_sitter' in sys.modules, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=in_tmp, capture_output=True, text=True, timeout=60)
    assert proc.stderr.strip() == "False"
    assert proc.stdout.startswith("No Harness configuration in the 1 file checked")


def test_the_cache_answers_the_same(in_tmp):
    _copy(in_tmp)
    cold = pipelint("check", "main.tf", "--format", "json", "--no-cache").json()["findings"]
    pipelint("check", ".", "--format", "json")
    warm = pipelint("check", ".", "--format", "json").json()["findings"]
    assert warm == cold


def test_the_cache_knows_whether_a_resource_reads_a_file(in_tmp):
    """A `.tpl` body is Harness YAML while a resource's file() reads it, and nothing otherwise. Its cache entry
    was keyed by its bytes alone: once no resource read it any more, the cache still reported its findings."""
    (in_tmp / "infra").mkdir()
    (in_tmp / "infra" / "p.tpl").write_text(
        "stages:\n  - stage:\n      identifier: s\n      type: CI\n      spec:\n        execution:\n"
        "          steps:\n            - step: {identifier: r, type: Run, spec: {image: alpine}}\n")
    reading = 'file("${path.module}/p.tpl")'
    for i in range(10):  # enough files for the cache
        (in_tmp / "infra" / f"m{i}.tf").write_text(
            f'resource "harness_platform_pipeline" "p{i}" {{\n  identifier = "p{i}"\n  yaml = {reading}\n}}\n')

    def both():
        warm = pipelint("check", ".", "--isolated", "--format", "json").json()["findings"]
        cold = pipelint("check", ".", "--isolated", "--format", "json", "--no-cache").json()["findings"]
        assert warm == cold
        return {(f["path"], f["code"]) for f in warm}

    assert both() == {("infra/p.tpl", "IMG001")}
    for tf in (in_tmp / "infra").glob("*.tf"):
        tf.write_text(tf.read_text().replace(reading, '"pipeline: {identifier: x}"'))
    assert both() == set()


def test_images_and_report_see_the_heredocs(in_tmp):
    _copy(in_tmp)
    rows = {r["image"]: r for r in pipelint("images", "main.tf", "--format", "json").json()["images"]}
    assert rows["golang"]["locations"] == ["main.tf:24:32"]
    assert rows["app.harness.io/registry/harness/drone-git:1.6.0"]["retired_registry"] is True
    report = pipelint("report", "main.tf").stdout
    assert ("1 image still comes from the retired registry app.harness.io/registry; 3 problems left, 2 of them "
            "fixable by `pipelint fix`.") in report


def test_docker_connector_resources_are_checked_and_fixed_inside_their_literals(in_tmp, snapshot):
    shutil.copy(TF / "connectors.tf", in_tmp / "connectors.tf")
    result = pipelint("check", "connectors.tf", "--isolated", "--format", "concise", "--select", "ALL")
    assert result.stdout == snapshot
    pipelint("fix", "connectors.tf", "--isolated")
    assert (in_tmp / "connectors.tf").read_bytes() == (TF / "connectors.fixed.tf").read_bytes()
    assert pipelint("check", "connectors.tf", "--isolated", "--select", "ALL").stdout == "All checks passed.\n"


def test_terraform_connectors_take_part_in_cross_file_rules(in_tmp):
    """REG004: a connector Harness Cloud stages pull through must connect through the Harness Platform; the
    connector is a Terraform resource, the Cloud stage a heredoc pipeline. Reported at the resource; the unsafe
    fix adds the attribute `execute_on_delegate = false` (in HCL) before the closing brace."""
    (in_tmp / "c.tf").write_text('resource "harness_platform_connector_docker" "harness_image" {\n'
                                 '  identifier = "harnessImage"\n  type       = "DockerHub"\n'
                                 '  url        = "https://registry.hub.docker.com"\n'
                                 '  credentials {\n    username     = "u"\n    password_ref = "account.p"\n  }\n}\n')
    (in_tmp / "p.tf").write_text(
        'resource "harness_platform_pipeline" "p" {\n  yaml = <<-EOT\n    pipeline:\n      identifier: p\n'
        '      stages:\n        - stage:\n            identifier: b\n            type: CI\n            spec:\n'
        '              runtime: {type: Cloud, spec: {}}\n              execution:\n                steps: []\n'
        '    EOT\n}\n')
    findings = pipelint("check", ".", "--isolated", "--format", "json", "--no-cache").json()["findings"]
    assert [(f["path"], f["code"], f["line"], f["fix"]["applicability"]) for f in findings] == [
        ("c.tf", "REG004", 1, "unsafe")]
    pipelint("fix", ".", "--isolated", "--unsafe-fixes")
    assert (in_tmp / "c.tf").read_text().endswith('  }\n\n  execute_on_delegate = false\n}\n')
    assert pipelint("check", ".", "--isolated").stdout == "All checks passed.\n"


def test_the_delegate_attribute_is_added_byte_exactly(in_tmp):
    """The fixture: the attribute after a `credentials {}` block, separated by a blank line (its own alignment
    group for `terraform fmt`); CRLF files get CRLF; a resource on one line keeps the finding without a fix."""
    shutil.copy(TF / "delegate.tf", in_tmp / "delegate.tf")
    pipelint("fix", "delegate.tf", "--isolated", "--unsafe-fixes")
    assert (in_tmp / "delegate.tf").read_bytes() == (TF / "delegate.fixed.tf").read_bytes()
    assert "Fixed" not in pipelint("fix", "delegate.tf", "--isolated", "--unsafe-fixes").stdout
    (in_tmp / "delegate.tf").write_bytes((TF / "delegate.tf").read_bytes().replace(b"\n", b"\r\n"))
    pipelint("fix", "delegate.tf", "--isolated", "--unsafe-fixes")
    assert (in_tmp / "delegate.tf").read_bytes() == (TF / "delegate.fixed.tf").read_bytes().replace(b"\n", b"\r\n")
    one_line = (TF / "delegate.tf").read_text().replace(
        '"harness_image" {\n  identifier = "harnessImage"\n', '"harness_image" { identifier = "harnessImage" }\nlocals {\n')
    (in_tmp / "delegate.tf").write_text(one_line)
    (f,) = pipelint("check", "delegate.tf", "--isolated", "--format", "json").json()["findings"]
    assert (f["code"], f["fix"]) == ("REG004", None)


# --- templated YAML: templatefile() sources and Harness YAML with `${...}` ----------------------------------
TPL = FIXTURES / "templated"


def test_a_templatefile_source_is_checked_with_its_holes(in_tmp, snapshot):
    shutil.copy(TPL / "pipeline.yaml.tpl", in_tmp / "pipeline.yaml.tpl")
    shutil.copy(TPL / "pipelint.toml", in_tmp / ".pipelint.toml")
    result = pipelint("check", ".", "--format", "concise", "--no-cache")
    assert result.stdout == snapshot  # no finding on ${registry}/golang, none on the `%{ if }` lines
    pipelint("fix", ".")
    assert (in_tmp / "pipeline.yaml.tpl").read_bytes() == (TPL / "pipeline.fixed.yaml.tpl").read_bytes()
    assert "Fixed" not in pipelint("fix", ".").stdout


def test_holes_keep_positions_and_escapes_are_not_holes():
    from pipelint.embed import templated

    text = 'a: ${x}\nb: "$${HOME}"\n%{ if y }\nc: ${f("}")}\n'
    spans = templated.holes(text)
    assert [text[a:b] for a, b in spans] == ["${x}", "%{ if y }", '${f("}")}']
    masked = templated.mask(text, spans)
    assert len(masked) == len(text) and masked.splitlines()[2].startswith("#")
    assert "$${HOME}" in masked


def test_interpolations_in_harness_yaml_are_holes(in_tmp):
    """A `.harness/` file with `${...}` (a templatefile() source kept as .yaml): an image holding one is an
    expression, never reported or rewritten."""
    (in_tmp / ".harness").mkdir()
    (in_tmp / ".harness" / "p.yaml").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
        "        spec:\n          execution:\n            steps:\n"
        "              - step: {identifier: s, type: Run, spec: {image: '${registry}/app'}}\n")
    assert pipelint("check", ".", "--isolated", "--no-cache").stdout == "All checks passed.\n"


def test_fingerprints_name_the_terraform_resource(in_tmp):
    """A baseline entry names the resource (`harness_platform_pipeline.build...`): it survives lines added above."""
    import json

    _copy(in_tmp)
    assert pipelint("check", "main.tf", "--write-baseline", "b.json").exit_code == 0
    paths = {e["code"]: e["yaml_path"] for e in json.loads((in_tmp / "b.json").read_text())["findings"]}
    assert paths["IMG001"].startswith("harness_platform_pipeline.build.pipeline.stages[build]")
    assert paths["REG001"].startswith("harness_platform_template.step.template.spec")
    (in_tmp / "main.tf").write_text("# a comment\n\n" + (in_tmp / "main.tf").read_text())
    assert pipelint("check", "main.tf", "--baseline", "b.json").exit_code == 0


def test_terraform_fmt_clean_files_stay_clean(in_tmp):
    """`terraform fmt -check` passes on the fixtures before and after `fix` and `pin`'s edits (values change
    inside literals, new heredoc lines take the heredoc's indentation)."""
    import os

    terraform = shutil.which("terraform")
    if terraform is None:
        import pytest

        pytest.skip("terraform is not installed")
    for name in ("main.tf", "main.fixed.tf", "connectors.tf", "connectors.fixed.tf", "delegate.tf", "delegate.fixed.tf"):
        shutil.copy(TF / name, in_tmp / name)
        proc = subprocess.run([terraform, "fmt", "-check", name], cwd=in_tmp, capture_output=True, text=True,
                              env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull}, timeout=60)
        assert proc.returncode == 0, (name, proc.stdout, proc.stderr)


def test_yaml_in_a_quoted_hcl_string_is_checked_at_the_string(in_tmp):
    (in_tmp / "q.tf").write_text(
        'resource "harness_platform_template" "t" {\n  identifier    = "t"\n'
        '  template_yaml = "template:\\n  identifier: t\\n  versionLabel: v1\\n  type: Step\\n  spec:\\n'
        '    type: Run\\n    spec:\\n      image: alpine\\n      command: \\"echo ${var.x}\\"\\n"\n}\n')
    (f,) = pipelint("check", "q.tf", "--isolated", "--format", "json", "--no-cache").json()["findings"]
    assert (f["code"], f["line"], f["column"], f["fixable"]) == ("IMG001", 3, 19, False)
    assert pipelint("fix", "q.tf", "--isolated").exit_code == 1  # nothing to fix: the string is left alone
    (in_tmp / "q.tf").write_text((in_tmp / "q.tf").read_text().replace("image: alpine", "image: app.harness.io/registry/harness/ci-addon:1.16.4"))
    (f,) = pipelint("check", "q.tf", "--isolated", "--format", "json", "--no-cache").json()["findings"]
    assert (f["code"], f["fix"]) == ("REG001", None)  # it would have one in a plain file, and it says why not
    assert f["message"].endswith("(no automatic fix: the YAML is a quoted string, where an edit would have to keep every escape)")


def test_files_a_resource_reads_are_checked_as_harness_yaml(in_tmp):
    """`yaml = templatefile("${path.module}/p.tpl", {...})` names a YAML source the walk would not pick (no YAML
    suffix): it is checked, with its holes, and a headless body is read as the resource's."""
    (in_tmp / "infra").mkdir()
    (in_tmp / "infra" / "main.tf").write_text(
        'resource "harness_platform_pipeline" "p" {\n  identifier = "p"\n'
        '  yaml       = templatefile("${path.module}/p.tpl", { registry = var.registry })\n}\n'
        'resource "harness_platform_input_set" "i" {\n  identifier = "i"\n  yaml = file("inputs.txt")\n}\n')
    (in_tmp / "infra" / "p.tpl").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: s\n        type: CI\n"
        "        spec:\n          execution:\n            steps:\n"
        "              - step: {identifier: a, type: Run, spec: {image: '${registry}/tool'}}\n"
        "              - step: {identifier: b, type: Run, spec: {image: alpine}}\n")
    (in_tmp / "infra" / "inputs.txt").write_text("inputSet:\n  identifier: i\n  pipeline:\n    identifier: p\n")
    found = pipelint("check", "infra", "--isolated", "--format", "json", "--no-cache").json()
    assert [(f["path"], f["code"], f["line"]) for f in found["findings"]] == [("infra/p.tpl", "IMG001", 11)]
    assert found["files_checked"] == 3


@pytest.mark.parametrize("what", ["does not exist", "is not a file"])
def test_a_file_a_resource_reads_that_is_not_there_is_said(in_tmp, what):
    """A file()/templatefile() path to nothing (a typo, a file not committed) or to a folder left the resource's
    pipeline unchecked without a word; Terraform itself would stop there. One warning names it now."""
    (in_tmp / "infra").mkdir()
    (in_tmp / "infra" / "main.tf").write_text(
        'resource "harness_platform_pipeline" "p" {\n  identifier = "p"\n'
        '  yaml       = file("${path.module}/pipline.yaml")\n}\n')
    if what == "is not a file":
        (in_tmp / "infra" / "pipline.yaml").mkdir()
    result = pipelint("check", ".", "--isolated", "--no-cache")
    assert result.exit_code == 0
    assert result.stderr == (f"pipelint: warning: infra/main.tf:3:21: harness_platform_pipeline.p: not read: "
                             f"${{path.module}}/pipline.yaml {what}\n")


@pytest.mark.parametrize("call", ["yamlencode", "jsonencode"])
def test_a_pipeline_written_as_hcl_values_is_said_to_be_unchecked(in_tmp, call):
    """`yaml = yamlencode({ pipeline = {...} })` holds the pipeline as HCL values, which pipelint does not read:
    its retired-registry image went unreported without a word. A warning names the resource now; a variable
    (a module's input, checked where it is given) stays silent."""
    (in_tmp / "main.tf").write_text(
        'resource "harness_platform_pipeline" "p" {\n  identifier = "p"\n'
        f'  yaml = {call}({{ pipeline = {{ identifier = "p", stages = [{{ stage = {{ spec = {{ image = '
        '"app.harness.io/registry/harness/ci-addon:1.16.4" } } }] } })\n}\n'
        'resource "harness_platform_pipeline" "q" {\n  identifier = "q"\n  yaml       = var.pipeline_yaml\n}\n')
    result = pipelint("check", ".", "--isolated", "--no-cache")
    assert result.exit_code == 0
    assert result.stderr == (f"pipelint: warning: main.tf:3:10: harness_platform_pipeline.p: not checked: its YAML is "
                             f"{call}(...), HCL values pipelint does not read (a heredoc or a file() it does)\n")


def test_a_mixed_tree_is_checked_at_outer_positions_and_fixed_byte_exactly_once(in_tmp):
    """Plain YAML, Terraform connectors and heredoc pipelines, a templatefile() source, a trigger with
    inputYaml and a stage fragment, in one run: every problem at its file's own line and column, `fix` gives
    exactly the expected bytes, a second `fix` changes nothing."""
    tree = in_tmp / "repo"
    (tree / ".harness" / "stages").mkdir(parents=True)
    shutil.copy(TF / "main.tf", tree / "main.tf")
    shutil.copy(TF / "connectors.tf", tree / "connectors.tf")
    shutil.copy(TPL / "pipeline.yaml.tpl", tree / "pipeline.yaml.tpl")
    shutil.copy(FIXTURES / "CON001" / "bad_stage_fragment" / ".harness" / "stages" / "build.yaml",
                tree / ".harness" / "stages" / "build.yaml")
    shutil.copy(FIXTURES / "CON001" / "bad_kubernetes.yaml", tree / ".harness" / "plain.yaml")
    (tree / ".harness" / "trigger.yaml").write_text(
        "trigger:\n  identifier: push\n  pipelineIdentifier: build\n  inputYaml: |\n    inputSet:\n"
        "      identifier: i\n      pipeline:\n        identifier: build\n        stages:\n          - stage:\n"
        "              identifier: build\n              spec:\n                infrastructure:\n"
        "                  spec:\n                    harnessImageConnectorRef: org.mirror\n")
    (tree / ".pipelint.toml").write_text('[rules.CON001]\nimage-connector = "account.mirror"\n')
    found = pipelint("check", "repo", "--format", "json", "--no-cache").json()["findings"]
    for f in found:  # every finding points at text of its own file that it names
        line = (in_tmp / f["path"]).read_text().splitlines()[f["line"] - 1]
        assert line[f["column"] - 1:].strip(), f
    where = {(f["path"].removeprefix("repo/"), f["code"], f["line"], f["column"]) for f in found}
    assert ("main.tf", "IMG001", 24, 32) in where and ("connectors.tf", "REG001", 5, 16) in where
    assert (".harness/trigger.yaml", "CON002", 15, 47) in where
    assert (".harness/stages/build.yaml", "CON001", 7, 7) in where
    pipelint("fix", "repo")
    expected = {
        "main.tf": (TF / "main.fixed.tf").read_bytes(),
        "connectors.tf": (TF / "connectors.fixed.tf").read_bytes(),
        "pipeline.yaml.tpl": (TPL / "pipeline.fixed.yaml.tpl").read_bytes(),
        ".harness/stages/build.yaml": (FIXTURES / "CON001" / "bad_stage_fragment" / ".harness" / "stages"
                                       / "build.fixed.yaml").read_bytes().replace(b"harnessImageMirror", b"mirror"),
    }
    for rel, data in expected.items():
        assert (tree / rel).read_bytes() == data, rel
    after = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file() and ".pipelint_cache" not in p.parts}
    assert "Fixed" not in pipelint("fix", "repo").stdout
    assert {p: p.read_bytes() for p in after} == after


def test_a_cross_file_fix_on_a_terraform_connector_is_tried_on_its_region(in_tmp):
    """REG004 with `execute_on_delegate = true`: the unsafe fix turns the literal to false, verified on the
    connector's region and on the file; with the attribute absent there is no fix (HCL would need a new line)."""
    connector = ('resource "harness_platform_connector_docker" "harness_image" {\n'
                 '  identifier          = "harnessImage"\n  type                = "DockerHub"\n'
                 '  url                 = "https://registry.hub.docker.com"\n  execute_on_delegate = true\n'
                 '  credentials {\n    username     = "u"\n    password_ref = "account.p"\n  }\n}\n')
    (in_tmp / "c.tf").write_text(connector)
    (in_tmp / "p.tf").write_text(
        'resource "harness_platform_pipeline" "p" {\n  yaml = <<-EOT\n    pipeline:\n      identifier: p\n'
        '      stages:\n        - stage:\n            identifier: b\n            type: CI\n            spec:\n'
        '              runtime: {type: Cloud, spec: {}}\n              execution:\n                steps: []\n'
        '    EOT\n}\n')
    (f,) = pipelint("check", ".", "--isolated", "--format", "json", "--no-cache").json()["findings"]
    assert (f["code"], f["line"], f["column"], f["fix"]["applicability"]) == ("REG004", 5, 25, "unsafe")
    pipelint("fix", ".", "--isolated", "--unsafe-fixes")
    assert (in_tmp / "c.tf").read_text() == connector.replace("execute_on_delegate = true", "execute_on_delegate = false")
    assert pipelint("check", ".", "--isolated").stdout == "All checks passed.\n"


def test_ignore_comments_in_hcl_above_an_attribute_or_resource(in_tmp):
    """`# pipelint: ignore[...]` or `// ...` on the lines above a resource or its yaml attribute covers every
    line of it; without the comments the same file has three findings."""
    text = (TF / "suppressed.tf").read_text()
    (in_tmp / "s.tf").write_text(text)
    assert pipelint("check", "s.tf", "--isolated", "--no-cache").stdout == "All checks passed.\n"
    unused = pipelint("check", "s.tf", "--isolated", "--no-cache", "--extend-select", "YML005", "--format", "json")
    assert unused.json()["findings"] == []  # every comment was needed
    bare = "\n".join(line for line in text.splitlines() if "pipelint: ignore" not in line) + "\n"
    (in_tmp / "s.tf").write_text(bare)
    codes = sorted(f["code"] for f in pipelint("check", "s.tf", "--isolated", "--no-cache", "--format", "json")
                   .json()["findings"])
    assert codes == ["CON001", "IMG001", "REG001"]


def test_a_heredoc_ends_where_its_delimiter_line_says():
    """_closing_line finds a heredoc's end by searching for the identifier; on random texts it gives what the line
    pattern `^[ \\t]*IDENT[ \\t]*\\r?$` (searched from a line start) gives."""
    import random
    import re

    from pipelint.embed.terraform import _closing_line

    rng = random.Random(310)
    alphabet = [b"E", b"O", b"T", b"EOT", b" ", b"\t", b"\r", b"\n", b"\n", b"x"]
    found = 0
    for _ in range(20000):
        data = b"".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 30)))
        ident = rng.choice([b"EOT", b"E", b"EE"])
        starts = [0] + [i + 1 for i, c in enumerate(data) if c == 10]
        start = rng.choice(starts)
        m = re.compile(rb"^[ \t]*" + re.escape(ident) + rb"[ \t]*\r?$", re.MULTILINE).search(data, start)
        assert _closing_line(data, ident, start) == ((m.start(), m.end()) if m else None), (data, ident, start)
        found += m is not None
    assert 500 < found < 19500  # found and not found, both often


def _nodes_outside(tree, bodies):
    out = []
    stack = [tree.root_node]
    while stack:
        n = stack.pop()
        if n.type != "template_literal" and not any(s <= n.start_byte and n.end_byte <= e for s, e in bodies):
            out.append((n.type, n.start_byte, n.end_byte))
        stack.extend(n.children)
    return sorted(out)


@pytest.mark.parametrize("text,skipping", [
    (None, 8),  # the repository's .tf files: at least 8 of them read with their heredocs skipped
    (b'# x = <<EOT\nlocals {\n  a = 1\n}\nEOT\n', 0),  # a heredoc opener in a comment: read whole
    (b'a = <<-EOT\n    k: v\n    EOT\nb = <<EOT\nEOT\nc = <<X\n${var.y}\nX\n', 1),
])
def test_tree_sitter_skips_heredoc_bodies_and_sees_the_rest_as_a_whole_parse(text, skipping):
    """tree-sitter reads a `.tf` file with its heredocs' bodies left out (its included ranges): every node outside
    them is the node a parse of the whole text gives, at the same bytes, and nothing inside them is parsed."""
    import tree_sitter
    import tree_sitter_hcl

    from pipelint.embed import terraform

    whole = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    texts = [text] if text is not None else [p.read_bytes() for base in (FIXTURES, CORPUS)
                                             for p in sorted(base.rglob("*.tf"))]
    skipped = 0
    for data in texts:
        bodies = terraform._heredoc_bodies(data)
        terraform._last = None
        tree = terraform._parse(data)
        assert _nodes_outside(tree, bodies) == _nodes_outside(whole.parse(data), bodies)
        inside = [n for n in _nodes_outside(tree, []) if any(s <= n[1] and n[2] <= e for s, e in bodies)]
        skipped += bool(bodies) and not inside
    assert skipped >= skipping if text is None else skipped == skipping


def test_byte_offsets_become_character_offsets_as_decoding_says():
    """_CharOffsets maps tree-sitter's byte offsets to the text's by a binary search over the multi-byte characters
    (decoding the prefix each time made a large file quadratic); at every character boundary of random texts it
    gives what decoding the bytes before the offset gives."""
    import random

    from pipelint.embed.terraform import _CharOffsets

    rng = random.Random(4)
    for _ in range(300):
        text = "".join(rng.choice(["a", " ", "\n", "é", "中", "😀", "=", '"']) for _ in range(rng.randrange(0, 60)))
        data = text.encode("utf-8")
        chars = _CharOffsets(data, text)
        boundaries = [len(text[:i].encode("utf-8")) for i in range(len(text) + 1)]
        assert [chars(b) for b in boundaries] == [len(data[:b].decode("utf-8")) for b in boundaries]


@pytest.mark.parametrize("blank", ["", "  "], ids=["empty", "less-whitespace-than-the-indentation"])
def test_a_line_inserted_before_a_blank_line_of_a_heredoc_carries_the_heredoc_s_indentation(blank, in_tmp):
    """A blank line in a `<<-` heredoc has no indentation in the .tf file, or less: a key inserted at its start
    (CON001, after the mapping's last line) was written without the heredoc's indentation, which then read as
    other YAML, and fix ended in an internal error (found by the mutation fuzzer)."""
    (in_tmp / ".pipelint.toml").write_text('[rules.CON001]\nimage-connector = "account.mirror"\n')
    body = ("    pipeline:\n      identifier: p\n      stages:\n        - stage:\n            identifier: b\n"
            "            type: CI\n            spec:\n              infrastructure:\n                type: KubernetesDirect\n"
            "                spec:\n                  connectorRef: account.k8s\nINSERTEDBLANK\n              execution:\n"
            "                steps: []\n")
    tf = ('resource "harness_platform_pipeline" "p" {\n  identifier = "p"\n  name       = "p"\n  org_id     = "default"\n'
          '  project_id = "ci"\n  yaml       = <<-EOT\nBODY  EOT\n}\n')
    body = body.replace("BLANK", blank)
    (in_tmp / "main.tf").write_text(tf.replace("BODY", body.replace("INSERTED", "")))
    check = pipelint("check", ".")
    assert "[*] build stage" in check.stdout
    result = pipelint("fix", ".")
    assert result.stderr == "" and result.exit_code == 0, result.stderr
    assert (in_tmp / "main.tf").read_text() == tf.replace("BODY", body.replace(
        "INSERTED", "                  harnessImageConnectorRef: account.mirror\n"))

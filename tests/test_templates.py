"""Templates read as Terraform renders them (issue 28): the real files of Harness's template library in
tests/corpus/templates (block insertions, if/else arms, sibling ifs; findings checked by hand), the same text as a
heredoc and as a template file, interpolations that span lines, messages that quote the template, and fixes
offered only where they are right in every rendering."""

from __future__ import annotations

import shutil

import pytest
from conftest import CORPUS, pipelint

LIBRARY = CORPUS / "templates" / "harness" / "harness-template-library"

# Every finding of the real files, with every rule selected, checked by hand against each file: `bash` is the one
# image without a tag; every other image is a template hole, every stage's infrastructure a `${...}` block.
EXPECTED = [
    ("delegate-image-factory/templates/pipelines/pipe_Harness_Delegate_Image_Factory.yaml", 34, 28, "IMG001"),
]


def test_the_template_library_is_read_as_terraform_renders_it(in_tmp):
    shutil.copytree(LIBRARY, in_tmp / "lib")
    data = pipelint("check", "lib", "--isolated", "--no-cache", "--select", "ALL", "--ignore", "IMG005,IMG003",
                    "--format", "json").json()
    found = sorted((f["path"].removeprefix("lib/"), f["line"], f["column"], f["code"]) for f in data["findings"])
    assert found == EXPECTED
    assert data["files_checked"] == 7 and data["errors"] == []


def _heredoc(template: str) -> str:
    body = "".join(f"    {line}" if line.strip() else line for line in template.splitlines(True))
    return f'resource "harness_platform_pipeline" "p" {{\n  identifier = "p"\n  yaml = <<-EOT\n{body}  EOT\n}}\n'


HEREDOC_OFFSET = 3  # lines above the heredoc's first line


@pytest.mark.parametrize("name", [
    "ci-module-primer/templates/stages/sta_ci_stage.yaml",
    "ci-module-primer/templates/step_groups/stg_build_and_scan_container_image.yaml",
    "delegate-image-factory/templates/pipelines/pipe_Harness_Delegate_Image_Factory.yaml",
])
def test_the_same_text_gives_the_same_findings_in_a_heredoc(in_tmp, name):
    text = (LIBRARY / name).read_text()
    (in_tmp / "t.yaml.tpl").write_text(text)
    (in_tmp / "main.tf").write_text(_heredoc(text))
    as_file = pipelint("check", "t.yaml.tpl", "--isolated", "--no-cache", "--format", "json").json()["findings"]
    in_tf = pipelint("check", "main.tf", "--isolated", "--no-cache", "--format", "json").json()["findings"]
    assert [(f["code"], f["line"], f["column"]) for f in as_file] == [
        (f["code"], f["line"] - HEREDOC_OFFSET, f["column"] - 4) for f in in_tf]


TEMPLATE = """\
pipeline:
  name: ${name}
  identifier: ${identifier}
  variables: ${jsonencode([
    { name = "a", type = "String", value = "1" },
  ])}
  stages:
    - stage:
        name: build
        identifier: ${stage_id}
        type: CI
        spec:
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s
              namespace: ci
%{ if with_mirror ~}
              harnessImageConnectorRef: account.mirror
%{ else ~}
              harnessImageConnectorRef: account.harnessImage
%{ endif ~}
          execution:
            steps:
              - step:
                  type: Run
                  identifier: always
                  spec:
                    image: app.harness.io/registry/harness/ci-addon:1.16.4
%{ if with_clone ~}
              - step:
                  type: Run
                  identifier: clone
                  spec:
                    image: app.harness.io/registry/harness/drone-git:1.6.0
%{ endif ~}
${EXTRA_STEPS}
"""


def test_arms_interpolations_and_messages(in_tmp):
    (in_tmp / "p.yaml.tpl").write_text(TEMPLATE)
    result = pipelint("check", "p.yaml.tpl", "--isolated", "--no-cache")
    # no duplicate key across the arms, no YML001 for the block insertion or the multi-line jsonencode, each
    # finding once though both renderings hold the first step
    assert result.stdout.splitlines()[:2] == [
        'p.yaml.tpl:29:28: error REG001 [*] image "app.harness.io/registry/harness/ci-addon:1.16.4" is on the retired '
        "Harness registry app.harness.io/registry (end of life 15 May 2024)",
        'p.yaml.tpl:35:28: error REG001 [*] image "app.harness.io/registry/harness/drone-git:1.6.0" is on the retired '
        "Harness registry app.harness.io/registry (end of life 15 May 2024)"]
    assert result.stdout.splitlines()[2] == "Found 2 problems in 1 file (2 errors; 2 fixable)."
    fixed = pipelint("fix", "p.yaml.tpl", "--isolated")
    assert fixed.exit_code == 0 and fixed.stdout.startswith("Fixed 2 problems in 1 file.")
    text = (in_tmp / "p.yaml.tpl").read_text()
    assert text == TEMPLATE.replace("app.harness.io/registry/harness/", "public.ecr.aws/harness/")


def test_a_message_quotes_the_template_not_its_mask(in_tmp):
    (in_tmp / "p.yaml.tpl").write_text(TEMPLATE.replace("              harnessImageConnectorRef: account.mirror\n", "")
                                       .replace("              harnessImageConnectorRef: account.harnessImage\n", ""))
    result = pipelint("check", "p.yaml.tpl", "--isolated", "--no-cache", "--select", "CON001")
    assert result.stdout.splitlines()[0] == (
        'p.yaml.tpl:13:11: warning CON001 build stage "${stage_id}" (KubernetesDirect infrastructure) has no '
        "harnessImageConnectorRef: Harness images are pulled through account.harnessImage")


def test_a_key_only_one_arm_sets_is_reported_in_that_arm_and_a_plain_tpl_is_walked(in_tmp):
    (in_tmp / "modules" / "ci").mkdir(parents=True)
    (in_tmp / "modules" / "ci" / "pipeline.tpl").write_text(TEMPLATE.replace(
        "              harnessImageConnectorRef: account.harnessImage\n", ""))
    (in_tmp / "notes.tpl").write_text("Hello ${name}, this is not YAML: {{ }} [\n")  # no root key: not ours
    data = pipelint("check", ".", "--isolated", "--no-cache", "--select", "CON001", "--format", "json").json()
    assert data["files_checked"] == 2
    (f,) = data["findings"]
    assert (f["path"], f["line"], f["column"]) == ("modules/ci/pipeline.tpl", 13, 11)  # the else arm lacks it

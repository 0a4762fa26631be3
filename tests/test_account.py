"""`pipelint account pull/check/fix/push` against a stand-in for Harness's API on 127.0.0.1 (tests/harness_standin.py:
Harness itself cannot run here; the stand-in follows its published sources and checks every request)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import pipelint
from harness_standin import ACCOUNT, KEY, StandIn


@pytest.fixture
def harness():
    server = StandIn()
    yield server
    server.stop()


def _env(harness, key=KEY):
    return {"HARNESS_API_KEY": key, "HARNESS_ENDPOINT": harness.endpoint, "HARNESS_ACCOUNT_ID": ""}


def test_pull_check_fix_push(harness, in_tmp):
    env = _env(harness)
    pulled = pipelint("account", "pull", "acct", env=env)
    assert pulled.exit_code == 0, pulled.stdout + pulled.stderr
    assert pulled.stdout.splitlines()[0].startswith("Pulled 11 files into acct")
    for remote in ("pipeline default/payments/synced is Git-synced (payments-ci:.harness/synced.yaml)",
                   "inputSet default/payments/build/fromGit is Git-synced (payments-ci:.harness/input.yaml)",
                   "template account/golden@v1 is Git-synced (templates:.harness/golden.yaml)"):
        assert f"not pulled: {remote}" in pulled.stdout
    # every list followed page by page (pages of one item), the first 429 waited out, the account on every call
    assert all(q.get("accountIdentifier") == ACCOUNT and h.get("x-api-key") == KEY for _, _, q, h in harness.requests)
    files = sorted(str(p.relative_to(in_tmp / "acct")) for p in (in_tmp / "acct").rglob("*.yaml"))
    assert files == ["account/ci-execution-config/K8.yaml", "account/ci-execution-config/VM.yaml",
                     "account/connectors/harnessImage.yaml", "orgs/default/connectors/orgMirror.yaml",
                     "orgs/default/projects/payments/connectors/dockerhub.yaml",
                     "orgs/default/projects/payments/pipelines/build.yaml",
                     "orgs/default/projects/payments/pipelines/build/input-sets/nightly.yaml",
                     "orgs/default/projects/payments/pipelines/build/triggers/onPush.yaml",
                     "orgs/default/projects/payments/pipelines/deploy.yaml",
                     "orgs/default/projects/payments/templates/buildStage/1.0.yaml",
                     "orgs/default/projects/payments/templates/buildStage/2.0.yaml"]

    check = pipelint("check", "acct", "--isolated", "--no-cache")
    lines = check.stdout.splitlines()
    assert any(line.startswith("acct/account/connectors/harnessImage.yaml:") and " REG001 [*] " in line for line in lines)
    assert any(line.startswith("acct/orgs/default/projects/payments/pipelines/build.yaml:") and " CON001 " in line
               for line in lines)
    assert any(line.startswith("acct/account/ci-execution-config/K8.yaml:") and " IMG002 " in line
               and "harness/drone-git:latest" in line for line in lines)
    project = "acct/orgs/default/projects/payments/"
    for where, code in (("templates/buildStage/1.0.yaml:23:24", "REG001 [*]"),
                        ("pipelines/build/input-sets/nightly.yaml:16:43", "CON002"),
                        ("pipelines/build/triggers/onPush.yaml:23:19", "YML006 [~]")):  # inside the inputYaml
        assert any(line.startswith(project + where) and f" {code} " in line for line in lines), where

    # problems without a fix remain; the trigger's typo is fixed inside its inputYaml
    assert pipelint("fix", "acct", "--isolated", "--unsafe-fixes").exit_code == 1
    before = harness.snapshot()
    dry = pipelint("account", "push", "acct", env=env)
    assert harness.snapshot() == before and harness.writes == []  # the dry run writes nothing
    assert "-    dockerRegistryUrl: https://app.harness.io/registry\n" in dry.stdout
    assert "account/connectors/harnessImage.yaml: would write: connector account/harnessImage" in dry.stdout

    harness.change("default", "payments", "build")  # someone edits a pipeline in Harness meanwhile
    harness.templates[("default", "payments", "buildStage", "2.0")]["version"] += 1  # saved again, same text
    harness.deny.add("deploy")
    (in_tmp / "acct/orgs/default/projects/payments/pipelines/build.yaml").write_text("pipeline: {}\n")
    (in_tmp / "acct/orgs/default/projects/payments/pipelines/deploy.yaml").write_text(
        (in_tmp / "acct/orgs/default/projects/payments/pipelines/deploy.yaml").read_text().replace("golang:1.22",
                                                                                                   "golang:1.23"))
    (in_tmp / "acct/orgs/default/projects/payments/pipelines/synced.yaml").write_text("pipeline: {}\n")
    pushed = pipelint("account", "push", "acct", "--apply", env=env)
    assert pushed.exit_code == 1
    assert harness.connectors[(None, None, "harnessImage")]["spec"]["dockerRegistryUrl"] == \
        "https://public.ecr.aws/harness"
    assert "ci-edited-in-harness" in harness.pipelines[("default", "payments", "build")]["yaml"]  # left alone
    assert "golang:1.22" in harness.pipelines[("default", "payments", "deploy")]["yaml"]  # denied: not saved
    assert harness.pipelines[("default", "payments", "synced")]["version"] == 1  # never written
    assert "harnessImageConnectorRef: account.harnessImage" in \
        harness.triggers[("default", "payments", "build", "onPush")]["yaml"]
    assert "public.ecr.aws/harness/drone-git" in \
        harness.templates[("default", "payments", "buildStage", "1.0")]["yaml"]
    assert "app.harness.io/registry" in harness.templates[("default", "payments", "buildStage", "2.0")]["yaml"]
    assert sorted(harness.writes) == [("connector", "harnessImage"), ("template", "buildStage@1.0"),
                                      ("trigger", "onPush")]
    errors = pushed.stderr.splitlines()
    assert ("pipelint: error: orgs/default/projects/payments/pipelines/build.yaml: changed in Harness: pipeline "
            "default/payments/build changed in Harness since the pull; pull again") in errors
    assert ("pipelint: error: orgs/default/projects/payments/pipelines/deploy.yaml: denied: pipeline "
            "default/payments/deploy not written: policy 'no retired registry' denies this pipeline") in errors
    assert any("synced.yaml: refused: Git-synced (REMOTE)" in e for e in errors)
    assert ("pipelint: error: orgs/default/projects/payments/templates/buildStage/2.0.yaml: changed in Harness: "
            "template default/payments/buildStage@2.0 changed in Harness since the pull; pull again") in errors
    assert "account/connectors/harnessImage.yaml: written: connector account/harnessImage" in pushed.stdout
    # the key is in no file and no output
    for path in (in_tmp / "acct").rglob("*"):
        if path.is_file():
            assert KEY not in path.read_text() and "s3cr3t" not in path.read_text()
    for run in (pulled, check, dry, pushed):
        assert "s3cr3t" not in run.stdout + run.stderr


def test_a_refused_key_and_a_silent_server_are_one_line(harness, in_tmp):
    bad = pipelint("account", "pull", "acct", env=_env(harness, "pat.acct123.tok.wrong"))
    assert bad.exit_code == 2
    assert bad.stderr.startswith("pipelint: error: ") and "the API key was refused (401)" in bad.stderr
    assert "wrong" not in bad.stderr and len(bad.stderr.splitlines()) == 1
    missing = pipelint("account", "pull", "acct", env={"HARNESS_API_KEY": ""})
    assert missing.stderr == "pipelint: error: HARNESS_API_KEY is not set: a personal or service-account token of the account\n"
    insecure = pipelint("account", "pull", "acct", "--endpoint", "http://harness.example.com/gateway",
                        env=_env(harness))
    assert insecure.exit_code == 2 and "must be an https:// URL" in insecure.stderr
    harness.hang = True
    code = ("import sys\nfrom pipelint.api.client import Client, ApiError\n"
            f"c = Client({harness.endpoint!r}, {KEY!r}, {ACCOUNT!r}, timeout=1, deadline=3)\n"
            "try:\n    c.call('GET', '/ng/api/organizations', {'pageIndex': 0, 'pageSize': 1})\n"
            "except ApiError as e:\n    print(e)\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         env=dict(os.environ))
    assert run.stdout.startswith("GET /ng/api/organizations: ") and "timed out" in run.stdout
    harness.hang = False


def test_the_execution_config_pins_images_and_images_lists_them(harness, in_tmp):
    assert pipelint("account", "pull", "acct", env=_env(harness)).exit_code == 0
    k8 = Path("acct/account/ci-execution-config/K8.yaml")
    assert "gitCloneTag:\n      image: harness/drone-git:latest\n      overridden: false\n" in k8.read_text()
    listed = pipelint("images", "acct", "--isolated", "--format", "json").json()["images"]
    assert {"harness/ci-addon:1.16.4", "harness/drone-git:latest"} <= {i["image"] for i in listed}
    k8.write_text(k8.read_text().replace("harness/drone-git:latest", "harness/drone-git:1.6.0"))
    pushed = pipelint("account", "push", "acct", "--apply", env=_env(harness))
    assert pushed.exit_code == 0, pushed.stderr
    assert harness.overrides["K8"]["gitCloneTag"] == "harness/drone-git:1.6.0"


def test_a_manifest_cannot_point_push_outside_its_folder(harness, in_tmp):
    import json

    assert pipelint("account", "pull", "acct", env=_env(harness)).exit_code == 0
    (in_tmp / "secret.yaml").write_text("connector:\n  identifier: harnessImage\n  type: DockerRegistry\n  spec: {}\n")
    manifest = json.loads((in_tmp / "acct" / "pipelint-account.json").read_text())
    manifest["entities"][0]["file"] = "../secret.yaml"
    (in_tmp / "acct" / "pipelint-account.json").write_text(json.dumps(manifest))
    pushed = pipelint("account", "push", "acct", "--apply", env=_env(harness))
    assert pushed.exit_code == 1 and harness.writes == []
    assert "pipelint: error: ../secret.yaml: refused: outside acct: not read, not pushed" in pushed.stderr


def test_the_report_has_an_account_section(harness, in_tmp):
    assert pipelint("account", "pull", "acct", env=_env(harness)).exit_code == 0
    report = pipelint("report", ".", "--isolated").stdout
    section = report.split("## Harness account: entities", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| entity")]
    assert "| connector account/harnessImage | acct/account/connectors/harnessImage.yaml | 1 | 1 |" in rows
    assert ("| trigger default/payments/build/onPush | "
            "acct/orgs/default/projects/payments/pipelines/build/triggers/onPush.yaml | 1 | 0 |") in rows
    assert "| inputSet default/payments/build/fromGit | Git-synced: payments-ci:.harness/input.yaml | - | - |" in rows
    assert len(rows) == 14  # 11 files pulled, 3 Git-synced entities
    images = report.split("## Harness account: CI images", 1)[1].split("\n## ", 1)[0]
    assert "| K8 | gitCloneTag | harness/drone-git:latest | no | - |" in images
    # the pulled account connector (`orgIdentifier: null`) is the one account.harnessImage names
    pullers = report.split("## Who pulls the Harness images", 1)[1].split("\n## ", 1)[0]
    assert "| account.harnessImage | https://app.harness.io/registry **(retired registry)** |" in pullers


def test_pull_one_project(harness, in_tmp):
    pulled = pipelint("account", "pull", "acct", "--org", "default", "--project", "payments", env=_env(harness))
    assert pulled.exit_code == 0, pulled.stderr
    files = sorted(str(p.relative_to(in_tmp / "acct")) for p in (in_tmp / "acct").rglob("*.yaml"))
    assert files and all(f.startswith("orgs/default/projects/payments/") for f in files)  # nor account, nor the org
    assert not any(path.endswith(("/organizations", "/projects")) for _, path, _, _ in harness.requests)
    assert pipelint("account", "pull", "x", "--project", "payments", env=_env(harness)).stderr == \
        "pipelint: error: --project needs --org\n"


def test_pull_writes_nothing_through_a_symlink_in_its_folder(harness, in_tmp):
    """DIR may already hold a symlink (its `orgs` folder pointing elsewhere, say, in a checkout someone else
    wrote): pull wrote the entities through it. It stops at the first such file, with one error line."""
    elsewhere = in_tmp / "elsewhere"
    elsewhere.mkdir()
    (in_tmp / "acct").mkdir()
    (in_tmp / "acct" / "orgs").symlink_to(elsewhere)
    pulled = pipelint("account", "pull", "acct", "--org", "default", "--project", "payments", env=_env(harness))
    assert pulled.exit_code == 2 and list(elsewhere.iterdir()) == []
    assert pulled.stderr.startswith("pipelint: error: acct/orgs/default/") and \
        pulled.stderr.endswith(": not written: a symlink leads out of acct\n"), pulled.stderr

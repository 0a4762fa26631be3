"""The private-registry path (issue 15): IMG005's layouts, and `pipelint mirror` copying with real skopeo between
two real registries on 127.0.0.1 (Debian's docker-registry), then the README walk-through, step by step."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import urllib.request
from pathlib import Path

import pytest
from conftest import ROOT, pipelint, pipelint_process
from registries import Registry, docker_config, need

from pipelint.oci import mirror_layout
from pipelint.oci.images import parse_image
from pipelint.oci.lockfile import Lockfile

README = (ROOT / "README.md").read_text()
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(("image", "layout", "expected"), [
    ("golang:1.22", "path", "m.example/mirror/library/golang:1.22"),
    ("golang:1.22", "scoped", "m.example/mirror/docker.io/library/golang:1.22"),
    ("index.docker.io/library/alpine:3.20", "path", "m.example/mirror/library/alpine:3.20"),
    ("registry.hub.docker.com/team/app:1", "scoped", "m.example/mirror/docker.io/team/app:1"),
    ("ghcr.io/org/tool:1.0@" + DIGEST, "path", "m.example/mirror/org/tool:1.0@" + DIGEST),
    ("ghcr.io/org/tool@" + DIGEST, "scoped", "m.example/mirror/ghcr.io/org/tool@" + DIGEST),
    ("us-docker.pkg.dev/gar-prod-setup/harness-public/harness/ci-addon:1.16.4", "path",
     "m.example/mirror/harness/ci-addon:1.16.4"),  # Harness's image names never change
    ("gcr.io/gcr-prod/harness/drone-git:1.6.0", "path", "m.example/mirror/harness/drone-git:1.6.0"),
    ("public.ecr.aws/harness/ci-lite-engine:1.16.4", "path", "m.example/mirror/harness/ci-lite-engine:1.16.4"),
    ("app.harness.io/registry/harness/ci-addon:1.16.4", "path", "m.example/mirror/harness/ci-addon:1.16.4"),
    ("registry.local:5000/team/app:1", "path", "m.example/mirror/team/app:1"),
    ("registry.local:5000/team/app:1", "scoped", None),  # a port is not a path component
])
def test_layouts(image, layout, expected):
    got = mirror_layout.mirrored(parse_image(image), "m.example/mirror", layout)
    assert (str(got) if got else None) == expected


def test_allowed_prefixes_match_whole_components():
    allowed = ["registry.example.com/approved", "docker.io/library"]
    ok = ["registry.example.com/approved/app:1", "golang", "docker.io/library/alpine:3", "index.docker.io/library/x:1",
          "m.example/mirror/x/y:1"]
    not_ok = ["registry.example.com/approvedx/app:1", "registry.example.com/app:1", "team/app:1", "ghcr.io/library/x:1"]
    assert all(mirror_layout.allowed(parse_image(i), allowed, "m.example/mirror") for i in ok)
    assert not any(mirror_layout.allowed(parse_image(i), allowed, "m.example/mirror") for i in not_ok)


@pytest.mark.parametrize(("value", "problem"), [
    ('["https://registry.example.com"]', "no https://"),
    ('["registry.example.com/Bad Path"]', "is not a registry prefix"),
    ('"registry.example.com"', "expected a list of strings"),
])
def test_a_bad_prefix_is_one_configuration_line(in_tmp, value, problem):
    (in_tmp / ".pipelint.toml").write_text(f"[rules.IMG005]\nallowed-registries = {value}\n")
    (in_tmp / "p.yaml").write_text("pipeline:\n  identifier: p\n")
    result = pipelint("check", "p.yaml", "--extend-select", "IMG005")
    assert result.exit_code == 2 and problem in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert ".pipelint.toml" in result.stderr and "allowed-registries" in result.stderr


def test_scoped_fix_and_the_hint_without_a_mirror(in_tmp):
    (in_tmp / "p.yaml").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n        spec:\n"
        "          execution:\n            steps:\n              - step:\n                  identifier: s\n"
        "                  type: Run\n                  spec:\n                    image: golang:1.22 # go\n"
        "              - step:\n                  identifier: t\n                  type: Run\n                  spec:\n"
        "                    image: registry.local:5000/team/app:1\n")
    (f, _) = pipelint("check", "p.yaml", "--isolated", "--select", "IMG005", "--format", "json").json()["findings"]
    assert f["fix"] is None and "set the option \"mirror\"" in f["message"]
    (in_tmp / ".pipelint.toml").write_text('[rules.IMG005]\nmirror = "m.example/mirror"\nmirror-layout = "scoped"\n')
    lock = Lockfile("pipelint.lock")  # what `pipelint mirror` records: golang is on the mirror
    lock.set(parse_image("m.example/mirror/docker.io/library/golang:1.22"), "sha256:" + "2" * 64,
             source=parse_image("golang:1.22"))
    lock.save()
    (left,) = pipelint("fix", "p.yaml", "--select", "IMG005", "--format", "json").json()["findings"]
    assert "image: m.example/mirror/docker.io/library/golang:1.22 # go\n" in (in_tmp / "p.yaml").read_text()
    assert "registry.local:5000/team/app:1" in left["message"] and "a port is not a path component" in left["message"]


# --- pipelint mirror, against real registries ----------------------------------------------------------------
@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A registry standing in for the public ones, with a multi-platform index, a plain image and a pinned one."""
    reg = Registry(tmp_path_factory.mktemp("source"))
    work = tmp_path_factory.mktemp("layouts")
    reg.digests = {
        "team/app:1": reg.push(work, "team/app", "1", platforms=("amd64", "arm64")),
        "library/golang:1.22": reg.push(work, "library/golang", "1.22"),
        "team/pinned:2": reg.push(work, "team/pinned", "2"),
        "harness/ci-addon:1.16.4": reg.push(work, "harness/ci-addon", "1.16.4", platforms=("amd64", "arm64")),
    }
    yield reg
    reg.stop()


@pytest.fixture
def dest(tmp_path):
    root = tmp_path / "dest-registry"
    root.mkdir()
    reg = Registry(root)
    yield reg
    reg.stop()


def _catalog(reg) -> list[str]:
    return json.loads(urllib.request.urlopen(f"http://{reg.host}/v2/_catalog", timeout=10).read())["repositories"]


def _digest_at(reg, repo: str, ref: str) -> str:
    request = urllib.request.Request(f"http://{reg.host}/v2/{repo}/manifests/{ref}", method="HEAD", headers={
        "Accept": "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json"})
    return urllib.request.urlopen(request, timeout=10).headers["Docker-Content-Digest"]


def _pipeline(root: Path, host: str, pinned: str) -> None:
    (root / ".harness").mkdir(exist_ok=True)
    (root / ".harness" / "build.yaml").write_text(
        "pipeline:\n  identifier: build\n  stages:\n    - stage:\n        identifier: build\n        type: CI\n"
        "        spec:\n          infrastructure:\n            type: KubernetesDirect\n            spec:\n"
        "              connectorRef: account.k8s\n              namespace: ci\n          execution:\n"
        "            steps:\n              - step:\n                  identifier: test\n                  type: Run\n"
        f"                  spec:\n                    image: {host}/team/app:1   # the app's image\n"
        "              - step:\n                  identifier: go\n                  type: Run\n                  spec:\n"
        f"                    image: {host}/library/golang:1.22\n"
        "              - step:\n                  identifier: pinned\n                  type: Run\n"
        f"                  spec:\n                    image: {host}/team/pinned:2@{pinned}\n"
        "              - step:\n                  identifier: runtime\n                  type: Run\n"
        "                  spec:\n                    image: <+input>\n")


def test_the_readme_walk_through(source, dest, in_tmp):
    """The README's five commands, as written, with the README's configuration pointed at a real mirror: every
    image lands under the mirror prefix with its name and digest, the files point there, and the last check is
    clean."""
    need("skopeo")
    mirror = f"{dest.host}/harness-mirror"
    config = re.search(r"## Pull Harness images from a private registry.*?```toml\n(.*?)```", README, re.S)[1]
    steps = re.search(r"## Pull Harness images from a private registry.*?```sh\n(.*?)```", README, re.S)[1]
    (in_tmp / ".pipelint.toml").write_text(config.replace("registry.example.com/harness-mirror", mirror))
    _pipeline(in_tmp, source.host, source.digests["team/pinned:2"])
    (in_tmp / "harness-images.txt").write_text(f"# Harness CI images no YAML names\n{source.host}/harness/ci-addon:1.16.4\n")
    outputs = []
    for line in steps.strip().splitlines():
        args = shlex.split(line.split("#", 1)[0])
        assert args[0] == "pipelint"
        result = pipelint(*args[1:])
        outputs.append(result)
        assert result.exit_code == 0, (line, result.stdout, result.stderr)
    assert "team/app" in (in_tmp / "images.csv").read_text()
    assert "Copied 4, already present 0, failed 0." in outputs[1].stdout
    # names unchanged under the prefix, digests equal to the source's (the index's too)
    assert sorted(_catalog(dest)) == ["harness-mirror/harness/ci-addon", "harness-mirror/library/golang",
                                      "harness-mirror/team/app", "harness-mirror/team/pinned"]
    for key, digest in source.digests.items():
        repo, tag = key.rsplit(":", 1)
        ref = digest if repo == "team/pinned" else tag  # a pinned image is copied by its digest
        assert _digest_at(dest, f"harness-mirror/{repo}", ref) == digest
    text = (in_tmp / ".harness" / "build.yaml").read_text()
    assert f"image: {mirror}/team/app:1@{source.digests['team/app:1']}   # the app's image\n" in text
    assert f"image: {mirror}/team/pinned:2@{source.digests['team/pinned:2']}\n" in text
    assert "harnessImageConnectorRef: account.privateMirror" in text and "image: <+input>" in text
    assert outputs[4].stdout == "All checks passed.\n"
    again = pipelint("mirror", "--images", "harness-images.txt")  # the files point at the mirror now
    assert again.exit_code == 0 and "already present 1" in again.stdout  # only the listed Harness image is left


HARNESS_IMAGE = """\
connector:
  name: Harness Docker Connector
  identifier: harnessImage
  type: DockerRegistry
  spec:
    dockerRegistryUrl: https://index.docker.io/v2/
    providerType: DockerHub
    auth:
      type: Anonymous
    executeOnDelegate: false
"""


def test_the_readme_walk_through_with_a_failed_copy_and_the_connector(source, dest, in_tmp):
    """The same five commands when one source image cannot be copied and the account's harnessImage connector
    still points at Docker Hub: the reference whose copy failed is left alone and says why, the last check names
    it and the connector, and the connector's fix (unsafe: credentials) moves it onto the mirror."""
    need("skopeo")
    mirror = f"{dest.host}/harness-mirror"
    config = re.search(r"## Pull Harness images from a private registry.*?```toml\n(.*?)```", README, re.S)[1]
    steps = re.search(r"## Pull Harness images from a private registry.*?```sh\n(.*?)```", README, re.S)[1]
    (in_tmp / ".pipelint.toml").write_text(config.replace("registry.example.com/harness-mirror", mirror))
    _pipeline(in_tmp, source.host, source.digests["team/pinned:2"])
    build = in_tmp / ".harness" / "build.yaml"
    build.write_text(build.read_text().replace(f"{source.host}/library/golang:1.22", f"{source.host}/team/gone:1"))
    (in_tmp / ".harness" / "harnessImage.yaml").write_text(HARNESS_IMAGE)
    (in_tmp / "harness-images.txt").write_text(f"{source.host}/harness/ci-addon:1.16.4\n")
    codes = []
    outputs = []
    for line in steps.strip().splitlines():
        result = pipelint(*shlex.split(line.split("#", 1)[0])[1:])
        codes.append(result.exit_code)
        outputs.append(result)
    assert codes[:2] == [0, 1]  # the copy of team/gone failed
    assert "Copied 3, already present 0, failed 1." in outputs[1].stdout
    recorded = json.loads((in_tmp / "pipelint.lock").read_text())["images"]
    assert sorted(k.split("/", 1)[1] for k in recorded) == [
        "harness-mirror/harness/ci-addon:1.16.4", "harness-mirror/team/app:1", "harness-mirror/team/pinned:2"]
    assert all(e["mirrored_from"].startswith(source.host) for e in recorded.values())
    text = build.read_text()
    assert f"image: {source.host}/team/gone:1\n" in text  # left alone: nothing on the mirror to point at
    assert f"image: {mirror}/team/app:1@{source.digests['team/app:1']}   # the app's image\n" in text
    last = outputs[4]
    assert codes[4] == 1
    assert (f'.harness/build.yaml:25:28: error IMG005 image "{source.host}/team/gone:1" comes from '
            f"{source.host.split(':')[0]}" in last.stdout)
    assert (f"no fix: {mirror}/team/gone:1 is not on the mirror yet: run `pipelint mirror` (it records each copy in "
            "pipelint.lock)") in last.stdout
    assert (f'.harness/harnessImage.yaml:6:24: error CON004 [~] connector "harnessImage" serves Harness\'s images from '
            f"docker.io, outside the allowed registries and the mirror {mirror}") in last.stdout
    moved = pipelint("fix", "--select", "CON004", "--unsafe-fixes")
    assert moved.exit_code == 0, moved.stdout
    assert (in_tmp / ".harness" / "harnessImage.yaml").read_text() == HARNESS_IMAGE.replace(
        "https://index.docker.io/v2/", f"https://{mirror}").replace("DockerHub", "Other")


def test_mirror_skips_what_is_there_and_reports_failures(source, dest, in_tmp):
    need("skopeo")
    _pipeline(in_tmp, source.host, source.digests["team/pinned:2"])
    (in_tmp / ".harness" / "more.yaml").write_text(
        "pipeline:\n  identifier: more\n  stages:\n    - stage:\n        identifier: s\n        type: CI\n        spec:\n"
        "          execution:\n            steps:\n              - step:\n                  identifier: x\n"
        f"                  type: Run\n                  spec:\n                    image: {source.host}/team/nothere:9\n")
    to = f"{dest.host}/m"
    plan = pipelint("mirror", "--to", to, "--dry-run")
    assert plan.exit_code == 0 and "4 images to copy" in plan.stdout and _catalog(dest) == []  # nothing contacted
    first = pipelint("mirror", "--to", to)
    assert first.exit_code == 1, first.stdout
    row = next(line for line in first.stdout.splitlines() if "team/nothere" in line)
    assert "failed: not found" in row and "(404)" in row
    assert "Copied 3, already present 0, failed 1." in first.stdout
    second = pipelint("mirror", "--to", to)
    assert "Copied 0, already present 3, failed 1." in second.stdout


def test_emit_sync_files_copy_to_the_same_names(source, dest, in_tmp):
    """The path layout as `skopeo sync` files, one per destination folder, run with the printed commands: the
    mirror then holds the names `pipelint mirror` would have written."""
    need("skopeo")
    _pipeline(in_tmp, source.host, source.digests["team/pinned:2"])
    to = f"{dest.host}/m"
    result = pipelint("mirror", "--to", to, "--emit-sync", "sync.yml")
    assert result.exit_code == 0 and _catalog(dest) == []
    commands = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("Wrote ")]
    assert len(commands) == 2  # m/library and m/team
    for command in commands:
        subprocess.run([*shlex.split(command), "--dest-tls-verify=false"], check=True, capture_output=True, timeout=120)
    assert sorted(_catalog(dest)) == ["m/library/golang", "m/team/app", "m/team/pinned"]
    assert _digest_at(dest, "m/team/app", "1") == source.digests["team/app:1"]


def test_two_registries_one_name_is_refused_in_the_path_layout(in_tmp):
    (in_tmp / "p.yaml").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n        spec:\n"
        "          execution:\n            steps:\n              - step:\n                  identifier: a\n"
        "                  type: Run\n                  spec:\n                    image: ghcr.io/org/tool:1\n"
        "              - step:\n                  identifier: b\n                  type: Run\n                  spec:\n"
        "                    image: quay.io/org/tool:1\n")
    result = pipelint("mirror", "p.yaml", "--isolated", "--to", "m.example/mirror", "--dry-run")
    row = next(line for line in result.stdout.splitlines() if line.startswith("quay.io/org/tool:1"))
    assert "failed: ghcr.io/org/tool:1 has the same name on the mirror; use the scoped layout" in row


def test_mirror_mistakes_are_one_line(in_tmp):
    (in_tmp / "p.yaml").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n        spec:\n"
        "          execution:\n            steps:\n              - step:\n                  identifier: a\n"
        "                  type: Run\n                  spec:\n                    image: ghcr.io/org/tool:1\n")
    (in_tmp / "list.txt").write_text("golang:1.22\n\nNot An Image\n")
    cases = [
        (["mirror", "p.yaml", "--isolated"], "no mirror: give --to"),
        (["mirror", "p.yaml", "--isolated", "--to", "https://m.example"], "--to:"),
        (["mirror", "p.yaml", "--isolated", "--to", "m.example/x", "--images", "list.txt"],
         "list.txt:3:1: 'Not An Image' is not an image reference"),
    ]
    for args, message in cases:
        result = pipelint(*args)
        assert result.exit_code == 2 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    env = {**os.environ, "PATH": str(in_tmp)}  # no skopeo on PATH
    result = pipelint("mirror", "p.yaml", "--isolated", "--to", "127.0.0.1:1/x", env=env)
    assert result.exit_code == 2 and "skopeo is not installed" in result.stderr


def test_credentials_reach_skopeo_and_never_the_output(source, tmp_path, in_tmp):
    """A mirror that asks for a password: the Docker config `pin` reads is the one skopeo gets; without it the
    copy fails with the registry's reason, and the password is never printed."""
    need("skopeo", "htpasswd")
    root = tmp_path / "auth-mirror"
    root.mkdir()
    secret = "mirror-canary-password"
    reg = Registry(root, users={"bot": secret})
    try:
        _pipeline(in_tmp, source.host, source.digests["team/pinned:2"])
        args = ("mirror", "--isolated", "--to", f"{reg.host}/m")
        empty = pipelint_process(*args, cwd=in_tmp, env={"DOCKER_CONFIG": str(in_tmp / "none"), "HOME": str(in_tmp)})
        assert empty.returncode == 1 and b"failed" in empty.stdout and b"401" in empty.stdout
        config = docker_config(in_tmp / "docker", reg.host, "bot", secret)
        ok = pipelint_process(*args, cwd=in_tmp, env={"DOCKER_CONFIG": str(config)})
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert b"Copied 3, already present 0, failed 0." in ok.stdout
        for out in (empty, ok):
            assert secret.encode() not in out.stdout + out.stderr
    finally:
        reg.stop()


def test_a_terminal_sees_progress(source, dest, in_tmp):
    """On a terminal (a real pty), a progress bar on standard error; in a pipe, none."""
    import pty
    import sys

    need("skopeo")
    _pipeline(in_tmp, source.host, source.digests["team/pinned:2"])
    main, secondary = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pipelint", "mirror", "--isolated", "--to", f"{dest.host}/m"],
                            cwd=in_tmp, stdout=subprocess.PIPE, stderr=secondary, stdin=subprocess.DEVNULL)
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    out, _ = proc.communicate(timeout=120)
    os.close(main)
    assert proc.returncode == 0, out
    assert b"Copying" in seen and b"100%" in seen
    assert b"Copying" not in out


def test_img005_reaches_terraform_heredocs(in_tmp):
    (in_tmp / "p.tf").write_text(
        'resource "harness_platform_pipeline" "p" {\n  yaml = <<-EOT\n    pipeline:\n      identifier: p\n'
        '      stages:\n        - stage:\n            identifier: b\n            type: CI\n            spec:\n'
        '              execution:\n                steps:\n                  - step:\n                      identifier: s\n'
        '                      type: Run\n                      spec:\n                        image: golang:1.22\n'
        '    EOT\n}\n')
    (in_tmp / ".pipelint.toml").write_text('[rules.IMG005]\nmirror = "m.example/mirror"\n')
    (f,) = pipelint("check", "p.tf", "--select", "IMG005", "--format", "json").json()["findings"]
    assert (f["line"], f["column"]) == (16, 32) and f["fix"] is None  # not on the mirror yet
    assert f["message"].endswith("no fix: m.example/mirror/library/golang:1.22 is not on the mirror yet: run "
                                 "`pipelint mirror` (it records each copy in pipelint.lock)")
    lock = Lockfile("pipelint.lock")
    lock.set(parse_image("m.example/mirror/library/golang:1.22"), "sha256:" + "1" * 64, source=parse_image("golang:1.22"))
    lock.save()
    pipelint("fix", "p.tf", "--select", "IMG005")
    assert "                        image: m.example/mirror/library/golang:1.22\n    EOT" in (in_tmp / "p.tf").read_text()


def test_with_a_mirror_reg001_moves_everything_there(in_tmp):
    """REG001's `auto` target is the mirror once one is configured: the connector moves there (safe when it is
    anonymous), an image only once the lockfile records it on the mirror."""
    (in_tmp / ".pipelint.toml").write_text('[rules.IMG005]\nmirror = "registry.example.com/m"\n')
    (in_tmp / "c.yaml").write_text(
        "connector:\n  identifier: harnessImage\n  type: DockerRegistry\n  spec:\n"
        "    dockerRegistryUrl: https://app.harness.io/registry\n    providerType: Other\n    auth:\n"
        "      type: Anonymous\n")
    (in_tmp / "p.yaml").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n        spec:\n"
        "          execution:\n            steps:\n              - step:\n                  identifier: s\n"
        "                  type: Run\n                  spec:\n"
        "                    image: app.harness.io/registry/harness/ci-addon:1.16.4\n")
    found = {f["path"]: f for f in pipelint("check", "--select", "REG001", "--format", "json").json()["findings"]}
    assert found["c.yaml"]["fix"] == {"applicability": "safe",
                                      "message": "set dockerRegistryUrl to https://registry.example.com/m"}
    assert found["p.yaml"]["fix"] is None
    assert found["p.yaml"]["message"].endswith("no fix: registry.example.com/m/harness/ci-addon:1.16.4 is not on the "
                                               "mirror yet: run `pipelint mirror` (it records each copy in "
                                               "pipelint.lock)")
    lock = Lockfile("pipelint.lock")
    lock.set(parse_image("registry.example.com/m/harness/ci-addon:1.16.4"), "sha256:" + "3" * 64,
             source=parse_image("harness/ci-addon:1.16.4"))
    lock.save()
    assert pipelint("fix", "--select", "REG001").exit_code == 0
    assert "dockerRegistryUrl: https://registry.example.com/m\n" in (in_tmp / "c.yaml").read_text()
    assert "image: registry.example.com/m/harness/ci-addon:1.16.4\n" in (in_tmp / "p.yaml").read_text()
    # --target still names a registry for one run, mirror or not
    again = pipelint("check", "--select", "REG001", "--target", "gar", "--format", "json", "--no-cache").json()
    assert again["findings"] == []

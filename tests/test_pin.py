"""`pipelint pin` against real registries on 127.0.0.1 (Debian's docker-registry, skopeo) and a token server."""

from __future__ import annotations

import json
import os

import pytest
from conftest import pipelint, pipelint_process
from registries import Registry, TokenRegistry, docker_config

CANARY = "s3cret-canary-password"


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("registry"))
    work = tmp_path_factory.mktemp("push")
    reg.digests = {
        "alpine": reg.push(work, "library/alpine", "3.20"),
        "multi": reg.push(work, "team/multi", "1.0", platforms=("amd64", "arm64")),
        "tool": reg.push(work, "tool", "2"),
    }
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory):
    reg = Registry(tmp_path_factory.mktemp("auth-registry"), users={"bot": CANARY})
    reg.digest = reg.push(tmp_path_factory.mktemp("push-auth"), "private/app", "1.0", creds=f"bot:{CANARY}")
    yield reg
    reg.stop()


@pytest.fixture
def token_registry():
    reg = TokenRegistry(password=CANARY)
    yield reg
    reg.stop()


def _tree(root, host):
    (root / ".harness").mkdir()
    (root / ".harness" / "a.yaml").write_text(f"""\
pipeline:
  name: a
  identifier: a
  stages:
    - stage:
        identifier: s
        type: CI
        spec:
          execution:
            steps:
              - step:
                  type: Run
                  identifier: alpine
                  spec:
                    image: {host}/library/alpine:3.20   # comment kept
              - step:
                  type: Run
                  identifier: multi
                  spec:
                    image: "{host}/team/multi:1.0"
              - step:
                  type: Run
                  identifier: expression
                  spec:
                    image: <+pipeline.variables.image>
              - step:
                  type: Run
                  identifier: untagged
                  spec:
                    image: {host}/tool
""")
    (root / ".harness" / "b.yaml").write_text(f"""\
template:
  name: b
  identifier: b
  versionLabel: v1
  type: Step
  spec:
    type: Run
    spec:
      image: '{host}/tool:2'
""")
    (root / ".harness" / "c.yaml").write_text(f"""\
pipeline:
  name: c
  identifier: c
  stages:
    - stage:
        identifier: s
        type: CI
        spec:
          execution:
            steps:
              - step: {{type: Run, identifier: gone, spec: {{image: {host}/missing:1.0}}}}
              - step: {{type: Run, identifier: tool, spec: {{image: {host}/tool:2}}}}
""")


def test_pin_a_tree_then_offline(registry, in_tmp):
    host, d = registry.host, registry.digests
    _tree(in_tmp, host)
    originals = {p: p.read_bytes() for p in (in_tmp / ".harness").iterdir()}
    result = pipelint_process("pin", ".harness", "--isolated", cwd=in_tmp)
    out, err = result.stdout.decode(), result.stderr.decode()
    assert result.returncode == 2
    assert err == (f"pipelint: error: .harness/c.yaml:11:67: {host}/missing:1.0: not found on {host} (404): "
                   "no such repository or tag\n")
    assert out == ("Pinned 4 images in 3 files (0 from pipelint.lock, 3 resolved).\n"
                   "Left 1 untagged image alone: tag them, or pin them as :latest with --allow-latest.\n")
    a = (in_tmp / ".harness" / "a.yaml").read_text()
    assert f"image: {host}/library/alpine:3.20@{d['alpine']}   # comment kept\n" in a
    assert f'image: "{host}/team/multi:1.0@{d["multi"]}"\n' in a  # the index digest, quotes kept
    assert "image: <+pipeline.variables.image>\n" in a and f"image: {host}/tool\n" in a
    assert f"image: '{host}/tool:2@{d['tool']}'\n" in (in_tmp / ".harness" / "b.yaml").read_text()
    c = (in_tmp / ".harness" / "c.yaml").read_text()
    assert f"{{image: {host}/missing:1.0}}" in c and f"{{image: {host}/tool:2@{d['tool']}}}" in c
    lock = json.loads((in_tmp / "pipelint.lock").read_text())
    assert sorted(lock["images"]) == [f"{host}/library/alpine:3.20", f"{host}/team/multi:1.0", f"{host}/tool:2"]
    assert lock["images"][f"{host}/team/multi:1.0"]["digest"] == d["multi"]
    pinned = {p: p.read_bytes() for p in originals}

    # offline, from the lockfile alone: the same files, with no registry at all
    for p, data in originals.items():
        p.write_bytes(data)
    offline = pipelint_process("pin", ".harness", "--isolated", "--offline", cwd=in_tmp,
                               env={"http_proxy": "http://127.0.0.1:9", "https_proxy": "http://127.0.0.1:9"})
    assert offline.stdout.decode().startswith("Pinned 4 images in 3 files (3 from pipelint.lock, 0 resolved).")
    assert offline.stderr.decode() == (f"pipelint: error: .harness/c.yaml:11:67: {host}/missing:1.0: not in "
                                       "pipelint.lock (and --offline forbids asking the registry)\n")
    assert {p: p.read_bytes() for p in originals} == pinned

    # a second pin changes nothing; check verifies the digests against the lockfile
    again = pipelint_process("pin", ".harness", "--isolated", cwd=in_tmp)
    assert {p: p.read_bytes() for p in originals} == pinned
    assert again.stdout.decode().startswith("Pinned 0 images")
    check = pipelint("check", ".harness", "--isolated", "--select", "IMG004")
    assert (check.exit_code, check.stdout) == (0, "All checks passed.\n")
    b = in_tmp / ".harness" / "b.yaml"
    b.write_text(b.read_text().replace(d["tool"], "sha256:" + "0" * 64))
    check = pipelint("check", ".harness", "--isolated", "--select", "IMG004")
    assert check.exit_code == 1 and "is pinned to another digest than pipelint.lock records" in check.stdout


def test_pin_diff_writes_nothing(registry, in_tmp):
    _tree(in_tmp, registry.host)
    before = {p: p.read_bytes() for p in (in_tmp / ".harness").iterdir()}
    result = pipelint_process("pin", ".harness/a.yaml", "--isolated", "--diff", cwd=in_tmp)
    assert result.returncode == 1
    assert result.stdout.decode().startswith("diff --git a/.harness/a.yaml b/.harness/a.yaml\n")
    assert {p: p.read_bytes() for p in before} == before and not (in_tmp / "pipelint.lock").exists()


@pytest.mark.parametrize("meanwhile", ["another pin", "a new lockfile", "no lockfile any more", "not JSON"])
def test_a_lockfile_written_meanwhile_keeps_both_runs_entries(registry, in_tmp, monkeypatch, meanwhile):
    """`pin` reads the lockfile, asks the registries (minutes, on a large tree), then writes it. What another run
    (or a `git pull`) wrote there meanwhile was lost; now this run's entries go over the file as it is then."""
    from pipelint.text import files

    host = registry.host
    _tree(in_tmp, host)
    lockfile = in_tmp / "pipelint.lock"
    other = {"digest": "sha256:" + "5" * 64, "resolved_at": "2026-12-01T00:00:00Z"}
    if meanwhile != "a new lockfile":
        lockfile.write_text('{"version": 1, "images": {}}\n')
    real, calls = files._before_replace, []

    def another_run(path):  # between the pin's last read of the lockfile and its write
        if path.endswith("pipelint.lock") and not calls:
            calls.append(path)
            if meanwhile == "no lockfile any more":
                os.unlink(path)
            else:
                body = {"version": 1, "images": {"other.example/team/app:1": other}}
                lockfile.write_text("{" if meanwhile == "not JSON" else json.dumps(body))
        real(path)

    monkeypatch.setattr(files, "_before_replace", another_run)
    result = pipelint("pin", ".", "--isolated")
    mine = {f"{host}/library/alpine:3.20", f"{host}/team/multi:1.0", f"{host}/tool:2"}
    if meanwhile == "not JSON":
        assert result.exit_code == 2 and lockfile.read_text() == "{"
        assert result.stderr.endswith("pipelint: error: pipelint.lock:1:2: invalid lockfile JSON: Expecting property "
                                      "name enclosed in double quotes; the lockfile was not written\n"), result.stderr
        return
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "missing:1.0: not found" in result.stderr
    images = json.loads(lockfile.read_text())["images"]
    assert calls and set(images) == mine | ({"other.example/team/app:1"} if meanwhile != "no lockfile any more" else set())
    assert images.get("other.example/team/app:1", other) == other


def test_allow_latest_and_update(registry, in_tmp):
    host = registry.host
    work = in_tmp / "push"
    latest = registry.push(work, "tool", "latest")
    (in_tmp / "p.yaml").write_text(f"pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n"
                                   f"        identifier: s\n        type: CI\n        spec:\n          execution:\n"
                                   f"            steps:\n              - step: {{type: Run, identifier: t, spec: "
                                   f"{{image: {host}/tool}}}}\n")
    result = pipelint_process("pin", "p.yaml", "--isolated", "--allow-latest", cwd=in_tmp)
    assert result.returncode == 0, result.stderr
    assert f"{{image: {host}/tool:latest@{latest}}}" in (in_tmp / "p.yaml").read_text()
    lock = json.loads((in_tmp / "pipelint.lock").read_text())
    lock["images"][f"{host}/tool:latest"]["digest"] = "sha256:" + "1" * 64
    (in_tmp / "pipelint.lock").write_text(json.dumps(lock))
    update = pipelint_process("pin", "p.yaml", "--isolated", "--update", cwd=in_tmp)
    assert update.returncode == 0
    assert json.loads((in_tmp / "pipelint.lock").read_text())["images"][f"{host}/tool:latest"]["digest"] == latest
    assert "Moved" not in update.stdout.decode()  # the tag still names the same image
    # the tag moves to another image: --update reports the move as a move, old -> new
    moved = registry.push(work, "tool", "latest", platforms=("amd64", "arm64"))
    assert moved != latest
    again = pipelint_process("pin", "p.yaml", "--isolated", "--update", cwd=in_tmp)
    assert again.returncode == 0, again.stderr
    out = again.stdout.decode()
    assert out.startswith("Pinned 0 images in 0 files.\nMoved 1 digest (the tag now names another image):\n")
    assert f"p.yaml:11:64: {host}/tool:latest {latest[:19]}… -> {moved[:19]}…" in out
    assert f"{host}/tool:latest@{moved}" in (in_tmp / "p.yaml").read_text()


def _one_image(root, image):
    (root / "p.yaml").write_text("template:\n  name: t\n  identifier: t\n  versionLabel: v1\n  type: Step\n"
                                 f"  spec:\n    type: Run\n    spec:\n      image: {image}\n")


def test_basic_auth_with_docker_config(auth_registry, in_tmp):
    host = auth_registry.host
    _one_image(in_tmp, f"{host}/private/app:1.0")
    config = docker_config(in_tmp / "docker", host, "bot", CANARY)
    ok = pipelint_process("pin", "p.yaml", "--isolated", cwd=in_tmp, env={"DOCKER_CONFIG": str(config)})
    assert ok.returncode == 0, ok.stderr
    assert f"image: {host}/private/app:1.0@{auth_registry.digest}" in (in_tmp / "p.yaml").read_text()
    for secret in (CANARY.encode(), b"Ym90"):  # the password, and base64 of "bot:..."
        assert secret not in ok.stdout + ok.stderr + (in_tmp / "pipelint.lock").read_bytes()


@pytest.mark.parametrize("case", ["wrong", "none"])
def test_basic_auth_401(auth_registry, in_tmp, case):
    host = auth_registry.host
    _one_image(in_tmp, f"{host}/private/app:1.0")
    env = {"DOCKER_CONFIG": str(docker_config(in_tmp / "docker", host, "bot", "wrong-" + CANARY))} \
        if case == "wrong" else {"DOCKER_CONFIG": str(in_tmp / "empty"), "HOME": str(in_tmp)}
    result = pipelint_process("pin", "p.yaml", "--isolated", cwd=in_tmp, env=env)
    hint = "check the credentials" if case == "wrong" else "no credentials found"
    assert result.returncode == 2
    assert result.stderr.decode() == (f"pipelint: error: p.yaml:9:14: {host}/private/app:1.0: {host} requires "
                                      f"authentication (401): {hint} for {host} in your Docker config\n")
    assert CANARY.encode() not in result.stdout + result.stderr


def test_bearer_token_flow(token_registry, in_tmp):
    host = token_registry.host
    digest = token_registry.add("team/app", "1.0", b'{"schemaVersion": 2}')
    _one_image(in_tmp, f"{host}/team/app:1.0")
    config = docker_config(in_tmp / "docker", host, "bot", CANARY)
    result = pipelint_process("pin", "p.yaml", "--isolated", cwd=in_tmp, env={"DOCKER_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert f"image: {host}/team/app:1.0@{digest}" in (in_tmp / "p.yaml").read_text()
    token_requests = [r for r in token_registry.requests if r[1].startswith("/token")]
    assert len(token_requests) == 1
    assert "scope=repository%3Ateam%2Fapp%3Apull" in token_requests[0][1]
    assert "service=pipelint-test" in token_requests[0][1]
    heads = [r for r in token_registry.requests if r[0] == "HEAD"]
    assert heads and heads[0][2] == "Bearer tok-0"


def test_digest_from_body_when_the_header_is_missing(token_registry, in_tmp):
    host = token_registry.host
    digest = token_registry.add("team/app", "1.0", b'{"schemaVersion": 2, "x": 1}')
    token_registry.mode = "nodigest"
    _one_image(in_tmp, f"{host}/team/app:1.0")
    config = docker_config(in_tmp / "docker", host, "bot", CANARY)
    result = pipelint_process("pin", "p.yaml", "--isolated", cwd=in_tmp, env={"DOCKER_CONFIG": str(config)})
    assert result.returncode == 0, result.stderr
    assert f"@{digest}" in (in_tmp / "p.yaml").read_text()
    assert [r[0] for r in token_registry.requests if "/manifests/" in r[1]] == ["HEAD", "GET"]


def test_retries_then_succeeds(token_registry, in_tmp):
    host = token_registry.host
    digest = token_registry.add("team/app", "1.0", b"{}")
    token_registry.mode, token_registry.flaky_left = "flaky", 2
    _one_image(in_tmp, f"{host}/team/app:1.0")
    config = docker_config(in_tmp / "docker", host, "bot", CANARY)
    result = pipelint_process("pin", "p.yaml", "--isolated", cwd=in_tmp, env={"DOCKER_CONFIG": str(config)})
    assert result.returncode == 0 and f"@{digest}" in (in_tmp / "p.yaml").read_text()


@pytest.mark.parametrize("mode,message", [
    ("forbidden", "{image}: {host} denied access (403)"),
    ("ratelimit", "{image}: {host} is rate limiting (429), still after 3 retries"),
    pytest.param("slow", "{image}: {host} did not answer within 0.5 s (4 attempts)", marks=pytest.mark.slow),
    ("token", "{image}: {host} refused a token (401): check the credentials for {host} in your Docker config"),
])
def test_registry_errors(token_registry, in_tmp, mode, message):
    host = token_registry.host
    token_registry.add("team/app", "1.0", b"{}")
    image = f"{host}/team/app:1.0"
    _one_image(in_tmp, image)
    password = CANARY if mode != "token" else "wrong-" + CANARY
    config = docker_config(in_tmp / "docker", host, "bot", password)
    token_registry.mode = mode if mode != "token" else "ok"
    result = pipelint_process("pin", "p.yaml", "--isolated", "--timeout", "0.5", cwd=in_tmp,
                              env={"DOCKER_CONFIG": str(config)})
    assert result.returncode == 2
    assert result.stderr.decode() == f"pipelint: error: p.yaml:9:14: {message.format(image=image, host=host)}\n"
    assert CANARY.encode() not in result.stdout + result.stderr
    assert (in_tmp / "p.yaml").read_text().endswith(f"image: {image}\n")


def test_connection_refused(in_tmp):
    from registries import free_port

    host = f"127.0.0.1:{free_port()}"
    _one_image(in_tmp, f"{host}/app:1.0")
    result = pipelint_process("pin", "p.yaml", "--isolated", cwd=in_tmp)
    assert result.returncode == 2
    assert result.stderr.decode() == (f"pipelint: error: p.yaml:9:14: {host}/app:1.0: cannot connect to {host}: "
                                      "connection refused\n")


def test_https_unless_loopback_or_insecure():
    from pipelint.oci.client import Client, Options

    client = Client(Options(insecure=("registry.internal:5000",)))
    assert client._host("registry.example.com").scheme == "https"
    assert client._host("registry-1.docker.io").scheme == "https"
    assert client._host("127.0.0.1:5000").scheme == "http"
    assert client._host("127.5.6.7").scheme == "http"
    assert client._host("localhost:5000").scheme == "http"
    assert client._host("[::1]:5000").scheme == "http"
    assert client._host("registry.internal:5000").scheme == "http"


def test_docker_hub_naming():
    from pipelint.oci.client import api_host
    from pipelint.oci.images import parse_image
    from pipelint.oci.lockfile import key

    ref = parse_image("alpine:3.20")
    assert ref.canonical_repository() == ("docker.io", "library/alpine")
    assert api_host("docker.io") == "registry-1.docker.io"
    assert key(ref) == "docker.io/library/alpine:3.20"
    assert key(parse_image("docker.io/library/alpine:3.20")) == key(ref)
    assert parse_image("bitnami/kubectl:1").canonical_repository() == ("docker.io", "bitnami/kubectl")


def test_secrets_never_leak(token_registry, auth_registry, in_tmp):
    """A canary password, its base64 form and every token issued appear in no output, file or error text."""
    import base64

    token_registry.add("team/app", "1.0", b"{}")
    secrets = [CANARY.encode(), base64.b64encode(f"bot:{CANARY}".encode()),
               base64.b64encode(f"bot:wrong-{CANARY}".encode())]
    seen = b""
    for mode, password in [("ok", CANARY), ("forbidden", CANARY), ("ok", "wrong-" + CANARY), ("ratelimit", CANARY)]:
        token_registry.mode = mode
        _one_image(in_tmp, f"{token_registry.host}/team/app:1.0")
        config = in_tmp / "docker"
        auths = {token_registry.host: {"auth": base64.b64encode(f"bot:{password}".encode()).decode()},
                 auth_registry.host: {"auth": base64.b64encode(f"bot:{password}".encode()).decode()}}
        config.mkdir(exist_ok=True)
        (config / "config.json").write_text(json.dumps({"auths": auths}))
        for image in (f"{token_registry.host}/team/app:1.0", f"{auth_registry.host}/private/app:1.0",
                      f"{auth_registry.host}/private/missing:1.0"):
            _one_image(in_tmp, image)
            result = pipelint_process("pin", "p.yaml", "--isolated", "--timeout", "0.5", "--update", cwd=in_tmp,
                                      env={"DOCKER_CONFIG": str(config)})
            seen += result.stdout + result.stderr
    for args in (("check", ".", "--isolated", "--format", "sarif"), ("images", ".", "--isolated"),
                 ("report", ".", "--isolated", "--output", "r.html")):
        result = pipelint_process(*args, cwd=in_tmp, env={"DOCKER_CONFIG": str(in_tmp / "docker")})
        seen += result.stdout + result.stderr
    for path in (in_tmp / "pipelint.lock", in_tmp / "p.yaml", in_tmp / "r.html"):
        seen += path.read_bytes()
    tokens = [t.encode() for t in token_registry.tokens]
    assert tokens, "the token flow ran"
    for secret in secrets + tokens:
        assert secret not in seen, secret
    # and in the client's exceptions themselves
    from pipelint.oci.client import Client, Options, RegistryError
    from pipelint.oci.images import parse_image

    token_registry.mode = "forbidden"
    client = Client(Options(timeout=0.5, auth_file=str(in_tmp / "docker" / "config.json")))
    with pytest.raises(RegistryError) as err:
        client.digest(parse_image(f"{token_registry.host}/team/app:1.0"))
    text = str(err.value) + repr(err.value)
    for secret in secrets + [t.encode() for t in token_registry.tokens]:
        assert secret.decode() not in text


def test_pin_inside_terraform_heredocs_and_templated_yaml(registry, in_tmp):
    """Pins land inside the heredoc (and beside the holes of a templatefile() source), verified on both layers;
    the rest of each file is byte for byte what it was."""
    host, d = registry.host, registry.digests
    tf = (f'resource "harness_platform_pipeline" "p" {{\n  identifier = "p"\n  yaml       = <<-EOT\n'
          f'    pipeline:\n      identifier: p\n      stages:\n        - stage:\n            identifier: s\n'
          f'            type: CI\n            spec:\n              execution:\n                steps:\n'
          f'                  - step: {{type: Run, identifier: t, spec: {{image: {host}/tool:2}}}}\n'
          f'                  - step: {{type: Run, identifier: u, spec: {{image: "${{var.image}}"}}}}\n    EOT\n}}\n')
    tpl = (f"pipeline:\n  identifier: ${{id}}\n  stages:\n    - stage:\n        identifier: s\n        type: CI\n"
           f"        spec:\n          execution:\n            steps:\n"
           f"              - step: {{type: Run, identifier: t, spec: {{image: {host}/library/alpine:3.20}}}}\n")
    (in_tmp / "main.tf").write_text(tf)
    (in_tmp / "p.yaml.tpl").write_text(tpl)
    result = pipelint_process("pin", ".", "--isolated", cwd=in_tmp)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().startswith("Pinned 2 images in 2 files")
    assert (in_tmp / "main.tf").read_text() == tf.replace(f"{host}/tool:2", f"{host}/tool:2@{d['tool']}")
    assert (in_tmp / "p.yaml.tpl").read_text() == tpl.replace("alpine:3.20", f"alpine:3.20@{d['alpine']}")
    again = pipelint_process("pin", ".", "--isolated", cwd=in_tmp)
    assert again.stdout.decode().startswith("Pinned 0 images")


def test_a_lockfile_linked_out_of_the_tree_is_not_written(tmp_path):
    """`pipelint.lock` is the repository's: committed as a symlink to a file elsewhere (here one that does not
    exist yet), pin wrote its JSON there. It is one error line now, before any registry is asked."""
    repo, target = tmp_path / "repo", tmp_path / "elsewhere.json"
    (repo / ".harness").mkdir(parents=True)
    (repo / ".harness" / "p.yaml").write_text("pipeline: {identifier: p}\n")
    (repo / "pipelint.lock").symlink_to(target)
    result = pipelint_process("pin", ".", "--isolated", cwd=repo)
    assert (result.returncode, result.stdout) == (2, b"")
    assert result.stderr.decode() == (f"pipelint: error: pipelint.lock: not written: a symlink to {target}, outside "
                                      f"the checked tree ({repo})\n")
    assert not target.exists()

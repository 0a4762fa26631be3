"""`pipelint fix` beyond the fixtures: stdin, --show-fixes, targets, permissions, failures, verification."""

from __future__ import annotations

import os
import stat

import pytest
from conftest import FIXTURES, ROOT, pipelint, pipelint_process

CONNECTOR = (FIXTURES / "REG001" / "bad_connector.yaml").read_bytes()
IMAGES = (FIXTURES / "REG001" / "bad_images.yaml").read_bytes()


def test_fix_stdin_writes_the_fixed_text_to_stdout(in_tmp):
    proc = pipelint_process("fix", "-", "--isolated", input=CONNECTOR, cwd=in_tmp)
    assert proc.stdout == (FIXTURES / "REG001" / "bad_connector.fixed.yaml").read_bytes()
    assert proc.returncode == 0  # nothing left: the anonymous connector moved to ECR public (no REG003)
    assert b"Fixed 1 problem in 1 file." in proc.stderr


def test_fix_stdin_untouched_text_passes_through(in_tmp):
    data = b"apiVersion: v1\nkind: Pod\n"
    proc = pipelint_process("fix", "-", "--isolated", input=data, cwd=in_tmp)
    assert proc.stdout == data and proc.returncode == 0


@pytest.mark.parametrize("target,image,url", [
    ("auto", "public.ecr.aws/harness/ci-addon:1.16.4", "https://public.ecr.aws/harness"),  # anonymous connector
    ("dockerhub", "harness/ci-addon:1.16.4", "https://registry.hub.docker.com"),
    ("gar", "us-docker.pkg.dev/gar-prod-setup/harness-public/harness/ci-addon:1.16.4",
     "https://us-docker.pkg.dev/gar-prod-setup/harness-public"),
    ("gcr", "gcr.io/gcr-prod/harness/ci-addon:1.16.4", "https://gcr.io/gcr-prod"),
    ("ecr", "public.ecr.aws/harness/ci-addon:1.16.4", "https://public.ecr.aws/harness"),
    ("https://mirror.example.com/harness", "mirror.example.com/harness/harness/ci-addon:1.16.4",
     "https://mirror.example.com/harness"),
])
def test_targets(target, image, url, in_tmp):
    (in_tmp / "c.yaml").write_bytes(CONNECTOR)
    (in_tmp / "p.yaml").write_bytes(IMAGES)
    result = pipelint("fix", ".", "--isolated", "--target", target)
    # moved to anonymous Docker Hub, the connector now meets REG003: the report says so
    assert result.exit_code == (1 if target == "dockerhub" else 0), result.stdout + result.stderr
    assert ("REG003" in result.stdout) == (target == "dockerhub")
    fixed = (in_tmp / "p.yaml").read_text()
    assert f"image: {image} # old" in fixed
    connector = (in_tmp / "c.yaml").read_text()
    assert f"dockerRegistryUrl: {url}   # the retired Harness registry" in connector
    want = "DockerHub" if target == "dockerhub" else "Other"
    assert f"providerType: {want}\n" in connector


def test_target_from_configuration(in_tmp):
    (in_tmp / "p.yaml").write_bytes(IMAGES)
    (in_tmp / ".pipelint.toml").write_text('[rules.REG001]\ntarget = "ecr"\n')
    pipelint("fix", ".")
    assert "image: public.ecr.aws/harness/ci-addon:1.16.4 # old" in (in_tmp / "p.yaml").read_text()


def test_show_fixes_and_summary(in_tmp, snapshot):
    (in_tmp / "c.yaml").write_bytes(CONNECTOR)
    (in_tmp / "p.yaml").write_bytes(IMAGES)
    result = pipelint("fix", ".", "--isolated", "--show-fixes", "--extend-select", "IMG003")
    assert result.stdout == snapshot


def test_unsafe_fixes_need_the_flag(in_tmp):
    case = FIXTURES / "REG004" / "bad_true"
    for f in case.glob("*.yaml"):
        if not f.name.endswith(".fixed.yaml"):
            (in_tmp / f.name).write_bytes(f.read_bytes())
    before = (in_tmp / "harnessImage.yaml").read_bytes()
    result = pipelint("fix", ".", "--isolated")
    assert result.exit_code == 1 and (in_tmp / "harnessImage.yaml").read_bytes() == before
    assert "[~] 1 more fixable with `pipelint fix --unsafe-fixes` (unsafe: read the message)." in result.stdout
    assert pipelint("fix", ".", "--isolated", "--unsafe-fixes").exit_code == 0
    assert (in_tmp / "harnessImage.yaml").read_bytes() == (case / "harnessImage.fixed.yaml").read_bytes()


def test_permissions_are_kept_and_no_temporary_files_remain(in_tmp):
    path = in_tmp / "c.yaml"
    path.write_bytes(CONNECTOR)
    path.chmod(0o640)
    pipelint("fix", "c.yaml", "--isolated")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in in_tmp.iterdir()) == ["c.yaml"]


def test_symlinked_file_is_fixed_through_the_link(in_tmp):
    (in_tmp / "real.yaml").write_bytes(CONNECTOR)
    os.symlink("real.yaml", in_tmp / "link.yaml")
    pipelint("fix", "link.yaml", "--isolated")
    assert (in_tmp / "link.yaml").is_symlink()
    assert b"public.ecr.aws/harness" in (in_tmp / "real.yaml").read_bytes()


def test_read_only_file_is_an_error_for_that_file_only(in_tmp):
    (in_tmp / "ro").mkdir()
    (in_tmp / "rw").mkdir()
    (in_tmp / "ro" / "c.yaml").write_bytes(CONNECTOR)
    (in_tmp / "rw" / "c.yaml").write_bytes(CONNECTOR)
    (in_tmp / "ro" / "c.yaml").chmod(0o444)
    result = pipelint("fix", "ro", "rw", "--isolated")
    assert result.exit_code == 2
    assert result.stderr == "pipelint: error: ro/c.yaml: cannot write: file is read-only\n"
    assert (in_tmp / "ro" / "c.yaml").read_bytes() == CONNECTOR
    assert b"public.ecr.aws/harness" in (in_tmp / "rw" / "c.yaml").read_bytes()
    assert "Fixed 1 problem in 1 file." in result.stdout
    assert "ro/c.yaml:6:24: error REG001 [*]" in result.stdout  # still reported: it was not fixed


def test_a_fix_that_fails_verification_is_not_offered(in_tmp, monkeypatch):
    """`fix` (and `--diff`, the editor) run the full trial: a broken edit is caught, the finding says why. (`check`
    runs it only where it can refuse a fix, which tests/test_properties.py holds to the same answers.)"""
    import pipelint.yamldoc.yamltext as yamltext

    real = yamltext.replace_scalar

    def broken(text, node, value, verbatim=False):  # writes the value unquoted after a colon: a mapping
        start, end, _ = real(text, node, value, verbatim)
        return start, end, "oops: " + value

    monkeypatch.setattr(yamltext, "replace_scalar", broken)
    (in_tmp / "c.yaml").write_bytes(CONNECTOR)
    diff = pipelint("fix", "c.yaml", "--isolated", "--diff")
    assert "No fixes to apply" in diff.stderr and diff.stdout == ""
    result = pipelint("fix", "c.yaml", "--isolated")
    assert result.exit_code == 1 and result.stderr == ""  # a finding left, no internal error
    assert (in_tmp / "c.yaml").read_bytes() == CONNECTOR
    assert "c.yaml:6:24: error REG001 connector" in result.stdout  # no [*]
    assert "(no automatic fix: the fixed text would not parse:" in result.stdout


def test_a_fix_that_fails_at_write_time_leaves_the_file_alone(in_tmp, monkeypatch):
    """Defence in depth: were check's trial ever wrong, fix verifies again and writes nothing."""
    import pipelint.findings.fixplan as fixplan
    import pipelint.yamldoc.yamltext as yamltext

    real = yamltext.replace_scalar
    monkeypatch.setattr(fixplan, "settle", lambda src, docs, findings, full=True, unparsed=False: None)
    monkeypatch.setattr(yamltext, "replace_scalar",
                        lambda text, node, value, verbatim=False: real(text, node, value, verbatim)[:2] + ("oops: x",))
    (in_tmp / "c.yaml").write_bytes(CONNECTOR)
    result = pipelint("fix", "c.yaml", "--isolated")
    assert result.exit_code == 2
    assert (in_tmp / "c.yaml").read_bytes() == CONNECTOR
    assert result.stderr.startswith("pipelint: internal error: c.yaml: a fix was not applied, the file is "
                                    "left unchanged: the fixed text would not parse:")


def test_quoting_follows_the_new_value(in_tmp):
    from pipelint.text import source
    from pipelint.yamldoc import document
    from pipelint.yamldoc.yamltext import render_scalar

    assert render_scalar("harness/ci-addon:1.2", None) == "harness/ci-addon:1.2"
    assert render_scalar("true", None) == '"true"'
    assert render_scalar("a: b", None) == '"a: b"'
    assert render_scalar("it's", "'") == "'it''s'"
    assert render_scalar('say "x"', '"') == '"say \\"x\\""'
    assert render_scalar("x, y", None, flow=True) == '"x, y"'
    for value in ["true", "a: b", "# x", "- x", "1.5", "null", "x #y", "[a]", "it's", "", " lead"]:
        src = source.decode("t.yaml", f"k: {render_scalar(value, None)}\n".encode())
        docs, err = document.parse(src)
        assert err is None and docs[0].root.value[0][1].value == value
        assert document.implicit_tag(docs[0].root.value[0][1]) == document.STR_TAG


def _appending(path, lines: int):
    """A person saving the file between pipelint reading it and replacing it (the seam fixer calls)."""
    def before_replace(target):
        if os.path.basename(target) == os.path.basename(path):
            with open(path, "ab") as fh:
                fh.write(b"".join(b"# saved by a person %d\n" % i for i in range(lines)))
    return before_replace


def test_fix_never_loses_a_concurrent_edit(in_tmp, monkeypatch):
    import pipelint.text.files as fixer

    (in_tmp / "c.yaml").write_bytes(CONNECTOR)
    (in_tmp / "other.yaml").write_bytes(CONNECTOR)
    monkeypatch.setattr(fixer, "_before_replace", _appending(in_tmp / "c.yaml", 2000))
    result = pipelint("fix", "c.yaml", "other.yaml", "--isolated")
    assert result.exit_code == 2
    assert "c.yaml changed while fixing; run again" in result.stderr
    data = (in_tmp / "c.yaml").read_bytes()
    assert data.startswith(CONNECTOR) and data.count(b"# saved by a person") == 2000  # all of it kept
    # the other file was fixed as usual
    assert (in_tmp / "other.yaml").read_bytes() == (FIXTURES / "REG001" / "bad_connector.fixed.yaml").read_bytes()
    monkeypatch.setattr(fixer, "_before_replace", lambda path: None)
    again = pipelint("fix", "c.yaml", "--isolated")  # run again: now it applies, keeping the edit
    assert again.exit_code == 0 and again.stderr == ""
    assert (in_tmp / "c.yaml").read_bytes().count(b"# saved by a person") == 2000


def test_pin_never_loses_a_concurrent_edit(in_tmp, monkeypatch):
    import json

    import pipelint.text.files as fixer

    (in_tmp / ".harness").mkdir()
    pipeline = (b"pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: s\n        type: CI\n"
                b"        spec:\n          execution:\n            steps:\n              - step:\n"
                b"                  identifier: r\n                  type: Run\n                  spec:\n"
                b"                    image: alpine:3.20\n")
    (in_tmp / ".harness" / "p.yaml").write_bytes(pipeline)
    digest = "sha256:" + "a" * 64
    (in_tmp / "pipelint.lock").write_text(json.dumps({"version": 1, "images": {
        "docker.io/library/alpine:3.20": {"digest": digest, "resolved_at": "2026-12-01T00:00:00Z"}}}))
    monkeypatch.setattr(fixer, "_before_replace", _appending(in_tmp / ".harness" / "p.yaml", 3))
    result = pipelint("pin", ".harness", "--isolated", "--offline")
    assert result.exit_code == 2, result.stdout + result.stderr
    assert "p.yaml: changed while pinning; run again" in result.stderr
    assert (in_tmp / ".harness" / "p.yaml").read_bytes() == pipeline + b"".join(
        b"# saved by a person %d\n" % i for i in range(3))


def test_auto_target_moves_a_connector_with_credentials_to_docker_hub_as_an_unsafe_fix(in_tmp):
    connector = (FIXTURES / "REG001" / "bad_no_final_newline.yaml").read_bytes()  # UsernamePassword
    assert b"UsernamePassword" in connector
    (in_tmp / "c.yaml").write_bytes(connector)
    safe = pipelint("fix", "c.yaml", "--isolated")
    assert (in_tmp / "c.yaml").read_bytes() == connector  # not without --unsafe-fixes
    assert "credentials are for that registry" in safe.stdout
    pipelint("fix", "c.yaml", "--isolated", "--unsafe-fixes")
    assert b"https://registry.hub.docker.com" in (in_tmp / "c.yaml").read_bytes()


def test_fix_creates_no_warning_of_its_own(in_tmp):
    """Right after `fix`, no default rule reports a problem the fix created (REG003 after a move to Docker Hub)."""
    import shutil

    shutil.copytree(ROOT / "examples", in_tmp / "ex")
    before = {(f["code"]) for f in pipelint("check", "ex", "--isolated", "--format", "json").json()["findings"]}
    pipelint("fix", "ex", "--isolated")
    after = {(f["code"]) for f in pipelint("check", "ex", "--isolated", "--format", "json").json()["findings"]}
    assert after <= before, after - before


def test_fix_reads_the_worker_s_check_ahead_as_it_would_check_again(tmp_path, monkeypatch):
    """A worker checks its trial's text ahead (FileReport.after) so that fix neither parses a fixed file again nor
    sends it through the pool a second time: with and without that, fix writes the same files and says the same,
    on the fixtures (aliases, merge keys, Terraform, templates, overlapping fixes) and generated pipelines."""
    import shutil

    from synthetic import generate

    from pipelint.engine import run as runlib

    trees = {}
    original = runlib.Runner.check_sources
    for ahead in (0, runlib.AHEAD):
        root = tmp_path / f"ahead{ahead}"
        shutil.copytree(FIXTURES, root, ignore=shutil.ignore_patterns("*.fixed.yaml", "*.fixed.tf"))
        generate(str(root / "generated"), 40, seed=31)
        calls: list[int] = []
        monkeypatch.setattr(runlib, "AHEAD", ahead)
        monkeypatch.setattr(runlib.Runner, "check_sources", lambda self, sources, jobs=None, calls=calls:
                            calls.append(len(sources)) or original(self, sources, jobs))
        monkeypatch.chdir(root)
        result = pipelint("fix", ".", "--isolated", "--select", "ALL", "--unsafe-fixes", "--show-fixes")
        files = {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
                 and ".pipelint_cache" not in p.parts}
        trees[ahead] = (result.exit_code, result.stdout, result.stderr, files, calls)
    without, with_ahead = trees[0], trees[runlib.AHEAD]
    assert without[:4] == with_ahead[:4]
    assert "Fixed" in with_ahead[1] or "Fixed" in with_ahead[2]
    # without checking ahead, every fixed file goes through check_sources again; with it, only those whose fixes
    # were not the trial's (unsafe ones, a cross-file fix)
    assert sum(without[4][1:]) > 2 * sum(with_ahead[4][1:]), (without[4], with_ahead[4])


# Found by fuzzing check and fix with mutated fixtures: cases where `check`'s shortcut (the trial only where it
# can refuse a fix) and `fix`'s full trial disagreed, or the fix planner failed.
DISAGREED = {
    "syntax_error_in_a_later_document": (
        " connector: {name: h, identifier: harnessImage, type: DockerRegistry, spec: {dockerRegistryUrl: "
        "'app.harness.io/registry/', auth: {type: Anonymous}}}\n"
        "connector: {name: h}\n"
    ),
    "typo_under_a_repeated_key": (
        "pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        name: b\n        identifier: b\n"
        "        type: Custom\n        spec:\n          executoin: {}\n  stages: []\n"
    ),
    "typo_in_a_file_with_an_alias": (
        "pipeline:\n  name: &n p\n  identifier: p\n  description: *n\n  stgaes: []\n"
    ),
    "explicit_key_without_a_value_last": (  # libyaml reads no new key on the line after `? c`
        "pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        name: b\n        identifier: b\n"
        "        type: CI\n        spec:\n          infrastructure:\n            type: KubernetesDirect\n"
        "            spec:\n              connectorRef: account.k8s\n              ? c\n"
        "          execution:\n            steps: []\n"
    ),
    "two_stages_read_one_anchored_spec_in_a_template": (  # one insertion for both: made twice in the file
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: a\n        type: CI\n"
        "        spec:\n          infrastructure:\n            type: KubernetesDirect\n            spec: &k8s\n"
        "              connectorRef: account.k8s  # ${var.cluster}\n    - stage:\n        identifier: b\n"
        "        type: CI\n        spec:\n          infrastructure:\n            type: KubernetesDirect\n"
        "            spec: *k8s\n"
    ),
    "unsafe_rename_in_an_anchor_a_safe_fix_copies": (  # each passes its trial, not both at once: two passes
        "pipeline:\n  identifier: p\n  variables:\n    - name: infra\n      value: &k8s\n"
        "        connectorRef: account.k8s\n        namspace: builds\n  stages:\n    - stage:\n"
        "        identifier: b\n        type: CI\n        spec:\n          infrastructure:\n"
        "            type: KubernetesDirect\n            spec: *k8s\n"
    ),
    "two_typos_of_one_key": (  # each rename alone applies, both would repeat the key: the second waits a pass
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
        "        spec:\n          runtime:\n            type: Docker\n"
        "            spec: {harnessImageConnectoRef: k, harnessImageConnectorrRef: account.mirror}\n"
        "          execution: {steps: []}\n"
    ),
    "typo_in_an_arm_the_other_rendering_of_which_is_invalid": (  # the fix is verified in both renderings
        "pipeline:\n  identifier: p\n%{ if a }\n  stgaes: []\n%{ else }\n  stages: [\n%{ endif }\n"
    ),
    "explicit_key_with_its_value": (  # a fix applies here
        "pipeline:\n  name: p\n  identifier: p\n  stages:\n    - stage:\n        name: b\n        identifier: b\n"
        "        type: CI\n        spec:\n          infrastructure:\n            type: KubernetesDirect\n"
        "            spec:\n              ? connectorRef\n              : account.k8s\n"
        "          execution:\n            steps: []\n"
    ),
}


@pytest.mark.parametrize("case", sorted(DISAGREED))
def test_check_offers_exactly_the_fixes_fix_applies(case, in_tmp, snapshot):
    (in_tmp / ".harness").mkdir()
    path = in_tmp / ".harness" / "f.yaml"
    path.write_text(DISAGREED[case])
    (in_tmp / ".pipelint.toml").write_text('[rules.CON001]\nimage-connector = "account.mirror"\n')
    args = (".", "--select", "ALL", "--no-cache")
    check = pipelint("check", *args)
    offered = [f for f in pipelint("check", *args, "--format", "json").json()["findings"] if f["fix"]]
    assert check.stderr == "" and check.stdout == snapshot
    fixed = pipelint("fix", *args[:-1], "--unsafe-fixes", "--format", "json")
    assert fixed.stderr == ""
    assert fixed.json()["fixed"] == len(offered)
    assert (path.read_text() != DISAGREED[case]) == bool(offered)

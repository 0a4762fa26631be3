"""The command line as users meet it: selection, configuration, suppression, stdin, exit codes, colour."""

from __future__ import annotations

import os
import textwrap

import pytest
from conftest import FIXTURES, ROOT, pipelint, pipelint_process

BAD_IMAGES = (FIXTURES / "IMG001" / "bad_untagged.yaml").read_text()


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_version():
    from pipelint import __version__

    assert pipelint("--version").stdout == f"pipelint {__version__}\n"


def test_python_dash_m_and_examples(snapshot):
    result = pipelint_process("check", "examples", cwd=ROOT, env={"NO_COLOR": "1"})
    assert result.returncode == 1
    assert result.stderr == b""
    assert result.stdout.decode() == snapshot


def test_rules_listing_and_rule_docs(snapshot):
    assert pipelint("rules").stdout == snapshot(name="rules")
    by_code = pipelint("rule", "REG001")
    assert by_code.exit_code == 0 and by_code.stdout == snapshot(name="REG001")
    assert pipelint("rule", "retired-harness-registry").stdout == by_code.stdout
    unknown = pipelint("rule", "NOPE1")
    assert unknown.exit_code == 2 and "unknown rule 'NOPE1'" in unknown.stderr


@pytest.mark.parametrize("args,codes", [
    ([], {"IMG001"}),
    (["--select", "IMG"], {"IMG001", "IMG005"}),  # IMG003 too, as in ruff, but IMG001 already says it of an untagged image
    (["--select", "IMG003"], {"IMG003"}),
    (["--extend-select", "unpinned-image"], {"IMG001"}),  # one finding per problem
    # its ignore comment suppresses nothing now; the stage says nowhere where it runs (CON005, off by default)
    (["--select", "ALL", "--ignore", "IMG001,IMG003,IMG005"], {"YML005", "CON005"}),
    (["--ignore", "untagged-image"], set()),
])
def test_selection(args, codes, in_tmp):
    write(in_tmp / "p.yaml", BAD_IMAGES)
    result = pipelint("check", "p.yaml", "--isolated", "--format", "json", *args)
    assert {f["code"] for f in result.json()["findings"]} == codes


def test_unknown_selector_is_a_usage_error(in_tmp):
    write(in_tmp / "p.yaml", BAD_IMAGES)
    result = pipelint("check", "p.yaml", "--isolated", "--select", "IMG9")
    assert result.exit_code == 2
    assert result.stderr == ("pipelint: error: --select: unknown rule selector 'IMG9' (a code like REG001, a prefix "
                             "like IMG, a rule name like untagged-image, or ALL)\n")


def test_exit_codes(in_tmp):
    write(in_tmp / "bad.yaml", BAD_IMAGES)
    write(in_tmp / "good.yaml", "pipeline: {name: p, identifier: p, stages: []}\n")
    assert pipelint("check", "good.yaml", "--isolated").exit_code == 0
    assert pipelint("check", "bad.yaml", "--isolated").exit_code == 1
    assert pipelint("check", "bad.yaml", "--isolated", "--exit-zero").exit_code == 0
    missing = pipelint("check", "good.yaml", "nope.yaml", "--isolated")
    assert missing.exit_code == 2
    assert missing.stderr == "pipelint: error: nope.yaml: no such file or directory\n"
    assert missing.stdout == "No problems found, but 1 error kept pipelint from checking everything.\n"  # not a pass


def test_json_contract(in_tmp):
    write(in_tmp / "sub" / "bad.yaml", BAD_IMAGES)
    data = pipelint("check", "sub", "--isolated", "--format", "json").json()
    assert data["version"] == 1 and data["files_checked"] == 1
    first = data["findings"][0]
    assert list(first) == ["code", "name", "severity", "message", "path", "line", "column", "end_line",
                           "end_column", "fixable", "fix"]  # fields are only added within a version
    assert list(data) == ["version", "findings", "files_checked", "errors"] and data["errors"] == []
    assert first["path"] == os.path.join("sub", "bad.yaml")
    keys = [(f["path"], f["line"], f["column"], f["code"]) for f in data["findings"]]
    assert keys == sorted(keys)


def test_walk_skips_excluded_and_non_harness(in_tmp):
    write(in_tmp / "a.yaml", BAD_IMAGES)
    write(in_tmp / "node_modules" / "x.yaml", BAD_IMAGES)
    write(in_tmp / ".git" / "x.yaml", BAD_IMAGES)
    write(in_tmp / "legacy" / "old.yml", BAD_IMAGES)
    write(in_tmp / "k8s.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: alpine\n")
    write(in_tmp / "workflow.yml", "on: push\njobs:\n  b:\n    runs-on: x\n    container: alpine\n")
    write(in_tmp / "azure-pipelines.yml", "trigger:\n  branches:\n    include: [main]\npool: {vmImage: x}\n")
    write(in_tmp / "notes.txt", BAD_IMAGES)
    write(in_tmp / ".pipelint.toml", 'exclude = ["legacy"]\n')
    data = pipelint("check", "--format", "json").json()
    assert {f["path"] for f in data["findings"]} == {"a.yaml"}
    assert data["files_checked"] == 4
    # named explicitly, an excluded file is checked, unless --force-exclude
    assert pipelint("check", "legacy/old.yml").exit_code == 1
    assert pipelint("check", "legacy/old.yml", "--force-exclude").exit_code == 0


def test_stdin(in_tmp):
    result = pipelint("check", "-", "--isolated", input=BAD_IMAGES)
    assert result.stdout.startswith("-:14:24: error IMG001 ")
    named = pipelint("check", "-", "--isolated", "--stdin-filename", "ci/p.yaml", input=BAD_IMAGES)
    assert named.stdout.startswith("ci/p.yaml:14:24: error IMG001 ")
    headless = "stages:\n  - stage:\n      identifier: s\n      type: CI\n      spec:\n        execution:\n" \
               "          steps:\n            - step: {type: Run, identifier: r, spec: {image: alpine}}\n"
    assert pipelint("check", "-", "--isolated", input=headless).stdout.startswith("No Harness configuration in the 1 file")
    under = pipelint("check", "-", "--isolated", "--stdin-filename", ".harness/p.yaml", input=headless)
    assert under.stdout.startswith(".harness/p.yaml:8:62: error IMG001 ")


def _on_a_terminal(args, env):
    """Run pipelint with its standard output on a real pseudo-terminal; return what it printed."""
    import pty
    import subprocess
    import sys

    main_fd, child_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "pipelint", *args], stdout=child_fd, stderr=child_fd,
                            env=env)
    os.close(child_fd)
    chunks = []
    while True:
        try:
            data = os.read(main_fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(main_fd)
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(in_tmp):
    write(in_tmp / "bad.yaml", BAD_IMAGES)
    assert "\x1b[" not in pipelint("check", "bad.yaml", "--isolated").stdout  # not a terminal
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert "\x1b[" in _on_a_terminal(["check", "bad.yaml", "--isolated"], env)
    plain = _on_a_terminal(["check", "bad.yaml", "--isolated"], dict(env, NO_COLOR="1"))
    assert "\x1b[" not in plain and "IMG001" in plain
    assert "\x1b[" not in _on_a_terminal(["check", "bad.yaml", "--isolated", "--format", "json"], env)


def test_configuration_pyproject_and_options(in_tmp):
    write(in_tmp / "pyproject.toml", """
        [project]
        name = "x"
        [tool.pipelint]
        extend-select = ["IMG003"]
        per-file-ignores = { "legacy/*" = ["IMG"] }
        [tool.pipelint.rules.untagged-image]
        severity = "warning"
    """)
    write(in_tmp / "p.yaml", BAD_IMAGES)
    write(in_tmp / "legacy" / "p.yaml", BAD_IMAGES)
    write(in_tmp / "sub" / "dir" / ".keep", "")
    data = pipelint("check", "--format", "json").json()
    assert {f["path"] for f in data["findings"]} == {"p.yaml"}
    assert {(f["code"], f["severity"]) for f in data["findings"]} == {("IMG001", "warning")}
    os.chdir(in_tmp / "sub" / "dir")  # found by walking up
    data = pipelint("check", "../../p.yaml", "--format", "json", "--select", "IMG003").json()
    assert {f["code"] for f in data["findings"]} == {"IMG003"}  # the configuration applies: IMG003 enabled
    assert {f["code"] for f in pipelint("check", "../../p.yaml", "--isolated", "--format", "json").json()["findings"]} == {"IMG001"}


@pytest.mark.parametrize("config,message", [
    ('selct = ["IMG"]\n', "{cfg}: unknown key 'selct' (allowed: select, extend-select, ignore, exclude, per-file-ignores, max-file-size, rules, custom-rules)"),
    ('select = ["XYZ"]\n', "{cfg}: 'select': unknown rule selector 'XYZ' (a code like REG001, a prefix like IMG, a rule name like untagged-image, or ALL)"),
    ('select = "IMG"\n', "{cfg}: 'select' must be a list of strings"),
    ('[rules.NOPE001]\nx = 1\n', "{cfg}: unknown rule 'rules.NOPE001' (see `pipelint rules`)"),
    ('[rules.CON001]\nimage-conector = "account.x"\n', "{cfg}: 'rules.CON001.image-conector' is not an option of CON001 (allowed: image-connector, severity)"),
    ('[rules.IMG001]\nseverity = "fatal"\n', "{cfg}: 'rules.IMG001.severity' = \"fatal\": expected \"error\" | \"warning\" | \"info\""),
    ('[rules.REG001]\ntarget = "quay"\n', "{cfg}: 'rules.REG001.target' = \"quay\": expected \"auto\", \"dockerhub\", \"gar\", \"gcr\", \"ecr\" or a URL like \"https://my.registry.example/harness\""),
    ('[rules.CON003]\nrequire-known = "yes"\n', "{cfg}: 'rules.CON003.require-known' = \"yes\": expected true or false"),
    ('[rules.CON003]\nrequire-known = 1\n', "{cfg}: 'rules.CON003.require-known' = 1: expected true or false"),
    ("select = [\n", "{cfg}: invalid TOML: "),
    # a repository's configuration cannot lift the memory bound: a 1 GB file would take 150 GB to parse
    ("max-file-size = 1000\n", "{cfg}: 'max-file-size' must be a positive number of megabytes, at most 32 (a "
                               "file's node graph takes up to 150 times its size)\n"),
    ("max-file-size = -1\n", "{cfg}: 'max-file-size' must be a positive number of megabytes, at most 32"),
])
def test_configuration_errors(config, message, in_tmp):
    write(in_tmp / ".pipelint.toml", config)
    write(in_tmp / "p.yaml", BAD_IMAGES)
    result = pipelint("check", "p.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("pipelint: error: " + message.format(cfg=".pipelint.toml"))
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_pyproject_errors_name_the_table(in_tmp):
    write(in_tmp / "pyproject.toml", "[tool.pipelint]\nignored = []\n")
    result = pipelint("check", "--config", "pyproject.toml")
    assert result.exit_code == 2
    assert "pyproject.toml: unknown key 'tool.pipelint.ignored'" in result.stderr


def test_configuration_not_utf8(in_tmp):
    (in_tmp / ".pipelint.toml").write_bytes(b'select = ["IMG\xe9"]\n')
    write(in_tmp / "p.yaml", BAD_IMAGES)
    result = pipelint("check", "p.yaml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "pipelint: error: .pipelint.toml: invalid TOML: not UTF-8 (invalid continuation byte at byte 14)\n"


def test_config_and_isolated_conflict(in_tmp):
    write(in_tmp / ".pipelint.toml", "")
    assert pipelint("check", "--config", ".pipelint.toml", "--isolated").exit_code == 2
    assert pipelint("check", "--config", "missing.toml").exit_code == 2


def test_suppression_comments(in_tmp, snapshot):
    write(in_tmp / "p.yaml", """
        pipeline:
          name: p
          identifier: p
          stages:
            - stage:
                identifier: s
                type: CI
                spec:
                  execution:
                    steps:
                      - step:
                          type: Run
                          identifier: a
                          spec:
                            image: alpine   # pipelint: ignore[IMG001]
                      - step:
                          type: Run
                          identifier: b
                          spec:
                            # pipelint: ignore
                            image: busybox
                      - step:
                          type: Run
                          identifier: c
                          spec:
                            image: debian   # pipelint: ignore[IMG002]
                            command: |
                              # pipelint: ignore
                              echo the line above is shell text, not a comment
                      - step:
                          type: Run
                          identifier: d
                          spec:
                            command: "echo
                              # pipelint: ignore"
                            image: ubuntu
    """)
    result = pipelint("check", "p.yaml", "--isolated")
    assert result.stdout == snapshot
    assert [line.split(":")[1] for line in result.stdout.splitlines()[:-1]] == ["27", "37"]
    write(in_tmp / "q.yaml", (in_tmp / "p.yaml").read_text() + "# pipelint: ignore-file[untagged-image]\n")
    assert pipelint("check", "q.yaml", "--isolated").stdout == "All checks passed.\n"


def test_invalid_target_option(in_tmp):
    write(in_tmp / "p.yaml", BAD_IMAGES)
    result = pipelint("check", "p.yaml", "--isolated", "--target", "https://app.harness.io/registry")
    assert result.exit_code == 2
    assert result.stderr == "pipelint: error: --target 'https://app.harness.io/registry': the target cannot be the retired registry\n"


def test_no_yaml_files_is_said(in_tmp):
    (in_tmp / "notes.txt").write_text("x")
    result = pipelint("check", ".", "--isolated")
    assert (result.exit_code, result.stdout) == (0, "No files were checked.\n")
    assert result.stderr == "pipelint: warning: no YAML files found in .\n"


# --- the pre-commit path: `check` and `fix` with paths and plain flags run without click (console.py) ----

FAST_ARGS = [
    ["check", "p.yaml"],
    ["check", "--isolated", "p.yaml", "ok.yaml"],
    ["check", "--force-exclude", "--no-cache", "p.yaml", "vendor/p.yaml"],
    ["check", "--exit-zero", "--statistics", "."],
    ["check", "missing.yaml", "p.yaml"],
    ["check"],
    ["check", "ok.yaml"],
    ["check", "--isolated", "broken.toml.d"],
    ["fix", "--force-exclude", "reg.yaml", "vendor/p.yaml"],
    ["fix", "--diff", "--isolated", "p.yaml", "missing.yaml"],
    ["fix", "--show-fixes", "--unsafe-fixes", "--exit-zero", "."],
    ["fix", "--statistics", "ok.yaml"],
    ["check", "-q", "p.yaml", "reg.yaml"],
    ["fix", "--quiet", "--show-fixes", "reg.yaml"],
    ["check", "--exit-zero", "--", "-p.yaml", "--select=X.yaml"],  # after `--`, paths (missing ones here)
]


def _tree(root):
    write(root / "p.yaml", BAD_IMAGES)
    write(root / "vendor" / "p.yaml", BAD_IMAGES)
    write(root / "ok.yaml", "pipeline:\n  identifier: p\n  stages: []\n")
    write(root / "reg.yaml", (FIXTURES / "REG001" / "bad_images.yaml").read_text())
    write(root / "pyproject.toml", '[project]\nname = "x"\n\n[tool.pipelint]\nexclude = ["vendor"]\n'
                                   '[tool.pipelint.rules.CON001]\nimage-connector = "account.mirror"\n')
    (root / "broken.toml.d").mkdir()


def _files(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and ".pipelint_cache" not in p.parts}  # the cache holds times


@pytest.mark.parametrize("args", FAST_ARGS, ids=" ".join)
def test_pre_commit_path_answers_as_click_does(args, tmp_path, monkeypatch):
    """The same arguments give the same output, errors, exit status and files with or without click."""
    from pipelint.app.entry import fast_args

    assert fast_args(args) is not None
    fast_root, click_root = tmp_path / "fast", tmp_path / "click"
    for root in (fast_root, click_root):
        root.mkdir()
        _tree(root)
    fast = pipelint_process(*args, cwd=fast_root)
    monkeypatch.chdir(click_root)
    slow = pipelint(*args)  # click's command line, in-process
    assert (fast.returncode, fast.stdout.decode(), fast.stderr.decode()) == (slow.exit_code, slow.stdout, slow.stderr)
    assert _files(fast_root) == _files(click_root)
    if args[0] == "fix" and "--diff" not in args and "ok.yaml" not in args:
        pristine = tmp_path / "pristine"
        pristine.mkdir()
        _tree(pristine)
        assert _files(fast_root) != _files(pristine)  # the fix wrote, both ways alike


@pytest.mark.parametrize("args", [["check", "--format", "json", "p.yaml"], ["check", "--help"], ["check", "-x"],
                                  ["fix", "--target", "gar", "p.yaml"], ["fix", "--no-cache", "p.yaml"],
                                  ["pin", "p.yaml"], ["--version"], []])
def test_anything_else_goes_to_click(args):
    from pipelint.app.entry import fast_args

    assert fast_args(args) is None


@pytest.mark.parametrize("name", ["check", "fix"])
def test_fast_flags_are_clicks_flags_off_by_default(name):
    from pipelint.app import cli
    from pipelint.app.entry import FAST_COMMANDS

    command = cli.main.commands[name]
    params = {opt: p for p in command.params for opt in p.opts}
    defaults = command.make_context(name, []).params
    for flag, param in FAST_COMMANDS[name][1].items():
        assert params[flag].is_flag and params[flag].name == param and defaults[param] is False
        assert command.make_context(name, [flag]).params[param] is True


@pytest.mark.parametrize("command", ["check", "fix"])
def test_pre_commit_path_imports_little(command, in_tmp):
    """What makes start-up slow stays out of the pre-commit path (bench/bench.py measures the time):
    click, the TOML parser where no configuration names pipelint, typing, hashlib, dataclasses (and inspect)."""
    write(in_tmp / "p.yaml", BAD_IMAGES)
    write(in_tmp / "pyproject.toml", '[project]\nname = "x"\n')
    # what the interpreter loaded before pipelint (site's .pth files may import typing, say) is not counted
    code = ("import sys\nbefore = set(sys.modules)\n"
            f"sys.argv = ['pipelint', '{command}', 'p.yaml']\n"
            "from pipelint.app.entry import run\ntry:\n    run()\nexcept SystemExit:\n    pass\n"
            "new = set(sys.modules) - before\n"
            "print(sorted(m for m in ('click', 'tomllib', 'typing', 'hashlib', 'dataclasses', 'inspect') if m in new), file=sys.stderr)")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", code], cwd=in_tmp, capture_output=True, text=True, timeout=60)
    assert "IMG001" in proc.stdout
    assert proc.stderr.strip() == "[]"


def test_json_reports_paths_it_could_not_check(in_tmp):
    write(in_tmp / "p.yaml", BAD_IMAGES)
    result = pipelint("check", "p.yaml", "nope.yaml", "--isolated", "--format", "json")
    assert result.exit_code == 2
    assert result.json()["errors"] == [{"path": "nope.yaml", "message": "no such file or directory", "kind": "error"}]
    assert {f["code"] for f in result.json()["findings"]} == {"IMG001"}  # the other file was checked


def test_unsafe_fixes_are_marked_and_counted(in_tmp):
    import shutil

    shutil.copytree(ROOT / "examples", in_tmp / "ex")
    text = pipelint("check", "ex", "--isolated").stdout
    assert "REG004 [~] " in text and "REG001 [*] " in text
    stats = pipelint("check", "ex", "--isolated", "--statistics").stdout
    assert "REG004  image-connector-through-delegate  [~] 1 unsafe" in stats
    data = pipelint("check", "ex", "--isolated", "--format", "json").json()
    reg004 = next(f for f in data["findings"] if f["code"] == "REG004")
    assert reg004["fixable"] is False and reg004["fix"]["applicability"] == "unsafe"


def test_no_color_needs_a_value_and_force_color_colours_a_pipe(in_tmp):
    write(in_tmp / "p.yaml", BAD_IMAGES)
    assert "\x1b[" in pipelint_process("check", "p.yaml", "--isolated", cwd=in_tmp,
                                        env={"FORCE_COLOR": "1", "NO_COLOR": ""}).stdout.decode()
    assert "\x1b[" not in pipelint_process("check", "p.yaml", "--isolated", cwd=in_tmp,
                                            env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout.decode()


def test_rule_docs_speak_toml_and_name_severity():
    text = pipelint("rule", "CON003").stdout
    assert "- `require-known` (default false):" in text
    assert '- `severity` (default "error"): "error", "warning" or "info"' in text
    assert "- `image-connector` (no default):" in pipelint("rule", "CON001").stdout
    assert "(default '" not in text and "default None" not in text  # no Python reprs


def test_closing_lines_say_what_happened(in_tmp):
    """ruff's habits (issue 27): --statistics and fix --diff end with a summary, a baseline says what it hid, a
    missing path is one line, a [pipelint] table in pyproject.toml is not silently ignored, and the report's
    verdict names the registry it speaks of."""
    (in_tmp / "p.yaml").write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
        "        spec:\n          execution:\n            steps:\n              - step:\n                  type: Run\n"
        "                  identifier: r\n                  spec: {image: app.harness.io/registry/harness/ci-addon:1.16.4}\n")
    stats = pipelint("check", "p.yaml", "--isolated", "--statistics")
    assert stats.stdout.splitlines()[-2:] == ["Found 1 problem in 1 file (1 error; 1 fixable).",
                                              "[*] 1 fixable with `pipelint fix`."]
    diff = pipelint("fix", "p.yaml", "--isolated", "--diff")
    assert diff.stdout.startswith("--- a/p.yaml") or diff.stdout.startswith("diff --git")
    assert diff.stderr == "Would fix 1 problem in 1 file.\n"
    assert pipelint("check", "p.yaml", "--isolated", "--write-baseline", "b.json").exit_code == 0
    hidden = pipelint("check", "p.yaml", "--isolated", "--baseline", "b.json")
    assert hidden.stdout == "All checks passed.\n1 finding hidden by the baseline b.json\n"
    missing = pipelint("check", "gone.yaml", "--isolated")
    assert (missing.exit_code, missing.stdout, missing.stderr) == (
        2, "", "pipelint: error: gone.yaml: no such file or directory\n")
    (in_tmp / "pyproject.toml").write_text('[pipelint]\nselect = ["REG001"]\n')
    warned = pipelint("check", "p.yaml")
    assert warned.stderr == ("pipelint: warning: pyproject.toml: the [pipelint] table is not read; in pyproject.toml "
                             "write [tool.pipelint] (or move the table, without the prefix, to .pipelint.toml)\n")
    report = pipelint("report", "p.yaml", "--isolated").stdout
    assert "**1 image still comes from the retired registry app.harness.io/registry; 1 problem left" in report


@pytest.mark.parametrize("where", ["a full disk", "closed", "a closed pipe", "fix's text, a full disk"])
def test_standard_output_that_cannot_take_the_report_is_one_error_line(tmp_path, where):
    """`check > /dev/full` said `internal error: OSError ...; please report it`, and with standard output closed
    (`>&-`) an AttributeError. It is the user's setup, not a bug: one error line, exit 2; and a reader that stops
    early (`| head`) still ends the run quietly with the findings' exit status."""
    import subprocess
    import sys

    (tmp_path / "p.yaml").write_text(BAD_IMAGES)
    cmd = [sys.executable, "-m", "pipelint", "check", "p.yaml", "--isolated"]
    if where == "a closed pipe":
        proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the report is written
        assert (proc.wait(timeout=60), proc.stderr.read()) == (1, b"")
        return
    if where == "fix's text, a full disk":  # `fix -` writes the fixed text itself, as bytes
        cmd[3:5] = ["fix", "-"]
    if "a full disk" in where:
        with open("/dev/full", "w") as full, open(tmp_path / "p.yaml", "rb") as stdin:
            result = subprocess.run(cmd, cwd=tmp_path, stdin=stdin, stdout=full, stderr=subprocess.PIPE, timeout=60)
    else:
        result = subprocess.run(["sh", "-c", 'exec "$@" >&-', "sh", *cmd], cwd=tmp_path, stderr=subprocess.PIPE,
                                timeout=60)
    why = "No space left on device" if "a full disk" in where else "it is closed"
    assert (result.returncode, result.stderr.decode()) == (2, f"pipelint: error: cannot write to standard output: {why}\n")


def test_standard_output_that_is_not_utf8_still_gets_every_report(tmp_path):
    """With PYTHONIOENCODING=ascii (or a Latin-1 locale), a file named café.yaml ended the run in `internal error:
    UnicodeEncodeError`. Text shows what the encoding lacks as an escape; JSON, SARIF, GitLab, JUnit and a diff are
    UTF-8, as their readers (and `git apply`) expect."""
    import json
    import subprocess
    import sys

    (tmp_path / "café.yaml").write_text((FIXTURES / "REG001" / "bad_images.yaml").read_text())
    env = dict(os.environ, PYTHONIOENCODING="ascii")

    def run(*args):
        result = subprocess.run([sys.executable, "-m", "pipelint", *args, "café.yaml", "--isolated"], cwd=tmp_path,
                                capture_output=True, env=env, timeout=60)
        assert b"Traceback" not in result.stderr and b"internal error" not in result.stderr, result.stderr
        return result

    text = run("check")
    assert text.returncode == 1 and text.stdout.decode("ascii").startswith("caf\\xe9.yaml:")
    for fmt in ("json", "gitlab", "sarif", "junit"):
        out = run("check", "--format", fmt).stdout.decode("utf-8")
        assert ("caf%C3%A9.yaml" if fmt == "sarif" else "café.yaml") in out, fmt
    assert json.loads(run("check", "--format", "json").stdout)["findings"][0]["path"] == "café.yaml"
    assert "--- a/café.yaml\n+++ b/café.yaml\n" in run("fix", "--diff").stdout.decode("utf-8")

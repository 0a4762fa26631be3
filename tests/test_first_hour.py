"""A ruff user's first hour (issue 13): the text styles, severities, exit policy, colour, quiet/verbose, the
settings and files a run uses, usage errors, suppression checks, and the report's outputs."""
from __future__ import annotations

import textwrap

import pytest
from conftest import pipelint, pipelint_process

PIPELINE = """\
pipeline:
  name: build
  identifier: build
  stages:
    - stage:
        name: build
        identifier: build
        type: CI
        spec:
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s
          execution:
            steps:
              - step:
                  type: Run
                  identifier: test
                  spec:
                    image: {image}
                    command: |
                      go test ./...
"""


def write(path, text: str, newline: str = "\n"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(textwrap.dedent(text).replace("\n", newline).encode())
    return path


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_full_style_shows_the_source_line_a_marker_and_the_fix(in_tmp, newline, snapshot):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine"), newline)
    (in_tmp / "c.toml").write_text('[rules.CON001]\nimage-connector = "account.mirror"\n')
    result = pipelint("check", "p.yaml", "--config", "c.toml", "--format", "full")
    assert result.exit_code == 1
    assert "\r" not in result.stdout
    assert result.stdout == snapshot


def test_full_style_cuts_a_long_line_around_the_span(in_tmp):
    image = "registry.example.com/" + "very-long-path/" * 12 + "tool"
    write(in_tmp / "p.yaml", PIPELINE.format(image=image))
    out = pipelint("check", "p.yaml", "--isolated", "--select", "IMG001", "--format", "full").stdout
    source, marks = [line for line in out.splitlines() if line.startswith(("20 |", "   |")) and line.strip()][1:3]
    assert len(source) < 120 and source.endswith("…")
    assert marks.index("^") == source.index("registry.example.com")


def test_concise_is_one_line_each_with_its_severity(in_tmp):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine"))
    out = pipelint("check", "p.yaml", "--isolated", "--output-format", "concise").stdout.splitlines()
    assert out[0].startswith("p.yaml:10:11: warning CON001 ")
    assert out[1].startswith('p.yaml:20:28: error IMG001 image "alpine"')
    assert out[2] == "Found 2 problems in 1 file (1 error, 1 warning)."


def test_text_is_concise_in_a_pipe(in_tmp):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine"))
    out = pipelint_process("check", "p.yaml", "--isolated", cwd=in_tmp).stdout.decode()
    assert out.splitlines()[0].startswith("p.yaml:10:11: warning CON001") and " | " not in out


@pytest.mark.parametrize("fail_on, image, code", [
    ("warning", "alpine:3.20", 1),  # CON001, a warning
    ("error", "alpine:3.20", 0),
    ("error", "alpine", 1),  # IMG001, an error
])
def test_fail_on(in_tmp, fail_on, image, code):
    write(in_tmp / "p.yaml", PIPELINE.format(image=image))
    assert pipelint("check", "p.yaml", "--isolated", "--fail-on", fail_on).exit_code == code


def test_info_findings_are_reported_without_failing(in_tmp):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine:3.20"))
    (in_tmp / "c.toml").write_text('[rules.CON001]\nseverity = "info"\n')
    result = pipelint("check", "p.yaml", "--config", "c.toml")
    assert result.exit_code == 0 and ": info CON001 " in result.stdout
    assert pipelint("check", "p.yaml", "--config", "c.toml", "--fail-on", "info").exit_code == 1


@pytest.mark.parametrize("args, env, colored", [
    (["--color", "always"], {}, True),
    (["--color", "never"], {"FORCE_COLOR": "1"}, False),
    ([], {"FORCE_COLOR": "1"}, True),
    ([], {"FORCE_COLOR": "1", "NO_COLOR": "1"}, False),
    ([], {"FORCE_COLOR": "1", "NO_COLOR": ""}, True),  # an empty NO_COLOR does not count
])
def test_color(in_tmp, args, env, colored):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine"))
    out = pipelint_process("check", "p.yaml", "--isolated", *args, cwd=in_tmp,
                           env={"NO_COLOR": "", "FORCE_COLOR": "", **env}).stdout.decode()
    assert ("\x1b[" in out) == colored


def test_quiet_and_verbose(in_tmp):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine"))
    quiet = pipelint("check", "p.yaml", "--isolated", "-q", "--format", "concise")
    assert quiet.stdout.count("\n") == 2 and "Found" not in quiet.stdout
    verbose = pipelint_process("check", "p.yaml", "--isolated", "-v", cwd=in_tmp)
    err = verbose.stderr.decode()
    assert "pipelint: configuration: none found: the defaults; rules: YML001," in err
    assert "pipelint: checked 1 files in" in err


def test_version_flags():
    from pipelint import __version__

    for flag in ("-V", "--version"):
        assert pipelint(flag).stdout == f"pipelint {__version__}\n"


@pytest.mark.parametrize("args, message", [
    (["check", "--bogus"], "pipelint: error: No such option '--bogus'. (Did you mean one of: '--jobs', '--verbose'?) "
                           "(see `pipelint check --help`)"),
    (["nosuch"], "pipelint: error: No such command 'nosuch'. (see `pipelint --help`)"),
    (["check", "--fail-on", "never"], "pipelint: error: Invalid value for '--fail-on': 'never' is not one of 'error', "
                                      "'warning', 'info'. (see `pipelint check --help`)"),
])
def test_usage_errors_have_one_style(in_tmp, args, message):
    result = pipelint_process(*args, cwd=in_tmp)
    assert (result.returncode, result.stderr.decode()) == (2, message + "\n")
    assert result.stdout == b""


def test_help_lines_are_whole():
    out = pipelint("--help").stdout
    commands = out.split("Commands:\n", 1)[1].splitlines()
    assert commands and not any(line.rstrip().endswith("...") for line in commands)
    assert any(line.split() == ["fix", "Apply", "fixes", "in", "place,", "changing", "only", "the", "bytes", "that",
                                "must", "change."] for line in commands), commands
    assert all(line.startswith("  ") and line.split()[0].isalpha() for line in commands if line.strip())


def test_rule_all_prints_every_rule():
    from pipelint.rules import RULES

    out = pipelint("rule", "--all").stdout
    assert [line for line in out.splitlines() if line.startswith("# ") and "(" in line] == [
        f"# {r.name} ({r.code})" for r in RULES]
    assert pipelint("rule").exit_code == 2


def test_show_settings_and_show_files(in_tmp):
    write(in_tmp / ".harness" / "p.yaml", PIPELINE.format(image="alpine"))
    write(in_tmp / "vendor" / "x.yaml", "pipeline: {identifier: x}\n")
    write(in_tmp / "k8s.yaml", "apiVersion: v1\nkind: Pod\n")
    (in_tmp / ".pipelint.toml").write_text('exclude = ["vendor"]\nextend-select = ["IMG003"]\n'
                                           '[rules.CON001]\nimage-connector = "account.mirror"\n')
    settings = pipelint("check", "--show-settings")
    assert settings.exit_code == 0
    assert settings.stdout.startswith("# configuration file: .pipelint.toml\n")
    assert 'exclude = ["vendor"]' in settings.stdout and '"IMG003"' in settings.stdout
    assert '[rules.CON001]  # missing-image-connector\nseverity = "warning"\nimage-connector = "account.mirror"' \
        in settings.stdout
    files = pipelint("check", ".", "--show-files")
    assert sorted(files.stdout.splitlines()) == [".harness/p.yaml", "k8s.yaml"]
    verbose = pipelint("check", ".", "--show-files", "-v").stdout.splitlines()
    assert "k8s.yaml  (read, but no Harness root key: not linted)" in verbose
    assert "vendor/  (skipped: excluded by `exclude`)" in verbose


def test_why_nothing_was_checked(in_tmp):
    write(in_tmp / "vendor" / "x.yaml", "pipeline: {identifier: x}\n")
    (in_tmp / ".pipelint.toml").write_text('exclude = ["vendor"]\n')
    result = pipelint("check", "vendor")
    assert result.stdout == "No files were checked.\n"
    assert "excluded by `exclude` in .pipelint.toml" in result.stderr
    write(in_tmp / "notes.yaml", "a: 1\n")
    other = pipelint("check", "notes.yaml")
    assert other.exit_code == 0 and other.stdout.startswith("No Harness configuration in the 1 file checked")
    missing = pipelint("check", "nope.yaml")
    assert missing.exit_code == 2 and "All checks passed" not in missing.stdout


def test_suppression_comments_are_checked(in_tmp):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine  # pipelint: ignore[IMG01]").replace(
        "infrastructure:", "infrastructure:  # pipelint: ignore[CON001]"))
    result = pipelint("check", "p.yaml", "--isolated", "--format", "concise")
    codes = [line.split()[2] for line in result.stdout.splitlines() if line.startswith("p.yaml:")]
    assert codes == ["IMG001", "YML004"]  # the misspelt code suppresses nothing, and is said
    assert "names no rule: IMG01" in result.stdout
    unused = pipelint("check", "p.yaml", "--isolated", "--extend-select", "YML005", "--format", "json").json()
    found = {(f["code"], f["line"]) for f in unused["findings"]}
    assert ("YML005", 20) in found  # ignore[IMG01]: suppresses nothing
    assert ("YML005", 10) not in found  # ignore[CON001] on the infrastructure line: used
    assert ("CON001", 10) not in found


def test_report_to_stdout_and_refused_suffixes(in_tmp):
    write(in_tmp / ".harness" / "p.yaml", PIPELINE.format(image="alpine"))
    md = pipelint("report", ".", "--isolated")
    assert md.exit_code == 0 and md.stdout.startswith("# Harness registry migration report\n\n**")
    assert "2 problems left, 0 of them fixable by `pipelint fix`." in md.stdout
    assert f"\n{in_tmp.name} - generated" in md.stdout  # `.` is named after its folder
    pdf = pipelint("report", ".", "--isolated", "-o", "report.pdf")
    assert pdf.exit_code == 2 and not (in_tmp / "report.pdf").exists()
    assert "report.pdf: cannot write a report of that kind; name it .html or .md" in pdf.stderr
    html = pipelint("report", ".", "--isolated", "--format", "html")
    assert html.stdout.startswith("<!DOCTYPE html>")


def test_a_clean_tree_s_report_says_done(in_tmp):
    write(in_tmp / ".harness" / "p.yaml", PIPELINE.format(image="alpine:3.20").replace(
        "connectorRef: account.k8s", "connectorRef: account.k8s\n              harnessImageConnectorRef: account.m"))
    assert "**Done: nothing left to migrate in 1 file checked.**" in pipelint("report", ".", "--isolated").stdout


# --- configuration discovery, as ruff's: the configuration closest to each file applies ----------------------
def _tree(root):
    write(root / "repo" / ".harness" / "p.yaml", PIPELINE.format(image="alpine"))
    write(root / "repo" / "team" / ".harness" / "p.yaml", PIPELINE.format(image="alpine"))
    (root / "repo" / ".pipelint.toml").write_text('ignore = ["IMG001"]\n')
    (root / "repo" / "team" / "pyproject.toml").write_text('[tool.pipelint]\nignore = ["CON001"]\n')


def _codes(result):
    return sorted((f["path"], f["code"]) for f in result.json()["findings"])


def test_the_closest_configuration_applies_to_each_file(in_tmp):
    _tree(in_tmp)
    result = pipelint("check", "repo", "--format", "json", "--no-cache")  # from the parent directory
    assert _codes(result) == [("repo/.harness/p.yaml", "CON001"), ("repo/team/.harness/p.yaml", "IMG001")]


def test_config_and_isolated_keep_their_meaning(in_tmp):
    _tree(in_tmp)
    (in_tmp / "one.toml").write_text('ignore = ["CON001", "IMG001"]\n')
    assert _codes(pipelint("check", "repo", "--format", "json", "--config", "one.toml")) == []
    assert len(_codes(pipelint("check", "repo", "--format", "json", "--isolated"))) == 4


def test_the_cache_follows_each_configuration(in_tmp):
    _tree(in_tmp)
    first = _codes(pipelint("check", "repo", "--format", "json"))
    (in_tmp / "repo" / "team" / "pyproject.toml").write_text('[tool.pipelint]\nignore = ["IMG001"]\n')
    second = _codes(pipelint("check", "repo", "--format", "json"))
    assert first != second
    assert ("repo/team/.harness/p.yaml", "CON001") in second
    assert second == _codes(pipelint("check", "repo", "--format", "json", "--no-cache"))


def test_a_broken_configuration_found_for_a_file_is_an_error(in_tmp):
    _tree(in_tmp)
    (in_tmp / "repo" / "team" / "pyproject.toml").write_text('[tool.pipelint]\nselect = [IMG]\n')
    result = pipelint_process("check", "repo", cwd=in_tmp)
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.startswith("pipelint: error: ") and "repo/team/pyproject.toml: invalid TOML" in err
    assert "(at line 2, column 11)" in err and "All checks passed" not in result.stdout.decode()


def test_cross_file_rules_read_every_file_and_report_by_each_file_s_configuration(in_tmp):
    # CON002: the override connector must be account-level; the connector lives under another configuration
    write(in_tmp / "repo" / "connectors" / "mirror.yaml",
          "connector:\n  name: mirror\n  identifier: mirror\n  orgIdentifier: eng\n  type: DockerRegistry\n"
          "  spec:\n    dockerRegistryUrl: https://registry.example.com\n    providerType: Other\n"
          "    auth: {type: Anonymous}\n    executeOnDelegate: false\n")
    uses = PIPELINE.format(image="alpine:3.20").replace(
        "connectorRef: account.k8s", "connectorRef: account.k8s\n              harnessImageConnectorRef: org.mirror")
    write(in_tmp / "repo" / "a" / ".harness" / "p.yaml", uses)
    write(in_tmp / "repo" / "b" / ".harness" / "p.yaml", uses)
    (in_tmp / "repo" / "b" / ".pipelint.toml").write_text('ignore = ["CON002"]\n')
    codes = _codes(pipelint("check", "repo", "--format", "json", "--no-cache"))
    assert ("repo/a/.harness/p.yaml", "CON002") in codes
    assert not any(path.startswith("repo/b/") and code == "CON002" for path, code in codes)


def test_hints_go_below_the_source_in_full_and_stay_in_json(in_tmp):
    write(in_tmp / "p.yaml", PIPELINE.format(image="alpine:3.20"))
    full = pipelint("check", "p.yaml", "--isolated", "--format", "full").stdout
    assert "\n  = help: set [tool.pipelint.rules.CON001] image-connector to fix\n" in full
    concise = pipelint("check", "p.yaml", "--isolated", "--format", "concise").stdout.splitlines()[0]
    assert concise.endswith("are pulled through account.harnessImage") and len(concise) < 180
    (finding,) = pipelint("check", "p.yaml", "--isolated", "--format", "json").json()["findings"]
    assert finding["message"].endswith("(set [tool.pipelint.rules.CON001] image-connector to fix)")

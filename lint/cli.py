"""The command line: parses options and calls the engine. No linting logic lives here."""

from __future__ import annotations

import os
import sys

import click

from pipelint import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


def _split(values: tuple[str, ...]) -> list[str]:
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def _fail(message: str) -> None:
    click.echo(f"pipelint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def common_options(func):
    decorators = [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--config", "config_file", type=click.Path(), help="Configuration file (pyproject.toml or .pipelint.toml)."),
        click.option("--isolated", is_flag=True, help="Ignore all configuration files."),
        click.option("--select", multiple=True, help="Rules to enable (codes, prefixes, names; comma-separated). Replaces the default set."),
        click.option("--extend-select", multiple=True, help="Rules to enable on top of the selection."),
        click.option("--ignore", multiple=True, help="Rules to disable."),
        click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found."),
        click.option("--force-exclude", is_flag=True, help="Apply `exclude` to files named on the command line too."),
        click.option("--stdin-filename", help="The name of standard input (`-`) in reports and for .harness/ detection."),
        click.option("--target", help='Registry for REG001 fixes: dockerhub, gar, gcr, ecr or a URL (overrides the rule option).'),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def _engine(config_file, isolated, select, extend_select, ignore, force_exclude, target):
    from pipelint import config as configlib, registries
    from pipelint.engine import Engine

    if isolated and config_file:
        _fail("--config and --isolated cannot be used together")
    try:
        if isolated:
            settings = configlib.Settings()
        else:
            path = config_file or configlib.find(".")
            if config_file and not os.path.isfile(config_file):
                _fail(f"{config_file}: configuration file not found")
            settings = configlib.load(path) if path else configlib.Settings()
        overrides = {}
        if target is not None:
            problem = registries.target_error(target)
            if problem:
                _fail(f"--target {target!r}: {problem}")
            overrides["REG001"] = {"target": target}
        rules = configlib.enabled_rules(
            settings, _split(select) if select else None, _split(extend_select), _split(ignore), overrides,
        )
    except configlib.ConfigError as exc:
        _fail(str(exc))
    return Engine(settings, rules, force_exclude=force_exclude)


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def _emit(result, output_format: str, fix_mode: bool = False, stream=None) -> None:
    from pipelint import reporters

    for error in result.errors:
        click.echo(f"pipelint: error: {error}", err=True)
    for error in result.internal_errors:
        click.echo(f"pipelint: internal error: {error}", err=True)
    color = output_format == "text" and stream is None and _color()
    text = reporters.get(output_format).render(result, color=color, fix_mode=fix_mode)
    click.echo(text, nl=False, file=stream, color=color)


def _exit_status(result, exit_zero: bool) -> int:
    if result.errors or result.internal_errors:
        return EXIT_ERROR
    if result.findings and not exit_zero:
        return EXIT_FINDINGS
    return EXIT_OK


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="pipelint", message="%(prog)s %(version)s")
def main():
    """pipelint: lint and migrate Harness CI/CD YAML (retired registry, image connectors, image pinning)."""


@main.command()
@common_options
def check(paths, config_file, isolated, select, extend_select, ignore, output_format, exit_zero, force_exclude,
          stdin_filename, target):
    """Check Harness YAML files and report problems."""
    engine = _engine(config_file, isolated, select, extend_select, ignore, force_exclude, target)
    result = engine.check(list(paths) or ["."], stdin_filename)
    _emit(result, output_format)
    sys.exit(_exit_status(result, exit_zero))


@main.command()
@common_options
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes marked unsafe.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of what would change (exit 1 if anything would).")
@click.option("--show-fixes", is_flag=True, help="List what was fixed, per file and rule.")
def fix(paths, config_file, isolated, select, extend_select, ignore, output_format, exit_zero, force_exclude,
        stdin_filename, target, unsafe_fixes, show_diff, show_fixes):
    """Apply fixes in place, changing only the bytes that must change; report what is left."""
    from pipelint import fixer

    engine = _engine(config_file, isolated, select, extend_select, ignore, force_exclude, target)
    paths = list(paths) or ["."]
    result = fixer.fix(engine, paths, stdin_filename, unsafe=unsafe_fixes, write=not show_diff and paths != ["-"])
    if show_diff:
        diff = fixer.unified_diff(result)
        for error in result.errors:
            click.echo(f"pipelint: error: {error}", err=True)
        for error in result.internal_errors:
            click.echo(f"pipelint: internal error: {error}", err=True)
        click.echo(diff, nl=False)
        if result.errors or result.internal_errors:
            sys.exit(EXIT_ERROR)
        sys.exit(EXIT_FINDINGS if result.changed else EXIT_OK)
    if paths == ["-"]:
        # the fixed text goes to standard output; the report to standard error
        src = next(iter(result.reports.values()), None) if result.reports else None
        if src is not None:
            new = result.changed.get(src.source.path, (src.source, src.source.text))[1]
            if new is None:
                sys.stdout.buffer.write(src.source.raw)
            else:
                sys.stdout.buffer.write(src.source.encode(new))
            sys.stdout.flush()
        _emit(result, output_format, fix_mode=True, stream=sys.stderr)
        sys.exit(_exit_status(result, exit_zero))
    if show_fixes and result.fixed:
        click.echo(fixer.describe_fixes(result), nl=False)
    _emit(result, output_format, fix_mode=True)
    sys.exit(_exit_status(result, exit_zero))


@main.command("rules")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_cmd(output_format):
    """List every rule."""
    from pipelint.rules import RULES

    if output_format == "json":
        import json

        data = [{"code": r.code, "name": r.name, "severity": r.severity, "enabled_by_default": r.enabled_by_default,
                 "fix": r.fix_safety, "summary": r.summary()} for r in RULES]
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"{'code':<8}{'name':<36}{'severity':<10}{'default':<9}{'fix':<8}")
    for r in RULES:
        click.echo(f"{r.code:<8}{r.name:<36}{r.severity:<10}{'on' if r.enabled_by_default else 'off':<9}"
                   f"{r.fix_safety or '-':<8}")


@main.command("rule")
@click.argument("rule")
def rule_cmd(rule):
    """Print a rule's documentation (by code or name)."""
    from pipelint.config import rule_class

    cls = rule_class(rule)
    if cls is None:
        _fail(f"unknown rule {rule!r} (see `pipelint rules`)")
    head = f"# {cls.name} ({cls.code})\n\nDefault severity: {cls.severity}. "
    head += "Enabled by default. " if cls.enabled_by_default else "Off by default. "
    head += {"safe": "Fix: safe.", "unsafe": "Fix: unsafe (with --unsafe-fixes)."}.get(cls.fix_safety, "No fix.")
    options = "".join(f"\n- `{o.name}` (default {o.default!r}): {o.help}" for o in cls.options)
    if options:
        head += f"\n\nOptions, in [tool.pipelint.rules.{cls.code}]:{options}"
    click.echo(f"{head}\n\n{cls.doc()}")

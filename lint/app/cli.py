"""The command line (click): parses options and calls the engine. No linting logic lives here; what the
commands share is in `console`, which runs the pre-commit path without importing click."""

from __future__ import annotations

import json
import os
import sys

import click

from pipelint import __version__
from pipelint.app import console
from pipelint.app.console import EXIT_ERROR, EXIT_FINDINGS, EXIT_OK, echo, fail, internal_line, make_engine, rule_doc
from pipelint.text.source import printable, printable_lines


def warn_skipped(engine) -> None:
    """What the discovery passed over (symlinks out of the tree, file() paths outside it): one warning each."""
    for line in engine.skipped:
        echo(printable(f"pipelint: warning: {line}"), err=True)


def _apply(func, decorators):
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def path_options(func):
    """PATHS, --config, --isolated, --force-exclude: every command that reads a tree."""
    return _apply(func, [
        click.argument("paths", nargs=-1, type=click.Path()),
        click.option("--config", "config_file", type=click.Path(), help="Configuration file (pyproject.toml or .pipelint.toml)."),
        click.option("--isolated", is_flag=True, help="Ignore all configuration files."),
        click.option("--force-exclude", is_flag=True, help="Apply `exclude` to files named on the command line too."),
    ])


def common_options(func):
    decorators = [
        path_options,
        click.option("--select", multiple=True, help="Rules to enable (codes, prefixes, names; comma-separated). Replaces the default set."),
        click.option("--extend-select", multiple=True, help="Rules to enable on top of the selection."),
        click.option("--ignore", multiple=True, help="Rules to disable."),
        click.option("--format", "--output-format", "output_format",
                     type=click.Choice(["text", "concise", "full", "json", "sarif", "github", "junit", "gitlab"]),
                     default="text", show_default=True,
                     help="Report format. text: full (source lines and fixes) on a terminal, concise (a line each) elsewhere."),
        click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False), help="Write the report to FILE; the summary still goes to the terminal."),
        click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="warning", show_default=True,
                     help="Exit 1 only for findings of this severity or above."),
        click.option("-q", "--quiet", is_flag=True, help="Print the findings only: no summary, no warnings."),
        click.option("-v", "--verbose", is_flag=True, help="Also say which configuration applies and what the run took."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                     help="Colour the text report (auto: on a terminal, honouring NO_COLOR and FORCE_COLOR)."),
        click.option("--statistics", is_flag=True, help="Counts per rule instead of one line per problem."),
        click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False), help="Report only problems not recorded in this baseline."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when problems are found."),
        click.option("--stdin-filename", help="The name of standard input (`-`) in reports and for .harness/ detection."),
        click.option("--target", help='Registry for REG001 fixes: dockerhub, gar, gcr, ecr or a URL (overrides the rule option).'),
    ]
    return _apply(func, decorators)


def main_with_click() -> None:
    """The full command line (entry.run sends here everything but the pre-commit path)."""
    try:
        main.main(prog_name="pipelint", standalone_mode=False)
    except click.exceptions.Abort:
        echo("pipelint: interrupted", err=True)
        sys.exit(130)
    except click.exceptions.UsageError as exc:  # one style for every usage error: ours, not click's block
        names: list[str] = []
        ctx = exc.ctx
        while ctx is not None and ctx.parent is not None:  # the subcommands, not how pipelint was started
            names.insert(0, ctx.info_name or "")
            ctx = ctx.parent
        where = " ".join(["pipelint", *names])
        echo(f"pipelint: error: {exc.format_message()} (see `{where} --help`)", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.ClickException as exc:
        echo(f"pipelint: error: {exc.format_message()}", err=True)
        sys.exit(EXIT_ERROR)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="pipelint", message="%(prog)s %(version)s")
def main():
    """pipelint: lint and migrate Harness CI/CD YAML (retired registry, image connectors, image pinning)."""


@main.command()
@common_options
@click.option("--write-baseline", "write_baseline", type=click.Path(dir_okay=False),
              help="Record the current problems in FILE (for --baseline) and exit 0.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write .pipelint_cache/.")
@click.option("--jobs", type=click.IntRange(1, 256), default=None, help="Processes to check files with (default: one per core).")
@click.option("--fix", "apply_fixes", is_flag=True, help="Apply fixes, as `pipelint fix` does (ruff's spelling).")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix: also apply fixes marked unsafe.")
@click.option("--diff", "show_diff", is_flag=True, help="With --fix: print a unified diff instead of writing.")
@click.option("--show-fixes", is_flag=True, help="With --fix: list what was fixed, per file and rule.")
@click.option("--show-settings", is_flag=True, help="Print the configuration in force (and its file), then exit.")
@click.option("--show-files", is_flag=True, help="List the files that would be checked (with -v, also the others and why), then exit.")
def check(apply_fixes, unsafe_fixes, show_diff, show_fixes, **options):
    """Check Harness YAML files and report problems."""
    if apply_fixes or show_diff:  # `check --fix` is `fix`; `check --diff` shows what fix would change
        for name in ("write_baseline", "no_cache", "jobs", "show_settings", "show_files"):
            if options.pop(name) not in (None, False):
                fail(f"--{name.replace('_', '-')} cannot be used with --fix")
        console.fix(unsafe_fixes=unsafe_fixes, show_diff=show_diff, show_fixes=show_fixes, **options)
    elif unsafe_fixes or show_fixes:
        fail("--unsafe-fixes and --show-fixes go with --fix (or use `pipelint fix`)")
    console.check(**options)  # by name: click's parameter names are console.check's


@main.command(short_help="Apply fixes in place, changing only the bytes that must change.")
@common_options
@click.option("--unsafe-fixes", is_flag=True, help="Also apply fixes marked unsafe.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of what would change (exit 1 if anything would).")
@click.option("--show-fixes", is_flag=True, help="List what was fixed, per file and rule.")
def fix(**options):
    """Apply fixes in place, changing only the bytes that must change; report what is left."""
    console.fix(**options)


@main.command(short_help="Pin images to digests, recorded in pipelint.lock.")
@path_options
@click.option("--lockfile", default="pipelint.lock", show_default=True, type=click.Path(dir_okay=False),
              help="Where resolved digests are recorded and looked up.")
@click.option("--offline", is_flag=True, help="Resolve only from the lockfile; never ask a registry.")
@click.option("--update", is_flag=True, help="Ask the registries again, even for images in the lockfile.")
@click.option("--allow-latest", is_flag=True, help="Also pin untagged images, as :latest today.")
@click.option("--insecure-registry", multiple=True, metavar="HOST[:PORT]", help="Reach this registry over plain HTTP.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per registry request.")
@click.option("--jobs", type=click.IntRange(1, 64), default=8, show_default=True, help="Registry requests at once.")
@click.option("--diff", "show_diff", is_flag=True, help="Write nothing; print a unified diff of what would change (exit 1 if anything would).")
def pin(paths, config_file, isolated, force_exclude, lockfile, offline, update, allow_latest, insecure_registry,
        timeout, jobs, show_diff):
    """Pin images to digests (name:tag@sha256:...), recording them in pipelint.lock."""
    from pipelint.commands import fixer
    from pipelint.commands import pin as pinlib
    from pipelint.oci import lockfile as locklib
    from pipelint.oci.client import Options

    if offline and update:
        fail("--offline and --update cannot be used together")
    engine = make_engine(config_file, isolated, (), (), (), force_exclude, None)
    from pipelint.text.files import Boundary, may_write

    trees = Boundary()  # the trees pin checks, which the lockfile must not lead out of
    for path in list(paths) or ["."]:
        trees.add(path)
    refused = may_write(lockfile, trees)
    if refused:  # a committed `pipelint.lock` that is a symlink elsewhere: pin would write there
        fail(f"{lockfile}: {refused}")
    try:
        lock = locklib.Lockfile.load(lockfile)
    except locklib.LockfileError as exc:
        fail(str(exc))
    options = Options(timeout=timeout, jobs=jobs, insecure=tuple(insecure_registry))
    result = pinlib.pin(engine, list(paths) or ["."], lock, offline=offline, update=update,
                        allow_latest=allow_latest, write=not show_diff, options=options)
    warn_skipped(engine)
    for error in result.errors:
        echo(f"pipelint: error: {error}", err=True)
    if show_diff:
        from pipelint.app.console import fit_standard_output
        from pipelint.engine.core import RunResult

        fit_standard_output(machine=True)  # a patch: UTF-8, as the files are
        echo(fixer.unified_diff(RunResult([], 0, [], changed=result.changed)), nl=False)
        sys.exit(EXIT_ERROR if result.errors else EXIT_FINDINGS if result.changed else EXIT_OK)
    fresh = [s for s in result.pinned if not s.ref.digest]
    moved = [s for s in result.pinned if s.ref.digest]  # --update: the tag's digest changed
    n, files = len(fresh), len({s.path for s in fresh})
    line = f"Pinned {n} image{'s' if n != 1 else ''} in {files} file{'s' if files != 1 else ''}"
    line += f" ({result.from_lockfile} from {lockfile}, {result.resolved} resolved)." if n else "."
    echo(line)
    if moved:
        echo(f"Moved {len(moved)} digest{'s' if len(moved) != 1 else ''} (the tag now names another image):")
        for s in moved:
            echo(printable(f"  {s.path}:{s.span.line}:{s.span.column}: {s.ref.name}:{s.ref.tag} "
                           f"{s.ref.digest[:19]}… -> {s.digest[:19]}…"))
    if result.skipped_untagged:
        echo(f"Left {result.skipped_untagged} untagged image{'s' if result.skipped_untagged != 1 else ''} "
                   "alone: tag them, or pin them as :latest with --allow-latest.")
    sys.exit(EXIT_ERROR if result.errors else EXIT_OK)


@main.command(short_help="List every image the files reference (the list to mirror).")
@path_options
@click.option("--format", "--output-format", "output_format", type=click.Choice(["text", "json", "csv"]),
              default="text", show_default=True)
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False), help="Write the inventory to FILE.")
def images(paths, config_file, isolated, force_exclude, output_format, output_file):
    """List every container image the files reference: the list to mirror into a private registry."""
    from pipelint.commands import inventory

    engine = make_engine(config_file, isolated, (), (), (), force_exclude, None)
    inv = inventory.collect(engine, list(paths) or ["."])
    warn_skipped(engine)
    for error in inv.errors:
        echo(f"pipelint: error: {error}", err=True)
    text = inventory.render_images(inv, output_format)
    if output_file:
        try:
            from pipelint.text.files import write_output

            write_output(output_file, text)
        except OSError as exc:
            fail(f"{output_file}: cannot write: {exc.strerror or exc}")
        echo(f"Wrote {len(inv.images)} images to {output_file}.")
    else:
        echo(printable_lines(text) if output_format == "text" else text, nl=False)
    sys.exit(EXIT_ERROR if inv.errors else EXIT_OK)


@main.command(short_help="Copy the images the files reference into a private registry.")
@path_options
@click.option("--to", "mirror", metavar="HOST[:PORT]/PATH", help="The mirror (default: IMG005's `mirror` option).")
@click.option("--layout", type=click.Choice(["path", "scoped"]),
              help="Where images go on the mirror (default: IMG005's `mirror-layout`, else path).")
@click.option("--images", "image_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="Also copy the references listed in FILE, one a line (Harness CI images no YAML names).")
@click.option("--dry-run", is_flag=True, help="Print the plan; contact no registry, copy nothing.")
@click.option("--emit-sync", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the plan as `skopeo sync --src yaml` file(s) instead of copying.")
@click.option("--insecure-registry", multiple=True, metavar="HOST[:PORT]", help="Reach this registry over plain HTTP.")
@click.option("--timeout", type=float, default=10.0, show_default=True, help="Seconds per registry request.")
@click.option("--copy-timeout", type=float, default=900.0, show_default=True, help="Seconds per image copy.")
@click.option("--jobs", type=click.IntRange(1, 16), default=4, show_default=True, help="Copies at once.")
def mirror(paths, config_file, isolated, force_exclude, mirror, layout, image_file, dry_run, emit_sync,
           insecure_registry, timeout, copy_timeout, jobs):
    """Copy every image the files reference (outside IMG005's allowed registries) into a private registry, under
    the names IMG005's fix writes, with `skopeo copy --all`; verify each copy's digest."""
    from pipelint.commands import inventory
    from pipelint.commands import mirror as mirrorlib
    from pipelint.engine.config import ConfigError
    from pipelint.oci import mirror_layout
    from pipelint.oci.client import Options
    from pipelint.oci.images import parse_image
    from pipelint.oci.lockfile import LockfileError

    engine = make_engine(config_file, isolated, (), (), (), force_exclude, None)
    try:
        configured, configured_layout, allowed, lockfile = mirrorlib.settings(engine)
    except ConfigError as exc:
        fail(str(exc))
    mirror = (mirror or configured).rstrip("/")
    layout = layout or configured_layout
    if not mirror:
        fail("no mirror: give --to HOST[:PORT]/PATH or set [rules.IMG005] mirror")
    problem = mirror_layout.entry_error(mirror)
    if problem:
        fail(f"--to: {problem}")
    inv = inventory.collect(engine, list(paths) or ["."])
    warn_skipped(engine)
    for error in inv.errors:
        echo(f"pipelint: error: {error}", err=True)
    found: dict = {}
    for img in inv.images.values():
        ref = parse_image(img.reference)
        if ref is not None:
            found[ref] = found.get(ref, 0) + len(img.uses)
    try:
        for ref in mirrorlib.read_image_list(image_file) if image_file else []:
            found.setdefault(ref, 0)
    except mirrorlib.MirrorError as exc:
        fail(str(exc))
    items = mirrorlib.plan(found, mirror, layout, allowed)
    refused = [i for i in items if i.status == mirrorlib.FAILED]  # no name on the mirror, or a name clash
    if not items:
        echo(f"Nothing to copy: every image of the {inv.files_checked} files checked is on {mirror} or allowed.")
        sys.exit(EXIT_ERROR if inv.errors else EXIT_OK)
    if emit_sync:
        files = mirrorlib.sync_files(items, mirror, layout, tuple(insecure_registry))
        try:
            written = mirrorlib.write_sync_files(emit_sync, files)
        except OSError as exc:
            fail(f"{emit_sync}: cannot write: {exc.strerror or exc}")
        scoped = " --scoped" if layout == "scoped" else ""
        for name, where in written:
            echo(f"Wrote {name}: skopeo sync --all{scoped} --src yaml --dest docker {name} {where}")
        for item in refused:
            echo(printable(f"pipelint: error: {item.source}: not in the sync files: {item.reason}"), err=True)
        sys.exit(EXIT_ERROR if inv.errors else EXIT_FINDINGS if refused else EXIT_OK)
    if dry_run:
        echo(printable_lines(mirrorlib.table(items)), nl=False)
        todo = len(items) - len(refused)
        echo(f"{todo} image{'s' if todo != 1 else ''} to copy to {mirror} ({layout} layout)"
             + (f"; {len(refused)} refused by the plan." if refused else "."))
        sys.exit(EXIT_ERROR if inv.errors else EXIT_FINDINGS if refused else EXIT_OK)
    options = Options(timeout=timeout, insecure=tuple(insecure_registry))
    bar = None
    if sys.stderr.isatty():
        bar = click.progressbar(length=len(items), label="Copying", file=sys.stderr)
        bar.__enter__()
    try:
        mirrorlib.copy_all(items, options, jobs=jobs, timeout=copy_timeout,
                           done=(lambda item: bar.update(1)) if bar is not None else None)
    except mirrorlib.MirrorError as exc:
        fail(str(exc))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    echo(printable_lines(mirrorlib.table(items)), nl=False)
    echo(mirrorlib.summary(items))
    try:
        mirrorlib.record(items, lockfile)
    except (LockfileError, OSError) as exc:
        echo(printable(f"pipelint: error: {lockfile}: cannot record the copies: {getattr(exc, 'strerror', None) or exc}"),
             err=True)
        sys.exit(EXIT_ERROR)
    failed = any(i.status == mirrorlib.FAILED for i in items)
    sys.exit(EXIT_ERROR if inv.errors else EXIT_FINDINGS if failed else EXIT_OK)


@main.command(short_help="Write a migration report (Markdown or HTML) of what is left to do.")
@path_options
@click.option("--target", help="Registry the fixes would move to (as for `fix`).")
@click.option("-o", "--output", "output_file", type=click.Path(dir_okay=False),
              help="report.html or report.md (default: Markdown on standard output).")
@click.option("--format", "--output-format", "output_format", type=click.Choice(["md", "html", "json"]),
              help="Markdown, HTML or JSON (default: from the --output suffix, else md).")
@click.option("--merge", "merge", is_flag=True,
              help="The PATHS are summaries (all_repos_fix --summary, report --format json): join them into one "
                   "organisation report.")
def report(paths, config_file, isolated, force_exclude, target, output_file, output_format, merge):
    """Write a migration report (Markdown, HTML or JSON) of what needs doing across the files, or, with --merge,
    of an organisation from the summaries of its shards."""
    from pipelint.commands import report as reportlib

    suffix = output_file.lower().rsplit(".", 1)[-1] if output_file and "." in output_file else None
    by_suffix = {"md": "md", "markdown": "md", "html": "html", "htm": "html", "json": "json"}
    if output_file and output_format is None:
        if suffix not in by_suffix:
            fail(f"{output_file}: cannot write a report of that kind; name it .html or .md (or give --format)")
        output_format = by_suffix[suffix]
    elif output_file and suffix in by_suffix and by_suffix[suffix] != output_format:
        fail(f"{output_file}: the suffix says {by_suffix[suffix]}, --format says {output_format}")
    output_format = output_format or "md"
    if merge:
        if not paths:
            fail("--merge joins summaries: name the summary files")
        _merged_report(paths, output_file, output_format)
        return
    engine = make_engine(config_file, isolated, (), (), (), force_exclude, target)
    data = reportlib.build(engine, list(paths) or ["."])
    warn_skipped(engine)
    if output_format == "json":
        from pipelint.commands import summary

        counts: dict[str, int] = {}
        for f in data.findings:
            counts[f.code] = counts.get(f.code, 0) + 1
        name = os.path.basename(os.path.abspath(paths[0] if paths else "."))
        entry = summary.repository(name, harness=data.result.harness_files > 0, before=counts, after=counts,
                                   pushed=False, error="; ".join(data.result.errors) or None)
        text = json.dumps(summary.make([entry]), indent=2) + "\n"
    else:
        text = reportlib.render_markdown(data) if output_format == "md" else reportlib.render_html(data)
    for error in data.result.errors + data.inv.errors:
        echo(f"pipelint: error: {error}", err=True)
    for error in data.result.internal_errors:
        echo(internal_line(error), err=True)
    if not output_file:
        echo(text, nl=False)
        sys.exit(EXIT_ERROR if data.result.errors or data.result.internal_errors else EXIT_OK)
    try:
        from pipelint.text.files import write_output

        write_output(output_file, text)
    except OSError as exc:
        fail(f"{output_file}: cannot write: {exc.strerror or exc}")
    n = len(data.findings)
    echo(f"Wrote {output_file}: {n} problem{'s' if n != 1 else ''} in {data.result.files_checked} files checked.")
    sys.exit(EXIT_ERROR if data.result.errors or data.result.internal_errors else EXIT_OK)


def _merged_report(files, output_file, output_format) -> None:
    from pipelint.commands import report as reportlib
    from pipelint.commands import summary

    try:
        merged = summary.merge([summary.read(f) for f in files])
    except summary.SummaryError as exc:
        fail(str(exc))
    text = reportlib.render_org(merged, output_format)
    if not output_file:
        echo(text, nl=False)
        return
    try:
        from pipelint.text.files import write_output

        write_output(output_file, text)
    except OSError as exc:
        fail(f"{output_file}: cannot write: {exc.strerror or exc}")
    n, m = len(merged["repositories"]), len(files)
    echo(f"Wrote {output_file}: {n} repositor{'y' if n == 1 else 'ies'} from {m} summar{'y' if m == 1 else 'ies'}.")


@main.command(short_help="A language server on stdio, for editors (the server extra).")
def server():
    """Run the Language Server Protocol server on standard input and output (diagnostics, quick fixes, rule
    documentation on hover), for Neovim, Helix, VS Code and other editors; see docs/editor.md."""
    try:
        from pipelint.app.server import serve
    except ImportError as exc:
        fail(f"pipelint server needs pygls ({exc.name or exc}): pip install 'pipelint[server]'")
    serve()


@main.command("rules", short_help="List every rule, custom rules included.")
@click.option("--format", "output_format", type=click.Choice(["text", "json"]), default="text", show_default=True)
def rules_cmd(output_format):
    """List every rule (with the custom rules of the configuration found here)."""
    from pipelint.rules import all_rules

    make_engine(None, False, (), (), (), False, None)  # the configuration's custom rules, or its error
    rules = all_rules()
    if output_format == "json":
        import json

        data = [{"code": r.code, "name": r.name, "severity": r.severity, "enabled_by_default": r.enabled_by_default,
                 "fix": r.fix_safety, "summary": r.summary(), "custom": getattr(r, "source", None)} for r in rules]
        echo(json.dumps(data, indent=2))
        return
    width = max(36, *(len(r.name) + 2 for r in rules))  # the name column fits the longest name
    echo(f"{'code':<8}{'name':<{width}}{'severity':<10}{'default':<9}{'fix':<8}")
    for r in rules:
        line = (f"{r.code:<8}{r.name:<{width}}{r.severity:<10}{'on' if r.enabled_by_default else 'off':<9}"
                f"{r.fix_safety or '-':<8}")
        if getattr(r, "custom", False):
            line += f"custom, from {r.source}"
        echo(line)


@main.command("rule")
@click.argument("rule", required=False)
@click.option("--all", "all_rules", is_flag=True, help="Every rule's documentation, in code order.")
def rule_cmd(rule, all_rules):
    """Print a rule's documentation (by code or name)."""
    from pipelint.engine.config import rule_class
    from pipelint.rules import all_rules as every_rule

    if all_rules == (rule is not None):
        fail("name one rule, or give --all")
    make_engine(None, False, (), (), (), False, None)  # the configuration's custom rules, or its error
    if all_rules:
        echo(printable_lines("\n\n".join(rule_doc(cls) for cls in every_rule())))
        return
    cls = rule_class(rule)
    if cls is None:
        fail(f"unknown rule {rule!r} (see `pipelint rules`)")
    echo(printable_lines(rule_doc(cls)))  # a custom rule's description is the configuration's text


@main.group(short_help="Pull the Harness account into files; push the fixes back.")
def account():
    """Bring the Harness account's Docker connectors (harnessImage first), inline pipelines, templates, input sets
    and triggers, and CI execution configuration into files every command reads, and put the fixes back. The API key comes from
    HARNESS_API_KEY, the account from HARNESS_ACCOUNT_ID or the key, the endpoint from --endpoint or
    HARNESS_ENDPOINT (default https://app.harness.io/gateway)."""


def _client(endpoint):
    from pipelint.api.client import ApiError, Client

    try:
        return Client.from_environment(endpoint)
    except ApiError as exc:
        fail(str(exc))
        raise  # not reached


@account.command("pull")
@click.argument("folder", type=click.Path(file_okay=False))
@click.option("--endpoint", help="The API's base URL (vanity hosts and self-managed installs differ).")
@click.option("--org", help="Only this organisation.")
@click.option("--project", help="Only this project (with --org).")
def account_pull(folder, endpoint, org, project):
    """Write the account's entities as YAML files under FOLDER, with a manifest of what was pulled."""
    from pipelint.api.client import ApiError
    from pipelint.commands import account as accountlib

    if project and not org:
        fail("--project needs --org")
    client = _client(endpoint)
    try:
        result = accountlib.pull(client, folder, org, project)
    except ApiError as exc:
        fail(str(exc))
        return
    echo(f"Pulled {len(result.files)} file{'s' if len(result.files) != 1 else ''} into {folder} "
         f"({client.calls} API calls).")
    for remote in result.remote:
        echo(printable(f"  not pulled: {accountlib.name_of(remote)} is Git-synced ({remote.get('repo')}:"
                       f"{remote.get('path')}): check it in its repository"))


@account.command("push")
@click.argument("folder", type=click.Path(file_okay=False, exists=True))
@click.option("--endpoint", help="The API's base URL (default: as pulled).")
@click.option("--apply", is_flag=True, help="Write the changed entities (without it: print the changes only).")
def account_push(folder, endpoint, apply):
    """Put the changed files back: a dry run without --apply; an entity changed in Harness since the pull is
    never overwritten."""
    from pipelint.api.client import ApiError
    from pipelint.commands import account as accountlib

    try:
        pulled = accountlib.read_manifest(folder)
    except ValueError as exc:
        fail(str(exc))
        return
    client = _client(endpoint or pulled.get("endpoint"))
    try:
        outcomes = accountlib.push(client, folder, apply)
    except ApiError as exc:
        fail(str(exc))
        return
    bad = 0
    for o in outcomes:
        if o.what == "unchanged":
            continue
        if o.diff and not apply:
            echo(printable_lines(o.diff), nl=False)
        line = f"{o.file}: {o.what}" + (f": {o.detail}" if o.detail else "")
        if o.what in ("changed in Harness", "denied", "refused", "failed"):
            bad += 1
            echo(printable(f"pipelint: error: {line}"), err=True)
        else:
            echo(printable(line))
    done = sum(1 for o in outcomes if o.what in ("written", "would write"))
    echo(f"{'Wrote' if apply else 'Would write'} {done} entit{'ies' if done != 1 else 'y'}"
         + (f"; {bad} not written." if bad else "."))
    sys.exit(EXIT_FINDINGS if bad else EXIT_OK)

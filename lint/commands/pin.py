"""`pipelint pin`: rewrite `name:tag` as `name:tag@sha256:…` through the same span edits as `fix`.

Digests come from `pipelint.lock` first (unless `--update`), then from the registries (unless
`--offline`); the lockfile records every digest resolved. Expressions, already pinned images, images on
the retired registry (run `pipelint fix` first) and, unless `--allow-latest`, untagged images are left alone;
`--update` also re-resolves images pinned as `name:tag@sha256:…` and rewrites their digest when it moved.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import partial

from pipelint.engine.core import Engine, documents, expand
from pipelint.engine.results import FileReport
from pipelint.findings import fixplan
from pipelint.findings.finding import Edit, Fix, Span, translate_span
from pipelint.harness import sites as harness
from pipelint.oci import registries
from pipelint.oci.client import Client, Options, RegistryError
from pipelint.oci.images import ImageRef
from pipelint.oci.lockfile import Lockfile, LockfileError, key, valid_digest
from pipelint.text import files as filelib
from pipelint.yamldoc.yamltext import SetScalar, edit_for


@dataclass
class Site:
    path: str
    span: Span
    ref: ImageRef
    doc: int = 0
    fix: Fix | None = None  # the pin, as a fix (fixplan.settle decides it like any other)
    message: str = ""
    digest: str = ""  # the digest it is pinned to (when ref.digest is set too, --update moved it)


@dataclass
class PinResult:
    changed: dict = field(default_factory=dict)  # path -> (original Source, new text)
    pinned: list[Site] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    skipped_untagged: int = 0
    from_lockfile: int = 0
    resolved: int = 0
    files_checked: int = 0


def pin(engine: Engine, paths: list[str], lock: Lockfile, *, offline: bool = False, update: bool = False,
        allow_latest: bool = False, write: bool = True, options: Options | None = None) -> PinResult:
    """Pin the images of the files under `paths`: find the sites, resolve their digests (the lockfile first),
    edit each file (through its container) and verify it, then write what changed and the lockfile."""
    result = PinResult()
    files, missing = engine.discover(paths)
    sources, errors = engine.read([f for f in files if f != "-"])
    result.errors += [f"{p}: no such file or directory" for p in missing] + errors
    result.files_checked = len(sources)
    outer: dict[str, tuple] = {}  # path -> (its Source, reread, its units) for files whose YAML is in units
    units = []
    for whole in sources:
        found, reread = expand(whole, engine.named.get(os.path.abspath(whole.path)))
        if reread is not None:
            outer[whole.path] = (whole, reread, found)
        units.extend(found)
    per_file = _sites(units, result, update, allow_latest)
    digests, failures = _digests(per_file, lock, result, offline, update, options)
    in_regions = _edit(per_file, digests, failures, result)
    _edit_containers(in_regions, outer, result)
    if write:
        _write(engine, lock, result)
    return result


def _sites(units: list, result: PinResult, update: bool, allow_latest: bool) -> list:
    """(unit, its documents, [(Site, image site)]) of each unit with an image to pin."""
    per_file = []
    for src in units:
        if src.text is None or (src.region is None and not harness.may_hold_harness(src)):
            continue
        parsed, hdocs, error = documents(src)
        if error is not None:
            result.errors.append(f"{src.path}:{error.line}:{error.column}: invalid YAML: {error.message}")
            continue
        sites = []
        for hdoc in hdocs:
            number = hdoc.doc.number
            for img in hdoc.sites.images:
                ref = img.image
                if ref is None or registries.retired_image_prefix(img.value.strip()):
                    continue
                if ref.pinned and not (update and ref.tag):
                    continue  # pinned already; --update re-resolves those that name their tag
                if ref.tag is None:
                    if not allow_latest:
                        result.skipped_untagged += 1
                        continue
                    ref = ImageRef(ref.registry, ref.path, "latest", None)
                span = img.span(src.text)
                if src.region is not None:
                    span = translate_span(span, src.region)
                sites.append((Site(src.path, span, ref, number), img))
        if sites:
            per_file.append((src, parsed, sites))
    return per_file


def _digests(per_file: list, lock: Lockfile, result: PinResult, offline: bool, update: bool,
             options: Options | None) -> tuple[dict[str, str], dict[str, str]]:
    """(digest by lockfile key, why not by lockfile key): the lockfile first, then the registries (unless
    --offline); what a registry answers is recorded in the lockfile."""
    wanted = {key(site.ref): site.ref for _, _, sites in per_file for site, _ in sites}
    digests: dict[str, str] = {}
    failures: dict[str, str] = {}
    to_resolve = []
    for k, ref in wanted.items():
        cached = None if update else lock.get(ref)
        if cached:
            digests[k] = cached
            result.from_lockfile += 1
        elif offline:
            failures[k] = f"{ref}: not in {lock.path} (and --offline forbids asking the registry)"
        else:
            to_resolve.append(ref)
    if to_resolve:
        try:
            client = Client(options)
        except RegistryError as exc:
            client = None
            for ref in to_resolve:
                failures[key(ref)] = str(exc)
        if client is not None:
            for ref, answer in client.digests(to_resolve).items():
                if isinstance(answer, RegistryError):
                    failures[key(ref)] = str(answer)
                else:
                    digests[key(ref)] = answer
                    lock.set(ref, answer)
                    result.resolved += 1
    return digests, failures


def _edit(per_file: list, digests: dict[str, str], failures: dict[str, str], result: PinResult) -> dict:
    """Each unit's pins tried (fixplan.settle) and, for a plain file, applied and verified into
    `result.changed`; for a unit in a container, the pins moved out of it: {outer path: [(unit report, pins)]}."""
    in_regions: dict[str, list] = {}
    for src, parsed, sites in per_file:
        todo = []
        for site, img in sites:
            where = f"{site.path}:{site.span.line}:{site.span.column}"
            k = key(site.ref)
            if k in failures:
                result.errors.append(f"{where}: {failures[k]}")
                continue
            if not valid_digest(digests[k]):  # never write what is not a digest (lockfile, registry)
                result.errors.append(f"{where}: {site.ref}: {digests[k][:80]!r} is not a digest: not pinned")
                continue
            new = f"{site.ref.name}:{site.ref.tag}@{digests[k]}"
            if new == str(site.ref):
                continue  # --update found the same digest
            site.digest = digests[k]
            intent = SetScalar(img.node, new, paths=(img.raw,))
            assert src.text is not None, "only decoded sources hold sites"
            edit = edit_for(src.text, intent, src.newline)
            if edit is None:
                result.errors.append(f"{where}: {site.ref}: a block scalar: pin it by hand")
                continue
            site.fix = Fix(f"pin {new}", (Edit(*edit),), intents=(intent,), doc=site.doc)
            todo.append(site)
        fixplan.settle(src, parsed, todo)  # shared anchors, and the trial on what the result reads as
        done: list = []
        for site in todo:
            if site.fix is None or not site.fix.safe:
                why = site.message.strip()[1:-1] or "not applicable"  # settle's note: " (why)"
                result.errors.append(f"{site.path}:{site.span.line}:{site.span.column}: {site.ref}: not pinned: {why}")
            else:
                done.append((site, site.fix))
        if not done:
            continue
        if src.region is not None:  # edited through its file, once every unit of it is known
            in_regions.setdefault(src.path, []).append((FileReport(src, parsed=parsed), _moved(src, done, result)))
            continue
        try:
            new_src = fixplan.rewrite(src, parsed, {e for _, fix in done for e in fix.edits},
                                      fixplan.changes_by_doc([fix for _, fix in done]))
        except fixplan.NotApplicable as exc:
            result.errors.append(f"{src.path}: not pinned, the file is left unchanged: {exc}")
            continue
        result.changed[src.path] = (src, new_src.text)
        result.pinned += [site for site, _ in done]
    return in_regions


def _moved(src, done: list, result: PinResult) -> list:
    """The pins of a unit as edits of its file (none into template syntax)."""
    moved = []
    for site, fix in done:
        edits = [src.region.edit(e.start, e.end, e.text) for e in fix.edits]
        if any(e is None for e in edits):
            result.errors.append(f"{site.path}:{site.span.line}:{site.span.column}: {site.ref}: not pinned: "
                                 "the value holds template syntax")
            continue
        out = Fix(fix.description, tuple(Edit(*e) for e in edits if e is not None), doc=fix.doc)
        out.inner, out.region = fix, src.region
        moved.append((site, out))
    return moved


def _edit_containers(in_regions: dict, outer: dict, result: PinResult) -> None:
    """Each container file with its units' pins applied, read back through the container and verified."""
    for path, pieces in in_regions.items():
        whole, reread, found = outer[path]
        report = FileReport(whole)
        report.reread = reread
        pinned_parts = {id(part.source): part for part, _ in pieces}
        report.regions = [pinned_parts.get(id(r)) or FileReport(r) for r in found]
        chosen = [fix for _, moved in pieces for _, fix in moved]
        try:
            new_src = fixplan.rewrite_regions(report, chosen)
        except fixplan.NotApplicable as exc:
            result.errors.append(f"{path}: not pinned, the file is left unchanged: {exc}")
            continue
        result.changed[path] = (whole, new_src.text)
        result.pinned += [site for _, moved in pieces for site, _ in moved]


def _write(engine: Engine, lock: Lockfile, result: PinResult) -> None:
    """Write each changed file (inside the checked tree, only if unchanged since it was read), then the lockfile."""
    items = [(path, src.raw, partial(src.encode, text)) for path, (src, text) in result.changed.items()]
    for (path, _, _), outcome in zip(items, filelib.write_all(items, engine.boundary), strict=True):
        if outcome is None:
            continue
        result.errors.append(f"{path}: {filelib.why_unwritten(outcome, 'changed while pinning; run again')}")
        del result.changed[path]
        result.pinned = [s for s in result.pinned if s.path != path]
    if result.resolved:
        try:
            lock.save()
        except OSError as exc:
            result.errors.append(f"{lock.path}: cannot write the lockfile: {exc.strerror or exc}")
        except LockfileError as exc:  # it changed meanwhile into something that is no lockfile
            result.errors.append(f"{exc}; the lockfile was not written")

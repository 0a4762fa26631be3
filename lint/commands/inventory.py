"""What the checked files contain, as rows a person or a spreadsheet reads: every container image and every
place Harness pulls its own images through a connector. Used by `pipelint images` and `pipelint report`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from pipelint.engine.core import Engine, documents, expand
from pipelint.findings.finding import Span, translate_span
from pipelint.harness import sites as harness
from pipelint.harness.sites import DEFAULT_IMAGE_CONNECTOR, PLACES, InfraSite
from pipelint.oci import registries


@dataclass
class ImageUse:
    path: str
    line: int
    column: int
    stage: str
    step: str


@dataclass
class Image:
    reference: str
    registry: str
    repository: str
    tag: str | None
    digest: str | None
    uses: list[ImageUse] = field(default_factory=list)

    @property
    def pinned(self) -> bool:
        return self.digest is not None

    @property
    def retired(self) -> bool:
        return bool(registries.retired_image_prefix(self.reference))


@dataclass
class ImagePuller:
    """A build stage, containerized step group or Container step: who pulls the Harness images, from where."""

    path: str
    line: int
    entity: str  # the pipeline or template identifier
    owner: str
    kind: str
    override: str | None  # harnessImageConnectorRef, if set
    connector: str  # the connector that pulls: the override, else account.harnessImage
    registry: str | None = None  # the connector's dockerRegistryUrl, when its file was checked


@dataclass
class Connector:
    """A Docker registry connector document: who it is and where its dockerRegistryUrl is written."""

    ref: str  # as a harnessImageConnectorRef names it (account.x, org.x, x)
    identifier: str
    path: str
    url: str
    url_line: int


@dataclass
class Inventory:
    images: dict[str, Image] = field(default_factory=dict)
    pullers: list[ImagePuller] = field(default_factory=list)
    connectors: dict[str, Connector] = field(default_factory=dict)  # by ref
    errors: list[str] = field(default_factory=list)
    files_checked: int = 0


def collect(engine: Engine, paths: list[str]) -> Inventory:
    inv = Inventory()
    files, missing = engine.discover(paths)
    sources, errors = engine.read([f for f in files if f != "-"])
    inv.errors = [f"{p}: no such file or directory" for p in missing] + errors
    inv.files_checked = len(sources)
    parts = [r for s in sources for r in expand(s, engine.named.get(os.path.abspath(s.path)))[0]]
    for src in parts:
        if src.text is None or (src.region is None and not harness.may_hold_harness(src)):
            continue
        _, hdocs, _ = documents(src)
        for hdoc in hdocs:
            body = hdoc.doc.body
            entity = ""
            for k, v in getattr(body, "value", []) or []:
                if getattr(k, "value", None) == "identifier":
                    entity = getattr(v, "value", "") or ""
            for img in hdoc.sites.images:
                ref = img.image
                if ref is None:
                    continue
                span = img.span(src.text)
                if src.region is not None:  # Harness YAML in a Terraform heredoc: the .tf file's position
                    span = translate_span(span, src.region)
                registry, repository = ref.canonical_repository()
                entry = inv.images.setdefault(str(ref), Image(str(ref), registry, repository, ref.tag, ref.digest))
                entry.uses.append(ImageUse(src.path, span.line, span.column, img.stage, img.owner))
            for site in hdoc.sites.infra:
                inv.pullers.append(_puller(src, entity, site))
            for c in hdoc.sites.connectors:
                if c.ref and c.is_docker:
                    inv.connectors[c.ref] = Connector(c.ref, c.identifier or "", src.path, c.url.value,
                                                      Span.of(c.url, src.text or "").line)
    for puller in inv.pullers:
        known = inv.connectors.get(puller.connector)
        puller.registry = known.url if known else None
    return inv


def _puller(src, entity: str, site: InfraSite) -> ImagePuller:
    override = site.ref.value if site.ref is not None else None
    span = Span.of(site.key, src.text)
    line = translate_span(span, src.region).line if src.region is not None else span.line
    return ImagePuller(src.path, line, entity, site.owner, PLACES[site.place].short, override,
                       override or DEFAULT_IMAGE_CONNECTOR)


def image_rows(inv: Inventory) -> list[dict]:
    rows = []
    for ref in sorted(inv.images):
        img = inv.images[ref]
        rows.append({
            "image": img.reference, "registry": img.registry, "repository": img.repository,
            "tag": img.tag, "digest": img.digest, "pinned": img.pinned, "retired_registry": img.retired,
            "uses": len(img.uses),
            "files": sorted({u.path for u in img.uses}),
            "stages": sorted({f"{u.path}:{u.stage}" if u.stage else u.path for u in img.uses}),
            "locations": [f"{u.path}:{u.line}:{u.column}" for u in img.uses],
        })
    return rows


def render_images(inv: Inventory, fmt: str) -> str:
    rows = image_rows(inv)
    if fmt == "json":
        import json

        return json.dumps({"version": 1, "images": rows, "files_checked": inv.files_checked}, indent=2) + "\n"  # ASCII
    from pipelint.text.source import printable  # a file name's line break or ESC shown, not acted on

    if fmt == "csv":
        import csv
        import io

        rows = [{**r, "image": printable(r["image"]), "files": [printable(f) for f in r["files"]],
                 "stages": [printable(s) for s in r["stages"]]} for r in rows]
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["image", "registry", "repository", "tag", "digest", "pinned", "retired_registry", "uses",
                         "files", "stages"])
        for r in rows:
            writer.writerow([r["image"], r["registry"], r["repository"], r["tag"] or "", r["digest"] or "",
                             "yes" if r["pinned"] else "no", "yes" if r["retired_registry"] else "no", r["uses"],
                             ";".join(r["files"]), ";".join(r["stages"])])
        return out.getvalue()
    if not rows:
        return "No images found.\n"
    rows = [{**r, "image": printable(r["image"]), "files": [printable(f) for f in r["files"]]} for r in rows]
    width = max(len(r["image"]) for r in rows)
    lines = [f"{'image':<{width}}  {'pinned':<6}  {'retired':<7}  {'uses':>4}  files"]
    for r in rows:
        files = ", ".join(r["files"][:3]) + (f" (+{len(r['files']) - 3} more)" if len(r["files"]) > 3 else "")
        lines.append(f"{r['image']:<{width}}  {'yes' if r['pinned'] else 'no':<6}  "
                     f"{'yes' if r['retired_registry'] else 'no':<7}  {r['uses']:>4}  {files}")
    pinned = sum(r["pinned"] for r in rows)
    retired = sum(r["retired_registry"] for r in rows)
    nfiles = len({f for r in rows for f in r["files"]})
    lines.append(f"{len(rows)} image{'s' if len(rows) != 1 else ''} ({pinned} pinned, {retired} on the retired "
                 f"registry) in {nfiles} file{'s' if nfiles != 1 else ''}.")
    return "\n".join(lines) + "\n"

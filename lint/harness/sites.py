"""The one place that knows Harness's shape (see ../shared/harness-yaml.md).

`sites(doc)` walks a document once and returns the *sites* rules care about:

- `InfraSite`: a place where the Override Image Connector (`harnessImageConnectorRef`) belongs
  (harness-yaml.md § 2, places A, B, C, D, F, G), with the mapping that holds it or should;
- `RefSite`: every `harnessImageConnectorRef` value, wherever the shape allows one (input sets and a
  templated stage's `templateInputs` included);
- `ImageSite`: a container image reference (`step.spec.image`, `serviceDependencies[].spec.image`);
- `ConnectorSite`: a connector entity; `CloudStageSite`: a stage that builds on Harness Cloud.

Every trap is handled here, once: Deployment-stage infrastructure is a deployment target; `useFromStage`,
`KubernetesHosted` and Cloud take no override; a templated stage is configured only through its
`templateInputs`; a mapping-valued `image` describes a scanner's target; a matrix axis named `image`, plugin
`settings` and `runtime.spec.imageName` are never walked; empty images mean the step's default image;
values holding `<+` are known only at run time and are never sites; aliases are walked once.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pipelint.findings.finding import Span
from pipelint.oci import registries
from pipelint.oci.images import ImageRef, parse_image
from pipelint.text.source import Source, line_of
from pipelint.yamldoc import document
from pipelint.yamldoc.document import (
    Document,
    MappingNode,
    Node,
    ParseError,
    ScalarNode,
    SequenceNode,
    get,
    get_pair,
    is_map,
    is_null,
    items,
    scalar,
)

# --- entities (harness-yaml.md § 1) ---------------------------------------------------------------------
# `ciExecutionConfig` is pipelint's own: the account's CI execution configuration as `pipelint account pull` writes
# it (the image of each field Harness runs builds with), so the image rules read it like step images.
ROOT_KEYS = ("pipeline", "template", "inputSet", "overlayInputSet", "trigger", "connector", "ciExecutionConfig")
# Keys one of which a Harness entity body carries; tells `trigger:` of Azure Pipelines from a Harness trigger.
ENTITY_KEYS = frozenset({"identifier", "name", "stages", "spec", "type", "pipeline", "inputSetReferences"})
HARNESS_DIR = ".harness"

_ROOT_ALTERNATIVES = "|".join(ROOT_KEYS)
# A top-level root key at the start of a line (or after the `{` of a JSON-style file): the cheap test made
# before any parse.
ROOT_KEY_LINE = re.compile(rf"^(?:---[ \t]*\n)?(?:\{{[ \t\r\n]*)?[\"']?(?:{_ROOT_ALTERNATIVES})[\"']?[ \t]*:",
                           re.MULTILINE)
ROOT_KEY_LINE_BYTES = re.compile(ROOT_KEY_LINE.pattern.encode(), re.MULTILINE)
# The same test as a POSIX extended regex, for `git grep -E` over many repositories (all_repos_fix).
ROOT_KEY_ERE = rf"^[\"']?({_ROOT_ALTERNATIVES})[\"']?[[:space:]]*:"

# --- connectors (harness-yaml.md § 3) -------------------------------------------------------------------
IMAGE_CONNECTOR_KEY = "harnessImageConnectorRef"
DEFAULT_IMAGE_CONNECTOR = "account.harnessImage"  # what Harness pulls its own images through by default
DOCKER_REGISTRY = "DockerRegistry"  # the connector type of a Docker registry
SCOPES = ("account", "org", "project")
BUILD_STAGE_TYPES = frozenset({"CI", "SecurityTests", "IACM", "IDP"})
STAGE_TYPES = BUILD_STAGE_TYPES | {
    "Deployment", "Approval", "Custom", "Pipeline", "FeatureFlag", "DRTest", "CompositeLoadTest", "Dynamic",
}
CONTAINER_STEP_TYPES = frozenset({"Container", "CdSscaOrchestration", "CdSscaEnforcement"})
STEP_INFRA_TYPES = frozenset({"KubernetesDirect", "ECSDirect"})

YamlPath = tuple  # keys and `[identifier]` labels: how findings name a place (stable across reordering)
RawPath = tuple  # keys and list indexes: where a place is in the document's data (for verifying fixes)


def is_expression(value: str | None) -> bool:
    return value is not None and "<+" in value


class Place:
    """One of the places Harness pulls its own images to (harness-yaml.md § 2): how reports name it."""

    __slots__ = ("code", "short", "what")

    def __init__(self, code: str, short: str, what: str):
        self.code = code
        self.short = short  # a table column: "Kubernetes"
        self.what = what  # a sentence's subject, with `{owner}`: "build stage {owner} (...)"


PLACES = {p.code: p for p in (
    Place("A", "Kubernetes", "build stage {owner} (KubernetesDirect infrastructure)"),
    Place("B", "VM pool", "build stage {owner} (VM pool infrastructure)"),
    Place("C", "Docker runtime", "build stage {owner} (Docker runtime)"),
    Place("D", "step group (Kubernetes)", "containerized step group {owner} (KubernetesDirect)"),
    Place("F", "step group (ECS)", "containerized step group {owner} (ECSDirect)"),
    Place("G", "Container step", "Container step {owner} (its own infrastructure)"),
)}


def under_harness_dir(path: str) -> bool:
    """Is the file in a `.harness/` folder (where a headless entity body counts as Harness's)?"""
    parts = re.split(r"[\\/]", path)
    return HARNESS_DIR in parts[:-1]


def may_hold_harness(src: Source) -> bool:
    """Cheap test, before any parse: could this file hold a Harness entity?"""
    if under_harness_dir(src.path):
        return True
    if src.text is not None:
        return ROOT_KEY_LINE.search(src.text) is not None
    return ROOT_KEY_LINE_BYTES.search(src.raw) is not None


def classify(root: Node, path: str, headless: bool = False) -> tuple[str | None, Node | None]:
    """(kind, entity body) of a document's root: kind is a ROOT_KEYS entry, "headless" (a body without its
    root key, in a `.harness/` folder), or None (not Harness's: Harness "v1" YAML, other tools' YAML)."""
    if isinstance(root, MappingNode):
        keys = {k.value: v for k, v in root.value if isinstance(k, ScalarNode)}
        if keys.get("version") is not None and scalar(keys["version"]) == "1":
            return None, None  # Harness "v1" YAML: other keys, out of scope
        for key in ROOT_KEYS:
            body = keys.get(key)
            if isinstance(body, MappingNode) and (
                len(root.value) == 1 or any(scalar(k) in ENTITY_KEYS for k, _ in body.value)
            ):
                return key, body
        if (headless or under_harness_dir(path)):
            return "headless", root
    elif isinstance(root, SequenceNode) and (headless or under_harness_dir(path)) and any(
            isinstance(item, MappingNode) and any(scalar(k) in ("stage", "parallel") for k, _ in item.value)
            for item in root.value):
        return "headless", root  # a stage fragment: a `- stage:` list, as under a pipeline's `stages`
    return None, None


def documents(src: Source, parsed: list[Document] | None = None) -> tuple[list[Document], ParseError | None]:
    """Every document of `src` that parses, classified (`kind`, `body`) and, in a file of several, named by
    entity and identifier (`--- connector[harnessImage]`: a baseline survives reordering) or by position
    (`--- 2`); and the error that stopped parsing, if any. `parsed`: `src`'s documents as already parsed (whole:
    a text with a parse error is never passed so)."""
    docs, error = (parsed, None) if parsed is not None else document.parse(src)
    as_input_set = src.region is not None and src.region.kind == "inputSet"
    headless = src.region is not None and src.region.kind == "named"  # a Harness resource reads this file
    for d in docs:
        d.kind, d.body = classify(d.root, src.path, headless)
        if as_input_set and d.kind == "pipeline":  # a trigger's inputYaml may hold the input set's pipeline only
            d.kind, d.body = "inputSet", d.root
    if len(docs) > 1:
        for d in docs:
            ident = scalar(get(d.body, "identifier")) if d.kind not in (None, "headless") else None
            d.path_prefix = (f"--- {d.kind}[{ident}]",) if ident else (f"--- {d.number}",)
    if src.region is not None and src.region.name:  # `harness_platform_pipeline.build`: its resource, not a line
        for d in docs:
            d.path_prefix = (src.region.name, *d.path_prefix)
    return docs, error


def parse_ref(ref: str) -> tuple[str, str]:
    """(scope, identifier) of a connector reference: `account.x`, `org.x`, or `x` (the project's)."""
    head, dot, rest = ref.partition(".")
    if dot and head in ("account", "org"):
        return head, rest
    return "project", ref


def connector_ref(scope: str, identifier: str) -> str:
    """How a reference names the connector `identifier` defined at `scope`."""
    return identifier if scope == "project" else f"{scope}.{identifier}"


class At:
    """Where a finding points, as every site says it: `at` (a node, or the Span it was reduced to), the YAML
    path that names the place, and the value a baseline fingerprint keys on. Sites have these three too."""

    __slots__ = ("at", "finding_value", "yaml_path")

    def __init__(self, at: Node | Span, yaml_path: YamlPath, finding_value: str = ""):
        self.at = at
        self.yaml_path = yaml_path
        self.finding_value = finding_value


class RefSite:
    """A harnessImageConnectorRef value."""

    __slots__ = ("at", "raw", "value", "yaml_path")

    def __init__(self, at: ScalarNode | Span, value: str, yaml_path: YamlPath, raw: RawPath = ()):
        self.at = at  # the value node; its Span in the compact form cross-file rules read (`light`)
        self.value = value
        self.yaml_path = yaml_path
        self.raw = raw

    @property
    def finding_value(self) -> str:
        return self.value

    def light(self, text: str) -> RefSite:
        """The same site without its node (it keeps its Span): what travels between processes and the cache."""
        return RefSite(Span.of(self.at, text), self.value, self.yaml_path, self.raw)


class InfraSite:
    """A build stage's or containerized step group's infrastructure: a place Harness pulls its own images to."""

    __slots__ = ("holder", "holder_key", "holder_raw", "key", "merged", "owner", "place", "ref", "yaml_path")

    def __init__(self, place: str, key: ScalarNode, holder: Node | None, ref: RefSite | None, owner: str,
                 yaml_path: YamlPath, holder_raw: RawPath = (), holder_key: ScalarNode | None = None,
                 merged: Node | None = None):
        self.place = place  # A, B, C, D, F or G (harness-yaml.md § 2)
        self.key = key  # the `infrastructure` / `runtime` / `stepGroupInfra` key
        self.holder = holder  # the mapping that holds (or should hold) harnessImageConnectorRef
        self.ref = ref
        self.owner = owner  # identifier of the stage, step group or step
        self.yaml_path = yaml_path
        self.holder_raw = holder_raw  # where the holder is in the document's data (keys and list indexes)
        self.holder_key = holder_key  # the `spec` key whose value is the holder
        self.merged = merged  # a harnessImageConnectorRef that only a `<<` merge supplies (Harness ignores it)

    @property
    def at(self) -> ScalarNode:
        return self.key

    finding_value = ""


class ImageSite:
    """A step's container image (parsed once, here: `image` is None when the value is not a reference)."""

    __slots__ = ("at", "image", "node", "owner", "raw", "stage", "step_type", "value", "yaml_path")

    def __init__(self, node: ScalarNode, value: str, step_type: str | None, yaml_path: YamlPath, owner: str = "",
                 raw: RawPath = (), at: ScalarNode | Span | None = None, stage: str = ""):
        self.node = node
        self.stage = stage  # the pipeline stage it runs in (its identifier, else its index); "" outside one
        self.value = value
        self.image: ImageRef | None = parse_image(value)
        self.step_type = step_type
        self.yaml_path = yaml_path
        self.owner = owner
        self.raw = raw  # where this use of the image is in the document's data
        self.at = at if at is not None else node  # what a finding points at: the node, or the Span of `*alias`

    @property
    def finding_value(self) -> str:
        return str(self.image) if self.image is not None else self.value.strip()

    def span(self, text: str) -> Span:
        return self.at if isinstance(self.at, Span) else Span.of(self.at, text)


class ConnectorSite:
    """A connector document: its identifier, type, scope, and the spec that says which registry it reaches."""

    __slots__ = (
        "auth_type",
        "delegate",
        "doc",
        "identifier",
        "provider",
        "raw",
        "scope",
        "spec",
        "spec_key",
        "type",
        "url",
        "yaml_path",
    )

    def __init__(self, doc: Document, identifier: str | None, type: str | None, scope: str,
                 spec_key: ScalarNode | None, spec: Node | None, url: ScalarNode | None,
                 provider: ScalarNode | None, auth_type: str | None, delegate: tuple[ScalarNode, Node] | None,
                 yaml_path: YamlPath = ("connector",), raw: RawPath = ("connector",)):
        self.doc = doc
        self.identifier = identifier
        self.type = type
        self.scope = scope  # account | org | project
        self.spec_key = spec_key
        self.spec = spec
        self.url = url
        self.provider = provider
        self.auth_type = auth_type
        self.delegate = delegate  # executeOnDelegate key and value
        self.yaml_path = yaml_path
        self.raw = raw  # the connector body's place in the document's data

    def replace(self, **changes) -> ConnectorSite:
        return ConnectorSite(**{name: changes.get(name, getattr(self, name)) for name in self.__slots__})

    @property
    def ref(self) -> str | None:
        """How a harnessImageConnectorRef names this connector."""
        if not self.identifier:
            return None
        return connector_ref(self.scope, self.identifier)

    def move_to(self, url: str, provider: str) -> list:
        """The intents that point this connector at another registry: its `dockerRegistryUrl`, and its
        `providerType` set to match (inserted into `spec` when absent)."""
        from pipelint.yamldoc.yamltext import InsertPair, SetScalar

        spec = self.raw + ("spec",)
        intents: list = [SetScalar(self.url, url, paths=(spec + ("dockerRegistryUrl",),))]
        if self.provider is not None:
            if self.provider.value != provider:
                intents.append(SetScalar(self.provider, provider, paths=(spec + ("providerType",),)))
        elif self.spec is not None:
            intents.append(InsertPair(self.spec, "providerType", provider, paths=(spec,)))
        return intents

    def at_spec(self, key: str, node: Node | None = None) -> At:
        """A finding's place at `spec.<key>` (`node`: the value there; None points at the `spec` key)."""
        if node is None:
            return At(self.spec_key, self.yaml_path + ("spec",), "")
        return At(node, self.yaml_path + ("spec", key), scalar(node) or "")

    @property
    def is_docker(self) -> bool:
        """A Docker registry connector (the kind harnessImageConnectorRef must name), with a URL."""
        return self.type == DOCKER_REGISTRY and self.url is not None


class CloudStageSite:
    """A build stage on Harness Cloud (`runtime: Cloud`): it pulls Harness images itself."""

    __slots__ = ("key", "yaml_path")

    def __init__(self, key: ScalarNode | None, yaml_path: YamlPath):
        self.key = key  # the `runtime` key (None once the file's nodes are dropped)
        self.yaml_path = yaml_path


class StageSite:
    """A stage mapping (`- stage: {...}`) of a pipeline, template or fragment: what custom rules' `@stages` give."""

    __slots__ = ("key", "node", "raw", "yaml_path")

    def __init__(self, key: ScalarNode, node: MappingNode, yaml_path: YamlPath, raw: RawPath):
        self.key = key  # the `stage` key
        self.node = node
        self.yaml_path = yaml_path
        self.raw = raw


class Sites:
    """Everything the walker found in one document, for the rules to read."""

    __slots__ = ("cloud_stages", "connectors", "images", "infra", "partial_images", "refs", "stages")

    def __init__(self, infra: list[InfraSite] | None = None, refs: list[RefSite] | None = None,
                 images: list[ImageSite] | None = None, connectors: list[ConnectorSite] | None = None,
                 cloud_stages: list[CloudStageSite] | None = None):
        self.infra = infra if infra is not None else []
        self.refs = refs if refs is not None else []
        self.images = images if images is not None else []
        self.connectors = connectors if connectors is not None else []
        self.cloud_stages = cloud_stages if cloud_stages is not None else []
        self.stages: list[StageSite] = []
        # images whose value holds an expression or a template hole after a literal retired-registry prefix: only
        # REG001 reads them (nothing else about such a reference is known before run time)
        self.partial_images: list[ImageSite] = []


def sites(doc: Document) -> Sites:
    walker = _Walker(doc)
    walker.document()
    return walker.sites


def item_label(item: Node, index: int) -> str:
    """`[identifier]` for a list item that has one (`- stage: {identifier: x}`), else `[index]`."""
    if is_map(item):
        ident = scalar(get(item, "identifier"))
        if ident is None and len(item.value) == 1:
            ident = scalar(get(item.value[0][1], "identifier"))
        if ident:
            return f"[{ident}]"
    return f"[{index}]"


class _Walker:
    """Walks one document the way Harness reads it. Harness parses YAML with Jackson (harness-core's
    `YamlUtils`: `new ObjectMapper(new YAMLFactory()).readTree(...)`), which keeps a merge key `<<` as an ordinary
    key named "<<" (jackson-dataformat-yaml#20): what a merge supplies is not looked at here (YML003 reports the
    merges; resolved.py compares fixes under both readings). Stages, steps and step groups
    reached twice (an alias of a whole stage) are walked once; an image or an infrastructure `spec` reached
    through several aliases is a site at each use, with the raw path of that use (`raw`), so the fix
    planner can tell whether every use of a shared node is a site of the same fix."""

    ENTITIES: dict[str | None, Callable[..., None]]  # entity kind -> walk of its body (below the class)
    TEMPLATE_BODIES: dict[str, Callable[..., None]]  # template type -> walk of its `spec`

    def __init__(self, doc: Document):
        self.doc = doc
        self.sites = Sites()
        self.seen: set[int] = set()
        body = doc.body
        self.default_owner = scalar(get(body, "identifier")) or scalar(get(body, "name")) or "?"
        self.body_raw: RawPath = (doc.kind,) if doc.kind not in (None, "headless") else ()
        # Input-set mode: walking values that fill in another entity (an input set, a templated node's
        # `templateInputs`). Types are often left out there, only harnessImageConnectorRef values are sites,
        # and images and missing overrides are the other entity's business.
        self.values_only = False
        self.stage_label = ""  # the pipeline stage being walked, as its list label names it

    def as_values(self, method, node: Node | None, path: YamlPath, raw: RawPath) -> None:
        """`method(node, path, raw)` in input-set mode."""
        before, self.values_only = self.values_only, True
        try:
            method(node, path, raw)
        finally:
            self.values_only = before

    def templated(self, node: Node, path: YamlPath, raw: RawPath, method) -> bool:
        """A stage, step or step group that uses a template: only its `templateInputs` are ours (walked by
        `method`, in input-set mode). True when `node` is one."""
        template = get(node, "template")
        if template is None:
            return False
        self.as_values(method, get(template, "templateInputs"), path + ("template", "templateInputs"),
                       raw + ("template", "templateInputs"))
        return True

    def owner(self, node: Node) -> str:
        """The identifier of a stage, step or step group (a template body: the template's)."""
        return scalar(get(node, "identifier")) or scalar(get(node, "name")) or self.default_owner

    def _first_visit(self, node: Node) -> bool:
        if id(node) in self.seen:
            return False
        self.seen.add(id(node))
        return True

    # --- entities -----------------------------------------------------------------------------------
    def document(self) -> None:
        kind, body = self.doc.kind, self.doc.body
        walk = self.ENTITIES.get(kind)
        if kind == "headless" and isinstance(body, SequenceNode):
            self.stage_items(body, ("stages",), ())  # a stage fragment
        elif walk is not None and is_map(body):
            walk(self, body, (kind,) if kind != "headless" else (), self.body_raw)

    def template(self, body: MappingNode, path: YamlPath, raw: RawPath) -> None:
        """A template's `spec` is the body of the entity its `type` names."""
        walk = self.TEMPLATE_BODIES.get(scalar(get(body, "type")) or "")
        if walk is not None:
            walk(self, get(body, "spec"), path + ("spec",), raw + ("spec",))

    def ci_execution_config(self, body: MappingNode, path: YamlPath, raw: RawPath) -> None:
        """`images: {addonTag: {image: ...}, ...}`: each field's effective image is an image site."""
        images = get(body, "images")
        if not isinstance(images, MappingNode):
            return
        infra = scalar(get(body, "infra")) or "?"
        for key, field in images.value:
            if isinstance(key, ScalarNode) and is_map(field):
                self.image(field, None, path + ("images", key.value), raw + ("images", key.value),
                           f"CI execution config ({infra}) {key.value}")

    def input_set(self, body: MappingNode, path: YamlPath, raw: RawPath) -> None:
        self.as_values(self.pipeline, get(body, "pipeline"), path + ("pipeline",), raw + ("pipeline",))

    def headless(self, body: MappingNode, path: YamlPath, raw: RawPath) -> None:
        """A body without its root key (in a `.harness/` folder): a pipeline's, a stage's, a group's or a step's."""
        if get(body, "stages") is not None:
            self.pipeline(body, (), ())
            return
        for key, method in (("stage", self.stage), ("stepGroup", self.step_group), ("step", self.step)):
            if get(body, key) is not None:
                method(get(body, key), (key,), (key,))
                return
        if scalar(get(body, "type")) in STAGE_TYPES and get(body, "spec") is not None:
            self.stage(body, (), ())

    def pipeline(self, body: Node | None, path: YamlPath, raw: RawPath) -> None:
        if not is_map(body):
            return
        self.stage_items(get(body, "stages"), path + ("stages",), raw + ("stages",))

    def stage_items(self, seq: Node | None, path: YamlPath, raw: RawPath) -> None:
        for i, item in enumerate(items(seq)):
            if not is_map(item):
                continue
            label = path[:-1] + (path[-1] + item_label(item, i),)
            for key, value in item.value:
                if key.value == "stage":
                    if is_map(value) and not self.values_only:
                        self.sites.stages.append(StageSite(key, value, label + ("stage",), raw + (i, "stage")))
                    before, self.stage_label = self.stage_label, item_label(item, i)[1:-1]
                    self.stage(value, label + ("stage",), raw + (i, "stage"))
                    self.stage_label = before
                elif key.value == "parallel":
                    self.stage_items(value, label + ("parallel",), raw + (i, "parallel"))

    def stage(self, stage: Node | None, path: YamlPath, raw: RawPath) -> None:
        if not is_map(stage) or not self._first_visit(stage):
            return
        if self.templated(stage, path, raw, self.stage):
            return
        stype = scalar(get(stage, "type"))
        spath, sraw = path + ("spec",), raw + ("spec",)
        spec = get(stage, "spec")
        if not is_map(spec):
            return
        owner = self.owner(stage)
        if stype in BUILD_STAGE_TYPES or (self.values_only and stype is None):
            self.build_infrastructure(spec, spath, sraw, owner)
            if not self.values_only:
                for i, dep in enumerate(items(get(spec, "serviceDependencies"))):
                    dpath = spath[:-1] + ("spec", "serviceDependencies" + item_label(dep, i), "spec")
                    self.image(get(dep, "spec"), None, dpath, sraw + ("serviceDependencies", i, "spec"), owner)
        execution = get(spec, "execution")
        for key in ("steps", "rollbackSteps"):
            self.step_items(get(execution, key), spath + ("execution", key), sraw + ("execution", key))

    def build_infrastructure(self, spec: Node, path: YamlPath, raw: RawPath, owner: str) -> None:
        pair = get_pair(spec, "infrastructure")
        if pair:
            key, infra = pair
            ipath, iraw = path + ("infrastructure",), raw + ("infrastructure",)
            itype = scalar(get(infra, "type"))
            if itype == "KubernetesDirect" or (self.values_only and itype is None):
                self.place("A", key, infra, ipath, iraw, ("spec",), owner)
            if itype == "VM" or (self.values_only and itype is None):
                inner = get(infra, "spec")
                if scalar(get(inner, "type")) == "Pool" or (self.values_only and inner is not None):
                    self.place("B", key, inner, ipath, iraw, ("spec", "spec"), owner)
            # useFromStage, KubernetesHosted, expressions: no override exists, nothing to check.
        pair = get_pair(spec, "runtime")
        if pair:
            key, runtime = pair
            rpath, rraw = path + ("runtime",), raw + ("runtime",)
            rtype = scalar(get(runtime, "type"))
            if rtype == "Docker" or (self.values_only and rtype is None):
                self.place("C", key, runtime, rpath, rraw, ("spec",), owner)
            elif rtype == "Cloud" and not self.values_only:
                self.sites.cloud_stages.append(CloudStageSite(key, rpath))

    def step_items(self, seq: Node | None, path: YamlPath, raw: RawPath) -> None:
        for i, item in enumerate(items(seq)):
            if not is_map(item):
                continue
            label = path[:-1] + (path[-1] + item_label(item, i),)
            for key, value in item.value:
                if key.value == "step":
                    self.step(value, label + ("step",), raw + (i, "step"))
                elif key.value == "stepGroup":
                    self.step_group(value, label + ("stepGroup",), raw + (i, "stepGroup"))
                elif key.value == "parallel":
                    self.step_items(value, label + ("parallel",), raw + (i, "parallel"))

    def step(self, step: Node | None, path: YamlPath, raw: RawPath) -> None:
        if not is_map(step) or not self._first_visit(step):
            return
        if self.templated(step, path, raw, self.step):
            return
        stype = scalar(get(step, "type"))
        spec = get(step, "spec")
        owner = self.owner(step)
        if not self.values_only:
            self.image(spec, stype, path + ("spec",), raw + ("spec",), owner)
        if stype in CONTAINER_STEP_TYPES or (self.values_only and stype is None):
            pair = get_pair(spec, "infrastructure")
            if pair:
                key, infra = pair
                ipath = path + ("spec", "infrastructure")
                if scalar(get(infra, "type")) in STEP_INFRA_TYPES or self.values_only:
                    self.place("G", key, infra, ipath, raw + ("spec", "infrastructure"), ("spec",), owner)

    def step_group(self, group: Node | None, path: YamlPath, raw: RawPath) -> None:
        if not is_map(group) or not self._first_visit(group):
            return
        if self.templated(group, path, raw, self.step_group):
            return
        owner = self.owner(group)
        pair = get_pair(group, "stepGroupInfra")
        if pair:
            key, infra = pair
            gpath = path + ("stepGroupInfra",)
            itype = scalar(get(infra, "type"))
            if itype in STEP_INFRA_TYPES or (self.values_only and itype is None):
                place = "F" if itype == "ECSDirect" else "D"
                self.place(place, key, infra, gpath, raw + ("stepGroupInfra",), ("spec",), owner)
        for key in ("steps", "rollbackSteps"):
            self.step_items(get(group, key), path + (key,), raw + (key,))

    # --- leaves -------------------------------------------------------------------------------------
    def place(self, place: str, key: ScalarNode, infra: Node, key_path: YamlPath, key_raw: RawPath,
              holder_path: YamlPath, owner: str) -> None:
        """`infra` is the `infrastructure`/`runtime`/`stepGroupInfra` mapping (for B: its inner `spec`); the
        holder of harnessImageConnectorRef is its `spec`."""
        holder_pair = get_pair(infra, "spec")
        holder = holder_pair[1] if holder_pair else None
        if holder is not None and not is_map(holder):
            return  # `spec: <+input>` and the like: unknown until run time
        path = key_path + holder_path
        holder_raw = key_raw + holder_path
        ref = None
        merged = None
        pair = get_pair(holder, IMAGE_CONNECTOR_KEY)
        if pair and isinstance(pair[1], ScalarNode) and not is_null(pair[1]):
            value = pair[1].value
            raw = holder_raw + (IMAGE_CONNECTOR_KEY,)
            if not is_expression(value):
                ref = RefSite(pair[1], value, path + (IMAGE_CONNECTOR_KEY,), raw)
                self.sites.refs.append(ref)
            elif not self.values_only:
                ref = RefSite(pair[1], value, path + (IMAGE_CONNECTOR_KEY,), raw)  # set, at run time
        elif pair is None and holder is not None:
            merged = _merged_value(holder, IMAGE_CONNECTOR_KEY)
        if not self.values_only:
            self.sites.infra.append(InfraSite(place, key, holder, ref, owner, key_path, holder_raw,
                                              holder_pair[0] if holder_pair else None, merged))

    def image(self, spec: Node | None, step_type: str | None, path: YamlPath, raw: RawPath, owner: str) -> None:
        pair = get_pair(spec, "image")
        if pair is None:
            return
        key, node = pair
        if not isinstance(node, ScalarNode) or is_null(node):
            return  # absent, empty (the step's default image), a mapping (a scanner's target)
        value = node.value.strip()
        if not value:
            return
        if is_expression(value):
            cut = registries.retired_image_prefix(value)
            if cut and "<+" not in value[:cut]:  # the retired registry written literally, the rest unknown
                self.sites.partial_images.append(ImageSite(node, node.value, step_type, path + ("image",), owner,
                                                           raw + ("image",), alias_span(self.doc.text, key, node),
                                                           self.stage_label))
            return
        at = alias_span(self.doc.text, key, node)
        self.sites.images.append(ImageSite(node, node.value, step_type, path + ("image",), owner,
                                           raw + ("image",), at, self.stage_label))

    def connector(self, body: MappingNode, path: YamlPath = ("connector",), raw: RawPath = ()) -> None:
        spec_pair = get_pair(body, "spec")
        spec = spec_pair[1] if spec_pair else None
        # `orgIdentifier: null` (as Harness's API answers an account connector) is no identifier
        org, project = (None if is_null(n) else scalar(n) for n in (get(body, "orgIdentifier"),
                                                                       get(body, "projectIdentifier")))
        scope = "project" if project else "org" if org else "account"
        url = get(spec, "dockerRegistryUrl")
        provider = get(spec, "providerType")
        self.sites.connectors.append(ConnectorSite(
            doc=self.doc,
            identifier=scalar(get(body, "identifier")),
            type=scalar(get(body, "type")),
            scope=scope,
            spec_key=spec_pair[0] if spec_pair else None,
            spec=spec,
            url=url if isinstance(url, ScalarNode) else None,
            provider=provider if isinstance(provider, ScalarNode) else None,
            auth_type=scalar(get(get(spec, "auth"), "type")),
            delegate=get_pair(spec, "executeOnDelegate"),
        ))


# What each entity's body is walked as (harness-yaml.md § 1). overlayInputSet: references to input sets only.
# trigger: not walked here; its `inputYaml` (a string of YAML) is a unit of its own (pipelint.embed.inputyaml).
_Walker.ENTITIES = {
    "pipeline": _Walker.pipeline,
    "template": _Walker.template,
    "inputSet": _Walker.input_set,
    "connector": _Walker.connector,
    "headless": _Walker.headless,
    "ciExecutionConfig": _Walker.ci_execution_config,
}
_Walker.TEMPLATE_BODIES = {
    "Stage": _Walker.stage,
    "Step": _Walker.step,
    "StepGroup": _Walker.step_group,
    "Pipeline": _Walker.pipeline,
}


def _merged_value(mapping: MappingNode, key: str, seen: set | None = None) -> Node | None:
    """The value a YAML 1.1 merge (`<<: *base`, `<<: [*a, *b]`) gives `key` in `mapping`, if any."""
    seen = seen if seen is not None else set()
    if id(mapping) in seen:
        return None
    seen.add(id(mapping))
    for k, v in mapping.value:
        if isinstance(k, ScalarNode) and k.value == "<<" and not k.style:
            for m in (v.value if v.__class__.__name__ == "SequenceNode" else [v]):
                found = get(m, key) if is_map(m) else None
                if found is None and is_map(m):
                    found = _merged_value(m, key, seen)
                if found is not None:
                    return found
    return None


def alias_span(text: str | None, key: ScalarNode, value: Node):
    """For `key: *name` (a value written as an alias), the Span of the `*name` token; else the value node."""
    if text is None or value.start_mark.index >= key.end_mark.index:
        return value
    from pipelint.yamldoc.yamltext import alias_token

    span = alias_token(text, key)
    if span is None:
        return value
    start, end = span
    line = line_of(text, start)
    col = start - (text.rfind("\n", 0, start) + 1) + 1
    return Span(start, end, line, col, line, col + end - start)


def labeled_mappings(doc: Document):
    """(mapping, yaml path) for every mapping of a document once (aliases visited once), the path named as
    findings name places (`pipeline.stages[build].stage...`)."""
    if doc.root is None:
        return
    seen: set[int] = set()
    stack: list[tuple[Node, tuple[str, ...]]] = [(doc.root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen or isinstance(node, ScalarNode):
            continue
        seen.add(id(node))
        if is_map(node):
            yield node, path
            for k, v in reversed(node.value):
                if not isinstance(v, ScalarNode):
                    stack.append((v, path + (k.value if isinstance(k, ScalarNode) else "?",)))
        else:
            for i, item in reversed(list(enumerate(node.value))):
                last = path[-1] if path else ""
                stack.append((item, path[:-1] + (last + item_label(item, i),)))


def merge_supplies(mapping: MappingNode, merge_value: Node) -> list[str]:
    """The keys a `<<: value` merge gives `mapping` that it does not have itself."""
    own = {k.value for k, _ in mapping.value if isinstance(k, ScalarNode)}
    out: list[str] = []
    for m in (merge_value.value if merge_value.__class__.__name__ == "SequenceNode" else [merge_value]):
        if is_map(m):
            for k, _ in m.value:
                if isinstance(k, ScalarNode) and k.value not in own and k.value not in out and k.value != "<<":
                    out.append(k.value)
    return out

"""Hypothesis strategies: Harness-shaped YAML text varied the way real files vary, each with the document it
must become after `pipelint fix --unsafe-fixes` (CON001 connector set, target dockerhub), built from the
model and not from pipelint's own code: an independent oracle.

Varied: 2/4-space indentation; sequences indented under their key or not; flow mappings; comments (trailing,
full-line, between items, after the last item); blank lines; quoting styles; block scalars (|, |+, >-) with
`#` lines; anchors and aliases; CRLF; BOM; no final newline; several documents; unicode, astral characters
included, before an edited value.
"""

from __future__ import annotations

import copy

from hypothesis import strategies as st

MIRROR = "account.harnessImageMirror"
HUB_URL = "https://registry.hub.docker.com"
RETIRED_URLS = ["https://app.harness.io/registry", "app.harness.io/registry/", "HTTPS://App.Harness.IO/registry/v2/"]
IMAGES = ["golang:1.22", "alpine:3.20", "registry.example.com:5000/team/app:1.2",
          "app.harness.io/registry/harness/ci-addon:1.16.4", "app.harness.io/registry/harness/drone-git:1.6.0",
          "App.Harness.io/registry/harness/lite-engine:1.16.4@sha256:" + "ab" * 32]
NAMES = ["build", "café ☕ build", "𝒷𝓊𝒾𝓁𝒹 😀 pipeline", "naïve-测试", "plain name"]


def fixed_image(image: str) -> str:
    lower = image.lower()
    if lower.startswith("app.harness.io/registry/"):
        return image[len("app.harness.io/registry/"):]
    return image


def quote(value: str, style: str) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    if style == '"':
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


class Writer:
    """Lines of one YAML document, with the indentation style of the file."""

    def __init__(self, unit: int, indent_seq: bool):
        self.unit = unit
        self.indent_seq = indent_seq
        self.lines: list[str] = []

    def add(self, depth_spaces: int, text: str) -> None:
        self.lines.append(" " * depth_spaces + text)


comment = st.sampled_from(["", "  # note", "   # pipelint is not mentioned here", "  # ünïcödé 😀"])
full_line_comment = st.sampled_from([None, "# a comment", "# 😀 astral comment", ""])


@st.composite
def infra_spec(draw, w: Writer, col: int, anchor_ns: bool):
    """An infrastructure `spec:` block at column `col`; returns its model before and after the fix."""
    unit = w.unit
    model = {"connectorRef": "account.k8s", "namespace": "ci"}
    flow = draw(st.integers(0, 5)) == 0
    if flow:
        w.add(col, "spec: {connectorRef: account.k8s, namespace: ci}" + draw(comment))
        after = dict(model, harnessImageConnectorRef=MIRROR)
        return model, after
    w.add(col, "spec:")
    inner = col + unit
    w.add(inner, "connectorRef: account.k8s" + draw(comment))
    w.add(inner, ("namespace: &ns ci" if anchor_ns else "namespace: ci") + draw(comment))
    last = draw(st.sampled_from(["none", "plain", "nested", "block", "block_keep", "folded_strip", "flow",
                                 "alias", "comment_after"]))
    if last == "plain":
        w.add(inner, "os: Linux")
        model["os"] = "Linux"
    elif last == "nested":
        w.add(inner, "nodeSelector:")
        w.add(inner + unit, "pool: builds" + draw(comment))
        model["nodeSelector"] = {"pool": "builds"}
    elif last in ("block", "block_keep", "folded_strip"):
        header = {"block": "|", "block_keep": "|+", "folded_strip": ">-"}[last]
        w.add(inner, f"annotations: {header}")
        w.add(inner + unit, "# a hash line inside a block scalar is text")
        w.add(inner + unit, "team: platform")
        if draw(st.booleans()):
            w.lines.append("")
        body = "# a hash line inside a block scalar is text\nteam: platform\n"
        if last == "folded_strip":
            value = body.rstrip("\n").replace("\n", " ")
        elif last == "block_keep":
            value = body + ("\n" if w.lines[-1] == "" else "")
        else:
            value = body
        model["annotations"] = value
    elif last == "flow":
        w.add(inner, "labels: {app: web, tier: 'ci'}")
        model["labels"] = {"app": "web", "tier": "ci"}
    elif last == "alias" and anchor_ns:
        w.add(inner, "namespaceCopy: *ns")
        model["namespaceCopy"] = "ci"
    elif last == "comment_after":
        w.add(inner, "os: Linux  # trailing")
        w.add(inner, "# a comment after the last item")
        w.add(col, "# a comment at the parent's column")
        model["os"] = "Linux"
    after = dict(model, harnessImageConnectorRef=MIRROR)
    return model, after


@st.composite
def step(draw, w: Writer, col: int, n: int, anchors: dict):
    """`- step:` at column `col` (the dash); returns (model before, model after)."""
    unit = w.unit
    body = col + 2 + unit  # keys of the step mapping
    image = draw(st.sampled_from(IMAGES))
    style = draw(st.sampled_from(["", "'", '"']))
    use_alias = "img" in anchors and draw(st.integers(0, 3)) == 0
    w.add(col, "- step:")
    w.add(body, "type: Run")
    w.add(body, f"identifier: step_{n}")
    name = draw(st.sampled_from(NAMES))
    name_style = draw(st.sampled_from(["", '"']))
    w.add(body, f"name: {quote(name, name_style)}")
    w.add(body, "spec:")
    if use_alias:
        w.add(body + unit, "image: *img" + draw(comment))
        image_before, image_after = anchors["img"]
    else:
        anchor = "" if "img" in anchors or draw(st.booleans()) else "&img "
        w.add(body + unit, f"image: {anchor}{quote(image, style)}" + draw(comment))
        image_before, image_after = image, fixed_image(image)
        if anchor:
            anchors["img"] = (image_before, image_after)
    if draw(st.booleans()):
        w.add(body + unit, "command: |")
        w.add(body + 2 * unit, "# shell comment, not YAML")
        w.add(body + 2 * unit, "make test")
        cmd = "# shell comment, not YAML\nmake test\n"
    else:
        cmd = None
    c = draw(full_line_comment)
    if c is not None:
        w.lines.append((" " * col + c) if c else "")
    spec = {"image": image_before}
    if cmd is not None:
        spec["command"] = cmd
    before = {"step": {"type": "Run", "identifier": f"step_{n}", "name": name, "spec": spec}}
    after = copy.deepcopy(before)
    after["step"]["spec"]["image"] = image_after
    return before, after


@st.composite
def pipeline_doc(draw, unit: int, indent_seq: bool, number: int):
    w = Writer(unit, indent_seq)
    name = draw(st.sampled_from(NAMES))
    w.add(0, "pipeline:")
    name_style = draw(st.sampled_from(["", '"', "'"]))
    w.add(unit, f"name: {quote(name, name_style)}")
    w.add(unit, f"identifier: p{number}")
    w.add(unit, "stages:")
    seq_col = unit * 2 if indent_seq else unit
    stages_before, stages_after = [], []
    anchors: dict = {}
    steps_n = 0
    for s in range(draw(st.integers(1, 3))):
        w.add(seq_col, "- stage:")
        body = seq_col + 2 + unit
        w.add(body, f"name: stage {s}")
        w.add(body, f"identifier: s{s}")
        w.add(body, "type: CI")
        w.add(body, "spec:")
        spec_col = body + unit
        kind = draw(st.sampled_from(["k8s", "k8s", "cloud", "vm"]))
        stage_before: dict = {"name": f"stage {s}", "identifier": f"s{s}", "type": "CI"}
        spec_before: dict = {}
        spec_after: dict = {}
        if kind == "k8s":
            w.add(spec_col, "infrastructure:")
            w.add(spec_col + unit, "type: KubernetesDirect")
            sb, sa = draw(infra_spec(w, spec_col + unit, anchor_ns=s == 0))
            spec_before["infrastructure"] = {"type": "KubernetesDirect", "spec": sb}
            spec_after["infrastructure"] = {"type": "KubernetesDirect", "spec": sa}
        elif kind == "vm":
            w.add(spec_col, "infrastructure:")
            w.add(spec_col + unit, "type: VM")
            w.add(spec_col + unit, "spec:")
            w.add(spec_col + 2 * unit, "type: Pool")
            w.add(spec_col + 2 * unit, "spec:")
            w.add(spec_col + 3 * unit, "poolName: linux")
            w.add(spec_col + 3 * unit, "os: Linux" + draw(comment))
            inner = {"poolName": "linux", "os": "Linux"}
            spec_before["infrastructure"] = {"type": "VM", "spec": {"type": "Pool", "spec": inner}}
            spec_after["infrastructure"] = {"type": "VM", "spec": {"type": "Pool", "spec": dict(
                inner, harnessImageConnectorRef=MIRROR)}}
        else:
            w.add(spec_col, "runtime:")
            w.add(spec_col + unit, "type: Cloud")
            w.add(spec_col + unit, "spec: {}")
            spec_before["runtime"] = {"type": "Cloud", "spec": {}}
            spec_after["runtime"] = {"type": "Cloud", "spec": {}}
        w.add(spec_col, "execution:")
        w.add(spec_col + unit, "steps:")
        steps_col = spec_col + 2 * unit if indent_seq else spec_col + unit
        sb_list, sa_list = [], []
        for _ in range(draw(st.integers(1, 3))):
            steps_n += 1
            b, a = draw(step(w, steps_col, steps_n, anchors))
            sb_list.append(b)
            sa_list.append(a)
        spec_before["execution"] = {"steps": sb_list}
        spec_after["execution"] = {"steps": copy.deepcopy(sa_list)}
        stages_before.append({"stage": dict(stage_before, spec=spec_before)})
        stages_after.append({"stage": dict(stage_before, spec=spec_after)})
    w.add(unit, "tags: {}" + draw(comment))  # a block scalar never ends the file: its value would change
    before = {"pipeline": {"name": name, "identifier": f"p{number}", "stages": stages_before, "tags": {}}}
    after = {"pipeline": {"name": name, "identifier": f"p{number}", "stages": stages_after, "tags": {}}}
    return w.lines, before, after


@st.composite
def connector_doc(draw, unit: int, number: int):
    w = Writer(unit, False)
    harness_image = draw(st.booleans())
    ident = "harnessImage" if harness_image else f"docker_{number}"
    url = draw(st.sampled_from(RETIRED_URLS + [HUB_URL, "https://index.docker.io/v2/", "https://quay.io"]))
    provider = draw(st.sampled_from([None, "Other", "DockerHub", "Quay"]))
    delegate = draw(st.sampled_from([None, "true", "false"]))
    w.add(0, "connector:")
    name_style = draw(st.sampled_from(["", "'"]))
    w.add(unit, "name: " + quote(f"Docker {number}", name_style))
    w.add(unit, f"identifier: {ident}")
    w.add(unit, "type: DockerRegistry")
    w.add(unit, "spec:")
    url_style = draw(st.sampled_from(["", "'", '"']))
    w.add(2 * unit, "dockerRegistryUrl: " + quote(url, url_style) + draw(comment))
    spec = {"dockerRegistryUrl": url}
    if provider:
        w.add(2 * unit, f"providerType: {provider}")
        spec["providerType"] = provider
    w.add(2 * unit, "auth:")
    w.add(3 * unit, "type: UsernamePassword")
    w.add(3 * unit, "spec:")
    w.add(4 * unit, "username: bot")
    w.add(4 * unit, "passwordRef: account.pat")
    spec["auth"] = {"type": "UsernamePassword", "spec": {"username": "bot", "passwordRef": "account.pat"}}
    if delegate:
        w.add(2 * unit, f"executeOnDelegate: {delegate}")
        spec["executeOnDelegate"] = delegate == "true"
    before = {"connector": {"name": f"Docker {number}", "identifier": ident, "type": "DockerRegistry", "spec": spec}}
    after = copy.deepcopy(before)
    a = after["connector"]["spec"]
    retired = url in RETIRED_URLS
    if retired:
        a["dockerRegistryUrl"] = HUB_URL
        a["providerType"] = "DockerHub"
    elif url in (HUB_URL, "https://index.docker.io/v2/") and provider not in (None, "DockerHub"):
        a["providerType"] = "DockerHub"
    return w.lines, before, after, harness_image


@st.composite
def harness_file(draw):
    """(bytes, documents before, documents after fix --unsafe-fixes)."""
    unit = draw(st.sampled_from([2, 4]))
    indent_seq = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    bom = draw(st.booleans())
    final_newline = draw(st.booleans())
    docs, befores, afters, connectors = [], [], [], []
    for n in range(draw(st.integers(1, 3))):
        if draw(st.integers(0, 2)) == 0:
            lines, before, after, harness_image = draw(connector_doc(unit, n))
            connectors.append((len(afters), harness_image))
        else:
            lines, before, after = draw(pipeline_doc(unit, indent_seq, n))
        docs.append(lines)
        befores.append(before)
        afters.append(after)
    cloud = any(
        "runtime" in s["stage"]["spec"]
        for d in befores if "pipeline" in d for s in d["pipeline"]["stages"]
    )
    if cloud:  # REG004 (unsafe): the account's harnessImage connector must not go through a delegate
        for index, harness_image in connectors:
            spec = afters[index]["connector"]["spec"]
            if harness_image and spec.get("executeOnDelegate", True) is True:
                spec["executeOnDelegate"] = False
    text = ""
    for i, lines in enumerate(docs):
        if i:
            text += "---" + newline
        text += newline.join(lines) + newline
    if not final_newline:
        text = text[: -len(newline)]
    data = ("\ufeff" if bom else "").encode() + text.encode()
    return data, befores, afters

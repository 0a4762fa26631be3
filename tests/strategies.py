"""Hypothesis strategies: Harness-shaped YAML text varied the way real files vary, each with the document it
must become after `pipelint fix --unsafe-fixes` (CON001 connector set, REG001's target auto), built from the
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
    if lower.startswith("app.harness.io/registry/"):  # REG001's default target, `auto`: ECR public
        return "public.ecr.aws/" + image[len("app.harness.io/registry/"):]
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
def infra_spec(draw, w: Writer, col: int, anchor_ns: bool, anchor_spec: bool = False):
    """An infrastructure `spec:` block at column `col`; returns its model before and after the fix (and,
    when `anchor_spec`, the spec mapping carries the anchor `&k8s`)."""
    unit = w.unit
    model = {"connectorRef": "account.k8s", "namespace": "ci"}
    flow = draw(st.integers(0, 5)) == 0
    if flow:
        if draw(st.booleans()):
            w.add(col, "spec: {connectorRef: account.k8s, namespace: ci, harnessImageConnectorRef}" + draw(comment))
        else:
            w.add(col, "spec: {connectorRef: account.k8s, namespace: ci}" + draw(comment))
        after = dict(model, harnessImageConnectorRef=MIRROR)
        if "harnessImageConnectorRef}" in w.lines[-1]:
            model = dict(model, harnessImageConnectorRef=None)
        return model, after
    w.add(col, "spec: &k8s" if anchor_spec else "spec:")
    inner = col + unit
    if draw(st.integers(0, 5)) == 0:  # an explicit key
        w.add(inner, "? connectorRef")
        w.add(inner, ": account.k8s" + draw(comment))
    else:
        w.add(inner, "connectorRef: account.k8s" + draw(comment))
    w.add(inner, ("namespace: &ns ci" if anchor_ns else "namespace: ci") + draw(comment))
    last = draw(st.sampled_from(["none", "plain", "nested", "block", "block_keep", "folded_strip", "flow",
                                 "alias", "comment_after", "empty_ref", "block_spaces"]))
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
    elif last == "empty_ref":  # an empty override: replaced in place
        empty = draw(st.sampled_from(["", " ~", " null", " !!null", " &e"]))
        if empty == " &e":
            empty += str(len(w.lines))  # anchors are unique in a document
        w.add(inner, "harnessImageConnectorRef:" + empty + draw(comment))
        model["harnessImageConnectorRef"] = None
    elif last == "block_spaces":  # a line of spaces deeper than the block's indentation is content
        w.add(inner, "script: |")
        w.add(inner + unit, "echo a")
        w.lines.append(" " * (inner + unit + 2))
        model["script"] = "echo a\n  \n"
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
    seq_col = unit * 2 if indent_seq else unit
    extra_before: dict = {}
    # a pipeline variable whose value is an anchored mapping (`&base`), used below through aliases or merges
    base_kind = draw(st.sampled_from([None, None, "plain", "with_ref"]))
    base = None
    if base_kind:
        base = {"connectorRef": "account.k8s", "namespace": "shared"}
        if base_kind == "with_ref":
            base["harnessImageConnectorRef"] = "account.other"
        w.add(unit, "variables:")
        w.add(seq_col, "- name: base")
        w.add(seq_col + 2, "type: String")
        w.add(seq_col + 2, "value: &base")
        for k, v in base.items():
            w.add(seq_col + 2 + unit, f"{k}: {v}")
        extra_before["variables"] = [{"name": "base", "type": "String", "value": base}]
    w.add(unit, "stages:")
    stages_before, stages_after = [], []
    anchors: dict = {}
    steps_n = 0
    shared_spec = None  # (before, after) of stage 0's spec when it is anchored as &k8s
    for s in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["k8s", "k8s", "cloud", "vm"] + (["deploy", "alias"] if shared_spec else [])
                                    + (["alias_base", "merge_base"] if base else [])))
        w.add(seq_col, "- stage:")
        body = seq_col + 2 + unit
        w.add(body, f"name: stage {s}")
        w.add(body, f"identifier: s{s}")
        w.add(body, "type: " + ("Deployment" if kind == "deploy" else "CI"))
        w.add(body, "spec:")
        spec_col = body + unit
        stage_before: dict = {"name": f"stage {s}", "identifier": f"s{s}",
                              "type": "Deployment" if kind == "deploy" else "CI"}
        spec_before: dict = {}
        spec_after: dict = {}
        if kind in ("deploy", "alias"):  # stage 0's anchored spec again: the fix edits the anchor, so here too
            w.add(spec_col, "infrastructure:")
            w.add(spec_col + unit, "type: KubernetesDirect")
            w.add(spec_col + unit, "spec: *k8s")
            spec_before["infrastructure"] = {"type": "KubernetesDirect", "spec": shared_spec[0]}
            spec_after["infrastructure"] = {"type": "KubernetesDirect", "spec": shared_spec[1]}
        elif kind == "alias_base":  # the variable's mapping: the site's alias becomes a copy with the key
            w.add(spec_col, "infrastructure:")
            w.add(spec_col + unit, "type: KubernetesDirect")
            w.add(spec_col + unit, "spec: *base")
            after = base if "harnessImageConnectorRef" in base else dict(base, harnessImageConnectorRef=MIRROR)
            spec_before["infrastructure"] = {"type": "KubernetesDirect", "spec": base}
            spec_after["infrastructure"] = {"type": "KubernetesDirect", "spec": after}
        elif kind == "merge_base":  # Harness does not merge: the key is missing; a fix only where base lacks it
            w.add(spec_col, "infrastructure:")
            w.add(spec_col + unit, "type: KubernetesDirect")
            w.add(spec_col + unit, "spec:")
            w.add(spec_col + 2 * unit, "<<: *base")
            w.add(spec_col + 2 * unit, "namespace: merged")
            before = {"<<": base, "namespace": "merged"}
            after = before if "harnessImageConnectorRef" in base else dict(before, harnessImageConnectorRef=MIRROR)
            spec_before["infrastructure"] = {"type": "KubernetesDirect", "spec": before}
            spec_after["infrastructure"] = {"type": "KubernetesDirect", "spec": after}
        elif kind == "k8s":
            w.add(spec_col, "infrastructure:")
            w.add(spec_col + unit, "type: KubernetesDirect")
            anchor = s == 0 and draw(st.booleans())
            sb, sa = draw(infra_spec(w, spec_col + unit, anchor_ns=s == 0, anchor_spec=anchor))
            if anchor and "&k8s" in "".join(w.lines):
                shared_spec = (sb, sa)
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
    before = {"pipeline": {"name": name, "identifier": f"p{number}", **extra_before, "stages": stages_before,
                           "tags": {}}}
    after = {"pipeline": {"name": name, "identifier": f"p{number}", **copy.deepcopy(extra_before),
                          "stages": stages_after, "tags": {}}}
    return w.lines, before, after


def json_doc(number: int):
    """A JSON-style pipeline (Harness accepts JSON): the fix must keep it JSON."""
    spec = {"connectorRef": "account.k8s"}
    doc = {"pipeline": {"identifier": f"j{number}", "stages": [{"stage": {
        "identifier": "j", "type": "CI", "spec": {"infrastructure": {"type": "KubernetesDirect", "spec": spec}}}}]}}
    import json

    after = copy.deepcopy(doc)
    after["pipeline"]["stages"][0]["stage"]["spec"]["infrastructure"]["spec"]["harnessImageConnectorRef"] = MIRROR
    return [json.dumps(doc)], doc, after


def merged(model):
    """The YAML 1.1 reading of a model written with literal `<<` keys: merges applied (local keys win)."""
    if isinstance(model, list):
        return [merged(m) for m in model]
    if not isinstance(model, dict):
        return model
    out = {}
    if "<<" in model:
        sources = model["<<"] if isinstance(model["<<"], list) else [model["<<"]]
        for source in reversed(sources):
            out.update(merged(source))
    out.update({k: merged(v) for k, v in model.items() if k != "<<"})
    return out


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
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.booleans())
    final_newline = draw(st.booleans())
    docs, befores, afters, connectors = [], [], [], []
    for n in range(draw(st.integers(1, 3))):
        pick = draw(st.integers(0, 8))
        if pick < 3:
            lines, before, after, harness_image = draw(connector_doc(unit, n))
            connectors.append((len(afters), harness_image))
        elif pick == 3:
            lines, before, after = json_doc(n)
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

"""`pipelint account pull DIR` and `pipelint account push DIR [--apply]`: what lives in the Harness account, as files
every other command reads, and the fixes put back.

pull writes one YAML file per entity, in the shapes the rules read:
  DIR/account/connectors/<id>.yaml, DIR/orgs/<org>/connectors/<id>.yaml, DIR/orgs/<org>/projects/<p>/connectors/...
      Docker registry connectors (`connector:`), the built-in `harnessImage` among them;
  DIR/orgs/<org>/projects/<p>/pipelines/<id>.yaml   pipelines stored inline (their YAML as Harness holds it);
  DIR/account/ci-execution-config/<K8|VM>.yaml      the CI execution configuration (`ciExecutionConfig:`): the
      effective image of each field (Harness's default with the account's override applied), whether it is
      overridden, and the default it replaces;
and DIR/pipelint-account.json, the manifest: per file, the entity's kind, scope, identifier, ETag (pipelines) and a
hash of what was pulled. Git-synced (REMOTE) pipelines are listed there with their repository and path, not pulled:
their home is Git, where pipelint already checks them.

push compares each file with the manifest. Without --apply it prints the change per entity and writes nothing.
With --apply, right before each write it fetches the entity again: if it changed in Harness since the pull
(content, or ETag), it is not written and is named; a REMOTE entity is never written; a governance (OPA) denial
(HTTP 200, `governanceMetadata.deny`) is reported as not written; after a write the entity is read back and
compared. The API key is read from HARNESS_API_KEY only and never written into DIR.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from dataclasses import dataclass, field

import yaml

from pipelint.api.client import ApiError, Client
from pipelint.text.files import inside, write_atomic

MANIFEST = "pipelint-account.json"
INFRAS = ("K8", "VM")


@dataclass
class Outcome:
    """What push did (or would do) with one entity."""

    file: str
    what: str  # "written", "unchanged", "would write", "changed in Harness", "denied", "refused", "failed"
    detail: str = ""
    diff: str = ""


@dataclass
class PullResult:
    files: list[str] = field(default_factory=list)
    remote: list[dict] = field(default_factory=list)


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def connector_text(connector: dict) -> str:
    return yaml.safe_dump({"connector": connector}, sort_keys=False, default_flow_style=False)


def _scope_dir(org: str | None, project: str | None) -> str:
    if project:
        return os.path.join("orgs", _safe(org or "default"), "projects", _safe(project))
    if org:
        return os.path.join("orgs", _safe(org))
    return "account"


def _safe(name: str) -> str:
    """An identifier as a path component: Harness identifiers are `[A-Za-z_][A-Za-z0-9_]*`; anything else is
    refused rather than written (an answer must not choose where files go)."""
    if not name or not all(c.isalnum() or c in "_-" for c in name) or name.startswith("-"):
        raise ApiError(f"{name[:80]!r} is not an identifier pipelint writes a file for")
    return name


# --- pull ---------------------------------------------------------------------------------------------------
def pull(client: Client, folder: str, org: str | None = None, project: str | None = None) -> PullResult:
    result = PullResult()
    entities: list[dict] = []
    scopes: list[tuple[str | None, str | None]] = [] if org or project else [(None, None)]
    orgs = [org] if org else [o.get("organization", {}).get("identifier") for o in
                              client.pages("GET", "/ng/api/organizations")]
    for o in orgs:
        if not isinstance(o, str):
            continue
        if not project:
            scopes.append((o, None))
        projects = [project] if project else [p.get("project", {}).get("identifier") for p in
                                              client.pages("GET", "/ng/api/projects", {"orgIdentifier": o})]
        scopes.extend((o, p) for p in projects if isinstance(p, str))
    for o, p in scopes:
        for item in client.pages("POST", "/ng/api/connectors/listV2", {"orgIdentifier": o, "projectIdentifier": p},
                                 {"filterType": "Connector", "types": ["DockerRegistry"]}):
            connector = item.get("connector") if isinstance(item, dict) else None
            if not isinstance(connector, dict) or not isinstance(connector.get("identifier"), str):
                continue
            rel = os.path.join(_scope_dir(o, p), "connectors", _safe(connector["identifier"]) + ".yaml")
            text = connector_text(connector)
            entities.append({"file": rel, "kind": "connector", "org": o, "project": p,
                             "identifier": connector["identifier"], "sha256": _digest(text)})
            _write(folder, rel, text, result)
        if p is None:
            continue
        for item in client.pages("POST", "/pipeline/api/pipelines/list", {"orgIdentifier": o, "projectIdentifier": p},
                                 {"filterType": "PipelineSetup"}, style="page"):
            ident = item.get("identifier") if isinstance(item, dict) else None
            if not isinstance(ident, str):
                continue
            if item.get("storeType") == "REMOTE":
                git = item.get("gitDetails") or {}
                result.remote.append({"kind": "pipeline", "org": o, "project": p, "identifier": ident,
                                      "repo": git.get("repoName"), "path": git.get("filePath")})
                continue
            got, headers = client.call("GET", f"/pipeline/api/pipelines/{_safe(ident)}",
                                       {"orgIdentifier": o, "projectIdentifier": p})
            data = got.get("data") or {}
            yaml_text = data.get("yamlPipeline")
            if data.get("storeType") == "REMOTE" or not isinstance(yaml_text, str):
                continue
            text = yaml_text
            rel = os.path.join(_scope_dir(o, p), "pipelines", _safe(ident) + ".yaml")
            entities.append({"file": rel, "kind": "pipeline", "org": o, "project": p, "identifier": ident,
                             "etag": headers.get("etag"), "sha256": _digest(text)})
            _write(folder, rel, text, result)
    if not org and not project:
        for infra in INFRAS:
            text = execution_config_text(client, infra)
            rel = os.path.join("account", "ci-execution-config", f"{infra}.yaml")
            entities.append({"file": rel, "kind": "ciExecutionConfig", "identifier": infra, "sha256": _digest(text)})
            _write(folder, rel, text, result)
    manifest = {"version": 1, "endpoint": client.endpoint, "account": client.account, "entities": entities,
                "remote": result.remote}
    write_atomic(os.path.join(folder, MANIFEST), (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return result


def _write(folder: str, rel: str, text: str, result: PullResult) -> None:
    path = os.path.join(folder, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
    result.files.append(rel)


def execution_config_text(client: Client, infra: str) -> str:
    defaults = (client.call("GET", "/ci/execution-config/get-default-config", {"infra": infra})[0].get("data") or {})
    overrides = (client.call("GET", "/ci/execution-config/get-customer-config",
                             {"infra": infra, "overridesOnly": "true"})[0].get("data") or {})
    images = {}
    for name in sorted(defaults):
        value = defaults[name]
        if not isinstance(value, str):
            continue
        override = overrides.get(name)
        entry = {"image": override if isinstance(override, str) and override else value,
                 "overridden": isinstance(override, str) and bool(override)}
        if entry["overridden"]:
            entry["default"] = value
        images[name] = entry
    return yaml.safe_dump({"ciExecutionConfig": {"infra": infra, "images": images}}, sort_keys=False)


# --- push ---------------------------------------------------------------------------------------------------
def push(client: Client, folder: str, apply: bool = False) -> list[Outcome]:
    with open(os.path.join(folder, MANIFEST), encoding="utf-8") as fh:
        manifest = json.load(fh)
    out = []
    for entity in manifest.get("entities", []):
        rel = str(entity.get("file", ""))
        path = os.path.join(folder, rel)
        if not inside(os.path.realpath(path), os.path.realpath(folder)):  # a manifest is a file like any other
            out.append(Outcome(rel, "refused", f"outside {folder}: not read, not pushed"))
            continue
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
        except OSError as exc:
            out.append(Outcome(rel, "failed", f"cannot read: {exc.strerror or exc}"))
            continue
        if _digest(text) == entity.get("sha256"):
            out.append(Outcome(rel, "unchanged"))
            continue
        try:
            out.append(_push_one(client, entity, rel, text, apply))
        except ApiError as exc:
            out.append(Outcome(rel, "failed", str(exc)))
    for entity in manifest.get("remote", []):
        rel = os.path.join(_scope_dir(entity.get("org"), entity.get("project")), "pipelines",
                           f"{entity.get('identifier')}.yaml")
        if os.path.exists(os.path.join(folder, rel)):  # never written through the API: its home is Git
            out.append(Outcome(rel, "refused", f"Git-synced (REMOTE): change it in {entity.get('repo')}:"
                                               f"{entity.get('path')}"))
    return out


def _name(entity: dict) -> str:
    scope = "/".join(x for x in (entity.get("org"), entity.get("project")) if x) or "account"
    return f"{entity['kind']} {scope}/{entity['identifier']}"


def _push_one(client: Client, entity: dict, rel: str, text: str, apply: bool) -> Outcome:
    kind, ident = entity["kind"], _safe(entity["identifier"])
    params = {"orgIdentifier": entity.get("org"), "projectIdentifier": entity.get("project")}
    # what is in Harness now, as pull would have written it
    if kind == "connector":
        now = connector_text((client.call("GET", f"/ng/api/connectors/{ident}", params)[0].get("data") or {})
                             .get("connector") or {})
        etag = None
    elif kind == "pipeline":
        got, headers = client.call("GET", f"/pipeline/api/pipelines/{ident}", params)
        data = got.get("data") or {}
        if data.get("storeType") == "REMOTE":
            return Outcome(rel, "refused", "Git-synced (REMOTE) now: never written through the API")
        now, etag = data.get("yamlPipeline") or "", headers.get("etag")
    else:
        now, etag = execution_config_text(client, ident), None
    diff = "".join(difflib.unified_diff(now.splitlines(True), text.splitlines(True), f"harness/{rel}", f"local/{rel}"))
    if _digest(now) != entity.get("sha256") or (etag is not None and entity.get("etag") and etag != entity["etag"]):
        return Outcome(rel, "changed in Harness", f"{_name(entity)} changed in Harness since the pull; pull again")
    if not apply:
        return Outcome(rel, "would write", _name(entity), diff)
    if kind == "connector":
        connector = (yaml.safe_load(text) or {}).get("connector")
        if not isinstance(connector, dict):
            return Outcome(rel, "failed", "not a connector document")
        answer, _ = client.call("PUT", "/ng/api/connectors", params, {"connector": connector})
    elif kind == "pipeline":
        answer, _ = client.call("PUT", f"/pipeline/api/pipelines/v2/{ident}", params, text=text,
                                headers={"If-Match": etag} if etag else None)
    else:
        answer = _push_execution_config(client, ident, text)
    governance = (answer.get("data") or {}).get("governanceMetadata") if isinstance(answer.get("data"), dict) else None
    if isinstance(governance, dict) and governance.get("deny"):
        reason = governance.get("message") or "denied by a governance policy"
        return Outcome(rel, "denied", f"{_name(entity)} not written: {reason}")
    # read back: Harness must now hold exactly what was written
    if kind == "connector":
        back = connector_text((client.call("GET", f"/ng/api/connectors/{ident}", params)[0].get("data") or {})
                              .get("connector") or {})
        same = yaml.safe_load(back) == yaml.safe_load(text)
    elif kind == "pipeline":
        same = (client.call("GET", f"/pipeline/api/pipelines/{ident}", params)[0].get("data") or {}).get(
            "yamlPipeline") == text
    else:  # the effective images (an override written where the default was the same image reads `overridden`)
        same = _images(execution_config_text(client, ident)) == _images(text)
    if not same:
        return Outcome(rel, "failed", f"{_name(entity)} was written but reads back differently")
    return Outcome(rel, "written", _name(entity), diff)


def _images(text: str) -> dict:
    images = ((yaml.safe_load(text) or {}).get("ciExecutionConfig") or {}).get("images") or {}
    return {k: v.get("image") for k, v in images.items() if isinstance(v, dict)}


def _push_execution_config(client: Client, infra: str, text: str) -> dict:
    images = ((yaml.safe_load(text) or {}).get("ciExecutionConfig") or {}).get("images") or {}
    fields = [{"field": name, "value": entry["image"]} for name, entry in images.items()
              if isinstance(entry, dict) and isinstance(entry.get("image"), str)]
    answer, _ = client.call("POST", "/ci/execution-config/update-config", {"infra": infra}, fields)
    return answer

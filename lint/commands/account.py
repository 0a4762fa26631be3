"""`pipelint account pull DIR` and `pipelint account push DIR [--apply]`: what lives in the Harness account, as files
every other command reads, and the fixes put back.

pull writes one YAML file per entity, in the shapes the rules read (SCOPE is `account`, `orgs/<org>` or
`orgs/<org>/projects/<project>`):
  SCOPE/connectors/<id>.yaml                        Docker registry connectors (`connector:`), harnessImage among them;
  SCOPE/templates/<id>/<version>.yaml               templates stored inline, every version (`template:`);
  SCOPE/pipelines/<id>.yaml                         pipelines stored inline (their YAML as Harness holds it);
  SCOPE/pipelines/<id>/input-sets/<set>.yaml        their input sets stored inline (`inputSet:`);
  SCOPE/pipelines/<id>/triggers/<trigger>.yaml      their triggers (`trigger:`, an `inputYaml` included);
  account/ci-execution-config/<K8|VM>.yaml          the CI execution configuration (`ciExecutionConfig:`): the
      effective image of each field (Harness's default with the account's override applied), whether it is
      overridden, and the default it replaces;
and DIR/pipelint-account.json, the manifest: per file, the entity's kind, scope, identifier, version and ETag where
Harness gives them, and a hash of what was pulled. Git-synced (REMOTE) pipelines, input sets and templates are
listed there with their repository and path, not pulled: their home is Git, where pipelint already checks them.
Overlay input sets hold references to input sets only, and are not pulled.

push compares each file with the manifest. Without --apply it prints the change per entity and writes nothing.
With --apply, right before each write it fetches the entity again: if it changed in Harness since the pull
(content, version or ETag), it is not written and is named; a REMOTE entity is never written; a governance (OPA)
denial (HTTP 200, `governanceMetadata.deny`) is reported as not written; after a write the entity is read back and
compared. The API key is read from HARNESS_API_KEY only and never written into DIR.

Each kind of entity is one `Kind` in KINDS: how it is listed in a scope, read, written and compared after a write.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
from collections.abc import Callable, Iterator
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


@dataclass
class Got:
    """An entity as Harness holds it now: its text as pull writes it, and how Harness versions it."""

    text: str | None  # None: Harness holds no YAML for it (an error entity)
    etag: str | None = None
    version: str | None = None
    git: dict | None = None  # REMOTE: {"repo": ..., "path": ...}


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


def _safe(name: str, label: bool = False) -> str:
    """An identifier as a path component: Harness identifiers are `[A-Za-z_][A-Za-z0-9_]*` (a template's version
    label may hold dots too); anything else is refused rather than written (an answer must not choose where files
    go)."""
    allowed = "_-." if label else "_-"
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in allowed for c in name) \
            or name.startswith(("-", ".")):
        raise ApiError(f"{str(name)[:80]!r} is not an identifier pipelint writes a file for")
    return name


def _data(answer: dict) -> dict:
    data = answer.get("data")
    return data if isinstance(data, dict) else {}


def _git(data: dict) -> dict | None:
    """{"repo", "path"} of a Git-synced (REMOTE) entity, else None."""
    if data.get("storeType") != "REMOTE":
        return None
    details = data.get("gitDetails")
    git: dict = details if isinstance(details, dict) else {}
    return {"repo": git.get("repoName") or git.get("repoIdentifier"), "path": git.get("filePath")}


def _version(data: dict) -> str | None:
    v = data.get("version")
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else None


def _scoped(entity: dict, **more) -> dict:
    return {"orgIdentifier": entity.get("org"), "projectIdentifier": entity.get("project"), **more}


# --- the kinds -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Kind:
    """How pipelint lists, reads and writes one kind of entity (facts: harness-go-sdk, harness-core)."""

    name: str
    # (client, org, project, memo) -> manifest stubs ({"identifier", ...}) of the entities in that scope; `memo`
    # lives for one pull (the pipelines of a project are listed once for the three kinds that need them)
    listed: Callable[[Client, str | None, str | None, dict], Iterator[dict]]
    read: Callable[[Client, dict], Got]
    write: Callable[[Client, dict, str, Got], dict]
    file: Callable[[dict], str]  # the file an entity is pulled into, relative to DIR
    project_only: bool = False  # lives in projects only (pipelines and what hangs off them)


def _list_connectors(client: Client, org, project, memo: dict) -> Iterator[dict]:
    for item in client.pages("POST", "/ng/api/connectors/listV2", {"orgIdentifier": org, "projectIdentifier": project},
                             {"filterType": "Connector", "types": ["DockerRegistry"]}):
        connector = item.get("connector") if isinstance(item, dict) else None
        if isinstance(connector, dict) and isinstance(connector.get("identifier"), str):
            yield {"identifier": connector["identifier"]}


def _read_connector(client: Client, entity: dict) -> Got:
    answer, _ = client.call("GET", f"/ng/api/connectors/{_safe(entity['identifier'])}", _scoped(entity))
    connector = _data(answer).get("connector")
    return Got(connector_text(connector) if isinstance(connector, dict) else None)


def _write_connector(client: Client, entity: dict, text: str, now: Got) -> dict:
    connector = (yaml.safe_load(text) or {}).get("connector")
    if not isinstance(connector, dict):
        raise ApiError("not a connector document")
    return client.call("PUT", "/ng/api/connectors", _scoped(entity), {"connector": connector})[0]


def _read_yaml(client: Client, path: str, params: dict, field: str) -> Got:
    """An entity Harness keeps as YAML (`field` of the answer's data), with its ETag, version and Git home."""
    answer, headers = client.call("GET", path, params)
    data = _data(answer)
    text = data.get(field)
    return Got(text if isinstance(text, str) else None, headers.get("etag"), _version(data), _git(data))


def _write_yaml(client: Client, path: str, params: dict, text: str, now: Got) -> dict:
    """PUT the YAML, `If-Match` the version read just before (Harness compares it with the entity's)."""
    match = now.etag or now.version
    return client.call("PUT", path, params, text=text, headers={"If-Match": match} if match else None)[0]


def _list_pipelines(client: Client, org, project, memo: dict) -> Iterator[dict]:
    if ("pipelines", org, project) not in memo:
        memo["pipelines", org, project] = [
            {"identifier": item["identifier"], "git": _git(item)}
            for item in client.pages("POST", "/pipeline/api/pipelines/list",
                                     {"orgIdentifier": org, "projectIdentifier": project},
                                     {"filterType": "PipelineSetup"}, style="page")
            if isinstance(item, dict) and isinstance(item.get("identifier"), str)]
    yield from (dict(p) for p in memo["pipelines", org, project])


def _read_pipeline(client: Client, entity: dict) -> Got:
    return _read_yaml(client, f"/pipeline/api/pipelines/{_safe(entity['identifier'])}", _scoped(entity),
                      "yamlPipeline")


def _write_pipeline(client: Client, entity: dict, text: str, now: Got) -> dict:
    return _write_yaml(client, f"/pipeline/api/pipelines/v2/{_safe(entity['identifier'])}", _scoped(entity), text,
                       Got(now.text, now.etag))  # a pipeline's If-Match is its ETag


def _list_input_sets(client: Client, org, project, memo: dict) -> Iterator[dict]:
    for pipeline in _list_pipelines(client, org, project, memo):
        if pipeline["git"] is not None:
            continue  # a Git-synced pipeline's input sets live in Git with it
        for item in client.pages("GET", "/pipeline/api/inputSets",
                                 {"orgIdentifier": org, "projectIdentifier": project,
                                  "pipelineIdentifier": pipeline["identifier"], "inputSetType": "INPUT_SET"}):
            if isinstance(item, dict) and isinstance(item.get("identifier"), str) \
                    and item.get("inputSetType", "INPUT_SET") == "INPUT_SET":
                yield {"identifier": item["identifier"], "pipeline": pipeline["identifier"], "git": _git(item)}


def _read_input_set(client: Client, entity: dict) -> Got:
    return _read_yaml(client, f"/pipeline/api/inputSets/{_safe(entity['identifier'])}",
                      _scoped(entity, pipelineIdentifier=entity["pipeline"]), "inputSetYaml")


def _write_input_set(client: Client, entity: dict, text: str, now: Got) -> dict:
    return _write_yaml(client, f"/pipeline/api/inputSets/{_safe(entity['identifier'])}",
                       _scoped(entity, pipelineIdentifier=entity["pipeline"]), text, now)


def _list_triggers(client: Client, org, project, memo: dict) -> Iterator[dict]:
    for pipeline in _list_pipelines(client, org, project, memo):
        for item in client.pages("GET", "/pipeline/api/triggers",
                                 {"orgIdentifier": org, "projectIdentifier": project,
                                  "targetIdentifier": pipeline["identifier"]}, style="page"):
            if isinstance(item, dict) and isinstance(item.get("identifier"), str):
                yield {"identifier": item["identifier"], "pipeline": pipeline["identifier"], "git": None}


def _read_trigger(client: Client, entity: dict) -> Got:
    return _read_yaml(client, f"/pipeline/api/triggers/{_safe(entity['identifier'])}",
                      _scoped(entity, targetIdentifier=entity["pipeline"]), "yaml")


def _write_trigger(client: Client, entity: dict, text: str, now: Got) -> dict:
    return _write_yaml(client, f"/pipeline/api/triggers/{_safe(entity['identifier'])}",
                       _scoped(entity, targetIdentifier=entity["pipeline"]), text, now)


def _list_templates(client: Client, org, project, memo: dict) -> Iterator[dict]:
    for item in client.pages("POST", "/template/api/templates/list-metadata",
                             {"orgIdentifier": org, "projectIdentifier": project, "templateListType": "All"},
                             {"filterType": "Template"}, style="page"):
        if isinstance(item, dict) and isinstance(item.get("identifier"), str) \
                and isinstance(item.get("versionLabel"), str) \
                and item.get("orgIdentifier", org) == org and item.get("projectIdentifier", project) == project:
            yield {"identifier": item["identifier"], "version_label": item["versionLabel"], "git": _git(item)}


def _read_template(client: Client, entity: dict) -> Got:
    return _read_yaml(client, f"/template/api/templates/{_safe(entity['identifier'])}",
                      _scoped(entity, versionLabel=_safe(entity["version_label"], label=True)), "yaml")


def _write_template(client: Client, entity: dict, text: str, now: Got) -> dict:
    return _write_yaml(client, f"/template/api/templates/update/{_safe(entity['identifier'])}/"
                               f"{_safe(entity['version_label'], label=True)}", _scoped(entity), text, now)


def _list_execution_config(client: Client, org, project, memo: dict) -> Iterator[dict]:
    if org is None and project is None:
        yield from ({"identifier": infra} for infra in INFRAS)


def _read_execution_config(client: Client, entity: dict) -> Got:
    return Got(execution_config_text(client, entity["identifier"]))


def _write_execution_config(client: Client, entity: dict, text: str, now: Got) -> dict:
    images = ((yaml.safe_load(text) or {}).get("ciExecutionConfig") or {}).get("images") or {}
    fields = [{"field": name, "value": entry["image"]} for name, entry in images.items()
              if isinstance(entry, dict) and isinstance(entry.get("image"), str)]
    return client.call("POST", "/ci/execution-config/update-config", {"infra": entity["identifier"]}, fields)[0]


def _in_scope(entity: dict, *parts: str) -> str:
    return os.path.join(_scope_dir(entity.get("org"), entity.get("project")), *parts)


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("connector", _list_connectors, _read_connector, _write_connector,
         lambda e: _in_scope(e, "connectors", _safe(e["identifier"]) + ".yaml")),
    Kind("template", _list_templates, _read_template, _write_template,
         lambda e: _in_scope(e, "templates", _safe(e["identifier"]), _safe(e["version_label"], label=True) + ".yaml")),
    Kind("pipeline", _list_pipelines, _read_pipeline, _write_pipeline,
         lambda e: _in_scope(e, "pipelines", _safe(e["identifier"]) + ".yaml"), project_only=True),
    Kind("inputSet", _list_input_sets, _read_input_set, _write_input_set,
         lambda e: _in_scope(e, "pipelines", _safe(e["pipeline"]), "input-sets", _safe(e["identifier"]) + ".yaml"),
         project_only=True),
    Kind("trigger", _list_triggers, _read_trigger, _write_trigger,
         lambda e: _in_scope(e, "pipelines", _safe(e["pipeline"]), "triggers", _safe(e["identifier"]) + ".yaml"),
         project_only=True),
    Kind("ciExecutionConfig", _list_execution_config, _read_execution_config, _write_execution_config,
         lambda e: os.path.join("account", "ci-execution-config", f"{e['identifier']}.yaml")),
)}


def name_of(entity: dict) -> str:
    """`pipeline default/payments/build`: an entity as messages name it."""
    scope = "/".join(x for x in (entity.get("org"), entity.get("project")) if x) or "account"
    ident = entity["identifier"]
    if entity.get("pipeline"):
        ident = f"{entity['pipeline']}/{ident}"
    if entity.get("version_label"):
        ident = f"{ident}@{entity['version_label']}"
    return f"{entity['kind']} {scope}/{ident}"


# --- pull ---------------------------------------------------------------------------------------------------
def _scopes(client: Client, org: str | None, project: str | None) -> list[tuple[str | None, str | None]]:
    if project:
        return [(org, project)]
    scopes: list[tuple[str | None, str | None]] = [] if org else [(None, None)]
    orgs = [org] if org else [o.get("organization", {}).get("identifier") for o in
                              client.pages("GET", "/ng/api/organizations") if isinstance(o, dict)]
    for o in orgs:
        if not isinstance(o, str):
            continue
        scopes.append((o, None))
        scopes.extend((o, p.get("project", {}).get("identifier")) for p in
                      client.pages("GET", "/ng/api/projects", {"orgIdentifier": o})
                      if isinstance(p, dict) and isinstance(p.get("project", {}).get("identifier"), str))
    return scopes


def pull(client: Client, folder: str, org: str | None = None, project: str | None = None) -> PullResult:
    result = PullResult()
    entities: list[dict] = []
    memo: dict = {}
    for o, p in _scopes(client, org, project):
        for kind in KINDS.values():
            if kind.project_only and p is None:
                continue
            for stub in kind.listed(client, o, p, memo):
                entity = {"kind": kind.name, "org": o, "project": p, **stub}
                git = entity.pop("git", None)
                rel = kind.file(entity)
                got = Got(None, git=git) if git is not None else kind.read(client, entity)
                if got.git is not None:  # its home is Git: listed, never pulled or pushed
                    result.remote.append({**entity, "file": rel, "repo": got.git.get("repo"),
                                          "path": got.git.get("path")})
                    continue
                if got.text is None:
                    continue
                entities.append({**entity, "file": rel, "etag": got.etag, "version": got.version,
                                 "sha256": _digest(got.text)})
                _write(folder, rel, got.text, result)
    manifest = {"version": 2, "endpoint": client.endpoint, "account": client.account, "entities": entities,
                "remote": result.remote}
    write_atomic(os.path.join(folder, MANIFEST), (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return result


def _in(folder: str, path: str) -> bool:
    """Whether `path` stays in `folder` once every symlink on the way is followed."""
    return inside(os.path.realpath(path), os.path.realpath(folder))


def _write(folder: str, rel: str, text: str, result: PullResult) -> None:
    path = os.path.join(folder, rel)
    if not _in(folder, path):  # a symlink in DIR (its `orgs`, a file)
        raise ApiError(f"{path}: not written: a symlink leads out of {folder}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, text.encode("utf-8"))
    result.files.append(rel)


def execution_config_text(client: Client, infra: str) -> str:
    defaults = _data(client.call("GET", "/ci/execution-config/get-default-config", {"infra": infra})[0])
    overrides = _data(client.call("GET", "/ci/execution-config/get-customer-config",
                                  {"infra": infra, "overridesOnly": "true"})[0])
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


def read_manifest(folder: str) -> dict:
    """The manifest of a pull; ValueError (one line) when there is none or it is not one."""
    from pipelint.text.source import read_json

    manifest = read_json(os.path.join(folder, MANIFEST), "manifest of a pull")
    if not isinstance(manifest, dict) or not isinstance(manifest.get("entities"), list):
        raise ValueError(f"{os.path.join(folder, MANIFEST)}: not a manifest of `pipelint account pull`")
    return manifest


# --- push ---------------------------------------------------------------------------------------------------
def push(client: Client, folder: str, apply: bool = False) -> list[Outcome]:
    manifest = read_manifest(folder)
    out = []
    for entity in manifest.get("entities", []):
        if not isinstance(entity, dict):
            continue
        rel = str(entity.get("file", ""))
        path = os.path.join(folder, rel)
        if not _in(folder, path):  # a manifest is a file like any other
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
        kind = KINDS.get(str(entity.get("kind")))
        if kind is None or not isinstance(entity.get("identifier"), str):
            out.append(Outcome(rel, "refused", f"not an entity pipelint pushes ({str(entity.get('kind'))[:40]!r})"))
            continue
        try:
            out.append(_push_one(client, kind, entity, rel, text, apply))
        except ApiError as exc:
            out.append(Outcome(rel, "failed", str(exc)))
    for entity in manifest.get("remote", []):
        rel = str(entity.get("file", "")) if isinstance(entity, dict) else ""
        path = os.path.join(folder, rel)
        if rel and _in(folder, path) and os.path.exists(path):
            out.append(Outcome(rel, "refused", f"Git-synced (REMOTE): never written through the API; change it in "
                                               f"{entity.get('repo')}:{entity.get('path')}"))
    return out


def _changed(entity: dict, now: Got) -> bool:
    """Did the entity change in Harness since the pull (its content, version or ETag)?"""
    if now.text is None or _digest(now.text) != entity.get("sha256"):
        return True
    return any(entity.get(k) and got is not None and got != entity[k]
               for k, got in (("etag", now.etag), ("version", now.version)))


def _push_one(client: Client, kind: Kind, entity: dict, rel: str, text: str, apply: bool) -> Outcome:
    now = kind.read(client, entity)  # what Harness holds now, as pull would have written it
    if now.git is not None:
        return Outcome(rel, "refused", "Git-synced (REMOTE) now: never written through the API")
    diff = "".join(difflib.unified_diff((now.text or "").splitlines(True), text.splitlines(True), f"harness/{rel}",
                                        f"local/{rel}"))
    if _changed(entity, now):
        return Outcome(rel, "changed in Harness", f"{name_of(entity)} changed in Harness since the pull; pull again")
    if not apply:
        return Outcome(rel, "would write", name_of(entity), diff)
    answer = kind.write(client, entity, text, now)
    governance = _data(answer).get("governanceMetadata")
    if isinstance(governance, dict) and governance.get("deny"):
        reason = governance.get("message") or "denied by a governance policy"
        return Outcome(rel, "denied", f"{name_of(entity)} not written: {reason}")
    back = kind.read(client, entity)  # Harness must now hold what was written
    if not _same(kind, back.text, text):
        return Outcome(rel, "failed", f"{name_of(entity)} was written but reads back differently")
    return Outcome(rel, "written", name_of(entity), diff)


def _same(kind: Kind, back: str | None, text: str) -> bool:
    if back is None:
        return False
    if kind.name == "ciExecutionConfig":  # the effective images (an override equal to the default reads `overridden`)
        return _images(back) == _images(text)
    if kind.name == "connector":  # Harness answers the connector as JSON: compared as data
        return yaml.safe_load(back) == yaml.safe_load(text)
    return back == text


def _images(text: str) -> dict:
    images = ((yaml.safe_load(text) or {}).get("ciExecutionConfig") or {}).get("images") or {}
    return {k: v.get("image") for k, v in images.items() if isinstance(v, dict)}

"""A stand-in for Harness's REST API on 127.0.0.1: Harness itself cannot run here.

Its routes, parameters, bodies and answers follow Harness's published sources (harness/harness-go-sdk,
generated from the API description: api_connectors.go, model_docker_connector.go, api_pipelines.go,
api_ci_execution_config.go, api_input_sets.go, api_triggers.go; harness-core's ConnectorResource,
PipelineResourceImpl, InputSetResourcePMS, NGTriggerResource, TemplateResource and CIExecutionConfigResource; the
templates' routes and models as Harness's generated Python SDK documents them, TemplatesApi.md):
the `{status, data}` envelope and its error bodies, `pageIndex`/`pageSize` (NG) and `page`/`size` (pipelines)
paging with `totalPages`, the `x-api-key` header, `accountIdentifier` on every call, an `ETag` on a pipeline and
`If-Match` on its update, a governance denial as HTTP 200 with `governanceMetadata.deny`. It checks each request
against those shapes and answers 400 (in Harness's error envelope) when one is off, so a wrong call fails the test.

Bad days on purpose: pages of one item, a 429 on the first list call, a 401 for any other key, a pipeline
denied by a policy, a change made "in Harness" between a pull and a push (`change`), and a server that stops
answering (`hang`). Loops are bounded; the server stops with its test.
"""

from __future__ import annotations

import copy
import http.server
import json
import threading
import time
import urllib.parse

KEY = "pat.acct123.tok.s3cr3t-canary"
ACCOUNT = "acct123"


def connector(identifier: str, url: str, org=None, project=None, provider="Other", auth="Anonymous") -> dict:
    return {"name": identifier, "identifier": identifier, "orgIdentifier": org, "projectIdentifier": project,
            "type": "DockerRegistry",
            "spec": {"dockerRegistryUrl": url, "providerType": provider, "auth": {"type": auth},
                     "executeOnDelegate": False}}


PIPELINE = """\
pipeline:
  name: build
  identifier: build
  projectIdentifier: payments
  orgIdentifier: default
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
              namespace: ci
          execution:
            steps:
              - step:
                  type: Run
                  name: test
                  identifier: test
                  spec:
                    image: golang:1.22
"""


STAGE_TEMPLATE = """\
template:
  name: build stage
  identifier: buildStage
  versionLabel: "1.0"
  type: Stage
  projectIdentifier: payments
  orgIdentifier: default
  spec:
    type: CI
    spec:
      infrastructure:
        type: KubernetesDirect
        spec:
          connectorRef: account.k8s
          namespace: ci
      execution:
        steps:
          - step:
              type: Run
              name: test
              identifier: test
              spec:
                image: app.harness.io/registry/harness/drone-git:1.6.0
"""

INPUT_SET = """\
inputSet:
  name: nightly
  identifier: nightly
  orgIdentifier: default
  projectIdentifier: payments
  pipeline:
    identifier: build
    stages:
      - stage:
          identifier: build
          type: CI
          spec:
            infrastructure:
              type: KubernetesDirect
              spec:
                harnessImageConnectorRef: org.orgMirror
"""

TRIGGER = """\
trigger:
  name: on push
  identifier: onPush
  enabled: true
  orgIdentifier: default
  projectIdentifier: payments
  pipelineIdentifier: build
  source:
    type: Webhook
    spec:
      type: Github
  inputYaml: |
    pipeline:
      identifier: build
      stages:
        - stage:
            identifier: build
            type: CI
            spec:
              infrastructure:
                type: KubernetesDirect
                spec:
                  harnessImageConectorRef: account.harnessImage
"""


class StandIn:
    def __init__(self):
        self.connectors = {
            (None, None, "harnessImage"): connector("harnessImage", "https://app.harness.io/registry"),
            ("default", None, "orgMirror"): connector("orgMirror", "https://registry.example.com/m", org="default"),
            ("default", "payments", "dockerhub"): connector("dockerhub", "https://registry.hub.docker.com",
                                                            org="default", project="payments", provider="DockerHub",
                                                            auth="UsernamePassword"),
        }
        self.pipelines = {
            ("default", "payments", "build"): {"yaml": PIPELINE, "storeType": "INLINE", "version": 1},
            ("default", "payments", "deploy"): {"yaml": PIPELINE.replace("identifier: build\n  project",
                                                                        "identifier: deploy\n  project"),
                                                "storeType": "INLINE", "version": 1},
            ("default", "payments", "synced"): {"yaml": PIPELINE, "storeType": "REMOTE", "version": 1,
                                                "git": {"repoName": "payments-ci", "filePath": ".harness/synced.yaml"}},
        }
        # (org, project, identifier, version label) -> template; (org, project, pipeline, identifier) -> input set, trigger
        self.templates = {
            ("default", "payments", "buildStage", "1.0"): {"yaml": STAGE_TEMPLATE, "storeType": "INLINE", "version": 3},
            ("default", "payments", "buildStage", "2.0"): {
                "yaml": STAGE_TEMPLATE.replace('versionLabel: "1.0"', 'versionLabel: "2.0"'), "storeType": "INLINE",
                "version": 1},
            (None, None, "golden", "v1"): {"yaml": STAGE_TEMPLATE, "storeType": "REMOTE", "version": 1,
                                           "git": {"repoName": "templates", "filePath": ".harness/golden.yaml"}},
        }
        self.input_sets = {
            ("default", "payments", "build", "nightly"): {"yaml": INPUT_SET, "storeType": "INLINE", "version": 1},
            ("default", "payments", "build", "fromGit"): {"yaml": INPUT_SET, "storeType": "REMOTE", "version": 1,
                                                           "git": {"repoName": "payments-ci",
                                                                   "filePath": ".harness/input.yaml"}},
        }
        self.triggers = {("default", "payments", "build", "onPush"): {"yaml": TRIGGER, "version": 7}}
        self.defaults = {"K8": {"addonTag": "harness/ci-addon:1.16.4", "liteEngineTag": "harness/ci-lite-engine:1.16.4",
                                "gitCloneTag": "harness/drone-git:latest"},
                         "VM": {"addonTag": "harness/ci-addon:1.16.4", "gitCloneTag": "harness/drone-git:1.6.0"}}
        self.overrides: dict[str, dict] = {"K8": {}, "VM": {}}
        self.deny: set[str] = set()  # pipelines a governance policy denies
        self.first_list_429 = True
        self.hang = False
        self.requests: list[tuple[str, str, dict, dict]] = []
        self.writes: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                outer._handle(self, "GET")

            def do_POST(self):
                outer._handle(self, "POST")

            def do_PUT(self):
                outer._handle(self, "PUT")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}/gateway"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
        self.thread.start()

    def stop(self):
        self.hang = False
        self.server.shutdown()
        self.server.server_close()

    def change(self, org, project, ident):
        """Someone edits a pipeline in Harness (its ETag moves)."""
        p = self.pipelines[(org, project, ident)]
        p["yaml"] = p["yaml"].replace("namespace: ci", "namespace: ci-edited-in-harness")
        p["version"] += 1

    # --- the routes --------------------------------------------------------------------------------
    def _handle(self, h, method):
        parsed = urllib.parse.urlsplit(h.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query).items()}
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in h.headers.items()}
        self.requests.append((method, parsed.path, q, headers))
        if self.hang:
            for _ in range(100):  # at most 10 s, then it lets go
                if not self.hang:
                    break
                time.sleep(0.1)
            return self._send(h, 200, {"status": "SUCCESS", "data": {}})
        if headers.get("x-api-key") != KEY:
            return self._send(h, 401, {"status": "ERROR", "code": "INVALID_TOKEN", "message": "Token is not valid."})
        if q.get("accountIdentifier") != ACCOUNT:
            return self._error(h, "accountIdentifier is missing or not this account")
        path = parsed.path.removeprefix("/gateway")
        org, project = q.get("orgIdentifier"), q.get("projectIdentifier")
        if method == "POST" and path == "/ng/api/connectors/listV2":
            body = json.loads(raw or b"{}")
            if body.get("filterType") != "Connector" or body.get("types") != ["DockerRegistry"]:
                return self._error(h, "filterType must be Connector")
            if self.first_list_429:
                self.first_list_429 = False
                return self._send(h, 429, {"status": "ERROR", "code": "TOO_MANY_REQUESTS", "message": "rate limited"})
            items = [{"connector": c} for (o, p, _), c in sorted(self.connectors.items(), key=str)
                     if o == org and p == project]
            return self._page(h, q, items, "pageIndex", "pageSize")
        if method == "GET" and path.startswith("/ng/api/connectors/"):
            c = self.connectors.get((org, project, path.rsplit("/", 1)[1]))
            if c is None:
                return self._send(h, 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": "not found"})
            return self._send(h, 200, {"status": "SUCCESS", "data": {"connector": c}})
        if method == "PUT" and path == "/ng/api/connectors":
            c = json.loads(raw or b"{}").get("connector")
            if not isinstance(c, dict) or c.get("type") != "DockerRegistry" or "spec" not in c:
                return self._error(h, "the body must be {connector: {...}}")
            key = (c.get("orgIdentifier"), c.get("projectIdentifier"), c.get("identifier"))
            if key not in self.connectors:
                return self._error(h, "no such connector")
            self.connectors[key] = c
            self.writes.append(("connector", c["identifier"]))
            return self._send(h, 200, {"status": "SUCCESS", "data": {"connector": c}})
        if method == "GET" and path == "/ng/api/organizations":
            return self._page(h, q, [{"organization": {"identifier": "default"}}], "pageIndex", "pageSize")
        if method == "GET" and path == "/ng/api/projects":
            items = [{"project": {"identifier": "payments", "orgIdentifier": "default"}}] if org == "default" else []
            return self._page(h, q, items, "pageIndex", "pageSize")
        if method == "POST" and path == "/pipeline/api/pipelines/list":
            if json.loads(raw or b"{}").get("filterType") != "PipelineSetup":
                return self._error(h, "filterType must be PipelineSetup")
            items = [{"identifier": i, "storeType": p["storeType"], "gitDetails": p.get("git")}
                     for (o, pr, i), p in sorted(self.pipelines.items()) if (o, pr) == (org, project)]
            return self._page(h, q, items, "page", "size")
        if path.startswith("/pipeline/api/pipelines/"):
            ident = path.rsplit("/", 1)[1]
            p = self.pipelines.get((org, project, ident))
            if p is None:
                return self._send(h, 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": "not found"})
            etag = f'"{p["version"]}"'
            if method == "GET":
                return self._send(h, 200, {"status": "SUCCESS", "data": {"yamlPipeline": p["yaml"],
                                                                        "storeType": p["storeType"]}}, etag=etag)
            if method == "PUT" and "/pipelines/v2/" in path:
                if "yaml" not in headers.get("content-type", ""):
                    return self._error(h, "the body is the pipeline's YAML")
                if p["storeType"] == "REMOTE":
                    return self._error(h, "a REMOTE pipeline is written through Git")
                if headers.get("if-match") not in (None, etag):
                    return self._send(h, 412, {"status": "ERROR", "code": "PRECONDITION_FAILED",
                                               "message": "the pipeline changed"})
                if ident in self.deny:
                    return self._send(h, 200, {"status": "SUCCESS", "data": {"identifier": ident, "governanceMetadata": {
                        "deny": True, "message": "policy 'no retired registry' denies this pipeline"}}})
                p["yaml"], p["version"] = raw.decode("utf-8"), p["version"] + 1
                self.writes.append(("pipeline", ident))
                return self._send(h, 200, {"status": "SUCCESS", "data": {"identifier": ident}})
        if path == "/template/api/templates/list-metadata" and method == "POST":
            if json.loads(raw or b"{}").get("filterType") != "Template" or not q.get("templateListType"):
                return self._error(h, "templateListType and filterType Template are required")
            items = [{"identifier": i, "versionLabel": v, "orgIdentifier": o, "projectIdentifier": pr,
                      "storeType": t["storeType"], "gitDetails": t.get("git"), "version": t["version"]}
                     for (o, pr, i, v), t in sorted(self.templates.items(), key=str) if (o, pr) == (org, project)]
            return self._page(h, q, items, "page", "size")
        if path.startswith("/template/api/templates/"):
            parts = path.removeprefix("/template/api/templates/").split("/")
            if method == "GET" and len(parts) == 1:
                key = (org, project, parts[0], q.get("versionLabel"))
                if not q.get("versionLabel"):
                    return self._error(h, "versionLabel is required here")
            elif method == "PUT" and len(parts) == 3 and parts[0] == "update":
                key = (org, project, parts[1], parts[2])
            else:
                return self._send(h, 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": "no route"})
            return self._yaml_entity(h, method, self.templates, key, "yaml", headers, raw, "template")
        if path.startswith("/pipeline/api/inputSets"):
            if not q.get("pipelineIdentifier"):
                return self._error(h, "pipelineIdentifier is required")
            if method == "GET" and path == "/pipeline/api/inputSets":
                items = [{"identifier": i, "inputSetType": "INPUT_SET", "pipelineIdentifier": pl,
                          "storeType": s["storeType"], "gitDetails": s.get("git")}
                         for (o, pr, pl, i), s in sorted(self.input_sets.items()) if (o, pr, pl) == (
                             org, project, q["pipelineIdentifier"])]
                return self._page(h, q, items, "pageIndex", "pageSize")
            key = (org, project, q["pipelineIdentifier"], path.rsplit("/", 1)[1])
            return self._yaml_entity(h, method, self.input_sets, key, "inputSetYaml", headers, raw, "inputSet")
        if path.startswith("/pipeline/api/triggers"):
            if not q.get("targetIdentifier"):
                return self._error(h, "targetIdentifier is required")
            if method == "GET" and path == "/pipeline/api/triggers":
                items = [{"identifier": i, "yaml": t["yaml"], "type": "Webhook"}
                         for (o, pr, pl, i), t in sorted(self.triggers.items()) if (o, pr, pl) == (
                             org, project, q["targetIdentifier"])]
                return self._page(h, q, items, "page", "size")
            key = (org, project, q["targetIdentifier"], path.rsplit("/", 1)[1])
            return self._yaml_entity(h, method, self.triggers, key, "yaml", headers, raw, "trigger")
        if path.startswith("/ci/execution-config/"):
            infra = q.get("infra")
            if infra not in self.defaults:
                return self._error(h, "infra must be K8 or VM")
            if method == "GET" and path.endswith("/get-default-config"):
                return self._send(h, 200, {"status": "SUCCESS", "data": self.defaults[infra]})
            if method == "GET" and path.endswith("/get-customer-config"):
                data = self.overrides[infra] if q.get("overridesOnly") == "true" else {
                    **self.defaults[infra], **self.overrides[infra]}
                return self._send(h, 200, {"status": "SUCCESS", "data": data})
            if method == "POST" and path.endswith("/update-config"):
                fields = json.loads(raw or b"[]")
                if not isinstance(fields, list) or not all(isinstance(f, dict) and {"field", "value"} <= set(f)
                                                           for f in fields):
                    return self._error(h, "the body is a list of {field, value}")
                for f in fields:
                    self.overrides[infra][f["field"]] = f["value"]
                self.writes.append(("ciExecutionConfig", infra))
                return self._send(h, 200, {"status": "SUCCESS", "data": True})
        return self._send(h, 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": f"no route {path}"})

    def _yaml_entity(self, h, method, store, key, field, headers, raw, kind):
        """GET or PUT of an entity Harness keeps as YAML with a version (templates, input sets, triggers): the
        version as the ETag; a PUT takes the YAML, honours If-Match, never writes a REMOTE entity."""
        e = store.get(key)
        if e is None:
            return self._send(h, 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": "not found"})
        etag = f'"{e["version"]}"'
        if method == "GET":
            data = {field: e["yaml"], "identifier": key[-1], "version": e["version"]}
            if "storeType" in e:
                data["storeType"], data["gitDetails"] = e["storeType"], e.get("git")
            return self._send(h, 200, {"status": "SUCCESS", "data": data}, etag=etag)
        if method != "PUT":
            return self._send(h, 404, {"status": "ERROR", "code": "RESOURCE_NOT_FOUND", "message": "no route"})
        if "yaml" not in headers.get("content-type", ""):
            return self._error(h, "the body is the entity's YAML")
        if e.get("storeType") == "REMOTE":
            return self._error(h, "a REMOTE entity is written through Git")
        if headers.get("if-match") not in (None, etag, str(e["version"])):
            return self._send(h, 412, {"status": "ERROR", "code": "PRECONDITION_FAILED", "message": "it changed"})
        e["yaml"], e["version"] = raw.decode("utf-8"), e["version"] + 1
        name = f"{key[2]}@{key[3]}" if kind == "template" else key[-1]
        self.writes.append((kind, name))
        return self._send(h, 200, {"status": "SUCCESS", "data": {"identifier": key[-1], "version": e["version"]}})

    def _page(self, h, q, items, index_name, size_name):
        try:
            index, size = int(q.get(index_name, 0)), int(q.get(size_name, 0))
        except ValueError:
            return self._error(h, "bad paging")
        if size <= 0:
            return self._error(h, f"{size_name} is required")
        size = 1  # pages of one item: a client must follow every page
        total = max(1, len(items))
        content = items[index * size:(index + 1) * size]
        return self._send(h, 200, {"status": "SUCCESS", "data": {"content": content, "totalPages": total,
                                                                 "pageIndex": index, "totalItems": len(items)}})

    def _error(self, h, message):
        return self._send(h, 400, {"status": "ERROR", "code": "INVALID_REQUEST", "message": message})

    def _send(self, h, code, body, etag=None):
        data = json.dumps(body).encode()
        h.send_response(code)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        if etag:
            h.send_header("ETag", etag)
        h.end_headers()
        h.wfile.write(data)
        return None

    def snapshot(self):
        return copy.deepcopy((self.connectors, self.pipelines, self.overrides, self.templates, self.input_sets,
                              self.triggers))

"""The walker (harness.sites), one test per trap of the Harness YAML facts (the project's shared notes, harness-yaml.md): where Harness reads
harnessImageConnectorRef, images and connectors, and where it does not."""
from __future__ import annotations

import textwrap

import pytest

from pipelint.harness import sites as harness
from pipelint.text.source import Source


def walk(text: str, path: str = "p.yaml") -> list[tuple[str | None, harness.Sites]]:
    docs, error = harness.documents(Source(path, textwrap.dedent(text)))
    assert error is None
    return [(d.kind, harness.sites(d) if d.kind else harness.Sites()) for d in docs]


def sites(text: str, path: str = "p.yaml") -> harness.Sites:
    ((_, found),) = walk(text, path)
    return found


def places(found: harness.Sites) -> list[tuple[str, str]]:
    return [(s.place, "/".join(s.yaml_path)) for s in found.infra]


def images(found: harness.Sites) -> list[str]:
    return [i.value for i in found.images]


def ci_stage(body: str, stage_type: str = "CI") -> str:
    """A pipeline with one stage of `stage_type` whose spec is `body` (indented as a stage spec's content)."""
    return ("pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n"
            f"        type: {stage_type}\n        spec:\n" + textwrap.indent(textwrap.dedent(body), " " * 10))


RUN = """\
execution:
  steps:
    - step: {identifier: t, type: Run, spec: {image: golang:1.22}}
"""


# --- § 1 entities ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("root", harness.ROOT_KEYS)
def test_each_root_key_is_an_entity(root):
    ((kind, _),) = walk(f"{root}:\n  identifier: x\n  name: x\n")
    assert kind == root


@pytest.mark.parametrize("text", [
    "version: 1\npipeline:\n  identifier: x\n  stages: []\n",  # Harness v1: out of scope
    "trigger:\n  branches: {include: [main]}\npool: {vmImage: ubuntu-latest}\n",  # Azure Pipelines' trigger
    "service:\n  identifier: s\n",  # a CD entity: no build images
    "stages:\n  - stage: {identifier: b}\n",  # a headless body outside .harness/
])
def test_not_harness_entities(text):
    ((kind, _),) = walk(text)
    assert kind is None


def test_a_headless_body_under_dot_harness_is_read_as_a_pipeline():
    text = "stages:\n  - stage:\n      identifier: b\n      type: CI\n      spec:\n" + textwrap.indent(RUN, " " * 8)
    ((kind, found),) = walk(text, ".harness/pipelines/p.yaml")
    assert kind == "headless" and images(found) == ["golang:1.22"]


# --- nesting --------------------------------------------------------------------------------------------
def test_parallel_stages_and_steps_nested_step_groups_and_rollback_steps():
    found = sites("""\
        pipeline:
          identifier: p
          stages:
            - parallel:
                - stage:
                    identifier: a
                    type: CI
                    spec:
                      execution:
                        steps:
                          - parallel:
                              - step: {identifier: s1, type: Run, spec: {image: one}}
                          - stepGroup:
                              identifier: g
                              steps:
                                - stepGroup:
                                    identifier: inner
                                    steps:
                                      - step: {identifier: s2, type: Run, spec: {image: two}}
                        rollbackSteps:
                          - step: {identifier: s3, type: Run, spec: {image: three}}
        """)
    assert images(found) == ["one", "two", "three"]
    assert [i.owner for i in found.images] == ["s1", "s2", "s3"]


def test_a_stage_that_uses_a_template_is_read_only_through_its_template_inputs():
    found = sites("""\
        pipeline:
          identifier: p
          stages:
            - stage:
                identifier: b
                template:
                  templateRef: account.build
                  versionLabel: v1
                  templateInputs:
                    type: CI
                    spec:
                      infrastructure:
                        spec:
                          harnessImageConnectorRef: account.mirror
                      execution:
                        steps:
                          - step: {identifier: s, type: Run, spec: {image: golang}}
        """)
    assert [r.value for r in found.refs] == ["account.mirror"]
    assert found.infra == [] and found.images == []  # the template's own body is checked where it is defined


# --- expressions ----------------------------------------------------------------------------------------
def test_expressions_are_never_sites():
    found = sites(ci_stage("""\
        infrastructure:
          type: KubernetesDirect
          spec:
            connectorRef: account.k8s
            harnessImageConnectorRef: <+input>
        execution:
          steps:
            - step: {identifier: s, type: Run, spec: {image: "<+matrix.image>"}}
            - step: {identifier: t, type: Run, spec: {image: "golang:<+pipeline.variables.v>"}}
        """))
    assert found.images == []
    assert found.refs == []  # not a connector reference until run time...
    (infra,) = found.infra
    assert infra.ref is not None and infra.ref.value == "<+input>"  # ...but set: CON001 stays quiet


# --- § 2 the places of harnessImageConnectorRef ---------------------------------------------------------
@pytest.mark.parametrize("stage_type", sorted(harness.BUILD_STAGE_TYPES))
def test_place_a_kubernetes_in_every_build_stage_type(stage_type):
    found = sites(ci_stage("infrastructure:\n  type: KubernetesDirect\n  spec: {connectorRef: k}\n", stage_type))
    assert places(found) == [("A", "pipeline/stages[b]/stage/spec/infrastructure")]
    assert found.infra[0].holder is not None


def test_place_b_vm_pool_has_the_double_spec():
    found = sites(ci_stage("""\
        infrastructure:
          type: VM
          spec:
            type: Pool
            spec:
              poolName: linux
              harnessImageConnectorRef: account.mirror
        """))
    assert places(found) == [("B", "pipeline/stages[b]/stage/spec/infrastructure")]
    assert found.refs[0].yaml_path[-4:] == ("infrastructure", "spec", "spec", "harnessImageConnectorRef")


def test_place_c_docker_runtime_and_cloud_is_no_place():
    docker = sites(ci_stage("runtime:\n  type: Docker\n  spec: {}\n"))
    assert places(docker) == [("C", "pipeline/stages[b]/stage/spec/runtime")]
    cloud = sites(ci_stage("runtime:\n  type: Cloud\n  spec: {imageName: ubuntu-latest}\n"))
    assert cloud.infra == [] and len(cloud.cloud_stages) == 1
    assert cloud.images == []  # runtime.spec.imageName is a VM image label


@pytest.mark.parametrize("infra_type, place", [("KubernetesDirect", "D"), ("ECSDirect", "F")])
def test_places_d_and_f_containerized_step_groups_in_any_stage_type(infra_type, place):
    found = sites(ci_stage(f"""\
        execution:
          steps:
            - stepGroup:
                identifier: g
                stepGroupInfra:
                  type: {infra_type}
                  spec: {{connectorRef: k}}
                steps:
                  - step: {{identifier: s, type: Run, spec: {{image: golang}}}}
        """, "Deployment"))
    assert places(found) == [(place, "pipeline/stages[b]/stage/spec/execution/steps[g]/stepGroup/stepGroupInfra")]
    assert found.infra[0].owner == "g"


def test_place_g_a_container_step_with_its_own_infrastructure():
    found = sites(ci_stage("""\
        execution:
          steps:
            - step:
                identifier: c
                type: Container
                spec:
                  image: golang:1.22
                  infrastructure:
                    type: KubernetesDirect
                    spec: {connectorRef: k}
        """, "Custom"))
    assert places(found) == [("G", "pipeline/stages[b]/stage/spec/execution/steps[c]/step/spec/infrastructure")]
    assert images(found) == ["golang:1.22"]


@pytest.mark.parametrize("body", [
    "infrastructure:\n  useFromStage: build\n",
    "infrastructure:\n  type: KubernetesHosted\n  spec: {identifier: x}\n",
    "infrastructure:\n  type: <+input>\n",
])
def test_no_override_exists(body):
    assert sites(ci_stage(body)).infra == []


def test_a_deployment_stage_s_infrastructure_is_its_target_not_build_infrastructure():
    found = sites(ci_stage("infrastructure:\n  type: KubernetesDirect\n  spec: {connectorRef: k}\n", "Deployment"))
    assert found.infra == []


@pytest.mark.parametrize("template_type, body, place", [
    ("Stage", "type: CI\nspec:\n  infrastructure:\n    type: KubernetesDirect\n    spec: {connectorRef: k}\n", "A"),
    ("StepGroup", "stepGroupInfra:\n  type: KubernetesDirect\n  spec: {connectorRef: k}\nsteps: []\n", "D"),
    ("Step", "type: Container\nspec:\n  image: alpine:3\n  infrastructure:\n    type: KubernetesDirect\n"
             "    spec: {connectorRef: k}\n", "G"),
])
def test_templates_carry_the_same_places_under_template_spec(template_type, body, place):
    text = (f"template:\n  identifier: t\n  versionLabel: v1\n  type: {template_type}\n  spec:\n"
            + textwrap.indent(body, "    "))
    found = sites(text)
    assert [(s.place, s.yaml_path[:2]) for s in found.infra] == [(place, ("template", "spec"))]


def test_an_input_set_holds_values_only():
    found = sites("""\
        inputSet:
          identifier: i
          pipeline:
            identifier: p
            stages:
              - stage:
                  identifier: b
                  spec:
                    infrastructure:
                      spec:
                        harnessImageConnectorRef: account.mirror
                    execution:
                      steps:
                        - step: {identifier: s, spec: {image: golang}}
        """)
    assert [r.value for r in found.refs] == ["account.mirror"]  # types are left out in input sets
    assert found.infra == [] and found.images == []


def test_a_trigger_s_input_yaml_is_a_string_and_not_walked():
    found = sites("""\
        trigger:
          identifier: t
          pipelineIdentifier: p
          inputYaml: |
            pipeline:
              identifier: p
              stages:
                - stage: {identifier: b, type: CI, spec: {infrastructure: {type: KubernetesDirect, spec: {}}}}
        """)
    assert found.infra == [] and found.refs == [] and found.images == []


# --- § 3 connectors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("ids, scope, ref", [
    ("", "account", "account.hub"),
    ("  orgIdentifier: eng\n", "org", "org.hub"),
    ("  orgIdentifier: eng\n  projectIdentifier: ci\n", "project", "hub"),
    ("  orgIdentifier: null\n  projectIdentifier: ~\n", "account", "account.hub"),  # as Harness's API answers
    ("  orgIdentifier: eng\n  projectIdentifier: null\n", "org", "org.hub"),
])
def test_connector_scope_comes_from_org_and_project_identifiers(ids, scope, ref):
    found = sites("connector:\n  identifier: hub\n  type: DockerRegistry\n" + ids
                  + "  spec:\n    dockerRegistryUrl: https://app.harness.io/registry\n    providerType: Other\n")
    (c,) = found.connectors
    assert (c.scope, c.ref, c.is_docker) == (scope, ref, True)
    assert c.delegate is None  # executeOnDelegate absent: Harness defaults it to true
    assert c.url.value == "https://app.harness.io/registry"


def test_a_connector_of_another_type_is_not_a_docker_registry():
    (c,) = sites("connector:\n  identifier: gh\n  type: Github\n  spec: {url: https://github.com}\n").connectors
    assert not c.is_docker


# --- § 4 images -----------------------------------------------------------------------------------------
def test_step_images_and_service_dependencies():
    found = sites(ci_stage("""\
        serviceDependencies:
          - identifier: db
            type: Service
            spec: {image: postgres:16}
        execution:
          steps:
            - step: {identifier: a, type: Plugin, spec: {image: plugins/s3, settings: {image: not-an-image}}}
            - step: {identifier: b, type: AquaTrivy, spec: {image: {type: docker_v2, name: app, tag: "1"}}}
            - step: {identifier: c, type: Run, spec: {image: ""}}
            - step: {identifier: d, type: Run, strategy: {matrix: {image: ["", "-gcr"]}}, spec: {command: x}}
            - step: {identifier: e, type: BuildAndPushDockerRegistry, spec: {repo: r, tags: [x]}}
        """))
    assert images(found) == ["postgres:16", "plugins/s3"]


def test_image_reference_forms_parse_once_in_the_walker():
    found = sites(ci_stage("""\
        execution:
          steps:
            - step: {identifier: a, type: Run, spec: {image: "registry.example.com:5000/team/app:1.2"}}
            - step: {identifier: b, type: Run, spec: {image: "alpine:3@sha256:%s"}}
        """ % ("a" * 64)))
    a, b = found.images
    assert (a.image.registry, a.image.tag) == ("registry.example.com:5000", "1.2")
    assert b.image.digest == "sha256:" + "a" * 64 and b.image.tag == "3"


# --- anchors, aliases and merge keys (how Jackson reads them) --------------------------------------------
def test_an_aliased_stage_is_walked_once_and_an_aliased_image_is_a_site_at_each_use():
    found = sites("""\
        pipeline:
          identifier: p
          stages:
            - stage: &s
                identifier: b
                type: CI
                spec:
                  execution:
                    steps:
                      - step: {identifier: x, type: Run, spec: {image: &img golang}}
                      - step: {identifier: y, type: Run, spec: {image: *img}}
            - stage: *s
        """)
    assert images(found) == ["golang", "golang"]
    assert [i.raw[-4] for i in found.images] == [0, 1]  # the raw path of each use


def test_a_merge_key_supplying_the_override_is_not_a_reference():
    found = sites(ci_stage("""\
        infrastructure:
          type: KubernetesDirect
          spec:
            <<: {harnessImageConnectorRef: account.mirror}
            connectorRef: k
        """))
    (infra,) = found.infra
    assert infra.ref is None and infra.merged is not None and infra.merged.value == "account.mirror"
    assert found.refs == []  # Jackson keeps `<<` as a key: Harness never reads this value


def test_an_image_knows_its_pipeline_stage_also_in_a_parallel_block():
    found = sites("""\
        pipeline:
          identifier: p
          stages:
            - stage:
                identifier: first
                type: CI
                spec: {execution: {steps: [{step: {identifier: a, type: Run, spec: {image: one}}}]}}
            - parallel:
                - stage:
                    identifier: second
                    type: CI
                    spec: {execution: {steps: [{step: {identifier: b, type: Run, spec: {image: two}}}]}}
        """)
    assert [(i.value, i.stage) for i in found.images] == [("one", "first"), ("two", "second")]


def test_a_stage_fragment_under_dot_harness_is_read_as_a_pipeline_s_stages():
    text = ("- stage:\n    identifier: b\n    type: CI\n    spec:\n      infrastructure:\n        type: KubernetesDirect\n"
            "        spec: {connectorRef: k}\n" + textwrap.indent(RUN, " " * 6))
    ((kind, found),) = walk(text, ".harness/stages/build.yaml")
    assert kind == "headless"
    assert places(found) == [("A", "stages[b]/stage/spec/infrastructure")]
    assert images(found) == ["golang:1.22"]
    ((kind, _),) = walk(text, "k8s/list.yaml")  # outside .harness/: not Harness's
    assert kind is None

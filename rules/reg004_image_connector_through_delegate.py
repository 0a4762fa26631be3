from pipelint.harness.sites import DEFAULT_IMAGE_CONNECTOR, DOCKER_REGISTRY
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.document import is_map, is_null, scalar
from pipelint.yamldoc.yamltext import InsertPair, SetScalar


class ImageConnectorThroughDelegate(Rule):
    """Harness Cloud builds, and a `harnessImage` connector that connects through a delegate.

    ## What it does
    When the checked files contain a stage on Harness Cloud (`runtime.type: Cloud`) and the account-level
    `harnessImage` connector is among them, reports that connector if `executeOnDelegate` is true or absent
    (absent means true). Points at the value of `executeOnDelegate`, or at the connector's `spec` key when
    the key is absent.

    ## Why is this bad?
    Harness Cloud machines have no delegate: a connector used for Cloud builds must "Connect through Harness
    Platform" (`executeOnDelegate: false`), or the Harness images cannot be pulled.

    ## Example
    ```yaml
    connector:
      identifier: harnessImage
      type: DockerRegistry
      spec:
        dockerRegistryUrl: https://registry.hub.docker.com
        providerType: DockerHub
        executeOnDelegate: true
    ```

    ## Fix
    Unsafe: sets `executeOnDelegate: false` (inserting it into `spec` when absent). It changes how every
    pull through that connector connects, including those of builds on your own infrastructure, so it is
    applied only with `--unsafe-fixes`.
    A Terraform `harness_platform_connector_docker` resource gets `execute_on_delegate = false`: the value
    replaced in place, or the attribute added on a line of its own before the closing brace.
    Anchored values follow the shared-value policy of `pipelint rule REG001`.
    """

    code = "REG004"
    name = "image-connector-through-delegate"
    severity = "warning"
    fix_safety = "unsafe"
    cross_file = True

    def check_run(self, run):
        if not run.has_cloud_stage():
            return
        for hdoc, c in run.connectors:
            if c.ref != DEFAULT_IMAGE_CONNECTOR or c.type != DOCKER_REGISTRY:
                continue
            message = ('the account connector "harnessImage" connects through a delegate '
                       "(executeOnDelegate {}), but stages in the checked files build on Harness Cloud, "
                       "which needs \"Connect through Harness Platform\"")
            if c.delegate is not None:
                _key, value = c.delegate
                if is_null(value) or scalar(value) not in ("true", "True", "TRUE"):
                    continue
                yield self.finding(
                    hdoc, c.at_spec("executeOnDelegate", value), message.format("true"),
                    fix=self.fix_from(hdoc, "set executeOnDelegate: false", [SetScalar(value, "false", verbatim=True, paths=(c.raw + ("spec", "executeOnDelegate"),))]),
                )
            elif c.spec_key is not None and is_map(c.spec):
                yield self.finding(
                    hdoc, c.at_spec("executeOnDelegate"), message.format("absent, so true"),
                    fix=self.fix_from(hdoc, "insert executeOnDelegate: false",
                                      [InsertPair(c.spec, "executeOnDelegate", "false", verbatim=True, paths=(c.raw + ("spec",),))]),
                )

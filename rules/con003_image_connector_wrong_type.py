from pipelint.harness import sites as harness
from pipelint.ruleapi.rule import Option, Rule


class ImageConnectorWrongType(Rule):
    """An Override Image Connector that names a connector which is not a Docker registry.

    ## What it does
    For each `harnessImageConnectorRef: account.<id>` in the checked files, looks up the account connector
    `<id>` among the checked files and reports the reference when that connector's `type` is not
    `DockerRegistry`. With the option `require-known = true` it also reports references to account
    connectors that are not among the checked files. Cross-file.

    ## Why is this bad?
    Harness pulls its images through this connector; a Kubernetes, Git or cloud connector cannot serve them.

    ## Example
    ```yaml
    harnessImageConnectorRef: account.k8s_cluster   # a K8sCluster connector
    ```

    ## Fix
    None: point the reference at a DockerRegistry connector.
    """

    code = "CON003"
    name = "image-connector-wrong-type"
    severity = "error"
    cross_file = True
    options = (
        Option("require-known", False, "also report account connectors not among the checked files", bool),
    )

    def check_run(self, run):
        for hdoc in run.docs:
            for ref in hdoc.sites.refs:
                if harness.parse_ref(ref.value)[0] != "account":
                    continue  # CON002 reports those
                found = run.connector(ref.value)
                if found:
                    types = {c.type for _, c in found}
                    if harness.DOCKER_REGISTRY in types:
                        continue
                    kind = ", ".join(sorted(t or "untyped" for t in types))
                    message = f'harnessImageConnectorRef "{ref.value}" names a {kind} connector, not DockerRegistry'
                elif self.opts["require-known"]:
                    message = f'harnessImageConnectorRef "{ref.value}" names no connector among the checked files'
                else:
                    continue
                yield self.finding(hdoc, ref, message)

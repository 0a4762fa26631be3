from pipelint.harness.sites import DEFAULT_IMAGE_CONNECTOR
from pipelint.oci import registries
from pipelint.ruleapi.rule import Rule


class AnonymousDockerHub(Rule):
    """The connector that pulls Harness images reads Docker Hub anonymously.

    ## What it does
    Looks at the account-level `harnessImage` connector and at every connector named by a
    `harnessImageConnectorRef` in the checked files. Reports one that pulls from Docker Hub
    (`registry.hub.docker.com`, `index.docker.io`, `docker.io`, `registry-1.docker.io`) with
    `auth.type: Anonymous`. Points at `dockerRegistryUrl`. Cross-file: the connector and the pipelines that
    use it may be in different files of the same run.

    ## Why is this bad?
    Anonymous pulls from Docker Hub are rate limited; builds that pull the Harness images (ci-addon,
    lite-engine, drone-git, plugins) through such a connector fail when the limit is hit. The Harness docs
    recommend credentials, or the Harness mirrors on GAR or ECR.

    ## Example
    ```yaml
    connector:
      identifier: harnessImage
      type: DockerRegistry
      spec:
        dockerRegistryUrl: https://registry.hub.docker.com
        providerType: DockerHub
        auth:
          type: Anonymous
    ```

    ## Fix
    None: add credentials (`auth.type: UsernamePassword` with a secret) or switch to a mirror.
    """

    code = "REG003"
    name = "anonymous-docker-hub"
    severity = "warning"
    cross_file = True

    def check_run(self, run):
        used = run.referenced_connectors() | {DEFAULT_IMAGE_CONNECTOR}
        for hdoc, c in run.connectors:
            if c.ref not in used or not c.is_docker:
                continue
            if c.auth_type != "Anonymous" or registries.url_host(c.url.value) not in registries.DOCKER_HUB_HOSTS:
                continue
            why = "is the account's harnessImage connector" if c.ref == DEFAULT_IMAGE_CONNECTOR else \
                "is named by a harnessImageConnectorRef"
            yield self.finding(
                hdoc, c.at_spec("dockerRegistryUrl", c.url),
                f'connector "{c.identifier}" {why} and pulls from Docker Hub anonymously: '
                "rate limits will fail builds; add credentials or use the GAR/ECR mirror",
            )

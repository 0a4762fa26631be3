from pipelint.harness.sites import DEFAULT_IMAGE_CONNECTOR
from pipelint.oci import mirror_layout, registries
from pipelint.ruleapi.rule import Rule


class ImageConnectorOutsideAllowedRegistries(Rule):
    """A connector Harness pulls its own CI images through, on a registry outside the allowed ones.

    ## What it does
    With a private registry configured (IMG005's `allowed-registries` or `mirror`), reports each Docker
    connector that serves Harness's own images -- the account's `harnessImage` connector, and every connector a
    `harnessImageConnectorRef` in the checked files names -- whose `dockerRegistryUrl` lies outside the allowed
    registries and the mirror (Harness pulls `<url>/harness/ci-addon` and the like through it). Silent when
    neither option is set; a connector on the retired registry is REG001's. Cross-file.

    ## Why is this bad?
    The images a build pulls are the step images and Harness's own (`ci-addon`, `ci-lite-engine`, `drone-git`,
    ...). Moving every step image onto the mirror while the image connector still points at Docker Hub leaves
    every build pulling from outside: the mirror's purpose is lost, and Docker Hub's rate limits still apply.

    ## Example
    ```toml
    [rules.IMG005]
    mirror = "registry.example.com/harness-mirror"
    ```
    ```yaml
    connector:
      identifier: harnessImage
      type: DockerRegistry
      spec:
        dockerRegistryUrl: https://registry.hub.docker.com
    ```
    Use instead: `dockerRegistryUrl: https://registry.example.com/harness-mirror` (providerType `Other`), with the
    mirror's credentials.

    ## Fix
    Unsafe (`--unsafe-fixes`), when `mirror` is set: the URL becomes `https://<mirror>` and `providerType` `Other`
    (inserted when absent); the connector's credentials must then be the mirror's, which only you can set.
    Copy Harness's images there first (`pipelint mirror --images FILE`).
    """

    code = "CON004"
    name = "image-connector-outside-allowed-registries"
    severity = "error"
    fix_safety = "unsafe"
    cross_file = True
    peers = ("IMG005",)

    def check_run(self, run):
        img005 = self.peer_opts.get("IMG005", {})
        allowed = [str(a) for a in img005.get("allowed-registries") or []]
        mirror = str(img005.get("mirror") or "").rstrip("/")
        if not allowed and not mirror:
            return
        serving = run.referenced_connectors() | {DEFAULT_IMAGE_CONNECTOR}
        for hdoc, c in run.connectors:
            if not c.is_docker or c.ref not in serving or c.url is None:
                continue
            url = c.url.value
            if registries.is_retired_url(url) or mirror_layout.serves_from_allowed(url, allowed, mirror):
                continue
            where = mirror_layout.registry_prefix(url) or url
            message = (f'connector "{c.identifier}" serves Harness\'s images from {where}, outside the allowed '
                       "registries" + (f" and the mirror {mirror}" if mirror else ""))
            fix = None
            if mirror:
                intents = c.move_to(f"https://{mirror}", "Other")
                fix = self.fix_from(hdoc, f"set dockerRegistryUrl to https://{mirror} (then give it the mirror's "
                                          "credentials)", intents, safe=False)
            yield self.finding(hdoc, c.at_spec("dockerRegistryUrl", c.url), message, fix=fix)

from pipelint.oci import registries
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.yamltext import SetScalar


class RegistryProviderMismatch(Rule):
    """A DockerRegistry connector whose `providerType` disagrees with its registry's host.

    ## What it does
    Reports `providerType` on a DockerRegistry connector when the host of `dockerRegistryUrl` is known:
    Docker Hub hosts (`registry.hub.docker.com`, `index.docker.io`, `docker.io`, `registry-1.docker.io`)
    need `DockerHub`; the Harness image mirrors on `gcr.io`, `us-docker.pkg.dev` and `public.ecr.aws` need
    `Other` ("Other (Docker V2 compliant)" in the UI). Other hosts never fire.

    ## Why is this bad?
    The provider type decides how Harness talks to the registry; the Harness docs name the right one for
    each replacement of the retired registry, and a mismatch shows up as failed pulls or failed connection
    tests.

    ## Example
    ```yaml
    connector:
      type: DockerRegistry
      spec:
        dockerRegistryUrl: https://registry.hub.docker.com/v2/
        providerType: Other   # Docker Hub wants DockerHub
    ```

    ## Fix
    Safe: `providerType` is set to the expected value.
    Anchored values follow the shared-value policy of `pipelint rule REG001`.
    """

    code = "REG002"
    name = "registry-provider-mismatch"
    severity = "warning"
    fix_safety = "safe"

    def check(self, doc):
        for c in doc.sites.connectors:
            if not c.is_docker or c.provider is None:
                continue
            if registries.is_retired_url(c.url.value):
                continue  # REG001's fix sets the provider together with the URL
            want = registries.expected_provider(c.url.value)
            have = c.provider.value
            if want is None or have == want or "<+" in have:
                continue
            host = registries.url_host(c.url.value)
            yield self.finding(
                doc, c.at_spec("providerType", c.provider), f'providerType "{have}" does not match {host}: expected {want}',
                fix=self.fix_from(doc, f"set providerType to {want}", [SetScalar(c.provider, want, paths=(c.raw + ("spec", "providerType"),))]),
            )

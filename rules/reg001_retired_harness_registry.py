from pipelint import registries
from pipelint.rule import Option, Rule
from pipelint.yamltext import InsertPair, SetScalar


class RetiredHarnessRegistry(Rule):
    """A reference to the retired Harness registry `app.harness.io/registry`.

    ## What it does
    Reports a DockerRegistry connector whose `spec.dockerRegistryUrl` is `app.harness.io/registry` (any case,
    with or without `http://`/`https://`, a trailing `/` or `/v2/`), and an image reference (`step.spec.image`,
    `serviceDependencies[].spec.image`) whose registry part is that registry. `pkg.harness.io` (Harness
    Artifact Registry, a current product) never fires.

    ## Why is this bad?
    Harness retired its hosted registry: deprecated on 15 Feb 2024, end of life on 15 May 2024. Pulls from
    it fail, and builds that pull Harness images through such a connector stop.

    ## Example
    ```yaml
    connector:
      identifier: harnessImage
      type: DockerRegistry
      spec:
        dockerRegistryUrl: https://app.harness.io/registry
        providerType: Other
    ```

    ## Fix
    Safe for an anonymous connector; unsafe (`--unsafe-fixes`) for one that authenticates
    (`auth.type: UsernamePassword`), whose credentials were meant for the old registry and must be updated
    with the move. The connector URL becomes the target registry's URL and `providerType` is set to match (inserted
    into `spec` when absent); in an image the `app.harness.io/registry/` prefix becomes the target's image
    prefix, keeping the tag and digest. The target is the option `target`: `auto` (the default) moves an
    anonymous connector, and images, to the Harness ECR public gallery (`https://public.ecr.aws/harness`,
    providerType Other), which serves anonymous pulls without Docker Hub's rate limits -- the notice's own tip
    -- so the fix does not create the next warning (REG003, anonymous Docker Hub); a connector with
    credentials moves to Docker Hub, as the notice instructs for those (unsafe: its credentials must change).
    Or, for every connector and image: `dockerhub` (`https://registry.hub.docker.com`, DockerHub), `gar`
    (`https://us-docker.pkg.dev/gar-prod-setup/harness-public`), `gcr` (`https://gcr.io/gcr-prod`), `ecr`
    (`https://public.ecr.aws/harness`), or a URL of your own mirror (`providerType: Other`, images
    `<host/path>/harness/...`); `--target` overrides it for one run. Image names must not change when
    mirroring Harness images, so only the registry prefix is rewritten.
    Shared values (anchors and aliases): when every use of an anchored value is a site of this fix, the anchor is
    edited once and every use follows (one fix per site); when the anchor is also read where the change does
    not belong, the safe fix rewrites only the site's `*alias` into the new value, and where the site is the
    anchor itself the fix is unsafe (`--unsafe-fixes` edits the anchor, and its message names the other
    places that change). Every fix is checked on the data both YAML readings give (`<<` literal, as Harness
    reads it, and merged) before it is offered.
    A trigger's `inputYaml` is checked as an input set; the images in it are runtime values, not image sites.
    """

    code = "REG001"
    name = "retired-harness-registry"
    severity = "error"
    fix_safety = "safe"
    options = (
        Option("target", "auto", 'the registry fixes move to: "auto", "dockerhub", "gar", "gcr", "ecr" or a URL',
               check=registries.target_error, flag="--target"),
    )

    def check(self, doc):
        for c in doc.sites.connectors:
            if not c.is_docker or not registries.is_retired_url(c.url.value):
                continue
            authenticated = c.auth_type not in (None, "Anonymous")
            target = registries.target(self.opts["target"], authenticated)
            spec = c.raw + ("spec",)
            intents = [SetScalar(c.url, target.url, paths=(spec + ("dockerRegistryUrl",),))]
            if c.provider is not None:
                if c.provider.value != target.provider:
                    intents.append(SetScalar(c.provider, target.provider, paths=(spec + ("providerType",),)))
            elif c.spec is not None:
                intents.append(InsertPair(c.spec, "providerType", target.provider, paths=(spec,)))
            message = (f'connector "{c.identifier}" points at the retired Harness registry {registries.RETIRED} '
                       f"({registries.EOL_NOTE})")
            if authenticated:  # the credentials were for the old registry
                message += f"; its {c.auth_type} credentials are for that registry: update them when moving it"
            yield self.finding(
                doc, c.at_spec("dockerRegistryUrl", c.url), message,
                fix=self.fix_from(doc, f"set dockerRegistryUrl to {target.url}"
                                  + (" (the credentials stay: update them)" if authenticated else ""),
                                  intents, safe=not authenticated),
            )
        target = registries.target(self.opts["target"])
        for img in doc.sites.images:
            cut = registries.retired_image_prefix(img.value.strip())
            if not cut:
                continue
            stripped = img.value.strip()
            new = target.image_prefix + stripped[cut:]
            yield self.finding(
                doc, img,
                f'image "{stripped}" is on the retired Harness registry {registries.RETIRED} '
                f"({registries.EOL_NOTE})",
                fix=self.fix_from(doc, f"pull {new}", [SetScalar(img.node, new, paths=(img.raw,))]),
            )
        for img in doc.sites.partial_images:  # the rest is a template hole or a run-time expression: no fix
            stripped = img.value.strip()
            shown = stripped[:stripped.index("<+")] + "…"
            yield self.finding(
                doc, img,
                f'image "{shown}" is on the retired Harness registry {registries.RETIRED} '
                f"({registries.EOL_NOTE}); the rest of the reference is set at run time or by a template: "
                f"replace {stripped[:registries.retired_image_prefix(stripped)]} with {target.image_prefix} by hand",
            )

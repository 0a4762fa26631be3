from pipelint.oci import registries
from pipelint.ruleapi.rule import Option, Rule
from pipelint.yamldoc.yamltext import SetScalar


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
    mirroring Harness images, so only the registry prefix is rewritten. With a private mirror configured
    (IMG005's `mirror`), `auto` means the mirror: a connector moves to `https://<mirror>` (providerType Other;
    unsafe when it has credentials, which must become the mirror's), and an image moves to the name IMG005
    gives it there, once the lockfile records it on the mirror (`pipelint mirror`); until then no fix.
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
    peers = ("IMG005",)  # its `mirror`: with one, `auto` moves everything there
    options = (
        Option("target", "auto", 'the registry fixes move to: "auto", "dockerhub", "gar", "gcr", "ecr" or a URL',
               check=registries.target_error, flag="--target"),
    )

    def __init__(self, severity=None, **options):
        super().__init__(severity, **options)
        self._reader = None  # the mirror's lockfile (lockfile.Reader), when `auto` means the mirror

    @property
    def mirror(self) -> str:
        """IMG005's mirror, when the target is `auto` and one is configured; else ""."""
        if self.opts["target"] != registries.AUTO:
            return ""
        return str(self.peer_opts.get("IMG005", {}).get("mirror") or "").rstrip("/")

    def reader(self):
        from pipelint.oci.lockfile import Reader

        if self._reader is None:
            self._reader = Reader(str(self.peer_opts["IMG005"]["lockfile"]))
        return self._reader

    def cache_key(self) -> str:
        return self.reader().cache_key() if self.mirror else ""

    def target(self, authenticated: bool = False):
        mirror = self.mirror
        if mirror:  # the private registry: its URL, and the images under it as IMG005 names them
            return registries.Target(f"https://{mirror}", "Other", f"{mirror}/")
        return registries.target(str(self.opts["target"]), authenticated)

    def check(self, doc):
        for c in doc.sites.connectors:
            if not c.is_docker or not registries.is_retired_url(c.url.value):
                continue
            authenticated = c.auth_type not in (None, "Anonymous")
            target = self.target(authenticated)
            intents = c.move_to(target.url, target.provider)
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
        target = self.target()
        for img in doc.sites.images:
            cut = registries.retired_image_prefix(img.value.strip())
            if not cut:
                continue
            stripped = img.value.strip()
            message = (f'image "{stripped}" is on the retired Harness registry {registries.RETIRED} '
                       f"({registries.EOL_NOTE})")
            new = target.image_prefix + stripped[cut:]
            if self.mirror:  # onto the mirror only once the image is there (IMG005's rule)
                from pipelint.oci import mirror_layout
                from pipelint.oci.lockfile import on_mirror

                layout = str(self.peer_opts["IMG005"]["mirror-layout"])
                moved = mirror_layout.mirrored(img.image, self.mirror, layout) if img.image is not None else None
                known, hint = on_mirror(self.reader(), moved) if moved is not None else (False, "no mirror name")
                if not known:
                    yield self.finding(doc, img, f"{message}; no fix: {hint}")
                    continue
                new = str(moved)
            yield self.finding(doc, img, message,
                               fix=self.fix_from(doc, f"pull {new}", [SetScalar(img.node, new, paths=(img.raw,))]))
        for img in doc.sites.partial_images:  # the rest is a template hole or a run-time expression: no fix
            stripped = img.value.strip()
            shown = stripped[:stripped.index("<+")] + "…"
            yield self.finding(
                doc, img,
                f'image "{shown}" is on the retired Harness registry {registries.RETIRED} '
                f"({registries.EOL_NOTE}); the rest of the reference is set at run time or by a template: "
                f"replace {stripped[:registries.retired_image_prefix(stripped)]} with {target.image_prefix} by hand",
            )

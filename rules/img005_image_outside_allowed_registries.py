from pipelint.oci import mirror_layout
from pipelint.ruleapi.rule import Option, Rule
from pipelint.yamldoc.yamltext import SetScalar


class ImageOutsideAllowedRegistries(Rule):
    """An image pulled from a registry outside the allowed list. Off by default.

    ## What it does
    Reports every image reference (step images, service dependencies, step templates, Harness YAML in
    Terraform and templated files) whose registry and repository lie under none of the prefixes in
    `allowed-registries`, nor under `mirror`. A prefix is `host[:port]` or `host[:port]/path`, matched against
    the image's canonical name in whole path components: `golang` is `docker.io/library/golang`, so
    `"docker.io/library"` allows Docker Hub's official images and `"docker.io"` all of Docker Hub. With neither
    option set nothing is allowed. Expressions (`<+...>`) are skipped, as everywhere. Images on the retired
    Harness registry are REG001's (its `target` may be your mirror). Enable it with `extend-select = ["IMG005"]`.

    ## Why is this bad?
    A build that pulls from a public registry depends on that registry being up, unthrottled and honest.
    Teams that mirror the images they validated into a registry of their own (the fourth way of the Harness
    notice) need every reference to point there, and to know when a new one does not.

    ## Example
    ```toml
    [tool.pipelint.rules.IMG005]
    allowed-registries = ["registry.example.com"]
    mirror = "registry.example.com/mirror"
    ```
    ```yaml
    spec:
      image: golang:1.22
    ```
    Use instead: `registry.example.com/mirror/library/golang:1.22`.

    ## Layouts
    `mirror-layout` says where an image lives on the mirror (the same names `pipelint mirror` copies to):
    - `path` (default): `<mirror>/<repository path>`: `golang:1.22` -> `<mirror>/library/golang:1.22`,
      `ghcr.io/org/tool:1` -> `<mirror>/org/tool:1`. Images under a Harness registry root
      (`us-docker.pkg.dev/gar-prod-setup/harness-public`, `gcr.io/gcr-prod`) keep the name Harness gives them
      (`<mirror>/harness/ci-addon`): do not change the image names in your private registry.
    - `scoped`: `<mirror>/<source registry host>/<repository path>`, the layout of `skopeo sync --scoped`:
      `golang:1.22` -> `<mirror>/docker.io/library/golang:1.22`. An image from a registry with a port has no
      scoped name (a port is not a valid path component): reported, without a fix.

    ## Fix
    Safe, when `mirror` is set and the image is known to be there: rewrites the reference onto the mirror in the
    chosen layout, keeping the repository path, tag and digest (a digest is the same on a mirror that
    `pipelint mirror` or `skopeo copy --all` filled). An image is known to be on the mirror when the lockfile
    (option `lockfile`, `pipelint.lock` beside the configuration) records the mirror's name for it: `pipelint
    mirror` records each image it copied or found there, `pipelint pin` each one it resolved. Until then the
    finding says "not on the mirror yet" and offers no fix, so a failed copy never leaves a pipeline pointing at
    an image the mirror does not have.
    """

    superseded_by = ("REG001",)  # an image on the retired registry: REG001 says more, and its fix moves it
    code = "IMG005"
    name = "image-outside-allowed-registries"
    severity = "error"
    fix_safety = "safe"
    enabled_by_default = False
    options = (
        Option("allowed-registries", [], 'registry prefixes images may come from: "host[:port]" or "host[:port]/path"',
               type=list, items=str, check=mirror_layout.entries_error),
        Option("mirror", "", 'the private registry the fix moves images to, "host[:port]/path" ("" for no fix)',
               check=mirror_layout.mirror_error),
        Option("mirror-layout", "path", "where an image lives on the mirror", choices=mirror_layout.LAYOUTS),
        Option("lockfile", "pipelint.lock", "where `pipelint mirror` records what the mirror holds (relative to the "
               "configuration file)", str, path=True),
    )

    def __init__(self, severity=None, **options):
        super().__init__(severity, **options)
        self._reader = None  # lockfile.Reader, made on first use (the pre-commit path imports no lockfile code)

    @property
    def reader(self):
        from pipelint.oci.lockfile import Reader

        if self._reader is None:
            self._reader = Reader(str(self.opts["lockfile"]))
        return self._reader

    def cache_key(self) -> str:  # with a mirror, whether a fix is offered depends on what the lockfile records
        return self.reader.cache_key() if self.opts["mirror"] else ""

    def check(self, doc):
        allowed, mirror = self.opts["allowed-registries"], self.opts["mirror"]
        for img in doc.sites.images:
            ref = img.image
            if ref is None or mirror_layout.allowed(ref, allowed, mirror):
                continue
            host, _path = mirror_layout.canonical(ref)
            message = f'image "{ref}" comes from {host}, outside the allowed registries'
            fix, hint = None, ""
            if mirror:
                new = mirror_layout.mirrored(ref, mirror, self.opts["mirror-layout"])
                if new is None:
                    hint = f"the scoped layout has no name for an image from {host} (a port is not a path component)"
                else:
                    from pipelint.oci.lockfile import on_mirror

                    known, why = on_mirror(self.reader, new)
                    if known:
                        fix = self.fix_from(doc, f"pull {new}", [SetScalar(img.node, str(new), paths=(img.raw,))])
                    else:  # said in the message: why there is no fix is what the person must act on
                        message += f"; no fix: {why}"
            else:
                hint = 'set the option "mirror" for a fix that moves it onto your registry'
            yield self.finding(doc, img, message, fix=fix, hint=hint)


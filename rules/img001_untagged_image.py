from pipelint.ruleapi.rule import Rule


class UntaggedImage(Rule):
    """An image reference with neither a tag nor a digest.

    ## What it does
    Reports a step image (`step.spec.image`, `serviceDependencies[].spec.image`) written without a tag or a
    digest, as in `alpine` or `registry.example.com:5000/team/app` (a registry port is not a tag).
    Expressions (`<+...>`), empty images (the step type's default image), mapping-valued `image` keys
    (a scanner's target), matrix axes named `image` and plugin `settings` are not image references.

    ## Why is this bad?
    No tag means `latest`: whatever was pushed last runs, and two runs of the same pipeline can run different
    code.

    ## Example
    ```yaml
    spec:
      image: alpine
    ```
    Use instead: `alpine:3.20`, or pinned: `alpine:3.20@sha256:...`.

    ## Fix
    Tag it. Or `pipelint pin --allow-latest` (not `fix`: it needs a registry or the lockfile) resolves today's
    `latest` and rewrites the value as `name:latest@sha256:...`, recording it in `pipelint.lock`.
    """

    code = "IMG001"
    name = "untagged-image"
    severity = "error"

    def check(self, doc):
        for img in doc.sites.images:
            ref = img.image
            if ref is not None and ref.tag is None and ref.digest is None:
                yield self.finding(doc, img, f'image "{ref}" has no tag or digest (it means "latest"); '
                                   "`pipelint pin --allow-latest` pins today's latest")

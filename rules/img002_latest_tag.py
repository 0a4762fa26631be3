from pipelint.ruleapi.rule import Rule


class LatestTag(Rule):
    """An image reference tagged `latest` without a digest.

    ## What it does
    Reports a step image whose tag is `latest` and that has no `@sha256:` digest. Where images are looked
    for is described under `untagged-image` (IMG001).

    ## Why is this bad?
    `latest` moves with every push: builds are not reproducible and a broken upstream push breaks them.

    ## Example
    ```yaml
    spec:
      image: maven:latest
    ```

    ## Fix
    Choose a version tag; or `pipelint pin` (not `fix`: it needs a registry or the lockfile) pins it as
    `name:latest@sha256:...`, recording the digest in `pipelint.lock`.
    """

    code = "IMG002"
    name = "latest-tag"
    severity = "error"

    def check(self, doc):
        for img in doc.sites.images:
            ref = img.image
            if ref is not None and ref.tag == "latest" and ref.digest is None:
                yield self.finding(doc, img, f'image "{ref}" uses the "latest" tag; `pipelint pin` pins it to a digest')

from pipelint.ruleapi.rule import Rule


class UnpinnedImage(Rule):
    """An image reference that is not pinned to a digest. Off by default.

    ## What it does
    Reports a step image without an `@sha256:` digest, tagged or not. Where images are looked for is
    described under `untagged-image` (IMG001). Enable it with `extend-select = ["IMG003"]`. Silent where
    IMG001 (no tag) or IMG002 (`latest`) reports the same image: one problem is reported once.

    ## Why is this bad?
    A tag can be moved to another image at any time; only a digest says which image runs.

    ## Example
    ```yaml
    spec:
      image: golang:1.22
    ```
    Use instead: `golang:1.22@sha256:<digest>` (the tag stays for readers; the digest wins).

    ## Fix
    `pipelint pin` (not `fix`: it needs a registry or the lockfile) resolves the tag to a digest and rewrites
    the value as `name:tag@sha256:...`, recording it in `pipelint.lock`.
    """

    superseded_by = ("IMG001", "IMG002")  # an untagged or `latest` image is reported once, by those
    code = "IMG003"
    name = "unpinned-image"
    severity = "warning"
    enabled_by_default = False

    def check(self, doc):
        for img in doc.sites.images:
            ref = img.image
            if ref is not None and ref.digest is None:
                yield self.finding(doc, img, f'image "{ref}" is not pinned to a digest; `pipelint pin` pins it')

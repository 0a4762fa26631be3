from pipelint.ruleapi.rule import Rule


class InvalidImageReference(Rule):
    """An image value that is not a valid image reference.

    ## What it does
    Reports a step image (`step.spec.image`, `serviceDependencies[].spec.image`) that the reference grammar of
    the OCI distribution spec (docker's `reference` package) does not accept: upper-case letters in the
    repository path (`Alpine`), a tag that is not ASCII (full-width letters) or is longer than 128 characters, a
    host that is neither a DNS name nor an IPv6 address in brackets (`[1.2.3.4]/x`), a name over 255
    characters, white space, an empty path component, a placeholder (`<YOUR_IMAGE>`). Expressions (`<+...>`)
    and template holes are values known only at run time and are not judged.

    ## Why is this bad?
    No registry serves such a name: the step fails when Harness pulls it. pipelint also leaves such a value out
    of `images`, `mirror`, `pin` and the sync files it writes, so an unchecked typo would otherwise go unseen.

    ## Example
    ```yaml
    spec:
      image: Golang:1.22
    ```
    Use instead: `golang:1.22`.

    ## Fix
    None: what was meant is for a person to say.
    """

    code = "IMG006"
    name = "invalid-image-reference"
    severity = "error"

    def check(self, doc):
        for img in doc.sites.images:
            if img.image is None:
                yield self.finding(doc, img, f'image "{_shown(img.value)}" is not a valid image reference',
                                   hint="the distribution grammar: a lowercase path, an ASCII tag of at most 128 "
                                        "characters, a host that is a DNS name or [IPv6], with an optional port")


def _shown(value: str) -> str:
    value = value.strip()
    return value if len(value) <= 80 else value[:77] + "…"

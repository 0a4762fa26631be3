import os

from pipelint.ruleapi.rule import Option, Rule


class DigestMismatch(Rule):
    """A pinned image whose digest is not the one `pipelint.lock` records. Off by default.

    ## What it does
    For every step image pinned as `name:tag@sha256:...`, looks up `registry/repository:tag` in the lockfile
    written by `pipelint pin` and reports the image when the lockfile records another digest, or does not
    record the image at all. Images pinned without a tag (`name@sha256:...`) are not checked. Enable it
    with `extend-select = ["IMG004"]`; the option `lockfile` names the file (default `pipelint.lock`).

    ## Why is this bad?
    The lockfile is what reviewers read: a digest edited by hand, or copied from elsewhere, runs an image
    nobody reviewed.

    ## Example
    ```yaml
    image: alpine:3.20@sha256:0000000000000000000000000000000000000000000000000000000000000000
    ```

    ## Fix
    None here; `pipelint pin --update` re-resolves the tag and rewrites both.
    """

    code = "IMG004"
    name = "digest-mismatch"
    severity = "error"
    enabled_by_default = False
    options = (Option("lockfile", "pipelint.lock", "the lockfile written by `pipelint pin` (relative to the configuration file)",
                      str, path=True),)

    def __init__(self, severity=None, **options):
        from pipelint.oci.lockfile import Reader

        super().__init__(severity, **options)
        self._reader = Reader(str(self.opts["lockfile"]))

    def cache_key(self) -> str:  # the findings depend on the lockfile's content
        return self._reader.cache_key()

    def check(self, doc):
        from pipelint.oci.lockfile import key

        for img in doc.sites.images:
            ref = img.image
            if ref is None or not ref.pinned or ref.tag is None:
                continue
            lock = self._reader.get()
            if lock is None:
                yield self.finding(doc, img, f'image "{ref}" cannot be checked: {self._reader.error}')
                continue
            recorded = lock.get(ref)
            name = os.path.basename(lock.path)
            if recorded == ref.digest:
                continue
            if recorded is None:
                message = f'image "{ref}" is pinned, but {name} does not record {key(ref)}'
            else:
                message = f'image "{ref}" is pinned to another digest than {name} records for {key(ref)} ({recorded})'
            yield self.finding(doc, img, message)

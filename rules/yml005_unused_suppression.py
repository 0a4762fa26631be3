from pipelint.findings.finding import Finding, Span
from pipelint.ruleapi.rule import Rule


class UnusedSuppression(Rule):
    """A `# pipelint: ignore` comment that suppressed nothing in this run. Off by default.

    ## What it does
    Reports each `# pipelint: ignore[...]` or `# pipelint: ignore-file[...]` comment that no finding of this run
    needed, like ruff's RUF100 (unused `noqa`). Turn it on with `extend-select = ["YML005"]`; it is off by
    default because a comment for a rule that is not selected in this run is unused by definition.

    ## Why is this bad?
    A comment left behind after the problem was fixed hides the next problem of the same kind on that line.

    ## Example
    ```yaml
    image: alpine:3.20@sha256:...  # pipelint: ignore[IMG003]   (already pinned: nothing to suppress)
    ```

    ## Fix
    None: remove the comment by hand.
    """

    code = "YML005"
    name = "unused-suppression"
    severity = "warning"
    enabled_by_default = False

    def check_unused_suppressions(self, source, suppressions, enabled):
        for d in suppressions.directives:
            if d.used:
                continue
            names = ", ".join(sorted(d.codes)) if "*" not in d.codes else "every rule"
            off = sorted(c for c in d.codes if c != "*" and c not in enabled)
            why = f" ({', '.join(off)} not selected in this run)" if off else ""
            span = Span(d.start, d.end, d.line, d.column, d.line, d.column + (d.end - d.start))
            yield Finding(self.code, self.name, self.effective_severity,
                          f"suppression of {names} is unused: nothing it names was found here{why}",
                          source.path, span, value=names)

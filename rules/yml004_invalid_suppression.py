from pipelint.findings.finding import Finding, Span
from pipelint.ruleapi.rule import Rule


class InvalidSuppression(Rule):
    """A `# pipelint: ignore[...]` comment that names no rule.

    ## What it does
    Reports each code or name in a `# pipelint: ignore[...]` or `# pipelint: ignore-file[...]` comment that is
    neither a rule code (`IMG001`) nor a rule name (`untagged-image`), like ruff's check of `# noqa` codes.

    ## Why is this bad?
    A misspelt code (`IMG01`) suppresses nothing: the finding the comment was written for stays, and the next
    reader believes it was silenced on purpose.

    ## Example
    ```yaml
    image: alpine  # pipelint: ignore[IMG01]
    ```
    Use instead: `# pipelint: ignore[IMG001]` (or `ignore[untagged-image]`).

    ## Fix
    None: which rule was meant is for a person to say.
    """

    code = "YML004"
    name = "invalid-suppression"
    severity = "warning"

    def check_suppressions(self, source, suppressions, known):
        from pipelint.yamldoc.suppression import ALL

        text = source.text or ""
        for d in suppressions.directives:
            unknown = sorted(c for c in d.codes if c != ALL and c not in known)
            if not unknown:
                continue
            line, column = d.line, d.column
            span = Span(d.start, d.end, line, column, line, column + len(text[d.start:d.end]))
            names = ", ".join(unknown)
            message = (f"`{text[d.start:d.end]}` names no rule: {names} (a code like IMG001 or a name like "
                       "untagged-image; see `pipelint rules`)")
            yield Finding(self.code, self.name, self.effective_severity, message, source.path, span, value=names)

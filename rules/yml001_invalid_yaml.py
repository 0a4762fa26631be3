from pipelint.findings.finding import Finding, Span
from pipelint.ruleapi.rule import Rule


class InvalidYaml(Rule):
    """A Harness file that is not valid YAML, or not UTF-8 text.

    ## What it does
    Reports a file that looks like a Harness file -- it has a Harness root key line (`pipeline:`,
    `template:`, `inputSet:`, `overlayInputSet:`, `trigger:`, `connector:`) or lies under a `.harness/`
    folder -- but does not parse as YAML, or is not UTF-8 text; and a Terraform file that names a Harness
    resource (`harness_platform_...`) but does not parse as HCL (a heredoc ended early by its own delimiter
    line, say), so its Harness YAML is never silently left unchecked. The finding points at the position where
    parsing stopped. Other YAML that does not parse is skipped silently: it is not ours to judge.

    ## Why is this bad?
    Harness cannot import the file, and no other rule can check it. Terraform `templatefile` syntax
    (`${VAR}`, a `%{ if }` line) is read as holes, not as YAML errors: a value holding one is left alone.

    ## Example
    ```yaml
    pipeline:
      name: build
        identifier: build   # a mapping cannot start here
    ```

    ## Fix
    None: fix the YAML by hand.
    """

    code = "YML001"
    name = "invalid-yaml"
    severity = "error"

    def check_unparsed(self, source, error):
        message = error.message if source.text is None or error.language != "YAML" else f"invalid YAML: {error.message}"
        value = message
        if source.region is not None and source.region.unparsed:  # YAML held in a string of other YAML
            message = f"{source.region.unparsed}: {message}"
        span = Span.at_line_col(source.text or "", error.line, error.column)
        yield Finding(self.code, self.name, self.effective_severity, message, source.path, span, value=value)

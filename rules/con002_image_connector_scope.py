from pipelint.harness import sites as harness
from pipelint.ruleapi.rule import Rule


class ImageConnectorScope(Rule):
    """An Override Image Connector that is not an account connector.

    ## What it does
    Reports a `harnessImageConnectorRef` whose value is not `account.`-scoped (`org.<id>` or a project
    connector `<id>`), wherever it is set: stages, step groups, Container steps, input sets and a templated
    stage's `templateInputs`. Expressions and runtime inputs (`<+input>`) are not checked.

    ## Why is this bad?
    The Harness docs require the Docker connector used to override the Harness image connector to be created
    at the account scope; an org or project connector is not used for these pulls.

    ## Example
    ```yaml
    harnessImageConnectorRef: org.dockerhub
    ```

    ## Fix
    None: create the connector at the account scope and reference it as `account.<id>`.
    """

    code = "CON002"
    name = "image-connector-scope"
    severity = "error"

    def check(self, doc):
        for ref in doc.sites.refs:
            if harness.parse_ref(ref.value)[0] == "account":
                continue
            yield self.finding(
                doc, ref,
                f'harnessImageConnectorRef "{ref.value}" is not an account connector: '
                "the override image connector must be created at account scope (account.<id>)",
            )

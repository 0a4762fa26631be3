from pipelint.harness import vocabulary
from pipelint.harness.sites import At
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.document import ScalarNode


class DuplicateKey(Rule):
    """A mapping repeats a key.

    ## What it does
    Reports the second (and any later) occurrence of a key in the same mapping.

    ## Why is this bad?
    YAML forbids duplicate keys; parsers that accept them keep only one value, silently. In a Harness
    step the first `command:` of two is thrown away, and what runs is not what a reader sees.

    ## Example
    ```yaml
    spec:
      command: make build
      command: make test   # only this one runs
    ```

    ## Fix
    None: decide which value is meant and delete the other.
    """

    code = "YML002"
    name = "duplicate-key"
    severity = "error"

    def check(self, doc):
        for node in vocabulary.scan(doc.doc).repeats:  # the mappings one walk over every key found suspect
            first: dict[str, ScalarNode] = {}
            for key, _ in node.value:
                if not isinstance(key, ScalarNode) or key.value == "<<":
                    continue
                if key.value in first:
                    line = first[key.value].start_mark.line + 1
                    yield self.finding(doc, At(key, (), key.value), f'duplicate key "{key.value}" (first at line {line})')
                else:
                    first[key.value] = key

import re

from pipelint.harness.sites import At
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.document import ScalarNode, get_pair, is_map, scalar

# a `${...}` alone on its line in a template: a block the module inserts (pipelint.embed.templated masks it so)
_INSERTED_BLOCK = re.compile(r"(?m)^[ \t]*#\$[ \t]*\r?$")


class MissingInfrastructure(Rule):
    """A CI stage with neither `infrastructure` nor `runtime`.

    ## What it does
    Off by default (`extend-select = ["CON005"]`). Reports a CI stage (in a pipeline, a stage template or a stage fragment) whose `spec` has neither
    `infrastructure` (Kubernetes, VM pools, `useFromStage`) nor `runtime` (Harness Cloud, Docker). A spec that is
    a runtime input (`<+input>`), or a template's spec where the module inserts a block (`${...}` alone on a
    line), is not judged.

    ## Why is this bad?
    Harness cannot run the stage: it does not know where. Usually a key is misspelt (`infrastrucure:`, see YML006),
    and then every rule that checks the infrastructure -- CON001's Override Image Connector first -- cannot see
    it: without this finding the stage would look compliant.

    ## Example
    ```yaml
    - stage:
        identifier: build
        type: CI
        spec:
          infrastrucure:            # a typo: Harness finds no infrastructure
            type: KubernetesDirect
    ```

    ## Fix
    None: name where the stage runs (YML006 renames a misspelt key).
    """

    code = "CON005"
    name = "missing-infrastructure"
    severity = "error"
    # off by default for now: minimal CI stages without an infrastructure are common in examples and tests; the
    # typo that silences CON001 (`infrastrucure:`) is YML006's, on by default
    enabled_by_default = False

    def check(self, doc):
        text = doc.text
        for stage in doc.sites.stages:
            if scalar(get_pair_value(stage.node, "type")) != "CI":
                continue
            pair = get_pair(stage.node, "spec")
            if pair is None or not is_map(pair[1]):
                continue
            key, spec = pair
            if get_pair(spec, "infrastructure") is not None or get_pair(spec, "runtime") is not None:
                continue
            if _INSERTED_BLOCK.search(text, spec.start_mark.index, spec.end_mark.index):
                continue  # a template inserts a block here (its infrastructure, most often)
            name = scalar(get_pair_value(stage.node, "identifier")) or scalar(get_pair_value(stage.node, "name"))
            label = f'CI stage "{name}"' if name else "a CI stage"
            yield self.finding(doc, At(key, (*stage.yaml_path, "spec"), name or ""),
                               f"{label} has neither infrastructure nor runtime: Harness cannot run it, and CON001 "
                               "cannot check where it pulls Harness images from")


def get_pair_value(node, key: str):
    pair = get_pair(node, key)
    return pair[1] if pair is not None and isinstance(pair[1], ScalarNode) else None

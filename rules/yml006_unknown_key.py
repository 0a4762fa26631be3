from pipelint.harness import vocabulary
from pipelint.harness.sites import At
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.document import get_pair
from pipelint.yamldoc.yamltext import RenameKey


class UnknownKey(Rule):
    """A key Harness's schema does not declare where it stands, a near miss of one it does: a typo.

    ## What it does
    Reports a key of a pipeline, template, input set or trigger that Harness's published schema
    (harness/harness-schema, compiled into pipelint) does not declare at that place -- the stage spec, the
    `KubernetesDirect` infrastructure spec, a `Run` step spec -- when it differs from a declared key only by case
    or by one or two letters: `harnessImageConectorRef`, `infrastrucure`, `ImagePullPolicy`. Keys the schema does
    not declare but Harness reads (`retry`, `isAutoRejectEnabled`, `stageType`, `contextType`, `icon`) are allowed;
    keys inside free-form maps (variables, `envVariables`, plugin `settings`, matrix axes) are never judged, nor
    keys far from every declared one (the schema is incomplete: those are more often right than wrong).

    ## Why is this bad?
    Harness ignores a key it does not know, so a typo silently drops the setting, and every rule that looks
    for the real key is silenced too: with `infrastrucure:` a CI stage looks like one pipelint cannot check, and
    it fails in Harness.

    ## Example
    ```yaml
    infrastructure:
      type: KubernetesDirect
      spec:
        connectorRef: account.k8s
        harnessImageConectorRef: account.mirror   # did you mean harnessImageConnectorRef?
    ```

    ## Fix
    Unsafe (`--unsafe-fixes`), when there is exactly one candidate and the mapping does not hold it already: the
    key is renamed, its value kept (verified: the data changes by that rename only). A key inside a mapping
    shared through an anchor is renamed at the anchor, so every place that reads the mapping gets the right key
    (the message names them); a key that is itself an `*alias` is not renamed.
    """

    code = "YML006"
    name = "unknown-key"
    severity = "warning"
    fix_safety = "unsafe"

    def check(self, doc):
        kind = doc.doc.kind
        if kind not in ("pipeline", "template", "inputSet", "trigger"):
            return
        for found in vocabulary.unknown_keys(doc.doc):
            key, wanted = found.key, found.candidates
            shown = " or ".join(f'"{c}"' for c in wanted)
            message = f'unknown key "{key.value}" in the {found.place}: did you mean {shown}?'
            fix = None
            if len(wanted) == 1 and get_pair(found.mapping, wanted[0]) is None:
                fix = self.fix_from(doc, f"rename {key.value} to {wanted[0]}",
                                    [RenameKey(key, wanted[0], paths=((*found.path, key.value),),
                                               mapping=found.mapping)], safe=False)
            yield self.finding(doc, At(key, tuple(str(p) for p in found.path) + (key.value,), key.value), message,
                               fix=fix)

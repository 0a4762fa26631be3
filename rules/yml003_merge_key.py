from pipelint.harness.sites import At, labeled_mappings, merge_supplies
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.resolved import is_merge_key

# Keys whose value pipelint's rules read: when only a merge supplies one, the readings disagree on a finding.
_WATCHED = ("harnessImageConnectorRef", "type", "spec", "dockerRegistryUrl", "providerType", "auth",
            "executeOnDelegate", "image", "connectorRef", "infrastructure", "runtime", "stepGroupInfra")


class MergeKey(Rule):
    """A YAML merge key (`<<:`) in a Harness file: Harness does not merge it.

    ## What it does
    Reports each `<<` key in a Harness document that pipelint walks (pipelines, templates, input sets,
    connectors, headless bodies), with the keys the merge would supply, and says so first when one of them
    is a key pipelint's rules read (`harnessImageConnectorRef`, an infrastructure `type` or `spec`, a
    connector's `dockerRegistryUrl`, `providerType`, `auth`, `executeOnDelegate`, a step's `image`).

    ## Why is this bad?
    Harness reads YAML with Jackson (`ObjectMapper(new YAMLFactory()).readTree`, in harness-core's
    `YamlUtils`), which keeps `<<` as an ordinary key named "<<" (jackson-dataformat-yaml#20): what the merge
    supplies is not part of the pipeline Harness runs. YAML 1.1 tools (PyYAML, editors, previews, yq) merge
    it, so the file reads one way to a person and another way to Harness. pipelint's rules check what
    Harness reads, and offer no fix that would be right under one reading only.

    ## Example
    ```yaml
    infrastructure:
      type: KubernetesDirect
      spec:
        <<: *k8s_defaults            # Harness ignores this: no connectorRef, no harnessImageConnectorRef
        namespace: builds
    ```
    Use instead: write the keys out, or share the stage through a Harness template.

    ## Fix
    None: which reading was meant is for a person to say.
    """

    code = "YML003"
    name = "merge-key"
    severity = "warning"

    def check(self, doc):
        if doc.text.find("<<", *doc.doc.span) == -1:
            return  # the common case, without walking the document
        for mapping, path in labeled_mappings(doc.doc):
            for key, value in mapping.value:
                if not is_merge_key(key):
                    continue
                supplied = merge_supplies(mapping, value)
                if supplied:
                    watched = [k for k in supplied if k in _WATCHED]  # what the rules read comes first
                    shown = watched + [k for k in supplied if k not in _WATCHED][: max(0, 4 - len(watched))]
                    more = len(supplied) - len(shown)
                    keys = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
                    what = f'YAML 1.1 tools merge {keys} in here, but Harness reads "<<" as an ordinary key and does not see them'
                else:
                    what = 'Harness reads "<<" as an ordinary key (YAML 1.1 tools merge it)'
                yield self.finding(doc, At(key, path + ("<<",), ",".join(supplied)), f"merge key: {what}")

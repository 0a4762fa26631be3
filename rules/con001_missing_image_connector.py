from pipelint.harness.sites import DEFAULT_IMAGE_CONNECTOR, PLACES
from pipelint.harness.sites import IMAGE_CONNECTOR_KEY as KEY
from pipelint.ruleapi.rule import Option, Rule
from pipelint.yamldoc.document import ScalarNode, is_map
from pipelint.yamldoc.yamltext import InsertPair, SetScalar


class MissingImageConnector(Rule):
    """A build stage or containerized step group without an Override Image Connector.

    ## What it does
    Reports each place where Harness pulls its own images (ci-addon, lite-engine, drone-git, plugins) and
    `harnessImageConnectorRef` is missing or empty: a CI, SecurityTests, IACM or IDP stage on
    `KubernetesDirect` infrastructure (`infrastructure.spec`), on a VM pool (`infrastructure.spec.spec`) or on
    a Docker runtime (`runtime.spec`); a step group with `stepGroupInfra` of type `KubernetesDirect` or
    `ECSDirect` (`stepGroupInfra.spec`); a Container step with its own `KubernetesDirect` or `ECSDirect`
    infrastructure. In pipelines, templates and headless bodies under `.harness/`. Points at the
    `infrastructure` / `runtime` / `stepGroupInfra` key.

    Never fires for Harness Cloud (`runtime.type: Cloud`), `infrastructure.useFromStage`, the legacy
    `KubernetesHosted`, a Deployment stage's `infrastructure` (a deployment target, not build
    infrastructure), input sets, or a stage that uses a template (set the override in the template, or in
    its `templateInputs`).

    ## Why is this bad?
    Without an override, Harness pulls these images through the account-level connector
    `account.harnessImage`. Where that connector still points at the retired `app.harness.io/registry`, or
    pulls Docker Hub anonymously, every such build breaks at once; an explicit, reviewed connector per
    stage makes the dependency visible and movable.

    ## Example
    ```yaml
    infrastructure:
      type: KubernetesDirect
      spec:
        connectorRef: account.k8s
        namespace: builds
    ```
    Use instead:
    ```yaml
    infrastructure:
      type: KubernetesDirect
      spec:
        connectorRef: account.k8s
        namespace: builds
        harnessImageConnectorRef: account.harnessImageMirror
    ```

    ## Fix
    Safe, when the option `image-connector` names the connector to use (`account.<id>`): inserts
    `harnessImageConnectorRef: <image-connector>` into the right mapping, indented like its siblings.
    Without the option there is no fix; the message says how to set it.
    Shared infrastructure (`spec: &k8s {...}` used as `spec: *k8s` elsewhere): when every use is a build
    stage or step group this rule reports, the key is inserted once at the anchor (one fix per site); when the
    anchored mapping is also read where the key does not belong (a Deployment stage's infrastructure, a
    variable), the safe fix turns the site's `*k8s` into a flow-mapping copy with the key added, leaving the
    anchor and its other uses as they were; where the site holds the anchor itself, the fix is unsafe and
    names the other places it would change. A `harnessImageConnectorRef` that only a `<<` merge supplies is
    not seen by Harness (see YML003): the rule fires, and offers no fix, which would be right under one
    reading only.
    """

    code = "CON001"
    name = "missing-image-connector"
    severity = "warning"
    fix_safety = "safe"
    options = (
        Option("image-connector", None, 'the connector the fix inserts, e.g. "account.harnessImageMirror"', str),
    )

    def check(self, doc):
        connector = self.opts["image-connector"]
        for site in doc.sites.infra:
            if site.ref is not None:
                continue
            what = PLACES[site.place].what.format(owner=f'"{site.owner}"')
            message = f"{what} has no harnessImageConnectorRef: Harness images are pulled through {DEFAULT_IMAGE_CONNECTOR}"
            fix = None
            existing = [v for k, v in site.holder.value if k.value == KEY] if is_map(site.holder) else []
            typo = _near_miss(site.holder) if not existing else None
            if typo is not None:  # `harnessImageConectorRef`: a key written beside it would make two
                message = (f'{what} has no harnessImageConnectorRef, but "{typo}": did you mean '
                           f"harnessImageConnectorRef? Harness ignores it and pulls through {DEFAULT_IMAGE_CONNECTOR} "
                           "(no automatic fix here: YML006 renames the key)")
            elif existing and not isinstance(existing[-1], ScalarNode):
                kind = "mapping" if is_map(existing[-1]) else "list"
                message = (f"{what} has a harnessImageConnectorRef that is a {kind}, not a connector reference: "
                           f"Harness images are pulled through {DEFAULT_IMAGE_CONNECTOR} (no automatic fix: write the "
                           "connector's reference there)")
            elif site.merged is not None:  # right under one reading only: no fix
                message += (" (a `<<` merge supplies one, which Harness does not read, see YML003; no automatic "
                            "fix: a key written here would override the merged one for YAML 1.1 readers)")
            elif connector and is_map(site.holder) and typo is None:
                intents = []
                if existing:
                    intents.append(SetScalar(existing[-1], connector, paths=(site.holder_raw + (KEY,),)))
                else:
                    intents.append(InsertPair(site.holder, KEY, connector, paths=(site.holder_raw,)))
                fix = self.fix_from(doc, f"set harnessImageConnectorRef: {connector}", intents)
            hint = "set [tool.pipelint.rules.CON001] image-connector to fix" if not (
                connector or typo or site.merged is not None
                or (existing and not isinstance(existing[-1], ScalarNode))) else ""
            yield self.finding(doc, site, message, fix=fix, hint=hint)


def _near_miss(holder) -> str | None:
    """A key of the holder that is a near miss of harnessImageConnectorRef (a typo), or None."""
    if not is_map(holder):
        return None
    from pipelint.harness.vocabulary import near

    for k, _ in holder.value:
        if isinstance(k, ScalarNode) and k.value != KEY and near(k.value, (KEY,)):
            return k.value
    return None

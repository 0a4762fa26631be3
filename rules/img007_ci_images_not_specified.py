from pipelint.harness.sites import At
from pipelint.ruleapi.rule import Rule
from pipelint.yamldoc.document import ScalarNode, get_pair, is_map
from pipelint.yamldoc.yamltext import SetScalar


class CiImagesNotSpecified(Rule):
    """The account's CI execution configuration specifies none of its images, while a mirror is configured.

    ## What it does
    On the CI execution configuration `pipelint account pull` writes (`ciExecutionConfig:`), reports an
    infrastructure (`K8`, `VM`) none of whose image fields is overridden, when IMG005's `mirror` is set: every
    build then runs whatever images Harness's current release names.

    ## Why is this bad?
    Harness's notice asks teams that pull from a private registry to specify the images their builds use: a
    Harness release changes the default tags, and builds then pull images your mirror does not have. Pinning the
    account's CI images to the ones you mirrored makes an upgrade a change you make.

    ## Example
    ```yaml
    ciExecutionConfig:
      infra: K8
      images:
        addonTag:
          image: harness/ci-addon:1.16.4
          overridden: false
    ```

    ## Fix
    Unsafe (`--unsafe-fixes`; it changes what every build of the account runs once pushed with
    `pipelint account push --apply`): marks every field overridden, so today's effective images become the
    account's own.
    """

    code = "IMG007"
    name = "ci-images-not-specified"
    severity = "warning"
    fix_safety = "unsafe"
    peers = ("IMG005",)

    def check(self, doc):
        if doc.doc.kind != "ciExecutionConfig" or not self.peer_opts.get("IMG005", {}).get("mirror"):
            return
        body = doc.doc.body
        pair = get_pair(body, "images")
        if pair is None or not is_map(pair[1]):
            return
        key, images = pair
        flags = []
        for name, entry in images.value:
            flag = get_pair(entry, "overridden") if is_map(entry) else None
            if flag is None or not isinstance(flag[1], ScalarNode):
                return  # not the shape pull writes: nothing to judge
            if flag[1].value == "true":
                return  # the account specifies at least one image
            flags.append((name.value, flag[1]))
        if not flags:
            return
        infra = get_pair(body, "infra")
        where = infra[1].value if infra is not None and isinstance(infra[1], ScalarNode) else "?"
        intents = [SetScalar(node, "true", verbatim=True,
                             paths=((*doc.doc.path_prefix, "ciExecutionConfig", "images", name, "overridden"),))
                   for name, node in flags]
        yield self.finding(doc, At(key, ("ciExecutionConfig", "images"), where),
                           f"the account's {where} CI execution configuration specifies none of its {len(flags)} "
                           "images: a Harness release can switch builds to images your mirror does not hold",
                           fix=self.fix_from(doc, "specify today's images as the account's own", intents, safe=False))

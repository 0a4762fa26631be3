"""The rule registry: an explicit list of modules, in code order. A new rule is a module here (named
`<code>_<name>`, defining one Rule subclass) and one line below."""

from importlib import import_module

from pipelint.rule import Rule

MODULES = (
    "yml001_invalid_yaml",
    "yml002_duplicate_key",
    "yml003_merge_key",
    "yml004_invalid_suppression",
    "yml005_unused_suppression",
    "reg001_retired_harness_registry",
    "reg002_registry_provider_mismatch",
    "reg003_anonymous_docker_hub",
    "reg004_image_connector_through_delegate",
    "con001_missing_image_connector",
    "con002_image_connector_scope",
    "con003_image_connector_wrong_type",
    "img001_untagged_image",
    "img002_latest_tag",
    "img003_unpinned_image",
    "img004_digest_mismatch",
    "img005_image_outside_allowed_registries",
)


def _rule(module_name: str) -> type[Rule]:
    module = import_module(f"{__name__}.{module_name}")
    found = [v for v in vars(module).values()
             if isinstance(v, type) and issubclass(v, Rule) and v.__module__ == module.__name__]
    if len(found) != 1:
        raise ImportError(f"{module.__name__} defines {len(found)} rules; a rule module defines one")
    return found[0]


RULES: tuple[type[Rule], ...] = tuple(_rule(m) for m in MODULES)
BY_CODE = {r.code: r for r in RULES}
BY_NAME = {r.name: r for r in RULES}

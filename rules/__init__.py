"""The rule registry: an explicit list of modules, in code order. A new rule is a module here (named
`<code>_<name>`, defining one Rule subclass) and one line below."""

from importlib import import_module

from pipelint.ruleapi.rule import Rule

MODULES = (
    "yml001_invalid_yaml",
    "yml002_duplicate_key",
    "yml003_merge_key",
    "yml004_invalid_suppression",
    "yml005_unused_suppression",
    "yml006_unknown_key",
    "reg001_retired_harness_registry",
    "reg002_registry_provider_mismatch",
    "reg003_anonymous_docker_hub",
    "reg004_image_connector_through_delegate",
    "con001_missing_image_connector",
    "con002_image_connector_scope",
    "con003_image_connector_wrong_type",
    "con004_image_connector_outside_allowed_registries",
    "con005_missing_infrastructure",
    "img001_untagged_image",
    "img002_latest_tag",
    "img003_unpinned_image",
    "img004_digest_mismatch",
    "img005_image_outside_allowed_registries",
    "img006_invalid_image_reference",
    "img007_ci_images_not_specified",
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


# Custom rules (pipelint.custom): declared in the configuration files a run reads, registered here as they are
# loaded, so that selection, suppressions and reports know them like the built-in ones. Cleared at the start of
# every run (make_engine); one code has one declaration across the run's configuration files.
CUSTOM: dict[str, type[Rule]] = {}


def all_rules() -> tuple[type[Rule], ...]:
    return RULES + tuple(CUSTOM.values())


def by_code() -> dict[str, type[Rule]]:
    return {**BY_CODE, **CUSTOM} if CUSTOM else BY_CODE


def by_name() -> dict[str, type[Rule]]:
    return {**BY_NAME, **{r.name: r for r in CUSTOM.values()}} if CUSTOM else BY_NAME


def add_custom(cls: type[Rule]) -> str | None:
    """Register a custom rule; why not, when another configuration declares its code or name otherwise."""
    known = CUSTOM.get(cls.code)
    if known is not None and getattr(known, "definition", None) != getattr(cls, "definition", None):
        return f"{cls.code} is declared differently in {getattr(known, 'source', '?')}"
    other = next((r for r in CUSTOM.values() if r.name == cls.name and r.code != cls.code), None)
    if other is not None:
        return f"the name {cls.name} is {other.code}'s, declared in {getattr(other, 'source', '?')}"
    CUSTOM[cls.code] = cls
    return None


def clear_custom() -> None:
    CUSTOM.clear()

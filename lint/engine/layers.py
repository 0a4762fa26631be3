"""A configuration in force and the rules it enables, sorted by the hooks they use: one per configuration file
of a run (ruff's discovery: the closest configuration to each file applies)."""

from __future__ import annotations

from pipelint.engine.config import Settings
from pipelint.ruleapi.rule import Rule


class Layer:
    """One configuration in force (a configuration file's settings and the rules they enable), and the rules
    sorted by the hooks they use. A run over a tree with several configuration files has one layer each."""

    def __init__(self, settings: Settings, rules: list[Rule]):
        self.settings = settings
        self.rules = rules
        self.doc_rules = [r for r in rules if not r.cross_file]
        self.run_rules = [r for r in rules if r.cross_file]
        self.unparsed_rules = [r for r in rules if type(r).check_unparsed is not Rule.check_unparsed]
        self.comment_rules = [r for r in rules if type(r).check_suppressions is not Rule.check_suppressions]
        self.unused_rules = [r for r in rules
                             if type(r).check_unused_suppressions is not Rule.check_unused_suppressions]
        self.superseded = {r.code: set(r.superseded_by) for r in rules if r.superseded_by}
        self.enabled = {r.code for r in rules} | {r.name for r in rules}
        self._key: str | None = None

    @property
    def key(self) -> str:
        """What the findings depend on besides the file (rules, severities, options, per-file ignores): part of
        every cache key of a file this layer governs."""
        if self._key is None:
            from pipelint.engine.cache import config_key

            self._key = config_key(self.rules, self.settings)
        return self._key

"""The engine: paths -> files -> units -> findings -> the run's result; fixing, pinning and the editor build on it.

    paths --discover--> files --read--> Source --expand--> units --check--> findings --cross-file--> result

`Engine` is its parts, one module each: discovery (engine.discovery), the check of one file (engine.unit), the
cross-file pass (engine.crossfile) and the run with its cache and pool (engine.run); the configuration that
governs each file is a `Layer` (engine.layers). Commands reach expansion and documents through here.
"""

from __future__ import annotations

import os

from pipelint.embed.expand import expand
from pipelint.engine.config import Settings
from pipelint.engine.crossfile import CrossFile
from pipelint.engine.discovery import STDIN, YAML_SUFFIXES, Discovery
from pipelint.engine.layers import Layer
from pipelint.engine.results import FileReport, RunResult
from pipelint.engine.run import Runner
from pipelint.engine.unit import UnitChecker, documents, internal_error
from pipelint.ruleapi.rule import Rule
from pipelint.text import files as filelib
from pipelint.text import source as sourcelib

__all__ = ["STDIN", "YAML_SUFFIXES", "Engine", "FileReport", "Layer", "RunResult", "documents", "expand",
           "internal_error"]


class Engine(Discovery, UnitChecker, CrossFile, Runner):
    def __init__(self, settings: Settings, rules: list[Rule], force_exclude: bool = False, layers=None):
        """`settings` and `rules`: the configuration found from the current directory (or named by --config);
        `layers(folder) -> Layer`, when given, is the configuration closest to each folder (ruff's discovery)."""
        self.settings = settings
        self.rules = rules
        self.root = Layer(settings, rules)
        self._layers = layers
        self._layer_of: dict[str, Layer] = {}  # folder -> its layer
        self.force_exclude = force_exclude
        self._known: tuple[int, set[str]] | None = None
        self._ignored: dict[str, set[str]] = {}  # path -> codes its per-file-ignores drop
        self.named: dict[str, str] = {}  # absolute path -> the Terraform resource that file()s it (discover)
        self.skipped: list[str] = []  # symlinks a directory walk did not follow (one line each)
        self.excluded: list[str] = []  # files and folders (ending in a separator) `exclude` kept out of the last walk
        self.stdin_source: sourcelib.Source | None = None  # standard input's text, once read (reports show it)
        self.boundary = filelib.Boundary()  # the trees the last discovery may read and write in

    @property
    def known_names(self) -> set[str]:
        """What a suppression may name: every rule's code and name, custom rules of the run's configurations too."""
        from pipelint.rules import CUSTOM, RULES

        if self._known is None or self._known[0] != len(CUSTOM):
            rules = RULES + tuple(CUSTOM.values())
            self._known = (len(CUSTOM), {r.code for r in rules} | {r.name for r in rules})
        return self._known[1]

    def layer(self, path: str, folder: bool = False) -> Layer:
        """The configuration that applies to a file (or, with `folder`, to a folder's entries); raises
        config.ConfigError for a configuration file that does not parse or validate."""
        if self._layers is None:
            return self.root
        where = os.path.abspath(path if folder else os.path.dirname(path) or ".")
        layer = self._layer_of.get(where)
        if layer is None:
            layer = self._layer_of[where] = self._layers(where)
        return layer

    @property
    def layers(self) -> list[Layer]:
        """Every layer used so far (the root first)."""
        out = [self.root]
        for layer in self._layer_of.values():
            if all(layer is not seen for seen in out):
                out.append(layer)
        return out

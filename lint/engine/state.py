"""What the engine's parts share (engine.core.Engine is State and its parts): the configuration layers that
govern each file, and the state a discovery leaves for the check."""

from __future__ import annotations

import os

from pipelint.engine.config import Settings
from pipelint.engine.layers import Layer
from pipelint.ruleapi.rule import Rule
from pipelint.text import files as filelib
from pipelint.text import source as sourcelib

STDIN = "-"  # the path that names standard input

TYPE_CHECKING = False  # not typing's: importing typing costs the pre-commit path 4 ms
if TYPE_CHECKING:
    from pipelint.engine.results import FileReport, RunResult


class State:
    """What the engine's parts share: the configuration layers, the run's discovery state, and (declared
    for the type checker) the parts' methods each calls on the others."""

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

    if TYPE_CHECKING:  # the parts' methods, as the others call them
        def discover(self, paths: list[str]) -> tuple[list[str], list[str]]: ...
        def check_file(self, src: sourcelib.Source, keep: bool = False) -> FileReport: ...
        def finish(self, reports: dict[str, FileReport], errors: list[str] | None = None,
                   focus: str | None = None) -> RunResult: ...
        def _read_stdin(self, stdin_filename: str | None, errors: list[str]) -> sourcelib.Source | None: ...

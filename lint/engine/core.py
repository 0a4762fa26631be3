"""The engine: paths -> files -> units -> findings -> the run's result; fixing, pinning and the editor build on it.

    paths --discover--> files --read--> Source --expand--> units --check--> findings --cross-file--> result

`Engine` is its parts, one module each: discovery (engine.discovery), the check of one file (engine.unit), the
cross-file pass (engine.crossfile) and the run with its cache and pool (engine.run); the configuration that
governs each file is a `Layer` (engine.layers). Commands reach expansion and documents through here.
"""

from __future__ import annotations

from pipelint.engine.crossfile import CrossFile
from pipelint.engine.discovery import STDIN, YAML_SUFFIXES, Discovery
from pipelint.engine.layers import Layer
from pipelint.engine.results import FileReport, RunResult
from pipelint.engine.run import Runner
from pipelint.engine.unit import UnitChecker, documents, expand, internal_error

__all__ = ["STDIN", "YAML_SUFFIXES", "Engine", "FileReport", "Layer", "RunResult", "documents", "expand",
           "internal_error"]


class Engine(Discovery, UnitChecker, CrossFile, Runner):
    """Discovery, the check of a file, the cross-file pass and the run, on one State."""

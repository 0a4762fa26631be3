"""Output formats. Each module has `render(result, **options) -> str`, all taking the same findings."""

import importlib

FORMATS = ("text", "json", "sarif", "github", "junit", "gitlab")


def get(name: str):
    if name not in FORMATS:
        raise KeyError(name)
    return importlib.import_module(f"pipelint.reporters.{name}")

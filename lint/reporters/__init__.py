"""Output formats. Each module has `render(result, options) -> str`, all taking the same findings."""

FORMATS = ("text", "json")


def get(name: str):
    if name == "text":
        from pipelint.reporters import text as mod
    elif name == "json":
        from pipelint.reporters import json as mod
    else:
        raise KeyError(name)
    return mod

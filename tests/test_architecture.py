"""The architecture, as folders: each layer is a subpackage of lint/ (installed as pipelint), bottom-up in LAYERS;
a module imports only from its own folder or the folders below it, and the import graph has no cycle. Imports
inside functions count as much as those at the top of a module: a function-level import is a way to start up
faster, never a way around a layer.

Data flows up the list: bytes are read into text (text), parsed into documents with positions (yamldoc), image
names understood (oci), findings and their edits made (findings), Harness sites walked (harness), containers
expanded into the units rules read (embed), checked by the rules (ruleapi, rules), gathered by the engine,
handed to the commands (fix, pin, inventory, report, mirror) and the reporters, and shown by the app (console,
command line, language server); the org-wide autofixer drives all of it. A new module goes in a folder; a new
folder is a new line here.
"""
from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (layer, its folder under lint/ or its package) bottom-up; the top of lint/ holds only the package, its
# `python -m pipelint` and the org-wide commands' documented module names
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("text and positions in files", ("pipelint", "text.*")),
    ("image references, registries, the lockfile", ("oci.*",)),
    ("Harness's REST API", ("api.*",)),
    ("YAML documents", ("yamldoc.*",)),
    ("findings, fixes and their verification", ("findings.*",)),
    ("Harness sites", ("harness.*",)),
    ("expansion of containers into units", ("embed.*",)),
    ("the rule API", ("ruleapi.*",)),
    ("rules", ("rules", "rules.*")),
    ("engine", ("engine.*",)),
    ("commands", ("commands.*",)),
    ("reporters", ("reporters", "reporters.*")),
    ("app: console, command line, language server", ("app.*", "__main__")),
    ("org-wide", ("orgwide.*", "all_repos_fix", "all_repos_shard")),
]


def _modules() -> dict[str, pathlib.Path]:
    """pipelint's modules as installed (lint/ is pipelint, rules/ is pipelint.rules) -> their files."""
    out = {}
    for base, prefix in ((ROOT / "lint", ()), (ROOT / "rules", ("rules",))):
        for path in base.rglob("*.py"):
            parts = (*prefix, *path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts) or "pipelint"] = path
    return out


def _imports(name: str, path: pathlib.Path, known: set[str]) -> set[str]:
    """The pipelint modules `name` imports anywhere in its file (top level, functions, TYPE_CHECKING)."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()

    def local(dotted: str) -> str | None:
        if dotted == "pipelint":
            return "pipelint"
        if dotted.startswith("pipelint."):
            return dotted[len("pipelint."):]
        return None

    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                mod = local(alias.name)
                if mod is not None:
                    found.add(mod)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package[:len(package) - node.level + 1] + ([node.module] if node.module else [])
                base = ".".join(p for p in base_parts if p and p != "pipelint") or "pipelint"
            else:
                base = local(node.module or "")
                if base is None:
                    continue
            for alias in node.names:
                sub = alias.name if base == "pipelint" else f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    if name == "rules":  # the registry imports its rule modules by name (rules/__init__.py MODULES)
        found |= {f"rules.{m}" for m in _registered_rule_modules(path)}
    found.discard(name)
    return found


def _registered_rule_modules(path: pathlib.Path) -> list[str]:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["MODULES"]:
            return list(ast.literal_eval(node.value))
    raise AssertionError("rules/__init__.py has no MODULES tuple")


def _layer_of(name: str) -> int:
    for i, (_, members) in enumerate(LAYERS):
        for m in members:
            if m == name or (m.endswith(".*") and (name.startswith(m[:-1]) or name == m[:-2])):
                return i
    raise AssertionError(f"module {name} is in no layer: place it in LAYERS (tests/test_architecture.py)")


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, set(mods)) for name, path in mods.items()}


def test_every_module_has_a_layer():
    for name in _graph():
        _layer_of(name)


def test_no_import_reaches_up_a_layer():
    wrong = []
    for name, deps in sorted(_graph().items()):
        for dep in sorted(deps):
            if _layer_of(dep) > _layer_of(name):
                wrong.append(f"{name} ({LAYERS[_layer_of(name)][0]}) imports {dep} ({LAYERS[_layer_of(dep)][0]})")
    assert wrong == []


def test_the_import_graph_has_no_cycle():
    graph = _graph()
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for dep in sorted(graph.get(name, ())):
            if state.get(dep) == 1:
                cycles.append(" -> ".join([*path[path.index(dep):], dep]))
            elif dep not in state:
                visit(dep, [*path, dep])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert cycles == []


def test_the_checker_sees_function_level_imports():
    """The test would pass vacuously if it missed imports inside functions: engine imports the pool lazily,
    console imports the engine inside make_engine."""
    graph = _graph()
    assert "engine.core" in graph["app.console"]
    assert "engine.records" in graph["engine.run"] and "engine.results" in graph["engine.records"]
    assert graph["rules"] >= {"rules.yml001_invalid_yaml", "rules.con001_missing_image_connector"}


def test_every_rule_module_is_registered_and_named_after_its_rule():
    from pipelint.rules import MODULES, RULES

    files = sorted(p.stem for p in (ROOT / "rules").glob("*.py") if p.stem != "__init__")
    assert sorted(MODULES) == files
    for module, rule in zip(MODULES, RULES, strict=True):
        assert module == f"{rule.code.lower()}_{rule.name.replace('-', '_')}"


def test_the_folders_are_the_layers():
    """At most six modules at the top of lint/, and every folder is a layer."""
    top = sorted(p.name for p in (ROOT / "lint").glob("*.py"))
    assert len(top) <= 6, top
    folders = sorted(p.name for p in (ROOT / "lint").iterdir() if p.is_dir() and (p / "__init__.py").exists())
    layered = {m.split(".")[0] for _, members in LAYERS for m in members}
    assert set(folders) <= layered, set(folders) - layered


def test_expansion_is_entered_through_one_engine_module():
    """Every container kind lives in embed/, and one engine module imports it: discovery, pin, images and the
    server reach the units through the engine, never by expanding on their own."""
    importers = sorted(name for name, deps in _graph().items()
                       if not name.startswith("embed.") and any(d.startswith("embed.") for d in deps))
    assert importers == ["engine.unit"]

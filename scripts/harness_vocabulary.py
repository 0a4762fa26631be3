"""Compiles the key vocabulary of Harness's published v0 JSON schema into lint/harness/vocabulary.json.

    python3 scripts/harness_vocabulary.py /path/to/harness-schema [--check]

The checkout must be of harness/harness-schema at COMMIT (v0/pipeline.json and v0/trigger.json are read; the
schemas themselves do not ship with pipelint). For every object the schemas describe, the file keeps its `type` value when it has one (which
kind of step, stage or infrastructure it is), the keys it declares and, per key, the objects its value may be (oneOf/anyOf/allOf merged, array items looked through),
keys that only a `type` value brings (`if: {type: const}` / `then:`), and whether the object is free-form
(`additionalProperties` and no `properties`: variables, environment maps, plugin settings, matrix axes).
`--check` exits 1 when the shipped file is not what the checkout gives (tests/test_unknown_keys.py runs it when a
checkout is at hand).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

COMMIT = "1bb19b672ae159df9a52b63aae3e93dff6eb1825"
OUT = Path(__file__).resolve().parent.parent / "lint" / "harness" / "vocabulary.json"
NAMES = OUT.with_name("vocabulary-keys.txt")  # every key declared anywhere: a fast first test
FREE = OUT.with_name("vocabulary-free.txt")  # keys whose value is free-form wherever declared (`envVariables`)
SCHEMAS = {"pipeline": "v0/pipeline.json", "trigger": "v0/trigger.json"}


class Compiler:
    def __init__(self, documents: dict[str, dict]):
        self.documents = documents
        self.types: list[list] = []  # [keys {name: [ids]}, conditional {"type=X": {name: [ids]}}, free]
        self.ids: dict[tuple, int] = {}

    def resolve(self, doc: str, schema):
        seen = 0
        while isinstance(schema, dict) and "$ref" in schema and seen < 50:
            ref = schema["$ref"]
            node = self.documents[doc]
            for part in ref.lstrip("#/").split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
            schema = node
            seen += 1
        return schema

    def type_of(self, doc: str, schema) -> int | None:
        """The id of the object `schema` describes (refs followed, array items looked through), or None."""
        schema = self.resolve(doc, schema)
        if not isinstance(schema, dict):
            return None
        key = (doc, id(schema))
        if key in self.ids:
            return self.ids[key]
        view = {"keys": {}, "cond": {}, "free": False, "object": False, "tag": None}
        self._collect(doc, schema, view, cond=None, depth=0)
        if not view["object"]:
            self.ids[key] = None  # type: ignore[assignment]
            return None
        number = len(self.types)
        self.ids[key] = number
        self.types.append([{}, {}, view["free"], view["tag"]])
        keys: dict[str, list[int]] = {}
        for name, subs in view["keys"].items():
            keys[name] = sorted({t for s in subs if (t := self.type_of(doc, s)) is not None})
        cond: dict[str, dict[str, list[int]]] = {}
        for when, props in view["cond"].items():
            cond[when] = {name: sorted({t for s in subs if (t := self.type_of(doc, s)) is not None})
                          for name, subs in props.items()}
        self.types[number] = [keys, cond, view["free"], None if view["tag"] == "*" else view["tag"]]
        return number

    def _collect(self, doc: str, schema, view: dict, cond: str | None, depth: int) -> None:
        schema = self.resolve(doc, schema)
        if not isinstance(schema, dict) or depth > 40:
            return
        target = view["keys"] if cond is None else view["cond"].setdefault(cond, {})
        if schema.get("type") == "array" or "items" in schema:
            items = schema.get("items")
            if isinstance(items, dict):
                self._collect(doc, items, view, cond, depth + 1)
        props = schema.get("properties")
        if isinstance(props, dict):
            view["object"] = True
            for name, sub in props.items():
                target.setdefault(name, []).append(sub)
            tag = props.get("type")
            if cond is None and isinstance(tag, dict):  # `type: Run`: which kind of step (stage, infrastructure...)
                values = tag.get("enum") if isinstance(tag.get("enum"), list) else [tag.get("const")]
                if len(values) == 1 and isinstance(values[0], str):  # a union of kinds has no one tag
                    view["tag"] = values[0] if view["tag"] in (None, values[0]) else "*"
        extra = schema.get("additionalProperties")
        composed = any(word in schema for word in ("oneOf", "anyOf", "allOf", "if", "required", "not"))
        if schema.get("type") == "object" or props is not None or isinstance(extra, dict):
            view["object"] = True
            # free-form: any key goes (a map of names to values), said by additionalProperties, or an object with
            # nothing declared at all (JsonNode); not a schema that only constrains (required, oneOf of
            # required sets, if/then)
            if not props and (isinstance(extra, dict) or extra is True or (extra is None and not composed)):
                view["free"] = True
        for word in ("oneOf", "anyOf", "allOf"):
            for alt in schema.get(word) or ():
                self._collect(doc, alt, view, cond, depth + 1)
        condition = schema.get("if")
        then = schema.get("then")
        if isinstance(condition, dict) and isinstance(then, dict):
            when = _discriminator(condition)
            self._collect(doc, then, view, when if when is not None else cond, depth + 1)


def _discriminator(condition: dict) -> str | None:
    """`type=CI` for `if: {properties: {type: {const: CI}}}` (or a one-value enum)."""
    props = condition.get("properties")
    if not isinstance(props, dict) or len(props) != 1:
        return None
    (name, spec), = props.items()
    if isinstance(spec, dict):
        value = spec.get("const", (spec.get("enum") or [None])[0] if len(spec.get("enum") or []) == 1 else None)
        if isinstance(value, str):
            return f"{name}={value}"
    return None


def compile_vocabulary(checkout: Path) -> dict:
    documents = {name: json.loads((checkout / rel).read_text()) for name, rel in SCHEMAS.items()}
    compiler = Compiler(documents)
    roots = {name: compiler.type_of(name, documents[name]) for name in SCHEMAS}
    types, roots = _minimal(compiler.types, roots)
    names = set()
    for keys, cond, _, _ in types:
        names.update(keys)
        for props in cond.values():
            names.update(props)
    return {"names": sorted(names), "source": "harness/harness-schema " + ", ".join(SCHEMAS.values()), "commit": COMMIT,
            "roots": roots, "types": types}


def _minimal(types: list[list], roots: dict) -> tuple[list[list], dict]:
    """The same vocabulary with equal objects merged (until nothing more merges), in a stable order."""
    while True:
        index: dict[str, int] = {}
        remap: list[int] = []
        for t in types:
            remap.append(index.setdefault(json.dumps(t, sort_keys=True), len(index)))
        if len(index) == len(types):
            return types, roots
        merged: list[list] = [None] * len(index)  # type: ignore[list-item]
        for old, t in enumerate(types):
            keys, cond, free, tag = t
            merged[remap[old]] = [
                {k: sorted({remap[i] for i in ids}) for k, ids in keys.items()},
                {w: {k: sorted({remap[i] for i in ids}) for k, ids in props.items()} for w, props in cond.items()},
                free, tag]
        types, roots = merged, {name: remap[i] for name, i in roots.items()}


def text_of(vocabulary: dict) -> tuple[str, str, str]:
    """(vocabulary.json, vocabulary-keys.txt, vocabulary-free.txt)."""
    names = vocabulary.pop("names")
    return (json.dumps(vocabulary, separators=(",", ":"), sort_keys=True) + "\n", "\n".join(names) + "\n",
            "\n".join(free_keys(vocabulary["types"])) + "\n")


def free_keys(types: list) -> list[str]:
    """The keys whose every declared value is a free-form object: a key inside one is never a typo."""
    by_key: dict[str, set[int]] = {}
    for keys, cond, _, _ in types:
        for props in (keys, *cond.values()):
            for k, ids in props.items():
                by_key.setdefault(k, set()).update(ids)
    return sorted(k for k, ids in by_key.items() if ids and all(types[i][2] for i in ids))


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("--")]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    checkout = Path(args[0])
    head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], check=False, capture_output=True,
                          text=True)
    if head.returncode == 0 and head.stdout.strip() != COMMIT:
        print(f"{checkout} is at {head.stdout.strip()}, not {COMMIT}", file=sys.stderr)
        return 2
    text, names, free = text_of(compile_vocabulary(checkout))
    if "--check" in argv:
        if OUT.read_text() != text or NAMES.read_text() != names or FREE.read_text() != free:
            print(f"{OUT} is not what {checkout} gives: run python3 scripts/harness_vocabulary.py {checkout}",
                  file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text)
    NAMES.write_text(names)
    FREE.write_text(free)
    print(f"wrote {OUT}: {len(text):,} bytes, {NAMES.name} and {FREE.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

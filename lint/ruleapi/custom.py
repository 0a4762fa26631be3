"""Custom rules: a team's own policies, declared in the configuration (`[[tool.pipelint.custom-rules]]`) as a
JSONPath `given` (jsonpath-ng's extended syntax) or one of the walker's site lists, and a `then` function, in the
manner of Spectral. Each declaration becomes a `Rule` subclass, so selection, suppressions, baselines, formats,
the cache and fixes treat it like a built-in rule.

A `given` is evaluated by pipelint.yamldoc.jsonpath (the data as Harness reads it, bounded in nodes and in work);
this module declares the rules: validation of every key into one-line errors, RE2 patterns, the `then`
functions, messages and fixes.
"""

from __future__ import annotations

import hashlib
import json
import re
import string

from pipelint.harness.sites import ROOT_KEYS, At, item_label
from pipelint.ruleapi.rule import Rule, RuleLimit
from pipelint.text.source import quoted
from pipelint.yamldoc import jsonpath
from pipelint.yamldoc.document import Node, ScalarNode, SequenceNode, get_pair, is_map
from pipelint.yamldoc.yamltext import InsertPair, SetScalar

BUILT_IN_PREFIXES = ("YML", "REG", "CON", "IMG")
SITE_LISTS = ("@images", "@infrastructures", "@connectors", "@stages")
FUNCTIONS = ("defined", "undefined", "truthy", "falsy", "pattern", "enumeration", "length")
FUNCTION_KEYS = {"pattern": ("match", "not-match"), "enumeration": ("values",), "length": ("min", "max")}
ENTITIES = (*ROOT_KEYS, "headless")
PLACEHOLDERS = ("value", "path", "field", "code")
KEYS = ("code", "name", "severity", "message", "given", "then", "entities", "expressions", "description", "fix",
        "fix-safety")
_CODE = re.compile(r"[A-Z]{2,4}[0-9]{3}")
_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_MISSING = object()


class CustomRuleError(Exception):
    """What is wrong with a declaration: `key` and the problem (config.py adds the file and the rule)."""

    def __init__(self, key: str, problem: str):
        super().__init__(f"'{key}': {problem}")
        self.key, self.problem = key, problem


MAX_PATTERN = 1000  # characters of a custom rule's regular expression
MAX_REPEAT = 1000  # RE2's own bound on a counted repetition; a larger count is refused, not read as text
_COUNT = re.compile(r"(?<!\\)\{([0-9]+)(?:,([0-9]*))?\}")


def _regex(key: str, pattern: object):
    """A custom rule's regular expression, compiled by RE2 (google-re2): matching takes time linear in the text
    whatever the pattern, so a repository's configuration cannot hang a run (Python's `re` backtracks:
    `^(a+)+$` on 41 characters took longer than 20 s). RE2 has no lookaround and no backreferences."""
    if not isinstance(pattern, str):
        raise CustomRuleError(key, "expected a string (a regular expression, RE2 syntax)")
    if len(pattern) > MAX_PATTERN:
        raise CustomRuleError(key, f"longer than {MAX_PATTERN} characters")
    for m in _COUNT.finditer(pattern):
        if any(n and int(n) > MAX_REPEAT for n in m.groups()):
            raise CustomRuleError(key, f"{quoted(pattern)} is not a regular expression: the repetition {m[0]} is "
                                       f"over {MAX_REPEAT}")
    import re2

    options = re2.Options()
    options.max_mem = 8 << 20  # what one compiled pattern may use
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise CustomRuleError(key, f"{quoted(pattern)} is not a regular expression RE2 accepts: {reason}") from None


def define(decl: object, taken: set[str]) -> type[Rule]:
    """The Rule subclass a declaration describes; raises CustomRuleError. `taken`: codes and names in use."""
    if not isinstance(decl, dict):
        raise CustomRuleError("custom-rules", "each entry must be a table ([[custom-rules]])")
    for key in decl:
        if key not in KEYS:
            raise CustomRuleError(key, f"unknown key (allowed: {', '.join(KEYS)})")
    code = decl.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise CustomRuleError("code", f"{code!r}: expected 2-4 capitals and 3 digits, like ORG001")
    if code.startswith(BUILT_IN_PREFIXES):
        raise CustomRuleError("code", f"{code}: the prefixes {', '.join(BUILT_IN_PREFIXES)} are pipelint's own")
    if code in taken:
        raise CustomRuleError("code", f"{code} is already a rule's code")
    name = decl.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise CustomRuleError("name", f"{name!r}: expected kebab-case, like run-step-timeout")
    if name in taken:
        raise CustomRuleError("name", f"{name} is already a rule's name")
    severity = decl.get("severity", "error")
    if severity not in ("error", "warning"):
        raise CustomRuleError("severity", f"{severity!r}: expected \"error\" or \"warning\"")
    message = decl.get("message")
    if not isinstance(message, str) or not message.strip():
        raise CustomRuleError("message", "expected a non-empty string")
    try:
        parsed = [(f, spec, conversion) for _, f, spec, conversion in string.Formatter().parse(message)
                  if f is not None]
    except ValueError as exc:
        raise CustomRuleError("message", f"{quoted(message)}: {exc}") from None
    if any(spec or conversion for _, spec, conversion in parsed):  # `{value:>999999999}` would fill the memory
        raise CustomRuleError("message", "placeholders take no format (write {value}, not {value:...} or {value!r})")
    fields = [f for f, _, _ in parsed]
    for f in fields:
        if f not in PLACEHOLDERS:
            raise CustomRuleError("message", f"unknown placeholder {{{f}}} (allowed: "
                                  + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ")")
    given = decl.get("given")
    if not isinstance(given, str) or not given.strip():
        raise CustomRuleError("given", "expected a JSONPath or one of " + ", ".join(SITE_LISTS))
    path = None
    if given.startswith("@"):
        if given not in SITE_LISTS:
            raise CustomRuleError("given", f"{given!r}: the site lists are " + ", ".join(SITE_LISTS))
    else:
        try:
            path = jsonpath.parse(given)
        except jsonpath.JsonPathError as exc:
            raise CustomRuleError("given", str(exc)) from None
    then = decl.get("then")
    if not isinstance(then, dict):
        raise CustomRuleError("then", "expected a table, like { field = \"timeout\", function = \"defined\" }")
    function = then.get("function")
    if function not in FUNCTIONS:
        raise CustomRuleError("then.function", f"{function!r}: expected one of {', '.join(FUNCTIONS)}")
    allowed = ("field", "function", *FUNCTION_KEYS.get(function, ()))
    for key in then:
        if key not in allowed:
            raise CustomRuleError(f"then.{key}", f"not an argument of {function} (allowed: {', '.join(allowed)})")
    field = then.get("field")
    if field is not None and (not isinstance(field, str) or not field):
        raise CustomRuleError("then.field", "expected a key of the matched mapping")
    args: dict[str, object] = {}
    if function == "pattern":
        if "match" not in then and "not-match" not in then:
            raise CustomRuleError("then", "pattern needs match and/or not-match")
        for key in ("match", "not-match"):
            if key in then:
                args[key] = _regex(f"then.{key}", then[key])
    elif function == "enumeration":
        values = then.get("values")
        if not isinstance(values, list) or not values or any(isinstance(v, (dict, list)) for v in values):
            raise CustomRuleError("then.values", "expected a non-empty list of strings, numbers or booleans")
        args["values"] = values
    elif function == "length":
        if "min" not in then and "max" not in then:
            raise CustomRuleError("then", "length needs min and/or max")
        for key in ("min", "max"):
            if key in then:
                if isinstance(then[key], bool) or not isinstance(then[key], int) or then[key] < 0:
                    raise CustomRuleError(f"then.{key}", "expected a whole number, 0 or more")
                args[key] = then[key]
    entities = decl.get("entities", list(ENTITIES))
    if not isinstance(entities, list) or not entities or any(e not in ENTITIES for e in entities):
        raise CustomRuleError("entities", f"expected a list of {', '.join(ENTITIES)}")
    expressions = decl.get("expressions", False)
    if not isinstance(expressions, bool):
        raise CustomRuleError("expressions", "expected true or false")
    description = decl.get("description", "")
    if not isinstance(description, str):
        raise CustomRuleError("description", "expected a string")
    fix = decl.get("fix")
    fix_value = None
    if fix is not None:
        if not isinstance(fix, dict) or set(fix) != {"set"}:
            raise CustomRuleError("fix", 'expected { set = "..." }')
        fix_value = fix["set"]
        if isinstance(fix_value, (dict, list, float)) or (isinstance(fix_value, str) and "\n" in fix_value):
            raise CustomRuleError("fix.set", "expected a one-line string, a whole number or a boolean")
        if function == "undefined":
            raise CustomRuleError("fix", "a fix cannot make a key undefined (it only sets values)")
        if not passes(function, args, fix_value):  # read back as written: a string stays a string
            raise CustomRuleError("fix.set", f"{json.dumps(fix_value)} does not pass the rule's own check ({function}), so "
                                             "the fix would never converge")
    safety = decl.get("fix-safety", "unsafe")
    if safety not in ("safe", "unsafe"):
        raise CustomRuleError("fix-safety", f"{safety!r}: expected \"safe\" or \"unsafe\"")
    if "fix-safety" in decl and fix is None:
        raise CustomRuleError("fix-safety", "given without a fix")
    definition = repr(sorted((k, repr(v)) for k, v in decl.items()))
    attrs = {
        "__doc__": _doc(decl, given, then),
        "__module__": __name__,
        "code": code,
        "name": name,
        "severity": severity,
        "fix_safety": safety if fix is not None else None,
        "custom": True,
        "given": given,
        "path": path,
        "walk": staticmethod(jsonpath.compile_path(path) if path is not None else False),  # type: ignore[arg-type]  # once per rule
        "field": field,
        "function": function,
        "args": args,
        "template": message,
        "entities": frozenset(entities),
        "expressions": expressions,
        "fix_value": fix_value,
        "definition": hashlib.sha256(definition.encode()).hexdigest(),
    }
    return type(f"Custom{code}", (CustomRule,), attrs)


def _doc(decl: dict, given: str, then: dict) -> str:
    how = ", ".join(f"{k} = {v!r}" for k, v in then.items())
    lines = [decl.get("description") or decl["message"], "", "## What it does",
             f"A custom rule: each match of `{given}` must pass `{how}`."]
    if decl.get("fix") is not None:
        lines += ["", "## Fix", f"{decl.get('fix-safety', 'unsafe').capitalize()}: sets {decl['fix']['set']!r}."]
    return "\n".join(lines)


class CustomRule(Rule):
    """The base of the rules `define` makes (their docstring is the declaration's description)."""

    custom = True
    source = ""  # the configuration file that declares it (`pipelint rules` says so)
    given: str
    path: object
    walk: object
    field: str | None
    function: str
    args: dict
    template: str
    entities: frozenset
    expressions: bool
    fix_value: object
    definition: str

    def cache_key(self) -> str:
        return self.definition

    def check(self, doc):
        if (doc.doc.kind or "") not in self.entities:
            return
        root = doc.doc.root
        try:
            matches = list(self._matches(doc, root))
        except jsonpath.WorkExceeded:
            raise RuleLimit(f"{self.code} ({self.source or 'configuration'}, 'given'): {quoted(self.given)} "
                            f"visited more than {jsonpath.WORK_BUDGET:,} places in this document; narrow it") from None
        for node, key, raw in matches:
            yield from self._judge(doc, root, node, key, raw)

    # --- matching ---------------------------------------------------------------------------------
    def _matches(self, doc, root):
        """(matched node, the key node it sits under or None, its raw path) for each match."""
        sites = doc.sites
        if self.given == "@images":
            for img in sites.images:
                yield img.node, None, img.raw
        elif self.given == "@infrastructures":
            for site in sites.infra:
                if site.holder is not None:
                    yield site.holder, site.holder_key or site.key, site.holder_raw
        elif self.given == "@connectors":
            for c in sites.connectors:
                if c.spec is not None:
                    yield c.spec, c.spec_key, (*c.raw, "spec")
        elif self.given == "@stages":
            for stage in sites.stages:
                yield stage.node, stage.key, stage.raw
        else:
            data = jsonpath.document_data(root)
            seen = set()
            for raw in jsonpath.find_paths(self.path, data, self.walk):
                if raw in seen:
                    continue
                seen.add(raw)
                found = jsonpath.node_at(root, raw)
                if found is not None:
                    yield found[0], found[1], raw

    # --- judging ----------------------------------------------------------------------------------
    def _judge(self, doc, root, node, key, raw):
        field = self.field
        if field is not None:
            if not is_map(node):
                return
            pair = get_pair(node, field)
            target_key, target = pair if pair is not None else (None, None)
            value = jsonpath.scalar_value(target) if target is not None else _MISSING
        else:
            target_key, target = key, node
            value = jsonpath.scalar_value(node)
        if isinstance(value, str) and "<+" in value and not self.expressions and self.function != "undefined":
            return
        if self._passes(value, target):
            return
        if target is not None and self.function != "undefined":
            at, where = target, raw + ((field,) if field else ())
        elif target_key is not None:
            at, where = target_key, raw + ((field,) if field else ())
        else:  # `field` missing: the key of the matched mapping (or the mapping itself)
            at, where = (key if key is not None else node), raw
        yaml_path = _yaml_path(root, where)
        shown = "" if value is _MISSING or not isinstance(value, (str, int, float, bool)) else _text(value)
        message = self.template.format_map({"value": shown, "path": ".".join(yaml_path), "field": field or "",
                                            "code": self.code})
        fix = self._fix(doc, node, target, raw)
        yield self.finding(doc, At(at, yaml_path, shown), message, fix=fix)

    def _passes(self, value, node) -> bool:
        return passes(self.function, self.args, value)

    def _fix(self, doc, node, target, raw):
        if self.fix_value is None:
            return None
        value = self.fix_value
        verbatim = not isinstance(value, str)
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        if target is not None:
            if not isinstance(target, ScalarNode):
                return None
            intent = SetScalar(target, text, verbatim=verbatim, paths=(raw + ((self.field,) if self.field else ()),))
        elif self.field is not None and is_map(node):
            intent = InsertPair(node, self.field, text, verbatim=verbatim, paths=(raw,))
        else:
            return None
        what = f"set {self.field or 'the value'} to {text}"
        return self.fix_from(doc, what, [intent], safe=self.fix_safety == "safe")


def passes(function: str, args: dict, value) -> bool:
    """Whether a value (_MISSING: the field is absent) passes a `then` function with its arguments."""
    f, missing = function, value is _MISSING
    if f == "defined":
        return not missing
    if f == "undefined":
        return missing
    truthy = not missing and bool(value) and value is not None
    if f == "truthy":
        return truthy
    if f == "falsy":
        return not truthy
    if missing or value is None:
        return True  # nothing to match, enumerate or measure
    if f == "pattern":
        if isinstance(value, (list, dict)):
            return True
        text = _text(value)
        m, nm = args.get("match"), args.get("not-match")
        return (m is None or m.search(text) is not None) and (nm is None or nm.search(text) is None)
    if f == "enumeration":
        return any(type(value) is type(v) and value == v for v in args["values"])
    size = len(value) if isinstance(value, (str, list, dict)) else len(_text(value))
    return args.get("min", 0) <= size <= args.get("max", size)


# --- data: the document as Python values, and back to nodes --------------------------------------------
def _yaml_path(root: Node, raw: tuple) -> tuple[str, ...]:
    """Keys, with list items named by identifier (`stages[build]`), as findings name places."""
    out: list[str] = []
    node: Node | None = root
    for part in raw:
        if isinstance(part, int) and isinstance(node, SequenceNode) and 0 <= part < len(node.value):
            item = node.value[part]
            tag = item_label(item, part)
            if out:
                out[-1] += tag
            else:
                out.append(tag)
            node = item
        else:
            out.append(str(part))
            found = jsonpath.node_at(node, (part,)) if node is not None else None
            node = found[0] if found else None
    return tuple(out)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""What a rule is: identity, defaults, options, documentation and a check over sites.

A rule module defines one `Rule` subclass; `pipelint.rules.RULES` lists them explicitly. The class
docstring (What it does / Why is this bad? / Example / Fix) is what `pipelint rule CODE` prints.

Two kinds of check:
- `check(doc)` sees one Harness document and its sites (`doc.sites`);
- `check_run(run)` (cross-file rules, `cross_file = True`) sees every document of the run at once
  through `RunIndex`, after all files are read: connectors first, then the places that use them.
"""

from __future__ import annotations

from collections.abc import Iterable

from pipelint.findings.finding import SEVERITIES, Edit, Finding, Fix, Severity, Span, translate
from pipelint.harness.sites import ConnectorSite, Sites
from pipelint.text.source import Source
from pipelint.yamldoc.document import Document, ParseError
from pipelint.yamldoc.yamltext import edit_for

TYPE_CHECKING = False  # typing is not imported on the pre-commit path (tests/test_cli.py)
if TYPE_CHECKING:
    from pipelint.yamldoc.resolved import Uses


class Option:
    """A rule option, declared next to its check (yamllint's CONF + VALIDATE): its name, default, type (for a
    list, also the type of its items), allowed choices, an optional validator of the rule's own
    (`check(value) -> problem or None`), help (printed by `pipelint rule`), and optionally a command-line flag
    that sets it for one run (`--target`)."""

    __slots__ = ("check", "choices", "default", "flag", "help", "items", "name", "path", "type")

    def __init__(self, name: str, default: object, help: str, type: type | tuple = str, choices: tuple | None = None,
                 path: bool = False, *, items: type | None = None, check=None, flag: str | None = None):
        self.name = name
        self.default = default
        self.help = help
        self.type = type
        self.items = items  # the type of a list option's items
        self.choices = choices
        self.path = path  # a file path: taken relative to the configuration file that sets it
        self.check = check
        self.flag = flag

    def validate(self, value: object) -> str | None:
        """None when `value` is allowed, else what is allowed (one line)."""
        if self.choices is not None:
            ok = value in self.choices
        else:
            ok = _is(value, self.type)
        if ok and self.items is not None:
            ok = all(_is(v, self.items) for v in value)  # type: ignore[attr-defined]
        if not ok:
            if self.choices:
                allowed = " | ".join(toml_value(c) for c in self.choices)
            elif self.items is not None:
                allowed = f"a list of {_type_name(self.items, plural=True)}"
            else:
                allowed = _type_name(self.type)
            return f"expected {allowed}"
        return self.check(value) if self.check is not None else None

    def default_text(self) -> str:
        """`default "auto"`, `default false`, or `no default`, for `pipelint rule`."""
        return "no default" if self.default is None else f"default {toml_value(self.default)}"


def _is(value: object, t) -> bool:
    """isinstance, except that true/false is not a number."""
    return isinstance(value, t) and (t is bool or not isinstance(value, bool))


def toml_value(value: object) -> str:
    """A value as TOML spells it (what a user writes in the configuration): `"auto"`, `true`, `[1, 2]`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return str(value)


def _type_name(t, plural: bool = False) -> str:
    if isinstance(t, tuple):
        return " or ".join(_type_name(x, plural) for x in t)
    names = {str: ("a string", "strings"), bool: ("true or false", "true/false values"),
             int: ("an integer", "integers"), list: ("a list", "lists"), float: ("a number", "numbers")}
    return names.get(t, (t.__name__, t.__name__ + "s"))[1 if plural else 0]


SEVERITY_OPTION = Option("severity", None, "error | warning | info", str, SEVERITIES)


class HarnessDoc:
    """A parsed Harness document with the sites the walker found in it."""

    __slots__ = ("_uses", "doc", "sites")

    def __init__(self, doc: Document, sites: Sites):
        self.doc = doc
        self.sites = sites
        self._uses: Uses | None = None

    @property
    def path(self) -> str:
        return self.doc.source.path

    @property
    def text(self) -> str:
        return self.doc.text

    def uses(self, node) -> list[tuple] | None:
        """Every place (keys and list indexes from the document's root) at which `node` is read: more than one
        when it is anchored and aliased elsewhere (or sits inside such a node); None past 32 or when a
        recursive alias reaches it."""
        from pipelint.yamldoc.resolved import Uses

        index = self._uses
        if index is None:
            index = self._uses = Uses(self.doc.root)
        return index.paths(node)


class RunIndex:
    """Every Harness document of a run, for cross-file rules."""

    def __init__(self, docs: list[HarnessDoc]):
        self.docs = docs
        self.connectors: list[tuple[HarnessDoc, ConnectorSite]] = [
            (d, c) for d in docs for c in d.sites.connectors
        ]
        self.by_ref: dict[str, list[tuple[HarnessDoc, ConnectorSite]]] = {}
        for d, c in self.connectors:
            if c.ref:
                self.by_ref.setdefault(c.ref, []).append((d, c))

    def connector(self, ref: str) -> list[tuple[HarnessDoc, ConnectorSite]]:
        return self.by_ref.get(ref, [])

    def referenced_connectors(self) -> set[str]:
        return {r.value for d in self.docs for r in d.sites.refs}

    def has_cloud_stage(self) -> bool:
        return any(d.sites.cloud_stages for d in self.docs)


class RuleLimit(Exception):
    """A rule could not check a document within its bounds (a custom rule's JSONPath did more work than its
    budget): the configuration's doing, not a bug; the engine reports it as one error line (exit 2) and goes on
    with the other rules and files."""


class Rule:
    # class attributes, set by each rule (no typing.ClassVar: importing typing costs 4 ms of start-up)
    code: str
    name: str
    severity: Severity
    enabled_by_default: bool = True
    fix_safety: str | None = None  # "safe", "unsafe", or None when the rule has no fix
    cross_file: bool = False
    options: tuple[Option, ...] = ()
    superseded_by: tuple[str, ...] = ()  # codes whose finding on the same span makes this one's redundant
    # rules whose options this one reads too (REG001 and CON004 read IMG005's mirror): one place to configure a
    # mirror; the configuration sets `peer_opts` (code -> that rule's options, defaults filled in)
    peers: tuple[str, ...] = ()

    def __init__(self, severity: Severity | None = None, **options: object):
        self.effective_severity: Severity = severity or type(self).severity
        values = {o.name: o.default for o in self.options}
        values.update(options)
        self.opts = values
        self.peer_opts: dict[str, dict[str, object]] = {}

    # --- to override ---
    def check(self, doc: HarnessDoc) -> Iterable[Finding]:
        return ()

    def cache_key(self) -> str:
        """Anything besides the file and the options that this rule's findings depend on (cache keys)."""
        return ""

    def check_run(self, run: RunIndex) -> Iterable[Finding]:
        return ()

    def check_suppressions(self, source: Source, suppressions, known: set[str]) -> Iterable[Finding]:
        """Findings on a file's `# pipelint: ignore` comments (suppression.Suppressions); `known`: every rule's
        code and name. YML004."""
        return ()

    def check_unused_suppressions(self, source: Source, suppressions, enabled: set[str]) -> Iterable[Finding]:
        """Findings on the comments that suppressed nothing, once the run's findings are known. YML005."""
        return ()

    def check_unparsed(self, source: Source, error: ParseError) -> Iterable[Finding]:
        """Findings on a Harness file that cannot be read as documents: its bytes are not text
        (`source.text` is None) or its text is not YAML. Only YML001 overrides it."""
        return ()

    # --- helpers ---
    @classmethod
    def doc(cls) -> str:
        import inspect

        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        for line in cls.doc().splitlines():
            if line.strip() and not line.startswith("#"):
                return line.strip()
        return ""

    def finding(self, hdoc: HarnessDoc, site, message: str, *, fix: Fix | None = None, hint: str = "") -> Finding:
        """A finding at `site` (a site of `hdoc.sites`, or a `harness.At`): its span, YAML path and
        fingerprint value come from the site, so no rule can forget them."""
        at = site.at
        span = at if isinstance(at, Span) else Span.of(at, hdoc.text)
        found = Finding(self.code, self.name, self.effective_severity, message, hdoc.path, span, fix,
                        hdoc.doc.path_prefix + tuple(site.yaml_path), site.finding_value, hint)
        region = hdoc.doc.source.region
        if self.cross_file and region is not None and not isinstance(at, Span):
            # across files, after the region's own findings were moved out: move this one out too (its fix is
            # tried on the region's text in Engine.finish)
            return translate(found, region)
        return found

    def fix_from(self, hdoc: HarnessDoc, description: str, intents: list, safe: bool | None = None) -> Fix | None:
        """A fix carrying out `intents` (yamltext.SetScalar / InsertPair) as text edits; None when one of
        them has no safe text edit (a block scalar to replace, keys sharing a line...)."""
        edits = []
        for intent in intents:
            edit = edit_for(hdoc.text, intent, hdoc.doc.source.newline)
            if edit is None:
                return None
            edits.append(Edit(*edit))
        if safe is None:
            safe = self.fix_safety != "unsafe"
        return Fix(description, tuple(edits), safe=safe, intents=tuple(intents),
                   doc=hdoc.doc.number)

"""Configuration: `[tool.pipelint]` in pyproject.toml or `.pipelint.toml`, validated strictly.

Every unknown key, unknown code or bad value is a `ConfigError` naming the file, the key and what is
allowed: a typo in a linter's configuration must not silently turn a rule off.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Sequence

from pipelint.ruleapi.rule import SEVERITY_OPTION, Rule, toml_value

TOP_KEYS = ("select", "extend-select", "ignore", "exclude", "per-file-ignores", "max-file-size", "rules",
            "custom-rules")
DEFAULT_MAX_FILE_MB = 8  # a node graph costs ~100 bytes of memory per byte of YAML
# the most a configuration may raise it to: a repository's own configuration is untrusted input, and a file this
# size takes up to 5 GB to parse (150 bytes a byte, measured on one-letter flow items)
MAX_FILE_MB_CEILING = 32
DEFAULT_EXCLUDED_DIRS = frozenset({".git", ".hg", ".svn", ".venv", "venv", "node_modules", ".pipelint_cache",
                                   "__pycache__", ".tox", ".mypy_cache", ".pytest_cache"})


MAX_GLOB = 1000  # characters of an `exclude` or `per-file-ignores` glob


class ConfigError(Exception):
    pass


class Settings:
    """The effective configuration: a configuration file's values, or the defaults."""

    def __init__(self, path: str | None = None, root: str = ".", select: list[str] | None = None,
                 extend_select: list[str] | None = None, ignore: list[str] | None = None,
                 exclude: list[str] | None = None, per_file_ignores: dict[str, list[str]] | None = None,
                 rule_options: dict[str, dict[str, object]] | None = None, max_file_mb: float = DEFAULT_MAX_FILE_MB):
        self.path = path  # the configuration file, if any
        self.root = root  # globs are relative to this folder
        self.select = select
        self.extend_select = extend_select if extend_select is not None else []
        self.ignore = ignore if ignore is not None else []
        self.exclude = exclude if exclude is not None else []
        self.per_file_ignores = per_file_ignores if per_file_ignores is not None else {}
        self.rule_options = rule_options if rule_options is not None else {}  # code -> options
        self.max_file_mb = max_file_mb
        self.custom: list[type[Rule]] = []  # the custom rules this file declares (pipelint.custom)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)

    def is_excluded(self, path: str) -> bool:
        return _matches(path, self.exclude, self.root)

    def ignored_codes(self, path: str) -> set[str]:
        out: set[str] = set()
        for pattern, selectors in self.per_file_ignores.items():
            if _matches(path, [pattern], self.root):
                out |= resolve(selectors, f"per-file-ignores.{pattern!r}", self.path)
        return out


def _matches(path: str, patterns: list[str], root: str) -> bool:
    if not patterns:
        return False
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root)).replace(os.sep, "/")
    base = os.path.basename(path)
    for pattern in patterns:
        pat = pattern.rstrip("/")
        if fnmatch.fnmatchcase(rel, pat) or fnmatch.fnmatchcase(base, pat):
            return True
        if fnmatch.fnmatchcase(rel, pat + "/*") or any(
            fnmatch.fnmatchcase(part, pat) for part in rel.split("/")[:-1]
        ):
            return True
    return False


WARNINGS: list[str] = []  # what configuration discovery noticed and did not act on (the command line says it)


def note(warning: str) -> None:
    if warning not in WARNINGS:
        WARNINGS.append(warning)


def find(start: str = ".") -> str | None:
    """The nearest `.pipelint.toml`, or `pyproject.toml` with a [tool.pipelint] table, walking up."""
    here = os.path.abspath(start)
    while True:
        candidate = os.path.join(here, ".pipelint.toml")
        if os.path.lexists(candidate):  # whatever it is (a dangling link, a device): load() says what is wrong
            return candidate
        candidate = os.path.join(here, "pyproject.toml")
        if os.path.isfile(candidate):
            try:
                with open(candidate, "rb") as fh:
                    data = fh.read(MAX_CONFIG_BYTES + 1)
                if len(data) > MAX_CONFIG_BYTES:
                    return candidate  # load() says it is too large
                # most projects' pyproject.toml never names pipelint: no TOML parser to import (the
                # pre-commit path's start-up counts), no parse
                if b"pipelint" in data:
                    parsed = _toml(data)
                    tool = parsed.get("tool", {})
                    if not isinstance(tool, dict) or "pipelint" in tool:
                        return candidate
                    if "pipelint" in parsed:  # a table pipelint does not read: said once, not silently skipped
                        note(f"{_shown(candidate)}: the [pipelint] table is not read; in pyproject.toml write "
                             "[tool.pipelint] (or move the table, without the prefix, to .pipelint.toml)")
            except OSError:
                pass
            except (ValueError, RecursionError):  # it names pipelint but is not TOML: load() says so, rather
                return candidate                  # than the defaults
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _toml(data: bytes) -> dict:
    import tomllib

    return tomllib.loads(data.decode("utf-8"))


MAX_CONFIG_BYTES = 4 * 1024 * 1024


def _shown(path: str) -> str:
    """A configuration file as messages name it: relative to the current directory when inside it."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def load(path: str, given: bool = False) -> Settings:
    """The settings of the configuration file `path`: found by `find` (a repository's own, untrusted: one that
    is a symlink out of its repository is not read), or `given` on the command line. Raises ConfigError."""
    from pipelint.text import source as sourcelib

    shown = _shown(path)
    if not given:
        outside = _linked_outside(path)
        if outside:
            raise ConfigError(f"{shown}: not read: {outside}")
    try:
        data = _toml(sourcelib.read_bytes(path, MAX_CONFIG_BYTES))  # a regular file, of a sane size
    except sourcelib.ReadError as exc:
        raise ConfigError(f"{shown}: cannot read: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:  # tomllib.TOMLDecodeError
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None
    except RecursionError:  # tomllib recurses into nested arrays and inline tables
        raise ConfigError(f"{shown}: invalid TOML: nested too deeply") from None
    prefix = ""
    if os.path.basename(path) == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("pipelint", {}) if isinstance(tool, dict) else None
        if not isinstance(table, dict):
            raise ConfigError(f"{shown}: 'tool.pipelint' must be a table")
        data = table
        prefix = "tool.pipelint."
    return from_dict(data, path, prefix, shown)


def _linked_outside(path: str) -> str | None:
    """Why the configuration file `path`, inside a repository, is not read: it leads (as a symlink, or through
    one) to a file outside that repository, which a pull request could point at anything readable here (its
    keys would be echoed in error lines); None when it is not so."""
    from pipelint.text.files import inside, repository_root

    folder = os.path.dirname(os.path.abspath(path))
    repo = repository_root(folder)
    if repo is None:  # not a repository's: the user's own (a home folder's configuration, say)
        return None
    real, tree = os.path.realpath(path), os.path.realpath(repo)
    if inside(real, tree):
        return None
    return f"a symlink to {real}, outside the repository ({tree})"


def from_dict(data: dict, path: str | None, prefix: str = "", shown: str | None = None) -> Settings:
    where = shown or path or "configuration"
    settings = Settings(path=path, root=os.path.dirname(os.path.abspath(path)) if path else ".")
    for key in data:
        if key == "tool" and not prefix and isinstance(data[key], dict) and "pipelint" in data[key]:
            raise ConfigError(f"{where}: unknown key 'tool': only pyproject.toml takes the [tool.pipelint] prefix; "
                              f"in {os.path.basename(where)} write the keys without it ([rules.CON001], not "
                              "[tool.pipelint.rules.CON001])")
        if key not in TOP_KEYS:
            raise ConfigError(f"{where}: unknown key '{prefix}{key}' (allowed: {', '.join(TOP_KEYS)})")
    settings.custom = _custom_rules(data.get("custom-rules"), path, where, prefix)
    for key in ("select", "extend-select", "ignore", "exclude"):
        if key in data:
            value = data[key]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}: '{prefix}{key}' must be a list of strings")
            if key != "exclude":
                resolve(value, prefix + key, path)
    settings.select = data.get("select")
    settings.extend_select = data.get("extend-select", [])
    settings.ignore = data.get("ignore", [])
    settings.exclude = data.get("exclude", [])
    pfi = data.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError(f"{where}: '{prefix}per-file-ignores' must be a table of glob = [codes]")
    for key, globs in (("exclude", settings.exclude), ("per-file-ignores", list(pfi))):
        for glob in globs:  # fnmatch compiles a glob to a regular expression: in time that grows with its length
            if len(glob) > MAX_GLOB:
                raise ConfigError(f"{where}: '{prefix}{key}': a glob of {len(glob):,} characters (at most {MAX_GLOB})")
    for pattern, codes in pfi.items():
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ConfigError(f"{where}: '{prefix}per-file-ignores.{pattern}' must be a list of codes")
        resolve(codes, f"{prefix}per-file-ignores.{pattern}", path)
    settings.per_file_ignores = pfi
    if "max-file-size" in data:
        size = data["max-file-size"]
        if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= MAX_FILE_MB_CEILING:
            raise ConfigError(f"{where}: '{prefix}max-file-size' must be a positive number of megabytes, at most "
                              f"{MAX_FILE_MB_CEILING} (a file's node graph takes up to 150 times its size)")
        settings.max_file_mb = size
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise ConfigError(f"{where}: '{prefix}rules' must be a table")
    for name, options in rules.items():
        rule = rule_class(name)
        if rule is None:
            raise ConfigError(f"{where}: unknown rule '{prefix}rules.{name}' (see `pipelint rules`)")
        if not isinstance(options, dict):
            raise ConfigError(f"{where}: '{prefix}rules.{name}' must be a table")
        checked = validate_options(rule, options, f"{where}: '{prefix}rules.{name}")
        settings.rule_options.setdefault(rule.code, {}).update(checked)
    return settings


def _custom_rules(decls: object, path: str | None, where: str, prefix: str) -> list[type[Rule]]:
    """The custom rules a configuration declares, registered for the run; a bad one is a ConfigError naming the
    file, the rule and the key."""
    if decls is None:
        return []
    if not isinstance(decls, list):
        raise ConfigError(f"{where}: '{prefix}custom-rules' must be an array of tables ([[{prefix}custom-rules]])")
    from pipelint.ruleapi import custom
    from pipelint.rules import BY_CODE, BY_NAME, add_custom

    taken = set(BY_CODE) | set(BY_NAME)
    out = []
    for i, decl in enumerate(decls):
        label = decl.get("code") if isinstance(decl, dict) and isinstance(decl.get("code"), str) else f"#{i + 1}"
        try:
            cls = custom.define(decl, taken)
        except custom.CustomRuleError as exc:
            raise ConfigError(f"{where}: custom rule {label}: '{prefix}custom-rules[{i}].{exc.key}': {exc.problem}") from None
        cls.source = _shown(path) if path else where  # type: ignore[attr-defined, unused-ignore]
        problem = add_custom(cls)
        if problem:
            raise ConfigError(f"{where}: custom rule {label}: {problem}")
        taken |= {cls.code, cls.name}
        out.append(cls)
    return out


def validate_options(rule: type[Rule], options: dict, where: str) -> dict:
    known = {o.name: o for o in rule.options}
    known["severity"] = SEVERITY_OPTION
    for key, value in options.items():
        option = known.get(key)
        if option is None:
            raise ConfigError(f"{where}.{key}' is not an option of {rule.code} (allowed: {', '.join(known)})")
        problem = option.validate(value)
        if problem:
            raise ConfigError(f"{where}.{key}' = {toml_value(value)}: {problem}")
    return dict(options)


def flag_overrides(flags: dict[str, object]) -> dict[str, dict[str, object]]:
    """Per-rule option values from command-line flags (`{"--target": "gar"}`), for the rules whose options
    declare those flags, validated as the configuration's are; unset flags (None) are skipped."""
    from pipelint.rules import RULES

    out: dict[str, dict[str, object]] = {}
    for cls in RULES:
        for option in cls.options:
            value = flags.get(option.flag) if option.flag else None
            if value is None:
                continue
            problem = option.validate(value)
            if problem:
                raise ConfigError(f"{option.flag} {value!r}: {problem}")
            out.setdefault(cls.code, {})[option.name] = value
    return out


def rule_class(name: str) -> type[Rule] | None:
    from pipelint.rules import by_code, by_name

    return by_code().get(name.upper()) or by_name().get(name)


def resolve(selectors: list[str], key: str = "selector", path: str | None = None) -> set[str]:
    """Codes named by selectors: `ALL`, a code, a code prefix (`IMG`, `IMG00`) or a rule name."""
    from pipelint.rules import by_code, by_name

    BY_CODE, BY_NAME = by_code(), by_name()
    codes: set[str] = set()
    for sel in selectors:
        s = sel.strip()
        if s.upper() == "ALL":
            codes |= set(BY_CODE)
        elif s in BY_NAME:
            codes.add(BY_NAME[s].code)
        elif s and any(code.startswith(s.upper()) for code in BY_CODE):
            codes |= {code for code in BY_CODE if code.startswith(s.upper())}
        else:
            where = f"{_shown(path)}: '{key}'" if path else key
            raise ConfigError(f"{where}: unknown rule selector {sel!r} (a code like REG001, a prefix like IMG, "
                              "a rule name like untagged-image, or ALL)")
    return codes


def _inside_root(settings: Settings, key: str, value: str) -> str:
    """A path a configuration file names, joined to its folder; a ConfigError when it leads outside that folder
    (`..`, an absolute path, a symlink): a repository's configuration must not make pipelint read elsewhere."""
    from pipelint.text.files import inside

    joined = os.path.join(settings.root, value)
    if not inside(os.path.realpath(joined), os.path.realpath(settings.root)):
        raise ConfigError(f"{_shown(settings.path or '')}: '{key}': {value!r} is outside the configuration's folder "
                          f"({settings.root}); name a file inside it")
    return joined


def enabled_rules(settings: Settings, select: list[str] | None = None, extend_select: Sequence[str] = (),
                  ignore: Sequence[str] = (), overrides: dict[str, dict] | None = None) -> list[Rule]:
    """Rule instances for a run: configuration first, command-line selectors on top."""
    from pipelint.rules import RULES as BUILT_IN

    RULES = BUILT_IN + tuple(settings.custom)  # a configuration's own custom rules, not another file's

    if select is not None:
        base = resolve(select, "--select")
    elif settings.select is not None:
        base = resolve(settings.select, "select", settings.path)
    else:
        base = {r.code for r in RULES if r.enabled_by_default}
    base |= resolve(settings.extend_select, "extend-select", settings.path)
    base |= resolve(list(extend_select), "--extend-select")
    base -= resolve(settings.ignore, "ignore", settings.path)
    base -= resolve(list(ignore), "--ignore")
    def options_of(cls) -> dict:
        options = dict(settings.rule_options.get(cls.code, {}))
        for option in cls.options:  # a path, set or by default, is the configuration file's neighbour
            if option.path and settings.path:
                options[option.name] = _inside_root(settings, f"rules.{cls.code}.{option.name}",
                                                    str(options.get(option.name, option.default)))
        options.update((overrides or {}).get(cls.code, {}))
        return options

    by_code = {cls.code: cls for cls in RULES}
    rules: list[Rule] = []
    for cls in RULES:
        if cls.code not in base:
            continue
        options = options_of(cls)
        severity = options.pop("severity", None)
        assert severity is None or isinstance(severity, str)  # checked by validate_options
        rule = cls(severity, **options)
        for code in cls.peers:  # the options of the rules it reads too, whether or not those are enabled
            peer = options_of(by_code[code])
            peer.pop("severity", None)
            rule.peer_opts[code] = by_code[code](None, **peer).opts
        rules.append(rule)
    return rules

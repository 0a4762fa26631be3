"""Templated Harness YAML, read the way Terraform's template language renders it: `templatefile()` sources
(`*.tpl`, `*.yaml.tpl`), Harness YAML holding `${...}` interpolations or `%{...}` directives, and (through
pipelint.terraform) the same text in a heredoc. One model for all of them, so the same template text gives the same
findings wherever it lives.

- An interpolation inside a line is a value known only when Terraform renders the file: it is masked, character for
  character, as a Harness expression (`<+___>`), which the YAML parser reads as a scalar and no rule reports or
  rewrites. One that spans lines (`${jsonencode({ ... })}`) is masked on its first line and blank on the others.
- A `${...}` alone on its line inserts a block (a module's `${STAGE_INFRASTRUCTURE}`), and a directive alone on its
  line (`%{ if x ~}`, `%{ else }`, `%{ endif }`, `%{ for ... }`, `%{ endfor }`) renders to nothing there: both are
  masked as a comment of the same length.
- The arms of `%{ if }...%{ else }...%{ endif }` are alternative renderings. A file with arms is read twice: once
  with every first arm (the `if` arm) and once with every second arm (the `else` arm; an `if` without one renders to
  nothing), the other arm's lines blanked (spaces, line breaks kept, so positions hold). A key set in both arms is
  no duplicate; a finding in either rendering is reported once; a fix is offered only where it is right in every
  rendering (pipelint.fixplan.rewrite_regions). A `%{ for }` body is read once, as one iteration.
- `$${` and `%%{` are the template's escapes for a literal `${`/`%{`: not holes.

Files: `*.yaml.tpl` and `*.yml.tpl` are Harness YAML by their name; a plain `*.tpl` (what many modules name the
files they pass to `templatefile()`) when it has a Harness root key line, like any YAML file; and any file a
Harness resource reads through `file()`/`templatefile()` (pipelint.terraform.references).

Every mask keeps each character's offset, so a template is a region of itself (source.Region) whose holes no edit
may touch, and the outer text of a fix is read back through the same masks.
"""

from __future__ import annotations

from pipelint.text.source import Region, Source, blank

SUFFIXES = (".yaml.tpl", ".yml.tpl")  # checked as Harness YAML whatever they hold; a plain `.tpl` needs a root key
MAX_HOLE = 4096  # characters of one interpolation or directive: past this, `${` is text, not template syntax
_KEYWORDS = ("if", "else", "endif", "for", "endfor")


def is_template(path: str) -> bool:
    return path.endswith(SUFFIXES)


def holes(text: str) -> list[tuple[int, int]]:
    """The [start, end) of every `${...}` and `%{...}` (braces nested, quoted strings inside skipped; one may span
    lines, up to MAX_HOLE characters)."""
    out: list[tuple[int, int]] = []
    i = 0
    n = len(text)
    while True:
        i = _next_open(text, i)
        if i < 0:
            return out
        j, depth, quote = i + 2, 1, False
        limit = min(n, i + MAX_HOLE)
        while j < limit and depth:
            c = text[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == '"':
                    quote = False
                elif c == "\n":
                    break  # a quoted string ends on its line: not template syntax
            elif c == '"':
                quote = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            j += 1
        if depth == 0:
            out.append((i, j))
            i = j
        else:
            i += 2


def _next_open(text: str, start: int) -> int:
    best = -1
    for mark in ("${", "%{"):
        k = text.find(mark, start)
        while k > 0 and text[k - 1] == mark[0]:  # `$${`: an escaped, literal `${`
            k = text.find(mark, k + 2)
        if k >= 0 and (best < 0 or k < best):
            best = k
    return best


def _alone(text: str, a: int, b: int) -> bool:
    """Whether [a, b) is alone on its line(s): only white space before it and after it."""
    line_start = text.rfind("\n", 0, a) + 1
    line_end = text.find("\n", b)
    return not text[line_start:a].strip() and not text[b:line_end if line_end >= 0 else len(text)].strip()


def keyword(hole: str) -> str | None:
    """The directive keyword of a `%{...}` hole (`if`, `else`, `endif`, `for`, `endfor`), or None."""
    if not hole.startswith("%{"):
        return None
    words = hole[2:-1].strip().strip("~").split()
    return words[0] if words and words[0] in _KEYWORDS else None


def mask(text: str, spans: list[tuple[int, int]]) -> str:
    """The text with each hole masked (see the module docstring): `<+___>` inside a line, a same-length comment
    alone on a line, line breaks kept."""
    parts = []
    at = 0
    for a, b in spans:
        parts.append(text[at:a])
        hole = text[a:b]
        if _alone(text, a, b) and hole.startswith("$"):
            parts.append("#$" + blank(hole[2:]))  # a block pipelint cannot see (rules may ask: CON005)
        elif _alone(text, a, b) and (keyword(hole) is not None or "\n" not in hole):
            parts.append("#" + blank(hole[1:]))  # renders to nothing here
        else:
            first, nl, rest = hole.partition("\n")
            if len(first) >= 3:
                parts.append("<+" + "_" * (len(first) - 3) + ">")
            else:
                parts.append(first)
            parts.append(nl + blank(rest))
        at = b
    parts.append(text[at:])
    return "".join(parts)


def arms(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int, int | None, int]]:
    """The arms of every `%{ if }` whose directives stand alone on their lines, as (start, end, enclosing arm,
    if): [start, end) the lines between two directives, the index of the arm it lies in (None at the top), and
    which if it belongs to (arms of one if share it, in order). An `if` without `else` has one arm. Unbalanced
    directives make no arms (the file is read in one rendering)."""
    out: list[tuple[int, int, int | None, int]] = []
    stack: list[list] = []  # per open if: [start of its current arm, enclosing arm index, its number]
    current: list[int] = []  # per open if: the index of its current arm in `out`
    ifs = 0
    for a, b in spans:
        word = keyword(text[a:b])
        if word not in ("if", "else", "endif") or not _alone(text, a, b):
            continue
        line_end = text.find("\n", b)
        after = len(text) if line_end < 0 else line_end + 1  # an arm starts on the next line
        line_start = text.rfind("\n", 0, a) + 1
        if word == "if":
            parent = current[-1] if current else None
            stack.append([after, parent, ifs])
            out.append((after, after, parent, ifs))  # its end is known at its else or endif
            current.append(len(out) - 1)
            ifs += 1
        elif not stack:
            return []
        else:
            start, parent, number = stack[-1]
            out[current.pop()] = (start, line_start, parent, number)
            if word == "else":
                stack[-1][0] = after
                out.append((after, after, parent, number))
                current.append(len(out) - 1)
            else:
                stack.pop()
    return out if not stack else []


# A template whose arms would make more renderings, or more text to read in all, is read in two (every first arm,
# every second): bounded work whatever the file holds.
MAX_RENDERINGS = 64
MAX_RENDERED = 4 * 1024 * 1024  # characters, all renderings together


def renderings(text: str, spans: list[tuple[int, int]]) -> list[tuple[str, tuple[tuple[int, int], ...]]]:
    """(masked text, blanked ranges) of each rendering. A text without if-arms has one. Else the first rendering
    takes the first arm of every if that has an `else` (one of its arms always renders) and leaves out every
    if without one; then one rendering per arm takes that arm and the arms it lies in, the others as the first.
    So two arms are read together only when Terraform can render them together: never two arms of one if, nor
    the bodies of two ifs without `else` (their conditions may exclude each other)."""
    masked = mask(text, spans)
    found = arms(text, spans)
    if not found:
        return [(masked, ())]
    positions = _positions(found)
    if len(found) + 1 <= MAX_RENDERINGS and (len(found) + 1) * len(text) <= MAX_RENDERED:
        choices: list[set[int]] = [set()] + [_with_ancestors(i, found) for i in range(len(found))]
        keeps = [_taken(forced, found, positions) for forced in choices]
    else:  # every first arm, then every second arm
        seconds: set[int] = set()
        for i, p in enumerate(positions):
            if p == 1:
                seconds |= _with_ancestors(i, found)
        keeps = [_taken(set(), found, positions), _taken(seconds, found, positions)]
    out = []
    seen = set()
    for keep in keeps:
        blanked = _merged([(s, e) for i, (s, e, _, _) in enumerate(found) if i not in keep])
        if tuple(blanked) in seen:
            continue  # the same rendering again (an arm the first rendering takes anyway)
        seen.add(tuple(blanked))
        chars = list(masked)
        for s, e in blanked:
            chars[s:e] = blank(masked[s:e])
        out.append(("".join(chars), tuple(blanked)))
    return out


def _with_ancestors(i: int, found: list) -> set[int]:
    out = set()
    at: int | None = i
    while at is not None:
        out.add(at)
        at = found[at][2]
    return out


def _positions(found: list) -> list[int]:
    """Which arm of its if each arm is (0: the `if` arm, 1: the `else` arm)."""
    seen: dict[int, int] = {}
    out = []
    for _, _, _, number in found:
        out.append(seen.get(number, 0))
        seen[number] = out[-1] + 1
    return out


def _taken(forced: set[int], found: list, positions: list[int]) -> set[int]:
    """The arms a rendering takes: the `forced` ones (with the arms they lie in), and for every other if that
    has an `else`, its first arm, when the arm it lies in is taken."""
    forced_ifs = {found[i][3] for i in forced}
    has_else = {found[i][3] for i, p in enumerate(positions) if p == 1}
    taken: set[int] = set()
    for i, (_, _, parent, number) in enumerate(found):  # an arm comes after the arm it lies in
        if parent is not None and parent not in taken:
            continue
        if i in forced or (number not in forced_ifs and number in has_else and positions[i] == 0):
            taken.add(i)
    return taken


def _merged(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        elif e > s:
            out.append((s, e))
    return out


def region_sources(src: Source) -> list[Source]:
    """The file as regions of itself, one per rendering, with its template syntax masked; [] when it holds none."""
    text = src.text
    if text is None or not (("$" in text and "${" in text) or ("%" in text and "%{" in text)):
        return []  # one character first: a search for one is memchr, for two several times slower
    spans = holes(text)
    if not spans:
        return []
    out = []
    for masked, blanked in renderings(text, spans):
        region = Region.whole(src.path, text)
        region.holes = tuple(spans)
        region.blanked = blanked
        out.append(Source(src.path, masked, src.bom, src.newline, region=region))
    return out


def units(src: Source, named: str | None = None) -> list[Source] | None:
    """The expander (pipelint.embed.expand): a template's renderings, or a file a Terraform resource reads
    (`named`) as a region of itself; None for a file that is neither (or whose `${...}` is in YAML that is not
    Harness's: the substring test first, it is cheaper than the root-key search)."""
    from pipelint.harness.sites import may_hold_harness

    renderings = region_sources(src)
    if renderings and not (named or is_template(src.path) or may_hold_harness(src)):
        renderings = []
    if not renderings and named and src.text is not None:
        renderings = [Source(src.path, src.text, src.bom, src.newline, region=Region.whole(src.path, src.text))]
    if not renderings:
        return None
    for inner in renderings:
        if named and inner.region is not None:
            inner.region.kind, inner.region.name = "named", named
    return renderings


def reread(path: str, text: str) -> list[str]:
    """The masked text of every rendering of a changed file: what a fix must have produced."""
    return [masked for masked, _ in renderings(text, holes(text))]

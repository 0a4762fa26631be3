"""Harness YAML inside Terraform: the `yaml`/`template_yaml` heredocs of the Harness provider's resources, as
regions of the `.tf` file (source.Region), read with a real HCL parser (tree-sitter's HCL grammar).

Why tree-sitter: on the corpus's provider examples repeated to 1 MB it parsed in 0.39 s with byte positions for
every node (heredoc bodies, `${...}` interpolations, `%{...}` directives), where python-hcl2 (Lark) took 6.3 s and
its dictionaries carry no positions. It is imported only when a `.tf` file names a `harness_platform_` resource.

Interpolations and directives are holes: the YAML parser sees each as a same-length `<+...>` expression (so no
rule reports or rewrites it, and every position is kept), and no edit may touch one.
"""

from __future__ import annotations

import re

from pipelint.text.source import Region, Source, line_col, line_of, uniformly_indented

SUFFIX = ".tf"
MARKER = "harness_platform_"  # a .tf file that does not name a Harness resource is not parsed
YAML_ATTRIBUTES = {
    "harness_platform_pipeline": ("yaml",),
    "harness_platform_template": ("template_yaml",),
    "harness_platform_input_set": ("yaml",),
    "harness_platform_triggers": ("yaml",),
}
_HOLES = ("template_interpolation", "template_directive")

_parser = None
_last: tuple[bytes, object] | None = None  # the last text parsed and its tree: discovery and the check share it


def _parse(data: bytes):
    """tree-sitter's tree of a `.tf` text. tree-sitter skips the bodies of its heredocs (its included ranges are
    the text around them, so every byte offset holds): their YAML is libyaml's to read, and tree-sitter reading it
    too cost more than half of a heredoc tree's check (reading them blanked to spaces, still a tenth of it).
    Should a skipped stretch not turn out to be a heredoc's body in the tree (a `<<EOT` inside a comment or a
    string), the text is parsed whole."""
    global _parser, _last  # noqa: PLW0603 -- one parser, built on first use
    if _last is not None and _last[0] == data:
        return _last[1]
    if _parser is None:
        import tree_sitter
        import tree_sitter_hcl

        _parser = tree_sitter.Parser(tree_sitter.Language(tree_sitter_hcl.language()))
    bodies = _heredoc_bodies(data)
    tree = None
    if bodies:
        _parser.included_ranges = _around(data, bodies)
        try:
            tree = _parser.parse(data)
        finally:
            _parser.included_ranges = []  # the whole text again (tree-sitter reads [] as everything)
    if tree is None or tree.root_node.has_error or not _all_heredocs(tree, bodies):
        tree = _parser.parse(data)
    _last = (data, tree)
    return tree


def _around(data: bytes, bodies: list[tuple[int, int]]) -> list:
    """tree-sitter ranges covering `data` but `bodies` (in order, not overlapping), with their rows and columns."""
    import tree_sitter

    out = []
    row, line_start, seen = 0, 0, 0  # the rows counted up to `seen`, and where the line at `seen` starts

    def point(at: int) -> tuple[int, int]:
        nonlocal row, line_start, seen
        row += data.count(b"\n", seen, at)
        newline = data.rfind(b"\n", seen, at)
        if newline != -1:
            line_start = newline + 1
        seen = at
        return row, at - line_start

    start = 0
    for body_start, body_end in bodies:
        out.append(tree_sitter.Range(point(start), point(body_start), start, body_start))
        start = body_end
    out.append(tree_sitter.Range(point(start), point(len(data)), start, len(data)))
    return out


_HEREDOC_OPEN: re.Pattern[bytes] | None = None


def _heredoc_bodies(data: bytes) -> list[tuple[int, int]]:
    """The (start, end) byte ranges of what look like heredocs' bodies (a line `<<EOT` or `<<-EOT` ends, up to the
    line that holds EOT alone), none empty."""
    global _HEREDOC_OPEN  # noqa: PLW0603 -- compiled on first need
    if b"<<" not in data:
        return []
    if _HEREDOC_OPEN is None:
        _HEREDOC_OPEN = re.compile(rb"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
    bodies = []
    at = 0
    while True:
        m = _HEREDOC_OPEN.search(data, at)
        if m is None:
            break
        start = m.end()
        close = _closing_line(data, m.group(1), start)
        if close is None:
            break  # not closed: tree-sitter says where (an error, as when nothing is skipped)
        end, at = close
        if end > start:
            bodies.append((start, end))
    return bodies


def _closing_line(data: bytes, ident: bytes, start: int) -> tuple[int, int] | None:
    """(start, end) of the first line from `start` (a line start) on that holds `ident` alone between spaces and
    tabs (a CR may end it): where a heredoc ends. Found by searching for the identifier (bytes.find, in C), not by
    trying a pattern at every line: the same answer as `^[ \\t]*IDENT[ \\t]*\\r?$` (tests/test_terraform.py)."""
    at = data.find(ident, start)
    while at != -1:
        line_start = data.rfind(b"\n", start, at) + 1 or start
        after = at + len(ident)
        line_end = data.find(b"\n", after)
        if line_end == -1:
            line_end = len(data)
        rest = data[after:line_end]
        if rest.endswith(b"\r"):
            rest = rest[:-1]
        if not data[line_start:at].strip(b" \t") and not rest.strip(b" \t"):
            return line_start, line_end
        at = data.find(ident, at + 1)
    return None


def _all_heredocs(tree, bodies: list[tuple[int, int]]) -> bool:
    """Whether every skipped range is the body of a heredoc in `tree`."""
    spans = sorted((n.start_byte, n.end_byte) for n in _descendants(tree.root_node) if n.type == "heredoc_template")
    i = 0
    for start, end in bodies:
        while i < len(spans) and spans[i][1] < end:
            i += 1
        if i == len(spans) or not spans[i][0] < start:
            return False
    return True


def is_terraform(path: str) -> bool:
    return path.endswith(SUFFIX)


def units(src: Source, named: str | None = None) -> list[Source] | None:
    """The expander (pipelint.embed.expand): a .tf file's Harness units, None for any other file."""
    return regions(src) if src.path.endswith(SUFFIX) else None


def regions(src: Source) -> list[Source]:
    """The Harness YAML heredocs of a `.tf` source, each a Source whose region is its place in the file; [] for a
    file that names no Harness resource; for one that does not parse as HCL, one Source without text whose error
    says where parsing stopped (nothing is guessed, and nothing is silent: YML001 reports it)."""
    text = src.text
    if text is None or MARKER not in text:
        return []
    return _regions(src.path, text)


def _regions(path: str, text: str) -> list[Source]:
    data = text.encode("utf-8")
    tree = _parse(data)
    chars = _CharOffsets(data, text)
    if tree.root_node.has_error:
        return [_unparsed(path, text, chars, tree.root_node)]
    out = []
    for rtype, address, block, body in _resources(tree.root_node):
        if rtype == DOCKER_CONNECTOR:
            made = _named(_connector(path, text, chars, block, body), address)
            _comments_above(made, text, chars(block.start_byte), chars(block.end_byte))
            out.append(made)
            continue
        for attr in _yaml_attributes(rtype, body):
            heredoc = _find(attr, "heredoc_template")
            if heredoc is None:
                quoted = _find(attr, "quoted_template") or _find(attr, "string_lit")
                expr = attr.children[-1]
                if quoted is None or (quoted.start_byte, quoted.end_byte) != (expr.start_byte, expr.end_byte):
                    continue  # an expression (file(), templatefile(), a variable): not read here
                found = [_quoted(path, text, chars, quoted)]
            else:
                found = _heredoc(path, text, chars, heredoc)
            for rendering in found:
                _named(rendering, address)
                _comments_above(rendering, text, chars(attr.start_byte), chars(attr.end_byte), chars(block.start_byte))
                out.append(rendering)
    return out


def _unparsed(path: str, text: str, chars, root) -> Source:
    """The error Source of a `.tf` file that does not parse: where the first error or missing token lies."""
    at = next((n for n in _descendants(root) if n.type == "ERROR" or n.is_missing), root)
    offset = chars(at.start_byte)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Source(path, None, error="not valid Terraform (HCL) from here on, so the Harness resources in this file "
                                    "are not checked (a heredoc ended early by its own delimiter line?)",
                  error_line=line, error_column=column)


_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _quoted(path: str, text: str, chars, node) -> Source:
    """YAML in a quoted HCL string (`yaml = "pipeline:\\n  ..."`): its value, escapes decoded and interpolations
    masked, as a point region (source.Region.point): findings at the string, nothing in it edited."""
    parts = []
    for child in node.children:
        if child.type == "template_literal":
            parts.append(_unescape(child.text.decode("utf-8")))
        elif child.type in _HOLES:
            parts.append(_masked(child.text.decode("utf-8")))
    value = "".join(parts)
    return Source(path, value, region=Region.point(path, text, chars(node.start_byte), value))


def _unescape(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            nxt = s[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            width = {"u": 4, "U": 8}.get(nxt)
            if width and i + 2 + width <= len(s):
                try:
                    out.append(chr(int(s[i + 2:i + 2 + width], 16)))
                    i += 2 + width
                    continue
                except ValueError:
                    pass
        if s.startswith(("$${", "%%{"), i):
            out.append(s[i + 1:i + 3])
            i += 3
            continue
        out.append(c)
        i += 1
    return "".join(out)


def references(src: Source) -> list[tuple[str | None, str, int, int, str]]:
    """(path, resource address, line, column, the path as written) of each file a Harness resource's YAML
    attribute reads with `file("...")` or `templatefile("...", {...})`:
    a path relative to the `.tf` file's folder (`${path.module}/` allowed; any other interpolation makes the
    path unknowable here, and it is skipped). Whether the path stays inside the checked tree is the caller's
    question (files.Boundary). An attribute whose whole value is `yamlencode(...)` or `jsonencode(...)` (the
    pipeline written as HCL values, which pipelint does not read) is (None, address, line, column, the call's
    name): the caller says it is not checked, rather than pass over it in silence."""
    import os

    text = src.text
    if text is None or MARKER not in text or ("file(" not in text and "encode(" not in text):
        return []
    data = text.encode("utf-8")
    tree = _parse(data)
    if tree.root_node.has_error:
        return []
    chars = _CharOffsets(data, text)
    folder = os.path.dirname(src.path)
    out: list[tuple[str | None, str, int, int, str]] = []
    for rtype, address, _, body in _resources(tree.root_node):
        for attr in _yaml_attributes(rtype, body):
            call = _find(attr, "function_call")
            if call is not None and call.children[0].text in (b"yamlencode", b"jsonencode") \
                    and (call.start_byte, call.end_byte) == (attr.children[-1].start_byte, attr.children[-1].end_byte):
                out.append((None, address, *line_col(text, chars(call.start_byte)),
                            call.children[0].text.decode() + "(...)"))
                continue
            if call is None or call.children[0].text not in (b"file", b"templatefile"):
                continue
            args = _find(call, "function_arguments")
            first = _find(args, "quoted_template") if args is not None else None
            if first is None:
                first = _find(args, "string_lit") if args is not None else None
            if first is None:
                continue
            name: str | None = ""
            for part in first.children:
                if part.type == "template_literal" and name is not None:
                    name += part.text.decode("utf-8")
                elif part.type == "template_interpolation":
                    if part.text.replace(b" ", b"") != b"${path.module}":
                        name = None
                        break
                    name = (name or "") + "."
            if name:
                at = chars(first.start_byte)
                line, column = line_col(text, at)
                written = _unescape(text[at:chars(first.end_byte)].strip('"'))
                out.append((os.path.normpath(os.path.join(folder, name)), address, line, column, written))
    return out


def _comments_above(src: Source, text: str, start: int, end: int, block_start: int | None = None) -> None:
    """The comment lines right above an attribute (or its resource), for the engine to read as ignore comments
    that cover every line of it: (text, start, end, line, column, first line, last line) each."""
    assert src.region is not None
    first, last = line_of(text, start), line_of(text, end)
    for anchor in (start, block_start) if block_start is not None else (start,):
        line_start = text.rfind("\n", 0, anchor) + 1
        while line_start > 0:
            prev_start = text.rfind("\n", 0, line_start - 1) + 1
            line = text[prev_start:line_start - 1]
            stripped = line.strip()
            if not stripped.startswith(("#", "//")):
                break
            if "pipelint:" in stripped:
                col = len(line) - len(line.lstrip()) + 1
                src.region.directives.append((stripped, prev_start + col - 1, line_start - 1,
                                              line_of(text, prev_start), col, first, last))
            line_start = prev_start


def _named(src: Source, address: str) -> Source:
    assert src.region is not None
    src.region.name = address
    return src


def _heredoc(path: str, text: str, chars, node) -> list[Source]:
    """A heredoc's YAML as regions of the .tf file, one per rendering of its template (pipelint.templated: the
    same masks and arms as a template file, so the same text gives the same findings wherever it lives)."""
    from pipelint.embed import templated

    kids = node.children
    strip_marker = kids[0].children[0].type == "<<-" if kids and kids[0].children else False
    idents = [k for k in kids if k.type == "heredoc_identifier"]
    if len(idents) != 2:
        return []
    start = chars(idents[0].end_byte)
    start = text.find("\n", start) + 1 or len(text)
    end = text.rfind("\n", 0, chars(idents[1].start_byte)) + 1  # the closing line is not content
    if end < start:
        end = start
    strip = _common_indent(text[start:end]) if strip_marker else 0
    region, inner = Region.of_lines(path, text, start, end, strip=strip)  # read back by reread_all
    # the template model's own holes, on the text Terraform renders (tree-sitter's directive nodes span a whole
    # `%{ if }...%{ endif }`, arms included)
    inner_holes = [(a, b) for a, b in templated.holes(inner) if b - a >= 3]
    newline = "\r\n" if "\r" in text and "\r\n" in text else "\n"  # one character first: memchr
    out = []
    for n, (masked, blanked) in enumerate(templated.renderings(inner, inner_holes)):
        if n:  # each rendering its own region: fixes know which one they were made in
            region, _ = Region.of_lines(path, text, start, end, strip=strip)
        region.holes = tuple(inner_holes)
        region.blanked = blanked
        out.append(Source(path, masked, newline=newline, region=region))
    return out


def reread_all(path: str, outer: str) -> list[str] | None:
    """The masked inner texts of every Harness heredoc of a changed `.tf` text, in order; None when it no longer
    parses as HCL."""
    data = outer.encode("utf-8")
    if _parse(data).root_node.has_error:
        return None
    return [s.text or "" for s in _regions(path, outer)]


DOCKER_CONNECTOR = "harness_platform_connector_docker"
# resource attribute -> the connector YAML key Harness has for it: at the top, then in `spec`
_TOP_KEYS = (("identifier", "identifier"), ("org_id", "orgIdentifier"), ("project_id", "projectIdentifier"))
_SPEC_KEYS = (("url", "dockerRegistryUrl"), ("type", "providerType"))
# after `auth`, the last key of `spec`: where a fix inserting it into the connector YAML puts it
_DELEGATE = ("execute_on_delegate", "executeOnDelegate")


def _connector(path: str, text: str, chars, block, body) -> Source:
    """A `harness_platform_connector_docker` resource as the connector document Harness makes of it, written so
    that every value is the attribute's own text (a string literal with its quotes, `true`/`false`): each such
    value maps onto the attribute in the .tf file, and everything else (the keys, what the resource implies) is a
    hole, so a fix may replace a value and nothing else. An expression value (`var.org`) is a hole as well."""
    attrs = {a.children[0].text.decode(): a for a in body.children if a.type == "attribute"}
    blocks = {b.children[0].text.decode() for b in body.children if b.type == "block"}
    block_start = chars(block.start_byte)
    lines: list[tuple[str, str, int | None, bool]] = [("connector:", "", None, False)]  # (prefix, value, outer, literal)

    def value_of(name: str):
        attr = attrs.get(name)
        if attr is None:
            return None
        expr = attr.children[-1]
        lit = _find(expr, "string_lit") if expr.type == "expression" else None
        node = lit if lit is not None and lit.start_byte == expr.start_byte and lit.end_byte == expr.end_byte else None
        node = node or (_find(expr, "bool_lit") if expr.text in (b"true", b"false") else None)
        start, end = chars(expr.start_byte), chars(expr.end_byte)
        literal = node is not None and not any(d.type in _HOLES for d in _descendants(node))
        return text[start:end], start, literal

    for attr, key in _TOP_KEYS:
        got = value_of(attr)
        if got is not None:
            lines.append((f"  {key}: ", got[0], got[1], got[2]))
    lines.append(("  type: DockerRegistry", "", None, False))
    lines.append(("  spec:", "", None, False))
    for attr, key in _SPEC_KEYS:
        got = value_of(attr)
        if got is not None:
            lines.append((f"    {key}: ", got[0], got[1], got[2]))
    lines.append(("    auth:", "", None, False))
    lines.append((f"      type: {'UsernamePassword' if 'credentials' in blocks else 'Anonymous'}", "", None, False))
    delegate = value_of(_DELEGATE[0])
    if delegate is not None:
        lines.append((f"    {_DELEGATE[1]}: ", delegate[0], delegate[1], delegate[2]))
    inner_parts, inner_starts, outer_starts, holes = [], [], [], []
    at = 0
    for prefix, value, outer, literal in lines:
        line = prefix + (value if literal or not value else _masked(value)) + "\n"
        inner_starts.append(at)
        if outer is not None and literal:
            outer_starts.append(outer - len(prefix))
            holes.append((at, at + len(prefix)))  # the key: not the .tf file's text
            holes.append((at + len(prefix) + len(value), at + len(line)))
        else:
            outer_starts.append(block_start - (len(prefix) - len(prefix.lstrip())))
            holes.append((at, at + len(line)))
        inner_parts.append(line)
        at += len(line)
    inner = "".join(inner_parts)
    holes.append((len(inner) - 1, len(inner) + 1))  # nothing may be added after the last line either
    region = Region(path, text, inner_starts, outer_starts, len(inner), True, "", tuple(holes))
    region.hole_reason = "it would add or change text of the resource other than an attribute's value"
    insertion = _attribute_insertion(text, chars, block, body) if delegate is None else None
    if insertion is not None:
        region.insertion = (len(inner), *insertion)
    return Source(path, inner, region=region)


_INSERTED = r" {4}" + _DELEGATE[1] + r": (true|false)\n"


def _attribute_insertion(text: str, chars, block, body) -> tuple[str, int, str] | None:
    """How the connector YAML's added last line `    executeOnDelegate: false` is written in the .tf file
    (source.Region.insertion, without the inner offset): as the attribute `execute_on_delegate = false` on a line
    of its own before the resource's closing brace, after a blank line, so that it is an alignment group of its
    own (`terraform fmt` leaves the other lines as they are). None when the brace does not stand on a line of its
    own."""
    close = chars(block.end_byte) - 1
    line_start = text.rfind("\n", 0, close) + 1
    if text[close:close + 1] != "}" or text[line_start:close].strip():
        return None
    newline = "\r\n" if text[line_start - 2:line_start] == "\r\n" else "\n"
    attrs = [c for c in body.children if c.type in ("attribute", "block")]
    indent = "  "
    if attrs:
        first = chars(attrs[0].start_byte)
        indent = text[text.rfind("\n", 0, first) + 1:first]
        if indent.strip():
            return None
    before = line_start  # where the text before the brace's line ends, line breaks left out (no copy of the prefix)
    while before > 0 and text[before - 1] in "\r\n":
        before -= 1
    blank = text[before:line_start].count("\n") >= 2 or text[before - 1:before] == "{"
    template = ("" if blank else newline) + f"{indent}{_DELEGATE[0]} = {{0}}{newline}"
    return _INSERTED, line_start, template


def _masked(value: str) -> str:
    """An expression's text as a same-length Harness expression (a hole the YAML parser reads as a scalar)."""
    return "<+" + "_" * max(len(value) - 3, 0) + ">" if len(value) >= 3 else "<+>"


def _common_indent(body: str) -> int:
    """What `<<-` removes: the fewest leading white-space characters of a line with content (a tab counts one)."""
    global _INDENTS  # noqa: PLW0603 -- compiled on first need
    head = body[:256]
    first = len(head) - len(head.lstrip(" "))  # the first line's leading spaces
    if body[first:first + 1] not in ("", " ", "\t", "\f", "\v", "\r", "\n") and (
            not first or uniformly_indented(body.split("\n"), first)):
        return first  # the first line has content there, and no line has less (terraform fmt's heredocs)
    if _INDENTS is None:
        _INDENTS = re.compile(r"^([ \t\f\v]*)(?=[^\n]*\S)", re.MULTILINE)
    return min(map(len, _INDENTS.findall(body)), default=0)


_INDENTS: re.Pattern | None = None


def _literal(node) -> str | None:
    lit = next((c for c in node.children if c.type == "template_literal"), None)
    return lit.text.decode() if lit is not None else None


def _resources(root):
    """(type, address, block, body) of each Harness resource pipelint reads (YAML holders and Docker connectors)."""
    for block in _blocks(root):
        labels = [c for c in block.children if c.type == "string_lit"]
        body = next((c for c in block.children if c.type == "body"), None)
        if block.children[0].text != b"resource" or not labels or body is None:
            continue
        rtype = _literal(labels[0]) or ""
        if rtype in YAML_ATTRIBUTES or rtype == DOCKER_CONNECTOR:
            yield rtype, f"{rtype}.{_literal(labels[1])}" if len(labels) > 1 else rtype, block, body


def _yaml_attributes(rtype: str, body):
    """The attributes of a resource's body that hold its Harness YAML (`yaml`, `template_yaml`)."""
    wanted = YAML_ATTRIBUTES.get(rtype, ())
    return [a for a in body.children if a.type == "attribute" and a.children[0].text.decode() in wanted]


def _blocks(root):
    body = next((c for c in root.children if c.type == "body"), None)
    return [c for c in body.children if c.type == "block"] if body is not None else []


def _find(node, kind: str):
    for d in _descendants(node):
        if d.type == kind:
            return d
    return None


def _descendants(node):
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children))


class _CharOffsets:
    """Byte offsets (tree-sitter's, at character boundaries) to character offsets (the Source's): the same for
    ASCII text; else less the bytes that the multi-byte characters before it take beyond one, by a binary search
    over them (decoding the text up to each offset made a file of many resources quadratic)."""

    def __init__(self, data: bytes, text: str):
        self.ascii = len(data) == len(text)
        self.ends: list[int] = []  # where each multi-byte character ends
        self.extra: list[int] = []  # the bytes beyond one that it and those before it take
        if not self.ascii:
            total = 0
            for m in re.finditer(rb"[\xc0-\xff][\x80-\xbf]+", data):  # `data` is text.encode("utf-8")
                total += m.end() - m.start() - 1
                self.ends.append(m.end())
                self.extra.append(total)

    def __call__(self, byte: int) -> int:
        if self.ascii:
            return byte
        import bisect

        i = bisect.bisect_right(self.ends, byte)
        return byte - self.extra[i - 1] if i else byte

"""Reading a file: bytes -> text, remembering what a rewrite must restore (BOM, newline style).

Nothing here knows YAML or Harness. A `Source` is what every later stage works on: `text` is the decoded content
*without* a UTF-8 byte order mark (libyaml does not count a BOM in its marks, the pure-Python parsers do;
stripping it here makes every mark an index into `text`), and `encode()` gives the bytes back exactly.
"""

from __future__ import annotations

import os
import re
import stat as _stat
from collections import Counter
from itertools import accumulate
from operator import add, itemgetter, sub

UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)

# characters a terminal or a log viewer acts on rather than shows: C0 controls (tab aside), DEL, C1 controls, and
# the bidirectional overrides and isolates ("Trojan Source"); line breaks too, so no value can start a line of
# its own in one-line output; and a file name's bytes that are not UTF-8, which Python keeps as lone surrogates
# (U+DC80-U+DCFF) no UTF-8 output can hold. Compiled on first need: most texts pass str.isprintable, a C loop,
# and the pre-commit path does not pay for the pattern.
_UNPRINTABLE = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\udc80-\udcff]"
_PATTERN: list = []


def _picture(match: re.Match) -> str:
    c = ord(match[0])
    return chr(0x2400 + c) if c < 0x20 else "\u2421" if c == 0x7F else "\ufffd"


def quoted(text: str, limit: int = 80) -> str:
    """A configuration value as a one-line message quotes it: repr, cut to `limit` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit - 3]) + "..."


def printable(text: str) -> str:
    """`text` safe to show on a terminal, in a CI log or in Markdown: each control character (ESC, a line break,
    a bidi override) becomes one visible character (its Unicode control picture, else U+FFFD), so columns stay
    where they were. Values from files and file names reach output through here."""
    if text.isprintable():  # False for every character the pattern names (and for some harmless ones)
        return text
    if not _PATTERN:
        _PATTERN.append(re.compile(_UNPRINTABLE))
    return _PATTERN[0].sub(_picture, text)


def json_text(text: str) -> str:
    """JSON text made with `ensure_ascii=False` as valid UTF-8: a file name's byte that is not UTF-8 (a lone
    surrogate in Python's str) becomes its `\\udcXX` escape, which json.loads turns back into the same name,
    so a JSON report, baseline or cache entry names such a file exactly."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return re.sub("[\ud800-\udfff]", lambda m: f"\\u{ord(m[0]):04x}", text)


def file_bytes(path: str) -> bytes:
    """A file name as the bytes it is on disk (its undecodable bytes back as they were): for hashing it."""
    try:
        return path.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate no file system decoding makes: kept, as its UTF-16 value
        return path.encode("utf-8", "surrogatepass")


def printable_lines(text: str) -> str:
    """`printable` for text of many lines: its line feeds stay."""
    return "\n".join(printable(line) for line in text.split("\n"))


class Source:
    """A file's text as decoded, and how to write it back (BOM, newline), or why it is not text."""

    __slots__ = ("bom", "error", "error_column", "error_line", "newline", "path", "raw", "region", "text")

    def __init__(self, path: str, text: str | None, bom: bool = False, newline: str = "\n", error: str | None = None,
                 error_line: int = 1, error_column: int = 1, raw: bytes = b"", region: Region | None = None):
        self.path = path  # as shown in reports
        # where `text` lies in an outer file (YAML in a Terraform heredoc, say); None: the text is the file's
        self.region = region
        self.text = text  # decoded, BOM removed; None when the bytes are not UTF-8 text
        self.bom = bom
        self.newline = newline
        self.error = error  # why the bytes are not text
        self.error_line = error_line
        self.error_column = error_column
        self.raw = raw

    def encode(self, text: str) -> bytes:
        """Bytes for `text` (a rewrite of this source), with the BOM restored."""
        data = text.encode("utf-8")
        return UTF8_BOM + data if self.bom else data


class Region:
    """Where a source's text lies inside an outer file's text: YAML in a Terraform heredoc, an input set
    held as a YAML string, a templated file. Every position and edit on the inner text is translated to the
    outer file at one point (`finding.translate`), so reports name the outer file's lines and a fix is a
    patch on the outer file's bytes.

    The inner text is the outer text's lines `start`..`end`, each with up to `strip` leading spaces removed
    (a `<<-` heredoc's indentation): within a line, offsets map one to one. `holes` are inner ranges that
    belong to the outer language (`${...}` interpolations): never a site, never edited. A fix is verified on both
    layers by the expander's own reader of the outer format (pipelint.embed.expand: the outer file still parses,
    and reads back as exactly the edited inner text).
    """

    __slots__ = (
        "_inner_starts",
        "_outer_lines",
        "_outer_starts",
        "at",
        "blanked",
        "directives",
        "ends_at_line_start",
        "hole_reason",
        "holes",
        "indent",
        "insertion",
        "kind",
        "length",
        "name",
        "outer_path",
        "outer_text",
        "parent",
        "unparsed",
    )

    def __init__(self, outer_path: str, outer_text: str, inner_starts: list[int], outer_starts: list[int],
                 length: int, ends_at_line_start: bool, indent: str = "", holes: tuple[tuple[int, int], ...] = ()):
        self.length = length  # of the inner text
        self.ends_at_line_start = ends_at_line_start  # the inner text ends with a newline
        self.outer_path = outer_path
        self.outer_text = outer_text
        self._inner_starts = inner_starts  # inner offset of each line's start
        self._outer_starts = outer_starts  # outer offset of the same line's first kept character
        self.indent = indent  # what an inserted line starts with in the outer file
        self.holes = holes
        self.blanked: tuple[tuple[int, int], ...] = ()  # inner ranges of a template's other arms (spaces here)
        self.kind: str | None = None  # what the outer format says the text is ("inputSet": a trigger's inputYaml)
        self.name: str | None = None  # how YAML paths name it: a Terraform resource address (stable fingerprints)
        self._outer_lines: list[int] | None = None  # where each line of the outer text starts, built on first use
        self.at: int | None = None  # a point region: every inner position is this outer one (see `point`)
        self.directives: list = []  # comments of the outer format above the region: (text, start, end, line, col, first, last)
        # an insertion the outer language spells its own way (a connector attribute the Terraform resource lacks):
        # why a fix that would edit a hole is not offered (said in the finding's message)
        self.hole_reason = "it would edit template syntax (`${...}`, `%{...}`)"
        # (inner offset, pattern, outer offset, template): text inserted at that inner offset that matches the
        # pattern whole is written at the outer offset as the template formatted with the pattern's groups. Plain
        # data (a region crosses process boundaries with the report that holds it).
        self.insertion: tuple[int, str, int, str] | None = None
        # what a finding says first when this text does not parse ("the trigger's inputYaml is not an input set")
        self.unparsed: str | None = None
        # a unit expanded from another unit of the same file (pipelint.embed.expand): (that unit's index among the
        # file's units, the document number and path of the string that holds this text there), else None
        self.parent: tuple[int, int, tuple] | None = None

    @classmethod
    def whole(cls, path: str, text: str) -> Region:
        """The trivial region: a file's own text (offsets, lines and edits map to themselves)."""
        return cls(path, text, [0], [0], len(text), text.endswith("\n"))

    @classmethod
    def point(cls, outer_path: str, outer_text: str, at: int, inner: str) -> Region:
        """A text that has no place of its own in the outer file (a quoted string with escapes): every position
        is the string's start, and all of it is a hole (an escape shifts every later character)."""
        region = cls(outer_path, outer_text, [0], [at], len(inner), inner.endswith("\n"), "", ((0, len(inner) + 1),))
        region.at = at
        region.hole_reason = "the YAML is a quoted string, where an edit would have to keep every escape"
        return region

    @classmethod
    def of_lines(cls, outer_path: str, outer_text: str, start: int, end: int, strip: int = 0,
                 holes: tuple[tuple[int, int], ...] = ()) -> tuple[Region, str]:
        """The region of outer_text[start:end] (whole lines) with up to `strip` leading white-space characters
        (spaces, tabs: each counts one, as HCL's `<<-` counts them) removed from each line, and its inner text.
        New lines get the most common of the removed prefixes. (Lines are cut by one regular expression, not a
        loop over characters: a tree of heredocs spent a tenth of its check here.)"""
        body = outer_text[start:end]
        inner_starts: list[int] = []
        outer_starts: list[int] = []
        if not strip:
            inner_starts = _starts(body)
            outer_starts = list(map((start).__add__, inner_starts))
            text, indent = body, ""
        else:  # the lines cut in C (slices, or one regular expression); each line's place from the line breaks
            pieces = body.split("\n")
            uniform = uniformly_indented(pieces, strip)
            if uniform:  # every line starts with `strip` spaces, or is empty (terraform fmt's heredocs)
                cut = list(map(itemgetter(slice(strip, None)), pieces))
                text, inner_starts = "\n".join(cut), _starts_of(cut)
            else:
                text = _cuts(strip).sub("", body)
                inner_starts = _starts(text)
            body_starts = _starts_of(pieces)
            if len(inner_starts) < len(body_starts):  # a last line of white space only, cut to nothing
                inner_starts.append(len(text))
            ends_b = [*body_starts[1:], len(body)][:len(body_starts)]
            ends_i = [*inner_starts[1:], len(text)][:len(inner_starts)]
            # a line's content starts where it ends in the file, less its length once cut
            outer_starts = list(map((start).__add__, map(add, map(sub, ends_b, ends_i), inner_starts)))
            if uniform:  # every cut removed the same prefix
                indent = " " * strip
            else:
                prefixes = Counter(_full_cuts(strip).findall(body))
                indent = max(prefixes, key=lambda p: prefixes[p]) if prefixes else " " * strip
        if not inner_starts:
            inner_starts, outer_starts = [0], [start]
        region = cls(outer_path, outer_text, inner_starts, outer_starts, len(text), text[-1:] in ("", "\n"),
                     indent, holes)
        return region, text

    def within(self, outer: Region) -> Region:
        """This region, of the inner text of `outer`, as a region of `outer`'s own file: offsets, lines and edits
        go through both at once (a trigger's inputYaml in a Terraform heredoc). `outer`'s holes and blanked arms
        that fall inside this text stay holes and blanks here; an inserted line is indented for both."""
        if self.at is not None or outer.at is not None:
            at = outer.offset(self.at if self.at is not None else 0)
            out = Region(outer.outer_path, outer.outer_text, [0], [at], self.length, self.ends_at_line_start, "",
                         ((0, self.length + 1),))
            out.at = at
            out.hole_reason = self.hole_reason if self.at is not None else outer.hole_reason
        else:
            out = Region(outer.outer_path, outer.outer_text, list(self._inner_starts),
                         [outer.offset(o) for o in self._outer_starts], self.length, self.ends_at_line_start,
                         outer.indent + self.indent, self.holes + self._mapped(outer.holes))
            out.blanked = self.blanked + self._mapped(outer.blanked)
            out.hole_reason = self.hole_reason if self.holes else outer.hole_reason
        out.kind, out.name, out.unparsed, out.parent = self.kind, self.name, self.unparsed, self.parent
        return out

    def _mapped(self, ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
        """Ranges of the outer text as ranges of this inner text, widened to whole characters of it (a range
        that starts in a line's stripped indentation starts at the end of the line before): those that meet it."""
        import bisect

        def inner(at: int) -> int:
            i = bisect.bisect_right(self._outer_starts, at) - 1
            if i < 0:
                return 0
            end = self._inner_starts[i + 1] if i + 1 < len(self._inner_starts) else self.length
            return min(self._inner_starts[i] + at - self._outer_starts[i], end)

        out = []
        for a, b in ranges:
            s, e = inner(a), inner(b)
            if e > s:
                out.append((s, e))
        return tuple(out)

    def offset(self, inner: int) -> int:
        """The outer offset of an inner offset."""
        import bisect

        if self.at is not None:
            return self.at
        i = bisect.bisect_right(self._inner_starts, inner) - 1
        return self._outer_starts[i] + inner - self._inner_starts[i]

    def outer_line(self, inner_line: int) -> int:
        """The outer file's 1-based line of the inner text's 1-based line."""
        if self.at is not None:
            return self.line_col(0)[0]
        i = min(max(inner_line, 1), len(self._inner_starts)) - 1
        return self.line_col(self._inner_starts[i])[0] + max(inner_line - len(self._inner_starts), 0)

    def renders_same_text(self, other: Region) -> bool:
        """Whether `other` is another rendering of the same text (pipelint.embed.templated): same place, length."""
        return self.length == other.length and self.offset(0) == other.offset(0)

    def blanks(self, start: int, end: int) -> bool:
        """Whether inner [start, end) lies in a template arm this rendering leaves out."""
        return any(s <= start and end <= t for s, t in self.blanked)

    def inner_offset(self, outer: int) -> int | None:
        """The inner offset of an outer offset that lies in the region's text (None before it)."""
        import bisect

        i = bisect.bisect_right(self._outer_starts, outer) - 1
        if i < 0:
            return None
        return self._inner_starts[i] + outer - self._outer_starts[i]

    def line_col(self, inner: int) -> tuple[int, int]:
        """1-based line and column in the outer file of an inner offset."""
        import bisect

        at = self.offset(inner)
        if self._outer_lines is None:  # one pass over the outer text, shared by every region of the file
            self._outer_lines = _line_starts(self.outer_text)
        line = bisect.bisect_right(self._outer_lines, at)
        return line, at - self._outer_lines[line - 1] + 1

    def edit(self, start: int, end: int, text: str) -> tuple[int, int, str] | None:
        """An edit of inner[start:end] as an edit of the outer text (each new line given the region's
        indentation), or None when it touches a hole."""
        if self.insertion is not None and start == end == self.insertion[0]:
            _, pattern, at, template = self.insertion
            got = re.fullmatch(pattern, text)
            return (at, at, template.format(*got.groups())) if got is not None else None
        for h_start, h_end in self.holes:
            if (start < h_end and h_start < end) or h_start < start < h_end:
                return None
        if not self.indent:
            return self.offset(start), self.offset(end), text
        at, to = self.offset(start), self.offset(end)
        line_start = self.outer_text.rfind("\n", 0, at) + 1
        if start == end and at - line_start < len(self.indent):
            at = to = line_start  # a blank line, or one of less whitespace than the indentation: new lines go before it
        elif not (start == self.length and self.ends_at_line_start):
            return at, to, text.replace("\n", "\n" + self.indent)
        # after the last line (the outer text goes on with a line of its own: a heredoc's delimiter), or before a
        # line without the indentation: the new lines are indented, and the last ends without the next line's
        body = text[:-1] if text.endswith("\n") else text
        return at, to, self.indent + body.replace("\n", "\n" + self.indent) + text[len(body):]


_LINE_STARTS: dict[int, tuple[str, list[int]]] = {}  # id(text) -> (text, line starts): the last few texts read


def uniformly_indented(lines: list[str], strip: int) -> bool:
    """Whether each of `lines` (a text split at line breaks) starts with `strip` spaces or is empty (a heredoc as
    `terraform fmt` leaves it). In C: each line's first `strip` characters, as a set."""
    return set(map(itemgetter(slice(0, strip)), lines)) <= {" " * strip, ""}


_CUTS: dict[int, re.Pattern] = {}
_FULL_CUTS: dict[int, re.Pattern] = {}


def _starts(text: str) -> list[int]:
    """Where each line of `text` starts (a last line break starts no line), in C loops (split, accumulate)."""
    return _starts_of(text.split("\n"))


def _starts_of(pieces: list[str]) -> list[int]:
    """_starts of the text that is "\\n".join(pieces)."""
    starts = _offsets(pieces)
    return starts[:-1] if pieces[-1] == "" else starts


def _offsets(pieces: list[str]) -> list[int]:
    """Where each of `pieces` starts in "\\n".join(pieces), in C loops (accumulate over the lengths)."""
    return [0, *accumulate(map((1).__add__, map(len, pieces[:-1])))]


def _full_cuts(strip: int) -> re.Pattern:
    """Exactly `strip` leading white-space characters at the start of a line: the prefixes a cut removed whole."""
    pattern = _FULL_CUTS.get(strip)
    if pattern is None:
        pattern = _FULL_CUTS[strip] = re.compile(rf"^[ \t\f\v]{{{strip}}}", re.MULTILINE)
    return pattern


def _cuts(strip: int) -> re.Pattern:
    """Up to `strip` leading white-space characters at the start of every line."""
    pattern = _CUTS.get(strip)
    if pattern is None:
        pattern = _CUTS[strip] = re.compile(rf"^[ \t\f\v]{{0,{strip}}}", re.MULTILINE)
    return pattern


def blank(text: str) -> str:
    """Spaces for every character but line breaks: the same offsets, nothing a parser reads (a template's arm
    left out of a rendering, pipelint.embed.templated)."""
    return "".join(c if c in "\r\n" else " " for c in text)


def line_of(text: str, offset: int) -> int:
    """The 1-based line of `offset` in `text` (its line starts found once for the text being read)."""
    import bisect

    return bisect.bisect_right(_line_starts(text), offset)


def line_col(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column of `offset` in `text`, lines as editors count them (see _line_starts)."""
    import bisect

    starts = _line_starts(text)
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1


# Line breaks to YAML 1.1, so in libyaml's marks, that no editor, LSP client, SARIF viewer or CI log counts: in a
# text that holds one (even inside a quoted value), a mark's line and column are not the file's
_YAML_ONLY_BREAKS = ("\x85", "\u2028", "\u2029")


def marks_agree(text: str) -> bool:
    """Whether libyaml's line and column marks in `text` are the lines and columns editors show (asked per
    finding: answered once per text, for the last one asked)."""
    last = _AGREE[0]  # one read: another thread (the language server's) may replace it meanwhile
    if last[0] is not text:
        last = (text, not any(c in text for c in _YAML_ONLY_BREAKS))  # a UCS-1 text skips the last two at once
        _AGREE[0] = last
    return last[1]


_AGREE: list[tuple[str | None, bool]] = [(None, True)]


def _line_starts(text: str) -> list[int]:
    """Where each line of `text` starts (a last line break starts an empty line), for the last few texts asked.
    Lines end at `\n`, `\r\n` or a lone `\r`, as in editors and the LSP (and libyaml)."""
    known = _LINE_STARTS.get(id(text))
    if known is not None and known[0] is text:
        return known[1]
    if "\r" in text:
        starts = [0, *(m.end() for m in re.finditer("\r\n?|\n", text))]
    else:
        starts = _offsets(text.split("\n"))
    if len(_LINE_STARTS) >= 4:  # the file being checked, and the regions read while its findings are placed
        del _LINE_STARTS[next(iter(_LINE_STARTS))]
    _LINE_STARTS[id(text)] = (text, starts)
    return starts


def detect_newline(text: str) -> str:
    """The file's line end, for inserted lines: that of its first line (`\\r` alone too: YAML allows it)."""
    i, r = text.find("\n"), text.find("\r")
    if r != -1 and (i == -1 or r < i - 1):
        return "\r"
    return "\r\n" if i > 0 and text[i - 1] == "\r" else "\n"


def decode(path: str, raw: bytes) -> Source:
    """Decode bytes read from `path`. Never raises: undecodable input comes back with `error` set."""
    for mark, name in _OTHER_BOMS:
        if raw.startswith(mark):
            return Source(path, None, error=f"file is {name} (byte order mark); pipelint reads UTF-8 only", raw=raw)
    bom = raw.startswith(UTF8_BOM)
    body = raw[3:] if bom else raw
    nul = body.find(b"\x00")
    if nul >= 0:
        line, col = _line_col_bytes(body, nul)
        return Source(path, None, bom=bom, error="binary file (NUL byte)", error_line=line, error_column=col, raw=raw)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col_bytes(body, exc.start)
        return Source(
            path, None, bom=bom, raw=raw, error_line=line, error_column=col,
            error=f"not UTF-8: invalid byte 0x{body[exc.start]:02x}",
        )
    return Source(path, text, bom=bom, newline=detect_newline(text), raw=raw)


def _line_col_bytes(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    col = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return line, col


class ReadError(Exception):
    """A file that cannot be read at all (vanished, permission, not a regular file)."""


def read(path: str, limit: int | None = None) -> Source:
    return decode(path, read_bytes(path, limit))


def stat_regular(path: str, limit: int | None = None) -> os.stat_result:
    """os.stat of a regular file of at most `limit` bytes; ReadError for anything else."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise ReadError("no such file") from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc)) from None
    if _stat.S_ISDIR(st.st_mode):
        raise ReadError("is a directory")
    if not _stat.S_ISREG(st.st_mode):
        raise ReadError("not a regular file")
    if limit is not None and st.st_size > limit:
        raise _over(st.st_size, limit)
    return st


def _over(size: float, limit: int) -> ReadError:
    return ReadError(f"not checked: {size / 1e6:.1f} MB is over max-file-size ({limit / 1e6:g} MB)")


def read_stream(stream, limit: int | None = None) -> bytes:
    """All of a stream (standard input), or ReadError once it passes `limit` bytes: at most `limit` + 1 bytes
    are ever held."""
    data = stream.read() if limit is None else stream.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise ReadError(f"not checked: more than max-file-size ({limit / 1e6:g} MB)")
    return data


def read_bytes(path: str, limit: int | None = None) -> bytes:
    """The bytes of a regular file; ReadError for anything else (a FIFO is never opened: it would block)."""
    stat_regular(path, limit)
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ReadError("no such file") from None
    except OSError as exc:
        raise ReadError(exc.strerror or str(exc)) from None


def read_json(path: str, what: str, limit: int = 64 * 1024 * 1024):
    """The JSON document in `path`; ValueError with a one-line message naming the file (and position). Only a
    regular file of at most `limit` bytes is read (a FIFO would block), and nesting too deep for the parser
    is an error like any other."""
    try:
        raw = read_bytes(path, limit)
    except ReadError as exc:
        if str(exc) == "no such file":
            raise ValueError(f"{path}: {what} not found") from None
        raise ValueError(f"{path}: cannot read the {what}: {exc}") from None
    return parse_json(raw, path, what)


def parse_json(raw: bytes, path: str, what: str):
    """read_json's reading of bytes already read."""
    import json

    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: cannot read the {what}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: invalid {what} JSON: {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"{path}: invalid {what} JSON: nested too deeply") from None

"""Reading a file: bytes -> text, remembering what a rewrite must restore (BOM, newline style).

Nothing here knows YAML or Harness. A `Source` is what every later stage works on: `text` is the decoded content
*without* a UTF-8 byte order mark (libyaml does not count a BOM in its marks, the pure-Python parsers do;
stripping it here makes every mark an index into `text`), and `encode()` gives the bytes back exactly.
"""

from __future__ import annotations

import os
import stat as _stat

UTF8_BOM = b"\xef\xbb\xbf"
_OTHER_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)

class Source:
    """A file's text as decoded, and how to write it back (BOM, newline), or why it is not text."""

    __slots__ = ("bom", "error", "error_column", "error_line", "newline", "path", "raw", "text")

    def __init__(self, path: str, text: str | None, bom: bool = False, newline: str = "\n", error: str | None = None,
                 error_line: int = 1, error_column: int = 1, raw: bytes = b""):
        self.path = path  # as shown in reports
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
        raise ReadError(f"not checked: {st.st_size / 1e6:.1f} MB is over max-file-size ({limit / 1e6:g} MB)")
    return st


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
    import json

    try:
        raw = read_bytes(path, limit)
    except ReadError as exc:
        if str(exc) == "no such file":
            raise ValueError(f"{path}: {what} not found") from None
        raise ValueError(f"{path}: cannot read the {what}: {exc}") from None
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: cannot read the {what}: not UTF-8 (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}:{exc.lineno}:{exc.colno}: invalid {what} JSON: {exc.msg}") from None
    except RecursionError:
        raise ValueError(f"{path}: invalid {what} JSON: nested too deeply") from None

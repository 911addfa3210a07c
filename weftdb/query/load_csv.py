"""LOAD CSV's files: which one a statement may read, and its rows, one at a time.

`resolve` turns what the statement names (`'people.csv'`,
`'file:///people.csv'`, an absolute path) into the real path of a file inside
the import directory (`--import-directory`), or refuses it: symbolic links
and `..` are resolved before the check, so no spelling reaches outside.

`read_rows` streams a file's records: the file is read in buffered chunks,
never whole, so a file larger than memory costs memory only for what the
statement keeps. gzip, bzip2 and zstd files are read as they are, recognised
by their first bytes. Records are parsed by the csv module (RFC 4180 quoting:
a quote inside a quoted field is written twice). Values are strings, as in
Neo4j and Memgraph; what becomes null depends on the dialect:

- Neo4j's form (`LOAD CSV [WITH HEADERS] FROM ...`): an empty field that is
  not quoted is null, `""` is the empty string;
- Memgraph's form (`WITH HEADER` or `NO HEADER` after FROM): fields stay
  strings, empty ones too;
- `NULLIF 's'`: a field equal to `s` is null, in either form.

A record that is not CSV, or with more fields than the header (or, in
Memgraph's form, fewer), is a bad row: the error names its line, and
`IGNORE BAD` skips it instead. A row shorter than the header in Neo4j's form
gets null for the missing fields, as Neo4j does.

Nothing here touches the graph; the operator that binds the rows is
`operators.LoadCsv`.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import os
import sys
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import unquote, urlparse

from weftdb.basics.errors import LoadCsvError

# Hidden scope names (a leading space: never a user's variable) of the slots
# holding the line number and the path of the row LOAD CSV bound last: what
# linenumber() and file() read.
LINE = " linenumber"
FILE = " file"

FLAG = "--import-directory"


def hidden(scope: dict[str, int]) -> dict[str, int]:
    """The LOAD CSV slots of `scope`, which a WITH passes on."""
    return {name: scope[name] for name in (LINE, FILE) if name in scope}

_GZIP, _BZIP2, _ZSTD = b"\x1f\x8b", b"BZh", b"\x28\xb5\x2f\xfd"
_SUFFIXES = {".gz": "gzip", ".gzip": "gzip", ".bz2": "bzip2", ".zst": "zstd", ".zstd": "zstd"}

# A field may be as long as a whole (multi-line) quoted value; the csv module's
# default limit of 128 KiB would call a long text a bad row.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


@dataclass(frozen=True)
class Options:
    """How to read a file, from the clause."""

    header: bool = False
    ignore_bad: bool = False
    delimiter: str = ","
    quote: str = '"'
    nullif: str | None = None
    empty_is_null: bool = True


# --------------------------------------------------------------------------
# Which file
# --------------------------------------------------------------------------


def import_root(directory: str, base: str | None = None) -> str:
    """The import directory as an absolute path ('' stays '': LOAD CSV is
    off); a relative one is taken from `base` (the working directory)."""
    if not directory:
        return ""
    return os.path.abspath(os.path.join(base or os.getcwd(), os.path.expanduser(directory)))


def resolve(root: str, source: Any) -> str:
    """The real path of the file `source` names inside the import directory
    `root`, or a LoadCsvError that says why it may not be read."""
    if not isinstance(source, str):
        raise LoadCsvError(f"LOAD CSV FROM needs a file name or file:/// URL as a string, not {source!r}.")
    if not root:
        raise LoadCsvError(f"LOAD CSV is turned off: {FLAG} is empty. Set it to the directory to read files from.")
    real_root = os.path.realpath(root)
    if not os.path.isdir(real_root):
        raise LoadCsvError(
            f"LOAD CSV reads files from the import directory {root}, which does not exist: "
            f"create it and put the file there, or set {FLAG}."
        )
    relative = _path_of(source)
    real = os.path.realpath(os.path.join(real_root, relative))
    if os.path.commonpath([real, real_root]) != real_root:
        raise LoadCsvError(
            f"LOAD CSV cannot read {source!r}: it is outside the import directory {root} ({FLAG}); "
            "only files under that directory can be read."
        )
    if not os.path.isfile(real):
        what = "is a directory" if os.path.isdir(real) else "does not exist"
        raise LoadCsvError(f"LOAD CSV cannot read {source!r}: {real} {what} (in the import directory, {FLAG}).")
    return real


def _path_of(source: str) -> str:
    """The path a source names: a file:/// URL's path is always inside the
    import directory (as in Neo4j); a plain path is relative to it, or absolute."""
    if "://" in source or source.lower().startswith("file:"):
        url = urlparse(source)
        if url.scheme.lower() != "file":
            raise LoadCsvError(
                f"LOAD CSV cannot read {source!r}: only files in the import directory ({FLAG}) can be read, "
                f"not {url.scheme} URLs. Download the file there first."
            )
        if url.netloc not in ("", "localhost"):
            raise LoadCsvError(f"LOAD CSV cannot read {source!r}: a file:/// URL names a file of this machine.")
        return unquote(url.path).lstrip("/")
    return os.path.expanduser(source)


# --------------------------------------------------------------------------
# Its rows
# --------------------------------------------------------------------------


def open_text(path: str, shown: str) -> io.TextIOWrapper:
    """`path` as UTF-8 text (a byte order mark is skipped), decompressed on the fly."""
    raw = open(path, "rb")  # noqa: SIM115 - closed by the TextIOWrapper
    try:
        magic = raw.read(4)
        raw.seek(0)
        kind = _compression(magic)
        expected = _SUFFIXES.get(os.path.splitext(path)[1].lower())
        if expected is not None and kind != expected:
            raise LoadCsvError(f"LOAD CSV cannot read {shown!r}: its name says {expected}, but it is not a {expected} file.")
        stream: Any = raw
        if kind == "gzip":
            stream = gzip.GzipFile(fileobj=raw)
        elif kind == "bzip2":
            stream = bz2.BZ2File(raw)
        elif kind == "zstd":
            import zstandard

            stream = io.BufferedReader(zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True, closefd=True))
        return io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    except BaseException:
        raw.close()
        raise


def _compression(magic: bytes) -> str | None:
    if magic.startswith(_GZIP):
        return "gzip"
    if magic.startswith(_BZIP2):
        return "bzip2"
    if magic.startswith(_ZSTD):
        return "zstd"
    return None


def read_rows(path: str, shown: str, options: Options) -> Iterator[tuple[int, Any]]:
    """(line, row) for each record of the file: a map by the header's names,
    or a list. `line` is where the record starts (the header is line 1)."""
    _check_options(options)
    with open_text(path, shown) as text:
        try:
            yield from _records(text, shown, options)
        except UnicodeDecodeError as exc:
            raise LoadCsvError(f"LOAD CSV cannot read {shown!r}: it is not UTF-8 text ({exc.reason}).") from None
        except (OSError, EOFError) as exc:
            raise LoadCsvError(f"LOAD CSV cannot read {shown!r}: {exc}") from None


def _check_options(options: Options) -> None:
    for what, value in (("field delimiter", options.delimiter), ("quote", options.quote)):
        if len(value) != 1:
            raise LoadCsvError(f"LOAD CSV's {what} must be one character, not {value!r}.")
    if options.delimiter == options.quote:
        raise LoadCsvError(f"LOAD CSV's field delimiter and quote must differ, both are {options.delimiter!r}.")


def _records(text: io.TextIOWrapper, shown: str, options: Options) -> Iterator[tuple[int, Any]]:
    """The loop runs once per record of every LOAD CSV: a hot path
    (docs/hot-paths.md), with what it reads per record bound to locals."""
    nulls = _Nulls(options)
    pending: list[str] = []  # the lines of the record being read, when nulls need its text

    def lines() -> Iterator[str]:
        for line in text:
            pending.append(line)
            yield line

    source = lines() if nulls.needs_text else text
    reader = csv.reader(source, delimiter=options.delimiter, quotechar=options.quote, strict=True)
    header: list | None = None
    width = 0
    read = 0  # lines read before the record
    check, markers, clear, with_header = nulls.apply if nulls.active else None, nulls.markers, pending.clear, options.header
    while True:
        try:
            for fields in reader:
                line = read + 1
                read = reader.line_num
                if not fields:  # a blank line
                    clear()
                    continue
                if check is not None:
                    if not markers.isdisjoint(fields):
                        check(fields, pending)
                    clear()
                if not with_header:
                    yield line, fields
                elif header is None:
                    header, width = fields, len(fields)
                elif len(fields) == width:
                    yield line, dict(zip(header, fields))
                else:
                    fitted = _fit(fields, width, options, shown, line)
                    if fitted is not None:
                        yield line, dict(zip(header, fitted))
            return
        except csv.Error as exc:
            _bad(shown, read + 1, str(exc), options)
            read = reader.line_num
            clear()


def _fit(fields: list, width: int, options: Options, shown: str, line: int) -> list | None:
    """A row with another number of fields than the header: padded with null
    when shorter (Neo4j's form), else a bad row (None when skipped)."""
    if len(fields) < width and options.empty_is_null:
        return fields + [None] * (width - len(fields))
    _bad(shown, line, f"expected {width} fields as in the header, got {len(fields)}", options)
    return None


def _bad(shown: str, line: int, reason: str, options: Options) -> None:
    if not options.ignore_bad:
        raise LoadCsvError(f"LOAD CSV: {shown!r} line {line} is not a valid row: {reason}. IGNORE BAD skips such rows.")


class _Nulls:
    """Which fields of a record are null: NULLIF's text, and in Neo4j's form
    the empty fields that were not quoted (`a,,b`, not `a,"",b`)."""

    __slots__ = ("nullif", "empty", "active", "needs_text", "markers", "delimiter", "quote")

    def __init__(self, options: Options):
        self.nullif = options.nullif
        self.empty = self.needs_text = options.empty_is_null
        self.active = self.empty or self.nullif is not None
        self.markers = {value for value in ("" if self.empty else None, self.nullif) if value is not None}
        self.delimiter, self.quote = options.delimiter, options.quote

    def apply(self, fields: list, raw: list[str]) -> None:
        nullif = self.nullif
        if nullif is not None and nullif in fields:
            for index, value in enumerate(fields):
                if value == nullif:
                    fields[index] = None
        if self.empty and "" in fields:
            record = "".join(raw)
            quoted = _quoted(record, self.delimiter, self.quote) if self.quote in record else ()
            for index, value in enumerate(fields):
                if value == "" and not (index < len(quoted) and quoted[index]):
                    fields[index] = None


def _quoted(record: str, delimiter: str, quote: str) -> list[bool]:
    """For each field of one record: did it start with a quote? (Rarely
    needed: only for records with an empty field and a quote somewhere.)"""
    starts = []
    at_start, inside = True, False
    index, end = 0, len(record)
    while index < end:
        char = record[index]
        if at_start:
            starts.append(char == quote)
            at_start = False
            if char == quote:
                inside = True
                index += 1
                continue
        if inside:
            if char == quote:
                if index + 1 < end and record[index + 1] == quote:
                    index += 1
                else:
                    inside = False
        elif char == delimiter:
            at_start = True
        index += 1
    if at_start:
        starts.append(False)  # an empty last field
    return starts

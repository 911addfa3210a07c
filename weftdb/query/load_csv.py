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
from typing import Any, Callable, Iterator
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
    or a list. `line` is where the record starts (the header is line 1). The
    file opens now; the records are read as they are pulled."""
    _check_options(options)
    return _records(open_text(path, shown), shown, options)


def _unreadable(shown: str, exc: Exception) -> LoadCsvError:
    if isinstance(exc, UnicodeDecodeError):
        return LoadCsvError(f"LOAD CSV cannot read {shown!r}: it is not UTF-8 text ({exc.reason}).")
    return LoadCsvError(f"LOAD CSV cannot read {shown!r}: {exc}")


def _check_options(options: Options) -> None:
    for what, value in (("field delimiter", options.delimiter), ("quote", options.quote)):
        if len(value) != 1:
            raise LoadCsvError(f"LOAD CSV's {what} must be one character, not {value!r}.")
    if options.delimiter == options.quote:
        raise LoadCsvError(f"LOAD CSV's field delimiter and quote must differ, both are {options.delimiter!r}.")


def _records(text: io.TextIOWrapper, shown: str, options: Options) -> Iterator[tuple[int, Any]]:
    """The loop runs once per line of every LOAD CSV: a hot path
    (docs/hot-paths.md), with what it reads per line bound to locals, and the
    one generator between the file and the operator. A line without the
    quote character is one record, its fields split at the delimiter (all the
    csv module would do with it, at a third of the cost); a line with one
    starts a record the csv module reads (`_Quoted`), over as many lines as
    its quoted fields span. It closes `text` when it ends."""
    delimiter, quote, with_header = options.delimiter, options.quote, options.header
    empty_is_null, nullif = options.empty_is_null, options.nullif
    quoted = _Quoted(text, options)
    record: Callable[[list], dict] | None = None  # the header's map of a row, once the header is read
    width = line = 0  # the header's fields; lines read
    with text:
        try:
            for raw in text:
                line += 1
                start = line
                if quote in raw:
                    fields = quoted.record(raw, shown, start)
                    line += quoted.spanned - 1
                    if fields is None:
                        continue
                else:
                    stripped = raw.rstrip("\r\n")
                    if not stripped:  # a blank line
                        continue
                    fields = stripped.split(delimiter)
                    if empty_is_null and "" in fields:
                        fields = [field if field else None for field in fields]
                    if nullif is not None and nullif in fields:
                        fields = [None if field == nullif else field for field in fields]
                if not with_header:
                    yield start, fields
                elif record is None:
                    width, record = len(fields), _mapper(fields)
                elif len(fields) == width:
                    yield start, record(fields)
                else:
                    fitted = _fit(fields, width, options, shown, start)
                    if fitted is not None:
                        yield start, record(fitted)
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise _unreadable(shown, exc) from None


_DISPLAYS = (
    None,
    lambda a: lambda f: {a: f[0]},
    lambda a, b: lambda f: {a: f[0], b: f[1]},
    lambda a, b, c: lambda f: {a: f[0], b: f[1], c: f[2]},
    lambda a, b, c, d: lambda f: {a: f[0], b: f[1], c: f[2], d: f[3]},
    lambda a, b, c, d, e: lambda f: {a: f[0], b: f[1], c: f[2], d: f[3], e: f[4]},
    lambda a, b, c, d, e, g: lambda f: {a: f[0], b: f[1], c: f[2], d: f[3], e: f[4], g: f[5]},
)


def _mapper(header: list) -> Callable[[list], dict]:
    """The function that makes a record's map from a row as wide as the
    header. For up to six fields, a dict display over the header's names:
    under half the time of `dict(zip(header, fields))`, which builds a pair
    per field (docs/hot-paths.md). Either way a name the header repeats
    keeps its last field."""
    if 0 < len(header) < len(_DISPLAYS):
        return _DISPLAYS[len(header)](*header)
    return lambda fields: dict(zip(header, fields))


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


class _Quoted:
    """Records with the quote character, read by the csv module (RFC 4180
    quoting; a quote inside a quoted field is written twice). Its reader reads
    this object: the line that starts a record, then the file's next lines for
    as long as a quoted field goes on. Which fields are null needs the
    record's text: NULLIF's, and in Neo4j's form the empty fields that were
    not quoted (`a,,b`, not `a,"",b`)."""

    __slots__ = ("text", "options", "first", "lines", "reader")

    def __init__(self, text: io.TextIOWrapper, options: Options):
        self.text, self.options = text, options
        self.first: str | None = None  # the line the reader reads next, if not the file's
        self.lines: list[str] = []  # the record's lines, read so far
        self.reader = csv.reader(self, delimiter=options.delimiter, quotechar=options.quote, strict=True)

    @property
    def spanned(self) -> int:
        """The lines the last record took."""
        return len(self.lines)

    def __iter__(self):
        return self

    def __next__(self) -> str:
        line = self.first
        if line is None:
            line = next(self.text)
        else:
            self.first = None
        self.lines.append(line)
        return line

    def record(self, first: str, shown: str, line: int) -> list | None:
        """The fields of the record that starts with the line `first`, at
        `line`; None for a bad record skipped (IGNORE BAD)."""
        try:
            return self._read(first)
        except csv.Error as exc:
            _bad(shown, line, str(exc), self.options)
            return None

    def _read(self, first: str) -> list:
        self.first = first
        self.lines.clear()
        fields = next(self.reader)
        options = self.options
        nullif = options.nullif
        if nullif is not None and nullif in fields:
            fields = [None if field == nullif else field for field in fields]
        if options.empty_is_null and "" in fields:
            quoted = _quoted("".join(self.lines), options.delimiter, options.quote)
            fields = [None if field == "" and not (index < len(quoted) and quoted[index]) else field
                      for index, field in enumerate(fields)]
        return fields


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

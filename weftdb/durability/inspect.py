"""`weftdb inspect FILE`: a WAL segment or a snapshot, printed for a person.

Why not reuse the readers as they are: recovery stops at the first damage, by
design; a person looking at a damaged file wants to see all of it — what is
intact, where the damage is, and what follows it. So this module walks the
formats of docs/formats.md itself (with the layout constants of `wal.py` and
`snapshot_file.py`, the only code that defines them), checks every checksum,
reports each problem with its byte offset, and carries on where it can: in a
WAL segment it looks for the next valid record; in a snapshot whose footer is
damaged it walks the blocks one after the other from the start.

It only reads. `inspect_file` returns the number of problems found, and the
command exits non-zero when there are any.
"""

from __future__ import annotations

import struct
import uuid as _uuid
import zlib
from collections import Counter
from datetime import datetime, timezone
from typing import Any

import zstandard

from weftdb.cli.printer import Printer
from weftdb.durability import codec, wal
from weftdb.durability import snapshot_file as sf
from weftdb.durability.files import FileSystem
from weftdb.graph import redo

# Bytes of CRC work spent looking for the next valid record after damage.
_RESYNC_BUDGET = 64 << 20


def inspect_file(path: str, out: Printer, fs: FileSystem | None = None) -> int:
    """Print `path` (a WAL segment or a snapshot); returns the number of problems."""
    fs = fs or FileSystem()
    data = fs.read(path)
    if data[:8] == wal.MAGIC:
        return _inspect_wal(path, data, out)
    if data[:8] == sf.MAGIC:
        return _inspect_snapshot(path, data, out)
    out.problem(f"{path} is not a WeftDB WAL segment or snapshot (byte 0: magic bytes {data[:8]!r})")
    return 1


# --- WAL segments -------------------------------------------------------------------------


def _when(wall_time_us: Any) -> str:
    try:
        return datetime.fromtimestamp(wall_time_us / 1e6, timezone.utc).isoformat(timespec="microseconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return repr(wall_time_us)


def summarize_ops(ops: list[tuple]) -> str:
    """'create vertex ×2, create edge' — the op kinds of one record, in first-seen order."""
    counts = Counter(redo.NAMES.get(op[0] if op else None, f"op {op[0] if op else '?'}") for op in ops)
    return ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in counts.items())


def _inspect_wal(path: str, data: bytes, out: Printer) -> int:
    problems = 0
    out.heading(f"WAL segment {path} ({len(data)} bytes)")
    try:
        version, db_uuid, sequence, seed = wal.unpack_header(data)
        out.line(f"header: format version {version}, database {_uuid.UUID(bytes=db_uuid)}, "
                 f"sequence {sequence}, header checksum OK")
    except wal.HeaderError as exc:
        problems += 1
        out.problem(f"byte 0: the segment header cannot be trusted: {exc}")
        if len(data) < wal.HEADER_SIZE:
            return problems
        # Records are seeded with the header CRC as stored: use it to check them anyway.
        (seed,) = struct.unpack_from("<I", data, wal.HEADER_SIZE - 4)
    rows = []
    offset = wal.HEADER_SIZE
    count = 0
    tail = None
    while offset < len(data):
        body, why = wal.unframe(data, offset, seed)
        if body is None:
            rest = len(data) - offset
            if data.count(0, offset) == rest:
                tail = f"zero padding from byte {offset} to the end ({rest} bytes): the end of the data"
                break
            length = struct.unpack_from("<I", data, offset)[0] if rest >= 4 else None
            rows.append([str(offset), str(length) if length is not None else "?", "BAD", "", "", "", why])
            problems += 1
            follower = _next_valid(data, offset + 1, seed)
            if follower is None:
                tail = (f"from byte {offset} to the end ({rest} bytes) no valid record follows: a torn tail if "
                        "this is the newest segment (recovery cuts it off), damage otherwise")
                break
            rows.append(["", "", "", "", "", "", f"... skipped {follower - offset} bytes to the next valid record"])
            offset = follower
            continue
        count += 1
        try:
            commit_ts, wall_time_us, ops = wal.decode_record(body)
            rows.append([str(offset), str(len(body)), "OK", str(commit_ts), _when(wall_time_us), str(len(ops)),
                         summarize_ops(ops)])
        except codec.CodecError as exc:
            problems += 1
            rows.append([str(offset), str(len(body)), "OK", "", "", "", f"PROBLEM: does not decode: {exc}"])
        offset += wal.FRAME_HEADER_SIZE + len(body)
    out.table(["offset", "length", "checksum", "commit_ts", "wall time (UTC)", "ops", "operations"], rows)
    if tail:
        out.line(tail)
    out.line(f"{count} valid records, {problems} problem{'s' if problems != 1 else ''}")
    return problems


def _next_valid(data: bytes, start: int, seed: int) -> int | None:
    budget = _RESYNC_BUDGET
    for off in range(start, len(data) - wal.FRAME_HEADER_SIZE + 1):
        (length,) = struct.unpack_from("<I", data, off)
        if 0 < length <= len(data) - off - wal.FRAME_HEADER_SIZE:
            budget -= length
            if budget < 0:
                return None
            if wal.unframe(data, off, seed)[0] is not None:
                return off
    return None


# --- snapshots ------------------------------------------------------------------------------


def _inspect_snapshot(path: str, data: bytes, out: Printer) -> int:
    problems = 0
    out.heading(f"snapshot {path} ({len(data)} bytes)")
    if len(data) < sf.PRELUDE_SIZE + sf.TRAILER_SIZE:
        out.problem(f"byte 0: {len(data)} bytes is too short for a snapshot")
        return 1
    magic, version, _flags, db_uuid = sf._PRELUDE.unpack_from(data)
    (seed,) = struct.unpack_from("<I", data, sf._PRELUDE.size)
    ok = zlib.crc32(data[: sf._PRELUDE.size]) == seed
    out.line(f"prelude: format version {version}, database {_uuid.UUID(bytes=db_uuid)}, "
             f"checksum {'OK' if ok else 'BAD'}")
    if not ok:
        problems += 1
        out.problem("byte 0: the prelude's checksum does not match")
    if version != sf.VERSION:
        problems += 1
        out.problem(f"byte 8: format version {version}; this WeftDB reads version {sf.VERSION}")

    entries, footer_problem = _footer(data, seed)
    if footer_problem:
        problems += 1
        out.problem(footer_problem + "; walking the blocks from the start instead")
        entries = _walk_blocks(data)
    rows = []
    decoded: dict[int, Any] = {}
    for e in entries:
        value, why = _block(data, e, seed)
        kind = sf.KIND_NAMES.get(e.kind, f"kind {e.kind}")
        if why:
            problems += 1
        rows.append([kind, str(e.offset), str(e.items), str(e.length),
                     "zstd" if e.flags & sf.FLAG_ZSTD else "", "BAD" if why else "OK", why])
        if not why and e.kind in (sf.HEADER, sf.NAMES, sf.SCHEMA):
            decoded[e.kind] = value
    header = decoded.get(sf.HEADER)
    if isinstance(header, dict):
        fields = ", ".join(
            f"{k} {_uuid.UUID(bytes=v) if k == 'db_uuid' and isinstance(v, bytes) and len(v) == 16 else v}"
            for k, v in header.items()
        )
        out.line(f"header: {fields}")
        if "wall_time_us" in header:
            out.line(f"written at {_when(header['wall_time_us'])}")
    names = decoded.get(sf.NAMES)
    if isinstance(names, dict):
        out.line("names: " + ", ".join(f"{len(v) if isinstance(v, list) else '?'} {k}" for k, v in names.items()))
    out.table(["block", "offset", "items", "stored bytes", "compression", "checksum", "problem"], rows)
    schema = decoded.get(sf.SCHEMA)
    if isinstance(schema, dict):
        for key, value in schema.items():
            out.line(f"schema {key}: {value if value else 'none'}")
    vertices = sum(e.items for e in entries if e.kind == sf.VERTICES)
    edges = sum(e.items for e in entries if e.kind == sf.EDGES)
    out.line(f"{vertices} vertices and {edges} edges in {len(entries)} blocks, "
             f"{problems} problem{'s' if problems != 1 else ''}")
    return problems


def _footer(data: bytes, seed: int) -> tuple[list[sf.BlockEntry], str | None]:
    at = len(data) - sf.TRAILER_SIZE
    table_offset, count, crc, end = sf._TRAILER.unpack_from(data, at)
    if end != sf.END_MAGIC:
        return [], f"byte {at + 16}: no end marker (the file is incomplete or damaged)"
    if table_offset < sf.PRELUDE_SIZE or table_offset + count * sf.ENTRY_SIZE != at:
        return [], f"byte {at}: the footer's table offset {table_offset} / {count} entries do not fit the file"
    table = data[table_offset:at]
    if zlib.crc32(struct.pack("<QI", table_offset, count), zlib.crc32(table, seed)) != crc:
        return [], f"byte {table_offset}: the footer's checksum does not match"
    return [sf.BlockEntry(*sf._ENTRY.unpack_from(table, i * sf.ENTRY_SIZE)) for i in range(count)], None


def _walk_blocks(data: bytes) -> list[sf.BlockEntry]:
    """Blocks found by following block headers from byte 32, while they fit the file."""
    entries, offset = [], sf.PRELUDE_SIZE
    while offset + sf.BLOCK_HEADER_SIZE <= len(data):
        kind, flags, items, raw, length = sf._BLOCK.unpack_from(data, offset)
        (crc,) = struct.unpack_from("<I", data, offset + sf._BLOCK.size)
        if kind not in sf.KIND_NAMES or offset + sf.BLOCK_HEADER_SIZE + length > len(data):
            break
        entries.append(sf.BlockEntry(kind, flags, offset, length, raw, items, crc))
        offset += sf.BLOCK_HEADER_SIZE + length
        if kind == sf.SCHEMA:
            break
    return entries


def _block(data: bytes, e: sf.BlockEntry, seed: int) -> tuple[Any, str]:
    """(decoded value, "") or (None, what is wrong) for one block."""
    end = e.offset + sf.BLOCK_HEADER_SIZE + e.length
    if end > len(data) or e.length > sf.MAX_BLOCK_SIZE or e.raw_length > sf.MAX_BLOCK_SIZE:
        return None, f"byte {e.offset}: the block runs past the end of the file"
    head = sf._BLOCK.unpack_from(data, e.offset)
    (crc,) = struct.unpack_from("<I", data, e.offset + sf._BLOCK.size)
    if head != (e.kind, e.flags, e.items, e.raw_length, e.length) or crc != e.crc:
        return None, f"byte {e.offset}: the block header does not match the offset table"
    payload = data[e.offset + sf.BLOCK_HEADER_SIZE : end]
    if zlib.crc32(payload, zlib.crc32(data[e.offset : e.offset + sf._BLOCK.size], seed)) != crc:
        return None, f"byte {e.offset}: checksum mismatch"
    try:
        if e.flags & sf.FLAG_ZSTD:
            payload = zstandard.ZstdDecompressor().decompress(payload, max_output_size=e.raw_length)
        value = codec.unpackb(payload)
    except (zstandard.ZstdError, codec.CodecError) as exc:
        return None, f"byte {e.offset}: does not decode: {exc}"
    if e.kind in (sf.VERTICES, sf.EDGES) and (not isinstance(value, list) or len(value) != e.items):
        return None, f"byte {e.offset}: the batch does not hold the {e.items} items the table says"
    return value, ""

"""The snapshot container: header, name dictionaries, batches, schema, footer.

This module knows the file format (docs/formats.md, "Snapshot file"), not the
graph: the snapshot code gives it msgpack-able items in batches and gets them
back. Why this shape:

* every block (header, names, each vertex or edge batch, schema) carries its
  own CRC32 — seeded with the file's prelude CRC, so a block copied from
  another file does not pass — and may be zstd-compressed on its own, so
  recovery can check and decode batches independently and in parallel;
* the footer's offset table (offset, lengths, item count, CRC per block) and a
  fixed-size trailer at the very end let a reader find every block without
  scanning, and the footer's own CRC means a half-written file is refused;
* the file is written carefully (`FileSystem.replacing`: under a temporary
  name, fsynced, renamed, its directory fsynced; DESIGN.md invariant 3): a
  snapshot under its final name is whole.

Failures name the file and the byte offset. `SnapshotDamaged` (a checksum or
structure error — recovery may fall back to an older snapshot) is a
`RecoveryError`; a file of another database or of an unknown format version is
a plain `RecoveryError`, since falling back would hide an operator's mistake.

Decoding is bounded (DESIGN.md invariant 8): every length is checked against
the file size and a fixed maximum before anything is allocated.

`SnapshotReader` stops at the first damage, as recovery must; `examine`
checks a possibly damaged file block by block and carries on, for
`weftdb inspect`. Both parse the bytes with the same functions, so no other
module knows the layouts.
"""

from __future__ import annotations

import struct
import uuid as _uuid
import zlib
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import zstandard

from weftdb.basics.errors import RecoveryError
from weftdb.durability import codec
from weftdb.durability.files import FileSystem
from weftdb.durability.wal import uuid_bytes

MAGIC = b"WEFTSNAP"
END_MAGIC = b"WEFTSEND"
VERSION = 3  # 3: named schema definitions, property values of format 2 (codec.py); 2: vertex and edge items are create ops (snapshot.py)
READS = (2, 3)  # versions this WeftDB reads (1 had flat property lists)
_PRELUDE = struct.Struct("<8sHH16s")  # magic, version, flags, db uuid; then u32 CRC
PRELUDE_SIZE = _PRELUDE.size + 4  # 32
_BLOCK = struct.Struct("<BBIII")  # kind, flags, items, raw length, stored length; then u32 CRC
BLOCK_HEADER_SIZE = _BLOCK.size + 4  # 18
_ENTRY = struct.Struct("<BBQIIII")  # kind, flags, offset, stored length, raw length, items, crc
ENTRY_SIZE = _ENTRY.size  # 26
_TRAILER = struct.Struct("<QII8s")  # table offset, entry count, footer CRC, end magic
TRAILER_SIZE = _TRAILER.size  # 24

HEADER, NAMES, VERTICES, EDGES, SCHEMA = 1, 2, 3, 4, 5
KIND_NAMES = {HEADER: "header", NAMES: "names", VERTICES: "vertex batch", EDGES: "edge batch", SCHEMA: "schema"}
FLAG_ZSTD = 1
MAX_BLOCK_SIZE = 1 << 30  # stored or decoded; anything larger is damage


class SnapshotDamaged(RecoveryError):
    """The snapshot's bytes are not what was written (checksum, structure). An older one may serve."""


@dataclass(frozen=True)
class BlockEntry:
    kind: int
    flags: int
    offset: int  # of the block header
    length: int  # stored payload bytes
    raw_length: int  # payload bytes after decompression
    items: int
    crc: int

    @property
    def end(self) -> int:
        return self.offset + BLOCK_HEADER_SIZE + self.length


@dataclass(frozen=True)
class SnapshotInfo:
    path: str
    size: int
    vertex_count: int
    edge_count: int
    blocks: int


# --- writing ----------------------------------------------------------------


def _block(kind: int, parts: list[bytes], items: int, compress: bool, seed: int, cctx) -> tuple[list[bytes], tuple]:
    """A block as pieces to write one after the other: its header with the CRC,
    then the payload `parts` (codec.packb_parts), compressed part by part into
    one zstd frame. Never joined: a copy of a batch's megabytes would hold the
    GIL while committing threads wait."""
    raw_length = sum(map(len, parts))
    flags = 0
    if compress:
        compressor = cctx.compressobj(size=raw_length)
        parts = [piece for part in parts if (piece := compressor.compress(part))]
        parts.append(compressor.flush())
        flags = FLAG_ZSTD
    length = sum(map(len, parts))
    if raw_length > MAX_BLOCK_SIZE or length > MAX_BLOCK_SIZE:
        raise ValueError(f"a snapshot block holds at most {MAX_BLOCK_SIZE} bytes; use smaller batches")
    head = _BLOCK.pack(kind, flags, items, raw_length, length)
    crc = zlib.crc32(head, seed)
    for part in parts:
        crc = zlib.crc32(part, crc)
    return [head + struct.pack("<I", crc), *parts], (kind, flags, length, raw_length, items, crc)


def write_snapshot(
    fs: FileSystem,
    path: str,
    header: dict,
    names: dict,
    vertex_batches: Iterable[list],
    edge_batches: Iterable[list],
    schema: dict,
    compress: bool = False,
) -> SnapshotInfo:
    """Write a whole snapshot atomically. `header` must hold "db_uuid"; batches may be generators."""
    db_uuid = uuid_bytes(header["db_uuid"])
    header = dict(header, db_uuid=db_uuid)
    prelude = _PRELUDE.pack(MAGIC, VERSION, 0, db_uuid)
    seed = zlib.crc32(prelude)
    prelude += struct.pack("<I", seed)
    cctx = zstandard.ZstdCompressor(level=3) if compress else None
    entries: list[tuple] = []
    counts = {VERTICES: 0, EDGES: 0}
    with fs.replacing(path) as f:
        fs.write(f, prelude)

        def put(kind: int, value: Any, items: int) -> None:
            parts = codec.packb_parts(value) if kind in (VERTICES, EDGES) else [codec.packb(value)]
            pieces, entry = _block(kind, parts, items, compress, seed, cctx)
            entries.append((entry[0], entry[1], f.size) + entry[2:])
            for piece in pieces:
                fs.write(f, piece)

        put(HEADER, header, 1)
        put(NAMES, names, 1)
        for kind, batches in ((VERTICES, vertex_batches), (EDGES, edge_batches)):
            for batch in batches:
                if not isinstance(batch, list):  # a copy of a million-item list holds the GIL for 20 ms
                    batch = list(batch)
                put(kind, batch, len(batch))
                counts[kind] += len(batch)
        put(SCHEMA, schema, 1)
        table = b"".join(_ENTRY.pack(*e) for e in entries)
        where = struct.pack("<QI", f.size, len(entries))
        footer_crc = zlib.crc32(where, zlib.crc32(table, seed))
        fs.write(f, table + where + struct.pack("<I", footer_crc) + END_MAGIC)
    size = f.size
    return SnapshotInfo(path, size, counts[VERTICES], counts[EDGES], len(entries))


# --- reading ----------------------------------------------------------------
#
# The functions below are the only code that parses a snapshot's bytes. They
# raise _Damage (byte offset, reason); `SnapshotReader` turns it into
# SnapshotDamaged and stops, `examine` notes it and goes on.


class _Damage(Exception):
    def __init__(self, offset: int, reason: str):
        super().__init__(offset, reason)
        self.offset, self.reason = offset, reason


def _read_exact(fs: FileSystem, path: str, offset: int, length: int) -> bytes:
    data = fs.read(path, offset, length)
    if len(data) != length:
        raise _Damage(offset, f"the file ended after {len(data)} of {length} bytes")
    return data


@dataclass(frozen=True)
class Prelude:
    magic: bytes
    version: int
    db_uuid: bytes
    seed: int  # the prelude's CRC as stored: every block's CRC is seeded with it
    intact: bool  # the stored CRC matches the prelude's bytes


def _prelude(raw: bytes) -> Prelude:
    magic, version, _flags, db_uuid = _PRELUDE.unpack_from(raw)
    (crc,) = struct.unpack_from("<I", raw, _PRELUDE.size)
    return Prelude(magic, version, db_uuid, crc, zlib.crc32(raw[: _PRELUDE.size]) == crc)


def _offset_table(fs: FileSystem, path: str, size: int, seed: int) -> list[BlockEntry]:
    """The blocks as the footer lists them, checked to describe header, names, batches, schema back to back."""
    at = size - TRAILER_SIZE
    table_offset, count, crc, end = _TRAILER.unpack(_read_exact(fs, path, at, TRAILER_SIZE))
    if end != END_MAGIC:
        raise _Damage(at + 16, "no end marker: the file is incomplete or damaged")
    if table_offset < PRELUDE_SIZE or table_offset + count * ENTRY_SIZE != at or count < 3:
        raise _Damage(at, f"the footer's table offset {table_offset} / {count} entries do not fit the file")
    table = _read_exact(fs, path, table_offset, count * ENTRY_SIZE)
    if zlib.crc32(struct.pack("<QI", table_offset, count), zlib.crc32(table, seed)) != crc:
        raise _Damage(table_offset, "the footer's checksum does not match")
    entries, expect = [], PRELUDE_SIZE
    for i in range(count):
        e = BlockEntry(*_ENTRY.unpack_from(table, i * ENTRY_SIZE))
        if e.offset != expect or e.length > MAX_BLOCK_SIZE or e.raw_length > MAX_BLOCK_SIZE:
            raise _Damage(table_offset + i * ENTRY_SIZE, f"table entry {i} does not describe the next block")
        expect = e.end
        entries.append(e)
    kinds = [e.kind for e in entries]
    middle = kinds[2:-1]
    if (expect != table_offset or kinds[:2] != [HEADER, NAMES] or kinds[-1] != SCHEMA
            or middle != sorted(middle) or not set(middle) <= {VERTICES, EDGES}):
        raise _Damage(table_offset, "the offset table does not describe header, names, batches, schema")
    return entries


def _walk_blocks(fs: FileSystem, path: str, size: int) -> list[BlockEntry]:
    """The blocks found by following block headers from the prelude on, while
    they have a known kind and fit the file, up to the schema block: what can
    still be checked when the footer cannot be trusted."""
    entries, offset = [], PRELUDE_SIZE
    while offset + BLOCK_HEADER_SIZE <= size:
        raw = _read_exact(fs, path, offset, BLOCK_HEADER_SIZE)
        kind, flags, items, raw_length, length = _BLOCK.unpack_from(raw)
        (crc,) = struct.unpack_from("<I", raw, _BLOCK.size)
        if kind not in KIND_NAMES or offset + BLOCK_HEADER_SIZE + length > size:
            break
        entries.append(BlockEntry(kind, flags, offset, length, raw_length, items, crc))
        offset += BLOCK_HEADER_SIZE + length
        if kind == SCHEMA:
            break
    return entries


def _block_value(fs: FileSystem, path: str, e: BlockEntry, seed: int) -> Any:
    """One block read, checked against its entry and its CRC, decompressed and decoded."""
    name = KIND_NAMES.get(e.kind, "block")
    if e.length > MAX_BLOCK_SIZE or e.raw_length > MAX_BLOCK_SIZE:
        raise _Damage(e.offset, f"the {name} is larger than a block can be")
    raw = _read_exact(fs, path, e.offset, BLOCK_HEADER_SIZE + e.length)
    head = _BLOCK.unpack_from(raw)
    (crc,) = struct.unpack_from("<I", raw, _BLOCK.size)
    if head != (e.kind, e.flags, e.items, e.raw_length, e.length) or crc != e.crc:
        raise _Damage(e.offset, f"the {name} header does not match the offset table")
    payload = raw[BLOCK_HEADER_SIZE:]
    if zlib.crc32(payload, zlib.crc32(raw[: _BLOCK.size], seed)) != crc:
        raise _Damage(e.offset, f"{name} checksum mismatch")
    if e.flags & FLAG_ZSTD:
        try:
            if zstandard.frame_content_size(payload) not in (-1, e.raw_length):
                raise _Damage(e.offset, "the compressed frame claims a different decoded length")
            payload = zstandard.ZstdDecompressor().decompress(payload, max_output_size=e.raw_length)
        except zstandard.ZstdError as exc:
            raise _Damage(e.offset, f"cannot decompress: {exc}") from exc
    if len(payload) != e.raw_length or e.flags & ~FLAG_ZSTD:
        raise _Damage(e.offset, "decoded length or flags do not match the block header")
    try:
        value = codec.unpackb(payload)
    except codec.CodecError as exc:
        raise _Damage(e.offset, f"the {name} does not decode: {exc}") from exc
    if e.kind in (VERTICES, EDGES) and (not isinstance(value, list) or len(value) != e.items):
        raise _Damage(e.offset, f"the batch does not hold the {e.items} items the table says")
    return value


@dataclass(frozen=True)
class BlockCheck:
    entry: BlockEntry
    value: Any = None  # the decoded payload when the block is intact
    problem: str = ""  # "byte N: what is wrong", or "" when it checks and decodes


@dataclass
class Examination:
    """A snapshot file checked block by block, as far as it can be: what
    `weftdb inspect` shows. `problems` are those of the file's structure
    (prelude, version, footer), each with its byte offset; each block carries
    its own."""

    path: str
    size: int
    prelude: Prelude | None = None  # None: too short for one, or not a snapshot
    problems: list[str] = field(default_factory=list)
    walked: bool = False  # the footer was damaged: `blocks` were found by following block headers
    blocks: list[BlockCheck] = field(default_factory=list)


def examine(fs: FileSystem, path: str) -> Examination:
    """Check every part of a possibly damaged snapshot and carry on past
    damage: with a damaged footer the blocks are found by walking their
    headers from the start. Only reads; raises only OSError."""
    size = fs.size(path)
    result = Examination(path, size)
    if size < PRELUDE_SIZE + TRAILER_SIZE:
        result.problems.append(f"byte 0: {size} bytes is too short for a snapshot")
        return result
    prelude = _prelude(_read_exact(fs, path, 0, PRELUDE_SIZE))
    if prelude.magic != MAGIC:
        result.problems.append(f"byte 0: not a WeftDB snapshot (magic bytes {prelude.magic!r})")
        return result
    result.prelude = prelude
    if not prelude.intact:
        result.problems.append("byte 0: the prelude's checksum does not match")
    if prelude.version not in READS:
        result.problems.append(f"byte 8: format version {prelude.version}; this WeftDB reads versions "
                               f"{', '.join(map(str, READS))}")
    try:
        entries = _offset_table(fs, path, size, prelude.seed)
    except _Damage as d:
        result.problems.append(f"byte {d.offset}: {d.reason}; walking the blocks from the start instead")
        result.walked = True
        entries = _walk_blocks(fs, path, size)
    for e in entries:
        try:
            result.blocks.append(BlockCheck(e, _block_value(fs, path, e, prelude.seed)))
        except _Damage as d:
            result.blocks.append(BlockCheck(e, None, f"byte {d.offset}: {d.reason}"))
    return result


class SnapshotReader:
    """Opens and checks a snapshot's prelude, footer, header, names and schema.

    `expected_uuid` None accepts any database (a restore adopting the copied
    snapshot's UUID). Batches are read and checked when iterated."""

    def __init__(self, fs: FileSystem, path: str, expected_uuid=None):
        self._fs = fs
        self.path = path
        try:
            self.size = fs.size(path)
        except OSError as e:
            raise RecoveryError(f"snapshot {path} cannot be read: {e.strerror or e}") from e
        self._read_prelude(expected_uuid)
        try:
            self.entries = _offset_table(fs, path, self.size, self._seed)
        except _Damage as d:
            raise self._damaged(d.offset, d.reason) from None
        self.vertex_entries = [e for e in self.entries if e.kind == VERTICES]
        self.edge_entries = [e for e in self.entries if e.kind == EDGES]
        self.header = self._decode(self.entries[0])
        self.names = self._decode(self.entries[1])
        self.schema = self._decode(self.entries[-1])
        h = self.header
        if not isinstance(h, dict) or h.get("db_uuid") != self.db_uuid:
            raise self._damaged(self.entries[0].offset, "the header block does not name the prelude's database")
        if not isinstance(self.names, dict) or not isinstance(self.schema, dict):
            raise self._damaged(self.entries[1].offset, "the names or schema block is not a map")
        self.vertex_count = sum(e.items for e in self.vertex_entries)
        self.edge_count = sum(e.items for e in self.edge_entries)
        for key, n in (("vertex_count", self.vertex_count), ("edge_count", self.edge_count)):
            if key in h and h[key] != n:
                raise self._damaged(self.entries[0].offset, f"the header's {key} is {h[key]}, the batches hold {n}")

    def _damaged(self, offset: int, reason: str) -> SnapshotDamaged:
        return SnapshotDamaged(
            f"snapshot {self.path} is damaged at byte {offset}: {reason}. Choices: recovery uses an older "
            "snapshot if the WAL covers the gap; otherwise restore this file from a backup, or move it out "
            "of snapshots/ to start from an older one."
        )

    def _read_prelude(self, expected_uuid) -> None:
        if self.size < PRELUDE_SIZE + TRAILER_SIZE:
            raise self._damaged(0, f"{self.size} bytes is too short for a snapshot")
        try:
            prelude = _prelude(_read_exact(self._fs, self.path, 0, PRELUDE_SIZE))
        except _Damage as d:
            raise self._damaged(d.offset, d.reason) from None
        if prelude.magic != MAGIC:
            raise RecoveryError(f"{self.path} (byte 0) is not a WeftDB snapshot (magic bytes {prelude.magic!r}); move it out of snapshots/.")
        if not prelude.intact:
            raise self._damaged(0, "the prelude's checksum does not match")
        if prelude.version not in READS:
            raise RecoveryError(
                f"snapshot {self.path} (byte 8) has format version {prelude.version}; this WeftDB reads versions "
                f"{', '.join(map(str, READS))}. Choices: open it with the WeftDB version that wrote it; or move it "
                "out of snapshots/."
            )
        self.version = prelude.version
        if expected_uuid is not None and prelude.db_uuid != uuid_bytes(expected_uuid):
            raise RecoveryError(
                f"snapshot {self.path} (byte 12) belongs to database {_uuid.UUID(bytes=prelude.db_uuid)}, not to this "
                f"database {_uuid.UUID(bytes=uuid_bytes(expected_uuid))}. Choices: move it out of snapshots/ if it "
                "was copied here by mistake; or, to restore from it, empty wal/ and keep only this snapshot."
            )
        self.db_uuid = prelude.db_uuid
        self._seed = prelude.seed

    def _decode(self, e: BlockEntry) -> Any:
        try:
            return _block_value(self._fs, self.path, e, self._seed)
        except _Damage as d:
            raise self._damaged(d.offset, d.reason) from d.__cause__

    def _batches(self, entries: list[BlockEntry], threads: int) -> Iterator[list]:
        if threads <= 1:
            for e in entries:
                yield self._decode(e)
            return
        with ThreadPoolExecutor(max_workers=threads) as pool:
            window: deque = deque()  # at most 2 * threads batches decoded ahead of the consumer
            it = iter(entries)
            for e in it:
                window.append(pool.submit(self._decode, e))
                if len(window) >= 2 * threads:
                    break
            while window:
                batch = window.popleft().result()
                nxt = next(it, None)
                if nxt is not None:
                    window.append(pool.submit(self._decode, nxt))
                yield batch

    def vertex_batches(self, threads: int = 1) -> Iterator[list]:
        """Vertex batches in file order; `threads` > 1 decodes ahead in a thread pool."""
        return self._batches(self.vertex_entries, threads)

    def edge_batches(self, threads: int = 1) -> Iterator[list]:
        return self._batches(self.edge_entries, threads)

    def verify(self) -> None:
        """Check and decode every batch (`weftdb verify`); raises SnapshotDamaged at the first bad one."""
        for e in self.entries:
            self._decode(e)

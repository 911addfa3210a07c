"""What `weftdb inspect FILE` shows of a WAL segment or a snapshot, as data.

Why not the readers as they are: recovery stops at the first damage, by
design; a person looking at a damaged file wants to see all of it — what is
intact, where the damage is, and what follows it. The formats' own modules
do the reading (`wal_reader.SegmentScan` tells padding, a torn tail and damage
apart exactly as recovery does; `snapshot_file.examine` checks a snapshot
block by block); this module decodes what they find into the rows a person
reads, and carries on past damage: in a WAL segment it starts a new scan at
the next valid record; in a snapshot whose footer is damaged, `examine` walks
the blocks from the start.

It only reads, and prints nothing: `weftdb/cli/files.py` prints the results.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

from weftdb.durability import codec, wal
from weftdb.durability import snapshot_file as sf
from weftdb.durability.files import FileSystem
from weftdb.durability.wal_reader import DAMAGE, PADDING, Segment, SegmentEnd, SegmentScan, order_problem
from weftdb.graph import redo


@dataclass(frozen=True)
class RecordRow:
    """One record of a segment, or the bytes where one should have been."""

    offset: int
    length: int | None  # the frame's length field; None when fewer than 4 bytes are left
    checksum_ok: bool
    commit_ts: int | None = None
    wall_time_us: int | None = None
    operations: tuple[tuple[str, int], ...] = ()  # (kind of operation, how many), in first-seen order
    ops: int = 0
    problem: str = ""  # why the bytes are not a valid record, or why a valid one does not decode
    resumes_at: int | None = None  # a bad record: the next valid record, where the listing goes on


@dataclass
class SegmentInspection:
    path: str
    size: int
    header: tuple[int, bytes, int] | None = None  # (format version, database UUID, sequence) when it checks
    file_problems: list[str] = field(default_factory=list)  # the header's
    records: list[RecordRow] = field(default_factory=list)
    end: SegmentEnd | None = None  # what follows the last record listed; None: the records reach the end
    scanned: bool = False  # False: too short for a header, so no record could be looked for

    @property
    def valid_records(self) -> int:
        return sum(1 for row in self.records if row.checksum_ok)

    @property
    def problems(self) -> list[str]:
        return self.file_problems + [f"byte {row.offset}: {row.problem}" for row in self.records if row.problem]


@dataclass
class SnapshotInspection:
    examination: sf.Examination
    header: dict | None = None  # the decoded header, names and schema blocks, when intact
    names: dict | None = None
    schema: dict | None = None

    @property
    def path(self) -> str:
        return self.examination.path

    @property
    def blocks(self) -> list[sf.BlockCheck]:
        return self.examination.blocks

    @property
    def vertices(self) -> int:
        return sum(b.entry.items for b in self.blocks if b.entry.kind == sf.VERTICES)

    @property
    def edges(self) -> int:
        return sum(b.entry.items for b in self.blocks if b.entry.kind == sf.EDGES)

    @property
    def problems(self) -> list[str]:
        return self.examination.problems + [b.problem for b in self.blocks if b.problem]


@dataclass
class Unrecognized:
    path: str
    magic: bytes

    @property
    def problems(self) -> list[str]:
        return [f"{self.path} is not a WeftDB WAL segment or snapshot (byte 0: magic bytes {self.magic!r})"]


Inspection = SegmentInspection | SnapshotInspection | Unrecognized


def inspect_file(path: str, fs: FileSystem | None = None) -> Inspection:
    """What `path` (a WAL segment or a snapshot) holds, damage included; raises only OSError."""
    fs = fs or FileSystem()
    magic = fs.read(path, 0, 8)
    if magic == wal.MAGIC:
        return inspect_segment(path, fs.read(path))
    if magic == sf.MAGIC:
        return inspect_snapshot(fs, path)
    return Unrecognized(path, magic)


# --- WAL segments -------------------------------------------------------------------------


def operation_counts(ops: list) -> tuple[tuple[str, int], ...]:
    """(kind, count) of the operations of one record, in first-seen order."""
    counts = Counter(redo.NAMES.get(op[0] if op else None, f"op {op[0] if op else '?'}") for op in ops)
    return tuple(counts.items())


def inspect_segment(path: str, data: bytes) -> SegmentInspection:
    result = SegmentInspection(path, len(data))
    try:
        version, db_uuid, sequence, seed = wal.unpack_header(data)
        result.header = (version, db_uuid, sequence)
    except wal.HeaderError as exc:
        result.file_problems.append(f"byte 0: the segment header cannot be trusted: {exc}")
        if len(data) < wal.HEADER_SIZE:
            return result
        db_uuid, sequence = b"", wal.sequence_of_name(os.path.basename(path)) or 0
        seed = wal.stored_header_crc(data)  # the records are seeded with it: check them anyway
    segment = Segment(path, sequence, db_uuid, seed)
    result.scanned = True
    _scan_records(result, segment, data)
    _check_order(result.records)
    return result


def _scan_records(result: SegmentInspection, segment: Segment, data: bytes) -> None:
    """Every valid record and what follows them, carrying on after damage."""
    start: int | None = wal.HEADER_SIZE
    while start is not None:
        scan = SegmentScan(segment, data, start)
        result.records.extend(_record_row(record.offset, record.body) for record in scan)
        end, start = scan.end, None
        if end is None or end.kind == PADDING:
            result.end = end
        elif end.kind == DAMAGE and end.follower is not None:
            result.records.append(RecordRow(end.offset, wal.frame_length(data, end.offset), False,
                                            problem=end.why, resumes_at=end.follower))
            start = end.follower
        else:  # a torn tail, or damage followed by more than the search for a valid record covers
            result.records.append(RecordRow(end.offset, wal.frame_length(data, end.offset), False, problem=end.why))
            result.end = end


def _check_order(rows: list[RecordRow]) -> None:
    """Mark a record whose commit timestamp does not rise (recovery refuses it as damage)."""
    previous = None
    for i, row in enumerate(rows):
        if row.commit_ts is None:
            continue
        why = order_problem(row.commit_ts, previous)
        if why is not None and not row.problem:
            rows[i] = replace(row, problem=why)
        previous = row.commit_ts


def _record_row(offset: int, body: bytes) -> RecordRow:
    try:
        commit_ts, wall_time_us, ops = wal.decode_record(body)
    except codec.CodecError as exc:
        return RecordRow(offset, len(body), True, problem=f"does not decode: {exc}")
    return RecordRow(offset, len(body), True, commit_ts, wall_time_us, operation_counts(ops), len(ops))


# --- snapshots ------------------------------------------------------------------------------


def inspect_snapshot(fs: FileSystem, path: str) -> SnapshotInspection:
    result = SnapshotInspection(sf.examine(fs, path))
    decoded: dict[int, Any] = {b.entry.kind: b.value for b in result.blocks
                               if not b.problem and b.entry.kind in (sf.HEADER, sf.NAMES, sf.SCHEMA)}
    for kind, attribute in ((sf.HEADER, "header"), (sf.NAMES, "names"), (sf.SCHEMA, "schema")):
        if isinstance(decoded.get(kind), dict):
            setattr(result, attribute, decoded[kind])
    return result

"""Reading the WAL back at startup: segments in sequence order, records in file order.

Why it decides so little: as LevelDB's log reader, this module reports what it
found and the caller (recovery) acts. What it finds after the last valid record
of a segment is one of three things (DESIGN.md invariant 5):

* nothing, or zero padding — the segment's end. The writer zero-fills a
  segment when it creates it and cuts the padding off when it seals it, but a
  killed process leaves it in place, and the next process starts a new segment
  after it; so padding is the end of data in any segment. (A lost tail of an
  older segment cannot hide there: recovery checks that commit timestamps
  continue without a gap into the next segment.)
* a torn tail — in the newest segment, bytes that are not a whole valid record
  and are followed by no valid record. That is what a crash during a write
  leaves; the record was never fsynced, so never acknowledged.
* anything else — a bad record in an older segment (the writer fsyncs a
  segment before starting the next, so older ones cannot be torn), damage
  followed by valid records, a gap in the sequence numbers, a segment of
  another database or of an unknown format version: `RecoveryError` naming the
  file, the byte offset and the operator's choices. Nothing is skipped and
  nothing is changed on disk.

What follows the records of the newest segment is reported as `tail` (file,
offset of the end of the last valid record, bytes after it, reason, and
whether it is torn; `torn_tail` when it is). The caller cuts it off with
`truncate_tail` once the rest of startup has succeeded (with a warning for a
torn tail) and before a new `WalWriter` starts the next segment: a torn tail
is only tolerated in the newest one, and padding left there by a killed
process would otherwise keep a whole preallocated segment's size on disk.

`SegmentScan` is the one pass over a segment's bytes that finds the records
and tells padding, a torn tail and damage apart (`SegmentEnd`). Recovery,
`weftdb verify`, `weftdb inspect` (which starts a new scan at the next valid
record to show what follows damage) and the backup source all read segments
through it, so none of them can call the same bytes something else.

Reading never allocates more than the segment's size: each segment is read
whole (bounded by its file size) and every length field is checked against it.
"""

from __future__ import annotations

import os
import struct
import uuid as _uuid
from dataclasses import dataclass
from itertools import chain
from typing import Iterable, Iterator

from weftdb.basics.errors import RecoveryError
from weftdb.durability import codec, wal
from weftdb.durability.files import FileSystem

# Bytes of CRC work spent looking for a valid record after a bad one before we
# give up deciding whether the tail is torn (and refuse to guess).
_SCAN_BUDGET = 64 << 20


@dataclass(frozen=True)
class Segment:
    path: str
    sequence: int
    db_uuid: bytes
    seed: int  # the header CRC every record CRC of this segment is seeded with


@dataclass(frozen=True)
class WalRecord:
    path: str
    sequence: int  # of the segment
    offset: int  # of the record's frame header in the segment
    body: bytes

    def decode(self) -> tuple[int, int, list[list]]:
        """(commit_ts, wall_time_us, ops); a body that passed its CRC but does not decode is an error."""
        try:
            return wal.decode_record(self.body)
        except codec.CodecError as e:
            raise RecoveryError(
                f"WAL segment {self.path}: the record at byte {self.offset} has a valid checksum "
                f"but cannot be decoded ({e}); it was written by a different or faulty WeftDB. "
                "Choices: open the data directory with the WeftDB version that wrote it; or restore from a backup."
            ) from e


PADDING, TORN, DAMAGE = "padding", "torn", "damage"


@dataclass(frozen=True)
class SegmentEnd:
    """What follows the valid records of a segment when they do not reach its end.

    `kind` is PADDING (only zero bytes: the end of the data), TORN (bytes that
    are not a valid record, with no valid record after them: a torn tail in
    the newest segment, damage in any other) or DAMAGE (a valid record
    follows at `follower`, or, with `follower` None, so much data follows that
    the search for one ran out of budget and refuses to guess)."""

    offset: int  # where the valid records end
    size: int  # bytes from there to the end of the file
    kind: str
    why: str  # why the bytes at `offset` are not a valid record
    follower: int | None = None

    @property
    def reason(self) -> str:
        if self.kind != DAMAGE:
            return self.why
        if self.follower is None:
            return f"{self.why}; too much data follows to tell a torn tail from damage"
        return f"{self.why}; a valid record follows at byte {self.follower}, so this is damage, not a torn tail from a crash"


class SegmentScan:
    """One pass over a segment's bytes: iterating yields its valid records in
    file order from `start`; once they stop, `end` says what follows them
    (None: the records reach the end of the bytes)."""

    def __init__(self, segment: Segment, data: bytes, start: int = wal.HEADER_SIZE):
        self.segment = segment
        self.data = data
        self.start = start
        self.end: SegmentEnd | None = None

    def __iter__(self) -> Iterator[WalRecord]:
        data, path, sequence, seed = self.data, self.segment.path, self.segment.sequence, self.segment.seed
        offset = self.start
        while offset < len(data):
            body, why = wal.unframe(data, offset, seed)
            if body is None:
                self.end = _what_follows(data, offset, why, seed)
                return
            yield WalRecord(path, sequence, offset, body)
            offset += wal.FRAME_HEADER_SIZE + len(body)


def _what_follows(data: bytes, offset: int, why: str, seed: int) -> SegmentEnd:
    size = len(data) - offset
    if data.count(0, offset) == size:
        return SegmentEnd(offset, size, PADDING, "zero padding after the last record")
    follower = _next_valid_record(data, offset + 1, seed)
    if follower is None:
        return SegmentEnd(offset, size, TORN, why)
    return SegmentEnd(offset, size, DAMAGE, why, None if follower == -1 else follower)


@dataclass(frozen=True)
class SegmentTail:
    """What follows the last valid record of the newest segment."""

    path: str
    offset: int  # truncate the segment to this many bytes
    dropped_bytes: int
    torn: bool  # True: a cut-off write (log a warning); False: zero padding
    reason: str


def truncate_tail(fs: FileSystem, tail: SegmentTail) -> None:
    """Cut the newest segment after its last valid record (and fsync it)."""
    fs.truncate_path(tail.path, tail.offset)




def _damaged(path: str, offset: int, reason: str, directory: str) -> RecoveryError:
    return RecoveryError(
        f"WAL segment {path} is damaged at byte {offset}: {reason}. Startup stops rather than skip "
        "committed transactions; nothing was changed. Choices: restore this segment from a backup and "
        f"start again; or restore the whole database from a backup; or accept losing every transaction "
        f"from this point on by truncating {path} to {offset} bytes and moving every later segment out of {directory}."
    )


def order_problem(commit_ts: int, previous: int | None) -> str | None:
    """Why a record cannot follow one with commit timestamp `previous`, or None.

    Every commit takes the next timestamp and the log is written in commit
    order, so from record to record the timestamps rise. One that does not
    (a copied or misplaced block that still passes its checksum) is damage,
    never a transaction to skip."""
    if previous is not None and commit_ts <= previous:
        return (f"commit timestamp {commit_ts} is not above the previous record's {previous}: a record out of "
                "order (a copied or misplaced block)")
    return None


def check_order(record: WalRecord, commit_ts: int, previous: int | None, directory: str) -> None:
    """`order_problem` as the RecoveryError that stops a start, naming the file and offset."""
    why = order_problem(commit_ts, previous)
    if why is not None:
        raise _damaged(record.path, record.offset, why, directory)


def first_commit_ts(fs: FileSystem, segment: Segment) -> int | None:
    """The commit timestamp of a segment's first record, read from its header
    and first frame only; None when it has no valid first record."""
    head = fs.read(segment.path, 0, wal.HEADER_SIZE + wal.FRAME_HEADER_SIZE)
    if len(head) < wal.HEADER_SIZE + wal.FRAME_HEADER_SIZE:
        return None
    length = wal.frame_length(head, wal.HEADER_SIZE)
    if length is None or not 0 < length <= wal.MAX_RECORD_SIZE:
        return None
    data = head + fs.read(segment.path, len(head), length)
    body, _why = wal.unframe(data, wal.HEADER_SIZE, segment.seed)
    if body is None:
        return None
    try:
        return wal.record_times(body)[0]
    except codec.CodecError:
        return None


class WalReader:
    """Reads `directory`'s segments; `db_uuid` None adopts the UUID of the first segment."""

    def __init__(self, fs: FileSystem, directory: str, db_uuid=None):
        self._fs = fs
        self._dir = directory
        self._files: list[str] | None = None
        self.db_uuid = wal.uuid_bytes(db_uuid) if db_uuid is not None else None
        self.tail: SegmentTail | None = None

    @classmethod
    def of_files(cls, fs: FileSystem, paths: Iterable[str], db_uuid=None) -> WalReader:
        """A reader of the given segment files only, wherever they are (a
        backup's segments, fetched one by one), checked as a directory's
        segments are: names, UUID, version, and no gap among them."""
        paths = list(paths)
        reader = cls(fs, os.path.dirname(paths[0]) if paths else "", db_uuid)
        reader._files = paths
        return reader

    @property
    def torn_tail(self) -> SegmentTail | None:
        return self.tail if self.tail is not None and self.tail.torn else None

    @property
    def directory(self) -> str:
        return self._dir

    def _named(self) -> list[tuple[int, str]]:
        """(sequence its name claims, path) of every segment to read, in sequence order."""
        if self._files is not None:
            named = []
            for path in self._files:
                seq = wal.sequence_of_name(os.path.basename(path))
                if seq is None:
                    raise RecoveryError(f"{path} is not named as a WAL segment is (16 digits and {wal.SEGMENT_SUFFIX})")
                named.append((seq, path))
            return sorted(named)
        if not self._fs.exists(self._dir):
            return []
        return sorted(
            (seq, os.path.join(self._dir, name))
            for name in self._fs.listdir(self._dir)
            if (seq := wal.sequence_of_name(name)) is not None
        )

    def segments(self) -> list[Segment]:
        """Headers of every segment, in sequence order, checked for UUID, version and gaps."""
        fs = self._fs
        out: list[Segment] = []
        for seq, path in self._named():
            head = fs.read(path, 0, wal.HEADER_SIZE)
            try:
                _version, db_uuid, hseq, seed = wal.unpack_header(head)
            except wal.HeaderError as e:
                raise RecoveryError(
                    f"WAL segment {path} cannot be read (byte 0): {e}. Choices: if this file does not belong "
                    f"here, move it out of {self._dir}; if it was written by another WeftDB version, open the "
                    "data directory with that version; otherwise restore from a backup."
                ) from e
            if self.db_uuid is None:
                self.db_uuid = db_uuid
            if db_uuid != self.db_uuid:
                raise RecoveryError(
                    f"WAL segment {path} (byte 12) belongs to database {_uuid.UUID(bytes=db_uuid)}, not to this "
                    f"database {_uuid.UUID(bytes=self.db_uuid)}. Choices: move it out of {self._dir} if it was "
                    "copied here by mistake; or open the data directory it came from."
                )
            if hseq != seq:
                raise RecoveryError(
                    f"WAL segment {path} (byte 28) says it is segment {hseq}, but its name says {seq}: it was "
                    f"renamed or copied over another. Choices: give it back its name {wal.segment_name(hseq)}; "
                    f"or move it out of {self._dir}."
                )
            if out and seq != out[-1].sequence + 1:
                prev = out[-1]
                raise RecoveryError(
                    f"WAL sequence has a gap: {prev.path} (segment {prev.sequence}) is followed by {path} "
                    f"(segment {seq}, byte 0); segments {prev.sequence + 1}..{seq - 1} are missing. Choices: put "
                    "the missing segments back (from a backup or wherever they were copied from); or move "
                    f"{path} and every later segment out of {self._dir} to recover only up to segment {prev.sequence}."
                )
            out.append(Segment(path, seq, db_uuid, seed))
        return out

    def segment_sizes(self) -> dict[int, int]:
        """Bytes of each segment file, by sequence number (for progress reports)."""
        return {seg.sequence: self._fs.size(seg.path) for seg in self.segments()}

    def records(self) -> Iterator[WalRecord]:
        """Every valid record in commit order; sets `tail` if the newest segment ends torn or padded."""
        # Chained: each segment's scan hands its records straight to the caller
        # (recovery's replay loop, where a generator in between would cost every
        # record one more resumption); _scans runs once a segment, to act on its end.
        return chain.from_iterable(self._scans())

    def _scans(self) -> Iterator[SegmentScan]:
        self.tail = None
        segs = self.segments()
        for i, seg in enumerate(segs):
            scan = SegmentScan(seg, self._fs.read(seg.path))
            yield scan
            if scan.end is not None:  # padding, a torn tail or damage: _ended decides or raises
                self._ended(seg, scan.end, newest=i == len(segs) - 1)

    def _ended(self, seg: Segment, end: SegmentEnd, newest: bool) -> None:
        if end.kind == PADDING:
            if newest:
                self.tail = SegmentTail(seg.path, end.offset, end.size, False, end.reason)
            return
        if not newest:
            raise _damaged(seg.path, end.offset, end.why + " (not the newest segment, so not a torn tail)", self._dir)
        if end.kind == DAMAGE:
            raise _damaged(seg.path, end.offset, end.reason, self._dir)
        self.tail = SegmentTail(seg.path, end.offset, end.size, True, end.why)


def _next_valid_record(data: bytes, start: int, seed: int) -> int | None:
    """Offset of the first whole valid record at or after `start`, None if there is none,
    -1 if the search ran out of budget (the caller then refuses to guess)."""
    budget = _SCAN_BUDGET
    end = len(data) - wal.FRAME_HEADER_SIZE
    unpack = struct.Struct("<I").unpack_from  # wal.frame_length without its checks: this runs once a byte
    off = start
    while off <= end:
        (length,) = unpack(data, off)
        if length == 0:  # skip a run of zeros (padding) at C speed: no frame starts inside it
            window = data[off : off + 65536]
            off += max(1, len(window) - len(window.lstrip(b"\0")) - 3)
            continue
        if length <= end - off:
            budget -= length
            if budget < 0:
                return -1
            if wal.unframe(data, off, seed)[0] is not None:
                return off
        off += 1
    return None

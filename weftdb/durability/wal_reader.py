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

For a torn tail the reader stops and sets `torn_tail` (file, offset of the end
of the last valid record, bytes after it, reason); the caller logs a warning
and calls `truncate_torn_tail` once the rest of startup has succeeded — and
before a new `WalWriter` starts the next segment, since a torn tail is only
tolerated in the newest one. Padding of the newest segment is reported as
`tail` (torn False); cutting it off is optional (it only frees disk space).

Reading never allocates more than the segment's size: each segment is read
whole (bounded by its file size) and every length field is checked against it.
"""

from __future__ import annotations

import os
import struct
import uuid as _uuid
from dataclasses import dataclass
from typing import Iterator

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


truncate_torn_tail = truncate_tail
TornTail = SegmentTail  # the name recovery.py imports


def _damaged(path: str, offset: int, reason: str, directory: str) -> RecoveryError:
    return RecoveryError(
        f"WAL segment {path} is damaged at byte {offset}: {reason}. Startup stops rather than skip "
        "committed transactions; nothing was changed. Choices: restore this segment from a backup and "
        f"start again; or restore the whole database from a backup; or accept losing every transaction "
        f"from this point on by truncating {path} to {offset} bytes and moving every later segment out of {directory}."
    )


def first_commit_ts(fs: FileSystem, segment: Segment) -> int | None:
    """The commit timestamp of a segment's first record, read from its header
    and first frame only; None when it has no valid first record."""
    head = fs.read(segment.path, 0, wal.HEADER_SIZE + wal.FRAME_HEADER_SIZE)
    if len(head) < wal.HEADER_SIZE + wal.FRAME_HEADER_SIZE:
        return None
    (length,) = struct.unpack_from("<I", head, wal.HEADER_SIZE)
    if not 0 < length <= wal.MAX_RECORD_SIZE:
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
        self.db_uuid = wal.uuid_bytes(db_uuid) if db_uuid is not None else None
        self.tail: SegmentTail | None = None

    @property
    def torn_tail(self) -> SegmentTail | None:
        return self.tail if self.tail is not None and self.tail.torn else None

    def segments(self) -> list[Segment]:
        """Headers of every segment, in sequence order, checked for UUID, version and gaps."""
        fs = self._fs
        if not fs.exists(self._dir):
            return []
        named = sorted(
            (seq, os.path.join(self._dir, name))
            for name in fs.listdir(self._dir)
            if (seq := wal.sequence_of_name(name)) is not None
        )
        out: list[Segment] = []
        for seq, path in named:
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
        self.tail = None
        segs = self.segments()
        for i, seg in enumerate(segs):
            data = self._fs.read(seg.path)
            offset = wal.HEADER_SIZE
            while offset < len(data):
                body, why = wal.unframe(data, offset, seg.seed)
                if body is None:  # padding, a torn tail or damage: _bad_record decides or raises
                    self._bad_record(seg, data, offset, why, newest=i == len(segs) - 1)
                    break
                yield WalRecord(seg.path, seg.sequence, offset, body)
                offset += wal.FRAME_HEADER_SIZE + len(body)

    def _bad_record(self, seg: Segment, data: bytes, offset: int, why: str, newest: bool) -> None:
        rest = len(data) - offset
        if data.count(0, offset) == rest:
            if newest:
                self.tail = SegmentTail(seg.path, offset, rest, False, "zero padding after the last record")
            return
        if not newest:
            raise _damaged(seg.path, offset, why + " (not the newest segment, so not a torn tail)", self._dir)
        follower = _next_valid_record(data, offset + 1, seg.seed)
        if follower == -1:
            raise _damaged(seg.path, offset, f"{why}; too much data follows to tell a torn tail from damage",
                           self._dir)
        if follower is not None:
            raise _damaged(
                seg.path, offset, f"{why}; a valid record follows at byte {follower}, so this is damage, "
                "not a torn tail from a crash", self._dir)
        self.tail = SegmentTail(seg.path, offset, rest, True, why)


def _next_valid_record(data: bytes, start: int, seed: int) -> int | None:
    """Offset of the first whole valid record at or after `start`, None if there is none,
    -1 if the search ran out of budget (the caller then refuses to guess)."""
    budget = _SCAN_BUDGET
    end = len(data) - wal.FRAME_HEADER_SIZE
    unpack = struct.Struct("<I").unpack_from
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

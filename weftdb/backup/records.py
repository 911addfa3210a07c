"""WAL records as backups move them: read from a live `wal/`, written into new segments.

Why not `WalReader.records()` alone: a backup needs the records of one range
of commit timestamps (after a snapshot, or after the previous backup) from a
WAL that is being appended to while it is read. So the source side lists and
checks the segments with `WalReader.segments()` (UUID, version, no gap in
the sequence), skips whole segments that end before the range by looking at
the first record of the next one, reads each segment it needs with the same
`SegmentScan` recovery uses, and stops at the range's end: records past it
may be half-written in the live segment and are never touched. Records are
shipped as their bodies (`wal.encode_record` bytes); the frames are rebuilt by
the `WalWriter` of whoever stores them, seeded by its own segment headers.

`RecordSink` is the storing side: it checks that commit timestamps continue
without a gap, writes through `WalWriter` (with `next_sequence`, so a backup
chain's segment numbers stay continuous) and notes the first and last commit
timestamps and wall times for the manifest.
"""

from __future__ import annotations

from typing import Iterator

from weftdb.durability import codec, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.wal_reader import SegmentScan, WalReader, first_commit_ts
from weftdb.durability.wal_writer import WalWriter

SYNC_EVERY = 8 << 20  # bytes queued in a WalWriter before a sync: bounds its memory


class Unavailable(Exception):
    """The WAL no longer holds the first record asked for (retention deleted it)."""


class ChainBroken(ValueError):
    """Commit timestamps do not continue as they must."""


def record_times(body: bytes) -> tuple[int, int]:
    """`wal.record_times`, a body that does not start with its times being a broken chain here."""
    try:
        return wal.record_times(body)
    except codec.CodecError as exc:
        raise ChainBroken(str(exc)) from None


def source_records(fs: FileSystem, wal_dir: str, db_uuid: bytes, since: int, upto: int,
                   live: tuple[str | None, int] = (None, 0)) -> Iterator[tuple[int, bytes]]:
    """(commit_ts, body) of every record with since < commit_ts <= upto, in order.

    `live` is (path, data bytes) of the segment the writer appends to: only
    that prefix is read, not its zero padding.

    Raises Unavailable before yielding anything when the WAL does not reach
    back to since + 1, and ChainBroken when it ends before `upto` or skips a
    timestamp. The caller must have synced the WAL up to `upto` and paused
    deletions (`Retention.pause`)."""
    if upto <= since:
        return
    segments = WalReader(fs, wal_dir, db_uuid).segments()
    start = 0
    for i in range(1, len(segments)):
        first = first_commit_ts(fs, segments[i])
        if first is None or first > since + 1:
            break
        start = i
    expected = since + 1
    for segment in segments[start:]:
        data = fs.read(segment.path, 0, live[1]) if segment.path == live[0] else fs.read(segment.path)
        # The scan stops at the segment's padding (nothing we need can be past
        # it) or at damage, which then shows as a jump in commit timestamps.
        for record in SegmentScan(segment, data):
            body = record.body
            commit_ts, _wall = record_times(body)
            if commit_ts < expected:
                continue
            if commit_ts != expected:
                if expected == since + 1:
                    raise Unavailable(
                        f"the source's WAL starts at commit timestamp {commit_ts}; transactions "
                        f"{since + 1}..{commit_ts - 1} were removed by retention"
                    )
                raise ChainBroken(f"the source's WAL jumps from commit timestamp {expected - 1} to {commit_ts} in {segment.path}")
            yield commit_ts, body
            if commit_ts == upto:
                return
            expected += 1
    if expected == since + 1:
        raise Unavailable(f"the source's WAL does not hold transaction {since + 1} any more")
    raise ChainBroken(f"the source's WAL ends at commit timestamp {expected - 1}, before {upto}")


class RecordSink:
    """Writes record bodies into new WAL segments in `directory`, checking the timestamps."""

    def __init__(self, directory: str, db_uuid: bytes, next_sequence: int, after_ts: int,
                 segment_size: int = 64 << 20, fs: FileSystem | None = None):
        self.directory = directory
        self.next_sequence = next_sequence
        self.expected = after_ts + 1
        self.first_ts: int | None = None
        self.last_ts = after_ts
        self.first_wall_us: int | None = None
        self.last_wall_us: int | None = None
        self.count = 0
        self._fs = fs or FileSystem()
        self._uuid = db_uuid
        self._size = segment_size
        self._writer: WalWriter | None = None
        self._queued = 0

    def add(self, body: bytes) -> int:
        """Append one record body; returns its commit timestamp."""
        if not 0 < len(body) <= wal.MAX_RECORD_SIZE:
            raise ChainBroken(f"a WAL record of {len(body)} bytes")
        commit_ts, wall_time_us = record_times(body)
        if commit_ts != self.expected:
            raise ChainBroken(f"commit timestamp {commit_ts} where {self.expected} was next")
        if self._writer is None:
            self._writer = WalWriter(self._fs, self.directory, self._uuid, self._size,
                                     next_sequence=self.next_sequence, preallocate=False)
        self._writer.append(body)
        self._queued += len(body)
        if self._queued >= SYNC_EVERY:
            self._writer.sync()
            self._queued = 0
        if self.first_ts is None:
            self.first_ts, self.first_wall_us = commit_ts, wall_time_us
        self.last_ts, self.last_wall_us = commit_ts, wall_time_us
        self.expected += 1
        self.count += 1
        return commit_ts

    def close(self) -> list[int]:
        """Sync and close; returns the sequence numbers of the segments written."""
        if self._writer is None:
            return []
        self._writer.close()
        self._writer = None
        names = self._fs.listdir(self.directory)
        return sorted(s for n in names if (s := wal.sequence_of_name(n)) is not None and s >= self.next_sequence)

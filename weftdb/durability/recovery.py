"""Recovery: the newest valid snapshot, then every WAL transaction after it.

The rules (DESIGN.md invariant 5):

* commit timestamps are dense (every commit and schema change takes the next
  one), so the WAL must continue a snapshot exactly at its timestamp + 1 and
  then without a gap; anything else stops startup with the file and offset;
* a damaged snapshot (bad checksum or structure) falls back to the next older
  one, which only works when the WAL still covers the gap;
* a snapshot or WAL segment of another database, or of an unknown format
  version, stops startup: falling back would hide an operator's mistake;
* a torn tail of the newest WAL segment is reported; the caller truncates it
  (with a warning) only once the whole recovery succeeded, and a dry run
  (`weftdb verify`) never does. A failed recovery changes nothing on disk.

With an empty `wal/`, the directory adopts the database UUID of its newest
snapshot: copying one snapshot into an empty data directory restores it.
"""

from __future__ import annotations

import gc
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Callable

from weftdb.basics import collector
from weftdb.basics.errors import RecoveryError
from weftdb.durability import snapshot
from weftdb.durability.files import FileSystem
from weftdb.durability.snapshot_file import SnapshotDamaged, SnapshotReader
from weftdb.durability.wal_reader import SegmentTail, WalReader, check_order
from weftdb.graph import redo
from weftdb.graph.storage import Storage

log = logging.getLogger("weftdb.recovery")


@dataclass
class Recovered:
    storage: Storage
    db_uuid: bytes
    snapshot: str | None = None  # path of the snapshot recovery started from
    snapshot_ts: int = 0
    replayed: int = 0  # WAL transactions applied
    last_ts: int = 0
    tail: SegmentTail | None = None  # what follows the newest segment's records: padding or a torn tail
    skipped_snapshots: list[str] = field(default_factory=list)  # damaged, fallen back from
    seconds: float = 0.0

    @property
    def torn_tail(self) -> SegmentTail | None:
        return self.tail if self.tail is not None and self.tail.torn else None


class Progress:
    """Logs items/s and an ETA every second once work has run for a second.

    `total` is the number of items, or None when it is not known ahead (a WAL
    replay knows its bytes, not its ops): then each call says which
    `fraction` of the work is done, and the ETA comes from that."""

    def __init__(self, what: str, total: int | None, report: Callable[[str], None] | None = None):
        self.what, self.total, self.done = what, total, 0
        self.started = self.last = time.monotonic()
        self.report = report or log.info

    def __call__(self, items: int, fraction: float | None = None) -> None:
        self.done += items
        now = time.monotonic()
        if now - self.last < 1.0:
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        if self.total is not None:
            left = (self.total - self.done) / rate if rate and self.total > self.done else 0.0
            self.report(f"{self.what}: {self.done}/{self.total} items, {rate:,.0f} items/s, ETA {left:.0f} s")
        else:
            left = elapsed * (1 - fraction) / fraction if fraction else 0.0
            self.report(f"{self.what}: {self.done} items ({fraction:.0%}), {rate:,.0f} items/s, ETA {left:.0f} s")


def recover(
    fs: FileSystem,
    data_dir: str,
    threads: int = 1,
    report: Callable[[str], None] | None = None,
    long_lived: bool = False,
    db_uuid: bytes | None = None,
) -> Recovered:
    """`long_lived`: the caller serves the recovered graph from now on (a database
    opening, not a dry run): its objects are moved to the collector's permanent
    generation, as `storage.FREEZE_AFTER` does after a bulk commit, so that full
    collections do not rescan them. That happens before the collector runs
    again: its first collection would otherwise scan everything recovery
    allocated as one young generation (measured: a fifth of a recovery).

    `db_uuid`: the database's when no WAL or snapshot names one (the mode
    file's: an IN_MEMORY_ANALYTICAL database killed before its first snapshot
    has no other file); a new one when that is None too."""
    with collector.paused():
        result = _recover(fs, data_dir, threads, report, db_uuid)
        if long_lived:
            if result.skipped_snapshots:
                gc.collect()  # the half-loaded graphs of damaged snapshots: garbage, not to be frozen
            gc.freeze()
    return result


def _recover(fs: FileSystem, data_dir: str, threads: int, report: Callable[[str], None] | None,
             db_uuid: bytes | None) -> Recovered:
    started = time.monotonic()
    wal_dir = os.path.join(data_dir, "wal")
    reader = WalReader(fs, wal_dir)
    segments = reader.segments()
    wal_uuid = segments[0].db_uuid if segments else None
    candidates = snapshot.list_snapshots(fs, os.path.join(data_dir, "snapshots"))
    skipped: list[str] = []
    last_error: SnapshotDamaged | None = None
    reach = 0  # the newest damaged snapshot's timestamp: a fallback must recover at least that far
    for candidate in reversed(candidates):
        storage = Storage()
        try:
            snap = SnapshotReader(fs, candidate.path, expected_uuid=wal_uuid)
            total = snap.vertex_count + snap.edge_count
            snapshot_ts = _load(storage, snap, threads, Progress("recovery from snapshot", total, report))
        except SnapshotDamaged as exc:
            log.warning("%s; trying an older snapshot", exc)
            skipped.append(candidate.path)
            last_error = exc
            reach = max(reach, candidate.commit_ts)
            continue
        result = Recovered(storage, snap.db_uuid, candidate.path, snapshot_ts, skipped_snapshots=skipped)
        return _fell_back_far_enough(_replay(result, reader, last_error, started, report), reach, last_error)
    result = Recovered(Storage(), wal_uuid or db_uuid or uuid.uuid4().bytes, skipped_snapshots=skipped)
    return _fell_back_far_enough(_replay(result, reader, last_error, started, report), reach, last_error)


def _fell_back_far_enough(result: Recovered, reach: int, fell_back: SnapshotDamaged | None) -> Recovered:
    """A damaged snapshot proves its transactions were committed: a fallback (to an
    older snapshot, or to none) that the WAL does not carry that far would lose
    them silently — with an empty WAL, it would even start an empty database."""
    if fell_back is not None and result.last_ts < reach:
        raise RecoveryError(
            f"{fell_back} No older snapshot and WAL reach its commit timestamp {reach}: recovery "
            f"would end at {result.last_ts} and lose transactions {result.last_ts + 1}..{reach}. Choices: "
            "restore the damaged snapshot (or the WAL segments it covered) from a backup; or move it out "
            "of snapshots/ to accept starting from what remains."
        )
    return result


def _load(storage: Storage, snap: SnapshotReader, threads: int, progress: Progress) -> int:
    try:
        return snapshot.load(storage, snap, threads, progress)
    except SnapshotDamaged:
        raise
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise SnapshotDamaged(
            f"snapshot {snap.path} has valid checksums but its contents do not fit together "
            f"({type(exc).__name__}: {exc}); it was written by a faulty WeftDB."
        ) from None


def _replay(result: Recovered, reader: WalReader, fell_back: SnapshotDamaged | None, started: float,
            report: Callable[[str], None] | None) -> Recovered:
    """Apply every WAL transaction after the snapshot. Progress counts ops, and
    the share of the segments' bytes read gives the ETA (the newest segment's
    zero padding, if any, makes it an overestimate)."""
    storage = result.storage
    expected = result.snapshot_ts + 1
    sizes = reader.segment_sizes()
    total, before, sequence = sum(sizes.values()) or 1, 0, None
    progress = Progress("recovery from the WAL", None, report)
    previous = None
    for record in reader.records():
        if record.sequence != sequence:
            if sequence is not None:
                before += sizes[sequence]
            sequence = record.sequence
        commit_ts, _wall, ops = record.decode()
        check_order(record, commit_ts, previous, reader.directory)
        previous = commit_ts
        if commit_ts < expected:
            continue  # already in the snapshot
        if commit_ts != expected:
            gap = f"the WAL continues at commit timestamp {commit_ts} but the next transaction to replay is {expected}"
            cause = f" (snapshot {fell_back} was skipped as damaged)" if fell_back else ""
            raise RecoveryError(
                f"WAL segment {record.path} at byte {record.offset}: {gap}{cause}. Transactions "
                f"{expected}..{commit_ts - 1} are missing. Choices: put back the WAL segments or snapshot that "
                "hold them (from a backup); or restore the database from a backup."
            )
        redo.apply(storage, ops, f"WAL segment {record.path} at byte {record.offset}")
        expected += 1
        result.replayed += 1
        progress(len(ops), (before + record.offset + len(record.body)) / total)
    result.last_ts = expected - 1
    result.tail = reader.tail
    if reader.db_uuid is not None:
        result.db_uuid = reader.db_uuid
    storage.recovered_to(result.last_ts)
    result.seconds = time.monotonic() - started
    return result

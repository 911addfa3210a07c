"""`weftdb verify DATA_DIR`: check every durability file and dry-run recovery.

Why a dry run and not just checksums: a directory can consist of intact files
and still not recover (a gap in the WAL sequence, a WAL that does not continue
its snapshot, a file of another database). So after checking every WAL record
and every snapshot batch on its own, this runs the same `recover` the
database runs at startup, into memory, and reports what it would yield.

It only reads: it takes no lock (a running server keeps its directory and
this can check it beside it), truncates no torn tail (it reports it; the
database cuts it off at its next start), deletes and rewrites nothing.
`ok` is true only when every file is intact and recovery would succeed; a torn
tail of the newest segment is what a crash leaves and does not count as a
problem, but it is reported.

A directory in ON_DISK_TRANSACTIONAL has no WAL or snapshot files of ours:
its store (`rocksdb/`) and each of its checkpoints (`snapshots/*.rocksdb`)
are opened read-only and read whole with RocksDB's checksums verified.

It prints nothing: `verify` returns a `Verification` (one section per step,
each with its rows, problems and notes) and `weftdb/cli/files.py` prints it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable

from weftdb.basics.errors import DurabilityError, RecoveryError
from weftdb.durability import disk_checkpoint, snapshot, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import ROCKSDB
from weftdb.durability.recovery import recover
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.wal_reader import WalReader, check_order


@dataclass
class SegmentRow:
    sequence: int
    name: str
    records: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    torn: bool = False  # ends in a torn tail (the next start cuts it off)


@dataclass
class WalCheck:
    present: bool
    segments: list[SegmentRow] = field(default_factory=list)
    records: int = 0
    db_uuid: bytes | None = None
    problems: list[str] = field(default_factory=list)
    torn_tail: str | None = None  # where and why, when the newest segment ends torn
    notes: list[str] = field(default_factory=list)


@dataclass
class SnapshotRow:
    name: str
    commit_ts: int | None
    vertices: int | None
    edges: int | None
    size: int
    ok: bool


@dataclass
class SnapshotsCheck:
    present: bool
    snapshots: list[SnapshotRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class DryRun:
    """What recovery would do now: where from and how far, or why it would stop (`problem`)."""

    problem: str | None = None
    snapshot: str | None = None  # the snapshot it would start from
    skipped_snapshots: list[str] = field(default_factory=list)
    replayed: int = 0
    seconds: float = 0.0
    vertices: int | None = None
    edges: int | None = None
    last_commit_ts: int | None = None


@dataclass
class DiskRow:
    name: str
    commit_ts: int | None = None
    vertices: int | None = None
    edges: int | None = None
    keys: int | None = None
    ok: bool = False


@dataclass
class DiskCheck:
    """ON_DISK_TRANSACTIONAL: the store and its checkpoints, each opened and read whole."""

    stores: list[DiskRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass
class Verification:
    data_dir: str
    not_a_directory: bool = False
    wal: WalCheck | None = None
    snapshots: SnapshotsCheck | None = None
    dry_run: DryRun | None = None
    disk: DiskCheck | None = None
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        if self.not_a_directory:
            return [f"{self.data_dir} is not a directory"]
        dry_run = [self.dry_run.problem] if self.dry_run and self.dry_run.problem else []
        disk = self.disk.problems if self.disk else []
        return (self.wal.problems if self.wal else []) + (self.snapshots.problems if self.snapshots else []) + dry_run + disk

    @property
    def notes(self) -> list[str]:
        return (self.wal.notes if self.wal else []) + (self.snapshots.notes if self.snapshots else [])

    @property
    def ok(self) -> bool:
        return not self.problems


Section = WalCheck | SnapshotsCheck | DryRun | DiskCheck


def verify(
    data_dir: str,
    fs: FileSystem | None = None,
    threads: int = 1,
    report: Callable[[str], None] | None = None,
    done: Callable[[Section], None] | None = None,
) -> Verification:
    """`report` receives the dry run's progress; `done` each section as soon as
    it is complete, so a caller can show it while the next one runs."""
    fs = fs or FileSystem()
    done = done or (lambda section: None)
    result = Verification(data_dir)
    started = time.monotonic()
    if not os.path.isdir(data_dir):
        result.not_a_directory = True
        return result
    if os.path.isdir(os.path.join(data_dir, ROCKSDB)):
        result.disk = _check_disk(fs, data_dir)
        done(result.disk)
        result.seconds = time.monotonic() - started
        return result
    result.wal = _check_wal(fs, os.path.join(data_dir, "wal"))
    done(result.wal)
    result.snapshots = _check_snapshots(fs, os.path.join(data_dir, "snapshots"), result.wal.db_uuid)
    done(result.snapshots)
    result.dry_run = _dry_run(fs, data_dir, threads, report)
    done(result.dry_run)
    result.seconds = time.monotonic() - started
    return result


def _check_disk(fs: FileSystem, data_dir: str) -> DiskCheck:
    from weftdb.durability import disk_store  # rocksdict is loaded by the on-disk mode only

    found = DiskCheck()
    checkpoints = disk_checkpoint.list_checkpoints(fs, os.path.join(data_dir, "snapshots"))
    for path in [os.path.join(data_dir, ROCKSDB)] + [made.path for made in reversed(checkpoints)]:
        row = DiskRow(os.path.relpath(path, data_dir))
        try:
            summary = disk_store.check(path)
        except DurabilityError as exc:
            found.problems.append(str(exc))
        else:
            row.commit_ts, row.vertices, row.edges = summary["last_commit_ts"], summary["nodes"], summary["relationships"]
            row.keys, row.ok = summary["keys"], True
        found.stores.append(row)
    return found


def _strangers(fs: FileSystem, directory: str, known: Callable[[str], bool]) -> list[str]:
    return [f"{os.path.join(directory, name)} is not part of the data (a temporary left by a crash, or a stranger); "
            "recovery ignores it and removes .tmp files"
            for name in fs.listdir(directory) if not known(name)]


def _check_wal(fs: FileSystem, wal_dir: str) -> WalCheck:
    if not fs.exists(wal_dir):
        return WalCheck(present=False)
    check = WalCheck(present=True)
    reader = WalReader(fs, wal_dir)
    rows: dict[str, SegmentRow] = {}
    try:
        for seg in reader.segments():
            rows[seg.path] = SegmentRow(seg.sequence, os.path.basename(seg.path))
        previous = None
        for record in reader.records():
            commit_ts, _wall, _ops = record.decode()
            check_order(record, commit_ts, previous, wal_dir)
            previous = commit_ts
            row = rows[record.path]
            row.records += 1
            row.first_ts = commit_ts if row.first_ts is None else row.first_ts
            row.last_ts = commit_ts
            check.records += 1
    except (RecoveryError, OSError) as exc:
        check.problems.append(str(exc))
    tail = reader.torn_tail
    if tail is not None:
        check.torn_tail = f"{tail.path} at byte {tail.offset} ({tail.dropped_bytes} bytes: {tail.reason})"
        rows[tail.path].torn = True
    check.segments = list(rows.values())
    check.db_uuid = reader.db_uuid
    check.notes = _strangers(fs, wal_dir, lambda n: wal.sequence_of_name(n) is not None)
    return check


def _check_snapshots(fs: FileSystem, snap_dir: str, wal_uuid: bytes | None) -> SnapshotsCheck:
    if not fs.exists(snap_dir):
        return SnapshotsCheck(present=False)
    check = SnapshotsCheck(present=True)
    listed = snapshot.list_snapshots(fs, snap_dir)
    for snap in listed:
        try:
            reader = SnapshotReader(fs, snap.path, expected_uuid=wal_uuid)
            reader.verify()
            check.snapshots.append(SnapshotRow(snap.name, reader.header.get("commit_ts"), reader.vertex_count,
                                               reader.edge_count, reader.size, True))
        except (RecoveryError, OSError) as exc:
            check.problems.append(str(exc))
            check.snapshots.append(SnapshotRow(snap.name, snap.commit_ts, None, None, fs.size(snap.path), False))
    known = {s.name for s in listed}
    check.notes = _strangers(fs, snap_dir, lambda n: n in known)
    return check


def _dry_run(fs: FileSystem, data_dir: str, threads: int, report: Callable[[str], None] | None) -> DryRun:
    try:
        recovered = recover(fs, data_dir, threads, report)
    except (RecoveryError, OSError) as exc:
        return DryRun(problem=f"recovery would stop: {exc}")
    vertices, edges = recovered.storage.counts()
    return DryRun(snapshot=recovered.snapshot, skipped_snapshots=recovered.skipped_snapshots,
                  replayed=recovered.replayed, seconds=recovered.seconds, vertices=vertices, edges=edges,
                  last_commit_ts=recovered.last_ts)

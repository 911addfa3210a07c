"""`weftdb restore`: a data directory from a backup chain, to its end or to a point in time.

Why it writes fresh files instead of copying the backup's: restoring to a
point in time (PITR) means keeping a prefix of the history — every transaction
with a commit timestamp below the one given, or committed (wall clock, UTC)
before the time given — and a prefix of a WAL segment is not a file the
backup has. So restore

1. picks the newest full backup in the chain whose snapshot lies before the
   point (a snapshot holds no transaction committed after its own wall time),
2. fetches that snapshot and the WAL segments of the chain from there on
   (checking each file's size and SHA-256, decrypting and decompressing) into
   a staging directory inside the target,
3. puts the snapshot in `snapshots/` and writes the records it keeps, read
   with `WalReader`, into new segments in `wal/` through `WalWriter`,
4. opens the result once (recovery replays it) and reports the counts.

A target that is not empty is refused unless `overwrite` is given; then its
`wal/` and `snapshots/` are replaced, and `auth/` by the users as of the point
restored (the users file of the newest backup in the chain that ended at or
before it), so the restored database asks for the credentials its source
did. (A chain made before users were backed up has none; the target's stay.) The new files
are assembled, fsynced, in the target's `.restore-staging/` and swapped in by
`durability/swap.py`, so a crash leaves the old data or the new, never
neither. The target's process lock is held throughout, so a running database
there is refused rather than overwritten.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from weftdb.backup.artifacts import fetch, logical_name
from weftdb.backup.manifest import Artifact, Manifest, ManifestError
from weftdb.backup.records import RecordSink, record_times
from weftdb.backup.target import Target, open_target
from weftdb.durability import swap
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import AUTH, LOCK, SNAPSHOTS, USERS, WAL, Layout
from weftdb.durability.process_lock import lock_process
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.users import parse as parse_users
from weftdb.durability.wal_reader import WalReader

log = logging.getLogger("weftdb.backup")


class RestoreError(Exception):
    """The backup cannot be restored as asked."""


@dataclass
class RestoreSummary:
    data_dir: str
    snapshot_ts: int
    last_ts: int
    records: int
    vertices: int
    edges: int
    bytes_read: int
    seconds: float

    def line(self) -> str:
        return (f"restored {self.data_dir}: snapshot at {self.snapshot_ts} + {self.records} transactions, up to commit "
                f"timestamp {self.last_ts}; {self.vertices} vertices, {self.edges} edges; "
                f"{self.bytes_read:,} bytes read, {self.seconds:.2f} s")


def parse_until(text: str | None) -> tuple[int | None, int | None]:
    """(commit timestamp, wall time in µs UTC) from --until: digits are a timestamp, else 'YYYY-MM-DD hh:mm:ss[.ffffff]'."""
    if text is None:
        return None, None
    text = text.strip()
    if text.isdigit():
        return int(text), None
    try:
        moment = datetime.fromisoformat(text.replace("T", " ").rstrip("Z"))
    except ValueError:
        raise RestoreError(f"--until {text!r}: expected a commit timestamp or 'YYYY-MM-DD hh:mm:ss' (UTC)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return None, int(moment.timestamp() * 1_000_000)


def choose_full(manifest: Manifest, until_ts: int | None, until_us: int | None) -> int:
    """Index of the newest full backup whose snapshot lies before the point."""
    chosen = None
    for index, artifact in enumerate(manifest.artifacts):
        if artifact.kind != "full":
            continue
        if until_ts is not None and not artifact.snapshot_ts < until_ts:
            continue
        if until_us is not None and not (artifact.snapshot_wall_us or 0) < until_us:
            continue
        chosen = index
    if chosen is None:
        fulls = [a for a in manifest.artifacts if a.kind == "full"]
        if not fulls:
            raise RestoreError("the backup holds no full backup to start from")
        first = fulls[0]
        raise RestoreError(
            f"the backup's history starts with the snapshot at commit timestamp {first.snapshot_ts} "
            f"({_when(first.snapshot_wall_us)}); it cannot restore a point before that")
    return chosen


def _when(wall_us: int | None) -> str:
    if wall_us is None:
        return "time unknown"
    return datetime.fromtimestamp(wall_us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def open_backup(source: str, key: bytes | None, storage_options: dict[str, Any] | None = None) -> tuple[Target, Manifest]:
    target = open_target(source, storage_options)
    manifest = Manifest.load(target)
    if manifest is None:
        raise ManifestError(f"{target.url} holds no backup.json: not a WeftDB backup")
    manifest.check_key(key)
    return target, manifest


def stage(target: Target, manifest: Manifest, artifacts: list[Artifact], key: bytes | None, staging: str,
          progress: Callable[[int], None] | None = None, fs: FileSystem | None = None) -> tuple[str | None, int]:
    """Fetch the first artifact's snapshot and every listed WAL segment into `staging`
    (as `snapshots/...` and `wal/...`). Returns (snapshot path or None, bytes read)."""
    fs = fs or FileSystem()
    fs.makedirs(os.path.join(staging, SNAPSHOTS))
    fs.makedirs(os.path.join(staging, WAL))
    snapshot_path = None
    read = 0
    entries = ([artifacts[0].snapshot] if artifacts and artifacts[0].snapshot else []) + [s for a in artifacts for s in a.segments]
    for entry in entries:
        dest = os.path.join(staging, *logical_name(entry).split("/"))
        fetch(target, manifest, entry, dest, key, fs)
        read += entry.size
        if progress:
            progress(entry.size)
        if entry.name.startswith(SNAPSHOTS + "/"):
            snapshot_path = dest
    return snapshot_path, read


def restore(
    source: str,
    data_dir: str,
    until: str | None = None,
    overwrite: bool = False,
    key: bytes | None = None,
    storage_options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    trial_open: bool = True,
    fs: FileSystem | None = None,
) -> RestoreSummary:
    started = time.monotonic()
    until_ts, until_us = parse_until(until)
    target, manifest = open_backup(source, key, storage_options)
    index = choose_full(manifest, until_ts, until_us)
    artifacts = manifest.artifacts[index:]
    data_dir = os.path.abspath(data_dir)
    fs = fs or FileSystem()
    layout = Layout(data_dir)
    fs.makedirs(data_dir)
    lock = lock_process(data_dir)
    try:
        swap.finish_interrupted(fs, layout)
        if not overwrite and set(fs.listdir(data_dir)) - {LOCK}:
            raise RestoreError(f"{data_dir} is not empty: give --overwrite to replace its data, or restore into an empty directory")
        try:
            full, sink, bytes_read = _assemble(fs, layout, target, manifest, artifacts, key, until_ts, until_us, progress)
            swap.swap_in(fs, layout)  # everything is built and checked: only now replace what the directory held
        except BaseException:
            _drop_assembly(fs, layout)
            raise
    finally:
        lock.release()
    vertices = edges = -1
    if trial_open:
        vertices, edges = trial_counts(data_dir)
    return RestoreSummary(data_dir, full.snapshot_ts, sink.last_ts, sink.count, vertices, edges, bytes_read,
                          time.monotonic() - started)


def _assemble(fs: FileSystem, layout: Layout, target: Target, manifest: Manifest, artifacts: list[Artifact],
              key: bytes | None, until_ts: int | None, until_us: int | None,
              progress: Callable[[int], None] | None) -> tuple[Artifact, RecordSink, int]:
    """Fetch the artifacts into the staging directory and build the restored
    `snapshots/` and `wal/` in `swap.staging`, every file fsynced."""
    work = layout.restore_staging
    fetched = os.path.join(work, "in")
    snapshot_path, bytes_read = stage(target, manifest, artifacts, key, fetched, progress, fs)
    full = artifacts[0]
    reader = SnapshotReader(fs, snapshot_path, expected_uuid=manifest.db_uuid)
    if reader.header.get("commit_ts") != full.snapshot_ts:
        raise RestoreError(f"{snapshot_path}: the snapshot is at commit timestamp {reader.header.get('commit_ts')}, "
                           f"the manifest says {full.snapshot_ts}")
    new = swap.staging(layout)
    snapshots = os.path.join(new, SNAPSHOTS)
    fs.makedirs(snapshots)
    fs.rename(snapshot_path, os.path.join(snapshots, os.path.basename(snapshot_path)))
    fs.fsync_dir(snapshots)
    sink = RecordSink(os.path.join(new, WAL), manifest.db_uuid, 1, full.snapshot_ts, fs=fs)
    _copy_records(fs, os.path.join(fetched, WAL), manifest, sink, until_ts, until_us)
    sink.close()
    fs.remove_tree(fetched)
    bytes_read += _restore_users(fs, target, manifest, sink.last_ts, key, new)
    return full, sink, bytes_read


def _restore_users(fs: FileSystem, target: Target, manifest: Manifest, last_ts: int, key: bytes | None, new: str) -> int:
    """The users as of the point restored into `<new>/auth/users.json` (checked:
    it must parse), so the swap replaces the target's `auth/` with them; returns
    the bytes read. A backup made before users were backed up has none: the
    target's users stay."""
    entry = manifest.users_as_of(last_ts)
    if entry is None:
        return 0
    auth = os.path.join(new, AUTH)
    fs.makedirs(auth)
    path = os.path.join(auth, USERS)
    fetch(target, manifest, entry, path, key, fs, mode=0o600)
    try:
        parse_users(fs.read(path))
    except ValueError as exc:
        raise RestoreError(f"{entry.name} is not a users file: {exc}") from None
    return entry.size


def _drop_assembly(fs: FileSystem, layout: Layout) -> None:
    """After a failed restore: an assembly is dropped, a decided swap finished
    (as the next start would); a second failure here leaves that to the next start."""
    try:
        swap.finish_interrupted(fs, layout)
    except Exception as exc:  # the first error is the one to report
        log.warning("cleaning up after the failed restore failed too (%s); the next start finishes it", exc)


def _copy_records(fs: FileSystem, wal_dir: str, manifest: Manifest, sink: RecordSink,
                  until_ts: int | None, until_us: int | None) -> None:
    """Copy the records after the snapshot up to the point; a point the chain
    cannot reach (it lacks the transactions before it) is an error."""
    missing = None
    for record in WalReader(fs, wal_dir, manifest.db_uuid).records():
        commit_ts, wall_us = record_times(record.body)
        if commit_ts < sink.expected:
            continue  # already in the snapshot (a later full's overlap)
        if commit_ts != sink.expected:
            if until_ts is not None and until_ts <= sink.expected:
                return  # every transaction asked for is in already
            missing = commit_ts - 1
            break
        if (until_ts is not None and commit_ts >= until_ts) or (until_us is not None and wall_us >= until_us):
            return
        sink.add(record.body)
    if missing is None and sink.last_ts < manifest.last_ts:
        if until_ts is not None and until_ts <= sink.expected:
            return
        missing = next((a.snapshot_ts for a in manifest.artifacts if a.kind == "full" and a.snapshot_ts >= sink.expected),
                       manifest.last_ts)
    if missing is not None:
        raise RestoreError(
            f"the backup holds no transactions {sink.expected}..{missing} (the chain has a gap there, after "
            f"a fallback to a full backup); restore to a point before {sink.expected} or after {missing}")


def trial_counts(data_dir: str) -> tuple[int, int]:
    """Open the directory once (recovery), count, close without writing a snapshot."""
    from weftdb.basics.config import Config
    from weftdb.database import Database

    config = Config.load({"storage_snapshot_on_exit": False, "storage_snapshot_interval_sec": 0})
    db = Database(data_dir, config)
    try:
        return db.storage.counts()
    finally:
        db.close()

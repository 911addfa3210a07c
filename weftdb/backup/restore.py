"""`weftdb restore`: a data directory from a backup chain, to its end or to a point in time.

Why it writes fresh files instead of copying the backup's: restoring to a
point in time (PITR) means keeping a prefix of the history — every transaction
with a commit timestamp below the one given, or committed (wall clock, UTC)
before the time given — and a prefix of a WAL segment is not a file the
backup has. So restore

1. picks the newest full backup in the chain whose snapshot lies before the
   point (a snapshot holds no transaction committed after its own wall time)
   and the incrementals after it up to the one holding the point: only
   these are read, so damage in a later artifact does not stand in the way
   (`plan`),
2. fetches that snapshot (checking its size and SHA-256, decrypting and
   decompressing) into `snapshots/` of a staging directory inside the target,
3. fetches the WAL segments one at a time and writes the records it keeps,
   read with `WalReader`, into new segments in `wal/` through `WalWriter`,
   stopping at the point; a segment it cannot read ends the restore with
   the latest point it can reach named,
4. fetches the users as of the point into `auth/users.json`,
5. opens the result once (recovery replays it) and reports the counts.

A chain of an ON_DISK_TRANSACTIONAL database's RocksDB checkpoints
(durability/disk_archive.py) has no records: steps 2 and 3 become the
archives from the full one to the newest before the point, written in turn
into `rocksdb/`, and the mode file of that mode.

A target that is not empty is refused unless `overwrite` is given; then its
`wal/` and `snapshots/` are replaced, and `auth/` by the users as of the point
restored (the users file of the newest backup in the chain that ended at or
before it), so the restored database asks for the credentials its source
did (a chain made before users were backed up has none: the target's stay).
The new files are assembled, fsynced, in the target's `.restore-staging/` and
swapped in by `durability/swap.py`, so a crash leaves the old data or the
new, never neither. The target's process lock is held throughout, so a
running database there is refused rather than overwritten. A restore that
fails leaves the target as it was: the lock file and the directories it
made go again, and a retry needs no `overwrite`.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from weftdb.backup.artifacts import ArtifactError, fetch, logical_name
from weftdb.backup.manifest import Artifact, FileEntry, Manifest, ManifestError
from weftdb.backup.records import ChainBroken, RecordSink, record_times
from weftdb.backup.sealing import SealError
from weftdb.backup.target import Target, TargetError, open_target
from weftdb.basics import storage_modes
from weftdb.basics.errors import DurabilityError, RecoveryError
from weftdb.durability import catalog, disk_archive, storage_mode, swap
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import AUTH, LOCK, RESTORE_STAGING, ROCKSDB, SNAPSHOTS, USERS, WAL, Layout
from weftdb.durability.process_lock import ProcessLock, lock_process
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
    checkpoint: bool = False  # an on-disk database's: a RocksDB checkpoint at last_ts, no transactions

    def line(self) -> str:
        what = (f"a RocksDB checkpoint at commit timestamp {self.last_ts}" if self.checkpoint else
                f"snapshot at {self.snapshot_ts} + {self.records} transactions, up to commit timestamp {self.last_ts}")
        return (f"restored {self.data_dir}: {what}; {self.vertices} vertices, {self.edges} edges; "
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


@dataclass
class Plan:
    """What a restore to a point reads: the newest full backup before it and the
    incrementals after that one up to the one that holds the point (`used`, by
    index), and what follows them in the chain (`rest`)."""

    full: int
    used: list[Artifact]
    rest: list[Artifact]

    @property
    def bytes(self) -> int:
        """The stored bytes of the snapshot and WAL segments it reads (at most: it may stop early)."""
        return self.used[0].snapshot.size + sum(s.size for a in self.used for s in a.segments)


def _past(ts: int, wall_us: int | None, until_ts: int | None, until_us: int | None) -> bool:
    """True for a transaction at or after the point (so not restored)."""
    return (until_ts is not None and ts >= until_ts) or (until_us is not None and wall_us is not None and wall_us >= until_us)


def plan(manifest: Manifest, until_ts: int | None, until_us: int | None) -> Plan:
    """The artifacts a restore to the point needs, and only those: a damaged
    file in a later artifact does not stand in its way."""
    index = choose_full(manifest, until_ts, until_us)
    used = [manifest.artifacts[index]]
    store = used[0].store_files is not None  # a chain of RocksDB checkpoints: the newest before the point
    for artifact in manifest.artifacts[index + 1:]:
        if artifact.kind == "full" or (artifact.records and _past(artifact.first_ts, artifact.first_wall_us, until_ts, until_us)):
            break
        if store and (artifact.store_files is None
                      or _past(artifact.snapshot_ts, artifact.snapshot_wall_us, until_ts, until_us)):
            break
        used.append(artifact)
    return Plan(index, used, manifest.artifacts[index + len(used):])


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
    total: Callable[[int], None] | None = None,
) -> RestoreSummary:
    """Rebuild `data_dir` from the backup at `source` up to `until` (see parse_until).
    `progress(n)` is called with the stored bytes read as they are, after
    `total(n)` with the most it will read (the snapshot and segments the point needs)."""
    started = time.monotonic()
    until_ts, until_us = parse_until(until)
    target, manifest = open_backup(source, key, storage_options)
    chosen = plan(manifest, until_ts, until_us)
    if total is not None:
        total(chosen.bytes)
    data_dir = os.path.abspath(data_dir)
    fs = fs or FileSystem()
    layout = Layout(data_dir)
    if not overwrite:
        _refuse_if_not_empty(fs, data_dir, {LOCK, RESTORE_STAGING, catalog.DATABASES})  # before a lock file is made there
    made = _make_directory(fs, data_dir)
    had_lock = fs.exists(layout.lock)
    lock = lock_process(data_dir)
    try:
        swap.finish_interrupted(fs, layout)
        if not overwrite:
            _refuse_if_not_empty(fs, data_dir, {LOCK, catalog.DATABASES})  # the other databases are not this one's
        job = _Job(fs, layout, target, manifest, chosen, key, until, until_ts, until_us, progress)
        try:
            full, last_ts, records, bytes_read = job.assemble()
            swap.swap_in(fs, layout)  # everything is built and checked: only now replace what the directory held
        except BaseException:
            _drop_assembly(fs, layout)
            raise
    except BaseException:
        _leave_as_found(fs, layout, lock, had_lock, made)
        raise
    lock.release()
    vertices = edges = -1
    if trial_open:
        vertices, edges = trial_counts(data_dir)
    return RestoreSummary(data_dir, full.snapshot_ts, last_ts, records, vertices, edges, bytes_read,
                          time.monotonic() - started, full.store_files is not None)


def _refuse_if_not_empty(fs: FileSystem, data_dir: str, ignored: set[str]) -> None:
    if fs.exists(data_dir) and set(fs.listdir(data_dir)) - ignored:
        raise RestoreError(f"{data_dir} is not empty: give --overwrite to replace its data, or restore into an empty directory")


def _make_directory(fs: FileSystem, data_dir: str) -> list[str]:
    """Create `data_dir`; returns the directories that were made, innermost first."""
    made, path = [], data_dir
    while not fs.exists(path):
        made.append(path)
        path = os.path.dirname(path)
    fs.makedirs(data_dir)
    return made


def _leave_as_found(fs: FileSystem, layout: Layout, lock: ProcessLock, had_lock: bool, made: list[str]) -> None:
    """After a failed restore: the lock file it made and the directories it
    created go again, so the target is as it was and a retry needs no
    --overwrite. The lock file is removed while still held (after the release
    another process could lock it, and lose its lock to the removal)."""
    try:
        if not had_lock:
            fs.remove(layout.lock)
    except DurabilityError:
        pass
    finally:
        lock.release()
    for path in made:
        try:
            os.rmdir(path)  # only if empty: what another process put there stays
        except OSError:
            break


class _Job:
    """One restore's assembly in `.restore-staging/`: the snapshot, then each WAL
    segment fetched, checked and copied up to the point in turn, then the users."""

    def __init__(self, fs: FileSystem, layout: Layout, target: Target, manifest: Manifest, chosen: Plan,
                 key: bytes | None, until: str | None, until_ts: int | None, until_us: int | None,
                 progress: Callable[[int], None] | None):
        self.fs, self.layout, self.target, self.manifest, self.plan, self.key = fs, layout, target, manifest, chosen, key
        self.until, self.until_ts, self.until_us = until, until_ts, until_us
        self.progress = progress or (lambda n: None)
        self.full = chosen.used[0]
        self.sink: RecordSink | None = None
        self.reached = False  # a transaction at or past the point was seen: nothing more is needed

    def assemble(self) -> tuple[Artifact, int, int, int]:
        """Build the restored `snapshots/`, `wal/` and `auth/` in `swap.staging`, every file fsynced
        (of an on-disk backup, `rocksdb/`, the mode file and `auth/`). Returns (the full
        backup restored from, the last commit restored, the transactions replayed, the bytes read)."""
        new = swap.staging(self.layout)
        fetched = os.path.join(self.layout.restore_staging, "in")
        self.fs.makedirs(fetched)
        if self.full.store_files is not None:
            bytes_read, last_ts = self._store(new, fetched)
            self.fs.remove_tree(fetched)
            bytes_read += _restore_users(self.fs, self.target, self.manifest, last_ts, self.key, new)
            return self.full, last_ts, 0, bytes_read
        bytes_read = self._snapshot(os.path.join(new, SNAPSHOTS))
        self.sink = RecordSink(os.path.join(new, WAL), self.manifest.db_uuid, 1, self.full.snapshot_ts, fs=self.fs)
        for number, artifact in enumerate(self.plan.used, self.plan.full):
            for entry in artifact.segments:
                if self.reached:
                    break
                bytes_read += self._segment(number, artifact, entry, fetched)
        self._check_end()
        self.sink.close()
        self.fs.remove_tree(fetched)
        bytes_read += _restore_users(self.fs, self.target, self.manifest, self.sink.last_ts, self.key, new)
        return self.full, self.sink.last_ts, self.sink.count, bytes_read

    def _store(self, new: str, fetched: str) -> tuple[int, int]:
        """ON_DISK_TRANSACTIONAL: each archive of the chain up to the point,
        checked against the manifest and the one before it, its files
        written into `rocksdb/` in order; then the store made exactly the
        last checkpoint, and the mode file written with the backup's
        database UUID. Returns (the bytes read, the checkpoint's commit)."""
        store, have, bytes_read = os.path.join(new, ROCKSDB), None, 0
        for number, artifact in enumerate(self.plan.used, self.plan.full):
            entry = artifact.snapshot
            path = os.path.join(fetched, os.path.basename(logical_name(entry)))
            try:
                fetch(self.target, self.manifest, entry, path, self.key, self.fs)
                listing = disk_archive.check(path, self.manifest.db_uuid, artifact.snapshot_ts, have, artifact.store_files)
                disk_archive.extract(path, self.fs, store)
            except (*_DAMAGE, DurabilityError) as exc:
                raise RestoreError(f"cannot restore {self._asked()}: artifact {number} ({artifact.kind}) file "
                                   f"{entry.name}: {_reason(entry, exc)}") from None
            self.fs.remove(path)
            have = listing
            bytes_read += entry.size
            self.progress(entry.size)
        disk_archive.complete(self.fs, store, have)
        storage_mode.write(self.fs, Layout(new), self.manifest.db_uuid, storage_modes.ON_DISK)
        return bytes_read, self.plan.used[-1].snapshot_ts

    def _snapshot(self, directory: str) -> int:
        entry = self.full.snapshot
        path = os.path.join(directory, os.path.basename(logical_name(entry)))
        self.fs.makedirs(directory)
        try:
            fetch(self.target, self.manifest, entry, path, self.key, self.fs)
            reader = SnapshotReader(self.fs, path, expected_uuid=self.manifest.db_uuid)
        except _DAMAGE as exc:
            raise RestoreError(self._damaged_snapshot(entry, exc)) from None
        if reader.header.get("commit_ts") != self.full.snapshot_ts:
            raise RestoreError(f"{entry.name}: the snapshot is at commit timestamp {reader.header.get('commit_ts')}, "
                               f"the manifest says {self.full.snapshot_ts}")
        self.progress(entry.size)
        return entry.size

    def _segment(self, number: int, artifact: Artifact, entry: FileEntry, fetched: str) -> int:
        """Fetch one segment, copy its records up to the point, drop it; returns the bytes read."""
        path = os.path.join(fetched, os.path.basename(logical_name(entry)))
        try:
            fetch(self.target, self.manifest, entry, path, self.key, self.fs)
            reader = WalReader.of_files(self.fs, [path], self.manifest.db_uuid)
            for record in reader.records():
                if not self._take(record.body):
                    break
            else:
                if reader.torn_tail is not None:
                    raise ChainBroken(f"the segment ends in a torn record at byte {reader.torn_tail.offset}")
        except _DAMAGE as exc:
            raise RestoreError(self._damaged_segment(number, artifact, entry, exc)) from None
        self.fs.remove(path)
        self.progress(entry.size)
        return entry.size

    def _take(self, body: bytes) -> bool:
        """Copy one record if it comes before the point; False once the point is reached."""
        sink = self.sink
        commit_ts, wall_us = record_times(body)
        if commit_ts < sink.expected:
            return True  # already in the snapshot (a later full's overlap)
        if commit_ts != sink.expected:
            self._gap(commit_ts - 1)
            self.reached = True  # every transaction asked for is in already
            return False
        if _past(commit_ts, wall_us, self.until_ts, self.until_us):
            self.reached = True
            return False
        sink.add(body)
        return True

    def _check_end(self) -> None:
        """After the used artifacts: the point must have been reached, or lie
        at or past the backup's end, or just before what follows."""
        if self.reached:
            return
        last = self.plan.used[-1]
        following = next((a for a in self.plan.rest if a.kind == "full" or a.records), None)
        if self.sink.last_ts < last.last_ts:
            self._gap(last.last_ts)
        elif following is not None and following.kind == "full" and following.snapshot_ts > self.sink.last_ts:
            self._gap(following.snapshot_ts)

    def _gap(self, missing: int) -> None:
        """The chain lacks transactions sink.expected..missing: an error unless the point comes before them."""
        expected = self.sink.expected
        if self.until_ts is not None and self.until_ts <= expected:
            return
        raise RestoreError(
            f"the backup holds no transactions {expected}..{missing} (the chain has a gap there, after "
            f"a fallback to a full backup); restore to a point before {expected} or after {missing}")

    def _asked(self) -> str:
        return f"--until {self.until}" if self.until is not None else "the backup's end"

    def _damaged_snapshot(self, entry: FileEntry, exc: BaseException) -> str:
        at = self.full.snapshot_ts
        earlier = any(a.kind == "full" for a in self.manifest.artifacts[: self.plan.full])
        way = (f"a point before commit timestamp {at} may restore from an earlier full backup (--until {at})" if earlier
               else "this backup holds no earlier full backup to restore from")
        return (f"cannot restore {self._asked()}: artifact {self.plan.full} (full) file {entry.name}: {_reason(entry, exc)}. "
                f"No point from its snapshot (commit timestamp {at}) on can be restored; {way}")

    def _damaged_segment(self, number: int, artifact: Artifact, entry: FileEntry, exc: BaseException) -> str:
        sink = self.sink
        wall = sink.last_wall_us if sink.count else self.full.snapshot_wall_us
        return (f"cannot restore {self._asked()}: artifact {number} ({artifact.kind}) file {entry.name}: {_reason(entry, exc)}. "
                f"The latest point this backup can restore before it is commit timestamp {sink.last_ts} "
                f"({_when(wall)}): --until {sink.last_ts + 1}")


def _reason(entry: FileEntry, exc: BaseException) -> str:
    text = str(exc)
    for name in (entry.name, logical_name(entry)):
        if text.startswith(name + ": "):
            return text[len(name) + 2:]
    return text


_DAMAGE = (ArtifactError, SealError, RecoveryError, ChainBroken, TargetError, OSError)
"""What a damaged, missing or unreadable stored file raises while it is fetched and read."""


def _drop_assembly(fs: FileSystem, layout: Layout) -> None:
    """After a failed restore: its assembly is dropped, a decided swap finished
    (as the next start would); a second failure here leaves that to the next start."""
    try:
        if fs.exists(os.path.join(layout.restore_staging, swap.MARKER)):
            swap.finish_interrupted(fs, layout)
        else:
            fs.remove_tree(layout.restore_staging)
    except Exception as exc:  # the first error is the one to report
        log.warning("cleaning up after the failed restore failed too (%s); the next start finishes it", exc)


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
    try:
        fetch(target, manifest, entry, path, key, fs, mode=0o600)
        parse_users(fs.read(path))
    except (*_DAMAGE, ValueError) as exc:
        raise RestoreError(f"the users of the point restored, {entry.name}, cannot be restored: {exc}") from None
    return entry.size


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

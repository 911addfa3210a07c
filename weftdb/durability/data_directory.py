"""The durability of one data directory: process lock, recovery, WAL, snapshots.

`Durability.open` takes the directory's process lock, finishes what a crash
interrupted (a restore's swap, a checkpoint restore asked for by `_restore`),
recovers the graph and plugs the WAL into the store as its commit log. From
then on it is the one owner of every file under `wal/` and `snapshots/`: it
writes snapshots on demand, on a timer and at close, and its `retention`
deletes what is no longer needed, except while deletions are paused.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from weftdb.basics import storage_modes
from weftdb.basics.config import Config, ConfigError
from weftdb.basics.errors import ClientError, DurabilityError, SnapshotFailed
from weftdb.durability import checkpoint, disk_checkpoint, snapshot, storage_mode, swap, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import (
    BACKUP_MANIFEST,
    DATA_DIRECTORIES,
    ROCKSDB,
    SNAPSHOTS,
    STORAGE_MODE,
    Layout,
    is_temporary,
    stamp,
)
from weftdb.durability.process_lock import ProcessLock, lock_process
from weftdb.durability.recovery import Recovered, recover
from weftdb.durability.retention import Retention
from weftdb.durability.wal_reader import SegmentTail, truncate_tail
from weftdb.durability.wal_writer import WalWriter
from weftdb.graph.storage import SWITCH_RULE, Storage

log = logging.getLogger("weftdb.durability")


@dataclass(frozen=True)
class SnapshotRow:
    path: str
    timestamp: int
    creation_time: str
    size: int


class Durability:
    def __init__(self, layout: Layout, config: Config, fs: FileSystem, storage: Storage, db_uuid: bytes,
                 process_lock: ProcessLock):
        self.layout = layout
        self.data_dir = layout.root
        self.config = config
        self.fs = fs
        self.storage = storage
        self.db_uuid = db_uuid
        self._process_lock = process_lock
        self._snapshot_running = threading.Lock()
        self.wal: WalWriter | None = None
        self.retention = Retention(fs, layout, config.storage_snapshot_retention_count, db_uuid,
                                   lambda: self.wal.current_segment if self.wal is not None else None)
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.next_snapshot_at: float | None = None
        self.recovered: Recovered | None = None
        self._logged_to = 0  # the last commit the WAL or a snapshot holds, when in IN_MEMORY_ANALYTICAL

    # -- opening and closing -------------------------------------------------------------

    @classmethod
    def open(cls, data_dir: str, config: Config, fs: FileSystem | None = None,
             report: Callable[[str], None] | None = None) -> "Durability":
        """Lock, finish an interrupted restore, recover and start the WAL."""
        fs = fs or FileSystem()
        layout = Layout(data_dir)
        _refuse_a_backup(fs, layout)
        process_lock = lock_process(data_dir)
        try:
            swap.finish_interrupted(fs, layout)
            named = storage_mode.peek(fs, layout)
            on_disk = named is not None and named[0] == storage_modes.ON_DISK
            if on_disk and config.storage_mode not in ("", storage_modes.ON_DISK):
                raise ClientError(f"--storage-mode={config.storage_mode}: {layout.root} holds an {storage_modes.ON_DISK} "
                                  "database; start it in that mode (STORAGE MODE leaves it while it is empty).")
            if on_disk or config.storage_mode == storage_modes.ON_DISK:
                return cls._open_on_disk(layout, config, fs, process_lock, named)
            _finish_leaving_the_disk(fs, layout, named)
            after_open = checkpoint.restore_if_requested(fs, layout, named[0] if named else storage_modes.TRANSACTIONAL)
            if config.storage_recover_on_startup:
                recovered = recover(fs, layout.root, config.storage_recovery_thread_count, report, long_lived=True,
                                    db_uuid=named[1] if named else None)
                _cut_tail(fs, recovered.tail)
                _report_slow_recovery(recovered)
                _remove_temporaries(fs, layout)
                storage, db_uuid = recovered.storage, recovered.db_uuid
            else:
                _set_aside(fs, layout)
                recovered, storage, db_uuid = None, Storage(), uuid.uuid4().bytes
            self = cls(layout, config, fs, storage, db_uuid, process_lock)
            self.recovered = recovered
            kept = storage_mode.read(fs, layout, db_uuid)
            mode = config.storage_mode or kept
            storage_modes.check_available(mode, "--storage-mode" if config.storage_mode else layout.storage_mode)
            if mode != kept:
                storage_mode.write(fs, layout, db_uuid, mode)
            storage.switch_mode(mode)
            self._logged_to = storage.last_commit_ts
            if mode == storage_modes.TRANSACTIONAL:
                self._start_wal()
            if after_open is not None:
                after_open()
            self._start_timer()
            return self
        except BaseException:
            process_lock.release()
            raise

    @classmethod
    def _open_on_disk(cls, layout: Layout, config: Config, fs: FileSystem, process_lock: ProcessLock,
                      named: tuple[str, bytes] | None) -> "Durability":
        """ON_DISK_TRANSACTIONAL: the graph is RocksDB's, under `rocksdb/`,
        durable by RocksDB's own WAL; WeftDB writes no WAL there, and its
        snapshots are RocksDB checkpoints (disk_checkpoint.py). The database's
        UUID is the mode file's. The first start in the mode needs a directory
        without an in-memory database's files; a switch into it that a crash
        interrupted (the mode file written, the in-memory files not yet set
        aside) is finished here."""
        entering = named is None or named[0] != storage_modes.ON_DISK
        if entering and not config.storage_recover_on_startup:
            _set_aside(fs, layout)
        elif entering and _has_in_memory_files(fs, layout):
            raise ClientError(f"--storage-mode={storage_modes.ON_DISK}: {layout.root} holds an in-memory database's "
                              "files; the on-disk mode starts in an empty directory (or switch to it with "
                              "STORAGE MODE while the database is empty).")
        db_uuid = uuid.uuid4().bytes if entering else named[1]
        after_open = None
        if entering:
            storage_mode.write(fs, layout, db_uuid, storage_modes.ON_DISK)
        else:
            if _has_in_memory_files(fs, layout):
                _set_aside(fs, layout, keep_mode=True)
            after_open = checkpoint.restore_if_requested(fs, layout, storage_modes.ON_DISK, db_uuid)
        for path in disk_checkpoint.remove_temporaries(fs, layout.snapshots):
            log.info("removed %s, left by an interrupted snapshot", path)
        self = cls(layout, config, fs, _disk_store(layout, config), db_uuid, process_lock)
        if after_open is not None:
            after_open()
        return self

    def _start_wal(self) -> None:
        """Make the WAL the store's commit log (unless --storage-wal-enabled=false)."""
        if not self.config.storage_wal_enabled:
            return
        self.wal = WalWriter(
            self.fs,
            self.layout.wal,
            self.db_uuid,
            self.config.storage_wal_file_size_kib * 1024,
            self.config.storage_wal_file_flush_every_n_tx,
        )
        self.storage.commit_log = self

    @property
    def no_wal_reason(self) -> str:
        """Why there is no WAL to read, for the errors of what needs one."""
        if self.storage.mode == storage_modes.ANALYTICAL:
            return f"the database is in {storage_modes.ANALYTICAL}, which writes no WAL"
        if self.storage.mode == storage_modes.ON_DISK:
            return (f"the database is in {storage_modes.ON_DISK}, whose log is RocksDB's own, not a WeftDB WAL "
                    "(CREATE SNAPSHOT makes a RocksDB checkpoint to copy)")
        return "the database runs without a WAL (--storage-wal-enabled=false)"

    # -- storage modes ------------------------------------------------------------------------

    def switch_mode(self, mode: str) -> bool:
        """STORAGE MODE: change between the in-memory modes while no other
        transaction runs; False when already in `mode`. Into
        IN_MEMORY_ANALYTICAL the WAL stops (its last segment is closed); out of
        it, a snapshot first holds what was committed there, so the WAL that
        starts again continues from a state on disk (recovery refuses a WAL
        that skips commits), then the mode file changes. To or from
        ON_DISK_TRANSACTIONAL the store itself changes (`_switch_store`)."""
        storage_modes.check_available(mode, "STORAGE MODE")
        storage = self.storage
        if mode == storage.mode:
            return False
        with storage.quiet(0, SWITCH_RULE):
            if storage_modes.ON_DISK in (mode, storage.mode):
                self._switch_store(mode)
            elif mode == storage_modes.ANALYTICAL:
                storage_mode.write(self.fs, self.layout, self.db_uuid, mode)
                storage.switch_mode(mode)
                storage.commit_log = None
                if self.wal is not None:
                    wal_writer, self.wal = self.wal, None
                    wal_writer.close()
                self._logged_to = storage.last_commit_ts
            else:
                if storage.last_commit_ts > self._logged_to:
                    self.create_snapshot()
                storage_mode.write(self.fs, self.layout, self.db_uuid, mode)
                storage.switch_mode(mode)
                self._start_wal()
        return True

    def _switch_store(self, mode: str) -> None:
        """To or from ON_DISK_TRANSACTIONAL, only while the database is empty
        (no node, relationship, index or constraint): nothing moves between
        the stores. The new one starts empty in its own files; the old one's
        files are set aside in `.old/<time>/`, never deleted. The mode file
        is written first: a crash after it finishes the switch at the next
        start (`_open_on_disk`, `_finish_leaving_the_disk`), a crash before
        it leaves the old, empty, mode."""
        storage = self.storage
        if not storage.empty():
            nodes, edges = storage.counts()
            raise ClientError(
                f"STORAGE MODE {mode}: switching to or from {storage_modes.ON_DISK} needs an empty database "
                f"(no nodes, relationships, indexes or constraints); this one holds {nodes} node(s), {edges} "
                f"relationship(s), {len(storage.catalog.indexes)} index(es) and "
                f"{len(storage.catalog.constraints)} constraint(s).")
        storage_mode.write(self.fs, self.layout, self.db_uuid, mode)
        storage.retire()
        if mode == storage_modes.ON_DISK:
            if self.wal is not None:
                wal_writer, self.wal = self.wal, None
                wal_writer.close()
            storage.commit_log = None
            _set_aside(self.fs, self.layout, keep_mode=True)
            self.storage = _disk_store(self.layout, self.config)
            return
        storage.close()
        _set_aside(self.fs, self.layout, keep_mode=True, names=(ROCKSDB, SNAPSHOTS))
        self.storage = Storage()
        self.storage.switch_mode(mode, "STORAGE MODE")
        self._logged_to = 0
        if mode == storage_modes.TRANSACTIONAL:
            self._start_wal()

    def close(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        try:
            if self.storage.mode == storage_modes.ON_DISK:
                self.storage.close()
            elif self.config.storage_snapshot_on_exit and (self.wal is None or self.wal.failed is None):
                self.create_snapshot(serving=False)
        finally:
            try:
                if self.wal is not None:
                    self.wal.close()
            finally:
                self.storage.commit_log = None
                self._process_lock.release()

    # -- the store's commit log ---------------------------------------------------------------

    def append(self, commit_ts: int, wall_time_us: int, ops: list[tuple]) -> int:
        return self.wal.append(wal.encode_record(commit_ts, wall_time_us, ops))

    def wait(self, ticket: int) -> None:
        self.wal.wait_durable(ticket)

    # -- snapshots ------------------------------------------------------------------------

    def create_snapshot(self, serving: bool = True) -> str:
        """Write a snapshot now; one at a time. Returns its path. When nothing
        was committed since the newest snapshot, that one is the snapshot asked
        for: writing its twin would only push an older, different one out of
        retention. `serving`: others may commit meanwhile, so a forked child
        writes it (--storage-snapshot-fork); as the database closes nobody
        does, and writing it here spares the fork and its page copies."""
        if not self._snapshot_running.acquire(blocking=False):
            raise ClientError("A snapshot is already being created; wait for it to finish.")
        try:
            if self.storage.mode == storage_modes.ON_DISK:
                return self._checkpoint_on_disk()
            newest = snapshot.list_snapshots(self.fs, self.layout.snapshots)[-1:]
            if newest and newest[0].commit_ts == self.storage.visible_ts:
                log.info("no snapshot written: %s holds commit %d, the newest", newest[0].path, newest[0].commit_ts)
                return newest[0].path
            started = time.monotonic()
            try:
                info, commit_ts = snapshot.write(
                    self.storage, self.fs, self.layout.snapshots, self.db_uuid, self.config.storage_items_per_batch,
                    fork=serving and self.config.storage_snapshot_fork,
                )
            except DurabilityError as exc:  # no commit failed: the WAL goes on and the data stays as committed
                raise SnapshotFailed(f"the snapshot could not be written: {exc}") from exc
            log.info(
                "snapshot %s at commit %d: %d vertices, %d edges, %d bytes in %.2f s",
                info.path, commit_ts, info.vertex_count, info.edge_count, info.size, time.monotonic() - started,
            )
            self.retention.apply(snapshot.list_snapshots(self.fs, self.layout.snapshots))
            return info.path
        finally:
            self._snapshot_running.release()

    def _checkpoint_on_disk(self) -> str:
        """CREATE SNAPSHOT in ON_DISK_TRANSACTIONAL: a RocksDB checkpoint
        (disk_checkpoint.py), unless the newest one holds the newest commit."""
        newest = disk_checkpoint.list_checkpoints(self.fs, self.layout.snapshots)[-1:]
        if newest and newest[0].commit_ts == self.storage.visible_ts:
            return newest[0].path
        started = time.monotonic()
        made = disk_checkpoint.create(self.storage, self.fs, self.layout.snapshots)
        log.info("snapshot %s (a RocksDB checkpoint) at commit %d in %.2f s", made.path, made.commit_ts,
                 time.monotonic() - started)
        self.retention.apply(disk_checkpoint.list_checkpoints(self.fs, self.layout.snapshots))
        return made.path

    def snapshots(self) -> list[SnapshotRow]:
        if self.storage.mode == storage_modes.ON_DISK:
            return [SnapshotRow(made.path, made.commit_ts, made.created.isoformat(), _tree_size(self.fs, made.path))
                    for made in reversed(disk_checkpoint.list_checkpoints(self.fs, self.layout.snapshots))]
        rows = []
        for snap in reversed(snapshot.list_snapshots(self.fs, self.layout.snapshots)):
            stamp_text = snap.name.split("_")[1].split(".")[0]
            created = datetime.strptime(stamp_text, "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc)
            rows.append(SnapshotRow(snap.path, snap.commit_ts, created.isoformat(), self.fs.size(snap.path)))
        return rows

    def _start_timer(self) -> None:
        interval = self.config.storage_snapshot_interval_sec
        if interval <= 0:
            return
        self.next_snapshot_at = time.time() + interval

        def loop():
            while not self._stop.wait(max(0.0, self.next_snapshot_at - time.time())):
                self.next_snapshot_at = time.time() + interval
                if self.storage.mode != storage_modes.TRANSACTIONAL:
                    continue  # none in the analytical mode (they would stop every transaction) or on disk
                try:
                    self.create_snapshot()
                except ClientError:
                    pass  # one was running already: this tick is covered
                except Exception:
                    log.exception("periodic snapshot failed")

        self._timer = threading.Thread(target=loop, name="weftdb-snapshots", daemon=True)
        self._timer.start()

    # -- figures ----------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        wal_files = _files(self.fs, self.layout.wal)
        snaps = self.snapshots()
        periodic = self.storage.mode == storage_modes.TRANSACTIONAL
        return {
            "wal_enabled": self.wal is not None,
            "wal_segments": len(wal_files),
            "wal_bytes": sum(size for _, size in wal_files),
            "wal_flush_every_n_tx": self.config.storage_wal_file_flush_every_n_tx,
            "snapshots": len(snaps),
            "snapshot_bytes": sum(s.size for s in snaps),
            "last_snapshot_timestamp": snaps[0].timestamp if snaps else None,
            # 0: no periodic snapshots, which only IN_MEMORY_TRANSACTIONAL takes
            "snapshot_interval_sec": self.config.storage_snapshot_interval_sec if periodic else 0,
            "snapshot_retention_count": self.config.storage_snapshot_retention_count,
            "data_directory_locked": self.retention.paused("lock"),
            "disk_usage": sum(size for _, size in _files(self.fs, self.layout.root, recursive=True)),
        }


def _refuse_a_backup(fs: FileSystem, layout: Layout) -> None:
    """A backup directory is not a data directory, even a plain one that looks
    like one: starting on it would write a lock, a WAL and snapshots of another
    history among the backup's files (and into a compressed or encrypted one,
    start an empty database). Refused before anything is written there."""
    if fs.exists(layout.backup_manifest):
        raise ConfigError(f"{layout.root} holds a backup ({BACKUP_MANIFEST}), not a data directory: only "
                          f"`weftdb restore` opens it. Restore it into a data directory: "
                          f"weftdb restore --from {layout.root} --to NEW_DIR")


def _cut_tail(fs: FileSystem, tail: SegmentTail | None) -> None:
    """Cut the newest WAL segment after its last record: a torn tail (with a
    warning), or the zero padding a killed process left in a preallocated
    segment. The new writer starts a segment of its own, so without the cut
    every crash would leave a whole segment's size behind."""
    if tail is None:
        return
    if tail.torn:
        log.warning(
            "WAL segment %s ends in a torn record at byte %d (%s): dropping %d bytes of a "
            "transaction not known to be acknowledged (a crash cut its write short)",
            tail.path, tail.offset, tail.reason, tail.dropped_bytes,
        )
    else:
        log.info("WAL segment %s: cut %d bytes of zero padding after its last record", tail.path, tail.dropped_bytes)
    truncate_tail(fs, tail)


SLOW_RECOVERY_SEC = 1.0
"""A recovery that took longer is reported at the default log level: an
operator waiting for a start should learn what it loaded and how long it took."""


def _report_slow_recovery(recovered: Recovered) -> None:
    if recovered.seconds <= SLOW_RECOVERY_SEC:
        return
    vertices, edges = len(recovered.storage.vertices), len(recovered.storage.edges)
    start = os.path.basename(recovered.snapshot) if recovered.snapshot else "no snapshot"
    log.warning("recovery took %.1f s: %d vertices and %d edges from %s and %d WAL transactions, up to commit %d",
                recovered.seconds, vertices, edges, start, recovered.replayed, recovered.last_ts)


def _files(fs: FileSystem, directory: str, recursive: bool = False) -> list[tuple[str, int]]:
    if not fs.exists(directory):
        return []
    out = []
    for name in fs.listdir(directory):
        path = os.path.join(directory, name)
        if os.path.isdir(path):
            if recursive:
                out.extend(_files(fs, path, recursive))
        else:
            out.append((path, fs.size(path)))
    return out


def _finish_leaving_the_disk(fs: FileSystem, layout: Layout, named: tuple[str, bytes] | None) -> None:
    """An in-memory start beside a `rocksdb/` store: a switch away from
    ON_DISK_TRANSACTIONAL that a crash cut short after writing the mode file
    is finished (the empty store set aside). Without a mode file the store
    is a database of its own whose mode file is gone: refused, nothing moved."""
    if not fs.exists(layout.path(ROCKSDB)):
        return
    if named is None:
        raise DurabilityError(f"{layout.path(ROCKSDB)} holds an {storage_modes.ON_DISK} database, and "
                              f"{layout.storage_mode} is missing: put the file back, or move the store away "
                              "to start an in-memory database here.")
    _set_aside(fs, layout, keep_mode=True, names=(ROCKSDB,))


def _has_in_memory_files(fs: FileSystem, layout: Layout) -> bool:
    """Whether the WAL or snapshot files of an in-memory database are here."""
    return bool(snapshot.list_snapshots(fs, layout.snapshots)) or (fs.exists(layout.wal) and bool(fs.listdir(layout.wal)))


def _disk_store(layout: Layout, config: Config):
    from weftdb.durability.disk_store import DiskStore  # rocksdict is loaded by the on-disk mode only

    return DiskStore(layout.path(ROCKSDB), config.storage_on_disk_memory_mb)


def _tree_size(fs: FileSystem, path: str) -> int:
    return sum(size for _, size in _files(fs, path, recursive=True))


def _remove_temporaries(fs: FileSystem, layout: Layout) -> None:
    """A process killed while writing a snapshot or creating a WAL segment leaves
    a temporary: never part of the data (only whole files are renamed into place),
    and under the process lock no other writer can own it. Snapshot temporaries
    have unique names, so without this every such kill would leak a snapshot's size.
    Run only after a successful recovery: a failed start deletes nothing."""
    for name in DATA_DIRECTORIES:
        directory = layout.path(name)
        if not fs.exists(directory):
            continue
        for entry in fs.listdir(directory):
            if is_temporary(entry):
                fs.remove(os.path.join(directory, entry))
                log.info("removed %s, left by an interrupted write", os.path.join(directory, entry))


def _set_aside(fs: FileSystem, layout: Layout, keep_mode: bool = False,
               names: tuple[str, ...] = DATA_DIRECTORIES + (ROCKSDB,)) -> None:
    """Move the old database's files out of the way (never delete them), to
    start empty: --storage-recover-on-startup=false on a directory with
    data, and a switch to or from ON_DISK_TRANSACTIONAL (which keeps the
    mode file it has just written)."""
    moved = []
    target = os.path.join(layout.recovery_off_set_aside, stamp())
    for name in names:
        path = layout.path(name)
        if fs.exists(path) and fs.listdir(path):
            fs.makedirs(target)
            fs.rename(path, os.path.join(target, name))
            moved.append(name)
    if not keep_mode and fs.exists(layout.storage_mode):  # the old database's mode goes with it; the new one starts in the default
        fs.makedirs(target)
        fs.rename(layout.storage_mode, os.path.join(target, STORAGE_MODE))
        moved.append(STORAGE_MODE)
    if moved:
        fs.fsync_dir(layout.root)
        log.warning("moved the existing %s to %s", " and ".join(moved), target)

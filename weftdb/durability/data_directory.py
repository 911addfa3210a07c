"""The durability of one data directory: lock, recovery, WAL, snapshots, retention.

`Durability.open` takes the directory's process lock, recovers the graph and
plugs the WAL into the store as its commit log. From then on it is the one
owner of every file under `wal/` and `snapshots/`: it writes snapshots on
demand, on a timer and at close, and it deletes what retention no longer
needs, except while the directory is locked by `LOCK DATA DIRECTORY` (or a
checkpoint is in flight), when deletions wait in a queue (invariant 6).
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

from weftdb.basics.config import Config
from weftdb.basics.errors import ClientError
from weftdb.durability import snapshot, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.process_lock import lock_data_directory
from weftdb.durability.recovery import Recovered, recover
from weftdb.durability.wal_reader import WalReader, truncate_torn_tail
from weftdb.durability.wal_writer import WalWriter
from weftdb.graph.storage import Storage

log = logging.getLogger("weftdb.durability")


@dataclass(frozen=True)
class SnapshotRow:
    path: str
    timestamp: int
    creation_time: str
    size: int


class Durability:
    def __init__(self, data_dir: str, config: Config, fs: FileSystem, storage: Storage, db_uuid: bytes, lock):
        self.data_dir = os.path.abspath(data_dir)
        self.wal_dir = os.path.join(self.data_dir, "wal")
        self.snapshot_dir = os.path.join(self.data_dir, "snapshots")
        self.config = config
        self.fs = fs
        self.storage = storage
        self.db_uuid = db_uuid
        self._lock = lock
        self._snapshot_running = threading.Lock()
        self._housekeeping = threading.Lock()
        self._locked = False  # LOCK DATA DIRECTORY
        self._holds: set[str] = set()  # reasons deletions are paused ("lock", "checkpoint")
        self._deferred: list[str] = []
        self.wal: WalWriter | None = None
        self._stop = threading.Event()
        self._timer: threading.Thread | None = None
        self.next_snapshot_at: float | None = None
        self.recovered: Recovered | None = None

    # -- opening and closing -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        data_dir: str,
        config: Config,
        fs: FileSystem | None = None,
        report: Callable[[str], None] | None = None,
        before_recovery: Callable[[FileSystem, str], Callable[[], None] | None] | None = None,
    ) -> "Durability":
        """Lock, recover and start the WAL. `before_recovery(fs, data_dir)`, when
        given, runs under the lock before anything is read and may return a step
        to run once the directory is open: it is how the `_restore` trigger
        (backup/checkpoint.py, a layer above this one) puts a copied checkpoint
        in place without this module importing it."""
        fs = fs or FileSystem()
        lock = lock_data_directory(data_dir)
        try:
            after_open = before_recovery(fs, data_dir) if before_recovery is not None else None
            if config.storage_recover_on_startup:
                recovered = recover(fs, data_dir, config.storage_recovery_thread_count, report, long_lived=True)
                if recovered.torn_tail is not None:
                    torn = recovered.torn_tail
                    log.warning(
                        "WAL segment %s ends in a torn record at byte %d (%s): dropping %d bytes of a "
                        "transaction that was never acknowledged",
                        torn.path, torn.offset, torn.reason, torn.dropped_bytes,
                    )
                    truncate_torn_tail(fs, torn)
                _remove_temporaries(fs, data_dir)
                storage, db_uuid = recovered.storage, recovered.db_uuid
            else:
                _set_aside(fs, data_dir)
                recovered, storage, db_uuid = None, Storage(), uuid.uuid4().bytes
            self = cls(data_dir, config, fs, storage, db_uuid, lock)
            self.recovered = recovered
            if config.storage_wal_enabled:
                self.wal = WalWriter(
                    fs,
                    self.wal_dir,
                    db_uuid,
                    config.storage_wal_file_size_kib * 1024,
                    config.storage_wal_file_flush_every_n_tx,
                )
                storage.commit_log = self
            if after_open is not None:
                after_open()
            self._start_timer()
            return self
        except BaseException:
            lock.release()
            raise

    def close(self) -> None:
        self._stop.set()
        if self._timer is not None:
            self._timer.join()
        try:
            if self.config.storage_snapshot_on_exit and (self.wal is None or self.wal.failed is None):
                self.create_snapshot()
        finally:
            try:
                if self.wal is not None:
                    self.wal.close()
            finally:
                self.storage.commit_log = None
                self._lock.release()

    # -- the store's commit log ---------------------------------------------------------------

    def append(self, commit_ts: int, wall_time_us: int, ops: list[tuple]) -> int:
        return self.wal.append(wal.encode_record(commit_ts, wall_time_us, ops))

    def wait(self, ticket: int) -> None:
        self.wal.wait_durable(ticket)

    # -- snapshots ------------------------------------------------------------------------

    def create_snapshot(self) -> str:
        """Write a snapshot now; one at a time. Returns its path."""
        if not self._snapshot_running.acquire(blocking=False):
            raise ClientError("A snapshot is already being created; wait for it to finish.")
        try:
            started = time.monotonic()
            info, commit_ts = snapshot.write(
                self.storage, self.fs, self.snapshot_dir, self.db_uuid, self.config.storage_items_per_batch
            )
            log.info(
                "snapshot %s at commit %d: %d vertices, %d edges, %d bytes in %.2f s",
                info.path, commit_ts, info.vertex_count, info.edge_count, info.size, time.monotonic() - started,
            )
            self.apply_retention()
            return info.path
        finally:
            self._snapshot_running.release()

    def snapshots(self) -> list[SnapshotRow]:
        rows = []
        for snap in reversed(snapshot.list_snapshots(self.fs, self.snapshot_dir)):
            stamp = snap.name.split("_")[1].split(".")[0]
            created = datetime.strptime(stamp, "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc)
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
                try:
                    self.create_snapshot()
                except ClientError:
                    pass  # one was running already: this tick is covered
                except Exception:
                    log.exception("periodic snapshot failed")

        self._timer = threading.Thread(target=loop, name="weftdb-snapshots", daemon=True)
        self._timer.start()

    # -- retention and deferred deletion --------------------------------------------------------

    def apply_retention(self) -> None:
        """Keep the newest N snapshots; drop older ones and every WAL segment
        whose transactions the oldest kept snapshot already holds."""
        with self._housekeeping:
            keep = max(1, self.config.storage_snapshot_retention_count)
            snaps = snapshot.list_snapshots(self.fs, self.snapshot_dir)
            if not snaps:
                return
            for old in snaps[:-keep]:
                self._delete(old.path)
            oldest_kept = snaps[-keep:][0].commit_ts
            for path in self._covered_segments(oldest_kept):
                self._delete(path)

    def _covered_segments(self, commit_ts: int) -> list[str]:
        """Closed segments whose every record has a timestamp <= commit_ts: a
        segment is covered when the next one starts at or before commit_ts + 1."""
        segments = WalReader(self.fs, self.wal_dir, self.db_uuid).segments()
        current = self.wal.current_segment if self.wal is not None else None
        covered = []
        for segment, following in zip(segments, segments[1:]):
            if segment.path == current:
                break
            first = _first_commit_ts(self.fs, following)
            if first is None or first > commit_ts + 1:
                break
            covered.append(segment.path)
        return covered

    def _delete(self, path: str) -> None:
        if self._holds:
            if path not in self._deferred:
                self._deferred.append(path)
            return
        if self.fs.exists(path):
            self.fs.remove(path)
            log.info("retention removed %s", path)

    def hold(self, reason: str) -> bool:
        """Pause deletions for `reason`; False if already held for it."""
        with self._housekeeping:
            if reason in self._holds:
                return False
            self._holds.add(reason)
            return True

    def release(self, reason: str) -> bool:
        """End a pause; run the queued deletions once nothing holds them. False if not held."""
        with self._housekeeping:
            if reason not in self._holds:
                return False
            self._holds.discard(reason)
            if not self._holds:
                deferred, self._deferred = self._deferred, []
                for path in deferred:
                    self._delete(path)
            return True

    def held(self, reason: str) -> bool:
        return reason in self._holds

    @property
    def deferred(self) -> list[str]:
        return list(self._deferred)

    # -- figures ----------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        wal_files = _files(self.fs, self.wal_dir)
        snaps = self.snapshots()
        return {
            "wal_enabled": self.wal is not None,
            "wal_segments": len(wal_files),
            "wal_bytes": sum(size for _, size in wal_files),
            "wal_flush_every_n_tx": self.config.storage_wal_file_flush_every_n_tx,
            "snapshots": len(snaps),
            "snapshot_bytes": sum(s.size for s in snaps),
            "last_snapshot_timestamp": snaps[0].timestamp if snaps else None,
            "snapshot_interval_sec": self.config.storage_snapshot_interval_sec,
            "snapshot_retention_count": self.config.storage_snapshot_retention_count,
            "data_directory_locked": self.held("lock"),
            "disk_usage": sum(size for _, size in _files(self.fs, self.data_dir, recursive=True)),
        }


def _first_commit_ts(fs: FileSystem, segment) -> int | None:
    data = fs.read(segment.path)
    body, _why = wal.unframe(data, wal.HEADER_SIZE, segment.seed)
    return wal.decode_record(body)[0] if body is not None else None


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


def _remove_temporaries(fs: FileSystem, data_dir: str) -> None:
    """A process killed while writing a snapshot or creating a WAL segment leaves
    `<name>.tmp`: never part of the data (only whole files are renamed into place),
    and under the directory lock no other writer can own it. Snapshot temporaries
    have unique names, so without this every such kill would leak a snapshot's size.
    Run only after a successful recovery: a failed start deletes nothing."""
    for sub in ("wal", "snapshots"):
        directory = os.path.join(data_dir, sub)
        if not fs.exists(directory):
            continue
        for name in fs.listdir(directory):
            if name.endswith(".tmp"):
                fs.remove(os.path.join(directory, name))
                log.info("removed %s, left by an interrupted write", os.path.join(directory, name))


def _set_aside(fs: FileSystem, data_dir: str) -> None:
    """--storage-recover-on-startup=false on a directory with data: move the
    old files out of the way (never delete them) and start empty."""
    moved = []
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    for name in ("wal", "snapshots"):
        path = os.path.join(data_dir, name)
        if fs.exists(path) and fs.listdir(path):
            target = os.path.join(data_dir, ".old", stamp)
            fs.makedirs(target)
            fs.rename(path, os.path.join(target, name))
            moved.append(name)
    if moved:
        log.warning("recovery is off: moved the existing %s to %s", " and ".join(moved), os.path.join(data_dir, ".old", stamp))


"""`weftdb backup aggregate`: fold a backup chain into one full backup.

Why: a long chain of incrementals restores slowly and depends on every link.
Aggregating restores the chain's end state (the same code as `weftdb
restore`, into a temporary directory), recovers it into memory, writes one
snapshot of it with `snapshot.write` (a chain of an on-disk database's
RocksDB checkpoints: one archive of its last checkpoint), stores that (and the chain's latest
users file) as the only artifact of a new manifest, and only then removes
the files the old chain needed. Until they are gone the files either manifest
does not list are named in `backup.pending.json`, so a crash leaves nothing
the next backup would take for a stranger. Later
incrementals continue from the aggregated backup as from any full one; the
WAL sequence numbers go on from where the chain was.

The aggregated snapshot stands for the chain's last transaction: for
point-in-time restore its time is that transaction's commit time, so points
before it can no longer be restored from this backup.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from weftdb.backup.artifacts import publish
from weftdb.backup.manifest import USERS_PREFIX, Artifact, FileEntry, Manifest, clear_pending, now, write_pending
from weftdb.backup.restore import open_backup, restore, trial_counts
from weftdb.backup.sealing import suffix
from weftdb.durability import disk_archive, snapshot
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import ROCKSDB, Layout
from weftdb.durability.recovery import recover


@dataclass
class AggregateSummary:
    artifacts_before: int
    last_ts: int
    vertices: int
    edges: int
    bytes_before: int
    bytes_after: int
    seconds: float

    def line(self) -> str:
        return (f"aggregated {self.artifacts_before} artifacts into one full backup at commit timestamp {self.last_ts} "
                f"({self.vertices} vertices, {self.edges} edges); {self.bytes_before:,} -> {self.bytes_after:,} bytes, "
                f"{self.seconds:.2f} s")


def _digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()[:32]


def _users_file(fs: FileSystem, data_dir: str, manifest: Manifest) -> str | FileEntry | None:
    """The restored users: the entry of the same bytes when the chain stores
    them already, else the file to store; None for a chain without users."""
    path = Layout(data_dir).users
    if not fs.exists(path):
        return None
    name = f"{USERS_PREFIX}{_digest(path)}.json{suffix(manifest.compressed, manifest.encrypted)}"
    return manifest.entry(name) or path


def aggregate(location: str, key: bytes | None = None, storage_options: dict[str, Any] | None = None,
              items_per_batch: int = 1_000_000) -> AggregateSummary:
    started = time.monotonic()
    target, manifest = open_backup(location, key, storage_options)
    work = tempfile.mkdtemp(prefix="weftdb-aggregate-")
    try:
        data_dir = os.path.join(work, "data")
        restore(location, data_dir, key=key, storage_options=storage_options, trial_open=False)
        fs = FileSystem()
        last = manifest.artifacts[-1]
        if last.store_files is not None:  # ON_DISK_TRANSACTIONAL: the chain's last checkpoint, whole, in one archive
            commit_ts, wall = last.snapshot_ts, last.snapshot_wall_us
            path = os.path.join(work, disk_archive.archive_name(commit_ts, wall))
            listing = disk_archive.archive(fs, os.path.join(data_dir, ROCKSDB), path, manifest.db_uuid, commit_ts)
            vertices, edges = trial_counts(data_dir)
        else:
            recovered = recover(fs, data_dir)
            info, commit_ts = snapshot.write(recovered.storage, fs, os.path.join(work, "out"), manifest.db_uuid,
                                             items_per_batch)
            walls = [a.last_wall_us for a in manifest.artifacts if a.last_wall_us is not None and a.last_ts == commit_ts]
            full = next(a for a in reversed(manifest.artifacts) if a.kind == "full")
            wall = walls[-1] if walls else full.snapshot_wall_us
            path, listing, vertices, edges = info.path, None, info.vertex_count, info.edge_count
        aggregated = Manifest(manifest.database_uuid, manifest.compression, manifest.encryption, manifest.key_check,
                              manifest.next_wal_sequence)
        artifact = Artifact("full", now(), commit_ts + 1, commit_ts, snapshot_ts=commit_ts, snapshot_wall_us=wall,
                            store_files=listing)
        files = [(path, "snapshots/" + os.path.basename(path))]
        users = _users_file(fs, data_dir, manifest)
        if isinstance(users, FileEntry):
            artifact.files.append(users)  # the same bytes are stored already
        elif users is not None:
            files.append((users, f"{USERS_PREFIX}{_digest(users)}.json"))
        ending = suffix(manifest.compressed, manifest.encrypted)
        keep = {logical + ending for _, logical in files} | {f.name for f in artifact.files}
        old = sorted({f.name for f in manifest.files()} - keep)
        # Until the old files are gone, the ones not listed by whichever manifest is in place are pending.
        write_pending(target, sorted(keep) + old)
        for local, logical in files:
            artifact.files.append(publish(target, aggregated, local, logical, key))
        aggregated.artifacts.append(artifact)
        aggregated.save(target)
        for name in old:
            target.remove(name)
        clear_pending(target)
        return AggregateSummary(len(manifest.artifacts), commit_ts, vertices, edges,
                                sum(f.size for f in manifest.files()), sum(f.size for f in artifact.files),
                                time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)

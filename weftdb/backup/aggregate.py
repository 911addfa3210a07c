"""`weftdb backup aggregate`: fold a backup chain into one full backup.

Why: a long chain of incrementals restores slowly and depends on every link.
Aggregating restores the chain's end state (the same code as `weftdb
restore`, into a temporary directory), recovers it into memory, writes one
snapshot of it with `snapshot.write`, stores that as the only artifact of a
new manifest, and only then removes the files the old chain needed. Later
incrementals continue from the aggregated backup as from any full one; the
WAL sequence numbers go on from where the chain was.

The aggregated snapshot stands for the chain's last transaction: for
point-in-time restore its time is that transaction's commit time, so points
before it can no longer be restored from this backup.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import Any

from weftdb.backup.artifacts import publish
from weftdb.backup.manifest import Artifact, Manifest, now
from weftdb.backup.restore import open_backup, restore
from weftdb.backup.target import MANIFEST
from weftdb.durability import snapshot
from weftdb.durability.files import FileSystem
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


def aggregate(location: str, key: bytes | None = None, storage_options: dict[str, Any] | None = None,
              items_per_batch: int = 1_000_000) -> AggregateSummary:
    started = time.monotonic()
    target, manifest = open_backup(location, key, storage_options)
    work = tempfile.mkdtemp(prefix="weftdb-aggregate-")
    try:
        data_dir = os.path.join(work, "data")
        restore(location, data_dir, key=key, storage_options=storage_options, trial_open=False)
        fs = FileSystem()
        recovered = recover(fs, data_dir)
        info, commit_ts = snapshot.write(recovered.storage, fs, os.path.join(work, "out"), manifest.db_uuid, items_per_batch)
        walls = [a.last_wall_us for a in manifest.artifacts if a.last_wall_us is not None and a.last_ts == commit_ts]
        full = next(a for a in reversed(manifest.artifacts) if a.kind == "full")
        wall = walls[-1] if walls else full.snapshot_wall_us
        aggregated = Manifest(manifest.database_uuid, manifest.compression, manifest.encryption, manifest.key_check,
                              manifest.next_wal_sequence)
        artifact = Artifact("full", now(), commit_ts + 1, commit_ts, snapshot_ts=commit_ts, snapshot_wall_us=wall)
        artifact.files.append(publish(target, aggregated, info.path, "snapshots/" + os.path.basename(info.path), key))
        aggregated.artifacts.append(artifact)
        aggregated.save(target)
        keep = {f.name for f in artifact.files} | {MANIFEST}
        for entry in manifest.files():
            if entry.name not in keep:
                target.remove(entry.name)
        return AggregateSummary(len(manifest.artifacts), commit_ts, info.vertex_count, info.edge_count,
                                sum(f.size for f in manifest.files()), artifact.files[0].size, time.monotonic() - started)
    finally:
        shutil.rmtree(work, ignore_errors=True)

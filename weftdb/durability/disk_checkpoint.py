"""The snapshots of ON_DISK_TRANSACTIONAL: RocksDB checkpoints under
`snapshots/`, one owner of their names (docs/formats.md, "On-disk snapshot").

`CREATE SNAPSHOT` in the on-disk mode asks RocksDB for a checkpoint: a
directory holding the database as of one commit (its table files hard-linked
where the file system allows, the rest copied), which RocksDB opens as it
is. It is made under a temporary name and renamed into place, so a name of
the form `<commit timestamp, 20 digits>_<UTC time>.rocksdb` always holds a
whole checkpoint; a temporary left by a crash is removed at the next start.
Retention keeps the newest `--storage-snapshot-retention-count` of them, as
it keeps snapshot files, and deletes none while deletions are paused.

`CHECKPOINT CREATE` names one in its manifest (checkpoint.py), and a restore
of a copy makes the store a copy of it again (`copy_into`).
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone

from weftdb.basics.errors import DurabilityError
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import TEMPORARY_SUFFIX, is_temporary, temporary
from weftdb.durability.snapshot import SnapshotFile

SUFFIX = ".rocksdb"
_NAME = re.compile(r"(\d{20})_(\d{8}T\d{12})\.rocksdb")


class DiskCheckpoint(SnapshotFile):
    """A checkpoint is listed and kept as a snapshot file is (retention reads both)."""

    @property
    def created(self) -> datetime:
        return datetime.strptime(_NAME.fullmatch(self.name).group(2), "%Y%m%dT%H%M%S%f").replace(tzinfo=timezone.utc)


def is_name(name: str) -> bool:
    """Whether `name` is a checkpoint's, as `create` names them."""
    return _NAME.fullmatch(name) is not None


def list_checkpoints(fs: FileSystem, directory: str) -> list[DiskCheckpoint]:
    """The checkpoints in `directory`, oldest first; temporaries and strangers ignored."""
    if not fs.exists(directory):
        return []
    found = [DiskCheckpoint(os.path.join(directory, name), int(match.group(1)))
             for name in fs.listdir(directory) if (match := _NAME.fullmatch(name))]
    return sorted(found, key=lambda c: (c.commit_ts, c.name))


def create(store, fs: FileSystem, directory: str) -> DiskCheckpoint:
    """A checkpoint of `store` (a DiskStore) as of its newest commit."""
    fs.makedirs(directory)
    moment = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    temporary = os.path.join(directory, f"checkpoint_{moment}{TEMPORARY_SUFFIX}")
    commit_ts = store.checkpoint(temporary)
    final = os.path.join(directory, f"{commit_ts:020d}_{moment}{SUFFIX}")
    fs.rename(temporary, final)
    fs.fsync_dir(directory)
    return DiskCheckpoint(final, commit_ts)


def remove_temporaries(fs: FileSystem, directory: str) -> list[str]:
    """Remove what a checkpoint interrupted by a crash left; returns their paths."""
    if not fs.exists(directory):
        return []
    removed = [os.path.join(directory, name) for name in fs.listdir(directory)
               if is_temporary(name) and name.startswith("checkpoint_")]
    for path in removed:
        fs.remove_tree(path)
    return removed


def files(fs: FileSystem, path: str) -> list[tuple[str, int]]:
    """(path, size) of each file of a checkpoint; RocksDB makes it flat."""
    return [(os.path.join(path, name), fs.size(os.path.join(path, name))) for name in fs.listdir(path)]


def copy_into(fs: FileSystem, checkpoint: str, store: str) -> None:
    """Make `store`, which must not exist, a store RocksDB opens and writes in
    the state of `checkpoint`, which stays as it is. Table files (`*.sst`)
    get a second name, as the checkpoint itself does (RocksDB never changes
    a table file once written; a file system without hard links gets a
    copy); the rest (MANIFEST, WAL, OPTIONS), which RocksDB appends to, are
    copied. Built under a temporary name and renamed into place, so a crash
    leaves the whole store or none (a temporary left over is replaced)."""
    building = temporary(store)
    fs.remove_tree(building)
    fs.makedirs(building)
    for source, _size in files(fs, checkpoint):
        target = os.path.join(building, os.path.basename(source))
        if source.endswith(".sst"):
            try:
                fs.link(source, target)
                continue
            except DurabilityError:
                pass
        fs.write_atomic(target, _chunks(source))
    fs.fsync_dir(building)
    fs.rename(building, store)
    fs.fsync_dir(os.path.dirname(os.path.abspath(store)))


def _chunks(path: str, size: int = 1 << 20):
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk

"""The names inside a data directory, in one place.

Every module that reaches a file of a data directory gets its path from a
`Layout` (or from the module that owns that file's format: `wal.py` names
segments, `snapshot.py` names snapshots); no other module spells these names.
docs/formats.md ("Data directory") shows the tree.

    <data directory>/
      .lock                  the process lock (durability/process_lock.py)
      wal/                   WAL segments
      snapshots/             snapshots
      auth/users.json        users (durability/users.py)
      checkpoint.json        the manifest of a checkpoint in flight (durability/checkpoint.py)
      storage_mode.json      the storage mode, when not the default (durability/storage_mode.py)
      _restore               trigger: restore the copied checkpoint at the next start
      .restore-set-aside/    files a checkpoint restore moved out of the way, never deleted
      .restore-staging/      a `weftdb restore` being assembled or swapped in (durability/swap.py)
      .old/                  data set aside when started with recovery off
      databases/             the other databases, each a data directory of its own (durability/catalog.py)

A directory that holds `backup.json` is a backup (weftdb/backup/), not a data
directory: only `weftdb restore` opens it.

A file is written under `<name>.tmp` and renamed into place
(`FileSystem.replacing`); a `.tmp` file is never data.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

WAL = "wal"
SNAPSHOTS = "snapshots"
AUTH = "auth"
USERS = "users.json"
LOCK = ".lock"
CHECKPOINT_MANIFEST = "checkpoint.json"
STORAGE_MODE = "storage_mode.json"
RESTORE_TRIGGER = "_restore"
RESTORE_SET_ASIDE = ".restore-set-aside"
RESTORE_STAGING = ".restore-staging"
RECOVERY_OFF_SET_ASIDE = ".old"
TEMPORARY_SUFFIX = ".tmp"
BACKUP_MANIFEST = "backup.json"

ROCKSDB = "rocksdb"  # ON_DISK_TRANSACTIONAL's graph (durability/disk_store.py)
DATA_DIRECTORIES = (SNAPSHOTS, WAL)
"""The directories that hold the graph's history: what retention, checkpoints and restores act on."""


def temporary(path: str) -> str:
    """The name a file is written under before it is renamed to `path`."""
    return path + TEMPORARY_SUFFIX


def is_temporary(name: str) -> bool:
    return name.endswith(TEMPORARY_SUFFIX)


def stamp() -> str:
    """A UTC time to name a set-aside directory by: sorts by time, never repeats within a process run."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")


class Layout:
    """The paths of one data directory (absolute)."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def __repr__(self) -> str:
        return f"Layout({self.root!r})"

    def path(self, *parts: str) -> str:
        return os.path.join(self.root, *parts)

    @property
    def wal(self) -> str:
        return self.path(WAL)

    @property
    def snapshots(self) -> str:
        return self.path(SNAPSHOTS)

    @property
    def auth(self) -> str:
        return self.path(AUTH)

    @property
    def users(self) -> str:
        return self.path(AUTH, USERS)

    @property
    def lock(self) -> str:
        return self.path(LOCK)

    @property
    def checkpoint_manifest(self) -> str:
        return self.path(CHECKPOINT_MANIFEST)

    @property
    def storage_mode(self) -> str:
        return self.path(STORAGE_MODE)

    @property
    def restore_trigger(self) -> str:
        return self.path(RESTORE_TRIGGER)

    @property
    def restore_set_aside(self) -> str:
        return self.path(RESTORE_SET_ASIDE)

    @property
    def restore_staging(self) -> str:
        return self.path(RESTORE_STAGING)

    @property
    def recovery_off_set_aside(self) -> str:
        return self.path(RECOVERY_OFF_SET_ASIDE)

    @property
    def backup_manifest(self) -> str:
        return self.path(BACKUP_MANIFEST)

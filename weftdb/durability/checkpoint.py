"""Checkpoint mode: make a data directory safe to copy with any tool, and restore the copy.

Why this shape (QuestDB's CHECKPOINT, with WeftDB's files): a WeftDB data
directory is append-only while deletions are paused. Snapshots never change
once renamed into place and closed WAL segments never grow, so the only thing
a copy taken while writes go on can get "too much" of is the newest WAL
segment, plus files that appear after the checkpoint. `CHECKPOINT CREATE`
therefore writes down exactly which files and how many bytes of each make up
the checkpoint, and pauses deletions until `CHECKPOINT RELEASE`; a restore cuts
the copy back to that list.

* `create`: under the store's write lock (no commit can append meanwhile)
  fsync the WAL, take the last commit timestamp and the size of every
  snapshot and WAL segment, and the users file (`auth/users.json`) whole:
  it is rewritten, not appended to, so a copy taken later may hold newer
  users, and the manifest keeps the checkpoint's bytes. Then write
  `checkpoint.json` atomically (docs/formats.md, "Checkpoint manifest") and
  pause deletions with reason "checkpoint" (`retention.py`). In
  ON_DISK_TRANSACTIONAL the store's files are RocksDB's, which it rewrites
  and deletes as it compacts, so the manifest names a RocksDB checkpoint
  (CREATE SNAPSHOT's, disk_checkpoint.py) and its files instead.
* `release`: remove the manifest, then let the deferred deletions run.
* `status`: in flight or not, and the manifest's creation time and timestamp.
* a manifest found at a start without `_restore` (the checkpoint ended with
  its process, or a copy was started without asking) is moved aside with a
  warning, never deleted: the start recovers past the checkpoint.
* `restore_if_requested`: the `_restore` trigger. `Durability.open` calls it
  under the process lock and before recovery. It checks everything before it
  changes anything, then sets aside (moves to
  `.restore-set-aside/<utc>/`, never deletes) every durability file not in
  the manifest and every WAL byte past the listed length, and puts the
  checkpoint's users back (a users file of the copy that differs is set
  aside too). In the on-disk mode it sets aside the copied store and the
  checkpoints made after the manifest's, and makes the store a copy of the
  manifest's checkpoint. The manifest and then `_restore` are removed only
  after recovery succeeded, so a failed restore can be retried.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable

from weftdb.basics import storage_modes
from weftdb.basics.errors import ClientError, DurabilityError, RecoveryError
from weftdb.durability import disk_checkpoint, snapshot, snapshot_file, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import (
    AUTH,
    CHECKPOINT_MANIFEST,
    DATA_DIRECTORIES,
    RESTORE_TRIGGER,
    ROCKSDB,
    SNAPSHOTS,
    USERS,
    Layout,
    stamp,
)
from weftdb.durability.users import parse as parse_users

if TYPE_CHECKING:
    from weftdb.durability.data_directory import Durability

log = logging.getLogger("weftdb.backup")

FORMAT = "weftdb-checkpoint"
VERSION = 3  # 2: the users file is part of the checkpoint; 3: the storage mode, and on-disk checkpoints
READS = (1, 2, 3)
USERS_PATH = f"{AUTH}/{USERS}"
REASON = "checkpoint"  # the reason deletions are paused for (Retention.pause)
STATUS_COLUMNS = ["in_progress", "started_at", "commit_timestamp"]


def create(durability: Durability) -> dict[str, Any]:
    """Enter checkpoint mode; returns the manifest written. One checkpoint at a time."""
    on_disk = durability.storage.mode == storage_modes.ON_DISK
    if durability.wal is None and not on_disk:
        raise ClientError(f"CHECKPOINT CREATE needs the WAL, and {durability.no_wal_reason}: without it the files do not "
                          "hold the latest commits. CREATE SNAPSHOT writes them all.")
    if not durability.retention.pause(REASON):
        started = (_read_manifest(durability.fs, durability.layout, quiet=True) or {}).get("created")
        raise ClientError(f"A checkpoint is already in flight (since {started}); run CHECKPOINT RELEASE first.")
    try:
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "storage_mode": durability.storage.mode,
            "database_uuid": str(uuid.UUID(bytes=durability.db_uuid)),
        }
        manifest.update(_on_disk_files(durability) if on_disk else _in_memory_files(durability))
        manifest["files"] += _users_entry(durability.fs, durability.layout)
        data = json.dumps(manifest, indent=2).encode() + b"\n"
        durability.fs.write_atomic(durability.layout.checkpoint_manifest, data)
    except BaseException:
        durability.retention.resume(REASON)
        raise
    log.info("checkpoint at commit %d: %d files; deletions paused until CHECKPOINT RELEASE",
             manifest["commit_timestamp"], len(manifest["files"]))
    return manifest


def _in_memory_files(durability: Durability) -> dict[str, Any]:
    """Under the store's write lock (no commit can append meanwhile): fsync
    the WAL, and note the last commit and how many bytes of each snapshot
    and WAL segment hold it."""
    storage, fs = durability.storage, durability.fs
    with storage.write_lock:
        durability.wal.sync()
        commit_ts = storage.last_commit_ts
        current, current_bytes = durability.wal.current_segment, durability.wal.current_segment_bytes
        files = [
            {
                "path": os.path.relpath(path, durability.data_dir),
                "bytes": current_bytes if path == current else fs.size(path),
            }
            for path in _durability_files(fs, durability.layout, complete_only=True)
        ]
    return {"commit_timestamp": commit_ts, "created": datetime.now(timezone.utc).isoformat(),
            "wal_format_version": wal.VERSION, "snapshot_format_version": snapshot_file.VERSION, "files": files}


def _on_disk_files(durability: Durability) -> dict[str, Any]:
    """ON_DISK_TRANSACTIONAL: the live store's files change under a copy
    tool (RocksDB appends, compacts and deletes), so the checkpoint is a
    RocksDB checkpoint, CREATE SNAPSHOT's, whose files never change, and
    the restore makes the store a copy of it."""
    made = durability.create_snapshot()
    commit_ts = next(c.commit_ts for c in disk_checkpoint.list_checkpoints(durability.fs, durability.layout.snapshots)
                     if c.path == made)
    files = [{"path": os.path.relpath(path, durability.data_dir), "bytes": size}
             for path, size in disk_checkpoint.files(durability.fs, made)]
    return {"commit_timestamp": commit_ts, "created": datetime.now(timezone.utc).isoformat(),
            "checkpoint": os.path.relpath(made, durability.data_dir), "files": files}


def _users_entry(fs: FileSystem, layout: Layout) -> list[dict[str, Any]]:
    """The users file as a manifest entry holding its bytes (none without a users file)."""
    if not fs.exists(layout.users):
        return []
    data = fs.read(layout.users)
    return [{"path": USERS_PATH, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
             "data": base64.b64encode(data).decode("ascii")}]


def release(durability: Durability) -> bool:
    """Leave checkpoint mode; False when none was in flight."""
    if not durability.retention.paused(REASON):
        return False
    path = durability.layout.checkpoint_manifest
    if durability.fs.exists(path):
        durability.fs.remove(path)
    return durability.retention.resume(REASON)


def status(durability: Durability) -> tuple[bool, str | None, int | None]:
    """(in_progress, started_at, commit_timestamp), as the STATUS_COLUMNS say."""
    if not durability.retention.paused(REASON):
        return False, None, None
    manifest = _read_manifest(durability.fs, durability.layout, quiet=True) or {}
    return True, manifest.get("created"), manifest.get("commit_timestamp")


# -- the _restore trigger ---------------------------------------------------------------------


def restore_if_requested(fs: FileSystem, layout: Layout, mode: str,
                         db_uuid: bytes | None = None) -> Callable[[], None] | None:
    """When the data directory holds `_restore`: bring its files back to the
    checkpoint's and return the step to run after the store opened (remove
    the manifest, then `_restore`). None when there is nothing to restore.
    `mode` is the directory's storage mode, `db_uuid` the database's when
    the directory names it (the on-disk mode's mode file)."""
    data_dir, trigger = layout.root, layout.restore_trigger
    if not fs.exists(trigger):
        if fs.exists(layout.checkpoint_manifest):
            _set_aside_stale_manifest(fs, layout)
        return None
    manifest = _read_manifest(fs, layout)
    made_in = manifest.get("storage_mode", storage_modes.TRANSACTIONAL)
    if (made_in == storage_modes.ON_DISK) != (mode == storage_modes.ON_DISK):
        raise _refuse(f"the checkpoint was made in {made_in} and this directory is in {mode}")
    aside = os.path.join(layout.restore_set_aside, stamp())
    if made_in == storage_modes.ON_DISK:
        _restore_on_disk(fs, layout, manifest, db_uuid, aside)
    else:
        _restore_in_memory(fs, layout, manifest, aside)
    log.info("restore: data directory is at checkpoint commit %d; recovering", manifest["commit_timestamp"])

    def finish() -> None:
        fs.remove(layout.checkpoint_manifest)
        fs.remove(trigger)
        fs.fsync_dir(data_dir)
        log.info("restore from checkpoint (commit %d) finished", manifest["commit_timestamp"])

    return finish


def _restore_in_memory(fs: FileSystem, layout: Layout, manifest: dict, aside: str) -> None:
    """Set aside every WAL segment and snapshot the manifest does not list,
    and every WAL byte past the listed length; recovery then reads the rest."""
    listed, users = _check(fs, layout, manifest)
    if manifest["version"] > 1:
        _put_back_users(fs, layout, users, aside)
    moved = 0
    for path in _durability_files(fs, layout, complete_only=False):
        relative = os.path.relpath(path, layout.root)
        target = os.path.join(aside, relative)
        if relative not in listed:
            fs.makedirs(os.path.dirname(target))
            fs.rename(path, target)
            moved += 1
        elif fs.size(path) > listed[relative]:
            tail = fs.read(path, listed[relative])
            if tail.strip(b"\0"):  # not just the zero padding of a preallocated segment
                fs.makedirs(os.path.dirname(target))
                fs.write_atomic(target + ".tail", tail)
                moved += 1
            fs.truncate_path(path, listed[relative])
    if moved:
        log.warning("restore: set aside %d files or WAL tails written after the checkpoint in %s", moved, aside)


def _restore_on_disk(fs: FileSystem, layout: Layout, manifest: dict, db_uuid: bytes | None, aside: str) -> None:
    """Set aside the store the copy holds (RocksDB may have been writing it
    while it was copied) and the checkpoints made after this one, then make
    the store a copy of the manifest's RocksDB checkpoint."""
    source, users = _check_on_disk(fs, layout, manifest, db_uuid)
    _put_back_users(fs, layout, users, aside)
    store = layout.path(ROCKSDB)
    later = [c.path for c in disk_checkpoint.list_checkpoints(fs, layout.snapshots)
             if c.commit_ts > manifest["commit_timestamp"]]
    for path in ([store] if fs.exists(store) else []) + later:
        target = os.path.join(aside, os.path.relpath(path, layout.root))
        fs.makedirs(os.path.dirname(target))
        fs.rename(path, target)
    if fs.exists(aside):
        fs.fsync_dir(layout.root)
        fs.fsync_dir(layout.snapshots)
        log.warning("restore: set aside the store and %d checkpoints made after the checkpoint in %s", len(later), aside)
    disk_checkpoint.copy_into(fs, source, store)


def _put_back_users(fs: FileSystem, layout: Layout, users: bytes | None, aside: str) -> None:
    """Make the users file the checkpoint's (`users`; None: there was none).
    A differing one in the copy is kept in `aside` first; the file is replaced
    atomically, so there is never a moment without one."""
    current = fs.read(layout.users) if fs.exists(layout.users) else None
    if current == users:
        return
    if current is not None:
        kept = os.path.join(aside, AUTH, USERS)
        fs.makedirs(os.path.dirname(kept))
        fs.write_atomic(kept, current, mode=0o600)
        log.warning("restore: the users changed after the checkpoint; its users are back, the copy's are kept as %s", kept)
    if users is None:
        fs.remove(layout.users)
        fs.fsync_dir(layout.auth)
    else:
        fs.makedirs(layout.auth)
        fs.write_atomic(layout.users, users, mode=0o600)


def _set_aside_stale_manifest(fs: FileSystem, layout: Layout) -> None:
    """A manifest without `_restore`: its checkpoint ended with the process that
    made it, or this is a copy started without asking for the restore. Either
    way the start goes past the checkpoint; the manifest is kept (moved aside,
    never deleted) so a copy can still be taken back to its checkpoint."""
    aside = os.path.join(layout.restore_set_aside, stamp())
    fs.makedirs(aside)
    kept = os.path.join(aside, CHECKPOINT_MANIFEST)
    fs.rename(layout.checkpoint_manifest, kept)
    fs.fsync_dir(aside)
    fs.fsync_dir(layout.root)
    log.warning(
        "%s was left by a checkpoint no longer in flight (its process ended, or this copy was started without "
        "%s): recovering past the checkpoint, to the end of the WAL. The manifest is kept as %s; to take a copy "
        "back to its checkpoint instead, stop it, move that file back to %s, create an empty %s beside it and "
        "start again, before new snapshots replace the files it lists.",
        layout.checkpoint_manifest, RESTORE_TRIGGER, kept, layout.checkpoint_manifest, RESTORE_TRIGGER,
    )


def _check(fs: FileSystem, layout: Layout, manifest: dict) -> tuple[dict[str, int], bytes | None]:
    """Every listed file present with its bytes and of the manifest's database;
    returns ({relative path: bytes}, the users file's bytes or None). Raises
    RecoveryError before anything changed."""
    where = layout.checkpoint_manifest
    if manifest.get("format") != FORMAT or manifest.get("version") not in READS:
        raise _refuse(f"{where} is a {manifest.get('format')!r} manifest of version {manifest.get('version')!r}; "
                      f"this WeftDB reads {FORMAT!r} versions {', '.join(map(str, READS))}")
    for key, ours in (("wal_format_version", wal.READS), ("snapshot_format_version", snapshot_file.READS)):
        if manifest.get(key) not in ours:
            raise _refuse(f"the checkpoint's {key.replace('_', ' ')} is {manifest.get(key)!r}; this WeftDB reads "
                          f"versions {', '.join(map(str, ours))}")
    try:
        db_uuid = uuid.UUID(manifest["database_uuid"]).bytes
        entries = [e for e in manifest["files"] if manifest["version"] == 1 or e["path"] != USERS_PATH]
        listed = {os.path.normpath(entry["path"]): int(entry["bytes"]) for entry in entries}
        users = _checked_users([e for e in manifest["files"] if e not in entries])
        int(manifest["commit_timestamp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(f"{where} is not a complete checkpoint manifest ({type(exc).__name__}: {exc})") from None
    _check_files(fs, layout, manifest, listed, db_uuid)
    return listed, users


def _check_on_disk(fs: FileSystem, layout: Layout, manifest: dict,
                   db_uuid: bytes | None) -> tuple[str, bytes | None]:
    """The RocksDB checkpoint to restore, whole, of this database, and one
    RocksDB opens and reads through with its checksums verified; returns
    (its path, the users file's bytes or None). Raises RecoveryError
    before anything changed."""
    where = layout.checkpoint_manifest
    try:
        named = os.path.normpath(manifest["checkpoint"])
        entries = [e for e in manifest["files"] if e["path"] != USERS_PATH]
        listed = {os.path.normpath(entry["path"]): int(entry["bytes"]) for entry in entries}
        users = _checked_users([e for e in manifest["files"] if e not in entries])
        checkpoint_uuid = uuid.UUID(manifest["database_uuid"]).bytes
        int(manifest["commit_timestamp"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _refuse(f"{where} is not a complete checkpoint manifest ({type(exc).__name__}: {exc})") from None
    if os.path.dirname(named) != SNAPSHOTS or not disk_checkpoint.is_name(os.path.basename(named)):
        raise _refuse(f"{where} names {named!r}, which is not a checkpoint in snapshots/")
    if db_uuid is not None and checkpoint_uuid != db_uuid:
        raise _refuse(f"the checkpoint belongs to database {manifest['database_uuid']}, this directory to "
                      f"{uuid.UUID(bytes=db_uuid)}")
    source = os.path.join(layout.root, named)
    if not fs.exists(source):
        raise _refuse(f"{named} is named by the checkpoint but missing from the copy")
    present = {os.path.relpath(path, layout.root): size for path, size in disk_checkpoint.files(fs, source)}
    for relative, size in listed.items():
        if os.path.dirname(relative) != named:
            raise _refuse(f"{where} lists {relative!r}, which is not a file of {named}")
        if present.get(relative) != size:
            found = "missing from the copy" if relative not in present else f"{present[relative]} bytes"
            raise _refuse(f"{relative} is {found}; the checkpoint holds {size} bytes of it")
    if len(present) != len(listed):
        raise _refuse(f"{named} holds files the checkpoint does not list: "
                      f"{', '.join(sorted(set(present) - set(listed)))}")
    from weftdb.durability import disk_store  # rocksdict is loaded by the on-disk mode only

    try:
        disk_store.check(source)
    except DurabilityError as exc:
        raise _refuse(str(exc)) from None
    return source, users


def _checked_users(entries: list[dict]) -> bytes | None:
    """The users file's bytes kept in the manifest, checked; ValueError if they are not whole."""
    if not entries:
        return None
    if len(entries) > 1:
        raise ValueError(f"{USERS_PATH} is listed {len(entries)} times")
    entry = entries[0]
    data = base64.b64decode(entry["data"], validate=True)
    if len(data) != int(entry["bytes"]) or hashlib.sha256(data).hexdigest() != entry["sha256"]:
        raise ValueError(f"the bytes of {USERS_PATH} kept in it are not the ones it lists")
    parse_users(data)
    return data


def _check_files(fs: FileSystem, layout: Layout, manifest: dict, listed: dict[str, int], db_uuid: bytes) -> None:
    where = layout.checkpoint_manifest
    for relative, size in listed.items():
        path = os.path.normpath(os.path.join(layout.root, relative))
        directory = os.path.dirname(os.path.relpath(path, layout.root))
        if directory not in DATA_DIRECTORIES:
            raise _refuse(f"{where} lists {relative!r}, which is not a file in wal/ or snapshots/")
        if not fs.exists(path):
            raise _refuse(f"{relative} is listed in the checkpoint but missing from the copy")
        actual = fs.size(path)
        is_snapshot = directory == SNAPSHOTS
        if actual < size or (is_snapshot and actual != size):
            raise _refuse(f"{relative} has {actual} bytes; the checkpoint holds {size} bytes of it")
        if is_snapshot:
            snapshot_file.SnapshotReader(fs, path, expected_uuid=db_uuid)
        else:
            try:
                _version, file_uuid, _seq, _crc = wal.unpack_header(fs.read(path, 0, wal.HEADER_SIZE))
            except wal.HeaderError as exc:
                raise _refuse(f"{relative}: {exc}") from None
            if file_uuid != db_uuid:
                raise _refuse(f"{relative} belongs to database {uuid.UUID(bytes=file_uuid)}, the checkpoint to {manifest['database_uuid']}")


def _refuse(reason: str) -> RecoveryError:
    return RecoveryError(
        f"Cannot restore from the checkpoint: {reason}. Nothing was changed and {RESTORE_TRIGGER} stays: "
        f"copy the directory again from a checkpoint, or remove {RESTORE_TRIGGER} to start without restoring."
    )


def _read_manifest(fs: FileSystem, layout: Layout, quiet: bool = False) -> dict | None:
    path = layout.checkpoint_manifest
    try:
        manifest = json.loads(fs.read(path))
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
        return manifest
    except (OSError, ValueError) as exc:
        if quiet:
            return None
        raise _refuse(f"{path} cannot be read ({exc})") from None


def _durability_files(fs: FileSystem, layout: Layout, complete_only: bool) -> list[str]:
    """Snapshots and WAL segments; with complete_only, only those under their
    final names (not temporaries being written), else every file in wal/ and snapshots/."""
    if complete_only:
        names = fs.listdir(layout.wal) if fs.exists(layout.wal) else []
        segments = [os.path.join(layout.wal, name) for name in names if wal.sequence_of_name(name) is not None]
        return [s.path for s in snapshot.list_snapshots(fs, layout.snapshots)] + segments
    paths = []
    for directory in DATA_DIRECTORIES:
        full = layout.path(directory)
        if fs.exists(full):
            paths += [os.path.join(full, name) for name in fs.listdir(full) if not os.path.isdir(os.path.join(full, name))]
    return paths

"""Replacing a data directory's files by restored ones, so that a crash at any
point leaves the old set or the new one, never neither and never a mix.

`weftdb restore` assembles the new files (complete and fsynced) in
`.restore-staging/new/` inside the data directory, then calls `swap_in`:

1. it writes `.restore-staging/SWAP` (careful write), naming the new set:
   from here on the restore is decided, and a crash is finished forward;
2. it moves the replaced database's files that the new set has no
   counterpart of to `.restore-staging/old/` (an in-memory database's `wal/`
   and `snapshots/` when an on-disk one is restored, its `rocksdb/` the
   other way; its `storage_mode.json` when the new set has none, so a
   restored in-memory database starts in IN_MEMORY_TRANSACTIONAL); then,
   for each name of the new set (`wal/`, `snapshots/`, `rocksdb/`, ...), it
   moves the data directory's own to `old/` and the new one into its place,
   making each rename durable;
3. it removes `.restore-staging`, the old files with it.

`finish_interrupted` runs where a crash may have stopped that: at every start
of the database, under the process lock and before recovery, and before the
next restore. With `SWAP` present it redoes step 2 for what is left (each
move is skipped once done) and step 3; without it the staging directory is
an interrupted assembly that changed nothing in the data directory, and it is
removed.
"""

from __future__ import annotations

import logging
import os

from weftdb.durability.files import FileSystem
from weftdb.durability.layout import DATA_DIRECTORIES, ROCKSDB, STORAGE_MODE, Layout

log = logging.getLogger("weftdb.durability")

MARKER = "SWAP"
NEW = "new"
OLD = "old"
DECIDED = b"restore decided\n"  # then the names of the new set, one a line
REPLACED = DATA_DIRECTORIES + (ROCKSDB, STORAGE_MODE)  # a database's files, all replaced by a restore


def staging(layout: Layout) -> str:
    """Where a restore assembles the new files: `<staging>/new/<wal|snapshots|...>`."""
    return os.path.join(layout.restore_staging, NEW)


def swap_in(fs: FileSystem, layout: Layout) -> list[str]:
    """Put the assembled set in place of the data directory's; returns the names swapped."""
    names = fs.listdir(staging(layout))
    fs.write_atomic(os.path.join(layout.restore_staging, MARKER), DECIDED + "".join(f"{n}\n" for n in names).encode())
    return _finish(fs, layout)


def finish_interrupted(fs: FileSystem, layout: Layout) -> None:
    """Complete a swap a crash cut short, or drop an assembly it never started."""
    if not fs.exists(layout.restore_staging):
        return
    if fs.exists(os.path.join(layout.restore_staging, MARKER)):
        names = _finish(fs, layout)
        log.warning("finished a restore that was interrupted after it was decided: %s replaced", ", ".join(names) or "nothing")
    else:
        fs.remove_tree(layout.restore_staging)
        log.warning("removed %s: a restore interrupted before it changed anything", layout.restore_staging)


def _finish(fs: FileSystem, layout: Layout) -> list[str]:
    new, old = os.path.join(layout.restore_staging, NEW), os.path.join(layout.restore_staging, OLD)
    fs.makedirs(old)
    lines = fs.read(os.path.join(layout.restore_staging, MARKER)).decode().splitlines()
    if len(lines) > 1:
        names = lines[1:]
        displaced = [name for name in REPLACED if name not in names]
    else:  # a marker of an earlier version names no set: what is left in new/, and only the mode file goes
        names = fs.listdir(new) if fs.exists(new) else []
        displaced = [STORAGE_MODE]
    for name in displaced:
        _move(fs, layout.path(name), os.path.join(old, name), layout.root)
    for name in names:
        if fs.exists(os.path.join(new, name)):  # not yet moved in
            _move(fs, layout.path(name), os.path.join(old, name), layout.root)
            _move(fs, os.path.join(new, name), layout.path(name), new)
    fs.remove_tree(layout.restore_staging)
    return names


def _move(fs: FileSystem, source: str, target: str, other: str) -> None:
    """Rename `source` to `target` if it exists, durably in both directories."""
    if fs.exists(source):
        fs.rename(source, target)
        fs.fsync_dir(os.path.dirname(target))
        fs.fsync_dir(other)

"""Replacing a data directory's files by restored ones, so that a crash at any
point leaves the old set or the new one, never neither and never a mix.

`weftdb restore` assembles the new files (complete and fsynced) in
`.restore-staging/new/` inside the data directory, then calls `swap_in`:

1. it writes `.restore-staging/SWAP` (careful write): from here on the restore
   is decided, and a crash is finished forward;
2. for each directory of the new set (`wal/`, `snapshots/`, ...), it moves the
   data directory's own to `.restore-staging/old/` and the new one into its
   place, making each rename durable; the replaced database's
   `storage_mode.json` goes to `old/` too (a restored database starts in
   IN_MEMORY_TRANSACTIONAL);
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
from weftdb.durability.layout import STORAGE_MODE, Layout

log = logging.getLogger("weftdb.durability")

MARKER = "SWAP"
NEW = "new"
OLD = "old"


def staging(layout: Layout) -> str:
    """Where a restore assembles the new files: `<staging>/new/<wal|snapshots|...>`."""
    return os.path.join(layout.restore_staging, NEW)


def swap_in(fs: FileSystem, layout: Layout) -> list[str]:
    """Put the assembled set in place of the data directory's; returns the names swapped."""
    fs.write_atomic(os.path.join(layout.restore_staging, MARKER), b"restore decided\n")
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
    names = fs.listdir(new) if fs.exists(new) else []
    for name in names:
        current = layout.path(name)
        if fs.exists(current):
            fs.rename(current, os.path.join(old, name))
            fs.fsync_dir(old)
            fs.fsync_dir(layout.root)
        fs.rename(os.path.join(new, name), current)
        fs.fsync_dir(layout.root)
        fs.fsync_dir(new)
    if fs.exists(layout.storage_mode):  # the replaced database's mode: the restored one starts in the default
        fs.rename(layout.storage_mode, os.path.join(old, STORAGE_MODE))
        fs.fsync_dir(layout.root)
    fs.remove_tree(layout.restore_staging)
    return names

"""The storage mode a data directory is in: `storage_mode.json`, the one owner
of that file (docs/formats.md, "Storage mode").

A restart comes back in the mode the directory was left in. A directory
without the file (a new one, or one of an earlier version) is in
IN_MEMORY_TRANSACTIONAL; the file is written only when the mode changes from
that, so such directories stay as they were until someone switches.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from weftdb.basics import storage_modes
from weftdb.basics.errors import DurabilityError
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import Layout

FORMAT = "weftdb-storage-mode"
VERSION = 1


def read(fs: FileSystem, layout: Layout, db_uuid: bytes) -> str:
    """The directory's mode; a DurabilityError naming the file when it is
    unreadable, of another version or of another database."""
    path = layout.storage_mode
    if not fs.exists(path):
        return storage_modes.TRANSACTIONAL
    try:
        found = json.loads(fs.read(path))
        if not isinstance(found, dict) or found.get("format") != FORMAT:
            raise ValueError(f"not a {FORMAT} file")
        if found.get("version") != VERSION:
            raise ValueError(f"version {found.get('version')!r}, this WeftDB reads version {VERSION}")
        if found.get("database_uuid") != str(uuid.UUID(bytes=db_uuid)):
            raise ValueError(f"it is of database {found.get('database_uuid')}, this directory holds {uuid.UUID(bytes=db_uuid)}")
        mode = found.get("mode")
        if mode not in storage_modes.ALL:
            raise ValueError(f"unknown mode {mode!r}")
        return mode
    except (ValueError, UnicodeDecodeError) as exc:
        raise DurabilityError(f"{path}: cannot read the storage mode: {exc}. Fix or remove the file "
                              f"(without it the directory opens in {storage_modes.TRANSACTIONAL}).") from None


def peek(fs: FileSystem, layout: Layout) -> tuple[str, bytes] | None:
    """(mode, database UUID) the file names, before the database is known
    (None when it is missing or unreadable: read() then says what is wrong)."""
    if not fs.exists(layout.storage_mode):
        return None
    try:
        found = json.loads(fs.read(layout.storage_mode))
        return found["mode"], uuid.UUID(found["database_uuid"]).bytes
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def write(fs: FileSystem, layout: Layout, db_uuid: bytes, mode: str) -> None:
    """Record `mode` (a careful write: temporary file, fsync, rename)."""
    record = {
        "format": FORMAT,
        "version": VERSION,
        "database_uuid": str(uuid.UUID(bytes=db_uuid)),
        "mode": mode,
        "changed": datetime.now(timezone.utc).isoformat(),
    }
    fs.write_atomic(layout.storage_mode, json.dumps(record, indent=2).encode() + b"\n")

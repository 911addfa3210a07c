"""The databases of a data directory beside the default one: `databases/`.

    <data directory>/                 the default database, laid out as before there were several
      databases/
        <name>/                       a database: a data directory of its own (layout.py)
        .dropped-<name>-<stamp>/      a dropped database whose files are being removed
        stopped.json                  the databases STOP DATABASE stopped (a sorted list of names)

A database exists exactly when `databases/<name>/` does. Creating one makes
that directory, empty (an empty data directory is an empty database: its
first open writes the rest, as any new data directory's does); dropping one
renames it to `.dropped-...`. Each is one step of the file system, made
durable (an fsync of `databases/`) before the statement returns, so a kill -9
at any point leaves the whole database or none of it, and a dropped
database's files are removed only once the drop is durable: by the drop
itself or, cut short, at the next start. Names starting with `.` are never
databases' (identity.database_name).

This module owns these names and that order; the one process holding the
default database's lock is the only one that changes them.
"""

from __future__ import annotations

import json
import logging
import os

from weftdb.basics import identity
from weftdb.basics.errors import DurabilityError
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import is_temporary, stamp

log = logging.getLogger("weftdb.durability")

DATABASES = "databases"
STOPPED = "stopped.json"
_DROPPED = ".dropped-"


def directory(root: str) -> str:
    """`databases/` of the data directory `root`."""
    return os.path.join(os.path.abspath(root), DATABASES)


def path_of(root: str, name: str) -> str:
    """The data directory of database `name` (a valid name: identity.database_name)."""
    return os.path.join(directory(root), identity.database_name(name))


def data_directory(root: str, name: str) -> str:
    """Where database `name` of the data directory `root` lives: `root` itself
    for the default database's names, else `path_of` (ValueError for a name
    that is no database's)."""
    return os.path.abspath(root) if identity.is_default(name) else path_of(root, name)


def names(fs: FileSystem, root: str) -> list[str]:
    """The databases besides the default one, sorted. A stranger in
    `databases/` (a file, a name that is no database's) is left alone."""
    where = directory(root)
    if not fs.exists(where):
        return []
    found = []
    for name in fs.listdir(where):
        if name.startswith(".") or not os.path.isdir(os.path.join(where, name)):
            continue
        try:
            if identity.database_name(name) == name:
                found.append(name)
        except ValueError:
            continue
    return found


def create(fs: FileSystem, root: str, name: str) -> str:
    """Make database `name`, which must not exist (FileExistsError); returns its path."""
    final = path_of(root, name)
    if fs.exists(final):
        raise FileExistsError(final)
    fs.makedirs(final)  # one mkdir, then an fsync of databases/
    return final


def drop(fs: FileSystem, root: str, name: str) -> None:
    """Remove database `name`: durable once its directory is renamed away;
    the files go after that (or at the next start, if this is cut short)."""
    final = path_of(root, name)
    gone = os.path.join(directory(root), f"{_DROPPED}{os.path.basename(final)}-{stamp()}")
    fs.rename(final, gone)
    fs.fsync_dir(directory(root))
    fs.remove_tree(gone)


def clean(fs: FileSystem, root: str) -> None:
    """At the start: remove what a DROP cut short left behind (durably no
    database already), and temporaries of `stopped.json`."""
    where = directory(root)
    if not fs.exists(where):
        return
    for name in fs.listdir(where):
        path = os.path.join(where, name)
        if name.startswith(_DROPPED):
            fs.remove_tree(path)
            log.info("removed %s, left by an interrupted DROP DATABASE", path)
        elif is_temporary(name):
            fs.remove(path)


def stopped(fs: FileSystem, root: str) -> set[str]:
    """The databases STOP DATABASE stopped (and START DATABASE has not started)."""
    path = os.path.join(directory(root), STOPPED)
    if not fs.exists(path):
        return set()
    try:
        listed = json.loads(fs.read(path))
    except ValueError as exc:
        raise DurabilityError(f"{path} is damaged ({exc}): it lists the stopped databases; remove it to start them "
                              "all") from None
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise DurabilityError(f"{path} is not a list of database names; remove it to start them all")
    return set(listed)


def set_stopped(fs: FileSystem, root: str, stopped_names: set[str]) -> None:
    fs.makedirs(directory(root))
    fs.write_atomic(os.path.join(directory(root), STOPPED), json.dumps(sorted(stopped_names)).encode())

"""Where backups live: a local directory or an fsspec URL (`s3://bucket/prefix`).

Why one small interface: the backup client, restore, verify, aggregate and
inspect read and write a backup only through `Target`, so a local path and an
object store behave alike, and the rule that keeps `--to` from ever being
escaped lives in one function: `check_name` accepts only the names WeftDB
itself gives a backup's files (the manifest and the list of an unfinished
backup's files, `snapshots/<ts>_<utc>.snapshot` or `.rocksdb.tar`, `wal/<sequence>.wal`,
`auth/users-<digest>.json`, each maybe with `.zst` and `.enc`). No name that
came from the network or from a manifest is used without passing it.

A local target writes through the file layer's careful write
(`FileSystem.write_atomic`); an fsspec target writes each object in one upload
(an S3 object appears whole or not at all). fsspec and s3fs are optional:
`pip install weftdb[s3]`.
"""

from __future__ import annotations

import os
import re
from typing import Any, Iterable, Iterator

from weftdb.basics import identity
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import BACKUP_MANIFEST

MANIFEST = BACKUP_MANIFEST
PENDING = "backup.pending.json"  # the files a backup is publishing, until its manifest lists them
MAX_SMALL_FILE = 64 << 20  # the manifest is read whole; a larger one is refused
READ_CHUNK = 1 << 20
_SEALED = r"(\.zst)?(\.enc)?"
_NAME = re.compile(rf"(backup\.json|backup\.pending\.json|snapshots/\d{{20}}_\d{{8}}T\d{{12}}\.(snapshot|rocksdb\.tar){_SEALED}"
                   rf"|wal/\d{{16}}\.wal{_SEALED}|auth/users-[0-9a-f]{{32}}\.json{_SEALED})")


class TargetError(Exception):
    """A backup location cannot be used as asked."""


def check_name(name: str) -> str:
    """`name` if it is one of the names a backup's files have, else TargetError."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise TargetError(f"{str(name)[:80]!r} is not the name of a backup file")
    return name


def is_backup_name(name: str) -> bool:
    return bool(_NAME.fullmatch(name))


def of_database(location: str, name: str) -> str:
    """The backup of database `name` inside a backup of every database at `location` (a path or URL)."""
    return f"{location.rstrip('/')}/{name.lower()}"


def is_url(location: str) -> bool:
    return "://" in location and not location.startswith("file://")


class Target:
    """The operations a backup needs from its location; names pass check_name."""

    url: str

    def exists(self, name: str) -> bool: ...
    def size(self, name: str) -> int: ...
    def read_chunks(self, name: str) -> Iterator[bytes]: ...
    def put(self, name: str, chunks: Iterable[bytes]) -> None: ...
    def remove(self, name: str) -> None: ...
    def files(self) -> Iterator[str]:
        """Every file present under the location, whatever its name, as a
        relative '/'-separated name (not checked: for reporting only)."""
        ...

    def local_path(self, name: str) -> str | None:
        """A plain local file to read directly, or None."""
        return None

    def databases(self) -> list[str]:
        """The databases a backup of every database holds (weftdb backup
        --all-databases: one backup each, in `<name>/`), the default one first."""
        names = {name.split("/")[0] for name in self.files() if name.count("/") == 1 and name.endswith("/" + MANIFEST)}
        return sorted(names, key=lambda name: (name != identity.DATABASE, name))

    def read_small(self, name: str) -> bytes:
        if self.size(name) > MAX_SMALL_FILE:
            raise TargetError(f"{self.url}/{name} is larger than {MAX_SMALL_FILE} bytes")
        return b"".join(self.read_chunks(name))


class LocalTarget(Target):
    def __init__(self, root: str, fs: FileSystem | None = None):
        if root.startswith("file://"):
            root = root[len("file://"):]
        self.root = os.path.abspath(root)
        self.url = self.root
        self.fs = fs or FileSystem()

    def _path(self, name: str) -> str:
        path = os.path.normpath(os.path.join(self.root, *check_name(name).split("/")))
        if os.path.commonpath([path, self.root]) != self.root:  # cannot happen after check_name; kept as a guard
            raise TargetError(f"{name!r} leads outside {self.root}")
        return path

    def local_path(self, name: str) -> str:
        return self._path(name)

    def exists(self, name: str) -> bool:
        return os.path.isfile(self._path(name))

    def size(self, name: str) -> int:
        return os.stat(self._path(name)).st_size

    def read_chunks(self, name: str) -> Iterator[bytes]:
        with open(self._path(name), "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    def put(self, name: str, chunks: Iterable[bytes]) -> None:
        path = self._path(name)
        self.fs.makedirs(os.path.dirname(path))
        private = name.startswith("auth/")  # password hashes: readable by the owner only, as in a data directory
        self.fs.write_atomic(path, chunks, mode=0o600 if private else 0o644)

    def remove(self, name: str) -> None:
        path = self._path(name)
        if os.path.exists(path):
            self.fs.remove(path)

    def files(self) -> Iterator[str]:
        for folder, directories, names in os.walk(self.root):
            directories.sort()
            relative = os.path.relpath(folder, self.root).replace(os.sep, "/")
            for name in sorted(names):
                yield name if relative == "." else f"{relative}/{name}"


class FsspecTarget(Target):
    def __init__(self, url: str, storage_options: dict[str, Any] | None = None):
        try:
            import fsspec
        except ImportError:
            raise TargetError(f"{url}: URLs need fsspec (and s3fs for s3://): pip install 'weftdb[s3]'") from None
        try:
            self.fs, root = fsspec.core.url_to_fs(url, **(storage_options or {}))
        except (ImportError, ValueError) as exc:
            raise TargetError(f"{url}: {exc}") from None
        self.root = root.rstrip("/")
        self.url = url.rstrip("/")

    def _path(self, name: str) -> str:
        return f"{self.root}/{check_name(name)}"

    def exists(self, name: str) -> bool:
        return self.fs.exists(self._path(name))

    def size(self, name: str) -> int:
        return int(self.fs.size(self._path(name)))

    def read_chunks(self, name: str) -> Iterator[bytes]:
        with self.fs.open(self._path(name), "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                yield chunk

    def put(self, name: str, chunks: Iterable[bytes]) -> None:
        with self.fs.open(self._path(name), "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)

    def remove(self, name: str) -> None:
        if self.exists(name):
            self.fs.rm(self._path(name))

    def files(self) -> Iterator[str]:
        self.fs.invalidate_cache()
        try:
            paths = self.fs.find(self.root)
        except FileNotFoundError:
            return
        for path in sorted(paths):
            relative = path[len(self.root):].lstrip("/") if path.startswith(self.root) else path
            if relative:
                yield relative


def open_target(location: str, storage_options: dict[str, Any] | None = None) -> Target:
    """A Target for a local path or an fsspec URL."""
    if is_url(location):
        return FsspecTarget(location, storage_options)
    return LocalTarget(location)

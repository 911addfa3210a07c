"""Moving one file into a backup (`publish`) and out of it again (`fetch`).

Why here and only here: every file of a backup goes in through `publish`
(seal: compress and/or encrypt, then write through the Target, counting the
stored bytes' size and SHA-256 for the manifest) and comes out through `fetch`
(read, check size and SHA-256 while streaming, unseal, write to a local file
with the file layer's careful write, renamed into place only once every check
passed). So the
rules for stored bytes cannot differ between backup, restore, verify and
aggregate.
"""

from __future__ import annotations

import hashlib
import os
from typing import Iterable, Iterator

from weftdb.backup.manifest import FileEntry, Manifest
from weftdb.backup.sealing import seal, suffix, unseal
from weftdb.backup.target import READ_CHUNK, Target
from weftdb.durability.files import FileSystem


class ArtifactError(Exception):
    """A stored file is missing, or its bytes are not the ones the manifest recorded."""


def _read_local(path: str) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            yield chunk


def publish(target: Target, manifest: Manifest, local_path: str, logical_name: str, key: bytes | None) -> FileEntry:
    """Store `local_path` as `logical_name` (+ .zst/.enc as the manifest says); returns its entry."""
    name = logical_name + suffix(manifest.compressed, manifest.encrypted)
    raw_size = os.path.getsize(local_path)
    digest = hashlib.sha256()
    counted = {"size": 0}

    def counting(chunks: Iterable[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            digest.update(chunk)
            counted["size"] += len(chunk)
            yield chunk

    target.put(name, counting(seal(_read_local(local_path), logical_name, manifest.compressed, key)))
    return FileEntry(name, counted["size"], digest.hexdigest(), raw_size)


def logical_name(entry: FileEntry) -> str:
    name = entry.name
    for ending in (".enc", ".zst"):
        if name.endswith(ending):
            name = name[: -len(ending)]
    return name


def checked_chunks(target: Target, entry: FileEntry) -> Iterator[bytes]:
    """The stored bytes of `entry`; ArtifactError at the end if size or SHA-256 differ."""
    if not target.exists(entry.name):
        raise ArtifactError(f"{entry.name} is missing from {target.url}")
    digest = hashlib.sha256()
    size = 0
    for chunk in target.read_chunks(entry.name):
        size += len(chunk)
        if size > entry.size:
            raise ArtifactError(f"{entry.name} is larger than the {entry.size} bytes the manifest records")
        digest.update(chunk)
        yield chunk
    if size != entry.size:
        raise ArtifactError(f"{entry.name} has {size} bytes; the manifest records {entry.size}")
    if digest.hexdigest() != entry.sha256:
        raise ArtifactError(f"{entry.name}: SHA-256 differs from the manifest's: the file is damaged")


def fetch(target: Target, manifest: Manifest, entry: FileEntry, dest: str, key: bytes | None,
          fs: FileSystem | None = None, mode: int = 0o644) -> None:
    """Write the original bytes of `entry` to `dest` carefully (`FileSystem.write_atomic`):
    `dest` appears, fsynced, only once every check passed."""

    def checked() -> Iterator[bytes]:
        size = 0
        raw = unseal(checked_chunks(target, entry), logical_name(entry), manifest.compressed,
                     key if manifest.encrypted else None, entry.raw_size)
        for chunk in raw:
            size += len(chunk)
            if size > entry.raw_size:
                raise ArtifactError(f"{entry.name} holds more than its recorded {entry.raw_size} bytes")
            yield chunk
        if size != entry.raw_size:
            raise ArtifactError(f"{entry.name} holds {size} bytes; the manifest records {entry.raw_size}")

    (fs or FileSystem()).write_atomic(dest, checked(), mode=mode)

"""The backup of an ON_DISK_TRANSACTIONAL store: a RocksDB checkpoint as one
tar archive, whole or as the files a previous one lacks (docs/formats.md,
section 9). One owner of the format: the backup service writes archives,
the client, restore and `weftdb backup verify` check and read them.

Why RocksDB's files rather than a WeftDB snapshot: a snapshot restores into
memory, and an on-disk graph is there because it may not fit. A checkpoint
restores as the store it was, whatever its size. Its table files (`*.sst`)
never change once written and their numbers are never reused, so a file of
the same name and size as one a backup holds already is that file: an
incremental archive carries only the others (RocksDB's own backup engine
shares table files the same way), plus the small files RocksDB rewrites
(MANIFEST, OPTIONS, CURRENT, its WAL). Every archive's first member,
`weftdb-store.json`, lists every file of its checkpoint, so a restore knows
the whole set and a backup the files it has.
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator

from weftdb.basics.errors import DurabilityError
from weftdb.durability import disk_checkpoint, snapshot
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import TEMPORARY_SUFFIX

FORMAT = "weftdb-store-archive"
VERSION = 1
HEADER = "weftdb-store.json"
SUFFIX = ".rocksdb.tar"
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")  # the names RocksDB gives its files, flat
MAX_HEADER = 16 << 20


class ArchiveError(DurabilityError):
    """An archive that is not a whole, valid backup of the store it claims."""


Listing = dict[str, int]  # file name -> size: every file of one checkpoint


@contextmanager
def written(store, fs: FileSystem, directory: str, db_uuid: bytes,
            have: Listing | None = None) -> Iterator[tuple[str, int, Listing]]:
    """Make a RocksDB checkpoint of `store` (a DiskStore) in a temporary
    directory under `directory` (the data directory's `snapshots/`: the
    same file system, so the checkpoint's table files are links, not
    copies) and an archive of it beside it; yields (the archive's path, the
    commit it holds, its listing). With `have`, the listing of the backup
    it continues, the archive leaves out the files that one holds. Both go
    when the block ends; a crash leaves a temporary that the next start
    removes (disk_checkpoint.remove_temporaries)."""
    moment = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    work = os.path.join(directory, f"checkpoint_{moment}_backup{TEMPORARY_SUFFIX}")
    fs.makedirs(work)
    try:
        checkpoint = os.path.join(work, "store")
        commit_ts = store.checkpoint(checkpoint)
        path = os.path.join(work, "store" + SUFFIX)
        listing = archive(fs, checkpoint, path, db_uuid, commit_ts, have)
        yield path, commit_ts, listing
    finally:
        fs.remove_tree(work)


def archive(fs: FileSystem, checkpoint: str, path: str, db_uuid: bytes, commit_ts: int,
            have: Listing | None = None) -> Listing:
    """Write the archive of the checkpoint directory `checkpoint` (of
    database `db_uuid` at `commit_ts`) to `path`, without the table files
    `have` names with their sizes; returns its listing."""
    listing = {os.path.basename(path): size for path, size in disk_checkpoint.files(fs, checkpoint)}
    header = {"format": FORMAT, "version": VERSION, "database_uuid": str(uuid.UUID(bytes=db_uuid)),
              "commit_timestamp": commit_ts, "files": listing}
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, HEADER, json.dumps(header, indent=1).encode())
        for name in carried(listing, have):
            tar.add(os.path.join(checkpoint, name), arcname=name, recursive=False, filter=_plain)
    return listing


def carried(listing: Listing, have: Listing | None) -> list[str]:
    """The files of `listing` an archive holds: all of them, or with `have`
    (the listing of the backup it continues) all but the table files that
    one names with the same size."""
    return [name for name, size in listing.items()
            if have is None or not name.endswith(".sst") or have.get(name) != size]


def archive_name(commit_ts: int, wall_time_us: int) -> str:
    """`<commit ts, 20 digits>_<UTC time>.rocksdb.tar`, as a snapshot is named."""
    return snapshot.snapshot_name(commit_ts, wall_time_us).removesuffix(snapshot.SUFFIX) + SUFFIX


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(_plain(info), io.BytesIO(data))


def _plain(info: tarfile.TarInfo) -> tarfile.TarInfo:
    """No owner, mode or time of the server's in the archive."""
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o644
    info.mtime = 0
    return info


def check(path: str, db_uuid: bytes, commit_ts: int, have: Listing | None, listed: Listing | None = None) -> Listing:
    """Check the archive at `path` and return its listing: its header is of
    database `db_uuid` at `commit_ts` (and lists `listed`, when the manifest
    says what it lists); every member after it is a regular file the listing
    names, of the size it says; and it holds every file of the listing but
    the table files `have` (the listing of the backup it continues) names
    with the same size. Raises ArchiveError."""
    listing, held = _read_header(path, db_uuid, commit_ts)
    if listed is not None and listing != listed:
        raise ArchiveError(f"{path}: it lists other files than the manifest says")
    missing = [name for name in carried(listing, have) if name not in held]
    if missing:
        raise ArchiveError(f"{path}: {len(missing)} files of the checkpoint are neither in it nor in the backup it "
                           f"continues, such as {missing[0]}")
    return listing


def _read_header(path: str, db_uuid: bytes, commit_ts: int) -> tuple[Listing, list[str]]:
    """(the listing, the names the archive holds), the members checked against the listing."""
    try:
        with tarfile.open(path, "r:") as tar:
            members = tar.getmembers()
            if not members or members[0].name != HEADER or not members[0].isfile() or members[0].size > MAX_HEADER:
                raise ArchiveError(f"{path}: not a store archive (its first member is not {HEADER})")
            header = json.loads(tar.extractfile(members[0]).read())
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise ArchiveError(f"{path}: not a readable store archive ({exc})") from None
    listing = _listing(path, header, db_uuid, commit_ts)
    held = []
    for member in members[1:]:
        if not member.isfile() or member.name not in listing or member.size != listing[member.name]:
            raise ArchiveError(f"{path}: the member {member.name[:80]!r} is not a file of the checkpoint it lists")
        held.append(member.name)
    if len(set(held)) != len(held):
        raise ArchiveError(f"{path}: a file is in the archive twice")
    return listing, held


def _listing(path: str, header: object, db_uuid: bytes, commit_ts: int) -> Listing:
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise ArchiveError(f"{path}: {HEADER} is not a {FORMAT} header of version {VERSION}")
    try:
        found_uuid = uuid.UUID(header["database_uuid"]).bytes
        found_ts, files = header["commit_timestamp"], header["files"]
    except (KeyError, TypeError, ValueError) as exc:
        raise ArchiveError(f"{path}: {HEADER} is incomplete ({type(exc).__name__}: {exc})") from None
    if found_uuid != db_uuid:
        raise ArchiveError(f"{path}: an archive of database {uuid.UUID(bytes=found_uuid)}, not of {uuid.UUID(bytes=db_uuid)}")
    if found_ts != commit_ts:
        raise ArchiveError(f"{path}: the archive holds commit timestamp {found_ts}, not {commit_ts}")
    if not isinstance(files, dict) or not all(isinstance(n, str) and _FILE.fullmatch(n) and type(s) is int and s >= 0
                                              for n, s in files.items()):
        raise ArchiveError(f"{path}: {HEADER} lists files that are not a checkpoint's")
    return files


def extract(path: str, fs: FileSystem, directory: str) -> None:
    """Write the archive's files into `directory` (made if missing), each
    fsynced, replacing what is there under the same name. The caller
    checked the archive (`check`)."""
    fs.makedirs(directory)
    try:
        with tarfile.open(path, "r:") as tar:
            for member in tar:
                if member.name == HEADER:
                    continue
                if not (member.isfile() and _FILE.fullmatch(member.name)):
                    raise ArchiveError(f"{path}: the member {member.name[:80]!r} is not a plain file name")
                source = tar.extractfile(member)
                fs.write_atomic(os.path.join(directory, member.name), iter(lambda: source.read(1 << 20), b""))
    except (tarfile.TarError, EOFError) as exc:
        raise ArchiveError(f"{path}: not a readable store archive ({exc})") from None
    fs.fsync_dir(directory)


def complete(fs: FileSystem, directory: str, listing: Listing) -> None:
    """Make `directory` exactly the checkpoint `listing` describes: files it
    does not list (those of an earlier archive of the chain that the
    checkpoint no longer has) go; each listed file must be there, of its size."""
    for name in fs.listdir(directory):
        if name not in listing:
            fs.remove(os.path.join(directory, name))
    for name, size in listing.items():
        path = os.path.join(directory, name)
        if not fs.exists(path) or fs.size(path) != size:
            raise ArchiveError(f"the restored checkpoint lacks {name} of {size} bytes")
    fs.fsync_dir(directory)

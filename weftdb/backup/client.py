"""`weftdb backup`: fetch a full or incremental backup from a running server.

Why it is built like this:

* Everything received is data to check, not instructions. The server never
  names a file: the client names the snapshot from its (checked) commit
  timestamp and wall time and the WAL segments from the manifest's next
  sequence number, and every write passes `target.check_name`. Sizes are
  bounded before anything is allocated; the snapshot is checked against the
  announced SHA-256 and opened with `SnapshotReader` (UUID, structure,
  checksums); every record's commit timestamp must be the next one.
* Files are first assembled in a local staging directory — the snapshot as
  sent, the records through `WalWriter` into new segments numbered on from the
  chain's last one — then published (sealed when asked) to the target, and the
  manifest is rewritten last. A backup cut off half-way leaves the manifest
  as it was, so the chain stays valid.
* A plain local backup has a data directory's `snapshots/` and `wal/` (with
  the source's UUID) and `backup.json` beside them, but is not one: a
  database refuses to open it. Before storing its files the client lists
  them in `backup.pending.json`, so the next backup can tell what an
  interrupted one left (and removes it) from what something else wrote
  there (and refuses to go on).
* `--type auto` takes an incremental when the target holds a backup, else a
  full; an incremental the source can no longer serve (its WAL segments were
  removed by retention) becomes a full backup, with a message.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

from weftdb.backup import protocol
from weftdb.backup.artifacts import logical_name, publish
from weftdb.backup.manifest import (
    COMPRESSION,
    ENCRYPTION,
    USERS_PREFIX,
    Artifact,
    FileEntry,
    Manifest,
    clear_pending,
    key_check,
    now,
    unlisted,
    write_pending,
)
from weftdb.backup.records import ChainBroken, RecordSink
from weftdb.backup.sealing import suffix
from weftdb.backup.target import PENDING, Target, TargetError, open_target
from weftdb.basics.errors import RecoveryError
from weftdb.durability import disk_archive, snapshot, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.users import parse as parse_users

MAX_SNAPSHOT = 1 << 44  # 16 TiB: an announced size beyond this is not believed
MAX_TS = 10**19  # commit timestamps fit the 20-digit snapshot names


class BackupError(Exception):
    """The backup could not be taken; the target's manifest is unchanged."""


@dataclass
class Summary:
    kind: str
    target: str
    bytes_received: int = 0
    bytes_stored: int = 0
    records: int = 0
    snapshot_ts: int | None = None
    last_ts: int = 0
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)
    checkpoint: bool = False  # of an on-disk database: a RocksDB checkpoint at last_ts, no transactions

    def line(self) -> str:
        if self.checkpoint:
            what = f"a RocksDB checkpoint at commit timestamp {self.last_ts}"
        else:
            what = (f"snapshot at {self.snapshot_ts} + " if self.snapshot_ts is not None else "") + \
                   f"{self.records} transactions, up to commit timestamp {self.last_ts}"
        return (f"{self.kind} backup to {self.target}: {what}; {self.bytes_received:,} bytes received, "
                f"{self.bytes_stored:,} stored, {self.seconds:.2f} s")


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep:
        return text, protocol.DEFAULT_PORT
    try:
        return host.strip("[]"), int(port)
    except ValueError:
        raise BackupError(f"--from {text!r}: expected HOST:PORT") from None


def backup(
    source: str,
    to: str,
    kind: str = "auto",
    user: str | None = None,
    password: str | None = None,
    compress: bool = False,
    key: bytes | None = None,
    progress: Callable[[int], None] | None = None,
    storage_options: dict[str, Any] | None = None,
    timeout: float = 60.0,
    total: Callable[[int], None] | None = None,
    database: str | None = None,
) -> Summary:
    """Take one backup of the server at `source` ("host:port") into `to` (a path or URL),
    of its database `database` (None: the default one).
    `progress(n)` is called with the bytes received as they come; for a full
    backup `total(n)` first, with the snapshot's size as the server announces it
    (the transactions committed during the copy follow it, of a size not known
    before)."""
    if kind not in ("auto", "full", "incremental"):
        raise BackupError(f"--type must be full, incremental or auto, not {kind!r}")
    started = time.monotonic()
    target = open_target(to, storage_options)
    manifest = Manifest.load(target)
    if manifest is not None:
        if manifest.compressed != compress or manifest.encrypted != (key is not None):
            raise BackupError(
                f"{target.url} holds a backup {_settings(manifest.compressed, manifest.encrypted)}; "
                f"this one would be {_settings(compress, key is not None)}: use the same options, or another --to")
        manifest.check_key(key)
    _clear_the_way(target, manifest)
    if kind == "incremental" and manifest is None:
        raise BackupError(f"{target.url} holds no backup yet: take a full backup first (--type full or auto)")
    want = "incremental" if kind == "incremental" or (kind == "auto" and manifest is not None) else "full"
    summary = Summary(want, target.url)
    progress = _Progress(progress, total)
    address = parse_address(source)
    staging = tempfile.mkdtemp(prefix="weftdb-backup-client-")
    try:
        if want == "incremental":
            try:
                _take(address, target, manifest, "incremental", user, password, key, staging, summary, progress, timeout,
                      database)
            except _Fallback as fallback:
                note = f"incremental backup not possible ({fallback}); taking a full backup instead"
                summary.messages.append(note)
                summary.kind = want = "full"
                shutil.rmtree(staging, ignore_errors=True)
                os.makedirs(staging)
        if want == "full":
            if manifest is None:
                manifest = Manifest("", COMPRESSION if compress else None, ENCRYPTION if key else None,
                                    key_check(key) if key else None)
            _take(address, target, manifest, "full", user, password, key, staging, summary, progress, timeout,
                  database)
    except (OSError, protocol.ProtocolError, ChainBroken, RecoveryError) as exc:
        raise BackupError(f"backup from {source} failed: {exc}; {target.url} was left as it was") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    summary.seconds = time.monotonic() - started
    return summary


class _Fallback(Exception):
    pass


class _Progress:
    """The caller's progress and total callbacks (either may be None) as one."""

    def __init__(self, advance: Callable[[int], None] | None, total: Callable[[int], None] | None):
        self._advance, self._total = advance, total

    def __call__(self, n: int) -> None:
        if self._advance is not None:
            self._advance(n)

    def total(self, n: int) -> None:
        if self._total is not None:
            self._total(n)


SHOWN = 5  # strangers named in the refusal


def _clear_the_way(target: Target, manifest: Manifest | None) -> None:
    """Remove what an interrupted backup left behind; refuse a location that
    holds anything else its manifest does not list (docs/backup.md)."""
    leftovers, strangers = unlisted(target, manifest, limit=SHOWN + 1)
    if strangers:
        shown = ", ".join(strangers[:SHOWN]) + (", ..." if len(strangers) > SHOWN else "")
        if manifest is None:
            raise BackupError(f"{target.url} is not empty ({shown}) and holds no backup: give an empty directory or a backup")
        raise BackupError(
            f"{target.url} holds files its manifest does not list ({shown}): a database was opened on this backup "
            f"or another program wrote there, so it no longer holds this backup alone. Move them out of it, or "
            f"back up into another directory (weftdb verify {target.url} lists them all)")
    for name in leftovers:
        target.remove(name)
    if target.exists(PENDING):
        clear_pending(target)


def _settings(compressed: bool, encrypted: bool) -> str:
    parts = [p for p, on in (("compressed", compressed), ("encrypted", encrypted)) if on]
    return " and ".join(parts) if parts else "uncompressed and unencrypted"


def databases(source: str, user: str | None = None, password: str | None = None, timeout: float = 60.0) -> list[str]:
    """The databases of the server at `source` that `user` may back up, the default one first."""
    try:
        with socket.create_connection(parse_address(source), timeout=timeout) as sock:
            _greet(sock, user, password, None)
            protocol.send(sock, {"type": "list"})
            return [name for name in protocol.field(protocol.receive(sock, ("databases",)), "names", list)
                    if isinstance(name, str)]
    except (OSError, protocol.ProtocolError) as exc:
        raise BackupError(f"cannot list the databases of {source}: {exc}") from None


def _greet(sock: socket.socket, user: str | None, password: str | None, database: str | None) -> dict[str, Any]:
    """HELLO, naming `database` (None: the default one); the server's welcome, or BackupError."""
    hello = {"type": "hello", "version": protocol.VERSION, "user": user, "password": password}
    protocol.send(sock, hello if database is None else {**hello, "database": database})
    welcome = protocol.receive(sock, ("welcome", "refused"))
    if welcome["type"] == "refused":
        raise BackupError(f"the server refused the backup: {protocol.field(welcome, 'message', str)[:500]}")
    return welcome


def _take(address, target: Target, manifest: Manifest, kind: str, user, password, key, staging: str,
          summary: Summary, progress: _Progress, timeout: float, database: str | None) -> None:
    with socket.create_connection(address, timeout=timeout) as sock:
        welcome = _greet(sock, user, password, database)
        db_uuid = protocol.field(welcome, "database_uuid", bytes)
        if len(db_uuid) != 16:
            raise protocol.ProtocolError("a database UUID of the wrong length")
        if manifest.database_uuid and manifest.db_uuid != db_uuid:
            raise BackupError(f"{target.url} holds a backup of database {manifest.database_uuid}; the server holds "
                              f"{uuid.UUID(bytes=db_uuid)}: use another --to")
        # A chain that ends in a RocksDB checkpoint goes on with the files its listing lacks (disk_archive.py).
        have = manifest.artifacts[-1].store_files if kind == "incremental" and manifest.artifacts else None
        if kind == "incremental":
            request = {"type": "incremental", "database_uuid": db_uuid, "since": manifest.last_ts}
            protocol.send(sock, request if have is None else {**request, "have": have})
        else:
            protocol.send(sock, {"type": "full"})
        artifact = Artifact(kind, now(), manifest.last_ts + 1, manifest.last_ts)
        snapshot_path = None
        if kind == "full" or have is not None:
            snapshot_path, snapshot_ts, snapshot_wall, artifact.store_files = _receive_snapshot(
                sock, db_uuid, staging, summary, progress, have)
            artifact.snapshot_ts, artifact.snapshot_wall_us = snapshot_ts, snapshot_wall
            artifact.first_ts, artifact.last_ts = snapshot_ts + 1, snapshot_ts
            after = snapshot_ts
        else:
            after = manifest.last_ts
        sink = RecordSink(os.path.join(staging, "wal"), db_uuid, manifest.next_wal_sequence, after)
        last_ts, users = _receive_records(sock, sink, kind, summary, progress)
    sequences = sink.close()
    artifact.last_ts = last_ts
    artifact.first_wall_us, artifact.last_wall_us = sink.first_wall_us, sink.last_wall_us
    if not manifest.database_uuid:
        manifest.database_uuid = str(uuid.UUID(bytes=db_uuid))
    files = [(snapshot_path, "snapshots/" + os.path.basename(snapshot_path))] if snapshot_path is not None else []
    files += [(os.path.join(staging, "wal", wal.segment_name(s)), "wal/" + wal.segment_name(s)) for s in sequences]
    if sequences:
        manifest.next_wal_sequence = sequences[-1] + 1
    carried, stored = _carry_users(manifest, kind, users, staging)
    # An incremental that found nothing new (no transaction, the same users) leaves the chain as it was.
    if kind == "full" or sink.count or carried or stored or artifact.last_ts > manifest.last_ts:
        _publish(target, manifest, artifact, files + carried, stored, key)
    summary.bytes_stored += sum(f.size for f in artifact.files)
    summary.records += sink.count
    summary.last_ts = last_ts


def _carry_users(manifest: Manifest, kind: str, data: bytes, staging: str) -> tuple[list[tuple[str, str]], list[FileEntry]]:
    """How the artifact lists the users file: (the file to store, or the entry
    of the same bytes stored already). A full always lists it, an incremental
    only when it differs from the chain's latest; the name is the bytes' digest."""
    logical = f"{USERS_PREFIX}{hashlib.sha256(data).hexdigest()[:32]}.json"
    latest = manifest.users_as_of(manifest.last_ts)
    if kind == "incremental" and latest is not None and logical_name(latest) == logical:
        return [], []
    stored = manifest.entry(logical + suffix(manifest.compressed, manifest.encrypted))
    if stored is not None:
        return [], [stored]
    path = os.path.join(staging, *logical.split("/"))
    fs = FileSystem()
    fs.makedirs(os.path.dirname(path))
    fs.write_atomic(path, data, mode=0o600)
    return [(path, logical)], []


def _publish(target: Target, manifest: Manifest, artifact: Artifact, files: list[tuple[str, str]],
             stored: list[FileEntry], key) -> None:
    """Store `files` ((local path, logical name)) as `artifact`'s, beside the
    entries of files `stored` already, then the manifest that lists them, under
    the list of pending names; files stored before a failure are removed again
    (a crash leaves them to the next backup)."""
    ending = suffix(manifest.compressed, manifest.encrypted)
    names = [logical + ending for _, logical in files]
    write_pending(target, names)
    saving = False
    try:
        for local, logical in files:
            artifact.files.append(publish(target, manifest, local, logical, key))
        artifact.files += stored
        manifest.artifacts.append(artifact)
        saving = True
        manifest.save(target)
    except BaseException:
        if not saving:  # once the manifest is being written it may list them: the next backup decides
            for name in names:
                _try(target.remove, name)
            _try(clear_pending, target)
        raise
    _try(clear_pending, target)  # the manifest lists them now: a list left behind names nothing unlisted


def _try(action: Callable[..., None], *args: Any) -> None:
    try:
        action(*args)
    except (OSError, TargetError):
        pass


def _receive_snapshot(sock, db_uuid: bytes, staging: str, summary: Summary, progress: _Progress,
                      have: dict[str, int] | None) -> tuple[str, int, int, dict[str, int] | None]:
    """The snapshot the server sends: a WeftDB snapshot, or the archive of a
    RocksDB checkpoint (`form` "rocksdb"), which with `have` (an incremental)
    may leave out the table files that listing names. Returns (its path, its
    commit timestamp and wall time, the checkpoint's listing or None)."""
    head = protocol.receive(sock, ("snapshot", "unavailable"))
    if head["type"] == "unavailable":
        raise _Fallback(protocol.field(head, "message", str)[:500])
    commit_ts = protocol.field(head, "commit_ts", int, minimum=0)
    wall_time_us = protocol.field(head, "wall_time_us", int, minimum=0)
    size = protocol.field(head, "size", int, minimum=0)
    store = head.get("form") == "rocksdb"
    if commit_ts >= MAX_TS or size > MAX_SNAPSHOT:
        raise protocol.ProtocolError(f"a snapshot announced with commit timestamp {commit_ts} and {size} bytes")
    if have is not None and not store:
        raise protocol.ProtocolError("a snapshot where the rest of a RocksDB checkpoint was asked for")
    progress.total(size)
    try:
        name = (disk_archive.archive_name if store else snapshot.snapshot_name)(commit_ts, wall_time_us)
    except (OverflowError, OSError, ValueError):
        raise protocol.ProtocolError(f"a snapshot wall time out of range: {wall_time_us}") from None
    fs = FileSystem()
    fs.makedirs(os.path.join(staging, "snapshots"))
    path = os.path.join(staging, "snapshots", name)
    digest = hashlib.sha256()

    def chunks() -> Iterator[bytes]:
        got = 0
        while got < size:
            chunk = protocol.field(protocol.receive(sock, ("chunk",), protocol.MAX_MESSAGE), "data", bytes)
            got += len(chunk)
            if got > size:
                raise protocol.ProtocolError(f"the server sent more than the {size} snapshot bytes it announced")
            digest.update(chunk)
            summary.bytes_received += len(chunk)
            progress(len(chunk))
            yield chunk

    fs.write_atomic(path, chunks())
    end = protocol.receive(sock, ("snapshot_end",))
    if protocol.field(end, "sha256", str) != digest.hexdigest():
        raise protocol.ProtocolError("the snapshot's SHA-256 does not match what the server announced")
    summary.snapshot_ts, summary.checkpoint = commit_ts, store
    if store:
        try:
            listing = disk_archive.check(path, db_uuid, commit_ts, have)
        except disk_archive.ArchiveError as exc:
            raise protocol.ProtocolError(str(exc)) from None
        return path, commit_ts, wall_time_us, listing
    reader = SnapshotReader(FileSystem(), path, expected_uuid=db_uuid)
    if reader.header.get("commit_ts") != commit_ts:
        raise protocol.ProtocolError(f"the snapshot says commit timestamp {reader.header.get('commit_ts')}, the server {commit_ts}")
    return path, commit_ts, wall_time_us, None


def _receive_users(message: dict[str, Any], before: bytes | None) -> bytes:
    if before is not None:
        raise protocol.ProtocolError("a second users file")
    data = protocol.field(message, "data", bytes)
    if len(data) > protocol.MAX_USERS:
        raise protocol.ProtocolError(f"a users file of {len(data)} bytes (at most {protocol.MAX_USERS})")
    try:
        parse_users(data)
    except ValueError as exc:
        raise protocol.ProtocolError(f"the users file the server sent is not one: {exc}") from None
    return data


def _receive_records(sock, sink: RecordSink, kind: str, summary: Summary, progress: _Progress) -> tuple[int, bytes]:
    """The records into `sink`, then the users file; returns (last commit timestamp, the users file's bytes)."""
    expect = ("records", "part", "part_end", "users", "end") + (("unavailable",) if kind == "incremental" else ())
    part = bytearray()
    users = None
    first = True
    while True:
        message = protocol.receive(sock, expect, protocol.MAX_MESSAGE)
        kind_ = message["type"]
        if kind_ == "unavailable":
            if not first:
                raise protocol.ProtocolError("'unavailable' after records were sent")
            raise _Fallback(protocol.field(message, "message", str)[:500])
        first = False
        if kind_ == "records":
            bodies = protocol.field(message, "bodies", list)
            for body in bodies:
                if not isinstance(body, bytes):
                    raise protocol.ProtocolError("a record body that is not bytes")
                sink.add(body)
                summary.bytes_received += len(body)
            progress(sum(len(b) for b in bodies))
        elif kind_ == "part":
            data = protocol.field(message, "data", bytes)
            if len(part) + len(data) > wal.MAX_RECORD_SIZE:
                raise protocol.ProtocolError("a record larger than a WAL record can be")
            part += data
        elif kind_ == "part_end":
            sink.add(bytes(part))
            summary.bytes_received += len(part)
            part = bytearray()
        elif kind_ == "users":
            users = _receive_users(message, users)
            summary.bytes_received += len(users)
        else:
            last_ts = protocol.field(message, "last_ts", int, minimum=0)
            if users is None:
                raise protocol.ProtocolError("the backup ended without the users file")
            if part or last_ts != sink.last_ts:
                raise protocol.ProtocolError(f"the server says the backup ends at {last_ts}, the records at {sink.last_ts}")
            return last_ts, users


def describe_time(wall_time_us: int | None) -> str:
    if wall_time_us is None:
        return "-"
    return datetime.fromtimestamp(wall_time_us / 1e6, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

"""The online backup service: a small TCP listener next to the Bolt server.

Why it works without stopping anyone (Neo4j's online backup, with WeftDB's
files): MVCC gives a snapshot at one commit timestamp S through a read
transaction, so writers go on while `snapshot.write` walks the graph into a
temporary file; every transaction committed meanwhile is in the WAL after S.
A full backup is therefore that snapshot plus the WAL records S+1..L, where L
is the source's visible timestamp once the snapshot has been sent; an
incremental backup is only the WAL records after the backup's last one. In
ON_DISK_TRANSACTIONAL there is no WeftDB WAL: a backup is an archive of a
RocksDB checkpoint, an incremental one without the table files the backup
holds (durability/disk_archive.py), and restores as an on-disk store. While
a backup streams, the source's deletions are paused (`Retention.pause`) so
retention cannot remove a segment being read; the pause ends with the backup.

Authentication uses the database's UserStore, as Bolt does: once a user
exists, HELLO must name a user and the right password; a refusal is logged and
answered after a small fixed delay. HELLO names the database to back up (the
default one when it names none; weftdb/databases.py); a user may back up
only a database they may use, and one they may not is refused as one that
does not exist. `list` answers the names a user may back up (a backup of
every database asks for them first). The users themselves (their file's bytes,
`UserStore.export`) go with every backup, after the records: a restored
database asks for the same credentials. The wire format is `protocol.py`.

`BackupService(db, address, port).start()` runs it on threads in-process (the
Bolt server starts one, tests start their own); `.stop()` ends it.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import uuid
from typing import Any, Protocol

from weftdb.backup import protocol
from weftdb.backup.records import ChainBroken, Unavailable, source_records
from weftdb.basics import storage_modes
from weftdb.basics.config import Config
from weftdb.basics.errors import DatabaseNotFound, DatabaseUnavailable
from weftdb.durability import disk_archive, snapshot
from weftdb.durability.data_directory import Durability
from weftdb.durability.files import FileSystem
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.users import UserStore

log = logging.getLogger("weftdb.backup")


class Source(Protocol):
    """What the service needs of a database: its data directory's durability,
    its users, and the data directory's other databases."""

    durability: Durability | None
    users: UserStore
    databases: Any  # weftdb/databases.py: the rows of SHOW DATABASES, for `list`

    def database(self, name: str | None, *, user: str | None = None) -> "Source": ...

REFUSAL_DELAY = 0.5  # seconds before answering a wrong password
IDLE_TIMEOUT = 60.0  # seconds a client may stay silent


class BackupService:
    """Serves backups of `db` on address:port (port 0 picks a free one)."""

    def __init__(self, db: Source, address: str = "127.0.0.1", port: int = protocol.DEFAULT_PORT, max_connections: int = 4):
        if db.durability is None:
            raise ValueError("the backup service needs a database with a data directory")
        self.db = db
        self.address = address
        self.port = port
        self.max_connections = max_connections
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._active: set[socket.socket] = set()
        self._threads: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._numbers = itertools.count(1)

    def start(self) -> "BackupService":
        listener = socket.create_server((self.address, self.port), reuse_port=False)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept_loop, name="weftdb-backup", daemon=True)
        self._thread.start()
        log.info("backup service listening on %s:%d", self.address, self.port)
        return self

    def stop(self, grace: float = 5.0) -> None:
        """Stop accepting, cut running backups off, and wait up to `grace`
        seconds for their threads (so the database can be closed after)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            for conn in list(self._active):
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            threads = list(self._threads)
        deadline = time.monotonic() + grace
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> "BackupService":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                if not self._stopping.is_set():
                    log.exception("backup service: accept failed")
                return
            with self._lock:
                if len(self._active) >= self.max_connections:
                    log.warning("backup service: refused %s: %d backups running already", peer, len(self._active))
                    conn.close()
                    continue
                self._active.add(conn)
                thread = threading.Thread(target=self._serve, args=(conn, peer, next(self._numbers)),
                                          name="weftdb-backup-conn", daemon=True)
                self._threads.add(thread)
            thread.start()

    def _serve(self, conn: socket.socket, peer: Any, number: int) -> None:
        conn.settimeout(IDLE_TIMEOUT)
        try:
            with conn:
                self._conversation(conn, peer, f"backup-{number}")
        except (OSError, protocol.ProtocolError) as exc:
            log.warning("backup service: connection from %s ended: %s", peer, exc)
        except Exception:
            log.exception("backup service: connection from %s failed", peer)
        finally:
            with self._lock:
                self._active.discard(conn)
                self._threads.discard(threading.current_thread())

    def _conversation(self, conn: socket.socket, peer: Any, reason: str) -> None:
        hello = protocol.receive(conn, ("hello",))
        if hello.get("version") not in protocol.VERSIONS:
            protocol.send(conn, {"type": "refused", "message": f"this server speaks backup protocol version {protocol.VERSION}, "
                                 f"the client {str(hello.get('version'))[:20]}: use a weftdb of the server's version"})
            return
        users = self.db.users
        user = None  # None: no users defined, every database may be backed up
        if users.has_users:
            user, password = hello.get("user"), hello.get("password")
            if not (isinstance(user, str) and isinstance(password, str) and users.verify(user, password)):
                log.warning("backup service: refused %s: wrong user name or password (user %r)", peer, str(user)[:64])
                time.sleep(REFUSAL_DELAY)
                protocol.send(conn, {"type": "refused", "message": "authentication failed: wrong user name or password"})
                return
        name = hello.get("database")
        try:
            if name is not None and not isinstance(name, str):
                raise DatabaseNotFound(f"a database name is a string, not {str(name)[:64]}")
            db = self.db.database(name, user=user)
        except (DatabaseNotFound, DatabaseUnavailable) as exc:
            protocol.send(conn, {"type": "refused", "message": str(exc)[:500]})
            return
        durability = db.durability
        storage = durability.storage
        protocol.send(conn, {"type": "welcome", "version": protocol.VERSION,
                             "database_uuid": durability.db_uuid, "visible_ts": storage.visible_ts})
        request = protocol.receive(conn, ("full", "incremental", "list"), protocol.MAX_MESSAGE)  # `have` lists many files
        if request["type"] == "list":
            names = [row["name"] for row in self.db.databases.rows("", user) if row["currentStatus"] == "online"]
            protocol.send(conn, {"type": "databases", "names": names})
            return
        if not durability.retention.pause(reason):
            raise RuntimeError(f"deletions already held for {reason}")
        try:
            if request["type"] == "incremental" and not self._continues(conn, durability, request):
                return
            if storage.mode == storage_modes.ON_DISK:
                self._store(conn, durability, peer, request)
            elif request["type"] == "full":
                self._full(conn, durability, peer)
            else:
                self._incremental(conn, durability, peer, request)
        finally:
            durability.retention.resume(reason)

    def _full(self, conn: socket.socket, durability: Durability, peer: Any) -> None:
        started = time.monotonic()
        temporary = tempfile.mkdtemp(prefix="weftdb-backup-")
        try:
            info, snapshot_ts = snapshot.write(durability.storage, FileSystem(), temporary, durability.db_uuid,
                                               durability.config.storage_items_per_batch,
                                               fork=durability.config.storage_snapshot_fork)
            wall_time_us = SnapshotReader(FileSystem(), info.path).header["wall_time_us"]
            _stream(conn, {"type": "snapshot", "commit_ts": snapshot_ts, "wall_time_us": wall_time_us}, info.path)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        try:
            sent = self._send_records(conn, durability, snapshot_ts)
        except Unavailable as exc:  # cannot happen while deletions are held; say so if it does
            protocol.send(conn, {"type": "error", "message": f"cannot read the WAL after the snapshot: {exc}"})
            raise protocol.ProtocolError(str(exc)) from None
        log.info("backup service: full backup to %s: snapshot at %d (%d bytes), %d WAL records, %.2f s",
                 peer, snapshot_ts, info.size, sent, time.monotonic() - started)

    def _continues(self, conn: socket.socket, durability: Durability, request: dict) -> bool:
        """Whether an incremental request continues a backup of this database's
        history; if not, the client has been told why."""
        since = protocol.field(request, "since", int, minimum=0)
        if request.get("database_uuid") != durability.db_uuid:
            asked = request.get("database_uuid")
            named = str(uuid.UUID(bytes=asked)) if isinstance(asked, bytes) and len(asked) == 16 else "?"
            protocol.send(conn, {"type": "error", "message": f"the backup is of database {named}, this server holds {uuid.UUID(bytes=durability.db_uuid)}"})
            return False
        if since > durability.storage.visible_ts:
            protocol.send(conn, {"type": "error", "message": f"the backup ends at commit timestamp {since}, after this database's last one ({durability.storage.visible_ts}): it is not a backup of this history"})
            return False
        return True

    def _store(self, conn: socket.socket, durability: Durability, peer: Any, request: dict) -> None:
        """ON_DISK_TRANSACTIONAL: an archive of a RocksDB checkpoint
        (durability/disk_archive.py), whole, or for an incremental without
        the table files the backup holds (`have`, the listing of its last
        archive); then the users. A backup whose chain ends in a WeftDB
        snapshot has no listing to continue from: it gets a full one."""
        have = request.get("have") if request["type"] == "incremental" else None
        if request["type"] == "incremental" and not (
                isinstance(have, dict) and all(isinstance(n, str) and type(v) is int for n, v in have.items())):
            protocol.send(conn, {"type": "unavailable", "message": f"the database is in {storage_modes.ON_DISK} and the "
                                 "backup holds no RocksDB checkpoint of it to continue from"})
            return
        started = time.monotonic()
        with disk_archive.written(durability.storage, durability.fs, durability.layout.snapshots, durability.db_uuid,
                                  have) as (path, commit_ts, listing):
            size = _stream(conn, {"type": "snapshot", "form": "rocksdb", "commit_ts": commit_ts,
                                  "wall_time_us": time.time_ns() // 1000}, path)
        self._send_records(conn, durability, commit_ts)
        log.info("backup service: %s backup to %s: a RocksDB checkpoint at %d, %d of its %d files (%d bytes), %.2f s",
                 request["type"], peer, commit_ts, len(disk_archive.carried(listing, have)), len(listing), size,
                 time.monotonic() - started)

    def _incremental(self, conn: socket.socket, durability: Durability, peer: Any, request: dict) -> None:
        since = protocol.field(request, "since", int, minimum=0)
        if request.get("have") is not None:
            protocol.send(conn, {"type": "unavailable", "message": f"the backup ends in a RocksDB checkpoint and the "
                                 f"database is in {durability.storage.mode} now"})
            return
        if durability.wal is None and since < durability.storage.visible_ts:
            protocol.send(conn, {"type": "unavailable", "message": durability.no_wal_reason})
            return
        try:
            sent = self._send_records(conn, durability, since)
        except Unavailable as exc:
            protocol.send(conn, {"type": "unavailable", "message": str(exc)})
            log.info("backup service: incremental backup since %d for %s unavailable: %s", since, peer, exc)
            return
        log.info("backup service: incremental backup since %d to %s: %d WAL records", since, peer, sent)

    def _send_records(self, conn: socket.socket, durability: Durability, since: int) -> int:
        """Stream records since < ts <= the visible timestamp after a WAL sync; then the users and `end`."""
        live: tuple = (None, 0)
        if durability.wal is None:
            upto = since  # without a WAL nothing after the snapshot can be shipped
        else:
            durability.wal.sync()
            upto = durability.storage.visible_ts
            # Bytes first, then the path: if the writer rotates between the two reads, the
            # limit applies to a newer segment, which holds only records after `upto`.
            live_bytes = durability.wal.current_segment_bytes
            live = (durability.wal.current_segment, live_bytes)
        bodies: list[bytes] = []
        size = count = 0
        try:
            for _ts, body in source_records(durability.fs, durability.layout.wal, durability.db_uuid, since, upto, live):
                if len(body) > protocol.CHUNK:
                    if bodies:
                        protocol.send(conn, {"type": "records", "bodies": bodies})
                        bodies, size = [], 0
                    for at in range(0, len(body), protocol.CHUNK):
                        protocol.send(conn, {"type": "part", "data": body[at : at + protocol.CHUNK]})
                    protocol.send(conn, {"type": "part_end"})
                else:
                    if size + len(body) + 5 > protocol.CHUNK:  # + its msgpack length header
                        protocol.send(conn, {"type": "records", "bodies": bodies})
                        bodies, size = [], 0
                    bodies.append(body)
                    size += len(body) + 5
                count += 1
        except ChainBroken as exc:
            protocol.send(conn, {"type": "error", "message": f"cannot read the WAL: {exc}"})
            raise protocol.ProtocolError(str(exc)) from None
        if bodies:
            protocol.send(conn, {"type": "records", "bodies": bodies})
        users = self.db.users.export()
        if len(users) > protocol.MAX_USERS:
            message = f"the users file has {len(users)} bytes; a backup carries at most {protocol.MAX_USERS}"
            protocol.send(conn, {"type": "error", "message": message})
            raise protocol.ProtocolError(message)
        protocol.send(conn, {"type": "users", "data": users})
        protocol.send(conn, {"type": "end", "last_ts": upto, "records": count})
        return count


def _stream(conn: socket.socket, head: dict[str, Any], path: str) -> int:
    """Send the file at `path`: `head` with its size, its chunks, its SHA-256; returns its size."""
    size = os.path.getsize(path)
    protocol.send(conn, {**head, "size": size})
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(protocol.CHUNK):
            digest.update(chunk)
            protocol.send(conn, {"type": "chunk", "data": chunk})
    protocol.send(conn, {"type": "snapshot_end", "sha256": digest.hexdigest()})
    return size


def start_backup_service(db: Source, config: Config) -> BackupService | None:
    """The service for `weftdb serve`: on --bolt-address:--backup-port unless --backup-enabled=false.

    A port that cannot be bound is reported (log and stderr) and the server
    runs without the backup service: serving the database matters more."""
    if not config.backup_enabled or db.durability is None:
        return None
    try:
        service = BackupService(db, config.bolt_address, config.backup_port).start()
    except OSError as exc:
        message = (f"the backup service cannot listen on {config.bolt_address}:{config.backup_port} "
                   f"({exc.strerror or exc}); running without it. Give another --backup-port, or --backup-enabled=false.")
        log.error(message)
        print(f"WeftDB: {message}", file=sys.stderr, flush=True)
        return None
    print(f"WeftDB backup service is listening on {config.bolt_address}:{service.port}", file=sys.stderr, flush=True)
    return service

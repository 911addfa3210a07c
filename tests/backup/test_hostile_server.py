"""`--to` never writes outside its directory, whatever a (fake, malicious) server sends.

The fake server speaks the backup protocol's framing but sends hostile names,
sizes, timestamps and bytes. The client must refuse each with BackupError, write
nothing outside `--to`, and leave `--to` without a manifest."""

import os
import socket
import struct
import threading

import pytest

from weftdb.backup import protocol
from weftdb.backup.client import BackupError, backup
from weftdb.durability.codec import packb

UUID = bytes(range(16))


def _serve(script, db_uuid=UUID):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def run():
        conn, _ = listener.accept()
        with conn:
            try:
                protocol.receive(conn, ("hello",))
                protocol.send(conn, {"type": "welcome", "version": 1, "database_uuid": db_uuid, "visible_ts": 5,
                                     "path": "../../outside"})
                protocol.receive(conn, ("full", "incremental"))
                script(conn)
            except (OSError, protocol.ProtocolError):
                pass
        listener.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"127.0.0.1:{port}", thread


def _raw(conn, data):
    conn.sendall(data)


def _snapshot_header(**fields):
    return {"type": "snapshot", "commit_ts": 3, "wall_time_us": 1_700_000_000_000_000, "size": 10, **fields}


SCRIPTS = {
    "hostile names": lambda c: [protocol.send(c, _snapshot_header(name="../../../etc/passwd", path="/tmp/x", size=4)),
                                protocol.send(c, {"type": "chunk", "data": b"evil", "name": "../escape"}),
                                protocol.send(c, {"type": "snapshot_end", "sha256": "0" * 64, "path": "../../x"})],
    "huge size": lambda c: protocol.send(c, _snapshot_header(size=1 << 60)),
    "negative timestamp": lambda c: protocol.send(c, _snapshot_header(commit_ts=-1)),
    "absurd wall time": lambda c: protocol.send(c, _snapshot_header(wall_time_us=1 << 62)),
    "more bytes than announced": lambda c: [protocol.send(c, _snapshot_header(size=4)),
                                            protocol.send(c, {"type": "chunk", "data": b"x" * 100})],
    "garbage with a right checksum": lambda c: _garbage_snapshot(c),
    "a 4 GiB length prefix": lambda c: _raw(c, struct.pack(">I", 0xFFFFFFFF) + b"x" * 100),
    "not msgpack": lambda c: _raw(c, struct.pack(">I", 5) + b"\xc1\xc1\xc1\xc1\xc1"),
    "a pickle": lambda c: _raw(c, struct.pack(">I", 20) + b"\x80\x04\x95" + b"c" * 17),
    "an extension type": lambda c: _raw(c, struct.pack(">I", 4) + b"\xd4\x63\x00\x00"),
    "records out of the blue": lambda c: protocol.send(c, {"type": "records", "bodies": [packb([1, 2, []])]}),
    "an archive escaping its directory": lambda c: _archive(c, "../../escaped.sst"),
    "an archive of a link": lambda c: _archive(c, "000001.sst", link="/etc/passwd"),
    "an archive of another database": lambda c: _archive(c, "000001.sst", db_uuid=bytes(16)),
}


def _archive(conn, member, link=None, db_uuid=UUID):
    """A RocksDB checkpoint's archive (durability/disk_archive.py) whose
    header lists `member` and which holds it (a symbolic link with `link`)."""
    import hashlib
    import io
    import json
    import tarfile
    import uuid

    out = io.BytesIO()
    header = {"format": "weftdb-store-archive", "version": 1, "database_uuid": str(uuid.UUID(bytes=db_uuid)),
              "commit_timestamp": 3, "files": {member: 4}}
    with tarfile.open(fileobj=out, mode="w") as tar:
        for name, data in (("weftdb-store.json", json.dumps(header).encode()), (member, b"evil")):
            info = tarfile.TarInfo(name)
            if link is not None and name == member:
                info.type, info.linkname = tarfile.SYMTYPE, link
            else:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    data = out.getvalue()
    protocol.send(conn, _snapshot_header(size=len(data), form="rocksdb"))
    protocol.send(conn, {"type": "chunk", "data": data})
    protocol.send(conn, {"type": "snapshot_end", "sha256": hashlib.sha256(data).hexdigest()})


def _garbage_snapshot(conn):
    import hashlib

    data = b"WEFTSNAP" + os.urandom(200)
    protocol.send(conn, _snapshot_header(size=len(data)))
    protocol.send(conn, {"type": "chunk", "data": data})
    protocol.send(conn, {"type": "snapshot_end", "sha256": hashlib.sha256(data).hexdigest()})


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_a_hostile_server_cannot_make_the_client_write_outside_to(tmp_path, name):
    box = tmp_path / "box"
    box.mkdir()
    to = box / "to"
    address, thread = _serve(SCRIPTS[name])
    with pytest.raises(BackupError):
        backup(address, str(to), "full", timeout=5)
    thread.join(5)
    assert sorted(os.listdir(box)) == (["to"] if to.exists() else [])
    assert not (to / "backup.json").exists()
    written = [os.path.relpath(os.path.join(r, n), to) for r, _, names in os.walk(to) for n in names]
    assert written == []


def test_records_that_skip_a_timestamp_are_refused(tmp_path):
    import weftdb
    from weftdb.backup.service import BackupService

    db = weftdb.open(str(tmp_path / "real"), storage_snapshot_interval_sec=0)
    db.execute("CREATE (:N)")
    snapshot_bytes = {}

    # Take a real snapshot through the real service, then replay it from the fake with bad records.
    with BackupService(db, "127.0.0.1", 0) as service:
        backup(f"127.0.0.1:{service.port}", str(tmp_path / "good"), "full")
    db.close()
    snap_dir = tmp_path / "good" / "snapshots"
    name = os.listdir(snap_dir)[0]
    snapshot_bytes["data"] = (snap_dir / name).read_bytes()
    from weftdb.durability.files import FileSystem
    from weftdb.durability.snapshot_file import SnapshotReader

    header = SnapshotReader(FileSystem(), str(snap_dir / name)).header

    def script(conn):
        import hashlib

        data = snapshot_bytes["data"]
        protocol.send(conn, {"type": "snapshot", "commit_ts": header["commit_ts"],
                             "wall_time_us": header["wall_time_us"], "size": len(data)})
        protocol.send(conn, {"type": "chunk", "data": data})
        protocol.send(conn, {"type": "snapshot_end", "sha256": hashlib.sha256(data).hexdigest()})
        ts = header["commit_ts"]
        protocol.send(conn, {"type": "records", "bodies": [packb([ts + 1, 1, []]), packb([ts + 3, 1, []])]})
        protocol.send(conn, {"type": "end", "last_ts": ts + 3, "records": 2})

    address, thread = _serve(script, header["db_uuid"])
    with pytest.raises(BackupError, match="commit timestamp"):
        backup(address, str(tmp_path / "bad"), "full", timeout=5)
    thread.join(5)
    assert not (tmp_path / "bad" / "backup.json").exists()

"""The snapshot container: round trips, every damaged byte refused, atomic writing."""

import datetime as dt
import os
import re
import struct
import uuid
import zlib

import pytest
from crashfs import CrashFS

from weftdb.basics.errors import DurabilityError, RecoveryError
from weftdb.durability import snapshot_file as sf
from weftdb.durability.files import FileSystem

UUID = uuid.UUID("87654321-4321-8765-4321-876543218765")
NAMES = {"labels": ["Person", "City"], "edge_types": ["LIVES_IN"], "property_keys": ["name", "born"]}
SCHEMA = {"indexes": [["Person", "name"]], "constraints": [["unique", "Person", ["name"]]]}


def vertices(n, per_batch):
    items = [[i, [0], {"0": f"v{i}", "1": dt.date(1990, 1, 1 + i % 28)}] for i in range(n)]
    return [items[i : i + per_batch] for i in range(0, n, per_batch)]


def edges(n, per_batch):
    items = [[i, i, (i + 1) % n, 0, {}] for i in range(n)]
    return [items[i : i + per_batch] for i in range(0, n, per_batch)]


def header(nv, ne):
    return {"db_uuid": UUID, "commit_ts": 42, "wall_time_us": 1_700_000_000_000_000, "vertex_count": nv, "edge_count": ne}


def write(fs, path, nv=10, ne=7, per_batch=4, compress=False):
    vb, eb = vertices(nv, per_batch), edges(ne, per_batch)
    info = sf.write_snapshot(fs, path, header(nv, ne), NAMES, iter(vb), (b for b in eb), SCHEMA, compress=compress)
    return info, vb, eb


def load(fs, path, threads=1, expected=UUID):
    r = sf.SnapshotReader(fs, path, expected)
    return r.header, r.names, r.schema, list(r.vertex_batches(threads)), list(r.edge_batches(threads))


@pytest.mark.parametrize("compress", [False, True])
@pytest.mark.parametrize("threads", [1, 3])
def test_round_trip(tmp_path, compress, threads):
    fs, p = FileSystem(), str(tmp_path / "snap")
    info, vb, eb = write(fs, p, nv=50, ne=30, per_batch=7, compress=compress)
    assert (info.vertex_count, info.edge_count, info.blocks, info.size) == (50, 30, 3 + 8 + 5, os.path.getsize(p))
    h, names, schema, gv, ge = load(fs, p, threads)
    assert h == dict(header(50, 30), db_uuid=UUID.bytes)
    assert (names, schema) == (NAMES, SCHEMA)
    expect_e = [[[*it[:4], {}] for it in b] for b in eb]
    assert gv == vb and ge == expect_e
    assert os.listdir(tmp_path) == ["snap"]


def test_empty_graph(tmp_path):
    fs, p = FileSystem(), str(tmp_path / "snap")
    sf.write_snapshot(fs, p, {"db_uuid": UUID, "commit_ts": 0}, {}, [], [], {})
    r = sf.SnapshotReader(fs, p)
    assert r.vertex_count == r.edge_count == 0 and list(r.vertex_batches()) == []


@pytest.mark.parametrize("compress", [False, True])
def test_every_bit_flip_is_refused(tmp_path, compress):
    fs, p = FileSystem(), str(tmp_path / "snap")
    write(fs, p, nv=6, ne=3, per_batch=3, compress=compress)
    data = open(p, "rb").read()
    for i in range(len(data)):
        for bit in (0x01, 0x80):
            flipped = bytearray(data)
            flipped[i] ^= bit
            open(p, "wb").write(bytes(flipped))
            with pytest.raises(RecoveryError, match=f"{p}.*byte \\d+") as refused:
                r = sf.SnapshotReader(fs, p, UUID)
                r.verify()
            assert _first_problem_byte(sf.examine(fs, p)) == re.search(r"byte (\d+)", str(refused.value)).group(1)
    open(p, "wb").write(data)
    load(fs, p)
    assert _first_problem_byte(sf.examine(fs, p)) is None


def _first_problem_byte(examination):
    """The byte offset of the first problem examine found, in file order, as the reader would meet it."""
    problems = examination.problems + [b.problem for b in examination.blocks if b.problem]
    return re.match(r"byte (\d+)", problems[0]).group(1) if problems else None


def test_every_truncation_is_refused(tmp_path):
    fs, p = FileSystem(), str(tmp_path / "snap")
    write(fs, p)
    data = open(p, "rb").read()
    for cut in range(len(data)):
        open(p, "wb").write(data[:cut])
        with pytest.raises(sf.SnapshotDamaged) as refused:
            sf.SnapshotReader(fs, p, UUID).verify()
        assert _first_problem_byte(sf.examine(fs, p)) == re.search(r"byte (\d+)", str(refused.value)).group(1)


def test_other_database_and_unknown_version_are_refused_not_damaged(tmp_path):
    fs, p = FileSystem(), str(tmp_path / "snap")
    write(fs, p)
    with pytest.raises(RecoveryError, match="belongs to database 87654321") as e:
        sf.SnapshotReader(fs, p, uuid.uuid4())
    assert not isinstance(e.value, sf.SnapshotDamaged)
    assert sf.SnapshotReader(fs, p).db_uuid == UUID.bytes  # adopting a copied snapshot
    data = bytearray(open(p, "rb").read())
    struct.pack_into("<H", data, 8, 9)
    struct.pack_into("<I", data, 28, zlib.crc32(bytes(data[:28])))
    open(p, "wb").write(bytes(data))
    with pytest.raises(RecoveryError, match="format version 9; this WeftDB reads versions 2, 3"):
        sf.SnapshotReader(fs, p)
    open(p, "wb").write(b"not a snapshot at all" * 10)
    with pytest.raises(RecoveryError, match="not a WeftDB snapshot"):
        sf.SnapshotReader(fs, p)


def test_crash_while_writing_leaves_old_snapshot_or_none(tmp_path):
    fs = CrashFS(tmp_path)
    p = str(tmp_path / "snap")
    write(fs, p, nv=3)
    fs.crash()  # written completely: survives
    assert load(fs, p)[0]["vertex_count"] == 3

    class CutBeforeDirSync(CrashFS):
        def fsync_dir(self, path):
            raise KeyboardInterrupt  # the power goes before the rename is durable

    fs = CutBeforeDirSync(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        write(fs, p, nv=9)
    fs.crash(tear=10_000)
    assert load(fs, p)[0]["vertex_count"] == 3  # the old snapshot, whole
    assert sorted(os.listdir(tmp_path)) == ["snap"]


def test_full_disk_while_writing_raises_and_removes_temporary(tmp_path):
    fs = CrashFS(tmp_path)
    fs.fail_writes_after(200)
    with pytest.raises(DurabilityError, match="No space left"):
        write(fs, str(tmp_path / "snap"), nv=100)
    assert os.listdir(tmp_path) == []

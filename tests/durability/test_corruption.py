"""Damaged, torn, misplaced and foreign files: the database never loads wrong data.

Each test builds a real data directory through `weftdb.open`, remembers the
graph after every commit, damages the files the way disks and operators do,
and opens it again. The only acceptable outcomes (DESIGN.md invariant 5):

* a torn tail of the newest WAL segment is cut off with a warning and exactly
  the earlier transactions come back;
* a damaged snapshot is skipped for an older one when the WAL covers the gap,
  and the result equals the true state;
* anything else stops startup with a RecoveryError naming the file and the
  byte offset, and the failed start leaves every file as it was.

The restore procedures (a snapshot copied into an empty directory, with or
without its WAL) are tested here too, since they are the same rules seen from
the operator's side.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import struct
import zlib

import pytest
from graphstate import cheap_scrypt, state_of

import weftdb
from weftdb.basics.errors import RecoveryError
from weftdb.durability import snapshot as snapshot_mod
from weftdb.durability import snapshot_file as sf
from weftdb.durability import wal
from weftdb.durability.files import FileSystem
from weftdb.durability.wal_reader import WalReader

QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


@pytest.fixture(autouse=True)
def _cheap(monkeypatch):
    cheap_scrypt(monkeypatch)


def commit(db, i):
    db.execute(
        "CREATE (n:N {i: $i, s: $s}) WITH n MATCH (m:N {i: $prev}) CREATE (m)-[:NEXT {i: $i}]->(n) SET m.seen = true",
        {"i": i, "s": "v" * (40 + i % 7 * 20), "prev": i - 1},
    )


def build(path, commits, snapshot_after=(), **flags):
    """A data directory with `commits` transactions and CREATE SNAPSHOT after
    the listed ones; returns the state after each commit (index 0: empty)."""
    db = weftdb.open(path, **{**QUIET, **flags})
    states = [state_of(db.storage)]
    try:
        for i in range(1, commits + 1):
            commit(db, i)
            states.append(state_of(db.storage))
            if i in snapshot_after:
                db.execute("CREATE SNAPSHOT")
    finally:
        db.close()
    return states


def open_state(path, **flags):
    db = weftdb.open(path, **{**QUIET, **flags})
    try:
        return state_of(db.storage)
    finally:
        db.close()


def tree(path):
    """Every file under wal/ and snapshots/ with its bytes (.lock and auth/ are not data)."""
    out = {}
    for sub in ("wal", "snapshots"):
        d = os.path.join(path, sub)
        if os.path.isdir(d):
            for name in os.listdir(d):
                with open(os.path.join(d, name), "rb") as fh:
                    out[f"{sub}/{name}"] = fh.read()
    return out


def refused(path, *, names: str, **flags) -> str:
    """Opening fails with a RecoveryError naming `names` and a byte offset, changing nothing."""
    before = tree(path)
    with pytest.raises(RecoveryError) as err:
        open_state(path, **flags)
    message = str(err.value)
    assert names in message, message
    assert re.search(r"byte \d+", message), message
    assert tree(path) == before, "a failed start changed files"
    return message


def segments(path):
    return [s.path for s in WalReader(FileSystem(), os.path.join(path, "wal")).segments()]


def records(path):
    return list(WalReader(FileSystem(), os.path.join(path, "wal")).records())


def flip(path, offset, bit=0):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([byte ^ (1 << bit)]))


def snapshots(path):
    return [s.path for s in snapshot_mod.list_snapshots(FileSystem(), os.path.join(path, "snapshots"))]


# --- torn tails -------------------------------------------------------------------------


def test_torn_tail_at_every_byte_of_the_last_record(tmp_path, caplog):
    path = str(tmp_path / "db")
    states = build(path, 4)
    db = weftdb.open(path, **QUIET)
    try:  # a short last transaction of three ops keeps the number of restarts small
        db.execute("MATCH (m:N {i: 4}) CREATE (m)-[:E]->(:L) SET m.x = 1")
        states.append(state_of(db.storage))
    finally:
        db.close()
    last = records(path)[-1]
    assert len(last.body) < 80 and len(last.decode()[2]) == 3
    seg = last.path
    with open(seg, "rb") as fh:
        whole = fh.read()
    end = last.offset + wal.FRAME_HEADER_SIZE + len(last.body)
    assert end == len(whole)  # close sealed the segment: the last record ends the file
    for cut in range(last.offset, end):
        for padded in (False, True):  # a killed writer leaves its preallocated zeros after the tear
            tail = whole[:cut] + (bytes(16384 - cut) if padded else b"")
            with open(seg, "wb") as fh:
                fh.write(tail)
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="weftdb.durability"):
                assert open_state(path) == states[4], (cut, padded)
            torn = cut > last.offset
            assert any("torn" in r.getMessage() for r in caplog.records) == torn, (cut, padded)
            if torn:  # cut back to the last whole record, so the next writer follows a clean segment
                assert os.path.getsize(seg) == last.offset
    with open(seg, "wb") as fh:
        fh.write(whole)
    assert open_state(path) == states[5]


def test_a_torn_tail_then_new_commits_recover(tmp_path):
    path = str(tmp_path / "db")
    states = build(path, 3)
    last = records(path)[-1]
    os.truncate(last.path, last.offset + 5)
    db = weftdb.open(path, **QUIET)
    try:
        assert state_of(db.storage) == states[2]
        db.execute("CREATE (:After)")
        after = state_of(db.storage)
    finally:
        db.close()
    assert open_state(path) == after


# --- bit flips in the WAL -----------------------------------------------------------------------


def wal_regions(seg_path, recs):
    """Byte offsets covering the header fields and each record's length, CRC and body."""
    out = {"magic": 0, "version": 8, "uuid": 12, "sequence": 28, "header crc": 36}
    for n, r in enumerate(recs):
        body = len(r.body)
        out[f"record {n} length"] = r.offset
        out[f"record {n} crc"] = r.offset + 5
        out[f"record {n} body start"] = r.offset + 8
        out[f"record {n} body middle"] = r.offset + 8 + body // 2
        out[f"record {n} body end"] = r.offset + 8 + body - 1
    return out


def test_bit_flips_in_wal_segments_never_load_wrong_data(tmp_path):
    path = str(tmp_path / "db")
    states = build(path, 16, storage_wal_file_size_kib=1)
    segs = segments(path)
    assert len(segs) >= 3
    all_recs = records(path)
    outcomes = {"refused": 0, "dropped as torn": 0}
    for seg in (segs[0], segs[len(segs) // 2], segs[-1]):
        recs = [r for r in all_recs if r.path == seg]
        newest = seg == segs[-1]
        for region, offset in wal_regions(seg, recs).items():
            with open(seg, "rb") as fh:
                original = fh.read()
            flip(seg, offset, bit=offset % 8)
            try:
                if newest and region.startswith(f"record {len(recs) - 1} "):
                    # damage to the very last record looks exactly like a torn write: it may be
                    # cut off (that transaction is lost, with a warning) but never half-applied
                    before = tree(path)
                    try:
                        assert open_state(path) == states[-2], region
                        outcomes["dropped as torn"] += 1
                    except RecoveryError:
                        assert tree(path) == before
                        outcomes["refused"] += 1
                else:
                    refused(path, names=seg)
                    outcomes["refused"] += 1
            finally:
                with open(seg, "wb") as fh:
                    fh.write(original)
    assert outcomes["refused"] > 30
    assert open_state(path) == states[-1]


def test_gap_in_wal_sequence_stops_startup(tmp_path):
    path = str(tmp_path / "db")
    build(path, 16, storage_wal_file_size_kib=1)
    segs = segments(path)
    assert len(segs) >= 3
    n = len(segs) // 2
    os.rename(segs[n], str(tmp_path / "aside.wal"))
    message = refused(path, names=segs[n + 1])
    seq = wal.sequence_of_name(os.path.basename(segs[n]))
    assert "gap" in message and f"segments {seq}..{seq} are missing" in message


def test_wal_segment_of_another_database_is_refused(tmp_path):
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    build(ours, 3)
    build(theirs, 3)
    foreign = segments(theirs)[-1]
    seq = len(segments(ours)) + 1
    target = wal.segment_path(os.path.join(ours, "wal"), seq)
    with open(foreign, "rb") as fh:
        data = fh.read()
    # give it the sequence number that fits, with a valid header CRC: only the UUID is wrong
    _v, uuid_, _s, _c = wal.unpack_header(data)
    with open(target, "wb") as fh:
        fh.write(wal.pack_header(uuid_, seq) + data[wal.HEADER_SIZE:])
    message = refused(ours, names=target)
    assert "belongs to database" in message


def test_wal_segment_of_unknown_version_is_refused(tmp_path):
    path = str(tmp_path / "db")
    build(path, 3)
    seg = segments(path)[-1]
    with open(seg, "rb") as fh:
        data = bytearray(fh.read())
    struct.pack_into("<H", data, 8, 9)
    struct.pack_into("<I", data, 36, zlib.crc32(bytes(data[:36])))
    with open(seg, "wb") as fh:
        fh.write(data)
    message = refused(path, names=seg)
    assert "version 9" in message


# --- bit flips in snapshots ------------------------------------------------------------------------


def snapshot_regions(snap_path):
    r = sf.SnapshotReader(FileSystem(), snap_path)
    out = {"magic": 0, "version": 8, "uuid": 12, "prelude crc": 28}
    for n, e in enumerate(r.entries):
        kind = sf.KIND_NAMES[e.kind]
        out[f"block {n} ({kind}) kind"] = e.offset
        out[f"block {n} ({kind}) items"] = e.offset + 2
        out[f"block {n} ({kind}) length"] = e.offset + 10
        out[f"block {n} ({kind}) crc"] = e.offset + 14
        out[f"block {n} ({kind}) payload start"] = e.offset + sf.BLOCK_HEADER_SIZE
        out[f"block {n} ({kind}) payload end"] = e.end - 1
    table = r.size - sf.TRAILER_SIZE - len(r.entries) * sf.ENTRY_SIZE
    for n in range(len(r.entries)):
        out[f"table entry {n} offset"] = table + n * sf.ENTRY_SIZE + 2
        out[f"table entry {n} crc"] = table + n * sf.ENTRY_SIZE + 22
    trailer = r.size - sf.TRAILER_SIZE
    out.update({"trailer table offset": trailer, "trailer count": trailer + 8, "footer crc": trailer + 12,
                "end magic": trailer + 16})
    kinds = [e.kind for e in r.entries]
    assert sf.VERTICES in kinds and sf.EDGES in kinds and kinds.count(sf.VERTICES) > 1
    return out


@pytest.mark.parametrize("threads", [1, 3])
def test_damaged_snapshot_falls_back_when_the_wal_covers_the_gap(tmp_path, threads):
    """With threads > 1 the batches are decoded ahead in a pool: damage must surface the same way."""
    path = str(tmp_path / "db")
    states = build(path, 12, snapshot_after=(4, 9), storage_items_per_batch=3)
    older, newest = snapshots(path)
    fallbacks = refusals = 0
    for region, offset in snapshot_regions(newest).items():
        with open(newest, "rb") as fh:
            original = fh.read()
        flip(newest, offset, bit=(offset * 3) % 8)
        try:
            before = tree(path)
            try:
                assert open_state(path, storage_recovery_thread_count=threads) == states[-1], region
                fallbacks += 1
            except RecoveryError as err:  # e.g. the magic bytes: not a snapshot at all
                assert newest in str(err) and re.search(r"byte \d+", str(err)), str(err)
                assert tree(path) == before
                refusals += 1
            assert tree(path) == before  # the damaged snapshot was neither deleted nor repaired
        finally:
            with open(newest, "wb") as fh:
                fh.write(original)
    assert fallbacks > 30 and refusals <= 2, (fallbacks, refusals)
    assert os.path.exists(older)


def test_damaged_snapshot_without_wal_cover_stops_startup(tmp_path):
    """Retention removed the WAL the only snapshot covers: nothing to fall back on."""
    path = str(tmp_path / "db")
    build(path, 12, snapshot_after=(9,), storage_items_per_batch=3, storage_wal_file_size_kib=1,
          storage_snapshot_retention_count=1)
    (only,) = snapshots(path)
    assert wal.sequence_of_name(os.path.basename(segments(path)[0])) > 1  # early segments are gone
    for region, offset in snapshot_regions(only).items():
        with open(only, "rb") as fh:
            original = fh.read()
        flip(only, offset, bit=(offset * 5) % 8)
        try:
            refused(path, names=only)
        finally:
            with open(only, "wb") as fh:
                fh.write(original)


def test_damaged_only_snapshot_with_empty_wal_stops_startup(tmp_path):
    """A lone damaged snapshot and no WAL is not an empty database."""
    path = str(tmp_path / "db")
    build(path, 4, snapshot_after=(4,))
    (only,) = snapshots(path)
    for seg in segments(path):
        os.remove(seg)
    flip(only, os.path.getsize(only) // 2)
    refused(path, names=only)


def test_snapshot_of_another_database_is_refused(tmp_path):
    ours, theirs = str(tmp_path / "ours"), str(tmp_path / "theirs")
    build(ours, 3)
    build(theirs, 2, snapshot_after=(2,))
    (foreign,) = snapshots(theirs)
    target = os.path.join(ours, "snapshots", snapshot_mod.snapshot_name(99, 0))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copy(foreign, target)
    message = refused(ours, names=target)
    assert "belongs to database" in message


def test_snapshot_of_unknown_version_is_refused(tmp_path):
    path = str(tmp_path / "db")
    build(path, 3, snapshot_after=(3,))
    (snap,) = snapshots(path)
    with open(snap, "rb") as fh:
        data = bytearray(fh.read())
    struct.pack_into("<H", data, 8, 7)
    struct.pack_into("<I", data, 28, zlib.crc32(bytes(data[:28])))
    with open(snap, "wb") as fh:
        fh.write(data)
    message = refused(path, names=snap)
    assert "version 7" in message


# --- restore procedures ---------------------------------------------------------------------------


def uuid_of(path):
    db = weftdb.open(path, **QUIET)
    try:
        return db.durability.db_uuid
    finally:
        db.close()


def test_restore_from_a_copied_snapshot_alone_adopts_its_uuid(tmp_path):
    source, target = str(tmp_path / "source"), str(tmp_path / "target")
    states = build(source, 6, snapshot_after=(4,))
    (snap,) = snapshots(source)
    os.makedirs(os.path.join(target, "snapshots"))
    os.makedirs(os.path.join(target, "wal"))
    shutil.copy(snap, os.path.join(target, "snapshots"))
    db = weftdb.open(target, **QUIET)
    try:
        assert state_of(db.storage) == states[4]
        assert db.durability.db_uuid == uuid_of(source)
        commit(db, 5)  # the restored database goes on; its new WAL carries the adopted UUID
        after = state_of(db.storage)
    finally:
        db.close()
    assert open_state(target) == after
    assert wal.unpack_header(open(segments(target)[0], "rb").read(wal.HEADER_SIZE))[1] == uuid_of(source)


def test_restore_from_a_copied_snapshot_and_its_wal_recovers_to_the_end_of_the_wal(tmp_path):
    source, target = str(tmp_path / "source"), str(tmp_path / "target")
    states = build(source, 9, snapshot_after=(4,), storage_wal_file_size_kib=1)
    os.makedirs(target)
    shutil.copytree(os.path.join(source, "snapshots"), os.path.join(target, "snapshots"))
    shutil.copytree(os.path.join(source, "wal"), os.path.join(target, "wal"))
    assert open_state(target) == states[9]

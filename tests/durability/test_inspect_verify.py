"""`weftdb inspect FILE` and `weftdb verify DATA_DIR`, through click's CliRunner.

Why these checks: both commands are what an operator reaches for after
something went wrong, so they must show damage with its byte offset and keep
going past it (inspect), tell a recoverable directory from one that is not
with the exit status (verify), and never change anything — verify must even
run beside a database that holds the directory's lock.
"""

from __future__ import annotations

import io
import os
import re

import pytest
from click.testing import CliRunner
from graphstate import cheap_scrypt

import weftdb
from weftdb.basics.errors import RecoveryError
from weftdb.cli import main
from weftdb.cli.files import print_inspection
from weftdb.cli.printer import Printer
from weftdb.durability import wal
from weftdb.durability.files import FileSystem
from weftdb.durability.inspect import inspect_file, inspect_segment
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.wal_reader import TORN, WalReader

QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


@pytest.fixture(autouse=True)
def _cheap(monkeypatch):
    cheap_scrypt(monkeypatch)


@pytest.fixture
def data(tmp_path):
    """A directory with an index, 6 transactions of 3 ops, a snapshot of many batches, 2 more transactions."""
    path = str(tmp_path / "db")
    db = weftdb.open(path, **QUIET, storage_items_per_batch=2)
    try:
        db.execute("CREATE INDEX ON :N(i)")
        for i in range(6):
            db.execute("CREATE (:N {i: $i})-[:R {w: $i}]->(:M)", {"i": i})
        db.execute("CREATE SNAPSHOT")
        db.execute("MATCH (n:N {i: 1}) SET n.x = 'y'")
        db.execute("MATCH (n:N {i: 2}) DETACH DELETE n")
    finally:
        db.close()
    return path


def run(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def tree(path):
    out = {}
    for sub in ("wal", "snapshots"):
        for name in sorted(os.listdir(os.path.join(path, sub))):
            with open(os.path.join(path, sub, name), "rb") as fh:
                out[f"{sub}/{name}"] = fh.read()
    return out


def wal_file(path):
    return os.path.join(path, "wal", sorted(os.listdir(os.path.join(path, "wal")))[0])


def snapshot_file(path):
    return os.path.join(path, "snapshots", os.listdir(os.path.join(path, "snapshots"))[0])


def flip(path, offset):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        b = fh.read(1)[0]
        fh.seek(offset)
        fh.write(bytes([b ^ 0x10]))


# --- inspect -----------------------------------------------------------------------------------


def test_inspect_wal_lists_every_record(data):
    code, out = run("inspect", wal_file(data))
    assert code == 0, out
    assert "sequence 1, header checksum OK" in out
    records = list(WalReader(FileSystem(), os.path.join(data, "wal")).records())
    lines = [line.split("\t") for line in out.splitlines() if "\t" in line]
    offsets = [int(cells[0]) for cells in lines[1:] if cells[0].isdigit()]
    assert offsets == [r.offset for r in records]
    assert "create vertex ×2, create edge" in out and "create index" in out and "delete vertex" in out
    assert f"{len(records)} valid records, 0 problems" in out


def test_inspect_wal_shows_damage_and_goes_on(data):
    seg = wal_file(data)
    records = list(WalReader(FileSystem(), os.path.join(data, "wal")).records())
    damaged = records[3]
    flip(seg, damaged.offset + 10)
    code, out = run("inspect", seg)
    assert code == 1
    bad = [line for line in out.splitlines() if "\tBAD\t" in line]
    assert bad and bad[0].startswith(f"{damaged.offset}\t") and "checksum mismatch" in bad[0]
    assert f"\n{records[4].offset}\t" in out and f"\n{records[-1].offset}\t" in out  # the rest is still shown
    assert "skipped" in out


def test_inspect_wal_torn_tail(data):
    seg = wal_file(data)
    last = list(WalReader(FileSystem(), os.path.join(data, "wal")).records())[-1]
    os.truncate(seg, last.offset + 9)
    code, out = run("inspect", seg)
    assert code == 1 and f"from byte {last.offset} to the end" in out and "torn tail" in out


# Bug 3 (issue 11): inspect had its own damage scanner which, when its search
# budget ran out, called damage a torn tail that recovery refuses. A megabyte in
# which nearly every offset reads as a plausible record length of 512 KiB makes
# the search check more candidates than its budget allows.
_LONG_JUNK = b"\x00\x00\x08\x00" * (1 << 18)


def _rewrite_from(path, offset, data):
    with open(path, "r+b") as fh:
        fh.truncate(offset)
        fh.seek(offset)
        fh.write(data)


@pytest.mark.parametrize("case", ["torn", "damage then a record", "damage then too much to search"])
def test_inspect_gives_the_verdict_recovery_acts_on(data, case):
    """The newest segment's end as inspect calls it (a torn tail that recovery
    cuts off, or damage that stops it) is what recovery does with it."""
    seg = wal_file(data)
    records = list(WalReader(FileSystem(), os.path.join(data, "wal")).records())
    if case == "torn":
        bad = records[-1].offset
        os.truncate(seg, bad + 9)
    elif case == "damage then a record":
        bad = records[-2].offset
        flip(seg, bad + 10)
    else:
        bad = records[-1].offset
        _rewrite_from(seg, bad, _LONG_JUNK)
    reader = WalReader(FileSystem(), os.path.join(data, "wal"))
    try:
        list(reader.records())
        recovery_says = "torn" if reader.torn_tail is not None else "clean"
    except RecoveryError as exc:
        assert f"damaged at byte {bad}" in str(exc)
        recovery_says = "damage"
    code, out = run("inspect", seg)
    assert code == 1
    bad_rows = [line for line in out.splitlines() if "\tBAD\t" in line]
    assert bad_rows and bad_rows[0].startswith(f"{bad}\t")
    inspect_says = "torn" if "(recovery cuts it off)" in out else "damage"
    assert inspect_says == recovery_says == ("torn" if case == "torn" else "damage"), out


def test_inspect_and_recovery_agree_at_every_damaged_byte(data):
    """For a bit flipped anywhere after the header: the first bad offset, and
    whether it is a torn tail or damage, are the same for both."""
    seg = wal_file(data)
    with open(seg, "rb") as fh:
        original = fh.read()
    for i in range(wal.HEADER_SIZE, len(original)):
        damaged = bytearray(original)
        damaged[i] ^= 0x10
        with open(seg, "wb") as fh:
            fh.write(bytes(damaged))
        reader = WalReader(FileSystem(), os.path.join(data, "wal"))
        try:
            list(reader.records())
            recovery = ("torn", reader.torn_tail.offset) if reader.torn_tail else ("clean", None)
        except RecoveryError as exc:
            recovery = ("damage", int(re.search(r"damaged at byte (\d+)", str(exc)).group(1)))
        found = inspect_segment(seg, bytes(damaged))
        bad = [row for row in found.records if not row.checksum_ok]
        if not bad:
            seen = ("clean", None)
        else:
            torn = bad[0].resumes_at is None and found.end is not None and found.end.kind == TORN
            seen = ("torn" if torn else "damage", bad[0].offset)
        assert seen == recovery, i


def test_inspect_snapshot_shows_header_names_blocks_schema(data):
    snap = snapshot_file(data)
    reader = SnapshotReader(FileSystem(), snap)
    code, out = run("inspect", snap)
    assert code == 0, out
    assert f"commit_ts {reader.header['commit_ts']}" in out
    assert "names: 2 labels, 1 edge_types, 2 property_keys" in out
    for e in reader.entries:
        assert f"\t{e.offset}\t{e.items}\t" in out
    assert "schema indexes: [['index_" in out and "'RANGE', 'NODE', 'N', ['i']]]" in out
    assert f"{reader.vertex_count} vertices and {reader.edge_count} edges in {len(reader.entries)} blocks, 0 problems" in out


def test_inspect_snapshot_damaged_batch_and_footer(data):
    snap = snapshot_file(data)
    reader = SnapshotReader(FileSystem(), snap)
    batch = reader.vertex_entries[1]
    flip(snap, batch.offset + 20)
    code, out = run("inspect", snap)
    assert code == 1
    bad = [line for line in out.splitlines() if "\tBAD\t" in line]
    assert len(bad) == 1 and f"\t{batch.offset}\t" in bad[0]
    flip(snap, batch.offset + 20)  # repair; now damage the footer: the blocks are found by walking
    flip(snap, reader.size - 12)
    code, out = run("inspect", snap)
    assert code == 1 and "footer's checksum does not match" in out and "walking the blocks" in out
    assert out.count("\tOK\t") == len(reader.entries)


def test_inspect_refuses_other_files(tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("hello, this is not a WAL segment")
    code, out = run("inspect", str(other))
    assert code == 1 and "not a WeftDB WAL segment or snapshot" in out


def test_rich_output_on_a_terminal(data):
    buffer = io.StringIO()
    found = inspect_file(wal_file(data))
    assert found.problems == []
    print_inspection(found, Printer(buffer, rich=True))
    text = buffer.getvalue()
    assert "create vertex" in text and "OK" in text and "\t" not in text  # a table, not tab-separated


# --- verify ----------------------------------------------------------------------------------------


def test_verify_healthy_directory(data):
    before = tree(data)
    code, out = run("verify", data)
    assert code == 0, out
    assert "all is well" in out
    assert "11 vertices, 5 edges, last commit timestamp 9" in out  # 6 N + 6 M, minus one N and its edge
    assert tree(data) == before


def test_verify_beside_a_running_database_changes_nothing(data):
    db = weftdb.open(data, **QUIET)  # holds the lock
    try:
        db.execute("CREATE (:Late)")
        code, out = run("verify", data)
        assert code == 0, out
        assert "12 vertices" in out
        db.execute("CREATE (:Later)")  # the database goes on
    finally:
        db.close()
    assert "13 vertices" in run("verify", data)[1]


def test_verify_reports_a_torn_tail_without_cutting_it(data):
    seg = wal_file(data)
    last = list(WalReader(FileSystem(), os.path.join(data, "wal")).records())[-1]
    os.truncate(seg, last.offset + 9)
    before = tree(data)
    code, out = run("verify", data)
    assert code == 0, out
    assert "torn tail" in out and f"at byte {last.offset}" in out
    assert "last commit timestamp 8" in out
    assert tree(data) == before  # the torn bytes are still there


def test_verify_damaged_wal_fails(data):
    seg = wal_file(data)
    records = list(WalReader(FileSystem(), os.path.join(data, "wal")).records())
    flip(seg, records[2].offset + 9)
    before = tree(data)
    code, out = run("verify", data)
    assert code == 1
    assert f"is damaged at byte {records[2].offset}" in out and "recovery would stop" in out
    assert tree(data) == before


def test_verify_damaged_snapshot_fails_but_shows_the_fallback(data):
    snap = snapshot_file(data)
    batch = SnapshotReader(FileSystem(), snap).edge_entries[0]
    flip(snap, batch.offset + 19)
    code, out = run("verify", data)
    assert code == 1
    assert f"damaged at byte {batch.offset}" in out
    assert "it would skip the damaged" in out and "11 vertices, 5 edges" in out  # the WAL covers it all


def test_verify_gap_and_strangers(data, tmp_path):
    db = weftdb.open(data, **QUIET)
    try:
        db.execute("CREATE (:Next)")  # a second segment
    finally:
        db.close()
    segs = sorted(os.listdir(os.path.join(data, "wal")))
    with open(os.path.join(data, "snapshots", "half.snapshot.tmp"), "wb") as fh:
        fh.write(b"WEFTSNAP")
    os.rename(os.path.join(data, "wal", segs[1]), os.path.join(data, "wal", "0000000000000005.wal"))
    code, out = run("verify", data)
    assert code == 1
    assert "gap" in out and "half.snapshot.tmp is not part of the data" in out


def test_help_has_examples():
    for command in ("inspect", "verify"):
        code, out = run(command, "--help")
        assert code == 0 and "Examples:" in out and f"weftdb {command}" in out


def test_a_copied_record_out_of_order_is_damage_to_recovery_verify_and_inspect(tmp_path):
    """A valid record whose commit timestamp does not rise (a block copied
    within its segment still passes its checksum) was skipped by recovery,
    passed by verify and accepted by inspect; it is damage to all three."""
    data = str(tmp_path / "data")
    with weftdb.open(data, storage_snapshot_on_exit=False, storage_snapshot_interval_sec=0) as db:
        for i in range(5):
            db.execute("CREATE (:N {i: $i})", {"i": i})
    reader = WalReader(FileSystem(), os.path.join(data, "wal"))
    records = list(reader.records())
    (segment,) = {r.path for r in records}
    copied = records[1]
    with open(segment, "rb") as handle:
        content = handle.read()
    frame = content[copied.offset : copied.offset + 8 + len(copied.body)]
    at = len(content)
    with open(segment, "ab") as handle:
        handle.write(frame)  # transaction 2 again, after transaction 5

    with pytest.raises(weftdb.RecoveryError, match=rf"{re.escape(segment)} is damaged at byte {at}: commit timestamp 2 "
                                                   r"is not above the previous record's 5"):
        weftdb.open(data)
    verified = CliRunner().invoke(main, ["verify", data])
    assert verified.exit_code == 1 and "commit timestamp 2 is not above the previous record's 5" in verified.output
    inspected = CliRunner().invoke(main, ["inspect", segment])
    assert inspected.exit_code == 1
    assert f"{at}" in inspected.output and "out of order" in inspected.output

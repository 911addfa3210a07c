"""Checkpoint mode in ON_DISK_TRANSACTIONAL: CHECKPOINT CREATE names a RocksDB
checkpoint, a copy of the directory taken while writers go on is restored
through `_restore` to exactly the checkpoint's state, the copies it refuses
change nothing, and a restore cut short finishes at the next start."""

from __future__ import annotations

import json
import os
import shutil
import threading

import pytest

import weftdb
from weftdb.basics import storage_modes
from weftdb.basics.errors import ClientError, RecoveryError
from weftdb.durability import disk_checkpoint

ON_DISK = storage_modes.ON_DISK


def items(db) -> list[int]:
    return [row[0] for row in db.execute("MATCH (i:Item) RETURN i.n ORDER BY i.n").rows]


def copy_while_it_runs(source: str, target: str) -> None:
    """What `rsync -a` does with a directory whose files come and go: copy
    what is there, skip what vanished before it could be read."""
    for root, _dirs, names in os.walk(source):
        into = os.path.join(target, os.path.relpath(root, source))
        os.makedirs(into, exist_ok=True)
        for name in names:
            try:
                shutil.copy2(os.path.join(root, name), os.path.join(into, name))
            except FileNotFoundError:
                pass


def manifest_of(path: str) -> dict:
    with open(os.path.join(path, "checkpoint.json")) as handle:
        return json.load(handle)


def checkpointed_copy(tmp_path, writes_after: int = 50) -> tuple[str, dict]:
    """A database with items 0..99, checkpointed, then `writes_after` more
    items and a deletion, the copy taken after them."""
    live, copy = str(tmp_path / "live"), str(tmp_path / "copy")
    with weftdb.open(live, storage_mode=ON_DISK) as db:
        db.execute("CREATE INDEX ON :Item(n)")
        db.execute("UNWIND range(0, 99) AS n CREATE (:Item {n: n})")
        path, timestamp = db.execute("CHECKPOINT CREATE").rows[0]
        assert path == os.path.join(live, "checkpoint.json")
        db.execute("UNWIND range(100, 99 + $k) AS n CREATE (:Item {n: n})", {"k": writes_after})
        db.execute("MATCH (i:Item {n: 0}) DELETE i")
        copy_while_it_runs(live, copy)
        assert db.execute("CHECKPOINT RELEASE").single() == "Checkpoint released."
    return copy, {"commit_timestamp": timestamp}


def restore(copy: str):
    open(os.path.join(copy, "_restore"), "w").close()
    return weftdb.open(copy)


def test_a_copy_taken_while_writers_go_on_comes_back_at_the_checkpoint(tmp_path):
    live, copy = str(tmp_path / "live"), str(tmp_path / "copy")
    db = weftdb.open(live, storage_mode=ON_DISK)
    db.execute("CREATE INDEX ON :Item(n)")
    db.execute("UNWIND range(0, 999) AS n CREATE (:Item {n: n, text: 'x' + toString(n)})")
    stop, written = threading.Event(), []

    def writer(base: int) -> None:
        n = base
        while not stop.is_set():
            db.execute("CREATE (:Item {n: $n})", {"n": n})
            written.append(n)
            n += 1

    threads = [threading.Thread(target=writer, args=(10_000 * (k + 1),)) for k in range(4)]
    for thread in threads:
        thread.start()
    try:
        while len(written) < 50:
            threading.Event().wait(0.01)
        acknowledged = list(written)
        path, timestamp = db.execute("CHECKPOINT CREATE").rows[0]
        manifest = manifest_of(live)
        after = len(written)
        while len(written) < after + 200:  # writes go on past the checkpoint, and while the copy is taken
            threading.Event().wait(0.01)
        copy_while_it_runs(live, copy)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert manifest["storage_mode"] == ON_DISK and manifest["commit_timestamp"] == timestamp
    assert manifest["checkpoint"].startswith("snapshots/") and manifest["checkpoint"].endswith(".rocksdb")
    assert db.execute("CHECKPOINT STATUS").rows == [(True, manifest["created"], timestamp)]
    db.execute("CHECKPOINT RELEASE")
    everything = items(db)
    db.close()

    restored = restore(copy)
    got = items(restored)
    assert set(range(1000)) | set(acknowledged) <= set(got) and len(got) < len(everything) - 200
    for k in range(4):  # each writer's commits up to the checkpoint: a prefix of what it wrote, no holes
        mine = [n for n in got if 10_000 * (k + 1) <= n < 10_000 * (k + 2)]
        assert mine == list(range(10_000 * (k + 1), 10_000 * (k + 1) + len(mine)))
    assert not os.path.exists(os.path.join(copy, "_restore")) and not os.path.exists(os.path.join(copy, "checkpoint.json"))
    aside = os.path.join(copy, ".restore-set-aside")
    assert [os.listdir(os.path.join(aside, stamp)) for stamp in os.listdir(aside)] == [["rocksdb"]]
    assert restored.execute("MATCH (i:Item {n: 5}) RETURN i.text").single() == "x5"  # through the index
    restored.execute("CREATE (:Item {n: -1})")  # the restored store takes writes
    restored.close()
    with weftdb.open(copy) as again:
        assert items(again) == [-1] + got


def test_the_restore_holds_exactly_the_commits_up_to_the_checkpoint(tmp_path):
    copy, _ = checkpointed_copy(tmp_path)
    with restore(copy) as db:
        assert items(db) == list(range(100))  # neither the later items nor the deletion
        assert dict(db.execute("SHOW STORAGE INFO").rows)["storage_mode"] == ON_DISK


def test_checkpoints_made_after_it_are_set_aside_and_its_own_stays(tmp_path):
    live, copy = str(tmp_path / "live"), str(tmp_path / "copy")
    with weftdb.open(live, storage_mode=ON_DISK, storage_snapshot_retention_count=1) as db:
        db.execute("CREATE (:Item {n: 1})")
        db.execute("CHECKPOINT CREATE")
        named = manifest_of(live)["checkpoint"]
        for n in (2, 3):
            db.execute("CREATE (:Item {n: $n})", {"n": n})
            db.execute("CREATE SNAPSHOT")
        assert len(db.execute("SHOW SNAPSHOTS").rows) == 3  # retention waits while the checkpoint is in flight
        with pytest.raises(ClientError, match="already in flight"):
            db.execute("CHECKPOINT CREATE")
        shutil.copytree(live, copy)
        db.execute("CHECKPOINT RELEASE")
        assert len(db.execute("SHOW SNAPSHOTS").rows) == 1  # the deletions held back run at the release
    with restore(copy) as db:
        assert items(db) == [1]
        assert [os.path.relpath(row[0], copy) for row in db.execute("SHOW SNAPSHOTS").rows] == [named]
        aside = os.path.join(copy, ".restore-set-aside")
        (stamp,) = os.listdir(aside)
        assert len(os.listdir(os.path.join(aside, stamp, "snapshots"))) == 2


@pytest.mark.parametrize("damage, reason", [
    ("remove checkpoint", "missing from the copy"),
    ("truncate a file", "the checkpoint holds"),
    ("add a file", "holds files the checkpoint does not list"),
    ("flip a bit", "Cannot restore from the checkpoint: .*block checksum mismatch"),
    ("other database", "belongs to database"),
    ("in-memory manifest", "made in IN_MEMORY_TRANSACTIONAL and this directory is in ON_DISK_TRANSACTIONAL"),
    ("outside snapshots", "not a checkpoint in snapshots/"),
])
def test_a_damaged_copy_is_refused_and_nothing_changes(tmp_path, damage, reason):
    copy, _ = checkpointed_copy(tmp_path)
    manifest = manifest_of(copy)
    checkpoint = os.path.join(copy, manifest["checkpoint"])
    tables = sorted(name for name in os.listdir(checkpoint) if name.endswith(".sst"))
    if damage == "remove checkpoint":
        shutil.rmtree(checkpoint)
    elif damage == "truncate a file":
        os.truncate(os.path.join(checkpoint, tables[0]), 10)
    elif damage == "add a file":
        open(os.path.join(checkpoint, "stranger.log"), "w").close()
    elif damage == "flip a bit":
        table = os.path.join(checkpoint, tables[0])
        os.unlink(table)  # the store holds a second name of it: damage this copy only
        shutil.copy2(os.path.join(copy, "rocksdb", tables[0]), table)
        with open(table, "r+b") as handle:
            handle.seek(os.path.getsize(table) // 3)
            byte = handle.read(1)
            handle.seek(-1, os.SEEK_CUR)
            handle.write(bytes([byte[0] ^ 0x10]))
    else:
        changed = {"other database": {"database_uuid": "00000000-0000-4000-8000-000000000000"},
                   "in-memory manifest": {"storage_mode": "IN_MEMORY_TRANSACTIONAL"},
                   "outside snapshots": {"checkpoint": "rocksdb"}}[damage]
        with open(os.path.join(copy, "checkpoint.json"), "w") as handle:
            json.dump({**manifest, **changed}, handle)
    before = sorted(os.listdir(copy)), sorted(os.listdir(os.path.join(copy, "rocksdb")))
    open(os.path.join(copy, "_restore"), "w").close()
    with pytest.raises(RecoveryError, match=reason):
        weftdb.open(copy)
    assert (sorted(set(os.listdir(copy)) - {"_restore"}), sorted(os.listdir(os.path.join(copy, "rocksdb")))) == before
    os.remove(os.path.join(copy, "_restore"))
    with weftdb.open(copy) as db:  # without the trigger the copy's own store opens
        assert len(items(db)) == 149


def test_a_restore_cut_short_finishes_at_the_next_start(tmp_path, monkeypatch):
    copy, _ = checkpointed_copy(tmp_path)
    copied = disk_checkpoint.files
    calls = []

    def crash_after_two_files(fs, path):
        found = copied(fs, path)
        calls.append(path)
        if len(calls) == 2:  # the copy's listing, after the check's: stop part-way through the copy
            return found[:2] + [(os.path.join(path, "vanished"), 0)]
        return found

    monkeypatch.setattr(disk_checkpoint, "files", crash_after_two_files)
    open(os.path.join(copy, "_restore"), "w").close()
    with pytest.raises(FileNotFoundError):
        weftdb.open(copy)
    monkeypatch.undo()
    assert not os.path.exists(os.path.join(copy, "rocksdb")) and os.path.exists(os.path.join(copy, "rocksdb.tmp"))
    with weftdb.open(copy) as db:
        assert items(db) == list(range(100))
    assert not os.path.exists(os.path.join(copy, "rocksdb.tmp")) and not os.path.exists(os.path.join(copy, "_restore"))


def test_a_manifest_left_without_the_trigger_is_set_aside(tmp_path):
    copy, _ = checkpointed_copy(tmp_path)
    with weftdb.open(copy) as db:  # a copy started without asking for the restore goes past the checkpoint
        assert len(items(db)) == 149
        assert db.execute("CHECKPOINT STATUS").rows == [(False, None, None)]
    assert not os.path.exists(os.path.join(copy, "checkpoint.json"))
    aside = os.path.join(copy, ".restore-set-aside")
    assert [os.listdir(os.path.join(aside, stamp)) for stamp in os.listdir(aside)] == [["checkpoint.json"]]

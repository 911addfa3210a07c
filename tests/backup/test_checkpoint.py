"""Checkpoint mode: CHECKPOINT CREATE / STATUS / RELEASE, deletions held while
one is in flight, a `cp -r` taken while four threads write restored through
`_restore` to exactly the checkpoint's state, and the copies it refuses."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid

import pytest
from click.testing import CliRunner

import weftdb
from weftdb.basics.errors import ClientError, RecoveryError
from weftdb.cli import main

QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


def dump_text(db):
    return [row[0] for row in db.execute("DUMP DATABASE").rows]


def manifest_of(path):
    with open(os.path.join(path, "checkpoint.json")) as handle:
        return json.load(handle)


def write_manifest(path, manifest):
    with open(os.path.join(path, "checkpoint.json"), "w") as handle:
        json.dump(manifest, handle)


def test_create_status_release_and_only_one_at_a_time(tmp_path):
    db = weftdb.open(str(tmp_path / "db"), **QUIET)
    db.execute("CREATE (:A)")
    assert db.execute("CHECKPOINT STATUS").rows == [(False, None, None)]
    assert db.execute("CHECKPOINT STATUS").columns == ["in_progress", "started_at", "commit_timestamp"]
    path, ts = db.execute("CHECKPOINT CREATE").rows[0]
    assert path == str(tmp_path / "db" / "checkpoint.json") and ts == db.storage.last_commit_ts == 1
    in_progress, started_at, at = db.execute("CHECKPOINT STATUS").rows[0]
    assert in_progress and at == 1 and started_at == manifest_of(tmp_path / "db")["created"]
    with pytest.raises(ClientError, match="already in flight.*CHECKPOINT RELEASE"):
        db.execute("CHECKPOINT CREATE")
    db.execute("CREATE (:B)")  # writes go on
    assert db.execute("CHECKPOINT RELEASE").rows == [("Checkpoint released.",)]
    assert not os.path.exists(tmp_path / "db" / "checkpoint.json")
    assert db.execute("CHECKPOINT STATUS").rows == [(False, None, None)]
    assert db.execute("CHECKPOINT RELEASE").rows == [("No checkpoint is in flight.",)]
    assert db.execute("CHECKPOINT CREATE").rows[0][1] == 2
    db.close()
    with pytest.raises(ClientError, match="needs a data directory"):
        weftdb.open().execute("CHECKPOINT CREATE")
    with weftdb.open(str(tmp_path / "nowal"), **QUIET, storage_wal_enabled=False) as nowal:
        with pytest.raises(ClientError, match="needs the WAL"):
            nowal.execute("CHECKPOINT CREATE")
        assert nowal.execute("CHECKPOINT STATUS").rows == [(False, None, None)]


def test_manifest_lists_every_snapshot_and_wal_segment_with_its_bytes(tmp_path):
    db = weftdb.open(str(tmp_path / "db"), **QUIET, storage_wal_file_size_kib=1)
    db.execute("CREATE (:Before)")
    db.execute("CREATE SNAPSHOT")
    for i in range(30):
        db.execute("CREATE (:N {i: $i, pad: $pad})", {"i": i, "pad": "x" * 100})
    db.execute("CHECKPOINT CREATE")
    manifest = manifest_of(tmp_path / "db")
    on_disk = {
        f"{sub}/{name}": os.path.getsize(tmp_path / "db" / sub / name)
        for sub in ("wal", "snapshots")
        for name in os.listdir(tmp_path / "db" / sub)
    }
    listed = {entry["path"]: entry["bytes"] for entry in manifest["files"]}
    newest = max(p for p in on_disk if p.startswith("wal/"))
    assert listed.keys() == on_disk.keys() and len([p for p in on_disk if p.startswith("wal/")]) > 2
    assert {p: b for p, b in listed.items() if p != newest} == {p: b for p, b in on_disk.items() if p != newest}
    assert listed[newest] == db.durability.wal.current_segment_bytes < on_disk[newest]  # the rest is zero padding
    assert manifest["commit_timestamp"] == db.storage.last_commit_ts == 31 and manifest["format"] == "weftdb-checkpoint" and manifest["version"] == 3
    assert manifest["storage_mode"] == "IN_MEMORY_TRANSACTIONAL"
    assert manifest["database_uuid"] == str(uuid.UUID(bytes=db.durability.db_uuid))
    db.close()


def test_deletions_wait_until_release(tmp_path):
    db = weftdb.open(str(tmp_path / "db"), **QUIET, storage_snapshot_retention_count=1)
    db.execute("CREATE (:A)")
    db.execute("CHECKPOINT CREATE")
    for _ in range(3):
        db.execute("CREATE (:B)")
        db.execute("CREATE SNAPSHOT")
    assert len(os.listdir(tmp_path / "db" / "snapshots")) == 3
    assert db.durability.retention.deferred
    db.execute("CHECKPOINT RELEASE")
    assert len(os.listdir(tmp_path / "db" / "snapshots")) == 1
    assert not db.durability.retention.deferred
    db.close()


class Writers:
    """Four threads writing until stopped; `gate` held stops them between transactions."""

    def __init__(self, db, threads=4):
        self.db, self.gate, self.stop, self.count = db, threading.Lock(), threading.Event(), 0
        self.threads = [threading.Thread(target=self.write, args=(t,)) for t in range(threads)]

    def write(self, t):
        i = 0
        while not self.stop.is_set():
            with self.gate:
                self.db.execute("CREATE (:W {t: $t, i: $i, s: $s})", {"t": t, "i": i, "s": f"row {t}/{i}"})
                if i % 5 == 4:
                    self.db.execute("MATCH (n:W {t: $t}) WHERE n.i = $j SET n.touched = true", {"t": t, "j": i - 3})
                self.count += 1
            i += 1

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def wait_for(self, more):
        target = self.count + more
        while self.count < target:
            time.sleep(0.005)


@pytest.fixture
def checkpointed_copy(tmp_path):
    """A data directory copied with `cp -r` while four threads write, its
    checkpoint's dump, and the source path."""
    source, copy = str(tmp_path / "source"), str(tmp_path / "copy")
    db = weftdb.open(source, **QUIET, storage_wal_file_size_kib=4)
    db.execute("UNWIND range(1, 40) AS i CREATE (:Before {i: i})")
    db.execute("CREATE SNAPSHOT")
    with Writers(db) as writers:
        writers.wait_for(50)
        with writers.gate:
            ts = db.execute("CHECKPOINT CREATE").rows[0][1]
            expected = dump_text(db)
        writers.wait_for(50)
        db.execute("CREATE SNAPSHOT")  # a file the checkpoint does not list
        writers.wait_for(20)
        for _attempt in range(5):  # cp fails when a WAL segment's .tmp is renamed under it: copy again
            if subprocess.run(["cp", "-r", source, copy], capture_output=True).returncode == 0:
                break
            shutil.rmtree(copy)
        else:
            pytest.fail("cp -r kept failing")
        writers.wait_for(20)
        db.execute("CHECKPOINT RELEASE")
    assert len(dump_text(db)) > len(expected)  # the source went on
    db.close()
    return copy, expected, ts


def test_a_copy_taken_while_writing_restores_to_exactly_the_checkpoint(checkpointed_copy):
    copy, expected, ts = checkpointed_copy
    listed = {entry["path"] for entry in manifest_of(copy)["files"]}
    later = {f"{sub}/{name}" for sub in ("wal", "snapshots") for name in os.listdir(os.path.join(copy, sub))} - listed
    assert any(path.startswith("snapshots/") for path in later)
    tails = {}  # WAL bytes the copy holds past the checkpoint (records, not zero padding)
    for entry in manifest_of(copy)["files"]:
        with open(os.path.join(copy, entry["path"]), "rb") as handle:
            handle.seek(entry["bytes"])
            tail = handle.read()
        if tail.strip(b"\0"):
            tails[entry["path"] + ".tail"] = tail
    open(os.path.join(copy, "_restore"), "w").close()
    db = weftdb.open(copy, **QUIET)
    assert db.storage.last_commit_ts == ts
    assert dump_text(db) == expected
    assert not os.path.exists(os.path.join(copy, "_restore"))
    assert not os.path.exists(os.path.join(copy, "checkpoint.json"))
    (aside,) = os.listdir(os.path.join(copy, ".restore-set-aside"))
    kept = {
        os.path.relpath(os.path.join(root, name), os.path.join(copy, ".restore-set-aside", aside))
        for root, _dirs, names in os.walk(os.path.join(copy, ".restore-set-aside", aside))
        for name in names
    }
    assert later <= kept  # set aside, not deleted
    assert {path for path in kept if path.endswith(".tail")} == tails.keys()
    for path, tail in tails.items():
        with open(os.path.join(copy, ".restore-set-aside", aside, path), "rb") as handle:
            assert handle.read() == tail
    db.execute("CREATE (:AfterRestore)")  # the restored database takes writes and reopens
    db.close()
    with weftdb.open(copy, **QUIET) as again:
        assert again.execute("MATCH (n:AfterRestore) RETURN count(n)").rows == [(1,)]
        assert again.storage.last_commit_ts == ts + 1


def test_a_copy_missing_a_listed_file_is_refused_and_keeps_restore(checkpointed_copy):
    copy, _expected, _ts = checkpointed_copy
    segment = sorted(e["path"] for e in manifest_of(copy)["files"] if e["path"].startswith("wal/"))[0]
    os.remove(os.path.join(copy, segment))
    before = sorted(os.listdir(os.path.join(copy, "wal")))
    open(os.path.join(copy, "_restore"), "w").close()
    with pytest.raises(RecoveryError, match=f"{segment} is listed in the checkpoint but missing"):
        weftdb.open(copy, **QUIET)
    assert os.path.exists(os.path.join(copy, "_restore"))
    assert sorted(os.listdir(os.path.join(copy, "wal"))) == before  # nothing moved
    result = CliRunner().invoke(main, ["dump", "--data-directory", copy])
    assert result.exit_code == 1 and "missing from the copy" in result.output


def test_a_truncated_listed_file_is_refused(checkpointed_copy):
    copy, _expected, _ts = checkpointed_copy
    entry = max(manifest_of(copy)["files"], key=lambda e: e["bytes"])
    with open(os.path.join(copy, entry["path"]), "r+b") as handle:
        handle.truncate(entry["bytes"] - 1)
    open(os.path.join(copy, "_restore"), "w").close()
    with pytest.raises(RecoveryError, match=f"has {entry['bytes'] - 1} bytes; the checkpoint holds {entry['bytes']}"):
        weftdb.open(copy, **QUIET)
    assert os.path.exists(os.path.join(copy, "_restore"))


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"version": 4}, "version 4; this WeftDB reads 'weftdb-checkpoint' versions 1, 2, 3"),
        ({"storage_mode": "ON_DISK_TRANSACTIONAL"}, "made in ON_DISK_TRANSACTIONAL and this directory is in IN_MEMORY_TRANSACTIONAL"),
        ({"wal_format_version": 9}, "wal format version is 9"),
        ({"database_uuid": str(uuid.uuid4())}, "belongs to database"),
    ],
)
def test_a_manifest_of_another_version_or_database_is_refused(tmp_path, change, reason):
    path = str(tmp_path / "db")
    with weftdb.open(path, **QUIET) as db:
        db.execute("CREATE (:A)")
        db.execute("CHECKPOINT CREATE")
        copy = str(tmp_path / "copy")
        shutil.copytree(path, copy)
    write_manifest(copy, {**manifest_of(copy), **change})
    open(os.path.join(copy, "_restore"), "w").close()
    with pytest.raises(RecoveryError, match=reason):
        weftdb.open(copy, **QUIET)
    assert os.path.exists(os.path.join(copy, "_restore"))


def test_restore_without_a_manifest_is_refused(tmp_path):
    path = str(tmp_path / "db")
    with weftdb.open(path, **QUIET) as db:
        db.execute("CREATE (:A)")
    open(os.path.join(path, "_restore"), "w").close()
    with pytest.raises(RecoveryError, match="checkpoint.json cannot be read"):
        weftdb.open(path, **QUIET)


def test_the_python_example_in_docs_backup_md_runs(tmp_path):
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "backup.md").read_text(encoding="utf-8")
    block = text.split("<!-- tests/backup/test_checkpoint.py runs the next block -->\n```python\n", 1)[1].split("```", 1)[0]
    process = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr


def test_a_checkpoint_left_in_flight_at_shutdown_is_cleared_at_the_next_start(tmp_path):
    path = str(tmp_path / "db")
    db = weftdb.open(path, storage_snapshot_on_exit=False)
    db.execute("CREATE (:N)")
    db.execute("CHECKPOINT CREATE")
    db.close()
    assert os.path.exists(os.path.join(path, "checkpoint.json"))
    db = weftdb.open(path, storage_snapshot_on_exit=False)
    try:
        assert not os.path.exists(os.path.join(path, "checkpoint.json"))
        assert db.execute("CHECKPOINT STATUS").rows[0][0] is False
        db.execute("CHECKPOINT CREATE")  # a new one can start
        db.execute("CHECKPOINT RELEASE")
    finally:
        db.close()


def test_a_copy_started_without_restore_warns_keeps_the_manifest_and_can_still_go_back(checkpointed_copy, caplog):
    copy, expected, ts = checkpointed_copy
    manifest = manifest_of(copy)
    db = weftdb.open(copy, **QUIET)  # no _restore: it recovers past the checkpoint
    try:
        assert db.storage.last_commit_ts > ts
    finally:
        db.close()
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "checkpoint.json" in r.getMessage()]
    assert warnings and "recovering past the checkpoint" in warnings[0]
    assert not os.path.exists(os.path.join(copy, "checkpoint.json"))
    (aside,) = os.listdir(os.path.join(copy, ".restore-set-aside"))
    kept = os.path.join(copy, ".restore-set-aside", aside, "checkpoint.json")
    with open(kept) as handle:
        assert json.load(handle) == manifest  # kept whole, never deleted
    os.rename(kept, os.path.join(copy, "checkpoint.json"))  # as the warning says: back, with _restore
    open(os.path.join(copy, "_restore"), "w").close()
    with weftdb.open(copy, **QUIET) as again:
        assert again.storage.last_commit_ts == ts
        assert dump_text(again) == expected


def test_restoring_a_checkpoint_brings_back_its_users(tmp_path):
    """The users file is rewritten, not appended to: a copy taken after a change holds the new users,
    and the checkpoint's are put back (issue 12, item 1)."""
    live, copy = str(tmp_path / "live"), str(tmp_path / "copy")
    db = weftdb.open(live, **QUIET)
    db.execute("CREATE USER ann IDENTIFIED BY 'at the checkpoint'")
    db.execute("CHECKPOINT CREATE")
    assert [e["path"] for e in manifest_of(live)["files"] if e["path"].startswith("auth/")] == ["auth/users.json"]
    db.execute("SET PASSWORD FOR ann TO 'later'")
    db.execute("CREATE USER eve IDENTIFIED BY 'later too'")
    shutil.copytree(live, copy)
    db.execute("CHECKPOINT RELEASE")
    db.close()
    open(os.path.join(copy, "_restore"), "w").close()
    with weftdb.open(copy, **QUIET) as restored:
        assert restored.users.users() == ["ann"]
        assert restored.users.verify("ann", "at the checkpoint") and not restored.users.verify("ann", "later")
    assert oct(os.stat(os.path.join(copy, "auth", "users.json")).st_mode & 0o777) == "0o600"
    kept = [os.path.join(r, n) for r, _, names in os.walk(os.path.join(copy, ".restore-set-aside")) for n in names]
    assert [os.path.relpath(k, copy).split(os.sep)[2:] for k in kept] == [["auth", "users.json"]]
    assert "eve" in json.load(open(kept[0]))["users"]  # the copy's own users file, set aside, not deleted

    without = str(tmp_path / "without")  # a checkpoint without users: users created after it go
    with weftdb.open(without, **QUIET) as db:
        db.execute("CHECKPOINT CREATE")
        db.execute("CREATE USER late IDENTIFIED BY 'x'")
    open(os.path.join(without, "_restore"), "w").close()
    with weftdb.open(without, **QUIET) as restored:
        assert restored.users.users() == []

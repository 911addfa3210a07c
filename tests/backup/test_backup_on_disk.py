"""Online backups of an ON_DISK_TRANSACTIONAL database: each is an archive
of a RocksDB checkpoint, an incremental one holding only the table files the
chain lacks; restore, point-in-time restore, verify and aggregate of such a
chain; restores over a directory of the other kind; kill -9 during one."""

import json
import os
import tarfile

import pytest
from conftest import Source, dump_of_directory, dump_text
from test_restore_crash import _old_graph, kill_restore_at

import weftdb
from weftdb.backup.aggregate import aggregate
from weftdb.backup.client import backup
from weftdb.backup.manifest import Manifest
from weftdb.backup.restore import RestoreError, restore
from weftdb.backup.target import open_target
from weftdb.backup.verify import verify_backup
from weftdb.basics import storage_modes
from weftdb.durability.files import FileSystem

ON_DISK = storage_modes.ON_DISK
KEY = bytes(range(32))


def manifest_of(location):
    return Manifest.load(open_target(location))


def archive_members(location, artifact):
    """The names in an artifact's archive (stored as it is: not sealed)."""
    with tarfile.open(os.path.join(location, artifact.snapshot.name)) as tar:
        return tar.getnames()


def mode_of(path):
    with open(os.path.join(path, "storage_mode.json")) as handle:
        return json.load(handle)["mode"]


def grow(db, start, count):
    db.execute("UNWIND range($start, $start + $count - 1) AS i CREATE (:P {i: i, name: 'p' + toString(i)})",
               {"start": start, "count": count})
    db.execute("MATCH (a:P), (b:P) WHERE b.i = a.i + 1 AND a.i >= $start - 1 CREATE (a)-[:NEXT]->(b)", {"start": start})


@pytest.fixture
def chain(tmp_path):
    """An on-disk database backed up full, then twice incrementally; the
    dump and last commit after each backup."""
    src = Source(str(tmp_path / "source"), storage_mode=ON_DISK)
    location, points = str(tmp_path / "backup"), []
    try:
        src.db.execute("CREATE INDEX ON :P(i)")
        for round_, kind in enumerate(("full", "incremental", "incremental")):
            grow(src.db, round_ * 200, 200)
            summary = backup(src.address, location, kind)
            assert summary.kind == kind
            points.append((summary.last_ts, dump_text(src.db)))
        src.db.execute("MATCH (p:P {i: 7}) DETACH DELETE p")  # after the last backup: in none
    finally:
        src.close()
    return location, points


def test_each_backup_is_a_checkpoint_and_an_incremental_carries_only_new_tables(chain):
    location, points = chain
    manifest = manifest_of(location)
    assert [a.kind for a in manifest.artifacts] == ["full", "incremental", "incremental"]
    assert [a.snapshot_ts for a in manifest.artifacts] == [ts for ts, _ in points]
    full, second = manifest.artifacts[0], manifest.artifacts[1]
    assert full.snapshot.name.endswith(".rocksdb.tar") and full.records == 0
    assert set(archive_members(location, full)) == {"weftdb-store.json", *full.store_files}
    carried = set(archive_members(location, second)) - {"weftdb-store.json"}
    shared = {n for n in second.store_files if n.endswith(".sst") and full.store_files.get(n) == second.store_files[n]}
    assert shared and carried == set(second.store_files) - shared  # the tables the full backup holds are not sent again


def test_restore_brings_back_the_store_at_the_end_or_at_a_point(tmp_path, chain):
    location, points = chain
    summary = restore(location, str(tmp_path / "end"))
    assert summary.last_ts == points[-1][0] and summary.vertices == 600 and summary.edges == 599
    assert mode_of(tmp_path / "end") == ON_DISK and os.listdir(tmp_path / "end" / "rocksdb")
    with weftdb.open(str(tmp_path / "end")) as db:
        assert dump_text(db) == points[-1][1]
        assert db.execute("MATCH (p:P {i: 450})<-[:NEXT]-(q) RETURN q.name").single() == "p449"  # through the index
        assert db.execute("SHOW INDEX INFO").rows == [("label+property", "P", "i", 600)]
        db.execute("CREATE (:P {i: -1})")  # the restored store takes writes
    for number, (ts, expected) in enumerate(points[:-1]):
        restore(location, str(tmp_path / f"point-{number}"), until=str(ts + 1))
        assert dump_of_directory(str(tmp_path / f"point-{number}")) == expected


def test_verify_passes_a_whole_chain_and_names_a_damaged_archive(tmp_path, chain):
    location, points = chain
    report = verify_backup(location)
    assert report.ok, report.problems
    assert (report.vertices, report.edges, report.last_ts) == (600, 599, points[-1][0])
    stored = manifest_of(location).artifacts[1].snapshot.name
    with open(os.path.join(location, stored), "r+b") as handle:
        handle.seek(700)
        byte = handle.read(1)
        handle.seek(700)
        handle.write(bytes([byte[0] ^ 1]))
    report = verify_backup(location)
    assert not report.ok and any(stored in problem for problem in report.problems)
    with pytest.raises(RestoreError, match=f"artifact 1 \\(incremental\\) file {stored}"):
        restore(location, str(tmp_path / "restored"))
    assert not os.path.exists(tmp_path / "restored")  # left as found
    restore(location, str(tmp_path / "first"), until=str(points[0][0] + 1))  # a point before it still restores
    assert dump_of_directory(str(tmp_path / "first")) == points[0][1]


def test_aggregate_folds_the_chain_into_one_checkpoint_that_later_backups_continue(tmp_path):
    src = Source(str(tmp_path / "source"), storage_mode=ON_DISK)
    location = str(tmp_path / "backup")
    try:
        for round_, kind in enumerate(("full", "incremental", "incremental")):
            grow(src.db, round_ * 100, 100)
            backup(src.address, location, kind)
        folded = aggregate(location)
        assert (folded.artifacts_before, folded.vertices, folded.edges) == (3, 300, 299)
        manifest = manifest_of(location)
        assert [a.kind for a in manifest.artifacts] == ["full"] and manifest.artifacts[0].store_files
        assert sorted(os.listdir(os.path.join(location, "snapshots"))) == [manifest.artifacts[0].snapshot.name.split("/")[1]]
        grow(src.db, 300, 100)
        assert backup(src.address, location).kind == "incremental"
        expected = dump_text(src.db)
    finally:
        src.close()
    restore(location, str(tmp_path / "restored"))
    assert dump_of_directory(str(tmp_path / "restored")) == expected


def test_a_compressed_and_encrypted_chain_round_trips(tmp_path):
    src = Source(str(tmp_path / "source"), storage_mode=ON_DISK)
    location = str(tmp_path / "backup")
    try:
        grow(src.db, 0, 100)
        backup(src.address, location, "full", compress=True, key=KEY)
        grow(src.db, 100, 100)
        assert backup(src.address, location, compress=True, key=KEY).kind == "incremental"
        expected = dump_text(src.db)
    finally:
        src.close()
    names = [a.snapshot.name for a in manifest_of(location).artifacts]
    assert all(name.endswith(".rocksdb.tar.zst.enc") for name in names)
    assert verify_backup(location, key=KEY).ok
    restore(location, str(tmp_path / "restored"), key=KEY)
    assert dump_of_directory(str(tmp_path / "restored")) == expected


def test_a_restore_replaces_a_database_of_the_other_kind_whole(tmp_path, chain):
    location, points = chain
    memory = str(tmp_path / "memory")
    with weftdb.open(memory, storage_snapshot_interval_sec=0) as db:
        db.execute("UNWIND range(1, 20) AS i CREATE (:Old {i: i})")
        db.execute("CREATE SNAPSHOT")
    restore(location, memory, overwrite=True)
    assert mode_of(memory) == ON_DISK and "wal" not in os.listdir(memory) and "snapshots" not in os.listdir(memory)
    assert dump_of_directory(memory) == points[-1][1]

    src = Source(str(tmp_path / "in-memory"))  # and an in-memory backup over the on-disk directory
    try:
        src.db.execute("CREATE (:New {i: 1})")
        backup(src.address, str(tmp_path / "memory-backup"), "full")
    finally:
        src.close()
    restore(str(tmp_path / "memory-backup"), memory, overwrite=True)
    assert "rocksdb" not in os.listdir(memory) and "storage_mode.json" not in os.listdir(memory)
    with weftdb.open(memory) as db:
        assert dict(db.execute("SHOW STORAGE INFO").rows)["storage_mode"] == storage_modes.TRANSACTIONAL
        assert db.execute("MATCH (n) RETURN labels(n)").rows == [(["New"],)]


class CountedSteps(FileSystem):
    """The renames and directory fsyncs a restore makes: the steps the killer counts."""

    steps = 0

    def rename(self, src, dst):
        self.steps += 1
        super().rename(src, dst)

    def fsync_dir(self, path):
        self.steps += 1
        super().fsync_dir(path)


def test_kill9_at_steps_of_an_overwriting_restore_leaves_old_or_new_never_neither(tmp_path, chain):
    location, points = chain
    counting = CountedSteps()
    _old_graph(str(tmp_path / "counted"))
    restore(location, str(tmp_path / "counted"), overwrite=True, fs=counting, trial_open=False)
    last = counting.steps  # every step of the swap at the end, every seventh of the assembly before it
    kill_restore_at(tmp_path, location, points[-1][1], [*range(1, last - 16, 7), *range(last - 16, last + 2)])

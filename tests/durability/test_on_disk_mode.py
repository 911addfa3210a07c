"""ON_DISK_TRANSACTIONAL in a data directory: starting in it, the switching
rules (only while the database is empty, the old store's files set aside),
a restart coming back in it without loading the graph, CREATE SNAPSHOT as a
RocksDB checkpoint with retention and LOCK DATA DIRECTORY, kill -9 during
writes and during a checkpoint, and the memory limit."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

import weftdb
from weftdb.basics import storage_modes
from weftdb.basics.errors import ClientError, DurabilityError, TransientError
from weftdb.durability.disk_store import DiskStore

ON_DISK, ANALYTICAL, TRANSACTIONAL = storage_modes.ON_DISK, storage_modes.ANALYTICAL, storage_modes.TRANSACTIONAL
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def info(db) -> dict:
    return dict(db.execute("SHOW STORAGE INFO").rows)


def count(db, label: str = "N") -> int:
    return db.execute(f"MATCH (n:{label}) RETURN count(n)").single()


def set_aside(path) -> list[str]:
    old = os.path.join(path, ".old")
    return sorted(name for stamp in os.listdir(old) for name in os.listdir(os.path.join(old, stamp))) if os.path.isdir(old) else []


def test_a_new_directory_starts_on_disk_and_a_restart_comes_back_in_it(tmp_path):
    path = str(tmp_path)
    with weftdb.open(path, storage_mode=ON_DISK) as db:
        db.execute("CREATE INDEX ON :N(k)")
        db.execute("UNWIND range(1, 100) AS k CREATE (:N {k: k})-[:R]->(:M)")
        assert info(db)["storage_mode"] == ON_DISK
    assert sorted(os.listdir(path)) == [".lock", "rocksdb", "storage_mode.json"]  # no WAL or snapshot of ours
    with weftdb.open(path) as db:
        assert info(db)["storage_mode"] == ON_DISK and count(db) == 100
        assert db.execute("MATCH (n:N {k: 42})-[:R]->(m) RETURN count(m)").single() == 1
        # the names are known without reading the graph
        assert db.storage.labels == {"N", "M"} and db.storage.edge_types == {"R"} and db.storage.property_keys == {"k"}
        assert db.execute("CALL db.labels() YIELD label RETURN collect(label)").single() == ["M", "N"]
        assert "ScanAllByLabelPropertyValue" in str(db.execute("EXPLAIN MATCH (n:N {k: 42}) RETURN n").rows)


def test_the_mode_needs_a_directory_of_its_own(tmp_path):
    with pytest.raises(ClientError, match="keeps the graph in a data directory"):
        weftdb.open(storage_mode=ON_DISK)
    with weftdb.open(str(tmp_path / "memory")) as db:
        db.execute("CREATE (:N)")
    with pytest.raises(ClientError, match="holds an in-memory database's files"):
        weftdb.open(str(tmp_path / "memory"), storage_mode=ON_DISK)
    with weftdb.open(str(tmp_path / "memory")) as db:  # refused, nothing changed
        assert count(db) == 1 and info(db)["storage_mode"] == TRANSACTIONAL
    with weftdb.open(str(tmp_path / "disk"), storage_mode=ON_DISK):
        pass
    with pytest.raises(ClientError, match=f"holds an {ON_DISK} database"):
        weftdb.open(str(tmp_path / "disk"), storage_mode=TRANSACTIONAL)


@pytest.mark.parametrize("other", [TRANSACTIONAL, ANALYTICAL])
def test_switching_to_and_from_the_disk_only_while_empty(tmp_path, other):
    path = str(tmp_path)
    with weftdb.open(path, storage_mode=other) as db:
        db.execute("CREATE (:N)-[:R]->(:N)")
        with pytest.raises(ClientError, match="needs an empty database .* holds 2 node.s., 1 relationship"):
            db.execute(f"STORAGE MODE {ON_DISK}")
        assert info(db)["storage_mode"] == other and count(db) == 2
        db.execute("MATCH (n) DETACH DELETE n")
        db.execute("CREATE INDEX ON :N(k)")
        with pytest.raises(ClientError, match="1 index"):
            db.execute(f"STORAGE MODE {ON_DISK}")
        db.execute("DROP INDEX ON :N(k)")
        db.execute(f"STORAGE MODE {ON_DISK}")
        assert info(db)["storage_mode"] == ON_DISK
        db.execute("CREATE (:N {k: 1})")
        with pytest.raises(ClientError, match="holds 1 node"):
            db.execute(f"STORAGE MODE {other}")
    with weftdb.open(path) as db:  # the switch is kept
        assert info(db)["storage_mode"] == ON_DISK and count(db) == 1
        db.execute("MATCH (n) DELETE n")
        db.execute(f"STORAGE MODE {other}")
        db.execute("CREATE (:N {k: 2})")
    with weftdb.open(path) as db:
        assert info(db)["storage_mode"] == other and db.execute("MATCH (n:N) RETURN n.k").single() == 2
    assert "rocksdb" in set_aside(path)  # never deleted


def test_a_switch_to_the_disk_stops_the_periodic_snapshots(tmp_path):
    with weftdb.open(str(tmp_path), storage_snapshot_interval_sec=1) as db:
        assert info(db)["snapshot_interval_sec"] == 1
        db.execute(f"STORAGE MODE {ON_DISK}")
        db.execute("CREATE (:N)")
        threading.Event().wait(2.5)  # two ticks of the timer the in-memory start began
        assert db.execute("SHOW SNAPSHOTS").rows == [] and info(db)["snapshot_interval_sec"] == 0


def test_a_switch_waits_for_no_one_and_a_replaced_store_sends_its_late_comers_on(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        tx = db.begin()
        with pytest.raises(ClientError, match="1 transaction.s. run"):
            db.execute(f"STORAGE MODE {ON_DISK}")
        tx.rollback()
        old = db.storage
        db.execute(f"STORAGE MODE {ON_DISK}")
        with pytest.raises(TransientError, match="run it again"):
            old.begin()  # a caller that still held the in-memory store
        old_disk = db.storage
        db.execute(f"STORAGE MODE {TRANSACTIONAL}")
        with pytest.raises(TransientError, match="run it again"):
            old_disk.begin()
        db.execute("CREATE (:N)")
        assert count(db) == 1


def test_a_crash_inside_a_switch_is_finished_at_the_next_start(tmp_path):
    """The mode file is written first: if the process dies before the
    in-memory files are set aside, the next start sets them aside."""
    from weftdb.durability import storage_mode
    from weftdb.durability.files import FileSystem
    from weftdb.durability.layout import Layout

    path = str(tmp_path)
    with weftdb.open(path) as db:
        db.execute("CREATE (:N)")
        db.execute("MATCH (n) DELETE n")
        db_uuid = db.durability.db_uuid
    storage_mode.write(FileSystem(), Layout(path), db_uuid, ON_DISK)  # where the crash left it
    with weftdb.open(path) as db:
        assert info(db)["storage_mode"] == ON_DISK and count(db) == 0
        db.execute("CREATE (:N)")
    assert {"wal", "snapshots"} <= set(set_aside(path))
    with weftdb.open(path) as db:
        assert count(db) == 1


def test_create_snapshot_is_a_rocksdb_checkpoint_kept_by_retention(tmp_path):
    path = str(tmp_path)
    with weftdb.open(path, storage_mode=ON_DISK, storage_snapshot_retention_count=2) as db:
        made = []
        for i in range(3):
            db.execute("CREATE (:N {i: $i})", {"i": i})
            made.append(db.execute("CREATE SNAPSHOT").single())
        assert db.execute("CREATE SNAPSHOT").single() == made[-1]  # nothing new: the newest one
        listed = [row[0] for row in db.execute("SHOW SNAPSHOTS").rows]
        assert listed == made[:0:-1] and not os.path.exists(made[0])
        db.execute("LOCK DATA DIRECTORY")
        db.execute("CREATE (:N {i: 3})")
        db.execute("CREATE SNAPSHOT")
        assert len(db.execute("SHOW SNAPSHOTS").rows) == 3  # nothing deleted while locked
        db.execute("UNLOCK DATA DIRECTORY")
        assert os.path.exists(made[2]) and not os.path.exists(made[1])
        db.execute("CREATE (:N {i: 4})")
    store = DiskStore(made[2])  # a checkpoint opens as it is, at its commit
    tx = store.begin()
    assert sorted(tx.get(v, "i") for v in tx.scan_vertices()) == [0, 1, 2]
    tx.commit()
    store.close()


WRITER = textwrap.dedent("""
    import os, sys, threading, weftdb
    db = weftdb.open(sys.argv[1], storage_mode="ON_DISK_TRANSACTIONAL", storage_snapshot_retention_count=2)

    def compact():  # the kill lands in a compaction as often as not
        while True:
            for family in db.storage.families.values():
                family.compact_range(None, None)

    threading.Thread(target=compact, daemon=True).start()
    k = db.execute("MATCH (n:N) RETURN coalesce(max(n.k), 0)").single()
    if k == 0:
        db.execute("CREATE INDEX ON :N(k)")
    while True:
        k += 1
        db.execute("MATCH (p:N {k: $p}) CREATE (p)-[:NEXT]->(:N {k: $k})" if k > 1 else "CREATE (:N {k: 1})",
                   {"p": k - 1, "k": k})
        os.write(1, f"{k}\\n".encode())
        if k % 40 == 0:
            db.execute("CREATE SNAPSHOT")
""")


def test_kill9_during_writes_compactions_and_checkpoints_loses_no_acknowledged_commit(tmp_path):
    path = str(tmp_path)
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE,
                                env=dict(os.environ, PYTHONPATH=ROOT))
        acknowledged = 0
        for _ in range(60 + 17 * round_):
            acknowledged = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with weftdb.open(path) as db:
            keys = sorted(r[0] for r in db.execute("MATCH (n:N) RETURN n.k").rows)
            assert keys == list(range(1, len(keys) + 1)) and len(keys) >= acknowledged
            assert db.execute("MATCH (:N)-[r:NEXT]->(:N) RETURN count(r)").single() == len(keys) - 1
            assert db.execute("MATCH (n:N {k: $k}) RETURN count(n)", {"k": acknowledged}).single() == 1
    snapshots = os.listdir(os.path.join(path, "snapshots"))
    assert snapshots and all(name.endswith(".rocksdb") for name in snapshots)  # no temporary left


def test_a_graph_larger_than_the_memory_limit_stays_within_it(tmp_path):
    """16 MiB for RocksDB, a graph of more than three times that on disk:
    every node is read back, and RocksDB's cache (its write buffers charged
    to it) stays within the limit plus the last transaction's batch, which
    enters a write buffer whole (here about 1 MiB)."""
    limit = 16 * 2**20
    with weftdb.open(str(tmp_path), storage_mode=ON_DISK, storage_on_disk_memory_mb=16) as db:
        for start in range(0, 200_000, 2_000):  # random padding: RocksDB compresses what repeats
            rows = [{"i": i, "pad": base64.b64encode(os.urandom(300)).decode()} for i in range(start, start + 2_000)]
            db.execute("UNWIND $rows AS row CREATE (:N {i: row.i, pad: row.pad})", {"rows": rows})
        store = db.storage
        assert store._cache.get_usage() <= limit + 2 * 2**20
        store.db.flush()
        on_disk = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(str(tmp_path / "rocksdb")) for f in fs)
        assert on_disk > 3 * limit
        assert db.execute("MATCH (n:N) RETURN count(n), sum(n.i)").rows == [(200_000, sum(range(200_000)))]
        assert 0 < store._cache.get_usage() <= limit + 2 * 2**20


def test_writers_on_the_disk_conflict_first_writer_wins_across_threads(tmp_path):
    with weftdb.open(str(tmp_path), storage_mode=ON_DISK) as db:
        db.execute("CREATE (:C {n: 0})")
        errors, done = [], []

        def bump():
            for _ in range(20):
                while True:
                    try:
                        db.execute("MATCH (c:C) SET c.n = c.n + 1")
                        done.append(1)
                        break
                    except TransientError as exc:
                        errors.append(exc)

        threads = [threading.Thread(target=bump) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert db.execute("MATCH (c:C) RETURN c.n").single() == 80 == len(done)


def test_verify_reads_the_store_and_its_checkpoints_and_finds_a_flipped_bit(tmp_path):
    """A flipped bit in a table file: rocksdict's iterators end silently at a
    damaged block, so every read checks why one ended (disk_store._valid)."""
    from click.testing import CliRunner

    from weftdb.cli import main

    path = str(tmp_path)
    with weftdb.open(path, storage_mode=ON_DISK) as db:
        db.execute("UNWIND range(1, 2000) AS i CREATE (:N {i: i, s: 'text ' + toString(i)})-[:R]->(:M)")
        db.execute("CREATE SNAPSHOT")
        db.storage.db.flush()
    result = CliRunner().invoke(main, ["verify", path])
    assert result.exit_code == 0, result.output
    assert "rocksdb\t1\t4000\t2000" in result.output and ".rocksdb\t1\t4000\t2000" in result.output
    tables = sorted((os.path.getsize(os.path.join(path, "rocksdb", name)), name)
                    for name in os.listdir(os.path.join(path, "rocksdb")) if name.endswith(".sst"))
    damaged = os.path.join(path, "rocksdb", tables[-1][1])
    with open(damaged, "r+b") as handle:  # a bit in the middle of the largest table's data blocks
        handle.seek(tables[-1][0] // 3)
        byte = handle.read(1)
        handle.seek(tables[-1][0] // 3)
        handle.write(bytes([byte[0] ^ 0x10]))
    result = CliRunner().invoke(main, ["verify", path])
    # the checkpoint shares the table file (a hard link): it is damaged too (docs/storage-modes.md)
    assert result.exit_code == 1 and result.output.count("block checksum mismatch") == 2, result.output
    with weftdb.open(path) as db:  # a query that meets the damage fails; it never answers from part of the data
        with pytest.raises(DurabilityError, match="checksum mismatch"):
            db.execute("MATCH (n) RETURN count(n)")
        assert db.execute("RETURN 1").single() == 1


def test_a_crash_while_leaving_the_disk_is_finished_and_a_lost_mode_file_refused(tmp_path):
    from weftdb.durability import storage_mode
    from weftdb.durability.files import FileSystem
    from weftdb.durability.layout import Layout

    path = str(tmp_path)
    with weftdb.open(path, storage_mode=ON_DISK) as db:
        db_uuid = db.durability.db_uuid
    storage_mode.write(FileSystem(), Layout(path), db_uuid, TRANSACTIONAL)  # where a crash left the switch
    with weftdb.open(path) as db:
        assert info(db)["storage_mode"] == TRANSACTIONAL and count(db) == 0
        db.execute("CREATE (:N)")
    assert "rocksdb" in set_aside(path) and not os.path.exists(os.path.join(path, "rocksdb"))
    with weftdb.open(str(tmp_path / "other"), storage_mode=ON_DISK) as db:
        db.execute("CREATE (:N)")
    os.remove(str(tmp_path / "other" / "storage_mode.json"))
    with pytest.raises(DurabilityError, match="storage_mode.json is missing"):
        weftdb.open(str(tmp_path / "other"))
    assert os.path.isdir(str(tmp_path / "other" / "rocksdb"))  # nothing moved

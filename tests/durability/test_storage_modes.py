"""Storage modes in a data directory: STORAGE MODE and --storage-mode, the
switching rules, the mode kept across restarts, IN_MEMORY_ANALYTICAL without a
WAL (a snapshot is what makes its writes durable, and while one is written new
transactions wait), the snapshot that lets the WAL start again when leaving it,
and kill -9 while in it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from click.testing import CliRunner

import weftdb
from weftdb.backup.client import backup
from weftdb.backup.service import BackupService
from weftdb.basics import storage_modes
from weftdb.basics.errors import ClientError, DurabilityError
from weftdb.cli import main

ANALYTICAL, TRANSACTIONAL = storage_modes.ANALYTICAL, storage_modes.TRANSACTIONAL
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mode_of(db) -> str:
    return dict(db.execute("SHOW STORAGE INFO").rows)["storage_mode"]


def count(db, label: str = "N") -> int:
    return db.execute(f"MATCH (n:{label}) RETURN count(n)").single()


def snapshot_files(path) -> list[str]:
    return os.listdir(os.path.join(path, "snapshots")) if os.path.isdir(os.path.join(path, "snapshots")) else []


def wal_files(path) -> dict[str, int]:
    wal = os.path.join(path, "wal")
    return {name: os.path.getsize(os.path.join(wal, name)) for name in sorted(os.listdir(wal))}


def test_a_new_directory_is_transactional_and_keeps_no_mode_file_until_a_switch(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        assert mode_of(db) == TRANSACTIONAL
        db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")  # already in it: nothing to do
        assert not (tmp_path / "storage_mode.json").exists()  # a directory of an earlier version stays as it was
        db.execute("STORAGE MODE in_memory_analytical")
        assert mode_of(db) == ANALYTICAL
    kept = json.loads((tmp_path / "storage_mode.json").read_text())
    assert kept["format"] == "weftdb-storage-mode" and kept["version"] == 1 and kept["mode"] == ANALYTICAL


def test_a_restart_comes_back_in_the_mode_and_the_flag_chooses_another(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
        db.execute("UNWIND range(1, 5) AS i CREATE (:N {i: i})")
    with weftdb.open(str(tmp_path)) as db:
        assert mode_of(db) == ANALYTICAL and count(db) == 5  # the snapshot on exit holds them
    with weftdb.open(str(tmp_path), storage_mode="IN_MEMORY_TRANSACTIONAL") as db:
        assert mode_of(db) == TRANSACTIONAL and count(db) == 5
        db.execute("CREATE (:N {i: 6})")
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as db:
        assert mode_of(db) == TRANSACTIONAL and count(db) == 6


def test_analytical_writes_no_wal_and_leaving_it_snapshots_first(tmp_path):
    path = str(tmp_path)
    db = weftdb.open(path, storage_snapshot_on_exit=False)
    db.execute("CREATE (:N {i: 0})")
    db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
    before = wal_files(path)
    db.execute("UNWIND range(1, 100) AS i CREATE (:N {i: i})")
    db.execute("MATCH (n:N {i: 0}) SET n.seen = true")
    info = dict(db.execute("SHOW STORAGE INFO").rows)
    assert wal_files(path) == before and info["wal_enabled"] is False
    assert snapshot_files(path) == []
    db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")
    assert len(snapshot_files(path)) == 1  # what the analytical writes made
    db.execute("CREATE (:N {i: 101})")  # into a WAL that continues from that snapshot
    db.close()  # no snapshot on exit: the last commit is only in the WAL
    with weftdb.open(path) as again:
        assert count(again) == 102 and again.execute("MATCH (n:N {i: 0}) RETURN n.seen").single() is True


def test_leaving_analytical_without_writes_there_writes_no_snapshot(tmp_path):
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as db:
        db.execute("CREATE (:N)")
        db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
        db.execute("MATCH (n) RETURN count(n)")
        db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")
        assert snapshot_files(str(tmp_path)) == []


def test_switching_is_refused_while_another_transaction_runs(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        tx = db.begin()
        tx.execute("CREATE (:N)")
        with pytest.raises(ClientError, match="1 transaction.* run: a storage mode changes only when no other"):
            db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
        assert mode_of(db) == TRANSACTIONAL and not (tmp_path / "storage_mode.json").exists()
        tx.commit()
        db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
        tx = db.begin()
        with pytest.raises(ClientError, match="no other transaction runs"):
            db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")
        tx.rollback()
        assert mode_of(db) == ANALYTICAL


def test_an_unknown_mode_is_refused_clearly(tmp_path):
    with weftdb.open(str(tmp_path / "b")) as db:
        with pytest.raises(ClientError, match="unknown storage mode FAST"):
            db.execute("STORAGE MODE FAST")
        assert db.execute("RETURN 1").single() == 1
    result = CliRunner().invoke(main, ["serve", "--storage-mode", "fast", "--data-directory", str(tmp_path / "c")])
    assert result.exit_code == 2 and "--storage-mode" in result.output and "IN_MEMORY_ANALYTICAL" in result.output


@pytest.mark.parametrize("content, reason", [
    ("not json", "cannot read the storage mode"),
    ('{"format": "weftdb-storage-mode", "version": 9}', "version 9"),
    ('{"format": "weftdb-storage-mode", "version": 1, "database_uuid": "x", "mode": "IN_MEMORY_ANALYTICAL"}',
     "of database x"),
])
def test_a_damaged_mode_file_stops_the_start_naming_it(tmp_path, content, reason):
    weftdb.open(str(tmp_path)).close()
    (tmp_path / "storage_mode.json").write_text(content)
    with pytest.raises(DurabilityError, match=f"storage_mode.json: .*{reason}"):
        weftdb.open(str(tmp_path))
    assert (tmp_path / "storage_mode.json").read_text() == content  # nothing rewritten by a failed start


def test_a_snapshot_in_analytical_waits_for_running_transactions_and_holds_new_ones(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
        writer = db.begin()
        writer.execute("CREATE (:N {i: 1})")
        snapshot: dict = {}
        taker = threading.Thread(target=lambda: snapshot.update(path=db.execute("CREATE SNAPSHOT").single()))
        taker.start()
        deadline = time.monotonic() + 10
        while db.storage._quiet_holder is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert db.storage._quiet_holder is not None and taker.is_alive()  # waiting for the writer
        started = threading.Event()
        newcomer = threading.Thread(target=lambda: (db.execute("RETURN 1"), started.set()))
        newcomer.start()
        assert not started.wait(0.3)  # a new transaction waits while the snapshot is pending
        writer.commit()
        taker.join(10)
        assert started.wait(10)
        newcomer.join(10)
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as again:
        assert count(again) == 1 and os.path.basename(snapshot["path"]).startswith("0" * 19 + "1")


def test_a_snapshot_gives_up_on_a_transaction_that_stays_open(tmp_path, monkeypatch):
    from weftdb.graph import storage

    monkeypatch.setattr(storage, "QUIET_WAIT_SEC", 0.2)
    with weftdb.open(str(tmp_path), storage_mode="IN_MEMORY_ANALYTICAL") as db:
        idle = db.begin()
        with pytest.raises(ClientError, match="1 transaction.* still run after 0.2 s: in IN_MEMORY_ANALYTICAL a snapshot.*TERMINATE TRANSACTIONS"):
            db.execute("CREATE SNAPSHOT")
        assert db.execute("RETURN 2").single() == 2  # new transactions start again
        idle.rollback()


def test_what_needs_a_wal_says_the_mode_has_none(tmp_path):
    with weftdb.open(str(tmp_path / "source"), storage_mode="IN_MEMORY_ANALYTICAL") as db:
        db.execute("CREATE (:N)")
        with pytest.raises(ClientError, match="CHECKPOINT CREATE needs the WAL, and the database is in IN_MEMORY_ANALYTICAL"):
            db.execute("CHECKPOINT CREATE")
        service = BackupService(db, "127.0.0.1", 0).start()
        try:
            to = str(tmp_path / "backup")
            backup(f"127.0.0.1:{service.port}", to, kind="full")  # a snapshot, taken with the store held quiet
            db.execute("CREATE (:N)")
            summary = backup(f"127.0.0.1:{service.port}", to, kind="incremental")  # no WAL to send: a full one
            assert summary.kind == "full" and "IN_MEMORY_ANALYTICAL, which writes no WAL" in summary.messages[0]
        finally:
            service.stop()
        assert [row[0] for row in db.execute("DUMP DATABASE").rows][0].startswith("CREATE (:__mg_vertex__")


WRITER = textwrap.dedent("""
    import os, sys
    import weftdb
    db = weftdb.open(sys.argv[1], storage_mode="IN_MEMORY_ANALYTICAL", storage_snapshot_on_exit=False)
    k = int(sys.argv[2])
    while True:
        k += 1
        db.execute("MATCH (p:N {k: $p}) CREATE (p)-[:NEXT]->(:N {k: $k})" if k > 1 else "CREATE (:N {k: 1})",
                   {"p": k - 1, "k": k})
        if k % 50 == 0:
            db.execute("CREATE SNAPSHOT")
            os.write(1, f"durable {k}\\n".encode())
""")


def test_kill9_in_analytical_keeps_what_the_last_snapshot_holds(tmp_path):
    """Acknowledged there means held by a snapshot: each round kills the writer
    at a random moment and the directory comes back with a whole chain, at
    least up to the last snapshot that returned, never a part of a statement."""
    path, last = str(tmp_path), 0
    for round_ in range(4):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, path, str(last)], stdout=subprocess.PIPE,
                                env=dict(os.environ, PYTHONPATH=ROOT))
        durable = last
        while durable < last + 100 + 25 * round_:
            line = proc.stdout.readline().decode()
            assert line.startswith("durable "), line
            durable = int(line.split()[1])
        time.sleep(0.05 * round_)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with weftdb.open(path, storage_snapshot_on_exit=False) as db:
            assert mode_of(db) == ANALYTICAL
            keys = sorted(r[0] for r in db.execute("MATCH (n:N) RETURN n.k").rows)
            assert keys == list(range(1, len(keys) + 1)) and len(keys) >= durable
            assert db.execute("MATCH (:N)-[r:NEXT]->(:N) RETURN count(r)").single() == len(keys) - 1
            last = len(keys)


def test_a_new_analytical_directory_killed_before_its_first_snapshot_starts_again(tmp_path):
    """Its mode file is its only file: the database is the one it names, empty."""
    path = str(tmp_path)
    proc = subprocess.run([sys.executable, "-c", "import os, weftdb; db = weftdb.open(os.sys.argv[1], "
                           "storage_mode='IN_MEMORY_ANALYTICAL'); db.execute('CREATE (:N)'); os._exit(0)", path],
                          env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert not [name for _, _, files in os.walk(path) for name in files if name.endswith((".snapshot", ".wal"))]
    with weftdb.open(path) as db:
        assert mode_of(db) == ANALYTICAL and db.execute("MATCH (n) RETURN count(n)").single() == 0


def _crash_db(path, **flags):
    from crashfs import CrashFS

    from weftdb.basics.config import Config
    from weftdb.database import Database

    fs = CrashFS(path)
    return Database(path, Config.load({"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False, **flags}),
                    fs=fs), fs


def test_a_failed_write_of_the_mode_file_leaves_the_mode_as_it_was(tmp_path):
    db, fs = _crash_db(str(tmp_path))
    db.execute("CREATE (:N)")
    fs.fail_fsync(path_contains="storage_mode")
    with pytest.raises(DurabilityError):
        db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
    fs.clear_faults()
    assert mode_of(db) == TRANSACTIONAL and dict(db.execute("SHOW STORAGE INFO").rows)["wal_enabled"] is True
    db.execute("CREATE (:N)")  # still serving, into the WAL
    db.close()
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as again:
        assert mode_of(again) == TRANSACTIONAL and count(again) == 2


def test_a_full_disk_while_leaving_analytical_keeps_it_analytical_and_nothing_is_lost(tmp_path):
    db, fs = _crash_db(str(tmp_path))
    db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
    db.execute("UNWIND range(1, 500) AS i CREATE (:N {i: i, text: 'x' + toString(i)})")
    fs.fail_writes_after(100)
    with pytest.raises(Exception, match="snapshot could not be written"):
        db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")
    fs.clear_faults()
    assert mode_of(db) == ANALYTICAL and count(db) == 500
    db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")  # the disk has room again
    db.execute("CREATE (:N {i: 501})")
    fs.crash()  # a power cut: what is on disk is what was made durable
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as again:
        assert mode_of(again) == TRANSACTIONAL and count(again) == 501


@pytest.mark.parametrize("cut", range(6))
def test_a_power_cut_at_each_fsync_of_a_switch_back_loses_no_commit(tmp_path, cut):
    """Leaving the analytical mode fsyncs a snapshot, the mode file and the new
    WAL segment; a power cut before any one of them comes back with every
    commit a snapshot or the WAL had made durable, in a mode that matches
    what is on disk, and never a WAL that skips commits."""
    db, fs = _crash_db(str(tmp_path))
    db.execute("CREATE (:N {i: 0})")  # in the WAL
    db.execute("STORAGE MODE IN_MEMORY_ANALYTICAL")
    db.execute("UNWIND range(1, 20) AS i CREATE (:N {i: i})")  # in memory only, until a snapshot
    fs.fail_fsync(after=cut)
    try:
        db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")
        switched = True
    except (DurabilityError, OSError):  # an fsync error: the switch did not happen
        switched = False
        assert mode_of(db) == ANALYTICAL and dict(db.execute("SHOW STORAGE INFO").rows)["wal_enabled"] is False
    acknowledged = False
    if switched:
        try:
            db.execute("CREATE (:N {i: 21})")
            acknowledged = True
        except (DurabilityError, OSError):  # the WAL's fsync failed: not acknowledged
            pass
    fs.crash()
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as again:
        keys = sorted(r[0] for r in again.execute("MATCH (n:N) RETURN n.i").rows)
        assert keys in ([0], list(range(0, 21)), list(range(0, 22)))
        if switched:  # it returned once its snapshot was durable
            assert keys[:21] == list(range(0, 21)) and mode_of(again) == TRANSACTIONAL
        if acknowledged:
            assert keys == list(range(0, 22))


def test_a_dump_restores_into_the_analytical_mode(tmp_path):
    """`weftdb dump` of a transactional directory, `weftdb import` into one
    started in IN_MEMORY_ANALYTICAL: the same graph, dumped again the same,
    and there after a restart (the import's close writes the snapshot)."""
    source = str(tmp_path / "source")
    with weftdb.open(source) as db:
        db.execute("CREATE INDEX ON :P(k)")
        db.execute("UNWIND range(1, 50) AS i CREATE (:P {k: i})-[:R {w: i * 0.5}]->(:Q {name: 'q' + toString(i)})")
        before = [row[0] for row in db.execute("DUMP DATABASE").rows]
    runner = CliRunner()
    dumped = runner.invoke(main, ["dump", "--data-directory", source, "--to", str(tmp_path / "graph.cypherl")])
    assert dumped.exit_code == 0, dumped.output
    target = str(tmp_path / "target")
    imported = runner.invoke(main, ["import", str(tmp_path / "graph.cypherl"), "--data-directory", target,
                                    "--storage-mode", "IN_MEMORY_ANALYTICAL"])
    assert imported.exit_code == 0, imported.output
    with weftdb.open(target) as db:
        assert mode_of(db) == ANALYTICAL
        assert [row[0] for row in db.execute("DUMP DATABASE").rows] == before


def test_lock_data_directory_holds_deletions_in_the_analytical_mode(tmp_path):
    with weftdb.open(str(tmp_path), storage_mode="IN_MEMORY_ANALYTICAL", storage_snapshot_retention_count=1) as db:
        db.execute("CREATE (:N)")
        first = db.execute("CREATE SNAPSHOT").single()
        db.execute("LOCK DATA DIRECTORY")
        db.execute("CREATE (:N)")
        db.execute("CREATE SNAPSHOT")
        assert os.path.exists(first)  # retention keeps one, but the directory is locked
        db.execute("UNLOCK DATA DIRECTORY")
        assert not os.path.exists(first)


def test_recovery_off_sets_the_old_mode_aside_with_the_old_data(tmp_path):
    """--storage-recover-on-startup=false starts a new, empty database: the
    old one's mode file goes aside with its files, the new one starts in the
    flag's mode or the default."""
    with weftdb.open(str(tmp_path), storage_mode="IN_MEMORY_ANALYTICAL") as db:
        db.execute("CREATE (:N)")
    with weftdb.open(str(tmp_path), storage_recover_on_startup=False) as db:
        assert mode_of(db) == TRANSACTIONAL and count(db) == 0
    aside = [os.path.join(root, name) for root, _, names in os.walk(tmp_path / ".old") for name in names]
    assert any(path.endswith("storage_mode.json") for path in aside)
    with weftdb.open(str(tmp_path), storage_recover_on_startup=False, storage_mode="IN_MEMORY_ANALYTICAL") as db:
        assert mode_of(db) == ANALYTICAL


def test_a_restore_over_an_analytical_directory_starts_transactional(tmp_path):
    """`weftdb restore --overwrite` replaces the database, mode file included:
    the restored one (another UUID) opens, in IN_MEMORY_TRANSACTIONAL."""
    from weftdb.backup.restore import restore

    with weftdb.open(str(tmp_path / "source")) as db:
        db.execute("UNWIND range(1, 7) AS i CREATE (:N {i: i})")
        service = BackupService(db, "127.0.0.1", 0).start()
        try:
            backup(f"127.0.0.1:{service.port}", str(tmp_path / "backup"), kind="full")
        finally:
            service.stop()
    target = str(tmp_path / "target")
    with weftdb.open(target, storage_mode="IN_MEMORY_ANALYTICAL") as db:
        db.execute("CREATE (:Old)")
    restore(str(tmp_path / "backup"), target, overwrite=True)
    with weftdb.open(target) as db:
        assert mode_of(db) == TRANSACTIONAL and count(db) == 7 and count(db, "Old") == 0

"""Disk faults, a second process, the data-directory lock, retention, and snapshots under load.

Why each:

* fsync EIO and ENOSPC: after a failed fsync the kernel may have dropped the
  dirty pages, so the commit must not be acknowledged, the writer must refuse
  everything after it (never retry), reads must go on, and a restart must find
  every acknowledged transaction and no half record (DESIGN.md invariant 3).
  The faults come from CrashFS (crashfs.py) passed as `Database(fs=...)`.
* a second process opening the same directory would interleave WAL records:
  it must fail at once, naming the holder's PID (invariant 7).
* `LOCK DATA DIRECTORY` is how an operator copies files safely: nothing may be
  deleted while it holds (invariant 6), and the statuses are Memgraph's.
* retention must never delete what recovery needs: after it, recovery (and a
  fallback to the oldest kept snapshot) still yields the true state.
* a snapshot written while four threads commit is the state at its commit
  timestamp — checked by loading that snapshot alone.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import threading

import pytest
from crashfs import CrashFS
from graphstate import cheap_scrypt, state_of

import weftdb
from weftdb.basics.config import Config
from weftdb.basics.errors import DataDirectoryLocked, DurabilityError
from weftdb.database import Database
from weftdb.durability import snapshot as snapshot_mod
from weftdb.durability.files import FileSystem
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.wal_reader import WalReader

QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(autouse=True)
def _cheap(monkeypatch):
    cheap_scrypt(monkeypatch)


def crash_db(path, **flags):
    fs = CrashFS(path)
    return Database(path, Config.load({**QUIET, **flags}), fs=fs), fs


def open_state(path, **flags):
    db = weftdb.open(path, **{**QUIET, **flags})
    try:
        return state_of(db.storage)
    finally:
        db.close()


def ids(db):
    return sorted(i for (i,) in db.execute("MATCH (n:N) RETURN n.i").rows)


def add(db, i):
    db.execute("CREATE (n:N {i: $i, pad: $pad}) SET n.done = true", {"i": i, "pad": "p" * 100})


# --- EIO and ENOSPC ---------------------------------------------------------------------------


@pytest.mark.parametrize("crash_after", [False, True])
def test_fsync_eio_fails_the_commit_and_every_later_write(tmp_path, crash_after):
    path = str(tmp_path / "db")
    db, fs = crash_db(path)
    for i in range(3):
        add(db, i)
    acked = state_of(db.storage)
    fs.fail_fsync(errno.EIO)
    with pytest.raises(DurabilityError) as err:
        add(db, 3)
    assert "Input/output error" in str(err.value) and "EIO" in str(err.value)
    fs.clear_faults()  # even with the disk "back", the writer never retries
    with pytest.raises(DurabilityError) as later:
        add(db, 4)
    assert "refuses writes" in str(later.value)
    assert ids(db) == [0, 1, 2]  # reads go on, and do not see the failed commit
    assert state_of(db.storage) == acked
    db.close()  # no on-exit snapshot from a failed database; the lock is released
    if crash_after:
        fs.crash()  # the failed fsync's data never reached the disk
        assert open_state(path) == acked
    else:  # the bytes may have reached the disk after all: then the whole transaction is back
        recovered = open_state(path)
        assert recovered == acked or {i for (_, _, props) in recovered[0] for k, i in props if k == "i"} == {0, 1, 2, 3}
    db = weftdb.open(path, **QUIET)  # writes work again after the restart
    try:
        add(db, 10)
        assert 10 in ids(db) and {0, 1, 2} <= set(ids(db))
    finally:
        db.close()


def test_schema_change_refused_by_a_failed_wal_is_not_in_effect(tmp_path):
    path = str(tmp_path / "db")
    db, fs = crash_db(path)
    add(db, 0)
    fs.fail_fsync(errno.EIO)
    with pytest.raises(DurabilityError):
        add(db, 1)
    with pytest.raises(DurabilityError):
        db.execute("CREATE INDEX ON :N(i)")
    try:
        assert not db.storage.indexes.by_property
    finally:
        db.close()


@pytest.mark.parametrize("budget", [0, 60, 150, 900, 2100, 5000])
def test_enospc_fails_cleanly_and_writes_resume_after_space_is_freed(tmp_path, budget):
    """The budget runs out mid-record, mid-header or while a new segment is zero-filled."""
    path = str(tmp_path / "db")
    db, fs = crash_db(path, storage_wal_file_size_kib=2)
    add(db, 0)
    fs.fail_writes_after(budget)
    acked, failed = [0], None
    for i in range(1, 60):
        try:
            add(db, i)
            acked.append(i)
        except DurabilityError as exc:
            failed = exc
            break
    assert failed is not None, "the disk never filled"
    assert "No space left on device" in str(failed) and "ENOSPC" in str(failed)
    with pytest.raises(DurabilityError):
        add(db, 100)
    assert ids(db) == acked
    db.close()
    fs.clear_faults()  # space freed
    reader = WalReader(FileSystem(), os.path.join(path, "wal"))
    list(reader.records())
    assert reader.torn_tail is None, f"a partial record was left behind: {reader.torn_tail}"
    assert not [n for n in os.listdir(os.path.join(path, "wal")) if n.endswith(".tmp")]
    fs.crash()  # and a power cut on top: every acknowledged commit was fsynced
    db = weftdb.open(path, **QUIET)  # the operator restarts
    try:
        assert ids(db) == acked
        add(db, 200)
        assert ids(db) == acked + [200]
    finally:
        db.close()
    assert len(open_state(path)[0]) == len(acked) + 1


# --- one process per directory -------------------------------------------------------------


def test_second_process_fails_at_once_naming_the_pid(tmp_path):
    path = str(tmp_path / "db")
    db = weftdb.open(path, **QUIET)
    try:
        with pytest.raises(DataDirectoryLocked) as err:
            weftdb.open(path, **QUIET)
        assert f"PID {os.getpid()}" in str(err.value)
        code = (
            "import sys, weftdb\n"
            "try:\n"
            f"    weftdb.open({path!r}, storage_snapshot_on_exit=False)\n"
            "except weftdb.DataDirectoryLocked as e:\n"
            "    print(e); sys.exit(3)\n"
        )
        env = dict(os.environ, PYTHONPATH=ROOT)
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 3, done.stderr
        assert f"PID {os.getpid()}" in done.stdout and path in done.stdout
    finally:
        db.close()
    weftdb.open(path, **QUIET).close()  # released with the database


# --- LOCK DATA DIRECTORY ----------------------------------------------------------------------


def status(db, statement):
    result = db.execute(statement)
    assert result.columns == ["STATUS"]
    (row,) = result.rows
    return row[0]


def test_lock_data_directory_defers_deletions_until_unlock(tmp_path):
    path = str(tmp_path / "db")
    db = weftdb.open(path, **QUIET, storage_snapshot_retention_count=1, storage_wal_file_size_kib=1)
    try:
        snaps = os.path.join(path, "snapshots")
        assert status(db, "DATA DIRECTORY LOCK STATUS") == "Data directory is unlocked."
        assert status(db, "UNLOCK DATA DIRECTORY") == "Data directory is already unlocked."
        for i in range(8):
            add(db, i)
        db.execute("CREATE SNAPSHOT")
        assert len(os.listdir(snaps)) == 1
        assert status(db, "LOCK DATA DIRECTORY") == "Data directory is now locked."
        assert status(db, "LOCK DATA DIRECTORY") == "Data directory is already locked."
        assert status(db, "DATA DIRECTORY LOCK STATUS") == "Data directory is locked."
        with db.transaction() as tx:  # administration statements run in a transaction too, at once
            assert tx.execute("DATA DIRECTORY LOCK STATUS").rows == [("Data directory is locked.",)]
        before_wal = set(os.listdir(os.path.join(path, "wal")))
        for round_ in range(3):
            for i in range(8):
                add(db, 100 * (round_ + 1) + i)
            db.execute("CREATE SNAPSHOT")
        assert len(os.listdir(snaps)) == 4, "a snapshot was deleted while the directory was locked"
        assert before_wal <= set(os.listdir(os.path.join(path, "wal"))), "a WAL segment was deleted while locked"
        assert len(db.durability.retention.deferred) >= 3
        state = state_of(db.storage)
        assert status(db, "UNLOCK DATA DIRECTORY") == "Data directory is now unlocked."
        assert status(db, "DATA DIRECTORY LOCK STATUS") == "Data directory is unlocked."
        assert len(os.listdir(snaps)) == 1
        assert not before_wal & set(os.listdir(os.path.join(path, "wal"))) - {max(before_wal)}
    finally:
        db.close()
    assert open_state(path) == state


# --- retention ---------------------------------------------------------------------------------


def test_retention_keeps_n_snapshots_and_the_wal_they_need(tmp_path):
    path = str(tmp_path / "db")
    flags = dict(QUIET, storage_snapshot_retention_count=2, storage_wal_file_size_kib=1)
    db = weftdb.open(path, **flags)
    try:
        for round_ in range(5):
            for i in range(6):
                add(db, round_ * 10 + i)
            db.execute("CREATE SNAPSHOT")
        for i in range(3):
            add(db, 90 + i)
        state = state_of(db.storage)
        last_ts = db.storage.last_commit_ts
    finally:
        db.close()
    snaps = snapshot_mod.list_snapshots(FileSystem(), os.path.join(path, "snapshots"))
    assert len(snaps) == 2
    reader = WalReader(FileSystem(), os.path.join(path, "wal"))
    seqs = [s.sequence for s in reader.segments()]
    assert seqs[0] > 1, "no WAL segment was dropped"
    stamps = [r.decode()[0] for r in reader.records()]
    oldest_kept = snaps[0].commit_ts
    assert stamps[0] <= oldest_kept + 1 and stamps[-1] == last_ts  # the WAL still covers the oldest kept
    assert stamps == list(range(stamps[0], last_ts + 1))
    assert open_state(path, **flags) == state
    os.remove(snaps[1].path)  # without the newest snapshot the oldest kept one + the WAL suffice
    assert open_state(path, **flags) == state


def test_a_snapshot_of_nothing_new_is_not_written(tmp_path):
    """Periodic, on-exit and explicit snapshots taken when nothing was committed
    since the newest one write nothing, so older, different snapshots stay
    within retention: a crash loop or an idle server does not erase history."""
    path = str(tmp_path / "db")
    flags = dict(QUIET, storage_snapshot_retention_count=2, storage_snapshot_on_exit=True)
    with weftdb.open(path, **flags) as db:
        add(db, 1)
        first = db.execute("CREATE SNAPSHOT").rows[0][0]
        add(db, 2)
        second = db.execute("CREATE SNAPSHOT").rows[0][0]
        assert db.execute("CREATE SNAPSHOT").rows[0][0] == second  # the newest one already holds everything
    for _ in range(3):  # restarts that commit nothing: each close would have written a snapshot
        weftdb.open(path, **flags).close()
    snaps = snapshot_mod.list_snapshots(FileSystem(), os.path.join(path, "snapshots"))
    assert [s.path for s in snaps] == [first, second]


# --- a snapshot under concurrent writes ------------------------------------------------------


def test_snapshot_during_concurrent_writes_is_the_state_at_its_timestamp(tmp_path):
    path = str(tmp_path / "db")
    db = weftdb.open(path, **QUIET, storage_items_per_batch=5)
    for t in range(4):
        db.execute("CREATE (:Counter {t: $t, v: 0})", {"t": t})
    log: list[tuple[int, int, int]] = []  # (commit ts, thread, k)
    log_lock = threading.Lock()
    stop = threading.Event()
    warmed = threading.Barrier(5)
    errors = []

    def writer(t):
        try:
            for k in range(1, 100_000):
                tx = db.begin()
                tx.execute("MATCH (c:Counter {t: $t}) SET c.v = $k CREATE (:Item {t: $t, k: $k})", {"t": t, "k": k})
                tx.commit()
                with log_lock:
                    log.append((tx._tx.info.commit_ts, t, k))
                if k == 20:
                    warmed.wait(30)
                if stop.is_set() and k > 40:
                    return
        except Exception as exc:  # surfaced below
            errors.append(exc)
            warmed.abort()

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    try:
        warmed.wait(30)  # every writer is committing
        paths = [db.execute("CREATE SNAPSHOT").rows[0][0] for _ in range(3)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        db.close()
    assert not errors, errors
    for n, snap in enumerate(paths):  # two fast snapshots may share a timestamp: nothing committed between them
        ts = SnapshotReader(FileSystem(), snap).header["commit_ts"]
        assert any(c > ts for c, _, _ in log) and any(c <= ts for c, _, _ in log[4:])  # taken mid-stream
        expected_items = {(t, k) for c, t, k in log if c <= ts}
        expected_counters = {t: max([k for c, tt, k in log if tt == t and c <= ts], default=0) for t in range(4)}
        alone = str(tmp_path / f"alone{n}")
        os.makedirs(os.path.join(alone, "snapshots"))
        os.makedirs(os.path.join(alone, "wal"))
        shutil.copy(snap, os.path.join(alone, "snapshots"))
        copy = weftdb.open(alone, **QUIET)
        try:
            items = set(copy.execute("MATCH (i:Item) RETURN i.t, i.k").rows)
            counters = dict(copy.execute("MATCH (c:Counter) RETURN c.t, c.v").rows)
            assert copy.storage.last_commit_ts == ts
        finally:
            copy.close()
        assert items == expected_items
        assert counters == expected_counters


@pytest.mark.parametrize("fault", ["eio", "enospc"])
def test_a_failed_snapshot_leaves_no_file_and_the_wal_goes_on(tmp_path, fault):
    """A snapshot is not the commit path: its failure is reported to whoever asked
    for it, leaves nothing under snapshots/, and does not stop writes."""
    path = str(tmp_path / "db")
    db, fs = crash_db(path)
    try:
        for i in range(5):
            add(db, i)
        if fault == "eio":
            fs.fail_fsync(errno.EIO, path_contains="snapshots")
        else:
            fs.fail_writes_after(100)
        with pytest.raises(DurabilityError):
            db.execute("CREATE SNAPSHOT")
        assert os.listdir(os.path.join(path, "snapshots")) == []
        fs.clear_faults()
        add(db, 5)  # the WAL was not touched by the failure
        db.execute("CREATE SNAPSHOT")
        add(db, 6)
        state = state_of(db.storage)
    finally:
        db.close()
    fs.crash()
    assert open_state(path) == state

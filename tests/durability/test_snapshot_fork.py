"""Snapshots written by a forked child (--storage-snapshot-fork, the default):
the file is the graph at its commit while writers go on, the child's failures
and its death reach the caller with nothing left behind, and a parent killed
mid-snapshot leaves its data directory free for the next process at once."""

import errno
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

import weftdb
from weftdb.durability import snapshot_file
from weftdb.durability.files import FileSystem


@pytest.fixture
def forks(monkeypatch):
    """The children forked in this test, counted in the parent."""
    made = []
    real = os.fork

    def counted():
        pid = real()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counted)
    return made


def in_child_only(monkeypatch, fail):
    """Make FileSystem._pwrite call `fail` in any process but this one."""
    parent, real = os.getpid(), FileSystem._pwrite

    def pwrite(self, fd, data, offset, durable=False):
        if os.getpid() != parent:
            fail()
        return real(self, fd, data, offset, durable)

    monkeypatch.setattr(FileSystem, "_pwrite", pwrite)


def snapshot_files(directory):
    return sorted(os.listdir(os.path.join(directory, "snapshots")))


def test_a_forked_snapshot_holds_exactly_the_commits_before_it(tmp_path, forks):
    db = weftdb.open(str(tmp_path), storage_snapshot_interval_sec=0, storage_snapshot_on_exit=False,
                     storage_items_per_batch=500)
    db.execute("UNWIND range(0, 19999) AS i CREATE (:N {i: i})")
    stop, made = threading.Event(), [20_000]

    def writer():
        while not stop.is_set():
            db.execute("CREATE (:N {i: $i})", {"i": made[0]})
            made[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        time.sleep(0.05)
        path = db.execute("CREATE SNAPSHOT").rows[0][0]
        time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    db.close()
    assert len(forks) == 1
    reader = snapshot_file.SnapshotReader(FileSystem(), path)
    seen = sorted(item[3]["i"] for batch in reader.vertex_batches() for item in batch)
    assert seen == list(range(len(seen)))  # a prefix of the writer's commits, none missing
    assert 20_000 < len(seen) < made[0]  # writes went on while it was written, and are not in it
    assert reader.header["commit_ts"] == int(os.path.basename(path)[:20])


def test_a_failure_in_the_child_reaches_the_caller_and_the_database_goes_on(tmp_path, forks, monkeypatch):
    db = weftdb.open(str(tmp_path), storage_snapshot_interval_sec=0, storage_snapshot_on_exit=False)
    db.execute("UNWIND range(1, 1000) AS i CREATE (:N {i: i})")

    def full():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    in_child_only(monkeypatch, full)
    with pytest.raises(weftdb.DatabaseError, match="the snapshot could not be written: .*No space left on device"):
        db.execute("CREATE SNAPSHOT")
    assert len(forks) == 1
    assert snapshot_files(tmp_path) == []  # not even the temporary
    db.execute("CREATE (:N {i: 1001})")
    monkeypatch.undo()
    assert db.execute("CREATE SNAPSHOT").rows
    db.close()
    with weftdb.open(str(tmp_path)) as again:
        assert again.execute("MATCH (n:N) RETURN count(n), sum(n.i)").rows == [(1001, 1001 * 1002 // 2)]


def test_a_child_killed_mid_write_fails_the_snapshot_and_leaves_no_file(tmp_path, forks, monkeypatch):
    db = weftdb.open(str(tmp_path), storage_snapshot_interval_sec=0, storage_snapshot_on_exit=False)
    db.execute("UNWIND range(1, 1000) AS i CREATE (:N {i: i})")
    in_child_only(monkeypatch, lambda: os.kill(os.getpid(), signal.SIGKILL))
    with pytest.raises(weftdb.DatabaseError, match="ended without an answer \\(killed by signal 9\\)"):
        db.execute("CREATE SNAPSHOT")
    assert len(forks) == 1
    assert snapshot_files(tmp_path) == []
    assert db.execute("MATCH (n:N) RETURN count(n)").rows == [(1000,)]
    db.close()


def test_a_snapshot_asked_for_from_another_thread_is_forked_from_it(tmp_path, forks):
    """A server asks from a worker thread, the periodic snapshot from its timer's."""
    db = weftdb.open(str(tmp_path), storage_snapshot_interval_sec=0, storage_snapshot_on_exit=False)
    db.execute("UNWIND range(1, 100) AS i CREATE (:N {i: i})")
    made = []
    thread = threading.Thread(target=lambda: made.append(db.execute("CREATE SNAPSHOT").rows[0][0]))
    thread.start()
    thread.join()
    db.close()
    assert len(forks) == 1 and os.path.exists(made[0])
    assert snapshot_file.SnapshotReader(FileSystem(), made[0]).vertex_count == 100


def test_with_the_flag_off_no_child_is_forked(tmp_path, forks):
    db = weftdb.open(str(tmp_path), storage_snapshot_interval_sec=0, storage_snapshot_fork=False)
    db.execute("CREATE (:N)")
    path = db.execute("CREATE SNAPSHOT").rows[0][0]
    db.close()
    assert forks == [] and os.path.exists(path)


SNAPSHOTTER = """
import sys, weftdb
db = weftdb.open(sys.argv[1], storage_snapshot_interval_sec=0, storage_items_per_batch=200)
db.execute("UNWIND range(1, 200000) AS i CREATE (:N {i: i, s: 'some text to write ' + toString(i)})")
print("ready", flush=True)
while True:
    db.execute("CREATE SNAPSHOT")
"""


def children(pid):
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                found += [int(c) for c in f.read().split()]
        except FileNotFoundError:  # a thread that ended meanwhile
            pass
    return found


def gone(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in "ZX"  # a zombie nobody reaps is gone too
    except FileNotFoundError:
        return True


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads children from /proc")
def test_killing_the_parent_mid_snapshot_leaves_the_directory_free_at_once(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SNAPSHOTTER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        deadline = time.monotonic() + 60
        while not (writing := children(proc.pid)):
            assert time.monotonic() < deadline, "no snapshot child appeared"
            time.sleep(0.001)
    finally:
        proc.kill()
        proc.wait()
    # The child may still be running: it holds neither the lock nor any other descriptor of its parent's.
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as db:
        assert db.execute("MATCH (n:N) RETURN count(n)").rows == [(200_000,)]
    deadline = time.monotonic() + 30
    while not all(gone(pid) for pid in writing):
        assert time.monotonic() < deadline, "the orphaned snapshot child went on"
        time.sleep(0.01)
    assert not [name for name in snapshot_files(tmp_path) if name.endswith(".tmp")]

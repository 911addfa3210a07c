"""A power cut at every fsync of a scripted workload loses nothing acknowledged.

The engine runs on CrashFS (crashfs.py), which remembers what was fsynced.
A first run counts the fsyncs (file and directory) of a workload — schema,
creates, property and label changes, deletes, two CREATE SNAPSHOTs with
retention, and WAL segment rotation every few records
(`storage_wal_file_size_kib=1`) — and records the graph after each statement.
Then, for every k, the workload runs again and the power goes at the k-th
fsync: either just before it (it never happens) or just after it (it happened,
but the caller never learned). From then on every file operation fails, and
CrashFS rewrites the directory to what a power cut leaves: unsynced data
dropped (or, in some runs, a prefix of it kept: a torn write), directory
entries not followed by a directory fsync gone or back. The database is then
reopened with the real file layer and must hold exactly the state after the
last acknowledged statement, or after the one in flight — never a mix.

`os.fsync` itself is stubbed out: the model decides what survives, and real
fsyncs would make the ~200 runs take minutes on a slow disk.
"""

from __future__ import annotations

import os
import random
import shutil

import pytest
from crashfs import CrashFS
from graphstate import cheap_scrypt, describe, state_of

from weftdb.basics.config import Config
from weftdb.database import Database

FLAGS = {
    "storage_wal_file_size_kib": 1,
    "storage_snapshot_interval_sec": 0,
    "storage_snapshot_on_exit": False,
    "storage_snapshot_retention_count": 1,
}

WORKLOAD = [
    "CREATE INDEX ON :P(k)",
    *[f"CREATE (:P {{k: {i}, v: '{'x' * (i * 40)}'}})" for i in range(6)],
    "MATCH (a:P {k: 0}), (b:P {k: 1}) CREATE (a)-[:R {w: 1}]->(b)",
    "MATCH (n:P {k: 2}) SET n.v = 'changed', n:Q",
    "MATCH (n:P {k: 3}) DETACH DELETE n",
    "CREATE SNAPSHOT",
    "UNWIND range(10, 14) AS i CREATE (:P {k: i})-[:R {w: i}]->(:T {k: -i})",
    "MATCH (a:P {k: 1})<-[r:R]-() SET r.w = 2, r.note = 'x'",
    "MATCH (n:Q) REMOVE n:Q SET n.v = null",
    "MATCH (:P {k: 10})-[r:R]->() DELETE r",
    "CREATE SNAPSHOT",
    "MATCH (n:T) DETACH DELETE n",
    *[f"CREATE (:P {{k: {i}, big: '{'y' * 300}'}})" for i in range(20, 24)],
    "MATCH (n:P) WHERE n.k >= 20 SET n.big = null",
]


class PowerCut(BaseException):
    """The machine is off: no file operation after the cut takes effect."""


class PowerCutFS(CrashFS):
    """CrashFS that counts fsyncs and cuts the power at the `cut_at`-th one."""

    def __init__(self, root: str, cut_at: int | None = None, after: bool = False):
        super().__init__(root)
        self.fsyncs = 0
        self.cut_at = cut_at
        self.after = after
        self.dead = False

    def _alive(self):
        if self.dead:
            raise PowerCut()

    def _sync_point(self, do):
        self._alive()
        self.fsyncs += 1
        if self.fsyncs == self.cut_at and not self.after:
            self.dead = True
            raise PowerCut()
        do()
        if self.fsyncs == self.cut_at:
            self.dead = True
            raise PowerCut()

    def _fsync(self, fd):  # CrashFS._fdatasync goes through here too
        self._sync_point(lambda: CrashFS._fsync(self, fd))

    def fsync_dir(self, path):
        self._sync_point(lambda: CrashFS.fsync_dir(self, path))

    def _create(self, path, direct=False, mode=0o644):
        self._alive()
        return super()._create(path, direct, mode)

    def open_append(self, path):
        self._alive()
        return super().open_append(path)

    def _pwrite(self, fd, data, offset, durable=False):  # a durable write syncs through _fsync
        self._alive()
        return super()._pwrite(fd, data, offset, durable)

    def _ftruncate(self, fd, size):
        self._alive()
        return super()._ftruncate(fd, size)

    def rename(self, src, dst):
        self._alive()
        return super().rename(src, dst)

    def remove(self, path):
        self._alive()
        return super().remove(path)


@pytest.fixture(autouse=True)
def no_real_fsync(monkeypatch):
    cheap_scrypt(monkeypatch)
    monkeypatch.setattr(os, "fsync", lambda fd: None)
    monkeypatch.setattr(os, "fdatasync", lambda fd: None)


def run_workload(path: str, fs: PowerCutFS) -> tuple[list[tuple], int]:
    """Run WORKLOAD; returns (states after each acknowledged statement, index
    of the statement the power cut interrupted, len(WORKLOAD)+1 if none)."""
    states: list[tuple] = []
    db = None
    try:
        db = Database(path, Config.load(FLAGS), fs=fs)
        states.append(state_of(db.storage))
        for step, statement in enumerate(WORKLOAD, 1):
            db.execute(statement)
            states.append(state_of(db.storage))
        db.close()
        return states, len(WORKLOAD) + 1
    except BaseException:
        if not fs.dead:
            raise  # a failure the power cut did not cause
        if db is not None:
            try:
                db.close()  # every file operation fails now; this only lets the lock go
            except BaseException:
                pass
        return states, len(states)


def reopen_state(path: str, then_write: bool) -> tuple:
    db = Database(path, Config.load(FLAGS))
    try:
        state = state_of(db.storage)
        if then_write:  # the recovered directory takes new commits, and they recover too
            db.execute("CREATE (:After {n: 1})")
            after = state_of(db.storage)
    finally:
        db.close()
    if then_write:
        db = Database(path, Config.load(FLAGS))
        try:
            assert state_of(db.storage) == after
        finally:
            db.close()
    return state


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """States after each statement and the number of fsyncs of a whole run."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "fsync", lambda fd: None)
        mp.setattr(os, "fdatasync", lambda fd: None)
        cheap_scrypt(mp)
        path = str(tmp_path_factory.mktemp("reference") / "data")
        fs = PowerCutFS(path)
        states, interrupted = run_workload(path, fs)
    assert interrupted == len(WORKLOAD) + 1
    segments = os.listdir(os.path.join(path, "wal"))
    assert len(segments) >= 2, segments  # retention removed early ones, rotation made several
    return states, fs.fsyncs


def check_cut(tmp_path, reference, k: int, after: bool, tear: int | None, then_write: bool) -> int:
    states, _ = reference
    path = str(tmp_path / f"cut{k}{'a' if after else 'b'}")
    fs = PowerCutFS(path, cut_at=k, after=after)
    got_states, interrupted = run_workload(path, fs)
    assert fs.dead, f"the power cut at fsync {k} never came"
    assert got_states == states[: len(got_states)]
    fs.crash(tear=tear)
    recovered = reopen_state(path, then_write)
    # statements 1..interrupted-1 were acknowledged; the interrupted one may or may not be there
    allowed = [states[interrupted - 1]] + ([states[interrupted]] if interrupted < len(states) else [])
    assert recovered in allowed, (
        f"power cut {'after' if after else 'before'} fsync {k} (tear {tear}) during statement "
        f"{interrupted}: recovered {describe(recovered)}, acknowledged {describe(allowed[0])}"
    )
    shutil.rmtree(path)
    return interrupted


def test_power_cut_before_each_fsync(tmp_path, reference):
    _, total = reference
    assert total > 30  # the workload exercises many sync points
    hit = {check_cut(tmp_path, reference, k, False, None, k % 7 == 0) for k in range(1, total + 1)}
    assert len(hit) > len(WORKLOAD) // 2  # cuts landed inside many different statements


def test_power_cut_after_each_fsync(tmp_path, reference):
    _, total = reference
    for k in range(1, total + 1):
        check_cut(tmp_path, reference, k, True, None, k % 7 == 3)


def test_power_cut_with_torn_unsynced_writes(tmp_path, reference):
    """Some unsynced bytes reach the disk: a prefix of the pending writes, cut mid-way."""
    _, total = reference
    rng = random.Random(7)
    for k in range(1, total + 1):
        check_cut(tmp_path, reference, k, False, rng.choice([1, 7, 30, 100, 1000, 5000]), k % 5 == 0)

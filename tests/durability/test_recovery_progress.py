"""Recovery reports progress (items/s and an ETA) once it has run for a second,
from a snapshot and from the WAL. A fake clock makes every step take 0.4 s."""

import itertools
import re

import pytest

import weftdb
from weftdb.durability import recovery
from weftdb.durability.files import FileSystem


@pytest.fixture
def slow_clock(monkeypatch):
    ticks = itertools.count()
    monkeypatch.setattr(recovery.time, "monotonic", lambda: next(ticks) * 0.4)


def build(path, snapshot: bool) -> None:
    flags = {"storage_snapshot_on_exit": False, "storage_snapshot_interval_sec": 0, "storage_items_per_batch": 100}
    with weftdb.open(path, **flags) as db:
        for i in range(20):
            db.execute("UNWIND range(1, 50) AS k CREATE (:N {i: $i, k: k})", {"i": i})
        if snapshot:
            db.execute("CREATE SNAPSHOT")


def test_wal_replay_reports_items_per_second_and_an_eta(tmp_path, slow_clock):
    path = str(tmp_path / "data")
    build(path, snapshot=False)
    messages = []
    result = recovery.recover(FileSystem(), path, report=messages.append)
    assert result.replayed == 20 and len(result.storage.vertices) == 1000
    assert messages and all(m.startswith("recovery from the WAL: ") for m in messages)
    found = [re.fullmatch(r"recovery from the WAL: (\d+) items \((\d+)%\), [\d,]+ items/s, ETA (\d+) s", m)
             for m in messages]
    assert all(found), messages
    done = [int(m.group(1)) for m in found]
    shares = [int(m.group(2)) for m in found]
    assert done == sorted(done) and done[-1] <= 1000
    assert shares == sorted(shares) and 0 < shares[-1] <= 100


def test_snapshot_load_reports_progress_against_its_item_count(tmp_path, slow_clock):
    path = str(tmp_path / "data")
    build(path, snapshot=True)
    messages = []
    result = recovery.recover(FileSystem(), path, report=messages.append)
    assert result.snapshot is not None and result.replayed == 0
    assert any(re.fullmatch(r"recovery from snapshot: \d+/1000 items, [\d,]+ items/s, ETA \d+ s", m)
               for m in messages), messages


def test_a_recovery_over_a_second_says_what_it_loaded_at_the_default_level(tmp_path, slow_clock, caplog):
    path = str(tmp_path / "data")
    build(path, snapshot=True)
    with weftdb.open(path, storage_snapshot_interval_sec=0, storage_snapshot_on_exit=False):
        pass
    lines = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and r.name == "weftdb.durability"]
    assert any(re.fullmatch(r"recovery took [\d.]+ s: 1000 vertices and 0 edges from \S+\.snapshot and 0 WAL "
                            r"transactions, up to commit 20", line) for line in lines), lines


def test_a_quick_recovery_is_quiet(tmp_path, caplog):
    path = str(tmp_path / "data")
    build(path, snapshot=False)
    with weftdb.open(path, storage_snapshot_interval_sec=0, storage_snapshot_on_exit=False):
        pass
    assert not [r for r in caplog.records if r.getMessage().startswith("recovery took")]

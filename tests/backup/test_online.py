"""Online backup while the source serves writes; incremental chains; point in time; fallback; auth."""

import random
import threading
import time
from datetime import datetime, timezone

import pytest
from conftest import Source, dump_at, dump_of_directory, dump_text

from weftdb.backup.client import BackupError, backup
from weftdb.backup.restore import RestoreError, restore

WRITERS = 8
_TRIALS: list[bool] = []  # per trial: did commits land between the snapshot and the end of the copy?


def _writer(db, number, stop, errors):
    rng = random.Random(number)
    mine = []
    i = 0
    try:
        while not stop.is_set():
            i += 1
            roll = rng.random()
            if roll < 0.6 or not mine:
                db.execute("CREATE (:W {t: $t, i: $i, v: 0})", {"t": number, "i": i})
                mine.append(i)
            elif roll < 0.9:
                db.execute("MATCH (n:W {t: $t, i: $j}) SET n.v = $i", {"t": number, "j": rng.choice(mine), "i": i})
            else:
                j = mine.pop(rng.randrange(len(mine)))
                db.execute("MATCH (n:W {t: $t, i: $j}) DETACH DELETE n", {"t": number, "j": j})
    except Exception as exc:  # reported by the test
        errors.append(exc)


@pytest.mark.parametrize("trial", range(10))
def test_full_backup_under_concurrent_writes_equals_the_source_at_its_last_timestamp(tmp_path, trial):
    src = Source(str(tmp_path / "source"))
    try:
        db = src.db
        db.execute("UNWIND range(1, 200) AS i CREATE (:Seed {i: i, name: 'seed ' + toString(i)})")
        db.execute("MATCH (a:Seed), (b:Seed) WHERE b.i = a.i + 1 CREATE (a)-[:NEXT {w: a.i}]->(b)")
        guard = db.storage.begin()  # keeps every version from here on, so the source can be read at any later ts
        stop, errors = threading.Event(), []
        threads = [threading.Thread(target=_writer, args=(db, n, stop, errors)) for n in range(WRITERS)]
        for t in threads:
            t.start()
        time.sleep(0.1 + 0.03 * trial)
        summary = backup(src.address, str(tmp_path / "backup"), "full")
        time.sleep(0.05)
        stop.set()
        for t in threads:
            t.join()
        assert not errors, errors
        _TRIALS.append(summary.last_ts > summary.snapshot_ts)  # writes went on during the copy
        expected = dump_at(db.storage, summary.last_ts)
        guard.commit()
        assert db.storage.visible_ts > summary.last_ts  # the source went on after the backup's end
    finally:
        src.close()
    restored = restore(str(tmp_path / "backup"), str(tmp_path / "restored"))
    assert restored.last_ts == summary.last_ts
    assert dump_of_directory(str(tmp_path / "restored")) == expected


def test_most_trials_had_commits_during_the_copy():
    if len(_TRIALS) < 10:
        pytest.skip("the trials did not all run")
    assert sum(_TRIALS) >= 5, _TRIALS


def _round(db, k):
    db.execute("UNWIND range(1, 20) AS i CREATE (:R {round: $k, i: i})", {"k": k})
    db.execute("MATCH (n:R {round: $k}) WHERE n.i % 3 = 0 SET n.tripled = n.i * 3", {"k": k})
    db.execute("MATCH (n:R) WHERE n.round = $k - 1 AND n.i % 5 = 0 DETACH DELETE n", {"k": k})
    db.execute("MATCH (a:R {round: $k, i: 1}), (b:R {round: $k, i: 2}) CREATE (a)-[:NEXT {k: $k}]->(b)", {"k": k})


def test_chain_of_full_and_five_incrementals_restores_the_final_state_and_any_point(source, tmp_path):
    db, to = source.db, str(tmp_path / "backup")
    _round(db, 0)
    assert backup(source.address, to).kind == "full"
    states = []  # (commit ts, wall-clock time just after, dump) after each round
    for k in range(1, 6):
        time.sleep(0.02)
        _round(db, k)
        if k == 3:
            db.execute("CREATE INDEX ON :R(i)")
        states.append((db.storage.visible_ts, datetime.now(timezone.utc), dump_text(db)))
        time.sleep(0.02)
        summary = backup(source.address, to)
        assert summary.kind == "incremental" and summary.snapshot_ts is None and summary.records >= 4
    restore(to, str(tmp_path / "final"))
    assert dump_of_directory(str(tmp_path / "final")) == dump_text(db)
    for ts, moment, expected in (states[1], states[3]):
        by_ts = restore(to, str(tmp_path / f"ts{ts}"), until=str(ts + 1))
        assert by_ts.last_ts == ts
        assert dump_of_directory(str(tmp_path / f"ts{ts}")) == expected
        by_time = restore(to, str(tmp_path / f"time{ts}"), until=moment.strftime("%Y-%m-%d %H:%M:%S.%f"))
        assert by_time.last_ts == ts
        assert dump_of_directory(str(tmp_path / f"time{ts}")) == expected
    with pytest.raises(RestoreError, match="not empty"):
        restore(to, str(tmp_path / "final"))
    assert restore(to, str(tmp_path / "final"), until=str(states[0][0] + 1), overwrite=True).last_ts == states[0][0]
    assert dump_of_directory(str(tmp_path / "final")) == states[0][2]


def test_incremental_falls_back_to_full_when_retention_removed_the_wal(tmp_path):
    src = Source(str(tmp_path / "source"), storage_wal_file_size_kib=1, storage_snapshot_retention_count=1)
    try:
        db, to = src.db, str(tmp_path / "backup")
        db.execute("UNWIND range(1, 50) AS i CREATE (:A {i: i})")
        backup(src.address, to, "full")
        for i in range(60):
            db.execute("CREATE (:B {i: $i, pad: $pad})", {"i": i, "pad": "x" * 100})
        db.execute("CREATE SNAPSHOT")
        db.execute("CREATE SNAPSHOT")
        summary = backup(src.address, to, "incremental")
        assert summary.kind == "full"
        assert any("taking a full backup instead" in m for m in summary.messages)
        expected = dump_text(db)
    finally:
        src.close()
    restore(to, str(tmp_path / "restored"))
    assert dump_of_directory(str(tmp_path / "restored")) == expected
    from weftdb.backup.verify import verify_backup

    assert verify_backup(to).ok  # a later full starts a new stretch of the chain
    with pytest.raises(RestoreError, match="no transactions"):  # the stretch the backup never got
        restore(to, str(tmp_path / "gap"), until=str(summary.snapshot_ts))


def test_the_service_refuses_a_wrong_password(source, tmp_path, caplog):
    source.db.execute("CREATE USER admin IDENTIFIED BY 'right'")
    started = time.monotonic()
    with caplog.at_level("WARNING", logger="weftdb.backup"):
        with pytest.raises(BackupError, match="authentication failed"):
            backup(source.address, str(tmp_path / "b"), user="admin", password="wrong")
    assert time.monotonic() - started >= 0.4  # the fixed delay
    assert any("wrong user name or password" in r.getMessage() for r in caplog.records)
    with pytest.raises(BackupError, match="authentication failed"):
        backup(source.address, str(tmp_path / "b"))
    assert not (tmp_path / "b" / "backup.json").exists()
    assert backup(source.address, str(tmp_path / "b"), user="admin", password="right").kind == "full"


def test_a_backup_of_another_database_is_refused(tmp_path):
    first, second = Source(str(tmp_path / "one")), Source(str(tmp_path / "two"))
    try:
        backup(first.address, str(tmp_path / "b"))
        with pytest.raises(BackupError, match="another --to"):
            backup(second.address, str(tmp_path / "b"))
    finally:
        first.close()
        second.close()

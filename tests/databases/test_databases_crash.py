"""Several databases under kill -9 and damage: CREATE and DROP DATABASE are
all or nothing, writes to several databases at once lose no acknowledged
commit, and a damaged database is reported and not served while the others are."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap

import pytest

import weftdb
from weftdb.basics.errors import DatabaseUnavailable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

CREATE_AND_DROP = textwrap.dedent("""
    import os, sys, weftdb
    db = weftdb.open(sys.argv[1])
    say = lambda line: os.write(1, (line + "\\n").encode())
    first = int(sys.argv[2])
    for i in range(first, first + 10_000):
        db.execute(f"CREATE DATABASE d{i}")
        say(f"created {i}")
        db.database(f"d{i}").execute("UNWIND range(1, 50) AS k CREATE (:N {k: k})")
        say(f"wrote {i}")
        if i - 2 >= first:
            db.execute(f"DROP DATABASE d{i - 2}")
            say(f"dropped {i - 2}")
""")

SEVERAL_WRITERS = textwrap.dedent("""
    import os, sys, threading, weftdb
    db = weftdb.open(sys.argv[1])
    for name in ("a", "b", "c"):
        db.execute(f"CREATE DATABASE {name} IF NOT EXISTS")
    run = int(sys.argv[2])
    def write(name):
        target = db.database(name) if name != "weftdb" else db
        for k in range(1, 100_000):
            target.execute("CREATE (:N {run: $run, k: $k})", {"run": run, "k": k})
            os.write(1, f"{name} {k}\\n".encode())
    for name in ("a", "b", "c", "weftdb"):
        threading.Thread(target=write, args=(name,), daemon=True).start()
    threading.Event().wait()
""")


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, PYTHONPATH=ROOT))


def test_kill9_during_create_and_drop_database_leaves_each_whole_or_gone(tmp_path):
    path = str(tmp_path)
    rng = random.Random(7)
    first = 0
    expected: set[int] = set()  # acknowledged created and not acknowledged dropped
    for _ in range(5):
        proc = _start(CREATE_AND_DROP, path, str(first))
        created, written, dropped = set(), set(), set()
        for _ in range(rng.randrange(3, 25)):
            verb, number = proc.stdout.readline().split()
            {"created": created, "wrote": written, "dropped": dropped}[verb].add(int(number))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        expected = (expected | created) - dropped
        in_flight = {max(created) + 1, max(created) - 2}  # a CREATE and a DROP not acknowledged
        with weftdb.open(path) as db:
            listed = {int(row[0][1:]) for row in db.execute("SHOW DATABASES YIELD name").rows[1:]}
            assert expected <= listed <= expected | in_flight
            for number in listed:  # each one listed is a whole database
                n = db.database(f"d{number}").execute("MATCH (n:N) RETURN count(n)").single()
                assert n == 50 if number in written else n in (0, 50)
            expected = listed
        leftovers = [name for name in os.listdir(tmp_path / "databases") if name.startswith(".")]
        assert leftovers == []  # a cut-short DROP's files were removed at the start
        assert {name for name in os.listdir(tmp_path / "databases") if name.startswith("d")} == \
            {f"d{number}" for number in listed}
        first = max(created) + 10


def test_kill9_while_writing_to_several_databases_loses_no_acknowledged_commit(tmp_path):
    path = str(tmp_path)
    for run in range(3):
        proc = _start(SEVERAL_WRITERS, path, str(run))
        acknowledged: dict[str, int] = {}
        for _ in range(200 + 150 * run):
            name, k = proc.stdout.readline().split()
            acknowledged[name] = int(k)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with weftdb.open(path) as db:
            for name in ("a", "b", "c", "weftdb"):
                target = db.database(name)
                ks = sorted(r[0] for r in target.execute("MATCH (n:N {run: $run}) RETURN n.k", {"run": run}).rows)
                assert ks == list(range(1, len(ks) + 1)) and len(ks) >= acknowledged.get(name, 0), name


def _flip(path: str, at: int) -> None:
    with open(path, "r+b") as handle:
        handle.seek(at)
        byte = handle.read(1)
        handle.seek(at)
        handle.write(bytes([byte[0] ^ 0xFF]))


@pytest.mark.parametrize("restart", [False, True])
def test_a_damaged_database_is_reported_and_not_served_the_others_are(tmp_path, restart):
    path = str(tmp_path)
    with weftdb.open(path) as db:
        for name in ("good", "bad"):
            db.execute(f"CREATE DATABASE {name}")
            db.database(name).execute("CREATE (:N {in: $name})", {"name": name})
    wal = tmp_path / "databases" / "bad" / "wal"
    segment = str(wal / sorted(os.listdir(wal))[0])
    snapshots = tmp_path / "databases" / "bad" / "snapshots"
    for name in os.listdir(snapshots):  # no snapshot to fall back on, and the WAL's header damaged
        os.remove(snapshots / name)
    _flip(segment, 20)
    with weftdb.open(path) as db:
        rows = {r[0]: r[1:] for r in db.execute("SHOW DATABASES YIELD name, currentStatus, statusMessage").rows}
        assert rows["good"] == ("online", "") and rows["weftdb"][0] == "online"
        assert rows["bad"][0] == "offline" and "checksum" in rows["bad"][1]
        with pytest.raises(DatabaseUnavailable, match="failed to start"):
            db.database("bad")
        assert db.database("good").execute("MATCH (n:N) RETURN n.in").single() == "good"
        db.execute("CREATE (:Still {serving: true})")
        _flip(segment, 20)  # repaired (from a backup, say)
        if restart:
            db.close()
            db = weftdb.open(path)
        else:
            db.execute("START DATABASE bad")
        assert db.database("bad").execute("MATCH (n:N) RETURN n.in").single() == "bad"
        db.close()

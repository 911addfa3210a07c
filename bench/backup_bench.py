"""The backup benchmark: WeftDB's online backup beside Kùzu's EXPORT DATABASE and SQLite's backup API.

What is measured, on the same seeded graph (Person nodes with id, name, age;
random KNOWS edges) in each engine, in one run on one disk:

  full backup      WeftDB: the backup client from the in-process backup
                   service (timed without the CLI's start-up), in memory and in
                   ON_DISK_TRANSACTIONAL (weftdb-on-disk); Kùzu: EXPORT DATABASE;
                   SQLite: Connection.backup into a new file. Seconds and bytes.
  incremental      after changing 1% of the graph (ages of 1% of the nodes, 1%
                   more edges): WeftDB's incremental backup; the targets are at
                   most 2% of the full backup's bytes and 5% of its time. Kùzu
                   and SQLite have no incremental backup (their figure is a
                   second full one).
  restore          WeftDB: `weftdb restore` of the chain (including its trial
                   open); Kùzu: IMPORT DATABASE into an empty database; SQLite:
                   Connection.backup from the backup file into a new database.
  write p99        one writer thread committing single-node transactions
                   (durable commits in every engine), without a backup and
                   while backups run; the 99th percentile latency in ms.

    python bench/backup_bench.py               # 50k nodes, 100k edges
    python bench/backup_bench.py --scale 0.2   # a quick run

Prints a table and writes bench/results/backup.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

NODES = 50_000
EDGES = 100_000
BATCH = 5_000
LATENCY_SECONDS = 3.0
RESULTS = Path(__file__).resolve().parent / "results" / "backup.json"


def make_data(scale: float, seed: int = 7) -> dict[str, Any]:
    rng = random.Random(seed)
    nodes, edges = max(100, int(NODES * scale)), max(100, int(EDGES * scale))
    persons = [{"id": i, "name": f"person-{i}", "age": rng.randint(18, 90)} for i in range(nodes)]
    knows = [{"a": rng.randrange(nodes), "b": rng.randrange(nodes)} for _ in range(edges)]
    changed = rng.sample(range(nodes), max(1, nodes // 100))
    ages = [{"id": i, "age": rng.randint(18, 90)} for i in changed]
    more = [{"a": rng.randrange(nodes), "b": rng.randrange(nodes)} for _ in range(max(1, edges // 100))]
    return {"persons": persons, "knows": knows, "ages": ages, "more_knows": more}


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and p.name != ".lock")


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _p99(samples: list[float]) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def _latencies(write: Callable[[int], None], during: Callable[[], None] | None) -> tuple[float, int]:
    """p99 (ms) and count of single writes by one thread, for LATENCY_SECONDS or while `during` runs."""
    samples: list[float] = []
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            started = time.perf_counter()
            write(i)
            samples.append(time.perf_counter() - started)

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + LATENCY_SECONDS
    if during is not None:
        while time.monotonic() < deadline:
            during()
    else:
        time.sleep(LATENCY_SECONDS)
    stop.set()
    thread.join()
    return _p99(samples), len(samples)


# -- WeftDB ----------------------------------------------------------------------------------


def bench_weftdb(data: dict, work: Path, mode: str = "IN_MEMORY_TRANSACTIONAL") -> dict[str, Any]:
    """In `mode`: in memory a backup is a snapshot and WAL records; in
    ON_DISK_TRANSACTIONAL an archive of a RocksDB checkpoint, an incremental
    one without the table files the backup holds."""
    import weftdb
    from weftdb.backup.client import backup
    from weftdb.backup.restore import restore
    from weftdb.backup.service import BackupService

    work = work / mode
    work.mkdir()
    db = weftdb.open(str(work / "weftdb-source"), storage_snapshot_interval_sec=0, storage_mode=mode)
    db.execute("CREATE INDEX ON :Person(id)")
    persons, knows = data["persons"], data["knows"]
    load = _timed(lambda: [
        [db.execute("UNWIND $rows AS r CREATE (:Person {id: r.id, name: r.name, age: r.age})", {"rows": persons[i : i + BATCH]})
         for i in range(0, len(persons), BATCH)],
        [db.execute("UNWIND $rows AS r MATCH (a:Person {id: r.a}), (b:Person {id: r.b}) CREATE (a)-[:KNOWS]->(b)",
                    {"rows": knows[i : i + BATCH]}) for i in range(0, len(knows), BATCH)],
    ])
    service = BackupService(db, "127.0.0.1", 0).start()
    address = f"127.0.0.1:{service.port}"
    cli = [sys.executable, "-m", "weftdb"]
    to = work / "weftdb-backup"

    def run_backup(kind: str, target: Path) -> None:  # the client in its own process: its CPU is not the source's
        subprocess.run(cli + ["backup", "--from", address, "--to", str(target), "--type", kind],
                       check=True, capture_output=True)

    full_seconds = _timed(lambda: backup(address, str(to), "full"))
    full_bytes = _size(to)
    for i in range(0, len(data["ages"]), 100):
        db.execute("UNWIND $rows AS r MATCH (p:Person {id: r.id}) SET p.age = r.age", {"rows": data["ages"][i : i + 100]})
    for i in range(0, len(data["more_knows"]), 100):
        db.execute("UNWIND $rows AS r MATCH (a:Person {id: r.a}), (b:Person {id: r.b}) CREATE (a)-[:KNOWS]->(b)",
                   {"rows": data["more_knows"][i : i + 100]})
    incremental_seconds = _timed(lambda: backup(address, str(to), "incremental"))
    incremental_bytes = _size(to) - full_bytes
    restore_files_seconds = _timed(lambda: restore(str(to), str(work / "weftdb-restored-files"), trial_open=False))
    restore_seconds = _timed(lambda: restore(str(to), str(work / "weftdb-restored")))
    counts = db.storage.counts()
    restored = weftdb.open(str(work / "weftdb-restored"), storage_snapshot_on_exit=False, storage_snapshot_interval_sec=0)
    assert restored.storage.counts() == counts, (restored.storage.counts(), counts)
    restored.close()

    write = lambda i: db.execute("CREATE (:Tick {i: $i})", {"i": i})  # noqa: E731
    idle_p99, idle_n = _latencies(write, None)
    rounds = iter(range(1000))
    busy_p99, busy_n = _latencies(write, lambda: run_backup("full", work / f"weftdb-busy-{next(rounds)}"))
    service.stop()
    db.close()
    return {
        "load_seconds": load, "full_seconds": full_seconds, "full_bytes": full_bytes,
        "incremental_seconds": incremental_seconds, "incremental_bytes": incremental_bytes,
        "restore_seconds": restore_seconds, "restore_without_trial_open_seconds": restore_files_seconds,
        "write_p99_ms_idle": idle_p99, "write_p99_ms_during_backup": busy_p99,
        "writes_idle": idle_n, "writes_during_backup": busy_n,
        "incremental_bytes_pct_of_full": 100 * incremental_bytes / full_bytes,
        "incremental_time_pct_of_full": 100 * incremental_seconds / full_seconds,
        "note": "full/incremental/restore timed in-process (backup() and restore(), restore includes its trial open); "
                "during the latency window the client runs as `weftdb backup` in its own process",
    }


# -- Kùzu ------------------------------------------------------------------------------------


def bench_kuzu(data: dict, work: Path) -> dict[str, Any]:
    import kuzu

    (work / "kuzu").mkdir()
    db = kuzu.Database(str(work / "kuzu" / "graph.kuzu"))
    conn = kuzu.Connection(db)
    conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
    conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person)")
    conn.execute("CREATE NODE TABLE Tick(i INT64, PRIMARY KEY (i))")

    def copy(table: str, rows: list[tuple]) -> None:
        path = work / "kuzu" / f"{table}.csv"
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows(rows)
        conn.execute(f"COPY {table} FROM '{path}' (HEADER=false)")

    load = _timed(lambda: (copy("Person", [(p["id"], p["name"], p["age"]) for p in data["persons"]]),
                           copy("KNOWS", [(k["a"], k["b"]) for k in data["knows"]])))
    exports = iter(range(1000))

    def export() -> Path:
        target = work / f"kuzu-export-{next(exports)}"
        conn.execute(f"EXPORT DATABASE '{target}'")
        return target

    holder: dict[str, Path] = {}
    full_seconds = _timed(lambda: holder.setdefault("full", export()))
    full_bytes = _size(holder["full"])
    conn.execute("UNWIND $rows AS r MATCH (p:Person {id: r.id}) SET p.age = r.age", {"rows": data["ages"]})
    copy("KNOWS", [(k["a"], k["b"]) for k in data["more_knows"]])
    again_seconds = _timed(lambda: holder.setdefault("again", export()))
    again_bytes = _size(holder["again"])
    (work / "kuzu-restored").mkdir()
    restored = kuzu.Database(str(work / "kuzu-restored" / "graph.kuzu"))
    rconn = kuzu.Connection(restored)
    restore_seconds = _timed(lambda: rconn.execute(f"IMPORT DATABASE '{holder['again']}'"))
    rconn.close()
    restored.close()

    writer_conn = kuzu.Connection(db)
    write = lambda i: writer_conn.execute("CREATE (:Tick {i: $i})", {"i": i})  # noqa: E731
    idle_p99, idle_n = _latencies(write, None)
    offset = 10**9
    write2 = lambda i: writer_conn.execute("CREATE (:Tick {i: $i})", {"i": offset + i})  # noqa: E731
    busy_p99, busy_n = _latencies(write2, export)
    writer_conn.close()
    conn.close()
    db.close()
    return {
        "load_seconds": load, "full_seconds": full_seconds, "full_bytes": full_bytes,
        "incremental_seconds": again_seconds, "incremental_bytes": again_bytes,
        "restore_seconds": restore_seconds, "write_p99_ms_idle": idle_p99, "write_p99_ms_during_backup": busy_p99,
        "writes_idle": idle_n, "writes_during_backup": busy_n,
        "note": "EXPORT DATABASE (CSV); no incremental backup: the second figure is a second export",
    }


# -- SQLite ----------------------------------------------------------------------------------


def bench_sqlite(data: dict, work: Path) -> dict[str, Any]:
    (work / "sqlite").mkdir()
    path = work / "sqlite" / "graph.sqlite"

    def connect(p: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(p, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    conn = connect(path)
    conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
    conn.execute("CREATE TABLE knows (src INTEGER NOT NULL, dst INTEGER NOT NULL)")
    conn.execute("CREATE INDEX knows_src ON knows (src)")
    conn.execute("CREATE TABLE tick (i INTEGER)")

    def load() -> None:
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO person VALUES (?, ?, ?)", [(p["id"], p["name"], p["age"]) for p in data["persons"]])
        conn.executemany("INSERT INTO knows VALUES (?, ?)", [(k["a"], k["b"]) for k in data["knows"]])
        conn.execute("COMMIT")

    load_seconds = _timed(load)
    copies = iter(range(1000))

    def backup() -> Path:
        target = work / f"sqlite-backup-{next(copies)}.sqlite"
        source = sqlite3.connect(path)
        dest = sqlite3.connect(target)
        source.backup(dest)
        dest.close()
        source.close()
        return target

    holder: dict[str, Path] = {}
    full_seconds = _timed(lambda: holder.setdefault("full", backup()))
    full_bytes = _size(holder["full"])
    conn.execute("BEGIN")
    conn.executemany("UPDATE person SET age = ? WHERE id = ?", [(a["age"], a["id"]) for a in data["ages"]])
    conn.executemany("INSERT INTO knows VALUES (?, ?)", [(k["a"], k["b"]) for k in data["more_knows"]])
    conn.execute("COMMIT")
    again_seconds = _timed(lambda: holder.setdefault("again", backup()))
    again_bytes = _size(holder["again"])

    def restore() -> None:
        source = sqlite3.connect(holder["again"])
        dest = sqlite3.connect(work / "sqlite-restored.sqlite")
        source.backup(dest)
        dest.execute("SELECT count(*) FROM knows").fetchone()
        dest.close()
        source.close()

    restore_seconds = _timed(restore)
    writer = connect(path)
    write = lambda i: writer.execute("INSERT INTO tick VALUES (?)", (i,))  # noqa: E731
    idle_p99, idle_n = _latencies(write, None)
    busy_p99, busy_n = _latencies(write, backup)
    writer.close()
    conn.close()
    return {
        "load_seconds": load_seconds, "full_seconds": full_seconds, "full_bytes": full_bytes,
        "incremental_seconds": again_seconds, "incremental_bytes": again_bytes,
        "restore_seconds": restore_seconds, "write_p99_ms_idle": idle_p99, "write_p99_ms_during_backup": busy_p99,
        "writes_idle": idle_n, "writes_during_backup": busy_n,
        "note": "Connection.backup (the online backup API); no incremental backup: the second figure is a second full copy",
    }


ENGINES = {"weftdb": bench_weftdb, "weftdb-on-disk": lambda data, work: bench_weftdb(data, work, "ON_DISK_TRANSACTIONAL"),
           "kuzu": bench_kuzu, "sqlite": bench_sqlite}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the graph's size")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: " + ", ".join(ENGINES))
    args = parser.parse_args()
    data = make_data(args.scale)
    results: dict[str, Any] = {}
    work = Path(tempfile.mkdtemp(prefix="weftdb-backup-bench-"))
    try:
        for name in args.engines.split(","):
            try:
                results[name] = ENGINES[name](data, work)
            except ImportError as exc:
                results[name] = {"skipped": str(exc)}
            print(f"{name}: done", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = [("", "full s", "full MB", "incr. s", "incr. MB", "restore s", "p99 write ms", "p99 during backup")]
    for name, r in results.items():
        if "skipped" in r:
            rows.append((name, "skipped", "", "", "", "", "", ""))
            continue
        rows.append((name, f"{r['full_seconds']:.2f}", f"{r['full_bytes'] / 1e6:.2f}", f"{r['incremental_seconds']:.3f}",
                     f"{r['incremental_bytes'] / 1e6:.3f}", f"{r['restore_seconds']:.2f}", f"{r['write_p99_ms_idle']:.1f}",
                     f"{r['write_p99_ms_during_backup']:.1f}"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths)))
    for name in ("weftdb", "weftdb-on-disk"):
        w = results.get(name, {})
        if "full_bytes" in w:
            print(f"{name} incremental after 1% changes: {w['incremental_bytes_pct_of_full']:.2f}% of the full backup's "
                  f"bytes (target <= 2%), {w['incremental_time_pct_of_full']:.1f}% of its time (target <= 5%); restore: "
                  f"{w['restore_without_trial_open_seconds']:.2f} s writing files, the rest its trial open")
    document = {
        "benchmark": "backup",
        "graph": {"nodes": len(data["persons"]), "edges": len(data["knows"]),
                  "changed_nodes": len(data["ages"]), "added_edges": len(data["more_knows"])},
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": results,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(document, indent=2) + "\n")
    print(f"wrote {RESULTS}", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Durable appends per second: WeftDB's WalWriter against SQLite, same disk, same run.

What is measured: a "commit" is one small transaction made durable before the
client goes on — for WeftDB one WAL record (a create-vertex op, as the engine
will write) appended under a commit lock and then `wait_durable` (fsync, group
commit); for SQLite one `INSERT` of one row in its own transaction with
journal_mode=WAL and synchronous=FULL (fsync of its WAL at every commit). Both
run 1 client and 16 concurrent clients (threads; each SQLite client has its own
connection) for a fixed time, in a temporary directory next to this file so
both write to the same disk.

This is the WAL's share of a commit only (no graph store, no query): the
ceiling the engine's commit path can reach. Usage:

    .venv/bin/python bench/durability_bench_wal.py [--seconds 3] [--repeat 3]

Prints a table and writes bench/results/wal_append.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from clients import run_clients  # noqa: E402  (bench/ is the script directory)

from weftdb.durability.files import FileSystem  # noqa: E402
from weftdb.durability.wal import encode_record  # noqa: E402
from weftdb.durability.wal_writer import WalWriter  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def bench_weftdb(directory: str, n_clients: int, seconds: float) -> dict:
    fs = FileSystem()
    w = WalWriter(fs, os.path.join(directory, "wal"), uuid.uuid4())
    commit_lock = threading.Lock()
    ts = [0]

    def commit(_state, i: int) -> None:
        with commit_lock:  # the engine's commit lock: timestamp order = file order
            ts[0] += 1
            body = encode_record(ts[0], time.time_ns() // 1000, [("create_vertex", i, ["Node"], {"id": i})])
            pos = w.append(body)
        w.wait_durable(pos)

    w.wait_durable(w.append(encode_record(0, 0, [])))  # create the segment outside the timing
    before = fs.stats["fsync"]
    t0 = time.perf_counter()
    n = run_clients(n_clients, seconds, lambda k: None, commit)
    elapsed = time.perf_counter() - t0
    fsyncs = fs.stats["fsync"] - before
    w.close()
    return {"commits": n, "seconds": elapsed, "per_sec": n / elapsed, "fsyncs": fsyncs}


def bench_sqlite(directory: str, n_clients: int, seconds: float, shared: bool = False) -> dict:
    """One connection per client (SQLite's own locking, busy handler), or, with
    `shared`, one connection behind a Python lock (how a threaded app avoids
    SQLITE_BUSY back-off); both are reported, and the ratio uses the faster."""
    path = os.path.join(directory, "bench.sqlite")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE IF NOT EXISTS node (id INTEGER PRIMARY KEY, props TEXT)")
    con.commit()
    con.close()

    def connect():
        c = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA busy_timeout=60000")
        return c

    shared_con, shared_lock = (connect(), threading.Lock()) if shared else (None, None)

    def setup(_k):
        return (shared_con, shared_lock) if shared else (connect(), None)

    def commit(state, i: int) -> None:
        c, lock = state
        if lock:
            lock.acquire()
        try:
            c.execute("BEGIN IMMEDIATE")
            c.execute("INSERT INTO node (id, props) VALUES (?, ?)", (i, '{"id": %d}' % i))
            c.execute("COMMIT")
        finally:
            if lock:
                lock.release()

    def teardown(state):
        if not shared:
            state[0].close()

    t0 = time.perf_counter()
    n = run_clients(n_clients, seconds, setup, commit, teardown)
    if shared:
        shared_con.close()
    elapsed = time.perf_counter() - t0
    return {"commits": n, "seconds": elapsed, "per_sec": n / elapsed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0, help="time per configuration")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs per configuration (median kept)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "wal_append.json"))
    args = ap.parse_args()

    # Interleaved repetitions, median per configuration: a shared machine's disk
    # and CPUs drift, and the same drift then hits every system alike.
    configs = [("weftdb-wal", 1, bench_weftdb), ("sqlite-wal-full", 1, bench_sqlite),
               ("weftdb-wal", 16, bench_weftdb), ("sqlite-wal-full", 16, bench_sqlite),
               ("sqlite-wal-full-shared", 16, lambda d, c, s: bench_sqlite(d, c, s, shared=True))]
    runs: dict[tuple, list[dict]] = {}
    for rep in range(args.repeat):
        for name, clients, fn in configs:
            d = tempfile.mkdtemp(prefix=".bench-wal-", dir=HERE)
            try:
                r = fn(d, clients, args.seconds)
            finally:
                shutil.rmtree(d, ignore_errors=True)
            runs.setdefault((name, clients), []).append(r)
            print(f"  [{rep + 1}/{args.repeat}] {name:22} clients={clients:2}  {r['per_sec']:10.0f} commits/s",
                  file=sys.stderr)
    rows = []
    for (name, clients), rs in runs.items():
        med = sorted(rs, key=lambda r: r["per_sec"])[len(rs) // 2]
        rows.append(dict(med, system=name, clients=clients, all_per_sec=[round(r["per_sec"]) for r in rs]))

    by = {(r["system"], r["clients"]): r for r in rows}
    best_sqlite = {c: max(r["per_sec"] for r in rows if r["clients"] == c and r["system"].startswith("sqlite")) for c in (1, 16)}
    ratios = {f"{c}_clients": by[("weftdb-wal", c)]["per_sec"] / best_sqlite[c] for c in (1, 16)}
    print()
    print(f"{'system':24}{'clients':>8}{'median commits/s':>18}{'commits/fsync':>15}   all runs (commits/s)")
    for r in rows:
        f = r.get("fsyncs")
        per = f"{r['commits'] / f:.1f}" if f else "-"
        print(f"{r['system']:24}{r['clients']:>8}{r['per_sec']:>18.0f}{per:>15}   {r['all_per_sec']}")
    print()
    for k, v in ratios.items():
        print(f"WeftDB WAL / best SQLite variant, {k.replace('_', ' ')}: {v:.2f}x")

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump(
            {
                "benchmark": "durable single-record commits per second (WAL layer only)",
                "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "seconds_per_run": args.seconds,
                "runs_per_config": args.repeat,
                "note": "median of interleaved runs; all_per_sec lists every run",
                "results": rows,
                "ratio_weftdb_over_sqlite": ratios,
            },
            fh,
            indent=2,
        )
    print(f"\nwrote {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()

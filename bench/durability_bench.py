"""WeftDB's durability through the engine: commits, snapshot, recovery, latency.

Everything runs in one invocation, peers side by side, on the same disk (a
temporary directory next to this file, removed at the end):

  commits    durable commits/s, 1 and 16 client threads, each transaction one
             autocommit `CREATE (:N {i: $i})`: WeftDB through `db.execute`
             (default flags: fsync per commit, group commit), and again with
             `--cpu-affinity=auto` (statement threads on the CPU that completes
             the disk's I/O: weftdb-pinned); SQLite with
             journal_mode=WAL, synchronous=FULL, one INSERT per transaction (one
             connection per client, and one shared connection behind a lock;
             sqlite-pinned: one connection per client, the client threads on the
             CPU weftdb-pinned uses, so both get the same placement); Kùzu
             through `Connection.execute` with the same Cypher, one
             connection per client, its default durability (each commit's WAL
             records are written and the WAL file fsynced before the commit
             returns; commits do not share an fsync).
  snapshot   200k nodes + 1M edges built with UNWIND batches; `CREATE SNAPSHOT`
             timed; file size / seconds = MB/s.
  recovery   `weftdb.open` of that graph until it returns, in a fresh process:
             (a) from the snapshot alone (copied into an empty data directory,
             the documented restore procedure), (b) from the WAL only (the
             directory the graph was built in, never snapshotted). items/s =
             (vertices + edges) / seconds.
  floor      in a fresh process, with the cyclic GC disabled: from in-memory
             Python lists of (gid, value) and (gid, src, dst) ints, build one
             props dict + `Vertex` per node and insert it in a gid dict, then
             one `Edge` per edge, insert it in a gid dict and append it to its
             ends' out/in lists. No decoding, no file, no index: the least work
             any recovery into these objects does. Target: recovery <= 1.5x.
  latency    p50/p99 of single-node commits from one writer thread, alone and
             while another thread runs `CREATE SNAPSHOT` back to back; with
             snapshots written by a forked child (the default), then by a
             thread (`--storage-snapshot-fork false`, names ending `_thread`).

Every measurement runs `--repeat` times (default 3) interleaved with its
peers; the median is reported and every run is kept in the JSON. The load
average is recorded before and after (the machine may be shared).

    .venv/bin/python bench/durability_bench.py               # full sizes
    .venv/bin/python bench/durability_bench.py --scale 0.1   # a quick run

Prints a table and writes bench/results/durability.json.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
HERE = os.path.join(ROOT, "bench")

from clients import run_clients  # noqa: E402  (bench/ is the script directory)

import weftdb  # noqa: E402
from weftdb.basics import affinity  # noqa: E402

NODES, EDGES, BATCH = 200_000, 1_000_000, 10_000
CREATE = "CREATE (:N {i: $i})"
QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


def median(values: list[float]) -> float:
    return statistics.median(values)


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- commits ------------------------------------------------------------------


def timed(n_clients, seconds, setup, commit, teardown=None) -> dict:
    t0 = time.perf_counter()
    n = run_clients(n_clients, seconds, setup, commit, teardown)
    elapsed = time.perf_counter() - t0
    return {"commits": n, "seconds": elapsed, "per_sec": n / elapsed}


ALL_CPUS = frozenset(os.sched_getaffinity(0))


@contextmanager
def unpinned_after():
    """Give the main thread back every CPU when the block ends: a pinned run
    pins it (its warm-up statement), and threads made later would inherit that."""
    try:
        yield
    finally:
        os.sched_setaffinity(0, ALL_CPUS)


def commits_weftdb(directory: str, n_clients: int, seconds: float, **flags) -> dict:
    db = weftdb.open(directory, **QUIET, **flags)
    db.execute(CREATE, {"i": -1})  # the WAL segment and the cached plan, outside the timing
    try:
        return timed(n_clients, seconds, lambda k: None, lambda _s, i: db.execute(CREATE, {"i": i}))
    finally:
        db.close()


def commits_sqlite(directory: str, n_clients: int, seconds: float, shared: bool = False) -> dict:
    path = os.path.join(directory, "bench.sqlite")
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE node (i INTEGER PRIMARY KEY)")
    con.commit()
    con.close()

    def connect():
        c = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        c.execute("PRAGMA synchronous=FULL")
        return c

    lock = threading.Lock() if shared else None
    one = connect() if shared else None

    def commit(c, i):
        if lock:
            with lock:
                c.execute("INSERT INTO node (i) VALUES (?)", (i,))  # autocommit: one transaction
        else:
            c.execute("INSERT INTO node (i) VALUES (?)", (i,))

    try:
        return timed(n_clients, seconds, lambda k: one or connect(), commit, None if shared else lambda c: c.close())
    finally:
        if one:
            one.close()


def commits_kuzu(directory: str, n_clients: int, seconds: float) -> dict:
    import kuzu

    db = kuzu.Database(os.path.join(directory, "graph.kuzu"))
    setup_conn = kuzu.Connection(db)
    setup_conn.execute("CREATE NODE TABLE N(i INT64, PRIMARY KEY (i))")
    setup_conn.execute(CREATE, {"i": -1})
    retries = [0]

    def commit(conn, i):
        for _ in range(100):
            try:
                conn.execute(CREATE, {"i": i})
                return
            except RuntimeError:  # a concurrent writer: Kùzu asks the client to retry
                retries[0] += 1
        conn.execute(CREATE, {"i": i})  # the error, if it persists

    try:
        result = timed(n_clients, seconds, lambda k: kuzu.Connection(db), commit)
        result["retries"] = retries[0]
        return result
    finally:
        setup_conn.close()
        db.close()


def commits_weftdb_pinned(directory: str, n_clients: int, seconds: float) -> dict:
    with unpinned_after():
        return commits_weftdb(directory, n_clients, seconds, cpu_affinity="auto")


def commits_sqlite_pinned(directory: str, n_clients: int, seconds: float) -> dict:
    """SQLite's client threads (made by this thread, so inheriting its set) on
    the CPU `--cpu-affinity=auto` picks for the same directory."""
    with unpinned_after():
        os.sched_setaffinity(0, affinity.choose("auto", directory))
        return commits_sqlite(directory, n_clients, seconds)


COMMIT_PEERS = {
    "weftdb": commits_weftdb,
    "weftdb-pinned": commits_weftdb_pinned,
    "sqlite": commits_sqlite,
    "sqlite-pinned": commits_sqlite_pinned,
    "sqlite-shared-conn": lambda d, c, s: commits_sqlite(d, c, s, shared=True),
    "kuzu": commits_kuzu,
}


def bench_commits(scratch: str, seconds: float, repeat: int, peers: list[str]) -> dict:
    runs: dict[str, list[dict]] = {}
    for rep in range(repeat):
        for clients in (1, 16):
            for name in peers:
                if name == "sqlite-shared-conn" and clients == 1:
                    continue  # the same thing as "sqlite" with one client
                d = tempfile.mkdtemp(prefix="commits-", dir=scratch)
                try:
                    r = COMMIT_PEERS[name](d, clients, seconds)
                finally:
                    shutil.rmtree(d, ignore_errors=True)
                runs.setdefault(f"{name}/{clients}", []).append(r)
                print(f"  [{rep + 1}/{repeat}] commits {name:18} clients={clients:2} {r['per_sec']:9.0f}/s",
                      file=sys.stderr, flush=True)
    return {key: {"per_sec": median([r["per_sec"] for r in rs]), "runs": [round(r["per_sec"]) for r in rs]}
            for key, rs in runs.items()}


# --- the graph: build, snapshot, recovery, floor -----------------------------------


def graph_edges(nodes: int, edges: int) -> list[tuple[int, int]]:
    rng = random.Random(42)
    return [(rng.randrange(nodes), rng.randrange(nodes)) for _ in range(edges)]


def build(directory: str, nodes: int, edges: int) -> dict:
    """The graph through Cypher, committed batch by batch (WAL only: no snapshot)."""
    db = weftdb.open(directory, **QUIET)
    t0 = time.perf_counter()
    db.execute("CREATE INDEX ON :N(i)")
    for start in range(0, nodes, BATCH):
        db.execute("UNWIND $rows AS r CREATE (:N {i: r})", {"rows": list(range(start, min(nodes, start + BATCH)))})
    pairs = graph_edges(nodes, edges)
    for start in range(0, edges, BATCH):
        rows = [[a, b] for a, b in pairs[start:start + BATCH]]
        db.execute("UNWIND $rows AS r MATCH (a:N {i: r[0]}), (b:N {i: r[1]}) CREATE (a)-[:E]->(b)", {"rows": rows})
    seconds = time.perf_counter() - t0
    counts = (len(db.storage.vertices), len(db.storage.edges))
    db.close()
    return {"seconds": seconds, "vertices": counts[0], "edges": counts[1]}


def child(args: list[str]) -> dict:
    """Runs in a fresh process (no heap left over from building the graph)."""
    what = args[0]
    if what == "recover":
        flags = dict(QUIET, storage_recovery_thread_count=int(args[2]))
        t0 = time.perf_counter()
        db = weftdb.open(args[1], **flags)
        seconds = time.perf_counter() - t0
        vertices, edges = len(db.storage.vertices), len(db.storage.edges)
        recovered = db.durability.recovered
        source = "snapshot" if recovered.snapshot else "wal"
        db.close()
        return {"seconds": seconds, "vertices": vertices, "edges": edges, "source": source,
                "wal_records_replayed": recovered.replayed}
    if what == "floor":
        return floor(int(args[1]), int(args[2]))
    raise SystemExit(f"unknown child task {what!r}")


def floor(nodes: int, edges: int) -> dict:
    """The least work that builds the recovered objects: see the module docstring."""
    from weftdb.graph.objects import Edge, Vertex

    values = list(range(nodes))
    pairs = graph_edges(nodes, edges)
    labels = ("N",)
    gc.disable()
    t0 = time.perf_counter()
    vertices: dict[int, Vertex] = {}
    for gid, value in enumerate(values):
        vertices[gid] = Vertex(gid, labels, {"i": value})
    edge_map: dict[int, Edge] = {}
    for gid, (a, b) in enumerate(pairs):
        edge_map[gid] = Edge(gid, "E", vertices[a], vertices[b], {})  # which attaches it to both ends
    seconds = time.perf_counter() - t0
    gc.enable()
    return {"seconds": seconds, "vertices": len(vertices), "edges": len(edge_map)}


def in_child(*args) -> dict:
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", *map(str, args)],
                         check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def snapshot_once(db) -> dict:
    db.execute(CREATE, {"i": -1})  # with nothing committed since the last, CREATE SNAPSHOT would write none
    t0 = time.perf_counter()
    path = db.execute("CREATE SNAPSHOT").rows[0][0]
    seconds = time.perf_counter() - t0
    size = os.path.getsize(path)
    return {"seconds": seconds, "bytes": size, "mb_per_sec": size / 1e6 / seconds, "path": path}


def measure_graph(db, scratch: str, wal_dir: str, nodes: int, edges: int, thread_counts: list[int], repeat: int) -> dict:
    """Snapshot, recoveries (per thread count) and the floor, interleaved round by round."""
    runs: dict[str, list[dict]] = {}
    restored = None
    for rep in range(repeat + 1):
        steps = []
        if rep < repeat:
            steps.append(("snapshot", lambda: snapshot_once(db)))
            steps += [(f"recover_wal/t{t}", lambda t=t: in_child("recover", wal_dir, t)) for t in thread_counts]
        if restored:  # from the first round's snapshot on
            steps += [(f"recover_snapshot/t{t}", lambda t=t: in_child("recover", restored, t)) for t in thread_counts]
        if rep < repeat:
            steps.append(("floor", lambda: in_child("floor", nodes, edges)))
        for name, step in steps:
            r = step()
            runs.setdefault(name, []).append(r)
            print(f"  [{len(runs[name])}/{repeat}] {name:20} {r['seconds']:7.2f} s", file=sys.stderr, flush=True)
        if restored is None:
            restored = restore_dir(scratch, runs["snapshot"][-1]["path"])
    return runs


def restore_dir(scratch: str, snapshot_path: str) -> str:
    """A data directory holding only a copy of the snapshot (the documented restore)."""
    d = tempfile.mkdtemp(prefix="from-snapshot-", dir=scratch)
    os.makedirs(os.path.join(d, "snapshots"))
    shutil.copy(snapshot_path, os.path.join(d, "snapshots", os.path.basename(snapshot_path)))
    return d


# --- latency ---------------------------------------------------------------------------


def latencies(db, seconds: float, snapshots: bool) -> dict:
    """One writer thread's commit latencies for `seconds`; with `snapshots`, another
    thread runs CREATE SNAPSHOT back to back (at least one whole) meanwhile."""
    done = threading.Event()
    taken: list[float] = []
    snaps: list[float] = []

    def writer():
        i = 20_000_000
        while not done.is_set():
            t0 = time.perf_counter()
            db.execute(CREATE, {"i": i})
            taken.append(time.perf_counter() - t0)
            i += 1

    def snapshotter():
        end = time.monotonic() + seconds
        while not snaps or time.monotonic() < end:
            t0 = time.perf_counter()
            db.execute("CREATE SNAPSHOT")
            snaps.append(time.perf_counter() - t0)
        done.set()

    w = threading.Thread(target=writer)
    w.start()
    if snapshots:
        snapshotter()
    else:
        time.sleep(seconds)
        done.set()
    w.join()
    taken.sort()
    ms = [t * 1000 for t in taken]
    return {"commits": len(ms), "p50_ms": ms[len(ms) // 2], "p99_ms": ms[min(len(ms) - 1, int(len(ms) * 0.99))],
            "max_ms": ms[-1], "snapshots": len(snaps)}


# --- main ---------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies 200k nodes / 1M edges (0.1: quick)")
    ap.add_argument("--seconds", type=float, default=3.0, help="time per commit-rate run and latency run")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved runs per measurement (median kept)")
    ap.add_argument("--peers", default="weftdb,weftdb-pinned,sqlite,sqlite-pinned,sqlite-shared-conn,kuzu",
                    help="commit-rate peers")
    ap.add_argument("--threads", default="1,2", help="--storage-recovery-thread-count values to measure")
    ap.add_argument("--parts", default="commits,graph", help="commits and/or graph (snapshot, recovery, floor, latency)")
    ap.add_argument("--out", default=os.path.join(HERE, "results", "durability.json"))
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return

    load_before = load_average()
    nodes, edges = int(NODES * args.scale), int(EDGES * args.scale)
    parts = args.parts.split(",")
    results: dict = {}
    scratch = tempfile.mkdtemp(prefix=".bench-durability-", dir=HERE)
    try:
        if "commits" in parts:
            results.update(commit_results(bench_commits(scratch, args.seconds, args.repeat, args.peers.split(","))))
        if "graph" in parts:
            threads = [int(t) for t in args.threads.split(",")]
            results.update(graph_results(scratch, nodes, edges, threads, args.seconds, args.repeat))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load_after = load_average()

    print(f"\nload average before {load_before}, after {load_after}; {os.cpu_count()} CPUs")
    if "commits" in parts:
        print_commits(results, args.peers.split(","))
    if "graph" in parts:
        print_graph(results, nodes + edges)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as fh:
        json.dump({
            "benchmark": "durability through the engine: commits, snapshot, recovery, latency",
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "kuzu": _kuzu_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average_before": load_before, "load_average_after": load_after,
            "scale": args.scale, "nodes": nodes, "edges": edges, "seconds_per_run": args.seconds,
            "runs_per_measurement": args.repeat,
            "note": "medians of interleaved runs; recovery and floor each in a fresh process; "
                    "floor = Vertex/Edge objects, props dicts, gid dicts and adjacency lists from in-memory "
                    "lists with the cyclic GC off",
            **results,
        }, fh, indent=2)
    print(f"\nwrote {os.path.relpath(args.out)}")


TARGETS = {"1_clients_vs_best_sqlite": 1.0, "16_clients_vs_best_sqlite": 3.0, "recovery_x_floor": 1.5}


def commit_results(commits: dict) -> dict:
    """WeftDB (default flags, and pinned) against the best of SQLite's ways
    (free or pinned, a connection per client or one shared)."""
    best_sqlite = {c: max(commits[k]["per_sec"] for k in commits if k.startswith("sqlite") and k.endswith(f"/{c}"))
                   for c in (1, 16)}
    ratios = {f"{c}_clients{suffix}_vs_best_sqlite": commits[f"{peer}/{c}"]["per_sec"] / best_sqlite[c]
              for peer, suffix in (("weftdb", ""), ("weftdb-pinned", "_pinned")) if f"{peer}/1" in commits
              for c in (1, 16)}
    return {"commits_per_sec": commits, "ratios": ratios, "targets": TARGETS}


def graph_results(scratch: str, nodes: int, edges: int, threads: list[int], seconds: float, repeat: int) -> dict:
    wal_dir = os.path.join(scratch, "wal-only")
    built = build(wal_dir, nodes, edges)
    print(f"  built {built['vertices']} nodes + {built['edges']} edges in {built['seconds']:.1f} s",
          file=sys.stderr, flush=True)
    snap_dir = os.path.join(scratch, "snapshotted")
    shutil.copytree(wal_dir, snap_dir)
    db = weftdb.open(snap_dir, **QUIET)  # the snapshot runs use this one
    try:
        runs = measure_graph(db, scratch, wal_dir, nodes, edges, threads, repeat)
    finally:
        db.close()
    lat_runs: dict[str, list[dict]] = {}
    for rep in range(repeat):
        for fork, suffix in ((True, ""), (False, "_thread")):  # --storage-snapshot-fork, then without it
            db = weftdb.open(snap_dir, **QUIET, storage_snapshot_fork=fork)
            try:
                for name, snaps in (("without_snapshot", False), ("during_snapshot", True)):
                    r = latencies(db, seconds, snaps)
                    lat_runs.setdefault(name + suffix, []).append(r)
                    print(f"  [{rep + 1}/{repeat}] latency {name + suffix:24} p50 {r['p50_ms']:.2f} ms "
                          f"p99 {r['p99_ms']:.2f} ms", file=sys.stderr, flush=True)
            finally:
                db.close()

    def med(name: str, key: str = "seconds") -> float:
        return median([r[key] for r in runs[name]])

    fl = med("floor")
    snap = {"seconds": med("snapshot"), "bytes": runs["snapshot"][0]["bytes"], "mb_per_sec": med("snapshot", "mb_per_sec"),
            "runs_seconds": [round(r["seconds"], 3) for r in runs["snapshot"]]}
    recovery = {}
    for name, rs in runs.items():
        if name.startswith("recover"):
            s = med(name)
            recovery[name] = {"seconds": s, "items_per_sec": (rs[0]["vertices"] + rs[0]["edges"]) / s,
                              "vertices": rs[0]["vertices"], "edges": rs[0]["edges"], "x_floor": s / fl,
                              "runs_seconds": [round(r["seconds"], 3) for r in rs]}
    latency = {name: {k: median([r[k] for r in rs]) for k in ("p50_ms", "p99_ms", "max_ms", "commits")}
               | {"runs_p50_ms": [round(r["p50_ms"], 2) for r in rs], "runs_p99_ms": [round(r["p99_ms"], 2) for r in rs],
                  "snapshots": sum(r["snapshots"] for r in rs)}
               for name, rs in lat_runs.items()}
    return {"build": built, "snapshot": snap, "floor_seconds": fl,
            "floor_runs_seconds": [round(r["seconds"], 3) for r in runs["floor"]],
            "recovery": recovery, "latency": latency, "targets": TARGETS}


def print_commits(results: dict, peers: list[str]) -> None:
    commits, ratios = results["commits_per_sec"], results["ratios"]
    print(f"\n{'durable commits/s (median)':28}{'1 client':>12}{'16 clients':>12}")
    for peer in peers:
        row = [commits.get(f"{peer}/{c}") for c in (1, 16)]
        print(f"{peer:28}" + "".join(f"{r['per_sec']:12.0f}" if r else f"{'-':>12}" for r in row))
    for key, value in ratios.items():
        target = TARGETS[key.replace("_pinned", "")]
        print(f"WeftDB / best SQLite, {key.split('_vs')[0].replace('_', ' ')}: {value:.2f}x (target >= {target:.0f}x)")


def print_graph(results: dict, items: int) -> None:
    built, snap, fl = results["build"], results["snapshot"], results["floor_seconds"]
    print(f"\ngraph: {built['vertices']:,} nodes + {built['edges']:,} edges (built in {built['seconds']:.1f} s)")
    print(f"CREATE SNAPSHOT             {snap['seconds']:7.2f} s  {snap['bytes'] / 1e6:6.1f} MB  {snap['mb_per_sec']:6.1f} MB/s")
    print(f"floor (objects from memory) {fl:7.2f} s  {items / fl:10,.0f} items/s")
    for name, r in results["recovery"].items():
        print(f"{name:27} {r['seconds']:7.2f} s  {r['items_per_sec']:10,.0f} items/s  "
              f"{r['x_floor']:.2f}x floor (target <= {TARGETS['recovery_x_floor']}x)")
    for name, r in results["latency"].items():
        print(f"commit latency {name:24} p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:7.2f} ms  ({r['snapshots']} snapshots)")


def _kuzu_version() -> str | None:
    try:
        import kuzu

        return kuzu.__version__
    except ImportError:
        return None


if __name__ == "__main__":
    main()

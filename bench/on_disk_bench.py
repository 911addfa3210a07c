"""ON_DISK_TRANSACTIONAL with a graph several times larger than its memory limit, beside Kùzu and SQLite.

At scale 1: 2M `Person {id, name, age}` nodes, 10M random `KNOWS` edges and a
limit of 256 MiB (`max(16, 256 * scale)`), WeftDB's --storage-on-disk-memory-mb
and Kùzu's buffer pool (doubled while its COPY fails, see `spawn`). Each run is
a process of its own (its peak RSS its own) that makes the graph from the seed
10k rows at a time (never holding it all).

  load      rows/s; WeftDB through Cypher transactions (`UNWIND $rows`, 10k
            rows a commit, edge ends matched by an indexed id), Kùzu by bulk
            `COPY FROM` of CSV files written first, untimed: a different path
  queries   2,000 point lookups and 200 2-hop counts of random persons (the
            sums of the counts must agree); then peak RSS, the files on disk
  overhead  WeftDB's peak RSS less the limit: the interpreter and its modules
            (the RSS right after open) and Python's objects of a 10k-row batch
  restart   a fresh open, then one lookup: the on-disk mode reads no graph
  commits   durable commits/s of `CREATE (:Tick {t: $t})` from 1 and 16 client
            threads beside SQLite (WAL, synchronous=FULL, a connection each),
            `--repeat` times interleaved, the median kept

The limit bounds the process, not the OS page cache: block-cache misses may be
served from memory by the kernel, and a restart finds it warm.

    python bench/on_disk_bench.py               # the full sizes, long
    python bench/on_disk_bench.py --scale 0.05  # a quick run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from clients import run_clients  # noqa: E402
from engine_bench import BATCH, CREATE_KNOWS, CREATE_PERSONS, LOOKUP, TWO_HOP, versions  # noqa: E402

NODES, EDGES = 2_000_000, 10_000_000
LOOKUPS, TWO_HOPS = 2_000, 200
CLIENTS = (1, 16)
COMMIT_SECONDS = 3.0  # down to a third of it below scale 0.1, so that a quick run stays quick


def sizes(scale: float) -> tuple[int, int, int]:
    """Nodes, edges and the memory limit in MiB at this scale."""
    return max(10, int(NODES * scale)), max(10, int(EDGES * scale)), max(16, round(256 * scale))


def persons(nodes: int, seed: int) -> Iterator[list[dict]]:
    rng = random.Random(seed)
    for at in range(0, nodes, BATCH):
        yield [{"id": i, "name": f"person-{i}", "age": rng.randint(18, 90)} for i in range(at, min(at + BATCH, nodes))]


def knows(nodes: int, edges: int, seed: int) -> Iterator[list[dict]]:
    """Random pairs, b one of the nodes other than a: no self-loop, so trail and walk semantics count 2 hops alike."""
    rng = random.Random(seed + 1)
    for at in range(0, edges, BATCH):
        pairs = [(rng.randrange(nodes), rng.randrange(1, nodes)) for _ in range(min(BATCH, edges - at))]
        yield [{"a": a, "b": (a + d) % nodes} for a, d in pairs]


def _seconds(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


class WeftDB:
    """ON_DISK_TRANSACTIONAL, loaded through Cypher: one transaction a 10k-row statement."""

    def __init__(self, scratch: Path, limit: int, create: bool):
        import weftdb

        self.store = scratch / "rocksdb"
        mode = {"storage_mode": "ON_DISK_TRANSACTIONAL"} if create else {}  # a restart: the mode it was left in
        self.db = weftdb.open(str(scratch), storage_on_disk_memory_mb=limit, storage_snapshot_on_exit=False, **mode)
        self.close = self.db.close

    def load(self, nodes: int, edges: int, seed: int) -> tuple[float, float]:
        self.db.execute("CREATE INDEX ON :Person(id)")
        return (_seconds(lambda: [self.db.execute(CREATE_PERSONS, {"rows": rows}) for rows in persons(nodes, seed)]),
                _seconds(lambda: [self.db.execute(CREATE_KNOWS, {"rows": rows}) for rows in knows(nodes, edges, seed)]))

    def one(self, query: str, id: int) -> Any:
        return self.db.execute(query, {"id": id}).rows[0][0]


class Kuzu:
    """Kùzu, the limit its buffer pool; `load` makes the tables (a restart only opens) and COPYs CSV files."""

    def __init__(self, scratch: Path, limit: int, create: bool):
        import kuzu

        self.store = scratch / "kuzu"
        self.store.mkdir(exist_ok=True)
        self.db = kuzu.Database(str(self.store / "graph.kuzu"), buffer_pool_size=limit * 2**20)
        self.conn = kuzu.Connection(self.db)

    def load(self, nodes: int, edges: int, seed: int) -> tuple[float, float]:
        self.conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY(id))")
        self.conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person)")
        files = {"Person": self.store.parent / "persons.csv", "KNOWS": self.store.parent / "knows.csv"}
        for table, chunks in (("Person", persons(nodes, seed)), ("KNOWS", knows(nodes, edges, seed))):
            with open(files[table], "w", newline="") as handle:
                out = csv.writer(handle)
                for rows in chunks:
                    out.writerows(r.values() for r in rows)  # id, name, age; a, b
        return tuple(_seconds(lambda: self.conn.execute(f"COPY {t} FROM '{files[t]}' (HEADER=false)")) for t in files)

    def one(self, query: str, id: int) -> Any:
        return self.conn.execute(query, {"id": id}).get_next()[0]

    def close(self) -> None:
        self.conn.close()
        self.db.close()


def graph(engine: str, limit: int, scale: float, seed: int, scratch: Path) -> dict[str, Any]:
    """Load, query, close, measure; then restart: a fresh open and its first lookup.
    The probes are the same ids on every engine, so the 2-hop sums can be compared."""
    nodes, edges, _ = sizes(scale)
    kind = {"WeftDB": WeftDB, "Kùzu": Kuzu}[engine]
    db = kind(scratch, limit, create=True)
    at_open = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    node_s, edge_s = db.load(nodes, edges, seed)
    rng = random.Random(seed + 2)
    lookups, two_hops = [rng.randrange(nodes) for _ in range(LOOKUPS)], [rng.randrange(nodes) for _ in range(TWO_HOPS)]
    lookup_s = _seconds(lambda: [db.one(LOOKUP, i) for i in lookups])
    counts: list[int] = []
    two_hop_s = _seconds(lambda: counts.extend(db.one(TWO_HOP, i) for i in two_hops))
    db.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    disk = sum(f.stat().st_size for f in db.store.rglob("*") if f.is_file())
    reopened: list[Any] = []
    open_s = _seconds(lambda: reopened.append(kind(scratch, limit, create=False)))
    first_s = _seconds(lambda: reopened[0].one(LOOKUP, 0))
    reopened[0].close()
    return {"rows_per_s": (nodes + edges) / (node_s + edge_s), "nodes_per_s": nodes / node_s, "edges_per_s": edges / edge_s,
            "lookups_per_s": LOOKUPS / lookup_s, "two_hops_per_s": TWO_HOPS / two_hop_s, "peak_rss_mib": peak,
            "disk_mib": disk / 2**20, "open_seconds": open_s, "first_query_seconds": first_s,
            "load_seconds": node_s + edge_s, "rss_at_open_mib": at_open, "two_hop_sum": sum(counts), "limit_mib": limit}


def commits(engine: str, clients: int, scale: float, _seed: int, scratch: Path) -> dict[str, Any]:
    """Durable commits/s of `clients` threads, each commit one new node or row."""
    seconds = COMMIT_SECONDS * min(1.0, max(1 / 3, 10 * scale))
    if engine == "WeftDB":
        import weftdb

        db = weftdb.open(str(scratch), storage_mode="ON_DISK_TRANSACTIONAL", storage_snapshot_on_exit=False)
        db.execute("CREATE (:Tick {t: $t})", {"t": -1})  # the plan cached, the store warm, outside the timing
        done = run_clients(clients, seconds, lambda k: None, lambda _s, t: db.execute("CREATE (:Tick {t: $t})", {"t": t}))
        db.close()
        return {"commits_per_s": done / seconds}
    path = scratch / "ticks.sqlite"
    sqlite3.connect(path).executescript("PRAGMA journal_mode=WAL; CREATE TABLE tick (t INTEGER)").connection.close()
    connect = lambda _k: sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60).execute(  # noqa: E731
        "PRAGMA synchronous=FULL").connection  # each autocommit INSERT durable on return
    insert = lambda conn, t: conn.execute("INSERT INTO tick VALUES (?)", (t,))  # noqa: E731
    return {"commits_per_s": run_clients(clients, seconds, connect, insert, lambda conn: conn.close()) / seconds}


def spawn(scale: float, seed: int, kind: str, engine: str, n: int) -> dict[str, Any]:
    """One run in a process of its own, so that its peak RSS and its caches are its own; n is its clients
    or its memory in MiB. Kùzu's COPY fails when its buffer pool is smaller than a step of its bulk load
    needs, which does not follow the graph's size (32 to 96 MiB at scales 0.05 to 0.2): the pool is
    doubled until it loads, and the table shows the pool that did."""
    argv = [sys.executable, __file__, "--scale", str(scale), "--seed", str(seed), "--worker", kind, engine]
    while "buffer pool is full" in (out := subprocess.run([*argv, str(n)], capture_output=True, text=True)).stderr:
        n *= 2
    if out.returncode:
        sys.exit(f"{kind} {engine} {n} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


ROWS = (("memory limit, Kùzu's pool (MiB)", "limit_mib", ",.0f"), ("load, all rows (rows/s)", "rows_per_s", ",.0f"),
        ("  nodes (rows/s)", "nodes_per_s", ",.0f"), ("  edges (rows/s)", "edges_per_s", ",.0f"),
        ("point lookup (q/s)", "lookups_per_s", ",.0f"), ("2-hop count (q/s)", "two_hops_per_s", ",.1f"),
        ("peak RSS (MiB)", "peak_rss_mib", ",.0f"), ("on disk (MiB)", "disk_mib", ",.1f"),
        ("restart: open (s)", "open_seconds", ".3f"), ("restart: first lookup (s)", "first_query_seconds", ".3f"))
COMMIT_ROWS = tuple((f"durable commits/s, {n} client{'s' * (n > 1)}", str(n), ",.0f") for n in CLIENTS)


def table(results: dict[str, dict[str, float]], rows: tuple[tuple[str, str, str], ...]) -> dict[str, float]:
    """Print two engines side by side; the ratios of the first to the second."""
    (a, first), (b, second) = results.items()
    print(f"\n{'':32}{a:>12}{b:>12}{a + '/' + b:>15}")
    for label, key, style in rows:
        print(f"{label:32}{first[key]:>12{style}}{second[key]:>12{style}}{first[key] / second[key]:>15.3f}")
    return {key: first[key] / second[key] for _, key, _ in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the sizes and the limit (0.05 for a quick run)")
    parser.add_argument("--repeat", type=int, default=3, help="commit runs of each, interleaved; the median is kept")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "on_disk.json"))
    parser.add_argument("--worker", nargs=3, metavar=("KIND", "ENGINE", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        kind, engine, n = args.worker
        with tempfile.TemporaryDirectory(prefix="weftdb-on-disk-") as scratch:
            run = {"graph": graph, "commits": commits}[kind]
            print(json.dumps(run(engine, int(n), args.scale, args.seed, Path(scratch))))
        return
    nodes, edges, limit = sizes(args.scale)
    print(f"{nodes:,} nodes, {edges:,} edges, a limit of {limit} MiB", flush=True)
    graphs = {}
    for engine in ("WeftDB", "Kùzu"):
        graphs[engine] = spawn(args.scale, args.seed, "graph", engine, limit)
        print(f"  {engine}: loaded in {graphs[engine]['load_seconds']:.1f} s, {graphs[engine]['limit_mib']} MiB", flush=True)
    samples: dict[tuple[str, str], list[float]] = {(engine, str(n)): [] for n in CLIENTS for engine in ("WeftDB", "SQLite")}
    for _ in range(args.repeat):
        for engine, n in samples:
            samples[engine, n].append(spawn(args.scale, args.seed, "commits", engine, int(n))["commits_per_s"])
    commit = {e: {n: statistics.median(r) for (of, n), r in samples.items() if of == e} for e in ("WeftDB", "SQLite")}
    ratios = {"WeftDB/Kùzu": table(graphs, ROWS), "WeftDB/SQLite": table(commit, COMMIT_ROWS)}
    weft, kuzu = graphs["WeftDB"], graphs["Kùzu"]
    over, agree = weft["peak_rss_mib"] - limit, weft["two_hop_sum"] == kuzu["two_hop_sum"]
    print(f"\nWeftDB peak RSS over the {limit} MiB limit: {over:,.0f} MiB (right after open: {weft['rss_at_open_mib']:,.0f} MiB)")
    print(f"the answers agree: {agree} (2-hop sums {weft['two_hop_sum']:,} and {kuzu['two_hop_sum']:,})")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scale": args.scale, "repeat": args.repeat,
        "sizes": {"nodes": nodes, "edges": edges, "limit_mib": limit, "lookups": LOOKUPS, "two_hops": TWO_HOPS},
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "versions": versions(), "graph": graphs, "commits_per_s": commit, "ratios": ratios, "rss_over_limit_mib": over,
        "restart_seconds": {e: g["open_seconds"] + g["first_query_seconds"] for e, g in graphs.items()}, "agree": agree,
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

"""Analytical queries (issue 18): whole-graph counts, groupings, top-k and short traversals, beside Kùzu and SQLite.

At scale 1: 200k `Person {id, name: 'p<id>', age: 18..80}` nodes and 1M random
`KNOWS` edges (seeded, the same for every engine; duplicate pairs kept, but no
self-loop and no 2-cycle, see `knows`). Each engine runs in a process of its own (its peak RSS is
its own), makes the graph from the seed 10k rows at a time and loads it the
fastest way it offers; the load is not what is compared:

  WeftDB   default flags; `CREATE INDEX ON :Person(id)`, then `UNWIND $rows`
           statements of 10k rows (edge ends matched by the indexed id)
  Kùzu     `COPY FROM` of CSV files written to the scratch directory
  SQLite   person(id INTEGER PRIMARY KEY, name, age) and knows(src, dst) by
           `executemany` in one transaction, then indexes on src and on dst
           and ANALYZE; the default page cache (the file sits in the OS's)

Then every query of QUERIES runs `--runs` times on each engine (the same Cypher
text on WeftDB and Kùzu, SQL on SQLite): the table shows the best run and, in
brackets, the first (WeftDB's includes parsing and planning). A run over
`--timeout` seconds is stopped by the engine's own limit (WeftDB's `execute(...,
timeout=)`, Kùzu's `set_query_timeout`, SQLite's progress handler), recorded as
exceeded and not repeated; if a query's answer does not come back within
`--runs` x `--timeout` + 60 s anyway, its process is killed and the queries
after it are not run.

Answers are compared across engines (floats to 6 places, the names collected in
query 10 sorted): one difference fails the run. Cypher counts paths whose
relationships are distinct (Neo4j's and WeftDB's semantics); Kùzu matches a
fixed-length pattern as a walk and SQL joins do too. On this graph a 2-hop or
3-hop walk can only repeat a relationship through a self-loop or a 2-cycle,
which the generator leaves out, so the same texts count the same paths
(KUZU_OVERRIDES says what Kùzu would need otherwise, and what it costs).

    python bench/analytics_bench.py                # 200k nodes, 1M edges, some minutes
    python bench/analytics_bench.py --scale 0.01   # a quick run, seconds
    python bench/analytics_bench.py --queries 1,3 --engines weftdb,sqlite
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import queue
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from itertools import chain
from pathlib import Path
from typing import Any, Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import BATCH, CREATE_KNOWS, CREATE_PERSONS, versions  # noqa: E402

NODES, EDGES = 200_000, 1_000_000
MARK = "@analytics "  # the worker's result lines start with it; anything else on its stdout is ignored

# number: (title, Cypher for WeftDB and Kùzu, SQL for SQLite)
QUERIES: dict[int, tuple[str, str, str]] = {
    1: ("edge count, both ends labelled",
        "MATCH (a:Person)-[:KNOWS]->(b:Person) RETURN count(*)",
        "SELECT count(*) FROM knows k JOIN person a ON a.id = k.src JOIN person b ON b.id = k.dst"),
    2: ("count by age",
        "MATCH (p:Person) RETURN p.age AS age, count(*) AS c ORDER BY age",
        "SELECT age, count(*) AS c FROM person GROUP BY age ORDER BY age"),
    3: ("2-hop count from 1,000 ids",
        "MATCH (a:Person)-[:KNOWS]->()-[:KNOWS]->(c) WHERE a.id < 1000 RETURN count(*)",
        "SELECT count(*) FROM person a JOIN knows k1 ON k1.src = a.id JOIN knows k2 ON k2.src = k1.dst"
        " WHERE a.id < 1000"),
    4: ("top 5 in-degree",
        "MATCH (p:Person)<-[:KNOWS]-() RETURN p.id, count(*) AS d ORDER BY d DESC, p.id LIMIT 5",
        "SELECT p.id, count(*) AS d FROM person p JOIN knows k ON k.dst = p.id GROUP BY p.id ORDER BY d DESC, p.id LIMIT 5"),
    5: ("count by label",
        "MATCH (p:Person) RETURN count(p)",
        "SELECT count(*) FROM person"),
    6: ("count of a relationship type",
        "MATCH ()-[r:KNOWS]->() RETURN count(r)",
        "SELECT count(*) FROM knows"),
    7: ("avg(age) by age % 10",
        "MATCH (p:Person) RETURN p.age % 10 AS g, avg(p.age) AS a ORDER BY g",
        "SELECT age % 10 AS g, avg(age) AS a FROM person GROUP BY g ORDER BY g"),
    8: ("3-hop count from 100 ids",
        "MATCH (a:Person)-[:KNOWS]->()-[:KNOWS]->()-[:KNOWS]->(d) WHERE a.id < 100 RETURN count(*)",
        "SELECT count(*) FROM person a JOIN knows k1 ON k1.src = a.id JOIN knows k2 ON k2.src = k1.dst"
        " JOIN knows k3 ON k3.src = k2.dst WHERE a.id < 100"),
    9: ("top 10 by age",
        "MATCH (p:Person) RETURN p.id, p.age ORDER BY p.age DESC, p.id LIMIT 10",
        "SELECT id, age FROM person ORDER BY age DESC, id LIMIT 10"),
    10: ("collect neighbours' names, 100 ids",
         "MATCH (a:Person)-[:KNOWS]->(b:Person) WHERE a.id < 100 RETURN a.id, collect(b.name) AS names ORDER BY a.id",
         "SELECT a.id, json_group_array(b.name) AS names FROM person a JOIN knows k ON k.src = a.id"
         " JOIN person b ON b.id = k.dst WHERE a.id < 100 GROUP BY a.id ORDER BY a.id"),
}
# Query number: Kùzu's own text, where it needs one; none does on this graph. Kùzu 0.11 matches a fixed-length
# pattern with walk semantics (CALL current_setting('recursive_pattern_semantic') says WALK, and a non-recursive
# pattern behaves the same): a relationship may be used twice in a path, where Cypher wants them distinct. With
# self-loops (a->a->a over one edge) or 2-cycles (a->b->a->b over a->b twice) in the graph, queries 3 and 8 would
# need `-[r1:KNOWS]->()-[r2:KNOWS]->... WHERE ... AND id(r1) <> id(r2) ...` for each pair of relationships (and the
# SQL `k1.rowid <> k2.rowid ...`); measured at scale 1 that made Kùzu's query 3 25x and query 8 26x slower (5.6 s,
# 1.6 GiB peak RSS), a cost of the spelling rather than of the question, so `knows` makes a graph without them.
KUZU_OVERRIDES: dict[int, str] = {}
LIST_COLUMNS = {10: 1}  # query: the column holding a list, compared sorted (SQLite gives it as JSON text)


def sizes(scale: float) -> tuple[int, int]:
    return max(10, int(NODES * scale)), max(10, int(EDGES * scale))


def persons(nodes: int, seed: int) -> Iterator[list[dict]]:
    rng = random.Random(seed)
    for at in range(0, nodes, BATCH):
        yield [{"id": i, "name": f"p{i}", "age": rng.randint(18, 80)} for i in range(at, min(at + BATCH, nodes))]


def knows(nodes: int, edges: int, seed: int) -> Iterator[list[dict]]:
    """Random pairs a -> a + d (mod nodes), d in 1 .. (nodes - 1) // 2: duplicates happen, self-loops and 2-cycles
    cannot (b -> a would need the offset nodes - d, above the range), so no 2- or 3-hop path can use an edge twice
    and walk semantics (Kùzu, SQL joins) count what Cypher's distinct relationships count (KUZU_OVERRIDES)."""
    rng = random.Random(seed + 1)
    half = (nodes - 1) // 2
    for at in range(0, edges, BATCH):
        pairs = [(rng.randrange(nodes), rng.randrange(1, half + 1)) for _ in range(min(BATCH, edges - at))]
        yield [{"a": a, "b": (a + d) % nodes} for a, d in pairs]


class Exceeded(Exception):
    """A run went past the time limit and was stopped by its engine."""


class WeftDB:
    def __init__(self, scratch: Path, timeout: float):
        import weftdb

        self.timeout, self.timed_out = timeout, weftdb.QueryTimeout
        self.db = weftdb.open(str(scratch / "weftdb"), storage_snapshot_on_exit=False)

    def load(self, nodes: int, edges: int, seed: int) -> None:
        self.db.execute("CREATE INDEX ON :Person(id)")
        for rows in persons(nodes, seed):
            self.db.execute(CREATE_PERSONS, {"rows": rows})
        for rows in knows(nodes, edges, seed):
            self.db.execute(CREATE_KNOWS, {"rows": rows})

    def query(self, number: int) -> list:
        try:
            return self.db.execute(QUERIES[number][1], timeout=self.timeout).rows
        except self.timed_out as exc:
            raise Exceeded from exc

    def close(self) -> None:
        self.db.close()


class Kuzu:
    def __init__(self, scratch: Path, timeout: float):
        import kuzu

        self.scratch = scratch / "kuzu"
        self.scratch.mkdir()
        self.db = kuzu.Database(str(self.scratch / "graph.kuzu"))
        self.conn = kuzu.Connection(self.db)
        self.timeout_ms = max(1, round(timeout * 1000))

    def load(self, nodes: int, edges: int, seed: int) -> None:
        self.conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
        self.conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person)")
        for table, chunks in (("Person", persons(nodes, seed)), ("KNOWS", knows(nodes, edges, seed))):
            path = self.scratch / f"{table}.csv"
            with open(path, "w", newline="") as handle:
                out = csv.writer(handle)
                for rows in chunks:
                    out.writerows(r.values() for r in rows)  # id, name, age; a, b
            self.conn.execute(f"COPY {table} FROM '{path}' (HEADER=false)")
            path.unlink()
        self.conn.set_query_timeout(self.timeout_ms)  # for the queries only: it would stop a long COPY too

    def query(self, number: int) -> list:
        try:
            return self.conn.execute(KUZU_OVERRIDES.get(number, QUERIES[number][1])).get_all()
        except RuntimeError as exc:
            if "interrupt" in str(exc).lower() or "timeout" in str(exc).lower():
                raise Exceeded from exc
            raise

    def close(self) -> None:
        self.conn.close()
        self.db.close()


class SQLite:
    def __init__(self, scratch: Path, timeout: float):
        self.timeout = timeout
        self.conn = sqlite3.connect(scratch / "graph.sqlite", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=OFF")  # the load is not timed; nothing here needs it durable

    def load(self, nodes: int, edges: int, seed: int) -> None:
        c = self.conn
        c.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
        c.execute("CREATE TABLE knows (src INTEGER NOT NULL, dst INTEGER NOT NULL)")
        c.execute("BEGIN")
        c.executemany("INSERT INTO person VALUES (?, ?, ?)", ((r["id"], r["name"], r["age"]) for r in chain(*persons(nodes, seed))))
        c.executemany("INSERT INTO knows VALUES (?, ?)", ((r["a"], r["b"]) for r in chain(*knows(nodes, edges, seed))))
        c.execute("COMMIT")
        c.execute("CREATE INDEX knows_src ON knows (src)")
        c.execute("CREATE INDEX knows_dst ON knows (dst)")
        c.execute("ANALYZE")

    def query(self, number: int) -> list:
        deadline = time.perf_counter() + self.timeout
        self.conn.set_progress_handler(lambda: time.perf_counter() > deadline, 100_000)
        try:
            return self.conn.execute(QUERIES[number][2]).fetchall()
        except sqlite3.OperationalError as exc:
            if "interrupt" in str(exc):
                raise Exceeded from exc
            raise
        finally:
            self.conn.set_progress_handler(None, 0)

    def close(self) -> None:
        self.conn.close()


ENGINES = {"weftdb": ("WeftDB", WeftDB), "kuzu": ("Kùzu", Kuzu), "sqlite": ("SQLite", SQLite)}


def normalise(number: int, rows: list) -> list:
    """Rows as lists, floats to 6 places, a collected list sorted; rows sorted unless the query orders them."""

    def value(v: Any) -> Any:
        return round(v, 6) if isinstance(v, float) else v

    out = [[value(v) for v in row] for row in rows]
    if number in LIST_COLUMNS:
        col = LIST_COLUMNS[number]
        for row in out:
            row[col] = sorted(json.loads(row[col]) if isinstance(row[col], str) else row[col])
    return out if "ORDER BY" in QUERIES[number][1] else sorted(out)


def rss_now_mib() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def emit(record: dict[str, Any]) -> None:
    print(MARK + json.dumps(record), flush=True)


def time_query(db: Any, number: int, runs: int) -> dict[str, Any]:
    """`runs` runs of one query: their seconds and the first run's answer; stopped at the first run over the limit."""
    seconds: list[float] = []
    answer = None
    for _ in range(runs):
        started = time.perf_counter()
        try:
            rows = db.query(number)
        except Exceeded:
            return {"query": number, "runs_s": seconds, "exceeded": True}
        except Exception as exc:  # a failure is reported, and fails the run in the parent
            return {"query": number, "runs_s": seconds, "error": f"{type(exc).__name__}: {exc}"}
        seconds.append(time.perf_counter() - started)
        if answer is None:
            answer = normalise(number, rows)
    return {"query": number, "runs_s": seconds, "first_s": seconds[0], "best_s": min(seconds), "answer": answer}


def worker(engine: str, scratch: Path, args: argparse.Namespace) -> None:
    """In the engine's own process: load, say so, then one line a query, then the peak RSS."""
    nodes, edges = sizes(args.scale)
    db = ENGINES[engine][1](scratch, args.timeout)
    started = time.perf_counter()
    db.load(nodes, edges, args.seed)
    emit({"loaded_s": time.perf_counter() - started, "rss_after_load_mib": rss_now_mib()})
    for number in args.numbers:
        emit(time_query(db, number, args.runs))
    db.close()
    emit({"peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def spawn(engine: str, scratch: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Run one engine's worker, a process of its own, and collect its result lines (`collect`)."""
    directory = scratch / engine
    directory.mkdir()
    argv = [sys.executable, __file__, "--worker", engine, str(directory), "--scale", str(args.scale), "--seed",
            str(args.seed), "--runs", str(args.runs), "--timeout", str(args.timeout), "--queries", args.queries]
    with open(scratch / f"{engine}.stderr", "w+") as errors:
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=errors, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout] + [lines.put(None)], daemon=True).start()
        ended = []

        def next_record(limit: float | None) -> dict[str, Any] | None:
            """The worker's next result line; None once its output has ended (queue.Empty past the limit)."""
            while not ended:
                if (line := lines.get(timeout=limit)) is None:
                    ended.append(True)
                elif line.startswith(MARK):
                    return json.loads(line[len(MARK):])
            return None

        out: dict[str, Any] = {"queries": {}}
        try:
            collect(next_record, args, out)
            if not any(q.get("killed") for q in out["queries"].values()):
                proc.wait(timeout=120)  # it has closed its database; it exits
        finally:
            if proc.poll() is None:  # a query past its time, a worker that does not exit, or this process interrupted
                proc.kill()  # the worker this function started, by its handle
            proc.wait()
        errors.seek(0)
        if proc.returncode and not any(q.get("killed") for q in out["queries"].values()):
            out["failure"] = f"exit {proc.returncode}: {errors.read()[-2000:]}"
    return out


def collect(next_record: Callable[[float | None], dict[str, Any] | None], args: argparse.Namespace,
            out: dict[str, Any]) -> None:
    """A worker's records. Loading has no time limit; each query's line must come within runs x timeout + 60 s,
    or that query is recorded as exceeded (killed) and the ones after it as not run (the caller kills the worker)."""
    out.update(next_record(None) or {})
    print(f"    loaded in {out.get('loaded_s', float('nan')):.1f} s", flush=True)
    for number in args.numbers:
        try:
            record = next_record(args.runs * args.timeout + 60)
        except queue.Empty:
            out["queries"][number] = {"query": number, "runs_s": [], "exceeded": True, "killed": True}
            return
        if record is None:
            return
        out["queries"][number] = record
    try:
        out.update(next_record(120) or {})  # the peak RSS, after the close
    except queue.Empty:
        pass


def seconds(value: float) -> str:
    """Three significant digits, no exponent."""
    return f"{value:.{max(0, 2 - math.floor(math.log10(max(value, 1e-9))))}f}"


def cell(record: dict[str, Any] | None, timeout: float) -> str:
    if record is None:
        return "-"
    if record.get("exceeded"):
        return f"> {timeout:g}" + (" (killed)" if record.get("killed") else "")
    if "error" in record:
        return "error"
    return f"{seconds(record['best_s'])} ({seconds(record['first_s'])})"


def compare(results: dict[str, dict[str, Any]], numbers: list[int]) -> dict[int, bool]:
    """Per query: do all the engines that answered give the same answer? An error counts as a difference."""
    agree = {}
    for number in numbers:
        records = [r["queries"].get(number) for r in results.values()]
        answers = [json.dumps(r["answer"]) for r in records if r and "answer" in r]
        agree[number] = len(set(answers)) <= 1 and not any(r and "error" in r for r in records)
    return agree


def ratio(results: dict[str, dict[str, Any]], a: str, b: str, number: int) -> float | None:
    first, second = (results.get(e, {}).get("queries", {}).get(number, {}) for e in (a, b))
    return first["best_s"] / second["best_s"] if "best_s" in first and "best_s" in second else None


def answers(results: dict[str, dict[str, Any]], number: int, agreed: bool) -> Any:
    """For the JSON: the answer once if the engines agree, else each engine's."""
    got = {name: r["queries"][number]["answer"] for name, r in results.items() if "answer" in r["queries"].get(number, {})}
    return next(iter(got.values()), None) if agreed else got


def print_table(results: dict[str, dict[str, Any]], numbers: list[int], timeout: float, agree: dict[int, bool]) -> None:
    names = list(results)
    header = f"{'query':<42}" + "".join(f"{name + ' s (first)':>25}" for name in names) + f"{'WeftDB ÷ SQLite':>17}"
    print(header)
    print("-" * len(header))
    for number in numbers:
        r = ratio(results, "WeftDB", "SQLite", number)
        line = f"{f'{number}. {QUERIES[number][0]}':<42}"
        line += "".join(f"{cell(results[name]['queries'].get(number), timeout):>25}" for name in names)
        line += f"{'' if r is None else f'{r:.2f}':>17}" + ("" if agree[number] else "   ANSWERS DIFFER")
        print(line)
    print()
    for name, got in results.items():
        peak, load = got.get("peak_rss_mib"), got.get("loaded_s")
        print(f"{name:<8} peak RSS {'-' if peak is None else f'{peak:,.0f}'} MiB (after the load "
              f"{got.get('rss_after_load_mib', 0):,.0f} MiB); load {'-' if load is None else f'{load:.1f}'} s, not compared")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply both sizes (0.01 for a quick run)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of: " + ", ".join(ENGINES))
    parser.add_argument("--queries", default=",".join(map(str, QUERIES)), help="comma-separated query numbers, 1 to 10")
    parser.add_argument("--runs", type=int, default=3, help="runs of each query; the best and the first are reported")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a run may take before it is stopped")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "analytics.json")
    parser.add_argument("--worker", nargs=2, metavar=("ENGINE", "SCRATCH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.numbers = [int(q) for q in args.queries.split(",")]
    unknown = [q for q in args.numbers if q not in QUERIES] + [e for e in args.engines.split(",") if e not in ENGINES]
    if unknown:
        parser.error(f"unknown queries or engines: {unknown}")
    return args


def main() -> int:
    args = parse()
    if args.worker:
        worker(args.worker[0], Path(args.worker[1]), args)
        return 0
    nodes, edges = sizes(args.scale)
    print(f"{nodes:,} nodes, {edges:,} edges; queries {args.queries}; best of {args.runs}; "
          f"limit {args.timeout:g} s a run", flush=True)
    started = time.perf_counter()
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="weftdb-analytics-") as scratch:
        for key in args.engines.split(","):
            name = ENGINES[key][0]
            print(f"  {name} ...", flush=True)
            results[name] = spawn(key, Path(scratch), args)
    failures = {name: r["failure"] for name, r in results.items() if "failure" in r}
    agree = compare(results, args.numbers)
    print()
    print_table(results, args.numbers, args.timeout, agree)
    for name, why in failures.items():
        print(f"\n{name} failed: {why}")
    wall = time.perf_counter() - started
    ok = all(agree.values()) and not failures
    print(f"\nanswers agree across engines: {all(agree.values())}; wall time {wall:.0f} s")
    write_report(args, results, agree, wall)
    return 0 if ok else 1


def write_report(args: argparse.Namespace, results: dict[str, dict[str, Any]], agree: dict[int, bool], wall: float) -> None:
    nodes, edges = sizes(args.scale)
    pairs = [("WeftDB", "SQLite"), ("WeftDB", "Kùzu")]
    report = {
        "benchmark": "analytics",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": args.scale, "seed": args.seed, "runs": args.runs, "timeout_s": args.timeout, "wall_s": wall,
        "sizes": {"nodes": nodes, "edges": edges, "batch": BATCH},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "load": os.getloadavg()},
        "versions": versions(),
        "queries": {n: {"title": QUERIES[n][0], "cypher": QUERIES[n][1], "sql": QUERIES[n][2],
                        **({"kuzu": KUZU_OVERRIDES[n]} if n in KUZU_OVERRIDES else {})} for n in args.numbers},
        "units": {"first_s": "seconds", "best_s": "seconds", "peak_rss_mib": "MiB"},
        "results": {name: {k: v for k, v in r.items() if k != "queries"} | {"queries": {
            n: {k: v for k, v in q.items() if k not in ("answer", "query")} for n, q in r["queries"].items()}}
            for name, r in results.items()},
        "ratios": {f"{a}/{b}": {n: ratio(results, a, b, n) for n in args.numbers} for a, b in pairs
                   if a in results and b in results},
        "answers_agree": agree,
        "answers": {n: answers(results, n, agree[n]) for n in args.numbers},
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())

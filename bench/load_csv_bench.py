"""LOAD CSV beside UNWIND $rows, Kùzu's COPY FROM and SQLite's executemany.

The engine bench's graph (bench/engine_bench.py, same seed: 100k `Person`
nodes with id, name and age, then 500k random `KNOWS` edges) is written as two
CSV files, persons.csv (id,name,age) and knows.csv (a,b), into a scratch
import directory. Each way of loading them runs in a process of its own, so
the peak RSS it reports is its own, one after another and `--repeat` times
interleaved (the median is kept):

  LOAD CSV             `LOAD CSV WITH HEADERS FROM 'persons.csv' AS r CREATE (:Person {...})`,
                       then the edges with `MATCH (a:Person {id: toInteger(r.a)}), (b:Person {...})
                       CREATE (a)-[:KNOWS]->(b)`: one transaction per file
  LOAD CSV batched     the same inside `CALL (r) { ... } IN TRANSACTIONS OF 10000 ROWS`:
                       one commit per 10k rows, as the UNWIND path
  UNWIND $rows         the engine bench's statements; the client reads the CSV with the
                       csv module and converts the numbers, 10k rows a statement and a
                       commit (what loading a CSV takes without LOAD CSV)
  Kùzu COPY FROM       `COPY Person FROM 'persons.csv' (HEADER=true)`, `COPY KNOWS FROM ...`
  SQLite executemany   the client reads the CSV; `executemany` 10k rows a transaction into
                       person(id primary key, name, age) and, for each edge, both ends looked
                       up by primary key (INSERT ... SELECT), journal_mode=WAL,
                       synchronous=FULL

WeftDB runs with default flags: an index on :Person(id), every commit fsynced.
Each run checks the graph it loaded (node and edge counts, the sum of the
ages and of the 2-hop counts of 100 persons); the runs must agree.

    python bench/load_csv_bench.py               # the full sizes, a few minutes
    python bench/load_csv_bench.py --scale 0.1   # a quick run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import BATCH, CREATE_KNOWS, CREATE_PERSONS, make_data, versions  # noqa: E402

LOAD_PERSONS = "CREATE (:Person {id: toInteger(r.id), name: r.name, age: toInteger(r.age)})"
LOAD_KNOWS = "MATCH (a:Person {id: toInteger(r.a)}), (b:Person {id: toInteger(r.b)}) CREATE (a)-[:KNOWS]->(b)"
PROBES = 100  # persons whose 2-hop counts each run sums for the cross-check


# -- one run, in its own process --------------------------------------------------------------


def _csv_batches(path: Path, convert: Callable[[list[str]], Any]) -> Any:
    """The rows of a CSV file with a header, converted, `BATCH` at a time."""
    with open(path, newline="") as handle:
        rows = csv.reader(handle)
        next(rows)
        batch = []
        for row in rows:
            batch.append(convert(row))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch


def _weftdb(directory: Path, imports: Path):
    import weftdb

    db = weftdb.open(str(directory), import_directory=str(imports))
    db.execute("CREATE INDEX ON :Person(id)")
    return db


def _weftdb_check(db, probes: list[int]) -> dict[str, int]:
    one = lambda query, params=None: db.execute(query, params).rows[0][0]  # noqa: E731
    two_hops = "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)"
    return {
        "nodes": one("MATCH (p:Person) RETURN count(p)"),
        "edges": one("MATCH ()-[k:KNOWS]->() RETURN count(k)"),
        "age_sum": one("MATCH (p:Person) RETURN sum(p.age)"),
        "two_hop_sum": sum(one(two_hops, {"id": i}) for i in probes),
    }


def run_load_csv(directory: Path, imports: Path, probes: list[int], batched: bool) -> dict[str, Any]:
    db = _weftdb(directory, imports)
    if batched:
        persons = f"LOAD CSV WITH HEADERS FROM 'persons.csv' AS r CALL (r) {{ {LOAD_PERSONS} }} IN TRANSACTIONS OF {BATCH} ROWS"
        knows = f"LOAD CSV WITH HEADERS FROM 'knows.csv' AS r CALL (r) {{ {LOAD_KNOWS} }} IN TRANSACTIONS OF {BATCH} ROWS"
    else:
        persons = f"LOAD CSV WITH HEADERS FROM 'persons.csv' AS r {LOAD_PERSONS}"
        knows = f"LOAD CSV WITH HEADERS FROM 'knows.csv' AS r {LOAD_KNOWS}"
    started = time.perf_counter()
    db.execute(persons)
    middle = time.perf_counter()
    db.execute(knows)
    ended = time.perf_counter()
    check = _weftdb_check(db, probes)
    db.close()
    return {"node_seconds": middle - started, "edge_seconds": ended - middle, "check": check}


def run_unwind(directory: Path, imports: Path, probes: list[int]) -> dict[str, Any]:
    db = _weftdb(directory, imports)
    started = time.perf_counter()
    for rows in _csv_batches(imports / "persons.csv", lambda r: {"id": int(r[0]), "name": r[1], "age": int(r[2])}):
        db.execute(CREATE_PERSONS, {"rows": rows})
    middle = time.perf_counter()
    for rows in _csv_batches(imports / "knows.csv", lambda r: {"a": int(r[0]), "b": int(r[1])}):
        db.execute(CREATE_KNOWS, {"rows": rows})
    ended = time.perf_counter()
    check = _weftdb_check(db, probes)
    db.close()
    return {"node_seconds": middle - started, "edge_seconds": ended - middle, "check": check}


def run_kuzu(directory: Path, imports: Path, probes: list[int]) -> dict[str, Any]:
    import kuzu

    directory.mkdir()
    db = kuzu.Database(str(directory / "graph.kuzu"))
    conn = kuzu.Connection(db)
    conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
    conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person)")
    started = time.perf_counter()
    conn.execute(f"COPY Person FROM '{imports / 'persons.csv'}' (HEADER=true)")
    middle = time.perf_counter()
    conn.execute(f"COPY KNOWS FROM '{imports / 'knows.csv'}' (HEADER=true)")
    ended = time.perf_counter()
    one = lambda query, params=None: int(conn.execute(query, params or {}).get_next()[0])  # noqa: E731 (sums are DECIMAL)
    two_hops = "MATCH (p:Person)-[:KNOWS]->()-[:KNOWS]->(f) WHERE p.id = $id RETURN count(f)"
    check = {
        "nodes": one("MATCH (p:Person) RETURN count(p)"),
        "edges": one("MATCH ()-[k:KNOWS]->() RETURN count(k)"),
        "age_sum": one("MATCH (p:Person) RETURN sum(p.age)"),
        "two_hop_sum": sum(one(two_hops, {"id": i}) for i in probes),
    }
    conn.close()
    db.close()
    return {"node_seconds": middle - started, "edge_seconds": ended - middle, "check": check}


def run_sqlite(directory: Path, imports: Path, probes: list[int]) -> dict[str, Any]:
    import sqlite3

    directory.mkdir()
    conn = sqlite3.connect(directory / "graph.sqlite", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
    conn.execute("CREATE TABLE knows (src INTEGER NOT NULL, dst INTEGER NOT NULL)")
    conn.execute("CREATE INDEX knows_src ON knows (src)")

    def insert(sql: str, rows: list[tuple]) -> None:
        conn.execute("BEGIN")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")

    started = time.perf_counter()
    for rows in _csv_batches(imports / "persons.csv", lambda r: (int(r[0]), r[1], int(r[2]))):
        insert("INSERT INTO person VALUES (?, ?, ?)", rows)
    middle = time.perf_counter()
    for rows in _csv_batches(imports / "knows.csv", lambda r: (int(r[0]), int(r[1]))):
        insert("INSERT INTO knows SELECT a.id, b.id FROM person a, person b WHERE a.id = ? AND b.id = ?", rows)
    ended = time.perf_counter()
    one = lambda query, params=(): conn.execute(query, params).fetchone()[0]  # noqa: E731
    two_hops = ("SELECT count(*) FROM knows k1 JOIN knows k2 ON k2.src = k1.dst JOIN person f ON f.id = k2.dst "
                "WHERE k1.src = ?")
    check = {
        "nodes": one("SELECT count(*) FROM person"),
        "edges": one("SELECT count(*) FROM knows"),
        "age_sum": one("SELECT sum(age) FROM person"),
        "two_hop_sum": sum(one(two_hops, (i,)) for i in probes),
    }
    conn.close()
    return {"node_seconds": middle - started, "edge_seconds": ended - middle, "check": check}


RUNS: dict[str, Callable[[Path, Path, list[int]], dict[str, Any]]] = {
    "LOAD CSV": lambda d, i, p: run_load_csv(d, i, p, batched=False),
    "LOAD CSV batched": lambda d, i, p: run_load_csv(d, i, p, batched=True),
    "UNWIND $rows": run_unwind,
    "Kùzu COPY FROM": run_kuzu,
    "SQLite executemany": run_sqlite,
}
KEYS = {"load-csv": "LOAD CSV", "load-csv-batched": "LOAD CSV batched", "unwind": "UNWIND $rows",
        "kuzu": "Kùzu COPY FROM", "sqlite": "SQLite executemany"}


def worker(name: str, directory: Path, imports: Path, probes: list[int]) -> None:
    """One run: its figures and its peak RSS as one line of JSON on stdout."""
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = RUNS[name](directory, imports, probes)
    result["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["baseline_rss_mib"] = baseline / 1024
    print(json.dumps(result))


# -- the parent -------------------------------------------------------------------------------


def write_csv(imports: Path, data: dict[str, Any]) -> None:
    with open(imports / "persons.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "name", "age"])
        out.writerows((p["id"], p["name"], p["age"]) for p in data["persons"])
    with open(imports / "knows.csv", "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["a", "b"])
        out.writerows((k["a"], k["b"]) for k in data["knows"])


def spawn(name: str, scratch: Path, imports: Path, probes: list[int], attempt: int) -> dict[str, Any]:
    directory = scratch / f"{name.replace(' ', '_').replace('$', '')}-{attempt}"
    command = [sys.executable, __file__, "--worker", name, "--directory", str(directory), "--imports", str(imports),
               "--probes", ",".join(map(str, probes))]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def summarize(runs: list[dict[str, Any]], nodes: int, edges: int) -> dict[str, Any]:
    node_s = statistics.median(r["node_seconds"] for r in runs)
    edge_s = statistics.median(r["edge_seconds"] for r in runs)
    total_s = statistics.median(r["node_seconds"] + r["edge_seconds"] for r in runs)
    return {
        "nodes rows/s": nodes / node_s,
        "edges rows/s": edges / edge_s,
        "all rows/s": (nodes + edges) / total_s,
        "peak RSS MiB": statistics.median(r["peak_rss_mib"] for r in runs),
        "seconds": [round(r["node_seconds"] + r["edge_seconds"], 2) for r in runs],
    }


def print_table(results: dict[str, dict[str, Any]]) -> None:
    columns = ["nodes rows/s", "edges rows/s", "all rows/s", "peak RSS MiB"]
    print(f"{'run':<22}" + "".join(f"{c:>15}" for c in columns))
    print("-" * (22 + 15 * len(columns)))
    for name, figures in results.items():
        print(f"{name:<22}" + "".join(f"{figures[c]:>15,.0f}" for c in columns))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the sizes (0.1 for a quick run)")
    parser.add_argument("--runs", default=",".join(KEYS), help="comma-separated subset of: " + ", ".join(KEYS))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, interleaved; the median is kept")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "load_csv.json")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--directory", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--imports", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--probes", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.directory, args.imports, [int(p) for p in args.probes.split(",")])
        return 0

    data = make_data(args.scale, args.seed)
    nodes, edges = len(data["persons"]), len(data["knows"])
    probes = data["two_hops"][:PROBES]
    names = [KEYS[key] for key in args.runs.split(",")]
    print(f"{nodes:,} nodes, {edges:,} edges, {args.repeat} runs of each: {', '.join(names)}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory(prefix="weftdb-bench-") as scratch:
        imports = Path(scratch) / "import"
        imports.mkdir()
        write_csv(imports, data)
        sizes = {name: (imports / name).stat().st_size for name in ("persons.csv", "knows.csv")}
        for attempt in range(args.repeat):
            for name in names:
                runs[name].append(spawn(name, Path(scratch), imports, probes, attempt))
                print(f"  {name}: {runs[name][-1]['node_seconds'] + runs[name][-1]['edge_seconds']:.1f} s", flush=True)
    results = {name: summarize(got, nodes, edges) for name, got in runs.items()}
    checks = {name: got[0]["check"] for name, got in runs.items()}
    agree = all(check == next(iter(checks.values())) for check in checks.values()) and all(
        run["check"] == got[0]["check"] for got in runs.values() for run in got)
    print()
    print_table(results)
    ratios = {}
    if "LOAD CSV batched" in results and "UNWIND $rows" in results:
        for name in ("LOAD CSV", "LOAD CSV batched"):
            if name in results:
                ratios[f"{name} / UNWIND $rows"] = results[name]["all rows/s"] / results["UNWIND $rows"]["all rows/s"]
        for key, value in ratios.items():
            print(f"{key}: {value:.2f}")
    print(f"the loaded graphs agree: {agree}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "load_csv",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": args.scale,
        "seed": args.seed,
        "sizes": {"nodes": nodes, "edges": edges, "batch": BATCH, "csv_bytes": sizes, "repeat": args.repeat},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                    "load_average": os.getloadavg()},
        "versions": versions(),
        "results": results,
        "ratios": ratios,
        "checks": checks,
        "graphs_agree": agree,
    }
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")
    return 0 if agree else 1


if __name__ == "__main__":
    sys.exit(main())

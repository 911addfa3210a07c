"""The engine benchmark: WeftDB beside Kùzu and SQLite on the same graph.

Why these three: Kùzu is an embedded graph database driven through the same
kind of Cypher from Python, so it measures WeftDB's query path against a
native one; SQLite is the embedded store everyone knows, so it measures what
the graph model costs against plain indexed tables.

Workloads, run on every engine in the same process, on the same seeded data:

  create nodes   100k Person nodes (id, name, age), 10k rows per UNWIND batch
  create edges   500k random KNOWS edges, each batch matching both ends by id
  point lookup   `MATCH (p:Person {id: $id}) RETURN p.name`, repeated
  2-hop count    `MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)`

Every batch commits (WeftDB and SQLite fsync each commit with their default
settings). Each query loop stops after QUERY_SECONDS if it has not run all its
queries. The answers are compared across engines, so a fast wrong answer
shows up as a failed check, not as a good number.

    python bench/engine_bench.py               # the full sizes above
    python bench/engine_bench.py --scale 0.1   # a quick run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

NODES = 100_000
EDGES = 500_000
BATCH = 10_000
LOOKUPS = 20_000  # at most; each query loop also stops after QUERY_SECONDS
TWO_HOPS = 5_000
QUERY_SECONDS = 15.0

CREATE_PERSONS = "UNWIND $rows AS r CREATE (:Person {id: r.id, name: r.name, age: r.age})"
CREATE_KNOWS = "UNWIND $rows AS r MATCH (a:Person {id: r.a}), (b:Person {id: r.b}) CREATE (a)-[:KNOWS]->(b)"
LOOKUP = "MATCH (p:Person {id: $id}) RETURN p.name"
TWO_HOP = "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)"


class WeftDB:
    name = "WeftDB"
    timed_edges = None  # all of them

    def __init__(self, directory: Path):
        import weftdb

        self.db = weftdb.open(str(directory))
        self.db.execute("CREATE INDEX ON :Person(id)")

    def create_persons(self, rows: list[dict]) -> None:
        self.db.execute(CREATE_PERSONS, {"rows": rows})

    def create_knows(self, rows: list[dict]) -> None:
        self.db.execute(CREATE_KNOWS, {"rows": rows})

    def lookup(self, id: int) -> Any:
        return self.db.execute(LOOKUP, {"id": id}).rows[0][0]

    def two_hop(self, id: int) -> int:
        return self.db.execute(TWO_HOP, {"id": id}).rows[0][0]

    def close(self) -> None:
        self.db.close()


class Kuzu:
    """Kùzu through `Connection.execute` with the same Cypher and parameters.

    Kùzu's query path creates edges slowly once the graph is large (about 30
    a second at 100k nodes with this UNWIND ... MATCH ... CREATE; the 500k
    would take hours), so only the first `timed_edges` go through it and are
    timed; the rest are loaded untimed with COPY FROM so that every engine
    answers the queries on the same graph."""

    name = "Kùzu"
    timed_edges = 1_000

    def __init__(self, directory: Path):
        import kuzu

        directory.mkdir()
        self.directory = directory
        self.db = kuzu.Database(str(directory / "graph.kuzu"))
        self.conn = kuzu.Connection(self.db)
        self.conn.execute("CREATE NODE TABLE Person(id INT64, name STRING, age INT64, PRIMARY KEY (id))")
        self.conn.execute("CREATE REL TABLE KNOWS(FROM Person TO Person)")

    def create_persons(self, rows: list[dict]) -> None:
        self.conn.execute(CREATE_PERSONS, {"rows": rows})

    def create_knows(self, rows: list[dict]) -> None:
        self.conn.execute(CREATE_KNOWS, {"rows": rows})

    def copy_knows(self, rows: list[dict]) -> None:
        path = self.directory / "knows.csv"
        with open(path, "w", newline="") as handle:
            csv.writer(handle).writerows((r["a"], r["b"]) for r in rows)
        self.conn.execute(f"COPY KNOWS FROM '{path}' (HEADER=false)")

    def lookup(self, id: int) -> Any:
        return self.conn.execute(LOOKUP, {"id": id}).get_next()[0]

    def two_hop(self, id: int) -> int:
        return self.conn.execute(TWO_HOP, {"id": id}).get_next()[0]

    def close(self) -> None:
        self.conn.close()
        self.db.close()


class SQLite:
    """Tables person(id primary key, name, age) and knows(src, dst) indexed on
    src, in WAL mode with synchronous=FULL so that each commit is on disk, as
    in WeftDB. The edge load inserts pairs without looking the ends up."""

    name = "SQLite"
    timed_edges = None

    def __init__(self, directory: Path):
        directory.mkdir()
        self.conn = sqlite3.connect(directory / "graph.sqlite", isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("CREATE TABLE person (id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
        self.conn.execute("CREATE TABLE knows (src INTEGER NOT NULL, dst INTEGER NOT NULL)")
        self.conn.execute("CREATE INDEX knows_src ON knows (src)")

    def _insert(self, sql: str, values: list[tuple]) -> None:
        self.conn.execute("BEGIN")
        self.conn.executemany(sql, values)
        self.conn.execute("COMMIT")

    def create_persons(self, rows: list[dict]) -> None:
        self._insert("INSERT INTO person VALUES (?, ?, ?)", [(r["id"], r["name"], r["age"]) for r in rows])

    def create_knows(self, rows: list[dict]) -> None:
        self._insert("INSERT INTO knows VALUES (?, ?)", [(r["a"], r["b"]) for r in rows])

    def lookup(self, id: int) -> Any:
        return self.conn.execute("SELECT name FROM person WHERE id = ?", (id,)).fetchone()[0]

    def two_hop(self, id: int) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM person p"
            " JOIN knows k1 ON k1.src = p.id"
            " JOIN knows k2 ON k2.src = k1.dst"
            " JOIN person f ON f.id = k2.dst"
            " WHERE p.id = ?",
            (id,),
        ).fetchone()[0]

    def close(self) -> None:
        self.conn.close()


ENGINES = {"weftdb": WeftDB, "kuzu": Kuzu, "sqlite": SQLite}


def make_data(scale: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    nodes, edges = max(10, int(NODES * scale)), max(10, int(EDGES * scale))
    persons = [{"id": i, "name": f"person-{i}", "age": rng.randint(18, 90)} for i in range(nodes)]
    knows = []
    while len(knows) < edges:
        a, b = rng.randrange(nodes), rng.randrange(nodes)
        if a != b:
            knows.append({"a": a, "b": b})
    return {
        "persons": persons,
        "knows": knows,
        "lookups": [rng.randrange(nodes) for _ in range(max(100, int(LOOKUPS * scale)))],
        "two_hops": [rng.randrange(nodes) for _ in range(max(100, int(TWO_HOPS * scale)))],
    }


def _seconds(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def _repeat(query: Callable[[int], Any], ids: list[int]) -> tuple[float, list[Any]]:
    """Run `query` on `ids` in order until all are done or QUERY_SECONDS have
    passed; the rate and the answers (a prefix of the same sequence on every
    engine, so the answers can be compared)."""
    answers: list[Any] = []
    started = time.perf_counter()
    for id in ids:
        answers.append(query(id))
        if time.perf_counter() - started > QUERY_SECONDS:
            break
    return len(answers) / (time.perf_counter() - started), answers


def measure(engine: Any, data: dict[str, Any], batch: int) -> tuple[dict[str, float], dict[str, list[Any]]]:
    """The rates of one engine, and its query answers for the cross-check.

    "bulk load" is all nodes and edges over the time to create them; for an
    engine that times only its first `timed_edges` edges, the edge part of it
    is extrapolated at the measured edge rate."""
    persons, knows = data["persons"], data["knows"]
    timed = knows[: engine.timed_edges] if engine.timed_edges else knows

    def in_batches(create: Callable[[list[dict]], None], rows: list[dict]) -> Callable[[], None]:
        return lambda: [create(rows[i : i + batch]) for i in range(0, len(rows), batch)]

    node_seconds = _seconds(in_batches(engine.create_persons, persons))
    edge_seconds = _seconds(in_batches(engine.create_knows, timed))
    if len(timed) < len(knows):
        engine.copy_knows(knows[len(timed) :])
    lookup_rate, names = _repeat(engine.lookup, data["lookups"])
    two_hop_rate, counts = _repeat(engine.two_hop, data["two_hops"])
    rates = {
        "create nodes": len(persons) / node_seconds,
        "create edges": len(timed) / edge_seconds,
        "bulk load": (len(persons) + len(knows)) / (node_seconds + edge_seconds * len(knows) / len(timed)),
        "point lookup": lookup_rate,
        "2-hop count": two_hop_rate,
    }
    return rates, {"point lookup": names, "2-hop count": counts}


def agreement(answers: dict[str, dict[str, list[Any]]]) -> dict[str, bool]:
    """Per engine: do its answers equal the first engine's, as far as both ran?"""
    reference = next(iter(answers.values()))

    def same(mine: list[Any], theirs: list[Any]) -> bool:
        n = min(len(mine), len(theirs))
        return mine[:n] == theirs[:n]

    return {name: all(same(got[k], reference[k]) for k in got) for name, got in answers.items()}


def versions(packages: tuple[tuple[str, str], ...] = (("WeftDB", "weftdb"), ("Kùzu", "kuzu")),
             sqlite: bool = True) -> dict[str, str]:
    """The versions of the engines a bench ran (name: package), those installed;
    every bench's JSON records them."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"SQLite": sqlite3.sqlite_version} if sqlite else {}
    for name, package in packages:
        try:
            found[name] = version(package)
        except PackageNotFoundError:
            pass
    return found


def print_table(results: dict[str, dict[str, float]], ratios: dict[str, dict[str, float]]) -> None:
    names = list(results)
    metrics = list(next(iter(results.values())))
    units = {"create nodes": "rows/s", "create edges": "rows/s", "bulk load": "rows/s"}
    header = f"{'workload':<24}" + "".join(f"{name:>12}" for name in names) + "".join(f"{key:>16}" for key in ratios)
    print(header)
    print("-" * len(header))
    for metric in metrics:
        label = f"{metric} ({units.get(metric, 'q/s')})"
        line = f"{label:<24}" + "".join(f"{results[name][metric]:>12,.0f}" for name in names)
        line += "".join(f"{ratios[key][metric]:>16.3f}" for key in ratios)
        print(line)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.1 for a quick run)")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated subset of: " + ", ".join(ENGINES))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "engine.json")
    args = parser.parse_args()

    data = make_data(args.scale, args.seed)
    print(
        f"{len(data['persons']):,} nodes, {len(data['knows']):,} edges, {BATCH:,} rows a batch, "
        f"{len(data['lookups']):,} lookups, {len(data['two_hops']):,} 2-hop queries",
        flush=True,
    )
    results: dict[str, dict[str, float]] = {}
    answers: dict[str, dict[str, list[Any]]] = {}
    engines = []
    with tempfile.TemporaryDirectory(prefix="weftdb-bench-") as scratch:
        for key in args.engines.split(","):
            engine = ENGINES[key](Path(scratch) / key)
            engines.append(engine)
            print(f"running {engine.name} ...", flush=True)
            try:
                results[engine.name], answers[engine.name] = measure(engine, data, BATCH)
            finally:
                engine.close()

    agree = agreement(answers)
    ratios = {
        f"WeftDB/{name}": {m: results["WeftDB"][m] / results[name][m] for m in results[name]}
        for name in results
        if name != "WeftDB" and "WeftDB" in results
    }
    print()
    print_table(results, ratios)
    print(f"\nanswers agree across engines: {all(agree.values())}")

    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "engine",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": args.scale,
        "seed": args.seed,
        "sizes": {"nodes": len(data["persons"]), "edges": len(data["knows"]), "batch": BATCH,
                  "lookups": len(data["lookups"]), "two_hops": len(data["two_hops"])},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "versions": versions(),
        "units": {"create nodes": "rows/s", "create edges": "rows/s", "bulk load": "rows/s",
                  "point lookup": "queries/s", "2-hop count": "queries/s"},
        "results": results,
        "ratios": ratios,
        "queries_run": {name: {k: len(v) for k, v in got.items()} for name, got in answers.items()},
        "answers_agree": agree,
        "timed_edges": {engine.name: engine.timed_edges or len(data["knows"]) for engine in engines},
    }
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")
    return 0 if all(agree.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Shortest paths: WeftDB beside networkx and Kùzu on the same random graph.

Why these two: networkx is what a Python programmer reaches for first, a
library of graph algorithms over plain dicts with no query language, no
transactions and no versions, so it shows what WeftDB's query path and MVCC
reads cost over the bare algorithm; Kùzu is an embedded graph database with
its own shortest-path syntax (`* SHORTEST`, `* WSHORTEST(w)`), so it measures
WeftDB against a native engine answering the same question in Cypher.

The graph: 100k `Node {id}` nodes and 1M random directed `LINK {w}` edges,
w a float in [1, 100). Workloads, the same seeded pairs on every engine:

  BFS (hops)   the fewest hops from one random node to another; in WeftDB
               both as Neo4j's `shortestPath((a)-[:LINK*]->(b))` and as
               Memgraph's `(a)-[:LINK *BFS]->(b)`
  weighted     the least total w, WeftDB's `*WSHORTEST (r, n | r.w) total`

networkx answers with `shortest_path_length` (bidirectional BFS) and
`bidirectional_dijkstra`, its fastest point-to-point searches, on a DiGraph
(parallel edges keep their least weight, which is all a shortest path can
use); its plain `dijkstra_path_length` (one direction, stopping at the
target) is timed too. Kùzu loads with COPY FROM and answers with
`-[e:LINK* SHORTEST 1..30]->` and `-[e:LINK* WSHORTEST(w)]->`.

Each query loop runs its pairs in order and stops after QUERY_SECONDS. Every
answer (hop count or total weight, None when there is no path) is compared
with networkx's for the same pair: one difference fails the run, so a fast
wrong answer never shows up as a good number.

    python bench/paths_bench.py               # the full sizes above
    python bench/paths_bench.py --scale 0.1   # a quick run
"""

from __future__ import annotations

import argparse
import csv
import gc
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import versions  # noqa: E402

NODES = 100_000
EDGES = 1_000_000
BATCH = 10_000
PAIRS = 500  # at most; each query loop also stops after QUERY_SECONDS
QUERY_SECONDS = 20.0
WARM_UP = 20  # pairs run untimed before each loop (the last ones: a loop that stops early never reaches them)
MAX_HOPS = 30  # Kùzu's recursive patterns need an upper bound; the random graph's paths are far shorter

HOPS_NEO4J = "MATCH p = shortestPath((a:Node {id: $s})-[:LINK*]->(b:Node {id: $t})) RETURN length(p)"
HOPS_MEMGRAPH = "MATCH p = (a:Node {id: $s})-[:LINK *BFS]->(b:Node {id: $t}) RETURN length(p)"
WEIGHTED = "MATCH (a:Node {id: $s})-[:LINK *WSHORTEST (r, n | r.w) total]->(b:Node {id: $t}) RETURN total"

KUZU_HOPS = f"MATCH (a:Node)-[e:LINK* SHORTEST 1..{MAX_HOPS}]->(b:Node) WHERE a.id = $s AND b.id = $t RETURN length(e)"
KUZU_WEIGHTED = "MATCH (a:Node)-[e:LINK* WSHORTEST(w)]->(b:Node) WHERE a.id = $s AND b.id = $t RETURN cost(e)"


class WeftDB:
    name = "WeftDB"

    def __init__(self, directory: Path, data: dict[str, Any]):
        import weftdb

        self.db = weftdb.open(str(directory))
        self.db.execute("CREATE INDEX ON :Node(id)")
        nodes, edges = data["nodes"], data["edges"]
        for i in range(0, nodes, BATCH):
            self.db.execute("UNWIND range($first, $last) AS i CREATE (:Node {id: i})",
                            {"first": i, "last": min(i + BATCH, nodes) - 1})
        for i in range(0, len(edges), BATCH):
            self.db.execute("UNWIND $rows AS r MATCH (a:Node {id: r[0]}), (b:Node {id: r[1]}) CREATE (a)-[:LINK {w: r[2]}]->(b)",
                            {"rows": edges[i : i + BATCH]})

    def _one(self, query: str, s: int, t: int) -> Any:
        rows = self.db.execute(query, {"s": s, "t": t}).rows
        return rows[0][0] if rows else None

    def workloads(self) -> dict[str, Callable[[int, int], Any]]:
        return {
            "BFS (hops)": lambda s, t: self._one(HOPS_NEO4J, s, t),
            "BFS (hops), *BFS": lambda s, t: self._one(HOPS_MEMGRAPH, s, t),
            "weighted": lambda s, t: self._one(WEIGHTED, s, t),
        }

    def close(self) -> None:
        self.db.close()


class NetworkX:
    name = "networkx"

    def __init__(self, directory: Path, data: dict[str, Any]):
        import networkx as nx

        self.nx = nx
        graph = nx.DiGraph()
        graph.add_nodes_from(range(data["nodes"]))
        for a, b, w in data["edges"]:
            if not graph.has_edge(a, b) or graph[a][b]["w"] > w:
                graph.add_edge(a, b, w=w)
        self.graph = graph

    def _hops(self, s: int, t: int) -> int | None:
        if s == t:
            return None  # a path from a node to itself is no shortest path (as in WeftDB and Kùzu)
        try:
            return self.nx.shortest_path_length(self.graph, s, t)
        except self.nx.NetworkXNoPath:
            return None

    def _weighted(self, s: int, t: int) -> float | None:
        if s == t:
            return None
        try:
            return self.nx.bidirectional_dijkstra(self.graph, s, t, weight="w")[0]
        except self.nx.NetworkXNoPath:
            return None

    def _dijkstra(self, s: int, t: int) -> float | None:
        if s == t:
            return None
        try:
            return self.nx.dijkstra_path_length(self.graph, s, t, weight="w")
        except self.nx.NetworkXNoPath:
            return None

    def workloads(self) -> dict[str, Callable[[int, int], Any]]:
        return {"BFS (hops)": self._hops, "weighted": self._weighted, "weighted, one-way Dijkstra": self._dijkstra}

    def close(self) -> None:
        pass


class Kuzu:
    name = "Kùzu"

    def __init__(self, directory: Path, data: dict[str, Any]):
        import kuzu

        directory.mkdir()
        self.db = kuzu.Database(str(directory / "graph.kuzu"))
        self.conn = kuzu.Connection(self.db)
        self.conn.execute("CREATE NODE TABLE Node(id INT64, PRIMARY KEY (id))")
        self.conn.execute("CREATE REL TABLE LINK(FROM Node TO Node, w DOUBLE)")
        nodes_csv, edges_csv = directory / "nodes.csv", directory / "edges.csv"
        with open(nodes_csv, "w", newline="") as handle:
            csv.writer(handle).writerows((i,) for i in range(data["nodes"]))
        with open(edges_csv, "w", newline="") as handle:
            csv.writer(handle).writerows(data["edges"])
        self.conn.execute(f"COPY Node FROM '{nodes_csv}' (HEADER=false)")
        self.conn.execute(f"COPY LINK FROM '{edges_csv}' (HEADER=false)")

    def _one(self, query: str, s: int, t: int) -> Any:
        if s == t:
            return None  # Kùzu answers a zero-length path here; the others answer none
        result = self.conn.execute(query, {"s": s, "t": t})
        return result.get_next()[0] if result.has_next() else None

    def workloads(self) -> dict[str, Callable[[int, int], Any]]:
        return {"BFS (hops)": lambda s, t: self._one(KUZU_HOPS, s, t), "weighted": lambda s, t: self._one(KUZU_WEIGHTED, s, t)}

    def close(self) -> None:
        self.conn.close()
        self.db.close()


ENGINES = {"networkx": NetworkX, "weftdb": WeftDB, "kuzu": Kuzu}
REFERENCE = "networkx"


def make_data(scale: float, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    nodes, edges = max(100, int(NODES * scale)), max(1000, int(EDGES * scale))
    return {
        "nodes": nodes,
        "edges": [[rng.randrange(nodes), rng.randrange(nodes), round(rng.uniform(1, 100), 3)] for _ in range(edges)],
        "pairs": [(rng.randrange(nodes), rng.randrange(nodes)) for _ in range(max(20, int(PAIRS * max(scale, 0.1))))],
    }


def _repeat(query: Callable[[int, int], Any], pairs: list[tuple[int, int]]) -> tuple[float, list[Any]]:
    """Run `query` on `pairs` in order until all are done or QUERY_SECONDS
    have passed: the rate and the answers (a prefix of the same sequence on
    every engine)."""
    answers: list[Any] = []
    started = time.perf_counter()
    for s, t in pairs:
        answers.append(query(s, t))
        if time.perf_counter() - started > QUERY_SECONDS:
            break
    return len(answers) / (time.perf_counter() - started), answers


def same(mine: Any, theirs: Any) -> bool:
    if mine is None or theirs is None:
        return mine is None and theirs is None
    return math.isclose(mine, theirs, rel_tol=1e-9, abs_tol=1e-9)


def check(answers: dict[str, dict[str, list[Any]]], pairs: list[tuple[int, int]]) -> dict[str, list[str]]:
    """Per engine, the answers that differ from networkx's for the same pair."""
    reference = answers.get(REFERENCE, {})
    wrong: dict[str, list[str]] = {}
    for name, got in answers.items():
        wrong[name] = []
        for workload, values in got.items():
            truth = reference.get("BFS (hops)" if workload.startswith("BFS") else "weighted")
            if truth is None or name == REFERENCE:
                continue
            for (s, t), mine, theirs in zip(pairs, values, truth):
                if not same(mine, theirs):
                    wrong[name].append(f"{workload} {s}->{t}: {mine!r}, networkx {theirs!r}")
    return wrong


def print_table(results: dict[str, dict[str, float]], loads: dict[str, float]) -> None:
    workloads = list(dict.fromkeys(w for got in results.values() for w in got))
    names = list(results)
    header = f"{'queries/s':<28}" + "".join(f"{name:>12}" for name in names)
    print(header)
    print("-" * len(header))
    for workload in workloads:
        cells = "".join(f"{results[n][workload]:>12,.1f}" if workload in results[n] else f"{'-':>12}" for n in names)
        print(f"{workload:<28}{cells}")
    print(f"{'load (s)':<28}" + "".join(f"{loads[n]:>12,.1f}" for n in names))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (0.1 for a quick run)")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated subset of: " + ", ".join(ENGINES) + " (networkx is the reference: keep it)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=Path(__file__).parent / "results" / "paths.json")
    args = parser.parse_args()

    data = make_data(args.scale, args.seed)
    pairs = data["pairs"]
    print(f"{data['nodes']:,} nodes, {len(data['edges']):,} edges, {len(pairs):,} pairs a workload "
          f"(or {QUERY_SECONDS:.0f} s)", flush=True)
    results: dict[str, dict[str, float]] = {}
    answers: dict[str, dict[str, list[Any]]] = {}
    loads: dict[str, float] = {}
    load_average: dict[str, list[float]] = {}  # the machine's 1-minute load average before and after each engine
    with tempfile.TemporaryDirectory(prefix="weftdb-bench-") as scratch:
        for key in args.engines.split(","):
            print(f"loading {key} ...", flush=True)
            load_average[key] = [round(os.getloadavg()[0], 2)]
            started = time.perf_counter()
            engine = ENGINES[key](Path(scratch) / key, data)
            loads[engine.name] = time.perf_counter() - started
            try:
                results[engine.name], answers[engine.name] = {}, {}
                for workload, query in engine.workloads().items():
                    print(f"  {engine.name}: {workload} ...", flush=True)
                    gc.collect()  # the load's garbage is collected before, not during, the timed loop
                    for s, t in pairs[-WARM_UP:]:  # untimed: caches and plans warm for every workload alike
                        query(s, t)
                    rate, got = _repeat(query, pairs)
                    results[engine.name][workload], answers[engine.name][workload] = rate, got
            finally:
                engine.close()
                load_average[key].append(round(os.getloadavg()[0], 2))

    wrong = check(answers, pairs)
    ratios = {
        f"WeftDB/{name}": {w: results["WeftDB"][w] / results[name][w] for w in results[name] if w in results["WeftDB"]}
        for name in results if name != "WeftDB" and "WeftDB" in results
    }
    print()
    print_table(results, loads)
    for name, problems in wrong.items():
        for problem in problems[:10]:
            print(f"WRONG {name}: {problem}")
    agree = {name: not problems for name, problems in wrong.items()}
    print(f"\nanswers agree with networkx: {all(agree.values())}")
    print("load average before/after each engine: " + ", ".join(f"{k} {v[0]}/{v[-1]}" for k, v in load_average.items()))

    args.output.parent.mkdir(parents=True, exist_ok=True)
    reachable = [a for a in answers.get(REFERENCE, {}).get("BFS (hops)", []) if a is not None]
    report = {
        "benchmark": "paths",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "scale": args.scale,
        "seed": args.seed,
        "sizes": {"nodes": data["nodes"], "edges": len(data["edges"]), "pairs": len(pairs)},
        "machine": {"python": platform.python_version(), "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count()},
        "versions": versions((("WeftDB", "weftdb"), ("networkx", "networkx"), ("Kùzu", "kuzu")), sqlite=False),
        "units": {"results": "queries/s", "load_seconds": "s"},
        "results": results,
        "ratios": ratios,
        "load_seconds": loads,
        "load_average": load_average,
        "queries_run": {name: {w: len(v) for w, v in got.items()} for name, got in answers.items()},
        "mean_hops": sum(reachable) / len(reachable) if reachable else None,
        "answers_agree": agree,
        "wrong_answers": {name: problems[:20] for name, problems in wrong.items() if problems},
    }
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.output}")
    return 0 if all(agree.values()) else 1


if __name__ == "__main__":
    sys.exit(main())

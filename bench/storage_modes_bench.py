"""IN_MEMORY_ANALYTICAL beside IN_MEMORY_TRANSACTIONAL: the engine bench's bulk load in each mode.

The engine bench's graph (bench/engine_bench.py, same seed: 100k `Person`
nodes, then 500k `KNOWS` edges matched by an indexed id) is loaded through its
`UNWIND $rows` statements in each storage mode, two ways:

  batches         10k rows a statement and a commit, as the engine bench loads
  one transaction every row of a file in one statement, as one LOAD CSV of the
                  file loads it (the rows are one parameter list)

Each load runs in a process of its own, so its memory figures are its own,
`--repeat` times interleaved (the median is kept). Memory per object is the
resident size the load added, divided by the nodes and edges it made; the
peak is the process's peak resident size. Both modes write to a data
directory with default flags: the transactional one fsyncs each commit to its
WAL, the analytical one writes none, and neither writes a snapshot during the
load. Each run checks what it loaded (counts, the sum of the ages, 2-hop
counts of 100 persons); the runs must agree.

    python bench/storage_modes_bench.py               # the full sizes, a few minutes
    python bench/storage_modes_bench.py --scale 0.1   # a quick run
"""

from __future__ import annotations

import argparse
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import BATCH, CREATE_KNOWS, CREATE_PERSONS, make_data, versions  # noqa: E402

MODES = ("IN_MEMORY_TRANSACTIONAL", "IN_MEMORY_ANALYTICAL")
WAYS = ("batches", "one transaction")
PROBES = 100


def _resident() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run(mode: str, way: str, scale: float, seed: int, directory: str) -> dict[str, Any]:
    """One load, in this process."""
    import weftdb

    data = make_data(scale, seed)
    db = weftdb.open(directory, storage_mode=mode, storage_snapshot_on_exit=False)
    db.execute("CREATE INDEX ON :Person(id)")
    step = BATCH if way == "batches" else max(len(data["persons"]), len(data["knows"]))
    before = _resident()
    started = time.perf_counter()
    for at in range(0, len(data["persons"]), step):
        db.execute(CREATE_PERSONS, {"rows": data["persons"][at : at + step]})
    middle = time.perf_counter()
    for at in range(0, len(data["knows"]), step):
        db.execute(CREATE_KNOWS, {"rows": data["knows"][at : at + step]})
    ended = time.perf_counter()
    added = _resident() - before
    one = lambda query, params=None: db.execute(query, params).single()  # noqa: E731
    two_hops = "MATCH (p:Person {id: $id})-[:KNOWS]->()-[:KNOWS]->(f) RETURN count(f)"
    check = {
        "nodes": one("MATCH (p:Person) RETURN count(p)"),
        "edges": one("MATCH ()-[k:KNOWS]->() RETURN count(k)"),
        "age_sum": one("MATCH (p:Person) RETURN sum(p.age)"),
        "two_hop_sum": sum(one(two_hops, {"id": i}) for i in data["two_hops"][:PROBES]),
    }
    db.close()
    objects = check["nodes"] + check["edges"]
    return {"node_seconds": middle - started, "edge_seconds": ended - middle, "bytes_per_object": added / objects,
            "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "check": check,
            "nodes": len(data["persons"]), "edges": len(data["knows"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the sizes (0.1 for a quick run)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, interleaved; the median is kept")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "storage_modes.json"))
    parser.add_argument("--worker", nargs=2, metavar=("MODE", "WAY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        with tempfile.TemporaryDirectory(prefix="weftdb-modes-") as scratch:
            print(json.dumps(run(args.worker[0], args.worker[1], args.scale, args.seed, scratch)))
        return
    runs: dict[str, list[dict[str, Any]]] = {}
    for _ in range(args.repeat):
        for way in WAYS:
            for mode in MODES:
                out = subprocess.run([sys.executable, __file__, "--scale", str(args.scale), "--seed", str(args.seed),
                                      "--worker", mode, way], capture_output=True, text=True, check=True)
                result = json.loads(out.stdout.strip().splitlines()[-1])
                runs.setdefault(f"{mode} / {way}", []).append(result)
                print(f"  {mode}, {way}: {result['node_seconds'] + result['edge_seconds']:.1f} s", flush=True)
    summary = {}
    for name, results in runs.items():
        nodes, edges = results[0]["nodes"], results[0]["edges"]
        node_s = statistics.median(r["node_seconds"] for r in results)
        edge_s = statistics.median(r["edge_seconds"] for r in results)
        all_s = statistics.median(r["node_seconds"] + r["edge_seconds"] for r in results)
        summary[name] = {"nodes_per_s": nodes / node_s, "edges_per_s": edges / edge_s, "rows_per_s": (nodes + edges) / all_s,
                         "bytes_per_object": statistics.median(r["bytes_per_object"] for r in results),
                         "peak_rss_mib": statistics.median(r["peak_rss"] for r in results) / 2**20}
    checks = {json.dumps(r["check"], sort_keys=True) for results in runs.values() for r in results}
    print(f"\n{'run':44} {'nodes/s':>10} {'edges/s':>10} {'rows/s':>10} {'B/object':>9} {'peak MiB':>9}")
    for name, s in summary.items():
        print(f"{name:44} {s['nodes_per_s']:>10,.0f} {s['edges_per_s']:>10,.0f} {s['rows_per_s']:>10,.0f} "
              f"{s['bytes_per_object']:>9,.0f} {s['peak_rss_mib']:>9,.0f}")
    ratios = {}
    for way in WAYS:
        analytical, transactional = summary[f"{MODES[1]} / {way}"], summary[f"{MODES[0]} / {way}"]
        ratios[way] = {"rows_per_s": analytical["rows_per_s"] / transactional["rows_per_s"],
                       "bytes_per_object": analytical["bytes_per_object"] / transactional["bytes_per_object"],
                       "peak_rss": analytical["peak_rss_mib"] / transactional["peak_rss_mib"]}
        print(f"analytical / transactional, {way}: rows/s {ratios[way]['rows_per_s']:.2f}x, bytes per object "
              f"{ratios[way]['bytes_per_object']:.2f}x, peak RSS {ratios[way]['peak_rss']:.2f}x")
    print(f"the loaded graphs agree: {len(checks) == 1}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scale": args.scale, "repeat": args.repeat,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()},
        "versions": versions((("WeftDB", "weftdb"),), sqlite=False),
        "summary": summary, "ratios": ratios, "agree": len(checks) == 1,
    }, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()

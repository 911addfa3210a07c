"""Dump and import rates: `DUMP DATABASE` and `weftdb import` of a 100k-node graph.

What is measured, in one process on a temporary data directory: a graph of
`--nodes` `Person` nodes (5 properties each: int, string, float, list, date)
and as many `KNOWS` edges (one int property) is dumped with DUMP DATABASE
(statements/s), cut into statements with the shared splitter, and imported
into an empty data directory with the importer of `weftdb import` (default
batch of 10k statements per transaction, WAL on, fsync per commit), then
dumped again and compared (the texts must be identical). Wall-clock and CPU
seconds are both recorded, with the load average, because the machine may be
shared.

    .venv/bin/python bench/dump_bench.py [--nodes 100000]

Prints a table and writes bench/results/dump.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import weftdb  # noqa: E402
from weftdb.backup.importer import import_statements  # noqa: E402
from weftdb.query.script import split_statements  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results", "dump.json")
QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


def timed(work):
    wall, cpu = time.perf_counter(), time.process_time()
    value = work()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    args = parser.parse_args()
    n = args.nodes
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as scratch:
        source = weftdb.open(os.path.join(scratch, "source"), **QUIET)
        source.execute(
            "UNWIND range(0, $n - 1) AS i CREATE (:Person {id: i, name: 'person ' + toString(i), "
            "score: i / 7.0, tags: ['a', 'b'], born: date('2000-01-01')})",
            {"n": n},
        )
        source.execute("CREATE INDEX ON :Person(id)")
        source.execute(
            "UNWIND range(0, $n - 1) AS i MATCH (a:Person {id: i}), (b:Person {id: (i * 7919 + 1) % $n}) "
            "CREATE (a)-[:KNOWS {w: i}]->(b)",
            {"n": n},
        )
        rows, dump_wall, dump_cpu = timed(lambda: [row[0] for row in source.execute("DUMP DATABASE")])
        text = "".join(line + "\n" for line in rows)
        source.close()
        statements, split_wall, split_cpu = timed(lambda: split_statements(text))
        target = weftdb.open(os.path.join(scratch, "target"), **QUIET)
        _, import_wall, import_cpu = timed(lambda: import_statements(target, statements))
        identical = "".join(row[0] + "\n" for row in target.execute("DUMP DATABASE")) == text
        target.close()
    count = len(rows)
    figures = {
        "nodes": n,
        "edges": n,
        "statements": count,
        "dump_bytes": len(text.encode()),
        "dump_seconds": round(dump_wall, 2),
        "dump_cpu_seconds": round(dump_cpu, 2),
        "split_seconds": round(split_wall, 2),
        "import_seconds": round(import_wall, 2),
        "import_cpu_seconds": round(import_cpu, 2),
        "import_statements_per_second": round(count / import_wall),
        "import_statements_per_cpu_second": round(count / import_cpu),
        "dump_import_dump_identical": identical,
    }
    print(f"{'step':<24}{'wall s':>10}{'cpu s':>10}{'statements/s':>16}")
    for step, wall, cpu in (("DUMP DATABASE", dump_wall, dump_cpu), ("split", split_wall, split_cpu), ("import", import_wall, import_cpu)):
        print(f"{step:<24}{wall:>10.2f}{cpu:>10.2f}{count / wall:>16,.0f}")
    print(f"{count} statements, {figures['dump_bytes']:,} bytes; dump -> import -> dump identical: {identical}")
    document = {
        "benchmark": "dump",
        "figures": figures,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
    }
    with open(RESULTS, "w") as handle:
        handle.write(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()

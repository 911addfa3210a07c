"""Results that stream: the first row and the memory of a 1M-row result.

`MATCH (n:N) RETURN n` over `--nodes` nodes (default 1M, each with one
integer property), read row by row to the end, measured two ways:

  embedded  `for row in db.execute(...)` in a process of its own: seconds to
            the first row and to the last, and the process's peak RSS during
            the query above its RSS before it (VmHWM after resetting it
            through /proc/self/clear_refs)
  bolt      the neo4j driver (fetch size 1,000, its default) reading from
            `weftdb serve` in a process of its own: the same two times, and
            the server process's peak RSS during the query above its RSS
            before it

The graph is loaded once per measurement, before the clock starts. Run it on
the code before and after a change (`PYTHONPATH=<a worktree>`) to compare;
the figures are printed and written to bench/results/streaming.json.

    python bench/streaming_bench.py                  # 1M nodes, about 3 minutes
    python bench/streaming_bench.py --nodes 100000   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

QUERY = "MATCH (n:N) RETURN n"
LOAD = "UNWIND range($start, $end - 1) AS i CREATE (:N {i: i})"
BATCH = 100_000
SERVE = (
    "from weftdb.basics.config import Config; from weftdb.server.server import serve; "
    "serve(Config.load({{'data_directory': {path!r}, 'bolt_port': 0, 'backup_enabled': False}}))"
)


def rss_kib(pid: int | str = "self") -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process, in KiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def reset_peak(pid: int | str = "self") -> None:
    """Start VmHWM again from the current RSS (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def load(execute, nodes: int) -> None:
    for start in range(0, nodes, BATCH):
        execute(LOAD, {"start": start, "end": min(nodes, start + BATCH)})


def read_all(rows) -> tuple[float, float, int]:
    """Seconds to the first row and to the last, and the rows, of an iterable the clock started before."""
    started = time.perf_counter()
    iterator = iter(rows())
    first = next(iterator)
    to_first = time.perf_counter() - started
    count = 1 + sum(1 for _ in iterator)
    assert first is not None
    return to_first, time.perf_counter() - started, count


def embedded(nodes: int) -> dict:
    """Run in a process of its own (`--child embedded`)."""
    import weftdb

    with weftdb.open(None) as db:
        load(db.execute, nodes)
        before, _ = rss_kib()
        reset_peak()
        to_first, to_last, count = read_all(lambda: db.execute(QUERY))
        _, peak = rss_kib()
    return {"rows": count, "first_row_s": round(to_first, 3), "last_row_s": round(to_last, 3),
            "peak_rss_above_before_mib": round((peak - before) / 1024, 1)}


def bolt(nodes: int, scratch: str) -> dict:
    import neo4j

    import weftdb

    # The server runs where this process's weftdb is (a `-c` program imports from its
    # working directory first), so that PYTHONPATH=<a worktree> measures that code.
    root = Path(weftdb.__file__).resolve().parents[1]
    process = subprocess.Popen([sys.executable, "-c", SERVE.format(path=os.path.join(scratch, "served"))],
                               stderr=subprocess.PIPE, text=True, cwd=root)
    try:
        line = process.stderr.readline()
        port = int(line.rsplit(":", 1)[1])
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
            with driver.session() as session:
                load(lambda q, p: session.run(q, p).consume(), nodes)
                before, _ = rss_kib(process.pid)
                reset_peak(process.pid)
                to_first, to_last, count = read_all(lambda: session.run(QUERY))
                _, peak = rss_kib(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=60)
    return {"rows": count, "first_row_s": round(to_first, 3), "last_row_s": round(to_last, 3),
            "server_peak_rss_above_before_mib": round((peak - before) / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=1_000_000, help="nodes in the graph, rows in the result")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "streaming.json"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "embedded":
        print(json.dumps(embedded(args.nodes)))
        return
    child = subprocess.run([sys.executable, __file__, "--child", "embedded", "--nodes", str(args.nodes)],
                           capture_output=True, text=True, check=True)
    results = {"embedded": json.loads(child.stdout.splitlines()[-1])}
    with tempfile.TemporaryDirectory() as scratch:
        results["bolt"] = bolt(args.nodes, scratch)
    for name, figures in results.items():
        print(f"{name:9s} " + "  ".join(f"{key} {value}" for key, value in figures.items()))
    document = {"benchmark": "a result of --nodes rows, read to the end", "query": QUERY, "nodes": args.nodes,
                "machine": {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count()},
                "results": results}
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()

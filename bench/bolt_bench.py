"""The Bolt benchmark: what the protocol costs over the embedded API.

One indexed point lookup, `MATCH (p:Person {id: $id}) RETURN p.name` with
random ids, run for a fixed time by 1 and by 16 clients, two ways in the same
run on the same data:

  embedded   `db.execute(...)` in this process (16 clients = 16 threads)
  bolt       the official neo4j driver against `weftdb.server.server.serve`
             running in its own process on 127.0.0.1 (16 clients = 16 client
             processes, so the clients do not share one interpreter lock)

For each it reports queries per second and the p50 / p99 round-trip latency,
and the Bolt/embedded ratios. The table is printed and the figures, with the
machine, are written to bench/results/bolt.json.

    python bench/bolt_bench.py                 # 5 s per measurement
    python bench/bolt_bench.py --seconds 2     # a quick run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

NODES = 10_000
LOOKUP = "MATCH (p:Person {id: $id}) RETURN p.name"
LOAD = "UNWIND range(0, $n - 1) AS i CREATE (:Person {id: i, name: 'p' + toString(i)})"
SERVE = (
    "from weftdb.basics.config import Config; from weftdb.server.server import serve; "
    "serve(Config.load({{'data_directory': {path!r}, 'bolt_port': 0, 'backup_enabled': False}}))"
)


def _loop(run_one, seconds: float, seed: int) -> list[float]:
    """Latencies (seconds) of lookups run back to back for `seconds`."""
    rng = random.Random(seed)
    latencies = []
    deadline = time.perf_counter() + seconds
    while (started := time.perf_counter()) < deadline:
        name = run_one(rng.randrange(NODES))
        latencies.append(time.perf_counter() - started)
        assert name is not None
    return latencies


def _bolt_client(port: int, seconds: float, seed: int, start_at: float) -> list[float]:
    import neo4j

    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
        with driver.session() as session:
            session.run(LOOKUP, id=0).consume()  # connect before the clock starts
            time.sleep(max(0.0, start_at - time.time()))
            return _loop(lambda i: session.run(LOOKUP, id=i).single()[0], seconds, seed)


def _summary(latencies: list[list[float]], seconds: float) -> dict:
    flat = sorted(x for client in latencies for x in client)
    return {
        "queries": len(flat),
        "qps": round(len(flat) / seconds, 1),
        "p50_ms": round(statistics.median(flat) * 1000, 3),
        "p99_ms": round(flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000, 3),
    }


def embedded(db, clients: int, seconds: float) -> dict:
    results: list[list[float]] = [[] for _ in range(clients)]

    def client(index: int) -> None:
        results[index] = _loop(lambda i: db.execute(LOOKUP, {"id": i}).rows[0][0], seconds, index)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(results, seconds)


def bolt(port: int, clients: int, seconds: float) -> dict:
    context = multiprocessing.get_context("spawn")
    with context.Pool(clients) as pool:
        start_at = time.time() + 3.0  # every client connected and warmed up
        results = pool.starmap(_bolt_client, [(port, seconds, i, start_at) for i in range(clients)])
    return _summary(results, seconds)


def start_server(path: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-c", SERVE.format(path=path)], stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    match = re.search(r"bolt://127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    return process, int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "bolt.json"))
    args = parser.parse_args()

    import neo4j

    import weftdb

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        db = weftdb.open(os.path.join(scratch, "embedded"))
        db.execute("CREATE INDEX ON :Person(id)")
        db.execute(LOAD, {"n": NODES})
        process, port = start_server(os.path.join(scratch, "served"))
        try:
            with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
                with driver.session() as session:
                    session.run("CREATE INDEX ON :Person(id)").consume()
                    session.run(LOAD, n=NODES).consume()
            for clients in (1, 16):
                local = embedded(db, clients, args.seconds)
                remote = bolt(port, clients, args.seconds)
                rows.append(
                    {
                        "clients": clients,
                        "embedded": local,
                        "bolt": remote,
                        "qps_ratio_bolt_over_embedded": round(remote["qps"] / local["qps"], 3),
                        "p50_ratio_bolt_over_embedded": round(remote["p50_ms"] / local["p50_ms"], 2),
                    }
                )
        finally:
            process.terminate()
            process.wait(timeout=30)
            db.close()

    print(f"point lookup on {NODES} indexed nodes, {args.seconds:.0f} s per measurement")
    print(f"{'clients':>7} {'mode':>9} {'queries/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for row in rows:
        for mode in ("embedded", "bolt"):
            m = row[mode]
            print(f"{row['clients']:>7} {mode:>9} {m['qps']:>10.0f} {m['p50_ms']:>8.3f} {m['p99_ms']:>8.3f}")
        print(f"{'':>7} {'bolt/emb':>9} {row['qps_ratio_bolt_over_embedded']:>10.2f} {row['p50_ratio_bolt_over_embedded']:>8.2f}")
    document = {
        "benchmark": "bolt point lookup",
        "query": LOOKUP,
        "nodes": NODES,
        "seconds_per_measurement": args.seconds,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": rows,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()

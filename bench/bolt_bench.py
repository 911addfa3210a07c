"""The Bolt benchmark: what the protocol costs over the embedded API.

One indexed point lookup, `MATCH (p:Person {id: $id}) RETURN p.name` with
random ids over 10k nodes, and the smallest round trip, `RETURN 1`, each run
back to back for `--seconds` per measurement, in one run on the same data:

  embedded    `db.execute(...)` in this process, 1 and 16 threads: the engine
              alone, what every Bolt figure is divided by
  neo4j       the official neo4j driver against `weftdb.server.server.serve`
              running in its own process on 127.0.0.1, 1 and 16 clients
  pymgclient  the C client (`mgclient`), 1 connection (lookups and
              `RETURN 1`) and 16 connections; it costs its process far less
              than the Python driver, so more of the time measured is the
              server's
  floor       what pymgclient sends for a query (two round trips), from one
              plain-socket client process, to a server on the same event
              loop that answers at once and does nothing else: the most
              any server could give pymgclient on this machine, divided by
              the embedded lookup rate like the rest
  mixed       15 pymgclient clients doing lookups, first alone, then while a
              16th runs an analytical query that takes about `--seconds` on
              its own: what one long query does to everyone's latency

Every Bolt client is a process of its own: the 16 clients do not share one
interpreter lock, and pymgclient holds its process's lock while it waits in
C, so it never runs as a thread beside another client or the server. The
clients connect and warm up, wait at a barrier, then run for `--seconds`.

For each measurement it reports queries per second, the p50 / p99 round-trip
latency and the ratios against the embedded rate; for Bolt also the server
process's CPU time over the measurement (utime + stime from
/proc/<pid>/stat), per request and in cores busy, and for embedded this
process's CPU per query. The table is printed and the figures, with the
machine, are written to bench/results/bolt.json.

    python bench/bolt_bench.py                 # 5 s per measurement, about 70 s
    python bench/bolt_bench.py --seconds 1     # a quick run
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
PING = "RETURN 1"
QUERIES = {"lookup": LOOKUP, "return1": PING}
# Every a with a.id < $k times a scan of all 10k b: its time grows with k.
ANALYTICAL = "MATCH (a:Person), (b:Person) WHERE a.id < $k AND b.id < $k RETURN count(*)"
LOAD = "UNWIND range(0, $n - 1) AS i CREATE (:Person {id: i, name: 'p' + toString(i)})"
SERVE = (
    "from weftdb.basics.config import Config; from weftdb.server.server import serve; "
    "serve(Config.load({{'data_directory': {path!r}, 'bolt_port': 0, 'backup_enabled': False}}))"
)
CLIENTS = 16
MIXED_CLIENTS = 15  # lookup clients of the mixed run; the analytical one is the 16th


def _params(query: str, i: int) -> dict:
    return {"id": i} if query == "lookup" else {}


def _loop(run_one, seconds: float, seed: int, starts: list[float] | None = None) -> list[float]:
    """Latencies (seconds) of lookups run back to back for `seconds`; their wall-clock starts into `starts`."""
    rng = random.Random(seed)
    latencies = []
    deadline = time.perf_counter() + seconds
    while (started := time.perf_counter()) < deadline:
        if starts is not None:
            starts.append(time.time())
        name = run_one(rng.randrange(NODES))
        latencies.append(time.perf_counter() - started)
        assert name is not None
    return latencies


def _connect_neo4j(port: int, query: str):
    """One neo4j-driver session: `run_one(i)` and `close()`."""
    import neo4j

    driver = neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None)
    session = driver.session()

    def close() -> None:
        session.close()
        driver.close()

    return lambda i: session.run(QUERIES[query], _params(query, i)).single()[0], close


def _connect_mgclient(port: int, query: str):
    """One pymgclient connection in autocommit: `run_one(i)` and `close()`."""
    import mgclient

    conn = mgclient.connect(host="127.0.0.1", port=port)
    conn.autocommit = True
    cursor = conn.cursor()

    def run_one(i: int):
        cursor.execute(QUERIES[query], _params(query, i))
        return cursor.fetchall()[0][0]

    return run_one, conn.close


# The floor: a server that answers without doing anything, on the server's own
# event loop, and a client that sends what pymgclient sends for a query (a RUN
# and, once it is answered, a PULL; each message as two writes, its chunk and
# then its end marker, as strace shows mgclient doing) and reads an answer of
# the size WeftDB's. No Bolt server on this machine can answer pymgclient faster.
FLOOR_SERVER = """
import asyncio, sys
from weftdb.server.server import new_event_loop
class Answer(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
    def data_received(self, data):
        if data.endswith(b"\\0\\0"):  # a message's end marker: answer it
            self.transport.write(bytes({answer}))
async def main():
    server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", 0)
    print(f"bolt://127.0.0.1:{{server.sockets[0].getsockname()[1]}}", file=sys.stderr, flush=True)
    await asyncio.Event().wait()
new_event_loop().run_until_complete(main())
"""
FLOOR_MESSAGES = (bytes.fromhex("000db31088") + b"RETURN 1" + bytes.fromhex("a0a0"), bytes.fromhex("0006b13fa1816eff"))
FLOOR_ANSWER = 64  # bytes: about WeftDB's SUCCESS to a RUN, and its RECORD and SUCCESS to a PULL


def _connect_floor(port: int, query: str):
    """A client of the floor server that sends what pymgclient sends for a query."""
    import socket

    conn = socket.create_connection(("127.0.0.1", port))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def run_one(i: int) -> int:
        for message in FLOOR_MESSAGES:
            conn.sendall(message)
            conn.sendall(b"\0\0")
            got = 0
            while got < FLOOR_ANSWER:
                got += len(conn.recv(FLOOR_ANSWER - got))
        return got

    return run_one, conn.close


CONNECT = {"neo4j": _connect_neo4j, "pymgclient": _connect_mgclient, "floor": _connect_floor}


def _bolt_client(index: int, driver: str, query: str, port: int, seconds: float, ready, out) -> None:
    """A client process: connect, warm up, wait for the others, run `query` for `seconds`."""
    try:
        run_one, close = CONNECT[driver](port, query)
        try:
            for i in range(10):  # connected and warmed up before the clock starts
                run_one(i)
            ready.wait()
            starts: list[float] = []
            latencies = _loop(run_one, seconds, index, starts)
            out.put((index, {"latencies": latencies, "starts": starts}))
        finally:
            close()
    except Exception as exc:  # the parent reports it instead of waiting for ever
        ready.abort()
        out.put((index, {"error": f"{driver} client {index}: {exc!r}"}))


def _analytical_client(index: int, port: int, k: int, seconds: float, ready, out) -> None:
    """The mixed run's 16th client: ANALYTICAL back to back until `seconds` have passed, at least once."""
    try:
        import mgclient

        conn = mgclient.connect(host="127.0.0.1", port=port)
        conn.autocommit = True
        cursor = conn.cursor()
        cursor.execute(ANALYTICAL, {"k": 1})  # planned once before the clock starts
        cursor.fetchall()
        ready.wait()
        intervals = []
        deadline = time.time() + seconds
        while True:
            started = time.time()
            cursor.execute(ANALYTICAL, {"k": k})
            cursor.fetchall()
            intervals.append((started, time.time()))
            if time.time() >= deadline:
                break
        conn.close()
        out.put((index, {"intervals": intervals}))
    except Exception as exc:
        ready.abort()
        out.put((index, {"error": f"analytical client: {exc!r}"}))


def _summary(latencies: list[list[float]], seconds: float) -> dict:
    flat = sorted(x for client in latencies for x in client)
    if not flat:
        raise SystemExit("no query finished within the measurement")
    return {
        "queries": len(flat),
        "qps": round(len(flat) / seconds, 1),
        "p50_ms": round(statistics.median(flat) * 1000, 3),
        "p99_ms": round(flat[min(len(flat) - 1, int(len(flat) * 0.99))] * 1000, 3),
    }


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) process `pid` has used, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # fields 14 and 15


def _cpu_figures(summary: dict, cpu_seconds: float, seconds: float, prefix: str) -> dict:
    """CPU per query in µs and cores busy, added to `summary`."""
    summary[f"{prefix}_cpu_us_per_request"] = round(cpu_seconds / summary["queries"] * 1e6, 1)
    summary[f"{prefix}_cores"] = round(cpu_seconds / seconds, 2)
    return summary


def embedded(db, clients: int, seconds: float, query: str = "lookup") -> dict:
    """`query` through `db.execute` from `clients` threads of this process: the engine with no protocol.

    The process's CPU time over the measurement, per query, is what a Bolt
    request's server CPU could come down to if the protocol cost nothing.
    """
    results: list[list[float]] = [[] for _ in range(clients)]

    def client(index: int) -> None:
        results[index] = _loop(lambda i: db.execute(QUERIES[query], _params(query, i)).rows[0][0], seconds, index)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    cpu = time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _cpu_figures(_summary(results, seconds), time.process_time() - cpu, seconds, "process")


def _processes(pid: int, jobs: list[tuple], seconds: float) -> tuple[list[dict], float]:
    """Run each (target, args) in a process of its own; their results and the server's CPU seconds.

    Every target connects, warms up, then waits at the barrier; the server's
    CPU time is read when all of them are past it and `seconds` later.
    """
    context = multiprocessing.get_context("spawn")
    ready = context.Barrier(len(jobs) + 1)
    out = context.Queue()
    processes = [
        context.Process(target=target, args=(index, *args, ready, out)) for index, (target, args) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    try:
        try:
            ready.wait(timeout=300)
        except threading.BrokenBarrierError:
            pass  # a client failed: its error is in `out`
        before = server_cpu(pid)
        time.sleep(seconds)
        cpu = server_cpu(pid) - before
        results = dict(out.get(timeout=600 + seconds * 20) for _ in jobs)
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    errors = [r["error"] for r in results.values() if "error" in r]
    if errors:
        raise SystemExit("; ".join(errors))
    return [results[i] for i in range(len(jobs))], cpu


def bolt(pid: int, port: int, driver: str, clients: int, seconds: float, query: str = "lookup") -> dict:
    """`query` from `clients` client processes through `driver`, with the server's CPU per request."""
    jobs = [(_bolt_client, (driver, query, port, seconds)) for _ in range(clients)]
    results, cpu = _processes(pid, jobs, seconds)
    summary = _summary([r["latencies"] for r in results], seconds)
    return _cpu_figures(summary, cpu, seconds, "server")


def calibrate(session, seconds: float) -> dict:
    """The k at which ANALYTICAL takes about `seconds` on the idle server, and its time there.

    k is doubled until the query takes a quarter of `seconds`, then scaled
    linearly (its plan scans all nodes once per `a`) and timed at the k
    chosen, once more if that missed by over a quarter: the last time is the
    long query's "alone" time.
    """

    def timed(k: int) -> float:
        started = time.perf_counter()
        session.run(ANALYTICAL, k=k).consume()
        return time.perf_counter() - started

    timed(1)  # planned before anything is timed
    k = 25
    while (took := timed(k)) < seconds / 4 and k < NODES:
        k *= 2
    for _ in range(2):
        k = max(1, min(NODES, round(k * seconds / took)))
        took = timed(k)
        if 0.75 <= took / seconds <= 1.33:
            break
    return {"k": k, "alone_s": round(took, 3)}


def mixed(pid: int, port: int, k: int, seconds: float) -> dict:
    """15 pymgclient lookup clients alone, then while a 16th runs ANALYTICAL with `k` back to back.

    With the long query, only lookups that started and ended while it was
    running count, and their rate is over that window. The server's CPU is
    given in cores busy (per request it would mix the two kinds of query).
    """
    lookups = [(_bolt_client, ("pymgclient", "lookup", port, seconds)) for _ in range(MIXED_CLIENTS)]
    results, cpu = _processes(pid, lookups, seconds)
    alone = _summary([r["latencies"] for r in results], seconds)
    alone["server_cores"] = round(cpu / seconds, 2)

    results, cpu = _processes(pid, [*lookups, (_analytical_client, (port, k, seconds))], seconds)
    intervals = results[-1]["intervals"]
    clients = results[:-1]
    during = [
        [lat for start, lat in zip(r["starts"], r["latencies"]) if any(a <= start and start + lat <= b for a, b in intervals)]
        for r in clients
    ]
    first = min(r["starts"][0] for r in clients)
    last = max(r["starts"][-1] + r["latencies"][-1] for r in clients)
    window = min(last, intervals[-1][1]) - max(first, intervals[0][0])  # lookups and the long query both running
    with_long = _summary(during, window)
    with_long["window_s"] = round(window, 3)
    with_long["server_cores"] = round(cpu / seconds, 2)
    return {
        "lookup_clients": MIXED_CLIENTS,
        "driver": "pymgclient",
        "analytical_query": ANALYTICAL,
        "k": k,
        "analytical_runs_s": [round(b - a, 3) for a, b in intervals],
        "alone": alone,
        "with_analytical": with_long,
        "p50_ratio_with_over_alone": round(with_long["p50_ms"] / alone["p50_ms"], 2),
        "p99_ratio_with_over_alone": round(with_long["p99_ms"] / alone["p99_ms"], 2),
        "qps_ratio_with_over_alone": round(with_long["qps"] / alone["qps"], 3),
    }


def start_server(script: str) -> tuple[subprocess.Popen, int]:
    process = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
    line = process.stderr.readline()
    match = re.search(r"bolt://127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        raise SystemExit(f"the server did not start: {line}{process.stderr.read()}")
    return process, int(match.group(1))


def _ratio(remote: dict, local: dict) -> float:
    return round(remote["qps"] / local["qps"], 3)


def _print(rows: list[dict], mg: dict, mix: dict, cal: dict, seconds: float) -> None:
    print(f"on {NODES} indexed nodes, {seconds:g} s per measurement")
    print("CPU µs/q: this process's CPU per query for embedded, the server process's per request for Bolt")
    print(f"{'measurement':<34} {'clients':>7} {'queries/s':>10} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU µs/q':>9} {'cores':>6} {'/ embedded':>10}")

    def line(name: str, clients: int, m: dict, ratio: float | None = None) -> None:
        cpu = m.get("server_cpu_us_per_request", m.get("process_cpu_us_per_request"))
        cores = m.get("server_cores", m.get("process_cores"))
        print(f"{name:<34} {clients:>7} {m['qps']:>10.0f} {m['p50_ms']:>8.3f} {m['p99_ms']:>8.3f} "
              f"{'' if cpu is None else f'{cpu:.0f}':>9} {'' if cores is None else f'{cores:.2f}':>6} "
              f"{'' if ratio is None else f'{ratio:.3f}':>10}")

    for row in rows:
        line("embedded lookup", row["clients"], row["embedded"])
        line("neo4j driver lookup", row["clients"], row["bolt"], row["qps_ratio_bolt_over_embedded"])
    line("embedded RETURN 1", 1, mg["return1_1"]["embedded"])
    line("pymgclient lookup", 1, mg["lookup_1"], mg["lookup_1"]["qps_ratio_over_embedded"])
    line("pymgclient RETURN 1", 1, mg["return1_1"], mg["return1_1"]["qps_ratio_over_embedded"])
    line("pymgclient lookup", CLIENTS, mg["lookup_16"], mg["lookup_16"]["qps_ratio_over_embedded"])
    line("floor: pymgclient's bytes, no work", 1, mg["floor_1"], mg["floor_1"]["qps_ratio_over_embedded"])
    line("mixed: lookups alone", MIXED_CLIENTS, mix["alone"])
    line("mixed: lookups during the long query", MIXED_CLIENTS, mix["with_analytical"])
    print(f"mixed, during / alone: p50 {mix['p50_ratio_with_over_alone']:.2f}x, "
          f"p99 {mix['p99_ratio_with_over_alone']:.2f}x, lookups/s {mix['qps_ratio_with_over_alone']:.3f}x")
    print(f"long query (k = {cal['k']}): {cal['alone_s']:.2f} s alone, "
          f"{', '.join(f'{s:.2f}' for s in mix['analytical_runs_s'])} s beside the lookups")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each measurement")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "bolt.json"))
    args = parser.parse_args()
    seconds = args.seconds

    import neo4j

    import weftdb

    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        db = weftdb.open(os.path.join(scratch, "embedded"))
        db.execute("CREATE INDEX ON :Person(id)")
        db.execute(LOAD, {"n": NODES})
        process, port = start_server(SERVE.format(path=os.path.join(scratch, "served")))
        pid = process.pid
        try:
            with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
                with driver.session() as session:
                    session.run("CREATE INDEX ON :Person(id)").consume()
                    session.run(LOAD, n=NODES).consume()
                    cal = calibrate(session, seconds)
            local = {}
            for clients in (1, CLIENTS):
                local[clients] = embedded(db, clients, seconds)
                remote = bolt(pid, port, "neo4j", clients, seconds)
                rows.append(
                    {
                        "clients": clients,
                        "embedded": local[clients],
                        "bolt": remote,
                        "qps_ratio_bolt_over_embedded": _ratio(remote, local[clients]),
                        "p50_ratio_bolt_over_embedded": round(remote["p50_ms"] / local[clients]["p50_ms"], 2),
                    }
                )
            mg = {
                "lookup_1": bolt(pid, port, "pymgclient", 1, seconds),
                "return1_1": bolt(pid, port, "pymgclient", 1, seconds, "return1"),
                "lookup_16": bolt(pid, port, "pymgclient", CLIENTS, seconds),
            }
            mg["return1_1"]["embedded"] = embedded(db, 1, seconds, "return1")
            for name, clients in (("lookup_1", 1), ("return1_1", 1), ("lookup_16", CLIENTS)):
                base = mg[name]["embedded"] if name == "return1_1" else local[clients]
                mg[name]["qps_ratio_over_embedded"] = _ratio(mg[name], base)
            mix = mixed(pid, port, cal["k"], seconds)
            mix["analytical_alone_s"] = cal["alone_s"]
        finally:
            process.terminate()
            process.wait(timeout=30)
        try:
            process, port = start_server(FLOOR_SERVER.format(answer=FLOOR_ANSWER))
            mg["floor_1"] = bolt(process.pid, port, "floor", 1, seconds)
            mg["floor_1"]["qps_ratio_over_embedded"] = _ratio(mg["floor_1"], local[1])
        finally:
            process.terminate()
            process.wait(timeout=30)
            db.close()

    _print(rows, mg, mix, cal, seconds)
    document = {
        "benchmark": "bolt point lookup",
        "query": LOOKUP,
        "nodes": NODES,
        "seconds_per_measurement": seconds,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()},
        "results": rows,
        "pymgclient": mg,
        "mixed": mix,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(document, indent=2) + "\n")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()

"""Several databases in one process: what one costs, and how a load on one reaches the queries of another.

Part 1, the cost of a database. Each measurement runs in a process of its own
(this script again, with a hidden --worker flag), so its memory and its
timings are its own; `--repeat` rounds, interleaved, the median kept:

  create       `CREATE DATABASE one` in a data directory holding only the
               default database: seconds, and the resident size it added
  open         `weftdb.open` of a data directory (the restart of a server:
               it opens every database the directory holds) with the default
               database alone, with one empty database more, and with 100
               small ones (100 `:N {id, name}` nodes each, an index on
               :N(id)): seconds, and the resident size after it
  first query  after the open of the 100, `MATCH (n:N {id: $id}) RETURN n.name`
               on each: the first (median and max), then a second one

A process's first statement builds the Cypher parser (about a second,
whatever the statement), so every worker runs one untimed `RETURN 1` before
the statements it times (and after the open whose memory it measures).
Statements are parsed once a process, but each database plans them on its
own: the first query on the first of the 100 databases pays the parse, each
first query its plan.

Part 2, throughput isolation over Bolt. One server (`ServerThread`, in a
process of its own) serves a data directory with databases `a` (10k `:P {id,
name}` nodes, an index on :P(id)) and `b`. 4 client threads of this process,
through the neo4j driver, run `MATCH (p:P {id: $id}) RETURN p.name` with
random ids on `a` back to back for 10 s; then again while a loader (a process
of its own, so that its driver does not share this process's interpreter
lock) runs `UNWIND $rows AS r CREATE (:Q {id: r.id})` on `b` in 10k-row
batches, back to back, from before the lookups start until after they stop.
Reported: lookups/s, p50 and p99 latency in both phases, the ratio, the
rows/s the loader achieved, and the CPU each process (clients, server, loader)
used over a phase, which says what bounds the rates. At the end `a` must hold its 10k `:P` and no
`:Q`, and `b` every row the loaders wrote.

    python bench/databases_bench.py               # full sizes, a few minutes
    python bench/databases_bench.py --scale 0.1   # a quick run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_bench import versions  # noqa: E402

DATABASES = 100
NODES_EACH = 100
LOOKUP_NODES = 10_000
BATCH = 10_000
CLIENTS = 4
SECONDS = 10.0

CREATE_N = "UNWIND range(0, $n - 1) AS i CREATE (:N {id: i, name: 'n' + toString(i)})"
QUERY_N = "MATCH (n:N {id: $id}) RETURN n.name"
CREATE_P = "UNWIND range(0, $n - 1) AS i CREATE (:P {id: i, name: 'p' + toString(i)})"
LOOKUP = "MATCH (p:P {id: $id}) RETURN p.name"
LOAD = "UNWIND $rows AS r CREATE (:Q {id: r.id})"
OTHERS = "SHOW DATABASES YIELD name, default WHERE NOT default RETURN name"


def sizes(scale: float) -> dict[str, Any]:
    """The sizes and durations at `scale`; workers compute the same from the --scale they are given."""
    return {"databases": max(10, int(DATABASES * scale)), "nodes_each": max(10, int(NODES_EACH * scale)),
            "lookup_nodes": max(1_000, int(LOOKUP_NODES * scale)), "batch": max(1_000, int(BATCH * scale)),
            "clients": CLIENTS, "seconds": max(1.0, SECONDS * scale)}


def _resident() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


# -- part 1: the workers, each in a process of its own -----------------------------------------


def create_worker(directory: str, scale: float) -> dict[str, Any]:
    """CREATE DATABASE of one empty database, after the parser is built."""
    import weftdb

    db = weftdb.open(directory)
    db.execute("RETURN 1")
    before = _resident()
    seconds = _timed(lambda: db.execute("CREATE DATABASE one"))
    added = _resident() - before
    db.close()
    return {"seconds": seconds, "added_bytes": added}


def build_worker(directory: str, scale: float) -> dict[str, Any]:
    """The data directory of many small databases that the open worker restarts (not measured)."""
    import weftdb

    size = sizes(scale)
    db = weftdb.open(directory, max_databases=size["databases"] + 1)
    for number in range(size["databases"]):
        db.execute(f"CREATE DATABASE d{number:03}")
        one = db.database(f"d{number:03}")
        one.execute("CREATE INDEX ON :N(id)")
        one.execute(CREATE_N, {"n": size["nodes_each"]})
    db.close()
    return {}


def open_worker(directory: str, scale: float) -> dict[str, Any]:
    """Open a data directory, then query each of its databases but the default one twice."""
    import weftdb

    started = time.perf_counter()
    db = weftdb.open(directory)
    seconds = time.perf_counter() - started
    resident = _resident()
    db.execute("RETURN 1")
    rng = random.Random(0)
    nodes = sizes(scale)["nodes_each"]
    first, second = [], []
    for (name,) in db.execute(OTHERS).rows:
        one = db.database(name)
        first.append(_timed(lambda: one.execute(QUERY_N, {"id": rng.randrange(nodes)})))
        second.append(_timed(lambda: one.execute(QUERY_N, {"id": rng.randrange(nodes)})))
    db.close()
    return {"seconds": seconds, "resident": resident, "first_query": first, "second_query": second}


# -- part 2: the server and the loader, each in a process of its own ---------------------------


def serve_worker(directory: str, scale: float) -> None:
    """Databases a (indexed :P nodes) and b (empty) behind one Bolt server; its
    port on stdout, then serve until stdin closes."""
    import weftdb
    from weftdb.basics.config import Config
    from weftdb.server.server import SWITCH_INTERVAL, ServerThread

    sys.setswitchinterval(SWITCH_INTERVAL)  # as `weftdb serve` runs: this process is the server's alone
    db = weftdb.open(directory, storage_snapshot_on_exit=False)  # nothing is measured after the close
    for name in ("a", "b"):
        db.execute(f"CREATE DATABASE {name}")
    a = db.database("a")
    a.execute("CREATE INDEX ON :P(id)")
    a.execute(CREATE_P, {"n": sizes(scale)["lookup_nodes"]})
    server = ServerThread(db, Config.load({"bolt_port": 0, "bolt_address": "127.0.0.1"})).start()
    print(json.dumps({"port": server.port}), flush=True)
    sys.stdin.read()
    server.stop()
    db.close()


def load_worker(port: str, scale: float) -> dict[str, Any]:
    """Batches into database b back to back, from "ready" on stdout until stdin closes."""
    import neo4j

    batch = sizes(scale)["batch"]
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    rows = 0
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
        with driver.session(database="b") as session:
            session.run("RETURN 1").consume()  # connected before the clock starts
            print("ready", flush=True)
            started = time.perf_counter()
            while not stop.is_set():
                session.run(LOAD, rows=[{"id": rows + i} for i in range(batch)]).consume()
                rows += batch
            seconds = time.perf_counter() - started
    return {"rows": rows, "seconds": seconds}


# --worker KIND ARGUMENT: each gets its ARGUMENT (a directory or a port) and --scale, the same
# signature whether it needs the scale or not; what it returns is printed as JSON.
WORKERS: dict[str, Callable[[str, float], Any]] = {
    "create": create_worker, "build": build_worker, "open": open_worker, "serve": serve_worker, "load": load_worker,
}


def _worker_command(kind: str, argument: str, scale: float) -> list[str]:
    return [sys.executable, __file__, "--scale", str(scale), "--worker", kind, argument]


def run_worker(kind: str, argument: str, scale: float) -> dict[str, Any]:
    """A worker to its end; what it printed last, as JSON."""
    out = subprocess.run(_worker_command(kind, argument, scale), capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"the {kind} worker failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- part 1: the rounds -----------------------------------------------------------------------


def database_costs(scratch: Path, scale: float, repeat: int) -> dict[str, Any]:
    """The create and open workers, `repeat` rounds interleaved; every run kept."""
    run_worker("open", str(scratch / "none"), scale)  # creates the directory
    run_worker("build", str(scratch / "many"), scale)
    runs: dict[str, list[dict[str, Any]]] = {"create": [], "open none": [], "open one": [], "open many": []}
    for round_ in range(repeat):
        one = str(scratch / f"one-{round_}")
        runs["create"].append(run_worker("create", one, scale))
        runs["open none"].append(run_worker("open", str(scratch / "none"), scale))
        runs["open one"].append(run_worker("open", one, scale))
        runs["open many"].append(run_worker("open", str(scratch / "many"), scale))
        print(f"  round {round_ + 1}: create {runs['create'][-1]['seconds'] * 1000:.1f} ms, open of "
              f"{sizes(scale)['databases']} databases {runs['open many'][-1]['seconds']:.2f} s", flush=True)
    return runs


def summarise_costs(runs: dict[str, list[dict[str, Any]]], databases: int) -> dict[str, float]:
    """Medians over the rounds; per-database figures are the open of many less the open of none."""
    def median(kind: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[kind])

    def query_ms(key: str, of: Callable[[list[float]], float]) -> float:
        return statistics.median(of(r[key]) for r in runs["open many"]) * 1000

    return {
        "create_ms": median("create", "seconds") * 1000,
        "create_added_kib": median("create", "added_bytes") / 1024,
        "open_none_ms": median("open none", "seconds") * 1000,
        "open_one_ms": median("open one", "seconds") * 1000,
        "open_many_ms": median("open many", "seconds") * 1000,
        "resident_none_mib": median("open none", "resident") / 2**20,
        "resident_one_mib": median("open one", "resident") / 2**20,
        "resident_many_mib": median("open many", "resident") / 2**20,
        "open_ms_per_database": (median("open many", "seconds") - median("open none", "seconds")) * 1000 / databases,
        "resident_kib_per_database": (median("open many", "resident") - median("open none", "resident")) / 1024 / databases,
        "first_query_median_ms": query_ms("first_query", statistics.median),
        "first_query_max_ms": query_ms("first_query", max),
        "second_query_median_ms": query_ms("second_query", statistics.median),
    }


# -- part 2: the rounds -----------------------------------------------------------------------


def lookups(port: int, size: dict[str, Any], seed: int) -> list[float]:
    """Latencies (seconds) of the point lookups of `clients` threads, each with
    its own session on database a, run back to back for `seconds`."""
    import neo4j

    latencies: list[list[float]] = [[] for _ in range(size["clients"])]
    ready = threading.Barrier(size["clients"])

    def client(index: int, session: Any) -> None:
        rng = random.Random(seed * 1000 + index)
        session.run(LOOKUP, id=0).consume()  # connected before the clock starts
        ready.wait()
        deadline = time.perf_counter() + size["seconds"]
        while (started := time.perf_counter()) < deadline:
            id = rng.randrange(size["lookup_nodes"])
            name = session.run(LOOKUP, id=id).single()[0]
            latencies[index].append(time.perf_counter() - started)
            if name != f"p{id}":
                raise RuntimeError(f"lookup of {id} answered {name!r}")

    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
        sessions = [driver.session(database="a") for _ in range(size["clients"])]
        threads = [threading.Thread(target=client, args=(i, s)) for i, s in enumerate(sessions)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for session in sessions:
            session.close()
    return [x for client_latencies in latencies for x in client_latencies]


def _cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process `pid` has used so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phase(port: int, size: dict[str, Any], seed: int, processes: dict[str, int]) -> dict[str, Any]:
    """One phase of lookups: their rate and latencies, and the CPU each of
    `processes` used over it (1.0 is one core busy the whole time), which
    tells whose interpreter lock or core the rate is bound by."""
    before = {name: _cpu_seconds(pid) for name, pid in processes.items()}
    started = time.perf_counter()
    ordered = sorted(lookups(port, size, seed))
    wall = time.perf_counter() - started
    return {"lookups_per_s": len(ordered) / size["seconds"], "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
            "cpu": {name: (_cpu_seconds(pid) - before[name]) / wall for name, pid in processes.items()}}


def phase_during_load(port: int, size: dict[str, Any], scale: float, seed: int,
                      processes: dict[str, int]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A phase of lookups while a loader process writes into database b the whole time; and what the loader did."""
    loader = subprocess.Popen(_worker_command("load", str(port), scale), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    if loader.stdout.readline().strip() != "ready":
        raise SystemExit("the loader did not start")
    during = phase(port, size, seed, {**processes, "loader": loader.pid})
    out, _ = loader.communicate("")  # closing its stdin stops it after its current batch
    if loader.returncode:
        raise SystemExit("the loader failed")
    load = json.loads(out.strip().splitlines()[-1])
    return during, {**load, "rows_per_s": load["rows"] / load["seconds"]}


def counts(port: int) -> dict[str, int]:
    """What databases a and b hold at the end: the check that the load went to b only."""
    import neo4j

    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None) as driver:
        def count(query: str, database: str) -> int:
            return driver.execute_query(query, database_=database).records[0][0]

        return {"a_P": count("MATCH (p:P) RETURN count(p)", "a"), "a_Q": count("MATCH (q:Q) RETURN count(q)", "a"),
                "b_Q": count("MATCH (q:Q) RETURN count(q)", "b")}


def isolation(scratch: Path, scale: float, repeat: int) -> dict[str, Any]:
    """`repeat` rounds of lookups alone, then during a load, against one server process."""
    size = sizes(scale)
    server = subprocess.Popen(_worker_command("serve", str(scratch / "served"), scale), stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        port = json.loads(server.stdout.readline())["port"]
        processes = {"clients": os.getpid(), "server": server.pid}
        rounds = []
        for round_ in range(repeat):
            alone = phase(port, size, round_, processes)
            during, load = phase_during_load(port, size, scale, round_, processes)
            rounds.append({"alone": alone, "during_load": during, "load": load})
            print(f"  round {round_ + 1}: {alone['lookups_per_s']:,.0f} lookups/s alone, "
                  f"{during['lookups_per_s']:,.0f} during the load ({load['rows_per_s']:,.0f} rows/s)", flush=True)
        found = counts(port)
    finally:
        server.communicate("")
    expected = {"a_P": size["lookup_nodes"], "a_Q": 0, "b_Q": sum(r["load"]["rows"] for r in rounds)}
    return {"rounds": rounds, "counts": found, "counts_right": found == expected}


def summarise_isolation(rounds: list[dict[str, Any]]) -> dict[str, float]:
    """Medians over the rounds; the ratio is of the medians."""
    def median(part: str, key: str) -> float:
        return statistics.median(r[part][key] for r in rounds)

    summary = {f"{part}_{key}": median(part, key) for part in ("alone", "during_load")
               for key in ("lookups_per_s", "p50_ms", "p99_ms")}
    summary["ratio_during_over_alone"] = summary["during_load_lookups_per_s"] / summary["alone_lookups_per_s"]
    summary["load_rows_per_s"] = median("load", "rows_per_s")
    for part in ("alone", "during_load"):
        for process in rounds[0][part]["cpu"]:
            summary[f"{part}_cpu_{process}"] = statistics.median(r[part]["cpu"][process] for r in rounds)
    return summary


# -- the report -------------------------------------------------------------------------------


def print_tables(costs: dict[str, float], isolated: dict[str, float], size: dict[str, Any]) -> None:
    many = size["databases"]
    print(f"\n{'per-database cost (medians)':52} {'ms':>10} {'RSS MiB':>10}")
    print(f"{'CREATE DATABASE of one empty database':52} {costs['create_ms']:>10.2f} "
          f"{'+' + format(costs['create_added_kib'] / 1024, '.2f'):>10}")
    print(f"{'open: the default database alone':52} {costs['open_none_ms']:>10.1f} {costs['resident_none_mib']:>10.1f}")
    print(f"{'open: and one empty database':52} {costs['open_one_ms']:>10.1f} {costs['resident_one_mib']:>10.1f}")
    label = f"open: and {many} databases of {size['nodes_each']} nodes"
    print(f"{label:52} {costs['open_many_ms']:>10.1f} {costs['resident_many_mib']:>10.1f}")
    print(f"{'  of which per database':52} {costs['open_ms_per_database']:>10.2f} "
          f"{costs['resident_kib_per_database'] / 1024:>10.3f}")
    label = f"first query on each of the {many}: median / max"
    print(f"{label:52} {costs['first_query_median_ms']:>6.2f} / {costs['first_query_max_ms']:.2f}")
    print(f"{'second query on each: median':52} {costs['second_query_median_ms']:>10.3f}")
    label = f"database a, {size['clients']} Bolt clients (medians)"
    print(f"\n{label:36} {'lookups/s':>10} {'p50 ms':>8} {'p99 ms':>8}   CPU: clients / server / loader")
    for part, label in (("alone", "alone"), ("during_load", "during the load into b")):
        cpu = " / ".join(f"{isolated[f'{part}_cpu_{p}']:.2f}" if f"{part}_cpu_{p}" in isolated else "-"
                         for p in ("clients", "server", "loader"))
        print(f"{label:36} {isolated[f'{part}_lookups_per_s']:>10,.0f} {isolated[f'{part}_p50_ms']:>8.2f} "
              f"{isolated[f'{part}_p99_ms']:>8.2f}   {cpu:>30}")
    print(f"{'during / alone':36} {isolated['ratio_during_over_alone']:>10.2f}")
    print(f"loader into b: {isolated['load_rows_per_s']:,.0f} rows/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the sizes and durations (0.1 for a quick run)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of each, interleaved; the median is kept")
    parser.add_argument("--output", default=str(Path(__file__).parent / "results" / "databases.json"))
    parser.add_argument("--worker", nargs=2, metavar=("KIND", "ARGUMENT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = WORKERS[args.worker[0]](args.worker[1], args.scale)
        if result is not None:
            print(json.dumps(result))
        return 0

    size = sizes(args.scale)
    print(f"{size['databases']} databases of {size['nodes_each']} nodes; {size['lookup_nodes']:,} nodes in a, "
          f"{size['clients']} clients, {size['seconds']:.0f} s a phase, {size['batch']:,} rows a batch", flush=True)
    with tempfile.TemporaryDirectory(prefix="weftdb-databases-") as scratch:
        print("per-database cost ...", flush=True)
        cost_runs = database_costs(Path(scratch), args.scale, args.repeat)
        print("isolation over Bolt ...", flush=True)
        isolated = isolation(Path(scratch), args.scale, args.repeat)
    costs = summarise_costs(cost_runs, size["databases"])
    summary = summarise_isolation(isolated["rounds"])
    print_tables(costs, summary, size)
    print(f"a holds its :P nodes and no :Q, b every row loaded: {isolated['counts_right']}")

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps({
        "benchmark": "databases",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "scale": args.scale, "repeat": args.repeat,
        "sizes": size,
        "machine": {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
                    "load": os.getloadavg()},
        "versions": versions((("WeftDB", "weftdb"), ("neo4j driver", "neo4j")), sqlite=False),
        "costs": costs, "isolation": summary, "counts": isolated["counts"], "counts_right": isolated["counts_right"],
        "runs": {"costs": cost_runs, "isolation": isolated["rounds"]},
    }, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0 if isolated["counts_right"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""A writer for the kill -9 tests: commits through the real engine until killed.

Why a fork server: importing weftdb costs a second or more on a busy machine,
and the suite kills a writer more than twenty times. This script imports it
once, then for each request line on stdin forks a fresh writer process and
prints `pid N`; on `wait N` it reaps that child and prints `exited N`. Since a
child writes its acknowledgements to the same stdout before it dies, every
`ack` line of a child comes before its `exited` line.

A request is one JSON object: {"dir", "run", "threads", "flags", "snapshots"}.
Each writer thread t commits a chain of transactions; transaction k creates
node id = run*1_000_000 + t*10_000 + k, an edge NEXT to node id-1 (k > 1) and
sets that node's `next` to id — several ops that must come back together.
`snapshots` adds a thread that runs CREATE SNAPSHOT without pause, so a kill
often lands in the middle of one. Lines: `ready`, then `ack ID` per
acknowledged commit (one os.write each: shorter than PIPE_BUF, so atomic).
"""

from __future__ import annotations

import json
import os
import sys
import threading

import weftdb
from weftdb.basics.errors import ClientError


def say(line: str) -> None:
    os.write(1, (line + "\n").encode())


def writer(request: dict) -> None:
    db = weftdb.open(request["dir"], **request.get("flags", {}))
    try:
        db.execute("CREATE INDEX ON :N(id)")
    except ClientError:
        pass  # made by an earlier run
    say("ready")
    base = request["run"] * 1_000_000

    def chain(t: int) -> None:
        first = base + t * 10_000
        for k in range(1, 10_000):
            node = first + k
            if k == 1:
                db.execute("CREATE (n:N {id: $id, run: $run})", {"id": node, "run": request["run"]})
            else:
                db.execute(
                    "MATCH (p:N {id: $prev}) CREATE (n:N {id: $id, run: $run})-[:NEXT]->(p) SET p.next = $id",
                    {"id": node, "prev": node - 1, "run": request["run"]},
                )
            say(f"ack {node}")

    def snapshots() -> None:
        while True:
            try:
                db.execute("CREATE SNAPSHOT")
            except ClientError:
                pass  # the periodic one is running

    threads = [threading.Thread(target=chain, args=(t,), daemon=True) for t in range(request.get("threads", 1))]
    if request.get("snapshots"):
        threads.append(threading.Thread(target=snapshots, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def main() -> None:
    for line in sys.stdin:
        command = line.strip()
        if command.startswith("wait "):
            pid = int(command.split()[1])
            os.waitpid(pid, 0)
            say(f"exited {pid}")
            continue
        if not command:
            continue
        request = json.loads(command)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                writer(request)
            except BaseException as exc:  # the test reads this line if a writer dies on its own
                say(f"error {type(exc).__name__}: {exc}")
                code = 1
            finally:
                os._exit(code)
        say(f"pid {pid}")


if __name__ == "__main__":
    main()

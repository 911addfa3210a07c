"""kill -9 of a process writing through the whole engine loses nothing acknowledged.

Unlike test_wal_kill9.py (the WAL writer alone) this goes through
`weftdb.open`, Cypher, MVCC commit, group commit, snapshots, retention and
recovery. A writer process (engine_writer.py) commits transactions that each
create a node, an edge to the thread's previous node and a property on that
node, printing each id once `execute` returned. The test kills it with SIGKILL
after a random amount of work — sometimes while a snapshot is written,
sometimes with several threads committing — reopens the directory and checks:

* every acknowledged id is there;
* no transaction is partly there: a node without its edge, or a `next`
  property pointing at a node that is not there;
* each thread's chain is contiguous and ends at most one transaction past its
  last acknowledgement (the one in flight when the kill came).

Every round continues in the same data directory, so each recovery starts
from what earlier recoveries and kills left behind.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict

import pytest

import weftdb

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class ForkServer:
    """Drives engine_writer.py: start writers, kill them, collect their lines."""

    def __init__(self):
        env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "engine_writer.py")],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        for raw in self.proc.stdout:
            self.lines.put(raw.decode().rstrip("\n"))
        self.lines.put("eof")

    def send(self, text: str) -> None:
        self.proc.stdin.write((text + "\n").encode())
        self.proc.stdin.flush()

    def next_line(self, deadline: float) -> str | None:
        try:
            return self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server():
    s = ForkServer()
    yield s
    s.close()


def run_and_kill(server: ForkServer, request: dict, acks: int, seconds: float, acked: set[int]) -> dict:
    """Start one writer, SIGKILL it after `acks` acknowledgements or `seconds`
    (whichever comes first), collect every id it acknowledged into `acked`."""
    server.send(json.dumps(request))
    line = server.next_line(time.monotonic() + 60)
    assert line and line.startswith("pid "), line
    pid = int(line.split()[1])
    deadline = time.monotonic() + 60
    seen = 0
    while True:  # the writer has opened (and recovered) the directory
        line = server.next_line(deadline)
        assert line is not None and not line.startswith("error"), line
        if line == "ready":
            break
    kill_at = time.monotonic() + seconds
    while seen < acks:
        line = server.next_line(kill_at)
        if line is None:
            break
        assert line.startswith("ack "), line  # an "error" line: the writer failed by itself
        acked.add(int(line.split()[1]))
        seen += 1
    os.kill(pid, signal.SIGKILL)
    server.send(f"wait {pid}")
    deadline = time.monotonic() + 30
    while True:  # acks written before the kill, then the reaping
        line = server.next_line(deadline)
        assert line is not None, "the fork server did not reap the writer"
        if line == f"exited {pid}":
            break
        if line.startswith("ack "):
            acked.add(int(line.split()[1]))
    snapshot_dir = os.path.join(request["dir"], "snapshots")
    leftovers = [n for n in os.listdir(snapshot_dir) if n.endswith(".tmp")] if os.path.isdir(snapshot_dir) else []
    return {"acks": seen, "killed_mid_snapshot": bool(leftovers)}


def check(path: str, acked: set[int]) -> int:
    """Reopen after the kill and check the invariants; returns the number of nodes."""
    db = weftdb.open(path, storage_snapshot_on_exit=False, storage_snapshot_interval_sec=0)
    try:
        nodes = dict(db.execute("MATCH (n:N) RETURN n.id, n.next").rows)
        edges = db.execute("MATCH (a:N)-[:NEXT]->(b:N) RETURN a.id, b.id").rows
    finally:
        db.close()
    for sub in ("wal", "snapshots"):  # what an interrupted write left was cleaned up at the reopen
        if os.path.isdir(os.path.join(path, sub)):
            assert not [n for n in os.listdir(os.path.join(path, sub)) if n.endswith(".tmp")]
    missing = acked - nodes.keys()
    assert not missing, f"acknowledged but lost: {sorted(missing)[:10]}"
    out_edges = defaultdict(list)
    for a, b in edges:
        out_edges[a].append(b)
    chains: dict[int, list[int]] = defaultdict(list)
    for node, nxt in nodes.items():
        k = node % 10_000
        chains[node - k].append(k)
        # the edge and the property of the same transaction come back with the node
        assert out_edges[node] == ([node - 1] if k > 1 else []), (node, out_edges[node])
        if nxt is not None:
            assert nxt == node + 1 and nxt in nodes, (node, nxt)
        if k > 1:
            assert nodes[node - 1] == node, f"node {node - 1} lacks next={node} set by the transaction creating {node}"
    assert len(edges) == sum(1 for n in nodes if n % 10_000 > 1)
    for first, ks in chains.items():
        ks.sort()
        assert ks == list(range(1, len(ks) + 1)), f"chain {first} has a gap: {ks[:5]}..."
        last_acked = max((i - first for i in acked if first < i < first + 10_000), default=0)
        assert len(ks) <= last_acked + 1, f"chain {first}: {len(ks)} committed, last ack {last_acked}"
    return len(nodes)


def rounds(server, tmp_path, count, seed, request_for):
    rng = random.Random(seed)
    path = str(tmp_path / "data")
    acked: set[int] = set()
    stats = []
    for r in range(count):
        request, acks, seconds = request_for(rng, r)
        request = dict(request, dir=path, run=seed % 100 * 100 + r)
        stats.append(run_and_kill(server, request, acks, seconds, acked))
        check(path, acked)
    assert sum(s["acks"] for s in stats) >= count  # the writers did commit before being killed
    return stats


def test_kill9_single_writer(server, tmp_path):
    rounds(server, tmp_path, 8, 11, lambda rng, r: ({"threads": 1, "flags": {"storage_snapshot_interval_sec": 0}},
                                                    rng.randint(1, 50), 20.0))


def test_kill9_concurrent_writers(server, tmp_path):
    """Three threads share group commits: a kill may fall between the write and fsync of a batch."""
    flags = {"storage_snapshot_interval_sec": 0, "storage_wal_file_size_kib": 16}
    rounds(server, tmp_path, 7, 22, lambda rng, r: ({"threads": 3, "flags": flags}, rng.randint(1, 300), 20.0))


def test_kill9_with_periodic_snapshots(server, tmp_path):
    """storage_snapshot_interval_sec=1: runs last past the first tick, so the timer's snapshot is
    written (and retention applied) before or while the kill comes."""
    flags = {"storage_snapshot_interval_sec": 1, "storage_snapshot_retention_count": 2,
             "storage_wal_file_size_kib": 16}
    rounds(server, tmp_path, 4, 33,
           lambda rng, r: ({"threads": 2, "flags": flags}, 10**6, rng.uniform(1.02, 1.5)))


def test_kill9_during_snapshots(server, tmp_path):
    """A thread writes snapshots back to back while two threads commit: kills land mid-snapshot."""
    flags = {"storage_snapshot_interval_sec": 0, "storage_snapshot_retention_count": 2,
             "storage_wal_file_size_kib": 16}
    stats = rounds(server, tmp_path, 6, 44, lambda rng, r: ({"threads": 2, "flags": flags, "snapshots": True},
                                                            rng.randint(20, 250), 20.0))
    assert os.listdir(tmp_path / "data" / "snapshots")  # snapshots were made and survive
    print("kills that left a half-written snapshot:", sum(s["killed_mid_snapshot"] for s in stats))

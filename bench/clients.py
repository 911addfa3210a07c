"""Concurrent committing clients, shared by the durability benchmarks.

Not a benchmark itself (run_all.py runs `*_bench*.py` only).
"""

from __future__ import annotations

import threading
import time


def run_clients(n_clients: int, seconds: float, setup, commit, teardown=None) -> int:
    """`commit(state, i)` in n_clients threads until time is up; returns commits done."""
    stop = [0.0]
    counts = [0] * n_clients
    ready = threading.Barrier(n_clients + 1)

    def client(k: int) -> None:
        state = setup(k)
        ready.wait()
        i = 0
        while time.monotonic() < stop[0]:
            commit(state, k * 10_000_000 + i)
            i += 1
        counts[k] = i
        if teardown:
            teardown(state)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(n_clients)]
    for t in threads:
        t.start()
    stop[0] = time.monotonic() + seconds + 3600  # nobody stops before everyone is ready
    ready.wait()
    stop[0] = time.monotonic() + seconds
    for t in threads:
        t.join()
    return sum(counts)

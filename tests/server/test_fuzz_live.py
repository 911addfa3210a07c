"""Random and mutated frames against a live server while a healthy client keeps working."""

import logging
import random
import resource
import socket
import threading
import time

import neo4j
from boltbytes import handshake, message
from test_protocol import mutate

DURATION = 3.0


def fuzz_payload(rng):
    login = handshake((5, 8)) + message("HELLO", {"user_agent": "fuzz"}) + message("LOGON", {"scheme": "none"})
    seeds = [
        message("RUN", "UNWIND range(1, 3) AS i RETURN i", {"p": [1, {"a": "b"}]}, {}) + message("PULL", {"n": 1}),
        message("BEGIN", {}) + message("RUN", "CREATE (:Item {v: $v})", {"v": 1}, {}) + message("COMMIT"),
        message("PULL", {"n": -1}),  # wrong state
        message("COMMIT"),  # wrong state
        message("RESET") + message("DISCARD", {"n": -1}),
        b"\xff\xff" + b"\x00" * 100,  # a huge chunk, truncated
        b"\x00\x10\xb3\x10",  # a truncated RUN
    ]
    kind = rng.random()
    if kind < 0.1:
        return rng.randbytes(rng.randint(1, 200))
    if kind < 0.2:
        return handshake((5, 8)) + rng.randbytes(rng.randint(1, 200))
    if kind < 0.3:
        return mutate(handshake((5, 8), (4, 4)), rng)
    return login + b"".join(mutate(rng.choice(seeds), rng) if rng.random() < 0.7 else rng.choice(seeds) for _ in range(3))


def test_fuzz_while_a_healthy_client_works(fake_server, caplog):
    caplog.set_level(logging.WARNING, logger="weftdb.server")
    stop = threading.Event()
    done, failures = [], []

    def healthy():
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{fake_server.port}", auth=None) as driver:
            while not stop.is_set():
                try:
                    records = driver.execute_query("UNWIND range(1, 3) AS i RETURN i").records
                    assert [r["i"] for r in records] == [1, 2, 3]
                    done.append(1)
                except Exception as exc:  # noqa: BLE001 - any failure is what this test looks for
                    failures.append(exc)

    worker = threading.Thread(target=healthy)
    worker.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = random.Random(7)
    cases = 0
    deadline = time.monotonic() + DURATION
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", fake_server.port), timeout=1) as sock:
            try:
                sock.sendall(fuzz_payload(rng))
                sock.settimeout(0.05)
                sock.recv(65536)
            except OSError:
                pass  # the server answered by closing: allowed
        cases += 1
    stop.set()
    worker.join(timeout=10)
    assert not failures, failures[:3]
    assert cases > 50 and len(done) > 20
    deadline = time.monotonic() + 5
    while fake_server.server.connections and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(fake_server.server.connections) == 0
    growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert growth_mib < 200
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[:3]  # every bad input was a logged reason, never a crash

"""32 concurrent driver sessions writing and reading through the server for a while
(BOLT_LOAD_SECONDS, default 20): no errors but retried transient ones, no lost writes."""

import os
import threading
import time

import neo4j

import weftdb
from conftest import start

SECONDS = float(os.environ.get("BOLT_LOAD_SECONDS", "20"))
CLIENTS = 32
COUNTERS = CLIENTS


def test_concurrent_sessions_lose_nothing():
    db = weftdb.open()
    db.execute(f"UNWIND range(0, {COUNTERS - 1}) AS k CREATE (:Counter {{k: k, v: 0}})")
    server = start(db)
    created = [0] * CLIENTS
    increments = [0] * CLIENTS
    attempts = [0] * CLIENTS
    failures: list = []
    deadline = time.monotonic() + SECONDS

    def client(index, driver):
        def create(tx, i):
            attempts[index] += 1
            tx.run("CREATE (:Load {client: $c, i: $i})", c=index, i=i).consume()

        def bump(tx, k):
            attempts[index] += 1
            tx.run("MATCH (n:Counter {k: $k}) SET n.v = n.v + 1", k=k).consume()

        def mine(tx):
            return tx.run("MATCH (n:Load {client: $c}) RETURN count(n) AS c", c=index).single()["c"]

        try:
            with driver.session() as session:
                i = 0
                while time.monotonic() < deadline:
                    session.execute_write(create, i)
                    created[index] += 1
                    i += 1
                    if i % 10 == 0:
                        session.execute_write(bump, (index + i // 10) % COUNTERS)
                        increments[index] += 1
                        assert session.execute_read(mine) == created[index]
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    try:
        with neo4j.GraphDatabase.driver(
            f"bolt://127.0.0.1:{server.port}", auth=None, max_connection_pool_size=CLIENTS + 4
        ) as driver:
            threads = [threading.Thread(target=client, args=(i, driver)) for i in range(CLIENTS)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=SECONDS + 60)
            assert not failures, [(f, f.__cause__) for f in failures[:3]]
            total = driver.execute_query("MATCH (n:Load) RETURN count(n) AS c").records[0]["c"]
            bumped = driver.execute_query("MATCH (n:Counter) RETURN sum(n.v) AS s").records[0]["s"]
    finally:
        server.stop()
        db.close()
    assert total == sum(created) and bumped == sum(increments)
    assert sum(created) >= CLIENTS  # every client got work done
    print(f"load: {sum(created)} creates, {sum(increments)} counter updates, "
          f"{sum(attempts) - sum(created) - sum(increments)} retried attempts in {SECONDS:.0f} s")

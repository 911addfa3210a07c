"""32 concurrent driver sessions writing and reading through the server for a while
(BOLT_LOAD_SECONDS, default 20): no errors but retried transient ones, no lost writes.

The sessions also bump shared counters, so some transactions conflict and are
retried. Each client has its own driver: neo4j 6.4's driver hands a connection
whose transaction failed back to its pool before it closes the transaction, so
with one driver shared by threads another thread may already be using that
connection (seen as a ResultFailedError or a garbled stream on the client)."""

import os
import threading
import time

import neo4j
from bolt_servers import start

import weftdb

SECONDS = float(os.environ.get("BOLT_LOAD_SECONDS", "20"))
CLIENTS = 32
COUNTERS = 8


def test_concurrent_sessions_lose_nothing():
    db = weftdb.open()
    db.execute(f"UNWIND range(0, {COUNTERS - 1}) AS k CREATE (:Counter {{k: k, v: 0}})")
    server = start(db)
    created = [0] * CLIENTS
    increments = [0] * CLIENTS
    attempts = [0] * CLIENTS
    failures: list = []
    deadline = time.monotonic() + SECONDS

    def client(index):
        def create(tx, i):
            attempts[index] += 1
            tx.run("CREATE (:Load {client: $c, i: $i})", c=index, i=i).consume()

        def bump(tx, k):
            attempts[index] += 1
            tx.run("MATCH (n:Counter {k: $k}) SET n.v = n.v + 1", k=k).consume()

        def mine(tx):
            return tx.run("MATCH (n:Load {client: $c}) RETURN count(n) AS c", c=index).single()["c"]

        uri = f"bolt://127.0.0.1:{server.port}"
        try:
            with neo4j.GraphDatabase.driver(uri, auth=None) as driver, driver.session() as session:
                i = 0
                while time.monotonic() < deadline:
                    session.execute_write(create, i)
                    created[index] += 1
                    i += 1
                    if i % 5 == 0:
                        session.execute_write(bump, (index + i) % COUNTERS)
                        increments[index] += 1
                        assert session.execute_read(mine) == created[index]
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    try:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=SECONDS + 60)
        assert not failures, [(f, f.__cause__) for f in failures[:3]]
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
            total = driver.execute_query("MATCH (n:Load) RETURN count(n) AS c").records[0]["c"]
            bumped = driver.execute_query("MATCH (n:Counter) RETURN sum(n.v) AS s").records[0]["s"]
    finally:
        server.stop()
        db.close()
    assert total == sum(created) and bumped == sum(increments)
    assert sum(created) >= CLIENTS  # every client got work done
    print(
        f"load: {sum(created)} creates, {sum(increments)} counter updates, "
        f"{sum(attempts) - sum(created) - sum(increments)} retried attempts in {SECONDS:.0f} s"
    )

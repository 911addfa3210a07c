"""kill -9 of a serving process: every commit a Bolt client saw acknowledged
survives, and no transaction is there in part (the server-side twin of
tests/durability/test_kill9_engine.py)."""

import random
import threading
import time

import neo4j
from test_lifecycle import spawn

import weftdb

WRITERS = 4


def write_until_the_server_dies(port: int, first: int, acknowledged: list[int]) -> None:
    """Autocommit two-node transactions through a session (no driver retries)
    until the connection fails; `acknowledged` gets each id whose commit
    returned. Ids are `first`, `first + WRITERS`, ... so writers never clash."""
    i = first
    try:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=None, connection_timeout=5) as driver:
            with driver.session() as session:
                while True:
                    session.run("CREATE (:K {i: $i}), (:L {i: $i})", i=i).consume()
                    acknowledged.append(i)
                    i += WRITERS
    except Exception:  # the server was killed: whatever was in flight is unknown
        return


def test_kill9_of_the_server_keeps_every_acknowledged_commit(tmp_path):
    path = str(tmp_path / "data")
    rng = random.Random(9)
    acknowledged: list[int] = []
    for round_ in range(3):
        process, port = spawn(path, grace=0)
        try:
            start = round_ * 1_000_000
            writers = [
                threading.Thread(target=write_until_the_server_dies, args=(port, start + k, acknowledged))
                for k in range(WRITERS)
            ]
            before = len(acknowledged)
            for writer in writers:
                writer.start()
            deadline = time.monotonic() + 30
            while len(acknowledged) < before + 20 and time.monotonic() < deadline:
                time.sleep(0.01)  # the writers are committing (the first statement parses the grammar)
            time.sleep(rng.uniform(0.05, 0.5))
            process.kill()  # SIGKILL: no shutdown code runs
            process.wait(timeout=15)
            for writer in writers:
                writer.join(timeout=30)
                assert not writer.is_alive()
        finally:
            process.kill()
        assert len(acknowledged) >= before + 20  # the writers were committing when it died
    with weftdb.open(path) as db:
        k = [row[0] for row in db.execute("MATCH (n:K) RETURN n.i").rows]
        l_ = [row[0] for row in db.execute("MATCH (n:L) RETURN n.i").rows]
    assert len(k) == len(set(k))  # replay applied nothing twice
    assert sorted(k) == sorted(l_)  # both nodes of a transaction, or neither
    assert set(acknowledged) <= set(k)

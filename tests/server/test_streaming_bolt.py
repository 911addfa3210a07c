"""Results that stream over Bolt: each PULL makes the rows it asks for, from
the statement's snapshot; DISCARD, RESET, a failure and a client going away
end the stream and its transaction (docs/transactions.md)."""

import subprocess
import sys
import time

import neo4j
import pytest
from bolt_servers import serving
from boltbytes import RawClient, message

import weftdb
from weftdb.query.executor import STREAM_AFTER

MANY = STREAM_AFTER * 3 + 7
READ = "MATCH (r:R) RETURN r.i AS i"


@pytest.fixture
def server():
    db = weftdb.open(None)
    db.execute("UNWIND range(1, $n) AS i CREATE (:R {i: i})", {"n": MANY})
    with serving(db) as server:
        yield server


def open_transactions(db) -> int:
    return len(db.execute("SHOW TRANSACTIONS").rows) - 1


def wait_until_closed(db, timeout=3.0) -> bool:
    deadline = time.monotonic() + timeout
    while open_transactions(db) and time.monotonic() < deadline:
        time.sleep(0.02)
    return open_transactions(db) == 0


def test_the_driver_reads_a_stream_page_by_page_from_one_snapshot(server):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
        with driver.session(fetch_size=100) as session:
            result = session.run(READ)
            records = iter(result)
            first = [next(records)["i"] for _ in range(250)]
            assert open_transactions(server.db) == 1  # the stream's transaction is still open
            session.run("CREATE (:R {i: 0})").consume()  # not in the stream's snapshot
            rest = [record["i"] for record in records]
            assert sorted(first + rest) == list(range(1, MANY + 1))
        assert wait_until_closed(server.db)
        records, _, _ = driver.execute_query(READ)
        assert len(records) == MANY + 1


def test_consuming_early_discards_the_rest_and_ends_the_transaction(server):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
        with driver.session(fetch_size=10) as session:
            result = session.run(READ)
            assert result.peek() is not None
            summary = result.consume()  # DISCARD n=-1
            assert summary.query_type == "r"
            assert wait_until_closed(server.db)
            assert session.run("RETURN 1 AS x").single()["x"] == 1


def test_pull_and_discard_with_counts_page_through_the_stream(server):
    client = RawClient(server.port).login()
    client.send(message("RUN", READ, {}, {}), message("PULL", {"n": STREAM_AFTER + 5}))
    replies = client.read(STREAM_AFTER + 7)
    assert replies[0][0] == "SUCCESS" and replies[-1] == ("SUCCESS", ({"has_more": True},))
    seen = [fields[0][0] for name, fields in replies[1:-1]]
    client.send(message("DISCARD", {"n": 10}), message("PULL", {"n": -1}))
    replies = client.read(1 + MANY - len(seen) - 10 + 1)
    assert replies[0] == ("SUCCESS", ({"has_more": True},))
    seen += [fields[0][0] for name, fields in replies[1:-1] if name == "RECORD"]
    assert replies[-1][0] == "SUCCESS" and replies[-1][1][0]["has_more"] is False
    assert len(seen) == MANY - 10 and len(set(seen)) == len(seen)
    assert wait_until_closed(server.db)
    client.close()


def test_reset_and_a_dropped_connection_end_an_open_stream(server):
    client = RawClient(server.port).login()
    client.send(message("RUN", READ, {}, {}), message("PULL", {"n": 10}))
    assert client.read(12)[-1] == ("SUCCESS", ({"has_more": True},))
    assert open_transactions(server.db) == 1
    client.send(message("RESET"))
    assert client.read(1)[0][0] == "SUCCESS"
    assert wait_until_closed(server.db)

    client.send(message("RUN", READ, {}, {}), message("PULL", {"n": 10}))
    assert client.read(12)[-1] == ("SUCCESS", ({"has_more": True},))
    client.close()
    assert wait_until_closed(server.db)


def test_a_failure_in_a_later_page_is_a_failure_of_that_pull(server):
    client = RawClient(server.port).login()
    client.send(message("RUN", "UNWIND range(1, $n) AS i RETURN 100 / (i - $n) AS x", {"n": MANY}, {}),
                message("PULL", {"n": 100}))
    assert client.read(102)[-1] == ("SUCCESS", ({"has_more": True},))
    client.send(message("PULL", {"n": -1}))
    ((name, fields),) = client.read(1)  # the PULL fails as a whole: none of its rows
    assert name == "FAILURE" and "zero" in fields[0]["message"]
    assert wait_until_closed(server.db)
    client.send(message("RESET"), message("RUN", "RETURN 1", {}, {}), message("PULL", {"n": -1}))
    assert [name for name, _ in client.read(4)] == ["SUCCESS", "SUCCESS", "RECORD", "SUCCESS"]
    client.close()


def test_pymgclient_reads_a_streaming_result_whole(server):
    """pymgclient holds its interpreter lock while it waits, so it runs in a process of its own."""
    program = (
        "import mgclient\n"
        f"c = mgclient.connect(host='127.0.0.1', port={server.port}); c.autocommit = True\n"
        "cur = c.cursor()\n"
        f"cur.execute({READ!r}); print(len(cur.fetchall()))\n"
        f"cur.execute({READ!r}); print(len(cur.fetchmany(10)))\n"
        "cur.execute('RETURN 1'); print(cur.fetchall()[0][0])\n"
    )
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [str(MANY), "10", "1"]
    assert wait_until_closed(server.db)

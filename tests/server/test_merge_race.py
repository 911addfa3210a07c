"""Clients that MERGE the same uniquely constrained key at once all succeed:
the loser's clash with a vertex committed after it began is a transient
write conflict, which the driver's managed transactions retry, and the
retried MERGE matches. A clash with data the transaction could see stays a
constraint error, which no retry mends."""

import threading

import neo4j
import pytest

import weftdb
from weftdb.basics.config import Config
from weftdb.server.server import ServerThread

THREADS, KEYS = 16, 40


def test_16_threads_merging_40_keys_through_execute_write_all_succeed_with_exactly_40_nodes():
    with weftdb.open() as db, ServerThread(db, Config.load({"bolt_port": 0})) as server:
        db.execute("CREATE CONSTRAINT ON (u:U) ASSERT u.k IS UNIQUE")
        uri = f"bolt://127.0.0.1:{server.port}"
        errors, calls = [], []
        start = threading.Barrier(THREADS)

        def client(number: int) -> None:
            with neo4j.GraphDatabase.driver(uri, auth=None, max_transaction_retry_time=30) as driver:
                with driver.session() as session:
                    start.wait()
                    for key in range(KEYS):
                        try:
                            session.execute_write(lambda tx, k=key: tx.run("MERGE (u:U {k: $k}) RETURN u.k", k=k).consume())
                            calls.append(key)
                        except Exception as exc:  # every call must succeed
                            errors.append(exc)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors, errors[:3]
        assert len(calls) == THREADS * KEYS
        assert db.execute("MATCH (u:U) RETURN count(u), count(DISTINCT u.k)").rows == [(KEYS, KEYS)]


def test_a_clash_with_a_vertex_committed_after_the_transaction_began_is_a_serialization_error():
    with weftdb.open() as db:
        db.execute("CREATE CONSTRAINT ON (u:U) ASSERT u.k IS UNIQUE")
        first, second = db.begin(), db.begin()
        first.execute("MERGE (:U {k: 1})")
        second.execute("MERGE (:U {k: 1})")  # it cannot see the first one's vertex
        first.commit()
        with pytest.raises(weftdb.SerializationError, match="committed after this one began"):
            second.commit()
        with db.transaction() as retry:  # the retry sees it and matches
            retry.execute("MERGE (:U {k: 1})")
        assert db.execute("MATCH (u:U) RETURN count(u)").rows == [(1,)]


def test_a_clash_with_a_vertex_the_transaction_could_see_is_a_constraint_violation():
    with weftdb.open() as db:
        db.execute("CREATE CONSTRAINT ON (u:U) ASSERT u.k IS UNIQUE")
        db.execute("CREATE (:U {k: 1})")
        with pytest.raises(weftdb.ConstraintViolation):
            db.execute("CREATE (:U {k: 1})")

"""Statements the server runs on its event loop, without the hop to a worker
(Database.quick): which plans may, and that one which turns slow stops at its
budget and goes to a worker, so the other clients are not kept waiting."""

import threading
import time

import neo4j
import pytest
from bolt_servers import serving

import weftdb
from weftdb.query.executor import OverBudget

SLOW = "UNWIND range(1, $n) AS i RETURN count(i)"


def until_quick(db, run, query) -> bool:
    """Run `query` (by `run`) until `db` counts it quick: one run under QUICK_SECONDS
    makes it so, and one run on a busy machine can take longer."""
    for _ in range(200):
        assert run()
        if db.quick(query):
            return True
    return False


def test_only_a_reading_plan_of_the_engine_s_own_that_ran_quickly_is_quick(tmp_path):
    (tmp_path / "rows.csv").write_text("a\n1\n")
    with weftdb.open(import_directory=str(tmp_path)) as db:
        db.function("test.twice(x :: INTEGER) :: INTEGER")(lambda x: 2 * x)
        db.execute("CREATE (:N {v: 1})")
        reading = "MATCH (n:N) RETURN n.v"
        assert not db.quick(reading)  # never planned
        assert until_quick(db, lambda: db.execute(reading).single() == 1, reading)
        for statement in ("CREATE (:M)", "CALL db.labels() YIELD label RETURN label", "RETURN test.twice(2) AS x",
                          "LOAD CSV WITH HEADERS FROM 'rows.csv' AS r RETURN r.a"):
            db.execute(statement)
            assert not db.quick(statement), statement
        assert until_quick(db, lambda: db.execute(SLOW, {"n": 10}).single() == 10, SLOW)
        with pytest.raises(OverBudget):  # a check comes every 1,024 rows: the first one stops it
            db.execute(SLOW, {"n": 100_000}, budget=0.0)
        assert not db.quick(SLOW) and db.running.count() == 0  # rolled back, and sent to a worker next time
        assert db.execute(SLOW, {"n": 100}, budget=0.0).single() == 100  # no check before the end: it completes


def test_a_quick_statement_that_turns_slow_does_not_keep_the_others_waiting():
    with serving(weftdb.open()) as server, \
            neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
        with driver.session() as session:
            assert until_quick(server.db, lambda: session.run(SLOW, n=10).single()[0] == 10, SLOW)
        outcome = {}

        def slow():
            with driver.session() as session:
                outcome["count"] = session.run(SLOW, n=1_000_000).single()[0]
                outcome["ended"] = time.monotonic()

        runner = threading.Thread(target=slow)
        runner.start()
        time.sleep(0.3)
        with driver.session() as session:
            assert session.run("RETURN 1 AS x").single()["x"] == 1
        answered = time.monotonic()
        runner.join()
        assert outcome["count"] == 1_000_000
        assert outcome["ended"] > answered  # the event loop answered while the slow one ran on a worker

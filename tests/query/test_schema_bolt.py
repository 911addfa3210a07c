"""Schema statements as the neo4j Python driver sends them: `execute_query` (a
managed transaction), explicit transactions, counters, notifications in the
summary, and the refusals in Bolt's terms."""

import os
import sys
import warnings

import neo4j
import pytest
from neo4j.exceptions import ClientError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "server"))

from bolt_servers import serving  # noqa: E402

import weftdb  # noqa: E402


@pytest.fixture(scope="module")
def server():
    with serving(weftdb.open()) as server:
        yield server


@pytest.fixture
def driver(server):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
        yield driver
    for (name,) in server.db.execute("SHOW CONSTRAINTS YIELD name").rows:
        server.db.execute(f"DROP CONSTRAINT `{name}`")
    for (name,) in server.db.execute("SHOW INDEXES YIELD name").rows:
        server.db.execute(f"DROP INDEX `{name}`")
    server.db.execute("MATCH (n) DETACH DELETE n")


def notifications(summary):
    with warnings.catch_warnings():  # ResultSummary.notifications is deprecated in driver 6, still read by apps
        warnings.simplefilter("ignore")
        return summary.notifications or []


def test_execute_query_creates_and_counts(driver):
    _, summary, _ = driver.execute_query("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)")
    assert summary.counters.indexes_added == 1 and summary.query_type == "s"
    _, summary, _ = driver.execute_query("CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE")
    assert summary.counters.constraints_added == 1 and summary.counters.contains_updates
    _, summary, _ = driver.execute_query("DROP INDEX person_name")
    assert summary.counters.indexes_removed == 1
    _, summary, _ = driver.execute_query("DROP CONSTRAINT person_email")
    assert summary.counters.constraints_removed == 1


def test_an_index_that_exists_is_a_notification_not_an_error(driver):
    driver.execute_query("CREATE INDEX ON :City(name)")
    _, summary, _ = driver.execute_query("CREATE INDEX ON :City(name)")
    assert summary.counters.indexes_added == 0
    [note] = notifications(summary)
    assert note["code"] == "Neo.ClientNotification.Schema.IndexOrConstraintAlreadyExists"
    statuses = [s for s in summary.gql_status_objects if s.is_notification]
    assert statuses and "already exists" in statuses[0].status_description
    _, summary, _ = driver.execute_query("DROP INDEX nope")
    assert [n["code"] for n in notifications(summary)] == ["Neo.ClientNotification.Schema.IndexOrConstraintDoesNotExist"]
    _, summary, _ = driver.execute_query("DROP INDEX nope IF EXISTS")
    assert notifications(summary) == []


def test_schema_in_an_explicit_transaction_applies_at_commit(driver, server):
    with driver.session() as session:
        tx = session.begin_transaction()
        tx.run("CREATE INDEX a FOR (n:A) ON (n.x)").consume()
        assert server.db.execute("SHOW INDEXES").rows == []
        tx.commit()
        assert [r[0] for r in server.db.execute("SHOW INDEXES YIELD name").rows] == ["a"]
        tx = session.begin_transaction()
        tx.run("CREATE INDEX b FOR (n:B) ON (n.x)").consume()
        tx.rollback()
        assert [r[0] for r in server.db.execute("SHOW INDEXES YIELD name").rows] == ["a"]
        records = session.execute_read(lambda tx: list(tx.run("SHOW INDEXES YIELD name RETURN name")))
        assert [r["name"] for r in records] == ["a"]


def test_refusals_name_bolt_terms(driver):
    with driver.session() as session:
        tx = session.begin_transaction()
        tx.run("CREATE (:A)").consume()
        with pytest.raises(ClientError) as info:
            tx.run("CREATE INDEX c FOR (n:A) ON (n.x)").consume()
        assert info.value.code == "Neo.ClientError.Transaction.ForbiddenDueToTransactionType"
        assert "db.execute" not in info.value.message and "auto-commit" in info.value.message
        tx.close()
        tx = session.begin_transaction()
        tx.run("CREATE INDEX c FOR (n:A) ON (n.x)").consume()
        with pytest.raises(ClientError) as info:
            tx.run("CREATE (:A)").consume()
        assert info.value.code == "Neo.ClientError.Transaction.ForbiddenDueToTransactionType"
        tx.close()


def test_user_statements_count_system_updates(driver, server):
    try:
        _, summary, _ = driver.execute_query("CREATE USER bolt_user IDENTIFIED BY 'pw'")
        assert summary.counters.system_updates == 1 and summary.counters.contains_system_updates
    finally:  # a server with users asks every later client to log in
        server.db.execute("DROP USER bolt_user")

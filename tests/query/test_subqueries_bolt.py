"""LOAD CSV, CALL { } IN TRANSACTIONS, FOREACH, COUNT { } and dynamic labels as
the neo4j Python driver sends them to `weftdb serve`: execute_query (a managed,
explicit transaction) refuses IN TRANSACTIONS with Neo4j's error, which
langchain-neo4j reads to run the query again in an implicit transaction."""

import os
import sys

import neo4j
import pytest
from neo4j.exceptions import ClientError, DatabaseError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "server"))

from bolt_servers import serving  # noqa: E402

import weftdb  # noqa: E402


@pytest.fixture(scope="module")
def imports(tmp_path_factory):
    directory = tmp_path_factory.mktemp("import")
    (directory / "people.csv").write_text("id,name\n1,Ann\n2,Bob\n3,Cy\n")
    return directory


@pytest.fixture(scope="module")
def driver(imports):
    with serving(weftdb.open(import_directory=str(imports))) as server, \
            neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
        yield driver


@pytest.fixture
def session(driver):
    with driver.session() as session:
        yield session
        session.run("MATCH (n) DETACH DELETE n").consume()


IN_TRANSACTIONS = "MATCH (t:Temp) CALL { WITH t DETACH DELETE t } IN TRANSACTIONS OF 10 ROWS"


def test_in_transactions_refused_in_execute_query_then_run_in_a_session(driver, session):
    session.run("UNWIND range(1, 30) AS i CREATE (:Temp {i: i})").consume()
    with pytest.raises(DatabaseError) as error:
        driver.execute_query(IN_TRANSACTIONS)
    assert error.value.code == "Neo.DatabaseError.Transaction.TransactionStartFailed"
    assert "in an implicit transaction" in error.value.message  # what langchain-neo4j looks for
    assert session.run("MATCH (t:Temp) RETURN count(t) AS c").single()["c"] == 30
    summary = session.run(IN_TRANSACTIONS).consume()
    assert summary.counters.nodes_deleted == 30
    assert session.run("MATCH (t:Temp) RETURN count(t) AS c").single()["c"] == 0


def test_in_transactions_refused_in_an_explicit_transaction(session):
    tx = session.begin_transaction()
    with pytest.raises(DatabaseError, match="implicit transaction"):
        tx.run("UNWIND [1] AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS").consume()
    tx.close()


def test_neomodel_clear_database(session):
    session.run("UNWIND range(1, 12) AS i CREATE (:A {i: i})-[:R]->(:B)").consume()
    session.run("MATCH (a) CALL { WITH a DETACH DELETE a } IN TRANSACTIONS OF 5000 ROWS").consume()
    assert session.run("MATCH (n) RETURN count(n) AS c").single()["c"] == 0


def test_load_csv_over_bolt(driver, session):
    records, summary, _ = driver.execute_query(
        "LOAD CSV WITH HEADERS FROM 'file:///people.csv' AS row CREATE (p:Person {id: toInteger(row.id), name: row.name}) "
        "RETURN p.name AS name, linenumber() AS line")
    assert [(r["name"], r["line"]) for r in records] == [("Ann", 2), ("Bob", 3), ("Cy", 4)]
    assert summary.counters.nodes_created == 3
    with pytest.raises(ClientError) as error:
        driver.execute_query("LOAD CSV FROM 'file:///../secret.csv' AS row RETURN row")
    assert error.value.code == "Neo.ClientError.Statement.ExternalResourceFailed"
    assert "--import-directory" in error.value.message


def test_load_csv_in_transactions_over_bolt(session):
    summary = session.run("LOAD CSV FROM 'people.csv' WITH HEADER AS row "
                          "CALL { WITH row MERGE (:Person {name: row.name}) } IN TRANSACTIONS OF 2 ROWS").consume()
    assert summary.counters.nodes_created == 3


def test_foreach_count_collect_and_dynamic_labels(driver):
    driver.execute_query("FOREACH (name IN $names | CREATE (:N {name: name}))", names=["a", "b"])
    records, _, _ = driver.execute_query("MATCH (n:N) SET n:$($label) RETURN COUNT { MATCH (m:Tagged) } AS c, "
                                         "COLLECT { MATCH (m:N) RETURN m.name ORDER BY m.name } AS names", label="Tagged")
    assert [(r["c"], r["names"]) for r in records] == [(2, ["a", "b"]), (2, ["a", "b"])]
    driver.execute_query("MATCH (n) DETACH DELETE n")

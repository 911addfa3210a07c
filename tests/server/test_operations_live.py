"""SHOW / TERMINATE TRANSACTIONS and the other operations statements over Bolt
with the neo4j driver: another connection's transaction is listed with who
runs it and stopped, idle or running; with users, each sees its own."""

import threading
import time

import neo4j
import pytest
from bolt_servers import start
from neo4j.exceptions import ClientError, Neo4jError

import weftdb
from weftdb.basics import identity

LONG = "UNWIND range(1, 100000000) AS i WITH i WHERE i < 0 RETURN count(i) AS c"


@pytest.fixture(scope="module")
def driver(engine_server):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{engine_server.port}", auth=None) as driver:
        yield driver


def show(session):
    return [record.data() for record in session.run("SHOW TRANSACTIONS")]


def listed(session, text):
    for _ in range(300):
        rows = [row for row in show(session) if any(text in query for query in row["query"])]
        if rows:
            return rows[0]
        time.sleep(0.01)
    raise AssertionError(f"{text!r} never listed")


def test_another_connections_idle_transaction_is_listed_and_terminated(driver):
    with driver.session() as owner, driver.session() as admin:
        tx = owner.begin_transaction(metadata={"app": "tests"})
        tx.run("CREATE (:IdleOverBolt)").consume()
        row = listed(admin, "IdleOverBolt")
        assert row["username"] == "" and row["metadata"] == {"app": "tests"}
        killed = admin.run("TERMINATE TRANSACTIONS $id", id=row["transaction_id"]).data()
        assert killed == [{"transaction_id": row["transaction_id"], "killed": True}]
        with pytest.raises(Neo4jError, match="terminated by TERMINATE TRANSACTIONS"):
            tx.run("RETURN 1").consume()
        tx.close()
        assert admin.run("MATCH (n:IdleOverBolt) RETURN count(n) AS c").single()["c"] == 0
        assert owner.run("RETURN 1 AS one").single()["one"] == 1  # the connection goes on


def test_a_running_query_of_another_connection_is_stopped(driver):
    outcome = {}

    def long():
        try:
            with driver.session() as session:
                session.run(LONG).consume()
        except Neo4jError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=long)
    thread.start()
    with driver.session() as admin:
        row = listed(admin, "UNWIND range")
        started = time.monotonic()
        neo4j_id = f"neo4j-transaction-{row['transaction_id']}"
        record = admin.run("TERMINATE TRANSACTION $id", id=neo4j_id).single()
        assert record.data() == {"transactionId": neo4j_id, "username": "", "message": "Transaction terminated."}
    thread.join(10)
    assert time.monotonic() - started < 5
    assert "terminated by TERMINATE TRANSACTIONS" in outcome["error"].message
    # the server's Neo.TransientError.Transaction.Terminated, which the driver reports as a client error
    assert outcome["error"].code == "Neo.ClientError.Transaction.Terminated"


def test_neo4j_form_lists_the_connection(driver):
    with driver.session() as owner, driver.session() as admin:
        with owner.begin_transaction() as tx:
            tx.run("RETURN 'neo4j form' AS x").consume()
            number = listed(admin, "neo4j form")["transaction_id"]
            record = admin.run(f"SHOW TRANSACTIONS 'neo4j-transaction-{number}'").single()
            assert record["connectionId"].startswith("bolt-") and record["clientAddress"].startswith("127.0.0.1:")
            assert record["status"] == "Idle" and record["database"] == "weftdb"


def test_with_users_each_sees_and_terminates_its_own():
    db = weftdb.open()
    db.execute("CREATE USER ann IDENTIFIED BY 'a-password'")
    db.execute("CREATE USER bob IDENTIFIED BY 'b-password'")
    server = start(db)
    uri = f"bolt://127.0.0.1:{server.port}"
    try:
        with neo4j.GraphDatabase.driver(uri, auth=("ann", "a-password")) as ann, \
                neo4j.GraphDatabase.driver(uri, auth=("bob", "b-password")) as bob:
            with ann.session() as ann_owner, ann.session() as ann_session, bob.session() as bob_session:
                tx = ann_owner.begin_transaction()
                tx.run("RETURN 'ann was here'").consume()
                row = listed(ann_session, "ann was here")
                assert row["username"] == "ann"
                assert not [r for r in show(bob_session) if r["username"] == "ann"]
                refused = bob_session.run("TERMINATE TRANSACTIONS $id", id=row["transaction_id"]).single()
                assert refused["killed"] is False  # as if there were none: bob learns nothing of ann's
                assert tx.run("RETURN 2 AS two").single()["two"] == 2
                assert db.execute("SHOW TRANSACTIONS").rows  # embedded: the owner of the data sees all
                killed = ann_session.run("TERMINATE TRANSACTIONS $id", id=row["transaction_id"]).single()
                assert killed["killed"] is True
                tx.close()
    finally:
        server.stop()
        db.close()


def test_operations_statements_answer_over_bolt(driver):
    with driver.session() as session:
        assert session.run("SHOW VERSION").single()["version"] == identity.VERSION
        assert session.run("SHOW BUILD INFO").data()[0] == {"build info": "build_type", "value": "Release"}
        config = {r["name"]: r for r in session.run("SHOW CONFIG")}
        assert config["bolt_port"]["default_value"] == "7687"
        info = {r["storage info"]: r["value"] for r in session.run("SHOW STORAGE INFO")}
        assert info["storage_mode"] == "IN_MEMORY_TRANSACTIONAL" and info["name"] == "weftdb"
        databases = session.run("SHOW DATABASES").data()
        assert databases[0]["name"] == "weftdb" and "neo4j" in databases[0]["aliases"]
        assert session.run("SHOW TRIGGERS").data() == [] and session.run("SHOW STREAMS").data() == []
        with pytest.raises(ClientError, match="is not a transaction id"):
            session.run("TERMINATE TRANSACTIONS 'x'").consume()


def test_neo4j_forms_through_execute_query(driver):
    with driver.session() as owner:
        with owner.begin_transaction(metadata={"job": "nightly"}) as tx:
            tx.run("RETURN 'yielded'").consume()
            records, _, keys = driver.execute_query(
                "SHOW TRANSACTIONS YIELD transactionId, metaData, protocol, clientAddress "
                "WHERE metaData.job = 'nightly' RETURN *")
            assert len(records) == 1 and records[0]["protocol"] == "bolt"
            assert records[0]["clientAddress"].startswith("127.0.0.1:")
    records, _, _ = driver.execute_query("SHOW DATABASES")  # a managed transaction, as the driver's manual does it
    assert records[0]["name"] == "weftdb" and records[0]["default"] is True
    records, _, _ = driver.execute_query("SHOW DATABASES YIELD name, aliases, currentStatus", database_="system")
    assert [r.data() for r in records] == [{"name": "weftdb", "aliases": ["memgraph", "neo4j"],
                                           "currentStatus": "online"}]

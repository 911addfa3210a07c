"""Procedures over Bolt with the neo4j driver: the error codes clients act on,
a failing procedure that leaves the connection and the server serving, read
access mode, and the listings through execute_query."""

import neo4j
import pytest
from neo4j.exceptions import ClientError

from weftdb.basics import identity


@pytest.fixture(scope="module")
def driver(engine_server):
    db = engine_server.db

    @db.procedure("test.fail(message :: STRING) :: (x :: INTEGER)")
    def fail(ctx, message):
        raise ValueError(message)

    @db.procedure("test.make(name :: STRING) :: (node :: NODE)", mode="write")
    def make(ctx, name):
        return [{"node": ctx.create_node(["Made"], {"name": name})}]

    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{engine_server.port}", auth=None) as driver:
        yield driver


def test_unknown_procedure_is_procedure_not_found(driver):
    with pytest.raises(ClientError) as raised:
        driver.execute_query("CALL apoc.nothing.here()")
    assert raised.value.code == "Neo.ClientError.Procedure.ProcedureNotFound"
    assert "apoc.nothing.here" in raised.value.message


def test_a_failing_procedure_is_procedure_call_failed_and_the_session_goes_on(driver):
    with driver.session() as session:
        with pytest.raises(ClientError) as raised:
            session.run("CALL test.fail('no luck')").consume()
        assert raised.value.code == "Neo.ClientError.Procedure.ProcedureCallFailed"
        assert "Caused by: ValueError: no luck" in raised.value.message
        assert session.run("RETURN 1 AS one").single()["one"] == 1
    records, _, _ = driver.execute_query("CALL db.labels() YIELD label RETURN count(label) AS c")
    assert records[0]["c"] >= 0


def test_write_procedure_counts_and_read_access_mode_refuses_it(driver):
    records, summary, _ = driver.execute_query("CALL test.make('x') YIELD node RETURN node")
    assert dict(records[0]["node"]) == {"name": "x"} and summary.counters.nodes_created == 1
    with pytest.raises(ClientError) as raised:
        driver.execute_query("CALL test.make('y')", routing_=neo4j.RoutingControl.READ)
    assert raised.value.code == "Neo.ClientError.Statement.AccessMode"
    with driver.session(default_access_mode=neo4j.READ_ACCESS) as session:
        with pytest.raises(ClientError) as raised:
            session.execute_read(lambda tx: tx.run("CREATE (:Made {name: 'z'})").consume())
        assert raised.value.code == "Neo.ClientError.Statement.AccessMode"
        assert session.execute_read(lambda tx: tx.run("MATCH (m:Made) RETURN count(m) AS c").single()["c"]) == 1


def test_listings_through_execute_query(driver):
    records, _, keys = driver.execute_query("SHOW PROCEDURES")
    assert keys == ["name", "description", "mode", "worksOnSystem"]
    assert {"db.labels", "dbms.components", "test.make"} <= {r["name"] for r in records}
    records, _, _ = driver.execute_query("SHOW FUNCTIONS YIELD name WHERE name STARTS WITH 'apoc.' RETURN name")
    assert "apoc.any.property" in [r["name"] for r in records]
    records, _, _ = driver.execute_query("CALL dbms.components() YIELD name, versions, edition")
    assert (records[0]["name"], records[0]["versions"], records[0]["edition"]) == (
        identity.NEO4J_KERNEL, [identity.NEO4J_VERSION], "community")


def test_virtual_nodes_reach_the_driver(driver):
    driver.execute_query("CREATE (:Vn {a: 1})-[:VR]->(:Vn)")
    records, _, _ = driver.execute_query("CALL apoc.meta.graph() YIELD nodes, relationships RETURN nodes, relationships")
    nodes = {node["name"]: node for node in records[0]["nodes"]}
    assert nodes["Vn"]["count"] == 2 and set(nodes["Vn"].labels) == {"Vn"}
    assert any(rel.type == "VR" and rel["count"] == 1 for rel in records[0]["relationships"])

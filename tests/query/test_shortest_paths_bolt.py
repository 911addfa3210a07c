"""Shortest paths as the neo4j Python driver sees them: Path values with
their nodes and relationships in order, the total weight, the errors'
codes, and a timeout sent with the transaction stopping a search."""

import os
import sys

import neo4j
import pytest
from neo4j.exceptions import ClientError

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "server"))

from bolt_servers import serving  # noqa: E402

import weftdb  # noqa: E402


@pytest.fixture(scope="module")
def driver():
    db = weftdb.open()
    db.execute("CREATE (a:City {name: 'Oslo'})-[:ROAD {km: 500}]->(b:City {name: 'Bergen'}), "
               "(a)-[:ROAD {km: 300}]->(c:City {name: 'Lillehammer'})-[:ROAD {km: 150}]->(b), "
               "(a)-[:ROAD {km: 480}]->(t:City {name: 'Trondheim'}), (b)-[:ROAD {km: 700}]->(t)")
    db.execute("UNWIND range(1, 9) AS i CREATE (:K {id: i})")
    db.execute("MATCH (a:K), (b:K) WHERE a.id < b.id CREATE (a)-[:R]->(b)")
    with serving(db) as server, neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
        yield driver


def test_shortest_path_is_a_path(driver):
    records, _, _ = driver.execute_query(
        "MATCH p = shortestPath((a:City {name: $a})-[:ROAD*]-(b:City {name: $b})) RETURN p", a="Bergen", b="Oslo")
    path = records[0]["p"]
    assert isinstance(path, neo4j.graph.Path)
    assert [node["name"] for node in path.nodes] == ["Bergen", "Oslo"]
    assert path.relationships[0]["km"] == 500
    assert path.start_node["name"] == "Bergen" and path.end_node["name"] == "Oslo"


def test_all_shortest_paths_and_expression_form(driver):
    records, _, _ = driver.execute_query(
        "MATCH (a:City {name: 'Oslo'}), (b:City {name: 'Trondheim'}) "
        "RETURN shortestPath((a)-[*]->(b)) AS one, allShortestPaths((a)-[*]-(b)) AS every")
    assert len(records[0]["one"]) == 1
    assert [[n["name"] for n in path.nodes] for path in records[0]["every"]] == [["Oslo", "Trondheim"]]


def test_weighted_shortest_path_with_total(driver):
    records, _, _ = driver.execute_query(
        "MATCH p = (a:City {name: 'Oslo'})-[:ROAD *WSHORTEST (r, n | r.km) total]->(b:City {name: 'Bergen'}) "
        "RETURN [n IN nodes(p) | n.name] AS route, total")
    assert records[0]["route"] == ["Oslo", "Lillehammer", "Bergen"]
    assert records[0]["total"] == 450


def test_bfs_with_a_filter(driver):
    records, _, _ = driver.execute_query(
        "MATCH p = (a:City {name: 'Oslo'})-[*BFS ..2 (r, n | r.km < 400)]->(b) RETURN b.name AS name, length(p) AS hops "
        "ORDER BY hops, name")
    assert [(r["name"], r["hops"]) for r in records] == [("Lillehammer", 1), ("Bergen", 2)]


def test_errors_reach_the_client(driver):
    with pytest.raises(ClientError) as raised:
        driver.execute_query("MATCH p = shortestPath((a)-[:ROAD]->(b)) RETURN p")
    assert raised.value.code == "Neo.ClientError.Statement.SyntaxError"
    assert "variable-length" in raised.value.message
    with pytest.raises(ClientError) as raised:
        driver.execute_query("MATCH (a:City)-[*WSHORTEST (r, n | -r.km)]->(b) RETURN b")
    assert raised.value.code == "Neo.ClientError.Statement.TypeError"


def test_transaction_timeout_stops_a_search(driver):
    query = neo4j.Query("MATCH (a:K {id: 1}), (b:K {id: 2}) MATCH p = shortestPath((a)-[*]-(b)) WHERE length(p) < 0 RETURN p",
                        timeout=0.3)
    with pytest.raises(ClientError) as raised:
        with driver.session() as session:
            session.run(query).consume()
    assert "Timed" in raised.value.code or "timeout" in raised.value.message.lower()

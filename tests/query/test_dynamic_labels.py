"""Dynamic labels `:$(expr)` (Neo4j 5.26): SET, REMOVE, CREATE, MERGE, MATCH
and label predicates, with a string or a list of strings."""

import pytest
from cypher_helpers import rows, value

from weftdb.basics.errors import CypherSemanticError, CypherTypeError


def test_set_and_remove(db):
    db.execute("CREATE (:P {name: 'Ann', kind: 'Admin'}), (:P {name: 'Bob', kind: 'User'})")
    result = db.execute("MATCH (p:P) SET p:$(p.kind), p:$(['Seen', 'Known']) RETURN p.name, labels(p) ORDER BY p.name")
    assert result.rows == [("Ann", ["Admin", "Known", "P", "Seen"]), ("Bob", ["Known", "P", "Seen", "User"])]
    assert result.counters["labels-added"] == 6
    result = db.execute("MATCH (p:P) REMOVE p:$(p.kind):Seen RETURN labels(p) ORDER BY p.name")
    assert result.rows == [(["Known", "P"],), (["Known", "P"],)]
    assert result.counters["labels-removed"] == 4


def test_langchain_base_entity_import(db):
    """What langchain-neo4j's add_graph_documents(baseEntityLabel=True) sends."""
    data = [{"id": "Cy", "type": "Person", "properties": {"age": 3}}, {"id": "Acme", "type": "Company", "properties": {}}]
    query = ("UNWIND $data AS row MERGE (source:`__Entity__` {id: row.id}) SET source += row.properties "
             "WITH source, row SET source:$(row.type) WITH source AS node RETURN distinct 'done' AS result")
    assert db.execute(query, {"data": data}).rows == [("done",)]
    db.execute(query, {"data": data})  # again: the same nodes
    assert rows(db, "MATCH (n:__Entity__) RETURN n.id, labels(n) ORDER BY n.id") == [
        ("Acme", ["Company", "__Entity__"]), ("Cy", ["Person", "__Entity__"])]


def test_create_merge_and_match(db):
    db.execute("UNWIND [{t: 'A', id: 1}, {t: ['B', 'C'], id: 2}] AS row CREATE (:$(row.t) {id: row.id})")
    assert rows(db, "MATCH (n) RETURN n.id, labels(n) ORDER BY n.id") == [(1, ["A"]), (2, ["B", "C"])]
    result = db.execute("UNWIND ['A', 'D'] AS t MERGE (n:$(t) {id: 1}) RETURN labels(n)")
    assert result.rows == [(["A"],), (["D"],)] and result.counters["nodes-created"] == 1
    assert value(db, "MATCH (n:$('B'):C) RETURN n.id") == 2
    assert value(db, "MATCH (n:$($label)) RETURN count(n)", {"label": "A"}) == 1
    assert rows(db, "MATCH (n) WHERE n:$(['B', 'C']) RETURN n.id") == [(2,)]
    db.execute("MATCH (a:A), (c:C) CREATE (a)-[:R]->(:$('E') {id: 9})")
    assert value(db, "MATCH (:A)-->(e:E) RETURN e.id") == 9
    assert value(db, "MATCH (a:A)-->(:$('E')) RETURN a.id") == 1


@pytest.mark.parametrize("label", ["null", "''", "1", "['A', 1]", "[]"])
def test_labels_must_be_non_empty_strings(db, label):
    db.execute("CREATE (:P)")
    with pytest.raises(CypherTypeError, match="dynamic label"):
        db.execute(f"MATCH (p:P) SET p:$({label})")


def test_a_bound_node_gets_no_labels_from_create(db):
    with pytest.raises(CypherSemanticError):
        db.execute("CREATE (n) WITH n CREATE (n:$('X'))")

"""elementId(): the string the server sends as a node's or relationship's
element_id, and lookups by it (and by id()) that start from the element."""

import pytest

import weftdb


@pytest.fixture(scope="module")
def db():
    db = weftdb.open()
    db.execute("CREATE (:P {n: 1})-[:K {w: 1}]->(:P {n: 2}), (:P {n: 3})-[:K {w: 2}]->(:P {n: 4})")
    db.execute("MATCH (a:P {n: 4}) CREATE (a)-[:K {w: 3}]->(a)")
    yield db
    db.close()


def ids(db, query, **params):
    return db.execute(query, params).rows


def test_element_id_is_the_id_as_text(db):
    for node_id, element_id, n in ids(db, "MATCH (n:P) RETURN id(n), elementId(n), n.n ORDER BY n.n"):
        assert element_id == str(node_id)
    ((rel_id, element_id),) = ids(db, "MATCH ()-[r:K {w: 2}]->() RETURN id(r), elementId(r)")
    assert element_id == str(rel_id)
    assert ids(db, "RETURN elementId(null)") == [(None,)]
    with pytest.raises(weftdb.CypherTypeError, match="elementId"):
        db.execute("RETURN elementId(1)")


@pytest.mark.parametrize("function", ["elementId", "id"])
def test_node_lookup_by_id_is_a_seek(db, function):
    ((eid, n),) = ids(db, "MATCH (n:P {n: 3}) RETURN " + function + "(n), n.n")
    query = f"MATCH (n) WHERE {function}(n) = $id RETURN n.n"
    assert ids(db, query, id=eid) == [(3,)]
    plan = db.execute("EXPLAIN " + query).plan
    assert "ScanAllBy" in plan and "ScanAll (n)" not in plan
    other = eid + 100 if function == "id" else eid + "00"
    assert ids(db, f"MATCH (n) WHERE {function}(n) IN $ids RETURN n.n", ids=[eid, other, eid]) == [(3,)]
    assert ids(db, f"MATCH (n) WHERE $id = {function}(n) RETURN n.n", id=eid) == [(3,)]


def test_element_ids_that_name_nothing_match_nothing(db):
    for value in ("x", "", "-1", "01", " 1", None, 1, 1.0, "99"):
        assert ids(db, "MATCH (n) WHERE elementId(n) = $id RETURN n", id=value) == []
        assert ids(db, "MATCH ()-[r]->() WHERE elementId(r) = $id RETURN r", id=value) == []


def test_relationship_lookup_by_element_id(db):
    ((eid,),) = ids(db, "MATCH ()-[r:K {w: 2}]->() RETURN elementId(r)")
    query = "MATCH (a)-[r]->(b) WHERE elementId(r) = $id RETURN a.n, r.w, b.n"
    assert ids(db, query, id=eid) == [(3, 2, 4)]
    assert "ScanEdgeByElementId" in db.execute("EXPLAIN " + query).plan
    assert ids(db, "MATCH (a)<-[r]-(b) WHERE elementId(r) = $id RETURN a.n, b.n", id=eid) == [(4, 3)]
    both = ids(db, "MATCH (a)-[r]-(b) WHERE elementId(r) = $id RETURN a.n, b.n ORDER BY a.n", id=eid)
    assert both == [(3, 4), (4, 3)]
    assert ids(db, "MATCH (a)-[r:OTHER]->(b) WHERE elementId(r) = $id RETURN r", id=eid) == []
    assert ids(db, "MATCH (a:P {n: 1})-[r]->(b) WHERE elementId(r) = $id RETURN r", id=eid) == []
    assert ids(db, "MATCH (x)-->(a)-[r]->(b) WHERE elementId(r) = $id RETURN a.n", id=eid) == []
    ((loop,),) = ids(db, "MATCH ()-[r:K {w: 3}]->() RETURN elementId(r)")
    assert ids(db, "MATCH (a)-[r]-(b) WHERE elementId(r) = $id RETURN a.n, b.n", id=loop) == [(4, 4)]
    assert ids(db, "MATCH ()-[r]->() WHERE id(r) = $id RETURN r.w", id=int(eid)) == [(2,)]


def test_lookup_sees_the_transactions_own_writes_and_not_deleted_ones(db):
    with db.transaction() as tx:
        (eid,) = tx.execute("CREATE (n:Temp) RETURN elementId(n)").rows[0]
        assert tx.execute("MATCH (n) WHERE elementId(n) = $id RETURN labels(n)", {"id": eid}).rows == [(["Temp"],)]
        tx.execute("MATCH (n:Temp) DELETE n")
        assert tx.execute("MATCH (n) WHERE elementId(n) = $id RETURN n", {"id": eid}).rows == []

"""IN_MEMORY_ANALYTICAL's transactions (graph/transaction.py InPlaceTransaction):
writes apply in place and are seen by everyone at once, two writers never
conflict, a rollback still undoes everything, and a commit leaves no versions
behind (deleted objects go at once)."""

import pytest

import weftdb
from weftdb.basics.errors import CypherArithmeticError


@pytest.fixture
def db():
    database = weftdb.open(storage_mode="IN_MEMORY_ANALYTICAL")
    yield database
    database.close()


def test_uncommitted_writes_are_seen_by_other_transactions(db):
    db.execute("CREATE (:A {v: 1})")
    writer, reader = db.begin(), db.begin()
    writer.execute("MATCH (a:A) SET a.v = 2 CREATE (:B)")
    assert reader.execute("MATCH (a:A) RETURN a.v").single() == 2
    assert reader.execute("MATCH (b:B) RETURN count(b)").single() == 1
    writer.rollback()
    assert reader.execute("MATCH (a:A) RETURN a.v").single() == 1
    assert reader.execute("MATCH (b:B) RETURN count(b)").single() == 0
    reader.commit()


def test_two_writers_of_one_node_do_not_conflict_and_the_last_write_stays(db):
    db.execute("CREATE (:A {v: 0})")
    first, second = db.begin(), db.begin()
    first.execute("MATCH (a:A) SET a.v = 1")
    second.execute("MATCH (a:A) SET a.v = 2")  # a versioned transaction would fail here (first writer wins)
    first.commit()
    second.commit()
    assert db.execute("MATCH (a:A) RETURN a.v").single() == 2


def test_a_failed_statement_undoes_all_of_its_writes(db):
    db.execute("CREATE INDEX ON :P(k)")
    db.execute("UNWIND range(1, 3) AS i CREATE (:P {k: i})-[:R]->(:Q)")
    with pytest.raises(CypherArithmeticError):
        db.execute("MATCH (p:P) SET p.k = p.k * 10, p:Extra REMOVE p:P WITH p DETACH DELETE p "
                   "CREATE (:New) WITH count(*) AS n RETURN 1 / 0")
    assert sorted(db.execute("MATCH (p:P) RETURN p.k").rows) == [(1,), (2,), (3,)]
    assert db.execute("MATCH (p:P {k: 2}) RETURN count(p)").single() == 1  # the index holds the old value again
    assert db.execute("MATCH (:P)-[r:R]->(:Q) RETURN count(r)").single() == 3
    assert db.execute("MATCH (n) WHERE n:Extra OR n:New RETURN count(n)").single() == 0
    assert len(db.storage.vertices) == 6 and len(db.storage.edges) == 3  # what it created is gone


def test_a_commit_keeps_no_versions_and_drops_what_it_deleted(db):
    db.execute("UNWIND range(1, 100) AS i CREATE (:N {i: i})-[:R]->(:M)")
    db.execute("MATCH (n:N) WHERE n.i > 50 DETACH DELETE n")
    db.execute("MATCH (n:N) SET n.i = -n.i")
    assert len(db.storage.vertices) == 150 and len(db.storage.edges) == 50
    assert all(v.delta is None for v in db.storage.vertices.values())
    assert dict(db.execute("SHOW STORAGE INFO").rows)["unreleased_delta_objects"] == 0


def test_deleting_twice_in_one_statement_deletes_once(db):
    db.execute("CREATE (a:A)-[:R]->(b:B), (a)-[:R]->(b)")
    counters = db.execute("MATCH (a:A)-[r]->(b:B) DETACH DELETE a, b").counters
    assert counters["nodes-deleted"] == 2 and counters["relationships-deleted"] == 2
    assert len(db.storage.vertices) == 0 and len(db.storage.edges) == 0

"""IN_MEMORY_ANALYTICAL's transactions (graph/transaction.py InPlaceTransaction):
writes apply in place and are seen by everyone at once, what one open
transaction wrote another may not write, a rollback still undoes everything,
and a commit leaves no versions behind (deleted objects go at once)."""

import pytest

import weftdb
from weftdb.basics.errors import CypherArithmeticError, EntityNotFound, SerializationError


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


def test_what_one_open_transaction_wrote_another_may_read_but_not_write(db):
    """Without that, a rollback would restore a value over another's write,
    or drop a node another's relationship was made to."""
    db.execute("CREATE (:A {v: 0})")
    first, second = db.begin(), db.begin()
    first.execute("MATCH (a:A) SET a.v = 1 CREATE (:B)")
    assert second.execute("MATCH (a:A) RETURN a.v").single() == 1
    with pytest.raises(SerializationError, match="another transaction created, changed or deleted it and has not ended"):
        second.execute("MATCH (a:A) SET a.v = 2")
    third = db.begin()
    with pytest.raises(SerializationError):
        third.execute("MATCH (a:A), (b:B) CREATE (a)-[:R]->(b)")
    first.rollback()
    assert db.execute("MATCH (a:A) RETURN a.v").single() == 0
    db.execute("MATCH (a:A) SET a.v = 2")  # once it ended, anyone may
    assert db.execute("MATCH (a:A) RETURN a.v").single() == 2


def test_what_two_open_transactions_create_in_turns_stays_each_ones_own(db):
    """Two loads whose identifiers interleave: each reads the other's new
    nodes and relationships but may not write them or connect to them, and a
    rollback of one drops exactly its own."""
    first, second = db.begin(), db.begin()
    for i in range(3):
        first.execute("CREATE (:F {i: $i})-[:R]->(:F {i: -1})", {"i": i})
        second.execute("CREATE (:S {i: $i})-[:R]->(:S {i: -1})", {"i": i})
    assert first.execute("MATCH (s:S) RETURN count(s)").single() == 6
    for statement in ("MATCH (s:S {i: 1}) SET s.x = 1", "MATCH (f:F {i: 0}), (s:S {i: 2}) CREATE (f)-[:T]->(s)",
                      "MATCH (:S)-[r:R]->() SET r.x = 1", "MATCH (s:S {i: 2}) DETACH DELETE s"):
        probe = db.begin()
        with pytest.raises(SerializationError, match="created, changed or deleted"):
            probe.execute(statement)
    first.execute("MATCH (f:F {i: 1}) SET f.x = 1 CREATE (f)-[:T]->(:F {i: 9})")  # its own, in any order
    second.rollback()
    assert db.execute("MATCH (n) RETURN labels(n)[0] AS l, count(n) ORDER BY l").rows == [("F", 6 + 1)]
    assert db.execute("MATCH ()-[r]->() RETURN count(r)").single() == 4
    first.commit()
    db.execute("MATCH (f:F {i: 0}) SET f.x = 2")  # committed: anyone may write it
    assert len(db.storage.vertices) == 7 and len(db.storage.edges) == 4
    assert not db.storage.creators and not db.storage.owners


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
    info = dict(db.execute("SHOW STORAGE INFO").rows)
    assert info["unreleased_delta_objects"] == 0 and info["global_isolation_level"] == "READ_UNCOMMITTED"


def test_deleting_twice_in_one_statement_deletes_once(db):
    db.execute("CREATE (a:A)-[:R]->(b:B), (a)-[:R]->(b)")
    counters = db.execute("MATCH (a:A)-[r]->(b:B) DETACH DELETE a, b").counters
    assert counters["nodes-deleted"] == 2 and counters["relationships-deleted"] == 2
    assert len(db.storage.vertices) == 0 and len(db.storage.edges) == 0


def test_concurrent_writers_deleters_and_readers_leave_a_whole_graph(db):
    """Four writers merge, delete, fail and roll back on 50 keys while a reader
    walks the graph: the only errors are retryable (a node another
    transaction deleted meanwhile), no edge is left without its ends, no
    deleted object stays, and no rolled-back write remains."""
    import random
    import threading

    db.execute("CREATE INDEX ON :N(k)")
    errors, stop = [], threading.Event()

    def writer(seed):
        rng = random.Random(seed)
        for _ in range(300):
            k, j = rng.randrange(50), rng.randrange(50)
            try:
                choice = rng.random()
                if choice < 0.4:
                    db.execute("MERGE (a:N {k: $k}) MERGE (b:N {k: $j}) CREATE (a)-[:R {w: $k}]->(b)", {"k": k, "j": j})
                elif choice < 0.6:
                    db.execute("MATCH (a:N {k: $k}) DETACH DELETE a", {"k": k})
                elif choice < 0.8:
                    with pytest.raises(CypherArithmeticError):
                        db.execute("MATCH (a:N {k: $k}) SET a.k = a.k + 100 CREATE (a)-[:R]->(:M) "
                                   "WITH count(*) AS c RETURN 1 / (c - c)", {"k": k})
                else:
                    with db.transaction() as tx:
                        tx.execute("MATCH (a:N {k: $k})-[r]->() DELETE r", {"k": k})
                        tx.execute("CREATE (:N {k: $k})", {"k": k})
            except SerializationError:
                pass
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                errors.append(repr(exc))

    def reader():
        while not stop.is_set():
            try:
                db.execute("MATCH (a)-[r]->(b) RETURN count(*), sum(r.w)")
                db.execute("MATCH (a:N) WHERE a.k < 25 RETURN a.k, size([(a)--() | 1])")
            except Exception as exc:  # noqa: BLE001
                errors.append("reader: " + repr(exc))

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    watcher = threading.Thread(target=reader)
    for thread in [*threads, watcher]:
        thread.start()
    for thread in threads:
        thread.join()
    stop.set()
    watcher.join()
    assert errors == []
    storage = db.storage
    for edge in storage.edges.values():
        assert not edge.deleted and storage.vertices.get(edge.src.gid) is edge.src and storage.vertices.get(edge.dst.gid) is edge.dst
        assert edge in edge.src.out_edges and edge in edge.dst.in_edges
    assert not any(vertex.deleted for vertex in storage.vertices.values())
    assert not any(edge.deleted for vertex in storage.vertices.values() for edge in (*vertex.out_edges, *vertex.in_edges))
    assert db.execute("MATCH (n) WHERE n:M OR n.k >= 100 RETURN count(n)").single() == 0


def test_a_node_another_transaction_deletes_meanwhile_reads_as_it_is_not_as_an_error(db):
    """Reading a node one's own transaction deleted is an error
    (DeletedEntityAccess); one that another deleted in place while the query ran
    is read as the writer left it (READ_UNCOMMITTED), not refused."""
    import threading

    db.execute("CREATE (:N {k: 1})-[:R {w: 2}]->(:M)")

    @db.function("test.another_deletes() :: INTEGER")
    def another_deletes():
        deleter = threading.Thread(target=db.execute, args=("MATCH (n:N) DETACH DELETE n",))
        deleter.start()
        deleter.join()
        return 0

    row = db.execute("MATCH (n:N)-[r]->() WITH n, r, test.another_deletes() AS _ "
                     "RETURN n.k AS k, r.w AS w, labels(n) AS labels").rows
    assert row == [(1, 2, ["N"])] and db.execute("MATCH (n) RETURN count(n)").single() == 1
    with pytest.raises(EntityNotFound, match="it was deleted"):
        db.execute("MATCH (n:M) DELETE n RETURN n.k")

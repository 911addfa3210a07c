"""A long transaction's objects leave the cyclic collector's young generations
before its commit (Storage.settle), and a rollback still frees them."""

import gc

import weftdb
from weftdb.graph.objects import Edge, Vertex
from weftdb.graph.storage import FREEZE_AFTER


def graph_objects() -> int:
    return sum(type(o) in (Vertex, Edge) for o in gc.get_objects())


def test_a_long_statement_freezes_what_it_made_before_the_commit():
    db = weftdb.open()
    gc.unfreeze()
    with db.transaction() as tx:
        tx.execute("UNWIND range(1, $n) AS i CREATE (:N {i: i})", {"n": 3 * FREEZE_AFTER})
        assert gc.get_freeze_count() > 2 * FREEZE_AFTER  # while the transaction is still open
        assert graph_objects() <= FREEZE_AFTER  # only the last ones are scanned by a collection
    gc.unfreeze()


def test_frozen_objects_of_a_rolled_back_transaction_are_freed_without_a_collection():
    db = weftdb.open()
    gc.unfreeze()
    gc.collect()
    before = graph_objects()  # other tests' graphs, still alive
    tx = db.begin()
    tx.execute("UNWIND range(1, $n) AS i CREATE (:N {i: i})-[:R]->(:M)", {"n": 2 * FREEZE_AFTER})
    assert gc.get_freeze_count() > FREEZE_AFTER
    tx.rollback()
    del tx  # it still lists its deltas
    gc.unfreeze()
    assert graph_objects() == before  # freed by their reference counts: the rollback broke every cycle
    assert db.execute("MATCH (n) RETURN count(n)").rows == [(0,)]


def test_a_large_commit_builds_its_wal_record_with_the_collector_paused(tmp_path):
    db = weftdb.open(str(tmp_path / "db"))
    log = db.storage.commit_log
    seen = []
    append = log.append

    def watching(*args):
        seen.append(gc.isenabled())
        return append(*args)

    log.append = watching
    db.execute("UNWIND range(1, $n) AS i CREATE (:N {i: i})", {"n": FREEZE_AFTER})
    db.execute("CREATE (:N)")
    assert seen == [False, True] and gc.isenabled()  # large: paused; small: as it was; and back on after
    db.close()
    with weftdb.open(str(tmp_path / "db")) as again:
        assert again.execute("MATCH (n:N) RETURN count(n)").rows == [(FREEZE_AFTER + 1,)]

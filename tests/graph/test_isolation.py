"""Snapshot isolation, tested with two threads each holding a transaction.

A barrier makes the interleaving explicit: each test states which thread does
what, in which order, and what the other one must (not) see.
"""

import threading

import pytest

import weftdb


@pytest.fixture
def db():
    with weftdb.open() as database:
        database.execute("CREATE (:Account {id: 1, balance: 100}), (:Account {id: 2, balance: 50})")
        yield database


def balance(tx, account=1):
    return tx.execute("MATCH (a:Account {id: $id}) RETURN a.balance", {"id": account}).single()


def run_threads(*steps_per_thread):
    """Run each list of callables in its own thread, step i of every thread
    before step i+1 of any thread. Returns the values each step returned."""
    barrier = threading.Barrier(len(steps_per_thread))
    results = [[] for _ in steps_per_thread]
    errors = []

    def worker(index, steps):
        try:
            for step in steps:
                results[index].append(step() if step else None)
                barrier.wait(timeout=10)
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i, s)) for i, s in enumerate(steps_per_thread)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    if errors:
        raise errors[0]
    return results


def test_no_dirty_read(db):
    writer, reader = db.begin(), db.begin()
    results = run_threads(
        [lambda: writer.execute("MATCH (a:Account {id: 1}) SET a.balance = 0"), None, writer.rollback],
        [None, lambda: balance(reader), None],
    )
    assert results[1][1] == 100
    reader.commit()
    assert db.execute("MATCH (a:Account {id: 1}) RETURN a.balance").single() == 100


def test_uncommitted_create_is_invisible(db):
    writer, reader = db.begin(), db.begin()
    results = run_threads(
        [lambda: writer.execute("CREATE (:Account {id: 3, balance: 1})"), None, writer.commit],
        [None, lambda: reader.execute("MATCH (a:Account) RETURN count(a)").single(), None],
    )
    assert results[1][1] == 2
    reader.commit()
    assert db.execute("MATCH (a:Account) RETURN count(a)").single() == 3


def test_no_non_repeatable_read(db):
    reader = db.begin()
    results = run_threads(
        [lambda: balance(reader), None, lambda: balance(reader)],
        [None, lambda: db.execute("MATCH (a:Account {id: 1}) SET a.balance = 7"), None],
    )
    assert results[0] == [100, None, 100]
    reader.commit()
    assert db.execute("MATCH (a:Account {id: 1}) RETURN a.balance").single() == 7


def test_no_phantom_read(db):
    reader = db.begin()
    results = run_threads(
        [lambda: reader.execute("MATCH (a:Account) RETURN count(a)").single(), None,
         lambda: reader.execute("MATCH (a:Account) RETURN count(a)").single()],
        [None, lambda: db.execute("CREATE (:Account {id: 9})"), None],
    )
    assert results[0] == [2, None, 2]
    reader.commit()


def test_deleted_node_stays_visible_to_older_snapshot(db):
    reader = db.begin()
    run_threads(
        [lambda: balance(reader), None, None],
        [None, lambda: db.execute("MATCH (a:Account {id: 1}) DETACH DELETE a"), None],
    )
    assert balance(reader) == 100
    reader.commit()
    assert db.execute("MATCH (a:Account {id: 1}) RETURN count(a)").single() == 0


def test_lost_update_impossible(db):
    """Both read 100 and add 10: the second writer must fail, not overwrite."""
    first, second = db.begin(), db.begin()
    set_balance = "MATCH (a:Account {id: 1}) SET a.balance = $b"

    def second_write():
        with pytest.raises(weftdb.SerializationError, match="another transaction"):
            second.execute(set_balance, {"b": seen[1] + 10})
        return "refused"

    seen = {}
    run_threads(
        [lambda: seen.__setitem__(0, balance(first)), lambda: first.execute(set_balance, {"b": seen[0] + 10}), first.commit, None],
        [lambda: seen.__setitem__(1, balance(second)), None, None, second_write],
    )
    assert second.closed  # a failed statement rolls its transaction back
    assert db.execute("MATCH (a:Account {id: 1}) RETURN a.balance").single() == 110


def test_write_write_conflict_with_open_transaction(db):
    first, second = db.begin(), db.begin()
    first.execute("MATCH (a:Account {id: 2}) SET a.balance = 1")
    with pytest.raises(weftdb.SerializationError):
        second.execute("MATCH (a:Account {id: 2}) SET a.balance = 2")
    first.commit()
    assert db.execute("MATCH (a:Account {id: 2}) RETURN a.balance").single() == 1


def test_conflict_after_abort_is_released(db):
    first = db.begin()
    first.execute("MATCH (a:Account {id: 2}) SET a.balance = 1")
    first.rollback()
    second = db.begin()
    second.execute("MATCH (a:Account {id: 2}) SET a.balance = 2")
    second.commit()
    assert db.execute("MATCH (a:Account {id: 2}) RETURN a.balance").single() == 2


def test_edge_to_node_being_deleted_conflicts(db):
    """One transaction attaches an edge while another deletes the endpoint."""
    attacher, deleter = db.begin(), db.begin()
    attacher.execute("MATCH (a:Account {id: 1}), (b:Account {id: 2}) CREATE (a)-[:PAYS]->(b)")
    with pytest.raises(weftdb.SerializationError):
        deleter.execute("MATCH (b:Account {id: 2}) DETACH DELETE b")
    attacher.commit()
    assert db.execute("MATCH ()-[r:PAYS]->() RETURN count(r)").single() == 1


def test_transaction_sees_its_own_writes(db):
    with db.transaction() as tx:
        tx.execute("MATCH (a:Account {id: 1}) SET a.balance = 5")
        assert balance(tx) == 5
        tx.execute("CREATE (:Account {id: 3, balance: 0})")
        assert tx.execute("MATCH (a:Account) RETURN count(a)").single() == 3


def test_rollback_undoes_everything(db):
    tx = db.begin()
    tx.execute("MATCH (a:Account {id: 1}) SET a.balance = 0, a:Frozen REMOVE a.id")
    tx.execute("CREATE (:Account {id: 3})-[:OWNS]->(:Card)")
    tx.execute("MATCH (a:Account {balance: 50}) DETACH DELETE a")
    tx.rollback()
    rows = db.execute("MATCH (a:Account) RETURN a.id, a.balance, labels(a) ORDER BY a.id").rows
    assert rows == [(1, 100, ["Account"]), (2, 50, ["Account"])]
    assert db.execute("MATCH (n) RETURN count(n)").single() == 2
    assert db.execute("MATCH ()-[r]->() RETURN count(r)").single() == 0


def test_context_manager_rolls_back_on_exception(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as tx:
            tx.execute("CREATE (:Account {id: 3})")
            raise RuntimeError("boom")
    assert db.execute("MATCH (a:Account) RETURN count(a)").single() == 2


def test_closed_transaction_refuses_work(db):
    tx = db.begin()
    tx.commit()
    with pytest.raises(weftdb.TransactionError):
        tx.execute("RETURN 1")
    with pytest.raises(weftdb.TransactionError):
        tx.commit()


def test_commit_timestamps_are_monotonic(db):
    storage = db.storage
    before = storage.last_commit_ts
    for i in range(5):
        db.execute("CREATE (:T {i: $i})", {"i": i})
    assert storage.last_commit_ts == before + 5
    assert storage.visible_ts == storage.last_commit_ts


def test_old_versions_are_garbage_collected(db):
    reader = db.begin()
    for value in range(10):
        db.execute("MATCH (a:Account {id: 1}) SET a.balance = $v", {"v": value})
    vertex = next(v for v in db.storage.vertices.values() if v.props.get("id") == 1)
    chain = 0
    delta = vertex.delta
    while delta is not None:
        chain += 1
        delta = delta.next
    assert chain == 10  # the reader pins every version since it started
    assert balance(reader) == 100
    reader.commit()
    assert vertex.delta is None  # nobody needs the old versions any more
    assert not db.storage._finished


def test_deleted_objects_are_removed_once_invisible(db):
    reader = db.begin()
    db.execute("MATCH (a:Account {id: 2}) DETACH DELETE a")
    assert len(db.storage.vertices) == 2  # still visible to the reader
    reader.commit()
    assert len(db.storage.vertices) == 1


def test_concurrent_increments_from_many_threads_lose_nothing(db):
    """Each thread retries on SerializationError; the final count is exact."""

    def work():
        for _ in range(20):
            while True:
                try:
                    db.execute("MATCH (a:Account {id: 2}) SET a.balance = a.balance + 1")
                    break
                except weftdb.SerializationError:
                    continue

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert db.execute("MATCH (a:Account {id: 2}) RETURN a.balance").single() == 50 + 8 * 20

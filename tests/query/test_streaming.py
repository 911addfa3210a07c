"""Results that stream: a read of more than STREAM_AFTER rows makes the rest as
they are asked for, from its own snapshot, and its transaction ends with the
stream (docs/transactions.md, "Results that stream")."""

import gc

import pytest

import weftdb
from weftdb.basics import storage_modes
from weftdb.query.executor import STREAM_AFTER

MANY = STREAM_AFTER * 3 + 7
READ = "MATCH (r:R) RETURN r.i AS i"


def filled(db):
    db.execute("UNWIND range(1, $n) AS i CREATE (:R {i: i})", {"n": MANY})
    return db


@pytest.fixture(params=[storage_modes.TRANSACTIONAL, storage_modes.ON_DISK])
def db(request, tmp_path):
    """A database of MANY :R nodes in each mode that streams (not the shared one
    of conftest.py: these tests leave transactions open on purpose)."""
    path = str(tmp_path) if request.param == storage_modes.ON_DISK else None
    with weftdb.open(path, storage_mode=request.param) as db:
        yield filled(db)


def open_transactions(db) -> int:
    """Open transactions other than the SHOW TRANSACTIONS that counts them."""
    return len(db.execute("SHOW TRANSACTIONS").rows) - 1


def test_a_read_of_few_rows_is_complete_and_ends_its_transaction(db):
    result = db.execute("MATCH (r:R) WHERE r.i <= $k RETURN r.i", {"k": STREAM_AFTER})
    assert not result.streaming and len(result) == STREAM_AFTER
    assert open_transactions(db) == 0


def test_a_read_of_many_rows_streams_and_its_transaction_ends_with_the_last_row(db):
    result = db.execute(READ)
    assert result.streaming
    assert open_transactions(db) == 1
    seen = [i for (i,) in result]
    assert sorted(seen) == list(range(1, MANY + 1))
    assert not result.streaming and open_transactions(db) == 0
    assert list(result) == [] and len(result) == 0  # read once, as a cursor


def test_a_stream_reads_the_snapshot_it_began_with(db):
    result = db.execute(READ)
    db.execute("CREATE (:R {i: 0})")
    db.execute("MATCH (r:R {i: $last}) DETACH DELETE r", {"last": MANY})
    assert sorted(i for (i,) in result) == list(range(1, MANY + 1))
    assert len(db.execute(READ)) == MANY  # one created, one deleted since


def test_rows_data_len_and_single_make_every_row_left(db):
    result = db.execute(READ)
    iterator = iter(result)
    first = [next(iterator) for _ in range(10)]
    rest = result.rows  # the rows iteration has not handed out
    assert len(rest) == MANY - 10 and not set(first) & set(rest)
    assert result.rows is rest and len(result) == MANY - 10
    assert open_transactions(db) == 0
    assert len(db.execute(READ).data()) == MANY
    with pytest.raises(ValueError, match=f"got {MANY} row"):
        db.execute(READ).single()


def test_close_and_dropping_a_result_end_its_transaction(db):
    result = db.execute(READ)
    next(iter(result))
    result.close()
    assert not result.streaming and open_transactions(db) == 0
    assert list(result) == []

    db.execute(READ)  # dropped unread
    gc.collect()
    assert open_transactions(db) == 0


def test_closing_the_database_ends_its_streams_and_reading_on_says_so(db):
    result, read_partway = db.execute(READ), db.execute(READ)
    next(iter(read_partway))
    db.close()
    for unread in (result, read_partway):
        assert not unread.streaming
        with pytest.raises(weftdb.ClientError, match="closed while this result streamed"):
            unread.rows
    with pytest.raises(weftdb.ClientError, match="closed while this result streamed"):
        list(read_partway)


def test_a_failure_while_streaming_raises_there_and_ends_the_transaction(db):
    result = db.execute("UNWIND range(1, $n) AS i RETURN 100 / (i - $n) AS x", {"n": MANY})
    assert result.streaming  # the first rows were fine
    with pytest.raises(weftdb.CypherArithmeticError):
        list(result)
    assert not result.streaming and open_transactions(db) == 0
    assert db.execute("RETURN 1").single() == 1


def test_terminate_stops_a_stream_at_its_next_rows(db):
    result = db.execute(READ)
    (number,) = [row[1] for row in db.execute("SHOW TRANSACTIONS").rows if row[2] == [READ]]
    db.execute("TERMINATE TRANSACTIONS $n", {"n": number})
    with pytest.raises(weftdb.Error, match="terminated|Terminated"):
        result.rows
    assert open_transactions(db) == 0


@pytest.mark.parametrize(
    "statement",
    [
        "MATCH (r:R) SET r.seen = true RETURN r.i",  # writes: all made before it returns
        "UNWIND range(1, $n) AS i CALL { WITH i RETURN i * 2 AS j } RETURN j",
        "CALL db.labels() YIELD label UNWIND range(1, $n) AS i RETURN label, i",  # calls a procedure
    ],
)
def test_statements_that_must_finish_do_not_stream(db, statement):
    result = db.execute(statement, {"n": MANY})
    assert len(result) >= MANY
    if "CALL {" not in statement:  # a subquery that only reads may stream
        assert not result.streaming
    assert open_transactions(db) == 0 or result.streaming


def test_an_explicit_transaction_s_results_are_complete(db):
    with db.transaction() as tx:
        result = tx.execute(READ)
        assert not result.streaming and len(result) == MANY


def test_nothing_streams_in_the_analytical_mode():
    with weftdb.open(storage_mode=storage_modes.ANALYTICAL) as db:
        result = filled(db).execute(READ)
        assert not result.streaming and len(result) == MANY
        db.execute("STORAGE MODE IN_MEMORY_TRANSACTIONAL")  # no transaction is left open to refuse it

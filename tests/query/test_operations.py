"""The operations statements, embedded: SHOW VERSION, BUILD INFO, CONFIG,
STORAGE INFO, DATABASE(S), TRIGGERS, STREAMS, TRANSACTIONS and TERMINATE
TRANSACTIONS (query/operations.py, query/running.py)."""

import threading
import time

import pytest

import weftdb
from weftdb.basics import identity
from weftdb.basics.config import FLAGS
from weftdb.query.running import Client, Running

LONG = "UNWIND range(1, 100000000) AS i WITH i WHERE i < 0 RETURN count(i)"


@pytest.fixture
def db():
    db = weftdb.open()
    yield db
    db.close()


def table(db, query, params=None):
    result = db.execute(query, params)
    return result.columns, result.rows


def test_version_and_build_info(db):
    assert table(db, "SHOW VERSION") == (["version"], [(identity.VERSION,)])
    columns, rows = table(db, "SHOW BUILD INFO")
    assert columns == ["build info", "value"] and rows[0] == ("build_type", "Release")


def test_config_lists_every_flag_as_memgraph_does(db):
    columns, rows = table(db, "SHOW CONFIG")
    assert columns == ["name", "default_value", "current_value", "description"]
    assert [row[0] for row in rows] == [flag.attr for flag in FLAGS]
    by_name = {row[0]: row for row in rows}
    assert by_name["bolt_port"][1:3] == ("7687", "7687")
    assert by_name["storage_wal_enabled"][1] == "true"


def test_config_shows_the_current_value():
    with weftdb.open(query_execution_timeout_sec=5) as db:
        row = next(r for r in db.execute("SHOW CONFIG").rows if r[0] == "query_execution_timeout_sec")
        assert row[1:3] == ("600.0", "5.0")


def test_storage_info_has_memgraphs_rows_in_order_then_weftdbs(tmp_path):
    with weftdb.open(str(tmp_path / "data")) as db:
        db.execute("CREATE (:A)-[:R]->(:B)")
        columns, rows = table(db, "SHOW STORAGE INFO")
    assert columns == ["storage info", "value"]
    names = [name for name, _ in rows]
    assert names[:15] == ["name", "vertex_count", "edge_count", "average_degree", "vm_max_map_count", "memory_res",
                          "peak_memory_res", "unreleased_delta_objects", "disk_usage", "memory_tracked",
                          "allocation_limit", "global_isolation_level", "session_isolation_level",
                          "next_session_isolation_level", "storage_mode"]
    info = dict(rows)
    assert (info["name"], info["vertex_count"], info["edge_count"], info["average_degree"]) == ("weftdb", 2, 1, 1.0)
    assert info["memory_res"].endswith("iB") and info["disk_usage"].endswith("B") and info["disk_usage"] != "0.00B"
    assert info["storage_mode"] == "IN_MEMORY_TRANSACTIONAL"
    assert {"last_commit_timestamp", "wal_segments", "data_directory"} <= set(names[15:])


def test_databases_in_both_dialects(db):
    columns, rows = table(db, "SHOW DATABASES")
    assert columns[:3] == ["name", "type", "aliases"] and len(columns) == 13
    row = dict(zip(columns, rows[0]))
    assert row["name"] == "weftdb" and set(row["aliases"]) == {"neo4j", "memgraph"}
    assert row["default"] is True and row["currentStatus"] == "online"
    assert table(db, "SHOW DATABASE") == (["Current"], [("weftdb",)])
    assert len(table(db, "SHOW DATABASE neo4j")[1]) == 1
    assert table(db, "SHOW DATABASE `elsewhere`")[1] == []
    columns, rows = table(db, "SHOW DEFAULT DATABASE")
    assert "default" not in columns and rows[0][0] == "weftdb"
    assert table(db, "SHOW HOME DATABASE")[1][0][0] == "weftdb"


def test_triggers_and_streams_are_empty_with_memgraphs_columns(db):
    assert table(db, "SHOW TRIGGERS") == (["trigger name", "statement", "privilege context", "event type", "phase",
                                           "owner"], [])
    assert table(db, "SHOW STREAMS")[1] == []


def test_show_transactions_lists_open_ones_with_their_statements(db):
    tx = db.begin()
    tx.execute("CREATE (:Idle)")
    tx.execute("RETURN 1")
    columns, rows = table(db, "SHOW TRANSACTIONS")
    assert columns == ["username", "transaction_id", "query", "metadata"]
    mine = [row for row in rows if row[2] == ["CREATE (:Idle)", "RETURN 1"]]
    assert len(mine) == 1 and mine[0][0] == "" and mine[0][3] == {}
    assert any(row[2] == ["SHOW TRANSACTIONS"] for row in rows)  # the statement asking, as in Memgraph
    tx.commit()
    assert not any("CREATE (:Idle)" in row[2] for row in table(db, "SHOW TRANSACTIONS")[1])
    assert all(row[2] == ["SHOW RUNNING TRANSACTIONS"] for row in table(db, "SHOW RUNNING TRANSACTIONS")[1])


def test_neo4j_form_of_show_transactions(db):
    tx = db.begin()
    tx.execute("RETURN 1")
    number = next(r[1] for r in db.execute("SHOW TRANSACTIONS").rows if r[2] == ["RETURN 1"])
    columns, rows = table(db, f"SHOW TRANSACTIONS 'weftdb-transaction-{number}'")
    assert columns[:3] == ["database", "transactionId", "currentQueryId"]
    row = dict(zip(columns, rows[0]))
    assert row["transactionId"] == f"weftdb-transaction-{number}" and row["status"] == "Idle"
    assert row["startTime"].tzinfo is not None and row["elapsedTime"].seconds >= 0
    assert table(db, "SHOW TRANSACTION $id", {"id": f"neo4j-transaction-{number}"})[1][0][1] == row["transactionId"]
    tx.rollback()


def test_terminate_an_idle_transaction_rolls_it_back(db):
    tx = db.begin()
    tx.execute("CREATE (:Idle)")
    number = next(r[1] for r in db.execute("SHOW TRANSACTIONS").rows if r[2] == ["CREATE (:Idle)"])
    assert table(db, "TERMINATE TRANSACTIONS $id, '999999'", {"id": number}) == (
        ["transaction_id", "killed"], [(number, True), ("999999", False)])
    assert tx.closed  # rolled back at once: it holds nothing while its owner is away
    assert not any(r[1] == number for r in db.execute("SHOW TRANSACTIONS").rows)
    with pytest.raises(weftdb.TransientError, match="terminated by TERMINATE TRANSACTIONS"):
        tx.execute("RETURN 1")
    with pytest.raises(weftdb.TransientError, match="terminated"):
        tx.commit()
    assert db.execute("MATCH (n:Idle) RETURN count(n)").single() == 0
    assert db.execute("CREATE (:Idle) RETURN 1").single() == 1  # nothing was left locked


def run_in_thread(function):
    outcome = {}

    def target():
        try:
            outcome["value"] = function()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def wait_for(db, text):
    for _ in range(200):
        rows = [r for r in db.execute("SHOW TRANSACTIONS").rows if r[2] and text in r[2][-1]]
        if rows:
            return rows[0][1]
        time.sleep(0.01)
    raise AssertionError(f"{text!r} never listed")


@pytest.mark.parametrize("explicit", [False, True])
def test_terminate_a_running_statement(db, explicit):
    tx = db.begin() if explicit else None
    thread, outcome = run_in_thread(lambda: (tx or db).execute(LONG))
    number = wait_for(db, "UNWIND range")
    started = time.monotonic()
    columns, rows = table(db, f"TERMINATE TRANSACTIONS 'weftdb-transaction-{number}'")
    assert columns == ["transactionId", "username", "message"]  # Neo4j's ids get Neo4j's answer
    assert rows == [(f"weftdb-transaction-{number}", "", "Transaction terminated.")]
    thread.join(10)
    assert time.monotonic() - started < 5
    assert "terminated by TERMINATE TRANSACTIONS" in str(outcome["error"])
    if explicit:
        assert tx.closed
        tx.rollback()
    assert not any(r[1] == number for r in db.execute("SHOW TRANSACTIONS").rows)


def test_a_statement_does_not_terminate_itself_and_bad_ids_say_why(db):
    (row,) = db.execute("SHOW TRANSACTIONS").rows
    with pytest.raises(weftdb.ClientError, match="is not a transaction id"):
        db.execute("TERMINATE TRANSACTIONS 'seven'")
    with pytest.raises(weftdb.ClientError, match="transaction id is a string"):
        db.execute("TERMINATE TRANSACTIONS $ids", {"ids": [7]})
    # Every statement is numbered as it starts: this TERMINATE names itself, which is not killed.
    own = int(row[1]) + 3
    assert db.execute(f"TERMINATE TRANSACTIONS '{own}'").rows == [(str(own), False)]


def test_visibility_rule():
    registry = Running()
    ann, bob = Client("ann", "bolt-1"), Client("bob", "bolt-2")
    a, b = registry.begin(ann), registry.begin(bob)
    assert registry.visible_to(ann, users_defined=False) == [a, b]  # no users: everyone sees everything
    assert registry.visible_to(ann, users_defined=True) == [a]
    assert registry.visible_to(Client(), users_defined=True) == [a, b]  # the embedded API owns the database
    assert registry.terminate([b.id], ann, users_defined=True) == [(b.id, None, False)]
    assert registry.terminate([b.id], bob, users_defined=True) == [(b.id, b, True)]


def test_neo4j_forms_with_yield_and_where(db):
    tx = db.begin()
    tx.execute("RETURN 'idle one'")
    rows = db.execute("SHOW TRANSACTIONS YIELD transactionId, status, protocol WHERE status = 'Idle'").rows
    assert len(rows) == 1 and rows[0][1:] == ("Idle", "embedded")
    every = db.execute("SHOW TRANSACTIONS YIELD *")
    assert every.columns[:10] == ["database", "transactionId", "currentQueryId", "connectionId", "clientAddress",
                                  "username", "currentQuery", "startTime", "status", "elapsedTime"]
    assert "metaData" in every.columns and len(every.rows) == 2
    (running,) = db.execute("SHOW TRANSACTIONS WHERE status = 'Running'").rows
    assert running[6] == "SHOW TRANSACTIONS WHERE status = 'Running'"
    assert db.execute("SHOW TRANSACTIONS $ids YIELD transactionId RETURN count(*) AS n",
                      {"ids": [rows[0][0]]}).single() == 1
    assert db.execute("SHOW DATABASES YIELD name, aliases WHERE 'neo4j' IN aliases").rows == [
        ("weftdb", ["memgraph", "neo4j"])]
    assert db.execute("SHOW DATABASE elsewhere YIELD name").rows == []
    assert db.execute("SHOW DEFAULT DATABASE YIELD name").rows == [("weftdb",)]
    tx.rollback()

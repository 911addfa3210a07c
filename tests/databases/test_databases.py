"""Several databases in one data directory, embedded: the statements, isolation, restarts, names."""

import os

import pytest

import weftdb
from weftdb.basics.errors import (
    AccessModeError,
    ClientError,
    DatabaseNotFound,
    DatabaseUnavailable,
    ExistingDatabaseFound,
    ForbiddenInTransaction,
    QueryInterrupted,
)


def names(db) -> list[str]:
    return [row[0] for row in db.execute("SHOW DATABASES YIELD name").rows]


def count(db, label="N") -> int:
    return db.execute(f"MATCH (n:{label}) RETURN count(n)").single()


def test_create_show_use_and_drop_through_both_dialects(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        assert db.execute("CREATE DATABASE Sales").single() == "Created database sales"
        assert db.execute("CREATE DATABASE sales IF NOT EXISTS").single() == "Database sales exists already"
        with pytest.raises(ExistingDatabaseFound):
            db.execute("CREATE DATABASE SALES")
        db.execute("CREATE DATABASE `hr.v2-test`")
        assert names(db) == ["weftdb", "hr.v2-test", "sales"]
        rows = {r[0]: r[1:] for r in db.execute("SHOW DATABASES YIELD name, currentStatus, default, aliases").rows}
        assert rows["weftdb"] == ("online", True, ["memgraph", "neo4j"]) and rows["sales"] == ("online", False, [])
        assert db.execute("SHOW DATABASE sales YIELD name").rows == [("sales",)]
        assert db.execute("SHOW DEFAULT DATABASE YIELD name").rows == [("weftdb",)]
        assert db.database("SALES").execute("SHOW DATABASE").single() == "sales"
        assert db.database("neo4j") is db and db.database("memgraph") is db and db.database("system") is db
        assert db.execute("DROP DATABASE sales").single() == "Dropped database sales"
        assert db.execute("DROP DATABASE sales IF EXISTS").single() == "Database sales does not exist"
        with pytest.raises(DatabaseNotFound, match="'sales' does not exist"):
            db.execute("DROP DATABASE sales")
        with pytest.raises(DatabaseNotFound):
            db.database("sales")
        assert names(db) == ["weftdb", "hr.v2-test"]
        assert not os.path.exists(tmp_path / "databases" / "sales")
        assert [n for n in os.listdir(tmp_path / "databases") if n.startswith(".")] == []


def test_nothing_crosses_databases_queries_indexes_constraints_wal_and_snapshots(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        db.execute("CREATE DATABASE a")
        db.execute("CREATE DATABASE b")
        a, b = db.database("a"), db.database("b")
        a.execute("CREATE CONSTRAINT ON (n:N) ASSERT n.k IS UNIQUE")
        b.execute("CREATE INDEX ON :N(k)")
        a.execute("UNWIND range(1, 5) AS k CREATE (:N {k: k, in: 'a'})")
        b.execute("UNWIND range(1, 3) AS k CREATE (:N {k: k, in: 'b'})")
        b.execute("CREATE (:N {k: 1, in: 'b'})")  # b has no constraint
        with pytest.raises(ClientError):
            a.execute("CREATE (:N {k: 1})")
        db.execute("CREATE (:M)")
        assert (count(a), count(b), count(db), count(db, "M")) == (5, 4, 0, 1)
        assert a.execute("MATCH (n) RETURN collect(DISTINCT n.in)").single() == ["a"]
        assert [r[0] for r in a.execute("SHOW CONSTRAINT INFO").rows] == ["unique"]
        assert b.execute("SHOW CONSTRAINT INFO").rows == [] and a.execute("SHOW INDEX INFO").rows == []
        assert [r[1] for r in b.execute("SHOW INDEX INFO").rows] == ["N"]
        b.execute("CREATE SNAPSHOT")
        assert len(b.execute("SHOW SNAPSHOTS").rows) == 1 and db.execute("SHOW SNAPSHOTS").rows == []
        assert a.execute("SHOW STORAGE INFO").rows[0] == ("name", "a")
        assert dict(a.execute("SHOW STORAGE INFO").rows)["data_directory"] == str(tmp_path / "databases" / "a")
    # each recovers its own: b from its snapshot, a from its WAL
    with weftdb.open(str(tmp_path)) as db:
        a, b = db.database("a"), db.database("b")
        assert (count(a), count(b), count(db), count(db, "M")) == (5, 4, 0, 1)
        with pytest.raises(ClientError):
            a.execute("CREATE (:N {k: 2})")
        assert b.execute("MATCH (n:N {k: 1}) RETURN count(n)").single() == 2


def test_stop_and_start_persist_and_a_stopped_database_is_not_served(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        db.execute("CREATE DATABASE s")
        db.database("s").execute("CREATE (:N)")
        db.execute("STOP DATABASE s")
        assert db.execute("STOP DATABASE s").single() == "Database s is stopped already"
        with pytest.raises(DatabaseUnavailable, match="stopped"):
            db.database("s")
    with weftdb.open(str(tmp_path)) as db:
        assert db.execute("SHOW DATABASES YIELD name, requestedStatus, currentStatus").rows[1] == \
            ("s", "offline", "offline")
        with pytest.raises(ExistingDatabaseFound):
            db.execute("CREATE DATABASE s")
        db.execute("START DATABASE s")
        assert count(db.database("s")) == 1
    with weftdb.open(str(tmp_path)) as db:
        assert count(db.database("s")) == 1
        db.execute("STOP DATABASE s")
        db.execute("DROP DATABASE s")  # a stopped database may be dropped
        assert names(db) == ["weftdb"]


def test_what_a_database_statement_refuses(tmp_path):
    with weftdb.open(str(tmp_path), max_databases=3) as db:
        db.execute("CREATE DATABASE x")
        x = db.database("x")
        with pytest.raises(ClientError, match="runs in it"):
            x.execute("DROP DATABASE x")
        tx = x.begin()
        with pytest.raises(ClientError, match="1 transaction"):
            db.execute("STOP DATABASE x")
        tx.rollback()
        for name in ("weftdb", "neo4j", "memgraph", "system"):
            with pytest.raises(ClientError, match="default database"):
                db.execute(f"DROP DATABASE {name}")
            with pytest.raises(ExistingDatabaseFound):
                db.execute(f"CREATE DATABASE {name}")
        with db.transaction() as tx, pytest.raises(ForbiddenInTransaction, match="belongs to one database"):
            tx.execute("USE DATABASE x")
        with pytest.raises(AccessModeError):
            db.execute("CREATE DATABASE y", read_only=True)
        with pytest.raises(ClientError, match="USE DATABASE chooses a Bolt session"):
            db.execute("USE DATABASE x")
        db.execute("CREATE DATABASE y")
        with pytest.raises(ClientError, match="--max-databases=3"):
            db.execute("CREATE DATABASE z")
        assert names(db) == ["weftdb", "x", "y"]
        db.execute("DROP DATABASE x")
        x_handle_error = pytest.raises(ClientError, match="closed")
        with x_handle_error:
            x.execute("RETURN 1")


@pytest.mark.parametrize("hostile", [
    "..", "../etc", "a/b", "/abs", "", " ", ".hidden", "-dash", "1digit", "a b", "a\x00b", "a\\b", "é", "a" * 64,
    "$x", "a:b", "CON/..", ".dropped-x-1", "x.tmp/",
])
def test_hostile_names_are_refused_and_make_nothing(tmp_path, hostile):
    with weftdb.open(str(tmp_path)) as db:
        with pytest.raises(ClientError, match="not a valid database name|non-empty"):
            db.execute("CREATE DATABASE '" + hostile.replace("\\", "\\\\").replace("'", "\\'") + "'")
        if hostile:  # "" is the drivers' "the default database"
            with pytest.raises(DatabaseNotFound):
                db.database(hostile)
        assert names(db) == ["weftdb"]
    listed = os.listdir(tmp_path / "databases") if os.path.exists(tmp_path / "databases") else []
    assert listed == [] and sorted(os.listdir(tmp_path)) == [".lock", "snapshots", "wal"]


def test_a_name_in_any_case_and_the_longest_allowed(tmp_path):
    longest = "a" + "b" * 62
    with weftdb.open(str(tmp_path)) as db:
        db.execute(f"CREATE DATABASE {longest.upper()}")
        assert db.database(longest).name == longest and os.path.isdir(tmp_path / "databases" / longest)


def test_databases_kept_in_memory_only(tmp_path):
    with weftdb.open() as db:
        db.execute("CREATE DATABASE scratch")
        db.database("scratch").execute("CREATE (:N), (:N)")
        assert count(db.database("scratch")) == 2 and count(db) == 0
        with pytest.raises(ClientError, match="in memory only"):
            db.execute("STOP DATABASE scratch")
        db.execute("DROP DATABASE scratch")
        assert names(db) == ["weftdb"]


def test_transactions_and_their_ids_belong_to_their_database(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        db.execute("CREATE DATABASE t")
        t = db.database("t")
        tx = t.begin()
        tx.execute("CREATE (:N)")
        rows = t.execute("SHOW TRANSACTIONS YIELD database, transactionId").rows
        assert {r[0] for r in rows} == {"t"} and any(r[1].startswith("t-transaction-") for r in rows)
        assert db.execute("SHOW TRANSACTIONS YIELD database").rows == [("weftdb",)]  # only the asking statement
        opened = min((r[1] for r in rows), key=lambda text: int(text.rsplit("-", 1)[1]))  # begun before the asking one
        assert db.execute(f"TERMINATE TRANSACTIONS '{opened}'").rows == [(opened, None, "Transaction not found.")]
        assert t.execute(f"TERMINATE TRANSACTIONS '{opened}'").rows[0][2] == "Transaction terminated."
        with pytest.raises(QueryInterrupted):
            tx.commit()
        assert count(t) == 0


def test_open_names_a_database_and_closing_it_closes_them_all(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        db.execute("CREATE DATABASE side")
    side = weftdb.open(str(tmp_path), database="side")
    side.execute("CREATE (:N)")
    assert side.name == "side" and count(side) == 1
    side.close()
    with weftdb.open(str(tmp_path)) as db:  # the directory's lock was released with it
        assert count(db.database("side")) == 1 and count(db) == 0
    with pytest.raises(DatabaseNotFound):
        weftdb.open(str(tmp_path), database="absent")
    with weftdb.open(str(tmp_path), database="neo4j") as db:
        assert db.name == "weftdb"


def test_lock_checkpoint_and_retention_belong_to_each_database(tmp_path):
    with weftdb.open(str(tmp_path), storage_snapshot_retention_count=1) as db:
        db.execute("CREATE DATABASE a")
        a = db.database("a")
        a.execute("LOCK DATA DIRECTORY")
        assert a.execute("DATA DIRECTORY LOCK STATUS").single() == "Data directory is locked."
        assert db.execute("DATA DIRECTORY LOCK STATUS").single() == "Data directory is unlocked."
        for k in range(3):  # a holds its old snapshots while locked; the default one keeps one
            a.execute("CREATE (:N {k: $k})", {"k": k})
            a.execute("CREATE SNAPSHOT")
            db.execute("CREATE (:N {k: $k})", {"k": k})
            db.execute("CREATE SNAPSHOT")
        assert len(a.execute("SHOW SNAPSHOTS").rows) == 3 and len(db.execute("SHOW SNAPSHOTS").rows) == 1
        a.execute("UNLOCK DATA DIRECTORY")
        a.execute("CHECKPOINT CREATE")
        assert os.path.exists(tmp_path / "databases" / "a" / "checkpoint.json")
        assert not os.path.exists(tmp_path / "checkpoint.json")
        assert db.execute("CHECKPOINT STATUS").rows != a.execute("CHECKPOINT STATUS").rows
        a.execute("CHECKPOINT RELEASE")
        dumped = a.execute("DUMP DATABASE").rows
        assert len([r for r in dumped if "CREATE (" in r[0]]) == 3


def test_users_of_an_earlier_users_file_may_use_every_database(tmp_path):
    import json

    with weftdb.open(str(tmp_path)) as db:
        db.execute("CREATE DATABASE sales")
        db.users.create("old", "pw")
        db.users.create("new", "pw")
    path = tmp_path / "auth" / "users.json"
    document = json.loads(path.read_text())
    document["version"] = 1  # as an earlier version wrote it: no databases, no main
    for record in document["users"].values():
        record.pop("databases", None)
    path.write_text(json.dumps(document))
    with weftdb.open(str(tmp_path)) as db:
        assert db.users.may_use_all("old") and db.users.may_use_all("new")
        assert db.database("sales", user="new").name == "sales"
        db.execute("REVOKE DATABASE * FROM new")
        with pytest.raises(DatabaseNotFound):
            db.database("sales", user="new")
    assert json.loads(path.read_text())["version"] == 2

"""Backups of one database, of every database, and restores of each: into a
stopped directory or into a running server's (STOP, restore, START)."""

from click.testing import CliRunner

import weftdb
from weftdb.backup.client import BackupError, backup, databases
from weftdb.backup.service import BackupService
from weftdb.cli.main import main

QUIET = {"storage_snapshot_interval_sec": 0}


def dump_of(db):
    return sorted(row[0] for row in db.execute("DUMP DATABASE").rows)


def serve(path):
    db = weftdb.open(str(path), **QUIET)
    for name, rows in (("sales", 3), ("hr", 2)):
        db.execute(f"CREATE DATABASE {name}")
        db.database(name).execute("UNWIND range(1, $n) AS k CREATE (:N {k: k, in: $name})", {"n": rows, "name": name})
    db.execute("CREATE (:Top)")
    return db, BackupService(db, "127.0.0.1", 0).start()


def cli(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_one_database_backed_up_incrementally_and_restored_on_its_own(tmp_path):
    db, service = serve(tmp_path / "server")
    try:
        source = f"127.0.0.1:{service.port}"
        first = backup(source, str(tmp_path / "b"), database="sales")
        assert first.kind == "full"
        db.database("sales").execute("CREATE (:N {k: 4, in: 'sales'})")
        db.database("hr").execute("CREATE (:N {k: 9, in: 'hr'})")  # not in the sales backup
        assert backup(source, str(tmp_path / "b"), database="sales").kind == "incremental"
        expected = dump_of(db.database("sales"))
    finally:
        service.stop()
        db.close()
    cli("restore", "--from", str(tmp_path / "b"), "--to", str(tmp_path / "alone"))
    with weftdb.open(str(tmp_path / "alone")) as restored:  # as a data directory of its own
        assert dump_of(restored) == expected
    cli("restore", "--from", str(tmp_path / "b"), "--to", str(tmp_path / "other"), "--database", "Sales")
    with weftdb.open(str(tmp_path / "other")) as restored:  # as a database of another directory
        assert dump_of(restored.database("sales")) == expected and dump_of(restored) == []


def test_every_database_each_at_its_own_point_and_all_restored(tmp_path):
    db, service = serve(tmp_path / "server")
    try:
        source = f"127.0.0.1:{service.port}"
        assert databases(source) == ["weftdb", "hr", "sales"]
        output = cli("backup", "--from", source, "--to", str(tmp_path / "all"), "--all-databases")
        assert [line.split(":")[0] for line in output.splitlines() if line.startswith(("weftdb:", "hr:", "sales:"))] \
            == ["weftdb", "hr", "sales"]
        expected = {name: dump_of(db.database(name)) for name in ("weftdb", "hr", "sales")}
    finally:
        service.stop()
        db.close()
    checked = cli("verify", str(tmp_path / "all"))
    assert [line for line in checked.splitlines() if line.startswith("== ")] == ["== weftdb", "== hr", "== sales"]
    assert cli("verify", str(tmp_path / "all"), "--database", "hr").count("== ") == 1
    refused = CliRunner().invoke(main, ["backup", "inspect", str(tmp_path / "all")])
    assert refused.exit_code == 1 and "holds a backup of each of weftdb, hr, sales" in refused.output
    assert "full" in cli("backup", "inspect", str(tmp_path / "all"), "--database", "HR")
    cli("restore", "--from", str(tmp_path / "all"), "--to", str(tmp_path / "copy"), "--all-databases")
    with weftdb.open(str(tmp_path / "copy")) as restored:
        assert [r[0] for r in restored.execute("SHOW DATABASES YIELD name").rows] == ["weftdb", "hr", "sales"]
        assert {name: dump_of(restored.database(name)) for name in expected} == expected


def test_a_user_backs_up_only_the_databases_they_may_use(tmp_path):
    db, service = serve(tmp_path / "server")
    try:
        db.users.create("admin", "pw")
        db.users.create("alice", "pw")
        db.execute("GRANT DATABASE sales TO alice")
        source = f"127.0.0.1:{service.port}"
        assert databases(source, "alice", "pw") == ["weftdb", "sales"]
        assert databases(source, "admin", "pw") == ["weftdb", "hr", "sales"]
        refusals = []
        for name in ("hr", "nowhere"):
            try:
                backup(source, str(tmp_path / name), user="alice", password="pw", database=name)
            except BackupError as exc:
                refusals.append(str(exc).replace(name, "?"))
        assert len(refusals) == 2 and refusals[0] == refusals[1] and "does not exist" in refusals[0]
        assert backup(source, str(tmp_path / "s"), user="alice", password="pw", database="sales").kind == "full"
    finally:
        service.stop()
        db.close()


def test_restore_into_a_running_server_between_stop_and_start(tmp_path):
    db, service = serve(tmp_path / "server")
    try:
        source = f"127.0.0.1:{service.port}"
        backup(source, str(tmp_path / "b"), database="sales")
        db.database("sales").execute("MATCH (n) DETACH DELETE n")  # the mistake the backup undoes
        db.execute("STOP DATABASE sales")
        root = str(tmp_path / "server")
        cli("restore", "--from", str(tmp_path / "b"), "--to", root, "--database", "sales", "--overwrite")
        cli("restore", "--from", str(tmp_path / "b"), "--to", root, "--database", "copy")  # new to the server
        db.execute("START DATABASE sales")
        db.execute("START DATABASE copy")
        for name in ("sales", "copy"):
            assert db.database(name).execute("MATCH (n:N) RETURN count(n)").single() == 3
        assert db.database("hr").execute("MATCH (n:N) RETURN count(n)").single() == 2  # untouched
    finally:
        service.stop()
        db.close()

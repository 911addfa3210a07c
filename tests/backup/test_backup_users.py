"""Users go with every backup and restore (issue 12, item 1): a restored server
asks for the credentials its source did; an incremental carries the users file
when it changed; a point-in-time restore gets the users as of that point."""

import os

import neo4j
import pytest
from conftest import Source
from neo4j.exceptions import AuthError as DriverAuthError

import weftdb
from weftdb.backup.aggregate import aggregate
from weftdb.backup.client import backup
from weftdb.backup.manifest import Manifest
from weftdb.backup.restore import restore
from weftdb.backup.target import LocalTarget
from weftdb.backup.verify import verify_backup
from weftdb.basics.config import Config
from weftdb.basics.errors import AuthError
from weftdb.durability.users import UserStore
from weftdb.server.bolt.client import BoltClient
from weftdb.server.server import ServerThread

KEY = bytes(range(32))


def test_a_restored_server_refuses_a_client_without_the_sources_password(tmp_path):
    src = Source(str(tmp_path / "source"))
    try:
        src.db.execute("UNWIND range(1, 5) AS i CREATE (:Secret {i: i})")
        src.db.execute("CREATE USER admin IDENTIFIED BY 'right'")
        backup(src.address, str(tmp_path / "backup"), user="admin", password="right")
    finally:
        src.close()
    stored = [os.path.join(r, n) for r, _, names in os.walk(tmp_path / "backup" / "auth") for n in names]
    assert len(stored) == 1 and oct(os.stat(stored[0]).st_mode & 0o777) == "0o600"  # hashes: the owner's only
    restore(str(tmp_path / "backup"), str(tmp_path / "restored"))
    db = weftdb.open(str(tmp_path / "restored"), storage_snapshot_interval_sec=0)
    server = ServerThread(db, Config.load({"bolt_port": 0, "bolt_address": "127.0.0.1"})).start()
    try:
        with pytest.raises(AuthError):
            BoltClient("127.0.0.1", server.port)
        with pytest.raises(AuthError):
            BoltClient("127.0.0.1", server.port, "admin", "wrong")
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
            with pytest.raises(DriverAuthError):
                driver.execute_query("MATCH (s:Secret) RETURN count(s)")
        client = BoltClient("127.0.0.1", server.port, "admin", "right")
        assert client.run("MATCH (s:Secret) RETURN count(s)").rows == [(5,)]
        client.close()
    finally:
        server.stop()
        db.close()


def _users(path):
    store = UserStore(path)
    return set(store.users()), store


def test_an_incremental_carries_the_users_when_they_changed_and_a_point_in_time_gets_them_as_of_then(source, tmp_path):
    db, to = source.db, str(tmp_path / "backup")

    def backup_as(password):
        return backup(source.address, to, user="ann", password=password)

    db.execute("CREATE USER ann IDENTIFIED BY 'first'")
    db.execute("CREATE (:N {k: 0})")
    backup_as("first")
    db.execute("CREATE (:N {k: 1})")
    backup_as("first")  # users unchanged: not carried again
    db.execute("CREATE USER bob IDENTIFIED BY 'bobs'")
    db.execute("SET PASSWORD FOR ann TO 'second'")
    db.execute("CREATE (:N {k: 2})")
    backup_as("second")
    db.execute("CREATE (:N {k: 3})")
    db.execute("DROP USER bob")
    backup_as("second")
    db.execute("SET PASSWORD FOR ann TO 'third'")
    backup_as("third")  # only the users changed: an incremental without transactions
    manifest = Manifest.load(LocalTarget(to))
    assert [a.users is not None for a in manifest.artifacts] == [True, False, True, True, True]
    assert [a.records for a in manifest.artifacts][1:] == [1, 1, 1, 0]

    def restored_users(name, until=None):
        restore(to, str(tmp_path / name), until=until)
        return _users(str(tmp_path / name))

    names, store = restored_users("end")
    assert names == {"ann"} and store.verify("ann", "third") and not store.verify("ann", "second")
    names, store = restored_users("after-1", until=str(manifest.artifacts[1].last_ts + 1))
    assert names == {"ann"} and store.verify("ann", "first")  # backup 1 carried none: backup 0's
    names, store = restored_users("after-2", until=str(manifest.artifacts[2].last_ts + 1))
    assert names == {"ann", "bob"} and store.verify("bob", "bobs") and store.verify("ann", "second")
    names, store = restored_users("after-3", until=str(manifest.artifacts[3].last_ts + 1))
    assert names == {"ann"} and store.verify("ann", "third")  # backups 3 and 4 end at the same commit: the newer
    assert verify_backup(to).ok


def test_a_restore_over_a_data_directory_replaces_its_users(source, tmp_path):
    source.db.execute("CREATE (:N)")
    backup(source.address, str(tmp_path / "backup"))  # a source without users: anyone may log in
    target = str(tmp_path / "target")
    with weftdb.open(target) as old:
        old.execute("CREATE USER stale IDENTIFIED BY 'x'")
    restore(str(tmp_path / "backup"), target, overwrite=True)
    assert _users(target)[0] == set()


def test_sealed_backups_and_aggregate_keep_the_users(source, tmp_path):
    db, to = source.db, str(tmp_path / "backup")
    db.execute("CREATE USER ann IDENTIFIED BY 'pw'")
    login = {"user": "ann", "password": "pw", "compress": True, "key": KEY}
    db.execute("CREATE (:N)")
    backup(source.address, to, **login)
    db.execute("CREATE USER bob IDENTIFIED BY 'pw2'")
    db.execute("CREATE (:N)")
    backup(source.address, to, **login)
    assert verify_backup(to, KEY).ok
    aggregate(to, KEY)
    manifest = Manifest.load(LocalTarget(to))
    assert len(manifest.artifacts) == 1 and manifest.artifacts[0].users.name.endswith(".json.zst.enc")
    assert verify_backup(to, KEY).ok
    restore(to, str(tmp_path / "restored"), key=KEY)
    names, store = _users(str(tmp_path / "restored"))
    assert names == {"ann", "bob"} and store.verify("bob", "pw2")

"""Users: the scrypt store on disk, and the server refusing bad logins from both clients."""

import json
import os
import time

import mgclient
import neo4j
import pytest
from bolt_servers import start
from neo4j.exceptions import AuthError
from serverproc import ServerProcess

import weftdb
from weftdb.basics.errors import ClientError, DatabaseError
from weftdb.durability.users import UnknownUser, UserError, UserExists, UserStore


def test_store_persists_hashes_only(tmp_path):
    store = UserStore(str(tmp_path))
    assert not store.has_users
    store.create("ann", "s3cret")
    store.create("bob", "")
    assert store.users() == ["ann", "bob"] and store.has_users
    text = (tmp_path / "auth" / "users.json").read_text()
    assert "s3cret" not in text and json.loads(text)["version"] == 2
    assert oct(os.stat(tmp_path / "auth" / "users.json").st_mode & 0o777) == "0o600"
    reopened = UserStore(str(tmp_path))
    assert reopened.verify("ann", "s3cret") and not reopened.verify("ann", "S3cret")
    assert not reopened.verify("nobody", "s3cret") and reopened.verify("bob", "")
    reopened.set_password("ann", "new")
    reopened.drop("bob")
    again = UserStore(str(tmp_path))
    assert again.users() == ["ann"] and again.verify("ann", "new")
    assert not os.path.exists(tmp_path / "auth" / "users.json.tmp")


def test_store_errors_are_client_errors():
    store = UserStore(None)
    store.create("ann", "pw")
    for call, error in [
        (lambda: store.create("ann", "x"), UserExists),
        (lambda: store.drop("zed"), UnknownUser),
        (lambda: store.set_password("zed", "x"), UnknownUser),
        (lambda: store.create("", "x"), UserError),
        (lambda: store.create("a b", "x"), UserError),
        (lambda: store.create("c", None), UserError),
    ]:
        with pytest.raises(error) as caught:
            call()
        assert isinstance(caught.value, ClientError) and str(caught.value)
    assert not store.verify(None, "pw") and not store.verify("ann", None)


def test_damaged_user_file_is_refused_with_its_name(tmp_path):
    (tmp_path / "auth").mkdir()
    (tmp_path / "auth" / "users.json").write_text("{not json")
    with pytest.raises(DatabaseError, match="users.json"):
        UserStore(str(tmp_path))


@pytest.fixture(scope="module")
def secured():
    db = weftdb.open()
    db.users.create("ann", "pw")
    db.users.create("bob", "pw2")
    server = start(db)
    yield server
    server.stop()
    db.close()


@pytest.mark.parametrize(
    "auth",
    [("ann", "wrong"), ("nobody", "pw"), None],
    ids=["wrong password", "unknown user", "no auth"],
)
def test_driver_bad_logins_are_refused(secured, auth):
    started = time.monotonic()
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{secured.port}", auth=auth) as driver:
        with pytest.raises(AuthError, match="authentication failure"):
            driver.verify_connectivity()
    assert time.monotonic() - started >= 0.5  # failed logins are slowed


def test_driver_good_login_and_user_switching(secured):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{secured.port}", auth=("ann", "pw")) as driver:
        assert driver.execute_query("RETURN 1 AS x").records[0]["x"] == 1
        # LOGOFF + LOGON on a pooled connection (Bolt 5.1+ re-authentication)
        assert driver.verify_authentication(auth=("bob", "pw2"))
        with driver.session(auth=("bob", "pw2")) as session:
            assert session.run("RETURN 2 AS x").single()["x"] == 2


def test_pymgclient_logins():
    with ServerProcess("--user=ann:pw") as server:
        for kwargs in ({"username": "ann", "password": "bad"}, {"username": "x", "password": "pw"}, {}):
            with pytest.raises(mgclient.OperationalError, match="authentication failure"):
                mgclient.connect(host="127.0.0.1", port=server.port, **kwargs)
        connection = mgclient.connect(host="127.0.0.1", port=server.port, username="ann", password="pw")
        cursor = connection.cursor()
        cursor.execute("RETURN 1")
        assert cursor.fetchall() == [(1,)]


def test_users_made_with_cypher_turn_authentication_on_and_persist(tmp_path):
    path = str(tmp_path / "data")
    db = weftdb.open(path)
    server = start(db)
    uri = f"bolt://127.0.0.1:{server.port}"
    try:
        with neo4j.GraphDatabase.driver(uri, auth=None) as anyone:
            with anyone.session() as session:
                session.run("CREATE USER admin IDENTIFIED BY 'pw'").consume()
                assert [r[0] for r in session.run("SHOW USERS")] == ["admin"]
        with neo4j.GraphDatabase.driver(uri, auth=None) as anyone:
            with pytest.raises(AuthError):
                anyone.verify_connectivity()
        with neo4j.GraphDatabase.driver(uri, auth=("admin", "pw")) as admin:
            with admin.session() as session:
                session.run("SET PASSWORD FOR admin TO 'new'").consume()
            assert admin.verify_authentication(auth=("admin", "new"))
    finally:
        server.stop()
        db.close()
    with weftdb.open(path) as reopened:
        assert reopened.users.verify("admin", "new") and not reopened.users.verify("admin", "pw")

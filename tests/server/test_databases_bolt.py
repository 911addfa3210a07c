"""Several databases over Bolt: the drivers' `database=` (the `db` field of
BEGIN, RUN and ROUTE), and USE DATABASE for a session's default (pymgclient)."""

import itertools

import mgclient
import neo4j
import pytest
from neo4j.exceptions import ClientError, TransientError
from serverproc import ServerProcess

_names = itertools.count()


@pytest.fixture
def name():
    return f"db{next(_names)}"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServerProcess(f"--directory={tmp_path_factory.mktemp('several')}") as process:
        yield process


@pytest.fixture(scope="module")
def driver(server):
    with neo4j.GraphDatabase.driver(f"neo4j://127.0.0.1:{server.port}", auth=None) as driver:
        yield driver


def count(driver, database=None):
    return driver.execute_query("MATCH (n:N) RETURN count(n) AS c", database_=database).records[0]["c"]


def test_the_drivers_database_argument_picks_the_database(driver, name):
    driver.execute_query(f"CREATE DATABASE {name}")
    before = count(driver)
    _, summary, _ = driver.execute_query("UNWIND range(1, 3) AS k CREATE (:N {k: k})", database_=name)
    assert summary.counters.nodes_created == 3 and summary.database == name
    assert count(driver, name) == 3 and count(driver) == before and count(driver, "neo4j") == before
    with driver.session(database=name) as session:
        with session.begin_transaction() as tx:  # BEGIN names the database; its RUNs follow it
            tx.run("CREATE (:N {k: 4})").consume()
            assert tx.run("MATCH (n:N) RETURN count(n) AS c").single()["c"] == 4
            tx.commit()
        assert session.execute_read(lambda tx: tx.run("MATCH (n:N) RETURN max(n.k) AS m").single()["m"]) == 4
    rows = driver.execute_query("SHOW DATABASES YIELD name, currentStatus").records
    assert {"name": name, "currentStatus": "online"} in [dict(r) for r in rows]


def test_unknown_stopped_and_dropped_databases_are_refused_and_the_rest_serve(server, driver, name):
    with pytest.raises(ClientError) as caught:
        driver.execute_query("RETURN 1", database_="nowhere")
    assert caught.value.code == "Neo.ClientError.Database.DatabaseNotFound"
    driver.execute_query(f"CREATE DATABASE {name}")
    driver.execute_query("CREATE (:N)", database_=name)
    driver.execute_query(f"STOP DATABASE {name}")
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as direct:
        with direct.session(database=name) as session, pytest.raises(TransientError) as caught:
            session.run("RETURN 1").consume()  # a session retries nothing
    assert caught.value.code == "Neo.TransientError.General.DatabaseUnavailable"
    driver.execute_query(f"START DATABASE {name}")
    assert count(driver, name) == 1
    driver.execute_query(f"DROP DATABASE {name}")
    with pytest.raises(ClientError, match="does not exist"):
        driver.execute_query("RETURN 1", database_=name)
    assert driver.execute_query("RETURN 1 AS x").records[0]["x"] == 1


def test_use_database_switches_a_pymgclient_session(server, name):
    connection = mgclient.connect(host="127.0.0.1", port=server.port)
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute(f"CREATE DATABASE {name}")
    cursor.execute(f"USE DATABASE {name}")
    cursor.execute("SHOW DATABASE")
    assert cursor.fetchall() == [(name,)]
    cursor.execute("CREATE (:N {here: true})")
    connection.autocommit = False  # BEGIN and COMMIT sent as text: the transaction is in the session's database
    cursor.execute("CREATE (:N {here: true})")
    connection.commit()
    connection.autocommit = True
    cursor.execute("MATCH (n:N {here: true}) RETURN count(n)")
    assert cursor.fetchall() == [(2,)]
    cursor.execute("USE DATABASE memgraph")  # Memgraph's name for the default one
    cursor.execute("MATCH (n:N {here: true}) RETURN count(n)")
    assert cursor.fetchall() == [(0,)]
    with pytest.raises(mgclient.DatabaseError, match="does not exist"):
        cursor.execute("USE DATABASE nowhere")
    cursor.execute("SHOW DATABASE")
    assert cursor.fetchall() == [("weftdb",)]
    connection.close()


def test_access_rules_with_the_neo4j_driver(tmp_path):
    """The first user may use every database and manage the rest; a user
    finds only the databases granted to them, and no other exists for them."""
    with ServerProcess(f"--directory={tmp_path}", "--user=admin:pw", "--user=alice:pw", "--user=bob:pw") as server:
        uri = f"neo4j://127.0.0.1:{server.port}"
        with neo4j.GraphDatabase.driver(uri, auth=("admin", "pw")) as admin:
            for statement in ("CREATE DATABASE sales", "CREATE DATABASE hr", "GRANT DATABASE sales TO alice",
                              "SET MAIN DATABASE sales FOR alice", "DENY DATABASE weftdb FROM bob",
                              "GRANT DATABASE hr TO bob"):
                admin.execute_query(statement)
            admin.execute_query("CREATE (:Secret)", database_="hr")
            admin.execute_query("CREATE (:Deal)", database_="sales")
            privileges = admin.execute_query("SHOW DATABASE PRIVILEGES FOR alice").records[0]
            assert (privileges["grants"], privileges["denies"], privileges["main"]) == (["sales", "weftdb"], [], "sales")
        with neo4j.GraphDatabase.driver(uri, auth=("alice", "pw")) as alice:
            # no database named: her main one
            assert alice.execute_query("MATCH (n) RETURN labels(n) AS l").records[0]["l"] == ["Deal"]
            shown = {r["name"]: r["home"] for r in alice.execute_query("SHOW DATABASES").records}
            assert shown == {"weftdb": False, "sales": True}
            assert [r["name"] for r in alice.execute_query("SHOW HOME DATABASE").records] == ["sales"]
            assert [r["name"] for r in alice.execute_query("SHOW DEFAULT DATABASE").records] == ["weftdb"]
            errors = []
            for name in ("hr", "nowhere"):  # one exists, one does not: she cannot tell which
                with pytest.raises(ClientError) as caught:
                    alice.execute_query("MATCH (n) RETURN n", database_=name)
                errors.append((caught.value.code, caught.value.message.replace(name, "?")))
            assert errors[0] == errors[1] and errors[0][0] == "Neo.ClientError.Database.DatabaseNotFound"
            for statement in ("GRANT DATABASE hr TO alice", "CREATE DATABASE mine", "DROP DATABASE hr",
                              "CREATE USER eve IDENTIFIED BY 'x'"):
                with pytest.raises(ClientError) as caught:
                    alice.execute_query(statement)
                assert caught.value.code == "Neo.ClientError.Security.Forbidden", statement
            alice.execute_query("SET PASSWORD FOR alice TO 'pw'")  # her own password is hers
        with neo4j.GraphDatabase.driver(uri, auth=("bob", "pw")) as bob:
            with pytest.raises(ClientError, match="does not exist"):
                bob.execute_query("RETURN 1")  # denied the default database, and no main one set
            assert bob.execute_query("MATCH (n) RETURN labels(n) AS l", database_="hr").records[0]["l"] == ["Secret"]
        with neo4j.GraphDatabase.driver(uri, auth=("admin", "pw")) as admin:
            admin.execute_query("REVOKE DATABASE sales FROM alice")
        with neo4j.GraphDatabase.driver(uri, auth=("alice", "pw")) as alice:
            with pytest.raises(ClientError, match="does not exist"):
                alice.execute_query("RETURN 1", database_="sales")

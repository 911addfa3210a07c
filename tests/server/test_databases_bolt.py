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

"""pymgclient (Bolt 4.4, transaction control sent as query text) against the real engine.

The server runs in a child process: pymgclient keeps the GIL while it waits on
the socket, so a server thread in this process could never answer it."""

import datetime as dt
import itertools

import mgclient
import pytest
from serverproc import ServerProcess

_labels = itertools.count()


@pytest.fixture(scope="module")
def server():
    with ServerProcess() as process:
        yield process


@pytest.fixture
def label():
    return f"M{next(_labels)}"


def connect(server, **kwargs):
    return mgclient.connect(host="127.0.0.1", port=server.port, **kwargs)


def count(cursor, label):
    cursor.execute(f"MATCH (n:{label}) RETURN count(n)")
    return cursor.fetchall()[0][0]


def test_autocommit(server, label):
    connection = connect(server)
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute(f"CREATE (:{label} {{v: $v}})", {"v": 1})
    other = connect(server).cursor()
    assert count(other, label) == 1
    cursor.execute("UNWIND range(1, 1000) AS i RETURN i")
    assert len(cursor.fetchall()) == 1000


def test_commit_and_rollback(server, label):
    connection = connect(server)
    cursor = connection.cursor()
    cursor.execute(f"CREATE (:{label} {{v: 1}})")
    connection.rollback()
    cursor.execute(f"CREATE (:{label} {{v: 2}})")
    cursor.execute(f"CREATE (:{label} {{v: 3}})")
    assert count(cursor, label) == 2  # own writes are visible inside the transaction
    connection.commit()
    watcher = connect(server)
    watcher.autocommit = True
    assert count(watcher.cursor(), label) == 2


def test_error_then_reuse(server, label):
    connection = connect(server)
    cursor = connection.cursor()
    cursor.execute(f"CREATE (:{label})")
    with pytest.raises(mgclient.DatabaseError, match="(?i)invalid|expected|syntax"):
        cursor.execute("RETURN RETURN")
    connection.rollback()
    cursor.execute("RETURN 1 AS x")
    assert cursor.fetchall() == [(1,)]
    connection.commit()
    connection.autocommit = True
    with pytest.raises(mgclient.DatabaseError):
        cursor.execute("RETURN $missing")
    assert count(cursor, label) == 0  # the failed transaction's write was rolled back


def test_values_and_graph_shapes_of_bolt_4(server, label):
    connection = connect(server)
    connection.autocommit = True
    cursor = connection.cursor()
    params = {
        "list": [1, "a", None, 2.5],
        "map": {"k": [True]},
        "date": dt.date(2024, 2, 29),
        "time": dt.time(1, 2, 3, 456),
        "ldt": dt.datetime(2024, 1, 2, 3, 4, 5, 6),
        "dur": dt.timedelta(days=2, seconds=5, microseconds=7),
    }
    cursor.execute("RETURN $list AS a, $map AS b, $date AS c, $time AS d, $ldt AS e, $dur AS f", params)
    assert cursor.fetchall()[0] == tuple(params.values())
    cursor.execute(f"CREATE p = (a:{label} {{n: 1}})-[r:R {{w: 2}}]->(b:{label}) RETURN a, r, p")
    node, rel, path = cursor.fetchall()[0]
    assert isinstance(node, mgclient.Node) and node.labels == {label} and node.properties == {"n": 1}
    assert isinstance(rel, mgclient.Relationship) and rel.type == "R" and rel.start_id == node.id
    assert isinstance(path, mgclient.Path) and len(path.nodes) == 2 and path.relationships[0].properties == {"w": 2}


def test_zoned_datetimes_in_bolt_4_shape(server):
    connection = connect(server)
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute(
        "RETURN datetime('2020-01-02T03:04:05+01:00') AS a, datetime('2020-07-02T03:04:05[Europe/Berlin]') AS b, $p AS c",
        {"p": dt.datetime(1999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))},
    )
    a, b, c = cursor.fetchall()[0]
    assert a == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert b.utcoffset() == dt.timedelta(hours=2) and (b.hour, b.tzinfo.key) == (3, "Europe/Berlin")
    assert c == dt.datetime(1999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3))) and c.hour == 23


def test_show_and_terminate_transactions_as_gqlalchemy_does(server, label):
    # A pymgclient connection (autocommit off: BEGIN is sent as text) holds a write open;
    # another lists it, terminates it, and its commit then fails.
    owner = connect(server)
    owner.cursor().execute(f"CREATE (:{label} {{n: 1}})")
    admin = connect(server)
    admin.autocommit = True
    cursor = admin.cursor()
    cursor.execute("SHOW TRANSACTIONS")
    assert [d.name for d in cursor.description] == ["username", "transaction_id", "query", "metadata"]
    rows = [row for row in cursor.fetchall() if any(label in query for query in row[2])]
    assert len(rows) == 1
    cursor.execute(f"TERMINATE TRANSACTIONS '{rows[0][1]}'")
    assert cursor.fetchall() == [(rows[0][1], True)]
    with pytest.raises(mgclient.DatabaseError, match="terminated"):
        owner.commit()
    assert count(cursor, label) == 0
    for statement, column in (("SHOW VERSION", "version"), ("SHOW CONFIG", "name"), ("SHOW DATABASES", "name"),
                              ("SHOW STORAGE INFO", "storage info"), ("SHOW BUILD INFO", "build info")):
        cursor.execute(statement)
        assert cursor.description[0].name == column and cursor.fetchall()

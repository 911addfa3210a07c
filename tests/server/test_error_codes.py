"""What a FAILURE reports for each kind of error (issue 12, item 16): its own Neo4j
code, GQL status and description, and the message once. Bytes in and bytes out
against a server on the real engine, then through the neo4j driver."""

import errno
import os
import sys

import neo4j
import pytest
from bolt_servers import start
from boltbytes import RawClient, message

import weftdb
from weftdb.basics import errors
from weftdb.basics.config import Config
from weftdb.database import Database

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "durability"))
from crashfs import CrashFS  # noqa: E402

QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


@pytest.fixture(scope="module")
def durable_server(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("codes") / "db")
    db = weftdb.open(path, **QUIET)
    db.execute("CREATE (:N {v: 1})")
    server = start(db)
    server.db = db
    yield server
    server.stop()
    db.close()


def logged_in(port, version=(5, 8)):
    client = RawClient(port, version)
    if version >= (5, 1):
        return client.login()
    client.send(message("HELLO", {"user_agent": "raw", "scheme": "none"}))
    assert client.read(1)[0][0] == "SUCCESS"
    return client


def run(client, query):
    """Run `query` (autocommit) and read all its answers: [(name, fields)]."""
    client.send(message("RUN", query, {}, {}), message("PULL", {"n": -1}))
    out = client.read(1)
    if out[0][0] == "FAILURE":
        return out + client.read(1)  # and the PULL's IGNORED
    while out[-1][0] != "SUCCESS" or len(out) == 1:
        out += client.read(1)
    return out


def failure_of(port, query, version=(5, 8)):
    """The FAILURE's metadata for an autocommit RUN of `query`."""
    client = logged_in(port, version)
    try:
        client.send(message("RUN", query, {}, {}), message("PULL", {"n": -1}))
        (name, (metadata,)), _ = client.read(2)
        assert name == "FAILURE"
        return metadata
    finally:
        client.close()


def assert_reported(metadata, cls, message_part):
    assert metadata["neo4j_code"] == cls.code
    assert metadata["gql_status"] == cls.gql_status
    assert metadata["description"] == f"error: {cls.gql_description}"
    assert message_part in metadata["message"]
    assert metadata["message"] not in metadata["description"]  # the message travels once


@pytest.mark.parametrize(
    "query, cls, message_part",
    [
        ("RETRN 1", errors.CypherSyntaxError, "RETRN"),
        ("RETURN nope", errors.CypherSemanticError, "nope"),
        ("RETURN 1 + true", errors.CypherTypeError, ""),
        ("RETURN 9223372036854775807 + 1", errors.CypherArithmeticError, "overflow"),
        ("RETURN $missing", errors.ParameterMissing, "missing"),
    ],
    ids=["syntax", "semantic", "type", "arithmetic", "parameter"],
)
def test_each_error_class_has_its_own_status(durable_server, query, cls, message_part):
    assert_reported(failure_of(durable_server.port, query), cls, message_part)


def test_an_expected_refusal_is_not_an_unexpected_error(durable_server):
    """Before: CHECKPOINT CREATE while a checkpoint was in flight and CREATE SNAPSHOT
    while a snapshot was being written came as 50N42 "unexpected error", with the
    message twice (in the message and again in the description)."""
    port = durable_server.port
    client = RawClient(port).login()
    assert run(client, "CHECKPOINT CREATE")[0][0] == "SUCCESS"
    try:
        in_flight = failure_of(port, "CHECKPOINT CREATE")
    finally:
        assert run(client, "CHECKPOINT RELEASE")[0][0] == "SUCCESS"
        client.close()
    assert_reported(in_flight, errors.ClientError, "already in flight")
    assert in_flight["gql_status"] == "51N41"

    running = durable_server.db.durability._snapshot_running  # a snapshot being written, held still
    running.acquire()
    try:
        busy = failure_of(port, "CREATE SNAPSHOT")
    finally:
        running.release()
    assert_reported(busy, errors.ClientError, "already being created")


def test_a_failed_login_is_access_denied_once(tmp_path):
    db = weftdb.open()
    db.users.create("admin", "secret")
    server = start(db)
    try:
        client = RawClient(server.port)
        client.send(message("HELLO", {"user_agent": "raw"}),
                    message("LOGON", {"scheme": "basic", "principal": "admin", "credentials": "wrong"}))
        (_, _), (name, (metadata,)) = client.read(2)
        assert name == "FAILURE"
        assert_reported(metadata, errors.AuthError, "unauthorized")
        assert metadata["gql_status"] == "42NFF"
        assert client.is_closed_by_server()
    finally:
        server.stop()
        db.close()


def test_a_write_conflict_is_a_conflicting_transaction_state(durable_server):
    first, second = RawClient(durable_server.port).login(), RawClient(durable_server.port).login()
    try:
        for client in (first, second):
            client.send(message("BEGIN", {}))
            assert client.read(1)[0][0] == "SUCCESS"
        first.send(message("RUN", "MATCH (n:N) SET n.v = 2", {}, {}), message("PULL", {"n": -1}))
        assert [name for name, _ in first.read(2)] == ["SUCCESS", "SUCCESS"]
        second.send(message("RUN", "MATCH (n:N) SET n.v = 3", {}, {}), message("PULL", {"n": -1}))
        (name, (metadata,)), _ = second.read(2)
        assert name == "FAILURE"
        assert_reported(metadata, errors.SerializationError, "")
    finally:
        first.send(message("ROLLBACK"))
        first.close()
        second.close()


def test_before_5_7_the_failure_keeps_its_two_fields(durable_server):
    metadata = failure_of(durable_server.port, "RETRN 1", version=(4, 4))
    assert set(metadata) == {"code", "message"} and metadata["code"] == errors.CypherSyntaxError.code


def test_the_driver_sees_the_status_and_the_message_once(durable_server, tmp_path):
    uri = f"bolt://127.0.0.1:{durable_server.port}"
    with neo4j.GraphDatabase.driver(uri, auth=None) as driver, driver.session() as session:
        session.run("CHECKPOINT CREATE").consume()
        try:
            with pytest.raises(neo4j.exceptions.ClientError) as caught:
                session.run("CHECKPOINT CREATE").consume()
        finally:
            session.run("CHECKPOINT RELEASE").consume()
    error = caught.value
    assert error.gql_status == "51N41" and "already in flight" in error.message
    assert str(error).count("already in flight") == 1, str(error)

    db = weftdb.open()
    db.users.create("admin", "secret")
    server = start(db)
    try:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=("admin", "wrong")) as driver:
            with pytest.raises(neo4j.exceptions.AuthError) as caught:
                driver.verify_connectivity()
        assert caught.value.gql_status == "42NFF"
        assert str(caught.value).count("unauthorized") == 1, str(caught.value)
    finally:
        server.stop()
        db.close()


def test_a_snapshot_on_a_full_disk_is_not_a_failed_commit(tmp_path):
    path = str(tmp_path / "db")
    fs = CrashFS(path)
    db = Database(path, Config.load(QUIET), fs=fs)
    db.execute("UNWIND range(1, 100) AS i CREATE (:N {i: i})")
    server = start(db)
    try:
        fs.fail_writes_after(0, errno.ENOSPC)
        metadata = failure_of(server.port, "CREATE SNAPSHOT")
        assert "No space left" in metadata["message"]
        assert_reported(metadata, errors.SnapshotFailed, "No space left")
    finally:
        fs.clear_faults()
        server.stop()
        db.close()

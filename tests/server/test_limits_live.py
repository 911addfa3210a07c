"""The server's limits against hostile and careless clients, over real sockets
(issue 12, item 15): what a client that breaks a limit sees."""

import time

import neo4j
import pytest
from bolt_servers import start
from fakes import FakeDatabase


@pytest.fixture
def small_limit_server():
    server = start(FakeDatabase(), bolt_max_message_size_kib=64)
    yield server
    server.stop()


def nested(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "value, says, gql_status",
    [
        ("x" * 100_000, "--bolt-max-message-size-kib", "22N56"),
        (nested(100), "more than 64 levels deep", "08N06"),
    ],
    ids=["too large", "nested too deep"],
)
def test_an_over_limit_request_fails_at_once_and_names_the_limit(small_limit_server, value, says, gql_status):
    """Item 15: before, the server closed the connection with a log line only, and
    the driver retried the request for 30 s before raising ServiceUnavailable."""
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{small_limit_server.port}", auth=None) as driver:
        started = time.monotonic()
        with pytest.raises(neo4j.exceptions.ClientError) as caught:
            driver.execute_query("RETURN $x AS x", x=value)
        seconds = time.monotonic() - started
        print(f"the driver raised after {seconds:.3f} s: {caught.value.message}")
        assert seconds < 2
        assert says in caught.value.message and caught.value.gql_status == gql_status
        records = driver.execute_query("UNWIND range(1, 3) AS i RETURN i").records  # the pool recovers
        assert [r["i"] for r in records] == [1, 2, 3]

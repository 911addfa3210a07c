"""The Bolt state machine, driven with raw bytes and no socket."""

import random
import time

import pytest
from boltbytes import frame, handshake, message, replies

from weftdb.server.bolt.packstream import Structure, pack
from weftdb.server.bolt.protocol import BoltProtocol, ProtocolError, State, Status, negotiate


def connect(version=(5, 8)):
    proto = BoltProtocol()
    proto.receive_data(handshake(version))
    assert proto.data_to_send() == bytes((0, 0, version[1], version[0]))
    return proto


def ready(version=(5, 8)):
    proto = connect(version)
    proto.receive_data(message("HELLO", {"user_agent": "test"}))
    assert proto.next_request().name == "HELLO"
    proto.succeed({"server": "x"})
    if version >= (5, 1):
        proto.receive_data(message("LOGON", {"scheme": "none"}))
        assert proto.next_request().name == "LOGON"
        proto.succeed()
    proto.data_to_send()
    assert proto.state is State.READY
    return proto


def names(proto):
    return [name for name, _ in replies(proto.data_to_send())]


@pytest.mark.parametrize(
    "proposals, chosen",
    [
        ([(0xFF, 1), (5, 8, 8), (4, 4, 2), (3, 0)], (5, 8)),  # neo4j 6.x
        ([(4, 4), (4, 3), (4, 1), (1, 0)], (4, 4)),  # pymgclient
        ([(5, 9, 2)], (5, 8)),
        ([(5, 3)], (5, 3)),
        ([(6, 0), (4, 4)], (4, 4)),
        ([(4, 3, 3), (4, 0), (3, 0), (2, 0)], (4, 3)),  # py2neo 2021.2: 4.3 down to 4.0, then 3 and 2
        ([(4, 2), (3, 0)], (4, 2)),
        ([(3, 0), (2, 0)], None),
    ],
)
def test_negotiation(proposals, chosen):
    assert negotiate(handshake(*proposals)[4:]) == chosen


def test_handshake_arrives_in_pieces_and_refuses_strangers():
    proto = BoltProtocol()
    data = handshake((4, 4))
    for byte in data:
        proto.receive_data(bytes([byte]))
    assert proto.data_to_send() == b"\x00\x00\x04\x04"
    with pytest.raises(ProtocolError, match="magic"):
        BoltProtocol().receive_data(b"GET / HTTP/1.1\r\n")
    stranger = BoltProtocol()
    with pytest.raises(ProtocolError, match="no common"):
        stranger.receive_data(handshake((3, 0)))
    assert stranger.data_to_send() == b"\x00\x00\x00\x00" and stranger.closed


def test_autocommit_run_and_paged_pull():
    proto = ready()
    proto.receive_data(message("RUN", "q", {}, {}) + message("PULL", {"n": 2}) + message("PULL", {"n": -1}))
    assert proto.next_request().name == "RUN"
    proto.stream(["i"], [(1,), (2,), (3,)], {"type": "r", "db": "weftdb"}, t_first=3)
    assert proto.next_request() is None
    out = replies(proto.data_to_send())
    assert out[0] == ("SUCCESS", ({"fields": ["i"], "t_first": 3},))
    assert out[1:3] == [("RECORD", ([1],)), ("RECORD", ([2],))]
    assert out[3] == ("SUCCESS", ({"has_more": True},))
    assert out[4] == ("RECORD", ([3],))
    assert out[5][1][0]["type"] == "r" and out[5][1][0]["has_more"] is False
    assert proto.state is State.READY


def test_explicit_transaction_with_two_results_by_qid():
    proto = ready()
    proto.receive_data(message("BEGIN", {}) + message("RUN", "a", {}, {}) + message("RUN", "b", {}, {}))
    proto.next_request()
    proto.succeed()
    proto.next_request()
    proto.stream(["a"], [(1,)], {})
    proto.next_request()
    proto.stream(["b"], [(2,)], {})
    assert proto.state is State.TX_STREAMING
    proto.receive_data(message("PULL", {"n": -1, "qid": 0}) + message("PULL", {"n": -1}) + message("COMMIT"))
    assert proto.next_request().name == "COMMIT"
    assert proto.state is State.TX_READY
    proto.succeed({"bookmark": "b1"})
    out = replies(proto.data_to_send())
    assert [o[0] for o in out] == ["SUCCESS", "SUCCESS", "SUCCESS", "RECORD", "SUCCESS", "RECORD", "SUCCESS", "SUCCESS"]
    assert out[1][1][0]["qid"] == 0 and out[2][1][0]["qid"] == 1
    assert out[3] == ("RECORD", ([1],)) and out[5] == ("RECORD", ([2],))
    assert proto.state is State.READY


def test_qids_count_the_results_of_each_transaction_from_zero():
    # py2neo pulls an earlier result of a transaction by its index in that transaction.
    proto = ready((4, 3))
    for _ in range(2):
        proto.receive_data(message("BEGIN", {}) + message("RUN", "a", {}, {}) + message("RUN", "b", {}, {}))
        proto.next_request()
        proto.succeed()
        proto.next_request()
        proto.stream(["a"], [(1,)], {})
        proto.next_request()
        proto.stream(["b"], [(2,)], {})
        proto.receive_data(message("PULL", {"n": -1, "qid": 0}) + message("PULL", {"n": -1, "qid": 1}) + message("COMMIT"))
        assert proto.next_request().name == "COMMIT"
        proto.succeed({})
        out = replies(proto.data_to_send())
        assert [o[1][0].get("qid") for o in out[1:3]] == [0, 1]
        assert out[3] == ("RECORD", ([1],)) and out[5] == ("RECORD", ([2],))


@pytest.mark.parametrize("version", [(4, 0), (4, 1), (4, 2)])
def test_route_exists_from_4_3(version):
    proto = ready(version)
    proto.receive_data(message("ROUTE", {}, [], None))
    failure = refused(proto)
    assert f"ROUTE does not exist in Bolt {version[0]}.{version[1]}" in failure["message"]
    proto = ready((4, 3))
    proto.receive_data(message("ROUTE", {}, [], "neo4j"))  # 4.3: the database by name
    assert proto.next_request().fields == ({}, [], "neo4j")


def test_failure_then_ignored_until_reset():
    proto = ready()
    proto.receive_data(message("RUN", "bad", {}, {}) + message("PULL", {"n": -1}) + message("RUN", "x", {}, {}))
    proto.next_request()
    proto.fail(Status("Neo.ClientError.Statement.SyntaxError", "42001", "syntax error or access rule violation - invalid syntax"),
               "nope")
    assert proto.next_request() is None
    out = replies(proto.data_to_send())
    assert out[0] == (
        "FAILURE",
        (
            {
                "neo4j_code": "Neo.ClientError.Statement.SyntaxError",
                "message": "nope",
                "gql_status": "42001",
                "description": "error: syntax error or access rule violation - invalid syntax",
            },
        ),
    )
    assert [o[0] for o in out[1:]] == ["IGNORED", "IGNORED"]
    proto.receive_data(message("RESET"))
    assert proto.next_request().name == "RESET"
    proto.succeed()
    assert proto.state is State.READY and names(proto) == ["SUCCESS"]


def test_failure_shape_before_5_7():
    proto = ready((4, 4))
    proto.receive_data(message("RUN", "bad", {}, {}))
    proto.next_request()
    proto.fail("Neo.ClientError.Statement.SyntaxError", "nope")
    assert replies(proto.data_to_send())[0][1][0] == {"code": "Neo.ClientError.Statement.SyntaxError", "message": "nope"}


def test_reset_interrupts_and_ignores_what_was_queued_before_it():
    proto = ready()
    proto.receive_data(message("RUN", "slow", {}, {}) + message("PULL", {"n": -1}))
    assert proto.next_request().name == "RUN"
    proto.receive_data(message("RESET"))
    assert proto.interrupt_pending
    proto.fail("Neo.TransientError.Transaction.Terminated", "interrupted")
    assert proto.next_request().name == "RESET"
    assert not proto.interrupt_pending
    proto.succeed()
    assert names(proto) == ["FAILURE", "IGNORED", "SUCCESS"]
    assert proto.state is State.READY


def test_pymgclient_transaction_control_through_run():
    proto = ready((4, 4))
    proto.receive_data(message("RUN", "BEGIN", {}, {}) + message("PULL", {"n": -1}))
    proto.next_request()
    proto.stream([], [], {}, control="begin")
    assert proto.next_request() is None and proto.state is State.TX_READY
    proto.receive_data(message("RUN", "COMMIT", {}, {}) + message("PULL", {"n": -1}))
    proto.next_request()
    proto.stream([], [], {"bookmark": "b"}, control="commit")
    assert proto.next_request() is None and proto.state is State.READY


@pytest.mark.parametrize(
    "version, sequence, reason",
    [
        ((5, 8), ["PULL"], "PULL is not allowed in state READY"),
        ((5, 8), ["COMMIT"], "COMMIT is not allowed in state READY"),
        ((5, 8), ["HELLO"], "HELLO is not allowed"),
    ],
)
def test_wrong_state_fails_and_closes(version, sequence, reason):
    proto = ready(version)
    proto.receive_data(b"".join(message(n, {}) if n in ("PULL", "HELLO") else message(n) for n in sequence))
    assert proto.next_request() is None
    out = replies(proto.data_to_send())
    assert out[0][0] == "FAILURE" and reason in out[0][1][0]["message"]
    assert proto.closed and reason in proto.violation


def refused(proto):
    """The FAILURE that refused the input, once the protocol has answered what came before it."""
    assert proto.next_request() is None and proto.closed
    out = replies(proto.data_to_send())
    assert out[-1][0] == "FAILURE"
    return out[-1][1][0]


def test_logon_only_from_5_1_and_telemetry_answered_inline():
    proto = ready((4, 4))
    proto.receive_data(message("LOGON", {}))
    failure = refused(proto)
    assert failure["code"] == "Neo.ClientError.Request.InvalidFormat"
    assert "LOGON does not exist in Bolt 4.4" in failure["message"]
    proto = ready((5, 8))
    proto.receive_data(message("TELEMETRY", 1))
    assert proto.next_request() is None and names(proto) == ["SUCCESS"]


def test_failed_hello_closes():
    proto = connect()
    proto.receive_data(message("HELLO", {}))
    proto.next_request()
    proto.fail("Neo.ClientError.Security.Unauthorized", "no")
    assert proto.closed


def test_goodbye_closes_and_noop_chunks_are_skipped():
    proto = ready()
    proto.receive_data(b"\x00\x00\x00\x00" + message("GOODBYE"))
    assert proto.next_request() is None and proto.closed


def test_message_split_over_many_chunks_and_reads():
    proto = ready()
    big = "x" * 200_000
    data = frame(pack(Structure(0x10, (big, {}, {}))), chunk=1000)
    for start in range(0, len(data), 777):
        proto.receive_data(data[start : start + 777])
    assert proto.next_request().fields[0] == big


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"\x00\x05\xc7\x00\x00\x00\x00\x00\x00", "malformed"),
        (b"\x00\x01\x01\x00\x00", "must be a structure"),
        (b"\x00\x02\xb0\x99\x00\x00", "unknown message signature"),
        (b"\x00\x02\xb0\x10\x00\x00", "RUN with malformed fields"),
        (b"\xff\xff" + b"\x00" * 10, None),  # an incomplete chunk: waits for more
    ],
)
def test_bad_frames(data, reason):
    proto = ready()
    proto.receive_data(data)
    if reason is None:
        assert proto.next_request() is None and not proto.closed
        return
    failure = refused(proto)
    assert reason in failure["message"] and reason in proto.violation
    assert (failure["neo4j_code"], failure["gql_status"]) == ("Neo.ClientError.Request.InvalidFormat", "08N06")
    proto.receive_data(message("RUN", "RETURN 1", {}, {}))  # after the refusal, input is dropped
    assert proto.next_request() is None and proto.data_to_send() == b""


def test_message_size_limit_is_checked_before_buffering():
    proto = BoltProtocol(max_message_size=1000)
    proto.receive_data(handshake((5, 8)))
    proto.data_to_send()
    proto.receive_data(b"\x03\xe8" + b"\x00" * 1000 + b"\x00\x10")
    assert proto.buffered == 0
    failure = refused(proto)
    assert failure["gql_status"] == "22N56" and "--bolt-max-message-size-kib" in failure["message"]


def test_unencodable_result_value_fails_the_pull():
    proto = ready()
    proto.receive_data(message("RUN", "q", {}, {}) + message("PULL", {"n": -1}))
    proto.next_request()
    proto.stream(["x"], [(object(),)], {})
    proto.next_request()
    assert names(proto) == ["SUCCESS", "FAILURE"] and proto.state is State.FAILED


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.random()
        if choice < 0.4 and data:
            data[rng.randrange(len(data))] = rng.randrange(256)
        elif choice < 0.6 and data:
            del data[rng.randrange(len(data)) :]
        elif choice < 0.8:
            data[rng.randrange(len(data) + 1) : 0] = rng.randbytes(rng.randint(1, 8))
        else:
            data += b"\xff\xff" + rng.randbytes(rng.randint(0, 20))
    return bytes(data)


def test_fuzz_protocol_object():
    """Random and mutated frames never raise anything, never hang, and what the
    protocol refuses ends in a FAILURE and a closed connection."""
    rng = random.Random(4)
    seeds = [
        message("RUN", "RETURN 1", {"a": [1, 2.5, "x"]}, {}),
        message("PULL", {"n": 10}),
        message("BEGIN", {"db": "weftdb"}),
        message("COMMIT"),
        message("RESET"),
        message("ROUTE", {"address": "x"}, [], {}),
        message("LOGON", {"scheme": "basic", "principal": "u", "credentials": "p"}),
    ]
    deadline = time.monotonic() + 1.5
    cases = 0
    while time.monotonic() < deadline:
        proto = ready()
        data = mutate(rng.choice(seeds), rng) if rng.random() < 0.8 else rng.randbytes(rng.randint(1, 64))
        for piece in (data[: len(data) // 2], data[len(data) // 2 :]):
            proto.receive_data(piece)
        while (request := proto.next_request()) is not None:
            if request.name == "RUN":
                proto.stream(["x"], [(1,)], {})
            else:
                proto.fail("Neo.ClientError.Request.Invalid", "fuzz")
        out = replies(proto.data_to_send())
        if proto.violation:
            assert proto.closed and out[-1][0] == "FAILURE"
        cases += 1
    assert cases > 100


def test_garbage_while_a_query_runs_is_refused_after_its_answer():
    proto = ready()
    proto.receive_data(message("RUN", "slow", {}, {}) + message("PULL", {"n": -1}))
    assert proto.next_request().name == "RUN"
    proto.receive_data(b"\x00\x01\x01\x00\x00")  # garbage while the query runs
    assert not proto.closed
    proto.stream(["x"], [(1,)], {})
    assert proto.next_request() is None and proto.closed
    assert names(proto) == ["SUCCESS", "RECORD", "SUCCESS", "FAILURE"]

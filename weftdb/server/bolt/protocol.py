"""Bolt, sans I/O: bytes in, requests out; outcomes in, bytes out.

`BoltProtocol` never touches a socket (the h11 design). The transport feeds it
whatever bytes arrived (`receive_data`), asks for the next request the
application must carry out (`next_request`), reports the outcome (`succeed`,
`stream`, `fail`) and writes `data_to_send()`. Everything that needs no
database is answered here: the handshake, IGNORED while failed or while a
RESET is on its way, PULL and DISCARD paging over the rows of a result,
TELEMETRY, and FAILURE for a message the current state does not allow. A
result whose rows are not all made yet (a read that streams) is `open`: a
PULL or DISCARD that wants more rows than it holds goes to the application,
which gives what it made (`deliver`).

Versions: 4.0 to 4.4 and 5.0 to 5.8. What differs between them is kept to a
few checks: where credentials arrive (HELLO before 5.1, LOGON after), which
messages exist (ROUTE 4.3+, LOGON/LOGOFF 5.1+, TELEMETRY 5.4+), the shape of
ROUTE's last field (a database name in 4.3, a map from 4.4: the transport
reads both), the FAILURE shape (GQL fields from 5.7) and the value shapes
(`values.dehydrate`: element ids from 5.0). A `qid` counts the results of one
transaction from 0, as py2neo numbers them.

The legal transitions are the table `TRANSITIONS`: (state, request) -> state
after SUCCESS. A request not in the table for the current state is a protocol
violation: FAILURE, then the connection is closed. FAILURE of any other request
moves to FAILED, where everything but RESET is IGNORED. A RESET counts from the
moment its bytes arrive (`interrupt_pending`, so the transport can cancel the
running query); requests queued before it are IGNORED, as in Bolt's
INTERRUPTED state.

Input that breaks a limit or is not a message (too large, nested too deep,
undecodable) is refused the same way: the requests before it are answered,
then a FAILURE says what was wrong (and which flag sets the limit) and the
connection closes; bytes after it are dropped unread. So is input the
transport refuses (`refuse`, for limits across connections). Until the client
has logged in a message may be only `LOGIN_MAX_MESSAGE_SIZE` bytes.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass
from typing import Any

from weftdb.server.bolt.packstream import DEFAULT_MAX_DEPTH, PackStreamError, Structure, pack_structure_into, unpack
from weftdb.server.bolt.values import BadValue, dehydrate

MAGIC = b"\x60\x60\xb0\x17"
# Supported versions: major -> (lowest minor, highest minor).
SUPPORTED = {5: (0, 8), 4: (0, 4)}
MAX_CHUNK = 0xFFFF
DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024
# The largest message before the login has succeeded. A HELLO or LOGON is a few
# hundred bytes (user agent, routing context, a user name and password): 64 KiB
# leaves room for long agents and routing maps, while a connection that never
# logs in holds at most that plus one chunk being received.
LOGIN_MAX_MESSAGE_SIZE = 64 * 1024

SUCCESS, RECORD, IGNORED, FAILURE = 0x70, 0x71, 0x7E, 0x7F


class State(enum.Enum):
    NEGOTIATION = "NEGOTIATION"
    CONNECTED = "CONNECTED"
    AUTHENTICATION = "AUTHENTICATION"
    READY = "READY"
    STREAMING = "STREAMING"
    TX_READY = "TX_READY"
    TX_STREAMING = "TX_STREAMING"
    FAILED = "FAILED"
    DEFUNCT = "DEFUNCT"


S = State
TRANSITIONS: dict[tuple[State, str], State] = {
    (S.CONNECTED, "HELLO"): S.READY,  # AUTHENTICATION from 5.1: credentials come with LOGON
    (S.AUTHENTICATION, "LOGON"): S.READY,
    (S.READY, "LOGOFF"): S.AUTHENTICATION,
    (S.READY, "RUN"): S.STREAMING,
    (S.READY, "BEGIN"): S.TX_READY,
    (S.READY, "ROUTE"): S.READY,
    (S.READY, "TELEMETRY"): S.READY,
    (S.STREAMING, "PULL"): S.READY,  # stays STREAMING while the result has more
    (S.STREAMING, "DISCARD"): S.READY,
    (S.TX_READY, "RUN"): S.TX_STREAMING,
    (S.TX_READY, "COMMIT"): S.READY,
    (S.TX_READY, "ROLLBACK"): S.READY,
    (S.TX_STREAMING, "RUN"): S.TX_STREAMING,
    (S.TX_STREAMING, "PULL"): S.TX_READY,  # stays TX_STREAMING while any result has more
    (S.TX_STREAMING, "DISCARD"): S.TX_READY,
    (S.TX_STREAMING, "COMMIT"): S.READY,
    (S.TX_STREAMING, "ROLLBACK"): S.READY,
    **{(state, "RESET"): S.READY for state in (S.READY, S.STREAMING, S.TX_READY, S.TX_STREAMING, S.FAILED)},
}
# After RUN of the text BEGIN / COMMIT / ROLLBACK (pymgclient's transaction control).
AFTER_CONTROL_RUN = {"begin": S.TX_STREAMING, "commit": S.STREAMING, "rollback": S.STREAMING}

_MAP, _LIST, _STR, _INT, _ANY = dict, list, str, int, object
# signature -> (name, field types, lowest version that has it)
MESSAGES: dict[int, tuple[str, tuple[type, ...], tuple[int, int]]] = {
    0x01: ("HELLO", (_MAP,), (4, 0)),
    0x02: ("GOODBYE", (), (4, 0)),
    0x0F: ("RESET", (), (4, 0)),
    0x10: ("RUN", (_STR, _MAP, _MAP), (4, 0)),
    0x11: ("BEGIN", (_MAP,), (4, 0)),
    0x12: ("COMMIT", (), (4, 0)),
    0x13: ("ROLLBACK", (), (4, 0)),
    0x2F: ("DISCARD", (_MAP,), (4, 0)),
    0x3F: ("PULL", (_MAP,), (4, 0)),
    0x66: ("ROUTE", (_MAP, _LIST, _ANY), (4, 3)),  # the last field: a name or null in 4.3, a map from 4.4
    0x6A: ("LOGON", (_MAP,), (5, 1)),
    0x6B: ("LOGOFF", (), (5, 1)),
    0x54: ("TELEMETRY", (_INT,), (5, 4)),
}


class ProtocolError(Exception):
    """The peer broke the framing or sent something that is not a Bolt message;
    the connection must be closed. The message says why, for the log."""


@dataclass(frozen=True)
class Status:
    """What a FAILURE reports: the Neo4j code and, from Bolt 5.7, the GQL status with
    its description (without the message, which has its own field)."""

    code: str
    gql_status: str = "50N42"
    description: str = "general processing exception - unexpected error"


# The failures the protocol reports by itself.
INVALID_STATE = Status("Neo.ClientError.Request.Invalid", "08N10", "connection exception - invalid server state")
INVALID_REQUEST = Status("Neo.ClientError.Request.Invalid", "08N11", "connection exception - request error")
UNDECODABLE = Status("Neo.ClientError.Request.InvalidFormat", "08N06", "connection exception - protocol error")
TOO_LARGE = Status("Neo.ClientError.Request.Invalid", "22N56", "data exception - protocol message length limit overflow")
UNSENDABLE = Status("Neo.DatabaseError.Statement.ExecutionFailed", "22N00", "data exception - unsupported value")


@dataclass(slots=True)
class Request:
    name: str
    fields: tuple


@dataclass(slots=True)
class _Stream:
    rows: list  # rows received and not yet sent from `position` on
    summary: dict
    position: int = 0
    open: bool = False  # the application has more rows to give (`deliver`)


def negotiate(proposals: bytes) -> tuple[int, int] | None:
    """The highest version among the four 4-byte proposals that this server speaks."""
    for i in range(0, 16, 4):
        _, span, minor, major = proposals[i : i + 4]
        if major not in SUPPORTED:
            continue  # includes 0xFF, the manifest style: a plain reply suffices
        low, high = SUPPORTED[major]
        best = min(minor, high)
        if best >= max(low, minor - span):
            return (major, best)
    return None


class BoltProtocol:
    """One Bolt connection's protocol state. Not thread-safe; one transport drives it."""

    def __init__(self, *, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE, max_depth: int = DEFAULT_MAX_DEPTH):
        self.max_message_size = max_message_size
        self.max_depth = max_depth
        self.version: tuple[int, int] | None = None
        self.state = State.NEGOTIATION
        self.authenticated = False  # the login succeeded (and no LOGOFF since)
        self._login_limit = min(max_message_size, LOGIN_MAX_MESSAGE_SIZE)
        self._limit = self._login_limit  # the size a message may have now
        self._inbox = bytearray()
        self._message = bytearray()
        self._requests: deque[Request] = deque()
        self._out = bytearray()
        self._resets_pending = 0
        self._current: Request | None = None
        self._streams: dict[int, _Stream] = {}
        self._next_qid = 0
        self._last_qid = -1
        self._refusal: tuple[Status, str] | None = None  # the FAILURE that ends the input
        self.violation: str | None = None  # why a request was refused and the connection closed

    # -- bytes in -------------------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Take bytes from the peer. Raises ProtocolError when they are not a Bolt
        handshake (nothing can be answered); input that breaks a limit or does not
        decode later is refused with a FAILURE (`refuse`). Input after that is dropped."""
        if self.state is State.DEFUNCT or self._refusal is not None:
            return
        self._inbox += data
        if self.state is State.NEGOTIATION:
            try:
                self._handshake()
            except ProtocolError:
                self.state = State.DEFUNCT
                raise
            if self.state is State.NEGOTIATION:
                return
        try:
            self._read_chunks()
        except ProtocolError as exc:
            self.refuse(UNDECODABLE, str(exc))

    def refuse(self, status: Status, message: str) -> None:
        """End the input: once the requests received so far are answered, a FAILURE
        with `status` and `message`, then the connection closes. What is buffered
        is dropped now, and later input unread."""
        if self._refusal is None and self.state is not State.DEFUNCT:
            self._refusal = (status, message)
            self.violation = message
        self._inbox = bytearray()
        self._message = bytearray()

    def _handshake(self) -> None:
        if len(self._inbox) < 20:
            if not MAGIC.startswith(bytes(self._inbox[:4])):
                raise ProtocolError("not a Bolt client: wrong magic bytes")
            return
        if self._inbox[:4] != MAGIC:
            raise ProtocolError("not a Bolt client: wrong magic bytes")
        self.version = negotiate(bytes(self._inbox[4:20]))
        del self._inbox[:20]
        if self.version is None:
            self._out += b"\x00\x00\x00\x00"
            raise ProtocolError("no common Bolt version (this server speaks 4.0 to 4.4 and 5.0 to 5.8)")
        self._out += bytes((0, 0, self.version[1], self.version[0]))
        self.state = State.CONNECTED

    def _read_chunks(self) -> None:
        inbox, message, pos = self._inbox, self._message, 0
        while len(inbox) - pos >= 2:
            size = (inbox[pos] << 8) | inbox[pos + 1]
            if size == 0:
                pos += 2
                if message:  # an empty message is a NOOP keep-alive
                    self._requests.append(self._decode(bytes(message)))
                    message.clear()
                continue
            if len(message) + size > self._limit:
                self.refuse(TOO_LARGE, self._too_large())
                return
            end = pos + 2 + size
            if len(inbox) < end:
                break
            if not message and inbox[end : end + 2] == b"\x00\x00":  # a message in one chunk: nearly all
                self._requests.append(self._decode(bytes(inbox[pos + 2 : end])))
                end += 2
            else:
                message += inbox[pos + 2 : end]
            pos = end
        del inbox[:pos]

    def _too_large(self) -> str:
        if self._limit == self.max_message_size:
            return (f"the message is larger than {_kib(self.max_message_size)}, the limit set by "
                    "--bolt-max-message-size-kib; the connection is closed")
        return (f"a message sent before logging in may be at most {_kib(self._limit)} (a fixed limit: "
                "a login needs a few hundred bytes); this one is larger and the connection is closed")

    def _decode(self, data: bytes) -> Request:
        try:
            message = unpack(data, self.max_depth)
        except PackStreamError as exc:
            if str(exc).startswith("nesting deeper than"):  # packstream's wording for its depth limit
                raise ProtocolError(f"the message nests values more than {self.max_depth} levels deep, the "
                                    "limit (no flag changes it); the connection is closed") from None
            raise ProtocolError(f"malformed message: {exc}") from None
        if not isinstance(message, Structure):
            raise ProtocolError("a message must be a structure")
        spec = MESSAGES.get(message.tag)
        if spec is None:
            raise ProtocolError(f"unknown message signature 0x{message.tag:02X}")
        name, types, since = spec
        if self.version < since:
            raise ProtocolError(f"{name} does not exist in Bolt {self.version[0]}.{self.version[1]}")
        fields = message.fields
        if len(fields) != len(types):
            raise ProtocolError(f"{name} with malformed fields")
        for field, kind in zip(fields, types):
            if not isinstance(field, kind):
                raise ProtocolError(f"{name} with malformed fields")
        if name == "RESET":
            self._resets_pending += 1
        return Request(name, fields)

    # -- requests out ---------------------------------------------------------------------

    @property
    def interrupt_pending(self) -> bool:
        """A RESET has arrived that has not been carried out yet: cancel the running query."""
        return self._resets_pending > 0

    @property
    def backlog(self) -> int:
        """Requests received and not yet handed out."""
        return len(self._requests)

    @property
    def closed(self) -> bool:
        """The connection must be closed once `data_to_send()` is written."""
        return self.state is State.DEFUNCT

    @property
    def buffered(self) -> int:
        """Bytes held of messages not yet complete."""
        return len(self._inbox) + len(self._message)

    def next_request(self) -> Request | None:
        """The next request the application must carry out, answering in passing those that
        need no database. None when nothing is ready (or the connection is closing)."""
        if self._current is not None:
            raise RuntimeError(f"the outcome of {self._current.name} has not been reported")
        while self._requests and self.state is not State.DEFUNCT:
            request = self._requests.popleft()
            name = request.name
            if name == "GOODBYE":
                self.state = State.DEFUNCT
                return None
            if name == "RESET":
                self._resets_pending -= 1
            elif self._resets_pending or self.state is State.FAILED:
                self._emit(IGNORED)
                continue
            if (self.state, name) not in TRANSITIONS:
                self.violation = f"{name} is not allowed in state {self.state.value}"
                self._emit_failure(INVALID_STATE, self.violation)
                self.state = State.DEFUNCT
                return None
            if name in ("PULL", "DISCARD"):
                if self._needs_rows(request):
                    self._current = request
                    return request
                self._page(request)
            elif name == "TELEMETRY":
                self._emit(SUCCESS, {})
            else:
                self._current = request
                return request
        if self._refusal is not None and self.state is not State.DEFUNCT:
            self._emit_failure(*self._refusal)
            self.state = State.DEFUNCT
        return None

    # -- outcomes in ----------------------------------------------------------------------

    def succeed(self, metadata: dict | None = None) -> None:
        """The current request (not RUN) succeeded; SUCCESS carries `metadata`."""
        request = self._take_current()
        if self.state is State.DEFUNCT:  # the connection broke while the request ran
            return
        next_state = TRANSITIONS[(self.state, request.name)]
        if request.name == "HELLO" and self.version >= (5, 1):
            next_state = State.AUTHENTICATION
        if request.name in ("COMMIT", "ROLLBACK", "RESET", "LOGOFF"):
            self._streams.clear()
        if request.name == "BEGIN":
            self._next_qid = 0  # a transaction numbers its results from 0
        if request.name in ("HELLO", "LOGON", "LOGOFF"):
            self.authenticated = next_state is State.READY
            self._limit = self.max_message_size if self.authenticated else self._login_limit
        self.state = next_state
        self._emit(SUCCESS, metadata or {})

    def stream(self, columns: list[str], rows: list, summary: dict, t_first: int = 0, control: str | None = None,
               more: bool = False) -> None:
        """The current RUN succeeded; PULL pages through `rows` and the last PULL's
        SUCCESS carries `summary`. `more`: the result has rows after `rows`, which
        the application gives when a PULL needs them (`deliver`). `control` is
        "begin", "commit" or "rollback" when the RUN text was transaction control."""
        request = self._take_current()
        if self.state is State.DEFUNCT:  # the connection broke while the request ran
            return
        if request.name != "RUN":
            raise RuntimeError("stream() answers RUN only")
        next_state = AFTER_CONTROL_RUN[control] if control else TRANSITIONS[(self.state, "RUN")]
        if control:
            self._streams.clear()
            self._next_qid = 0
        qid = self._next_qid
        self._next_qid += 1
        self._last_qid = qid
        self._streams[qid] = _Stream(rows, summary, open=more)
        metadata = {"fields": list(columns), "t_first": t_first}
        if next_state is State.TX_STREAMING:
            metadata["qid"] = qid
        self.state = next_state
        self._emit(SUCCESS, metadata)

    def wanted(self) -> int | None:
        """How many more rows the current PULL or DISCARD needs than its result
        holds; None: every row (a DISCARD of them all may end the result instead)."""
        extra = self._current.fields[0]
        n = extra.get("n", -1)
        if n == -1:
            return None
        stream = self._streams[self._qid(extra)]
        return n - (len(stream.rows) - stream.position)

    def deliver(self, rows: list, ended: bool) -> None:
        """The rows the current PULL or DISCARD needed (`wanted`); `ended`: the
        result has no more. Then the PULL or DISCARD is answered."""
        request = self._take_current()
        if self.state is State.DEFUNCT:  # the connection broke while the rows were made
            return
        stream = self._streams[self._qid(request.fields[0])]
        del stream.rows[: stream.position]
        stream.position = 0
        stream.rows += rows
        stream.open = not ended
        self._page(request)

    def fail(self, code: str | Status, message: str) -> None:
        """The current request failed: `code` is a Neo4j code or a Status with the GQL
        status to report. A failed HELLO or LOGON closes the connection."""
        request = self._take_current()
        if self.state is State.DEFUNCT:  # the connection broke while the request ran
            return
        self._emit_failure(code if isinstance(code, Status) else Status(code), message)
        self.state = State.DEFUNCT if request.name in ("HELLO", "LOGON") else State.FAILED

    def data_to_send(self) -> bytes:
        out = bytes(self._out)
        self._out.clear()
        return out

    # -- internals ------------------------------------------------------------------------

    def _take_current(self) -> Request:
        request, self._current = self._current, None
        if request is None:
            raise RuntimeError("no request is waiting for an outcome")
        return request

    def _qid(self, extra: dict) -> int:
        qid = extra.get("qid", -1)
        return self._last_qid if qid == -1 else qid

    @staticmethod
    def _valid_page(extra: dict) -> bool:
        """PULL and DISCARD ask for n > 0 rows or all (-1), of result qid or the last (-1)."""
        n, qid = extra.get("n", -1), extra.get("qid", -1)
        return isinstance(n, int) and isinstance(qid, int) and (n > 0 or n == -1)

    def _needs_rows(self, request: Request) -> bool:
        """A valid PULL or DISCARD of an open result that its rows do not answer."""
        extra = request.fields[0]
        if not self._valid_page(extra):
            return False  # _page refuses it
        n = extra.get("n", -1)
        stream = self._streams.get(self._qid(extra))
        if stream is None or not stream.open:
            return False
        return n == -1 or n > len(stream.rows) - stream.position

    def _page(self, request: Request) -> None:
        extra = request.fields[0]
        n = extra.get("n", -1)
        if not self._valid_page(extra):
            self._emit_failure(INVALID_REQUEST, f"{request.name} needs n > 0 or n = -1")
            self.state = State.FAILED
            return
        qid = self._qid(extra)
        stream = self._streams.get(qid)
        if stream is None:
            self._emit_failure(INVALID_REQUEST, f"no open result with qid {qid}")
            self.state = State.FAILED
            return
        end = len(stream.rows) if n == -1 else min(len(stream.rows), stream.position + n)
        if request.name == "PULL":
            major, mark = self.version[0], len(self._out)
            try:
                for row in stream.rows[stream.position : end]:
                    self._emit(RECORD, [dehydrate(v, major) for v in row])
            except (BadValue, PackStreamError) as exc:  # a value this version cannot carry
                del self._out[mark:]  # none of the page's records
                self._emit_failure(UNSENDABLE, f"cannot send the result: {exc}")
                self.state = State.FAILED
                return
        stream.position = end
        if end < len(stream.rows) or stream.open:
            self._emit(SUCCESS, {"has_more": True})
            return
        del self._streams[qid]
        if not self._streams:
            self.state = TRANSITIONS[(self.state, request.name)]
        self._emit(SUCCESS, {**stream.summary, "has_more": False})  # pymgclient reads has_more always

    def _emit_failure(self, status: Status, message: str) -> None:
        if self.version >= (5, 7):
            self._emit(
                FAILURE,
                {
                    "neo4j_code": status.code,
                    "message": message,
                    "gql_status": status.gql_status,
                    "description": f"error: {status.description}",
                },
            )
        else:
            self._emit(FAILURE, {"code": status.code, "message": message})

    def _emit(self, tag: int, *fields: Any) -> None:
        """Append a message to the output, framed in chunks of at most 64 KiB
        and ended by a zero-size chunk. It is packed in place, behind room for
        the header of its one chunk (nearly every message needs only one)."""
        out = self._out
        start = len(out)
        out += b"\x00\x00"
        try:
            pack_structure_into(out, tag, fields)
        except BaseException:
            del out[start:]
            raise
        size = len(out) - start - 2
        if size <= MAX_CHUNK:
            out[start : start + 2] = size.to_bytes(2, "big")
            out += b"\x00\x00"
            return
        body = bytes(out[start + 2 :])
        del out[start:]
        for at in range(0, size, MAX_CHUNK):
            piece = body[at : at + MAX_CHUNK]
            out += len(piece).to_bytes(2, "big")
            out += piece
        out += b"\x00\x00"


def _kib(size: int) -> str:
    return f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"

"""A small blocking Bolt client, for WeftDB's own tools (`weftdb shell --host`,
`weftdb dump --host`).

Why not the neo4j driver: it is not a dependency of WeftDB itself, and it
cannot stop a running query from another thread. This client speaks the few
messages a tool needs (HELLO/LOGON, RUN with PULL, RESET, GOODBYE) with the
server's own PackStream codec and value mapping, and `cancel()` may be
called from any thread while `run` waits: it sends RESET, so the server stops
the query at its next row and rolls it back, and `run` raises
`QueryInterrupted` once the server has answered.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections import deque
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from weftdb.basics import errors
from weftdb.query.results import Result
from weftdb.server.bolt.packstream import PackStreamError, Structure, pack, unpack
from weftdb.server.bolt.protocol import FAILURE, IGNORED, MAGIC, MAX_CHUNK, RECORD, SUCCESS
from weftdb.server.bolt.values import BadValue, dehydrate, result_value

HELLO, GOODBYE, RESET, RUN, PULL, LOGON = 0x01, 0x02, 0x0F, 0x10, 0x3F, 0x6A
# The versions offered, best first: 5.0 to 5.8, then 4.4 (the handshake's ranges).
PROPOSALS = bytes((0, 8, 8, 5, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0))
MAX_MESSAGE = 256 << 20  # a larger answer is not believed


def _agent() -> str:
    try:
        return f"weftdb-tools/{version('weftdb')}"
    except PackageNotFoundError:
        return "weftdb-tools"


_ERRORS: dict[str, type[errors.Error]] = {}
for _cls in vars(errors).values():
    if isinstance(_cls, type) and issubclass(_cls, errors.Error):
        _ERRORS.setdefault(_cls.code, _cls)


def error_for(code: str, message: str) -> errors.Error:
    """The WeftDB exception for a FAILURE's Neo4j status code (the closest class by prefix)."""
    cls = _ERRORS.get(code)
    if cls is None:
        kind = code.split(".")[1] if code.count(".") >= 1 else ""
        cls = {"ClientError": errors.ClientError, "TransientError": errors.TransientError}.get(kind, errors.DatabaseError)
    err = cls(message)
    err.code = code
    return err


class BoltClient:
    """One connection to a Bolt server. `run` is for one thread at a time;
    `cancel` for any thread."""

    def __init__(self, host: str, port: int, user: str | None = None, password: str | None = None,
                 tls: bool = False, timeout: float = 10.0):
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self._sock = sock
        self._send_lock = threading.Lock()
        self._owed: deque[str] = deque()  # the requests sent whose answer has not been read, in order
        try:
            sock.sendall(MAGIC + PROPOSALS)
            answer = self._read_exactly(4)
            if answer == b"\x00\x00\x00\x00":
                raise errors.ClientError(f"{host}:{port} speaks no Bolt version this client knows (4.4, 5.0 to 5.8)")
            self.version = (answer[3], answer[2])
            auth = {"scheme": "basic", "principal": user, "credentials": password or ""} if user else {"scheme": "none"}
            hello = {"user_agent": _agent()}
            if self.version < (5, 1):
                self._send(("HELLO", Structure(HELLO, ({**hello, **auth},))))
            else:
                self._send(("HELLO", Structure(HELLO, (hello,))), ("LOGON", Structure(LOGON, (auth,))))
            self.server = self._answer()[1].get("server", "")
            if self._owed:
                self._answer()
            sock.settimeout(None)  # a query may run as long as the server lets it
        except BaseException:
            sock.close()
            raise

    # -- the tool's side ---------------------------------------------------------------

    def run(self, query: str, params: dict[str, Any] | None = None) -> Result:
        """Run one statement and fetch all its rows. A FAILURE raises the matching
        weftdb error once the connection is READY again (RESET)."""
        self._drain()  # the answer to a cancel that came after the last statement ended
        try:
            fields = (query, dehydrate(params or {}, self.version[0]), {})
        except BadValue as exc:
            raise errors.ClientError(str(exc)) from None
        self._send(("RUN", Structure(RUN, fields)), ("PULL", Structure(PULL, ({"n": -1},))))
        try:
            _, head = self._answer()
            rows = []
            while True:
                tag, body = self._next()
                if tag != RECORD:
                    break
                rows.append(tuple(result_value(v, self.version[0]) for v in body[0]))
            summary = self._outcome(self._owed.popleft(), tag, body)[1]
        except errors.Error:
            self._drain(reset=True)
            raise
        counters = {key: value for key, value in summary.get("stats", {}).items() if isinstance(value, int)}
        return Result(list(head.get("fields", [])), rows, summary.get("type", "r"), counters)

    def cancel(self) -> None:
        """Ask the server to stop what this connection runs (RESET); `run` then raises QueryInterrupted."""
        with self._send_lock:
            if self._owed and "RESET" not in self._owed:
                self._send_locked(("RESET", Structure(RESET, ())))

    def close(self) -> None:
        try:
            with self._send_lock:
                self._write(Structure(GOODBYE, ()))
        except OSError:
            pass
        self._sock.close()

    # -- messages ------------------------------------------------------------------------

    def _send(self, *requests: tuple[str, Structure]) -> None:
        with self._send_lock:
            self._send_locked(*requests)

    def _send_locked(self, *requests: tuple[str, Structure]) -> None:
        for name, message in requests:
            self._owed.append(name)
            self._write(message)

    def _write(self, message: Structure) -> None:
        body = pack(message)
        framed = bytearray()
        for start in range(0, len(body), MAX_CHUNK):
            piece = body[start : start + MAX_CHUNK]
            framed += len(piece).to_bytes(2, "big") + piece
        self._sock.sendall(bytes(framed + b"\x00\x00"))

    def _drain(self, reset: bool = False) -> None:
        """Read every owed answer; with `reset`, after a FAILURE, make sure a RESET
        is among them so the connection ends READY."""
        if reset:
            with self._send_lock:
                if "RESET" not in self._owed:
                    self._send_locked(("RESET", Structure(RESET, ())))
        while self._owed:
            tag, _fields = self._next()
            if tag != RECORD:
                self._owed.popleft()

    def _read_exactly(self, n: int) -> bytes:
        parts, left = [], n
        while left:
            part = self._sock.recv(min(left, 1 << 16))
            if not part:
                raise errors.DatabaseError("the server closed the connection")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _next(self) -> tuple[int, tuple]:
        """The next whole message from the server: (tag, fields)."""
        data = bytearray()
        while True:
            size = int.from_bytes(self._read_exactly(2), "big")
            if size == 0:
                if data:
                    break
                continue  # a NOOP keep-alive
            data += self._read_exactly(size)
            if len(data) > MAX_MESSAGE:
                raise errors.DatabaseError("the server sent an answer larger than this client accepts")
        try:
            message = unpack(bytes(data))
        except PackStreamError as exc:
            raise errors.DatabaseError(f"the server sent a malformed message: {exc}") from None
        if not isinstance(message, Structure):
            raise errors.DatabaseError("the server sent a message that is not a structure")
        return message.tag, message.fields

    def _answer(self) -> tuple[str, dict]:
        """The answer to the oldest owed request, as (its name, metadata); an error for a FAILURE or IGNORED."""
        tag, fields = self._next()
        return self._outcome(self._owed.popleft(), tag, fields)

    @staticmethod
    def _outcome(name: str, tag: int, fields: tuple) -> tuple[str, dict]:
        metadata = fields[0] if fields and isinstance(fields[0], dict) else {}
        if tag == SUCCESS:
            return name, metadata
        if tag == FAILURE:
            code = metadata.get("neo4j_code") or metadata.get("code") or "Neo.DatabaseError.General.UnknownError"
            raise error_for(code, metadata.get("message", "the server reported a failure"))
        if tag == IGNORED:
            raise errors.QueryInterrupted("cancelled")
        raise errors.DatabaseError(f"the server answered {name} with message 0x{tag:02X}")

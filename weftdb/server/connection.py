"""One Bolt client: the asyncio glue between its socket, `BoltProtocol` and the Database.

The event loop hands each connection's bytes to `Connection.data_received`
as they arrive, so a RESET or a dropped connection is seen while a query is
still running and sets `interrupt`, which the engine checks at every row.
The requests are carried out one at a time, in order. One that needs no
wait is carried out there and then: a PULL of rows in hand, and a RUN of a
statement that ran quickly before (Database.quick), outside a transaction,
on the loop with a budget. The first that needs a wait (a statement on a
worker thread, a login's delay) starts the connection's task, which carries
out that one and those that arrive meanwhile, and ends when none is left.
Statements run in the server's thread pool there, so one slow query never
stalls the event loop or other clients. Everything Bolt-specific is in
`bolt/protocol.py`; this module only knows what each request asks of the
Database.

The connection also keeps the count of bytes it holds in unfinished
messages (the server caps their sum, `--bolt-max-buffered-mib`) and since when
a message has been arriving, so that the server's sweeper can cut off a
connection that is too slow (`overdue`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from weftdb.basics import errors, identity
from weftdb.query.executor import OverBudget
from weftdb.query.running import Client
from weftdb.server.bolt.protocol import BoltProtocol, ProtocolError, Request, Status
from weftdb.server.bolt.values import hydrate

if TYPE_CHECKING:
    from weftdb.server.server import BoltServer

log = logging.getLogger("weftdb.server")

DATABASE_NAME = identity.DATABASE
AUTH_FAILURE_DELAY = 0.5  # seconds; slows password guessing, says nothing about why
MAX_BACKLOG = 64  # pipelined requests buffered before reading pauses
LOGIN_BACKLOG = 2  # the same before the login: a HELLO and a LOGON
MESSAGE_GRACE = 10.0  # seconds a message may take before --bolt-min-message-rate-kib applies
# After a FAILURE that refused the client's input, how long the client may go on
# sending (dropped unread) before the close: closing a socket with unread input
# resets it, and a reset can destroy the FAILURE before the client has read it.
LINGER = 5.0
OVER_CAP = Status("Neo.TransientError.General.MemoryPoolOutOfMemoryError", "51N72",
                  "system configuration or operation exception - memory pool out of memory")
UNAUTHORIZED = "The client is unauthorized due to authentication failure."
# How long a statement may hold the event loop (Database.quick): past it, it stops at its
# next check (every CHECK_EVERY rows of an operator) and runs again on a worker.
INLINE_BUDGET = 0.001
_CONTROL_TEXTS = {"BEGIN": "begin", "COMMIT": "commit", "ROLLBACK": "rollback"}


def _access(extra: dict) -> dict:
    """Bolt's read access mode (`mode: "r"`, a driver's READ session or execute_read): the
    transaction refuses writes, WRITE procedures included, as Neo4j's (Statement.AccessMode)."""
    return {"read_only": True} if isinstance(extra, dict) and extra.get("mode") == "r" else {}


def control_command(query: str) -> str | None:
    """The transaction command a query text is, if it is only BEGIN, COMMIT or ROLLBACK."""
    return _CONTROL_TEXTS.get(query.strip().rstrip(";").strip().upper())


class Connection(asyncio.Protocol):
    """One client connection, from its first byte to its close."""

    def __init__(self, server: "BoltServer", number: int):
        self.server = server
        self.db = server.db
        self.transport: asyncio.Transport | None = None
        self.id = f"bolt-{number}"
        self.peer: Any = None
        self.proto = BoltProtocol(max_message_size=server.max_message_size)
        self.interrupt = threading.Event()
        self.tx: Any = None  # the open explicit transaction
        self.tx_database = DATABASE_NAME  # the name its BEGIN gave the database
        self.tx_db: Any = None  # the database it runs in
        self.streaming: tuple[Any, Any] | None = None  # (Result, its database): an autocommit read that streams
        self.session_database: str | None = None  # USE DATABASE's choice for requests that name none
        self.user = ""  # who logged in (while users are defined), for SHOW TRANSACTIONS
        self._plain_client: Client | None = None
        self.tx_timeout: float | None = None
        self.busy = False
        self.closing = False
        self.opened = self.last_activity = self.login_started = time.monotonic()
        self.held = 0  # bytes of unfinished messages, counted in server.buffered
        self.partial_since = 0.0  # since when a message has been arriving (0: none is)
        self.partial_bytes = 0  # bytes received since then
        self._paused = False  # reading waits for the backlog to shrink
        self._task: asyncio.Task | None = None  # carrying out requests that wait (`_work`)
        self._writable = asyncio.Event()  # the transport takes more output (asyncio's flow control)
        self._writable.set()
        self._lost = asyncio.Event()  # the connection is gone
        self.ended: asyncio.Future | None = None  # done once it is gone and its transaction rolled back

    # -- lifecycle (asyncio.Protocol) ------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.peer = transport.get_extra_info("peername")
        server = self.server
        self.ended = asyncio.get_running_loop().create_future()
        if len(server.connections) >= server.config.bolt_max_connections:
            log.warning("refused %s: %d connections open already", self.peer, len(server.connections))
            transport.close()
            return
        server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        """The end, however it came: the running query is cancelled, and once it
        has stopped the open transaction is rolled back (`_end`)."""
        self._lost.set()
        self._writable.set()  # what waits to write finds the connection gone
        self.interrupt.set()
        if self in self.server.connections:
            asyncio.get_running_loop().create_task(self._end())
        elif not self.ended.done():  # refused at once
            self.ended.set_result(None)

    async def _end(self) -> None:
        try:
            if self._task is not None:
                await asyncio.wait([self._task])
            self._hold(0)
            await self._rollback_quietly()
        except Exception:  # one client's trouble never reaches the others
            log.exception("%s %s: connection failed", self.id, self.peer)
        finally:
            self.server.connections.discard(self)
            self.ended.set_result(None)

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def close(self, reason: str) -> None:
        """Close from outside (a limit, idle, shutdown): cancels the running query, rolls back."""
        log.info("%s %s: closing: %s", self.id, self.peer, reason)
        self.closing = True
        self.interrupt.set()
        self.transport.close()

    def overdue(self, now: float) -> str | None:
        """Why the connection must be closed now, if it has run out of time: no
        handshake, no login, a message arriving too slowly, or idle."""
        if self.closing or self.proto.closed:
            return None
        server = self.server
        if self.proto.version is None:
            if now - self.opened > server.handshake_timeout:
                return f"no Bolt handshake within {server.handshake_timeout} s (--bolt-handshake-timeout-sec)"
            return None
        if not self.proto.authenticated and not self.busy and now - self.login_started > server.auth_timeout:
            return f"not logged in within {server.auth_timeout} s (--bolt-auth-timeout-sec)"
        if self.partial_since and server.min_rate and not self._paused:
            if now - self.partial_since > MESSAGE_GRACE + self.partial_bytes / server.min_rate:
                return (f"a message arriving slower than {server.min_rate // 1024} KiB/s "
                        f"(--bolt-min-message-rate-kib): {self.partial_bytes} bytes in {now - self.partial_since:.0f} s")
        if server.idle_timeout and not self.busy and now - self.last_activity > server.idle_timeout:
            return f"no message for {server.idle_timeout} s (--bolt-session-inactivity-timeout)"
        return None

    # -- bytes in --------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        proto = self.proto
        self.last_activity = now = time.monotonic()
        try:
            proto.receive_data(data)  # after a refusal, what arrives is dropped
        except ProtocolError as exc:  # not a Bolt client: there is nothing to answer in Bolt
            log.warning("%s %s: closing the connection: %s", self.id, self.peer, exc)
            self._write(proto.data_to_send())
            self.transport.close()
            return
        held = proto.buffered
        if held:
            if not self.partial_since:
                self.partial_since, self.partial_bytes = now, 0
            self.partial_bytes += len(data)
        else:
            self.partial_since = 0.0
        if held != self.held:
            self._hold(held)
        if proto.interrupt_pending:
            self.interrupt.set()
        self._write(proto.data_to_send())  # the handshake's answer
        if proto.backlog >= (MAX_BACKLOG if proto.authenticated else LOGIN_BACKLOG) and not proto.closed:
            self._paused = True  # until the requests are taken (`_room`); the time does not count against the rate
            self.transport.pause_reading()
        self._next()
        self.server.loop_busy += time.monotonic() - now

    def eof_received(self) -> bool:
        return False  # a client that stops sending has gone: close, which cancels its query

    def _room(self) -> None:
        """Read again once requests have been taken from a full backlog."""
        if self._paused and self.proto.backlog < MAX_BACKLOG and not self._lost.is_set():
            self._paused = False
            self.transport.resume_reading()
            if self.partial_since:
                self.partial_since, self.partial_bytes = time.monotonic(), 0

    def _hold(self, held: int) -> None:
        """Count `held` bytes of unfinished messages for this connection; refuse its
        input when that takes the server over --bolt-max-buffered-mib."""
        server = self.server
        grew = held > self.held
        server.buffered += held - self.held
        self.held = held
        if grew and server.buffered > server.max_buffered:
            log.warning("%s %s: refused: %d bytes of unfinished messages held by all connections, over the "
                        "limit of %d", self.id, self.peer, server.buffered, server.max_buffered)
            self.proto.refuse(OVER_CAP, f"the server holds {server.max_buffered >> 20} MiB of unfinished messages "
                              "from all connections, the limit set by --bolt-max-buffered-mib; try again later")
            self._hold(self.proto.buffered)

    # -- carrying out requests -------------------------------------------------------------

    def _next(self) -> None:
        """Carry out the requests that have arrived: here, while each needs no
        wait; from the first that does, in the connection's task. The answers
        leave in one write: a RUN and the PULL sent with it are answered together."""
        if self._task is not None:
            return  # it takes them in turn
        proto = self.proto
        while not proto.closed and self._writable.is_set():
            request = proto.next_request()
            self._room()
            if request is None:
                break
            if not self._inline(request):
                self._task = asyncio.get_running_loop().create_task(self._work(request))
                return
            self.last_activity = time.monotonic()
        self._write(proto.data_to_send())
        if proto.closed or not self._writable.is_set():
            self._task = asyncio.get_running_loop().create_task(self._work(None))

    def _inline(self, request: Request) -> bool:
        """Carry out `request` here and now if it needs no wait (`_run_quick`)."""
        if request.name != "RUN":
            return False
        try:
            return self._run_quick(*request.fields)
        except Exception as exc:  # noqa: BLE001 - answered as `_handle` answers it
            self._failed(request, exc)
            return True

    async def _work(self, request: Request | None) -> None:
        """Carry out `request`, then those that arrived meanwhile, writing the
        answers as they go; end when none is left (the next bytes to arrive
        carry on), or close when the protocol says the connection is over."""
        proto = self.proto
        try:
            while True:
                if request is not None:
                    self.busy = True
                    try:
                        await self._handle(request)
                    finally:
                        self.busy = False
                        self.last_activity = time.monotonic()
                    # no flush here: pipelined PULLs are answered first, so a
                    # RUN and its records leave in one write
                request = proto.next_request()
                self._room()
                await self._flush()
                if proto.closed:
                    if proto.violation:
                        log.warning("%s %s: closing the connection: %s", self.id, self.peer, proto.violation)
                        await self._linger()
                    self.transport.close()
                    return
                if request is None or self._lost.is_set():
                    return
        except (ConnectionError, OSError):
            self.transport.close()
        finally:
            self._task = None
            if not (proto.closed or self.transport.is_closing()):
                self._next()  # what arrived while an answer waited for the client to read

    def _write(self, data: bytes) -> None:
        if data and not self.transport.is_closing():
            self.transport.write(data)

    async def _linger(self) -> None:
        """After a FAILURE that refused the client's input: half-close, drop what the
        client still sends, and close once it closes or after LINGER seconds."""
        if not self.transport.is_closing() and self.transport.can_write_eof():  # uvloop raises on a closed transport
            self.transport.write_eof()
        try:
            await asyncio.wait_for(self._lost.wait(), LINGER)
        except asyncio.TimeoutError:
            pass

    async def _flush(self) -> None:
        self._write(self.proto.data_to_send())
        if not self._writable.is_set():
            await self._writable.wait()
        if self._lost.is_set():
            raise ConnectionResetError("the connection is gone")

    async def _in_thread(self, function, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.server.executor, functools.partial(function, *args, **kwargs))

    async def _in_database(self, db: Any, function, *args, **kwargs):
        """A statement of database `db` on a worker, once the database holds
        fewer than its share of the workers (BoltServer.share)."""
        async with self.server.share(db.name):
            return await self._in_thread(function, *args, **kwargs)

    async def _rollback_quietly(self) -> None:
        streaming, self.streaming = self.streaming, None
        if streaming is not None:  # ends its transaction
            await self._in_thread(streaming[0].close)
        tx, self.tx = self.tx, None
        if tx is not None and not tx.closed:
            try:
                await self._in_thread(tx.rollback)
            except errors.Error as exc:
                log.warning("%s: rollback of an abandoned transaction failed: %s", self.id, exc)

    # -- requests ------------------------------------------------------------------------

    async def _handle(self, request: Request) -> None:
        handler = getattr(self, "_on_" + request.name.lower())
        try:
            await handler(*request.fields)
        except Exception as exc:  # noqa: BLE001 - answered by `_failed`
            self._failed(request, exc)

    def _failed(self, request: Request, exc: Exception) -> None:
        """Answer a request that raised with a FAILURE."""
        if isinstance(exc, errors.Error):
            self.proto.fail(Status(exc.code, exc.gql_status, exc.gql_description), str(exc))
            return
        # an engine bug must not take the server down
        log.error("%s: %s failed unexpectedly", self.id, request.name, exc_info=exc)
        self.proto.fail("Neo.DatabaseError.General.UnknownError", f"internal error: {type(exc).__name__}: {exc}")

    async def _on_hello(self, extra: dict) -> None:
        if self.proto.version < (5, 1):
            await self._authenticate(extra)
        self.proto.succeed({"server": self.server.config.bolt_server_name_for_init, "connection_id": self.id,
                            "hints": {}})

    async def _on_logon(self, auth: dict) -> None:
        await self._authenticate(auth)
        self.proto.succeed()

    async def _on_logoff(self) -> None:
        self.login_started = time.monotonic()
        self.proto.succeed()

    async def _authenticate(self, auth: dict) -> None:
        users = self.db.users
        self.user = ""
        self.session_database = None  # a new login starts in its own main database
        if not users.has_users:
            return
        principal, credentials = auth.get("principal"), auth.get("credentials")
        ok = auth.get("scheme") == "basic" and await self._in_thread(users.verify, principal, credentials)
        if not ok:
            log.warning("%s %s: failed login as %r", self.id, self.peer, principal)
            await asyncio.sleep(AUTH_FAILURE_DELAY)
            raise errors.AuthError(UNAUTHORIZED)
        self.user = principal

    def _client(self, extra: dict) -> Client:
        """Who runs a transaction this connection starts (SHOW TRANSACTIONS shows it);
        made once per user unless the request attaches metadata."""
        metadata = extra.get("tx_metadata")
        if isinstance(metadata, dict) and metadata:
            return Client(self.user, self.id, self._address(), dict(metadata))
        client = self._plain_client
        if client is None or client.user != self.user:
            client = self._plain_client = Client(self.user, self.id, self._address())
        return client

    def _address(self) -> str:
        peer = self.peer
        return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""

    async def _on_reset(self) -> None:
        await self._rollback_quietly()
        if not self.proto.interrupt_pending:
            self.interrupt.clear()
        self.proto.succeed()

    async def _on_begin(self, extra: dict) -> None:
        self.tx_database, self.tx_db = self._database(extra)
        self.tx = await self._in_thread(self.tx_db.begin, client=self._client(extra), **_access(extra))
        self.tx_timeout = self._timeout(extra)
        self.proto.succeed()

    async def _on_commit(self) -> None:
        tx, self.tx = self.tx, None
        await self._in_thread(tx.commit)
        self.proto.succeed({"bookmark": self.server.next_bookmark()})

    async def _on_rollback(self) -> None:
        tx, self.tx = self.tx, None
        await self._in_thread(tx.rollback)
        self.proto.succeed()

    async def _on_route(self, routing: dict, bookmarks: list, extra: Any) -> None:
        database = extra.get("db") if isinstance(extra, dict) else extra
        name, _ = self._database({"db": database})
        address = routing.get("address") if isinstance(routing.get("address"), str) else self.server.public_address
        servers = [{"addresses": [address], "role": role} for role in ("ROUTE", "READ", "WRITE")]
        self.proto.succeed({"rt": {"ttl": 300, "db": name, "servers": servers}})

    def _run_quick(self, query: str, parameters: dict, extra: dict) -> bool:
        """RUN a statement on the event loop, without the hop to a worker, when
        it runs outside a transaction and its plan is quick (Database.quick),
        with a budget: past it, the statement stops at its next check, is
        rolled back, and this returns False, as it does for any other RUN."""
        if self.tx is not None or control_command(query) is not None:
            return False
        name, db = self._database(extra)
        if not db.quick(query):
            return False
        started = time.monotonic()
        try:
            result = db.execute(query, hydrate(parameters, self.proto.version[0]), timeout=self._timeout(extra),
                                interrupt=self.interrupt, budget=INLINE_BUDGET, client=self._client(extra),
                                use=self._use, **_access(extra))
        except OverBudget:
            return False
        self._answer_run(result, name, db, started)
        return True

    async def _on_run(self, query: str, parameters: dict, extra: dict) -> None:
        if self._run_quick(query, parameters, extra):
            return
        name, db = self._database(extra) if self.tx is None else (self.tx_database, self.tx_db)
        control = control_command(query)
        if control is not None:
            await self._run_control(control)
            return
        params = hydrate(parameters, self.proto.version[0])
        tx = self.tx
        timeout = self.tx_timeout if tx is not None else self._timeout(extra)
        execute = tx.execute if tx is not None else db.execute
        started = time.monotonic()
        # a transaction knows its client and access mode
        options = {} if tx is not None else {"client": self._client(extra), "use": self._use, **_access(extra)}
        result = await self._in_database(db, execute, query, params, timeout=timeout, interrupt=self.interrupt,
                                         **options)
        self._answer_run(result, name, db, started)

    def _answer_run(self, result: Any, name: str, db: Any, started: float) -> None:
        """Answer a RUN with `result`, a statement's of database `db` (asked for as `name`)."""
        t_first = int((time.monotonic() - started) * 1000)
        summary: dict[str, Any] = {"type": result.query_type, "db": name, "t_last": 0}
        if result.counters:
            summary["stats"] = dict(result.counters)
        if result.notifications:  # the drivers read these on every Bolt version (and make GQL statuses of them)
            summary["notifications"] = result.notifications
        if result.plan_tree is not None:  # EXPLAIN, PROFILE: the drivers' summary.plan / summary.profile
            summary["profile" if "rows" in result.plan_tree else "plan"] = result.plan_tree
        if self.tx is None:
            summary["bookmark"] = self.server.last_bookmark if result.query_type == "r" else self.server.next_bookmark()
        if result.streaming:  # PULL makes its rows (_on_pull)
            self.streaming = (result, db)
            self.proto.stream(result.columns, [], summary, t_first, more=True)
            return
        self.proto.stream(result.columns, result.rows, summary, t_first)

    async def _on_pull(self, extra: dict) -> None:
        """A PULL that needs rows the streaming result has not made yet."""
        await self._fill(discard=False)

    async def _on_discard(self, extra: dict) -> None:
        await self._fill(discard=True)

    async def _fill(self, discard: bool) -> None:
        """Make the rows the current PULL or DISCARD needs, on a worker; a
        DISCARD of every row ends the stream instead."""
        result, db = self.streaming
        wanted = self.proto.wanted()
        if discard and wanted is None:
            self.streaming = None
            await self._in_thread(result.close)
            self.proto.deliver([], ended=True)
            return
        try:
            rows = await self._in_database(db, result.fetch, wanted)
        finally:
            if not result.streaming:  # made its last row, or failed
                self.streaming = None
        self.proto.deliver(rows, ended=self.streaming is None)

    async def _run_control(self, control: str) -> None:
        """BEGIN, COMMIT and ROLLBACK sent as query text (pymgclient does this)."""
        summary: dict[str, Any] = {"type": "w", "db": self.tx_database, "t_last": 0}
        tx, self.tx = self.tx, None
        if control == "begin":
            if tx is not None:
                self.tx = tx
                raise errors.TransactionError("a transaction is open already; COMMIT or ROLLBACK it first")
            self.tx_database, self.tx_db = self._database({})
            summary["db"] = self.tx_database
            self.tx = await self._in_thread(self.tx_db.begin, client=self._client({}))
            self.tx_timeout = self._timeout({})
        elif control == "commit":
            if tx is None:
                raise errors.TransactionError("COMMIT without an open transaction")
            await self._in_thread(tx.commit)
            summary["bookmark"] = self.server.next_bookmark()
        elif tx is not None:  # ROLLBACK without a transaction is a harmless no-op
            await self._in_thread(tx.rollback)
        self.proto.stream([], [], summary, control=control)

    def _database(self, extra: dict) -> tuple[str, Any]:
        """The database a request names (`db`, else the session's USE DATABASE,
        else the user's main database, else the default), and the name to
        answer with: the drivers file routing tables and results under the
        name they asked for. A user finds only the databases they may use."""
        database = extra.get("db") or self.session_database or self.db.databases.main_of(self.user or None)
        if database is not None and not isinstance(database, str):
            raise errors.DatabaseNotFound(f"A database name is a string, not {database!r}.")
        return database or DATABASE_NAME, self.db.database(database, user=self.user or None)

    def _use(self, name: str) -> None:
        """USE DATABASE: the database of this session's requests that name none."""
        self.session_database = name

    def _timeout(self, extra: dict) -> float | None:
        """The server's query timeout, shortened by the client's tx_timeout (milliseconds)."""
        limit = self.server.query_timeout or None
        requested = extra.get("tx_timeout")
        if isinstance(requested, int) and not isinstance(requested, bool) and requested > 0:
            limit = min(limit or float("inf"), requested / 1000)
        return limit


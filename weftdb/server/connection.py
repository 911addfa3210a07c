"""One Bolt client: the asyncio glue between its socket, `BoltProtocol` and the Database.

Two tasks per client. The reader feeds bytes to the protocol as they arrive,
so a RESET or a dropped connection is seen while a query is still running and
sets `interrupt`, which the engine checks at every row. The worker takes the
protocol's requests one at a time, in order, runs queries in the server's
thread pool (one slow query never stalls the event loop or other clients) and
writes the answers. Everything Bolt-specific is in `bolt/protocol.py`; this
module only knows what each request asks of the Database.

The reader also keeps the count of bytes this connection holds in unfinished
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
READ_SIZE = 64 * 1024
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


class Connection:
    """One client connection, from its first byte to its close."""

    def __init__(self, server: "BoltServer", reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int):
        self.server = server
        self.db = server.db
        self.reader = reader
        self.writer = writer
        self.id = f"bolt-{number}"
        self.peer = writer.get_extra_info("peername")
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
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # the backlog has room again
        self._read_done = asyncio.Event()
        self._reading = True

    # -- lifecycle -----------------------------------------------------------------------

    async def run(self) -> None:
        worker = asyncio.create_task(self._work())
        try:
            await self._read()
        finally:
            self._read_done.set()
            self._reading = False
            self.interrupt.set()
            self._wake.set()
            try:
                await worker
            finally:
                self._hold(0)
                await self._rollback_quietly()
                self.writer.close()

    def close(self, reason: str) -> None:
        """Close from outside (a limit, idle, shutdown): cancels the running query, rolls back."""
        log.info("%s %s: closing: %s", self.id, self.peer, reason)
        self.closing = True
        self.interrupt.set()
        self.writer.close()

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

    async def _read(self) -> None:
        proto = self.proto
        while self._reading:  # until the worker is done; after a refusal, what arrives is dropped
            if proto.backlog >= (MAX_BACKLOG if proto.authenticated else LOGIN_BACKLOG) and not proto.closed:
                await self._pause()
                continue
            try:
                data = await self.reader.read(READ_SIZE)
            except (ConnectionError, OSError):
                return
            if not data:
                return
            self.last_activity = now = time.monotonic()
            try:
                proto.receive_data(data)
            except ProtocolError as exc:  # not a Bolt client: there is nothing to answer in Bolt
                log.warning("%s %s: closing the connection: %s", self.id, self.peer, exc)
                self._write(proto.data_to_send())
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
            self._wake.set()

    def _write(self, data: bytes) -> None:
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def _pause(self) -> None:
        """Wait until the worker has taken requests from the backlog. The time
        paused does not count against the message rate."""
        self._room.clear()
        self._paused = True
        try:
            await self._room.wait()
        finally:
            self._paused = False
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

    async def _work(self) -> None:
        try:
            while self._reading:
                self._wake.clear()
                request = self.proto.next_request()
                self._room.set()
                await self._flush()
                if self.proto.closed:
                    if self.proto.violation:
                        log.warning("%s %s: closing the connection: %s", self.id, self.peer, self.proto.violation)
                        await self._linger()
                    break
                if request is None:
                    await self._wake.wait()
                    continue
                self.busy = True
                try:
                    await self._handle(request)
                finally:
                    self.busy = False
                    self.last_activity = time.monotonic()
                # no flush here: the loop answers pipelined PULLs first, so a
                # RUN and its records leave in one write
        except (ConnectionError, OSError):
            pass
        finally:
            self._reading = False
            self._room.set()
            self.writer.close()  # ends the reader too

    async def _linger(self) -> None:
        """After a FAILURE that refused the client's input: half-close, drop what the
        client still sends, and close once it closes or after LINGER seconds."""
        if not self.writer.is_closing() and self.writer.can_write_eof():  # uvloop raises on a closed transport
            self.writer.write_eof()
        try:
            await asyncio.wait_for(self._read_done.wait(), LINGER)
        except asyncio.TimeoutError:
            pass

    async def _flush(self) -> None:
        data = self.proto.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)
            await self.writer.drain()

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
        except errors.Error as exc:
            self.proto.fail(Status(exc.code, exc.gql_status, exc.gql_description), str(exc))
        except Exception as exc:  # an engine bug must not take the server down
            log.exception("%s: %s failed unexpectedly", self.id, request.name)
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

    async def _on_run(self, query: str, parameters: dict, extra: dict) -> None:
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
        result = None
        if tx is None and db.quick(query):  # no hop to a worker (Database.quick)
            try:
                result = execute(query, params, timeout=timeout, interrupt=self.interrupt, budget=INLINE_BUDGET,
                                 **options)
            except OverBudget:
                pass  # rolled back: it runs again on a worker
        if result is None:
            result = await self._in_database(db, execute, query, params, timeout=timeout, interrupt=self.interrupt,
                                             **options)
        t_first = int((time.monotonic() - started) * 1000)
        summary: dict[str, Any] = {"type": result.query_type, "db": name, "t_last": 0}
        if result.counters:
            summary["stats"] = dict(result.counters)
        if result.notifications:  # the drivers read these on every Bolt version (and make GQL statuses of them)
            summary["notifications"] = result.notifications
        if result.plan_tree is not None:  # EXPLAIN, PROFILE: the drivers' summary.plan / summary.profile
            summary["profile" if "rows" in result.plan_tree else "plan"] = result.plan_tree
        if tx is None:
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


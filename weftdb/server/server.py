"""The Bolt server: listener, limits, TLS and a graceful lifecycle.

`serve(config)` is what `weftdb serve` runs: it opens the database, listens on
`--bolt-address:--bolt-port` and blocks until SIGTERM or SIGINT. Then it stops
accepting, gives running work `--bolt-shutdown-grace-sec` to finish, rolls
back whatever is still open, closes the database (which writes the on-exit
snapshot when enabled and releases the data directory lock) and returns. A
second signal exits at once: every acknowledged commit is in the WAL already.

`BoltServer` is the listener on the current event loop; `ServerThread` runs
one on a background thread, for tests, benchmarks and programs that embed a
server next to their own code.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import ssl
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from weftdb.basics.config import Config, ConfigError
from weftdb.server.connection import Connection

if TYPE_CHECKING:  # importing the server does not load the engine
    from weftdb.database import Database

log = logging.getLogger("weftdb.server")


def tls_context(config: Config) -> ssl.SSLContext | None:
    """A server TLS context from --bolt-cert-file and --bolt-key-file, or None when both are unset."""
    cert, key = config.bolt_cert_file, config.bolt_key_file
    if not cert and not key:
        return None
    if not (cert and key):
        raise ConfigError("--bolt-cert-file and --bolt-key-file must be given together")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot load the TLS certificate {cert} / key {key}: {exc}") from None
    return context


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop (libuv's, in C), else asyncio's own where uvloop is not
    installed (it has no Windows build). A Bolt round trip costs the server's
    loop about half the CPU on uvloop: an echo server on this 2-core VM took
    88 to 102 µs of CPU a round trip with asyncio's streams and 36 to 45 µs
    with uvloop's (a blocking thread per connection: 22 to 25 µs)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class BoltServer:
    """Accepts Bolt clients for one Database on the running event loop."""

    def __init__(self, db: Database, config: Config):
        self.db = db
        self.config = config
        self.max_message_size = config.bolt_max_message_size_kib * 1024
        self.idle_timeout = config.bolt_session_inactivity_timeout
        self.handshake_timeout = config.bolt_handshake_timeout_sec
        self.auth_timeout = config.bolt_auth_timeout_sec
        self.min_rate = config.bolt_min_message_rate_kib * 1024  # bytes a second; 0: no minimum
        self.max_buffered = config.bolt_max_buffered_mib << 20
        self.buffered = 0  # bytes of unfinished messages held by all connections
        self.loop_busy = 0.0  # seconds the loop has spent on connections' bytes (Connection.data_received)
        self._paced = (0.0, 0.0, False)  # the current window: its start, loop_busy then, whether to pace
        self.query_timeout = config.query_execution_timeout_sec
        workers = config.bolt_num_workers or max(16, 4 * (os.cpu_count() or 1))
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="weftdb-bolt")
        # A database's statements hold at most half the workers at once, so a busy
        # database leaves workers for the others' (docs/databases.md, "Limits").
        self.database_share = max(1, workers // 2)
        self._shares: dict[str, asyncio.Semaphore] = {}
        self.connections: set[Connection] = set()
        self.public_address = ""
        self.port = 0
        self._numbers = itertools.count(1)
        self._bookmarks = itertools.count(1)
        self._last_bookmark = "weftdb:0"
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.Task | None = None

    def pace(self) -> None:
        """A worker's statement at one of its checks (executor.pace): sleep
        PACE_SLEEP while the event loop was busy for more than PACE_SHARE of
        the last PACE_WINDOW. A long statement and the loop share one
        interpreter lock, and taking turns gave the loop half of it: beside a
        5 s query, fifteen clients' lookups made half as many a second, at
        twice the latency. Called from workers at once: the window is one
        tuple, replaced whole."""
        now = time.monotonic()
        started, busy, pacing = self._paced
        if now - started >= PACE_WINDOW:
            pacing = (self.loop_busy - busy) > PACE_SHARE * (now - started)
            self._paced = (now, self.loop_busy, pacing)
        if pacing:
            time.sleep(PACE_SLEEP)

    def share(self, database: str) -> asyncio.Semaphore:
        """The workers database `database`'s statements may hold at once (made at first use, on the loop)."""
        share = self._shares.get(database)
        if share is None:
            share = self._shares[database] = asyncio.Semaphore(self.database_share)
        return share

    def next_bookmark(self) -> str:
        """A new bookmark, for a commit."""
        self._last_bookmark = f"weftdb:{next(self._bookmarks)}"
        return self._last_bookmark

    @property
    def last_bookmark(self) -> str:
        """The newest bookmark, for a read-only autocommit query."""
        return self._last_bookmark

    async def start(self) -> None:
        # The loop hands every request to a worker and is woken by its answer: with
        # --cpu-affinity it runs where the workers do, so neither wakes another CPU.
        self.db.placement.pin()
        context = tls_context(self.config)
        self._listener = await asyncio.get_running_loop().create_server(
            lambda: Connection(self, next(self._numbers)),
            self.config.bolt_address,
            self.config.bolt_port,
            ssl=context,
            ssl_handshake_timeout=self.handshake_timeout if context else None,
        )
        host, self.port = self._listener.sockets[0].getsockname()[:2]
        self.public_address = f"{host}:{self.port}"
        log.info("listening on %s%s; statement threads %s", self.public_address,
                 " with TLS" if context else "", self.db.placement)
        self._sweeper = asyncio.create_task(self._sweep())

    async def _sweep(self) -> None:
        """Close the connections that ran out of time (`Connection.overdue`): no
        handshake within --bolt-handshake-timeout-sec, no login within
        --bolt-auth-timeout-sec, a message arriving slower than
        --bolt-min-message-rate-kib, or nothing sent for
        --bolt-session-inactivity-timeout seconds while no query of theirs ran."""
        timeouts = [t for t in (self.idle_timeout, self.handshake_timeout, self.auth_timeout) if t > 0]
        interval = min(1.0, *(t / 4 for t in timeouts))
        while True:
            await asyncio.sleep(interval)
            now = time.monotonic()
            for connection in list(self.connections):
                reason = connection.overdue(now)
                if reason is not None:
                    connection.close(reason)

    async def shutdown(self, grace: float) -> None:
        """Stop accepting, let running work finish for up to `grace` seconds, then roll
        back and close every connection."""
        if self._listener is not None:
            self._listener.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while any(c.busy or c.tx is not None for c in self.connections) and loop.time() < deadline:
            await asyncio.sleep(0.05)
        connections = list(self.connections)
        for connection in connections:
            connection.close("the server is shutting down")
        if connections:
            await asyncio.wait([connection.ended for connection in connections], timeout=max(grace, 1.0))
        self.executor.shutdown(wait=False, cancel_futures=True)


class ServerThread:
    """A BoltServer on its own event loop in a daemon thread. The Database stays the caller's."""

    def __init__(self, db: Database, config: Config):
        self.server = BoltServer(db, config)
        self._loop = new_event_loop()
        self._thread = threading.Thread(target=self._run, name="weftdb-bolt-server", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None

    @property
    def port(self) -> int:
        return self.server.port

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()

    def start(self) -> "ServerThread":
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        return self

    def stop(self, grace: float = 0.0) -> None:
        future = asyncio.run_coroutine_threadsafe(self.server.shutdown(grace), self._loop)
        future.result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def __enter__(self) -> "ServerThread":
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def configure_logging(config: Config) -> None:
    level = getattr(logging, config.log_level)  # one of the names --log-level allows
    handler = logging.FileHandler(config.log_file) if config.log_file else logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("weftdb")
    root.setLevel(level)
    root.addHandler(handler)


async def _serve_until_signal(db: Database, config: Config) -> None:
    from weftdb.query import executor  # the engine's, loaded by now (serve)

    server = BoltServer(db, config)
    await server.start()
    executor.pace = server.pace  # until it stops serving: the process is the server's
    scheme = "bolt+s" if server.config.bolt_cert_file else "bolt"
    print(f"WeftDB is listening on {scheme}://{server.public_address}", file=sys.stderr, flush=True)
    from weftdb.backup.service import start_backup_service  # the online backup service (--backup-port)

    backup_service = start_backup_service(db, config)
    stop = asyncio.Event()

    def on_signal(signum: int) -> None:
        if stop.is_set():
            log.warning("second %s: exiting at once", signal.Signals(signum).name)
            os._exit(1)
        log.warning("%s: shutting down (again to exit at once)", signal.Signals(signum).name)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        await stop.wait()
        await server.shutdown(config.bolt_shutdown_grace_sec)
    finally:
        executor.pace = None
        if backup_service is not None:
            backup_service.stop()


PACE_WINDOW = 0.05
PACE_SHARE = 0.25
PACE_SLEEP = 0.001
"""BoltServer.pace: seconds over which the loop's busy share is measured, the
share past which workers' statements pace themselves, and their sleep at each
check (one every 1,024 rows, executor.CHECK_EVERY)."""

SWITCH_INTERVAL = 0.0002
"""Seconds a thread that wants the interpreter lock waits for the one holding
it (CPython's default is 0.005), in the `weftdb serve` process. A request
takes the lock several times (the event loop, a worker), so beside one long
statement each small one waited several intervals. Measured with 4
pymgclient lookup clients beside a 4.5 s query on the same 2-core machine:
the lookups' p99 56 ms at 5 ms, 15.6 ms at 0.5 ms, 8.3 ms at 0.2 ms; the
long query 4.49, 4.79 and 4.59 s, the lookups alone 3,364, 3,179 and
3,216/s (within this machine's noise). A server thread in another program
(`ServerThread`) leaves that program's interval as it is."""


def serve(config: Config) -> None:
    """Run the Bolt server for the database in `config.data_directory` until SIGTERM/SIGINT."""
    from weftdb.database import Database  # here, not at the top: importing the server must not load the engine
    from weftdb.query.parser import parse

    sys.setswitchinterval(SWITCH_INTERVAL)
    configure_logging(config)
    db = Database(config.data_directory, config)
    parse("RETURN 1")  # builds the Cypher grammar (about a second) now, not at the first client's query
    try:
        with asyncio.Runner(loop_factory=new_event_loop) as runner:
            runner.run(_serve_until_signal(db, config))
    finally:
        db.close()

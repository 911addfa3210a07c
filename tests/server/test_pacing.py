"""Long statements on workers leave the interpreter lock to a busy event loop
(BoltServer.pace, installed by `weftdb serve` as executor.pace)."""

import asyncio

from boltbytes import handshake, message
from test_connection_flow import Transport

import weftdb
from weftdb.basics.config import Config
from weftdb.query import executor
from weftdb.server import server as server_module
from weftdb.server.connection import Connection
from weftdb.server.server import PACE_SLEEP, PACE_WINDOW, BoltServer


def test_workers_pace_themselves_while_the_loop_was_busy(monkeypatch):
    clock, slept = [1000.0], []
    monkeypatch.setattr(server_module.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(server_module.time, "sleep", slept.append)
    with weftdb.open() as db:
        server = BoltServer(db, Config.load({"bolt_port": 0}))
        server.pace()  # the first window: nothing measured yet
        assert slept == []
        window = 1.2 * PACE_WINDOW
        clock[0] += window
        server.loop_busy += 0.4 * window  # the loop was busy 40% of the window
        server.pace()
        server.pace()  # the same window: still busy
        assert slept == [PACE_SLEEP, PACE_SLEEP]
        clock[0] += window
        server.loop_busy += 0.1 * window  # 10%: the loop has the lock it needs
        server.pace()
        assert len(slept) == 2
        server.executor.shutdown()


def test_the_loop_counts_the_time_it_spends_on_connections_bytes():
    async def scenario():
        with weftdb.open() as db:
            server = BoltServer(db, Config.load({"bolt_port": 0}))
            connection = Connection(server, 1)
            connection.connection_made(Transport())
            connection.data_received(handshake((4, 4)) + message("HELLO", {"user_agent": "t", "scheme": "none"}))
            before = server.loop_busy
            connection.data_received(message("RUN", "UNWIND range(1, 20000) AS i RETURN count(i)", {}, {}))
            assert server.loop_busy > before
            server.executor.shutdown()

    asyncio.run(scenario())


def test_a_statement_paces_at_its_checks_unless_it_runs_on_the_loop_with_a_budget(monkeypatch):
    calls = []
    monkeypatch.setattr(executor, "pace", lambda: calls.append(1))
    with weftdb.open() as db:
        query = "UNWIND range(1, 5000) AS i RETURN count(i)"  # its aggregate checks every CHECK_EVERY rows
        assert db.execute(query).rows == [(5000,)]
        assert len(calls) >= 5000 // executor.CHECK_EVERY
        calls.clear()
        assert db.execute(query, budget=60.0).rows == [(5000,)]
        assert calls == []

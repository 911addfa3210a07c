"""A connection's requests under asyncio's flow control (server/connection.py):
requests that arrive while its answers wait for the client to read are
carried out once it reads, not left until more bytes arrive."""

import asyncio

from boltbytes import handshake, message, replies

import weftdb
from weftdb.basics.config import Config
from weftdb.server.connection import Connection
from weftdb.server.server import BoltServer


class Transport(asyncio.Transport):
    """What the connection writes, kept; the client's reading is the test's to pause."""

    def __init__(self):
        super().__init__()
        self.written = bytearray()

    def get_extra_info(self, name, default=None):
        return ("127.0.0.1", 5555) if name == "peername" else default

    def write(self, data):
        self.written += data

    def is_closing(self):
        return False

    def pause_reading(self):
        pass

    def resume_reading(self):
        pass

    def close(self):
        pass


async def _settle(connection):
    for _ in range(500):
        if connection._task is None:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the connection's task did not end")


def test_a_request_that_arrives_while_the_answers_wait_for_the_client_is_carried_out():
    async def scenario():
        with weftdb.open() as db:
            server = BoltServer(db, Config.load({"bolt_port": 0}))
            connection, transport = Connection(server, 1), Transport()
            connection.connection_made(transport)
            connection.data_received(handshake((4, 4)) + message("HELLO", {"user_agent": "t", "scheme": "none"}))
            await _settle(connection)
            db.execute("RETURN 0")  # the grammar is built
            # never planned, so not quick: it runs on a worker, in the connection's task
            connection.data_received(message("RUN", "RETURN 1 AS one", {}, {}) + message("PULL", {"n": -1}))
            assert connection._task is not None
            connection.pause_writing()  # the client stops reading: once it has answered, the task waits
            for _ in range(500):
                if any(name == "RECORD" for name, _ in replies(bytes(transport.written[4:]))):
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            assert connection._task is not None
            connection.data_received(message("RUN", "RETURN 2 AS two", {}, {}) + message("PULL", {"n": -1}))
            connection.resume_writing()
            await _settle(connection)
            answers = replies(bytes(transport.written[4:]))  # after the handshake's answer
            records = [fields for name, fields in answers if name == "RECORD"]
            assert records == [([1],), ([2],)]
            server.executor.shutdown()

    asyncio.run(scenario())

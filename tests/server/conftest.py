"""Servers for the tests: in-process on a background thread (for the neo4j driver,
which is pure Python) over the real engine or the fake, always on 127.0.0.1 and a
free port."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakes import FakeDatabase  # noqa: E402

import weftdb  # noqa: E402
from weftdb.config import Config  # noqa: E402
from weftdb.server.server import ServerThread  # noqa: E402


def start(db, **flags):
    return ServerThread(db, Config.load({"bolt_port": 0, "bolt_address": "127.0.0.1", **flags})).start()


@pytest.fixture(scope="module")
def engine_server():
    db = weftdb.open()
    server = start(db)
    server.db = db
    yield server
    server.stop()
    db.close()


@pytest.fixture
def fake_server():
    db = FakeDatabase()
    server = start(db)
    server.db = db
    yield server
    server.stop()

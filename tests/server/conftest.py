"""Servers for the tests: in-process on a background thread (for the neo4j driver,
which is pure Python) over the real engine or the fake, always on 127.0.0.1 and a
free port."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bolt_servers import serving, start  # noqa: E402
from fakes import FakeDatabase  # noqa: E402

import weftdb  # noqa: E402


@pytest.fixture(scope="module")
def engine_server():
    with serving(weftdb.open()) as server:
        yield server


@pytest.fixture
def fake_server():
    db = FakeDatabase()
    server = start(db)
    server.db = db
    yield server
    server.stop()

"""Fixtures of the client matrix; the harness itself is clientharness.py."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from clientharness import WeftServer  # noqa: E402


@pytest.fixture(scope="module")
def weftdb_server():
    """`weftdb serve` with default flags on a fresh data directory, one per client."""
    server = WeftServer()
    yield server
    server.stop()

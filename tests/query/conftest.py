"""Fixtures for the Cypher engine tests: a fresh in-memory database per test."""

import pytest

import weftdb


@pytest.fixture
def db():
    database = weftdb.open()
    yield database
    database.close()

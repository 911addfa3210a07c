"""The neo4j Python driver 5 against `weftdb serve` (issue 13): apps/neo4j_app.py in .clients/neo4j5."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app
from neo4j_python_checks import CHECKS


@pytest.fixture(scope="module")
def app(weftdb_server):
    return run_app("neo4j Python driver 5", python_app("neo4j5", "neo4j_app.py"), weftdb_server)


@pytest.mark.parametrize("check", CHECKS)
def test_neo4j5(app, check):
    assert_check(app, check, CHECKS)


def test_neo4j5_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

"""The neo4j Python driver 6 against `weftdb serve` (issue 13): apps/neo4j_app.py in .clients/neo4j6."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app
from neo4j_python_checks import CHECKS


@pytest.fixture(scope="module")
def app(weftdb_server):
    return run_app("neo4j Python driver 6", python_app("neo4j6", "neo4j_app.py"), weftdb_server)


@pytest.mark.parametrize("check", CHECKS)
def test_neo4j6(app, check):
    assert_check(app, check, CHECKS)


def test_neo4j6_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

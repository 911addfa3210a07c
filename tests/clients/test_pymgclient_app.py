"""pymgclient 1.6 against `weftdb serve` (issue 13): apps/pymgclient_app.py in .clients/pymgclient."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app
from neo4j_python_checks import VALUE_NAMES

CHECKS = {
    "connect": "mgclient.connect(host, port)",
    "create_schema": "CREATE INDEX ON / CREATE CONSTRAINT ON ... ASSERT ... IS UNIQUE / EXISTS in autocommit",
    "show_schema": "SHOW INDEX INFO / SHOW CONSTRAINT INFO list them with Memgraph's columns",
    "create_schema_again": "creating the same index and constraint again (an app's next start) succeeds",
    "drop_missing_schema": "DROP INDEX / DROP CONSTRAINT of what does not exist succeeds",
    "write_with_parameters": "CREATE with parameters",
    **{f"value_{name}": f"reading back {text} (a literal and a parameter)"
       for name, text in VALUE_NAMES.items() if name != "time"},
    "value_graph": "reading back a node, a relationship and a path",
    "fetchmany": "fetchmany() then fetchall() of 2,500 rows",
    "lazy_connection": "a lazy connection fetches 3,000 rows one by one",
    "explicit_commit": "autocommit off: execute, commit",
    "explicit_rollback": "autocommit off: the transaction sees its write, rollback undoes it",
    "syntax_error": "a syntax error raises mgclient.DatabaseError and the connection goes on",
    "constraint_violation": "a uniqueness violation raises mgclient.DatabaseError",
    "exists_violation": "an existence violation raises mgclient.DatabaseError",
    "show_version": "SHOW VERSION",
    "show_storage_info": "SHOW STORAGE INFO with Memgraph's rows",
    "show_config": "SHOW CONFIG with Memgraph's columns",
    "show_databases": "SHOW DATABASES",
    "mg_procedures": "CALL mg.procedures()",
}


@pytest.fixture(scope="module")
def app(weftdb_server):
    return run_app("pymgclient 1.6", python_app("pymgclient", "pymgclient_app.py"), weftdb_server)


@pytest.mark.parametrize("check", CHECKS)
def test_pymgclient(app, check):
    assert_check(app, check, CHECKS)


def test_pymgclient_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

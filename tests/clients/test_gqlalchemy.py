"""gqlalchemy 1.10 (Memgraph's OGM) against `weftdb serve` (issue 13): apps/gqlalchemy_app.py in
.clients/gqlalchemy, started twice against the same server as an app is restarted."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app
from neo4j_python_checks import VALUE_NAMES

FIRST_START = {
    "connect": "Memgraph(host, port).execute_and_fetch()",
    "models": "defining models with Field(unique=True), Field(exists=True), Field(index=True) and a label index "
              "(CREATE CONSTRAINT ON ... ASSERT ..., CREATE INDEX ON ...)",
    "schema_helpers": "get_indexes() / get_constraints() (SHOW INDEX INFO, SHOW CONSTRAINT INFO) list them",
    "ensure_helpers": "ensure_indexes() / ensure_constraints() / drop_index() / drop_constraint()",
    "save_and_load": "Node.save(), Relationship.save(), load() by a unique field, saving again",
    "write_with_parameters": "execute() with parameters",
    **{f"value_{name}": f"reading back {text} (a literal and a parameter)"
       for name, text in VALUE_NAMES.items() if name != "time"},
    "value_graph": "nodes, relationships and paths come back as the app's model classes",
    "query_builder": "match().node().where().return_().order_by().execute()",
    "syntax_error": "a syntax error raises GQLAlchemyDatabaseError",
    "unique_violation": "breaking a Field(unique=True) raises GQLAlchemyDatabaseError",
    "exists_violation": "breaking a Field(exists=True) raises GQLAlchemyDatabaseError",
    "storage_mode": "get_storage_mode() (SHOW STORAGE INFO's storage_mode row)",
    "storage_info": "get_storage_info() (SHOW STORAGE INFO with Memgraph's rows)",
    "build_info": "get_build_info() (SHOW BUILD INFO)",
    "triggers": "get_triggers() (SHOW TRIGGERS) answers an empty list",
    "streams": "get_streams() (SHOW STREAMS) answers an empty list",
    "procedures": "get_procedures() (CALL mg.procedures() YIELD *)",
    "transactions": "get_transactions() / terminate_transactions() (SHOW TRANSACTIONS, TERMINATE TRANSACTIONS) "
                    "list and stop another connection's open transaction",
}

RESTART = {
    "restart_models": "the models defined again at the app's second start (their constraints and indexes exist)",
    "restart_schema": "get_indexes() / get_constraints() at the second start",
    "restart_load": "load() at the second start finds what the first one saved",
    "restart_drop_missing": "drop_index() / drop_constraint() of what does not exist succeed",
}


@pytest.fixture(scope="module")
def first_start(weftdb_server):
    return run_app("gqlalchemy 1.10", python_app("gqlalchemy", "gqlalchemy_app.py"), weftdb_server, "first")


@pytest.fixture(scope="module")
def restart(weftdb_server, first_start):
    return run_app("gqlalchemy 1.10", python_app("gqlalchemy", "gqlalchemy_app.py"), weftdb_server, "restart")


@pytest.mark.parametrize("check", FIRST_START)
def test_gqlalchemy(first_start, check):
    assert_check(first_start, check, FIRST_START)


@pytest.mark.parametrize("check", RESTART)
def test_gqlalchemy_restarted(restart, check):
    assert_check(restart, check, RESTART)


def test_gqlalchemy_reports_only_listed_checks(first_start, restart):
    assert_all_listed(first_start, FIRST_START)
    assert_all_listed(restart, RESTART)

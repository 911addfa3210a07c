"""neo4j-driver for JavaScript 6 against `weftdb serve` (issue 13): apps/js_app.js under node, .clients/js."""

import pytest
from clientharness import assert_all_listed, assert_check, node_app, run_app
from neo4j_python_checks import VALUE_NAMES

CHECKS = {
    "connect": "driver.verifyConnectivity() without auth",
    "connect_with_credentials": "connecting with neo4j.auth.basic('neo4j', 'password') to a server without users",
    "server_agent": "the server agent the driver sees starts with 'Neo4j/'",
    "dbms_components": "CALL dbms.components() answers name, versions, edition",
    "database_neo4j": "executeQuery(..., {database: 'neo4j'}) reaches the database",
    "show_databases": "SHOW DATABASES lists the database with name or alias 'neo4j'",
    "create_index": "executeQuery('CREATE INDEX name IF NOT EXISTS FOR (p:L) ON (p.x)') reports indexesAdded 1",
    "create_constraint": "executeQuery('CREATE CONSTRAINT name IF NOT EXISTS ... REQUIRE p.x IS UNIQUE') reports constraintsAdded 1",
    "schema_if_not_exists_again": "the same CREATE ... IF NOT EXISTS statements again succeed and add nothing",
    "show_indexes": "SHOW INDEXES lists the index with Neo4j's columns",
    "show_index_info": "executeQuery('SHOW INDEX INFO') (Memgraph's listing) answers",
    "drop_index_if_exists": "DROP INDEX missing IF EXISTS succeeds",
    "memgraph_index_syntax": "executeQuery('CREATE INDEX ON :L(p)') (Memgraph's syntax) reports indexesAdded 1",
    "write_with_parameters": "CREATE with parameters, and its counters",
    "unwind_batch": "UNWIND $rows CREATE of 200 rows",
    **{f"value_{name}": f"reading back {text} (a literal, then sent back as a parameter)" for name, text in VALUE_NAMES.items()},
    "value_node": "reading back a node (labels, properties, elementId)",
    "value_relationship": "reading back a relationship (type, properties, its ends' element ids)",
    "value_path": "reading back a path",
    "element_id_lookup": "elementId(n) equals the elementId the driver received, and MATCH ... WHERE elementId(n) = $id finds it",
    "explicit_commit": "an explicit transaction commits",
    "explicit_rollback": "an explicit transaction sees its write and rolls back",
    "managed_transactions": "session.executeWrite / executeRead",
    "syntax_error": "a syntax error is a Neo4jError Neo.ClientError.Statement.SyntaxError",
    "constraint_violation": "a uniqueness violation is a Neo4jError Neo.ClientError.Schema.ConstraintValidationFailed",
    "unknown_procedure": "an unknown procedure is Neo.ClientError.Procedure.ProcedureNotFound",
    "session_after_error": "a session runs again after an error",
    "explain_plan": "EXPLAIN puts the plan in summary.plan",
    "profile_plan": "PROFILE puts the profiled plan in summary.profile",
    "db_schema_procedures": "CALL db.labels(), db.relationshipTypes()",
}


@pytest.fixture(scope="module")
def app(weftdb_server):
    command, env = node_app("js_app.js")
    return run_app("neo4j-driver for JavaScript 6", command, weftdb_server, env=env)


@pytest.mark.parametrize("check", CHECKS)
def test_javascript(app, check):
    assert_check(app, check, CHECKS)


def test_javascript_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

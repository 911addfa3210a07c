"""py2neo 2021.2 against `weftdb serve` (issue 13): apps/py2neo_app.py in .clients/py2neo."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app
from neo4j_python_checks import VALUE_NAMES

CHECKS = {
    "connect": "Graph(uri, auth) (Bolt 4.3, 4.2, 4.1 or 4.0 offered) and Graph.run",
    "service_version": "graph.service.kernel_version (the 'Neo4j Kernel' row of CALL dbms.components())",
    "run_with_parameters": "Graph.run with parameters, .data()",
    **{f"value_{name}": f"reading back {text} (a literal, then sent back as a parameter)" for name, text in VALUE_NAMES.items()},
    "create_subgraph": "graph.create() of nodes and a relationship, read back",
    "node_matcher": "graph.nodes.match(...).first() and .where()",
    "merge_push_pull": "graph.merge(), push() and pull() of a node",
    "value_path": "reading back a path",
    "explicit_commit": "graph.begin(), tx.create(), graph.commit(tx)",
    "explicit_rollback": "graph.begin(), tx.run(), graph.rollback(tx)",
    "syntax_error": "a syntax error raises py2neo's ClientError with Neo.ClientError.Statement.SyntaxError",
    "schema_index": "graph.schema.create_index() (CREATE INDEX ON, then CALL db.indexes with Neo4j 4's columns)",
    "schema_uniqueness_constraint": "graph.schema.create_uniqueness_constraint() and get_uniqueness_constraints() "
                                    "(CALL db.indexes' uniqueness column)",
    "constraint_violation": "a uniqueness violation raises ClientError with Neo.ClientError.Schema.ConstraintValidationFailed",
    "schema_labels": "graph.schema.node_labels / relationship_types (CALL db.labels, CALL db.relationshipTypes)",
    "delete_all": "graph.delete_all()",
}


@pytest.fixture(scope="module")
def app(weftdb_server):
    return run_app("py2neo 2021.2", python_app("py2neo", "py2neo_app.py"), weftdb_server)


@pytest.mark.parametrize("check", CHECKS)
def test_py2neo(app, check):
    assert_check(app, check, CHECKS)


def test_py2neo_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

"""neomodel 7 (the Neo4j OGM) against `weftdb serve` (issue 13): apps/neomodel_app.py in .clients/neomodel."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app

CHECKS = {
    "connect": "db.set_connection(url) (which sends CALL dbms.components() for the server version)",
    "install_all_labels": "install_all_labels() creates the unique and indexed properties' constraints and indexes "
                          "(CREATE CONSTRAINT name FOR (n:L) REQUIRE n.p IS UNIQUE, CREATE INDEX name FOR (n:L) ON (n.p); )",
    "install_all_labels_again": "install_all_labels() at the app's next start succeeds",
    "list_schema": "db.list_constraints() / db.list_indexes() (SHOW CONSTRAINTS / SHOW INDEXES) list them",
    "save": "StructuredNode.save() creates nodes with element ids",
    "unique_property": "saving a duplicate of a unique_index property raises neomodel's UniqueProperty",
    "get": "Person.nodes.get(name=...)",
    "filter": "Person.nodes.filter(age__gte=...).order_by(...) and len(Person.nodes)",
    "update": "saving a changed node (MATCH ... WHERE elementId(n) = $self SET ...) and refresh()",
    "get_or_create": "StructuredNode.get_or_create (MERGE) creates once and finds the node again",
    "relationships": "connect with a relationship model, all(), relationship(), is_connected, single(), disconnect",
    "traversal": "filtering through a relationship (friends__name=...)",
    "property_types": "String/Integer/Float/Boolean/Date/DateTime/DateTimeNeo4jFormat/Array/JSON properties round-trip",
    "cypher_query_values": "db.cypher_query reads back every value type",
    "resolve_objects": "db.cypher_query(..., resolve_objects=True) gives the model classes",
    "transaction_commit": "with db.transaction: commits",
    "transaction_rollback": "an exception in with db.transaction: rolls back",
    "syntax_error": "a syntax error in db.cypher_query raises CypherSyntaxError",
    "delete": "node.delete() (MATCH (self) WHERE elementId(self) = $self DETACH DELETE self)",
    "clear_database": "db.clear_neo4j_database() (CALL { ... } IN TRANSACTIONS OF 5000 ROWS) empties the graph",
    "remove_all_labels": "db.remove_all_labels() (SHOW CONSTRAINTS/INDEXES, DROP CONSTRAINT/INDEX name) drops the schema",
}


@pytest.fixture(scope="module")
def app(weftdb_server):
    return run_app("neomodel 7", python_app("neomodel", "neomodel_app.py"), weftdb_server)


@pytest.mark.parametrize("check", CHECKS)
def test_neomodel(app, check):
    assert_check(app, check, CHECKS)


def test_neomodel_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

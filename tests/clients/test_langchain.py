"""langchain-neo4j 0.11's Neo4jGraph with its defaults against `weftdb serve` (issue 13):
apps/langchain_app.py in .clients/langchain."""

import pytest
from clientharness import assert_all_listed, assert_check, python_app, run_app

CHECKS = {
    "connect": "Neo4jGraph(url, username, password) with its defaults (database 'neo4j'; refresh_schema at start: "
               "CALL apoc.meta.data() x3, SHOW CONSTRAINTS, CALL apoc.schema.nodes())",
    "query": "graph.query() with parameters (execute_query on database 'neo4j')",
    "query_values": "graph.query() reads back every value type",
    "refresh_schema": "refresh_schema() describes labels, relationship types and their property types",
    "schema_metadata": "refresh_schema() lists constraints and indexes made with Neo4j 5 syntax through graph.query()",
    "enhanced_schema": "Neo4jGraph(enhanced_schema=True) (apoc.meta.graph, apoc.any.property, "
                       "apoc.schema.properties.distinct) adds example values",
    "add_graph_documents": "add_graph_documents(include_source=True) (apoc.merge.node, apoc.merge.relationship, MENTIONS)",
    "add_graph_documents_base_entity": "add_graph_documents(baseEntityLabel=True) (CREATE CONSTRAINT IF NOT EXISTS ... "
                                       "REQUIRE ... IS UNIQUE;, SET n:$(row.type))",
    "call_in_transactions": "graph.query() of CALL { ... } IN TRANSACTIONS (refused in execute_query's transaction "
                            "with Neo4j's message, then run on its own)",
    "chat_message_history": "Neo4jChatMessageHistory adds, reads and clears messages",
    "syntax_error": "a syntax error in graph.query() raises CypherSyntaxError",
    "constraint_violation": "a uniqueness violation in graph.query() raises ConstraintError",
}


@pytest.fixture(scope="module")
def app(weftdb_server):
    return run_app("langchain-neo4j 0.11", python_app("langchain", "langchain_app.py"), weftdb_server)


@pytest.mark.parametrize("check", CHECKS)
def test_langchain(app, check):
    assert_check(app, check, CHECKS)


def test_langchain_reports_only_listed_checks(app):
    assert_all_listed(app, CHECKS)

"""A small app on langchain-neo4j 0.11 (`Neo4jGraph` with its defaults: database
'neo4j', the schema read through APOC at start), written as LangChain's graph
tutorials teach: query, refresh_schema, add_graph_documents, a chat history.
Reports its checks as JSON lines (checklib)."""

from __future__ import annotations

from importlib.metadata import version

import checklib
from checklib import CYPHER_VALUES, NATIVE_VALUES, check, expect, expect_equal, raises
from langchain_core.documents import Document
from langchain_neo4j import Neo4jChatMessageHistory, Neo4jGraph
from langchain_neo4j.graphs.graph_document import GraphDocument, Node, Relationship
from neo4j.exceptions import ConstraintError, CypherSyntaxError

checklib.info(client="langchain-neo4j", version=version("langchain-neo4j"),
              graphrag=version("neo4j-graphrag"), driver=version("neo4j"))

# The tutorials' line; a server without users lets anyone in.
CREDENTIALS = {"url": checklib.URI, "username": "neo4j", "password": "password"}

graph = None


def props(schema: dict, key: str, name: str) -> dict:
    return {p["property"]: p["type"] for p in schema[key].get(name, [])}


with check("connect"):
    # verify_connectivity, then refresh_schema: CALL apoc.meta.data() three times,
    # SHOW CONSTRAINTS and CALL apoc.schema.nodes(), all on database 'neo4j'.
    graph = Neo4jGraph(**CREDENTIALS)

if graph is None:  # what the rest of the app needs; an app would have stopped here
    graph = Neo4jGraph(**CREDENTIALS, refresh_schema=False)

with check("query"):
    rows = graph.query("CREATE (p:Person {name: $name, age: $age}) RETURN p.name AS name", {"name": "Ann", "age": 31})
    expect_equal(rows, [{"name": "Ann"}], "rows")

with check("query_values"):
    row = graph.query("RETURN " + ", ".join(f"{cypher} AS {name}" for name, cypher in CYPHER_VALUES.items()))[0]
    for name, got in row.items():
        if name == "duration":
            expect((got.months, got.days, got.seconds, got.nanoseconds) == (14, 10, 11045, 6000), f"duration {got!r}")
        else:
            expect_equal(got.to_native() if hasattr(got, "to_native") else got, NATIVE_VALUES[name], name)

with check("refresh_schema"):
    graph.query("MATCH (a:Person {name: 'Ann'}) CREATE (a)-[:KNOWS {since: 2019}]->(:Person {name: 'Bob', age: 27})")
    graph.refresh_schema()
    schema = graph.get_structured_schema
    expect_equal(props(schema, "node_props", "Person"), {"name": "STRING", "age": "INTEGER"}, "Person's properties")
    expect_equal(props(schema, "rel_props", "KNOWS"), {"since": "INTEGER"}, "KNOWS's properties")
    expect({"start": "Person", "type": "KNOWS", "end": "Person"} in schema["relationships"],
           f"relationships {schema['relationships']}")
    expect("Person" in graph.get_schema and "KNOWS" in graph.get_schema, f"schema text {graph.get_schema!r}")

with check("schema_metadata"):
    graph.query("CREATE CONSTRAINT person_name IF NOT EXISTS FOR (p:Person) REQUIRE p.name IS UNIQUE")
    graph.query("CREATE INDEX person_age IF NOT EXISTS FOR (p:Person) ON (p.age)")
    graph.refresh_schema()
    metadata = graph.get_structured_schema["metadata"]
    expect(any(c["labelsOrTypes"] == ["Person"] and c["properties"] == ["name"] for c in metadata["constraint"]),
           f"constraints {metadata['constraint']}")
    expect(any(i["label"] == "Person" and i["properties"] == ["age"] for i in metadata["index"]), f"indexes {metadata['index']}")

with check("enhanced_schema"):
    # apoc.meta.graph, apoc.any.property and apoc.schema.properties.distinct besides the above
    enhanced = Neo4jGraph(**CREDENTIALS, enhanced_schema=True)
    expect("Ann" in enhanced.get_schema or "Bob" in enhanced.get_schema, f"no example values in {enhanced.get_schema!r}")
    enhanced.close()

SOURCE = Document(page_content="Ann works at Acme since 2020. Acme is in Ljubljana.", metadata={"source": "note-1"})
ANN, ACME, LJUBLJANA = Node(id="Ann", type="Person"), Node(id="Acme", type="Company", properties={"founded": 1999}), \
    Node(id="Ljubljana", type="City")

with check("add_graph_documents"):
    # apoc.merge.node and apoc.merge.relationship; MENTIONS from the source document
    document = GraphDocument(nodes=[ANN, ACME, LJUBLJANA], source=SOURCE, relationships=[
        Relationship(source=ANN, target=ACME, type="works at", properties={"since": 2020}),
        Relationship(source=ACME, target=LJUBLJANA, type="located in")])
    graph.add_graph_documents([document], include_source=True)
    rows = graph.query("MATCH (d:Document)-[:MENTIONS]->(p:Person {id: 'Ann'})-[r:WORKS_AT]->(c:Company {id: 'Acme'}) "
                       "-[:LOCATED_IN]->(:City {id: 'Ljubljana'}) RETURN d.source AS source, r.since AS since, c.founded AS founded")
    expect_equal(rows, [{"source": "note-1", "since": 2020, "founded": 1999}], "the imported graph")

with check("add_graph_documents_base_entity"):
    # CREATE CONSTRAINT IF NOT EXISTS FOR (b:__Entity__) REQUIRE b.id IS UNIQUE; then
    # SET source:$(row.type) (a dynamic label)
    cy, dee = Node(id="Cy", type="Person"), Node(id="Dee", type="Person")
    document = GraphDocument(nodes=[cy, dee], relationships=[Relationship(source=cy, target=dee, type="KNOWS")],
                             source=Document(page_content="Cy knows Dee."))
    graph.add_graph_documents([document], baseEntityLabel=True)
    rows = graph.query("MATCH (a:__Entity__:Person {id: 'Cy'})-[:KNOWS]->(b:__Entity__:Person {id: 'Dee'}) RETURN count(*) AS c")
    expect_equal(rows, [{"c": 1}], "the imported graph")
    graph.refresh_schema()
    expect(any(c["labelsOrTypes"] == ["__Entity__"] for c in graph.get_structured_schema["metadata"]["constraint"]),
           "no __Entity__ constraint in the schema")

with check("call_in_transactions"):
    # execute_query refuses it as an explicit transaction; query() then runs it on
    # its own, when the error says so as Neo4j does.
    graph.query("UNWIND range(1, 30) AS i CREATE (:Temp {i: i})")
    graph.query("MATCH (t:Temp) CALL { WITH t DETACH DELETE t } IN TRANSACTIONS OF 10 ROWS")
    expect_equal(graph.query("MATCH (t:Temp) RETURN count(t) AS c"), [{"c": 0}], "Temp nodes left")

with check("chat_message_history"):
    history = Neo4jChatMessageHistory(session_id="s1", graph=graph)
    history.add_user_message("hello")
    history.add_ai_message("hi, Ann")
    expect_equal([(m.type, m.content) for m in history.messages], [("human", "hello"), ("ai", "hi, Ann")], "messages")
    history.clear()
    expect_equal(history.messages, [], "messages after clear()")

with check("syntax_error"):
    raises(lambda: graph.query("RETURN RETURN"), CypherSyntaxError)

with check("constraint_violation"):
    graph.query("CREATE CONSTRAINT account_id IF NOT EXISTS FOR (a:Account) REQUIRE a.id IS UNIQUE")
    graph.query("CREATE (:Account {id: 1})")
    raises(lambda: graph.query("CREATE (:Account {id: 1})"), ConstraintError)

graph.close()

"""The built-in procedures and APOC's, with the queries the clients send."""

import pytest

import weftdb
from weftdb.basics import identity
from weftdb.basics.errors import AccessModeError, ProcedureError
from weftdb.query.results import Node, Relationship

# neo4j-graphrag's schema queries (langchain-neo4j's Neo4jGraph), as sent.
NODE_PROPERTIES_QUERY = (
    "CALL apoc.meta.data({sample: $SAMPLE}) YIELD label, other, elementType, type, property "
    "WHERE NOT type = 'RELATIONSHIP' AND elementType = 'node' AND NOT label IN $EXCLUDED_LABELS "
    "WITH label AS nodeLabel, collect({property:property, type:type}) AS properties "
    "RETURN {label: nodeLabel, properties: properties} AS output"
)
REL_PROPERTIES_QUERY = (
    "CALL apoc.meta.data({sample: $SAMPLE}) YIELD label, other, elementType, type, property "
    "WHERE NOT type = 'RELATIONSHIP' AND elementType = 'relationship' AND NOT label in $EXCLUDED_LABELS "
    "WITH label AS relType, collect({property:property, type:type}) AS properties "
    "RETURN {type: relType, properties: properties} AS output"
)
REL_QUERY = (
    "CALL apoc.meta.data({sample: $SAMPLE}) YIELD label, other, elementType, type, property "
    "WHERE type = 'RELATIONSHIP' AND elementType = 'node' UNWIND other AS other_node "
    "WITH * WHERE NOT label IN $EXCLUDED_LABELS AND NOT other_node IN $EXCLUDED_LABELS "
    "RETURN {start: label, type: property, end: toString(other_node)} AS output"
)
INDEX_QUERY = (
    "CALL apoc.schema.nodes() YIELD label, properties, type, size, valuesSelectivity "
    "WHERE type = 'RANGE' RETURN *, size * valuesSelectivity as distinctValues"
)
SCHEMA_COUNTS_QUERY = (
    "CALL apoc.meta.graph({sample: 1000, maxRels: 100}) YIELD nodes, relationships "
    "RETURN nodes, [rel in relationships | {name:apoc.any.property(rel, 'type'), count: apoc.any.property(rel, 'count')}]"
    " AS relationships"
)
PARAMS = {"SAMPLE": 1000, "EXCLUDED_LABELS": ["_Bloom_Perspective_", "__Entity__"]}


@pytest.fixture
def db():
    with weftdb.open(None) as database:
        database.execute(
            "CREATE (a:Person {name: 'Ann', age: 31})-[:KNOWS {since: 2019}]->(b:Person {name: 'Bob', tags: ['x']}), "
            "(a)-[:WORKS_AT]->(:Company {name: 'Acme', founded: date('1999-01-01')}), (:Empty)"
        )
        yield database


def outputs(db, query):
    return [row[0] for row in db.execute(query, PARAMS)]


# ---------------------------------------------------------------- db.* and dbms.*


def test_labels_types_and_keys(db):
    db.execute("CREATE (:Gone)")
    db.execute("MATCH (g:Gone) DELETE g")
    assert db.execute("CALL db.labels()").rows == [("Company",), ("Empty",), ("Person",)]  # in use only
    assert db.execute("CALL db.relationshipTypes()").rows == [("KNOWS",), ("WORKS_AT",)]
    assert db.execute("CALL db.propertyKeys() YIELD propertyKey RETURN collect(propertyKey)").single() == [
        "age", "founded", "name", "since", "tags"]


def test_labels_see_the_transaction(db):
    with db.begin() as tx:
        tx.execute("CREATE (:Fresh)-[:NEW]->()")
        assert ("Fresh",) in tx.execute("CALL db.labels()").rows
        assert ("NEW",) in tx.execute("CALL db.relationshipTypes()").rows
        tx.rollback()
    assert ("Fresh",) not in db.execute("CALL db.labels()").rows


def test_components_as_neo4j_and_its_clients_read_them(db):
    assert db.execute("CALL dbms.components()").rows == [(identity.NEO4J_KERNEL, [identity.NEO4J_VERSION], "community")]
    # neomodel's line at connect
    assert db.execute("CALL dbms.components() yield versions, edition return versions[0], edition").rows == [
        (identity.NEO4J_VERSION, "community")]


def test_schema_type_properties(db):
    rows = db.execute("CALL db.schema.nodeTypeProperties() YIELD nodeType, propertyName, propertyTypes, mandatory").rows
    assert (":`Person`", "age", ["Long"], False) in rows
    assert (":`Person`", "name", ["String"], True) in rows
    assert (":`Person`", "tags", ["StringArray"], False) in rows
    assert (":`Company`", "founded", ["Date"], True) in rows
    assert (":`Empty`", None, None, False) in rows
    assert db.execute("CALL db.schema.relTypeProperties()").rows == [
        (":`KNOWS`", "since", ["Long"], True), (":`WORKS_AT`", None, None, False)]


def test_schema_visualization_gives_virtual_nodes(db):
    nodes, relationships = db.execute("CALL db.schema.visualization()").rows[0]
    assert {n.properties["name"] for n in nodes} == {"Company", "Empty", "Person"}
    assert all(isinstance(n, Node) and n.id < 0 for n in nodes)
    ids = {n.properties["name"]: n.id for n in nodes}
    assert {(r.start_node_id, r.type, r.end_node_id) for r in relationships} == {
        (ids["Person"], "KNOWS", ids["Person"]), (ids["Person"], "WORKS_AT", ids["Company"])}


# ---------------------------------------------------------------- APOC for langchain-neo4j


def test_langchain_schema_queries(db):
    db.execute("CREATE (:__Entity__ {id: 'hidden'})")
    node_props = {o["label"]: {p["property"]: p["type"] for p in o["properties"]} for o in outputs(db, NODE_PROPERTIES_QUERY)}
    assert node_props == {"Person": {"name": "STRING", "age": "INTEGER", "tags": "LIST"},
                          "Company": {"name": "STRING", "founded": "DATE"}}
    rel_props = {o["type"]: {p["property"]: p["type"] for p in o["properties"]} for o in outputs(db, REL_PROPERTIES_QUERY)}
    assert rel_props == {"KNOWS": {"since": "INTEGER"}}
    assert sorted(outputs(db, REL_QUERY), key=str) == [
        {"start": "Person", "type": "KNOWS", "end": "Person"}, {"start": "Person", "type": "WORKS_AT", "end": "Company"}]


def test_meta_data_rows_as_apoc_gives_them(db):
    rows = {(r["label"], r["property"]): r for r in db.execute("CALL apoc.meta.data()").data()}
    knows = rows[("Person", "KNOWS")]
    assert (knows["type"], knows["elementType"], knows["count"], knows["other"], knows["left"]) == (
        "RELATIONSHIP", "node", 1, ["Person"], 1)
    assert rows[("KNOWS", "Person")]["elementType"] == "relationship"
    assert rows[("Person", "tags")]["array"] is True
    assert rows[("Company", "founded")]["type"] == "DATE"


def test_meta_data_flags_indexes_and_constraints(db):
    db.execute("CREATE INDEX ON :Person(age)")
    db.execute("CREATE CONSTRAINT ON (p:Person) ASSERT p.name IS UNIQUE")
    rows = {(r["label"], r["property"]): r for r in db.execute("CALL apoc.meta.data()").data()}
    assert rows[("Person", "age")]["index"] is True and rows[("Person", "age")]["unique"] is False
    assert rows[("Person", "name")]["unique"] is True


def test_schema_nodes_lists_indexes_and_constraints(db):
    db.execute("CREATE INDEX ON :Person(age)")
    db.execute("CREATE CONSTRAINT ON (c:Company) ASSERT c.name IS UNIQUE")
    rows = db.execute(INDEX_QUERY).data()
    assert rows == [{"label": "Person", "properties": ["age"], "type": "RANGE", "size": 1, "valuesSelectivity": 1.0,
                     "distinctValues": 1.0}]
    every = db.execute("CALL apoc.schema.nodes() YIELD name, label, type, status RETURN *").data()
    assert {"name": ":Company(name)", "label": "Company", "type": "UNIQUENESS", "status": ""} in every
    assert db.execute("CALL apoc.schema.nodes({labels: ['Company']}) YIELD label RETURN collect(label)").single() == [
        "Company"]


def test_enhanced_schema_queries(db):
    nodes, relationships = db.execute(SCHEMA_COUNTS_QUERY).rows[0]
    assert sorted((n.properties["name"], n.properties["count"]) for n in nodes) == [
        ("Company", 1), ("Empty", 1), ("Person", 2)]
    assert sorted(relationships, key=lambda r: r["name"]) == [{"name": "KNOWS", "count": 1}, {"name": "WORKS_AT", "count": 1}]
    assert sorted(db.execute("CALL apoc.schema.properties.distinct('Person', 'name') YIELD value").single()) == ["Ann", "Bob"]
    assert db.execute("RETURN apoc.any.property({a: 1}, 'a') AS a, apoc.any.property(null, 'a') AS n").rows == [(1, None)]
    assert db.execute("MATCH (p:Person {name: 'Ann'}) RETURN apoc.any.property(p, 'age')").single() == 31


def test_merge_node_as_add_graph_documents_sends_it(db):
    query = ("UNWIND $data AS row CALL apoc.merge.node([row.type], {id: row.id}, row.properties, {}) YIELD node "
             "RETURN distinct 'done' AS result")
    data = [{"type": "City", "id": "Ljubljana", "properties": {"country": "SI"}},
            {"type": "City", "id": "Ljubljana", "properties": {"country": "XX"}},
            {"type": "Company", "id": "Acme", "properties": {}}]
    result = db.execute(query, {"data": data})
    assert result.rows == [("done",)]
    assert result.counters == {"nodes-created": 2, "labels-added": 2, "properties-set": 3}
    assert db.execute("MATCH (c:City) RETURN c.id, c.country").rows == [("Ljubljana", "SI")]  # matched: onCreate unused
    db.execute("CALL apoc.merge.node(['City'], {id: 'Ljubljana'}, {}, {visited: true})")
    assert db.execute("MATCH (c:City) RETURN c.visited").single() is True


def test_merge_relationship_as_add_graph_documents_sends_it(db):
    query = ("UNWIND $data AS row "
             "CALL apoc.merge.node([row.source_label], {id: row.source},{}, {}) YIELD node as source "
             "CALL apoc.merge.node([row.target_label], {id: row.target},{}, {}) YIELD node as target "
             "CALL apoc.merge.relationship(source, row.type, {}, row.properties, target) YIELD rel "
             "RETURN distinct 'done'")
    data = [{"source": "Ann", "source_label": "Person", "target": "Acme", "target_label": "Company",
             "type": "WORKS_AT", "properties": {"since": 2020}}] * 2
    db.execute(query, {"data": data})
    rows = db.execute("MATCH (:Person {id: 'Ann'})-[r:WORKS_AT]->(:Company {id: 'Acme'}) RETURN r.since").rows
    assert rows == [(2020,)]  # merged once
    db.execute("MATCH (a {id: 'Ann'}), (c {id: 'Acme'}) CALL apoc.merge.relationship(a, 'WORKS AT', {role: 'cto'}, {}, c) "
               "YIELD rel RETURN rel")
    assert db.execute("MATCH ()-[r:`WORKS AT`]->() RETURN r.role").single() == "cto"


@pytest.mark.parametrize("query, message", [
    ("CALL apoc.merge.node(['L'], {})", "at least one identifying property"),
    ("CALL apoc.merge.node(['L', ''], {id: 1})", "may not contain null or empty"),
    ("MATCH (a:Person {name: 'Ann'}) CALL apoc.merge.relationship(a, '', {}, {}, a) YIELD rel RETURN rel",
     "without a type"),
])
def test_merge_arguments_checked_as_apoc_does(db, query, message):
    with pytest.raises(ProcedureError, match=message):
        db.execute(query)


def test_create_procedures(db):
    result = db.execute("MATCH (p:Person) CALL apoc.create.addLabels(p, ['Human', 'Mammal']) YIELD node "
                        "RETURN count(node)")
    assert result.single() == 2 and result.counters == {"labels-added": 4}
    ids = [row[0] for row in db.execute("MATCH (p:Person) RETURN id(p) ORDER BY id(p)")]
    db.execute("CALL apoc.create.removeLabels($ids, ['Mammal']) YIELD node RETURN node", {"ids": ids})
    assert db.execute("MATCH (m:Mammal) RETURN count(m)").single() == 0
    db.execute("MATCH (p:Person {name: 'Bob'}) CALL apoc.create.setLabels(p, ['Robot']) YIELD node RETURN node")
    assert db.execute("MATCH (r:Robot) RETURN labels(r)").single() == ["Robot"]
    made = db.execute("CALL apoc.create.node(['Thing'], {n: 1}) YIELD node RETURN node").single()
    assert made.labels == {"Thing"} and made.properties == {"n": 1}
    rel = db.execute("MATCH (t:Thing), (c:Company) CALL apoc.create.relationship(t, 'OF', {w: 2}, c) YIELD rel "
                     "RETURN rel").single()
    assert isinstance(rel, Relationship) and rel.type == "OF" and rel.properties == {"w": 2}
    db.execute("MATCH (t:Thing) CALL apoc.create.setProperty(t, 'n', 5) YIELD node RETURN node")
    assert db.execute("MATCH (t:Thing) RETURN t.n").single() == 5


def test_cypher_types(db):
    assert db.execute("MATCH (p:Person {name: 'Bob'}) RETURN apoc.meta.cypher.types(p)").single() == {
        "name": "STRING", "tags": "LIST OF STRING"}
    assert db.execute("RETURN apoc.meta.cypher.type(1.5) AS t").single() == "FLOAT"


def test_apoc_writes_are_refused_in_a_read_only_transaction(db):
    with pytest.raises(AccessModeError):
        db.execute("CALL apoc.create.node(['X'], {})", read_only=True)
    assert db.execute("CALL apoc.meta.data() YIELD label RETURN count(*)", read_only=True).single() > 0

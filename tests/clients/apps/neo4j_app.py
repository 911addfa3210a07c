"""A small app on the neo4j Python driver (5.x or 6.x: run by .clients/neo4j5 and
.clients/neo4j6), written as the driver's manual teaches: `execute_query` for
most work, sessions for explicit and managed transactions, Neo4j 5 schema syntax.
Reports its checks as JSON lines (checklib)."""

from __future__ import annotations

import checklib
import neo4j
from checklib import CYPHER_VALUES, NATIVE_VALUES, check, expect, expect_equal, raises
from neo4j.exceptions import ClientError, ConstraintError, CypherSyntaxError

checklib.info(client="neo4j Python driver", version=neo4j.__version__)

# Defaults, except a short retry budget so that a failing check fails in seconds
# instead of being retried for the default 30 s (it changes nothing that is sent).
driver = neo4j.GraphDatabase.driver(checklib.URI, auth=None, max_transaction_retry_time=3.0)


def q(query: str, **params):
    return driver.execute_query(query, params)


def value(record_value):
    """A temporal value of the driver as the standard library's."""
    to_native = getattr(record_value, "to_native", None)
    return to_native() if to_native is not None and not isinstance(record_value, neo4j.time.Duration) else record_value


def zone_name(tz) -> str | None:
    return getattr(tz, "zone", None) or getattr(tz, "key", None)


# --- connect -----------------------------------------------------------------

with check("connect"):
    driver.verify_connectivity()

with check("connect_with_credentials"):
    # The Neo4j tutorials' line; a server without users lets anyone in.
    with neo4j.GraphDatabase.driver(checklib.URI, auth=("neo4j", "password")) as other:
        other.verify_connectivity()

with check("server_agent"):
    agent = driver.get_server_info().agent
    expect(agent.startswith("Neo4j/"), f"server agent {agent!r} does not start with 'Neo4j/'")

with check("dbms_components"):
    records, _, _ = q("CALL dbms.components() YIELD name, versions, edition RETURN name, versions, edition")
    expect(len(records) == 1, f"expected one component, got {records}")
    expect(records[0]["versions"] and isinstance(records[0]["versions"][0], str), f"no version: {records[0]}")

with check("database_neo4j"):
    records, _, _ = driver.execute_query("RETURN 1 AS one", database_="neo4j")
    expect_equal(records[0]["one"], 1)

with check("show_databases"):
    records, _, _ = q("SHOW DATABASES")
    rows = [r.data() for r in records]
    expect(any(r.get("name") == "neo4j" or "neo4j" in (r.get("aliases") or []) for r in rows),
           f"no database named or aliased neo4j in {rows}")

# --- schema ------------------------------------------------------------------

with check("create_index"):
    _, summary, _ = q("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)")
    expect_equal(summary.counters.indexes_added, 1, "counters.indexes_added")

with check("create_constraint"):
    _, summary, _ = q("CREATE CONSTRAINT person_email IF NOT EXISTS FOR (p:Person) REQUIRE p.email IS UNIQUE")
    expect_equal(summary.counters.constraints_added, 1, "counters.constraints_added")

with check("schema_if_not_exists_again"):
    q("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)")
    _, summary, _ = q("CREATE CONSTRAINT person_email IF NOT EXISTS FOR (p:Person) REQUIRE p.email IS UNIQUE")
    expect_equal(summary.counters.constraints_added, 0, "counters.constraints_added the second time")

with check("relationship_index"):
    _, summary, _ = q("CREATE INDEX knows_since IF NOT EXISTS FOR ()-[r:KNOWS]-() ON (r.since)")
    expect_equal(summary.counters.indexes_added, 1, "counters.indexes_added")

with check("composite_unique_constraint"):
    q("CREATE CONSTRAINT badge IF NOT EXISTS FOR (e:Employee) REQUIRE (e.company, e.number) IS UNIQUE")
    q("CREATE (:Employee {company: 'A', number: 1}), (:Employee {company: 'B', number: 1})")
    raises(lambda: q("CREATE (:Employee {company: 'A', number: 1})"), ConstraintError)

with check("show_indexes"):
    records, _, keys = q("SHOW INDEXES")
    for column in ("name", "type", "entityType", "labelsOrTypes", "properties"):
        expect(column in keys, f"SHOW INDEXES has no column {column!r}: {keys}")
    rows = {r["name"]: r for r in records}
    expect("person_name" in rows, f"person_name not listed: {list(rows)}")
    expect_equal(rows["person_name"]["labelsOrTypes"], ["Person"], "labelsOrTypes")
    expect_equal(rows["person_name"]["properties"], ["name"], "properties")

with check("show_constraints"):
    records, _, keys = q("SHOW CONSTRAINTS")
    for column in ("name", "type", "entityType", "labelsOrTypes", "properties"):
        expect(column in keys, f"SHOW CONSTRAINTS has no column {column!r}: {keys}")
    rows = {r["name"]: r for r in records}
    expect("person_email" in rows, f"person_email not listed: {list(rows)}")
    expect(rows["person_email"]["type"] in ("UNIQUENESS", "NODE_PROPERTY_UNIQUENESS"), f"type {rows['person_email']['type']}")

with check("drop_index_if_exists"):
    q("DROP INDEX no_such_index IF EXISTS")
    q("DROP CONSTRAINT no_such_constraint IF EXISTS")

with check("memgraph_index_syntax"):
    _, summary, _ = q("CREATE INDEX ON :City(name)")
    expect_equal(summary.counters.indexes_added, 1, "counters.indexes_added")

# --- writes with parameters ----------------------------------------------------

with check("write_with_parameters"):
    records, summary, _ = q("CREATE (p:Person {name: $name, email: $email, age: $age}) RETURN p.name AS name",
                            name="Ann", email="ann@example.com", age=31)
    expect_equal(records[0]["name"], "Ann")
    expect_equal(summary.counters.nodes_created, 1, "counters.nodes_created")
    expect_equal(summary.counters.properties_set, 3, "counters.properties_set")

with check("unwind_batch"):
    rows = [{"name": f"p{i}", "n": i} for i in range(200)]
    _, summary, _ = q("UNWIND $rows AS row CREATE (:Batch {name: row.name, n: row.n})", rows=rows)
    expect_equal(summary.counters.nodes_created, 200, "counters.nodes_created")
    records, _, _ = q("MATCH (b:Batch) RETURN count(b) AS c, sum(b.n) AS s")
    expect_equal((records[0]["c"], records[0]["s"]), (200, sum(range(200))))

# --- every value type, as a literal and as a parameter ----------------------------

for name, cypher in CYPHER_VALUES.items():
    with check(f"value_{name}"):
        records, _, _ = q(f"RETURN {cypher} AS literal")
        literal = records[0]["literal"]
        if name == "duration":
            expect((literal.months, literal.days, literal.seconds, literal.nanoseconds) == (14, 10, 11045, 6000),
                   f"duration read back as {literal!r}")
            records, _, _ = q("RETURN $v AS v", v=literal)
            expect_equal(records[0]["v"], literal, "duration parameter")
            continue
        expect_equal(value(literal), NATIVE_VALUES[name], "literal")
        if name == "datetime_zone":
            expect_equal(zone_name(literal.tzinfo), "Europe/Berlin", "zone")
        # The standard library's value as a parameter; for a time with an offset the
        # driver's own Time (the driver cannot send a datetime.time with a
        # datetime.timezone: timezone.utcoffset() wants a datetime).
        records, _, _ = q("RETURN $v AS v", v=literal if name == "time" else NATIVE_VALUES[name])
        expect_equal(value(records[0]["v"]), NATIVE_VALUES[name], "parameter")
        if name not in ("null", "list", "map"):  # property values (a stored list holds one type, no null)
            records, _, _ = q("CREATE (n:Value {v: $v}) RETURN n.v AS v", v=literal)
            expect_equal(value(records[0]["v"]), NATIVE_VALUES[name], "stored property")

with check("value_node"):
    records, _, _ = q("CREATE (n:Person:Employee {name: 'Val', email: 'val@example.com'}) RETURN n")
    node = records[0]["n"]
    expect(isinstance(node, neo4j.graph.Node), f"not a Node: {node!r}")
    expect_equal(set(node.labels), {"Person", "Employee"}, "labels")
    expect_equal(dict(node), {"name": "Val", "email": "val@example.com"}, "properties")
    expect(isinstance(node.element_id, str) and node.element_id, f"element_id {node.element_id!r}")

with check("value_relationship"):
    records, _, _ = q("CREATE (a:Person {name: 'Rel A'})-[r:KNOWS {since: 2020}]->(b:Person {name: 'Rel B'}) RETURN a, r, b")
    a, r, b = records[0]["a"], records[0]["r"], records[0]["b"]
    expect_equal(r.type, "KNOWS", "type")
    expect_equal(dict(r), {"since": 2020}, "properties")
    expect_equal((r.start_node.element_id, r.end_node.element_id), (a.element_id, b.element_id), "ends")

with check("value_path"):
    q("CREATE (:Hop {i: 0})-[:NEXT]->(:Hop {i: 1})-[:NEXT]->(:Hop {i: 2})")
    records, _, _ = q("MATCH p = (:Hop {i: 0})-[:NEXT*2]->() RETURN p")
    path = records[0]["p"]
    expect(isinstance(path, neo4j.graph.Path), f"not a Path: {path!r}")
    expect_equal([n["i"] for n in path.nodes], [0, 1, 2], "nodes")
    expect_equal([rel.type for rel in path.relationships], ["NEXT", "NEXT"], "relationships")

with check("element_id_lookup"):
    records, _, _ = q("MATCH (n:Person {name: 'Ann'}) RETURN n, elementId(n) AS eid")
    node, eid = records[0]["n"], records[0]["eid"]
    expect_equal(eid, node.element_id, "elementId(n) against the element_id the driver received")
    records, _, _ = q("MATCH (n) WHERE elementId(n) = $id RETURN n.name AS name", id=node.element_id)
    expect_equal([r["name"] for r in records], ["Ann"], "MATCH by elementId")

# --- transactions -------------------------------------------------------------

with check("explicit_commit"):
    with driver.session() as session:
        with session.begin_transaction() as tx:
            tx.run("CREATE (:Tx {name: 'committed'})")
            tx.commit()
    records, _, _ = q("MATCH (t:Tx {name: 'committed'}) RETURN count(t) AS c")
    expect_equal(records[0]["c"], 1, "committed nodes")

with check("explicit_rollback"):
    with driver.session() as session:
        tx = session.begin_transaction()
        tx.run("CREATE (:Tx {name: 'rolled back'})")
        inside = tx.run("MATCH (t:Tx {name: 'rolled back'}) RETURN count(t) AS c").single()["c"]
        tx.rollback()
    records, _, _ = q("MATCH (t:Tx {name: 'rolled back'}) RETURN count(t) AS c")
    expect_equal((inside, records[0]["c"]), (1, 0), "(seen inside, seen after rollback)")

with check("managed_transactions"):
    with driver.session() as session:
        session.execute_write(lambda tx: tx.run("CREATE (:Tx {name: 'managed'})").consume())
        count = session.execute_read(lambda tx: tx.run("MATCH (t:Tx {name: 'managed'}) RETURN count(t) AS c").single()["c"])
    expect_equal(count, 1, "managed write read back")

# --- errors -------------------------------------------------------------------

with check("syntax_error"):
    raises(lambda: q("RETURN RETURN"), CypherSyntaxError)

with check("constraint_violation"):
    # A constraint made as docs/server.md says works today (Memgraph's syntax, on
    # its own), so that this check is about the error class alone.
    with driver.session() as session:
        session.run("CREATE CONSTRAINT ON (a:Account) ASSERT a.id IS UNIQUE").consume()
    q("CREATE (:Account {id: 1})")
    raises(lambda: q("CREATE (:Account {id: 1})"), ConstraintError)

with check("unknown_procedure"):
    error = raises(lambda: q("CALL no.such.procedure()"), ClientError)
    expect_equal(error.code, "Neo.ClientError.Procedure.ProcedureNotFound", "code")

with check("session_after_error"):
    with driver.session() as session:
        try:
            session.run("RETURN RETURN").consume()
        except CypherSyntaxError:
            pass
        expect_equal(session.run("RETURN 41 + 1 AS x").single()["x"], 42)

# --- plans and procedures --------------------------------------------------------

with check("explain_plan"):
    _, summary, _ = q("EXPLAIN MATCH (p:Person) WHERE p.name = 'Ann' RETURN p")
    expect(summary.plan and "operatorType" in summary.plan, f"summary.plan is {summary.plan!r}")

with check("profile_plan"):
    _, summary, _ = q("PROFILE MATCH (p:Person) RETURN p.name")
    expect(summary.profile and "operatorType" in summary.profile and "rows" in summary.profile,
           f"summary.profile is {summary.profile!r}")

with check("db_schema_procedures"):
    labels = [r["label"] for r in q("CALL db.labels() YIELD label RETURN label").records]
    types = [r["relationshipType"] for r in q("CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType").records]
    keys = [r["propertyKey"] for r in q("CALL db.propertyKeys() YIELD propertyKey RETURN propertyKey").records]
    expect("Person" in labels and "KNOWS" in types and "email" in keys, f"labels {labels}, types {types}, keys {keys}")

with check("show_procedures"):
    names = [r["name"] for r in q("SHOW PROCEDURES YIELD name RETURN name").records]
    expect("dbms.components" in names and "db.labels" in names, f"procedures listed: {names[:20]}")

driver.close()

"""A small app on py2neo 2021.2 (its own Bolt client, which offers Bolt 4.0 to 4.3
only), written as its handbook teaches: Graph.run, create/merge/push/pull of
Node and Relationship objects, the node matcher, explicit transactions and the
schema helpers. Reports its checks as JSON lines (checklib)."""

from __future__ import annotations

from importlib.metadata import version

import checklib
from checklib import CYPHER_VALUES, NATIVE_VALUES, check, expect, expect_equal, raises
from py2neo import Graph, Node, Relationship
from py2neo.errors import ClientError

checklib.info(client="py2neo", version=version("py2neo"))



def native(value):
    """A temporal value of py2neo (interchange.time) as the standard library's:
    its to_native() drops the zone, which is put back here."""
    to_native = getattr(value, "to_native", None)
    if to_native is None:
        return value
    result, zone = to_native(), getattr(value, "tzinfo", None)
    if zone is not None and getattr(result, "tzinfo", None) is None:
        result = zone.localize(result) if hasattr(zone, "localize") else result.replace(tzinfo=zone)
    return result


class NotConnected:
    """Stands for the Graph that could not be made: every use says why."""

    def __init__(self, error: Exception):
        self.error = checklib.describe(error)

    def __getattr__(self, name):
        raise RuntimeError(f"no Graph: {self.error}")


with check("connect"):
    try:
        # The handbook's line; a server without users lets anyone in. Graph()
        # connects at once.
        graph = Graph(checklib.URI, auth=("neo4j", "password"))
    except Exception as exc:
        graph = NotConnected(exc)
        raise
    expect_equal(graph.run("RETURN 1 AS one").evaluate(), 1, "RETURN 1")

with check("service_version"):
    # GraphService.kernel_version: the 'Neo4j Kernel' row of CALL dbms.components()
    expect(graph.service.kernel_version.major >= 4, f"kernel_version {graph.service.kernel_version}")

with check("run_with_parameters"):
    cursor = graph.run("CREATE (p:Person {name: $name, age: $age}) RETURN p.name AS name, p.age AS age", name="Ann", age=31)
    expect_equal(cursor.data(), [{"name": "Ann", "age": 31}], "rows")

for name, cypher in CYPHER_VALUES.items():
    with check(f"value_{name}"):
        value = graph.run(f"RETURN {cypher}").evaluate()
        if name == "duration":
            expect((value.months, value.days, value.seconds, value.subseconds) == (14, 10, 11045, 0.000006)
                   or str(value) == "P1Y2M10DT3H4M5.000006S", f"duration {value!r}")
        else:
            expect_equal(native(value), NATIVE_VALUES[name], "literal")
        if name == "datetime_zone":
            expect_equal(str(value.tzinfo), "Europe/Berlin", "zone")
        back = graph.run("RETURN $v", v=value).evaluate()
        expect_equal(back, value, "parameter")

with check("create_subgraph"):
    bob, cy = Node("Person", name="Bob", age=27), Node("Person", "Employee", name="Cy", age=45)
    graph.create(Relationship(bob, "KNOWS", cy, since=2021))
    expect(bob.identity is not None and cy.identity is not None, "nodes without identity after create()")
    row = graph.run("MATCH (a:Person {name: 'Bob'})-[r:KNOWS]->(b) RETURN a, r, b").data()[0]
    expect_equal(set(row["b"].labels), {"Person", "Employee"}, "labels")
    expect_equal((row["r"]["since"], type(row["r"]).__name__), (2021, "KNOWS"), "relationship")

with check("node_matcher"):
    found = graph.nodes.match("Person", name="Bob").first()
    expect(found is not None and found["age"] == 27, f"matched {found!r}")
    expect_equal(sorted(n["name"] for n in graph.nodes.match("Person").where("_.age > 30")), ["Ann", "Cy"], "age > 30")

with check("merge_push_pull"):
    ann = Node("Person", name="Ann")
    graph.merge(ann, "Person", "name")
    expect(ann.identity is not None, "merge() did not bind the existing node")
    ann["age"] = 32
    graph.push(ann)
    again = graph.nodes.match("Person", name="Ann").first()
    graph.pull(again)
    expect_equal((again["age"], len(graph.nodes.match("Person", name="Ann"))), (32, 1), "(age, nodes named Ann)")

with check("value_path"):
    path = graph.run("MATCH p = (:Person {name: 'Bob'})-[:KNOWS]->() RETURN p").evaluate()
    expect_equal([n["name"] for n in path.nodes], ["Bob", "Cy"], "path nodes")

with check("explicit_commit"):
    tx = graph.begin()
    tx.create(Node("Tx", name="committed"))
    graph.commit(tx)
    expect_equal(graph.run("MATCH (t:Tx {name: 'committed'}) RETURN count(t)").evaluate(), 1, "committed nodes")

with check("explicit_rollback"):
    tx = graph.begin()
    tx.run("CREATE (:Tx {name: 'rolled back'})")
    inside = tx.evaluate("MATCH (t:Tx {name: 'rolled back'}) RETURN count(t)")
    graph.rollback(tx)
    after = graph.run("MATCH (t:Tx {name: 'rolled back'}) RETURN count(t)").evaluate()
    expect_equal((inside, after), (1, 0), "(seen inside, seen after rollback)")

with check("syntax_error"):
    error = raises(lambda: graph.run("RETURN RETURN"), ClientError)
    expect_equal(error.code, "Neo.ClientError.Statement.SyntaxError", "code")

with check("schema_index"):
    # CREATE INDEX ON :Person(name), then CALL db.indexes until it is listed
    # (py2neo waits without a limit; this check gives up after 20 s)
    graph.schema.create_index("Person", "name")
    expect(("name",) in graph.schema.get_indexes("Person"), f"indexes {graph.schema.get_indexes('Person')}")

with check("schema_uniqueness_constraint"):
    graph.schema.create_uniqueness_constraint("Account", "id")
    expect_equal(graph.schema.get_uniqueness_constraints("Account"), ["id"], "uniqueness constraints")

with check("constraint_violation"):
    graph.run("CREATE CONSTRAINT ON (u:User) ASSERT u.id IS UNIQUE")
    graph.run("CREATE (:User {id: 1})")
    error = raises(lambda: graph.run("CREATE (:User {id: 1})"), ClientError)
    expect_equal(error.code, "Neo.ClientError.Schema.ConstraintValidationFailed", "code")

with check("schema_labels"):
    expect({"Person", "Employee"} <= graph.schema.node_labels, f"node_labels {graph.schema.node_labels}")
    expect("KNOWS" in graph.schema.relationship_types, f"relationship_types {graph.schema.relationship_types}")

with check("delete_all"):
    graph.delete_all()
    expect_equal(graph.run("MATCH (n) RETURN count(n)").evaluate(), 0, "nodes left")

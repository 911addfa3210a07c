"""A small app on pymgclient 1.6 (Memgraph's DB-API client, Bolt 4.x, transaction
control sent as BEGIN/COMMIT/ROLLBACK query text), written as its documentation
teaches: autocommit for schema, explicit commit and rollback otherwise, Memgraph's
statements. Reports its checks as JSON lines (checklib)."""

from __future__ import annotations

from importlib.metadata import version

import checklib
import mgclient
from checklib import MEMGRAPH_CYPHER_VALUES, MEMGRAPH_NATIVE_VALUES, check, expect, expect_equal, raises

checklib.info(client="pymgclient", version=version("pymgclient"))


def connect(**kwargs) -> mgclient.Connection:
    return mgclient.connect(host=checklib.HOST, port=checklib.PORT, **kwargs)


def rows(cursor, query: str, params: dict | None = None) -> list[tuple]:
    cursor.execute(query, params or {})
    return cursor.fetchall()


auto = None
with check("connect"):
    auto = connect()
    expect_equal(auto.status, mgclient.CONN_STATUS_READY, "status")
    auto.autocommit = True
if auto is None:
    auto = connect()
    auto.autocommit = True
cursor = auto.cursor()

# --- schema (on its own, in autocommit) -------------------------------------------------

with check("create_schema"):
    rows(cursor, "CREATE INDEX ON :Person(name)")
    rows(cursor, "CREATE CONSTRAINT ON (p:Person) ASSERT p.email IS UNIQUE")
    rows(cursor, "CREATE CONSTRAINT ON (p:Person) ASSERT EXISTS (p.name)")

with check("show_schema"):
    cursor.execute("SHOW INDEX INFO")
    columns = [d.name for d in cursor.description]
    indexes = cursor.fetchall()
    expect(columns[:3] == ["index type", "label", "property"], f"SHOW INDEX INFO columns {columns}")
    expect(any(r[1:3] == ("Person", "name") for r in indexes), f"SHOW INDEX INFO rows {indexes}")
    constraints = rows(cursor, "SHOW CONSTRAINT INFO")
    expect(("unique", "Person", ["email"]) in constraints and ("exists", "Person", "name") in constraints,
           f"SHOW CONSTRAINT INFO rows {constraints}")

with check("create_schema_again"):
    # What an app's next start sends: Memgraph answers with a notification.
    rows(cursor, "CREATE INDEX ON :Person(name)")
    rows(cursor, "CREATE CONSTRAINT ON (p:Person) ASSERT p.email IS UNIQUE")

with check("drop_missing_schema"):
    rows(cursor, "DROP INDEX ON :Nope(x)")
    rows(cursor, "DROP CONSTRAINT ON (n:Nope) ASSERT n.x IS UNIQUE")

# --- writes and values --------------------------------------------------------------------

with check("write_with_parameters"):
    got = rows(cursor, "CREATE (p:Person {name: $name, email: $email, age: $age}) RETURN p.name",
               {"name": "Ann", "email": "ann@example.com", "age": 31})
    expect_equal(got, [("Ann",)], "rows")

for name, cypher in MEMGRAPH_CYPHER_VALUES.items():
    with check(f"value_{name}"):
        ((value,),) = rows(cursor, f"RETURN {cypher} AS v")
        expect_equal(value, MEMGRAPH_NATIVE_VALUES[name], "literal")
        ((back,),) = rows(cursor, "RETURN $v AS v", {"v": MEMGRAPH_NATIVE_VALUES[name]})
        expect_equal(back, MEMGRAPH_NATIVE_VALUES[name], "parameter")
        if name == "datetime_zone":
            expect_equal(getattr(value.tzinfo, "key", None), "Europe/Berlin", "zone")

with check("value_graph"):
    ((a, r, b, p),) = rows(cursor, "CREATE path = (a:Person:Employee {name: 'Rel A', email: 'a@example.com'})"
                                   "-[r:KNOWS {since: 2020}]->(b:Person {name: 'Rel B', email: 'b@example.com'}) "
                                   "RETURN a, r, b, path")
    expect(isinstance(a, mgclient.Node) and a.labels == {"Person", "Employee"}, f"node {a!r}")
    expect_equal(a.properties, {"name": "Rel A", "email": "a@example.com"}, "node properties")
    expect(isinstance(r, mgclient.Relationship) and r.type == "KNOWS" and r.properties == {"since": 2020}, f"relationship {r!r}")
    expect_equal((r.start_id, r.end_id), (a.id, b.id), "relationship ends")
    expect(isinstance(p, mgclient.Path) and [n.id for n in p.nodes] == [a.id, b.id], f"path {p!r}")

with check("fetchmany"):
    cursor.execute("UNWIND range(1, 2500) AS i RETURN i")
    first = cursor.fetchmany(1000)
    rest = cursor.fetchall()
    expect_equal((len(first), len(rest), rest[-1]), (1000, 1500, (2500,)), "(first, rest, last)")

with check("lazy_connection"):
    lazy = connect(lazy=True)
    lazy_cursor = lazy.cursor()
    lazy_cursor.execute("UNWIND range(1, 3000) AS i RETURN i")
    got = [row[0] for row in iter(lazy_cursor.fetchone, None)]
    lazy.commit()
    expect_equal((len(got), got[-1]), (3000, 3000), "(rows, last)")
    lazy.close()

# --- transactions -------------------------------------------------------------

with check("explicit_commit"):
    tx = connect()  # autocommit off: BEGIN before the first statement
    tx_cursor = tx.cursor()
    tx_cursor.execute("CREATE (:Tx {name: 'committed'})")
    tx.commit()
    expect_equal(rows(cursor, "MATCH (t:Tx {name: 'committed'}) RETURN count(t)"), [(1,)], "committed nodes")
    tx.close()

with check("explicit_rollback"):
    tx = connect()
    tx_cursor = tx.cursor()
    tx_cursor.execute("CREATE (:Tx {name: 'rolled back'})")
    inside = rows(tx_cursor, "MATCH (t:Tx {name: 'rolled back'}) RETURN count(t)")
    tx.rollback()
    after = rows(cursor, "MATCH (t:Tx {name: 'rolled back'}) RETURN count(t)")
    expect_equal((inside, after), ([(1,)], [(0,)]), "(seen inside, seen after rollback)")
    tx.close()

# --- errors -------------------------------------------------------------------

with check("syntax_error"):
    raises(lambda: cursor.execute("RETURN RETURN"), mgclient.DatabaseError)
    expect_equal(rows(cursor, "RETURN 41 + 1"), [(42,)], "the connection after the error")

with check("constraint_violation"):
    raises(lambda: cursor.execute("CREATE (:Person {name: 'Ann again', email: 'ann@example.com'})"), mgclient.DatabaseError)

with check("exists_violation"):
    raises(lambda: cursor.execute("CREATE (:Person {email: 'nameless@example.com'})"), mgclient.DatabaseError)

# --- Memgraph's statements ---------------------------------------------------------

with check("show_version"):
    ((text,),) = rows(cursor, "SHOW VERSION")
    expect(isinstance(text, str) and text, f"SHOW VERSION answered {text!r}")

with check("show_storage_info"):
    info = dict(rows(cursor, "SHOW STORAGE INFO"))
    for key in ("vertex_count", "edge_count", "average_degree", "memory_res", "disk_usage", "storage_mode"):
        expect(key in info, f"SHOW STORAGE INFO has no {key!r}: {info}")

with check("show_config"):
    cursor.execute("SHOW CONFIG")
    columns = [d.name for d in cursor.description]
    config = cursor.fetchall()
    expect(columns[:3] == ["name", "default_value", "current_value"], f"SHOW CONFIG columns {columns}")
    expect(any(row[0] == "bolt_port" for row in config), "SHOW CONFIG has no bolt_port")

with check("show_databases"):
    cursor.execute("SHOW DATABASES")
    listed = cursor.fetchall()
    expect(listed and all(isinstance(row[0], str) for row in listed), f"SHOW DATABASES answered {listed}")

with check("mg_procedures"):
    names = [row[0] for row in rows(cursor, "CALL mg.procedures() YIELD name RETURN name")]
    expect(names, "CALL mg.procedures() lists nothing")

auto.close()

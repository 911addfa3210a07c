"""Schema statements in Neo4j 5's syntax beside Memgraph's (issue 13, item 3):
names, IF [NOT] EXISTS, notifications, SHOW INDEXES / SHOW CONSTRAINTS,
relationship and composite indexes the planner uses, composite uniqueness
and node keys enforced, and schema statements in explicit transactions."""

import pytest
from cypher_helpers import rows, value

from weftdb.basics.errors import AccessModeError, ConstraintViolation, ForbiddenInTransaction, SchemaError

EXISTS = "Neo.ClientNotification.Schema.IndexOrConstraintAlreadyExists"
MISSING = "Neo.ClientNotification.Schema.IndexOrConstraintDoesNotExist"


@pytest.fixture
def sdb(db):
    """The shared database, with every index and constraint dropped by name afterwards
    (the shared wipe speaks Memgraph's statements, which name neither node keys nor
    relationship indexes)."""
    yield db
    for (name,) in rows(db, "SHOW CONSTRAINTS YIELD name"):
        db.execute(f"DROP CONSTRAINT `{name}`")
    for (name,) in rows(db, "SHOW INDEXES YIELD name"):
        db.execute(f"DROP INDEX `{name}`")


def codes(result):
    return [note["code"] for note in result.notifications]


def plan(db, query):
    return db.execute("EXPLAIN " + query).plan


# -- names, IF [NOT] EXISTS, notifications ----------------------------------------------------


def test_create_index_with_a_name_and_if_not_exists(sdb):
    result = sdb.execute("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)")
    assert result.counters == {"indexes-added": 1} and result.notifications == [] and result.query_type == "s"
    again = sdb.execute("CREATE INDEX person_name IF NOT EXISTS FOR (p:Person) ON (p.name)")
    assert again.counters == {} and again.notifications == []  # silent
    same_schema = sdb.execute("CREATE INDEX ON :Person(name)")  # Memgraph's form of the same index
    assert same_schema.counters == {} and codes(same_schema) == [EXISTS]
    assert "person_name" in same_schema.notifications[0]["description"]
    assert rows(sdb, "SHOW INDEXES YIELD name, type, entityType, labelsOrTypes, properties") == [
        ("person_name", "RANGE", "NODE", ["Person"], ["name"])]


def test_generated_names_are_neo4j_style_and_stable(sdb):
    sdb.execute("CREATE INDEX ON :Person(name)")
    sdb.execute("CREATE CONSTRAINT ON (p:Person) ASSERT p.email IS UNIQUE")
    (index,) = [n for n, owner in rows(sdb, "SHOW INDEXES YIELD name, owningConstraint") if owner is None]
    (constraint,) = [n for (n,) in rows(sdb, "SHOW CONSTRAINTS YIELD name")]
    assert index.startswith("index_") and len(index) == len("index_") + 8
    assert constraint.startswith("constraint_") and len(constraint) == len("constraint_") + 8
    sdb.execute(f"DROP INDEX {index}")
    sdb.execute("CREATE INDEX ON :Person(name)")  # the same definition gets the same name again
    assert [n for n, owner in rows(sdb, "SHOW INDEXES YIELD name, owningConstraint") if owner is None] == [index]


def test_a_name_in_use_by_another_definition_is_refused_unless_if_not_exists(sdb):
    sdb.execute("CREATE INDEX taken FOR (n:A) ON (n.x)")
    with pytest.raises(SchemaError, match="already an index or constraint named `taken`"):
        sdb.execute("CREATE INDEX taken FOR (n:B) ON (n.y)")
    with pytest.raises(SchemaError, match="taken"):
        sdb.execute("CREATE CONSTRAINT taken FOR (n:B) REQUIRE n.y IS UNIQUE")  # one namespace for both
    quiet = sdb.execute("CREATE INDEX taken IF NOT EXISTS FOR (n:B) ON (n.y)")
    assert quiet.counters == {} and quiet.notifications == []
    assert rows(sdb, "SHOW INDEXES YIELD name, labelsOrTypes") == [("taken", ["A"])]


def test_drop_by_name_and_what_is_missing(sdb):
    sdb.execute("CREATE INDEX i FOR (n:A) ON (n.x)")
    sdb.execute("CREATE CONSTRAINT c FOR (n:A) REQUIRE n.y IS UNIQUE")
    assert sdb.execute("DROP INDEX i").counters == {"indexes-removed": 1}
    assert sdb.execute("DROP CONSTRAINT c").counters == {"constraints-removed": 1}
    for statement in ("DROP INDEX i", "DROP CONSTRAINT c", "DROP INDEX ON :A(x)",
                      "DROP CONSTRAINT ON (n:A) ASSERT n.y IS UNIQUE", "DROP CONSTRAINT ON (n:A) ASSERT EXISTS (n.z)"):
        result = sdb.execute(statement)
        assert result.counters == {} and codes(result) == [MISSING], statement
    for statement in ("DROP INDEX i IF EXISTS", "DROP CONSTRAINT c IF EXISTS"):
        result = sdb.execute(statement)
        assert result.counters == {} and result.notifications == [], statement


def test_drop_index_of_a_constraint_says_which_statement_drops_it(sdb):
    sdb.execute("CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE")
    with pytest.raises(SchemaError, match="DROP CONSTRAINT person_email"):
        sdb.execute("DROP INDEX person_email")
    sdb.execute("CREATE INDEX person_name FOR (p:Person) ON (p.name)")
    with pytest.raises(SchemaError, match="DROP INDEX person_name"):
        sdb.execute("DROP CONSTRAINT person_name")


def test_unsupported_kinds_are_refused_with_a_reason(sdb):
    with pytest.raises(Exception, match="FULLTEXT indexes are not supported"):
        sdb.execute("CREATE FULLTEXT INDEX f FOR (n:A) ON EACH [n.x]")
    with pytest.raises(SchemaError, match="Relationship property constraints are not supported"):
        sdb.execute("CREATE CONSTRAINT FOR ()-[r:T]-() REQUIRE r.x IS UNIQUE")
    with pytest.raises(SchemaError, match="TEXT index is over one property"):
        sdb.execute("CREATE TEXT INDEX FOR (n:A) ON (n.x, n.y)")
    with pytest.raises(SchemaError, match="edge index needs a property"):
        sdb.execute("CREATE EDGE INDEX ON :T")
    assert rows(sdb, "SHOW INDEXES") == [] and rows(sdb, "SHOW CONSTRAINTS") == []


# -- listings -------------------------------------------------------------------------------


INDEX_COLUMNS = ["id", "name", "state", "populationPercent", "type", "entityType", "labelsOrTypes", "properties",
                 "indexProvider", "owningConstraint", "lastRead", "readCount"]
CONSTRAINT_COLUMNS = ["id", "name", "type", "entityType", "labelsOrTypes", "properties", "ownedIndex", "propertyType"]


def test_show_indexes_and_constraints_have_neo4js_columns(sdb):
    sdb.execute("CREATE INDEX ON :Person")
    sdb.execute("CREATE TEXT INDEX person_bio FOR (p:Person) ON (p.bio)")
    sdb.execute("CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)")
    sdb.execute("CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE")
    sdb.execute("CREATE CONSTRAINT person_key FOR (p:Person) REQUIRE (p.first, p.last) IS NODE KEY")
    sdb.execute("CREATE CONSTRAINT person_name FOR (p:Person) REQUIRE p.name IS NOT NULL")
    result = sdb.execute("SHOW INDEXES")
    assert result.columns == INDEX_COLUMNS
    by_name = {row[1]: dict(zip(result.columns, row)) for row in result.rows}
    assert by_name["knows_since"]["entityType"] == "RELATIONSHIP" and by_name["knows_since"]["properties"] == ["since"]
    assert by_name["person_bio"]["type"] == "TEXT" and by_name["person_bio"]["indexProvider"] == "text-2.0"
    assert by_name["person_email"]["owningConstraint"] == "person_email"  # a constraint's own index, as in Neo4j
    assert by_name["person_key"]["properties"] == ["first", "last"]
    lookup = next(row for row in by_name.values() if row["type"] == "LOOKUP")
    assert lookup["labelsOrTypes"] == ["Person"] and lookup["properties"] is None
    assert all(row["state"] == "ONLINE" and row["populationPercent"] == 100.0 for row in by_name.values())
    result = sdb.execute("SHOW CONSTRAINTS")
    assert result.columns == CONSTRAINT_COLUMNS
    assert [(r[1], r[2], r[4], r[5], r[6]) for r in result.rows] == [
        ("person_email", "NODE_PROPERTY_UNIQUENESS", ["Person"], ["email"], "person_email"),
        ("person_key", "NODE_KEY", ["Person"], ["first", "last"], "person_key"),
        ("person_name", "NODE_PROPERTY_EXISTENCE", ["Person"], ["name"], None),
    ]
    # Memgraph's listings show what Memgraph has: no owned indexes, a node key as unique + exists.
    assert ("label", "Person", None, 0) in rows(sdb, "SHOW INDEX INFO")
    assert ("edge-type+property", "KNOWS", "since", 0) in rows(sdb, "SHOW INDEX INFO")
    assert len(rows(sdb, "SHOW INDEX INFO")) == 3
    assert sorted(rows(sdb, "SHOW CONSTRAINT INFO"), key=repr) == sorted([
        ("exists", "Person", "first"), ("exists", "Person", "last"), ("exists", "Person", "name"),
        ("unique", "Person", ["email"]), ("unique", "Person", ["first", "last"])], key=repr)


def test_show_filters_yield_where_and_return(sdb):
    sdb.execute("CREATE INDEX r1 FOR (n:A) ON (n.x)")
    sdb.execute("CREATE TEXT INDEX t1 FOR (n:A) ON (n.y)")
    sdb.execute("CREATE CONSTRAINT u1 FOR (n:A) REQUIRE n.z IS UNIQUE")
    sdb.execute("CREATE CONSTRAINT e1 FOR (n:A) REQUIRE n.z IS NOT NULL")
    assert rows(sdb, "SHOW TEXT INDEXES YIELD name") == [("t1",)]
    assert rows(sdb, "SHOW RANGE INDEXES YIELD name") == [("r1",), ("u1",)]
    assert [r[1] for r in rows(sdb, "SHOW INDEXES WHERE owningConstraint IS NOT NULL")] == ["u1"]
    assert rows(sdb, "SHOW INDEXES YIELD name, type WHERE type = 'TEXT' RETURN name") == [("t1",)]
    assert rows(sdb, "SHOW UNIQUE CONSTRAINTS YIELD name") == [("u1",)]
    assert rows(sdb, "SHOW EXIST CONSTRAINTS YIELD name") == [("e1",)]
    assert rows(sdb, "SHOW CONSTRAINTS WHERE type = 'NODE_PROPERTY_EXISTENCE'")[0][1] == "e1"
    record = sdb.execute("SHOW INDEXES YIELD * WHERE name = 'r1'").data()[0]
    assert record["createStatement"] == "CREATE RANGE INDEX r1 FOR (n:A) ON (n.x)"
    assert record["options"] == {"indexProvider": "range-1.0", "indexConfig": {}}


# -- relationship, composite, TEXT and POINT indexes are real ---------------------------------------


def test_relationship_index_is_used_from_the_map_and_from_where(sdb):
    sdb.execute("CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)")
    for query in ("MATCH ()-[r:KNOWS {since: $v}]-() RETURN r",
                  "MATCH (a)-[r:KNOWS]->(b) WHERE r.since = $v RETURN a, b",
                  "MATCH (a:P)<-[r:KNOWS {since: 2020}]-(b) RETURN b"):
        assert "ScanEdgesByTypePropertyValue (r [:KNOWS(since)])" in plan(sdb, query), query
    assert "ScanEdgesByType" not in plan(sdb, "MATCH ()-[r:OTHER {since: 1}]-() RETURN r")
    sdb.execute("CREATE (a:P {n: 'a'})-[:KNOWS {since: 2020}]->(b:P {n: 'b'}), (a)-[:KNOWS {since: 2021}]->(b), "
                "(b)-[:KNOWS {since: 2020}]->(b), (a)-[:LIKES {since: 2020}]->(b)")
    assert sorted(rows(sdb, "MATCH (x)-[r:KNOWS {since: 2020}]->(y) RETURN x.n, y.n")) == [("a", "b"), ("b", "b")]
    # undirected: each relationship from both ends, a self-loop once, as an Expand gives them
    assert sorted(rows(sdb, "MATCH (x)-[r:KNOWS]-(y) WHERE r.since = $v RETURN x.n, y.n", {"v": 2020})) == [
        ("a", "b"), ("b", "a"), ("b", "b")]
    assert rows(sdb, "MATCH (x)<-[r:KNOWS {since: 2021}]-(y) RETURN x.n, y.n") == [("b", "a")]
    assert value(sdb, "MATCH (x:P {n: 'b'})-[r:KNOWS {since: 2020}]->(y) RETURN count(*)") == 1
    assert value(sdb, "MATCH ()-[r:KNOWS {since: 2020.0}]->() RETURN count(r)") == 2  # Cypher equality


@pytest.mark.versions
@pytest.mark.index_entries
def test_relationship_index_follows_writes_and_visibility(sdb):
    sdb.execute("CREATE INDEX FOR ()-[r:R]-() ON (r.k)")
    sdb.execute("CREATE (:N)-[:R {k: 1}]->(:N), (:N)-[:R {k: 2}]->(:N), (:N)-[:R]->(:N)")
    query = "MATCH ()-[r:R {k: $k}]->() RETURN count(r)"
    with sdb.transaction() as tx:
        tx.execute("MATCH ()-[r:R {k: 1}]->() SET r.k = 10")
        tx.execute("MATCH ()-[r:R {k: 2}]->() DELETE r")
        tx.execute("MATCH ()-[r:R]->() WHERE r.k IS NULL SET r.k = 3")
        assert [tx.execute(query, {"k": k}).single() for k in (1, 2, 3, 10)] == [0, 0, 1, 1]
        other = sdb.begin()  # began before the commit: the old values
        assert [other.execute(query, {"k": k}).single() for k in (1, 2, 3, 10)] == [1, 1, 0, 0]
        other.rollback()
    assert [value(sdb, query, {"k": k}) for k in (1, 2, 3, 10)] == [0, 0, 1, 1]
    index = sdb.storage.indexes.edge_indexes["R"][("k",)]
    assert sorted(index.entries) == [(3,), (10,)]  # the old values were collected


def test_relationship_index_built_from_existing_relationships_and_dropped(sdb):
    sdb.execute("CREATE (:N)-[:R {k: 'x'}]->(:N)")
    sdb.execute("CREATE INDEX rk FOR ()-[r:R]-() ON (r.k)")
    assert value(sdb, "MATCH ()-[r:R {k: 'x'}]->() RETURN count(r)") == 1
    sdb.execute("DROP INDEX rk")
    assert "ScanEdgesByType" not in plan(sdb, "MATCH ()-[r:R {k: 'x'}]->() RETURN r")
    assert value(sdb, "MATCH ()-[r:R {k: 'x'}]->() RETURN count(r)") == 1


@pytest.mark.index_entries
def test_composite_index_is_used_when_every_key_is_given(sdb):
    sdb.execute("CREATE INDEX name_year FOR (b:Book) ON (b.title, b.year)")
    assert "ScanAllByLabelPropertiesValue (b :Book(title, year))" in plan(
        sdb, "MATCH (b:Book {title: $t}) WHERE b.year = $y RETURN b")
    assert "PropertiesValue" not in plan(sdb, "MATCH (b:Book {title: $t}) RETURN b")
    sdb.execute("UNWIND range(1, 20) AS i CREATE (:Book {title: 't' + toString(i % 4), year: i})")
    assert value(sdb, "MATCH (b:Book {title: 't1', year: 5}) RETURN count(b)") == 1
    assert value(sdb, "MATCH (b:Book) WHERE b.title = 't1' AND b.year = 6 RETURN count(b)") == 0
    sdb.execute("MATCH (b:Book {title: 't1', year: 5}) SET b.year = 500")
    assert value(sdb, "MATCH (b:Book {title: 't1', year: 500}) RETURN count(b)") == 1
    assert value(sdb, "MATCH (b:Book {title: 't1', year: 5}) RETURN count(b)") == 0
    index = sdb.storage.indexes.composites["Book"][("title", "year")]
    assert ("t1", 5) not in index.entries and len(index.entries) == 20


def test_text_and_point_indexes_answer_equality(sdb):
    sdb.execute("CREATE TEXT INDEX FOR (n:Doc) ON (n.body)")
    sdb.execute("CREATE POINT INDEX ON :Place(at)")
    assert "ScanAllByLabelPropertyValue (n :Doc(body))" in plan(sdb, "MATCH (n:Doc {body: 'x'}) RETURN n")
    sdb.execute("CREATE (:Doc {body: 'x'}), (:Doc {body: 'y'}), (:Place {at: [1.0, 2.0]})")
    assert value(sdb, "MATCH (n:Doc {body: 'x'}) RETURN count(n)") == 1
    assert value(sdb, "MATCH (n:Place {at: [1.0, 2.0]}) RETURN count(n)") == 1
    assert sorted(rows(sdb, "SHOW INDEX INFO")) == [("point", "Place", "at", 1), ("text", "Doc", "body", 2)]


# -- constraints are enforced ----------------------------------------------------------------------


def test_composite_uniqueness(sdb):
    sdb.execute("CREATE CONSTRAINT badge IF NOT EXISTS FOR (e:Employee) REQUIRE (e.company, e.number) IS UNIQUE")
    sdb.execute("CREATE (:Employee {company: 'A', number: 1}), (:Employee {company: 'B', number: 1}), "
                "(:Employee {company: 'A'})")
    with pytest.raises(ConstraintViolation, match="already exists with label `Employee`"):
        sdb.execute("CREATE (:Employee {company: 'A', number: 1})")
    with pytest.raises(ConstraintViolation):
        sdb.execute("MATCH (e:Employee {company: 'B'}) SET e.company = 'A'")
    sdb.execute("CREATE (:Employee {company: 'A', number: 2}), (:Employee {company: 'A'})")  # partial keys never clash
    assert value(sdb, "MATCH (e:Employee) RETURN count(e)") == 5


def test_node_key_requires_every_key_and_unique_values(sdb):
    sdb.execute("CREATE CONSTRAINT person_key FOR (p:Person) REQUIRE (p.first, p.last) IS NODE KEY")
    sdb.execute("CREATE (:Person {first: 'Ann', last: 'Lee'})")
    with pytest.raises(ConstraintViolation, match="`last`.*node key"):
        sdb.execute("CREATE (:Person {first: 'Bo'})")
    with pytest.raises(ConstraintViolation, match="node key"):
        sdb.execute("CREATE (:Person {first: 'Ann', last: 'Lee'})")
    with pytest.raises(ConstraintViolation):
        sdb.execute("MATCH (p:Person) REMOVE p.first")
    sdb.execute("CREATE (:Person {first: 'Ann', last: 'Ray'})")
    assert value(sdb, "MATCH (p:Person) RETURN count(p)") == 2


def test_constraint_creation_checks_the_data(sdb):
    sdb.execute("CREATE (:P {a: 1, b: 1}), (:P {a: 1, b: 1}), (:Q {a: 1})")
    with pytest.raises(SchemaError, match="share the value"):
        sdb.execute("CREATE CONSTRAINT FOR (n:P) REQUIRE (n.a, n.b) IS UNIQUE")
    with pytest.raises(SchemaError, match="no property `b`"):
        sdb.execute("CREATE CONSTRAINT FOR (n:Q) REQUIRE (n.a, n.b) IS NODE KEY")
    assert rows(sdb, "SHOW CONSTRAINTS") == [] and rows(sdb, "SHOW INDEXES") == []  # nothing left behind


def test_unique_values_are_compared_as_cypher_compares_them(sdb):
    """true is not 1 (though the index files them together), 1.0 is 1; in lists too."""
    sdb.execute("CREATE (:P {k: 1}), (:P {k: true}), (:P {k: [1]}), (:P {k: [true]}), (:P {k: 'a'})")
    sdb.execute("CREATE CONSTRAINT c FOR (n:P) REQUIRE n.k IS UNIQUE")
    sdb.execute("CREATE (:P {k: false}), (:P {k: 0})")
    with pytest.raises(ConstraintViolation, match="`k` = 1.0"):
        sdb.execute("CREATE (:P {k: 1.0})")
    with pytest.raises(ConstraintViolation):
        sdb.execute("CREATE (:P {k: [1.0]})")
    sdb.execute("DROP CONSTRAINT c")
    sdb.execute("CREATE (:P {k: 1.0})")
    with pytest.raises(SchemaError, match=r"vertices \d+ and \d+ share the value 1"):  # true between them in the index
        sdb.execute("CREATE CONSTRAINT c FOR (n:P) REQUIRE n.k IS UNIQUE")
    assert rows(sdb, "SHOW CONSTRAINTS") == []


def test_unique_constraint_gives_the_planner_an_index(sdb):
    sdb.execute("CREATE CONSTRAINT FOR (u:User) REQUIRE u.id IS UNIQUE")
    assert "ScanAllByLabelPropertyValue (u :User(id))" in plan(sdb, "MATCH (u:User {id: 1}) RETURN u")


# -- explicit transactions --------------------------------------------------------------------------


def test_schema_in_a_transaction_applies_at_commit(sdb):
    tx = sdb.begin()
    result = tx.execute("CREATE INDEX person_name FOR (p:Person) ON (p.name)")
    assert result.counters == {"indexes-added": 1}
    assert codes(tx.execute("CREATE INDEX ON :Person(name)")) == [EXISTS]  # it sees its own change
    assert tx.execute("MATCH (n:Person) RETURN count(n)").single() == 0  # reads are allowed
    assert rows(sdb, "SHOW INDEXES") == []  # not yet
    tx.commit()
    assert rows(sdb, "SHOW INDEXES YIELD name") == [("person_name",)]
    assert "ScanAllByLabelPropertyValue" in plan(sdb, "MATCH (p:Person {name: 'x'}) RETURN p")


def test_schema_in_a_rolled_back_transaction_never_happens(sdb):
    with pytest.raises(RuntimeError):
        with sdb.transaction() as tx:
            tx.execute("CREATE CONSTRAINT c FOR (n:P) REQUIRE n.k IS UNIQUE")
            tx.execute("CREATE INDEX i FOR (n:P) ON (n.j)")
            raise RuntimeError("changed my mind")
    assert rows(sdb, "SHOW INDEXES") == [] and rows(sdb, "SHOW CONSTRAINTS") == []


def test_a_transaction_that_changed_the_schema_refuses_data_writes(sdb):
    tx = sdb.begin()
    tx.execute("CREATE INDEX i FOR (n:P) ON (n.j)")
    with pytest.raises(ForbiddenInTransaction, match="cannot also write data") as info:
        tx.execute("CREATE (:P {j: 1})")
    assert "db.execute" not in str(info.value)
    assert tx.closed
    assert rows(sdb, "SHOW INDEXES") == [] and value(sdb, "MATCH (n) RETURN count(n)") == 0


def test_schema_changes_of_one_transaction_are_all_or_nothing(sdb):
    sdb.execute("CREATE (:P {k: 1}), (:P {k: 1})")
    tx = sdb.begin()
    tx.execute("CREATE INDEX i FOR (n:P) ON (n.j)")
    tx.execute("CREATE CONSTRAINT c FOR (n:P) REQUIRE n.k IS UNIQUE")  # the data breaks it: found at commit
    with pytest.raises(SchemaError, match="share the value"):
        tx.commit()
    assert rows(sdb, "SHOW INDEXES") == [] and rows(sdb, "SHOW CONSTRAINTS") == []


def test_listings_and_administration_reads_run_in_any_transaction(sdb):
    with sdb.transaction() as tx:
        tx.execute("CREATE (:P)")
        assert tx.execute("SHOW INDEXES").rows == []
        assert tx.execute("SHOW INDEX INFO").columns == ["index type", "label", "property", "count"]
        tx.execute("CREATE (:P)")  # a listing is no schema change: writes go on
    assert value(sdb, "MATCH (n:P) RETURN count(n)") == 2


def test_users_change_at_commit(sdb):
    users = sdb.users
    with sdb.transaction() as tx:
        result = tx.execute("CREATE USER alice IDENTIFIED BY 'secret'")
        assert result.counters == {"system-updates": 1}
        assert "alice" not in users.users()
    assert "alice" in users.users()
    tx = sdb.begin()
    tx.execute("DROP USER alice")
    tx.rollback()
    assert "alice" in users.users()
    assert sdb.execute("DROP USER alice").counters == {"system-updates": 1}
    assert "alice" not in users.users()


def test_a_read_only_transaction_refuses_schema_changes(sdb):
    tx = sdb.begin(read_only=True)
    with pytest.raises(AccessModeError):
        tx.execute("CREATE INDEX i FOR (n:P) ON (n.j)")
    assert tx.closed
    with pytest.raises(AccessModeError):
        sdb.execute("CREATE CONSTRAINT FOR (n:P) REQUIRE n.j IS UNIQUE", read_only=True)
    assert sdb.execute("SHOW INDEXES", read_only=True).rows == []

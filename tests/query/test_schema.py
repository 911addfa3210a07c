"""Schema statements in Memgraph's syntax (indexes, constraints, SHOW ... INFO),
EXPLAIN of index use and of connected patterns, and the plan cache."""

import pytest
from cypher_helpers import rows, value

from weftdb.basics.errors import ConstraintViolation, SchemaError, TransactionError
from weftdb.query.parser import parse


def plan(db, query):
    return db.execute("EXPLAIN " + query).plan


# -- indexes ------------------------------------------------------------------------------


def test_create_and_show_indexes(db):
    assert db.execute("CREATE INDEX ON :Person;").counters == {"indexes-added": 1}
    assert db.execute("CREATE INDEX ON :Person(name);").query_type == "s"
    db.execute("CREATE (:Person {name: 'Ann'}), (:Person), (:Other {name: 'x'})")
    result = db.execute("SHOW INDEX INFO;")
    assert result.columns == ["index type", "label", "property", "count"]
    assert result.rows == [("label", "Person", None, 2), ("label+property", "Person", "name", 1)]


def test_backquoted_names_as_memgraph_dumps_them(db):
    db.execute("CREATE INDEX ON :`My Label`(`my prop`);")
    db.execute("CREATE INDEX ON :`__mg_vertex__`(`__mg_id__`);")
    db.execute("CREATE (:`My Label` {`my prop`: 1})")
    assert ("label+property", "My Label", "my prop", 1) in rows(db, "SHOW INDEX INFO")
    db.execute("DROP INDEX ON :`My Label`(`my prop`);")
    db.execute("DROP INDEX ON :`__mg_vertex__`(`__mg_id__`);")
    assert rows(db, "SHOW INDEX INFO") == []


def test_create_index_twice_adds_nothing_and_says_so(db):
    db.execute("CREATE INDEX ON :L(p)")
    result = db.execute("CREATE INDEX ON :L(p)")
    assert result.counters == {}
    assert [n["code"] for n in result.notifications] == ["Neo.ClientNotification.Schema.IndexOrConstraintAlreadyExists"]
    assert len(rows(db, "SHOW INDEX INFO")) == 1


def test_drop_index(db):
    db.execute("CREATE INDEX ON :L")
    db.execute("CREATE INDEX ON :L(p)")
    assert db.execute("DROP INDEX ON :L(p)").counters == {"indexes-removed": 1}
    assert rows(db, "SHOW INDEX INFO") == [("label", "L", None, 0)]
    db.execute("DROP INDEX ON :L")
    assert rows(db, "SHOW INDEX INFO") == []


def test_drop_missing_index_says_so_in_a_notification(db):
    result = db.execute("DROP INDEX ON :L(p)")  # Memgraph's behaviour: no error, a notification
    assert result.counters == {}
    [note] = result.notifications
    assert note["code"] == "Neo.ClientNotification.Schema.IndexOrConstraintDoesNotExist"
    assert ":L(p)" in note["description"] and note["severity"] == "INFORMATION"


def test_schema_statement_inside_transaction_after_a_write_is_refused(db):
    with db.transaction() as tx:
        tx.execute("CREATE (:L)")
        with pytest.raises(TransactionError, match="written data"):
            tx.execute("CREATE INDEX ON :L(p)")
        assert tx.closed  # rolled back
    assert rows(db, "MATCH (n:L) RETURN n") == [] and rows(db, "SHOW INDEX INFO") == []


def test_index_is_maintained_by_writes(db):
    db.execute("CREATE INDEX ON :L(p)")
    db.execute("UNWIND range(1, 5) AS i CREATE (:L {p: i})")
    db.execute("MATCH (n:L {p: 2}) SET n.p = 20")
    db.execute("MATCH (n:L {p: 3}) DELETE n")
    db.execute("MATCH (n:L {p: 4}) REMOVE n:L")
    assert rows(db, "MATCH (n:L {p: 2}) RETURN n.p") == []
    assert rows(db, "MATCH (n:L {p: 20}) RETURN n.p") == [(20,)]
    assert rows(db, "MATCH (n:L) WHERE n.p = 3 RETURN n") == []
    assert rows(db, "MATCH (n:L {p: 4}) RETURN n") == []
    assert rows(db, "MATCH (n:L {p: 5}) RETURN n.p") == [(5,)]


def test_index_lookup_uses_cypher_equality(db):
    db.execute("CREATE INDEX ON :L(p)")
    db.execute("CREATE (:L {p: 1}), (:L {p: 1.0}), (:L {p: '1'}), (:L {p: [1]})")
    assert value(db, "MATCH (n:L {p: 1}) RETURN count(n) AS c") == 2
    assert value(db, "MATCH (n:L) WHERE n.p = 1.0 RETURN count(n) AS c") == 2
    assert value(db, "MATCH (n:L {p: [1.0]}) RETURN count(n) AS c") == 1
    assert value(db, "MATCH (n:L) WHERE n.p = null RETURN count(n) AS c") == 0


def test_index_lookup_of_a_map_value(db):
    db.execute("CREATE INDEX ON :L(p)")
    db.execute("CREATE (:L {p: {a: 1}}), (:L {p: [{a: 1}]})")
    assert value(db, "MATCH (n:L {p: {a: 1}}) RETURN count(n) AS c") == 1
    assert value(db, "MATCH (n:L) WHERE n.p = [{a: 1}] RETURN count(n) AS c") == 1


def test_index_sees_uncommitted_writes_of_own_transaction(db):
    db.execute("CREATE INDEX ON :L(p)")
    with db.transaction() as tx:
        tx.execute("CREATE (:L {p: 7})")
        assert tx.execute("MATCH (n:L {p: 7}) RETURN count(n) AS c").single() == 1


# -- EXPLAIN ---------------------------------------------------------------------------------


def test_explain_uses_property_index_from_map_and_where(db):
    db.execute("CREATE INDEX ON :L(p)")
    assert "ScanAllByLabelPropertyValue" in plan(db, "MATCH (n:L {p: 1}) RETURN n")
    assert "ScanAllByLabelPropertyValue" in plan(db, "MATCH (n:L) WHERE n.p = 1 RETURN n")
    assert "ScanAllByLabelPropertyValue" in plan(db, "MATCH (n:L) WHERE 1 = n.p RETURN n")
    assert "ScanAllByLabelPropertyValue" in plan(db, "MATCH (n:L {p: $v}) RETURN n")


def test_index_lookup_replaces_the_where_filter(db):
    db.execute("CREATE INDEX ON :L(p)")
    text = plan(db, "MATCH (n:L) WHERE n.p = 1 AND n.q IS NULL RETURN n")
    assert "ScanAllByLabelPropertyValue" in text and "n.p = 1" not in text and "Filter" in text
    db.execute("CREATE (:L {p: 1}), (:L {p: 1, q: 2}), (:L {p: 2})")
    assert value(db, "MATCH (n:L) WHERE n.p = 1 AND n.q IS NULL RETURN count(n) AS c") == 1
    assert value(db, "MATCH (n:L {p: 1}) WHERE n.p = 2 RETURN count(n) AS c") == 0


def test_explain_without_index_scans_by_label(db):
    text = plan(db, "MATCH (n:L {p: 1}) RETURN n")
    assert "ScanAllByLabel" in text and "ScanAllByLabelPropertyValue" not in text


def test_explain_returns_plan_rows_and_runs_nothing(db):
    result = db.execute("EXPLAIN CREATE (:L)")
    assert result.columns == ["QUERY PLAN"] and result.rows and all(len(r) == 1 for r in result.rows)
    assert value(db, "MATCH (n) RETURN count(n) AS c") == 0


def test_connected_pattern_expands_instead_of_cartesian_product(db):
    text = plan(db, "MATCH (a:L)-[:R]->(b:L) RETURN a, b")
    assert "Expand" in text and "Cartesian" not in text
    assert text.count("ScanAll") == 1
    text = plan(db, "MATCH (a:L)-[:R]->(b), (b)-[:R]->(c) RETURN c")
    assert text.count("ScanAll") == 1 and text.count("Expand") == 2


def test_pattern_part_starting_from_a_later_node_still_expands(db):
    text = plan(db, "MATCH (a), (b:L)-[:R]->(a) RETURN a")
    assert text.count("ScanAll") == 1 and "Expand" in text


def test_index_start_is_chosen_in_the_middle_of_a_pattern(db):
    db.execute("CREATE INDEX ON :B(k)")
    text = plan(db, "MATCH (a:A)-[:R]->(b:B {k: 1})-[:R]->(c) RETURN a, c")
    assert "ScanAllByLabelPropertyValue (b :B(k))" in text and text.count("ScanAll") == 1


def test_profile_counts_rows(db):
    db.execute("UNWIND range(1, 3) AS i CREATE (:L)")
    result = db.execute("PROFILE MATCH (n:L) RETURN n")
    assert result.columns == ["OPERATOR", "ACTUAL HITS", "RELATIVE TIME", "ABSOLUTE TIME"]
    assert ("* Produce (n)", 3) in [row[:2] for row in result.rows]


# -- constraints ---------------------------------------------------------------------------


def count(db, label):
    return value(db, f"MATCH (n:{label}) RETURN count(n) AS c")


def test_existence_constraint(db):
    assert db.execute("CREATE CONSTRAINT ON (n:User) ASSERT EXISTS (n.email);").counters == {"constraints-added": 1}
    db.execute("CREATE (:User {email: 'a@x'})")
    with pytest.raises(ConstraintViolation, match="email") as info:
        db.execute("CREATE (:User {name: 'no email'}), (:Other)")
    assert "User" in str(info.value)
    assert count(db, "User") == 1 and count(db, "Other") == 0
    with pytest.raises(ConstraintViolation):
        db.execute("MATCH (u:User) REMOVE u.email")
    with pytest.raises(ConstraintViolation):
        db.execute("MATCH (u:User) SET u.email = null")
    with pytest.raises(ConstraintViolation):
        db.execute("CREATE (o:Other) SET o:User")
    assert rows(db, "MATCH (u:User) RETURN u.email") == [("a@x",)]


def test_uniqueness_constraint(db):
    db.execute("CREATE CONSTRAINT ON (n:User) ASSERT n.email IS UNIQUE;")
    db.execute("CREATE (:User {email: 'a@x'}), (:User {email: 'b@x'}), (:User)")
    with pytest.raises(ConstraintViolation, match="email") as info:
        db.execute("CREATE (:User {email: 'a@x', name: 'dup'})")
    assert "User" in str(info.value) and "a@x" in str(info.value)
    with pytest.raises(ConstraintViolation):
        db.execute("MATCH (u:User {email: 'b@x'}) SET u.email = 'a@x'")
    with pytest.raises(ConstraintViolation):
        db.execute("CREATE (:Other {email: 'a@x'}) WITH 1 AS x MATCH (o:Other) SET o:User")
    assert rows(db, "MATCH (u:User) WHERE u.email IS NOT NULL RETURN u.email ORDER BY u.email") == [("a@x",), ("b@x",)]
    assert count(db, "Other") == 0
    db.execute("CREATE (:User), (:User)")  # missing values never collide


def test_uniqueness_allows_swapping_values_in_one_transaction(db):
    db.execute("CREATE CONSTRAINT ON (n:U) ASSERT n.k IS UNIQUE")
    db.execute("CREATE (:U {k: 1, n: 'a'}), (:U {k: 2, n: 'b'})")
    db.execute("MATCH (a:U {n: 'a'}), (b:U {n: 'b'}) SET a.k = 2, b.k = 1")
    assert rows(db, "MATCH (u:U) RETURN u.n, u.k ORDER BY u.n") == [("a", 2), ("b", 1)]


def test_uniqueness_over_several_properties(db):
    db.execute("CREATE CONSTRAINT ON (n:V) ASSERT n.a, n.b IS UNIQUE;")
    db.execute("CREATE (:V {a: 1, b: 1}), (:V {a: 1, b: 2})")
    with pytest.raises(ConstraintViolation):
        db.execute("CREATE (:V {a: 1, b: 2})")
    assert count(db, "V") == 2


def test_violation_at_commit_of_explicit_transaction_leaves_nothing(db):
    db.execute("CREATE CONSTRAINT ON (n:User) ASSERT n.email IS UNIQUE")
    db.execute("CREATE (:User {email: 'a@x'})")
    with pytest.raises(ConstraintViolation):
        with db.transaction() as tx:
            tx.execute("CREATE (:Log)")
            tx.execute("CREATE (:User {email: 'a@x'})")
    assert count(db, "User") == 1 and count(db, "Log") == 0


def test_creating_unique_constraint_on_duplicate_data_fails(db):
    db.execute("CREATE (:U {k: 1}), (:U {k: 1})")
    with pytest.raises((ConstraintViolation, SchemaError), match="k"):
        db.execute("CREATE CONSTRAINT ON (n:U) ASSERT n.k IS UNIQUE")
    assert rows(db, "SHOW CONSTRAINT INFO") == []
    db.execute("CREATE (:U {k: 1})")  # no constraint was left behind


def test_creating_existence_constraint_on_incomplete_data_fails(db):
    db.execute("CREATE (:U {k: 1}), (:U)")
    with pytest.raises((ConstraintViolation, SchemaError), match="k"):
        db.execute("CREATE CONSTRAINT ON (n:U) ASSERT EXISTS (n.k)")
    assert rows(db, "SHOW CONSTRAINT INFO") == []


def test_show_and_drop_constraints(db):
    db.execute("CREATE CONSTRAINT ON (n:`U U`) ASSERT EXISTS (n.`e e`);")
    db.execute("CREATE CONSTRAINT ON (n:U) ASSERT n.e IS UNIQUE;")
    result = db.execute("SHOW CONSTRAINT INFO;")
    assert result.columns == ["constraint type", "label", "properties"]
    assert sorted(result.rows, key=repr) == sorted([("exists", "U U", "e e"), ("unique", "U", ["e"])], key=repr)
    assert db.execute("DROP CONSTRAINT ON (n:U) ASSERT n.e IS UNIQUE;").counters == {"constraints-removed": 1}
    db.execute("DROP CONSTRAINT ON (n:`U U`) ASSERT EXISTS (n.`e e`);")
    assert rows(db, "SHOW CONSTRAINT INFO") == []
    db.execute("CREATE (:`U U`), (:U {e: 1}), (:U {e: 1})")


# -- plan cache ---------------------------------------------------------------------------------


def test_repeated_parameterised_query_parses_once(db):
    # the parse cache is the process's: each database of the fixture asks a query of its own
    query = f"MATCH (n:CacheProbe_{db.storage.mode}_{db.analytics_image} {{k: $k}}) RETURN count(n) AS c"
    before = parse.cache_info()
    assert value(db, query, {"k": 1}) == 0
    assert value(db, query, {"k": 2}) == 0
    after = parse.cache_info()
    assert after.misses - before.misses == 1
    assert after.hits - before.hits >= 1


def test_cached_plan_follows_index_changes(db):
    query = "MATCH (n:L {p: $v}) RETURN n.p"
    db.execute("UNWIND range(1, 3) AS i CREATE (:L {p: i})")
    assert rows(db, query, {"v": 2}) == [(2,)]
    db.execute("CREATE INDEX ON :L(p)")
    assert rows(db, query, {"v": 3}) == [(3,)]
    db.execute("DROP INDEX ON :L(p)")
    assert rows(db, query, {"v": 1}) == [(1,)]


@pytest.mark.versions
def test_index_lookups_respect_transaction_visibility(db):
    db.execute("CREATE INDEX ON :L(p)")
    db.execute("UNWIND range(1, 3) AS i CREATE (:L {p: i})")
    with db.transaction() as tx:
        tx.execute("MATCH (n:L {p: 1}) DELETE n")
        tx.execute("MATCH (n:L {p: 2}) SET n.p = 20")
        tx.execute("MATCH (n:L {p: 3}) REMOVE n:L")
        for p, seen in ((1, 0), (2, 0), (20, 1), (3, 0)):
            assert tx.execute("MATCH (n:L {p: $p}) RETURN count(n)", {"p": p}).single() == seen
        other = db.begin()  # started before the commit: sees the old values only
        for p, seen in ((1, 1), (2, 1), (20, 0), (3, 1)):
            assert other.execute("MATCH (n:L) WHERE n.p = $p RETURN count(n)", {"p": p}).single() == seen
        other.rollback()
    assert rows(db, "MATCH (n:L) RETURN n.p") == [(20,)]


def test_unique_value_freed_in_the_same_statement_can_be_reused(db):
    db.execute("CREATE CONSTRAINT ON (n:U) ASSERT n.k IS UNIQUE")
    db.execute("CREATE (:U {k: 1})")
    db.execute("MATCH (u:U {k: 1}) DELETE u CREATE (:U {k: 1})")
    db.execute("MATCH (u:U {k: 1}) SET u.k = 10 CREATE (:U {k: 1})")
    assert rows(db, "MATCH (u:U) RETURN u.k ORDER BY u.k") == [(1,), (10,)]


MEMGRAPH_DUMP = [
    "CREATE INDEX ON :__mg_vertex__(__mg_id__);",
    'CREATE (:__mg_vertex__:`Person` {__mg_id__: 0, `name`: "Ann", `tags`: ["a", "b"]});',
    "CREATE (:__mg_vertex__:`Person`:`Admin` {__mg_id__: 1, `name`: \"Bob \\\"B\\\" O'Neil\"});",
    "MATCH (u:__mg_vertex__), (v:__mg_vertex__) WHERE u.__mg_id__ = 0 AND v.__mg_id__ = 1 "
    "CREATE (u)-[:`KNOWS` {`since`: 2020}]->(v);",
    "CREATE INDEX ON :`Person`;",
    "CREATE INDEX ON :`Person`(`name`);",
    "CREATE CONSTRAINT ON (u:`Person`) ASSERT EXISTS (u.`name`);",
    "CREATE CONSTRAINT ON (u:`Person`) ASSERT u.`name` IS UNIQUE;",
    "DROP INDEX ON :__mg_vertex__(__mg_id__);",
    "MATCH (u) REMOVE u:__mg_vertex__, u.__mg_id__;",
]


def test_memgraph_dump_loads(db):
    for statement in MEMGRAPH_DUMP:
        db.execute(statement)
    a, r, b = rows(db, "MATCH (a)-[r]->(b) RETURN a, r, b")[0]
    assert (a.labels, a.properties) == ({"Person"}, {"name": "Ann", "tags": ["a", "b"]})
    assert (b.labels, b.properties) == ({"Person", "Admin"}, {"name": "Bob \"B\" O'Neil"})
    assert (r.type, r.properties) == ("KNOWS", {"since": 2020})
    assert rows(db, "SHOW INDEX INFO") == [("label", "Person", None, 2), ("label+property", "Person", "name", 2)]
    assert len(rows(db, "SHOW CONSTRAINT INFO")) == 2


def test_memgraph_dump_edges_are_created_by_index_lookups(db):
    db.execute(MEMGRAPH_DUMP[0])
    text = plan(db, MEMGRAPH_DUMP[3])
    assert text.count("ScanAllByLabelPropertyValue") == 2 and "ScanAllByLabel (" not in text

"""The updating clauses: CREATE, MERGE, SET, REMOVE, DELETE, their counters,
and atomicity of a failing statement (openCypher TCK Create*, Merge*, Set*,
Remove*, Delete*)."""

import pytest
from cypher_helpers import rows, value

import weftdb
from weftdb.basics.errors import (
    ConstraintViolation,
    CypherArithmeticError,
    CypherSemanticError,
    CypherTypeError,
    EntityNotFound,
)


def count(db, query="MATCH (n) RETURN count(n) AS c"):
    return value(db, query)


# -- CREATE ----------------------------------------------------------------------------


def test_create_node_and_counters(db):
    result = db.execute("CREATE (n:A:B {x: 1, y: 'two', z: null}) RETURN n.x, labels(n) AS l, keys(n) AS k")
    assert result.rows == [(1, ["A", "B"], ["x", "y"])]
    assert result.counters == {"nodes-created": 1, "labels-added": 2, "properties-set": 2}
    assert result.query_type == "rw"


def test_create_without_return(db):
    result = db.execute("CREATE ()")
    assert result.columns == [] and result.rows == [] and result.query_type == "w"
    assert result.counters == {"nodes-created": 1}


def test_create_relationship_between_new_nodes(db):
    result = db.execute("CREATE (a:P {n: 1})-[r:KNOWS {since: 2020}]->(b:P {n: 2}) RETURN type(r), r.since")
    assert result.rows == [("KNOWS", 2020)]
    assert result.counters["relationships-created"] == 1 and result.counters["nodes-created"] == 2
    assert rows(db, "MATCH (a)-[:KNOWS]->(b) RETURN a.n, b.n") == [(1, 2)]


def test_create_left_pointing_relationship(db):
    db.execute("CREATE (a {n: 1})<-[:R]-(b {n: 2})")
    assert rows(db, "MATCH (a)-[:R]->(b) RETURN a.n, b.n") == [(2, 1)]


def test_create_path_and_return_it(db):
    result = db.execute("CREATE p = (:A {n: 1})-[:R]->(:B {n: 2})<-[:S]-(:C {n: 3}) RETURN p")
    path = result.single()
    assert isinstance(path, weftdb.Path)
    assert [n["n"] for n in path.nodes] == [1, 2, 3]
    assert [r.type for r in path.relationships] == ["R", "S"]
    assert path.relationships[1].start_node_id == path.nodes[2].id


def test_create_from_bound_nodes(db):
    db.execute("CREATE (:A {n: 1}), (:B {n: 2})")
    result = db.execute("MATCH (a:A), (b:B) CREATE (a)-[:R]->(b), (b)-[:S]->(:C)")
    assert result.counters == {"relationships-created": 2, "nodes-created": 1, "labels-added": 1}
    assert count(db) == 3


def test_create_reuses_node_declared_earlier_in_same_pattern(db):
    db.execute("CREATE (a:X)-[:R]->(b:Y), (a)-[:R]->(c:Z)")
    assert count(db) == 3
    assert value(db, "MATCH (:X)-[:R]->(n) RETURN count(n) AS c") == 2


def test_create_per_row(db):
    result = db.execute("UNWIND range(1, 3) AS i CREATE (n:N {i: i}) RETURN n.i")
    assert result.rows == [(1,), (2,), (3,)]
    assert result.counters["nodes-created"] == 3


def test_create_sees_previous_clauses(db):
    db.execute("CREATE (:N) WITH 1 AS x MATCH (n:N) CREATE (:M)")
    assert count(db, "MATCH (m:M) RETURN count(m) AS c") == 1


def test_create_with_list_and_map_properties(db):
    db.execute("CREATE (:N {l: [1, 2], s: ['a']})")
    assert rows(db, "MATCH (n:N) RETURN n.l, n.s") == [([1, 2], ["a"])]


@pytest.mark.parametrize("query, error", [
    ("CREATE (a)-[:R]-(b)", CypherSemanticError),
    ("CREATE (a)-[:R|S]->(b)", CypherSemanticError),
    ("CREATE (a)-[]->(b)", CypherSemanticError),
    ("CREATE (a)-[:R*2]->(b)", CypherSemanticError),
    ("MATCH (a) CREATE (a:L)", CypherSemanticError),
    ("CREATE (n {l: [1, null]})", CypherTypeError),
])
def test_create_errors(db, query, error):
    db.execute("CREATE ()")
    with pytest.raises(error):
        db.execute(query)
    assert count(db) == 1


def test_create_relationship_to_null_node_fails(db):
    with pytest.raises(EntityNotFound):
        db.execute("OPTIONAL MATCH (a:None) CREATE (a)-[:R]->(:B)")
    assert count(db) == 0


# -- MERGE -----------------------------------------------------------------------------


def test_merge_creates_then_matches(db):
    first = db.execute("MERGE (n:P {name: 'Ann'}) ON CREATE SET n.created = true ON MATCH SET n.seen = true RETURN n.created, n.seen")
    assert first.rows == [(True, None)]
    assert first.counters == {"nodes-created": 1, "labels-added": 1, "properties-set": 2}
    second = db.execute("MERGE (n:P {name: 'Ann'}) ON CREATE SET n.created = false ON MATCH SET n.seen = true RETURN n.created, n.seen")
    assert second.rows == [(True, True)]
    assert second.counters == {"properties-set": 1}
    assert count(db) == 1


def test_merge_matches_every_existing_node(db):
    db.execute("CREATE (:P {k: 1}), (:P {k: 1})")
    result = db.execute("MERGE (n:P {k: 1}) ON MATCH SET n.hit = true RETURN count(*) AS c")
    assert result.rows == [(2,)]
    assert value(db, "MATCH (n:P) WHERE n.hit RETURN count(n) AS c") == 2


def test_merge_sees_its_own_writes_row_by_row(db):
    result = db.execute("UNWIND [1, 1, 2, 1] AS x MERGE (n:N {v: x}) RETURN n.v")
    assert result.rows == [(1,), (1,), (2,), (1,)]
    assert result.counters["nodes-created"] == 2
    assert count(db) == 2


def test_merge_relationship_between_bound_nodes(db):
    db.execute("CREATE (:A {n: 1}), (:B {n: 2})")
    query = "MATCH (a:A), (b:B) MERGE (a)-[r:R {w: 5}]->(b) ON CREATE SET r.new = true RETURN r.w, r.new"
    first = db.execute(query)
    assert first.rows == [(5, True)]
    assert first.counters == {"relationships-created": 1, "properties-set": 2}
    second = db.execute(query)
    assert second.rows == [(5, True)] and second.counters == {}
    assert value(db, "MATCH ()-[r:R]->() RETURN count(r) AS c") == 1
    assert count(db) == 2


def test_merge_undirected_relationship_matches_either_way(db):
    db.execute("CREATE (a:A)<-[:R]-(b:B)")
    result = db.execute("MATCH (a:A), (b:B) MERGE (a)-[r:R]-(b) RETURN startNode(r) = b AS reversed")
    assert result.rows == [(True,)] and result.counters == {}
    created = db.execute("MATCH (a:A), (b:B) MERGE (a)-[r:T]-(b) RETURN startNode(r) = a AS forward")
    assert created.rows == [(True,)] and created.counters == {"relationships-created": 1}


def test_merge_path_creates_whole_pattern_when_any_part_missing(db):
    db.execute("CREATE (:A {n: 1})")
    result = db.execute("MERGE (a:A {n: 1})-[:R]->(b:B) RETURN a.n")
    assert result.counters["nodes-created"] == 2  # MERGE creates the whole pattern, A included
    assert value(db, "MATCH (a:A) RETURN count(a) AS c") == 2


def test_merge_with_null_property_fails(db):
    with pytest.raises((CypherSemanticError, CypherTypeError), match="null"):
        db.execute("MERGE (n:N {v: null}) RETURN n")
    assert count(db) == 0


def test_merge_of_bound_node_with_labels_fails(db):
    db.execute("CREATE (:A)")
    with pytest.raises(CypherSemanticError):
        db.execute("MATCH (a:A) MERGE (a:B)")


# -- SET / REMOVE ------------------------------------------------------------------------


@pytest.fixture
def ann(db):
    db.execute("CREATE (:P {name: 'Ann', age: 30})")
    return db


def props(db):
    return value(db, "MATCH (p:P) RETURN properties(p) AS p")


def test_set_property(ann):
    result = ann.execute("MATCH (p:P) SET p.age = p.age + 1, p.city = 'Oslo' RETURN p.age")
    assert result.rows == [(31,)] and result.counters == {"properties-set": 2}
    assert props(ann) == {"name": "Ann", "age": 31, "city": "Oslo"}


def test_set_property_to_null_removes_it(ann):
    result = ann.execute("MATCH (p:P) SET p.age = null")
    assert result.counters == {"properties-set": 1}
    assert props(ann) == {"name": "Ann"}


def test_set_replace_with_map(ann):
    ann.execute("MATCH (p:P) SET p = {name: 'Bo', x: null, y: 1}")
    assert props(ann) == {"name": "Bo", "y": 1}


def test_set_merge_map(ann):
    ann.execute("MATCH (p:P) SET p += {age: null, city: 'Rome'}")
    assert props(ann) == {"name": "Ann", "city": "Rome"}


def test_set_properties_from_another_node(ann):
    ann.execute("CREATE (:Q {k: 1})")
    ann.execute("MATCH (p:P), (q:Q) SET q = p")
    assert value(ann, "MATCH (q:Q) RETURN properties(q) AS p") == {"name": "Ann", "age": 30}


def test_set_labels_and_remove(ann):
    result = ann.execute("MATCH (p:P) SET p:Admin:User RETURN labels(p) AS l")
    assert sorted(result.single()) == ["Admin", "P", "User"]
    assert result.counters == {"labels-added": 2}
    result = ann.execute("MATCH (p:P) REMOVE p:Admin, p.age RETURN labels(p) AS l, p.age AS age")
    assert sorted(result.rows[0][0]) == ["P", "User"] and result.rows[0][1] is None
    assert result.counters == {"labels-removed": 1, "properties-set": 1}


def test_set_existing_label_counts_nothing(ann):
    assert ann.execute("MATCH (p:P) SET p:P").counters == {}


def test_remove_missing_property_is_a_no_op(ann):
    assert ann.execute("MATCH (p:P) REMOVE p.nope, p:Nope").counters == {}


def test_set_on_null_is_ignored(db):
    result = db.execute("OPTIONAL MATCH (n:None) SET n.x = 1, n:L REMOVE n.y RETURN n")
    assert result.rows == [(None,)] and result.counters == {}


def test_set_relationship_property(db):
    db.execute("CREATE ()-[:R]->()")
    db.execute("MATCH ()-[r:R]->() SET r.w = 2, r += {v: 3}")
    assert value(db, "MATCH ()-[r:R]->() RETURN properties(r) AS p") == {"w": 2, "v": 3}


def test_set_non_map_fails(ann):
    with pytest.raises(CypherTypeError):
        ann.execute("MATCH (p:P) SET p = 1")
    with pytest.raises(CypherSemanticError, match="only nodes and relationships"):
        ann.execute("WITH 1 AS x SET x.a = 1")  # refused before running
    with pytest.raises(CypherTypeError):
        ann.execute("WITH $one AS x SET x.a = 1", {"one": 1})
    assert props(ann) == {"name": "Ann", "age": 30}


def test_set_is_visible_to_later_clauses(ann):
    assert value(ann, "MATCH (p:P) SET p.age = 40 WITH p MATCH (q:P) WHERE q.age = 40 RETURN count(q) AS c") == 1


# -- DELETE ----------------------------------------------------------------------------


def test_delete_node(db):
    db.execute("CREATE (:A), (:A), (:B)")
    assert db.execute("MATCH (a:A) DELETE a").counters == {"nodes-deleted": 2}
    assert count(db) == 1


def test_delete_node_with_relationships_fails_and_changes_nothing(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B)")
    with pytest.raises(ConstraintViolation, match="DETACH DELETE") as caught:
        db.execute("MATCH (n) DELETE n")
    assert type(caught.value).__name__ == "ConstraintVerificationFailed"  # openCypher's name for it
    assert count(db) == 2
    assert value(db, "MATCH ()-[r]->() RETURN count(r) AS c") == 1


def test_deleting_paths_that_share_nodes_deletes_every_relationship_first(db):
    db.execute("CREATE (a:User), (b:User) CREATE (a)-[:R]->(b) CREATE (b)-[:R]->(a)")
    result = db.execute("MATCH p = (:User)-[r]->(:User) WITH {key: collect(p)} AS paths DELETE paths.key[0], paths.key[1]")
    assert result.counters == {"nodes-deleted": 2, "relationships-deleted": 2}
    assert count(db) == 0


def test_delete_relationship_then_nodes(db):
    db.execute("CREATE (:A)-[:R]->(:B)")
    result = db.execute("MATCH (a)-[r]->(b) DELETE r, a, b")
    assert result.counters == {"nodes-deleted": 2, "relationships-deleted": 1}
    assert count(db) == 0


def test_detach_delete(db):
    db.execute("CREATE (a:A)-[:R]->(:B), (a)-[:R]->(:C), (:D)-[:R]->(a)")
    result = db.execute("MATCH (a:A) DETACH DELETE a")
    assert result.counters == {"nodes-deleted": 1, "relationships-deleted": 3}
    assert count(db) == 3 and value(db, "MATCH ()-[r]->() RETURN count(r) AS c") == 0


def test_delete_same_node_twice_counts_once(db):
    db.execute("CREATE (a:A)-[:R]->(:B), (a)-[:R]->(:C)")
    result = db.execute("MATCH (a:A)-->(x) DETACH DELETE a")
    assert result.counters == {"nodes-deleted": 1, "relationships-deleted": 2}


def test_delete_path(db):
    db.execute("CREATE (:A)-[:R]->(:B)-[:R]->(:C), (:D)")
    result = db.execute("MATCH p = (:A)-[*]->(:C) DELETE p")
    assert result.counters == {"nodes-deleted": 3, "relationships-deleted": 2}
    assert count(db) == 1


def test_delete_null_is_ignored(db):
    assert db.execute("OPTIONAL MATCH (n:None) DELETE n").counters == {}


def test_delete_non_entity_fails(db):
    with pytest.raises(CypherSemanticError, match="node, relationship or path"):
        db.execute("WITH 1 AS x DELETE x")  # refused before running
    with pytest.raises(CypherTypeError):
        db.execute("WITH $one AS x DELETE x", {"one": 1})


def test_deleted_node_is_gone_for_later_clauses(db):
    db.execute("CREATE (:A), (:A)")
    assert value(db, "MATCH (a:A) WITH a LIMIT 1 DELETE a WITH 1 AS one MATCH (b:A) RETURN count(b) AS c") == 1


@pytest.mark.parametrize("read", ["a.v", "a['v']", "labels(a)", "keys(a)", "properties(a)", "a {.*}", "a:A"])
def test_reading_a_deleted_node_is_an_error(db, read):
    db.execute("CREATE (:A {v: 1})")
    with pytest.raises(EntityNotFound, match="deleted"):
        db.execute(f"MATCH (a:A) DELETE a RETURN {read}")
    assert count(db) == 1


def test_reading_a_deleted_relationship(db):
    db.execute("CREATE ()-[:T {num: 0}]->()")
    with pytest.raises(EntityNotFound, match="deleted"):
        db.execute("MATCH ()-[r]->() DELETE r RETURN r.num")
    assert rows(db, "MATCH ()-[r]->() DELETE r RETURN type(r)") == [("T",)]  # TCK Return2 [14]


@pytest.mark.versions
def test_deleted_by_another_transaction_is_still_readable_in_its_snapshot(db):
    db.execute("CREATE (:A {v: 1})")
    reader = db.begin()
    assert reader.execute("MATCH (a:A) RETURN a.v").rows == [(1,)]
    db.execute("MATCH (a:A) DELETE a")
    assert reader.execute("MATCH (a:A) RETURN a.v, labels(a)").rows == [(1, ["A"])]
    reader.rollback()


# -- atomicity --------------------------------------------------------------------------


def test_failing_statement_rolls_back_everything(db):
    with pytest.raises(CypherArithmeticError):
        db.execute("UNWIND [1, 2, 0] AS x CREATE (:T {v: 10 / x})")
    assert count(db) == 0


def test_failing_statement_in_explicit_transaction_rolls_it_back(db):
    tx = db.begin()
    tx.execute("CREATE (:Kept)")
    with pytest.raises(CypherArithmeticError):
        tx.execute("CREATE (:T {v: 1 / 0})")
    assert tx.closed
    assert count(db) == 0


def test_transaction_block_rolls_back_on_exception(db):
    with pytest.raises(RuntimeError):
        with db.transaction() as tx:
            tx.execute("CREATE (:T)")
            raise RuntimeError("boom")
    assert count(db) == 0


def test_counters_sum_over_rows(db):
    result = db.execute("UNWIND range(1, 4) AS i CREATE (a:A {i: i})-[:R {i: i}]->(b:B)")
    assert result.counters == {"nodes-created": 8, "labels-added": 8, "properties-set": 8, "relationships-created": 4}


def test_create_with_a_parameter_map(db):
    result = db.execute("CREATE (n:P $props)-[r:R $rel]->(m) RETURN properties(n) AS p, r.w AS w",
                        {"props": {"a": 1, "b": None, "l": [1, 2]}, "rel": {"w": 3}})
    assert result.rows == [({"a": 1, "l": [1, 2]}, 3)]
    assert result.counters == {"nodes-created": 2, "labels-added": 1, "properties-set": 3, "relationships-created": 1}
    with pytest.raises(CypherTypeError):
        db.execute("CREATE (n $props)", {"props": 1})


@pytest.mark.parametrize("query", ["MATCH (n $props) RETURN n", "MERGE (n:P $props)"])
def test_parameter_map_only_in_create(db, query):
    with pytest.raises(CypherSemanticError):
        db.execute(query, {"props": {"a": 1}})


@pytest.mark.parametrize("query, error, message", [
    ("WITH 1 AS x CREATE (x)-[:R]->(y)", CypherSemanticError, "cannot be used as a node"),
    ("MATCH ()-[r]->() WITH r CREATE (r)-[:X]->()", CypherSemanticError, "cannot be used as a node"),
    ("WITH 'a' AS x MERGE (x)-[:R]->(y)", CypherSemanticError, "cannot be used as a node"),
    ("WITH $one AS x CREATE (x)-[:R]->(y)", CypherTypeError, "Expected a node"),
    ("WITH $text AS x MERGE (x)-[:R]->(y)", CypherTypeError, "Expected a node"),
])
def test_relationship_from_a_non_node_is_a_type_error(db, query, error, message):
    db.execute("CREATE (:A)-[:R]->(:B)")
    with pytest.raises(error, match=message):
        db.execute(query, {"one": 1, "text": "a"})
    assert count(db) == 2 and value(db, "MATCH ()-[r]->() RETURN count(r) AS c") == 1


def test_limit_bounds_rows_not_updates(db):
    assert db.execute("UNWIND range(1, 3) AS i CREATE (n:N {i: i}) RETURN n LIMIT 0").rows == []
    assert count(db) == 3
    assert len(db.execute("UNWIND range(1, 3) AS i CREATE (n:M) RETURN n LIMIT 1").rows) == 1
    assert value(db, "MATCH (m:M) RETURN count(m) AS c") == 3
    assert db.execute("MATCH (n:N) SET n.x = 1 RETURN n LIMIT 0").counters == {"properties-set": 3}
    assert db.execute("MATCH (n:N) WITH n LIMIT 0 SET n.y = 1").counters == {}
    assert db.execute("MATCH (n) DETACH DELETE n RETURN count(*) LIMIT 0").counters == {"nodes-deleted": 6}


def test_deleting_a_node_with_all_its_relationships_across_rows(db):
    db.execute("CREATE (n:N)-[:R]->(:M), (n)-[:R]->(:M), (:M)-[:R]->(n)")
    result = db.execute("MATCH (n:N)-[r]-() DELETE r, n")
    assert result.counters == {"relationships-deleted": 3, "nodes-deleted": 1}

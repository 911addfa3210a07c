"""Pattern matching: directions, types, variable length, named paths,
relationship uniqueness, OPTIONAL MATCH, pattern predicates, EXISTS and
pattern comprehensions (openCypher TCK Match*, Path*, ExistentialSubquery*)."""

import pytest
from cypher_helpers import rows, value

from weftdb.basics.errors import CypherSemanticError, CypherTypeError


@pytest.fixture
def chain(db):
    """a -> b -> c -> d along :NEXT, plus a -[:SKIP]-> c."""
    db.execute(
        "CREATE (a:N {name: 'a'})-[:NEXT {w: 1}]->(b:N {name: 'b'})-[:NEXT {w: 2}]->(c:N {name: 'c'})"
        "-[:NEXT {w: 3}]->(d:N {name: 'd'}), (a)-[:SKIP]->(c)"
    )
    return db


def names(db, query, params=None):
    return sorted(tuple(r) for r in rows(db, query, params))


def test_outgoing_incoming_undirected(chain):
    assert names(chain, "MATCH (x {name: 'b'})-->(y) RETURN y.name") == [("c",)]
    assert names(chain, "MATCH (x {name: 'b'})<--(y) RETURN y.name") == [("a",)]
    assert names(chain, "MATCH (x {name: 'b'})--(y) RETURN y.name") == [("a",), ("c",)]
    assert names(chain, "MATCH (y)<-[:NEXT]-(x {name: 'b'}) RETURN y.name") == [("c",)]


def test_undirected_match_sees_each_relationship_both_ways(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B {n: 2})")
    assert names(db, "MATCH (x)-[r]-(y) RETURN x.n, y.n") == [(1, 2), (2, 1)]
    assert names(db, "MATCH (x)-[r]->(y) RETURN x.n, y.n") == [(1, 2)]


def test_self_loop(db):
    db.execute("CREATE (a:A)-[:LOOP]->(a)")
    assert value(db, "MATCH (a)-[r]-(b) RETURN count(*) AS c") == 1
    assert value(db, "MATCH (a)-[r]->(a) RETURN count(*) AS c") == 1
    assert value(db, "MATCH (a)<-[r]-(b) RETURN count(*) AS c") == 1


def test_type_alternatives(chain):
    assert names(chain, "MATCH ({name: 'a'})-[r:NEXT|SKIP]->(y) RETURN type(r), y.name") == [("NEXT", "b"), ("SKIP", "c")]
    assert names(chain, "MATCH ({name: 'a'})-[:SKIP]->(y) RETURN y.name") == [("c",)]
    assert names(chain, "MATCH ({name: 'a'})-[:NOPE]->(y) RETURN y.name") == []


def test_relationship_properties_in_pattern(chain):
    assert names(chain, "MATCH (x)-[:NEXT {w: 2}]->(y) RETURN x.name, y.name") == [("b", "c")]


def test_long_fixed_pattern(chain):
    query = "MATCH (a)-[:NEXT]->(b)-[:NEXT]->(c)-[:NEXT]->(d) RETURN a.name, d.name"
    assert names(chain, query) == [("a", "d")]


def test_pattern_matched_from_the_middle(chain):
    query = "MATCH (a)-[:NEXT]->(b {name: 'c'})-[:NEXT]->(d) RETURN a.name, d.name"
    assert names(chain, query) == [("b", "d")]


@pytest.mark.parametrize("length, expected", [
    ("*", ["b", "c", "c", "d", "d"]),
    ("*1", ["b", "c"]),
    ("*2", ["c", "d"]),
    ("*1..2", ["b", "c", "c", "d"]),
    ("*..1", ["b", "c"]),
    ("*2..", ["c", "d", "d"]),
    ("*0..", ["a", "b", "c", "c", "d", "d"]),
    ("*0", ["a"]),
    ("*0..1", ["a", "b", "c"]),
    ("*3..3", ["d"]),
    ("*5..", []),
])
def test_variable_length(chain, length, expected):
    query = f"MATCH ({{name: 'a'}})-[{length}]->(y) RETURN y.name"
    assert sorted(r[0] for r in rows(chain, query)) == expected


def test_variable_length_with_type_and_property(chain):
    assert names(chain, "MATCH ({name: 'a'})-[:NEXT*]->(y) RETURN y.name") == [("b",), ("c",), ("d",)]
    assert names(chain, "MATCH ({name: 'b'})-[:NEXT* {w: 2}]->(y) RETURN y.name") == [("c",)]


def test_variable_length_binds_list_of_relationships(chain):
    query = "MATCH ({name: 'a'})-[rs:NEXT*2]->(y) RETURN size(rs), [r IN rs | r.w]"
    assert rows(chain, query) == [(2, [1, 2])]


def test_variable_length_between_bound_nodes(chain):
    query = "MATCH (a {name: 'a'}), (d {name: 'd'}) MATCH (a)-[*]->(d) RETURN count(*) AS c"
    assert value(chain, query) == 2


def test_variable_length_undirected_does_not_reuse_relationships(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B {n: 2})")
    assert names(db, "MATCH ({n: 1})-[*]-(y) RETURN y.n") == [(2,)]


def test_variable_length_in_a_cycle_terminates(db):
    db.execute("CREATE (a:C {n: 1})-[:R]->(b:C {n: 2})-[:R]->(c:C {n: 3})-[:R]->(a)")
    # Relationships are not repeated, nodes may be: 3 paths of lengths 1, 2, 3.
    assert sorted(r[0] for r in rows(db, "MATCH ({n: 1})-[rs*]->(y) RETURN size(rs)")) == [1, 2, 3]
    assert rows(db, "MATCH (x {n: 1})-[rs*3]->(x) RETURN size(rs)") == [(3,)]


def test_named_path(chain):
    query = "MATCH p = (a {name: 'a'})-[:NEXT]->(b)-[:NEXT]->(c) RETURN length(p), [n IN nodes(p) | n.name], [r IN relationships(p) | r.w]"
    assert rows(chain, query) == [(2, ["a", "b", "c"], [1, 2])]


def test_named_variable_length_path(chain):
    query = "MATCH p = ({name: 'a'})-[:NEXT*]->({name: 'd'}) RETURN length(p), [n IN nodes(p) | n.name]"
    assert rows(chain, query) == [(3, ["a", "b", "c", "d"])]


def test_named_path_of_zero_length(chain):
    query = "MATCH p = (a {name: 'b'})-[*0..0]->(x) RETURN length(p), [n IN nodes(p) | n.name]"
    assert rows(chain, query) == [(0, ["b"])]
    assert rows(chain, "MATCH p = (a {name: 'b'}) RETURN length(p), size(nodes(p))") == [(0, 1)]


def test_named_path_against_direction(chain):
    query = "MATCH p = (c {name: 'c'})<-[:NEXT]-(b) RETURN [n IN nodes(p) | n.name]"
    assert rows(chain, query) == [(["c", "b"],)]
    query = "MATCH p = (c {name: 'c'})<-[:NEXT*2]-(a) RETURN [n IN nodes(p) | n.name]"
    assert rows(chain, query) == [(["c", "b", "a"],)]


def test_named_path_matched_from_the_middle(chain):
    query = "MATCH p = (a)-[:NEXT]->(b {name: 'b'})-[:NEXT]->(c) RETURN [n IN nodes(p) | n.name]"
    assert rows(chain, query) == [(["a", "b", "c"],)]


def test_relationship_uniqueness_within_one_match(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B {n: 2})")
    assert rows(db, "MATCH (a)-[r1]-(b)-[r2]-(c) RETURN a, c") == []
    # ... but not across MATCH clauses.
    assert value(db, "MATCH (a)-[r1]-(b) MATCH (b)-[r2]-(c) RETURN count(*) AS c") == 2


def test_relationship_uniqueness_across_pattern_parts(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B {n: 2})")
    assert value(db, "MATCH (a)-[r1]->(b), (c)-[r2]->(d) RETURN count(*) AS c") == 0
    assert value(db, "MATCH (a)-[r1]->(b) MATCH (c)-[r2]->(d) RETURN count(*) AS c") == 1


def test_relationship_uniqueness_with_variable_length(chain):
    query = "MATCH ({name: 'a'})-[r:NEXT]->(b), (b)<-[*]-(x) RETURN x.name"
    assert rows(chain, query) == []


def test_multiple_pattern_parts_share_variables(chain):
    query = "MATCH (a)-[:NEXT]->(b), (b)-[:NEXT]->(c), (a)-[:SKIP]->(c) RETURN a.name, b.name, c.name"
    assert rows(chain, query) == [("a", "b", "c")]


def test_disconnected_parts_are_a_cartesian_product(chain):
    assert value(chain, "MATCH (x:N), (y:N) RETURN count(*) AS c") == 16


def test_optional_match_with_where(chain):
    query = (
        "MATCH (x:N) OPTIONAL MATCH (x)-[:NEXT]->(y) WHERE y.name <> 'c' "
        "RETURN x.name, y.name ORDER BY x.name"
    )
    assert rows(chain, query) == [("a", "b"), ("b", None), ("c", "d"), ("d", None)]


def test_optional_match_with_bound_both_ends(chain):
    query = (
        "MATCH (a {name: 'a'}), (x:N) OPTIONAL MATCH (a)-[r:SKIP]->(x) "
        "RETURN x.name, type(r) ORDER BY x.name"
    )
    assert rows(chain, query) == [("a", None), ("b", None), ("c", "SKIP"), ("d", None)]


def test_optional_match_keeps_null_for_named_path(chain):
    query = "MATCH (x {name: 'd'}) OPTIONAL MATCH p = (x)-[:NEXT]->(y) RETURN x.name, p, y"
    assert rows(chain, query) == [("d", None, None)]


def test_pattern_predicate(chain):
    assert names(chain, "MATCH (x:N) WHERE (x)-[:SKIP]->() RETURN x.name") == [("a",)]
    assert names(chain, "MATCH (x:N) WHERE NOT (x)-->() RETURN x.name") == [("d",)]
    assert names(chain, "MATCH (x:N), (y:N) WHERE (x)-[:NEXT]->(y) RETURN x.name, y.name") == [
        ("a", "b"), ("b", "c"), ("c", "d")]


def test_pattern_predicate_in_return(chain):
    query = "MATCH (x:N) RETURN x.name, exists((x)<-[:SKIP]-()) AS skipped ORDER BY x.name"
    assert rows(chain, query) == [("a", False), ("b", False), ("c", True), ("d", False)]


def test_exists_subquery(chain):
    query = "MATCH (x:N) WHERE EXISTS { MATCH (x)-[:NEXT]->(y) WHERE y.name IN ['c', 'd'] } RETURN x.name"
    assert names(chain, query) == [("b",), ("c",)]
    assert names(chain, "MATCH (x:N) WHERE EXISTS { (x)-[:SKIP]->() } RETURN x.name") == [("a",)]
    assert names(chain, "MATCH (x:N) WHERE NOT EXISTS { (x)<--() } RETURN x.name") == [("a",)]


def test_exists_property(db):
    db.execute("CREATE (:P {a: 1}), (:P)")
    assert value(db, "MATCH (p:P) WHERE exists(p.a) RETURN count(*) AS c") == 1


def test_pattern_comprehension(chain):
    query = "MATCH (x {name: 'a'}) RETURN [(x)-->(y) | y.name] AS l"
    assert sorted(value(chain, query)) == ["b", "c"]
    query = "MATCH (x {name: 'a'}) RETURN [(x)-[r]->(y) WHERE type(r) = 'NEXT' | y.name] AS l"
    assert value(chain, query) == ["b"]
    query = "MATCH (x:N) RETURN x.name, size([(x)<--() | 1]) AS indegree ORDER BY x.name"
    assert rows(chain, query) == [("a", 0), ("b", 1), ("c", 2), ("d", 1)]


def test_pattern_comprehension_with_path(chain):
    query = "MATCH (x {name: 'a'}) RETURN [p = (x)-[:NEXT*]->() | length(p)] AS l"
    assert sorted(value(chain, query)) == [1, 2, 3]


def test_labels_on_both_ends(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B {n: 2}), (:A {n: 3})-[:R]->(:A {n: 4})")
    assert names(db, "MATCH (x:A)-->(y:B) RETURN x.n, y.n") == [(1, 2)]
    assert names(db, "MATCH (x:A)-->(y:A) RETURN x.n, y.n") == [(3, 4)]


def test_match_with_relationship_bound_earlier(db):
    db.execute("CREATE ()-[:T1]->(), ()-[:T2]->()")
    assert names(db, "MATCH ()-[r1]->() WITH r1 AS r2 MATCH ()-[r2]->() RETURN type(r2)") == [("T1",), ("T2",)]
    assert value(db, "MATCH ()-[r:T1]->() MATCH (x)-[r]-(y) RETURN count(*) AS c") == 2


def test_optional_match_with_relationship_bound_earlier(db):
    db.execute("CREATE (:A {n: 'a'})-[:T]->(:B {n: 'b'})")
    query = "MATCH ()-[r]->() WITH r LIMIT 1 OPTIONAL MATCH (a2)-[r]->(b2) RETURN a2.n, type(r), b2.n"
    assert rows(db, query) == [("a", "T", "b")]
    query = "MATCH (a1)-[r]->() WITH r, a1 LIMIT 1 OPTIONAL MATCH (a1)<-[r]-(b2) RETURN a1.n, type(r), b2"
    assert rows(db, query) == [("a", "T", None)]


@pytest.mark.parametrize("query", [
    "MATCH (a)-[r]->(b) MERGE (a)-[r]->(b)",
    "MATCH ()-[r]->() CREATE ()-[r:T]->()",
])
def test_rebinding_a_relationship_is_an_error(chain, query):
    with pytest.raises(CypherSemanticError):
        chain.execute(query)


def test_a_bound_list_of_relationships_is_followed(db):
    """A list of relationships bound before is matched again as it is, from
    either end of the pattern (openCypher Match4 [8], Match9 [6])."""
    db.execute("CREATE (:A)-[:Y]->(:B)-[:Y]->(:C)")
    query = "MATCH ()-[r1]->()-[r2]->() WITH [r1, r2] AS rs MATCH (first)-[rs*]->(second) RETURN labels(first), labels(second)"
    assert rows(db, query) == [(["A"], ["C"])]
    query = "MATCH ()-[r1]->()-[r2]->() WITH [r1, r2] AS rs MATCH (first)-[rs*]->(second:C) RETURN labels(first)"
    assert rows(db, query) == [(["A"],)]
    query = "MATCH ()-[r1]->()-[r2]->() WITH [r1, r2] AS rs MATCH (first)<-[rs*]-(second) RETURN first"
    assert rows(db, query) == []  # the wrong way round
    assert rows(db, "MATCH ()-[r1]->()-[r2]->() WITH [r2, r1] AS rs MATCH (first)-[rs*]->(second) RETURN first") == []
    assert rows(db, "MATCH ()-[r1]->()-[r2]->() WITH [r1, r2] AS rs MATCH (first)-[rs*3..]->(second) RETURN first") == []
    assert len(rows(db, "MATCH ()-[r*]->() MATCH ()-[r*]->() RETURN r")) == 3


def test_a_variable_length_list_keeps_the_pattern_order_when_matched_backwards(db):
    """The planner starts from the labelled end (:End) and walks back; the list is still left to right."""
    db.execute("CREATE (:A)-[:REL {num: 1}]->(:B)-[:REL {num: 2}]->(:End)")
    assert rows(db, "MATCH (a)-[r:REL*2..2]->(b:End) RETURN [x IN r | x.num]") == [([1, 2],)]
    assert rows(db, "MATCH p = (a)-[r:REL*2..2]->(b:End) RETURN [x IN relationships(p) | x.num]") == [([1, 2],)]
    assert rows(db, "MATCH (a)<-[r:REL*2..2]-(b:End) RETURN r") == []


# A value the text types is refused before the query runs (semantics.py); one
# that only the data types is refused when it is met.
@pytest.mark.parametrize("query", [
    "WITH 1 AS x MATCH (x)-->(y) RETURN y",
    "WITH 1 AS x MATCH (y)-->(x) RETURN y",
    "WITH 'a' AS x MATCH p = (x) RETURN p",
    "MATCH (a {name: 'a'}) WITH [a] AS l MATCH (l)-[*]->(b) RETURN b",
    "MATCH ()-[r]->() MATCH (r) RETURN r",
])
def test_non_node_in_a_node_pattern_is_refused_before_running(chain, query):
    with pytest.raises(CypherSemanticError, match="cannot be used as a node"):
        chain.execute(query)


@pytest.mark.parametrize("query", [
    "WITH $one AS x MATCH (x)-->(y) RETURN y",
    "WITH $one AS x MATCH (y)-->(x) RETURN y",
    "WITH $text AS x MATCH p = (x) RETURN p",
])
def test_non_node_in_a_node_pattern_is_a_type_error(chain, query):
    with pytest.raises(CypherTypeError, match="Expected a node"):
        chain.execute(query, {"one": 1, "text": "a"})


def test_non_relationship_in_a_relationship_pattern_is_a_type_error(chain):
    with pytest.raises(CypherSemanticError, match="cannot be used as a relationship"):
        chain.execute("MATCH (n {name: 'a'}) WITH n AS r MATCH ()-[r]->() RETURN r")
    with pytest.raises(CypherTypeError, match="Expected a relationship"):
        chain.execute("MATCH (n {name: 'a'}) WITH coalesce($none, n) AS r MATCH ()-[r]->() RETURN r", {"none": None})
    assert rows(chain, "OPTIONAL MATCH ()-[r:NOPE]->() WITH r MATCH ()-[r]->() RETURN r") == []


def test_null_in_a_node_pattern_matches_nothing(chain):
    assert rows(chain, "OPTIONAL MATCH (n:Nope) MATCH (n) RETURN n") == []
    assert rows(chain, "OPTIONAL MATCH (n:Nope) MATCH (n)-[*0..]->(m) RETURN m") == []


def test_variable_length_around_a_bound_relationship(db):
    # openCypher TCK Match4 [7]
    db.execute("CREATE (n0:Node), (n1:Node), (n2:Node), (n3:Node), "
               "(n0)-[:EDGE]->(n1), (n1)-[:EDGE]->(n2), (n2)-[:EDGE]->(n3)")
    query = "MATCH ()-[r:EDGE]-() MATCH p = (n)-[*0..1]-()-[r]-()-[*0..1]-(m) RETURN count(p) AS c"
    assert value(db, query) == 32


def test_bidirectional_arrows_match_either_direction(db):
    db.execute("CREATE (a:A)-[:T1]->(b:B), (b)-[:T2]->(a)")
    assert value(db, "MATCH p = (n)<-->(k)<--(n) RETURN count(p) AS c") == 2
    assert value(db, "MATCH (n:A)<-->(k) RETURN count(*) AS c") == 2


def test_named_path_with_undirected_fixed_length_part(db):
    db.execute("CREATE (:Start)<-[:CONNECTED_TO]-(a)-[:CONNECTED_TO]->(b)<-[:CONNECTED_TO]-(c)-[:CONNECTED_TO]->(:End)")
    query = "MATCH route = (:Start)<-[:CONNECTED_TO]-()-[:CONNECTED_TO*3..3]-(:End) RETURN length(route) AS l"
    assert rows(db, query) == [(4,)]


def test_empty_and_inverted_length_ranges(db):
    db.execute("CREATE (:A)-[:T]->(:B)")
    assert value(db, "MATCH (a)-[*..0]->(b) RETURN count(*) AS c") == 0
    assert value(db, "MATCH (a)-[*2..1]->(b) RETURN count(*) AS c") == 0
    assert value(db, "MATCH (a)-[*0..0]->(b) RETURN count(*) AS c") == 2

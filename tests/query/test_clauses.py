"""The reading clauses end to end: MATCH, OPTIONAL MATCH, WHERE, WITH, UNWIND,
RETURN, ORDER BY / SKIP / LIMIT and their scoping rules."""

import threading
import time

import pytest
from cypher_helpers import rows, value

from weftdb.basics.errors import CypherSemanticError, CypherSyntaxError, QueryInterrupted, QueryTimeout


@pytest.fixture
def people(db):
    db.execute(
        "CREATE (a:Person {name: 'Ann', age: 30}), (b:Person {name: 'Bob', age: 25}), "
        "(c:Person {name: 'Cy', age: 35}), (d:Dog {name: 'Rex'}), "
        "(a)-[:KNOWS {since: 2010}]->(b), (b)-[:KNOWS {since: 2015}]->(c), (a)-[:OWNS]->(d)"
    )
    return db


def test_match_by_label(people):
    assert sorted(rows(people, "MATCH (p:Person) RETURN p.name")) == [("Ann",), ("Bob",), ("Cy",)]


def test_match_all_nodes(people):
    assert value(people, "MATCH (n) RETURN count(n) AS c") == 4


def test_match_with_property_map(people):
    assert rows(people, "MATCH (p:Person {name: 'Bob'}) RETURN p.age") == [(25,)]
    assert rows(people, "MATCH (p {name: 'Rex', missing: null}) RETURN p.name") == []


def test_match_on_empty_graph(db):
    assert rows(db, "MATCH (n) RETURN n") == []


def test_where_conditions(people):
    query = "MATCH (p:Person) WHERE p.age > 26 AND NOT p.name STARTS WITH 'C' RETURN p.name"
    assert rows(people, query) == [("Ann",)]
    assert sorted(rows(people, "MATCH (p:Person) WHERE p.age < 28 OR p.name = 'Cy' RETURN p.name")) == [("Bob",), ("Cy",)]


def test_where_on_relationship(people):
    query = "MATCH (a)-[r:KNOWS]->(b) WHERE r.since > 2012 RETURN a.name, b.name"
    assert rows(people, query) == [("Bob", "Cy")]


def test_where_by_id(people):
    gid = value(people, "MATCH (p:Person {name: 'Cy'}) RETURN id(p) AS i")
    assert rows(people, "MATCH (p) WHERE id(p) = $i RETURN p.name", {"i": gid}) == [("Cy",)]
    assert rows(people, "MATCH (p) WHERE id(p) = -1 RETURN p") == []


def test_optional_match(people):
    query = "MATCH (p:Person) OPTIONAL MATCH (p)-[:OWNS]->(d) RETURN p.name, d.name ORDER BY p.name"
    assert rows(people, query) == [("Ann", "Rex"), ("Bob", None), ("Cy", None)]


def test_optional_match_alone_gives_one_null_row(db):
    assert rows(db, "OPTIONAL MATCH (n:Nothing) RETURN n") == [(None,)]


def test_optional_match_then_expand_from_null(people):
    query = "OPTIONAL MATCH (n:Nothing) OPTIONAL MATCH (n)-[r]->(m) RETURN n, r, m"
    assert rows(people, query) == [(None, None, None)]


def test_with_projection_and_where(people):
    query = "MATCH (p:Person) WITH p.name AS name, p.age AS age WHERE age >= 30 RETURN name ORDER BY name"
    assert rows(people, query) == [("Ann",), ("Cy",)]


def test_with_hides_variables_not_carried(people):
    with pytest.raises(CypherSemanticError, match="`p`"):
        people.execute("MATCH (p:Person) WITH p.name AS name RETURN p")


def test_with_star_keeps_everything(people):
    assert rows(people, "MATCH (p:Person {name: 'Ann'}) WITH *, 1 AS one RETURN p.name, one") == [("Ann", 1)]


def test_with_order_by_limit(people):
    query = "MATCH (p:Person) WITH p ORDER BY p.age DESC LIMIT 2 RETURN p.name"
    assert rows(people, query) == [("Cy",), ("Ann",)]


def test_with_distinct(db):
    assert rows(db, "UNWIND [1, 1, 2] AS x WITH DISTINCT x RETURN x ORDER BY x") == [(1,), (2,)]


def test_with_unaliased_expression_is_rejected(db):
    with pytest.raises(CypherSemanticError, match="alias"):
        db.execute("WITH 1 + 1 RETURN 1")


def test_unwind(db):
    assert rows(db, "UNWIND [1, 2, 3] AS x RETURN x * 2") == [(2,), (4,), (6,)]
    assert rows(db, "UNWIND [] AS x RETURN x") == []
    assert rows(db, "UNWIND null AS x RETURN x") == []
    assert rows(db, "UNWIND [[1, 2], [3]] AS l UNWIND l AS x RETURN x") == [(1,), (2,), (3,)]
    assert rows(db, "WITH [1, null] AS l UNWIND l AS x RETURN x") == [(1,), (None,)]


def test_unwind_of_a_scalar_is_one_row(db):
    assert rows(db, "UNWIND 5 AS x RETURN x") == [(5,)]


def test_unwind_redeclared_variable(db):
    with pytest.raises(CypherSemanticError, match="already declared"):
        db.execute("WITH 1 AS x UNWIND [1] AS x RETURN x")


def test_unwind_cartesian(db):
    assert rows(db, "UNWIND [1, 2] AS x UNWIND ['a', 'b'] AS y RETURN x, y") == [(1, "a"), (1, "b"), (2, "a"), (2, "b")]


def test_order_by_not_returned_expression(people):
    assert rows(people, "MATCH (p:Person) RETURN p.name ORDER BY p.age") == [("Bob",), ("Ann",), ("Cy",)]


def test_order_by_alias_and_multiple_keys(db):
    query = "UNWIND [[1, 'b'], [2, 'a'], [1, 'a']] AS r RETURN r[0] AS n, r[1] AS s ORDER BY n DESC, s"
    assert rows(db, query) == [(2, "a"), (1, "a"), (1, "b")]


def test_order_by_after_distinct_must_use_projected(db):
    assert rows(db, "UNWIND [3, 1, 3, 2] AS x RETURN DISTINCT x ORDER BY x") == [(1,), (2,), (3,)]


def test_skip_limit(db):
    assert rows(db, "UNWIND range(1, 10) AS x RETURN x SKIP 2 LIMIT 3") == [(3,), (4,), (5,)]
    assert rows(db, "UNWIND range(1, 3) AS x RETURN x LIMIT 0") == []
    assert rows(db, "UNWIND range(1, 3) AS x RETURN x SKIP 5") == []


@pytest.mark.parametrize("clause", ["LIMIT -1", "SKIP -1", "LIMIT 1.5", "LIMIT 'a'"])
def test_bad_skip_limit(db, clause):
    with pytest.raises((CypherSemanticError, CypherSyntaxError)):
        db.execute(f"UNWIND [1] AS x RETURN x {clause}")


def test_return_must_be_last(db):
    with pytest.raises((CypherSemanticError, CypherSyntaxError)):
        db.execute("RETURN 1 AS x MATCH (n) RETURN n")


def test_query_cannot_end_with_match(db):
    with pytest.raises((CypherSemanticError, CypherSyntaxError)):
        db.execute("MATCH (n)")


def test_duplicate_column_names_rejected(db):
    with pytest.raises(CypherSemanticError):
        db.execute("RETURN 1 AS x, 2 AS x")


def test_match_after_with_uses_bound_node(people):
    query = "MATCH (a:Person {name: 'Ann'}) WITH a MATCH (a)-[:KNOWS]->(b) RETURN b.name"
    assert rows(people, query) == [("Bob",)]


def test_multiple_match_clauses_cartesian(people):
    assert value(people, "MATCH (a:Person) MATCH (d:Dog) RETURN count(*) AS c") == 3


def test_match_repeated_variable_in_later_clause_filters(people):
    query = "MATCH (a:Person) MATCH (a:Person {age: 25}) RETURN a.name"
    assert rows(people, query) == [("Bob",)]


def test_nodes_created_in_transaction_are_visible(db):
    with db.transaction() as tx:
        tx.execute("CREATE (:T {v: 1})")
        assert tx.execute("MATCH (t:T) RETURN t.v").rows == [(1,)]
    assert rows(db, "MATCH (t:T) RETURN t.v") == [(1,)]


def test_syntax_error_has_position(db):
    with pytest.raises(CypherSyntaxError, match="line 1"):
        db.execute("MATCH (n RETURN n")


def test_timeout_stops_a_long_query(db):
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        db.execute("UNWIND range(1, 300) AS x UNWIND range(1, 300) AS y UNWIND range(1, 300) AS z RETURN count(*)", timeout=0.05)
    assert time.monotonic() - started < 2


def test_a_statement_that_overruns_its_timeout_is_rolled_back(db):
    # The deadline is checked when the statement ends, not only every 1024 rows.
    with pytest.raises(QueryTimeout):
        db.execute("CREATE (:N)", timeout=1e-9)
    assert value(db, "MATCH (n) RETURN count(n) AS c") == 0


def test_interrupt_cancels_a_query_and_rolls_it_back(db):
    cancelled = threading.Event()
    cancelled.set()
    with pytest.raises(QueryInterrupted):
        db.execute("UNWIND range(1, 10) AS x CREATE (:N)", interrupt=cancelled)
    assert value(db, "MATCH (n) RETURN count(n) AS c") == 0


def test_cached_plan_is_shared_safely_between_threads(db):
    db.execute("UNWIND range(1, 60) AS i CREATE (:P {i: i})-[:R]->(:Q {i: i * 2})")
    query = (
        "MATCH (p:P)-[:R]->(q) WHERE p.i % $m = 0 "
        "RETURN p.i % 7 AS k, sum(q.i) AS s, collect([x IN range(1, p.i % 5) | x * $m]) AS l ORDER BY k"
    )
    expected = {m: db.execute(query, {"m": m}).rows for m in range(1, 5)}
    mismatches = []

    def work(m):
        for _ in range(10):
            if db.execute(query, {"m": m}).rows != expected[m]:
                mismatches.append(m)

    threads = [threading.Thread(target=work, args=(m,)) for m in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mismatches == []

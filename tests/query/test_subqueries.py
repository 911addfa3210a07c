"""CALL { } subqueries (importing WITH, CALL (x) { }, unit subqueries, UNION
inside), CALL { } IN TRANSACTIONS, FOREACH, and COUNT { }, COLLECT { } and
EXISTS { } around whole queries."""

import pytest
from cypher_helpers import rows, value

import weftdb
from weftdb.basics.errors import (
    CypherSemanticError,
    CypherTypeError,
    ImplicitTransactionRequired,
    SerializationError,
)

# -- CALL { } ------------------------------------------------------------------------------


def test_correlated_subquery_with_importing_with_multiplies_rows(db):
    got = rows(db, "UNWIND [1, 2, 3] AS x CALL { WITH x UNWIND range(1, x) AS y RETURN y } RETURN x, y")
    assert got == [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]


def test_an_empty_subquery_result_drops_the_outer_row(db):
    got = rows(db, "UNWIND [0, 1, 2] AS x CALL { WITH x UNWIND range(1, x) AS y RETURN y } RETURN DISTINCT x")
    assert got == [(1,), (2,)]


@pytest.mark.parametrize("call", ["CALL (x) {", "CALL (*) {", "CALL { WITH *", "CALL { WITH x"])
def test_ways_to_import(db, call):
    assert rows(db, f"UNWIND [1, 2] AS x {call} RETURN x * 10 AS y }} RETURN x, y") == [(1, 10), (2, 20)]


def test_uncorrelated_subquery_does_not_see_outer_variables(db):
    with pytest.raises(CypherSemanticError, match="`x`"):
        db.execute("WITH 1 AS x CALL { RETURN x AS y } RETURN y")
    with pytest.raises(CypherSemanticError, match="`x`"):
        db.execute("WITH 1 AS x CALL () { RETURN x AS y } RETURN y")
    assert rows(db, "UNWIND [1, 2] AS x CALL { RETURN 'once' AS y } RETURN x, y") == [(1, "once"), (2, "once")]


def test_importing_what_is_not_defined_and_returning_what_is(db):
    with pytest.raises(CypherSemanticError, match="`nope` not defined"):
        db.execute("CALL (nope) { RETURN 1 AS y } RETURN y")
    with pytest.raises(CypherSemanticError, match="`x` already declared in outer scope"):
        db.execute("WITH 1 AS x CALL { RETURN 2 AS x } RETURN x")


def test_aggregation_inside_is_per_outer_row(db):
    db.execute("CREATE (a:P {n: 'a'})-[:K]->(:P {n: 'b'}), (a)-[:K]->(:P {n: 'c'})")
    got = rows(db, "MATCH (p:P) CALL { WITH p MATCH (p)-[:K]->(f) RETURN count(f) AS friends } "
                   "RETURN p.n, friends ORDER BY p.n")
    assert got == [("a", 2), ("b", 0), ("c", 0)]


def test_union_inside_imports_per_part(db):
    query = ("UNWIND [1, 2] AS x CALL { WITH x RETURN x + 1 AS y UNION WITH x RETURN x + 1 AS y "
             "UNION ALL WITH x RETURN x * 10 AS y } RETURN x, y")
    with pytest.raises(CypherSemanticError, match="Mixing UNION"):
        db.execute(query)
    got = rows(db, "UNWIND [1, 2] AS x CALL (x) { RETURN x + 1 AS y UNION RETURN x + 1 AS y UNION RETURN 0 AS y } "
                   "RETURN x, y ORDER BY x, y")
    assert got == [(1, 0), (1, 2), (2, 0), (2, 3)]


def test_unit_subquery_keeps_the_rows_and_writes(db):
    got = rows(db, "UNWIND [1, 2, 3] AS x CALL { WITH x CREATE (:U {x: x}) } RETURN x")
    assert got == [(1,), (2,), (3,)]
    assert rows(db, "MATCH (u:U) RETURN u.x ORDER BY u.x") == [(1,), (2,), (3,)]
    assert db.execute("UNWIND [4] AS x CALL { WITH x CREATE (:U {x: x}) }").counters["nodes-created"] == 1


def test_each_run_sees_the_writes_of_the_runs_before(db):
    db.execute("CREATE (:Counter {n: 0})")
    got = rows(db, "UNWIND [1, 2, 3] AS x CALL { MATCH (c:Counter) SET c.n = c.n + 1 RETURN c.n AS n } RETURN x, n")
    assert got == [(1, 1), (2, 2), (3, 3)]


def test_writing_subquery_is_eager_so_later_clauses_see_all_its_writes(db):
    got = rows(db, "UNWIND [1, 2] AS x CALL { CREATE (:E) } WITH x MATCH (e:E) RETURN x, count(e) ORDER BY x")
    assert got == [(1, 2), (2, 2)]


def test_a_query_cannot_end_with_a_returning_subquery(db):
    with pytest.raises(CypherSemanticError, match="CALL"):
        db.execute("CALL { RETURN 1 AS x }")


# -- IN TRANSACTIONS -------------------------------------------------------------------------


def test_in_transactions_commits_batches_and_a_failure_keeps_those_before(tmp_path):
    path = str(tmp_path / "data")
    with weftdb.open(path) as db:
        query = ("UNWIND range(1, 25) AS i CALL { WITH i CREATE (:T {i: i, inv: 1 / (20 - i)}) } "
                 "IN TRANSACTIONS OF 7 ROWS")
        with pytest.raises(weftdb.CypherArithmeticError):
            db.execute(query)  # row 20 divides by zero: its batch (15-21) rolls back
        assert value(db, "MATCH (t:T) RETURN max(t.i)") == 14
    with weftdb.open(path) as db:  # each batch was its own durable commit
        assert value(db, "MATCH (t:T) RETURN count(t)") == 14


def test_in_transactions_counts_everything_and_the_rest_of_the_statement_sees_the_batches(db):
    result = db.execute("UNWIND range(1, 10) AS i CALL { WITH i CREATE (n:B {i: i}) RETURN n } IN TRANSACTIONS OF 3 ROWS "
                        "RETURN n.i AS i, COUNT { MATCH (:B) } AS seen")
    assert result.counters["nodes-created"] == 10
    assert [i for i, _ in result.rows] == list(range(1, 11))
    assert [seen for _, seen in result.rows] == [3, 3, 3, 6, 6, 6, 9, 9, 9, 10]  # read committed between batches


def test_in_transactions_deletes_what_the_outer_query_matched(db):
    db.execute("UNWIND range(1, 30) AS i CREATE (:Temp {i: i})-[:R]->(:Other)")
    result = db.execute("MATCH (t:Temp) CALL { WITH t DETACH DELETE t } IN TRANSACTIONS OF 10 ROWS")
    assert result.counters["nodes-deleted"] == 30 and result.counters["relationships-deleted"] == 30
    assert value(db, "MATCH (t:Temp) RETURN count(t)") == 0
    db.execute("MATCH (a) CALL { WITH a DETACH DELETE a } IN TRANSACTIONS OF 5000 ROWS")  # neomodel's
    assert value(db, "MATCH (n) RETURN count(n)") == 0


def test_in_transactions_is_refused_in_an_explicit_transaction_with_neo4js_message(db):
    with db.transaction() as tx, pytest.raises(ImplicitTransactionRequired) as error:
        tx.execute("UNWIND [1] AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS")
    assert "can only be executed in an implicit transaction" in str(error.value)
    assert error.value.code == "Neo.DatabaseError.Transaction.TransactionStartFailed"
    assert value(db, "MATCH (x:X) RETURN count(x)") == 0
    assert db.execute("EXPLAIN UNWIND [1] AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS").rows


@pytest.mark.parametrize("query, message", [
    ("CREATE (:A) WITH 1 AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS", "only inside the subquery"),
    ("UNWIND [1] AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS CREATE (:Y)", "only inside the subquery"),
    ("UNWIND [1] AS i CALL { WITH i CALL { CREATE (:X) } IN TRANSACTIONS }", "cannot be nested"),
    ("UNWIND [1] AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS REPORT STATUS AS s RETURN s", "ON ERROR"),
])
def test_in_transactions_misuse(db, query, message):
    with pytest.raises(CypherSemanticError, match=message):
        db.execute(query)


def test_batch_size_must_be_positive(db):
    with pytest.raises(CypherSemanticError, match="positive"):
        db.execute("UNWIND [1] AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS OF 0 ROWS")
    assert db.execute("UNWIND range(1, 5) AS i CALL { WITH i CREATE (:X) } IN TRANSACTIONS OF $n ROWS",
                      {"n": 2}).counters["nodes-created"] == 5


def test_on_error_continue_and_break_report_status(db):
    query = ("UNWIND [1, 2, 0, 4, 5] AS i CALL { WITH i CREATE (n:C {v: 10 / i}) RETURN n.v AS v } "
             "IN TRANSACTIONS OF 2 ROWS ON ERROR {mode} REPORT STATUS AS s RETURN i, v, s.committed AS ok, "
             "s.errorMessage IS NOT NULL AS failed, s.started AS started")
    got = rows(db, query.replace("{mode}", "CONTINUE"))
    assert got == [(1, 10, True, False, True), (2, 5, True, False, True), (0, None, False, True, True),
                   (4, None, False, True, True), (5, 2, True, False, True)]
    assert value(db, "MATCH (n:C) RETURN count(n)") == 3
    db.execute("MATCH (n:C) DELETE n")
    got = rows(db, query.replace("{mode}", "BREAK"))
    assert got == [(1, 10, True, False, True), (2, 5, True, False, True), (0, None, False, True, True),
                   (4, None, False, True, True), (5, None, False, False, False)]
    assert value(db, "MATCH (n:C) RETURN count(n)") == 2


def test_concurrent_transactions_are_accepted_and_run_in_turn(db):
    result = db.execute("UNWIND range(1, 9) AS i CALL { WITH i CREATE (:K) } IN 3 CONCURRENT TRANSACTIONS OF 2 ROWS")
    assert result.counters["nodes-created"] == 9


@pytest.mark.versions
def test_in_transactions_commits_while_another_transaction_holds_a_node(db):
    db.execute("CREATE (:Held {v: 0})")
    with db.transaction() as other:
        other.execute("MATCH (h:Held) SET h.v = 1")
        with pytest.raises(SerializationError):
            db.execute("MATCH (h:Held) CALL { WITH h SET h.v = 2 } IN TRANSACTIONS")
        other.rollback()


# -- FOREACH -----------------------------------------------------------------------------------


def test_foreach_runs_updates_per_item_and_keeps_rows(db):
    result = db.execute("UNWIND [1, 2] AS x FOREACH (y IN [x, x * 10] | CREATE (:F {v: y})) RETURN x")
    assert result.rows == [(1,), (2,)]
    assert rows(db, "MATCH (f:F) RETURN f.v ORDER BY f.v") == [(1,), (2,), (10,), (20,)]


def test_nested_foreach_with_merge_set_and_delete(db):
    db.execute("CREATE (:G {k: 1}), (:G {k: 2})")
    db.execute("MATCH (g:G) WITH collect(g) AS gs "
               "FOREACH (g IN gs | SET g.seen = true FOREACH (t IN ['a', 'b'] | MERGE (:Tag {name: t})))")
    assert rows(db, "MATCH (g:G) RETURN g.seen") == [(True,), (True,)]
    assert value(db, "MATCH (t:Tag) RETURN count(t)") == 2
    db.execute("MATCH (t:Tag) WITH collect(t) AS ts FOREACH (t IN ts | DELETE t)")
    assert value(db, "MATCH (t:Tag) RETURN count(t)") == 0


def test_foreach_over_null_does_nothing_and_over_a_non_list_fails(db):
    assert db.execute("FOREACH (x IN null | CREATE (:N))").counters.get("nodes-created", 0) == 0
    with pytest.raises(CypherTypeError, match="FOREACH needs a LIST"):
        db.execute("FOREACH (x IN 1 | CREATE (:N))")


def test_foreach_variables_stay_inside(db):
    with pytest.raises(CypherSemanticError, match="`y`"):
        db.execute("FOREACH (y IN [1] | CREATE (:N {v: y})) RETURN y")
    with pytest.raises(CypherSemanticError, match="already declared"):
        db.execute("WITH 1 AS y FOREACH (y IN [1] | CREATE (:N))")


def test_foreach_over_a_path_sets_its_nodes(db):
    db.execute("CREATE (:S {i: 1})-[:N]->(:S {i: 2})-[:N]->(:S {i: 3})")
    db.execute("MATCH p = (:S {i: 1})-[:N*]->(:S {i: 3}) FOREACH (n IN nodes(p) | SET n.on = true)")
    assert value(db, "MATCH (s:S) WHERE s.on RETURN count(s)") == 3


# -- COUNT { }, COLLECT { }, EXISTS { } -----------------------------------------------------------


@pytest.fixture
def friends(db):
    db.execute("CREATE (a:P {n: 'a', age: 30})-[:K]->(:P {n: 'b', age: 20}), (a)-[:K]->(:P {n: 'c', age: 40}), "
               "(:P {n: 'd', age: 50})")
    return db


def test_count_subquery_forms(friends):
    got = rows(friends, "MATCH (p:P) RETURN p.n, COUNT { (p)-[:K]->() } AS all, "
                        "COUNT { (p)-[:K]->(f) WHERE f.age > 25 } AS older, "
                        "COUNT { MATCH (p)-[:K]->(f) RETURN f.n UNION MATCH (p)-[:K]->(f) RETURN f.n } AS names "
                        "ORDER BY p.n")
    assert got == [("a", 2, 1, 2), ("b", 0, 0, 0), ("c", 0, 0, 0), ("d", 0, 0, 0)]
    assert rows(friends, "MATCH (p:P) WHERE COUNT { (p)-->() } > 1 RETURN p.n") == [("a",)]


def test_collect_subquery(friends):
    got = value(friends, "MATCH (p:P {n: 'a'}) RETURN COLLECT { MATCH (p)-[:K]->(f) RETURN f.n ORDER BY f.n DESC }")
    assert got == ["c", "b"]
    with pytest.raises(CypherSemanticError, match="exactly one column"):
        friends.execute("MATCH (p:P) RETURN COLLECT { MATCH (p)-->(f) RETURN f.n, f.age }")
    with pytest.raises(Exception, match="RETURN"):
        friends.execute("MATCH (p:P) RETURN COLLECT { (p)-->(f) }")


def test_exists_subquery_full_forms(friends):
    got = rows(friends, "MATCH (p:P) WHERE EXISTS { MATCH (p)-[:K]->(f) WHERE f.age > 35 RETURN f } RETURN p.n")
    assert got == [("a",)]
    got = rows(friends, "MATCH (p:P) RETURN p.n, EXISTS { MATCH (p)-->(f) WITH f WHERE f.age < 25 RETURN f.n } AS y "
                        "ORDER BY p.n")
    assert got == [("a", True), ("b", False), ("c", False), ("d", False)]
    assert rows(friends, "MATCH (p:P) WHERE EXISTS { (p)-[:K]->(f) WHERE f.n = 'b' } RETURN p.n") == [("a",)]
    assert rows(friends, "MATCH (p:P) WHERE NOT EXISTS { MATCH (p)--() } RETURN p.n") == [("d",)]


def test_subquery_expressions_cannot_write(friends):
    with pytest.raises(CypherSemanticError, match="updating"):
        friends.execute("MATCH (p:P) RETURN COUNT { MATCH (p)-->(f) CREATE (:X) }")


def test_a_subquery_run_over_many_rows_at_once_keeps_each_rows_meaning(db):
    # A unit subquery with a write, read after it: eager, every row sees every write.
    assert rows(db, "UNWIND range(1, 3000) AS x CALL (x) { CREATE (:N {v: x}) } WITH x MATCH (n:N) "
                    "WITH x, count(n) AS c RETURN min(c), max(c)") == [(3000, 3000)]
    # Not read after: it streams in chunks, and every row passes on once.
    assert rows(db, "UNWIND range(1, 3000) AS x CALL (x) { CREATE (:M {v: x}) } RETURN count(*), sum(x)") == [
        (3000, 4501500)]
    assert rows(db, "MATCH (m:M) RETURN count(m), sum(m.v)") == [(3000, 4501500)]
    # MERGE sees the rows before it in the same chunk.
    assert rows(db, "UNWIND range(1, 2500) AS x CALL (x) { MERGE (:K {v: x % 7}) } RETURN count(*)") == [(2500,)]
    assert rows(db, "MATCH (k:K) RETURN count(k)") == [(7,)]
    # A read-only subquery's rows stay grouped by the outer row, in its order.
    assert rows(db, "UNWIND [3, 1, 2] AS x CALL (x) { UNWIND range(1, x) AS y RETURN y } RETURN x, y") == [
        (3, 1), (3, 2), (3, 3), (1, 1), (2, 1), (2, 2)]

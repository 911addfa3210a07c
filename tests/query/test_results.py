"""What comes back: graph values, temporal values, column names, RETURN *,
UNION, SKIP/LIMIT, ORDER BY over mixed types, DISTINCT, Result helpers."""

import datetime as dt

import pytest
from cypher_helpers import rows, same, value

import weftdb
from weftdb.basics.errors import CypherSemanticError
from weftdb.basics.temporal import Date

# -- graph values ------------------------------------------------------------------------------


def test_node_value(db):
    node = value(db, "CREATE (n:A:B {name: 'Ann', n: 1}) RETURN n")
    assert isinstance(node, weftdb.Node)
    assert node.labels == frozenset({"A", "B"})
    assert node.properties == {"name": "Ann", "n": 1}
    assert node["name"] == "Ann" and node.get("missing") is None
    assert isinstance(node.id, int)
    assert value(db, "MATCH (n:A) RETURN n") == node
    assert value(db, "MATCH (n:A) RETURN id(n) AS i") == node.id


def test_node_value_is_a_copy(db):
    node = value(db, "CREATE (n:A {v: 1}) RETURN n")
    db.execute("MATCH (n:A) SET n.v = 2")
    assert node["v"] == 1
    assert value(db, "MATCH (n:A) RETURN n")["v"] == 2


def test_relationship_value(db):
    a, r, b = rows(db, "CREATE (a:A)-[r:KNOWS {since: 2020}]->(b:B) RETURN a, r, b")[0]
    assert isinstance(r, weftdb.Relationship)
    assert r.type == "KNOWS" and r.properties == {"since": 2020} and r["since"] == 2020
    assert (r.start_node_id, r.end_node_id) == (a.id, b.id)
    assert value(db, "MATCH ()<-[r]-() RETURN r") == r


def test_path_value(db):
    db.execute("CREATE (:A {n: 1})-[:R]->(:B {n: 2})<-[:S]-(:C {n: 3})")
    path = value(db, "MATCH p = (:A)-[:R]->(:B)<-[:S]-(:C) RETURN p")
    assert isinstance(path, weftdb.Path) and len(path) == 2
    assert [n["n"] for n in path.nodes] == [1, 2, 3]
    assert [r.type for r in path.relationships] == ["R", "S"]
    assert path == value(db, "MATCH p = (:A)-->()<--() RETURN p")


def test_graph_values_inside_lists_and_maps(db):
    db.execute("CREATE (:A {n: 1}), (:A {n: 2})")
    nodes, m = rows(db, "MATCH (a:A) WITH a ORDER BY a.n RETURN collect(a) AS l, {first: collect(a)[0]} AS m")[0]
    assert [n["n"] for n in nodes] == [1, 2] and all(isinstance(n, weftdb.Node) for n in nodes)
    assert isinstance(m["first"], weftdb.Node) and m["first"]["n"] == 1


def test_graph_functions(db):
    db.execute("CREATE (:A {x: 1, y: 2})-[:R {w: 1}]->(:B)")
    result = rows(db, "MATCH p = (a)-[r]->(b) RETURN labels(a), keys(a), type(r), properties(r), "
                      "startNode(r) = a, endNode(r) = b, length(p), size(nodes(p)), size(relationships(p))")
    assert result == [(["A"], ["x", "y"], "R", {"w": 1}, True, True, 1, 2, 1)]
    assert rows(db, "OPTIONAL MATCH (n:None) RETURN labels(n), id(n), properties(n)") == [(None, None, None)]


# -- temporal values ------------------------------------------------------------------------------


def test_temporal_values(db):
    d, t, ldt, zdt, du = rows(db, "RETURN date('2024-01-02'), localtime('12:30'), localdatetime('2024-01-02T03:04'), "
                                  "datetime('2024-01-02T03:04:05Z'), duration('P1DT2H')")[0]
    assert d == dt.date(2024, 1, 2) and t == dt.time(12, 30) and ldt == dt.datetime(2024, 1, 2, 3, 4)
    assert zdt == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    assert isinstance(du, weftdb.Duration) and du == weftdb.Duration(0, 1, 7200)


def test_temporal_properties_stored_and_compared(db):
    db.execute("UNWIND ['2024-03-01', '2023-12-31', '2024-01-15'] AS s CREATE (:E {on: date(s)})")
    assert rows(db, "MATCH (e:E) WHERE e.on >= date('2024-01-01') RETURN e.on.month ORDER BY e.on") == [(1,), (3,)]
    assert value(db, "MATCH (e:E) RETURN min(e.on) AS m") == dt.date(2023, 12, 31)
    assert value(db, "RETURN date('2024-01-31') + duration('P1M') AS x") == dt.date(2024, 2, 29)
    assert value(db, "RETURN $d AS x", {"d": dt.date(2020, 2, 2)}) == dt.date(2020, 2, 2)


# -- columns --------------------------------------------------------------------------------------


def test_column_names(db):
    db.execute("CREATE (:P {name: 'Ann'})")
    result = db.execute("MATCH (n:P) RETURN n.name, n.name AS alias, 1 + 1, toUpper(n.name), count(*)")
    assert result.columns == ["n.name", "alias", "1 + 1", "toUpper(n.name)", "count(*)"]
    assert result.data() == [{"n.name": "Ann", "alias": "Ann", "1 + 1": 2, "toUpper(n.name)": "ANN", "count(*)": 1}]


def test_column_name_keeps_original_text(db):
    assert db.execute("RETURN 1+1, 'a'   + 'b', [1,2][0]").columns == ["1+1", "'a'   + 'b'", "[1,2][0]"]


def test_backquoted_alias(db):
    assert db.execute("RETURN 1 AS `my col`").columns == ["my col"]


def test_return_star(db):
    db.execute("CREATE (:P {name: 'Ann'})-[:R]->()")
    result = db.execute("MATCH (p:P)-[r]->(x) WITH p.name AS name, 1 AS b RETURN *")
    assert result.columns == ["b", "name"] and result.rows == [(1, "Ann")]
    result = db.execute("MATCH (p:P)-[r]->() RETURN *")
    assert result.columns == ["p", "r"]
    assert db.execute("WITH 1 AS a RETURN *, 2 AS z").columns == ["a", "z"]


def test_return_star_without_variables_fails(db):
    with pytest.raises(CypherSemanticError):
        db.execute("MATCH () RETURN *")


def test_result_helpers(db):
    result = db.execute("UNWIND [1, 2] AS x RETURN x, x * 2 AS y")
    assert list(result) == [(1, 2), (2, 4)] and len(result) == 2
    with pytest.raises(ValueError):
        result.single()
    assert result.query_type == "r" and result.counters == {}


# -- UNION ----------------------------------------------------------------------------------------


def test_union_removes_duplicates(db):
    assert rows(db, "RETURN 1 AS x UNION RETURN 1 AS x UNION RETURN 2 AS x") == [(1,), (2,)]
    assert rows(db, "UNWIND [1, 1] AS x RETURN x UNION RETURN 1 AS x") == [(1,)]
    assert rows(db, "RETURN 1 AS x UNION RETURN 1.0 AS x") == [(1,)]


def test_union_all_keeps_duplicates(db):
    assert rows(db, "RETURN 1 AS x UNION ALL RETURN 1 AS x UNION ALL RETURN 2 AS x") == [(1,), (1,), (2,)]


def test_union_over_graph(db):
    db.execute("CREATE (:A {n: 'a'}), (:B {n: 'b'}), (:B {n: 'a'})")
    result = db.execute("MATCH (a:A) RETURN a.n AS n UNION MATCH (b:B) RETURN b.n AS n")
    assert result.columns == ["n"] and sorted(result.rows) == [("a",), ("b",)]


def test_union_with_different_columns_fails(db):
    with pytest.raises(CypherSemanticError):
        db.execute("RETURN 1 AS x UNION RETURN 2 AS y")


def test_union_mixing_all_and_distinct_fails(db):
    with pytest.raises(CypherSemanticError):
        db.execute("RETURN 1 AS x UNION ALL RETURN 1 AS x UNION RETURN 2 AS x")


# -- ordering, paging and DISTINCT -------------------------------------------------------------------


MIXED = "[1, 'a', null, [1], {a: 1}, true, 1.5, date('2024-01-01'), false, 'B', [0, 1], -1]"


def test_order_by_mixed_types_ascending(db):
    result = [r[0] for r in rows(db, f"UNWIND {MIXED} AS x RETURN x ORDER BY x")]
    expected = [{"a": 1}, [0, 1], [1], Date(2024, 1, 1), "B", "a", False, True, -1, 1, 1.5, None]
    assert all(same(a, e) for a, e in zip(result, expected)) and len(result) == len(expected)


def test_order_by_mixed_types_descending(db):
    result = [r[0] for r in rows(db, f"UNWIND {MIXED} AS x RETURN x ORDER BY x DESC")]
    expected = [None, 1.5, 1, -1, True, False, "a", "B", Date(2024, 1, 1), [1], [0, 1], {"a": 1}]
    assert all(same(a, e) for a, e in zip(result, expected)) and len(result) == len(expected)


def test_order_by_numbers_mix_int_float_and_nan(db):
    result = [r[0] for r in rows(db, "UNWIND [3, 1.5, 0.0 / 0.0, -2, 2] AS x RETURN x ORDER BY x")]
    assert result[:4] == [-2, 1.5, 2, 3] and result[4] != result[4]


def test_order_by_nodes_and_null_properties(db):
    db.execute("CREATE (:P {n: 'b'}), (:P {n: 'a'}), (:P)")
    assert rows(db, "MATCH (p:P) RETURN p.n ORDER BY p.n") == [("a",), ("b",), (None,)]
    assert rows(db, "MATCH (p:P) RETURN p.n ORDER BY p.n DESC") == [(None,), ("b",), ("a",)]


def test_order_by_is_stable_across_keys(db):
    query = "UNWIND [[2, 'x'], [1, 'y'], [2, 'a'], [1, 'b']] AS r RETURN r[0] AS k, r[1] AS v ORDER BY k DESC, v ASC"
    assert rows(db, query) == [(2, "a"), (2, "x"), (1, "b"), (1, "y")]


def test_skip_and_limit_with_order(db):
    query = "UNWIND range(10, 1, -1) AS x RETURN x ORDER BY x SKIP 3 LIMIT 4"
    assert rows(db, query) == [(4,), (5,), (6,), (7,)]


def test_limit_with_expression(db):
    assert rows(db, "UNWIND range(1, 10) AS x RETURN x LIMIT 1 + 1") == [(1,), (2,)]


def test_distinct_over_mixed_and_structured_values(db):
    result = rows(db, "UNWIND [1, 1.0, '1', [1], [1.0], {a: 1}, {a: 1}, null, null] AS x RETURN DISTINCT x")
    assert len(result) == 5


def test_distinct_on_nodes(db):
    db.execute("CREATE (a:A)-[:R]->(:B), (a)-[:R]->(:B)")
    assert value(db, "MATCH (a:A)-->() RETURN count(DISTINCT a) AS c") == 1
    assert len(rows(db, "MATCH (a:A)-->() RETURN DISTINCT a")) == 1


def test_distinct_with_several_columns(db):
    assert rows(db, "UNWIND [[1, 2], [1, 2], [2, 1]] AS r RETURN DISTINCT r[0] AS a, r[1] AS b") == [(1, 2), (2, 1)]


def test_order_by_graph_values_and_temporals_among_other_types(db):
    db.execute("CREATE (:A)-[:R]->(:B)")
    query = (
        "MATCH p = (a:A)-[r:R]->(b) "
        "UNWIND [true, duration('P1D'), 'a', localtime('12:00'), time('12:00Z'), date('2024-01-01'), "
        "localdatetime('2024-01-01T00:00'), datetime('2024-01-01T00:00Z'), p, [1], r, a, {x: 1}, 1, null] AS x "
        "RETURN x ORDER BY x"
    )
    kinds = [type(x).__name__ for (x,) in rows(db, query)]
    assert kinds == ["dict", "Node", "Relationship", "list", "Path", "DateTime", "LocalDateTime", "Date", "Time",
                     "LocalTime", "Duration", "str", "bool", "int", "NoneType"]

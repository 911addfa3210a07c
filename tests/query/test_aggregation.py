"""Aggregation: the aggregate functions, grouping keys, empty input, DISTINCT,
ORDER BY on aggregates and aggregation in WITH (openCypher TCK Aggregation*)."""

import math

import pytest
from cypher_helpers import rows, same, value

from weftdb.basics.errors import CypherArgumentError, CypherSemanticError


@pytest.fixture
def scores(db):
    db.execute(
        "UNWIND [['Ann', 'red', 10], ['Bob', 'red', 20], ['Cy', 'blue', 30], ['Di', 'blue', null], ['Ed', 'green', 5]] AS r "
        "CREATE (:P {name: r[0], team: r[1], score: r[2]})"
    )
    return db


@pytest.mark.parametrize("expr, expected", [
    ("count(x)", 3), ("count(*)", 4), ("count(DISTINCT x)", 2), ("sum(x)", 5), ("avg(x)", 5 / 3),
    ("min(x)", 1), ("max(x)", 3), ("collect(x)", [1, 1, 3]), ("collect(DISTINCT x)", [1, 3]),
    ("sum(DISTINCT x)", 4),
])
def test_aggregates_skip_nulls(db, expr, expected):
    assert same(value(db, f"UNWIND [1, null, 1, 3] AS x RETURN {expr} AS a"), expected)


@pytest.mark.parametrize("expr, expected", [
    ("count(x)", 0), ("count(*)", 0), ("sum(x)", 0), ("avg(x)", None), ("min(x)", None), ("max(x)", None),
    ("collect(x)", []), ("stDev(x)", 0.0), ("stDevP(x)", 0.0), ("percentileCont(x, 0.5)", None),
    ("percentileDisc(x, 0.5)", None),
])
def test_aggregation_over_empty_input_gives_one_row(db, expr, expected):
    assert same(value(db, f"UNWIND [] AS x RETURN {expr} AS a"), expected)
    assert same(value(db, f"MATCH (n:Nothing) WITH n.v AS x RETURN {expr} AS a"), expected)


def test_grouped_aggregation_over_empty_input_gives_no_rows(db):
    assert rows(db, "MATCH (n:Nothing) RETURN n.k, count(*)") == []


def test_only_nulls(db):
    assert rows(db, "UNWIND [null, null] AS x RETURN count(x), sum(x), avg(x), min(x), collect(x), count(*)") == [
        (0, 0, None, None, [], 2)]


def test_sum_and_avg_types(db):
    assert same(value(db, "UNWIND [1, 2] AS x RETURN sum(x) AS s"), 3)
    assert same(value(db, "UNWIND [1, 2.5] AS x RETURN sum(x) AS s"), 3.5)
    assert same(value(db, "UNWIND [1, 2] AS x RETURN avg(x) AS s"), 1.5)
    assert same(value(db, "UNWIND [2, 4] AS x RETURN avg(x) AS s"), 3.0)


def test_min_max_over_strings_and_mixed_values(db):
    assert value(db, "UNWIND ['a', 'b', 'B', null, 'abc', 'abc1'] AS i RETURN max(i) AS m") == "b"
    assert value(db, "UNWIND ['a', 'b', 'B', null, 'abc', 'abc1'] AS i RETURN min(i) AS m") == "B"
    assert same(value(db, "UNWIND [1, 2.5, 0, -1] AS x RETURN max(x) AS m"), 2.5)
    assert value(db, "UNWIND [1, 'a', null, [1, 2], 0.2, 'b'] AS x RETURN max(x) AS m") == 1
    assert value(db, "UNWIND [1, 'a', null, [1, 2], 0.2, 'b'] AS x RETURN min(x) AS m") == [1, 2]


def test_stdev(db):
    assert value(db, "UNWIND [2, 4, 4, 4, 5, 5, 7, 9] AS x RETURN stDevP(x) AS s") == pytest.approx(2.0)
    assert value(db, "UNWIND [2, 4, 4, 4, 5, 5, 7, 9] AS x RETURN stDev(x) AS s") == pytest.approx(math.sqrt(32 / 7))
    assert value(db, "UNWIND [5] AS x RETURN stDev(x) AS s") == 0.0


@pytest.mark.parametrize("p, cont, disc", [
    (0.0, 10.0, 10), (0.5, 20.0, 20), (1.0, 30.0, 30), (0.25, 15.0, 10), (0.4, 18.0, 20),
])
def test_percentiles(db, p, cont, disc):
    query = "UNWIND [10, 30, 20] AS x RETURN percentileCont(x, $p) AS c, percentileDisc(x, $p) AS d"
    c, d = rows(db, query, {"p": p})[0]
    assert c == pytest.approx(cont) and isinstance(c, float)
    assert same(d, disc)


def test_percentile_out_of_range(db):
    with pytest.raises(CypherArgumentError, match="between 0.0 and 1.0"):
        db.execute("UNWIND [1] AS x RETURN percentileCont(x, 1.5) AS c")


def test_grouping_keys(scores):
    query = (
        "MATCH (p:P) WITH p ORDER BY p.name "
        "RETURN p.team AS team, count(*) AS n, sum(p.score) AS total, collect(p.name) AS names ORDER BY team"
    )
    assert rows(scores, query) == [
        ("blue", 2, 30, ["Cy", "Di"]), ("green", 1, 5, ["Ed"]), ("red", 2, 30, ["Ann", "Bob"])]


def test_grouping_by_several_keys_and_null_key(db):
    db.execute("UNWIND [[1, 'a'], [1, 'a'], [1, null], [null, null], [null, null]] AS r CREATE (:K {a: r[0], b: r[1]})")
    query = "MATCH (k:K) RETURN k.a AS a, k.b AS b, count(*) AS n ORDER BY a, b"
    assert rows(db, query) == [(1, "a", 2), (1, None, 1), (None, None, 2)]


def test_grouping_treats_equal_numbers_and_lists_as_one_key(db):
    assert rows(db, "UNWIND [1, 1.0, 2] AS x RETURN x = 1 AS k, count(*) AS n ORDER BY n") == [(False, 1), (True, 2)]
    assert value(db, "UNWIND [[1, 2], [1, 2]] AS l RETURN count(DISTINCT l) AS n") == 1


def test_group_by_node(scores):
    scores.execute("MATCH (p:P {team: 'red'}) CREATE (p)-[:HAS]->(:Item), (p)-[:HAS]->(:Item)")
    query = "MATCH (p:P)-[:HAS]->(i) RETURN p.name, count(i) AS n ORDER BY p.name"
    assert rows(scores, query) == [("Ann", 2), ("Bob", 2)]
    query = "MATCH (p:P)-[:HAS]->(i) RETURN p, count(i) AS n"
    assert sorted((node["name"], n) for node, n in rows(scores, query)) == [("Ann", 2), ("Bob", 2)]


def test_order_by_aggregate(scores):
    query = "MATCH (p:P) RETURN p.team AS team, sum(p.score) AS s ORDER BY s DESC, team LIMIT 2"
    assert rows(scores, query) == [("blue", 30), ("red", 30)]
    query = "MATCH (p:P) RETURN p.team AS team ORDER BY count(*) DESC, team"
    with pytest.raises(CypherSemanticError):
        scores.execute(query)  # an aggregate not projected cannot be ordered by


def test_order_by_projected_aggregate_expression(scores):
    query = "MATCH (p:P) RETURN p.team AS team, count(*) AS n ORDER BY count(*), team"
    assert rows(scores, query) == [("green", 1), ("blue", 2), ("red", 2)]


def test_with_aggregation_then_filter(scores):
    query = "MATCH (p:P) WITH p.team AS team, count(*) AS n WHERE n > 1 RETURN team ORDER BY team"
    assert rows(scores, query) == [("blue",), ("red",)]


def test_aggregation_of_aggregation_via_with(scores):
    query = "MATCH (p:P) WITH p.team AS team, count(*) AS n RETURN max(n) AS most, count(*) AS teams"
    assert rows(scores, query) == [(2, 3)]


def test_aggregate_inside_expressions(scores):
    assert rows(scores, "MATCH (p:P) RETURN count(*) * 10 + 1 AS x, size(collect(p.name)) AS y") == [(51, 5)]
    query = "MATCH (p:P) RETURN p.team AS team, sum(p.score) / count(p.score) AS mean ORDER BY team"
    assert rows(scores, query) == [("blue", 30), ("green", 5), ("red", 15)]


def test_key_expression_reused_in_aggregate_projection(scores):
    query = "MATCH (p:P) RETURN p.team AS team, p.team + ':' + toString(count(*)) AS label ORDER BY team"
    assert rows(scores, query) == [("blue", "blue:2"), ("green", "green:1"), ("red", "red:2")]


def test_distinct_aggregates(db):
    query = "UNWIND [1, 1, 2, null, 2.0] AS x RETURN count(DISTINCT x) AS c, collect(DISTINCT x) AS l"
    c, l = rows(db, query)[0]
    assert c == 2 and l[:2] == [1, 2]


def test_count_star_with_optional_match(scores):
    query = "MATCH (p:P) OPTIONAL MATCH (p)-[:NONE]->(x) RETURN count(*) AS rows, count(x) AS xs"
    assert rows(scores, query) == [(5, 0)]


def test_nested_aggregates_are_rejected(db):
    with pytest.raises(CypherSemanticError):
        db.execute("UNWIND [1] AS x RETURN count(count(x))")


def test_aggregate_in_where_is_rejected(db):
    with pytest.raises(CypherSemanticError):
        db.execute("UNWIND [1] AS x WITH x WHERE count(x) > 0 RETURN x")


def test_collect_of_maps_and_nodes(scores):
    query = "MATCH (p:P {team: 'red'}) WITH p ORDER BY p.name RETURN collect({n: p.name}) AS l, collect(p)[0].name AS first"
    assert rows(scores, query) == [([{"n": "Ann"}, {"n": "Bob"}], "Ann")]


def test_distinct_return(scores):
    assert rows(scores, "MATCH (p:P) RETURN DISTINCT p.team AS t ORDER BY t") == [("blue",), ("green",), ("red",)]
    assert value(scores, "MATCH (p:P) WITH DISTINCT p.team AS t RETURN count(*) AS c") == 3


@pytest.mark.parametrize("query", [
    "MATCH (p:P) RETURN p.score + count(*) AS x",
    "MATCH (p:P), (q:P) RETURN p.team AS t, p.team + q.team + toString(count(*)) AS x",
    "MATCH (p:P) WITH p.team AS t, p.name + toString(count(*)) AS x RETURN *",
    "MATCH (p:P) RETURN CASE WHEN p:P THEN count(*) END AS x",
])
def test_ambiguous_aggregation_expression_is_rejected(scores, query):
    with pytest.raises(CypherSemanticError, match="[Aa]mbiguous"):
        scores.execute(query)


def test_expression_over_grouping_keys_and_aggregates(scores):
    query = "MATCH (p:P) RETURN p.team AS team, p.team + toString(count(*)) AS x ORDER BY team"
    assert rows(scores, query) == [("blue", "blue2"), ("green", "green1"), ("red", "red2")]
    query = "MATCH (p:P) RETURN p, p.name + toString(count(*)) AS x ORDER BY x"
    assert [x for _, x in rows(scores, query)] == ["Ann1", "Bob1", "Cy1", "Di1", "Ed1"]
    query = "MATCH (p:P) WITH p, count(*) AS c RETURN p, CASE WHEN p.team = 'red' THEN sum(c) ELSE 0 END AS x ORDER BY p.name"
    assert [x for _, x in rows(scores, query)] == [1, 1, 0, 0, 0]
    assert value(scores, "MATCH (p:P) RETURN $k + count(*) AS x", {"k": 10}) == 15


def test_map_projection_with_aggregate_groups_by_its_variable(scores):
    query = "MATCH (p:P) WHERE p.team <> 'green' WITH p ORDER BY p.name RETURN p {.team, n: count(*)} AS m ORDER BY m.team"
    assert [m["team"] for (m,) in rows(scores, query)] == ["blue", "blue", "red", "red"]
    scores.execute("MATCH (p:P {team: 'red'}) CREATE (p)-[:HAS]->(:Item {i: 1}), (p)-[:HAS]->(:Item {i: 2})")
    query = "MATCH (p:P)-[:HAS]->(i) RETURN p {.name, items: collect(i.i)} AS m ORDER BY m.name"
    assert [(m["name"], sorted(m["items"])) for (m,) in rows(scores, query)] == [("Ann", [1, 2]), ("Bob", [1, 2])]

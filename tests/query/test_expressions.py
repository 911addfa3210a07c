"""Cypher expressions end to end: operators, null and three-valued logic,
CASE, list expressions, maps, subscripts, string predicates, parameters.

Expected values follow the openCypher TCK (expressions/*.feature)."""

import math

import pytest
from cypher_helpers import rows, same, value

import weftdb
from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError, ParameterMissing

NULL = None


@pytest.mark.parametrize("expr, expected", [
    # integer vs float arithmetic
    ("1 + 2", 3), ("1 + 2.0", 3.0), ("7 / 2", 3), ("-7 / 2", -3), ("7.0 / 2", 3.5), ("7 % 3", 1),
    ("-7 % 3", -1), ("7.5 % 2", 1.5), ("2 ^ 3", 8.0), ("2 * 3", 6), ("2 * 1.5", 3.0), ("10 - 2.5", 7.5),
    ("-(3)", -3), ("-(-2.5)", 2.5), ("1 + 2 * 3", 7), ("(1 + 2) * 3", 9), ("2 ^ 3 ^ 2", 64.0),
    ("1.0 / 0", math.inf), ("-1.0 / 0", -math.inf),
    # string and list concatenation
    ("'ab' + 'cd'", "abcd"), ("'a' + 1", "a1"), ("1.5 + 'a'", "1.5a"),
    ("[1, 2] + [3]", [1, 2, 3]), ("[1] + 2", [1, 2]), ("0 + [1]", [0, 1]), ("[1] + [[2]]", [1, [2]]),
    # null propagation
    ("1 + null", NULL), ("null * 2", NULL), ("-null", NULL), ("null = null", NULL), ("null <> 1", NULL),
    ("null < 1", NULL), ("'a' + null", NULL), ("null IN [1]", NULL), ("[1] + null", NULL),
    # comparisons
    ("1 = 1.0", True), ("1 < 1.5", True), ("'a' < 'b'", True), ("'B' < 'a'", True), ("1 < 'a'", NULL),
    ("1 = 'a'", False), ("[1, 2] = [1, 2]", True), ("[1, 2] = [1, 2.0]", True), ("[1, null] = [1, null]", NULL),
    ("[1, null] = [2, null]", False), ("[1] = [1, 2]", False), ("{a: 1} = {a: 1}", True),
    ("{a: 1} = {a: 1, b: 2}", False), ("{a: null} = {a: null}", NULL), ("[1, 2] < [1, 3]", True),
    ("[1, 2] < [1, 2, 0]", True), ("true > false", True), ("0.0 / 0.0 = 0.0 / 0.0", False),
    ("1 <> 2", True), ("2 >= 2", True), ("3 <= 2", False), ("1 < 2 < 3", True), ("3 > 2 > 2", False),
    # three-valued logic
    ("true AND null", NULL), ("false AND null", False), ("true OR null", True), ("false OR null", NULL),
    ("null XOR true", NULL), ("true XOR false", True), ("true XOR true", False), ("NOT null", NULL),
    ("NOT false", True), ("null AND null", NULL), ("null OR null", NULL),
    # IS NULL
    ("null IS NULL", True), ("1 IS NULL", False), ("null IS NOT NULL", False), ("[] IS NOT NULL", True),
    # IN
    ("2 IN [1, 2, 3]", True), ("4 IN [1, 2, 3]", False), ("4 IN [1, null]", NULL), ("1 IN [1, null]", True),
    ("[1] IN [[1], [2]]", True), ("[1, null] IN [[1, null]]", NULL), ("1 IN []", False), ("1 IN null", NULL),
    ("null IN []", False),
    # string predicates
    ("'hello' STARTS WITH 'he'", True), ("'hello' ENDS WITH 'lo'", True), ("'hello' CONTAINS 'ell'", True),
    ("'hello' STARTS WITH 'lo'", False), ("'hello' STARTS WITH null", NULL), ("1 STARTS WITH 'a'", NULL),
    ("'hello' CONTAINS ''", True),
    # regex: whole-string match
    ("'hello' =~ 'h.*o'", True), ("'hello' =~ 'ell'", False), ("'Hello' =~ '(?i)hello'", True),
    ("null =~ 'a'", NULL), ("'a' =~ null", NULL),
    # CASE
    ("CASE 1 WHEN 1 THEN 'one' WHEN 2 THEN 'two' END", "one"), ("CASE 3 WHEN 1 THEN 'one' END", NULL),
    ("CASE 3 WHEN 1 THEN 'one' ELSE 'many' END", "many"), ("CASE WHEN 1 > 2 THEN 'a' WHEN 2 > 1 THEN 'b' END", "b"),
    ("CASE null WHEN null THEN 'null' ELSE 'other' END", "other"), ("CASE WHEN null THEN 1 ELSE 2 END", 2),
    ("CASE 1 WHEN 1.0 THEN 'eq' END", "eq"),
    # lists, subscripts and slices
    ("[1, 2, 3][0]", 1), ("[1, 2, 3][-1]", 3), ("[1, 2, 3][5]", NULL), ("[1, 2, 3][null]", NULL),
    ("[1, 2, 3, 4][1..3]", [2, 3]), ("[1, 2, 3][1..]", [2, 3]), ("[1, 2, 3][..-1]", [1, 2]),
    ("[1, 2, 3][-2..]", [2, 3]), ("[1, 2, 3][2..1]", []), ("[1, 2, 3][..10]", [1, 2, 3]),
    ("[1, 2, 3][null..2]", NULL), ("null[0]", NULL), ("{a: 1, b: 2}['b']", 2), ("{a: 1}['z']", NULL),
    ("size([1, 2, 3])", 3), ("[]", []), ("[[1, 2], [3]][0][1]", 2),
    # maps and property access
    ("{a: 1, b: {c: 'x'}}.b.c", "x"), ("{a: 1}.missing", NULL), ("{a: null}", {"a": None}),
    ("keys({b: 1, a: 2})", ["b", "a"]),
    # comprehensions
    ("[x IN [1, 2, 3] | x * 2]", [2, 4, 6]), ("[x IN [1, 2, 3] WHERE x > 1]", [2, 3]),
    ("[x IN range(1, 10) WHERE x % 3 = 0 | x * x]", [9, 36, 81]), ("[x IN [] | x]", []),
    ("[x IN null | x]", NULL), ("[x IN [1, null, 3] WHERE x > 1]", [3]),
    # quantifiers
    ("all(x IN [1, 2] WHERE x > 0)", True), ("all(x IN [1, -2] WHERE x > 0)", False),
    ("all(x IN [] WHERE x > 0)", True), ("all(x IN [1, null] WHERE x > 0)", NULL),
    ("all(x IN [-1, null] WHERE x > 0)", False),
    ("any(x IN [1, 2] WHERE x > 1)", True), ("any(x IN [] WHERE true)", False),
    ("any(x IN [0, null] WHERE x > 0)", NULL), ("any(x IN [1, null] WHERE x > 0)", True),
    ("none(x IN [1, 2] WHERE x > 2)", True), ("none(x IN [1, 3] WHERE x > 2)", False),
    ("none(x IN [1, null] WHERE x > 2)", NULL),
    ("single(x IN [1, 2, 3] WHERE x = 2)", True), ("single(x IN [2, 2] WHERE x = 2)", False),
    ("single(x IN [] WHERE true)", False), ("single(x IN [1, null] WHERE x = 1)", NULL),
    ("single(x IN [1, 1, null] WHERE x = 1)", False), ("any(x IN null WHERE true)", NULL),
    # reduce
    ("reduce(acc = 0, x IN [1, 2, 3] | acc + x)", 6), ("reduce(s = '', x IN ['a', 'b'] | s + x)", "ab"),
    ("reduce(acc = 1, x IN [] | acc * x)", 1), ("reduce(acc = 0, x IN [1, 2.5] | acc + x)", 3.5),
    # functions in expressions
    ("coalesce(null, null, 2)", 2), ("toUpper('a') + toLower('B')", "Ab"), ("size('abc') * 2", 6),
    ("head([3, 2]) + last([3, 2])", 5), ("toInteger('42') + 1", 43), ("abs(-2)", 2),
])
def test_expression(db, expr, expected):
    assert same(value(db, f"RETURN {expr} AS x"), expected)


def test_nan_is_not_equal_to_itself(db):
    result = value(db, "RETURN 0.0 / 0.0 AS x")
    assert math.isnan(result)


# Literals of the wrong type are refused before the query runs (semantics.py,
# openCypher's InvalidArgumentType); the same values from parameters at runtime.
@pytest.mark.parametrize("expr, error", [
    ("1 / 0", CypherArithmeticError), ("1 % 0", CypherArithmeticError),
    ("9223372036854775807 + 1", CypherArithmeticError), ("'a' - 1", CypherSemanticError),
    ("true + 1", CypherTypeError), ("-'a'", CypherSemanticError), ("1 AND true", CypherSemanticError),
    ("NOT 1", CypherSemanticError), ("[1, 2]['a']", CypherTypeError), ("{a: 1}[0]", CypherTypeError),
    ("'abc'.x", CypherTypeError), ("[x IN 5 | x]", CypherSemanticError), ("1 IN 5", CypherSemanticError),
])
def test_expression_errors(db, expr, error):
    with pytest.raises(error):
        db.execute(f"RETURN {expr} AS x")


@pytest.mark.parametrize("expr", ["$s - 1", "-$s", "$i AND true", "NOT $i", "[x IN $i | x]", "1 IN $i"])
def test_expression_errors_at_runtime(db, expr):
    with pytest.raises(CypherTypeError):
        db.execute(f"RETURN {expr} AS x", {"s": "a", "i": 1})


def test_and_or_short_circuit_with_null_and_errors(db):
    # false AND <anything> is false even when the right side is null.
    assert value(db, "RETURN false AND null AS x") is False
    assert value(db, "RETURN true OR null AS x") is True


def test_where_treats_null_as_false(db):
    db.execute("UNWIND [1, null, 3] AS x CREATE (:N {v: x})")
    assert rows(db, "MATCH (n:N) WHERE n.v > 1 RETURN n.v") == [(3,)]
    assert rows(db, "MATCH (n:N) WHERE NOT (n.v > 1) RETURN n.v") == [(1,)]
    assert sorted(rows(db, "MATCH (n:N) WHERE n.v IS NULL RETURN count(*)")) == [(1,)]


def test_missing_property_is_null(db):
    db.execute("CREATE (:N {a: 1})")
    assert rows(db, "MATCH (n:N) RETURN n.b, n.b IS NULL, n.a + n.b") == [(None, True, None)]


def test_node_property_by_subscript(db):
    db.execute("CREATE (:N {name: 'x'})")
    assert value(db, "MATCH (n:N) RETURN n['name'] AS v") == "x"
    assert value(db, "MATCH (n:N) WITH n, 'na' + 'me' AS k RETURN n[k] AS v") == "x"


def test_map_projection(db):
    db.execute("CREATE (:P {name: 'Ann', age: 30, city: 'Oslo'})")
    result = value(db, "MATCH (p:P) WITH p, 1 AS one RETURN p {.name, .missing, extra: 2 + 3, one} AS m")
    assert result == {"name": "Ann", "missing": None, "extra": 5, "one": 1}
    assert value(db, "MATCH (p:P) RETURN p {.*, age: 31} AS m") == {"name": "Ann", "age": 31, "city": "Oslo"}
    assert value(db, "WITH {a: 1, b: 2} AS m RETURN m {.a} AS x") == {"a": 1}
    assert value(db, "WITH null AS m RETURN m {.a} AS x") is None


def test_label_predicate(db):
    db.execute("CREATE (:A:B {i: 1}), (:A {i: 2})")
    assert rows(db, "MATCH (n:A) RETURN n.i, n:B, n:A:B ORDER BY n.i") == [(1, True, True), (2, False, False)]
    assert rows(db, "OPTIONAL MATCH (n:Nope) RETURN n:A") == [(None,)]


def test_parameters(db):
    assert value(db, "RETURN $a + $b AS x", {"a": 1, "b": 2}) == 3
    assert value(db, "RETURN $list[1] AS x", {"list": [1, 2, 3]}) == 2
    assert value(db, "RETURN $m.k AS x", {"m": {"k": "v"}}) == "v"
    assert value(db, "RETURN $p IS NULL AS x", {"p": None}) is True
    db.execute("CREATE (:N {v: $v})", {"v": 5})
    assert value(db, "MATCH (n:N {v: $v}) RETURN n.v AS x", {"v": 5}) == 5
    assert rows(db, "UNWIND $rows AS r RETURN r.a", {"rows": [{"a": 1}, {"a": 2}]}) == [(1,), (2,)]


def test_missing_parameter_is_an_error(db):
    with pytest.raises(ParameterMissing, match=r"\$name"):
        db.execute("RETURN $name AS x")
    with pytest.raises(ParameterMissing):
        db.execute("RETURN $name AS x", {"other": 1})
    assert isinstance(ParameterMissing("x"), weftdb.ClientError)


def test_parameter_as_skip_and_limit(db):
    assert rows(db, "UNWIND range(1, 5) AS x RETURN x SKIP $s LIMIT $l", {"s": 1, "l": 2}) == [(2,), (3,)]


def test_undefined_variable_is_a_semantic_error(db):
    with pytest.raises(CypherSemanticError, match="`y`"):
        db.execute("WITH 1 AS x RETURN y")


def test_comprehension_variable_does_not_leak(db):
    with pytest.raises(CypherSemanticError):
        db.execute("RETURN [x IN [1] | x] AS l, x")


def test_nested_comprehensions_see_outer_variables(db):
    assert value(db, "WITH 10 AS k RETURN [x IN [1, 2] | [y IN [x, k] | y + x]] AS l") == [[2, 11], [4, 12]]


def test_comprehension_in_where_and_per_row(db):
    result = rows(db, "UNWIND [[1, 2], [3], []] AS l RETURN [x IN l | x * 10] AS m, any(x IN l WHERE x > 2) AS a")
    assert result == [([10, 20], False), ([30], True), ([], False)]


def test_large_integers_stay_exact(db):
    assert same(value(db, "RETURN 9223372036854775807 AS x"), 9223372036854775807)
    assert same(value(db, "RETURN -9223372036854775808 AS x"), -9223372036854775808)
    with pytest.raises(CypherArithmeticError):
        db.execute("RETURN 4611686018427387904 * 2 AS x")


def test_string_escapes_and_unicode(db):
    assert value(db, r"RETURN 'it\'s' AS x") == "it's"
    assert value(db, "RETURN \"a\\tb\" AS x") == "a\tb"
    assert value(db, "RETURN size('héllo') AS x") == 5


def test_negating_the_smallest_integer_literal_overflows(db):
    with pytest.raises(CypherArithmeticError):
        db.execute("RETURN -(-9223372036854775808) AS x")


def test_negating_the_smallest_integer_overflows(db):
    with pytest.raises(CypherArithmeticError):
        db.execute("WITH -9223372036854775808 AS x RETURN -x AS y")

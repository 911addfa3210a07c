"""Tests of Cypher value semantics: equality, ordering, grouping, logic, arithmetic."""

import datetime as dt
import math

import pytest

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import Duration
from weftdb.query import values as v
from weftdb.query.temporal import date, datetime, duration, localdatetime, localtime, time

NAN = float("nan")


class Entity:
    """A stand-in for the executor's internal graph objects."""

    def __init__(self, kind, gid):
        self.cypher_kind, self.gid = kind, gid


class FakePath:
    cypher_kind = "path"

    def __init__(self, nodes, rels):
        self.nodes, self.relationships = tuple(nodes), tuple(rels)


def node(gid):
    return Entity("node", gid)


def rel(gid):
    return Entity("relationship", gid)


@pytest.mark.parametrize("value, name", [
    (1, "INTEGER"), (1.0, "FLOAT"), ("a", "STRING"), (True, "BOOLEAN"), (None, "NULL"), ([], "LIST"),
    ({}, "MAP"), (node(1), "NODE"), (rel(1), "RELATIONSHIP"), (FakePath([node(1)], []), "PATH"),
    (date("2024-01-01"), "DATE"), (localtime("12:00"), "LOCAL_TIME"), (time("12:00Z"), "ZONED_TIME"),
    (localdatetime("2024-01-01T12:00"), "LOCAL_DATE_TIME"), (datetime("2024-01-01T12:00Z"), "ZONED_DATE_TIME"),
    (duration("P1D"), "DURATION"),
])
def test_type_name(value, name):
    assert v.type_name(value) == name


@pytest.mark.parametrize("a, b, expected", [
    (1, 1.0, True), (1, 2, False), (None, 1, None), (None, None, None), (NAN, NAN, False),
    (True, 1, False), ("1", 1, False), ([1, 2], [1, 2.0], True), ([1, None], [1, 2], None),
    ([1, None], [2, None], False), ([1], [1, 2], False), ({"a": 1}, {"a": 1.0}, True),
    ({"a": 1}, {"b": 1}, False), ({"a": None}, {"a": 1}, None), ([[1]], [[1]], True),
    (node(1), node(1), True), (node(1), node(2), False), (node(1), rel(1), False),
    (FakePath([node(1), node(2)], [rel(3)]), FakePath([node(1), node(2)], [rel(3)]), True),
    (FakePath([node(1), node(2)], [rel(3)]), FakePath([node(1), node(2)], [rel(4)]), False),
    (date("2024-01-01"), localdatetime("2024-01-01T00:00"), False),
    (datetime("2024-01-01T12:00+01:00"), datetime("2024-01-01T11:00Z"), False),  # one instant, two zones: as Neo4j
    (datetime("2024-01-01T12:00+01:00"), datetime("2024-01-01T12:00+01:00"), True),
    (localtime("12:00:00.000000001"), localtime("12:00"), False), (time("12:00+01:00"), time("11:00Z"), False),
    (datetime("2024-06-01T12:00+02:00[Europe/Berlin]"), datetime("2024-06-01T12:00+02:00"), False),
    (duration("P1D"), duration("PT24H"), False), (duration("P1D"), duration("P1D"), True),
    ([1], {"a": 1}, False),
])
def test_equals(a, b, expected):
    assert v.equals(a, b) is expected
    assert v.equals(b, a) is expected
    assert v.not_equals(a, b) is (None if expected is None else not expected)


@pytest.mark.parametrize("a, b, expected", [
    (1, 2, -1), (2.5, 2, 1), (1, 1.0, 0), ("a", "b", -1), (False, True, -1), ([1, 2], [1, 3], -1),
    ([1, 2], [1], 1), ([1, None], [2, None], -1), ([None], [1], None), (1, "a", None), (None, 1, None),
    (date("2024-01-01"), date("2024-01-02"), -1), (date("2024-01-01"), localdatetime("2024-01-01T00:00"), None),
    (datetime("2024-01-01T12:00+01:00"), datetime("2024-01-01T11:30Z"), -1),
    (time("12:00+01:00"), time("11:30Z"), -1), (time("12:00Z"), localtime("12:00"), None),
    (localdatetime("2024-01-01T00:00:00.000000001"), localdatetime("2024-01-01T00:00"), 1),
    (datetime("9999-09-09T09:59:59.999999999+11:59"), datetime("0001-01-01T01:01:01.000000001-11:59"), 1),
    (datetime("2024-01-01T12:00+01:00"), datetime("2024-01-01T11:00Z"), 1),  # one instant: the larger offset after
    (duration("P1D"), duration("P2D"), None), ({"a": 1}, {"a": 1}, None), (NAN, 1, None),
])
def test_compare(a, b, expected):
    assert v.compare(a, b) == expected


def test_ordering_operators():
    assert v.lt(1, 2) is True and v.le(2, 2) is True and v.gt(1, 2) is False and v.ge(3, 2.5) is True
    assert v.lt(1, "a") is None and v.ge(None, 1) is None
    assert v.lt(1, NAN) is False and v.ge(NAN, NAN) is False and v.gt(NAN, 1) is False


def test_order_key_gives_global_order():
    p = FakePath([node(1)], [])
    values = [None, 2, NAN, 1.5, True, False, "b", "a", duration("P1D"), localtime("12:00"), time("12:00Z"),
              date("2024-01-01"), localdatetime("2024-01-01T00:00"), datetime("2024-01-01T00:00Z"), p,
              [1, "x"], [1], rel(2), node(3), node(1), {"a": 1}]
    expected = [{"a": 1}, node(1), node(3), rel(2), [1], [1, "x"], p, datetime("2024-01-01T00:00Z"),
                localdatetime("2024-01-01T00:00"), date("2024-01-01"), time("12:00Z"), localtime("12:00"),
                duration("P1D"), "a", "b", False, True, 1.5, 2, NAN, None]
    result = sorted(values, key=v.order_key)
    assert [v.type_name(x) for x in result] == [v.type_name(x) for x in expected]
    assert all(v.equals(x, y) or (x is None and y is None) or (x != x and y != y) for x, y in zip(result, expected))


def test_order_key_mixed_nested_values_never_raise():
    values = [[1, "a"], [1, 2], ["a"], [None], [], {"b": [1]}, {"b": "x"}, {"a": 1}, [NAN], [date("2024-01-01")]]
    result = sorted(values, key=v.order_key)
    assert result[:3] == [{"a": 1}, {"b": [1]}, {"b": "x"}]  # a list sorts before a string
    assert result[3] == []


def test_order_key_orders_zoned_values_by_instant():
    early, late = datetime("2024-01-01T12:00+02:00"), datetime("2024-01-01T11:00Z")
    assert sorted([late, early], key=v.order_key) == [early, late]
    assert sorted([time("11:00Z"), time("12:00+02:00")], key=v.order_key)[0] == time("12:00+02:00")
    times = [time("12:31:14.645876124+01:00"), time("10:35-08:00"), time("12:31:14.645876123+01:00"), time("12:35:15+05:00")]
    assert [str(t) for t in sorted(times, key=v.order_key)] == [
        "12:35:15+05:00", "12:31:14.645876123+01:00", "12:31:14.645876124+01:00", "10:35-08:00"]


def test_order_key_orders_to_the_nanosecond():
    values = [localdatetime("1984-10-11T12:31:14.645876123"), localdatetime("1984-10-11T12:30:14.000000012"),
              localdatetime("9999-09-09T09:59:59.999999999"), localdatetime("0001-01-01T01:01:01.000000001")]
    assert [str(x) for x in sorted(values, key=v.order_key)] == [
        "0001-01-01T01:01:01.000000001", "1984-10-11T12:30:14.000000012", "1984-10-11T12:31:14.645876123",
        "9999-09-09T09:59:59.999999999"]
    assert v.order_key(localtime("00:00:00.000000001")) > v.order_key(localtime("00:00"))


def test_group_key():
    assert v.group_key(1) == v.group_key(1.0)
    assert v.group_key(True) != v.group_key(1)
    assert v.group_key([1, 2]) == v.group_key([1.0, 2])
    assert v.group_key([1]) != v.group_key({"a": 1})
    assert v.group_key({"a": 1, "b": 2}) == v.group_key({"b": 2, "a": 1})
    assert v.group_key({}) != v.group_key([])
    assert v.group_key(node(1)) == v.group_key(node(1))
    assert v.group_key(node(1)) != v.group_key(rel(1))
    assert v.group_key(None) == v.group_key(None) and v.group_key(None) != v.group_key(0)
    assert v.group_key(NAN) == v.group_key(float("nan"))
    assert v.group_key(datetime("2024-01-01T12:00+01:00")) != v.group_key(datetime("2024-01-01T11:00Z"))
    assert v.group_key(datetime("2024-01-01T12:00+01:00")) == v.group_key(datetime("2024-01-01T12:00+01:00"))
    assert v.group_key(localtime("12:00:00.000000001")) != v.group_key(localtime("12:00"))
    assert v.group_key(date("2024-01-01")) != v.group_key(localdatetime("2024-01-01T00:00"))
    distinct = {v.group_key(x) for x in [1, 1.0, "1", True, [1], [1.0], None, None, node(1), node(1), FakePath([node(1)], [])]}
    assert len(distinct) == 7


def test_three_valued_logic():
    T, F, N = True, False, None
    assert [v.and3(a, b) for a, b in [(T, T), (T, F), (T, N), (F, N), (N, N)]] == [T, F, N, F, N]
    assert [v.or3(a, b) for a, b in [(F, F), (T, F), (T, N), (F, N), (N, N)]] == [F, T, T, N, N]
    assert [v.xor3(a, b) for a, b in [(T, T), (T, F), (T, N), (N, N)]] == [F, T, N, N]
    assert [v.not3(a) for a in [T, F, N]] == [F, T, N]
    assert [v.truthy(x) for x in [T, F, N, 1, "true"]] == [T, F, F, F, F]
    for bad in (1, "true", [True]):
        with pytest.raises(CypherTypeError):
            v.and3(bad, True)
        with pytest.raises(CypherTypeError):
            v.not3(bad)


def test_integer_arithmetic():
    assert v.add(1, 2) == 3 and type(v.add(1, 2)) is int
    assert v.sub(1, 2) == -1 and v.mul(3, 4) == 12
    assert v.div(7, 2) == 3 and v.div(-7, 2) == -3 and v.div(7, -2) == -3
    assert v.mod(7, 3) == 1 and v.mod(-7, 3) == -1 and v.mod(7, -3) == 1
    assert v.pow_(2, 3) == 8.0 and type(v.pow_(2, 3)) is float
    assert v.neg(5) == -5


@pytest.mark.parametrize("op, a, b", [
    (v.add, 2**63 - 1, 1), (v.sub, -2**63, 1), (v.mul, 2**62, 4), (v.div, -2**63, -1),
])
def test_integer_overflow(op, a, b):
    with pytest.raises(CypherArithmeticError, match="overflow"):
        op(a, b)


def test_neg_overflow_and_division_by_zero():
    with pytest.raises(CypherArithmeticError):
        v.neg(-2**63)
    with pytest.raises(CypherArithmeticError):
        v.div(1, 0)
    with pytest.raises(CypherArithmeticError):
        v.mod(1, 0)


def test_float_arithmetic_like_java():
    assert v.add(1, 1.5) == 2.5 and type(v.add(1, 1.0)) is float
    assert v.div(1.0, 0) == math.inf and v.div(-1, 0.0) == -math.inf and math.isnan(v.div(0.0, 0))
    assert v.div(1, -0.0) == -math.inf
    assert v.div(7.0, 2) == 3.5
    assert math.isnan(v.mod(1.0, 0)) and v.mod(-7.5, 2) == -1.5
    assert v.pow_(0, -1) == math.inf and math.isnan(v.pow_(-8, 1 / 3)) and v.pow_(10, 400) == math.inf
    assert v.neg(1.5) == -1.5


def test_null_propagates_through_arithmetic():
    for op in (v.add, v.sub, v.mul, v.div, v.mod, v.pow_):
        assert op(None, 1) is None and op(1, None) is None
    assert v.add([1], None) is None and v.neg(None) is None


def test_concatenation():
    assert v.add("a", "b") == "ab"
    assert v.add("a", 1) == "a1" and v.add(1.0, "a") == "1.0a" and v.add("x", 1e20) == "x1.0E20"
    assert v.add([1], [2, 3]) == [1, 2, 3]
    assert v.add([1], 2) == [1, 2] and v.add(0, [1]) == [0, 1] and v.add([1], [[2]]) == [1, [2]]
    assert v.add("a", ["b"]) == ["a", "b"]


def test_temporal_arithmetic():
    assert v.add(date("2024-01-31"), duration("P1M")) == dt.date(2024, 2, 29)
    assert v.add(duration("P1D"), date("2024-01-01")) == dt.date(2024, 1, 2)
    assert v.sub(date("2024-03-31"), duration("P1M")) == dt.date(2024, 2, 29)
    assert v.add(duration("P1D"), duration("PT1H")) == Duration(0, 1, 3600)
    assert v.sub(duration("P1D"), duration("P1D")) == Duration()
    assert v.mul(duration("PT1H"), 2) == duration("PT2H") and v.mul(2, duration("PT1H")) == duration("PT2H")
    assert v.div(duration("PT1H"), 2) == duration("PT30M")
    assert v.neg(duration("P1D")) == duration("P-1D")


@pytest.mark.parametrize("op, a, b, message", [
    (v.add, 1, True, "Cannot add INTEGER and BOOLEAN"),
    (v.add, {}, 1, "Cannot add MAP and INTEGER"),
    (v.add, "a", True, "Cannot add STRING and BOOLEAN"),
    (v.sub, "a", "b", "Cannot subtract STRING and STRING"),
    (v.sub, duration("P1D"), date("2024-01-01"), "Cannot subtract DURATION and DATE"),
    (v.mul, "a", 2, "Cannot multiply STRING and INTEGER"),
    (v.div, 1, "a", "Cannot divide INTEGER and STRING"),
    (v.mod, duration("P1D"), 2, "DURATION and INTEGER"),
    (v.pow_, True, 2, "BOOLEAN and INTEGER"),
    (v.add, date("2024-01-01"), date("2024-01-01"), "Cannot add DATE and DATE"),
])
def test_type_errors_name_both_types(op, a, b, message):
    with pytest.raises(CypherTypeError, match=message):
        op(a, b)


def test_neg_type_error():
    with pytest.raises(CypherTypeError, match="STRING"):
        v.neg("a")


def test_in_list():
    assert v.in_list(1, [1, 2]) is True and v.in_list(1.0, [1]) is True
    assert v.in_list(3, [1, 2]) is False
    assert v.in_list(2, [1, None]) is None and v.in_list(1, [1, None]) is True
    assert v.in_list(None, []) is False and v.in_list(None, [1]) is None
    assert v.in_list(1, None) is None
    assert v.in_list([1], [[1], 2]) is True and v.in_list([1, None], [[1, 2]]) is None
    with pytest.raises(CypherTypeError):
        v.in_list(1, 1)


def test_string_predicates():
    assert v.starts_with("hello", "he") is True and v.ends_with("hello", "lo") is True
    assert v.contains("hello", "ell") is True and v.contains("hello", "x") is False
    assert v.starts_with(None, "a") is None and v.contains("a", None) is None and v.ends_with(1, "a") is None


def test_regex_match():
    assert v.regex_match("hello", "h.*o") is True
    assert v.regex_match("hello", "ell") is False
    assert v.regex_match("Hello", "(?i)hello") is True
    assert v.regex_match(None, "a") is None and v.regex_match("a", None) is None
    with pytest.raises(CypherSemanticError):
        v.regex_match("a", "(")


def test_subscript_and_slice():
    lst = [1, 2, 3]
    assert v.subscript(lst, 0) == 1 and v.subscript(lst, -1) == 3
    assert v.subscript(lst, 3) is None and v.subscript(lst, -4) is None
    assert v.subscript({"a": 1}, "a") == 1 and v.subscript({"a": 1}, "b") is None
    assert v.subscript(None, 0) is None and v.subscript(lst, None) is None
    with pytest.raises(CypherTypeError):
        v.subscript(lst, "a")
    with pytest.raises(CypherTypeError):
        v.subscript({"a": 1}, 0)
    with pytest.raises(CypherTypeError):
        v.subscript(5, 0)
    assert v.slice_(lst, 1, 2) == [2] and v.slice_(lst, v.OMITTED, -1) == [1, 2]
    assert v.slice_(lst, 1) == [2, 3] and v.slice_(lst, -2, 10) == [2, 3] and v.slice_(lst, 2, 1) == []
    assert v.slice_(lst, None, 1) is None and v.slice_(None, 0, 1) is None
    with pytest.raises(CypherTypeError):
        v.slice_(lst, "a", 1)


@pytest.mark.parametrize("value, text", [
    (1, "1"), (-3, "-3"), (1.0, "1.0"), (1e20, "1.0E20"), (1.5e-5, "1.5E-5"), (12345678.9, "1.23456789E7"),
    (0.001, "0.001"), (123.456, "123.456"), (-0.0, "-0.0"), (NAN, "NaN"), (math.inf, "Infinity"),
    (-math.inf, "-Infinity"), (1e7, "1.0E7"), (9999999.0, "9999999.0"), (True, "true"), (False, "false"),
    ("s", "s"), (None, None), (date("2024-01-02"), "2024-01-02"), (duration("PT1.5S"), "PT1.5S"),
    (datetime("2024-01-02T12:30:00+02:00"), "2024-01-02T12:30+02:00"),
    (localtime("12:31:14.645876123"), "12:31:14.645876123"), (time("12:31:14.5-01:30"), "12:31:14.500-01:30"),
    (localdatetime("0001-01-01T01:01:01.000000001"), "0001-01-01T01:01:01.000000001"),
    (datetime("2024-03-31T03:00[Europe/Berlin]"), "2024-03-31T03:00+02:00[Europe/Berlin]"),
])
def test_to_string(value, text):
    assert v.to_string(value) == text


def test_to_string_rejects_collections():
    with pytest.raises(CypherTypeError):
        v.to_string([1])

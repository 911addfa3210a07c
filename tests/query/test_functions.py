"""Tests of the scalar function registry and the aggregate accumulators."""

import datetime as dt
import math
import re
import time

import pytest

from weftdb.basics.errors import CypherArgumentError, CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import Duration
from weftdb.query.aggregates import AGGREGATES, CountStar, make_aggregate
from weftdb.query.functions import FUNCTIONS, check_arity
from weftdb.query.temporal import duration


def call(name, *args):
    check_arity(name, len(args))
    return FUNCTIONS[name.lower()](*args)


@pytest.mark.parametrize("name, args, expected", [
    ("size", ("abc",), 3), ("size", ([1, 2],), 2), ("size", (None,), None),
    ("head", ([1, 2],), 1), ("head", ([],), None), ("head", (None,), None),
    ("last", ([1, 2],), 2), ("last", ([],), None),
    ("tail", ([1, 2, 3],), [2, 3]), ("tail", ([],), []), ("tail", (None,), None),
    ("range", (0, 3), [0, 1, 2, 3]), ("range", (0, 10, 3), [0, 3, 6, 9]), ("range", (5, 1, -2), [5, 3, 1]),
    ("range", (3, 0), []),
    ("reverse", ("abc",), "cba"), ("reverse", ([1, 2],), [2, 1]), ("reverse", (None,), None),
    ("coalesce", (None, None, 3, 4), 3), ("coalesce", (None,), None),
    ("isEmpty", ("",), True), ("isEmpty", ([1],), False), ("isEmpty", ({},), True), ("isEmpty", (None,), None),
    ("keys", ({"a": 1, "b": 2},), ["a", "b"]), ("keys", (None,), None),
    ("properties", ({"a": 1},), {"a": 1}),
    ("toInteger", ("12",), 12), ("toInteger", ("1.9",), 1), ("toInteger", ("-1.9",), -1), ("toInteger", ("x",), None),
    ("toInteger", (2.9,), 2), ("toInteger", (True,), 1), ("toInteger", (None,), None),
    ("toInteger", ("99999999999999999999",), None),
    ("toFloat", ("1.5",), 1.5), ("toFloat", (2,), 2.0), ("toFloat", ("abc",), None), ("toFloat", ("1e3",), 1000.0),
    ("toString", (1.0,), "1.0"), ("toString", (True,), "true"), ("toString", (duration("P1D"),), "P1D"),
    ("toBoolean", ("TRUE",), True), ("toBoolean", ("false",), False), ("toBoolean", ("yes",), None),
    ("toBoolean", (0,), False), ("toBoolean", (None,), None),
    ("toIntegerOrNull", ([1],), None), ("toFloatOrNull", ({},), None), ("toBooleanOrNull", (1.5,), None),
    ("toStringOrNull", ([1],), None), ("toIntegerOrNull", ("7",), 7),
    ("abs", (-3,), 3), ("abs", (-2.5,), 2.5), ("abs", (None,), None),
    ("ceil", (1.2,), 2.0), ("floor", (-1.2,), -2.0), ("ceil", (3,), 3.0),
    ("round", (2.5,), 3.0), ("round", (-2.5,), -2.0), ("round", (-2.6,), -3.0), ("round", (3.14159, 2), 3.14),
    ("round", (-2.5, 0), -3.0), ("round", (2.345, 2, "HALF_EVEN"), 2.34), ("round", (2.5, 0, "down"), 2.0),
    ("round", (None,), None),
    ("sign", (-3,), -1), ("sign", (0.0,), 0), ("sign", (2.5,), 1),
    ("sqrt", (16,), 4.0), ("exp", (0,), 1.0), ("log", (math.e,), 1.0), ("log10", (1000,), 3.0),
    ("log", (0,), -math.inf), ("sin", (0,), 0.0), ("cos", (0,), 1.0), ("tan", (0,), 0.0),
    ("asin", (1,), math.pi / 2), ("acos", (1,), 0.0), ("atan", (0,), 0.0), ("atan2", (1, 1), math.pi / 4),
    ("radians", (180,), math.pi), ("degrees", (math.pi,), 180.0), ("haversin", (0,), 0.0),
    ("pi", (), math.pi), ("e", (), math.e),
    ("toUpper", ("aB",), "AB"), ("toLower", ("aB",), "ab"), ("toUpper", (None,), None),
    ("trim", ("  a  ",), "a"), ("ltrim", ("  a  ",), "a  "), ("rtrim", ("  a  ",), "  a"),
    ("split", ("a,b,,c", ","), ["a", "b", "", "c"]), ("split", ("ab", ""), ["a", "b"]),
    ("split", ("a-b_c", ["-", "_"]), ["a", "b", "c"]), ("split", (None, ","), None),
    ("substring", ("hello", 1), "ello"), ("substring", ("hello", 1, 3), "ell"), ("substring", ("hello", 9), ""),
    ("substring", (None, 1), None),
    ("replace", ("hello", "l", "L"), "heLLo"), ("replace", ("a", None, "b"), None),
    ("left", ("hello", 2), "he"), ("left", ("hello", 9), "hello"), ("right", ("hello", 2), "lo"),
    ("right", ("hello", 0), ""), ("left", (None, 1), None),
    ("date", ("2024-01-02",), dt.date(2024, 1, 2)), ("date", (None,), None),
    ("localtime", ("12:00",), dt.time(12)), ("duration", ("P1D",), Duration(0, 1)),
    ("date.truncate", ("month", dt.date(2024, 5, 17)), dt.date(2024, 5, 1)),
    ("datetime.truncate", ("day", dt.datetime(2024, 5, 17, 3, tzinfo=dt.timezone.utc), {"hour": 1}),
     dt.datetime(2024, 5, 17, 1, tzinfo=dt.timezone.utc)),
    ("duration.between", (dt.date(2024, 1, 1), dt.date(2024, 2, 2)), Duration(1, 1)),
    ("duration.inDays", (dt.date(2024, 1, 1), dt.date(2024, 2, 2)), Duration(0, 32)),
    ("duration.inMonths", (dt.date(2024, 1, 1), dt.date(2024, 2, 2)), Duration(1)),
    ("duration.inSeconds", (dt.date(2024, 1, 1), dt.date(2024, 1, 2)), Duration(0, 0, 86400)),
])
def test_function(name, args, expected):
    assert call(name, *args) == expected


def test_nan_results():
    assert math.isnan(call("sqrt", -1)) and math.isnan(call("log", -1)) and math.isnan(call("asin", 2))
    assert call("exp", 1000) == math.inf


@pytest.mark.parametrize("name, args", [
    ("size", (5,)), ("size", ({},)), ("head", ("abc",)),
    ("reverse", (1,)), ("keys", ([1],)), ("properties", (1,)), ("isEmpty", (1,)), ("toInteger", ([1],)),
    ("toFloat", (True,)), ("toString", ([1],)), ("toString", ({},)), ("toBoolean", (1.5,)), ("abs", ("a",)),
    ("round", (1.5, "2")), ("sqrt", (True,)), ("sign", ("a",)), ("toUpper", (1,)), ("split", ("a", 1)),
    ("split", (1, ",")), ("substring", ("a", "1")), ("replace", ("a", 1, "b")), ("left", ("a", "1")),
    ("atan2", ("a", 1)), ("date", (5,)), ("duration", (5,)),
])
def test_type_errors(name, args):
    with pytest.raises(CypherTypeError):
        call(name, *args)


@pytest.mark.parametrize("name, args", [
    ("range", (0, 5, 0)), ("range", (0, "3")), ("range", (0, 1.5)), ("substring", ("abc", -1)),
    ("substring", ("abc", 0, -1)), ("left", ("abc", -1)), ("right", ("abc", -1)), ("round", (1.5, 0, "SIDEWAYS")),
])
def test_arguments_out_of_their_domain(name, args):
    """openCypher's ArgumentError: range() takes integers only, as the TCK says."""
    with pytest.raises(CypherArgumentError):
        call(name, *args)


@pytest.mark.parametrize("name, args", [
    ("date", ("2024-02-30",)), ("date.truncate", ("hour", dt.date(2024, 1, 1))),
])
def test_bad_argument_values(name, args):
    with pytest.raises(CypherSemanticError):
        call(name, *args)


def test_integer_conversion_overflow():
    with pytest.raises(CypherArithmeticError):
        call("toInteger", 1e30)


def test_arity_checks():
    with pytest.raises(CypherSemanticError, match="Unknown function"):
        check_arity("nosuchfunction", 1)
    with pytest.raises(CypherSemanticError, match="takes 1 arguments, got 2"):
        check_arity("size", 2)
    with pytest.raises(CypherSemanticError, match="2 to 3"):
        check_arity("range", 1)
    with pytest.raises(CypherSemanticError, match="1 or more"):
        check_arity("coalesce", 0)
    check_arity("DATE", 0)
    check_arity("coalesce", 5)


def test_no_graph_functions_in_registry():
    assert not {"id", "labels", "type", "startnode", "endnode", "nodes", "relationships", "length"} & FUNCTIONS.keys()
    assert all(name == name.lower() for name in FUNCTIONS)


def test_nondeterministic_functions():
    assert 0.0 <= call("rand") < 1.0
    assert abs(call("timestamp") - time.time() * 1000) < 5000
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", call("randomUUID"))
    assert call("randomUUID") != call("randomUUID")
    from weftdb.basics.temporal import Date, DateTime

    assert isinstance(call("datetime"), DateTime) and isinstance(call("date.transaction"), Date)


# ---------------------------------------------------------------- aggregates

def aggregate(name, rows, distinct=False, extra=()):
    acc = make_aggregate(name, distinct, extra)
    for row in rows:
        acc.add(row)
    return acc.result()


def test_aggregate_names():
    assert AGGREGATES == {"count", "sum", "avg", "min", "max", "collect", "stdev", "stdevp",
                          "percentilecont", "percentiledisc"}
    with pytest.raises(CypherSemanticError):
        make_aggregate("median", False, ())


def test_count():
    assert aggregate("count", [1, None, 2, 2]) == 3
    assert aggregate("count", [1, None, 2, 2.0], distinct=True) == 2
    star = CountStar()
    for row in [None, 1, None]:
        star.add(row)
    assert star.result() == 3


def test_sum_and_avg():
    assert aggregate("sum", []) == 0 and type(aggregate("sum", [1, 2])) is int
    assert aggregate("sum", [1, None, 2.5]) == 3.5
    assert aggregate("sum", [1, 1, 2], distinct=True) == 3
    assert aggregate("sum", [duration("P1D"), duration("PT1H")]) == Duration(0, 1, 3600)
    assert aggregate("avg", []) is None and aggregate("avg", [None]) is None
    assert aggregate("avg", [1, 2]) == 1.5 and aggregate("avg", [1, None, 3]) == 2.0
    assert aggregate("avg", [duration("PT1H"), duration("PT3H")]) == duration("PT2H")
    with pytest.raises(CypherTypeError):
        aggregate("sum", [1, "a"])
    with pytest.raises(CypherTypeError):
        aggregate("sum", [1, duration("P1D")])
    with pytest.raises(CypherArithmeticError):
        aggregate("sum", [2**63 - 1, 1])


def test_min_max():
    assert aggregate("min", [3, None, 1, 2.5]) == 1 and aggregate("max", [3, None, 1, 2.5]) == 3
    assert aggregate("min", []) is None and aggregate("max", [None]) is None
    assert aggregate("max", ["a", 1, [1]]) == 1 and aggregate("min", ["a", 1, [1]]) == [1]
    assert aggregate("min", ["b", "a"]) == "a"
    from weftdb.basics.temporal import Date, LocalTime

    assert aggregate("max", [Date(2024, 1, 1), Date(2025, 1, 1)]) == Date(2025, 1, 1)
    assert aggregate("max", [LocalTime(1, 0, 0, 2), LocalTime(1, 0, 0, 1)]) == LocalTime(1, 0, 0, 2)


def test_collect():
    assert aggregate("collect", [1, None, 2, 1]) == [1, 2, 1]
    assert aggregate("collect", [1, None, 1.0, [1], [1]], distinct=True) == [1, [1]]
    assert aggregate("collect", []) == []


def test_standard_deviation():
    assert aggregate("stdev", [2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.138089935)
    assert aggregate("stdevp", [2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(2.0)
    assert aggregate("stdev", [1]) == 0.0 and aggregate("stdevp", []) == 0.0
    with pytest.raises(CypherTypeError):
        aggregate("stdev", ["a"])


def test_percentiles():
    rows = [10, 20, 30, 40, None]
    assert aggregate("percentilecont", rows, extra=(0.5,)) == 25.0
    assert aggregate("percentiledisc", rows, extra=(0.5,)) == 20
    assert aggregate("percentiledisc", rows, extra=(0.0,)) == 10
    assert aggregate("percentiledisc", rows, extra=(1.0,)) == 40
    assert aggregate("percentilecont", rows, extra=(1.0,)) == 40.0
    assert aggregate("percentilecont", [], extra=(0.5,)) is None
    acc = make_aggregate("percentilecont", True, ())
    for value in [1, 1, 3]:
        acc.add(value, 0.5)
    assert acc.result() == 2.0
    with pytest.raises(CypherArgumentError):
        make_aggregate("percentiledisc", False, (1.5,))
    with pytest.raises(CypherTypeError):
        aggregate("percentilecont", ["a"], extra=(0.5,))


FIELD_TEXTS = ["12", "0", "007", "-5", "+5", " 12", "12 ", "1_000", "\u0663", "\u00b2", "12.7", "1e3", "x", "",
               "999999999999999999", "9223372036854775807", "9223372036854775808", "99999999999999999999", None,
               12, 12.5, True, [1]]


@pytest.mark.parametrize("text", FIELD_TEXTS, ids=repr)
def test_to_integer_of_a_map_field_answers_as_of_the_value(db, text):
    """toInteger(row.key) compiles to a closure of its own (LOAD CSV's
    numbers, docs/hot-paths.md): it answers what toInteger of the value
    answers, whatever the field holds, and reads nodes' properties too."""
    def answer(query, params):
        try:
            return ("value", db.execute(query, params).single())
        except CypherTypeError as exc:
            return ("error", type(exc))

    fused = answer("WITH $row AS row RETURN toInteger(row.v)", {"row": {"v": text}})
    general = answer("WITH $v AS v RETURN toInteger(v)", {"v": text})
    assert fused == general
    if text is not None and not isinstance(text, list):
        db.execute("CREATE (:T {v: $v})", {"v": text})
        assert answer("MATCH (n:T) RETURN toInteger(n.v)", {}) == general
    assert db.execute("WITH null AS row RETURN toInteger(row.v)").single() is None

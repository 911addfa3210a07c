"""Cypher value semantics: equality, comparison, ordering, grouping, logic, arithmetic.

Plain functions over already-evaluated Python values, called by the executor on
the hot path. Values are: None (null), bool, int, float, str, list, dict, the
temporal types of `weftdb.query.temporal`, and graph entities. A graph entity is
any object whose `cypher_kind` is "node", "relationship" or "path"; nodes and
relationships carry an integer `gid`, paths `nodes` and `relationships` tuples.

Dispatch is on `type(v)` through tables, so `bool` is never taken for an int.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time
from weftdb.query.temporal import add_duration

_MIN_INT = -(1 << 63)
_MAX_INT = (1 << 63) - 1
_NUMBER = (int, float)
_TEMPORAL = (Date, LocalTime, Time, LocalDateTime, DateTime)

# ---------------------------------------------------------------- type names

_TYPE_NAMES = {
    type(None): "NULL", bool: "BOOLEAN", int: "INTEGER", float: "FLOAT", str: "STRING",
    list: "LIST", tuple: "LIST", dict: "MAP", Date: "DATE", Duration: "DURATION", LocalTime: "LOCAL_TIME",
    Time: "ZONED_TIME", LocalDateTime: "LOCAL_DATE_TIME", DateTime: "ZONED_DATE_TIME",
}
_KIND_NAMES = {"node": "NODE", "relationship": "RELATIONSHIP", "path": "PATH"}


def type_name(v) -> str:
    """The Cypher type of `v`, for error messages: "INTEGER", "ZONED_DATE_TIME"..."""
    name = _TYPE_NAMES.get(type(v))
    if name is not None:
        return name
    return _KIND_NAMES.get(getattr(v, "cypher_kind", None), type(v).__name__.upper())


def _kind(v):
    """The graph-entity kind of `v` ("node", "relationship", "path") or None."""
    return getattr(v, "cypher_kind", None)


def _path_ids(p) -> tuple:
    return (tuple(n.gid for n in p.nodes), tuple(r.gid for r in p.relationships))


# ---------------------------------------------------------------- equality

def _equal_sequences(a, b):
    if len(a) != len(b):
        return False
    unknown = False
    for x, y in zip(a, b):
        r = equals(x, y)
        if r is False:
            return False
        if r is None:
            unknown = True
    return None if unknown else True


def _equal_maps(a: dict, b: dict):
    if a.keys() != b.keys():
        return False
    return _equal_sequences([a[k] for k in a], [b[k] for k in a])


def _equal_entities(a, b) -> bool:
    kind = _kind(a)
    if kind is None or kind != _kind(b):
        return False
    if kind == "path":
        return _path_ids(a) == _path_ids(b)
    return a.gid == b.gid


def _equal_temporals(a, b) -> bool:
    """The same instant in the same zone (or the same local value)."""
    return type(a) is type(b) and a._eq_key() == b._eq_key()


def equals(a, b):
    """Cypher `a = b`: True, False or None (unknown, when a null decides it)."""
    ta, tb = type(a), type(b)
    if ta is tb and (ta is int or ta is str or ta is float or ta is bool):
        return a == b
    if a is None or b is None:
        return None
    if ta in _NUMBER and tb in _NUMBER:
        return a == b
    if ta in (list, tuple) and tb in (list, tuple):
        return _equal_sequences(a, b)
    if ta is dict:
        return _equal_maps(a, b) if tb is dict else False
    if ta in _TEMPORAL:
        return _equal_temporals(a, b) if tb in _TEMPORAL else False
    if ta is Duration:
        return a == b
    return _equal_entities(a, b)


def not_equals(a, b):
    """Cypher `a <> b`."""
    r = equals(a, b)
    return None if r is None else not r


# ---------------------------------------------------------------- comparison

def _cmp(x, y) -> int:
    return (x > y) - (x < y)


def _compare_lists(a, b):
    for x, y in zip(a, b):
        r = compare(x, y)
        if r != 0:
            return r
    return _cmp(len(a), len(b))


def compare(a, b):
    """-1, 0 or 1 for comparable values (numbers, strings, booleans, one temporal
    type, lists lexicographically); None when incomparable or null, or when a
    NaN is involved (the operator functions turn that into false)."""
    ta, tb = type(a), type(b)
    if ta in _NUMBER and tb in _NUMBER:
        if a != a or b != b:
            return None
        return _cmp(a, b)
    if ta is not tb and not (ta in (list, tuple) and tb in (list, tuple)):
        return None
    if ta is str or ta is bool:
        return _cmp(a, b)
    if ta is list or ta is tuple:
        return _compare_lists(a, b)
    if ta in _TEMPORAL:  # instants by time, then offset and zone, as Neo4j
        return _cmp(a._order_key(), b._order_key())
    return None


def _incomparable(a, b):
    """The result of an ordering operator when `compare` gave None: false when a
    NaN met a number (as Java), else null."""
    if type(a) in _NUMBER and type(b) in _NUMBER:
        return False
    return None


def lt(a, b):
    """Cypher `a < b`: True, False or None."""
    r = compare(a, b)
    return _incomparable(a, b) if r is None else r < 0


def le(a, b):
    """Cypher `a <= b`."""
    r = compare(a, b)
    return _incomparable(a, b) if r is None else r <= 0


def gt(a, b):
    """Cypher `a > b`."""
    r = compare(a, b)
    return _incomparable(a, b) if r is None else r > 0


def ge(a, b):
    """Cypher `a >= b`."""
    r = compare(a, b)
    return _incomparable(a, b) if r is None else r >= 0


# ---------------------------------------------------------------- ORDER BY

def _number_key(v):
    return (13, 1, 0.0) if v != v else (13, 0, v)


def _map_key(v):
    return (0, tuple((k, order_key(v[k])) for k in sorted(v)))


def _list_key(v):
    return (3, tuple(order_key(x) for x in v))


def _entity_key(v):
    kind = _kind(v)
    if kind == "node":
        return (1, v.gid)
    if kind == "relationship":
        return (2, v.gid)
    if kind == "path":
        return (4, _path_ids(v))
    return (14.5, type(v).__name__, id(v))


_ORDER_KEYS = {
    type(None): lambda v: (14,),
    bool: lambda v: (12, v),
    int: _number_key,
    float: _number_key,
    str: lambda v: (11, v),
    list: _list_key,
    tuple: _list_key,
    dict: _map_key,
    DateTime: lambda v: (5, v.seconds, v.nanos, v.offset, v.zone or ""),  # an offset before a named zone
    LocalDateTime: lambda v: (6, v.seconds, v.nanos),
    Date: lambda v: (7, v.days),
    Time: lambda v: (8, v.nanos - v.offset * 1_000_000_000, v.offset),
    LocalTime: lambda v: (9, v.nanos),
    Duration: lambda v: (10, v._key()),
}


def order_key(v):
    """A sort key giving openCypher's global ascending order across types:
    MAP < NODE < RELATIONSHIP < LIST < PATH < ZONED_DATE_TIME < LOCAL_DATE_TIME
    < DATE < ZONED_TIME < LOCAL_TIME < DURATION < STRING < BOOLEAN < NUMBER < NULL.
    Total: never raises, NaN sorts above every other number."""
    return _ORDER_KEYS.get(type(v), _entity_key)(v)


# ---------------------------------------------------------------- grouping

class _Tag:
    """A marker that keeps group keys of different Cypher types apart."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_TRUE, _FALSE, _NAN = _Tag("true"), _Tag("false"), _Tag("NaN")
_MAP, _NODE, _REL, _PATH = _Tag("map"), _Tag("node"), _Tag("relationship"), _Tag("path")


def _entity_group(v):
    kind = _kind(v)
    if kind == "node":
        return (_NODE, v.gid)
    if kind == "relationship":
        return (_REL, v.gid)
    if kind == "path":
        return (_PATH, _path_ids(v))
    return v


_GROUP_KEYS = {
    bool: lambda v: _TRUE if v else _FALSE,
    float: lambda v: v if v == v else _NAN,
    list: lambda v: tuple([group_key(x) for x in v]),
    tuple: lambda v: tuple([group_key(x) for x in v]),
    dict: lambda v: (_MAP, tuple(sorted((k, group_key(x)) for k, x in v.items()))) if v else (_MAP,),
    Date: lambda v: (Date, v.days),  # temporal values group as `=` says, by a key cheaper to hash than the value
    LocalTime: lambda v: (LocalTime, v.nanos),
    Time: lambda v: (Time, v.nanos, v.offset),
    LocalDateTime: lambda v: (LocalDateTime, v.seconds, v.nanos),
    DateTime: lambda v: (DateTime, v.seconds, v.nanos, v.offset, v.zone),
}
_PLAIN = frozenset({type(None), int, str, Duration})


def group_key(v):
    """A hashable key for DISTINCT, grouping and IN: lists become tuples, maps
    sorted tuples, 1 and 1.0 share a key, entities key by gid, null is its own."""
    t = type(v)
    if t in _PLAIN:
        return v
    return _GROUP_KEYS.get(t, _entity_group)(v)


# ---------------------------------------------------------------- logic

def _check_bool(v, op: str) -> None:
    if v is not None and type(v) is not bool:
        raise CypherTypeError(f"{op} expects BOOLEAN operands, got {type_name(v)}")


def and3(a, b):
    """Three-valued AND."""
    _check_bool(a, "AND")
    _check_bool(b, "AND")
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def or3(a, b):
    """Three-valued OR."""
    _check_bool(a, "OR")
    _check_bool(b, "OR")
    if a is True or b is True:
        return True
    return None if a is None or b is None else False


def xor3(a, b):
    """Three-valued XOR."""
    _check_bool(a, "XOR")
    _check_bool(b, "XOR")
    return None if a is None or b is None else a is not b


def not3(a):
    """Three-valued NOT."""
    _check_bool(a, "NOT")
    return None if a is None else not a


def truthy(v) -> bool:
    """Whether a WHERE predicate passes: only true does."""
    return v is True


# ---------------------------------------------------------------- arithmetic

def _checked(n: int) -> int:
    if n < _MIN_INT or n > _MAX_INT:
        raise CypherArithmeticError("integer overflow")
    return n


def _type_error(verb: str, a, b):
    return CypherTypeError(f"Cannot {verb} {type_name(a)} and {type_name(b)}")


def _float(n) -> float:
    try:
        return float(n)
    except OverflowError:
        raise CypherArithmeticError("integer overflow") from None


def add(a, b):
    """Cypher `a + b`: numbers, string concatenation, list concatenation, temporal + duration."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _checked(a + b)
    if ta in _NUMBER and tb in _NUMBER:
        return _float(a) + _float(b)
    if a is None or b is None:
        return None
    if ta is list or ta is tuple:
        return list(a) + list(b) if tb is list or tb is tuple else [*a, b]
    if tb is list or tb is tuple:
        return [a, *b]
    if ta is str and (tb is str or tb in _NUMBER):
        return a + to_string(b)
    if tb is str and ta in _NUMBER:
        return to_string(a) + b
    if tb is Duration and (ta in _TEMPORAL or ta is Duration):
        return add_duration(a, b)
    if ta is Duration and tb in _TEMPORAL:
        return add_duration(b, a)
    raise _type_error("add", a, b)


def sub(a, b):
    """Cypher `a - b`: numbers, temporal - duration, duration - duration."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _checked(a - b)
    if ta in _NUMBER and tb in _NUMBER:
        return _float(a) - _float(b)
    if a is None or b is None:
        return None
    if tb is Duration and (ta in _TEMPORAL or ta is Duration):
        return add_duration(a, -b)
    raise _type_error("subtract", a, b)


def mul(a, b):
    """Cypher `a * b`: numbers, duration * number."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        return _checked(a * b)
    if ta in _NUMBER and tb in _NUMBER:
        return _float(a) * _float(b)
    if a is None or b is None:
        return None
    if ta is Duration and tb in _NUMBER:
        return a * b
    if tb is Duration and ta in _NUMBER:
        return b * a
    raise _type_error("multiply", a, b)


def _float_div(a: float, b: float) -> float:
    if b == 0.0:
        if a != a or a == 0.0:
            return math.nan
        return math.inf if (a > 0) == (math.copysign(1.0, b) > 0) else -math.inf
    return a / b


def div(a, b):
    """Cypher `a / b`: integer division truncates toward zero; by integer zero raises."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise CypherArithmeticError("/ by zero")
        q = abs(a) // abs(b)
        return _checked(q if (a < 0) == (b < 0) else -q)
    if ta in _NUMBER and tb in _NUMBER:
        return _float_div(_float(a), _float(b))
    if a is None or b is None:
        return None
    if ta is Duration and tb in _NUMBER:
        return a / b
    raise _type_error("divide", a, b)


def mod(a, b):
    """Cypher `a % b`: the result has the sign of the dividend, as Java."""
    ta, tb = type(a), type(b)
    if ta is int and tb is int:
        if b == 0:
            raise CypherArithmeticError("% by zero")
        r = abs(a) % abs(b)
        return -r if a < 0 else r
    if ta in _NUMBER and tb in _NUMBER:
        a, b = _float(a), _float(b)
        return math.nan if b == 0.0 or math.isinf(a) else math.fmod(a, b)
    if a is None or b is None:
        return None
    raise _type_error("take the modulo of", a, b)


def _odd_integer(x: float) -> bool:
    return x.is_integer() and x % 2 == 1


def pow_(a, b):
    """Cypher `a ^ b`: always a float, inf/NaN rather than errors, as Java's Math.pow."""
    ta, tb = type(a), type(b)
    if ta in _NUMBER and tb in _NUMBER:
        x, y = _float(a), _float(b)
        try:
            return math.pow(x, y)
        except OverflowError:
            return -math.inf if x < 0 and _odd_integer(y) else math.inf
        except ValueError:
            if x == 0.0:
                return -math.inf if math.copysign(1.0, x) < 0 and _odd_integer(y) else math.inf
            return math.nan
    if a is None or b is None:
        return None
    raise _type_error("raise", a, b)


def neg(a):
    """Cypher unary minus."""
    t = type(a)
    if t is int:
        return _checked(-a)
    if t is float or t is Duration:
        return -a
    if a is None:
        return None
    raise CypherTypeError(f"Cannot negate {type_name(a)}")


# ---------------------------------------------------------------- lists and strings

def in_list(x, lst):
    """Cypher `x IN lst`: True, False or None (when a null may have matched)."""
    if lst is None:
        return None
    if type(lst) is not list and type(lst) is not tuple:
        raise CypherTypeError(f"IN expects a LIST on the right, got {type_name(lst)}")
    unknown = False
    for item in lst:
        r = equals(x, item)
        if r is True:
            return True
        if r is None:
            unknown = True
    return None if unknown else False


def starts_with(s, prefix):
    """Cypher `s STARTS WITH prefix`: None unless both are strings."""
    return s.startswith(prefix) if type(s) is str and type(prefix) is str else None


def ends_with(s, suffix):
    """Cypher `s ENDS WITH suffix`."""
    return s.endswith(suffix) if type(s) is str and type(suffix) is str else None


def contains(s, part):
    """Cypher `s CONTAINS part`."""
    return part in s if type(s) is str and type(part) is str else None


@lru_cache(maxsize=512)
def _regex(pattern: str) -> re.Pattern:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise CypherSemanticError(f"Invalid regular expression {pattern!r}: {exc}") from None


def regex_match(s, pattern):
    """Cypher `s =~ pattern`: the whole string must match."""
    if type(s) is not str or type(pattern) is not str:
        return None
    return _regex(pattern).fullmatch(s) is not None


def subscript(container, index):
    """Cypher `container[index]`: a list by integer (negative from the end,
    out of range is null) or a map by string key."""
    if container is None or index is None:
        return None
    tc = type(container)
    if tc is list or tc is tuple:
        if type(index) is not int:
            raise CypherTypeError(f"A list index must be an INTEGER, got {type_name(index)}")
        return container[index] if -len(container) <= index < len(container) else None
    if tc is dict:
        if type(index) is not str:
            raise CypherTypeError(f"A map key must be a STRING, got {type_name(index)}")
        return container.get(index)
    raise CypherTypeError(f"Cannot index into {type_name(container)}")


OMITTED = _Tag("omitted")  # a slice bound that was left out: lst[..2]


def _slice_bound(bound):
    if bound is OMITTED:
        return None
    if type(bound) is not int:
        raise CypherTypeError(f"A list slice bound must be an INTEGER, got {type_name(bound)}")
    return bound


def slice_(lst, start=OMITTED, end=OMITTED):
    """Cypher `lst[start..end]`; pass OMITTED for a bound that was left out
    (an explicit null bound gives null)."""
    if lst is None or start is None or end is None:
        return None
    if type(lst) is not list and type(lst) is not tuple:
        raise CypherTypeError(f"Cannot slice {type_name(lst)}")
    return list(lst[_slice_bound(start):_slice_bound(end)])


# ---------------------------------------------------------------- toString

def _float_text(f: float) -> str:
    """Java's Double.toString: 1.0, 0.001, 1.0E7, 1.5E-4, NaN, Infinity."""
    if f != f:
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    if f == 0.0 or 1e-3 <= abs(f) < 1e7:
        return repr(f)  # Python writes this range without an exponent, as Java
    return _scientific(f)


def _digits_and_exponent(f: float) -> tuple[str, int]:
    """The shortest round-trip digits of |f| and the power of ten of the first one."""
    mantissa, _, exp = repr(abs(f)).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent = int(exp or 0) + len(whole) - 1 - (len(whole + frac) - len((whole + frac).lstrip("0")))
    return digits.rstrip("0") or "0", exponent


def _scientific(f: float) -> str:
    digits, exponent = _digits_and_exponent(f)
    sign = "-" if f < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


_TO_STRING = {
    str: lambda v: v,
    bool: lambda v: "true" if v else "false",
    int: str,
    float: _float_text,
    Date: str,
    LocalTime: str,
    Time: str,
    LocalDateTime: str,
    DateTime: str,
    Duration: str,
}


def to_string(v):
    """Cypher's toString() of a scalar: numbers, booleans, strings, temporals;
    None for null. Other types raise CypherTypeError."""
    if v is None:
        return None
    convert = _TO_STRING.get(type(v))
    if convert is None:
        raise CypherTypeError(f"Cannot convert {type_name(v)} to STRING")
    return convert(v)

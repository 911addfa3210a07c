"""Cypher's scalar functions that need no graph: a registry of pure functions.

`FUNCTIONS` maps a lower-case name ("tointeger", "date.truncate") to a Python
function taking already-evaluated arguments. Its Python signature is its Cypher
arity; `check_arity(name, count)` checks a call at plan time and raises
`CypherSemanticError` for an unknown function or a wrong argument count.
A null argument gives null where openCypher says so; a value of the wrong type
raises `CypherTypeError`; a bad value (a negative length, a zero step) raises
`CypherArgumentError`. Graph functions (id, labels, type, nodes, length...)
belong to the executor.
"""

from __future__ import annotations

import inspect
import math
import random
import re
import uuid
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, ROUND_UP, Decimal

from weftdb.basics.errors import CypherArgumentError, CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.query import limits, temporal
from weftdb.query.values import to_string, type_name

_MIN_INT = -(1 << 63)
_MAX_INT = (1 << 63) - 1
_NUMBER = (int, float)
_LIST = (list, tuple)

FUNCTIONS: dict = {}


def _register(*names):
    def decorate(fn):
        for name in names:
            FUNCTIONS[name] = fn
        return fn
    return decorate


def _expect(fn_name: str, value, types, what: str) -> None:
    if type(value) not in types:
        raise CypherTypeError(f"{fn_name}() expects {what}, got {type_name(value)}")


# ---------------------------------------------------------------- lists and strings

@_register("size")
def size(value):
    if value is None:
        return None
    _expect("size", value, (str, list, tuple), "a STRING or a LIST")
    return len(value)


@_register("head")
def head(lst):
    if lst is None:
        return None
    _expect("head", lst, _LIST, "a LIST")
    return lst[0] if lst else None


@_register("last")
def last(lst):
    if lst is None:
        return None
    _expect("last", lst, _LIST, "a LIST")
    return lst[-1] if lst else None


@_register("tail")
def tail(lst):
    if lst is None:
        return None
    _expect("tail", lst, _LIST, "a LIST")
    return list(lst[1:])


def lazy_range(start, end, step=1) -> range:
    """Cypher's range() as a Python range: what `UNWIND range(...)` iterates,
    so it never holds the list."""
    for arg in (start, end, step):
        if type(arg) is not int:
            raise CypherArgumentError(f"range() expects INTEGER arguments, got {type_name(arg)}")
    if step == 0:
        raise CypherArgumentError("range() step must not be 0")
    return range(start, end + (1 if step > 0 else -1), step)


@_register("range")
def range_(start, end, step=1):
    """The list, built a chunk at a time so a huge one stops at the query's limits."""
    numbers = lazy_range(start, end, step)
    if len(numbers) <= limits.CHUNK:
        return list(numbers)
    out: list = []
    for first in range(0, len(numbers), limits.CHUNK):
        limits.check()
        out += numbers[first : first + limits.CHUNK]
    return out


@_register("reverse")
def reverse(value):
    if value is None:
        return None
    _expect("reverse", value, (str, list, tuple), "a STRING or a LIST")
    return value[::-1] if type(value) is str else list(reversed(value))


@_register("coalesce")
def coalesce(first, *rest):
    if first is not None:
        return first
    return next((v for v in rest if v is not None), None)


@_register("isempty")
def is_empty(value):
    if value is None:
        return None
    _expect("isEmpty", value, (str, list, tuple, dict), "a STRING, a LIST or a MAP")
    return not value


@_register("keys")
def keys(mapping):
    if mapping is None:
        return None
    _expect("keys", mapping, (dict,), "a MAP")
    return list(mapping)


@_register("properties")
def properties(mapping):
    if mapping is None:
        return None
    _expect("properties", mapping, (dict,), "a MAP")
    return dict(mapping)


def _string_fn(name: str, method):
    def fn(value):
        if value is None:
            return None
        _expect(name, value, (str,), "a STRING")
        return method(value)
    fn.__name__ = name
    return fn


for _name, _method in (("toupper", str.upper), ("upper", str.upper), ("tolower", str.lower),
                       ("lower", str.lower), ("trim", str.strip), ("ltrim", str.lstrip), ("rtrim", str.rstrip)):
    FUNCTIONS[_name] = _string_fn(_name, _method)


def _strings(name: str, *values) -> bool:
    """True when every value is a string, False when one is null; raises otherwise."""
    if any(v is None for v in values):
        return False
    for v in values:
        _expect(name, v, (str,), "STRING arguments")
    return True


@_register("split")
def split(text, delimiter):
    if text is None or delimiter is None:
        return None
    _expect("split", text, (str,), "a STRING")
    if type(delimiter) in _LIST:
        if not all(type(d) is str for d in delimiter):
            raise CypherTypeError("split() expects delimiters that are STRINGs")
        pattern = "|".join(re.escape(d) for d in delimiter if d)
        return re.split(pattern, text) if pattern else list(text)
    _expect("split", delimiter, (str,), "a STRING delimiter")
    return text.split(delimiter) if delimiter else list(text)


def _non_negative(name: str, what: str, value) -> int:
    _expect(name, value, (int,), f"an INTEGER {what}")
    if value < 0:
        raise CypherArgumentError(f"{name}() {what} must not be negative, got {value}")
    return value


@_register("substring")
def substring(text, start, length=None):
    if text is None:
        return None
    _expect("substring", text, (str,), "a STRING")
    start = _non_negative("substring", "start", start)
    if length is None:
        return text[start:]
    return text[start:start + _non_negative("substring", "length", length)]


@_register("left")
def left(text, length):
    if text is None:
        return None
    _expect("left", text, (str,), "a STRING")
    return text[:_non_negative("left", "length", length)]


@_register("right")
def right(text, length):
    if text is None:
        return None
    _expect("right", text, (str,), "a STRING")
    length = _non_negative("right", "length", length)
    return text[len(text) - length:] if length else ""


@_register("replace")
def replace(text, search, replacement):
    if not _strings("replace", text, search, replacement):
        return None
    return text.replace(search, replacement)


# ---------------------------------------------------------------- conversions

_INTEGER_TEXT = re.compile(r"\s*[+-]?\d+\s*")
_FLOAT_TEXT = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*|\s*[+-]?(NaN|Infinity)\s*")


def _float_from_text(text: str):
    return float(text) if _FLOAT_TEXT.fullmatch(text) else None


def _int_from_float(f: float):
    if math.isnan(f) or math.isinf(f):
        return None
    n = int(f)
    if n < _MIN_INT or n > _MAX_INT:
        raise CypherArithmeticError(f"integer overflow: {f} does not fit in 64 bits")
    return n


def _to_integer(value):
    """toInteger for every convertible type; None for text that is no number;
    raises KeyError for an unconvertible type."""
    kind = type(value)
    if kind is int:
        return value
    if kind is bool:
        return int(value)
    if kind is float:
        return _int_from_float(value)
    if kind is str:
        if _INTEGER_TEXT.fullmatch(value):
            n = int(value)
            return n if _MIN_INT <= n <= _MAX_INT else None
        f = _float_from_text(value)
        return None if f is None else _int_from_float(f)
    raise KeyError(kind)


def _to_float(value):
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        return float(value)
    if kind is str:
        return _float_from_text(value)
    raise KeyError(kind)


def _to_boolean(value):
    kind = type(value)
    if kind is bool:
        return value
    if kind is int:
        return value != 0
    if kind is str:
        return {"true": True, "false": False}.get(value.lower())
    raise KeyError(kind)


def _conversion(name: str, convert, or_null: bool):
    def fn(value):
        if value is None:
            return None
        try:
            return convert(value)
        except KeyError:
            if or_null:
                return None
            raise CypherTypeError(f"{name}() cannot convert {type_name(value)}") from None
    fn.__name__ = name
    return fn


def _to_string_value(value):
    try:
        return to_string(value)
    except CypherTypeError:
        raise KeyError(type(value)) from None


for _name, _convert in (("tointeger", _to_integer), ("tofloat", _to_float),
                        ("toboolean", _to_boolean), ("tostring", _to_string_value)):
    FUNCTIONS[_name] = _conversion(_name, _convert, or_null=False)
    FUNCTIONS[_name + "ornull"] = _conversion(_name + "OrNull", _convert, or_null=True)


def _digits_to_integer(value, _general=FUNCTIONS["tointeger"]):
    """toInteger of plain digits first, the text of a LOAD CSV field: a hot
    path (docs/hot-paths.md); the general conversion tests the text with a
    regular expression. 18 digits always fit in 64 bits."""
    if type(value) is str and len(value) < 19 and value.isdigit() and value.isascii():
        return int(value)
    return _general(value)


def _decimal_to_float(value, _general=FUNCTIONS["tofloat"]):
    """toFloat of digits with at most one point first, as toInteger above."""
    if type(value) is str and value.isascii() and value.replace(".", "", 1).isdigit():
        return float(value)
    return _general(value)


FUNCTIONS["tointeger"], FUNCTIONS["tofloat"] = _digits_to_integer, _decimal_to_float


# ---------------------------------------------------------------- numbers

def _number(name: str, value) -> None:
    _expect(name, value, _NUMBER, "a number")


@_register("abs")
def abs_(value):
    if value is None:
        return None
    _number("abs", value)
    if value == _MIN_INT and type(value) is int:
        raise CypherArithmeticError("integer overflow")
    return abs(value)


@_register("ceil")
def ceil(value):
    if value is None:
        return None
    _number("ceil", value)
    return float(math.ceil(value)) if math.isfinite(value) else float(value)


@_register("floor")
def floor(value):
    if value is None:
        return None
    _number("floor", value)
    return float(math.floor(value)) if math.isfinite(value) else float(value)


_ROUNDING_MODES = {
    "UP": ROUND_UP, "DOWN": ROUND_DOWN, "CEILING": ROUND_CEILING, "FLOOR": ROUND_FLOOR,
    "HALF_UP": ROUND_HALF_UP, "HALF_DOWN": ROUND_HALF_DOWN, "HALF_EVEN": ROUND_HALF_EVEN,
}


@_register("round")
def round_(value, precision=None, mode=None):
    """round(x) rounds half up (round(-2.5) = -2.0, as Java's Math.round);
    round(x, precision[, mode]) rounds decimally, half away from zero by default."""
    if value is None:
        return None
    _number("round", value)
    if not math.isfinite(value):
        return float(value)
    if precision is None and mode is None:
        return float(math.floor(value + 0.5))
    precision = 0 if precision is None else precision
    _expect("round", precision, (int,), "an INTEGER precision")
    rounding = _ROUNDING_MODES.get(str(mode).upper() if mode is not None else "HALF_UP")
    if rounding is None:
        raise CypherArgumentError(f"round() got an unknown rounding mode: {mode!r}")
    return float(Decimal(repr(value)).quantize(Decimal(1).scaleb(-precision), rounding=rounding))


@_register("sign")
def sign(value):
    if value is None:
        return None
    _number("sign", value)
    return (value > 0) - (value < 0)


@_register("rand")
def rand():
    return random.random()


@_register("pi")
def pi():
    return math.pi


@_register("e")
def e():
    return math.e


def _java_math(name: str, compute, overflow=math.inf):
    """A one-argument float function with Java's results where Python raises:
    NaN outside the domain, infinity on overflow."""
    def fn(value):
        if value is None:
            return None
        _number(name, value)
        try:
            return compute(float(value))
        except ValueError:
            return math.nan
        except OverflowError:
            return overflow
    fn.__name__ = name
    return fn


def _log(compute):
    return lambda x: -math.inf if x == 0.0 else compute(x)


def _cot(x: float) -> float:
    t = math.tan(x)
    return math.inf if t == 0.0 else 1.0 / t


for _name, _compute in (("sqrt", math.sqrt), ("exp", math.exp), ("log", _log(math.log)), ("log10", _log(math.log10)),
                        ("sin", math.sin), ("cos", math.cos), ("tan", math.tan), ("cot", _cot),
                        ("asin", math.asin), ("acos", math.acos), ("atan", math.atan),
                        ("radians", math.radians), ("degrees", math.degrees),
                        ("haversin", lambda x: (1.0 - math.cos(x)) / 2.0)):
    FUNCTIONS[_name] = _java_math(_name, _compute)


@_register("atan2")
def atan2(y, x):
    if y is None or x is None:
        return None
    _number("atan2", y)
    _number("atan2", x)
    return math.atan2(float(y), float(x))


# ---------------------------------------------------------------- misc

@_register("timestamp")
def timestamp():
    return temporal.statement_clock() // 1_000_000  # the same for every row of a statement, as datetime()


@_register("randomuuid")
def random_uuid():
    return str(uuid.uuid4())


# ---------------------------------------------------------------- temporal

for _kind in ("date", "localtime", "time", "localdatetime", "datetime"):
    FUNCTIONS[_kind] = getattr(temporal, _kind)
    FUNCTIONS[_kind + ".truncate"] = (lambda kind: lambda unit, value, overrides=None:
                                      temporal.truncate(kind, unit, value, overrides))(_kind)
    for _clock in ("transaction", "statement", "realtime"):
        FUNCTIONS[f"{_kind}.{_clock}"] = temporal.clock(_kind, _clock)
FUNCTIONS["datetime.fromepoch"] = temporal.datetime_from_epoch
FUNCTIONS["datetime.fromepochmillis"] = temporal.datetime_from_epoch_millis
FUNCTIONS["duration"] = temporal.duration
FUNCTIONS["duration.between"] = temporal.between
FUNCTIONS["duration.inmonths"] = temporal.in_months
FUNCTIONS["duration.indays"] = temporal.in_days
FUNCTIONS["duration.inseconds"] = temporal.in_seconds


# ---------------------------------------------------------------- arity

def _arity(fn) -> tuple[int, float]:
    params = inspect.signature(fn).parameters.values()
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return sum(p.kind is p.POSITIONAL_OR_KEYWORD for p in params), math.inf
    required = sum(p.default is p.empty for p in params)
    return required, len(params)


_ARITY = {name: _arity(fn) for name, fn in FUNCTIONS.items()}


def check_arity(name: str, count: int) -> None:
    """Raise CypherSemanticError unless `name` (any case) is a known function
    taking `count` arguments."""
    bounds = _ARITY.get(name.lower())
    if bounds is None:
        raise CypherSemanticError(f"Unknown function '{name}'")
    low, high = bounds
    if not low <= count <= high:
        expected = f"{low}" if low == high else f"{low} or more" if high == math.inf else f"{low} to {high}"
        raise CypherSemanticError(f"Function '{name}' takes {expected} arguments, got {count}")

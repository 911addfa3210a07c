"""Cypher's aggregate functions as accumulators.

An accumulator is made per group by `make_aggregate(name, distinct, extra_args)`,
fed one evaluated value per row with `add(value)` and read once with `result()`.
Null values are skipped (count(*) is `CountStar`, which counts every row).
percentileCont/percentileDisc also take the percentile: either as an extra
argument at construction, or per row as `add(value, percentile)`, in which case
the first non-null row's percentile is used.
"""

from __future__ import annotations

import math

from weftdb.basics.errors import CypherArgumentError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import Duration
from weftdb.query.values import add, group_key, order_key, type_name

_NUMBER = (int, float)


class CountStar:
    """count(*): every row counts."""

    __slots__ = ("n",)

    def __init__(self):
        self.n = 0

    def add(self, value=None) -> None:
        self.n += 1

    def result(self) -> int:
        return self.n


class Count:
    """count(x): non-null values."""

    __slots__ = ("n",)

    def __init__(self):
        self.n = 0

    def add(self, value) -> None:
        if value is not None:
            self.n += 1

    def result(self) -> int:
        return self.n


class Sum:
    """sum(x): an integer while only integers came, a float once one came,
    a duration for durations; 0 for no rows."""

    __slots__ = ("total",)

    def __init__(self):
        self.total = None

    def add(self, value) -> None:
        if value is None:
            return
        if type(value) not in _NUMBER and type(value) is not Duration:
            raise CypherTypeError(f"sum() expects numbers or durations, got {type_name(value)}")
        if self.total is None:
            self.total = value
        elif (type(self.total) is Duration) != (type(value) is Duration):
            raise CypherTypeError(f"sum() cannot mix {type_name(self.total)} and {type_name(value)}")
        else:
            self.total = add(self.total, value)

    def result(self):
        return 0 if self.total is None else self.total


class Avg:
    """avg(x): a float for numbers, a duration for durations; null for no rows."""

    __slots__ = ("sum", "n")

    def __init__(self):
        self.sum = Sum()
        self.n = 0

    def add(self, value) -> None:
        if value is not None:
            self.sum.add(value)
            self.n += 1

    def result(self):
        total = self.sum.total
        if total is None:
            return None
        return total / self.n


class _Extreme:
    """min/max over any values: `order_key` order, so mixed types never raise."""

    __slots__ = ("best", "key")
    _sign = 1

    def __init__(self):
        self.best = None
        self.key = None

    def add(self, value) -> None:
        if value is None:
            return
        key = order_key(value)
        if self.key is None or (key > self.key if self._sign > 0 else key < self.key):
            self.best, self.key = value, key

    def result(self):
        return self.best


class Max(_Extreme):
    """max(x)."""

    __slots__ = ()
    _sign = 1


class Min(_Extreme):
    """min(x)."""

    __slots__ = ()
    _sign = -1


class Collect:
    """collect(x): the non-null values in row order."""

    __slots__ = ("items",)

    def __init__(self):
        self.items = []

    def add(self, value) -> None:
        if value is not None:
            self.items.append(value)

    def result(self) -> list:
        return self.items


class StDev:
    """stDev(x): the sample standard deviation (Welford); 0.0 below two values."""

    __slots__ = ("n", "mean", "m2")
    _population = False

    def __init__(self):
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def add(self, value) -> None:
        if value is None:
            return
        if type(value) not in _NUMBER:
            raise CypherTypeError(f"stDev() expects numbers, got {type_name(value)}")
        self.n += 1
        delta = value - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (value - self.mean)

    def result(self) -> float:
        denominator = self.n if self._population else self.n - 1
        return math.sqrt(self.m2 / denominator) if denominator > 0 else 0.0


class StDevP(StDev):
    """stDevP(x): the population standard deviation."""

    __slots__ = ()
    _population = True


class _Percentile:
    """The values of a percentile aggregate and the percentile itself."""

    __slots__ = ("values", "percentile")

    def __init__(self, percentile=None):
        self.values = []
        self.percentile = None if percentile is None else self._checked(percentile)

    @staticmethod
    def _checked(percentile) -> float:
        if type(percentile) not in _NUMBER:
            raise CypherTypeError(f"The percentile must be a number, got {type_name(percentile)}")
        if not 0.0 <= percentile <= 1.0:
            raise CypherArgumentError(f"The percentile must be between 0.0 and 1.0, got {percentile}")
        return float(percentile)

    def add(self, value, percentile=None) -> None:
        if value is None:
            return
        if type(value) not in _NUMBER:
            raise CypherTypeError(f"percentile functions expect numbers, got {type_name(value)}")
        if self.percentile is None:
            if percentile is None:
                raise CypherSemanticError("A percentile aggregate needs a percentile argument")
            self.percentile = self._checked(percentile)
        self.values.append(value)


class PercentileCont(_Percentile):
    """percentileCont(x, p): linear interpolation between the nearest values."""

    __slots__ = ()

    def result(self):
        if not self.values:
            return None
        values = sorted(self.values)
        position = self.percentile * (len(values) - 1)
        low = math.floor(position)
        high = min(low + 1, len(values) - 1)
        return float(values[low] + (values[high] - values[low]) * (position - low))


class PercentileDisc(_Percentile):
    """percentileDisc(x, p): the nearest value at or above the percentile."""

    __slots__ = ()

    def result(self):
        if not self.values:
            return None
        values = sorted(self.values)
        return values[max(0, math.ceil(self.percentile * len(values)) - 1)]


class Distinct:
    """`agg(DISTINCT x)`: passes each distinct non-null value on once."""

    __slots__ = ("inner", "seen")

    def __init__(self, inner):
        self.inner = inner
        self.seen = set()

    def add(self, value, *extra) -> None:
        if value is None:
            return
        key = group_key(value)
        if key not in self.seen:
            self.seen.add(key)
            self.inner.add(value, *extra)

    def result(self):
        return self.inner.result()


_CLASSES = {
    "count": Count, "sum": Sum, "avg": Avg, "min": Min, "max": Max, "collect": Collect,
    "stdev": StDev, "stdevp": StDevP, "percentilecont": PercentileCont, "percentiledisc": PercentileDisc,
}
AGGREGATES = frozenset(_CLASSES)


def make_aggregate(name_lower: str, distinct: bool = False, extra_args=()):
    """A fresh accumulator for aggregate `name_lower` (see AGGREGATES)."""
    cls = _CLASSES.get(name_lower)
    if cls is None:
        raise CypherSemanticError(f"Unknown aggregate function '{name_lower}'")
    accumulator = cls(*extra_args)
    return Distinct(accumulator) if distinct else accumulator

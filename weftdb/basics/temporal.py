"""Temporal values shared by every layer: `Duration` and the ISO-8601 text of each type.

Dates, times and datetimes are Python's own `datetime` types:

    Cypher type      Python value
    Date             datetime.date
    LocalTime        datetime.time without tzinfo
    Time             datetime.time with tzinfo (a fixed offset)
    LocalDateTime    datetime.datetime without tzinfo
    DateTime         datetime.datetime with tzinfo (an offset or a zoneinfo zone)
    Duration         weftdb.Duration (below)

Python has no type for a Cypher duration, whose months, days and seconds do
not convert into each other, so `Duration` keeps the four components apart,
as Cypher and Bolt do. Python values have microsecond precision; only a
`Duration` keeps nanoseconds.

The codec (WAL and snapshots), Bolt, the dump and the shell read and write
these; the Cypher functions that build and take them apart are
`weftdb.query.temporal`.
"""

from __future__ import annotations

import datetime as _dt
from fractions import Fraction
from zoneinfo import ZoneInfo

from weftdb.basics.errors import CypherArithmeticError, CypherTypeError

UTC = _dt.timezone.utc
NANOS = 1_000_000_000
AVG_DAYS_PER_MONTH = Fraction("30.436875")  # 365.2425 / 12, as Cypher


def trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero, as Java."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


class Duration:
    """A Cypher duration: months, days, seconds and nanoseconds, kept apart.

    Normalised as Cypher does: `seconds` carries whole seconds and
    `nanoseconds` is in [0, 1e9)."""

    __slots__ = ("months", "days", "seconds", "nanoseconds")

    def __init__(self, months: int = 0, days: int = 0, seconds: int = 0, nanoseconds: int = 0):
        extra, nanoseconds = divmod(int(nanoseconds), 1_000_000_000)
        self.months = int(months)
        self.days = int(days)
        self.seconds = int(seconds) + extra
        self.nanoseconds = nanoseconds

    @classmethod
    def from_parts(cls, months=0, days=0, seconds=0) -> "Duration":
        """Build from possibly fractional parts, cascading fractions down as Cypher
        does: a fraction of a month becomes days (average month), of a day seconds."""
        months, days, seconds = Fraction(months), Fraction(days), Fraction(seconds)
        whole_months = int(months)
        days += (months - whole_months) * AVG_DAYS_PER_MONTH
        whole_days = int(days)
        seconds += (days - whole_days) * 86400
        return cls(whole_months, whole_days, 0, round(seconds * NANOS))

    def _key(self) -> tuple[int, int, int, int]:
        return (self.months, self.days, self.seconds, self.nanoseconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(("Duration",) + self._key())

    def __repr__(self) -> str:
        return f"Duration(months={self.months}, days={self.days}, seconds={self.seconds}, nanoseconds={self.nanoseconds})"

    def total_nanoseconds(self) -> int:
        """The seconds part as one signed count of nanoseconds."""
        return self.seconds * NANOS + self.nanoseconds

    def __str__(self) -> str:
        years, months = trunc_div(self.months, 12), self.months - trunc_div(self.months, 12) * 12
        text = ["P"]
        if years:
            text.append(f"{years}Y")
        if months:
            text.append(f"{months}M")
        if self.days:
            text.append(f"{self.days}D")
        total = self.total_nanoseconds()
        if total:
            text.append("T")
            sign = "-" if total < 0 else ""
            hours, rest = divmod(abs(total), 3600 * NANOS)
            minutes, rest = divmod(rest, 60 * NANOS)
            if hours:
                text.append(f"{sign}{hours}H")
            if minutes:
                text.append(f"{sign}{minutes}M")
            if rest:
                text.append(f"{sign}{_seconds_text(rest)}S")
        return "".join(text) if len(text) > 1 else "PT0S"

    def __add__(self, other: "Duration") -> "Duration":
        if not isinstance(other, Duration):
            return NotImplemented
        return Duration(self.months + other.months, self.days + other.days,
                        self.seconds + other.seconds, self.nanoseconds + other.nanoseconds)

    def __neg__(self) -> "Duration":
        return Duration(-self.months, -self.days, -self.seconds, -self.nanoseconds)

    def __sub__(self, other: "Duration") -> "Duration":
        if not isinstance(other, Duration):
            return NotImplemented
        return self + (-other)

    def _scaled(self, f: Fraction) -> "Duration":
        return Duration.from_parts(self.months * f, self.days * f, Fraction(self.total_nanoseconds(), NANOS) * f)

    def __mul__(self, factor) -> "Duration":
        if type(factor) not in (int, float):
            return NotImplemented
        try:
            return self._scaled(Fraction(factor))
        except (ValueError, OverflowError):
            raise CypherArithmeticError(f"Cannot multiply a duration by {factor}") from None

    __rmul__ = __mul__

    def __truediv__(self, divisor) -> "Duration":
        if type(divisor) not in (int, float):
            return NotImplemented
        if divisor == 0:
            raise CypherArithmeticError("/ by zero")
        try:
            return self._scaled(1 / Fraction(divisor))
        except (ValueError, OverflowError):
            raise CypherArithmeticError(f"Cannot divide a duration by {divisor}") from None


def _seconds_text(nanos: int) -> str:
    """Non-negative nanoseconds as seconds with the shortest fraction: 6.5, 6."""
    seconds, frac = divmod(nanos, NANOS)
    return f"{seconds}.{frac:09d}".rstrip("0") if frac else str(seconds)


# ---------------------------------------------------------------- ISO text out

def offset_text(offset: _dt.timedelta) -> str:
    if not offset:
        return "Z"
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{seconds:02d}" if seconds else "")


def _time_text(t) -> str:
    text = f"{t.hour:02d}:{t.minute:02d}:{t.second:02d}"
    return text + f".{t.microsecond:06d}".rstrip("0") if t.microsecond else text


def _date_text(d) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def _zone_suffix(v) -> str:
    zone = v.tzinfo
    text = offset_text(v.utcoffset())
    return text + f"[{zone.key}]" if isinstance(zone, ZoneInfo) else text


def to_iso(value) -> str:
    """Cypher's toString() of a temporal value (ISO-8601)."""
    kind = type(value)
    if kind is _dt.datetime:
        text = f"{_date_text(value)}T{_time_text(value)}"
        return text + _zone_suffix(value) if value.tzinfo is not None else text
    if kind is _dt.date:
        return _date_text(value)
    if kind is _dt.time:
        return _time_text(value) + _zone_suffix(value) if value.tzinfo is not None else _time_text(value)
    if kind is Duration:
        return str(value)
    raise CypherTypeError(f"Not a temporal value: {value!r}")

"""Cypher's temporal functions: constructors, selection, components, arithmetic, truncation.

The constructors (`date`, `localtime`, `time`, `localdatetime`, `datetime`,
`duration`) accept an ISO-8601 string, a map, another temporal value or
nothing (the statement's clock, UTC). A map holds components (`{year: 2024,
week: 3}`) and may select parts of other temporal values (`{date: d, time: t,
timezone: z}`, `{datetime: dt, day: 1}`): the selected value is the start and
the components given beside it replace its own, as openCypher's Temporal3
says. Invalid input raises `CypherSemanticError`; a value of the wrong type
`CypherTypeError`. The values themselves and their ISO text are
`weftdb.basics.temporal`; everything here is exact to the nanosecond.
"""

from __future__ import annotations

import re
import time as _time
from contextvars import ContextVar
from fractions import Fraction
from functools import lru_cache

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import (
    DAY_NANOS,
    DAY_SECONDS,
    MAX_YEAR,
    MIN_YEAR,
    NANOS,
    Date,
    DateTime,
    Duration,
    LocalDateTime,
    LocalTime,
    Time,
    adopt,
    check_days,
    check_offset,
    civil_from_days,
    date_days,
    day_of_week,
    days_from_civil,
    iso_week,
    month_length,
    offset_at,
    offset_text,
    resolve_local,
    time_nanos,
    trunc_div,
    week_one,
    weeks_in,
    zone_name,
)
from weftdb.query import limits

_NOW = object()  # default argument of the constructors: "no argument given"
_INSTANTS = (Date, LocalTime, Time, LocalDateTime, DateTime)
_DATED = (Date, LocalDateTime, DateTime)
_TIMED = (LocalTime, Time, LocalDateTime, DateTime)


# ---------------------------------------------------------------- zones

class _Zone:
    """Where a value is: a fixed offset (seconds east of UTC) or a named zone."""

    __slots__ = ("offset", "name")

    def __init__(self, offset: int | None, name: str | None):
        self.offset, self.name = offset, name

    def resolve(self, local_seconds: int, preferred: int | None = None) -> tuple[int, int]:
        """(UTC seconds, offset) of a wall-clock time here."""
        if self.name is None:
            return local_seconds - self.offset, self.offset
        return resolve_local(self.name, local_seconds, preferred)

    def offset_at(self, utc_seconds: int) -> int:
        return self.offset if self.name is None else offset_at(self.name, utc_seconds)


_UTC = _Zone(0, None)
_OFFSET = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?")


@lru_cache(maxsize=512)
def _zone(text: str) -> _Zone:
    """A zone from an offset text ("Z", "+01:00", "-0230") or a zone name ("Europe/Berlin")."""
    if text.upper() == "Z":
        return _UTC
    match = _OFFSET.fullmatch(text)
    if match:
        sign, hours, minutes, seconds = match.groups()
        offset = int(hours) * 3600 + int(minutes or 0) * 60 + int(seconds or 0)
        if int(minutes or 0) > 59 or int(seconds or 0) > 59:
            raise CypherSemanticError(f"Invalid UTC offset: {text!r}")
        return _Zone(check_offset(-offset if sign == "-" else offset), None)
    return _Zone(None, zone_name(text))


def _zone_arg(value) -> _Zone | None:
    if value is None:
        return None
    if type(value) is not str:
        raise CypherTypeError(f"A time zone must be a string, got {value!r}")
    return _zone(value)


def _zone_of(value) -> _Zone | None:
    """The zone a value is in, or None for a local value."""
    kind = type(value)
    if kind is DateTime:
        return _Zone(value.offset, value.zone)
    if kind is Time:
        return _Zone(value.offset, None)
    return None


# ---------------------------------------------------------------- parts of values

def _local_days(value) -> int | None:
    kind = type(value)
    if kind is Date:
        return value.days
    if kind is LocalDateTime:
        return value.seconds // DAY_SECONDS
    if kind is DateTime:
        return (value.seconds + value.offset) // DAY_SECONDS
    return None


def _local_nanos(value) -> int | None:
    """Nanoseconds since local midnight, or None for a date."""
    kind = type(value)
    if kind is LocalTime or kind is Time:
        return value.nanos
    if kind is LocalDateTime:
        return value.seconds % DAY_SECONDS * NANOS + value.nanos
    if kind is DateTime:
        return (value.seconds + value.offset) % DAY_SECONDS * NANOS + value.nanos
    return None


def _make(kind: str, days: int | None, nanos: int | None, zone: _Zone | None, preferred: int | None = None):
    """A value of `kind` from a local date (days), a local time (nanos) and a zone."""
    if kind == "date":
        return Date._of(check_days(days))
    if kind == "localtime":
        return LocalTime._of(nanos)
    if kind == "time":
        return Time._of(nanos, zone.offset)
    seconds, nanos = divmod(check_days(days) * DAY_NANOS + nanos, NANOS)
    if kind == "localdatetime":
        return LocalDateTime._of(seconds, nanos)
    utc, offset = zone.resolve(seconds, preferred)
    return DateTime._of(utc, nanos, offset, zone.name)


def _time_offset(zone: _Zone, utc_seconds: int) -> int:
    """The offset a time of day takes in `zone` (a named zone: the one in force at the instant)."""
    return zone.offset_at(utc_seconds)


# ---------------------------------------------------------------- the statement's clock

_CLOCK: ContextVar[tuple] = ContextVar("weftdb_statement_clock", default=(None, 0))


def statement_clock() -> int:
    """Nanoseconds since the epoch, the same for every call within one statement
    (`datetime()`, `date.statement()`, `timestamp()`...): read once per running
    query, whose ExecutionContext makes a fresh `tick` for each statement."""
    ctx = limits.RUNNING.get()
    if ctx is None:
        return _time.time_ns()
    statement, now = _CLOCK.get()
    if statement is not ctx.tick:
        now = _time.time_ns()
        _CLOCK.set((ctx.tick, now))
    return now


def _at(kind: str, now_ns: int, zone: _Zone | None):
    """The value of `kind` at an instant, in `zone` (UTC when None)."""
    zone = zone or _UTC
    utc, nanos = divmod(now_ns, NANOS)
    offset = zone.offset_at(utc)
    if kind == "datetime":
        return DateTime._of(utc, nanos, offset, zone.name)
    days, seconds = divmod(utc + offset, DAY_SECONDS)
    nanos += seconds * NANOS
    return _make(kind, days, nanos, _Zone(offset, None))


def clock(kind: str, which: str):
    """`date.statement()`, `datetime.realtime('Europe/Berlin')`...: the current value of `kind`
    by the statement's clock (`statement`, `transaction`) or the system's (`realtime`)."""
    def now(tz=_NOW):
        if tz is None:
            return None
        if tz is _NOW:
            tz = None
        elif type(tz) is dict:
            tz = {key.lower(): value for key, value in tz.items()}.get("timezone")
        now_ns = _time.time_ns() if which == "realtime" else statement_clock()
        return _at(kind, now_ns, _zone_arg(tz))
    return now


# ---------------------------------------------------------------- parsing

_DATE_RE = (r"(?P<year>\d{4}|[+-]\d{1,9})(?:-?(?:(?P<month>\d{2})(?:-?(?P<day>\d{2}))?"
            r"|W(?P<week>\d{2})(?:-?(?P<dayofweek>\d))?|(?P<ordinalday>\d{3})"
            r"|Q(?P<quarter>\d)(?:-?(?P<dayofquarter>\d{2}))?))?")
_TIME_RE = (r"(?P<hour>\d{2})(?::?(?P<minute>\d{2})(?::?(?P<second>\d{2})"
            r"(?:[.,](?P<fraction>\d{1,9}))?)?)?")
_ZONE_RE = r"(?P<offset>Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?(?:\[(?P<zone>[^\]]+)\])?"
_PATTERNS = {
    "date": re.compile(_DATE_RE),
    "localtime": re.compile(_TIME_RE),
    "time": re.compile(_TIME_RE + _ZONE_RE, re.I),
    "localdatetime": re.compile(f"{_DATE_RE}(?:T{_TIME_RE})?", re.I),
    "datetime": re.compile(f"{_DATE_RE}(?:T{_TIME_RE})?{_ZONE_RE}", re.I),
}
_NUM = r"([-+]?\d+(?:[.,]\d+)?)"
_DURATION_RE = re.compile(
    rf"([-+]?)P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?", re.I)
_DATE_DURATION_RE = re.compile(
    r"([-+]?)P(?:(\d{4})(?:-(\d{2})-(\d{2})|(\d{2})(\d{2})))?"
    r"(?:T(?:(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?|(\d{2})(?:(\d{2})(?:(\d{2})(?:[.,](\d{1,9}))?)?)?))?", re.I)


def _parse_string(kind: str, text: str) -> dict:
    match = _PATTERNS[kind].fullmatch(text.strip())
    if match is None:
        raise CypherSemanticError(f"Text cannot be parsed to a {kind}: {text!r}")
    groups = match.groupdict()
    parts = {k: int(v) for k, v in groups.items() if v is not None and k not in ("fraction", "offset", "zone")}
    if groups.get("fraction"):
        parts["nanosecond"] = int(groups["fraction"].ljust(9, "0"))
    zone, offset = groups.get("zone"), groups.get("offset")
    if zone or offset:
        parts["timezone"] = zone or offset
    if zone and offset:  # picks the side of a DST fold: 02:30+01:00[Europe/Berlin] is the second 02:30
        parts["_offset"] = _zone(offset).offset
    return parts


def _parse_duration(text: str) -> Duration:
    text = text.strip()
    match = _DURATION_RE.fullmatch(text)
    if match is not None and any(match.groups()[1:]):
        sign, *numbers = match.groups()
        y, mo, w, d, h, mi, s = (Fraction(n.replace(",", ".")) if n else 0 for n in numbers)
        factor = -1 if sign == "-" else 1
        return Duration.from_parts(factor * (y * 12 + mo), factor * (w * 7 + d), factor * (h * 3600 + mi * 60 + s))
    match = _DATE_DURATION_RE.fullmatch(text)
    if match is not None and any(match.groups()[1:]):
        return _date_based_duration(match.groups())
    raise CypherSemanticError(f"Text cannot be parsed to a duration: {text!r}")


def _date_based_duration(groups) -> Duration:
    """`P2012-02-02T14:37:21.545`: a duration written as a date and a time."""
    sign, year, long_month, long_day, short_month, short_day, *clock = groups
    months = days = 0
    if year is not None:
        months, days = int(long_month or short_month), int(long_day or short_day)
        if months > 12 or days > 31:
            raise CypherSemanticError(f"Text cannot be parsed to a duration: months {months}, days {days} out of range")
        months += int(year) * 12
    hour, minute, second, fraction = clock[:4] if clock[0] is not None else clock[4:]
    hours, minutes, seconds = int(hour or 0), int(minute or 0), int(second or 0)
    if hours > 24 or minutes > 60 or seconds > 60:
        raise CypherSemanticError("Text cannot be parsed to a duration: hours, minutes or seconds out of range")
    nanos = ((hours * 60 + minutes) * 60 + seconds) * NANOS + int((fraction or "0").ljust(9, "0"))
    factor = -1 if sign == "-" else 1
    return Duration(factor * months, factor * days, 0, factor * nanos)


# ---------------------------------------------------------------- components

_DATE_KEYS = {"year", "month", "day", "week", "dayofweek", "ordinalday", "quarter", "dayofquarter"}
_TIME_KEYS = {"hour", "minute", "second", "millisecond", "microsecond", "nanosecond"}
_SUBSECOND = ("millisecond", "microsecond", "nanosecond")
_ALIASES = {"weekday": "dayofweek", "quarterday": "dayofquarter"}
_ALLOWED_KEYS = {
    "date": _DATE_KEYS | {"timezone", "date", "datetime"},
    "localtime": _TIME_KEYS | {"timezone", "time", "datetime"},
    "time": _TIME_KEYS | {"timezone", "time", "datetime"},
    "localdatetime": _DATE_KEYS | _TIME_KEYS | {"timezone", "date", "time", "datetime"},
    "datetime": _DATE_KEYS | _TIME_KEYS | {"timezone", "date", "time", "datetime", "epochseconds", "epochmillis"},
}
_SELECTORS = ("date", "time", "datetime")
# Ways of naming a day; a map may use one of them.
_DATE_GROUPS = ({"month", "day"}, {"week", "dayofweek"}, {"quarter", "dayofquarter"}, {"ordinalday"})


def _map_parts(kind: str, mapping: dict) -> dict:
    parts = {}
    for key, value in mapping.items():
        if value is None:
            continue
        key = key.lower()
        parts[_ALIASES.get(key, key)] = value
    unknown = parts.keys() - _ALLOWED_KEYS[kind]
    if unknown:
        raise CypherSemanticError(f"{kind}() got unknown components: {', '.join(sorted(unknown))}")
    for key, value in parts.items():
        if key in _SELECTORS:
            if type(value) not in _INSTANTS:
                raise CypherTypeError(f"{kind}() component {key} must be a temporal value, got {value!r}")
        elif key != "timezone" and type(value) is not int:
            raise CypherTypeError(f"{kind}() component {key} must be an integer, got {value!r}")
    if "datetime" in parts and ("date" in parts or "time" in parts):
        raise CypherSemanticError(f"{kind}() cannot select a datetime together with a date or a time")
    if sum(1 for group in _DATE_GROUPS if parts.keys() & group) > 1:
        raise CypherSemanticError(f"{kind}() mixes ways of naming the day: {', '.join(sorted(parts.keys() & _DATE_KEYS))}")
    return parts


def _checked(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise CypherSemanticError(f"Invalid value for {name}: {value} ({low} to {high})")
    return value


def _new_date(p: dict) -> int:
    """Days since the epoch of the date the components name (no date selected)."""
    if "year" not in p:
        raise CypherSemanticError("year must be specified")
    year = _checked("year", p["year"], MIN_YEAR, MAX_YEAR)
    if "week" in p or "dayofweek" in p:
        days = week_one(year)
        return _with_date(days, {k: p[k] for k in ("week", "dayofweek") if k in p})
    return _with_date(days_from_civil(year, 1, 1), {k: v for k, v in p.items() if k != "year"})


def _with_date(days: int, p: dict) -> int:
    """`days` with the date components of `p` put in, in openCypher's order: year,
    quarter, month, week, ordinal day, day of quarter, day of week, day. In a
    week date (`week` or `dayOfWeek` given) the year is the week-based year."""
    if "year" in p:
        year = _checked("year", p["year"], MIN_YEAR, MAX_YEAR)
        if "week" in p or "dayofweek" in p:
            _, week, dow = iso_week(days)
            days = week_one(year) + (min(week, weeks_in(year)) - 1) * 7 + dow - 1
        else:
            _, month, day = civil_from_days(days)
            days = days_from_civil(year, month, min(day, month_length(year, month)))
    if "quarter" in p:
        year, month, day = civil_from_days(days)
        month += (_checked("quarter", p["quarter"], 1, 4) - (month - 1) // 3 - 1) * 3
        days = days_from_civil(year, month, min(day, month_length(year, month)))
    if "month" in p:
        year, _, day = civil_from_days(days)
        month = _checked("month", p["month"], 1, 12)
        days = days_from_civil(year, month, min(day, month_length(year, month)))
    if "week" in p:
        week_year, week, _ = iso_week(days)
        days += (_checked("week", p["week"], 1, weeks_in(week_year)) - week) * 7
    if "ordinalday" in p:
        year = civil_from_days(days)[0]
        days = days_from_civil(year, 1, 1) + _checked("ordinalDay", p["ordinalday"], 1, 365 + (month_length(year, 2) == 29)) - 1
    if "dayofquarter" in p:
        year, month, _ = civil_from_days(days)
        first = days_from_civil(year, (month - 1) // 3 * 3 + 1, 1)
        length = days_from_civil(year + (month > 9), (month + 2) // 3 * 3 % 12 + 1, 1) - first
        days = first + _checked("dayOfQuarter", p["dayofquarter"], 1, length) - 1
    if "dayofweek" in p:
        days += _checked("dayOfWeek", p["dayofweek"], 1, 7) - day_of_week(days)
    if "day" in p:
        year, month, _ = civil_from_days(days)
        days = date_days(year, month, p["day"])
    return days


def _subsecond(p: dict) -> int:
    """The nanoseconds within the second that `millisecond`, `microsecond` and
    `nanosecond` make together (each finer one below 1000 when a coarser is given)."""
    ms, us, ns = (p.get(key) for key in _SUBSECOND)
    total = 0
    if ms is not None:
        total += _checked("millisecond", ms, 0, 999) * 1_000_000
    if us is not None:
        total += _checked("microsecond", us, 0, 999 if ms is not None else 999_999) * 1000
    if ns is not None:
        total += _checked("nanosecond", ns, 0, 999 if ms is not None or us is not None else NANOS - 1)
    return total


def _with_time(nanos: int, p: dict) -> int:
    """`nanos` (since midnight) with the time components of `p` put in."""
    hour, rest = divmod(nanos, 3_600_000_000_000)
    minute, rest = divmod(rest, 60_000_000_000)
    second, fraction = divmod(rest, NANOS)
    if any(key in p for key in _SUBSECOND):
        fraction = _subsecond(p)
    return time_nanos(p.get("hour", hour), p.get("minute", minute), p.get("second", second), fraction)


# ---------------------------------------------------------------- building

def _selected_date(p: dict) -> int | None:
    source = p.get("datetime", p.get("date"))
    if source is None:
        return None
    days = _local_days(source)
    if days is None:
        raise CypherTypeError(f"Cannot select a date from {source!r}")
    return days


def _selected_time(p: dict) -> tuple[int | None, _Zone | None]:
    source = p.get("datetime", p.get("time"))
    if source is None:
        return None, None
    nanos = _local_nanos(source)
    return (0 if nanos is None else nanos), _zone_of(source)


def _date_of(p: dict) -> int:
    days = _selected_date(p)
    date_parts = {k: v for k, v in p.items() if k in _DATE_KEYS}
    return _new_date(date_parts) if days is None else _with_date(days, date_parts)


def _time_of(p: dict, selected: int | None) -> int:
    time_parts = {k: v for k, v in p.items() if k in _TIME_KEYS}
    return _with_time(0 if selected is None else selected, time_parts)


def _build(kind: str, p: dict):
    """A temporal value of `kind` from a map's components (lower-case keys)."""
    tz = _zone_arg(p.get("timezone"))
    if not (p.keys() - {"timezone"}):
        return _at(kind, statement_clock(), tz)
    if "epochseconds" in p or "epochmillis" in p:
        nanos = p.get("epochseconds", 0) * NANOS + p.get("epochmillis", 0) * 1_000_000 + _subsecond(p)
        return _at(kind, nanos, tz)
    selected, source_zone = _selected_time(p)
    nanos = _time_of(p, selected) if kind != "date" else None
    if kind in ("localtime", "time"):
        if kind == "localtime":
            return LocalTime._of(nanos)
        return _time_with_zone(nanos, source_zone, tz, p.get("datetime", p.get("time")))
    days = _date_of(p)
    if kind == "date":
        return Date._of(check_days(days))
    if kind == "localdatetime":
        return _make(kind, days, nanos, None)
    return _datetime_with_zone(days, nanos, source_zone, tz, p)


def _time_with_zone(nanos: int, source_zone: _Zone | None, tz: _Zone | None, source) -> Time:
    """The zone of `time({...})`: the selected time's, converted to `timezone` when
    both are given; else `timezone`, else UTC."""
    now = source.seconds if type(source) is DateTime else statement_clock() // NANOS
    if source_zone is not None:
        offset = source_zone.offset
        if tz is None:
            return Time._of(nanos, offset)
        target = _time_offset(tz, now)
        return Time._of((nanos + (target - offset) * NANOS) % DAY_NANOS, target)
    return Time._of(nanos, 0 if tz is None else _time_offset(tz, now))


def _datetime_with_zone(days: int, nanos: int, source_zone: _Zone | None, tz: _Zone | None, p: dict) -> DateTime:
    """The zone of `datetime({...})`: a selected time keeps its zone and moves to
    `timezone` keeping the instant; otherwise the wall clock is read in
    `timezone` (UTC by default)."""
    if source_zone is None:
        value = _make("datetime", days, nanos, tz or _UTC, p.get("_offset"))
        asked = p.get("_offset")
        if asked is not None and value.offset != asked and (value.seconds + value.offset) * NANOS + value.nanos == \
                days * DAY_NANOS + nanos:
            raise CypherSemanticError(f"The offset {offset_text(asked)} is not one {value.zone} has at {value}")
        return value
    preferred = source_zone.offset if source_zone.name is not None else None
    value = _make("datetime", days, nanos, source_zone, preferred)
    if tz is None:
        return value
    return DateTime._of(value.seconds, value.nanos, tz.offset_at(value.seconds), tz.name)


def _convert(kind: str, value):
    """`date(datetime)`, `localtime(datetime)`... : keep what the target type holds."""
    days, nanos, zone = _local_days(value), _local_nanos(value), _zone_of(value)
    if kind in ("date", "localdatetime", "datetime") and days is None:
        raise CypherTypeError(f"Cannot make a {kind} from a {type(value).__name__} without a date")
    if kind in ("time", "localtime") and nanos is None:
        raise CypherTypeError(f"Cannot make a {kind} from a date")
    if kind == "date":
        return Date._of(days)
    nanos = nanos or 0
    if kind == "localtime":
        return LocalTime._of(nanos)
    if kind == "time":
        return Time._of(nanos, zone.offset if zone is not None else 0)
    if kind == "localdatetime":
        return _make(kind, days, nanos, None)
    if type(value) is DateTime:
        return value
    return _make(kind, days, nanos, _UTC)


def _construct(kind: str, value):
    if value is _NOW:
        return _at(kind, statement_clock(), None)
    if value is None:
        return None
    if type(value) is str:
        return _with_parsed(kind, _parse_string(kind, value))
    if type(value) is dict:
        return _build(kind, _map_parts(kind, value))
    value = adopt(value)
    if type(value) in _INSTANTS:
        return _convert(kind, value)
    raise CypherTypeError(f"{kind}() expects a string, a map or a temporal value, got {value!r}")


def _with_parsed(kind: str, parts: dict):
    try:
        return _build(kind, parts)
    except CypherSemanticError as exc:
        raise CypherSemanticError(f"Text cannot be parsed to a {kind}: {exc}") from None


def date(value=_NOW) -> Date | None:
    """Cypher `date()`."""
    return _construct("date", value)


def localtime(value=_NOW) -> LocalTime | None:
    """Cypher `localtime()`."""
    return _construct("localtime", value)


def time(value=_NOW) -> Time | None:
    """Cypher `time()`: a time of day with an offset."""
    return _construct("time", value)


def localdatetime(value=_NOW) -> LocalDateTime | None:
    """Cypher `localdatetime()`."""
    return _construct("localdatetime", value)


def datetime(value=_NOW) -> DateTime | None:
    """Cypher `datetime()`: a zoned datetime, UTC unless a zone or an offset is given."""
    return _construct("datetime", value)


def datetime_from_epoch(seconds, nanoseconds=0) -> DateTime | None:
    """Cypher `datetime.fromEpoch(seconds, nanoseconds)`: UTC."""
    if seconds is None or nanoseconds is None:
        return None
    if type(seconds) is not int or type(nanoseconds) is not int:
        raise CypherTypeError("datetime.fromEpoch() expects integers")
    return _at("datetime", seconds * NANOS + _checked("nanosecond", nanoseconds, 0, NANOS - 1), None)


def datetime_from_epoch_millis(millis) -> DateTime | None:
    """Cypher `datetime.fromEpochMillis(milliseconds)`: UTC."""
    if millis is None:
        return None
    if type(millis) is not int:
        raise CypherTypeError("datetime.fromEpochMillis() expects an integer")
    return _at("datetime", millis * 1_000_000, None)


_DURATION_UNITS = {
    "years": (12, 0, 0), "months": (1, 0, 0), "weeks": (0, 7, 0), "days": (0, 1, 0),
    "hours": (0, 0, 3600), "minutes": (0, 0, 60), "seconds": (0, 0, 1),
    "milliseconds": (0, 0, Fraction(1, 1000)), "microseconds": (0, 0, Fraction(1, 10**6)),
    "nanoseconds": (0, 0, Fraction(1, 10**9)),
}


def duration(value) -> Duration | None:
    """Cypher `duration()` from ISO text ("P1Y2M3DT4H5M6.5S") or a map of units."""
    if value is None or type(value) is Duration:
        return value
    if type(value) is str:
        return _parse_duration(value)
    if type(value) is not dict:
        raise CypherTypeError(f"duration() expects a string or a map, got {value!r}")
    months = days = seconds = 0
    for key, amount in value.items():
        unit = _DURATION_UNITS.get(key.lower())
        if unit is None:
            raise CypherSemanticError(f"duration() got an unknown unit: {key}")
        if amount is None:
            continue
        if type(amount) not in (int, float):
            raise CypherTypeError(f"duration() unit {key} must be a number, got {amount!r}")
        amount = Fraction(amount)
        months, days, seconds = months + amount * unit[0], days + amount * unit[1], seconds + amount * unit[2]
    return Duration.from_parts(months, days, seconds)


# ---------------------------------------------------------------- arithmetic

def _add_months(days: int, months: int) -> int:
    """Shift a date by calendar months, clamping the day to the end of the month."""
    if not months:
        return days
    year, month, day = civil_from_days(days)
    year, month0 = divmod(year * 12 + month - 1 + months, 12)
    return days_from_civil(year, month0 + 1, min(day, month_length(year, month0 + 1)))


def _add_to_date(days: int, dur: Duration) -> int:
    return check_days(_add_months(days, dur.months) + dur.days)


def add_duration(value, dur: Duration):
    """`temporal + duration`: months first, then days, then seconds, as Cypher."""
    kind = type(value)
    try:
        if kind is Duration:
            return value + dur
        if kind is Date:
            return Date._of(check_days(_add_to_date(value.days, dur) + trunc_div(dur.seconds, DAY_SECONDS)))
        if kind is LocalTime:
            return LocalTime._of((value.nanos + dur.total_nanoseconds()) % DAY_NANOS)
        if kind is Time:
            return Time._of((value.nanos + dur.total_nanoseconds()) % DAY_NANOS, value.offset)
        if kind is LocalDateTime:
            days, seconds = divmod(value.seconds, DAY_SECONDS)
            total = (_add_to_date(days, dur) * DAY_SECONDS + seconds) * NANOS + value.nanos + dur.total_nanoseconds()
            seconds, nanos = divmod(total, NANOS)
            check_days(seconds // DAY_SECONDS)
            return LocalDateTime._of(seconds, nanos)
        if kind is DateTime:
            return _add_to_datetime(value, dur)
    except CypherArithmeticError:
        raise CypherArithmeticError(f"Temporal value out of range: {value} + {dur}") from None
    raise CypherTypeError(f"Cannot add a duration to {value!r}")


def _add_to_datetime(value: DateTime, dur: Duration) -> DateTime:
    """Months and days move the wall clock (keeping the offset where the zone
    allows); seconds move the instant."""
    zone = _Zone(value.offset, value.zone)
    utc = value.seconds
    if dur.months or dur.days:
        days, seconds = divmod(value.seconds + value.offset, DAY_SECONDS)
        local = _add_to_date(days, dur) * DAY_SECONDS + seconds
        utc, _ = zone.resolve(local, value.offset)
    utc, nanos = divmod(utc * NANOS + value.nanos + dur.total_nanoseconds(), NANOS)
    offset = zone.offset_at(utc)
    check_days((utc + offset) // DAY_SECONDS)
    return DateTime._of(utc, nanos, offset, value.zone)


class _Moment:
    """One side of `duration.between`: a local date (or None), a local time and
    a zone (or None), and the instant once both sides have a date and a zone."""

    __slots__ = ("days", "nanos", "zone", "utc")

    def __init__(self, value):
        value = adopt(value)
        if type(value) not in _INSTANTS:
            raise CypherTypeError(f"duration.between() expects temporal values, got {value!r}")
        self.days, self.nanos, self.zone = _local_days(value), _local_nanos(value) or 0, _zone_of(value)
        self.utc = value.seconds * NANOS + value.nanos if type(value) is DateTime else None

    def local(self) -> int:
        return self.days * DAY_NANOS + self.nanos

    def settle(self) -> None:
        """The instant of the wall clock in the zone."""
        if self.utc is None and self.zone is not None:
            seconds, nanos = divmod(self.local(), NANOS)
            self.utc = self.zone.resolve(seconds, self.zone.offset)[0] * NANOS + nanos

    def seen_from(self, zone: _Zone | None) -> tuple[int, int]:
        """(days, nanos) of this moment's wall clock in `zone`."""
        if zone is None or self.utc is None:
            return self.days, self.nanos
        seconds = self.utc // NANOS
        return divmod(self.utc + zone.offset_at(seconds) * NANOS, DAY_NANOS)


def _until_days(start: tuple[int, int], end: tuple[int, int]) -> tuple[int, int]:
    """Java's LocalDateTime.until: the end date, less a day when its time of day
    is before the start's (more a day when going back), against the start date."""
    (start_days, start_nanos), (end_days, end_nanos) = start, end
    if end_days > start_days and end_nanos < start_nanos:
        end_days -= 1
    elif end_days < start_days and end_nanos > start_nanos:
        end_days += 1
    return start_days, end_days


def _months_between(start: tuple[int, int], end: tuple[int, int]) -> int:
    start_days, end_days = _until_days(start, end)
    y1, m1, d1 = civil_from_days(start_days)
    y2, m2, d2 = civil_from_days(end_days)
    return trunc_div((y2 * 12 + m2 - y1 * 12 - m1) * 32 + d2 - d1, 32)


def _between(a, b, unit: str) -> Duration | None:
    if a is None or b is None:
        return None
    start, end = _Moment(a), _Moment(b)
    dated = start.days is not None and end.days is not None
    if not dated and unit in ("months", "days"):
        return Duration()
    start.days = end.days if start.days is None else start.days  # a time of day takes the other's date
    end.days = start.days if end.days is None else end.days
    if start.days is None:
        start.days = end.days = 0
    start.zone = start.zone or end.zone  # and a local value the other's zone
    end.zone = end.zone or start.zone
    start.settle()
    end.settle()
    if unit == "seconds":
        return Duration(0, 0, 0, _elapsed(start, end))
    end_local = end.seen_from(start.zone)
    if unit == "days":
        start_days, end_days = _until_days((start.days, start.nanos), end_local)
        return Duration(0, end_days - start_days)
    months = _months_between((start.days, start.nanos), end_local) if dated else 0
    if unit == "months":
        return Duration(months)
    start.days = _add_months(start.days, months)
    start_days, end_days = _until_days((start.days, start.nanos), end_local) if dated else (0, 0)
    start.days += end_days - start_days
    start.utc = None
    start.settle()
    return Duration(months, end_days - start_days, 0, _elapsed(start, end))


def _elapsed(start: _Moment, end: _Moment) -> int:
    if start.utc is not None and end.utc is not None:
        return end.utc - start.utc
    return end.local() - start.local()


def between(a, b) -> Duration | None:
    """`duration.between(a, b)`: months, days and seconds such that a + result = b."""
    return _between(a, b, "all")


def in_months(a, b) -> Duration | None:
    """`duration.inMonths(a, b)`: whole months only."""
    return _between(a, b, "months")


def in_days(a, b) -> Duration | None:
    """`duration.inDays(a, b)`: whole days only."""
    return _between(a, b, "days")


def in_seconds(a, b) -> Duration | None:
    """`duration.inSeconds(a, b)`: seconds (and fractions) only."""
    return _between(a, b, "seconds")


# ---------------------------------------------------------------- truncation

_DATE_UNITS = ("millennium", "century", "decade", "year", "weekyear", "quarter", "month", "week", "day")
_TIME_UNITS = ("hour", "minute", "second", "millisecond", "microsecond")
_TIME_STEPS = {"day": DAY_NANOS, "hour": 3_600_000_000_000, "minute": 60_000_000_000, "second": NANOS,
               "millisecond": 1_000_000, "microsecond": 1000}


def _truncate_days(days: int, unit: str) -> int:
    year, month, day = civil_from_days(days)
    if unit in ("millennium", "century", "decade"):
        step = {"millennium": 1000, "century": 100, "decade": 10}[unit]
        return days_from_civil(year // step * step, 1, 1)
    if unit == "year":
        return days_from_civil(year, 1, 1)
    if unit == "weekyear":
        return week_one(iso_week(days)[0])
    if unit == "quarter":
        return days_from_civil(year, (month - 1) // 3 * 3 + 1, 1)
    if unit == "month":
        return days - day + 1
    if unit == "week":
        return days - day_of_week(days) + 1
    return days


def _kept_subsecond(unit: str, nanos: int, overrides: dict) -> None:
    """Truncated to milli- or microseconds, a finer component given beside
    keeps the coarser digits: millisecond truncation + {nanosecond: 2} is .xxx000002."""
    fraction = nanos % NANOS
    if unit in ("millisecond", "microsecond") and "millisecond" not in overrides and \
            ("microsecond" in overrides or "nanosecond" in overrides):
        overrides["millisecond"] = fraction // 1_000_000
    if unit == "microsecond" and "nanosecond" in overrides and "microsecond" not in overrides:
        overrides["microsecond"] = fraction // 1000 % 1000


def truncate(kind: str, unit: str, value, overrides: dict | None = None):
    """`date.truncate(unit, value, overrides)` and its siblings for `kind`."""
    if value is None or unit is None:
        return None
    if type(unit) is not str or unit.lower() not in _DATE_UNITS + _TIME_UNITS:
        raise CypherSemanticError(f"Unknown truncation unit: {unit!r}")
    unit = unit.lower()
    if kind == "date" and unit in _TIME_UNITS or kind in ("time", "localtime") and unit in _DATE_UNITS[:-1]:
        raise CypherSemanticError(f"Cannot truncate a {kind} to unit {unit}")
    value = adopt(value)
    if type(value) not in _INSTANTS:
        raise CypherTypeError(f"{kind}.truncate() expects a temporal value, got {value!r}")
    days = _local_days(value)
    if kind in ("date", "localdatetime", "datetime"):
        if days is None:
            raise CypherTypeError(f"Cannot truncate a value without a date to a {kind}")
        days = _truncate_days(days, unit)
    nanos = _local_nanos(value) or 0
    if unit in _TIME_STEPS:
        nanos -= nanos % _TIME_STEPS[unit]
    elif kind != "date":
        nanos = 0
    if overrides is not None and type(overrides) is not dict:
        raise CypherTypeError(f"{kind}.truncate() expects a map of components, got {overrides!r}")
    p = _map_parts(kind, overrides or {})
    if p.keys() & set(_SELECTORS):
        raise CypherSemanticError(f"{kind}.truncate() cannot select a date or a time in its map")
    zone = _truncated_zone(kind, value, p.pop("timezone", None))
    _kept_subsecond(unit, _local_nanos(value) or 0, p)
    if kind != "date" and p.keys() & _TIME_KEYS:
        nanos = _with_time(nanos, {k: v for k, v in p.items() if k in _TIME_KEYS})
    if days is not None and p.keys() & _DATE_KEYS:
        days = _with_date(days, {k: v for k, v in p.items() if k in _DATE_KEYS})
    preferred = zone.offset if zone is not None and zone.name is not None else None
    return _make(kind, days, nanos, zone, preferred)


def _truncated_zone(kind: str, value, tz) -> _Zone | None:
    """The value's zone (UTC for a local value), or the `timezone` given, keeping the wall clock."""
    if kind not in ("time", "datetime"):
        return None
    zone = _zone_of(value) or _UTC
    if tz is not None:
        zone = _zone_arg(tz)
    if kind == "time" and zone.name is not None:
        instant = value.seconds if type(value) is DateTime else statement_clock() // NANOS
        zone = _Zone(zone.offset_at(instant), None)
    return zone


# ---------------------------------------------------------------- components

def _quarter(v) -> int:
    return (civil_from_days(_local_days(v))[1] - 1) // 3 + 1


def _day_of_quarter(v) -> int:
    days = _local_days(v)
    year, month, _ = civil_from_days(days)
    return days - days_from_civil(year, (month - 1) // 3 * 3 + 1, 1) + 1


def _ordinal_day(v) -> int:
    days = _local_days(v)
    return days - days_from_civil(civil_from_days(days)[0], 1, 1) + 1


_DATE_FIELDS = {
    "year": lambda v: civil_from_days(_local_days(v))[0],
    "quarter": _quarter,
    "month": lambda v: civil_from_days(_local_days(v))[1],
    "week": lambda v: iso_week(_local_days(v))[1],
    "weekyear": lambda v: iso_week(_local_days(v))[0],
    "dayofquarter": _day_of_quarter,
    "quarterday": _day_of_quarter,
    "day": lambda v: civil_from_days(_local_days(v))[2],
    "ordinalday": _ordinal_day,
    "dayofweek": lambda v: day_of_week(_local_days(v)),
    "weekday": lambda v: day_of_week(_local_days(v)),
}
_TIME_FIELDS = {
    "hour": lambda v: _local_nanos(v) // 3_600_000_000_000,
    "minute": lambda v: _local_nanos(v) // 60_000_000_000 % 60,
    "second": lambda v: _local_nanos(v) // NANOS % 60,
    "millisecond": lambda v: _local_nanos(v) % NANOS // 1_000_000,
    "microsecond": lambda v: _local_nanos(v) % NANOS // 1000,
    "nanosecond": lambda v: _local_nanos(v) % NANOS,
}
_ZONE_FIELDS = {
    "timezone": lambda v: v.zone if getattr(v, "zone", None) is not None else offset_text(v.offset),
    "offset": lambda v: offset_text(v.offset) if v.offset else "+00:00",
    "offsetminutes": lambda v: v.offset // 60 if v.offset >= 0 else -(-v.offset // 60),
    "offsetseconds": lambda v: v.offset,
}
_EPOCH_FIELDS = {
    "epochseconds": lambda v: v.seconds,
    "epochmillis": lambda v: v.seconds * 1000 + v.nanos // 1_000_000,
}
_DURATION_FIELDS = {
    "years": lambda d: trunc_div(d.months, 12),
    "quarters": lambda d: trunc_div(d.months, 3),
    "months": lambda d: d.months,
    "weeks": lambda d: trunc_div(d.days, 7),
    "days": lambda d: d.days,
    "hours": lambda d: trunc_div(d.seconds, 3600),
    "minutes": lambda d: trunc_div(d.seconds, 60),
    "seconds": lambda d: d.seconds,
    "milliseconds": lambda d: d.seconds * 1000 + d.nanoseconds // 10**6,
    "microseconds": lambda d: d.seconds * 10**6 + d.nanoseconds // 1000,
    "nanoseconds": lambda d: d.seconds * NANOS + d.nanoseconds,
    "quartersofyear": lambda d: trunc_div(d.months - trunc_div(d.months, 12) * 12, 3),
    "monthsofquarter": lambda d: d.months - trunc_div(d.months, 3) * 3,
    "monthsofyear": lambda d: d.months - trunc_div(d.months, 12) * 12,
    "daysofweek": lambda d: d.days - trunc_div(d.days, 7) * 7,
    "minutesofhour": lambda d: trunc_div(d.seconds, 60) - trunc_div(d.seconds, 3600) * 60,
    "secondsofminute": lambda d: d.seconds - trunc_div(d.seconds, 60) * 60,
    "millisecondsofsecond": lambda d: d.nanoseconds // 10**6,
    "microsecondsofsecond": lambda d: d.nanoseconds // 1000,
    "nanosecondsofsecond": lambda d: d.nanoseconds,
}
_FIELDS = {
    Date: _DATE_FIELDS,
    LocalTime: _TIME_FIELDS,
    Time: {**_TIME_FIELDS, **_ZONE_FIELDS},
    LocalDateTime: {**_DATE_FIELDS, **_TIME_FIELDS},
    DateTime: {**_DATE_FIELDS, **_TIME_FIELDS, **_ZONE_FIELDS, **_EPOCH_FIELDS},
    Duration: _DURATION_FIELDS,
}


def temporal_property(value, key: str):
    """`value.key` for a temporal value: `d.year`, `dt.timezone`, `dur.days`..."""
    fields = _FIELDS.get(type(value))
    if fields is None:
        raise CypherTypeError(f"Not a temporal value: {value!r}")
    getter = fields.get(key.lower())
    if getter is None:
        raise CypherSemanticError(f"No such field on a temporal value: {key}")
    return getter(value)

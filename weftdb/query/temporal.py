"""Cypher's temporal functions: constructors, components, arithmetic, truncation.

The constructors (`date`, `localtime`, `time`, `localdatetime`, `datetime`,
`duration`) accept an ISO-8601 string, a map of components, another temporal
value or nothing (the current time, UTC). Invalid input raises
`CypherSemanticError`; a value of the wrong type raises `CypherTypeError`.
The values themselves and their ISO text are `weftdb.basics.temporal`.
"""

from __future__ import annotations

import datetime as _dt
import re
from fractions import Fraction
from functools import lru_cache
from zoneinfo import ZoneInfo

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import NANOS, UTC, Duration, offset_text, to_iso, trunc_div

_DAY_MICROS = 86_400_000_000
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = _dt.timedelta(microseconds=1)
_NOW = object()  # default argument of the constructors: "no argument given"


# ---------------------------------------------------------------- parsing

_DATE_RE = (r"(?P<year>\d{4}|[+-]\d{1,9})(?:-?(?:(?P<month>\d{2})(?:-?(?P<day>\d{2}))?"
            r"|W(?P<week>\d{2})(?:-?(?P<dayofweek>\d))?|(?P<ordinalday>\d{3})"
            r"|Q(?P<quarter>\d)(?:-?(?P<dayofquarter>\d{2}))?))?")
_TIME_RE = (r"(?P<hour>\d{2})(?::?(?P<minute>\d{2})(?::?(?P<second>\d{2})"
            r"(?:[.,](?P<fraction>\d{1,9}))?)?)?")
_ZONE_RE = r"(?P<offset>Z|[+-]\d{2}(?::?\d{2}(?::?\d{2})?)?)?(?:\[(?P<zone>[^\]]+)\])?"
_OFFSET = re.compile(r"([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?")
_PATTERNS = {
    "date": re.compile(_DATE_RE),
    "localtime": re.compile(_TIME_RE),
    "time": re.compile(_TIME_RE + _ZONE_RE),
    "localdatetime": re.compile(f"{_DATE_RE}(?:T{_TIME_RE})?", re.I),
    "datetime": re.compile(f"{_DATE_RE}(?:T{_TIME_RE})?{_ZONE_RE}", re.I),
}
_NUM = r"([-+]?\d+(?:[.,]\d+)?)"
_DURATION_RE = re.compile(
    rf"([-+]?)P(?:{_NUM}Y)?(?:{_NUM}M)?(?:{_NUM}W)?(?:{_NUM}D)?"
    rf"(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?", re.I)


@lru_cache(maxsize=256)
def _zone(name: str) -> _dt.tzinfo:
    """A timezone from an offset text ("Z", "+01:00") or a zone name ("Europe/Berlin")."""
    if name.upper() == "Z":
        return UTC
    match = _OFFSET.fullmatch(name)
    if match:
        sign, hours, minutes, seconds = match.groups()
        delta = _dt.timedelta(hours=int(hours), minutes=int(minutes or 0), seconds=int(seconds or 0))
        return _dt.timezone(-delta if sign == "-" else delta) if delta else UTC
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        raise CypherSemanticError(f"Unknown time zone: {name!r}") from None


def _parse_string(kind: str, text: str) -> dict:
    match = _PATTERNS[kind].fullmatch(text.strip())
    if match is None:
        raise CypherSemanticError(f"Text cannot be parsed to a {kind}: {text!r}")
    parts = {k: int(v) for k, v in match.groupdict().items() if v is not None and k not in ("fraction", "offset", "zone")}
    fraction = match.groupdict().get("fraction")
    if fraction:
        parts["microsecond"] = int(fraction.ljust(9, "0")[:6])
    zone, offset = match.groupdict().get("zone"), match.groupdict().get("offset")
    if zone or offset:
        parts["timezone"] = _zone(zone or offset)
    if zone and offset:  # picks the side of a DST fold: 02:30+01:00[Europe/Berlin] is the second 02:30
        parts["offset"] = _zone(offset).utcoffset(None)
    return parts


def _parse_duration(text: str) -> Duration:
    match = _DURATION_RE.fullmatch(text.strip())
    if match is None or not any(match.groups()[1:]):
        raise CypherSemanticError(f"Text cannot be parsed to a duration: {text!r}")
    sign, *numbers = match.groups()
    y, mo, w, d, h, mi, s = (Fraction(n.replace(",", ".")) if n else 0 for n in numbers)
    factor = -1 if sign == "-" else 1
    return Duration.from_parts(factor * (y * 12 + mo), factor * (w * 7 + d), factor * (h * 3600 + mi * 60 + s))


# ---------------------------------------------------------------- building

_DATE_KEYS = {"year", "month", "day", "week", "dayofweek", "ordinalday", "quarter", "dayofquarter"}
_TIME_KEYS = {"hour", "minute", "second", "millisecond", "microsecond", "nanosecond"}
_ALLOWED_KEYS = {
    "date": _DATE_KEYS | {"timezone"},
    "localtime": _TIME_KEYS | {"timezone"},
    "time": _TIME_KEYS | {"timezone"},
    "localdatetime": _DATE_KEYS | _TIME_KEYS | {"timezone"},
    "datetime": _DATE_KEYS | _TIME_KEYS | {"timezone", "epochseconds", "epochmillis"},
}


def _build_date(p: dict) -> _dt.date:
    if "year" not in p:
        raise CypherSemanticError("A date needs at least a year")
    year = p["year"]
    if "week" in p:
        return _dt.date.fromisocalendar(year, p["week"], p.get("dayofweek", 1))
    if "ordinalday" in p:
        return _dt.date(year, 1, 1) + _dt.timedelta(days=p["ordinalday"] - 1)
    if "quarter" in p:
        return _dt.date(year, p["quarter"] * 3 - 2, 1) + _dt.timedelta(days=p.get("dayofquarter", 1) - 1)
    return _dt.date(year, p.get("month", 1), p.get("day", 1))


def _build_time(p: dict, tz) -> _dt.time:
    micros = p.get("millisecond", 0) * 1000 + p.get("microsecond", 0) + p.get("nanosecond", 0) // 1000
    return _dt.time(p.get("hour", 0), p.get("minute", 0), p.get("second", 0), micros, tzinfo=tz)


def _fixed_offset(tz, when: _dt.datetime | None = None) -> _dt.tzinfo:
    """A time of day cannot carry a zone with rules: use the zone's offset now."""
    if isinstance(tz, ZoneInfo):
        offset = (when or _dt.datetime.now(UTC)).astimezone(tz).utcoffset()
        return _dt.timezone(offset) if offset else UTC
    return tz


def _now(kind: str, tz) -> object:
    return _convert(kind, _dt.datetime.now(tz or UTC))


def _build(kind: str, p: dict):
    """A temporal value of `kind` from components (lower-case keys)."""
    tz = p.get("timezone")
    if isinstance(tz, str):
        tz = _zone(tz)
    if not (p.keys() - {"timezone"}):
        return _now(kind, tz)
    try:
        if "epochseconds" in p or "epochmillis" in p:
            value = _EPOCH + _dt.timedelta(seconds=p.get("epochseconds", 0), milliseconds=p.get("epochmillis", 0),
                                           microseconds=p.get("nanosecond", 0) // 1000)
            return value.astimezone(tz or UTC)
        if kind == "date":
            return _build_date(p)
        if kind in ("localtime", "time"):
            return _build_time(p, None if kind == "localtime" else _fixed_offset(tz or UTC))
        value = _dt.datetime.combine(_build_date(p), _build_time(p, None))
        if kind == "localdatetime":
            return value
        value = value.replace(tzinfo=tz or UTC)
        if "offset" in p and value.utcoffset() != p["offset"] and value.replace(fold=1).utcoffset() == p["offset"]:
            value = value.replace(fold=1)
        return value
    except (ValueError, OverflowError) as exc:
        raise CypherSemanticError(f"Invalid value for {kind}: {exc}") from None


def _components(value) -> dict:
    """The components of any temporal value, for conversion and truncation."""
    kind = type(value)
    parts: dict = {}
    if kind is _dt.date or kind is _dt.datetime:
        parts.update(year=value.year, month=value.month, day=value.day)
    if kind is _dt.time or kind is _dt.datetime:
        parts.update(hour=value.hour, minute=value.minute, second=value.second, microsecond=value.microsecond)
        if value.tzinfo is not None:
            parts["timezone"] = value.tzinfo
    return parts


def _convert(kind: str, value):
    """`date(datetime)`, `localtime(datetime)`... : keep what the target type holds."""
    parts = _components(value)
    needs_date = kind in ("date", "localdatetime", "datetime")
    if needs_date and "year" not in parts:
        raise CypherTypeError(f"Cannot make a {kind} from a {type(value).__name__} without a date")
    if kind in ("time", "localtime") and "hour" not in parts:
        raise CypherTypeError(f"Cannot make a {kind} from a date")
    if kind == "time" and type(value) is _dt.datetime and value.tzinfo is not None:
        parts["timezone"] = _fixed_offset(value.tzinfo, value)
    parts.setdefault("hour", 0)
    return _build(kind, parts)


def _construct(kind: str, value):
    if value is _NOW:
        return _now(kind, None)
    if value is None:
        return None
    if type(value) is str:
        return _build(kind, _parse_string(kind, value))
    if type(value) is dict:
        return _build(kind, _map_parts(kind, value))
    if type(value) in (_dt.date, _dt.time, _dt.datetime):
        return _convert(kind, value)
    raise CypherTypeError(f"{kind}() expects a string, a map or a temporal value, got {value!r}")


def _map_parts(kind: str, mapping: dict) -> dict:
    parts = {k.lower(): v for k, v in mapping.items() if v is not None}
    unknown = parts.keys() - _ALLOWED_KEYS[kind]
    if unknown:
        raise CypherSemanticError(f"{kind}() got unknown components: {', '.join(sorted(unknown))}")
    for key, v in parts.items():
        if key != "timezone" and type(v) is not int:
            raise CypherTypeError(f"{kind}() component {key} must be an integer, got {v!r}")
    return parts


def date(value=_NOW) -> _dt.date | None:
    """Cypher `date()`."""
    return _construct("date", value)


def localtime(value=_NOW) -> _dt.time | None:
    """Cypher `localtime()`."""
    return _construct("localtime", value)


def time(value=_NOW) -> _dt.time | None:
    """Cypher `time()`: a time of day with an offset."""
    return _construct("time", value)


def localdatetime(value=_NOW) -> _dt.datetime | None:
    """Cypher `localdatetime()`."""
    return _construct("localdatetime", value)


def datetime(value=_NOW) -> _dt.datetime | None:
    """Cypher `datetime()`: a zoned datetime, UTC unless a zone or an offset is given."""
    return _construct("datetime", value)


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

def _add_months(value, months: int):
    """Shift by calendar months, clamping the day to the end of the month."""
    if not months:
        return value
    year, month0 = divmod(value.year * 12 + value.month - 1 + months, 12)
    last = (_dt.date(year + (month0 == 11), (month0 + 1) % 12 + 1, 1) - _dt.timedelta(days=1)).day
    return value.replace(year=year, month=month0 + 1, day=min(value.day, last))


def add_duration(value, dur: Duration):
    """`temporal + duration`: months first, then days, then seconds, as Cypher."""
    kind = type(value)
    try:
        if kind is Duration:
            return value + dur
        if kind is _dt.date:
            extra_days = trunc_div(dur.total_nanoseconds(), 86400 * NANOS)
            return _add_months(value, dur.months) + _dt.timedelta(days=dur.days + extra_days)
        micros = dur.total_nanoseconds() // 1000
        if kind is _dt.time:
            day_micros = (value.hour * 3600 + value.minute * 60 + value.second) * 10**6 + value.microsecond
            seconds, micro = divmod((day_micros + micros) % _DAY_MICROS, 10**6)
            return value.replace(hour=seconds // 3600, minute=seconds // 60 % 60, second=seconds % 60, microsecond=micro)
        if kind is _dt.datetime:
            shifted = _add_months(value, dur.months) + _dt.timedelta(days=dur.days)
            if shifted.tzinfo is None:
                return shifted + _dt.timedelta(microseconds=micros)
            return (shifted.astimezone(UTC) + _dt.timedelta(microseconds=micros)).astimezone(shifted.tzinfo)
    except (OverflowError, ValueError):
        raise CypherArithmeticError(f"Temporal value out of range: {to_iso(value)} + {dur}") from None
    raise CypherTypeError(f"Cannot add a duration to {value!r}")


def _anchor(value) -> tuple[_dt.datetime, bool]:
    """A naive datetime for `between`, and whether the value has a date."""
    kind = type(value)
    if kind is _dt.datetime:
        return value.replace(tzinfo=None), True
    if kind is _dt.date:
        return _dt.datetime.combine(value, _dt.time()), True
    if kind is _dt.time:
        naive = _dt.datetime.combine(_dt.date(2000, 1, 1), value.replace(tzinfo=None))
        return naive, False
    raise CypherTypeError(f"duration.between() expects temporal values, got {value!r}")


def _utc_time_of_day(value) -> _dt.time:
    wall = _dt.datetime.combine(_dt.date(2000, 1, 1), (value if type(value) is _dt.time else value.time()).replace(tzinfo=None))
    return (wall - value.utcoffset()).time()


def _align_zones(a, b):
    """Bring zoned `b` into `a`'s zone (or two zoned times of day to UTC) before comparing wall clocks."""
    if getattr(a, "tzinfo", None) is None or getattr(b, "tzinfo", None) is None:
        return a, b
    if type(a) is _dt.datetime and type(b) is _dt.datetime:
        return a, b.astimezone(a.tzinfo)
    return _utc_time_of_day(a), _utc_time_of_day(b)


def _between(a, b, unit: str) -> Duration | None:
    if a is None or b is None:
        return None
    a, b = _align_zones(a, b)
    start, start_dated = _anchor(a)
    end, end_dated = _anchor(b)
    dated = start_dated and end_dated
    if not dated:
        start, end = start.replace(year=2000, month=1, day=1), end.replace(year=2000, month=1, day=1)
    months = 0
    if dated and unit in ("all", "months"):
        months = (end.year - start.year) * 12 + end.month - start.month
        if months > 0 and _add_months(start, months) > end:
            months -= 1
        elif months < 0 and _add_months(start, months) < end:
            months += 1
        start = _add_months(start, months)
    if unit == "months":
        return Duration(months)
    micros = (end - start) // _MICRO
    days = trunc_div(micros, _DAY_MICROS) if dated and unit in ("all", "days") else 0
    if unit == "days":
        return Duration(0, days)
    return Duration(months, days, 0, (micros - days * _DAY_MICROS) * 1000)


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

def _monday(year: int, month: int, day: int) -> _dt.date:
    d = _dt.date(year, month, day)
    return d - _dt.timedelta(days=d.weekday())


def _truncate_date_parts(parts: dict, unit: str) -> None:
    year = parts["year"]
    if unit in ("millennium", "century", "decade"):
        parts.update(year=year - year % {"millennium": 1000, "century": 100, "decade": 10}[unit], month=1, day=1)
    elif unit == "year":
        parts.update(month=1, day=1)
    elif unit == "weekyear":
        start = _dt.date.fromisocalendar(_dt.date(year, parts["month"], parts["day"]).isocalendar()[0], 1, 1)
        parts.update(year=start.year, month=start.month, day=start.day)
    elif unit == "quarter":
        parts.update(month=(parts["month"] - 1) // 3 * 3 + 1, day=1)
    elif unit == "month":
        parts["day"] = 1
    elif unit == "week":
        start = _monday(year, parts["month"], parts["day"])
        parts.update(year=start.year, month=start.month, day=start.day)


_DATE_UNITS = ("millennium", "century", "decade", "year", "weekyear", "quarter", "month", "week", "day")
_TIME_UNITS = ("hour", "minute", "second", "millisecond", "microsecond")


def _truncate_time_parts(parts: dict, unit: str) -> None:
    if unit in _DATE_UNITS:
        parts.update(hour=0, minute=0, second=0, microsecond=0)
    elif unit == "hour":
        parts.update(minute=0, second=0, microsecond=0)
    elif unit == "minute":
        parts.update(second=0, microsecond=0)
    elif unit == "second":
        parts["microsecond"] = 0
    elif unit == "millisecond":
        parts["microsecond"] -= parts["microsecond"] % 1000


def truncate(kind: str, unit: str, value, overrides: dict | None = None):
    """`date.truncate(unit, value, overrides)` and its siblings for `kind`."""
    if value is None or unit is None:
        return None
    if type(unit) is not str or unit.lower() not in _DATE_UNITS + _TIME_UNITS:
        raise CypherSemanticError(f"Unknown truncation unit: {unit!r}")
    unit = unit.lower()
    if kind == "date" and unit in _TIME_UNITS or kind in ("time", "localtime") and unit in _DATE_UNITS[:-1]:
        raise CypherSemanticError(f"Cannot truncate a {kind} to unit {unit}")
    parts = _components(value)
    if kind in ("date", "localdatetime", "datetime"):
        if "year" not in parts:
            raise CypherTypeError(f"Cannot truncate a value without a date to a {kind}")
        _truncate_date_parts(parts, unit)
    if kind != "date":
        parts.setdefault("hour", 0)
        parts.setdefault("minute", 0)
        parts.setdefault("second", 0)
        parts.setdefault("microsecond", 0)
        _truncate_time_parts(parts, unit)
    if kind in ("localtime", "localdatetime", "date"):
        parts.pop("timezone", None)
    elif kind == "time" and "timezone" in parts:
        parts["timezone"] = _fixed_offset(parts["timezone"], value if type(value) is _dt.datetime else None)
    if overrides:
        parts.update(_map_parts(kind, overrides))
    return _build(kind, parts)


# ---------------------------------------------------------------- components

def _iso_week(v) -> tuple[int, int, int]:
    return _dt.date(v.year, v.month, v.day).isocalendar()


def _timezone_name(v):
    zone = v.tzinfo
    if isinstance(zone, ZoneInfo):
        return zone.key
    return offset_text(v.utcoffset())


def _offset_seconds(v) -> int:
    return int(v.utcoffset().total_seconds())


_DATE_FIELDS = {
    "year": lambda v: v.year,
    "quarter": lambda v: (v.month - 1) // 3 + 1,
    "month": lambda v: v.month,
    "week": lambda v: _iso_week(v)[1],
    "weekyear": lambda v: _iso_week(v)[0],
    "dayofquarter": lambda v: (_dt.date(v.year, v.month, v.day) - _dt.date(v.year, (v.month - 1) // 3 * 3 + 1, 1)).days + 1,
    "day": lambda v: v.day,
    "ordinalday": lambda v: _dt.date(v.year, v.month, v.day).timetuple().tm_yday,
    "dayofweek": lambda v: v.isoweekday(),
    "weekday": lambda v: v.isoweekday(),
}
_TIME_FIELDS = {
    "hour": lambda v: v.hour,
    "minute": lambda v: v.minute,
    "second": lambda v: v.second,
    "millisecond": lambda v: v.microsecond // 1000,
    "microsecond": lambda v: v.microsecond,
    "nanosecond": lambda v: v.microsecond * 1000,
}
_ZONE_FIELDS = {
    "timezone": _timezone_name,
    "offset": lambda v: offset_text(v.utcoffset()) if v.utcoffset() else "+00:00",
    "offsetminutes": lambda v: _offset_seconds(v) // 60,
    "offsetseconds": _offset_seconds,
}
_EPOCH_FIELDS = {
    "epochseconds": lambda v: (v - _EPOCH) // _dt.timedelta(seconds=1),
    "epochmillis": lambda v: (v - _EPOCH) // _dt.timedelta(milliseconds=1),
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


def _fields_of(value) -> dict | None:
    kind = type(value)
    if kind is Duration:
        return _DURATION_FIELDS
    if kind is _dt.date:
        return _DATE_FIELDS
    zoned = getattr(value, "tzinfo", None) is not None
    if kind is _dt.time:
        return _ZONED_TIME_FIELDS if zoned else _TIME_FIELDS
    if kind is _dt.datetime:
        return _ZONED_DATETIME_FIELDS if zoned else _LOCAL_DATETIME_FIELDS
    return None


_ZONED_TIME_FIELDS = {**_TIME_FIELDS, **_ZONE_FIELDS}
_LOCAL_DATETIME_FIELDS = {**_DATE_FIELDS, **_TIME_FIELDS}
_ZONED_DATETIME_FIELDS = {**_LOCAL_DATETIME_FIELDS, **_ZONE_FIELDS, **_EPOCH_FIELDS}


def temporal_property(value, key: str):
    """`value.key` for a temporal value: `d.year`, `dt.timezone`, `dur.days`..."""
    fields = _fields_of(value)
    if fields is None:
        raise CypherTypeError(f"Not a temporal value: {value!r}")
    getter = fields.get(key.lower())
    if getter is None:
        raise CypherSemanticError(f"No such field on a temporal value: {key}")
    return getter(value)

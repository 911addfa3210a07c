"""Temporal values shared by every layer: the five Cypher instants and `Duration`.

    Cypher type      WeftDB value      held as
    Date             Date              days since 1970-01-01
    LocalTime        LocalTime         nanoseconds since midnight
    Time             Time              nanoseconds since midnight (local) + UTC offset in seconds
    LocalDateTime    LocalDateTime     seconds since 1970-01-01T00:00 (local) + nanoseconds
    DateTime         DateTime          UTC seconds since the epoch + nanoseconds + UTC offset
                                       in seconds + IANA zone name (None: a fixed offset)
    Duration         Duration          months, days, seconds, nanoseconds, kept apart

Why types of our own: values keep nanoseconds end to end (as Neo4j and the
Bolt protocol do), and years run from -999,999,999 to 999,999,999; Python's
datetime types keep microseconds and years 1 to 9999. The layout is the
one Bolt uses, so the server sends and receives them without arithmetic.
Each type converts to and from Python's (`to_native`, `from_native`; the
nanoseconds below a microsecond are dropped on the way out), compares equal to
the Python value it is exactly, and `adopt` turns the Python values of a
query's parameters into these.

A DateTime's offset is the one in force at its instant in its zone: it is
kept rather than looked up again, so a value reads back as it was written
whatever later time-zone rules say. Zone rules come from the `tzdata`
package when it is installed (the same rules on every machine, as Neo4j
bundles its own), else from the system's.

`str()` of a value is Cypher's toString (Java's ISO-8601 form: seconds only
when not zero, the fraction in groups of three digits, `Z` for UTC,
`[Zone/Name]` after the offset). The Cypher functions that build and take
them apart are `weftdb.query.temporal`; the codec (WAL and snapshots), Bolt,
the dump and the shell read and write them.
"""

from __future__ import annotations

import datetime as _dt
import importlib.resources
import re
import zoneinfo
from fractions import Fraction
from functools import lru_cache

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError

UTC = _dt.timezone.utc
NANOS = 1_000_000_000
DAY_SECONDS = 86_400
DAY_NANOS = DAY_SECONDS * NANOS
AVG_DAYS_PER_MONTH = Fraction("30.436875")  # 365.2425 / 12, as Cypher
MIN_YEAR, MAX_YEAR = -999_999_999, 999_999_999
MAX_OFFSET = 18 * 3600  # +-18:00, as Java's ZoneOffset


def trunc_div(a: int, b: int) -> int:
    """Integer division rounding toward zero, as Java."""
    q = abs(a) // abs(b)
    return q if (a < 0) == (b < 0) else -q


# ---------------------------------------------------------------- the calendar

_ORDINAL_EPOCH = 719_163  # date(1970, 1, 1).toordinal()
_NATIVE_DAYS = range(1 - _ORDINAL_EPOCH, 2_932_897)  # 0001-01-01 .. 9999-12-31
_fromordinal = _dt.date.fromordinal


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date, for any year."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * ((month + 9) % 12) + 2) // 5 + day - 1
    return era * 146_097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a count of days since 1970-01-01."""
    if days in _NATIVE_DAYS:
        d = _fromordinal(days + _ORDINAL_EPOCH)
        return d.year, d.month, d.day
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (month <= 2), month, day


def is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def month_length(year: int, month: int) -> int:
    if month == 2:
        return 29 if is_leap(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def day_of_week(days: int) -> int:
    """ISO day of the week, Monday 1 .. Sunday 7 (1970-01-01 was a Thursday)."""
    return (days + 3) % 7 + 1


def week_one(week_year: int) -> int:
    """The day (since the epoch) of the Monday that starts ISO week 1 of `week_year`."""
    jan4 = days_from_civil(week_year, 1, 4)
    return jan4 - day_of_week(jan4) + 1


def iso_week(days: int) -> tuple[int, int, int]:
    """(week-based year, week 1..53, day of week 1..7) of a day."""
    dow = day_of_week(days)
    thursday = days - dow + 4
    week_year = civil_from_days(thursday)[0]
    return week_year, (thursday - days_from_civil(week_year, 1, 1)) // 7 + 1, dow


def weeks_in(week_year: int) -> int:
    return iso_week(days_from_civil(week_year, 12, 28))[1]


_MIN_DAYS = days_from_civil(MIN_YEAR, 1, 1)
_MAX_DAYS = days_from_civil(MAX_YEAR, 12, 31)


def check_days(days: int) -> int:
    if not _MIN_DAYS <= days <= _MAX_DAYS:
        raise CypherArithmeticError(f"Date out of range: years run from {MIN_YEAR} to {MAX_YEAR}")
    return days


def date_days(year: int, month: int, day: int) -> int:
    """Days since the epoch of a date given by its parts, checked."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CypherSemanticError(f"Invalid value for year: {year} (years run from {MIN_YEAR} to {MAX_YEAR})")
    if not 1 <= month <= 12:
        raise CypherSemanticError(f"Invalid value for month: {month} (1 to 12)")
    if not 1 <= day <= month_length(year, month):
        raise CypherSemanticError(f"Invalid value for day: {day} ({year}-{month:02d} has {month_length(year, month)} days)")
    return days_from_civil(year, month, day)


def time_nanos(hour: int, minute: int, second: int, nanosecond: int) -> int:
    """Nanoseconds since midnight of a time given by its parts, checked."""
    for name, value, top in (("hour", hour, 23), ("minute", minute, 59), ("second", second, 59),
                             ("nanosecond", nanosecond, NANOS - 1)):
        if not 0 <= value <= top:
            raise CypherSemanticError(f"Invalid value for {name}: {value} (0 to {top})")
    return ((hour * 60 + minute) * 60 + second) * NANOS + nanosecond


def check_offset(seconds: int) -> int:
    if not -MAX_OFFSET <= seconds <= MAX_OFFSET:
        raise CypherSemanticError(f"Invalid UTC offset: {offset_text(seconds)} (offsets run from -18:00 to +18:00)")
    return seconds


# ---------------------------------------------------------------- time zones

_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_NATIVE_SECONDS = (-62_135_596_800 + 2 * DAY_SECONDS, 253_402_300_799 - 2 * DAY_SECONDS)


def _load_zone(name: str) -> zoneinfo.ZoneInfo:
    try:
        resource = importlib.resources.files("tzdata.zoneinfo").joinpath(name)
        with resource.open("rb") as data:
            return zoneinfo.ZoneInfo.from_file(data, key=name)
    except (ImportError, OSError, ValueError):
        return zoneinfo.ZoneInfo(name)


@lru_cache(maxsize=None)
def _zone_names() -> dict[str, str]:
    """Every known zone name by its lower-case spelling (zone names are case-insensitive)."""
    return {name.lower(): name for name in zoneinfo.available_timezones()}


@lru_cache(maxsize=1024)
def zone_rules(name: str) -> zoneinfo.ZoneInfo:
    """The rules of an IANA time zone; CypherSemanticError for a name that is not one."""
    if len(name) > 64 or not _ZONE_NAME.fullmatch(name) or ".." in name:
        raise CypherSemanticError(f"Unknown time zone: {name!r}")
    try:
        return _load_zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        pass
    spelled = _zone_names().get(name.lower())
    if spelled is None:
        raise CypherSemanticError(f"Unknown time zone: {name!r}")
    return _load_zone(spelled)


def _python_zone(name: str) -> _dt.tzinfo:
    """The `zoneinfo.ZoneInfo` Python code gets for a zone, so values compare with theirs."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return zone_rules(name)


def zone_name(name: str) -> str:
    """The canonical spelling of a zone name ('europe/stockholm' -> 'Europe/Stockholm')."""
    return zone_rules(name.replace(" ", "_")).key


def _native_seconds(seconds: int) -> int:
    low, high = _NATIVE_SECONDS  # beyond Python's years, the rules of the nearest year Python knows
    return low if seconds < low else high if seconds > high else seconds


def offset_at(zone: str, utc_seconds: int) -> int:
    """The UTC offset (seconds) in force in `zone` at an instant."""
    rules = zone_rules(zone)
    wall = (_EPOCH_NAIVE + _dt.timedelta(seconds=_native_seconds(utc_seconds))).replace(tzinfo=rules)
    return int(rules.fromutc(wall).utcoffset().total_seconds())


def resolve_local(zone: str, local_seconds: int, preferred: int | None = None) -> tuple[int, int]:
    """(UTC seconds, offset) of a wall-clock time in `zone`, as Java resolves it:
    in a gap (clocks turned forward) the time moves later by the gap's length;
    in an overlap (clocks turned back) the earlier offset, unless `preferred`
    is the other one."""
    rules = zone_rules(zone)
    wall = _EPOCH_NAIVE + _dt.timedelta(seconds=_native_seconds(local_seconds))
    first = int(rules.utcoffset(wall).total_seconds())
    second = int(rules.utcoffset(wall.replace(fold=1)).total_seconds())
    if first == second:
        return local_seconds - first, first
    if first < second:  # a gap: first is the offset before it
        return local_seconds - first, second
    offset = preferred if preferred == second else first
    return local_seconds - offset, offset


# ---------------------------------------------------------------- text

def offset_text(seconds: int) -> str:
    """An offset as Java writes it: Z, +01:00, -02:05:07."""
    if not seconds:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _year_text(year: int) -> str:
    if abs(year) < 1000:
        return f"-{-year:04d}" if year < 0 else f"{year:04d}"
    return f"+{year}" if year > 9999 else str(year)


def date_text(days: int) -> str:
    year, month, day = civil_from_days(days)
    return f"{_year_text(year)}-{month:02d}-{day:02d}"


def time_text(nanos: int) -> str:
    """HH:MM[:SS[.fff|.ffffff|.fffffffff]]: seconds only when not zero, the fraction in groups of three."""
    seconds, fraction = divmod(nanos, NANOS)
    minutes, second = divmod(seconds, 60)
    text = f"{minutes // 60:02d}:{minutes % 60:02d}"
    if not (second or fraction):
        return text
    text += f":{second:02d}"
    if not fraction:
        return text
    if fraction % 1_000_000 == 0:
        return f"{text}.{fraction // 1_000_000:03d}"
    if fraction % 1000 == 0:
        return f"{text}.{fraction // 1000:06d}"
    return f"{text}.{fraction:09d}"


# ---------------------------------------------------------------- the values

class _Temporal:
    """Comparison, hashing and Python interoperation shared by the five instants.

    `_eq_key` is what makes two values the same value; `_order_key` orders
    values of one type (instants by time, then ties apart); `_native_type` is
    the Python type a value converts to and compares with."""

    __slots__ = ()
    _native_type: type = object

    def _coerce(self, other):
        if type(other) is type(self):
            return other
        if type(other) is self._native_type:  # exactly: a datetime is also a date
            try:
                return type(self).from_native(other)
            except (TypeError, ValueError):
                return None
        return None

    def __eq__(self, other) -> bool:
        other = self._coerce(other)
        return other is not None and self._eq_key() == other._eq_key()

    def __ne__(self, other) -> bool:
        return not self == other

    def __hash__(self) -> int:
        try:  # equal to a Python value, so hash like it
            return hash(self.to_native(exact=True))
        except (ValueError, OverflowError, CypherSemanticError):
            return hash((type(self).__name__,) + self._eq_key())

    def _compare(self, other) -> int | None:
        other = self._coerce(other)
        if other is None:
            return None
        mine, theirs = self._order_key(), other._order_key()
        return (mine > theirs) - (mine < theirs)

    def __lt__(self, other):
        c = self._compare(other)
        return NotImplemented if c is None else c < 0

    def __le__(self, other):
        c = self._compare(other)
        return NotImplemented if c is None else c <= 0

    def __gt__(self, other):
        c = self._compare(other)
        return NotImplemented if c is None else c > 0

    def __ge__(self, other):
        c = self._compare(other)
        return NotImplemented if c is None else c >= 0

    def isoformat(self) -> str:
        """The ISO-8601 text, as `str()` and Cypher's toString() write it."""
        return str(self)

    def _order_key(self) -> tuple:
        return self._eq_key()

    def _eq_key(self) -> tuple:
        raise NotImplementedError

    def to_native(self, exact: bool = False):
        raise NotImplementedError

    @classmethod
    def from_native(cls, value):
        raise NotImplementedError


def _native_micro(nanos: int, exact: bool) -> int:
    if exact and nanos % 1000:
        raise ValueError("a Python value has no nanoseconds")
    return nanos // 1000


class Date(_Temporal):
    """A calendar date (Cypher Date): `Date(2024, 2, 29)`."""

    __slots__ = ("days",)
    _native_type = _dt.date

    def __init__(self, year: int, month: int = 1, day: int = 1):
        self.days = date_days(year, month, day)

    @classmethod
    def _of(cls, days: int) -> Date:
        value = object.__new__(cls)
        value.days = days
        return value

    @property
    def year(self) -> int:
        return civil_from_days(self.days)[0]

    @property
    def month(self) -> int:
        return civil_from_days(self.days)[1]

    @property
    def day(self) -> int:
        return civil_from_days(self.days)[2]

    def _eq_key(self) -> tuple:
        return (self.days,)

    def to_native(self, exact: bool = False) -> _dt.date:
        """The `datetime.date`; ValueError outside years 1 to 9999."""
        if self.days not in _NATIVE_DAYS:
            raise ValueError(f"{self} is outside Python's years 1 to 9999")
        return _fromordinal(self.days + _ORDINAL_EPOCH)

    @classmethod
    def from_native(cls, value: _dt.date) -> Date:
        return cls._of(value.toordinal() - _ORDINAL_EPOCH)

    def __str__(self) -> str:
        return date_text(self.days)

    def __repr__(self) -> str:
        return "Date({}, {}, {})".format(*civil_from_days(self.days))


class _TimeOfDay(_Temporal):
    """The clock fields of LocalTime and Time, from `nanos` since midnight."""

    __slots__ = ()

    @property
    def hour(self) -> int:
        return self.nanos // 3_600_000_000_000

    @property
    def minute(self) -> int:
        return self.nanos // 60_000_000_000 % 60

    @property
    def second(self) -> int:
        return self.nanos // NANOS % 60

    @property
    def nanosecond(self) -> int:
        """The nanoseconds within the second (0 to 999,999,999)."""
        return self.nanos % NANOS


def _native_time(nanos: int, exact: bool, tz=None) -> _dt.time:
    seconds, fraction = divmod(nanos, NANOS)
    return _dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, _native_micro(fraction, exact), tzinfo=tz)


def _time_of(value: _dt.time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * NANOS + value.microsecond * 1000


def _offset_seconds(delta: _dt.timedelta | None) -> int:
    if delta is None:
        raise ValueError("a time zone without a fixed offset")
    if delta.microseconds:
        raise ValueError(f"a UTC offset with a fraction of a second ({delta})")
    return check_offset(delta.days * DAY_SECONDS + delta.seconds)


_EPOCH_UTC = _dt.datetime(1970, 1, 1, tzinfo=UTC)


def _native_zone_name(tz: _dt.tzinfo) -> str | None:
    """The IANA name of a Python zone (zoneinfo's key, pytz's zone), if it has a known one."""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return _known_zone(name) if isinstance(name, str) else None


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> str | None:
    try:
        return zone_name(name)
    except CypherSemanticError:
        return None


def _fixed_zone(seconds: int) -> _dt.timezone:
    return UTC if not seconds else _dt.timezone(_dt.timedelta(seconds=seconds))


class LocalTime(_TimeOfDay):
    """A time of day without a zone (Cypher LocalTime): `LocalTime(12, 30, 0, 500_000_000)`."""

    __slots__ = ("nanos",)
    _native_type = _dt.time

    def __init__(self, hour: int = 0, minute: int = 0, second: int = 0, nanosecond: int = 0):
        self.nanos = time_nanos(hour, minute, second, nanosecond)

    @classmethod
    def _of(cls, nanos: int) -> LocalTime:
        value = object.__new__(cls)
        value.nanos = nanos
        return value

    def _eq_key(self) -> tuple:
        return (self.nanos,)

    def to_native(self, exact: bool = False) -> _dt.time:
        """The `datetime.time` (nanoseconds below a microsecond are dropped)."""
        return _native_time(self.nanos, exact)

    @classmethod
    def from_native(cls, value: _dt.time) -> LocalTime:
        if value.tzinfo is not None:
            raise ValueError("a time with a zone is a Time, not a LocalTime")
        return cls._of(_time_of(value))

    def __str__(self) -> str:
        return time_text(self.nanos)

    def __repr__(self) -> str:
        return f"LocalTime({self.hour}, {self.minute}, {self.second}, {self.nanosecond})"


class Time(_TimeOfDay):
    """A time of day with a UTC offset in seconds (Cypher Time): `Time(12, 30, offset=3600)`."""

    __slots__ = ("nanos", "offset")
    _native_type = _dt.time

    def __init__(self, hour: int = 0, minute: int = 0, second: int = 0, nanosecond: int = 0, offset: int = 0):
        self.nanos = time_nanos(hour, minute, second, nanosecond)
        self.offset = check_offset(offset)

    @classmethod
    def _of(cls, nanos: int, offset: int) -> Time:
        value = object.__new__(cls)
        value.nanos = nanos
        value.offset = offset
        return value

    @property
    def tzinfo(self) -> _dt.timezone:
        return _fixed_zone(self.offset)

    def utcoffset(self) -> _dt.timedelta:
        return _dt.timedelta(seconds=self.offset)

    def _eq_key(self) -> tuple:
        return (self.nanos, self.offset)

    def _order_key(self) -> tuple:
        return (self.nanos - self.offset * NANOS, self.offset)

    def to_native(self, exact: bool = False) -> _dt.time:
        """The `datetime.time` with a `datetime.timezone`."""
        return _native_time(self.nanos, exact, self.tzinfo)

    @classmethod
    def from_native(cls, value: _dt.time) -> Time:
        if value.tzinfo is None:
            raise ValueError("a time without a zone is a LocalTime, not a Time")
        return cls._of(_time_of(value), _offset_seconds(value.utcoffset()))

    def __str__(self) -> str:
        return time_text(self.nanos) + offset_text(self.offset)

    def __repr__(self) -> str:
        return f"Time({self.hour}, {self.minute}, {self.second}, {self.nanosecond}, offset={self.offset})"


class _DateAndTime(_Temporal):
    """The calendar and clock fields of LocalDateTime and DateTime, from `_local()`."""

    __slots__ = ()

    def _local(self) -> int:
        raise NotImplementedError

    @property
    def year(self) -> int:
        return civil_from_days(self._local() // DAY_SECONDS)[0]

    @property
    def month(self) -> int:
        return civil_from_days(self._local() // DAY_SECONDS)[1]

    @property
    def day(self) -> int:
        return civil_from_days(self._local() // DAY_SECONDS)[2]

    @property
    def hour(self) -> int:
        return self._local() % DAY_SECONDS // 3600

    @property
    def minute(self) -> int:
        return self._local() % 3600 // 60

    @property
    def second(self) -> int:
        return self._local() % 60

    @property
    def nanosecond(self) -> int:
        """The nanoseconds within the second (0 to 999,999,999)."""
        return self.nanos

    def date(self) -> Date:
        return Date._of(self._local() // DAY_SECONDS)

    def time(self) -> LocalTime:
        return LocalTime._of(self._local() % DAY_SECONDS * NANOS + self.nanos)

    def _native_naive(self, exact: bool) -> _dt.datetime:
        days, seconds = divmod(self._local(), DAY_SECONDS)
        if days not in _NATIVE_DAYS:
            raise ValueError(f"{self} is outside Python's years 1 to 9999")
        return _EPOCH_NAIVE + _dt.timedelta(days=days, seconds=seconds, microseconds=_native_micro(self.nanos, exact))

    def _text(self) -> str:
        days, seconds = divmod(self._local(), DAY_SECONDS)
        return f"{date_text(days)}T{time_text(seconds * NANOS + self.nanos)}"

    def _parts_repr(self) -> str:
        days, seconds = divmod(self._local(), DAY_SECONDS)
        year, month, day = civil_from_days(days)
        return f"{year}, {month}, {day}, {seconds // 3600}, {seconds // 60 % 60}, {seconds % 60}, {self.nanos}"


def _seconds_of(value: _dt.datetime) -> int:
    days = value.toordinal() - _ORDINAL_EPOCH
    return days * DAY_SECONDS + (value.hour * 60 + value.minute) * 60 + value.second


class LocalDateTime(_DateAndTime):
    """A date and time of day without a zone (Cypher LocalDateTime)."""

    __slots__ = ("seconds", "nanos")
    _native_type = _dt.datetime

    def __init__(self, year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0,
                 nanosecond: int = 0):
        self.seconds = date_days(year, month, day) * DAY_SECONDS + time_nanos(hour, minute, second, 0) // NANOS
        self.nanos = time_nanos(0, 0, 0, nanosecond)

    @classmethod
    def _of(cls, seconds: int, nanos: int) -> LocalDateTime:
        value = object.__new__(cls)
        value.seconds = seconds
        value.nanos = nanos
        return value

    def _local(self) -> int:
        return self.seconds

    def _eq_key(self) -> tuple:
        return (self.seconds, self.nanos)

    def to_native(self, exact: bool = False) -> _dt.datetime:
        """The naive `datetime.datetime`."""
        return self._native_naive(exact)

    @classmethod
    def from_native(cls, value: _dt.datetime) -> LocalDateTime:
        if value.tzinfo is not None:
            raise ValueError("a datetime with a zone is a DateTime, not a LocalDateTime")
        return cls._of(_seconds_of(value), value.microsecond * 1000)

    def __str__(self) -> str:
        return self._text()

    def __repr__(self) -> str:
        return f"LocalDateTime({self._parts_repr()})"


class DateTime(_DateAndTime):
    """An instant with its UTC offset and, unless the offset is all it has, its
    zone (Cypher DateTime): `DateTime(2024, 3, 1, 10, zone="Europe/Berlin")`,
    `DateTime(2024, 3, 1, 10, offset=3600)`; UTC when neither is given."""

    __slots__ = ("seconds", "nanos", "offset", "zone")
    _native_type = _dt.datetime

    def __init__(self, year: int, month: int = 1, day: int = 1, hour: int = 0, minute: int = 0, second: int = 0,
                 nanosecond: int = 0, *, zone: str | None = None, offset: int | None = None):
        local = LocalDateTime(year, month, day, hour, minute, second, nanosecond)
        if zone is not None:
            zone = zone_name(zone)
            self.seconds, self.offset = resolve_local(zone, local.seconds, offset)
        else:
            self.offset = check_offset(offset or 0)
            self.seconds = local.seconds - self.offset
        self.nanos, self.zone = local.nanos, zone

    @classmethod
    def _of(cls, seconds: int, nanos: int, offset: int, zone: str | None) -> DateTime:
        value = object.__new__(cls)
        value.seconds = seconds
        value.nanos = nanos
        value.offset = offset
        value.zone = zone
        return value

    def _local(self) -> int:
        return self.seconds + self.offset

    @property
    def tzinfo(self) -> _dt.tzinfo:
        """`zoneinfo.ZoneInfo(zone)` for a named zone, else a `datetime.timezone`."""
        return _python_zone(self.zone) if self.zone is not None else _fixed_zone(self.offset)

    def utcoffset(self) -> _dt.timedelta:
        return _dt.timedelta(seconds=self.offset)

    def _eq_key(self) -> tuple:
        return (self.seconds, self.nanos, self.offset, self.zone)

    def _order_key(self) -> tuple:
        return (self.seconds, self.nanos, self.offset, self.zone is not None, self.zone or "")

    def to_native(self, exact: bool = False) -> _dt.datetime:
        """The aware `datetime.datetime` (a ZoneInfo zone or a fixed offset)."""
        local = self._native_naive(exact)
        if self.zone is not None:
            offset = self.utcoffset()
            for fold in (0, 1):
                value = local.replace(tzinfo=_python_zone(self.zone), fold=fold)
                if value.utcoffset() == offset:
                    return value
        return local.replace(tzinfo=_fixed_zone(self.offset))  # Python's rules for the zone say otherwise here

    @classmethod
    def from_native(cls, value: _dt.datetime) -> DateTime:
        tz = value.tzinfo
        if tz is None:
            raise ValueError("a datetime without a zone is a LocalDateTime, not a DateTime")
        offset = _offset_seconds(value.utcoffset())
        since = value - _EPOCH_UTC
        zone = None if type(tz) is _dt.timezone else _native_zone_name(tz)
        return cls._of(since.days * DAY_SECONDS + since.seconds, since.microseconds * 1000, offset, zone)

    def __str__(self) -> str:
        text = self._text() + offset_text(self.offset)
        return f"{text}[{self.zone}]" if self.zone is not None else text

    def __repr__(self) -> str:
        where = f"zone={self.zone!r}" if self.zone is not None else f"offset={self.offset}"
        return f"DateTime({self._parts_repr()}, {where})"


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

    @classmethod
    def from_native(cls, value: _dt.timedelta) -> "Duration":
        """A `datetime.timedelta` as days, seconds and nanoseconds."""
        return cls(0, value.days, value.seconds, value.microseconds * 1000)

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

    def isoformat(self) -> str:
        return str(self)

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


TEMPORAL_TYPES = (Date, LocalTime, Time, LocalDateTime, DateTime, Duration)


def to_iso(value) -> str:
    """Cypher's toString() of a temporal value (ISO-8601)."""
    if type(value) in TEMPORAL_TYPES:
        return str(value)
    raise CypherTypeError(f"Not a temporal value: {value!r}")


# ---------------------------------------------------------------- Python's values in

def _from_datetime(value: _dt.datetime):
    return LocalDateTime.from_native(value) if value.tzinfo is None else DateTime.from_native(value)


def _from_time(value: _dt.time):
    return LocalTime.from_native(value) if value.tzinfo is None else Time.from_native(value)


_FROM_NATIVE = {_dt.datetime: _from_datetime, _dt.date: Date.from_native, _dt.time: _from_time,
                _dt.timedelta: Duration.from_native}


def from_native(value):
    """WeftDB's value for a Python date, time, datetime or timedelta."""
    kind = type(value)
    convert = _FROM_NATIVE.get(kind)
    if convert is not None:
        return convert(value)
    if kind is _dt.datetime or isinstance(value, _dt.datetime):
        return LocalDateTime.from_native(value) if value.tzinfo is None else DateTime.from_native(value)
    if kind is _dt.date or isinstance(value, _dt.date):
        return Date.from_native(value)
    if kind is _dt.time or isinstance(value, _dt.time):
        return LocalTime.from_native(value) if value.tzinfo is None else Time.from_native(value)
    if isinstance(value, _dt.timedelta):
        return Duration.from_native(value)
    raise TypeError(f"not a Python temporal value: {value!r}")


_NATIVE = (_dt.date, _dt.time, _dt.timedelta)  # datetime is a date
_AS_IS = frozenset({type(None), bool, int, float, str, bytes})


def adopt(value):
    """`value` with every Python date, time, datetime and timedelta in it (in
    lists and maps too) replaced by WeftDB's temporal value; the same object
    when there is none. Query parameters pass through here."""
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:
        changed = None
        for key, item in value.items():
            if type(item) in _AS_IS:  # the usual parameter: no call
                continue
            new = adopt(item)
            if new is not item:
                if changed is None:
                    changed = dict(value)
                changed[key] = new
        return value if changed is None else changed
    if kind is list or kind is tuple:
        items = [adopt(item) for item in value]
        return value if all(a is b for a, b in zip(items, value)) else items
    if isinstance(value, _NATIVE):
        try:
            return from_native(value)
        except ValueError as exc:
            raise CypherTypeError(f"Cannot use {value!r} as a value: {exc}") from None
    return value

"""Tests of temporal parsing, ISO text, components, arithmetic and truncation."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import Duration, to_iso
from weftdb.query.temporal import (
    add_duration,
    between,
    date,
    datetime,
    duration,
    in_days,
    in_months,
    in_seconds,
    localdatetime,
    localtime,
    temporal_property,
    time,
    truncate,
)

PLUS2 = dt.timezone(dt.timedelta(hours=2))


@pytest.mark.parametrize("make, text, expected, iso", [
    (date, "2024-01-02", dt.date(2024, 1, 2), "2024-01-02"),
    (date, "20240102", dt.date(2024, 1, 2), "2024-01-02"),
    (date, "2024-W01-2", dt.date(2024, 1, 2), "2024-01-02"),
    (date, "2024-032", dt.date(2024, 2, 1), "2024-02-01"),
    (date, "2024-05", dt.date(2024, 5, 1), "2024-05-01"),
    (localtime, "12:30:00.5", dt.time(12, 30, 0, 500000), "12:30:00.5"),
    (localtime, "1230", dt.time(12, 30), "12:30:00"),
    (localtime, "12:30:00.123456789", dt.time(12, 30, 0, 123456), "12:30:00.123456"),
    (time, "12:30+01:00", dt.time(12, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))), "12:30:00+01:00"),
    (time, "12:30Z", dt.time(12, 30, tzinfo=dt.timezone.utc), "12:30:00Z"),
    (localdatetime, "2024-01-02T12:30:00", dt.datetime(2024, 1, 2, 12, 30), "2024-01-02T12:30:00"),
    (datetime, "2024-01-02T12:30:00Z", dt.datetime(2024, 1, 2, 12, 30, tzinfo=dt.timezone.utc), "2024-01-02T12:30:00Z"),
    (datetime, "2024-01-02T12:30:00+02:00", dt.datetime(2024, 1, 2, 12, 30, tzinfo=PLUS2), "2024-01-02T12:30:00+02:00"),
    (datetime, "2024-01-02T12:30:00[Europe/Berlin]",
     dt.datetime(2024, 1, 2, 12, 30, tzinfo=ZoneInfo("Europe/Berlin")), "2024-01-02T12:30:00+01:00[Europe/Berlin]"),
    (datetime, "2024-01-02T12:30", dt.datetime(2024, 1, 2, 12, 30, tzinfo=dt.timezone.utc), "2024-01-02T12:30:00Z"),
])
def test_parse_and_iso_round_trip(make, text, expected, iso):
    value = make(text)
    assert value == expected and type(value) is type(expected)
    assert to_iso(value) == iso
    assert make(iso) == value


def test_named_zone_keeps_zone_through_round_trip():
    value = datetime("2024-07-02T12:30:00+02:00[Europe/Berlin]")
    assert value.tzinfo == ZoneInfo("Europe/Berlin")
    assert to_iso(value) == "2024-07-02T12:30:00+02:00[Europe/Berlin]"


@pytest.mark.parametrize("make, text", [
    (date, "2024-13-01"), (date, "nonsense"), (localtime, "25:00"), (datetime, "2024-01-02T12:00[No/Where]"),
    (duration, "P"), (duration, "PT"), (duration, "1D"),
])
def test_bad_text_is_rejected(make, text):
    with pytest.raises(CypherSemanticError):
        make(text)


@pytest.mark.parametrize("text, expected, iso", [
    ("P1Y2M3DT4H5M6.5S", Duration(14, 3, 14706, 500_000_000), "P1Y2M3DT4H5M6.5S"),
    ("PT1.5S", Duration(0, 0, 1, 500_000_000), "PT1.5S"),
    ("P2W", Duration(0, 14), "P14D"),
    ("P-1Y", Duration(-12), "P-1Y"),
    ("-P1DT1H", Duration(0, -1, -3600), "P-1DT-1H"),
    ("PT-0.5S", Duration(0, 0, 0, -500_000_000), "PT-0.5S"),
    ("PT0S", Duration(), "PT0S"),
    ("P0.5D", Duration(0, 0, 43200), "PT12H"),
    ("PT90M", Duration(0, 0, 5400), "PT1H30M"),
])
def test_duration_text(text, expected, iso):
    assert duration(text) == expected
    assert str(duration(text)) == iso
    assert duration(iso) == expected


def test_duration_from_map_cascades_fractions():
    assert duration({"days": 1.5, "hours": 2}) == Duration(0, 1, 43200 + 7200)
    assert duration({"years": 1, "months": 2, "weeks": 1, "milliseconds": 5, "nanoseconds": 7}) == Duration(14, 7, 0, 5_000_007)
    with pytest.raises(CypherSemanticError):
        duration({"fortnights": 1})
    with pytest.raises(CypherTypeError):
        duration({"days": "1"})
    assert duration(None) is None


def test_constructors_from_maps():
    assert date({"year": 2024, "month": 2, "day": 29}) == dt.date(2024, 2, 29)
    assert date({"year": 2024, "week": 1, "dayOfWeek": 2}) == dt.date(2024, 1, 2)
    assert date({"year": 2024, "ordinalDay": 60}) == dt.date(2024, 2, 29)
    assert date({"year": 2024, "quarter": 2, "dayOfQuarter": 2}) == dt.date(2024, 4, 2)
    assert localtime({"hour": 1, "minute": 2, "second": 3, "millisecond": 4, "microsecond": 5, "nanosecond": 6000}) \
        == dt.time(1, 2, 3, 4011)
    assert time({"hour": 1, "timezone": "+02:00"}) == dt.time(1, tzinfo=PLUS2)
    assert datetime({"year": 2024, "month": 3, "timezone": "Europe/Berlin"}) \
        == dt.datetime(2024, 3, 1, tzinfo=ZoneInfo("Europe/Berlin"))
    assert datetime({"epochMillis": 1000}) == dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=dt.timezone.utc)
    assert localdatetime({"year": 2024, "hour": 5}) == dt.datetime(2024, 1, 1, 5)
    with pytest.raises(CypherSemanticError):
        date({"year": 2024, "month": 2, "day": 30})
    with pytest.raises(CypherSemanticError):
        date({"month": 2})
    with pytest.raises(CypherSemanticError):
        date({"year": 2024, "hour": 1})


def test_constructors_from_temporals_and_null():
    value = datetime("2024-01-02T12:30:00+02:00")
    assert date(value) == dt.date(2024, 1, 2)
    assert localtime(value) == dt.time(12, 30)
    assert time(value) == dt.time(12, 30, tzinfo=PLUS2)
    assert localdatetime(value) == dt.datetime(2024, 1, 2, 12, 30)
    assert datetime(dt.date(2024, 1, 2)) == dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    assert date(None) is None
    with pytest.raises(CypherTypeError):
        date(localtime("12:00"))
    with pytest.raises(CypherTypeError):
        date(12)


def test_current_time_constructors():
    now = dt.datetime.now(dt.timezone.utc)
    assert abs(datetime() - now) < dt.timedelta(seconds=5)
    assert datetime().tzinfo is not None
    assert localdatetime().tzinfo is None
    assert type(date()) is dt.date
    assert localtime().tzinfo is None and time().tzinfo is not None
    assert datetime({"timezone": "Europe/Berlin"}).tzinfo == ZoneInfo("Europe/Berlin")


def test_month_end_arithmetic():
    assert add_duration(date("2024-01-31"), duration("P1M")) == dt.date(2024, 2, 29)
    assert add_duration(date("2023-01-31"), duration("P1M")) == dt.date(2023, 2, 28)
    assert add_duration(date("2024-03-31"), -duration("P1M")) == dt.date(2024, 2, 29)
    assert add_duration(date("2024-02-29"), duration("P1Y")) == dt.date(2025, 2, 28)


def test_months_then_days_then_seconds():
    assert add_duration(localdatetime("2024-01-31T23:00"), duration("P1M1DT2H")) == dt.datetime(2024, 3, 2, 1)
    assert add_duration(date("1984-10-11"), duration({"years": 12, "months": 5, "days": 14, "hours": 16})) \
        == dt.date(1997, 3, 25)
    assert add_duration(localtime("23:00"), duration("PT2H30M")) == dt.time(1, 30)
    assert add_duration(localtime("01:00"), duration("P1DT-2H")) == dt.time(23, 0)


def test_zoned_arithmetic_days_keep_wall_clock_seconds_keep_instant():
    before = datetime("2024-03-30T12:00[Europe/Berlin]")
    assert to_iso(add_duration(before, duration("P1D"))) == "2024-03-31T12:00:00+02:00[Europe/Berlin]"
    assert to_iso(add_duration(before, duration("PT24H"))) == "2024-03-31T13:00:00+02:00[Europe/Berlin]"


def test_duration_arithmetic():
    assert duration("P1D") + duration("PT1H") == Duration(0, 1, 3600)
    assert duration("P1D") - duration("PT1H") == Duration(0, 1, -3600)
    assert duration("PT1H") * 1.5 == duration("PT1H30M")
    assert 2 * duration("P1M") == duration("P2M")
    assert duration("P1M") / 2 == duration("P15DT5H14M33S")
    assert -duration("PT1.5S") == Duration(0, 0, -2, 500_000_000)
    with pytest.raises(CypherArithmeticError):
        duration("P1D") / 0
    with pytest.raises(CypherArithmeticError):
        add_duration(date("9999-12-31"), duration("P1D"))


def test_between():
    assert between(date("2024-01-31"), date("2024-03-01")) == duration("P1M1D")
    assert between(localdatetime("2015-07-21T21:40:32.142"), date("2015-06-24")) == duration("P-27DT-21H-40M-32.142S")
    assert between(localtime("12:00"), localtime("13:30")) == duration("PT1H30M")
    assert between(datetime("2024-01-01T00:00Z"), datetime("2024-01-01T02:00+01:00")) == duration("PT1H")
    assert between(None, date("2024-01-01")) is None
    assert in_months(date("2024-01-31"), date("2024-02-29")) == duration("P1M")
    assert in_days(datetime("2024-01-01T00:00Z"), datetime("2024-03-01T05:00+01:00")) == duration("P60D")
    assert in_seconds(time("12:00+01:00"), time("12:00Z")) == duration("PT1H")
    assert in_seconds(date("2024-01-01"), date("2024-01-02")) == duration("PT24H")


def test_truncate():
    assert truncate("date", "month", date("2024-05-17")) == dt.date(2024, 5, 1)
    assert truncate("date", "week", date("2024-05-17")) == dt.date(2024, 5, 13)
    assert truncate("date", "quarter", date("2024-05-17")) == dt.date(2024, 4, 1)
    assert truncate("date", "millennium", date("2024-05-17")) == dt.date(2000, 1, 1)
    assert truncate("date", "decade", date("2024-05-17"), {"day": 5}) == dt.date(2020, 1, 5)
    assert truncate("date", "weekYear", date("2021-01-02")) == dt.date(2019, 12, 30)
    value = datetime("2024-05-17T12:34:56.789[Europe/Berlin]")
    assert to_iso(truncate("datetime", "hour", value)) == "2024-05-17T12:00:00+02:00[Europe/Berlin]"
    assert truncate("localtime", "millisecond", value) == dt.time(12, 34, 56, 789000)
    assert truncate("localdatetime", "day", value) == dt.datetime(2024, 5, 17)
    assert truncate("time", "minute", value) == dt.time(12, 34, tzinfo=PLUS2)
    assert truncate("date", "day", None) is None
    with pytest.raises(CypherSemanticError):
        truncate("date", "hour", value)
    with pytest.raises(CypherSemanticError):
        truncate("date", "fortnight", value)


def test_temporal_properties():
    value = datetime("2024-01-02T12:30:45.123456[Europe/Berlin]")
    expected = {
        "year": 2024, "month": 1, "day": 2, "quarter": 1, "week": 1, "weekYear": 2024, "dayOfWeek": 2,
        "ordinalDay": 2, "dayOfQuarter": 2, "hour": 12, "minute": 30, "second": 45, "millisecond": 123,
        "microsecond": 123456, "nanosecond": 123456000, "timezone": "Europe/Berlin", "offset": "+01:00",
        "offsetMinutes": 60, "offsetSeconds": 3600, "epochSeconds": 1704195045, "epochMillis": 1704195045123,
    }
    assert {key: temporal_property(value, key) for key in expected} == expected
    assert temporal_property(datetime("2024-01-02T00:00Z"), "timezone") == "Z"
    assert temporal_property(time("12:00-05:30"), "offsetMinutes") == -330
    with pytest.raises(CypherSemanticError):
        temporal_property(date("2024-01-02"), "hour")
    with pytest.raises(CypherTypeError):
        temporal_property(5, "year")


def test_duration_properties():
    d = duration("P1Y2M10DT4H5M6.5S")
    expected = {
        "years": 1, "months": 14, "quarters": 4, "weeks": 1, "days": 10, "hours": 4, "minutes": 245,
        "seconds": 14706, "milliseconds": 14706500, "nanoseconds": 14706500000000, "monthsOfYear": 2,
        "quartersOfYear": 0, "monthsOfQuarter": 2, "daysOfWeek": 3, "minutesOfHour": 5, "secondsOfMinute": 6,
        "millisecondsOfSecond": 500, "nanosecondsOfSecond": 500000000,
    }
    assert {key: temporal_property(d, key) for key in expected} == expected
    assert temporal_property(duration("P-14M"), "years") == -1

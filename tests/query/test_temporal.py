"""Tests of temporal parsing, ISO text, selection, components, arithmetic and truncation, to the nanosecond."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError, CypherTypeError
from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time, adopt, to_iso
from weftdb.query.temporal import (
    add_duration,
    between,
    date,
    datetime,
    datetime_from_epoch,
    datetime_from_epoch_millis,
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


@pytest.mark.parametrize("make, text, expected, iso", [
    (date, "2024-01-02", Date(2024, 1, 2), "2024-01-02"),
    (date, "20240102", Date(2024, 1, 2), "2024-01-02"),
    (date, "2024-W01-2", Date(2024, 1, 2), "2024-01-02"),
    (date, "2024-032", Date(2024, 2, 1), "2024-02-01"),
    (date, "2024-05", Date(2024, 5, 1), "2024-05-01"),
    (date, "2024-Q2-02", Date(2024, 4, 2), "2024-04-02"),
    (date, "-0044-03-15", Date(-44, 3, 15), "-0044-03-15"),
    (date, "+12345-01-01", Date(12345, 1, 1), "+12345-01-01"),
    (date, "-999999999-01-01", Date(-999_999_999, 1, 1), "-999999999-01-01"),
    (localtime, "12:30:00.5", LocalTime(12, 30, 0, 500_000_000), "12:30:00.500"),
    (localtime, "1230", LocalTime(12, 30), "12:30"),
    (localtime, "12:30:00.123456789", LocalTime(12, 30, 0, 123_456_789), "12:30:00.123456789"),
    (localtime, "12:30:00.000000003", LocalTime(12, 30, 0, 3), "12:30:00.000000003"),
    (localtime, "12:30:00.1234", LocalTime(12, 30, 0, 123_400_000), "12:30:00.123400"),
    (time, "12:30+01:00", Time(12, 30, offset=3600), "12:30+01:00"),
    (time, "12:30Z", Time(12, 30), "12:30Z"),
    (time, "12:34:56-02:05:07", Time(12, 34, 56, offset=-7507), "12:34:56-02:05:07"),
    (localdatetime, "2024-01-02T12:30:00", LocalDateTime(2024, 1, 2, 12, 30), "2024-01-02T12:30"),
    (datetime, "2024-01-02T12:30:00Z", DateTime(2024, 1, 2, 12, 30), "2024-01-02T12:30Z"),
    (datetime, "2024-01-02T12:30:00+02:00", DateTime(2024, 1, 2, 12, 30, offset=7200), "2024-01-02T12:30+02:00"),
    (datetime, "2024-01-02T12:30:00[Europe/Berlin]", DateTime(2024, 1, 2, 12, 30, zone="Europe/Berlin"),
     "2024-01-02T12:30+01:00[Europe/Berlin]"),
    (datetime, "2024-01-02T12:30", DateTime(2024, 1, 2, 12, 30), "2024-01-02T12:30Z"),
    (datetime, "1984-10-11T12:31:14.645876123+01:00", DateTime(1984, 10, 11, 12, 31, 14, 645_876_123, offset=3600),
     "1984-10-11T12:31:14.645876123+01:00"),
])
def test_parse_and_iso_round_trip(make, text, expected, iso):
    value = make(text)
    assert value == expected and type(value) is type(expected)
    assert to_iso(value) == iso == str(value)
    assert make(iso) == value


def test_named_zone_keeps_zone_and_fold_through_round_trip():
    value = datetime("2024-07-02T12:30:00+02:00[Europe/Berlin]")
    assert value.zone == "Europe/Berlin" and value.tzinfo == ZoneInfo("Europe/Berlin")
    assert to_iso(value) == "2024-07-02T12:30+02:00[Europe/Berlin]"
    first, second = datetime("2017-10-29T02:30+02:00[Europe/Stockholm]"), datetime("2017-10-29T02:30+01:00[Europe/Stockholm]")
    assert (second.seconds - first.seconds, str(second)) == (3600, "2017-10-29T02:30+01:00[Europe/Stockholm]")
    assert datetime("2017-03-26T02:30[Europe/Stockholm]") == datetime("2017-03-26T03:30+02:00[Europe/Stockholm]")  # a gap
    assert str(datetime("1818-07-21T21:40:32.142[europe/stockholm]")).endswith("[Europe/Stockholm]")


@pytest.mark.parametrize("make, text", [
    (date, "2024-13-01"), (date, "nonsense"), (localtime, "25:00"), (datetime, "2024-01-02T12:00[No/Where]"),
    (datetime, "2024-01-02T12:00+05:00[Europe/Berlin]"), (time, "12:00+19:00"),
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
    ("PT0.000000001S", Duration(0, 0, 0, 1), "PT0.000000001S"),
])
def test_duration_text(text, expected, iso):
    assert duration(text) == expected
    assert str(duration(text)) == iso
    assert duration(iso) == expected


def test_duration_in_the_date_form():
    assert str(duration("P2012-02-02T14:37:21.545")) == "P2012Y2M2DT14H37M21.545S"
    assert str(duration("P00010203T040506")) == "P1Y2M3DT4H5M6S"
    with pytest.raises(CypherSemanticError):
        duration("P2012-13-02")


def test_duration_from_map_cascades_fractions():
    assert duration({"days": 1.5, "hours": 2}) == Duration(0, 1, 43200 + 7200)
    assert duration({"years": 1, "months": 2, "weeks": 1, "milliseconds": 5, "nanoseconds": 7}) == Duration(14, 7, 0, 5_000_007)
    with pytest.raises(CypherSemanticError):
        duration({"fortnights": 1})
    with pytest.raises(CypherTypeError):
        duration({"days": "1"})
    assert duration(None) is None


def test_constructors_from_maps():
    assert date({"year": 2024, "month": 2, "day": 29}) == Date(2024, 2, 29)
    assert date({"year": 2024, "week": 1, "dayOfWeek": 2}) == Date(2024, 1, 2)
    assert date({"year": 1817, "week": 1}) == Date(1816, 12, 30)
    assert date({"year": 2024, "ordinalDay": 60}) == Date(2024, 2, 29)
    assert date({"year": 2024, "quarter": 2, "dayOfQuarter": 2}) == Date(2024, 4, 2)
    assert localtime({"hour": 1, "minute": 2, "second": 3, "millisecond": 4, "microsecond": 5, "nanosecond": 6}) \
        == LocalTime(1, 2, 3, 4_005_006)
    assert localtime({"hour": 1, "nanosecond": 123_456_789}) == LocalTime(1, 0, 0, 123_456_789)
    assert time({"hour": 1, "timezone": "+02:00"}) == Time(1, offset=7200)
    assert datetime({"year": 2024, "month": 3, "timezone": "Europe/Berlin"}) == DateTime(2024, 3, 1, zone="Europe/Berlin")
    assert datetime({"epochMillis": 1000}) == DateTime(1970, 1, 1, 0, 0, 1)
    assert datetime({"epochSeconds": -1, "nanosecond": 5}) == DateTime(1969, 12, 31, 23, 59, 59, 5)
    assert localdatetime({"year": 2024, "hour": 5}) == LocalDateTime(2024, 1, 1, 5)
    assert str(time({"hour": 12, "minute": 34, "second": 56, "timezone": "+02:05:00"})) == "12:34:56+02:05"
    for bad in ({"year": 2024, "month": 2, "day": 30}, {"month": 2}, {"year": 2024, "hour": 1},
                {"year": 2024, "month": 1, "week": 2}, {"year": 2024, "week": 53}):
        with pytest.raises(CypherSemanticError):
            date(bad)
    with pytest.raises(CypherSemanticError):
        localtime({"hour": 1, "millisecond": 1, "nanosecond": 1000})  # below a millisecond given, nanoseconds < 1000


def test_selecting_from_other_temporal_values():
    """openCypher Temporal3: the selected value is the start, the components beside it replace its own."""
    d = date("1984-11-11")
    assert date({"date": d, "year": 28}) == Date(28, 11, 11)
    assert date({"date": d, "week": 1}) == Date(1984, 1, 8)  # keeps the day of the week
    assert date({"date": d, "quarter": 3}) == Date(1984, 8, 11)  # keeps the place in the quarter
    assert date({"date": d, "ordinalDay": 28}) == Date(1984, 1, 28)
    assert date({"date": date("1816-12-31"), "year": 1817, "week": 2}) == Date(1817, 1, 7)  # the week-based year
    lt = localtime("12:31:14.645876123")
    assert localdatetime({"year": 1984, "month": 10, "day": 11, "time": lt, "second": 42}) \
        == LocalDateTime(1984, 10, 11, 12, 31, 42, 645_876_123)
    t = time("12:31:14.645876+01:00")
    assert time({"time": t, "timezone": "+05:00"}) == Time(16, 31, 14, 645_876_000, offset=18000)  # same instant
    assert time({"time": lt, "timezone": "+05:00"}) == Time(12, 31, 14, 645_876_123, offset=18000)  # same wall clock
    stockholm = datetime({"year": 1984, "month": 10, "day": 11, "hour": 12, "timezone": "Europe/Stockholm"})
    assert str(datetime({"date": d, "time": stockholm, "day": 28, "second": 42})) \
        == "1984-11-28T12:00:42+01:00[Europe/Stockholm]"
    assert str(datetime({"date": d, "time": stockholm, "day": 28, "second": 42, "timezone": "Pacific/Honolulu"})) \
        == "1984-11-28T01:00:42-10:00[Pacific/Honolulu]"
    assert str(datetime({"date": d, "time": lt, "timezone": "Pacific/Honolulu"})) \
        == "1984-11-11T12:31:14.645876123-10:00[Pacific/Honolulu]"
    assert str(datetime({"datetime": stockholm, "timezone": "+05:00"})) == "1984-10-11T16:00+05:00"
    assert str(localdatetime({"datetime": stockholm, "day": 28})) == "1984-10-28T12:00"
    assert str(localdatetime({"date": d})) == "1984-11-11T00:00"
    with pytest.raises(CypherSemanticError):
        datetime({"datetime": stockholm, "date": d})
    with pytest.raises(CypherTypeError):
        datetime({"date": "1984-11-11"})


def test_constructors_from_temporals_and_null():
    value = datetime("2024-01-02T12:30:00.000000001+02:00")
    assert date(value) == Date(2024, 1, 2)
    assert localtime(value) == LocalTime(12, 30, 0, 1)
    assert time(value) == Time(12, 30, 0, 1, offset=7200)
    assert localdatetime(value) == LocalDateTime(2024, 1, 2, 12, 30, 0, 1)
    assert datetime(localdatetime(value)) == DateTime(2024, 1, 2, 12, 30, 0, 1)
    assert datetime(dt.date(2024, 1, 2)) == DateTime(2024, 1, 2)  # a Python value given directly
    assert time(localtime("12:00")) == Time(12)
    assert date(None) is None
    with pytest.raises(CypherTypeError):
        date(localtime("12:00"))
    with pytest.raises(CypherTypeError):
        date(12)


def test_current_time_constructors():
    now = dt.datetime.now(dt.timezone.utc)
    assert abs(datetime().to_native() - now) < dt.timedelta(seconds=5)
    assert type(datetime()) is DateTime and type(localdatetime()) is LocalDateTime and type(date()) is Date
    assert type(localtime()) is LocalTime and type(time()) is Time
    assert datetime({"timezone": "Europe/Berlin"}).zone == "Europe/Berlin"


def test_epoch_constructors():
    assert str(datetime_from_epoch(416779, 999999999)) == "1970-01-05T19:46:19.999999999Z"
    assert str(datetime_from_epoch_millis(237821673987)) == "1977-07-15T13:34:33.987Z"
    assert datetime_from_epoch(None) is None


def test_month_end_arithmetic():
    assert add_duration(date("2024-01-31"), duration("P1M")) == Date(2024, 2, 29)
    assert add_duration(date("2023-01-31"), duration("P1M")) == Date(2023, 2, 28)
    assert add_duration(date("2024-03-31"), -duration("P1M")) == Date(2024, 2, 29)
    assert add_duration(date("2024-02-29"), duration("P1Y")) == Date(2025, 2, 28)


def test_months_then_days_then_seconds():
    assert add_duration(localdatetime("2024-01-31T23:00"), duration("P1M1DT2H")) == LocalDateTime(2024, 3, 2, 1)
    assert add_duration(date("1984-10-11"), duration({"years": 12, "months": 5, "days": 14, "hours": 16})) \
        == Date(1997, 3, 25)
    assert add_duration(localtime("23:00"), duration("PT2H30M")) == LocalTime(1, 30)
    assert add_duration(localtime("01:00"), duration("P1DT-2H")) == LocalTime(23, 0)


def test_arithmetic_keeps_nanoseconds():
    nanos = duration({"seconds": 1, "nanoseconds": 3})
    assert str(add_duration(localtime("12:00:00.999999999"), nanos)) == "12:00:02.000000002"
    assert str(add_duration(datetime("2024-01-01T00:00Z"), -nanos)) == "2023-12-31T23:59:58.999999997Z"
    assert str(add_duration(time("23:59:59.999999999+01:00"), duration("PT0.000000001S"))) == "00:00+01:00"


def test_zoned_arithmetic_days_keep_wall_clock_seconds_keep_instant():
    before = datetime("2024-03-30T12:00[Europe/Berlin]")
    assert to_iso(add_duration(before, duration("P1D"))) == "2024-03-31T12:00+02:00[Europe/Berlin]"
    assert to_iso(add_duration(before, duration("PT24H"))) == "2024-03-31T13:00+02:00[Europe/Berlin]"


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
        add_duration(date("+999999999-12-31"), duration("P1D"))


def test_between():
    assert between(date("2024-01-31"), date("2024-03-01")) == duration("P1M1D")
    assert between(localdatetime("2015-07-21T21:40:32.142"), date("2015-06-24")) == duration("P-27DT-21H-40M-32.142S")
    assert between(localtime("12:00"), localtime("13:30")) == duration("PT1H30M")
    assert between(datetime("2024-01-01T00:00Z"), datetime("2024-01-01T02:00+01:00")) == duration("PT1H")
    assert between(None, date("2024-01-01")) is None
    assert in_months(date("2024-01-31"), date("2024-02-29")) == duration("PT0S")  # not a whole month, as Java counts
    assert in_months(date("2024-01-31"), date("2024-03-01")) == duration("P1M")
    assert in_days(datetime("2024-01-01T00:00Z"), datetime("2024-03-01T05:00+01:00")) == duration("P60D")
    assert in_seconds(time("12:00+01:00"), time("12:00Z")) == duration("PT1H")
    assert in_seconds(date("2024-01-01"), date("2024-01-02")) == duration("PT24H")
    assert str(between(date("-999999999-01-01"), date("+999999999-12-31"))) == "P1999999998Y11M30D"


def test_between_across_a_daylight_saving_change_counts_real_hours():
    a, b = datetime("2017-10-28T23:00+02:00[Europe/Stockholm]"), datetime("2017-10-29T04:00+01:00[Europe/Stockholm]")
    assert str(between(a, b)) == "PT6H" and str(between(b, a)) == "PT-6H"
    midnight = datetime({"year": 2017, "month": 10, "day": 29, "timezone": "Europe/Stockholm"})
    assert str(in_seconds(midnight, localtime("04:00"))) == "PT5H"  # the local value takes the other's date and zone
    assert str(in_seconds(midnight, date("2017-10-30"))) == "PT25H"
    assert str(between(localtime("12:34:54.7"), localtime("12:34:54.3"))) == "PT-0.4S"


def test_truncate():
    assert truncate("date", "month", date("2024-05-17")) == Date(2024, 5, 1)
    assert truncate("date", "week", date("2024-05-17")) == Date(2024, 5, 13)
    assert truncate("date", "quarter", date("2024-05-17")) == Date(2024, 4, 1)
    assert truncate("date", "millennium", date("2024-05-17")) == Date(2000, 1, 1)
    assert truncate("date", "decade", date("2024-05-17"), {"day": 5}) == Date(2020, 1, 5)
    assert truncate("date", "weekYear", date("2021-01-02")) == Date(2019, 12, 30)
    assert truncate("date", "week", date("1984-10-11"), {"dayOfWeek": 2}) == Date(1984, 10, 9)
    value = datetime("2024-05-17T12:34:56.789123456[Europe/Berlin]")
    assert to_iso(truncate("datetime", "hour", value)) == "2024-05-17T12:00+02:00[Europe/Berlin]"
    assert to_iso(truncate("datetime", "hour", value, {"timezone": "+05:00"})) == "2024-05-17T12:00+05:00"  # same wall clock
    assert truncate("localtime", "millisecond", value) == LocalTime(12, 34, 56, 789_000_000)
    assert truncate("localtime", "microsecond", value, {"nanosecond": 2}) == LocalTime(12, 34, 56, 789_123_002)
    assert truncate("localtime", "millisecond", value, {"nanosecond": 2}) == LocalTime(12, 34, 56, 789_000_002)
    assert truncate("localtime", "second", value, {"nanosecond": 2}) == LocalTime(12, 34, 56, 2)
    assert truncate("localdatetime", "day", value) == LocalDateTime(2024, 5, 17)
    assert truncate("time", "minute", value) == Time(12, 34, offset=7200)
    assert str(truncate("datetime", "day", date("1984-10-11"), {"timezone": "Europe/Stockholm"})) \
        == "1984-10-11T00:00+01:00[Europe/Stockholm]"
    assert truncate("date", "day", None) is None
    with pytest.raises(CypherSemanticError):
        truncate("date", "hour", value)
    with pytest.raises(CypherSemanticError):
        truncate("date", "fortnight", value)


def test_temporal_properties():
    value = datetime("2024-01-02T12:30:45.123456789[Europe/Berlin]")
    expected = {
        "year": 2024, "month": 1, "day": 2, "quarter": 1, "week": 1, "weekYear": 2024, "dayOfWeek": 2,
        "ordinalDay": 2, "dayOfQuarter": 2, "hour": 12, "minute": 30, "second": 45, "millisecond": 123,
        "microsecond": 123456, "nanosecond": 123456789, "timezone": "Europe/Berlin", "offset": "+01:00",
        "offsetMinutes": 60, "offsetSeconds": 3600, "epochSeconds": 1704195045, "epochMillis": 1704195045123,
    }
    assert {key: temporal_property(value, key) for key in expected} == expected
    assert temporal_property(datetime("2024-01-02T00:00Z"), "timezone") == "Z"
    assert temporal_property(time("12:00-05:30"), "offsetMinutes") == -330
    assert temporal_property(date("-0044-03-15"), "year") == -44
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


# ---------------------------------------------------------------- the value types in Python

def test_values_convert_to_and_from_python_and_compare_with_it():
    berlin = ZoneInfo("Europe/Berlin")
    pairs = [
        (Date(2024, 2, 29), dt.date(2024, 2, 29)),
        (LocalTime(1, 2, 3, 4000), dt.time(1, 2, 3, 4)),
        (Time(1, 2, 3, 4000, offset=3600), dt.time(1, 2, 3, 4, tzinfo=dt.timezone(dt.timedelta(hours=1)))),
        (LocalDateTime(2024, 1, 2, 3, 4, 5, 6000), dt.datetime(2024, 1, 2, 3, 4, 5, 6)),
        (DateTime(2024, 1, 2, 3, 4, 5, 6000, offset=-3600), dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(-dt.timedelta(hours=1)))),
        (DateTime(2024, 10, 27, 2, 30, zone="Europe/Berlin", offset=3600), dt.datetime(2024, 10, 27, 2, 30, tzinfo=berlin, fold=1)),
    ]
    for ours, native in pairs:
        assert ours == native and native == ours and hash(ours) == hash(native)
        assert ours.to_native() == native and type(ours).from_native(native) == ours
        assert adopt({"v": [native]}) == {"v": [ours]} and type(adopt(native)) is type(ours)
    assert Date(2024, 1, 1) != dt.datetime(2024, 1, 1)  # a datetime is no date
    assert LocalTime(1, 0, 0, 1) != dt.time(1) and LocalTime(1, 0, 0, 1).to_native() == dt.time(1)
    assert adopt(dt.timedelta(days=1, microseconds=5)) == Duration(0, 1, 0, 5000)
    params = {"n": 1, "s": "x", "l": [1, 2]}
    assert adopt(params) is params  # nothing to convert: not copied
    with pytest.raises(ValueError):
        Date(-5, 1, 1).to_native()


def test_same_instant_in_another_zone_is_not_the_same_value():
    utc, plus_one = datetime("2024-01-01T10:00Z"), datetime("2024-01-01T11:00+01:00")
    assert utc != plus_one and utc.seconds == plus_one.seconds
    assert sorted([plus_one, utc]) == [utc, plus_one]  # equal instants: the smaller offset first
    assert repr(datetime("2024-01-01T10:00:00.5[Europe/Paris]")) == "DateTime(2024, 1, 1, 10, 0, 0, 500000000, zone='Europe/Paris')"

"""WeftDB values in the shapes of Bolt 4.4 and 5.x, and parameters refused cleanly."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fakes import graph_values

from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time
from weftdb.server.bolt.packstream import Structure
from weftdb.server.bolt.values import BadValue, dehydrate, hydrate


def test_graph_shapes_per_version():
    node, rel, path = graph_values()
    assert [len(dehydrate(v, 4).fields) for v in (node, rel)] == [3, 5]
    assert [len(dehydrate(v, 5).fields) for v in (node, rel)] == [4, 8]
    assert dehydrate(node, 5).fields == (1, ["Person"], {"name": "Alice"}, "1")
    assert dehydrate(rel, 5).fields == (7, 1, 2, "KNOWS", {"since": 2020}, "7", "1", "2")
    nodes, rels, indices = dehydrate(path, 4).fields
    assert [n.fields[0] for n in nodes] == [1, 2] and [len(r.fields) for r in rels] == [3, 3]
    assert indices == [1, 1, -2, 0]  # KNOWS forward to Bob, LIKES backward to Alice
    assert [len(r.fields) for r in dehydrate(path, 5).fields[1]] == [4, 4]


@pytest.mark.parametrize(
    "value, major, tag, fields",
    [
        (Date(1970, 1, 2), 5, 0x44, (1,)),
        (Date(-999_999_999, 1, 1), 5, 0x44, (-365_243_219_162,)),
        (LocalTime(0, 0, 1, 5), 5, 0x74, (1_000_000_005,)),
        (Time(1, 0, 0, 7, offset=3600), 4, 0x54, (3600 * 10**9 + 7, 3600)),
        (LocalDateTime(1970, 1, 1, 0, 0, 1, 999_999_999), 4, 0x64, (1, 999_999_999)),
        (DateTime(1970, 1, 1, 1, 0, 0, 3, offset=3600), 5, 0x49, (0, 3, 3600)),
        (DateTime(1970, 1, 1, 1, 0, 0, 3, offset=3600), 4, 0x46, (3600, 3, 3600)),
        (DateTime(1970, 1, 1, 1, 0, 0, 123_456_789, zone="Europe/Paris"), 5, 0x69, (0, 123_456_789, "Europe/Paris")),
        (DateTime(1970, 1, 1, 1, zone="Europe/Paris"), 4, 0x66, (3600, 0, "Europe/Paris")),
        (DateTime(2017, 10, 29, 2, 30, zone="Europe/Stockholm", offset=3600), 5, 0x69, (1509240600, 0, "Europe/Stockholm")),
        (Duration(1, 2, 3, 4), 5, 0x45, (1, 2, 3, 4)),
    ],
)
def test_temporal_shapes_round_trip(value, major, tag, fields):
    encoded = dehydrate(value, major)
    assert (encoded.tag, encoded.fields) == (tag, fields)
    back = hydrate(encoded, major)
    assert type(back) is type(value) and str(back) == str(value) and back == value


@pytest.mark.parametrize(
    "native, ours",
    [
        (dt.date(1970, 1, 2), Date(1970, 1, 2)),
        (dt.time(0, 0, 1, 5), LocalTime(0, 0, 1, 5000)),
        (dt.datetime(1970, 1, 1, 1, tzinfo=ZoneInfo("Europe/Paris")), DateTime(1970, 1, 1, 1, zone="Europe/Paris")),
    ],
)
def test_python_values_are_sent_as_weftdb_values(native, ours):
    """A Python value in a result (a user's procedure may return one) goes out as WeftDB's."""
    assert dehydrate(native, 5) == dehydrate(ours, 5)


@pytest.mark.parametrize(
    "structure, major, reason",
    [
        (Structure(0x4E, (1, [], {})), 5, "not accepted as a parameter"),
        (Structure(0x44, ("x",)), 5, "integer fields"),
        (Structure(0x44, (10**12,)), 5, "out of range"),
        (Structure(0x74, (-1,)), 5, "within one day"),
        (Structure(0x69, (0, 0, "Nowhere/Land")), 5, "unknown time zone"),
        (Structure(0x69, (0, 0, "../../etc/passwd")), 5, "unknown time zone"),
        (Structure(0x46, (0, 0, 0)), 5, "not used by Bolt 5"),
        (Structure(0x49, (0, 0, 0)), 4, "not used by Bolt 4"),
        (Structure(0x49, (0, 0, 10**9)), 5, "out of range"),
        (Structure(0x49, (0, 0, 86_400)), 5, "out of range"),
        (Structure(0x49, (0, 10**9, 0)), 5, "nanoseconds out of range"),
        (Structure(0x64, (10**17, 0)), 5, "out of range"),
    ],
)
def test_bad_parameters_are_client_errors(structure, major, reason):
    with pytest.raises(BadValue, match=reason):
        hydrate({"p": [structure]}, major)


# -- with the neo4j driver: nanoseconds both ways, in a parameter and in a stored property

def _driver_values():
    import pytz
    from neo4j.time import Date as NDate
    from neo4j.time import DateTime as NDateTime
    from neo4j.time import Duration as NDuration
    from neo4j.time import Time as NTime

    return {
        "date": (NDate(1984, 10, 11), "1984-10-11"),
        "localtime": (NTime(12, 31, 14, 645876123), "12:31:14.645876123"),
        "time": (NTime(12, 31, 14, 3, tzinfo=pytz.FixedOffset(60)), "12:31:14.000000003+01:00"),
        "localdatetime": (NDateTime(9999, 9, 9, 9, 59, 59, 999999999), "9999-09-09T09:59:59.999999999"),
        "datetime_offset": (NDateTime(1, 1, 1, 1, 1, 1, 1, tzinfo=pytz.FixedOffset(-719)), "0001-01-01T01:01:01.000000001-11:59"),
        "datetime_zone": (pytz.timezone("Europe/Stockholm").localize(NDateTime(1984, 10, 11, 12, 31, 14, 645876123)),
                          "1984-10-11T12:31:14.645876123+01:00[Europe/Stockholm]"),
        "duration": (NDuration(months=14, days=3, seconds=7200, nanoseconds=1), "P1Y2M3DT2H0.000000001S"),
    }


def test_the_neo4j_driver_round_trips_nanoseconds(engine_server):
    neo4j = pytest.importorskip("neo4j")
    values = _driver_values()
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{engine_server.port}", auth=None) as driver:
        params = {name: value for name, (value, _) in values.items()}
        record = driver.execute_query("RETURN $p AS p, [k IN keys($p) | [k, toString($p[k])]] AS texts", p=params).records[0]
        assert record["p"] == params
        assert dict(record["texts"]) == {name: text for name, (_, text) in values.items()}
        driver.execute_query("CREATE (:NanoBolt $p)", p=params)
        stored = driver.execute_query("MATCH (n:NanoBolt) RETURN n").records[0]["n"]
        assert dict(stored) == params
        made = driver.execute_query(
            "RETURN datetime('2017-10-29T02:30+01:00[Europe/Stockholm]') AS late, localtime('00:00:00.000000001') AS t"
        ).records[0]
        assert (made["late"].utcoffset(), made["late"].tzinfo.zone) == (dt.timedelta(hours=1), "Europe/Stockholm")
        assert made["t"].nanosecond == 1


def test_a_negative_offset_sent_as_timedelta_seconds_is_read_as_meant():
    """py2neo 2021.2 packs utcoffset().seconds: -05:00 arrives as 68400."""
    assert hydrate(Structure(0x46, (0, 0, 68_400)), 4) == DateTime(1970, 1, 1, offset=-18_000)
    assert hydrate(Structure(0x54, (0, 68_400)), 4) == Time(offset=-18_000)

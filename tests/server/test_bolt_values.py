"""WeftDB values in the shapes of Bolt 4.4 and 5.x, and parameters refused cleanly."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from fakes import graph_values

from weftdb.basics.temporal import Duration
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
        (dt.date(1970, 1, 2), 5, 0x44, (1,)),
        (dt.time(0, 0, 1, 5), 5, 0x74, (1_000_005_000,)),
        (dt.time(1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))), 4, 0x54, (3600 * 10**9, 3600)),
        (dt.datetime(1970, 1, 1, 0, 0, 1), 4, 0x64, (1, 0)),
        (dt.datetime(1970, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), 5, 0x49, (0, 0, 3600)),
        (dt.datetime(1970, 1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), 4, 0x46, (3600, 0, 3600)),
        (dt.datetime(1970, 1, 1, 1, tzinfo=ZoneInfo("Europe/Paris")), 5, 0x69, (0, 0, "Europe/Paris")),
        (dt.datetime(1970, 1, 1, 1, tzinfo=ZoneInfo("Europe/Paris")), 4, 0x66, (3600, 0, "Europe/Paris")),
        (Duration(1, 2, 3, 4), 5, 0x45, (1, 2, 3, 4)),
    ],
)
def test_temporal_shapes_round_trip(value, major, tag, fields):
    encoded = dehydrate(value, major)
    assert (encoded.tag, encoded.fields) == (tag, fields)
    back = hydrate(encoded, major)
    assert back == value and getattr(back, "tzinfo", None) == getattr(value, "tzinfo", None)


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
    ],
)
def test_bad_parameters_are_client_errors(structure, major, reason):
    with pytest.raises(BadValue, match=reason):
        hydrate({"p": [structure]}, major)

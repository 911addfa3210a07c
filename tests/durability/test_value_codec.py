"""Property values survive encoding exactly; hostile bytes are refused, never trusted."""

import datetime as dt
import math
import struct
import zoneinfo

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time, from_native, offset_at
from weftdb.durability import codec

INT64 = st.integers(-(2**63), 2**63 - 1)
DAYS = st.integers(-365_243_219_162, 365_241_780_471)  # years -999,999,999 .. 999,999,999
NANOS_OF_DAY = st.integers(0, 86_400 * 10**9 - 1)
NANOS = st.integers(0, 10**9 - 1)
OFFSETS = st.integers(-18 * 3600, 18 * 3600)
ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"])


@st.composite
def zoned(draw):
    days, seconds, nanos, zone = draw(DAYS), draw(st.integers(0, 86_399)), draw(NANOS), draw(st.one_of(st.none(), ZONES))
    utc = days * 86_400 + seconds
    offset = draw(OFFSETS) if zone is None else offset_at(zone, utc)
    margin = abs(offset)  # the instant and its local time both within the years -999,999,999 to 999,999,999
    utc = min(max(utc, -31_557_014_135_596_800 + margin), 31_556_889_832_780_799 - margin)
    return DateTime._of(utc, nanos, offset, zone)


temporal = st.one_of(
    st.builds(Date._of, DAYS),
    st.builds(LocalTime._of, NANOS_OF_DAY),
    st.builds(Time._of, NANOS_OF_DAY, OFFSETS),
    st.builds(lambda days, seconds, nanos: LocalDateTime._of(days * 86_400 + seconds, nanos), DAYS, st.integers(0, 86_399), NANOS),
    zoned(),
    st.builds(Duration, INT64, INT64, st.integers(-(2**62), 2**62), st.integers(0, 999_999_999)),
)
scalars = st.one_of(
    st.none(), st.booleans(), INT64, st.floats(allow_nan=True), st.text(), st.binary(), temporal,
    st.characters(categories=["Cs"]),  # lone surrogates
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


def same(a, b):
    """Exact equality: floats bit for bit, temporal values field by field, list vs list."""
    if isinstance(a, float):
        return isinstance(b, float) and struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if type(a) in (Date, LocalTime, Time, LocalDateTime, DateTime):
        return type(a) is type(b) and a._eq_key() == b._eq_key()
    return type(a) is type(b) and a == b


@given(values)
@settings(max_examples=150, deadline=None)
def test_round_trip_is_exact(v):
    assert same(v, codec.unpackb(codec.packb(v)))


def test_special_floats_and_strings():
    for f in (float("nan"), -0.0, float("inf"), float("-inf"), 5e-324, 1.7976931348623157e308):
        out = codec.unpackb(codec.packb(f))
        assert struct.pack("<d", out) == struct.pack("<d", f) or (math.isnan(f) and math.isnan(out))
    s = "\x00\ud800\U0010ffff€"
    assert codec.unpackb(codec.packb(s)) == s


def test_tuples_become_lists_and_unsupported_types_are_refused():
    assert codec.unpackb(codec.packb((1, (2,)))) == [1, [2]]
    with pytest.raises(codec.CodecError, match="cannot store a value of type set"):
        codec.packb({1, 2})
    with pytest.raises(codec.CodecError):
        codec.packb(2**64)
    with pytest.raises(codec.CodecError, match="fixed offset"):
        codec.packb(dt.time(1, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")))
    with pytest.raises(codec.CodecError, match="storable range"):
        codec.packb(DateTime._of(0, 0, 0, "Europe/Bérlin"))


def test_a_failed_pack_leaves_nothing_behind_for_the_next():
    """packb reuses one Packer per thread: a value refused halfway must not
    leave its first items in the buffer of the next encoding."""
    with pytest.raises(codec.CodecError):
        codec.packb(["written first", 1, {1, 2}])
    assert codec.packb(["next", 2]) == msgpack.packb(["next", 2])


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xc1",  # never-used byte
        b"\xdd\xff\xff\xff\xff",  # array claiming 4 billion items
        b"\xdb\xff\xff\xff\xff" + b"a",  # string claiming 4 GiB
        b"\x91" * 100_000,  # nesting deeper than any value
        b"\x01\x02",  # extra data
        msgpack.packb(msgpack.ExtType(99, b"x")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATE_V1, b"xxxxx")),  # wrong length
        msgpack.packb(msgpack.ExtType(codec.EXT_DATE_V1, struct.pack("<i", 0))),  # ordinal 0
        msgpack.packb(msgpack.ExtType(codec.EXT_LOCAL_TIME_V1, struct.pack("<qB", 86_400_000_000, 0))),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_ZONE_V1, struct.pack("<qB", 0, 0) + b"../../etc/passwd")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_ZONE_V1, struct.pack("<qB", 0, 0) + b"No/Such_Zone")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_V1, struct.pack("<qqB", 0, 86_400_000_000, 0))),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_V1, struct.pack("<qqB", 0, 1, 0))),  # offset of 1 us
        msgpack.packb(msgpack.ExtType(codec.EXT_DATE, struct.pack("<q", 2**62))),  # beyond year 999,999,999
        msgpack.packb(msgpack.ExtType(codec.EXT_DATE, struct.pack("<i", 0))),  # wrong length
        msgpack.packb(msgpack.ExtType(codec.EXT_LOCAL_TIME, struct.pack("<q", -1))),
        msgpack.packb(msgpack.ExtType(codec.EXT_TIME, struct.pack("<qi", 0, 18 * 3600 + 1))),
        msgpack.packb(msgpack.ExtType(codec.EXT_LOCAL_DATETIME, struct.pack("<qI", 0, 10**9))),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME, struct.pack("<qIi", 2**62, 0, 0))),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_ZONE, struct.pack("<qIi", 0, 0, 0) + b"../../etc/passwd")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_ZONE, struct.pack("<qIi", 0, 0, 0) + b"\xff")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DURATION, struct.pack("<qqqq", 0, 0, 0, 10**9))),
        msgpack.packb({1: 2}),  # non-string map key
    ],
)
def test_hostile_bytes_are_refused(data):
    with pytest.raises(codec.CodecError):
        codec.unpackb(data)


@given(st.binary(max_size=200))
@settings(max_examples=150, deadline=None)
def test_random_bytes_decode_or_raise_codec_error(data):
    try:
        codec.unpackb(data)
    except codec.CodecError:
        pass


@pytest.mark.parametrize("n", [0, 1, 15, 16, 17, 9_999, 10_000, 10_001, 65_535, 65_536, 65_537, 70_001])
@pytest.mark.parametrize("chunk", [1, 7, 10_000, 65_536])
def test_packing_a_list_in_chunks_gives_the_same_bytes(n, chunk):
    """Snapshot batches are packed in chunks (to let other threads run): the
    array headers of every size class must come out as one packb would write them."""
    items = [(i, (1,), (0, i * 1.5, 1, "x" * (i % 7))) for i in range(n)]
    assert b"".join(codec.packb_parts(items, chunk)) == codec.packb(items)


def test_python_values_are_stored_as_weftdb_values():
    """A Python date/time/datetime that reaches the codec (from code that skipped
    the parameters' conversion) is stored as WeftDB's value."""
    native = dt.datetime(2024, 6, 1, 12, 30, 45, 123456, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))
    back = codec.unpackb(codec.packb([native, dt.date(2024, 2, 29), dt.timedelta(days=1)]))
    assert back == [from_native(native), Date(2024, 2, 29), Duration(0, 1)] and type(back[0]) is DateTime


def test_nanoseconds_and_far_years_round_trip():
    items = [LocalTime(12, 31, 14, 645_876_123), Time(0, 0, 0, 1, offset=-7507), Date(-999_999_999, 1, 1),
             LocalDateTime(999_999_999, 12, 31, 23, 59, 59, 999_999_999),
             DateTime(1984, 10, 11, 12, 31, 14, 645_876_123, zone="Europe/Stockholm"),
             DateTime(2017, 10, 29, 2, 30, zone="Europe/Stockholm", offset=3600)]
    back = codec.unpackb(codec.packb(items))
    assert [str(x) for x in back] == [str(x) for x in items] and all(same(a, b) for a, b in zip(items, back))


# -- value format 1 (microseconds): what an existing data directory holds is still read

def _v1(v):
    """Format 1's encoding of a Python value, as WeftDB wrote it before nanoseconds."""
    epoch = dt.datetime(1, 1, 1)

    def local_us(d):
        delta = d.replace(tzinfo=None, fold=0) - epoch
        return delta.days * 86_400_000_000 + delta.seconds * 1_000_000 + delta.microseconds

    def time_us(t):
        return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond

    def offset_us(off):
        return off.days * 86_400_000_000 + off.seconds * 1_000_000 + off.microseconds

    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            return msgpack.ExtType(4, struct.pack("<qB", local_us(v), v.fold))
        if isinstance(v.tzinfo, zoneinfo.ZoneInfo):
            return msgpack.ExtType(6, struct.pack("<qB", local_us(v), v.fold) + v.tzinfo.key.encode())
        return msgpack.ExtType(5, struct.pack("<qqB", local_us(v), offset_us(v.utcoffset()), v.fold))
    if isinstance(v, dt.date):
        return msgpack.ExtType(1, struct.pack("<i", v.toordinal()))
    if isinstance(v, dt.time):
        if v.tzinfo is None:
            return msgpack.ExtType(2, struct.pack("<qB", time_us(v), v.fold))
        return msgpack.ExtType(3, struct.pack("<qqB", time_us(v), offset_us(v.utcoffset()), v.fold))
    raise TypeError(v)


whole_offsets = st.integers(-86_399, 86_399).map(lambda s: dt.timezone(dt.timedelta(seconds=s)))
v1_values = st.one_of(
    st.dates(), st.times(), st.times(timezones=whole_offsets), st.datetimes(), st.datetimes(timezones=whole_offsets),
    st.datetimes(timezones=ZONES.map(zoneinfo.ZoneInfo)),
)


@given(v1_values)
@settings(max_examples=200, deadline=None)
def test_format_1_values_decode_to_the_same_instant(native):
    back = codec.unpackb(msgpack.packb(_v1(native), default=lambda x: x))
    aware = getattr(native, "tzinfo", None) is not None
    expected_type = {dt.date: Date, dt.datetime: DateTime if aware else LocalDateTime,
                     dt.time: Time if getattr(native, "tzinfo", None) else LocalTime}[type(native)]
    assert type(back) is expected_type
    assert back.to_native() == native
    if type(native) is dt.datetime and native.tzinfo is not None:
        assert back.utcoffset() == native.utcoffset()
        assert back.zone == getattr(native.tzinfo, "key", None)


# -- through a real data directory: WAL, snapshot, dump and import keep every nanosecond

STORED = {
    "date": Date(-999_999_999, 1, 1), "far": Date(999_999_999, 12, 31), "localtime": LocalTime(23, 59, 59, 999_999_999),
    "time": Time(12, 31, 14, 645_876_123, offset=-7507), "localdatetime": LocalDateTime(1, 1, 1, 1, 1, 1, 1),
    "offset": DateTime(9999, 9, 9, 9, 59, 59, 999_999_999, offset=11 * 3600 + 59 * 60),
    "zone": DateTime(2017, 10, 29, 2, 30, 0, 5, zone="Europe/Stockholm", offset=3600),
    "duration": Duration(14, 3, -1, 999_999_999), "list": [LocalTime(0, 0, 0, 1), Date(2024, 2, 29)],
}
QUIET = {"storage_snapshot_interval_sec": 0, "storage_snapshot_on_exit": False}


def _read_back(path, **flags):
    import weftdb

    with weftdb.open(str(path), **dict(QUIET, **flags)) as db:
        return db.execute("MATCH (n:Stored) RETURN properties(n)").rows[0][0]


def _identical(got):
    assert sorted(got) == sorted(STORED)
    for key, value in STORED.items():
        assert same(got[key], value) and str(got[key]) == str(value), key


def test_values_survive_a_wal_replay_and_a_snapshot(tmp_path):
    import weftdb

    with weftdb.open(str(tmp_path / "wal"), **QUIET) as db:
        db.execute("CREATE (:Stored $p)", {"p": STORED})
    _identical(_read_back(tmp_path / "wal"))  # from the WAL alone
    with weftdb.open(str(tmp_path / "snap"), **QUIET) as db:
        db.execute("CREATE (:Stored $p)", {"p": STORED})
        db.execute("CREATE SNAPSHOT")
    for segment in (tmp_path / "snap" / "wal").iterdir():
        segment.unlink()  # the snapshot alone must hold them
    _identical(_read_back(tmp_path / "snap"))


def test_values_survive_dump_and_import(tmp_path):
    from click.testing import CliRunner

    import weftdb
    from weftdb.cli import main

    with weftdb.open(str(tmp_path / "src"), **QUIET) as db:
        db.execute("CREATE (:Stored $p)", {"p": STORED})
        text = "".join(row[0] + "\n" for row in db.execute("DUMP DATABASE"))
    (tmp_path / "dump.cypherl").write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["import", str(tmp_path / "dump.cypherl"), "--data-directory", str(tmp_path / "dst")])
    assert result.exit_code == 0, result.output
    _identical(_read_back(tmp_path / "dst"))


def test_a_data_directory_written_with_format_1_values_opens(tmp_path, monkeypatch):
    """A WAL written before nanoseconds (segment version 1, ext codes 1 to 6) is read
    into the new values; what is written after uses the new codes."""
    import weftdb
    from weftdb.durability import wal

    old = {"d": dt.date(2024, 2, 29), "t": dt.time(12, 30, 0, 5, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
           "ldt": dt.datetime(2024, 1, 2, 3, 4, 5, 6),
           "zdt": dt.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin")),
           "lt": dt.time(23, 59, 59, 999_999)}

    def format_1(value):
        native = value.to_native() if hasattr(value, "to_native") else value
        return _v1(native) if not isinstance(value, Duration) else codec._ENCODERS[Duration](value)

    monkeypatch.setattr(wal, "VERSION", 1)
    monkeypatch.setattr(codec, "_default", format_1)
    codec._packers.__dict__.clear()
    try:
        with weftdb.open(str(tmp_path), **QUIET) as db:
            db.execute("CREATE (:Old $p)", {"p": old})
    finally:
        codec._packers.__dict__.clear()
    monkeypatch.undo()
    with weftdb.open(str(tmp_path), **QUIET) as db:
        props = db.execute("MATCH (n:Old) RETURN properties(n)").rows[0][0]
        assert props == old and type(props["zdt"]) is DateTime and props["zdt"].utcoffset() == dt.timedelta(hours=1)
        db.execute("MATCH (n:Old) SET n.more = localtime('00:00:00.000000001')")
    with weftdb.open(str(tmp_path), **QUIET) as db:
        assert db.execute("MATCH (n:Old) RETURN n.more, n.zdt").rows[0] == (LocalTime(0, 0, 0, 1), old["zdt"])

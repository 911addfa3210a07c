"""Property values survive encoding exactly; hostile bytes are refused, never trusted."""

import datetime as dt
import math
import struct
import zoneinfo

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weftdb.basics.temporal import Duration
from weftdb.durability import codec

INT64 = st.integers(-(2**63), 2**63 - 1)
offsets = st.integers(-86_399_999_999, 86_399_999_999).map(lambda us: dt.timezone(dt.timedelta(microseconds=us)))
zones = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]).map(
    zoneinfo.ZoneInfo
)
temporal = st.one_of(
    st.dates(),
    st.times(),
    st.times(timezones=offsets),
    st.datetimes(),
    st.datetimes(timezones=offsets),
    st.datetimes(timezones=zones),
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
    """Exact equality: floats bit for bit, datetimes with fold and zone, list vs list."""
    if isinstance(a, float):
        return isinstance(b, float) and struct.pack("<d", a) == struct.pack("<d", b)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (dt.datetime, dt.time)):
        return (type(a) is type(b) and a.replace(tzinfo=None) == b.replace(tzinfo=None) and a.fold == b.fold
                and (a.tzinfo is None) == (b.tzinfo is None)
                and (a.tzinfo is None or getattr(a.tzinfo, "key", None) == getattr(b.tzinfo, "key", None))
                and (a.utcoffset() == b.utcoffset()))
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
        msgpack.packb(msgpack.ExtType(codec.EXT_DATE, b"xxxxx")),  # wrong length
        msgpack.packb(msgpack.ExtType(codec.EXT_DATE, struct.pack("<i", 0))),  # ordinal 0
        msgpack.packb(msgpack.ExtType(codec.EXT_LOCAL_TIME, struct.pack("<qB", 86_400_000_000, 0))),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_ZONE, struct.pack("<qB", 0, 0) + b"../../etc/passwd")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME_ZONE, struct.pack("<qB", 0, 0) + b"No/Such_Zone")),
        msgpack.packb(msgpack.ExtType(codec.EXT_DATETIME, struct.pack("<qqB", 0, 86_400_000_000, 0))),
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
    assert codec.packb_list(items, chunk) == codec.packb(items)

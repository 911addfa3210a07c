"""PackStream: every value round-trips, sizes pick the smallest marker, and garbage is refused cleanly."""

import collections
import enum
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from weftdb.server.bolt.packstream import PackStreamError, Structure, pack, unpack

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.binary(max_size=40)
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(st.text(max_size=8), children, max_size=6)
    | st.builds(Structure, st.integers(0, 127), st.lists(children, max_size=4).map(tuple)),
    max_leaves=30,
)


@given(values)
@settings(max_examples=150, deadline=None)
def test_round_trip(value):
    assert unpack(pack(value)) == value


@pytest.mark.parametrize(
    "value, encoded",
    [
        (None, b"\xc0"),
        (True, b"\xc3"),
        (False, b"\xc2"),
        (1, b"\x01"),
        (-16, b"\xf0"),
        (-17, b"\xc8\xef"),
        (128, b"\xc9\x00\x80"),
        (2**31, b"\xcb" + struct.pack(">q", 2**31)),
        (1.5, b"\xc1" + struct.pack(">d", 1.5)),
        ("a", b"\x81a"),
        ("x" * 16, b"\xd0\x10" + b"x" * 16),
        (b"\x01", b"\xcc\x01\x01"),
        ([], b"\x90"),
        ({"k": 1}, b"\xa1\x81k\x01"),
        (Structure(0x4E, (1,)), b"\xb1\x4e\x01"),
    ],
)
def test_known_encodings(value, encoded):
    assert pack(value) == encoded
    assert unpack(encoded) == value


def test_large_sizes_use_wider_markers():
    assert pack("x" * 300)[:3] == b"\xd1\x01\x2c"
    assert pack(list(range(70000)))[:5] == b"\xd6\x00\x01\x11\x70"
    assert unpack(pack({str(i): i for i in range(300)}))["299"] == 299


def test_nan_survives():
    assert math.isnan(unpack(pack(float("nan"))))


@pytest.mark.parametrize(
    "garbage, reason",
    [
        (b"", "truncated"),
        (b"\xc7", "unknown marker"),
        (b"\xd2\xff\xff\xff\xff", "truncated"),  # a 4 GiB string in 5 bytes
        (b"\xd6\x7f\xff\xff\xff", "declared"),  # two billion list items
        (b"\xda\x7f\xff\xff\xff", "declared"),
        (b"\x82\xff\xfe", "UTF-8"),
        (b"\xa1\x01\x01", "map key"),
        (b"\x01\x02", "unexpected bytes"),
        (b"\xcb\x00", "truncated"),
        (b"\xbf", "truncated"),
    ],
)
def test_garbage_raises_clear_errors(garbage, reason):
    with pytest.raises(PackStreamError, match=reason):
        unpack(garbage)


def test_depth_is_bounded():
    deep = b"\x91" * 100 + b"\x90"
    with pytest.raises(PackStreamError, match="nesting deeper"):
        unpack(deep)
    assert unpack(b"\x91" * 10 + b"\x90", max_depth=20) is not None


@pytest.mark.parametrize("value", [2**63, -(2**63) - 1, {1: 2}, object(), Structure(1, tuple(range(16)))])
def test_unencodable_values_raise(value):
    with pytest.raises(PackStreamError):
        pack(value)


def test_subclasses_encode_as_their_base_type():
    class Color(enum.IntEnum):
        RED = 300

    class Name(str):
        pass

    Point = collections.namedtuple("Point", "x y")
    assert pack(Color.RED) == pack(300)
    assert pack(Name("a")) == pack("a")
    assert pack(Point(1, 2)) == pack([1, 2])
    assert pack(collections.OrderedDict(k=1)) == pack({"k": 1})
    assert pack(bytearray(b"\x01")) == pack(b"\x01")
    assert pack((1, "a")) == pack([1, "a"])


@pytest.mark.parametrize("marker", [0xC4, 0xC5, 0xC6, 0xC7, 0xCF, 0xD3, 0xD7, 0xDB, 0xDC, 0xDD, 0xDE, 0xDF, 0xE0, 0xEF])
def test_every_unassigned_marker_is_refused_at_its_offset(marker):
    with pytest.raises(PackStreamError, match=f"unknown marker 0x{marker:02X} at byte 1"):
        unpack(bytes((0x91, marker)))

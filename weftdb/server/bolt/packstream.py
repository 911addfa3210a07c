"""PackStream: the binary value format inside Bolt messages.

A pure codec between bytes and plain Python values (None, bool, int, float,
str, bytes, list, dict with str keys, and `Structure`). It knows nothing of
graphs or dates: turning a `Structure` into a Node or a datetime is version
dependent and lives in `values.py`.

The bytes come from the network, so decoding never trusts them: every declared
size is checked against the bytes actually present before anything is
allocated, nesting depth is bounded, and any malformed input raises
`PackStreamError` with the offset and the reason.
"""

from __future__ import annotations

import struct
from typing import Any, Callable, Iterable

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
DEFAULT_MAX_DEPTH = 64
MAX_STRUCT_FIELDS = 15

_FLOAT = struct.Struct(">d")
_SIGNED = {1: struct.Struct(">b"), 2: struct.Struct(">h"), 4: struct.Struct(">i"), 8: struct.Struct(">q")}
_UNSIGNED = {1: struct.Struct(">B"), 2: struct.Struct(">H"), 4: struct.Struct(">I")}

# Marker bytes of the sized types: (tiny base, 8-bit, 16-bit, 32-bit marker).
_STRING = (0x80, 0xD0, 0xD1, 0xD2)
_LIST = (0x90, 0xD4, 0xD5, 0xD6)
_MAP = (0xA0, 0xD8, 0xD9, 0xDA)
_BYTES = (None, 0xCC, 0xCD, 0xCE)


class PackStreamError(ValueError):
    """The bytes are not valid PackStream, or a value cannot be encoded."""


class Structure:
    """A tagged tuple: a Bolt message or a typed value such as a Node or a Date.
    A plain class with slots: every message in and out is one, and a frozen
    dataclass costs three times as much to make."""

    __slots__ = ("tag", "fields")

    def __init__(self, tag: int, fields: tuple):
        self.tag = tag
        self.fields = fields

    def __eq__(self, other: object) -> bool:
        if type(other) is not Structure:
            return NotImplemented
        return self.tag == other.tag and self.fields == other.fields

    def __hash__(self) -> int:
        return hash((self.tag, self.fields))

    def __repr__(self) -> str:
        return f"Structure(tag={self.tag!r}, fields={self.fields!r})"


def _size_header(out: bytearray, markers: tuple, size: int) -> None:
    tiny, m8, m16, m32 = markers
    if tiny is not None and size < 16:
        out.append(tiny + size)
    elif size < 0x100:
        out += bytes((m8, size))
    elif size < 0x10000:
        out.append(m16)
        out += _UNSIGNED[2].pack(size)
    elif size < 0x80000000:
        out.append(m32)
        out += _UNSIGNED[4].pack(size)
    else:
        raise PackStreamError(f"value too large to encode ({size} items or bytes)")


def pack_into(out: bytearray, value: Any, depth: int = 0) -> None:
    """Append the encoding of `value` to `out`. With `_Reader.value`, a
    hot path (docs/hot-paths.md): both find their code in a table, and the
    containers look up their items' encoders themselves."""
    if depth > DEFAULT_MAX_DEPTH:
        raise PackStreamError("value nested too deeply to encode")
    (_PACKERS.get(type(value)) or _packer_of(value))(out, value, depth)


# One encoder per type, found by the value's exact type (`_PACKERS`); a
# subclass (an IntEnum, an OrderedDict) by isinstance, in the order of `_KINDS`.
# A container checks the depth of its items once, then calls their encoders.

_TEXT_CACHE: dict[str, bytes] = {}
"""The encodings of short strings seen before: map keys, labels, column names
and the like recur in every message. At most `_TEXT_CACHE_SIZE` strings of at
most `_TEXT_CACHED_LENGTH` bytes, the first ones met (a few hundred KiB)."""
_TEXT_CACHE_SIZE = 4096
_TEXT_CACHED_LENGTH = 64


def _pack_none(out: bytearray, value: None, depth: int) -> None:
    out.append(0xC0)


def _pack_bool(out: bytearray, value: bool, depth: int) -> None:
    out.append(0xC3 if value else 0xC2)


def _pack_int(out: bytearray, value: int, depth: int) -> None:
    if -16 <= value < 128:
        out.append(value & 0xFF)
    elif -0x80 <= value < 0x80:
        out.append(0xC8)
        out += _SIGNED[1].pack(value)
    elif -0x8000 <= value < 0x8000:
        out.append(0xC9)
        out += _SIGNED[2].pack(value)
    elif -0x80000000 <= value < 0x80000000:
        out.append(0xCA)
        out += _SIGNED[4].pack(value)
    elif INT64_MIN <= value <= INT64_MAX:
        out.append(0xCB)
        out += _SIGNED[8].pack(value)
    else:
        raise PackStreamError(f"integer {value} does not fit in 64 bits")


def _pack_float(out: bytearray, value: float, depth: int) -> None:
    out.append(0xC1)
    out += _FLOAT.pack(value)


def _pack_str(out: bytearray, value: str, depth: int) -> None:
    encoded = _TEXT_CACHE.get(value)
    if encoded is not None:
        out += encoded
        return
    data = value.encode("utf-8")
    size = len(data)
    if size > _TEXT_CACHED_LENGTH or len(_TEXT_CACHE) >= _TEXT_CACHE_SIZE:
        _size_header(out, _STRING, size)
        out += data
        return
    encoded = (bytes((0x80 + size,)) if size < 16 else bytes((0xD0, size))) + data
    _TEXT_CACHE[value] = encoded
    out += encoded


def _pack_bytes(out: bytearray, value: bytes | bytearray, depth: int) -> None:
    _size_header(out, _BYTES, len(value))
    out += value


def _items_depth(depth: int) -> int:
    """The depth of a container's items, which must not be deeper than the limit."""
    depth += 1
    if depth > DEFAULT_MAX_DEPTH:
        raise PackStreamError("value nested too deeply to encode")
    return depth


def _pack_list(out: bytearray, value: list | tuple, depth: int) -> None:
    _size_header(out, _LIST, len(value))
    if value:
        depth, packers = _items_depth(depth), _PACKERS
        for item in value:
            (packers.get(type(item)) or _packer_of(item))(out, item, depth)


def _pack_dict(out: bytearray, value: dict, depth: int) -> None:
    _size_header(out, _MAP, len(value))
    if value:
        depth, packers, texts = _items_depth(depth), _PACKERS, _TEXT_CACHE
        for key, item in value.items():
            encoded = texts.get(key)  # nearly every key: met before
            if encoded is not None and type(key) is str:
                out += encoded
            elif isinstance(key, str):
                _pack_str(out, key, depth)
            else:
                raise PackStreamError(f"map keys must be strings, got {type(key).__name__}")
            (packers.get(type(item)) or _packer_of(item))(out, item, depth)


def _pack_structure(out: bytearray, value: Structure, depth: int) -> None:
    pack_structure_into(out, value.tag, value.fields, depth)


def pack_structure_into(out: bytearray, tag: int, fields: tuple | list, depth: int = 0) -> None:
    """Append a structure of `tag` and `fields` (a Bolt message: its caller
    need not make a Structure)."""
    if len(fields) > MAX_STRUCT_FIELDS:
        raise PackStreamError(f"a structure holds at most {MAX_STRUCT_FIELDS} fields")
    out += bytes((0xB0 + len(fields), tag))
    if fields:
        depth, packers = _items_depth(depth), _PACKERS
        for item in fields:
            (packers.get(type(item)) or _packer_of(item))(out, item, depth)


_KINDS = (
    (int, _pack_int),  # bool is matched by its exact type first
    (float, _pack_float),
    (str, _pack_str),
    ((bytes, bytearray), _pack_bytes),
    ((list, tuple), _pack_list),
    (dict, _pack_dict),
    (Structure, _pack_structure),
)
_PACKERS = {
    type(None): _pack_none,
    bool: _pack_bool,
    int: _pack_int,
    float: _pack_float,
    str: _pack_str,
    bytes: _pack_bytes,
    bytearray: _pack_bytes,
    list: _pack_list,
    tuple: _pack_list,
    dict: _pack_dict,
    Structure: _pack_structure,
}


def _packer_of(value: Any):
    for kinds, packer in _KINDS:
        if isinstance(value, kinds):
            return packer
    raise PackStreamError(f"cannot encode a value of type {type(value).__name__}")


def pack(value: Any) -> bytes:
    """The PackStream encoding of `value`."""
    out = bytearray()
    pack_into(out, value)
    return bytes(out)


class _Reader:
    """Decodes values from one buffer, checking every size before it allocates.
    `value` and the decoders of strings, lists, maps and structures are a hot
    path (docs/hot-paths.md): they read the buffer by position themselves."""

    __slots__ = ("data", "pos", "end", "max_depth")

    def __init__(self, data: bytes, max_depth: int):
        self.data = bytes(data)
        self.pos = 0
        self.end = len(self.data)
        self.max_depth = max_depth

    def fail(self, reason: str) -> PackStreamError:
        return PackStreamError(f"{reason} at byte {self.pos}")

    def take(self, n: int) -> bytes:
        pos = self.pos
        if n > self.end - pos:
            raise self.fail(f"truncated: {n} bytes declared, {self.end - pos} present")
        self.pos = pos + n
        return self.data[pos : pos + n]

    def count(self, n: int, min_item_bytes: int) -> int:
        # Every item takes at least `min_item_bytes`, so a count the remaining
        # bytes cannot hold is rejected before any list or dict grows.
        if n * min_item_bytes > self.end - self.pos:
            raise self.fail(f"declared {n} items but only {self.end - self.pos} bytes follow")
        return n

    def value(self, depth: int = 0) -> Any:
        if depth > self.max_depth:
            raise self.fail(f"nesting deeper than {self.max_depth}")
        pos = self.pos
        if pos >= self.end:
            raise self.fail("truncated: 1 bytes declared, 0 present")
        marker = self.data[pos]
        self.pos = pos + 1
        if marker < 0x80:
            return marker
        return _DECODERS[marker](self, marker, depth)

    # The decoders of the other markers, by `_DECODERS[marker]`.

    def _tiny_negative(self, marker: int, depth: int) -> int:
        return marker - 0x100

    def _null(self, marker: int, depth: int) -> None:
        return None

    def _bool(self, marker: int, depth: int) -> bool:
        return marker == 0xC3

    def _int(self, marker: int, depth: int) -> int:
        width = 1 << (marker - 0xC8)
        return _SIGNED[width].unpack(self.take(width))[0]

    def _float(self, marker: int, depth: int) -> float:
        return _FLOAT.unpack(self.take(8))[0]

    def _tiny_text(self, marker: int, depth: int) -> str:
        return self.text(marker & 0x0F)

    def _tiny_list(self, marker: int, depth: int) -> list:
        return self.list(marker & 0x0F, depth)

    def _tiny_map(self, marker: int, depth: int) -> dict:
        return self.map(marker & 0x0F, depth)

    def _tiny_structure(self, marker: int, depth: int) -> Structure:
        return self.structure(marker & 0x0F, depth)

    def _size(self, marker: int) -> int:
        width = 1 << (marker & 0x03)  # the 8-, 16- and 32-bit markers of a sized type are consecutive, from x0, x4, x8 or xC
        return _UNSIGNED[width].unpack(self.take(width))[0]

    def _sized_text(self, marker: int, depth: int) -> str:
        return self.text(self._size(marker))

    def _sized_bytes(self, marker: int, depth: int) -> bytes:
        return self.take(self._size(marker))

    def _sized_list(self, marker: int, depth: int) -> list:
        return self.list(self._size(marker), depth)

    def _sized_map(self, marker: int, depth: int) -> dict:
        return self.map(self._size(marker), depth)

    def _unknown(self, marker: int, depth: int) -> Any:
        self.pos -= 1
        raise self.fail(f"unknown marker 0x{marker:02X}")

    def text(self, size: int) -> str:
        raw = self.take(size)
        try:
            return raw.decode()
        except UnicodeDecodeError:
            raise self.fail("string is not valid UTF-8") from None

    def list(self, size: int, depth: int) -> list:
        self.count(size, 1)
        depth += 1
        value = self.value
        return [value(depth) for _ in range(size)]

    def map(self, size: int, depth: int) -> dict:
        """A map's keys are strings, nearly always short ones: read here."""
        self.count(size, 2)
        depth += 1
        value, data, result = self.value, self.data, {}
        for _ in range(size):
            pos = self.pos
            if pos < self.end and 0x80 <= data[pos] < 0x90:
                self.pos = pos + 1
                key = self.text(data[pos] & 0x0F)
            else:
                key = value(depth)
                if type(key) is not str:
                    raise self.fail(f"map key must be a string, got {type(key).__name__}")
            result[key] = value(depth)
        return result

    def structure(self, size: int, depth: int) -> Structure:
        tag = self.take(1)[0]
        self.count(size, 1)
        depth += 1
        value = self.value
        return Structure(tag, tuple([value(depth) for _ in range(size)]))


_DECODERS = [_Reader._unknown] * 256


def _decode(markers: Iterable[int], decoder: Callable) -> None:
    for marker in markers:
        _DECODERS[marker] = decoder


_decode(range(0xF0, 0x100), _Reader._tiny_negative)
_decode((0xC0,), _Reader._null)
_decode((0xC1,), _Reader._float)
_decode((0xC2, 0xC3), _Reader._bool)
_decode(range(0xC8, 0xCC), _Reader._int)
_decode(range(_STRING[0], _STRING[0] + 16), _Reader._tiny_text)
_decode(range(_LIST[0], _LIST[0] + 16), _Reader._tiny_list)
_decode(range(_MAP[0], _MAP[0] + 16), _Reader._tiny_map)
_decode(range(0xB0, 0xC0), _Reader._tiny_structure)
_decode(_STRING[1:], _Reader._sized_text)
_decode(_BYTES[1:], _Reader._sized_bytes)
_decode(_LIST[1:], _Reader._sized_list)
_decode(_MAP[1:], _Reader._sized_map)


def unpack(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode exactly one value that fills `data`; trailing bytes are an error."""
    reader = _Reader(data, max_depth)
    value = reader.value()
    if reader.pos != reader.end:
        raise reader.fail(f"{reader.end - reader.pos} unexpected bytes after the value")
    return value

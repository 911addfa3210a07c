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
from dataclasses import dataclass
from typing import Any

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
# Decoding table for the non-tiny size markers: marker -> (kind, width of the size).
_SIZED = {
    0xD0: ("str", 1), 0xD1: ("str", 2), 0xD2: ("str", 4),
    0xD4: ("list", 1), 0xD5: ("list", 2), 0xD6: ("list", 4),
    0xD8: ("map", 1), 0xD9: ("map", 2), 0xDA: ("map", 4),
    0xCC: ("bytes", 1), 0xCD: ("bytes", 2), 0xCE: ("bytes", 4),
}  # fmt: skip


class PackStreamError(ValueError):
    """The bytes are not valid PackStream, or a value cannot be encoded."""


@dataclass(frozen=True)
class Structure:
    """A tagged tuple: a Bolt message or a typed value such as a Node or a Date."""

    tag: int
    fields: tuple


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


def _pack_int(out: bytearray, value: int) -> None:
    if -16 <= value < 128:
        out += _SIGNED[1].pack(value)
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


def pack_into(out: bytearray, value: Any, depth: int = 0) -> None:
    """Append the encoding of `value` to `out`."""
    if depth > DEFAULT_MAX_DEPTH:
        raise PackStreamError("value nested too deeply to encode")
    if value is None:
        out.append(0xC0)
    elif value is True:
        out.append(0xC3)
    elif value is False:
        out.append(0xC2)
    elif isinstance(value, int):
        _pack_int(out, value)
    elif isinstance(value, float):
        out.append(0xC1)
        out += _FLOAT.pack(value)
    elif isinstance(value, str):
        data = value.encode("utf-8")
        _size_header(out, _STRING, len(data))
        out += data
    elif isinstance(value, (bytes, bytearray)):
        _size_header(out, _BYTES, len(value))
        out += value
    elif isinstance(value, (list, tuple)):
        _size_header(out, _LIST, len(value))
        for item in value:
            pack_into(out, item, depth + 1)
    elif isinstance(value, dict):
        _size_header(out, _MAP, len(value))
        for key, item in value.items():
            if not isinstance(key, str):
                raise PackStreamError(f"map keys must be strings, got {type(key).__name__}")
            pack_into(out, key, depth + 1)
            pack_into(out, item, depth + 1)
    elif isinstance(value, Structure):
        if len(value.fields) > MAX_STRUCT_FIELDS:
            raise PackStreamError(f"a structure holds at most {MAX_STRUCT_FIELDS} fields")
        out += bytes((0xB0 + len(value.fields), value.tag))
        for item in value.fields:
            pack_into(out, item, depth + 1)
    else:
        raise PackStreamError(f"cannot encode a value of type {type(value).__name__}")


def pack(value: Any) -> bytes:
    """The PackStream encoding of `value`."""
    out = bytearray()
    pack_into(out, value)
    return bytes(out)


class _Reader:
    """Decodes values from one buffer, checking every size before it allocates."""

    def __init__(self, data: bytes, max_depth: int):
        self.data = memoryview(data)
        self.pos = 0
        self.max_depth = max_depth

    def fail(self, reason: str) -> PackStreamError:
        return PackStreamError(f"{reason} at byte {self.pos}")

    def take(self, n: int) -> memoryview:
        if n > len(self.data) - self.pos:
            raise self.fail(f"truncated: {n} bytes declared, {len(self.data) - self.pos} present")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def count(self, n: int, min_item_bytes: int) -> int:
        # Every item takes at least `min_item_bytes`, so a count the remaining
        # bytes cannot hold is rejected before any list or dict grows.
        if n * min_item_bytes > len(self.data) - self.pos:
            raise self.fail(f"declared {n} items but only {len(self.data) - self.pos} bytes follow")
        return n

    def value(self, depth: int = 0) -> Any:
        if depth > self.max_depth:
            raise self.fail(f"nesting deeper than {self.max_depth}")
        marker = self.take(1)[0]
        if marker < 0x80:
            return marker
        if marker >= 0xF0:
            return marker - 0x100
        high = marker & 0xF0
        if high == 0x80:
            return self.text(marker & 0x0F)
        if high == 0x90:
            return self.list(marker & 0x0F, depth)
        if high == 0xA0:
            return self.map(marker & 0x0F, depth)
        if high == 0xB0:
            return self.structure(marker & 0x0F, depth)
        if marker == 0xC0:
            return None
        if marker == 0xC1:
            return _FLOAT.unpack(self.take(8))[0]
        if marker in (0xC2, 0xC3):
            return marker == 0xC3
        if 0xC8 <= marker <= 0xCB:
            width = 1 << (marker - 0xC8)
            return _SIGNED[width].unpack(self.take(width))[0]
        if marker in _SIZED:
            kind, width = _SIZED[marker]
            size = _UNSIGNED[width].unpack(self.take(width))[0]
            if kind == "str":
                return self.text(size)
            if kind == "bytes":
                return bytes(self.take(size))
            if kind == "list":
                return self.list(size, depth)
            return self.map(size, depth)
        self.pos -= 1
        raise self.fail(f"unknown marker 0x{marker:02X}")

    def text(self, size: int) -> str:
        raw = self.take(size)
        try:
            return str(raw, "utf-8")
        except UnicodeDecodeError:
            raise self.fail("string is not valid UTF-8") from None

    def list(self, size: int, depth: int) -> list:
        return [self.value(depth + 1) for _ in range(self.count(size, 1))]

    def map(self, size: int, depth: int) -> dict:
        result = {}
        for _ in range(self.count(size, 2)):
            key = self.value(depth + 1)
            if not isinstance(key, str):
                raise self.fail(f"map key must be a string, got {type(key).__name__}")
            result[key] = self.value(depth + 1)
        return result

    def structure(self, size: int, depth: int) -> Structure:
        tag = self.take(1)[0]
        return Structure(tag, tuple(self.value(depth + 1) for _ in range(self.count(size, 1))))


def unpack(data: bytes, max_depth: int = DEFAULT_MAX_DEPTH) -> Any:
    """Decode exactly one value that fills `data`; trailing bytes are an error."""
    reader = _Reader(data, max_depth)
    value = reader.value()
    if reader.pos != len(reader.data):
        raise reader.fail(f"{len(reader.data) - reader.pos} unexpected bytes after the value")
    return value

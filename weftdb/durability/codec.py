"""msgpack encoding of property values, for WAL records and snapshot batches.

Why msgpack with a few extension types: it is compact, fast in C, and decoding
it only builds plain data (no pickle, nothing evaluated: DESIGN.md invariant 8).
Cypher's value types map onto it like this:

    null, bool, str, bytes, list, map   msgpack's own types
    int (int64)                         msgpack int
    float                               always float64, so NaN, -0.0, inf round-trip bit-exactly
    str with lone surrogates            kept ("surrogatepass"), a str round-trips whatever it holds
    temporal values                     ExtType codes 1..7, fixed little-endian layouts (docs/formats.md)

Bounded decoding: `unpackb` limits every string, byte, array, map and ext length
to the input's size, the C unpacker caps nesting depth, and each ext payload
must have its exact documented length, so untrusted bytes cannot make the
decoder allocate more than a small multiple of their own size.
"""

from __future__ import annotations

import datetime as _dt
import re
import struct
import threading
from typing import Any

import msgpack

from weftdb.basics.temporal import Duration

EXT_DATE = 1  # <i   proleptic Gregorian ordinal (0001-01-01 = 1)
EXT_LOCAL_TIME = 2  # <qB  microseconds since midnight, fold
EXT_TIME = 3  # <qqB microseconds since midnight, UTC offset in microseconds, fold
EXT_LOCAL_DATETIME = 4  # <qB  microseconds since 0001-01-01T00:00, fold
EXT_DATETIME = 5  # <qqB local microseconds since 0001-01-01T00:00, UTC offset us, fold
EXT_DATETIME_ZONE = 6  # <qB + zone name (UTF-8, 1..64 bytes): local us, fold, IANA key
EXT_DURATION = 7  # <qqqq months, days, seconds, nanoseconds

_I = struct.Struct("<i")
_QB = struct.Struct("<qB")
_QQB = struct.Struct("<qqB")
_QQQQ = struct.Struct("<qqqq")

_US_PER_DAY = 86_400_000_000
_EPOCH = _dt.datetime(1, 1, 1)
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


class CodecError(ValueError):
    """Bytes that are not a valid encoding, or a value that has none."""


def _time_us(t: _dt.time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


def _local_us(d: _dt.datetime) -> int:
    delta = d.replace(tzinfo=None, fold=0) - _EPOCH
    return delta.days * _US_PER_DAY + delta.seconds * 1_000_000 + delta.microseconds


def _offset_us(off: _dt.timedelta) -> int:
    return off.days * _US_PER_DAY + off.seconds * 1_000_000 + off.microseconds


def _zone_key(tz) -> str | None:
    key = getattr(tz, "key", None)  # zoneinfo.ZoneInfo
    return key if isinstance(key, str) else None


def _default(v: Any) -> msgpack.ExtType:
    try:
        if isinstance(v, _dt.datetime):
            if v.tzinfo is None:
                return msgpack.ExtType(EXT_LOCAL_DATETIME, _QB.pack(_local_us(v), v.fold))
            key = _zone_key(v.tzinfo)
            if key is not None:
                return msgpack.ExtType(EXT_DATETIME_ZONE, _QB.pack(_local_us(v), v.fold) + key.encode())
            off = v.utcoffset()
            return msgpack.ExtType(EXT_DATETIME, _QQB.pack(_local_us(v), _offset_us(off), v.fold))
        if isinstance(v, _dt.date):
            return msgpack.ExtType(EXT_DATE, _I.pack(v.toordinal()))
        if isinstance(v, _dt.time):
            if v.tzinfo is None:
                return msgpack.ExtType(EXT_LOCAL_TIME, _QB.pack(_time_us(v), v.fold))
            off = v.utcoffset()
            if off is None:
                raise CodecError(f"a time's zone must be a fixed offset, not {v.tzinfo!r}")
            return msgpack.ExtType(EXT_TIME, _QQB.pack(_time_us(v), _offset_us(off), v.fold))
        if isinstance(v, Duration):
            return msgpack.ExtType(EXT_DURATION, _QQQQ.pack(v.months, v.days, v.seconds, v.nanoseconds))
    except struct.error as e:
        raise CodecError(f"value out of the storable range: {v!r} ({e})") from e
    raise CodecError(f"cannot store a value of type {type(v).__name__}: {v!r}")


def _time_from_us(us: int, tz, fold: int) -> _dt.time:
    if not 0 <= us < _US_PER_DAY or fold > 1:
        raise CodecError(f"time out of range: {us} us")
    s, micro = divmod(us, 1_000_000)
    m, sec = divmod(s, 60)
    h, mi = divmod(m, 60)
    return _dt.time(h, mi, sec, micro, tzinfo=tz, fold=fold)


def _datetime_from_us(us: int, tz, fold: int) -> _dt.datetime:
    if fold > 1:
        raise CodecError("bad fold")
    return (_EPOCH + _dt.timedelta(microseconds=us)).replace(tzinfo=tz, fold=fold)


def _offset(us: int) -> _dt.timezone:
    return _dt.timezone(_dt.timedelta(microseconds=us))


def _zone(key: str):
    import zoneinfo

    if len(key) > 64 or not _ZONE_KEY.fullmatch(key) or ".." in key:
        raise CodecError(f"bad time zone name {key!r}")
    try:
        return zoneinfo.ZoneInfo(key)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as e:
        raise CodecError(f"unknown time zone {key!r}") from e


def _ext_hook(code: int, data: bytes) -> Any:
    try:
        if code == EXT_DATE and len(data) == 4:
            return _dt.date.fromordinal(_I.unpack(data)[0])
        if code == EXT_LOCAL_TIME and len(data) == 9:
            us, fold = _QB.unpack(data)
            return _time_from_us(us, None, fold)
        if code == EXT_TIME and len(data) == 17:
            us, off, fold = _QQB.unpack(data)
            return _time_from_us(us, _offset(off), fold)
        if code == EXT_LOCAL_DATETIME and len(data) == 9:
            us, fold = _QB.unpack(data)
            return _datetime_from_us(us, None, fold)
        if code == EXT_DATETIME and len(data) == 17:
            us, off, fold = _QQB.unpack(data)
            return _datetime_from_us(us, _offset(off), fold)
        if code == EXT_DATETIME_ZONE and 9 < len(data) <= 9 + 64:
            us, fold = _QB.unpack_from(data)
            return _datetime_from_us(us, _zone(data[9:].decode("ascii")), fold)
        if code == EXT_DURATION and len(data) == 32:
            return Duration(*_QQQQ.unpack(data))
    except CodecError:
        raise
    except (ValueError, OverflowError, UnicodeDecodeError) as e:
        raise CodecError(f"bad value of extension type {code}: {e}") from e
    raise CodecError(f"unknown extension type {code} ({len(data)} bytes)")


_packers = threading.local()


def packb(value: Any) -> bytes:
    """Encode a value (or a structure of them: lists, tuples, str-keyed dicts).

    Each thread keeps one Packer (not thread-safe; it resets itself after a
    failed pack): building one per call was two thirds of encoding a
    one-op commit record."""
    packer = getattr(_packers, "packer", None)
    if packer is None:
        packer = _packers.packer = msgpack.Packer(default=_default, use_bin_type=True, unicode_errors="surrogatepass")
    try:
        return packer.pack(value)
    except CodecError:
        raise
    except (TypeError, ValueError, OverflowError) as e:
        raise CodecError(f"cannot encode: {e}") from e


def packb_list(items: list, chunk: int = 10_000) -> bytes:
    """The same bytes as `packb(items)`, packed `chunk` items at a time.

    One packb call holds the GIL until it returns: for a snapshot batch of a
    million items that is long enough to stall every committing thread. Between
    chunks other threads run. Each chunk is packed as an array and its array
    header (1, 3 or 5 bytes by the msgpack spec) is cut off, so the result is
    one array header followed by every item's encoding."""
    if len(items) <= chunk:
        return packb(items)
    parts = [msgpack.Packer().pack_array_header(len(items))]
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        parts.append(packb(part)[_array_header_size(len(part)) :])
    return b"".join(parts)


def _array_header_size(n: int) -> int:
    return 1 if n < 16 else 3 if n < 1 << 16 else 5


def unpackb(data: bytes) -> Any:
    """Decode exactly one value filling `data`; CodecError for anything else."""
    try:
        return msgpack.unpackb(
            data,
            ext_hook=_ext_hook,
            raw=False,
            strict_map_key=True,
            unicode_errors="surrogatepass",
        )
    except CodecError:
        raise
    except Exception as e:  # msgpack raises several unrelated classes (ExtraData, StackError, ...)
        raise CodecError(f"not a valid encoding: {type(e).__name__}: {e}") from e

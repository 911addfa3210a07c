"""msgpack encoding of property values, for WAL records and snapshot batches.

Why msgpack with a few extension types: it is compact, fast in C, and decoding
it only builds plain data (no pickle, nothing evaluated: DESIGN.md invariant 8).
Cypher's value types map onto it like this:

    null, bool, str, bytes, list, map   msgpack's own types
    int (int64)                         msgpack int
    float                               always float64, so NaN, -0.0, inf round-trip bit-exactly
    str with lone surrogates            kept ("surrogatepass"), a str round-trips whatever it holds
    temporal values                     ExtType codes 8..13 and 7, fixed little-endian layouts
                                        with nanoseconds (docs/formats.md); codes 1..6, the
                                        microsecond layouts of value format 1, are still read

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

from weftdb.basics.errors import CypherArithmeticError, CypherSemanticError
from weftdb.basics.temporal import (
    DAY_NANOS,
    DAY_SECONDS,
    MAX_OFFSET,
    Date,
    DateTime,
    Duration,
    LocalDateTime,
    LocalTime,
    Time,
    check_days,
    from_native,
    zone_rules,
)

# Value format 1 (read only): microseconds, and Python's fold for a repeated wall-clock time.
EXT_DATE_V1 = 1  # <i   proleptic Gregorian ordinal (0001-01-01 = 1)
EXT_LOCAL_TIME_V1 = 2  # <qB  microseconds since midnight, fold
EXT_TIME_V1 = 3  # <qqB microseconds since midnight, UTC offset in microseconds, fold
EXT_LOCAL_DATETIME_V1 = 4  # <qB  microseconds since 0001-01-01T00:00, fold
EXT_DATETIME_V1 = 5  # <qqB local microseconds since 0001-01-01T00:00, UTC offset us, fold
EXT_DATETIME_ZONE_V1 = 6  # <qB + zone name (UTF-8, 1..64 bytes): local us, fold, IANA key
# Both formats.
EXT_DURATION = 7  # <qqqq months, days, seconds, nanoseconds
# Value format 2: nanoseconds, years -999,999,999..999,999,999, the offset kept with a zone.
EXT_DATE = 8  # <q    days since 1970-01-01
EXT_LOCAL_TIME = 9  # <q    nanoseconds since midnight
EXT_TIME = 10  # <qi   nanoseconds since midnight (local), UTC offset in seconds
EXT_LOCAL_DATETIME = 11  # <qI   seconds since 1970-01-01T00:00 (local), nanoseconds
EXT_DATETIME = 12  # <qIi  UTC seconds since the epoch, nanoseconds, UTC offset in seconds
EXT_DATETIME_ZONE = 13  # <qIi + zone name (ASCII, 1..64 bytes): as 12, then the IANA key

_I = struct.Struct("<i")
_Q = struct.Struct("<q")
_QI = struct.Struct("<qI")
_QSI = struct.Struct("<qi")
_QIS = struct.Struct("<qIi")
_QB = struct.Struct("<qB")
_QQB = struct.Struct("<qqB")
_QQQQ = struct.Struct("<qqqq")

_US_PER_DAY = 86_400_000_000
_V1_EPOCH_SECONDS = 62_135_596_800  # seconds from 0001-01-01 to 1970-01-01
_V1_EPOCH = _dt.datetime(1, 1, 1)
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(/[A-Za-z0-9_+\-]+)*")


class CodecError(ValueError):
    """Bytes that are not a valid encoding, or a value that has none."""


def _datetime(v: DateTime) -> msgpack.ExtType:
    if v.zone is None:
        return msgpack.ExtType(EXT_DATETIME, _QIS.pack(v.seconds, v.nanos, v.offset))
    return msgpack.ExtType(EXT_DATETIME_ZONE, _QIS.pack(v.seconds, v.nanos, v.offset) + v.zone.encode("ascii"))


_ENCODERS = {
    Date: lambda v: msgpack.ExtType(EXT_DATE, _Q.pack(v.days)),
    LocalTime: lambda v: msgpack.ExtType(EXT_LOCAL_TIME, _Q.pack(v.nanos)),
    Time: lambda v: msgpack.ExtType(EXT_TIME, _QSI.pack(v.nanos, v.offset)),
    LocalDateTime: lambda v: msgpack.ExtType(EXT_LOCAL_DATETIME, _QI.pack(v.seconds, v.nanos)),
    DateTime: _datetime,
    Duration: lambda v: msgpack.ExtType(EXT_DURATION, _QQQQ.pack(v.months, v.days, v.seconds, v.nanoseconds)),
}


def _default(v: Any) -> msgpack.ExtType:
    encode = _ENCODERS.get(type(v))
    if encode is None and isinstance(v, (_dt.date, _dt.time, _dt.timedelta)):
        try:  # Python's own, from code that bypassed the parameters' conversion
            v = from_native(v)
        except ValueError as e:
            raise CodecError(f"cannot store {v!r}: {e}") from None
        encode = _ENCODERS[type(v)]
    if encode is None:
        raise CodecError(f"cannot store a value of type {type(v).__name__}: {v!r}")
    try:
        return encode(v)
    except (struct.error, UnicodeEncodeError) as e:
        raise CodecError(f"value out of the storable range: {v!r} ({e})") from e


def _nanos_of_day(nanos: int) -> int:
    if not 0 <= nanos < DAY_NANOS:
        raise CodecError(f"time out of range: {nanos} ns")
    return nanos


def _fraction(nanos: int) -> int:
    if nanos >= 1_000_000_000:
        raise CodecError(f"nanoseconds out of range: {nanos}")
    return nanos


def _offset(seconds: int) -> int:
    if not -MAX_OFFSET <= seconds <= MAX_OFFSET:
        raise CodecError(f"UTC offset out of range: {seconds} s")
    return seconds


def _days(days: int) -> int:
    try:
        return check_days(days)
    except CypherArithmeticError as e:
        raise CodecError(str(e)) from None


def _local_seconds(seconds: int) -> int:
    _days(seconds // DAY_SECONDS)
    return seconds


def _zone_key(data: bytes) -> str:
    key = data.decode("ascii")
    if len(key) > 64 or not _ZONE_KEY.fullmatch(key) or ".." in key:
        raise CodecError(f"bad time zone name {key!r}")
    return key


def _decode_v2(code: int, data: bytes) -> Any:
    if code == EXT_DATE and len(data) == 8:
        return Date._of(_days(_Q.unpack(data)[0]))
    if code == EXT_LOCAL_TIME and len(data) == 8:
        return LocalTime._of(_nanos_of_day(_Q.unpack(data)[0]))
    if code == EXT_TIME and len(data) == 12:
        nanos, offset = _QSI.unpack(data)
        return Time._of(_nanos_of_day(nanos), _offset(offset))
    if code == EXT_LOCAL_DATETIME and len(data) == 12:
        seconds, nanos = _QI.unpack(data)
        return LocalDateTime._of(_local_seconds(seconds), _fraction(nanos))
    if code == EXT_DATETIME and len(data) == 16:
        seconds, nanos, offset = _QIS.unpack(data)
        return DateTime._of(_local_seconds(seconds + _offset(offset)) - offset, _fraction(nanos), offset, None)
    if code == EXT_DATETIME_ZONE and 16 < len(data) <= 16 + 64:
        seconds, nanos, offset = _QIS.unpack_from(data)
        zone = _zone_key(data[16:])
        return DateTime._of(_local_seconds(seconds + _offset(offset)) - offset, _fraction(nanos), offset, zone)
    raise CodecError(f"unknown extension type {code} ({len(data)} bytes)")


def _v1_time(us: int, fold: int) -> int:
    if not 0 <= us < _US_PER_DAY or fold > 1:
        raise CodecError(f"time out of range: {us} us")
    return us * 1000


def _v1_offset(us: int) -> int:
    if us % 1_000_000 or not -_US_PER_DAY < us < _US_PER_DAY:
        raise CodecError(f"a UTC offset of {us} us is not a whole number of seconds within a day")
    return us // 1_000_000


def _v1_local(us: int, fold: int) -> tuple[int, int]:
    """(seconds since 1970-01-01, nanoseconds) of format 1's microseconds since 0001-01-01."""
    if fold > 1 or not 0 <= us < 3_652_059 * _US_PER_DAY:
        raise CodecError(f"datetime out of range: {us} us")
    seconds, micro = divmod(us, 1_000_000)
    return seconds - _V1_EPOCH_SECONDS, micro * 1000


def _v1_zoned(us: int, fold: int, key: str) -> DateTime:
    """Format 1 kept the wall clock and the fold: the offset comes from the zone's rules."""
    seconds, nanos = _v1_local(us, fold)
    try:
        rules = zone_rules(key)
    except CypherSemanticError as e:
        raise CodecError(f"unknown time zone {key!r}") from e
    wall = (_V1_EPOCH + _dt.timedelta(microseconds=us)).replace(tzinfo=rules, fold=fold)
    offset = int(wall.utcoffset().total_seconds())
    return DateTime._of(seconds - offset, nanos, offset, rules.key)


def _decode_v1(code: int, data: bytes) -> Any:
    if code == EXT_DATE_V1 and len(data) == 4:
        ordinal = _I.unpack(data)[0]
        if ordinal < 1:
            raise CodecError(f"date ordinal out of range: {ordinal}")
        return Date._of(ordinal - 719_163)
    if code == EXT_LOCAL_TIME_V1 and len(data) == 9:
        return LocalTime._of(_v1_time(*_QB.unpack(data)))
    if code == EXT_TIME_V1 and len(data) == 17:
        us, off, fold = _QQB.unpack(data)
        return Time._of(_v1_time(us, fold), _v1_offset(off))
    if code == EXT_LOCAL_DATETIME_V1 and len(data) == 9:
        return LocalDateTime._of(*_v1_local(*_QB.unpack(data)))
    if code == EXT_DATETIME_V1 and len(data) == 17:
        us, off, fold = _QQB.unpack(data)
        (seconds, nanos), offset = _v1_local(us, fold), _v1_offset(off)
        return DateTime._of(seconds - offset, nanos, offset, None)
    if code == EXT_DATETIME_ZONE_V1 and 9 < len(data) <= 9 + 64:
        us, fold = _QB.unpack_from(data)
        return _v1_zoned(us, fold, _zone_key(data[9:]))
    raise CodecError(f"unknown extension type {code} ({len(data)} bytes)")


def _ext_hook(code: int, data: bytes) -> Any:
    try:
        if code == EXT_DURATION and len(data) == 32:
            months, days, seconds, nanos = _QQQQ.unpack(data)
            return Duration(months, days, seconds, _fraction(nanos))
        return _decode_v2(code, data) if code >= EXT_DATE else _decode_v1(code, data)
    except CodecError:
        raise
    except (ValueError, OverflowError, UnicodeDecodeError, struct.error) as e:
        raise CodecError(f"bad value of extension type {code}: {e}") from e


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


def packb_parts(items: list, chunk: int = 1_000) -> list[bytes]:
    """The encoding of the list `items` in parts, `chunk` items each: their
    concatenation is `packb(items)`.

    One packb call holds the GIL until it returns, and so does joining its
    output: for a snapshot batch of a million items, 280 ms of packing in
    chunks of 10,000 held it 4.3 ms at a time, and the join of the 18 MB
    15 ms, long enough to stall every committing thread. A chunk of 1,000
    takes about 0.5 ms; the caller writes the parts as they are. Each chunk is
    packed as an array and its array header (1, 3 or 5 bytes by the msgpack
    spec) is cut off; the first part is the header of the whole array."""
    if len(items) <= chunk:
        return [packb(items)]
    parts = [msgpack.Packer().pack_array_header(len(items))]
    for start in range(0, len(items), chunk):
        part = items[start : start + chunk]
        parts.append(packb(part)[_array_header_size(len(part)) :])
    return parts


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

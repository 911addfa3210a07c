"""The write-ahead log format: segment header, record framing, record body.

The layout is written down byte by byte in docs/formats.md ("WAL segment");
this module is the only code that knows it. The writer (`wal_writer.py`) and
the reader (`wal_reader.py`) build on the three pieces here:

* `pack_header` / `unpack_header`: a segment starts with magic bytes, the
  format version, the database UUID, the segment's sequence number and a
  CRC32 of those bytes (DESIGN.md invariant 4);
* `frame`: the one function that frames a record — u32 length, u32 CRC32,
  body. The CRC covers the length bytes and the body and is seeded with the
  segment header's CRC, so a torn record, a record whose length was damaged,
  or a record copied from another segment or database cannot pass;
* `encode_record` / `decode_record`: the body of one committed transaction —
  commit timestamp, wall-clock commit time (microseconds since the Unix epoch,
  for point-in-time restore by date) and the engine's operations.
"""

from __future__ import annotations

import os
import re
import struct
import uuid as _uuid
import zlib

import msgpack

from weftdb.durability import codec

MAGIC = b"WEFTWAL\x00"
VERSION = 2  # written; 2 added the named schema operations (redo codes 24 to 27) and property values of format 2
READS = (1, 2)  # versions this WeftDB reads
# magic(8) version(u16) flags(u16) uuid(16) sequence(u64) header_crc(u32), little-endian
_HEADER = struct.Struct("<8sHH16sQ")
HEADER_SIZE = _HEADER.size + 4  # 40
# length(u32) crc(u32)
_FRAME = struct.Struct("<II")
_LENGTH = struct.Struct("<I")  # the part of the frame header its CRC covers
FRAME_HEADER_SIZE = _FRAME.size  # 8
MAX_RECORD_SIZE = 1 << 30  # a longer length field is damage, not a record

SEGMENT_SUFFIX = ".wal"
_SEGMENT_NAME = re.compile(r"(\d{16})\.wal")


def uuid_bytes(db_uuid: bytes | str | _uuid.UUID) -> bytes:
    """The 16 bytes of a database UUID given as bytes, a UUID or its text."""
    if isinstance(db_uuid, _uuid.UUID):
        return db_uuid.bytes
    if isinstance(db_uuid, str):
        return _uuid.UUID(db_uuid).bytes
    if len(db_uuid) != 16:
        raise ValueError(f"a database UUID has 16 bytes, not {len(db_uuid)}")
    return bytes(db_uuid)


def segment_name(sequence: int) -> str:
    return f"{sequence:016d}{SEGMENT_SUFFIX}"


def sequence_of_name(name: str) -> int | None:
    """The sequence number a segment's file name claims, or None for other files (temporaries)."""
    m = _SEGMENT_NAME.fullmatch(name)
    return int(m.group(1)) if m else None


def pack_header(db_uuid: bytes, sequence: int) -> bytes:
    head = _HEADER.pack(MAGIC, VERSION, 0, uuid_bytes(db_uuid), sequence)
    return head + struct.pack("<I", zlib.crc32(head))


class HeaderError(ValueError):
    """Why the first HEADER_SIZE bytes are not a segment header we can read."""


def unpack_header(data: bytes) -> tuple[int, bytes, int, int]:
    """(version, db_uuid, sequence, header_crc) of a segment header, else HeaderError."""
    if len(data) < HEADER_SIZE:
        raise HeaderError(f"the file is {len(data)} bytes, shorter than a segment header ({HEADER_SIZE})")
    magic, version, _flags, db_uuid, sequence = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise HeaderError(f"not a WeftDB WAL segment (magic bytes {magic!r})")
    (crc,) = struct.unpack_from("<I", data, _HEADER.size)
    if zlib.crc32(data[: _HEADER.size]) != crc:
        raise HeaderError("the segment header's checksum does not match")
    if version not in READS:
        raise HeaderError(f"format version {version}; this WeftDB reads versions {', '.join(map(str, READS))}")
    return version, db_uuid, sequence, crc


def stored_header_crc(data: bytes) -> int:
    """The header CRC as stored in the first HEADER_SIZE bytes, trusted or not:
    the records of a segment whose header is damaged are seeded with it, so
    `weftdb inspect` can still check them."""
    return struct.unpack_from("<I", data, _HEADER.size)[0]


def frame_length(data: bytes, offset: int) -> int | None:
    """The length field of the frame at `offset`, valid or not; None when fewer than its 4 bytes remain."""
    return _LENGTH.unpack_from(data, offset)[0] if len(data) - offset >= _LENGTH.size else None


def frame(body: bytes, seed: int) -> bytes:
    """One framed record: u32 length, u32 CRC32(length bytes + body, seeded), body."""
    size = len(body)
    if not 0 < size <= MAX_RECORD_SIZE:
        raise ValueError(f"a WAL record body has 1..{MAX_RECORD_SIZE} bytes, not {size}")
    return _FRAME.pack(size, zlib.crc32(body, zlib.crc32(_LENGTH.pack(size), seed))) + body


def unframe(data: bytes, offset: int, seed: int) -> tuple[bytes | None, str]:
    """The body of the record at `offset` and "" — or (None, why it is not a whole valid record)."""
    if len(data) - offset < FRAME_HEADER_SIZE:
        return None, f"{len(data) - offset} bytes left, fewer than a record header"
    length, crc = _FRAME.unpack_from(data, offset)
    if not 0 < length <= MAX_RECORD_SIZE:
        return None, f"impossible record length {length}"
    end = offset + FRAME_HEADER_SIZE + length
    if end > len(data):
        return None, f"record of {length} bytes runs {end - len(data)} bytes past the end of the file"
    body = data[offset + FRAME_HEADER_SIZE : end]
    if zlib.crc32(body, zlib.crc32(data[offset : offset + 4], seed)) != crc:
        return None, "record checksum mismatch"
    return body, ""


def encode_record(commit_ts: int, wall_time_us: int, ops: list[tuple]) -> bytes:
    """The body of one committed transaction: msgpack [commit_ts, wall_time_us, [op, ...]]."""
    return codec.packb([commit_ts, wall_time_us, ops])


def decode_record(body: bytes) -> tuple[int, int, list[list]]:
    """Inverse of encode_record; each op comes back as the list msgpack
    decoded (recovery replays them in place: copying millions of ops into
    tuples cost a twentieth of a recovery). Raises codec.CodecError."""
    rec = codec.unpackb(body)
    if not (isinstance(rec, list) and len(rec) == 3 and isinstance(rec[0], int) and isinstance(rec[1], int)
            and isinstance(rec[2], list) and set(map(type, rec[2])) <= {list}):  # map: C speed, recovery decodes millions
        raise codec.CodecError("a WAL record is [commit_ts, wall_time_us, [op, ...]]")
    return rec[0], rec[1], rec[2]


def record_times(body: bytes) -> tuple[int, int]:
    """(commit_ts, wall_time_us) of a record body, decoding only its first
    bytes (a backup or restore picks records by time without decoding their
    operations). CodecError when the body does not start with them."""
    unpacker = msgpack.Unpacker(raw=False, max_buffer_size=64)
    unpacker.feed(body[:32])
    try:
        if unpacker.read_array_header() != 3:
            raise ValueError("not a 3-element array")
        commit_ts, wall_time_us = unpacker.unpack(), unpacker.unpack()
    except (ValueError, msgpack.OutOfData, msgpack.FormatError, msgpack.StackError) as exc:
        raise codec.CodecError(f"a WAL record body that does not start with its timestamps ({exc})") from None
    if not (isinstance(commit_ts, int) and isinstance(wall_time_us, int)) or isinstance(commit_ts, bool) or commit_ts < 1:
        raise codec.CodecError("a WAL record body whose commit timestamp or wall time is not a positive integer")
    return commit_ts, wall_time_us


def segment_path(directory: str, sequence: int) -> str:
    return os.path.join(directory, segment_name(sequence))


"""The backup service's wire format: length-prefixed msgpack messages.

Why so small: a backup moves three kinds of bytes, a snapshot file, WAL
record bodies and the users file, each checked again by the client (the
snapshot and records by their own checksums and timestamps, the users file
by parsing it). The protocol only has to frame them and say what they
are. Every message is

    u32 big-endian length | msgpack map (weftdb.durability.codec)

and every map has a "type". The length is checked against a bound before any
byte is read (DESIGN.md invariant 8): control messages are small, data
messages carry at most `CHUNK` bytes of payload. msgpack decoding builds plain
data only; nothing received is ever evaluated or unpickled, and the server
never sends a file name: the client names every file it writes itself.

The conversation (docs/formats.md, "Backup protocol"):

    client: hello {version, user, password, database}   database: a name, absent for the default one
    server: welcome {version, database_uuid, visible_ts} | refused {message}
    client: full {} | incremental {database_uuid, since} | list {}
    server (list):        databases {names}           those the user may back up, the default first
    server (full):        snapshot {commit_ts, wall_time_us, size}
                          chunk {data} ...            exactly `size` bytes
                          snapshot_end {sha256}
    server (both):        records {bodies: [WAL record body, ...]} ...
                          users {data}                the users file as of the end
                          end {last_ts, records}
    server (incremental): unavailable {message}       the client falls back to full
    server (any time):    error {message}
"""

from __future__ import annotations

import socket
import struct
from typing import Any

from weftdb.durability import codec

VERSION = 3  # 2: the users file travels with every backup; 3: hello names a database, and `list`
VERSIONS = (2, VERSION)  # a version 2 client backs up the default database, as it did
DEFAULT_PORT = 6362
CHUNK = 1 << 20  # payload bytes per snapshot chunk or records message
MAX_USERS = CHUNK  # bytes of a users file (some 6,000 users) in its one message
MAX_MESSAGE = CHUNK + (64 << 10)  # a data message: its payload plus a little msgpack overhead
MAX_CONTROL = 64 << 10  # hello, requests, and every other message but chunk/records
_LENGTH = struct.Struct(">I")


class ProtocolError(Exception):
    """The peer sent something that is not a valid message here (or went away)."""


def send(sock: socket.socket, message: dict[str, Any]) -> int:
    """Send one message; returns the bytes sent."""
    body = codec.packb(message)
    if len(body) > MAX_MESSAGE:
        raise ValueError(f"a backup protocol message holds at most {MAX_MESSAGE} bytes, not {len(body)}")
    sock.sendall(_LENGTH.pack(len(body)) + body)
    return 4 + len(body)


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    parts, left = [], n
    while left:
        part = sock.recv(min(left, 1 << 20))
        if not part:
            raise ProtocolError("the connection closed in the middle of a message" if parts or left < n else "the connection closed")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def receive(sock: socket.socket, expect: tuple[str, ...], limit: int = MAX_CONTROL) -> dict[str, Any]:
    """Read one message whose type is one of `expect` (or "error", raised as ProtocolError)."""
    (length,) = _LENGTH.unpack(_read_exactly(sock, 4))
    if not 0 < length <= limit:
        raise ProtocolError(f"a message of {length} bytes (at most {limit} expected here)")
    try:
        message = codec.unpackb(_read_exactly(sock, length))
    except codec.CodecError as exc:
        raise ProtocolError(f"a message that does not decode: {exc}") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError("a message that is not a map with a type")
    kind = message["type"]
    if kind == "error" and "error" not in expect:
        raise ProtocolError(f"the server reports an error: {field(message, 'message', str)}")
    if kind not in expect:
        raise ProtocolError(f"unexpected message {kind[:40]!r} (expected {' or '.join(expect)})")
    return message


def field(message: dict[str, Any], name: str, kind: type | tuple[type, ...], minimum: int | None = None) -> Any:
    """`message[name]`, checked to be of `kind` (and >= minimum for ints); else ProtocolError."""
    value = message.get(name)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ProtocolError(f"message {message.get('type')!r}: field {name!r} is missing or not a {getattr(kind, '__name__', kind)}")
    if minimum is not None and value < minimum:
        raise ProtocolError(f"message {message.get('type')!r}: field {name!r} is {value}, below {minimum}")
    return value

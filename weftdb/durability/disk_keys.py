"""The keys of the on-disk store (ON_DISK_TRANSACTIONAL), one owner for their layout.

Every version of every item is its own RocksDB key, ending in the commit
timestamp that wrote it, inverted (2**64 - 1 - ts, big-endian), so that the
versions of one item sort newest first. A reader that started at timestamp T
seeks to `prefix + inverted(T)`: the first key it finds with the same prefix
is the newest version committed at or before T. Keys carry their versions
because RocksDB's snapshots cannot serve a scan through rocksdict 0.3.29 (its
snapshot iterators read the newest data; only point reads honour the
snapshot): with versions in the keys, a scan is isolated by the keys alone.

Column families and their keys (gid: 8 bytes big-endian, so prefix scans walk
items in id order):

    vertex   gid + inv(ts)                   -> record [labels, props], or b"" when deleted
    edge     gid + inv(ts)                   -> record [type, src, dst, props], or b"" when deleted
    out      src gid + edge gid + inv(ts)    -> dst gid, or b"" when the edge is gone
    in       dst gid + edge gid + inv(ts)    -> src gid, or b"" when the edge is gone
    label    label (UTF-8) + 0x00 + gid + inv(ts) -> b"\\x01" carried, b"" removed
    index    shape + values + gid + inv(ts)  -> b"\\x01" carried, b"" removed: the entries of
                                                property indexes (index_prefix, index_values)
    meta     name                            -> 8 bytes big-endian (next ids, last commit)
    meta     "counts"                        -> 16 bytes: the nodes and relationships as of the last commit
    meta     "x" + shape                     -> 8 bytes: the commit that built that index
    meta     "schema"                        -> the schema ops applied, in order
    meta     "L:" | "T:" | "P:" + name       -> b"": a label, relationship type or property key in use
    meta     "g" + ts (8 bytes)              -> [[family, item key], ...] the items commit ts
                                                gave a new version to (DiskStore.collect)
"""

from __future__ import annotations

import struct
from typing import Any

from weftdb.durability import codec

VERTEX, EDGE, OUT, IN, LABEL, INDEX, META = "vertex", "edge", "out", "in", "label", "index", "meta"
FAMILIES = (VERTEX, EDGE, OUT, IN, LABEL, INDEX, META)

_U64 = struct.Struct(">Q")
_NEWEST = 2**64 - 1
GONE = b""
CARRIED = b"\x01"


def gid(n: int) -> bytes:
    return _U64.pack(n)


def number(data: bytes, at: int = 0) -> int:
    return _U64.unpack_from(data, at)[0]


def inverted(ts: int) -> bytes:
    return _U64.pack(_NEWEST - ts)


def version_of(key: bytes) -> int:
    """The commit timestamp a versioned key ends in."""
    return _NEWEST - _U64.unpack_from(key, len(key) - 8)[0]


def garbage(ts: int) -> bytes:
    """The meta key of the items commit `ts` superseded an older version of."""
    return GARBAGE + _U64.pack(ts)


GARBAGE = b"g"


def successor(prefix: bytes) -> bytes:
    """The first key after every key that starts with `prefix` (the end of a range)."""
    trimmed = prefix.rstrip(b"\xff")
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def label_prefix(label: str) -> bytes:
    return label.encode("utf-8", "surrogatepass") + b"\x00"


BUILT = b"x"
COUNTS = b"counts"
LABEL_NAME, TYPE_NAME, KEY_NAME = b"L:", b"T:", b"P:"
NAME_KINDS = (LABEL_NAME, TYPE_NAME, KEY_NAME)


def index_prefix(shape: tuple[str, str, tuple[str, ...]]) -> bytes:
    """The key prefix of one property index: (NODE | RELATIONSHIP, label or type, keys), as MessagePack."""
    entity, token, keys = shape
    return codec.packb([entity, token, list(keys)])


def index_values(ukey: tuple) -> bytes:
    """The bytes of an entry's values (graph/indexes.py's index keys), under
    which equal Cypher values meet: 1, 1.0 and true share an entry as they
    share a dict key in memory; a reader checks each entry's object anyway.
    MessagePack delimits itself, so no entry's values are a prefix of another's."""
    return codec.packb([_meeting(value) for value in ukey])


def _meeting(value: Any) -> Any:
    kind = type(value)
    if kind is bool:
        return int(value)
    if kind is float and value.is_integer():
        return int(value)
    if kind is tuple:
        return [_meeting(item) for item in value]
    return value

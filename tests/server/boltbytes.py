"""Raw Bolt bytes for tests: build handshakes and framed messages, split replies into messages."""

from weftdb.server.bolt.packstream import Structure, pack, unpack
from weftdb.server.bolt.protocol import MAGIC

SIGNATURES = {
    "HELLO": 0x01, "GOODBYE": 0x02, "RESET": 0x0F, "RUN": 0x10, "BEGIN": 0x11, "COMMIT": 0x12,
    "ROLLBACK": 0x13, "DISCARD": 0x2F, "PULL": 0x3F, "ROUTE": 0x66, "LOGON": 0x6A, "LOGOFF": 0x6B,
    "TELEMETRY": 0x54,
}  # fmt: skip
NAMES = {0x70: "SUCCESS", 0x71: "RECORD", 0x7E: "IGNORED", 0x7F: "FAILURE"}


def handshake(*versions):
    """Magic and four proposals; each version is (major, minor) or (major, minor, range)."""
    proposals = [bytes((0, v[2] if len(v) > 2 else 0, v[1], v[0])) for v in versions]
    proposals += [b"\x00\x00\x00\x00"] * (4 - len(proposals))
    return MAGIC + b"".join(proposals)


def frame(body, chunk=0xFFFF):
    out = b""
    for start in range(0, len(body), chunk):
        piece = body[start : start + chunk]
        out += len(piece).to_bytes(2, "big") + piece
    return out + b"\x00\x00"


def message(name, *fields):
    return frame(pack(Structure(SIGNATURES[name], fields)))


def replies(data):
    """[(name, fields)] of every complete message in `data`."""
    out, message_bytes, pos = [], b"", 0
    while pos < len(data):
        size = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if size == 0:
            s = unpack(message_bytes)
            out.append((NAMES[s.tag], s.fields))
            message_bytes = b""
        else:
            message_bytes += data[pos : pos + size]
            pos += size
    return out

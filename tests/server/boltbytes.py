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


class RawClient:
    """A socket speaking Bolt 5.8 byte by byte, for tests that need exact control."""

    def __init__(self, port, version=(5, 8), timeout=5.0):
        import socket

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.sendall(handshake(version))
        self.version = self.recv_exact(4)
        self.buffer = b""

    def recv_exact(self, n):
        data = b""
        while len(data) < n:
            piece = self.sock.recv(n - len(data))
            if not piece:
                raise ConnectionError("closed by the server")
            data += piece
        return data

    def send(self, *messages):
        self.sock.sendall(b"".join(messages))

    def read(self, count):
        """The next `count` replies as (name, fields)."""
        out = []
        while len(out) < count:
            body = b""
            while True:
                size = int.from_bytes(self.recv_exact(2), "big")
                if size == 0:
                    break
                body += self.recv_exact(size)
            if body:
                s = unpack(body)
                out.append((NAMES[s.tag], s.fields))
        return out

    def login(self):
        self.send(message("HELLO", {"user_agent": "raw"}), message("LOGON", {"scheme": "none"}))
        assert [name for name, _ in self.read(2)] == ["SUCCESS", "SUCCESS"]
        return self

    def is_closed_by_server(self, wait=3.0):
        self.sock.settimeout(wait)
        try:
            return self.sock.recv(1) == b""
        except ConnectionError:
            return True
        except OSError:
            return False

    def close(self):
        self.sock.close()

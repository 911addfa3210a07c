"""Compression (zstd) and encryption (AES-256-GCM) of backup artifacts, as byte streams.

Why per file and streamed: a backup's files are written once and read back
whole, and may be large; each is transformed on its own, chunk by chunk, so
memory stays bounded and one damaged file does not spoil the others. Writing
compresses, then encrypts (`*.zst`, `*.enc`, `*.zst.enc`); reading undoes it in
the other order.

Encrypted file (docs/formats.md, "Encrypted backup file"):

    magic "WEFTENC1" | nonce prefix (8 random bytes) | frames
    frame: final flag (u8) | ciphertext length (u32 BE) | ciphertext + 16-byte tag

Frame i is sealed with AES-256-GCM under nonce = prefix + i (u32 BE) and
associated data = magic + prefix + i + final flag + the file's name, so a
frame cannot be reordered, moved to another file, or cut off (the stream must
end with exactly one frame flagged final). A random prefix per file makes
every artifact's nonces its own. A wrong key fails the first frame's tag check
and is reported as such. Lengths are checked against a bound before reading.
"""

from __future__ import annotations

import base64
import binascii
import os
import struct
from typing import Iterable, Iterator

import zstandard

MAGIC = b"WEFTENC1"
FRAME = 1 << 20  # plaintext bytes per frame
TAG = 16
_FRAME_HEAD = struct.Struct(">BI")


class SealError(Exception):
    """A file cannot be decrypted or decompressed: wrong key, damage, or truncation."""


def suffix(compress: bool, encrypt: bool) -> str:
    return (".zst" if compress else "") + (".enc" if encrypt else "")


def load_key(path: str) -> bytes:
    """A 32-byte key from a file of 32 raw bytes, or 64 hex digits, or base64 text of 32 bytes."""
    with open(path, "rb") as handle:
        data = handle.read(4096)
    if len(data) == 32:
        return data
    text = data.strip()
    for decode in (binascii.unhexlify, lambda t: base64.b64decode(t, validate=True)):
        try:
            key = decode(text)
        except (binascii.Error, ValueError):
            continue
        if len(key) == 32:
            return key
    raise SealError(f"{path}: a key file holds 32 bytes, or them as 64 hex digits or as base64 text")


def _aead(key: bytes):
    try:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    except ImportError:  # pragma: no cover - an optional dependency
        raise SealError("encrypted backups need the cryptography package: pip install cryptography") from None
    if len(key) != 32:
        raise SealError("AES-256 needs a 32-byte key")
    return AESGCM(key)


def _rechunk(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)  # possibly empty: the final piece


def _compress(chunks: Iterable[bytes]) -> Iterator[bytes]:
    compressor = zstandard.ZstdCompressor(level=3).compressobj()
    for chunk in chunks:
        out = compressor.compress(chunk)
        if out:
            yield out
    yield compressor.flush()


class _Chunks:
    """A file-like read() over an iterator of byte chunks."""

    def __init__(self, chunks: Iterable[bytes]):
        self._source = iter(chunks)
        self._buffer = b""

    def read(self, n: int = -1) -> bytes:
        while not self._buffer:
            more = next(self._source, None)
            if more is None:
                return b""
            self._buffer = more
        n = len(self._buffer) if n is None or n < 0 else n
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out


def _decompress(chunks: Iterable[bytes], name: str, raw_size: int | None) -> Iterator[bytes]:
    """Bounded output (at most FRAME bytes per step, so a small input cannot
    expand hugely at once); a cut-short stream shows as a size other than `raw_size`."""
    reader = zstandard.ZstdDecompressor().stream_reader(_Chunks(chunks))
    total = 0
    try:
        while out := reader.read(FRAME):
            total += len(out)
            if raw_size is not None and total > raw_size:
                raise SealError(f"{name}: decompresses to more than its recorded {raw_size} bytes")
            yield out
    except zstandard.ZstdError as exc:
        raise SealError(f"{name}: not valid zstd data ({exc})") from None
    if raw_size is not None and total != raw_size:
        raise SealError(f"{name}: decompresses to {total} bytes, {raw_size} were recorded: the file is cut short or damaged")


def _encrypt(chunks: Iterable[bytes], key: bytes, name: str) -> Iterator[bytes]:
    aead = _aead(key)
    prefix = os.urandom(8)
    yield MAGIC + prefix
    pieces = _rechunk(chunks, FRAME)
    piece = next(pieces)
    index = 0
    for following in pieces:
        yield _frame(aead, prefix, index, False, piece, name)
        piece, index = following, index + 1
    yield _frame(aead, prefix, index, True, piece, name)


def _frame(aead, prefix: bytes, index: int, final: bool, plain: bytes, name: str) -> bytes:
    nonce = prefix + struct.pack(">I", index)
    sealed = aead.encrypt(nonce, plain, MAGIC + nonce + bytes([final]) + name.encode())
    return _FRAME_HEAD.pack(int(final), len(sealed)) + sealed


def _decrypt(chunks: Iterable[bytes], key: bytes, name: str) -> Iterator[bytes]:
    from cryptography.exceptions import InvalidTag

    aead = _aead(key)
    buffer = bytearray()
    source = iter(chunks)

    def need(n: int) -> bytes | None:
        while len(buffer) < n:
            more = next(source, None)
            if more is None:
                return None
            buffer.extend(more)
        out = bytes(buffer[:n])
        del buffer[:n]
        return out

    head = need(len(MAGIC) + 8)
    if head is None or head[: len(MAGIC)] != MAGIC:
        raise SealError(f"{name}: not a WeftDB encrypted file")
    prefix = head[len(MAGIC):]
    index = 0
    while True:
        frame_head = need(_FRAME_HEAD.size)
        if frame_head is None:
            raise SealError(f"{name}: the encrypted data is cut short (no final frame)")
        final, length = _FRAME_HEAD.unpack(frame_head)
        if final > 1 or not TAG <= length <= FRAME + TAG:
            raise SealError(f"{name}: damaged frame {index} header")
        sealed = need(length)
        if sealed is None:
            raise SealError(f"{name}: the encrypted data is cut short in frame {index}")
        nonce = prefix + struct.pack(">I", index)
        try:
            yield aead.decrypt(nonce, sealed, MAGIC + nonce + bytes([final]) + name.encode())
        except InvalidTag:
            if index == 0:
                raise SealError(f"{name}: cannot decrypt: wrong key, or the file is damaged") from None
            raise SealError(f"{name}: frame {index} fails its authentication tag: the file is damaged") from None
        if final:
            if buffer or next(source, None):
                raise SealError(f"{name}: data follows the final encrypted frame")
            return
        index += 1


def seal(chunks: Iterable[bytes], name: str, compress: bool, key: bytes | None) -> Iterable[bytes]:
    """The stored form of a file's bytes. `name` is its logical name (bound into the encryption)."""
    if compress:
        chunks = _compress(chunks)
    if key is not None:
        chunks = _encrypt(chunks, key, name)
    return chunks


def unseal(chunks: Iterable[bytes], name: str, compress: bool, key: bytes | None, raw_size: int | None = None) -> Iterable[bytes]:
    """Inverse of seal; `raw_size`, when known, is checked against the decompressed size."""
    if key is not None:
        chunks = _decrypt(chunks, key, name)
    if compress:
        chunks = _decompress(chunks, name, raw_size)
    return chunks

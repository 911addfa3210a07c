"""The one file layer every durable write goes through.

Why a layer of its own (as SQLite's VFS): the durability code (WAL, snapshots,
retention) needs only a dozen file operations, and keeping them in one class
means

* the rules of DESIGN.md invariant 3 live in one place: a durability file is
  written under a temporary name, fsynced, renamed, and its directory fsynced
  (`replacing`, and `write_atomic` on top of it: every writer of a durable
  file goes through them); an fsync or write error is fatal for the writer — it is
  turned into `DurabilityError` naming the file and the errno text and is never
  retried (after a failed fsync the kernel may already have dropped the dirty
  pages, so a retry that "succeeds" would be a lie);
* a test double (`tests/durability/crashfs.py`) can subclass it, remember what
  was not yet fsynced, and simulate a power cut or inject EIO / ENOSPC.

Writes are append-only: a `File` keeps its own end offset. When a write fails
part-way (ENOSPC after some bytes), the file is truncated back to the offset
the write started at, so no partial record is left for a restart to misread;
if even that truncation fails the torn-tail rule of the WAL reader covers it.

A write can be *durable* (`write(f, data, durable=True)`): it returns once its
bytes are on stable storage, with one system call (RWF_DSYNC, as O_DSYNC) and
no fsync after. That covers this write only, so a caller uses it when every
earlier write to the file is already durable (the WAL with a sync per commit);
otherwise it writes and then calls `fsync`.

A file created for *direct I/O* (`create(path, direct=True)`, O_DIRECT where
the file system allows it) bypasses the page cache. Direct I/O moves whole
aligned blocks, so such a `File` keeps the partial last block of its data in
an aligned buffer and every append rewrites that block with the new bytes
after it, zeros to the block's end. The rewritten bytes are the ones already
there, so a write cut short leaves old or new bytes, never other ones — the
same thing the page cache does when it writes back the last page of a file.
A WAL commit written this way is faster than a write to the page cache
followed by fdatasync (measured in bench/README.md).

Reads (`read`, `size`, `listdir`, `exists`) raise plain `OSError`: the caller
(recovery) turns them into `RecoveryError` with the context it knows.
"""

from __future__ import annotations

import errno as _errno
import mmap
import os
import shutil
from contextlib import contextmanager
from typing import Iterable, Iterator

from weftdb.basics.errors import DurabilityError
from weftdb.durability.layout import temporary

BLOCK = 4096  # direct I/O alignment: a multiple of every common logical block size
_RWF_DSYNC = getattr(os, "RWF_DSYNC", 0)


def _fail(action: str, path: str, exc: OSError) -> DurabilityError:
    reason = exc.strerror or str(exc)
    code = _errno.errorcode.get(exc.errno, str(exc.errno)) if exc.errno else "?"
    err = DurabilityError(f"{action} {path} failed: {reason} ({code})")
    err.path = path
    err.errno = exc.errno
    err.reason = f"{reason} ({code})"
    return err


class File:
    """An open, append-only durable file.

    `size` is the offset of the next write: the end of the data. In a file
    created zero-filled (`create(path, zero_fill=n)`) it is below the file's
    length, and writes overwrite the zeros. `block` is None for a buffered
    file; for a direct-I/O one, an aligned buffer of one block whose first
    `size % BLOCK` bytes are the data of the last, partial block and whose other
    bytes are zero. `spare`: an aligned scratch buffer for writes longer than
    that block, or None."""

    __slots__ = ("path", "fd", "size", "block", "spare")

    def __init__(self, path: str, fd: int, size: int, block: mmap.mmap | None = None):
        self.path = path
        self.fd = fd
        self.size = size
        self.block = block
        self.spare = None

    def __repr__(self) -> str:
        return f"File({self.path!r}, size={self.size})"


class FileSystem:
    """Real-disk implementation. Counts writes, fsyncs (durable writes among
    them) and directory fsyncs in `stats` (group-commit tests, storage info)."""

    # Open flag of direct I/O; a test double that copies what is written (so
    # cannot keep it aligned) sets 0 and still gets the whole-block writes.
    o_direct = getattr(os, "O_DIRECT", 0)

    def __init__(self) -> None:
        self._writes = self._fsyncs = self._fsync_dirs = 0

    @property
    def stats(self) -> dict[str, int]:
        """Writes, fsyncs (durable writes among them) and directory fsyncs so far."""
        return {"write": self._writes, "fsync": self._fsyncs, "fsync_dir": self._fsync_dirs}

    # --- writing ----------------------------------------------------------

    def create(self, path: str, zero_fill: int = 0, direct: bool = False, mode: int = 0o644) -> File:
        """Create `path` (an existing file is truncated) and open it for appending at offset 0.

        `zero_fill` > 0 first writes that many zero bytes (really written, not
        a sparse hole; rounded up to whole blocks for a direct file), so later
        writes overwrite allocated blocks: the disk space is reserved up front
        (no ENOSPC mid-record on ordinary file systems) and a durable write or
        `fsync(f, data_only=True)` of such writes needs no metadata update,
        which is what makes it cheap. `direct`: see the module docstring; where
        the file system refuses O_DIRECT the file is buffered, with the same
        whole-block writes. `mode`: the permissions of a new file."""
        f = self._create(path, direct, mode)
        if zero_fill > 0:
            if direct:
                zero_fill = -(-zero_fill // BLOCK) * BLOCK
            chunk = bytes(min(zero_fill, 1 << 20))
            try:
                while f.size < zero_fill:
                    self.write(f, chunk[: zero_fill - f.size])
            except DurabilityError:
                self.close(f)
                raise
            f.size = 0
        return f

    def _create(self, path: str, direct: bool = False, mode: int = 0o644) -> File:
        try:
            fd = self._open_new(path, direct, mode)
        except OSError as e:
            raise _fail("creating", path, e) from e
        return File(path, fd, 0, mmap.mmap(-1, BLOCK) if direct else None)

    def _open_new(self, path: str, direct: bool, mode: int) -> int:
        """Open a new, empty file; with O_DIRECT for `direct` where the file
        system takes it: some refuse it at open (EINVAL), others only at the
        first write, which one zero block at offset 0 finds out."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW  # never write through a planted link
        if direct and self.o_direct:
            try:
                fd = os.open(path, flags | self.o_direct, mode)
            except OSError as e:
                if e.errno != _errno.EINVAL:
                    raise
            else:
                try:
                    os.pwrite(fd, mmap.mmap(-1, BLOCK), 0)
                    return fd
                except OSError as e:
                    os.close(fd)
                    if e.errno != _errno.EINVAL:
                        raise
        return os.open(path, flags, mode)

    def open_append(self, path: str) -> File:
        """Open an existing (or new) file for appending at its current end."""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW, 0o644)
            size = os.lseek(fd, 0, os.SEEK_END)
        except OSError as e:
            raise _fail("opening", path, e) from e
        return File(path, fd, size)

    def write(self, f: File, data: bytes, durable: bool = False) -> None:
        """Append all of `data` or raise DurabilityError having cut the file back
        to where it was. `durable`: return only once the bytes are on stable storage.

        To a direct-I/O file (`f.block`), rewrite its partial last block with
        `data` after it, zeros to the end of the last block written, in one
        write (the buffered case is `_write_buffered`). A write that stays
        inside the last block (a WAL commit, mostly) writes `f.block` itself,
        as it is; a longer one is put together in the aligned scratch buffer
        `f.spare` (kept while at most 16 blocks), and the new partial last
        block is copied back to `f.block` after it. A hot path
        (docs/hot-paths.md): the WAL's commits come here."""
        block = f.block
        if block is None:
            self._write_buffered(f, data, durable)
            return
        size = f.size
        keep = size % BLOCK
        start = size - keep  # file offset of the block buffer's first byte
        end = keep + len(data)  # the data's end, as an offset from `start`
        if end <= BLOCK:
            span = BLOCK
            buf = out = block
        else:
            span = -(-end // BLOCK) * BLOCK
            buf = f.spare
            if buf is None or len(buf) < span:
                buf = f.spare = mmap.mmap(-1, span)  # zero-filled
            else:
                buf[end:span] = bytes(span - end)  # an earlier, longer write's bytes
            buf[:keep] = block[:keep]
            out = buf if len(buf) == span else memoryview(buf)[:span]
        buf[keep:end] = data
        try:
            # Direct I/O writes whole blocks or, out of space, fewer.
            if self._pwrite(f.fd, out, start, durable) != span:
                raise OSError(_errno.ENOSPC, os.strerror(_errno.ENOSPC))
        except OSError as e:
            block[keep:] = bytes(BLOCK - keep)
            self._cut_back(f, size, durable)
            raise _fail("writing to", f.path, e) from e
        f.size = start + end
        if end >= BLOCK:  # the last block is a new one: its data (if any) to the front of `f.block`
            tail = end % BLOCK
            block[:tail] = buf[end - tail : end]
            block[tail:] = bytes(BLOCK - tail)
            if len(buf) > 16 * BLOCK:  # a large write's scratch buffer: do not keep it
                f.spare = None
        self._writes += 1
        if durable:
            self._fsyncs += 1

    def _write_buffered(self, f: File, data: bytes, durable: bool) -> None:
        start = f.size
        view = memoryview(data)
        done = 0
        try:
            while done < len(view):
                n = self._pwrite(f.fd, view[done:], start + done, durable)
                if n == 0:  # no progress: treat like a full disk rather than spin
                    raise OSError(_errno.ENOSPC, os.strerror(_errno.ENOSPC))
                done += n
        except OSError as e:
            self._cut_back(f, start, durable)
            raise _fail("writing to", f.path, e) from e
        f.size = start + done
        self._writes += 1
        if durable:
            self._fsyncs += 1

    def _cut_back(self, f: File, offset: int, durable: bool) -> None:
        """Truncate after a failed write; after a failed durable write, whose
        part may be on disk already, fsync the cut too, or a transaction the
        caller was told failed could come back after a power cut."""
        try:
            self._ftruncate(f.fd, offset)
            if durable:
                self._fsync(f.fd)
        except OSError:
            pass  # the reader's torn-tail rule handles what is left
        f.size = offset

    def fsync(self, f: File, data_only: bool = False) -> None:
        """Make the file's data durable. `data_only` uses fdatasync: the data and
        whatever metadata is needed to read it back (its length), not times."""
        try:
            if data_only:
                self._fdatasync(f.fd)
            else:
                self._fsync(f.fd)
        except OSError as e:
            raise _fail("fdatasync of" if data_only else "fsync of", f.path, e) from e
        self._fsyncs += 1

    def truncate(self, f: File, size: int) -> None:
        """Cut an open file to `size` bytes (not durable until `fsync`)."""
        try:
            self._ftruncate(f.fd, size)
        except OSError as e:
            raise _fail("truncating", f.path, e) from e
        f.size = size

    def close(self, f: File) -> None:
        if f.fd >= 0:
            fd, f.fd = f.fd, -1
            try:
                os.close(fd)
            except OSError:
                pass

    # The system calls a test double intercepts to model or fail them.
    def _pwrite(self, fd: int, data, offset: int, durable: bool = False) -> int:
        """One write at `offset`; `durable`: its bytes are on stable storage
        when it returns (RWF_DSYNC; where the kernel lacks it, write and fdatasync)."""
        if not durable:
            return os.pwrite(fd, data, offset)
        if _RWF_DSYNC:
            return os.pwritev(fd, (data,), offset, _RWF_DSYNC)
        n = os.pwrite(fd, data, offset)
        self._fdatasync(fd)
        return n

    def _ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)

    def _fsync(self, fd: int) -> None:
        os.fsync(fd)

    def _fdatasync(self, fd: int) -> None:
        os.fdatasync(fd)

    # --- the namespace ----------------------------------------------------

    def fsync_dir(self, path: str) -> None:
        """Make the directory's entries (creates, renames, removes) durable."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as e:
            raise _fail("fsync of directory", path, e) from e
        self._fsync_dirs += 1

    def makedirs(self, path: str) -> None:
        """Create `path` (and parents) and fsync each parent whose entries changed."""
        path = os.path.abspath(path)
        if os.path.isdir(path):
            return
        parent = os.path.dirname(path)
        self.makedirs(parent)
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            return
        except OSError as e:
            raise _fail("creating directory", path, e) from e
        self.fsync_dir(parent)

    def rename(self, src: str, dst: str) -> None:
        """Atomically replace `dst` by `src` (not durable until `fsync_dir`)."""
        try:
            os.replace(src, dst)
        except OSError as e:
            raise _fail(f"renaming {src} to", dst, e) from e

    def remove(self, path: str) -> None:
        try:
            os.remove(path)
        except OSError as e:
            raise _fail("removing", path, e) from e

    def discard(self, path: str) -> None:
        """Best-effort removal of a temporary file after a failure (errors ignored)."""
        try:
            self.remove(path)
        except DurabilityError:
            pass

    @contextmanager
    def replacing(self, path: str, *, zero_fill: int = 0, direct: bool = False, mode: int = 0o644,
                  keep_open: bool = False) -> Iterator[File]:
        """The careful write of a whole file, so a crash leaves the old file or
        the new one, never a mix (DESIGN.md invariant 3).

        Yields a new `File` under `path`'s temporary name (`create`'s options
        apply). When the block ends normally the file is fsynced, renamed to
        `path` and its directory fsynced; when it raises, the temporary is
        closed and removed and nothing changed at `path`. The file is closed
        after, unless `keep_open` (a WAL segment goes on being written)."""
        tmp = temporary(path)
        try:
            f = self.create(tmp, zero_fill=zero_fill, direct=direct, mode=mode)
        except BaseException:  # e.g. the disk filled while zero-filling
            self.discard(tmp)
            raise
        try:
            yield f
            self.fsync(f)
            self.rename(tmp, path)
            f.path = path
            self.fsync_dir(os.path.dirname(os.path.abspath(path)))
        except BaseException:
            self.close(f)
            if f.path != path:  # not renamed yet: no half-written file is left behind
                self.discard(tmp)
            raise
        if not keep_open:
            self.close(f)

    def write_atomic(self, path: str, data: bytes | Iterable[bytes], mode: int = 0o644) -> int:
        """Write a whole file carefully (`replacing`) from bytes or an iterable
        of chunks; returns its size. An iterable that raises leaves nothing."""
        chunks = (data,) if isinstance(data, (bytes, bytearray, memoryview)) else data
        with self.replacing(path, mode=mode) as f:
            for chunk in chunks:
                if chunk:
                    self.write(f, chunk)
        return f.size

    def link(self, src: str, dst: str) -> None:
        """A second name `dst` for the file `src` (not durable until `fsync_dir`)."""
        try:
            os.link(src, dst)
        except OSError as e:
            raise _fail(f"linking {src} as", dst, e) from e

    def remove_tree(self, path: str) -> None:
        """Remove a directory and everything in it, and make that durable."""
        try:
            shutil.rmtree(path)
        except FileNotFoundError:
            return
        except OSError as e:
            raise _fail("removing", path, e) from e
        self.fsync_dir(os.path.dirname(os.path.abspath(path)))

    # --- reading ----------------------------------------------------------

    def listdir(self, path: str) -> list[str]:
        return sorted(os.listdir(path))

    def exists(self, path: str) -> bool:
        return os.path.exists(path)

    def size(self, path: str) -> int:
        return os.stat(path).st_size

    def read(self, path: str, offset: int = 0, length: int | None = None) -> bytes:
        """Read `length` bytes at `offset` (to the end when None); short at end of file."""
        with open(path, "rb") as fh:
            fh.seek(offset)
            return fh.read() if length is None else fh.read(length)

    def truncate_path(self, path: str, size: int) -> None:
        """Cut a closed file to `size` and fsync it (used to drop a torn WAL tail)."""
        f = self.open_append(path)
        try:
            self.truncate(f, size)
            self.fsync(f)
        finally:
            self.close(f)

"""A crash-simulating twin of `weftdb.durability.files.FileSystem` (after SQLite's test6.c).

Every operation really happens on disk under `root`, so the code under test and
its readers see ordinary files. Beside that, CrashFS keeps a model of what a
power cut would leave:

* per file ("inode"): its current bytes and the bytes as of its last fsync;
* per path: the directory entry as of the last fsync of its directory.

`crash()` rewrites the tree under `root` to that state: entries created or
renamed since their directory's last fsync vanish (a removed-but-not-synced
entry comes back), each surviving file holds only its fsynced bytes, and
optionally the first `tear` bytes of the writes made since (in write order,
the last one cut off mid-way), as a write interrupted by the power cut.
Afterwards the model starts afresh from the new on-disk state, so the same
object serves the "restarted" process.

A directory renamed or removed as a whole (`rename` of a directory,
`remove_tree`) takes its files along in the model; the change becomes durable
with an fsync of the directory that held it, as a file's entry does.

Simplifications (stated so a test does not lean on them): directories count as
durable once made; unsynced data is kept or lost as a prefix, never reordered
(bit-flip tests cover garbage); a durable write (RWF_DSYNC) is a write and an
fdatasync, so it makes the file's earlier writes durable too (the WAL uses one
only when they already are); files asked for direct I/O are opened without
O_DIRECT (the model copies what is written), but written in whole blocks.

Faults: `fail_fsync(...)` makes an fsync raise (EIO by default);
`fail_writes_after(n)` lets n more bytes reach the files and then makes the
write raise ENOSPC, after writing the part that fit, as a full disk does.
"""

from __future__ import annotations

import errno
import os

from weftdb.durability.files import File, FileSystem


class _Inode:
    """A file's bytes now, as of its last fsync, and the writes/truncations in between."""

    __slots__ = ("current", "synced", "pending")

    def __init__(self, content: bytes = b""):
        self.current = bytearray(content)
        self.synced = bytes(content)
        self.pending: list[tuple] = []  # ("write", offset, bytes) | ("truncate", size), in order

    def after_crash(self, keep: int) -> bytes:
        """The synced bytes plus the first `keep` bytes of unsynced writes (in write order)."""
        out = bytearray(self.synced)
        for op in self.pending:
            if keep <= 0:
                break
            if op[0] == "truncate":
                _resize(out, op[1])
                continue
            _, offset, data = op
            data = data[:keep]
            keep -= len(data)
            if len(out) < offset:
                out.extend(bytes(offset - len(out)))
            out[offset : offset + len(data)] = data
        return bytes(out)


def _under(path: str, directory: str) -> bool:
    return path.startswith(directory + os.sep)


def _resize(buf: bytearray, size: int) -> None:
    del buf[size:]
    buf.extend(bytes(size - len(buf)))


class CrashFS(FileSystem):
    o_direct = 0

    def __init__(self, root: str):
        super().__init__()
        self.root = os.path.abspath(root)
        os.makedirs(self.root, exist_ok=True)
        self._adopt_disk()
        self.clear_faults()

    # --- model ------------------------------------------------------------

    def _adopt_disk(self) -> None:
        """Take the files now on disk as fully durable."""
        self._live: dict[str, _Inode] = {}
        self._by_fd: dict[int, _Inode] = {}
        self._open: list[File] = []
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                p = os.path.join(dirpath, name)
                with open(p, "rb") as fh:
                    data = fh.read()
                self._live[p] = _Inode(data)
        self._durable: dict[str, _Inode] = dict(self._live)
        self._moved_dirs: list[tuple[str, str | None]] = []  # (from, to or None: removed), not yet durable

    def clear_faults(self) -> None:
        self._fsync_fault: tuple[int, int, str] | None = None  # (errno, successes left, path part)
        self._write_budget: int | None = None
        self._write_errno = errno.ENOSPC

    def fail_fsync(self, err: int = errno.EIO, after: int = 0, path_contains: str = "") -> None:
        """Let `after` more matching fsyncs succeed, then make every matching one raise `err`."""
        self._fsync_fault = (err, after, path_contains)

    def fail_writes_after(self, nbytes: int, err: int = errno.ENOSPC) -> None:
        """Let `nbytes` more bytes be written, then fail writes with `err` (the disk is full)."""
        self._write_budget = nbytes
        self._write_errno = err

    def unsynced_bytes(self, path: str) -> int:
        inode = self._live[os.path.abspath(path)]
        return sum(len(op[2]) for op in inode.pending if op[0] == "write")

    # --- intercepted operations -------------------------------------------

    def _track(self, f: File, inode: _Inode) -> File:
        self._by_fd[f.fd] = inode
        self._open.append(f)
        return f

    def _create(self, path: str, direct: bool = False, mode: int = 0o644) -> File:
        path = os.path.abspath(path)
        f = super()._create(path, direct, mode)
        inode = self._live.setdefault(path, _Inode())
        _resize(inode.current, 0)
        inode.pending.append(("truncate", 0))
        return self._track(f, inode)

    def open_append(self, path: str) -> File:
        path = os.path.abspath(path)
        f = super().open_append(path)
        inode = self._live.setdefault(path, _Inode())
        return self._track(f, inode)

    def _pwrite(self, fd: int, data, offset: int, durable: bool = False) -> int:
        n = self._model_write(fd, bytes(data), offset)
        if durable:
            self._fdatasync(fd)
        return n

    def _model_write(self, fd: int, data: bytes, offset: int) -> int:
        if self._write_budget is not None:
            if self._write_budget <= 0:
                raise OSError(self._write_errno, os.strerror(self._write_errno))
            data = data[: self._write_budget]
            self._write_budget -= len(data)
        n = os.pwrite(fd, data, offset)
        inode = self._by_fd[fd]
        cur = inode.current
        if len(cur) < offset:
            cur.extend(bytes(offset - len(cur)))
        cur[offset : offset + n] = data[:n]
        inode.pending.append(("write", offset, data[:n]))
        return n

    def _ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)
        inode = self._by_fd[fd]
        _resize(inode.current, size)
        inode.pending.append(("truncate", size))

    def _fsync(self, fd: int) -> None:
        path = next((f.path for f in self._open if f.fd == fd), "")
        self._maybe_fail_fsync(path)
        os.fsync(fd)
        inode = self._by_fd[fd]
        inode.synced = bytes(inode.current)
        inode.pending.clear()

    def _fdatasync(self, fd: int) -> None:
        self._fsync(fd)  # same model: data and length become durable

    def _maybe_fail_fsync(self, path: str) -> None:
        if self._fsync_fault is None:
            return
        err, left, part = self._fsync_fault
        if part not in path:
            return
        if left > 0:
            self._fsync_fault = (err, left - 1, part)
            return
        raise OSError(err, os.strerror(err))

    def close(self, f: File) -> None:
        self._by_fd.pop(f.fd, None)
        if f in self._open:
            self._open.remove(f)
        super().close(f)

    def fsync_dir(self, path: str) -> None:
        path = os.path.abspath(path)
        self._maybe_fail_fsync(path)
        super().fsync_dir(path)
        for p in [p for p in self._durable if os.path.dirname(p) == path]:
            del self._durable[p]
        for p, inode in self._live.items():
            if os.path.dirname(p) == path:
                self._durable[p] = inode
        for src, dst in list(self._moved_dirs):  # whole directories moved in or out of `path`
            if os.path.dirname(src) == path or (dst is not None and os.path.dirname(dst) == path):
                self._moved_dirs.remove((src, dst))
                for p in [p for p in self._durable if _under(p, src)]:
                    inode = self._durable.pop(p)
                    if dst is not None:
                        self._durable[dst + p[len(src):]] = inode

    def rename(self, src: str, dst: str) -> None:
        src, dst = os.path.abspath(src), os.path.abspath(dst)
        is_dir = os.path.isdir(src)
        super().rename(src, dst)
        if is_dir:
            for p in [p for p in self._live if _under(p, src)]:
                self._live[dst + p[len(src):]] = self._live.pop(p)
            self._moved_dirs.append((src, dst))
        else:
            self._live[dst] = self._live.pop(src)
        for f in self._open:
            if f.path == src or _under(f.path, src):
                f.path = dst + f.path[len(src):]

    def remove(self, path: str) -> None:
        path = os.path.abspath(path)
        super().remove(path)
        self._live.pop(path, None)

    def remove_tree(self, path: str) -> None:
        path = os.path.abspath(path)
        for p in [p for p in self._live if _under(p, path)]:
            del self._live[p]
        self._moved_dirs.append((path, None))
        super().remove_tree(path)  # which fsyncs the parent: the removal is durable

    # --- the power cut ----------------------------------------------------

    def crash(self, tear: int | dict[str, int] | None = None) -> None:
        """Leave on disk what a power cut now could leave.

        `tear`: how many bytes of each file's unsynced tail survive (an int for
        every file, or {path: n}); None drops all unsynced data."""
        for f in list(self._open):
            super().close(f)
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                os.remove(os.path.join(dirpath, name))
        for path, inode in self._durable.items():
            keep = tear.get(path, 0) if isinstance(tear, dict) else (tear or 0)
            data = inode.after_crash(keep)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
        self.clear_faults()
        self._adopt_disk()

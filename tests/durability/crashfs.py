"""A crash-simulating twin of `weftdb.durability.files.FileSystem` (after SQLite's test6.c).

Every operation really happens on disk under `root`, so the code under test and
its readers see ordinary files. Beside that, CrashFS keeps a model of what a
power cut would leave:

* per file ("inode"): its current bytes and the bytes as of its last fsync;
* per path: the directory entry as of the last fsync of its directory.

`crash()` rewrites the tree under `root` to that state: entries created or
renamed since their directory's last fsync vanish (a removed-but-not-synced
entry comes back), each surviving file holds only its fsynced bytes, and
optionally a prefix of its unsynced tail (`tear`), as a write cut off mid-way.
Afterwards the model starts afresh from the new on-disk state, so the same
object serves the "restarted" process.

Simplifications (stated so a test does not lean on them): directories count as
durable once made; unsynced data is kept or lost as a prefix, never reordered
(bit-flip tests cover garbage).

Faults: `fail_fsync(...)` makes an fsync raise (EIO by default);
`fail_writes_after(n)` lets n more bytes reach the files and then makes the
write raise ENOSPC, after writing the part that fit, as a full disk does.
"""

from __future__ import annotations

import errno
import os

from weftdb.durability.files import File, FileSystem


class _Inode:
    __slots__ = ("current", "synced")

    def __init__(self, content: bytes = b"", synced: bytes = b""):
        self.current = bytearray(content)
        self.synced = bytes(synced)


class CrashFS(FileSystem):
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
                self._live[p] = _Inode(data, data)
        self._durable: dict[str, _Inode] = dict(self._live)

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
        return len(inode.current) - len(inode.synced)

    # --- intercepted operations -------------------------------------------

    def _track(self, f: File, inode: _Inode) -> File:
        self._by_fd[f.fd] = inode
        self._open.append(f)
        return f

    def create(self, path: str) -> File:
        path = os.path.abspath(path)
        f = super().create(path)
        inode = self._live.get(path)
        if inode is None:
            inode = self._live[path] = _Inode()
        inode.current = bytearray()
        return self._track(f, inode)

    def open_append(self, path: str) -> File:
        path = os.path.abspath(path)
        f = super().open_append(path)
        inode = self._live.setdefault(path, _Inode())
        return self._track(f, inode)

    def _pwrite(self, fd: int, data, offset: int) -> int:
        data = bytes(data)
        if self._write_budget is not None:
            if self._write_budget <= 0:
                raise OSError(self._write_errno, os.strerror(self._write_errno))
            data = data[: self._write_budget]
            self._write_budget -= len(data)
        n = os.pwrite(fd, data, offset)
        cur = self._by_fd[fd].current
        if len(cur) < offset:
            cur.extend(b"\0" * (offset - len(cur)))
        cur[offset : offset + n] = data[:n]
        return n

    def _ftruncate(self, fd: int, size: int) -> None:
        os.ftruncate(fd, size)
        cur = self._by_fd[fd].current
        del cur[size:]
        cur.extend(b"\0" * (size - len(cur)))

    def _fsync(self, fd: int) -> None:
        path = next((f.path for f in self._open if f.fd == fd), "")
        self._maybe_fail_fsync(path)
        os.fsync(fd)
        inode = self._by_fd[fd]
        inode.synced = bytes(inode.current)

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

    def rename(self, src: str, dst: str) -> None:
        src, dst = os.path.abspath(src), os.path.abspath(dst)
        super().rename(src, dst)
        self._live[dst] = self._live.pop(src)
        for f in self._open:
            if f.path == src:
                f.path = dst

    def remove(self, path: str) -> None:
        path = os.path.abspath(path)
        super().remove(path)
        self._live.pop(path, None)

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
            data = inode.synced
            keep = tear.get(path, 0) if isinstance(tear, dict) else (tear or 0)
            if keep and bytes(inode.current[: len(data)]) == data:
                data = data + bytes(inode.current[len(data) : len(data) + keep])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data)
        self.clear_faults()
        self._adopt_disk()

"""A FUSE file system that forgets, at a power cut, what was not fsynced.

Why: crashfs.py simulates power cuts below WeftDB's own file layer, but
ON_DISK_TRANSACTIONAL's files are RocksDB's, written by its C++ code, which
no Python double reaches. Mounted with FUSE, this file system sits below
RocksDB's system calls instead. It passes every call through to a backing
directory, and keeps beside it a second, "durable" directory: the state a
disk would hold after a power cut.

* a write or truncate changes the backing file only: it is lost at a cut;
* fsync or fdatasync of a file copies it, whole, into the durable directory:
  what was fsynced survives;
* creating, renaming and removing files and directories happen in both at
  once: the namespace is taken as durable immediately, a simplification
  (POSIX asks for an fsync of the directory; RocksDB makes one), so this
  checks the data a program fsyncs, not its directory fsyncs.

After the program is killed and the file system unmounted, the durable
directory is what a machine would boot with: open it as the data directory.

    python powercutfs.py BACKING DURABLE MOUNTPOINT   (foreground; as root)

Needs libfuse 3 (the Debian package fuse3) and mfusepy; the tests that use
it are skipped without /dev/fuse.
"""

from __future__ import annotations

import errno
import os
import shutil
import sys
import threading

import mfusepy


class PowerCut(mfusepy.Operations):
    use_ns = True

    def __init__(self, backing: str, durable: str):
        self.backing, self.durable = backing, durable
        self._mutex = threading.Lock()

    def _b(self, path: str) -> str:
        return os.path.join(self.backing, path.lstrip("/"))

    def _d(self, path: str) -> str:
        return os.path.join(self.durable, path.lstrip("/"))

    # -- the namespace: both directories -------------------------------------------------------

    def getattr(self, path, fh=None):
        try:
            st = os.lstat(self._b(path))
        except OSError as exc:
            raise mfusepy.FuseOSError(exc.errno) from None
        return {key: getattr(st, key) for key in ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid",
                                                  "st_atime", "st_mtime", "st_ctime")}

    def readdir(self, path, fh):
        return [".", "..", *os.listdir(self._b(path))]

    def mkdir(self, path, mode):
        os.mkdir(self._b(path), mode)
        os.makedirs(self._d(path), exist_ok=True)
        return 0

    def rmdir(self, path):
        os.rmdir(self._b(path))
        shutil.rmtree(self._d(path), ignore_errors=True)
        return 0

    def create(self, path, mode, fi=None):
        fd = os.open(self._b(path), os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)
        with self._mutex:
            open(self._d(path), "wb").close()
        return fd

    def unlink(self, path):
        os.unlink(self._b(path))
        with self._mutex:
            if os.path.lexists(self._d(path)):
                os.unlink(self._d(path))
        return 0

    def rename(self, old, new):
        os.replace(self._b(old), self._b(new))
        with self._mutex:
            if os.path.lexists(self._d(old)):
                os.replace(self._d(old), self._d(new))
        return 0

    # -- data: the backing file until fsync -----------------------------------------------------

    def open(self, path, flags):
        return os.open(self._b(path), flags & ~(os.O_CREAT | os.O_EXCL | getattr(os, "O_DIRECT", 0)))

    def read(self, path, size, offset, fh):
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        return os.pwrite(fh, data, offset)

    def truncate(self, path, length, fh=None):
        if fh is None:
            os.truncate(self._b(path), length)
        else:
            os.ftruncate(fh, length)
        return 0

    def fsync(self, path, datasync, fh):
        with self._mutex:
            temporary = self._d(path) + ".powercut-copy"
            shutil.copyfile(self._b(path), temporary)
            os.replace(temporary, self._d(path))
        return 0

    def fallocate(self, path, mode, offset, size, fh):
        raise mfusepy.FuseOSError(errno.EOPNOTSUPP)  # callers fall back to plain writes

    def flush(self, path, fh):
        return 0

    def release(self, path, fh):
        os.close(fh)
        return 0

    def fsyncdir(self, path, datasync, fh):
        return 0

    def chmod(self, path, mode):
        os.chmod(self._b(path), mode)
        return 0

    def utimens(self, path, times=None):
        return 0

    def access(self, path, amode):
        if not os.access(self._b(path), amode):
            raise mfusepy.FuseOSError(errno.EACCES)
        return 0

    def statfs(self, path):
        st = os.statvfs(self.backing)
        return {key: getattr(st, key) for key in ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail",
                                                  "f_ffree", "f_files", "f_flag", "f_frsize", "f_namemax")}


if __name__ == "__main__":
    backing, durable, mountpoint = sys.argv[1:4]
    mfusepy.FUSE(PowerCut(backing, durable), mountpoint, foreground=True, nothreads=False)

"""The process lock: one process per data directory (DESIGN.md invariant 7).

Not to be confused with `LOCK DATA DIRECTORY`, which pauses deletions
(`retention.py`), nor with the store's write lock (`Storage.write_lock`).

Why flock on `<data-dir>/.lock`: two processes appending to the same WAL would
interleave records and each believe its own recovery, so the second opener
must fail at once, not wait. An `fcntl.flock` lock belongs to the open file
description, so it is released by the kernel when the holder dies (even by
kill -9: no stale lock to clean up) and it also refuses a second open inside
the same process, which a per-process `fcntl` record lock would not.

The file holds the holder's PID (text, one line) so the error can name it. The
PID is informational: the lock, not the file's content, decides. The file is
never deleted — removing it while held would let a third opener lock a new
inode beside the old one.

A forked child shares the open file description, and with it the lock, until
it closes its copy: a snapshot's writer (snapshot.py `_child`) does so first
thing, but a holder killed right after forking one leaves the lock held for
that moment. So an opener that finds the lock held while the process that
wrote the PID is gone waits a little (GONE_HOLDER_WAIT_SEC) for the child to
let go, instead of failing a restart that follows a kill -9 at once.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time

from weftdb.basics.config import ConfigError
from weftdb.basics.errors import DataDirectoryLocked
from weftdb.durability.layout import Layout

GONE_HOLDER_WAIT_SEC = 2.0
"""How long an opener waits for a lock whose recorded holder is gone (above)."""

VIRTUAL = ("/proc", "/sys", "/dev")
"""File systems made up by the kernel: a directory there holds no data."""


def make_data_directory(path: str) -> None:
    """Create the data directory if need be, or say in one line why it cannot be one."""
    real = os.path.realpath(path)
    for root in VIRTUAL:
        if real == root or real.startswith(root + "/"):
            raise ConfigError(f"--data-directory={path}: {root} is a virtual file system that holds no data")
    if os.path.lexists(path) and not os.path.isdir(path):
        raise ConfigError(f"--data-directory={path}: it is a file, not a directory")
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"--data-directory={path}: cannot create it: {e.strerror}") from None


class ProcessLock:
    """Holds the exclusive lock on `data_dir` from `acquire()` until `release()` (or exit)."""

    def __init__(self, data_dir: str):
        self.data_dir = os.path.abspath(data_dir)
        self.path = Layout(self.data_dir).lock
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> "ProcessLock":
        if self._fd is not None:
            return self
        make_data_directory(self.data_dir)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise ConfigError(f"{self.path} is a symbolic link; WeftDB does not write through one. "
                                  "Remove it (the lock file is made anew).") from None
            raise ConfigError(f"--data-directory={self.data_dir}: cannot open its lock file: {e.strerror}") from None
        try:
            locked = _try_lock(fd) or self._after_gone_holder(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            raise self._locked_error()
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        return self

    def _after_gone_holder(self, fd: int) -> bool:
        """Whether the lock was taken while waiting, for at most
        GONE_HOLDER_WAIT_SEC, as long as the process that wrote the lock
        file's PID is gone (a child it forked still holds the lock)."""
        deadline = time.monotonic() + GONE_HOLDER_WAIT_SEC
        while _gone(_read_pid(self.path)) and time.monotonic() < deadline:
            time.sleep(0.01)
            if _try_lock(fd):
                return True
        return False

    def _locked_error(self) -> DataDirectoryLocked:
        pid = _read_pid(self.path)
        if pid == os.getpid():
            who = f"this process (PID {pid}) already has it open"
        elif _gone(pid):
            who = (f"the process with PID {pid} that opened it is gone, but a process it started still holds it "
                   f"after {GONE_HOLDER_WAIT_SEC:g} s (`fuser -v {self.path}` names it)")
        elif pid is not None:
            who = f"it is in use by the process with PID {pid}"
        else:
            who = "it is in use by another process (its PID is not yet written)"
        return DataDirectoryLocked(
            f"cannot open data directory {self.data_dir}: {who} (lock file {self.path}). "
            "Stop that process or close that database first, or use another data directory."
        )

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)  # closing the only descriptor releases the flock

    def __enter__(self) -> "ProcessLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def lock_process(data_dir: str) -> ProcessLock:
    """Take the data directory's process lock or raise DataDirectoryLocked naming the holder's PID."""
    return ProcessLock(data_dir).acquire()


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as e:
        if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        return False
    return True


def _gone(pid: int | None) -> bool:
    """Whether the process `pid` has ended (a zombie, killed and not yet
    reaped by its parent, counts as ended). Not this process."""
    if pid is None or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # another user's: alive
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return False


def _read_pid(path: str) -> int | None:
    for _ in range(20):  # the holder writes its PID right after locking: give it a moment
        try:
            with open(path, "rb") as fh:
                text = fh.read(32).strip()
            if text:
                return int(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.005)
    return None

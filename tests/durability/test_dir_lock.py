"""One process per data directory: a second opener fails at once, naming the holder's PID."""

import os
import subprocess
import sys
import time

import pytest

from weftdb.basics.errors import DataDirectoryLocked
from weftdb.durability.process_lock import ProcessLock, lock_process

HOLDER = """
import sys, time
from weftdb.durability.process_lock import lock_process
lock = lock_process(sys.argv[1])
print("locked", flush=True)
sys.stdin.readline()
"""


def test_second_open_in_same_process_fails_and_release_frees(tmp_path):
    lock = lock_process(str(tmp_path))
    assert open(tmp_path / ".lock").read() == f"{os.getpid()}\n"
    with pytest.raises(DataDirectoryLocked, match=f"this process \\(PID {os.getpid()}\\) already has it open"):
        lock_process(str(tmp_path))
    lock.release()
    with ProcessLock(str(tmp_path)) as again:
        assert again.held
    assert not again.held


def test_another_process_holds_it(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        t0 = time.monotonic()
        with pytest.raises(DataDirectoryLocked, match=f"in use by the process with PID {proc.pid}"):
            lock_process(str(tmp_path))
        assert time.monotonic() - t0 < 1  # fails at once, does not wait
    finally:
        proc.kill()  # even kill -9 releases the lock: no stale lock file to clean up
        proc.wait()
    lock_process(str(tmp_path)).release()


FORKING_HOLDER = """
import os, sys, time
from weftdb.durability.process_lock import lock_process
lock = lock_process(sys.argv[1])
child = os.fork()
if child == 0:  # holds the inherited lock, as a snapshot writer does until it closes its descriptors
    time.sleep(float(sys.argv[2]))
    os._exit(0)
print(child, flush=True)
sys.stdin.readline()
"""


def _killed_after_forking(tmp_path, hold: float) -> int:
    """A holder that forked a child keeping the lock `hold` seconds, killed
    with SIGKILL and reaped; the child's PID."""
    proc = subprocess.Popen([sys.executable, "-c", FORKING_HOLDER, str(tmp_path), str(hold)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    child = int(proc.stdout.readline())
    proc.kill()
    proc.wait()
    return child


def test_a_holder_killed_after_forking_leaves_the_lock_to_the_next_opener(tmp_path):
    """The kill -9 of a database mid-fork: its child holds the lock a moment
    longer, and a restart at once waits for it instead of failing."""
    _killed_after_forking(tmp_path, 0.5)
    lock = lock_process(str(tmp_path))
    assert open(tmp_path / ".lock").read() == f"{os.getpid()}\n"
    lock.release()


def test_a_child_that_keeps_the_lock_is_named(tmp_path, monkeypatch):
    from weftdb.durability import process_lock

    monkeypatch.setattr(process_lock, "GONE_HOLDER_WAIT_SEC", 0.2)
    child = _killed_after_forking(tmp_path, 30)
    try:
        with pytest.raises(DataDirectoryLocked, match="is gone, but a process it started still holds it after 0.2 s"):
            lock_process(str(tmp_path))
    finally:
        os.kill(child, 9)
    deadline = time.monotonic() + 10
    while True:  # the orphan is reaped by init, not by this process
        try:
            lock_process(str(tmp_path)).release()
            break
        except DataDirectoryLocked:
            assert time.monotonic() < deadline
            time.sleep(0.05)

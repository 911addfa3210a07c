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

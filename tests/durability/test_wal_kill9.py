"""kill -9 of a process appending to the WAL never loses an acknowledged record.

A forked writer process (4 threads, group commit) prints each record's id once
`wait_durable` returned; the test kills it at a random moment, reads the WAL
back (truncating a torn tail as recovery does) and checks that every printed
id is there, in a valid record, and that the next "restart" appends after it.
"""

import os
import random
import signal
import threading
import time
import uuid

from weftdb.durability import wal
from weftdb.durability.files import FileSystem
from weftdb.durability.wal_reader import WalReader, truncate_tail
from weftdb.durability.wal_writer import WalWriter

UUID = uuid.UUID("0badc0de-0000-4000-8000-000000000001")

def writer_process(directory: str, start: int, out_fd: int) -> None:
    """The child: 4 client threads committing through one WalWriter until killed."""
    w = WalWriter(FileSystem(), directory, UUID, segment_size_bytes=4096)
    lock, out = threading.Lock(), threading.Lock()
    counter = [start]

    def client():
        while True:
            with lock:
                counter[0] += 1
                i = counter[0]
                pos = w.append(wal.encode_record(i, 0, [("create_vertex", i, "x" * (i % 50))]))
            w.wait_durable(pos)
            with out:
                os.write(out_fd, b"%d\n" % i)

    os.write(out_fd, b"ready\n")
    ts = [threading.Thread(target=client, daemon=True) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()


def spawn(directory: str, start: int) -> tuple[int, "object"]:
    """Fork the writer (no re-import: a round costs milliseconds); returns (pid, its output)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        try:
            os.close(r)
            writer_process(directory, start, w)
        finally:
            os._exit(0)
    os.close(w)
    return pid, os.fdopen(r, "rb")


def test_kill9_at_random_moments_loses_nothing_acknowledged(tmp_path):
    rng = random.Random(20261121)
    d = str(tmp_path / "wal")
    fs = FileSystem()
    acked: set[int] = set()
    last = 0
    for _round in range(20):
        pid, pipe = spawn(d, last)
        assert pipe.readline() == b"ready\n"
        time.sleep(rng.uniform(0.01, 0.15))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        lines = pipe.read().split(b"\n")
        pipe.close()
        acked.update(int(x) for x in lines[:-1])  # the last piece may be a half-printed line
        r = WalReader(fs, d, UUID)
        ids = [rec.decode()[0] for rec in r.records()]
        if r.torn_tail:
            truncate_tail(fs, r.torn_tail)
        assert ids == sorted(ids) and len(set(ids)) == len(ids)  # commit order, no duplicates
        assert acked <= set(ids), sorted(acked - set(ids))[:5]
        last = ids[-1] if ids else last
    assert len(acked) > 100
    assert len([n for n in os.listdir(d) if wal.sequence_of_name(n)]) > 20


_CRASH_AFTER_ONE_CREATE = """
import os, signal, sys
sys.path.insert(0, sys.argv[3])
import weftdb
db = weftdb.open(sys.argv[1], storage_wal_file_size_kib=int(sys.argv[2]), storage_snapshot_interval_sec=0)
db.execute("CREATE (:Crash {n: $n})", {"n": len(os.listdir(os.path.join(sys.argv[1], "wal")))})
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_crash_loop_costs_disk_in_proportion_to_the_data(tmp_path):
    """Ten cycles of start, one CREATE, kill -9. Each process preallocates a
    segment; the next start cuts the zero padding the killed one left, so
    the WAL holds the ten small records and one preallocated segment, not
    ten of them (200 MiB at the default size)."""
    import subprocess
    import sys

    segment_kib = 2048
    data = tmp_path / "data"
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for _ in range(10):
        run = subprocess.run([sys.executable, "-c", _CRASH_AFTER_ONE_CREATE, str(data), str(segment_kib), root],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == -signal.SIGKILL, run.stderr
    wal_bytes = sum(os.path.getsize(data / "wal" / name) for name in os.listdir(data / "wal"))
    assert wal_bytes < segment_kib * 1024 + 64 * 1024, f"{wal_bytes} bytes of WAL after ten crashes"
    import weftdb

    with weftdb.open(str(data), storage_snapshot_on_exit=False) as db:
        assert db.execute("MATCH (n:Crash) RETURN count(n)").rows == [(10,)]
    wal_bytes = sum(os.path.getsize(data / "wal" / name) for name in os.listdir(data / "wal"))
    assert wal_bytes < 64 * 1024, f"{wal_bytes} bytes of WAL once the last crash's padding is cut"

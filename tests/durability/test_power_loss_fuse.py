"""Power cuts below the system calls: a database writing through
powercutfs.py (FUSE) is killed at a random commit, and only what it had
fsynced is kept, as a disk would keep it. Every commit acknowledged before
the cut must be there, whole, and no commit in part. This is how the
on-disk mode's RocksDB files get the power-cut test the in-memory mode's
get from crashfs.py; the in-memory mode runs it too, as a cross-check of
that double from outside the process."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

import weftdb
from weftdb.basics import storage_modes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/fuse") or os.geteuid() != 0,
                                reason="needs FUSE (/dev/fuse) and root to mount it")

WRITER = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[3])
    import weftdb

    flags = {"storage_on_disk_memory_mb": 16} if sys.argv[2] == "ON_DISK_TRANSACTIONAL" else {}
    db = weftdb.open(sys.argv[1], storage_mode=sys.argv[2], storage_snapshot_interval_sec=0, **flags)
    for i in range(100_000):
        # three items a commit, and enough bytes that RocksDB flushes its write buffers meanwhile
        db.execute("CREATE (:C {i: $i, pad: $pad})-[:R {i: $i}]->(:D {i: $i})", {"i": i, "pad": "x" * 8000})
        print(i, flush=True)
""")


class Mounted:
    """powercutfs.py on `root`/mount, backed by `root`/backing, keeping `root`/durable."""

    def __init__(self, root):
        self.backing, self.durable, self.mount = (os.path.join(root, name) for name in ("backing", "durable", "mount"))
        for path in (self.backing, self.durable, self.mount):
            os.makedirs(path)
        self.process = subprocess.Popen([sys.executable, os.path.join(HERE, "powercutfs.py"), self.backing,
                                         self.durable, self.mount], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not os.path.ismount(self.mount):
            assert self.process.poll() is None, self.process.stderr.read().decode()
            assert time.monotonic() < deadline, "the FUSE file system did not mount"
            time.sleep(0.05)

    def unmount(self):
        subprocess.run(["fusermount3", "-u", self.mount], check=True)
        self.process.wait(timeout=20)


def test_the_file_system_keeps_what_was_fsynced_and_forgets_the_rest(tmp_path):
    fs = Mounted(str(tmp_path))
    try:
        fd = os.open(os.path.join(fs.mount, "f"), os.O_WRONLY | os.O_CREAT, 0o644)
        os.write(fd, b"kept")
        os.fsync(fd)
        os.write(fd, b" and lost")
        os.close(fd)
        os.rename(os.path.join(fs.mount, "f"), os.path.join(fs.mount, "g"))
        with open(os.path.join(fs.mount, "g"), "rb") as handle:
            assert handle.read() == b"kept and lost"  # the running program sees its writes
    finally:
        fs.unmount()
    with open(os.path.join(fs.durable, "g"), "rb") as handle:
        assert handle.read() == b"kept"  # the disk after the cut


@pytest.mark.parametrize("mode", [storage_modes.ON_DISK, storage_modes.TRANSACTIONAL])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_power_cut_keeps_every_acknowledged_commit_whole(tmp_path, mode, seed):
    fs = Mounted(str(tmp_path))
    data = os.path.join(fs.mount, "data")
    cut_after = random.Random(seed).randrange(20, 160)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, data, mode, ROOT], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(cut_after):
            line = writer.stdout.readline()
            assert line, writer.stderr.read()
        writer.send_signal(signal.SIGKILL)  # mid-commit, most likely: it commits back to back
        writer.wait()
        acknowledged = list(range(cut_after)) + [int(i) for i in writer.stdout.read().split()]  # printed before the kill
    finally:
        if writer.poll() is None:
            writer.kill()
        fs.unmount()
    # the power comes back: the disk holds the durable directory only
    with weftdb.open(os.path.join(fs.durable, "data"), storage_snapshot_interval_sec=0,
                     storage_snapshot_on_exit=False) as db:
        assert dict(db.execute("SHOW STORAGE INFO").rows)["storage_mode"] == mode
        found = {i: n for i, n in db.execute("MATCH (c:C)-[r:R]->(d:D) WHERE c.i = r.i AND r.i = d.i "
                                             "RETURN c.i, count(*)").rows}
        loose = db.execute("MATCH (n) WHERE NOT (n)--() RETURN count(n)").single()
    assert set(acknowledged) <= set(found), f"lost acknowledged commits: {sorted(set(acknowledged) - set(found))[:5]}"
    assert set(found.values()) == {1} and loose == 0  # no commit in part
    assert sorted(found) == list(range(len(found)))  # commits are durable in order: no hole
    assert len(found) <= len(acknowledged) + 1  # at most the one in flight at the cut, besides

"""`weftdb restore` against power cuts and kill -9: what it reported restored
survives, and a crash at any step leaves the old data or the new, never neither."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import Source, dump_of_directory, dump_text

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "durability"))
from crashfs import CrashFS  # noqa: E402  (tests/durability/crashfs.py)

from weftdb.backup.client import backup  # noqa: E402
from weftdb.backup.restore import restore  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def backed_up(tmp_path):
    """A backup of a small graph, and the dump the restore must give back."""
    src = Source(str(tmp_path / "source"))
    try:
        src.db.execute("UNWIND range(1, 300) AS i CREATE (:P {i: i, name: 'p' + toString(i)})")
        src.db.execute("MATCH (a:P), (b:P) WHERE b.i = a.i + 1 CREATE (a)-[:NEXT]->(b)")
        backup(src.address, str(tmp_path / "backup"), "full")
        src.db.execute("CREATE (:Late {i: 1})")  # an incremental's worth of WAL
        backup(src.address, str(tmp_path / "backup"), "incremental")
        expected = dump_text(src.db)
    finally:
        src.close()
    return str(tmp_path / "backup"), expected


def test_a_power_cut_right_after_restore_keeps_everything_it_restored(tmp_path, backed_up):
    location, expected = backed_up
    root = tmp_path / "disk"
    fs = CrashFS(str(root))
    target = str(root / "restored")
    restore(location, target, fs=fs, trial_open=False)
    fs.crash()  # only what was fsynced (files and directory entries) is left
    assert dump_of_directory(target) == expected


def _old_graph(path):
    import weftdb

    with weftdb.open(path, storage_snapshot_interval_sec=0) as db:
        db.execute("UNWIND range(1, 50) AS i CREATE (:Old {i: i})")
    return dump_of_directory(path)


_KILLER = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[4])
    from weftdb.backup.restore import restore
    from weftdb.durability.files import FileSystem

    class KillAt(FileSystem):
        '''kill -9 of this process just before the n-th rename or directory fsync.'''
        def __init__(self, n):
            super().__init__()
            self.left = n
        def _step(self):
            self.left -= 1
            if self.left == 0:
                os.kill(os.getpid(), signal.SIGKILL)
        def rename(self, src, dst):
            self._step()
            super().rename(src, dst)
        def fsync_dir(self, path):
            self._step()
            super().fsync_dir(path)

    restore(sys.argv[1], sys.argv[2], overwrite=True, fs=KillAt(int(sys.argv[3])), trial_open=False)
    print("finished")
""")


def kill_restore_at(tmp_path, location, expected, steps):
    """An overwriting restore of `location` over an old graph, in a process
    killed (kill -9) at each of `steps` in turn until one run finishes: each
    leaves the old data or `expected`, never neither, and some kills land
    before the swap and some after it."""
    script = tmp_path / "killer.py"
    script.write_text(_KILLER)
    outcomes = []
    for step in steps:
        target = str(tmp_path / f"target-{step}")
        old = _old_graph(target)
        run = subprocess.run([sys.executable, str(script), location, target, str(step), ROOT],
                             capture_output=True, text=True, timeout=120)
        finished = "finished" in run.stdout
        assert finished or run.returncode == -9, run.stderr
        after = dump_of_directory(target)  # a start finishes or drops an interrupted swap
        assert after in (old, expected), f"killed at step {step}: neither the old data nor the restored"
        assert not os.path.exists(os.path.join(target, ".restore-staging"))
        outcomes.append(after == expected)
        if finished:
            break
    else:
        pytest.fail("the restore never finished")
    assert False in outcomes and True in outcomes[:-1], "some kills must land before the swap and some after it"


def test_kill9_at_every_step_of_an_overwriting_restore_leaves_old_or_new_never_neither(tmp_path, backed_up):
    location, expected = backed_up
    kill_restore_at(tmp_path, location, expected, range(1, 200))

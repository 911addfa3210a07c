"""While a snapshot is written, waiting threads get the GIL sooner; afterwards the interval is as before."""

import sys

import pytest

from weftdb.durability import snapshot
from weftdb.durability.files import FileSystem
from weftdb.graph.storage import Storage


def test_switch_interval_is_short_during_a_snapshot_and_restored_after(tmp_path, monkeypatch):
    seen = []

    def failing_write(*args, **kwargs):
        seen.append(sys.getswitchinterval())
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "write_snapshot", failing_write)
    before = sys.getswitchinterval()
    with pytest.raises(OSError):
        snapshot.write(Storage(), FileSystem(), str(tmp_path), bytes(16), 1000)
    assert seen == [min(before, snapshot.SWITCH_INTERVAL)]
    assert sys.getswitchinterval() == before

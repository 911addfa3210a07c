"""While a snapshot is written, waiting threads get the GIL sooner and the cyclic GC
waits; afterwards both are as before."""

import gc
import sys

import pytest

from weftdb.basics import collector
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


def test_collector_is_paused_during_a_snapshot_and_as_before_after(tmp_path, monkeypatch):
    """Paused while a snapshot is written (its batches would make full
    collections rescan the graph), back on after, and left off if it was off;
    overlapping pauses (two databases) end with the last one."""
    seen = []

    def failing_write(*args, **kwargs):
        seen.append(gc.isenabled())
        raise OSError("disk full")

    monkeypatch.setattr(snapshot, "write_snapshot", failing_write)
    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            with pytest.raises(OSError):
                snapshot.write(Storage(), FileSystem(), str(tmp_path), bytes(16), 1000)
            assert gc.isenabled() == enabled
        finally:
            gc.enable()
    assert seen == [False, False]
    with collector.paused():
        with collector.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()

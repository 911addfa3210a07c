"""Pausing Python's cyclic garbage collector while the store makes objects
by the million.

Why: a full collection rescans every tracked object in the process. Recovery
makes millions of objects that all live on and frees almost none; a snapshot
writer makes batches of containers (a property dict makes its item tuple
tracked) that live just long enough to reach the oldest generation, and so
does the commit of a large transaction, whose WAL record is built from one
tuple per change. Either way the collector would rescan the whole graph
again and again for nothing (measured: half of the time of writing a
snapshot; for the commit, graph/storage.py's `Storage._commit`). The collector's switch is
process-wide and databases in one process recover and snapshot on their own
threads, so pauses are counted: the collector comes back, if it was on, when
the last pause ends.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from typing import Iterator

_lock = threading.Lock()
_state = {"pauses": 0, "was_enabled": False}


@contextmanager
def paused() -> Iterator[None]:
    with _lock:
        if _state["pauses"] == 0:
            _state["was_enabled"] = gc.isenabled()
            gc.disable()
        _state["pauses"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["pauses"] -= 1
            if _state["pauses"] == 0 and _state["was_enabled"]:
                gc.enable()

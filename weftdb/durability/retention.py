"""Retention: which snapshots and WAL segments a data directory keeps, and
pauses of every deletion (DESIGN.md invariant 6).

After each snapshot the newest `--storage-snapshot-retention-count`
snapshots are kept; older ones go, and with them every closed WAL segment
whose transactions the oldest kept snapshot already holds. A deletion may be
paused for a reason: `LOCK DATA DIRECTORY` ("lock"), a checkpoint in flight
("checkpoint"), an online backup that reads the WAL ("backup-<n>"). While any
pause holds, deletions wait in a queue and run when the last pause ends, so
an operator copying the directory, or a backup reading it, never loses a file
under its feet.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from weftdb.durability import disk_checkpoint
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import Layout
from weftdb.durability.wal_reader import WalReader, first_commit_ts

log = logging.getLogger("weftdb.durability")


class Retention:
    """`live_segment()` names the segment the WAL writer appends to (never deleted), or None."""

    def __init__(self, fs: FileSystem, layout: Layout, keep: int, db_uuid: bytes, live_segment: Callable[[], str | None]):
        self._fs = fs
        self._layout = layout
        self._keep = max(1, keep)
        self._db_uuid = db_uuid
        self._live_segment = live_segment
        self._lock = threading.Lock()
        self._pauses: set[str] = set()
        self._deferred: list[str] = []

    def apply(self, snaps: list) -> None:
        """Keep the newest of `snaps` (snapshot files or the on-disk mode's
        checkpoints, oldest first: each has a path and a commit_ts); drop
        older ones and every WAL segment the oldest kept one covers (or
        queue them while paused)."""
        with self._lock:
            if not snaps:
                return
            for old in snaps[: -self._keep]:
                self._delete(old.path)
            for path in self._covered_segments(snaps[-self._keep :][0].commit_ts):
                self._delete(path)

    def _covered_segments(self, commit_ts: int) -> list[str]:
        """Closed segments whose every record has a timestamp <= commit_ts: a
        segment is covered when the next one starts at or before commit_ts + 1."""
        segments = WalReader(self._fs, self._layout.wal, self._db_uuid).segments()
        live = self._live_segment()
        covered = []
        for segment, following in zip(segments, segments[1:]):
            if segment.path == live:
                break
            first = first_commit_ts(self._fs, following)
            if first is None or first > commit_ts + 1:
                break
            covered.append(segment.path)
        return covered

    def _delete(self, path: str) -> None:
        if self._pauses:
            if path not in self._deferred:
                self._deferred.append(path)
            return
        if self._fs.exists(path):
            if path.endswith(disk_checkpoint.SUFFIX):
                self._fs.remove_tree(path)
            else:
                self._fs.remove(path)
            log.info("retention removed %s", path)

    def pause(self, reason: str) -> bool:
        """Pause deletions for `reason`; False if already paused for it."""
        with self._lock:
            if reason in self._pauses:
                return False
            self._pauses.add(reason)
            return True

    def resume(self, reason: str) -> bool:
        """End a pause; run the queued deletions once no pause holds. False if not paused for it."""
        with self._lock:
            if reason not in self._pauses:
                return False
            self._pauses.discard(reason)
            if not self._pauses:
                deferred, self._deferred = self._deferred, []
                for path in deferred:
                    self._delete(path)
            return True

    def paused(self, reason: str) -> bool:
        return reason in self._pauses

    @property
    def deferred(self) -> list[str]:
        """Deletions waiting for the pauses to end."""
        return list(self._deferred)

"""Sources for the backup tests: a database in a temporary data directory with
its backup service in-process on 127.0.0.1 and a free port; and the dump of a
database as it was at one commit timestamp."""

import os
import sys
from contextlib import contextmanager

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import weftdb  # noqa: E402
from weftdb.backup.service import BackupService  # noqa: E402
from weftdb.durability.dump import dump  # noqa: E402

QUIET = {"storage_snapshot_interval_sec": 0}


class Source:
    def __init__(self, path, **flags):
        self.path = path
        self.db = weftdb.open(path, **{**QUIET, **flags})
        self.service = BackupService(self.db, "127.0.0.1", 0).start()
        self.address = f"127.0.0.1:{self.service.port}"

    def close(self):
        self.service.stop()
        self.db.close()


@pytest.fixture
def source(tmp_path):
    src = Source(str(tmp_path / "source"))
    yield src
    src.close()


def dump_text(db):
    return [row[0] for row in db.execute("DUMP DATABASE").rows]


def dump_of_directory(path):
    db = weftdb.open(path, storage_snapshot_on_exit=False, **QUIET)
    try:
        return dump_text(db)
    finally:
        db.close()


class _Pinned:
    """A storage whose new transactions see the graph as of commit timestamp `ts`.
    Only valid while an older transaction keeps every version since then alive."""

    def __init__(self, storage, ts):
        self._storage, self._ts = storage, ts

    def begin(self):
        tx = self._storage.begin()
        tx.start_ts = self._ts
        return tx

    @contextmanager
    def reading(self):
        tx = self.begin()
        try:
            yield tx
        finally:
            tx.commit()

    def __getattr__(self, name):
        return getattr(self._storage, name)


def dump_at(storage, ts):
    return list(dump(_Pinned(storage, ts)))

"""A client's next transaction sees its own acknowledged commit.

Why this test: the kill -9 test found that with several writer threads a
commit could return (its WAL record fsynced) while `visible_ts` still lagged
behind it, because an earlier committer's thread had not yet come back from
the group-commit wait to publish its own timestamp. The client's next
transaction then started before its own write: `MATCH` found nothing and an
empty transaction was acknowledged. The WAL is written in order, so when
`wait(ticket)` returns every earlier record is durable too; publishing up to
the committed timestamp at once is safe. Here a fake commit log holds the first
committer in `wait` while the second one's wait returns.
"""

import threading

from weftdb.graph.storage import Storage


class OrderedLog:
    """Tickets 1, 2, ...; wait(1) blocks until released, the others return at once
    (as a WAL does when a later batch already covered the earlier record)."""

    def __init__(self):
        self.n = 0
        self.release_first = threading.Event()
        self.first_waiting = threading.Event()

    def append(self, commit_ts, wall_time_us, ops):
        self.n += 1
        return self.n

    def wait(self, ticket):
        if ticket == 1:
            self.first_waiting.set()
            assert self.release_first.wait(10)


def test_commit_returns_visible_to_the_committers_next_transaction():
    storage = Storage()
    log = storage.commit_log = OrderedLog()
    first = threading.Thread(target=lambda: _write(storage, "first"))
    first.start()
    assert log.first_waiting.wait(10)  # ts 1 is appended, its committer still in wait()
    _write(storage, "second")  # ts 2: wait returns at once
    tx = storage.begin()
    try:
        seen = {tx.properties(v).get("name") for v in tx.scan_vertices()}
    finally:
        tx.commit()
    log.release_first.set()
    first.join(10)
    assert "second" in seen, "an acknowledged commit is invisible to its client's next transaction"
    assert storage.visible_ts == 2


def _write(storage, name):
    tx = storage.begin()
    tx.create_vertex(("N",), {"name": name})
    tx.commit()

"""The on-disk store's core (durability/disk_store.py): versioned reads at a
transaction's start, its own writes, first writer wins,
rollback, durability across a reopen and a kill -9, and the transaction
protocol of graph/interface.py."""

from __future__ import annotations

import inspect
import os
import signal
import subprocess
import sys
import textwrap
import threading
import typing

import pytest

from weftdb.basics.errors import ConstraintVerificationFailed, SerializationError
from weftdb.durability.disk_store import DiskStore, DiskTransaction
from weftdb.graph.interface import GraphStore, GraphTransaction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def store(tmp_path):
    opened = DiskStore(str(tmp_path / "rocksdb"))
    yield opened
    opened.close()


def names(tx, label="P"):
    return sorted(tx.get(v, "name") for v in tx.vertices_with_label(label))


def test_writes_are_read_back_and_survive_a_reopen(tmp_path):
    path = str(tmp_path / "rocksdb")
    store = DiskStore(path)
    tx = store.begin()
    ann = tx.create_vertex(("P",), {"name": "Ann"})
    bob = tx.create_vertex(("P", "Q"), {"name": "Bob"})
    knows = tx.create_edge(ann, bob, "KNOWS", {"since": 2020})
    assert names(tx) == ["Ann", "Bob"] and tx.out_edges(ann) == [knows] and tx.in_edges(bob) == [knows]
    tx.commit()
    store.close()
    store = DiskStore(path)
    tx = store.begin()
    assert names(tx) == ["Ann", "Bob"] and names(tx, "Q") == ["Bob"]
    ann = next(v for v in tx.scan_vertices() if tx.get(v, "name") == "Ann")
    [edge] = tx.out_edges(ann)
    assert edge.type == "KNOWS" and tx.get(edge, "since") == 2020 and tx.get(edge.dst, "name") == "Bob"
    assert tx.out_edges(ann)[0] is edge and edge.dst is tx.vertex_by_id(edge.dst.gid)  # one object per item
    assert [e.gid for e in tx.scan_edges()] == [edge.gid]
    tx.commit()
    assert store.next_vertex_id == 2 and store.next_edge_id == 1 and store.last_commit_ts == 1
    store.close()


def test_a_transaction_reads_the_graph_as_it_began(store):
    setup = store.begin()
    ann = setup.create_vertex(("P",), {"name": "Ann"})
    setup.commit()
    reader = store.begin()
    writer = store.begin()
    writer.set_property(writer.vertex_by_id(ann.gid), "name", "Anna")
    writer.create_vertex(("P",), {"name": "Cy"})
    writer.remove_label(writer.vertex_by_id(ann.gid), "P")
    assert names(writer) == ["Cy"]
    writer.commit()
    assert names(reader) == ["Ann"]  # its start, not the commit after it
    reader.commit()
    later = store.begin()
    assert names(later) == ["Cy"] and later.get(later.vertex_by_id(ann.gid), "name") == "Anna"
    later.commit()


def test_first_writer_wins(store):
    setup = store.begin()
    node = setup.create_vertex(("P",), {"v": 0})
    setup.commit()
    first, second, late = store.begin(), store.begin(), store.begin()
    first.set_property(first.vertex_by_id(node.gid), "v", 1)
    with pytest.raises(SerializationError, match="another transaction changed it"):
        second.set_property(second.vertex_by_id(node.gid), "v", 2)
    second.abort()
    first.commit()
    with pytest.raises(SerializationError):  # began before the commit that wrote it
        late.set_property(late.vertex_by_id(node.gid), "v", 3)
    late.abort()
    after = store.begin()
    after.set_property(after.vertex_by_id(node.gid), "v", 4)
    after.commit()


def test_a_relationship_and_the_deletion_of_its_end_conflict(store):
    setup = store.begin()
    a, b = setup.create_vertex(("P",), {}), setup.create_vertex(("P",), {})
    setup.commit()
    linker, deleter = store.begin(), store.begin()
    linker.create_edge(linker.vertex_by_id(a.gid), linker.vertex_by_id(b.gid), "R", {})
    with pytest.raises(SerializationError):
        deleter.delete_vertex(deleter.vertex_by_id(b.gid), detach=True)
    deleter.abort()
    linker.commit()
    check = store.begin()
    with pytest.raises(ConstraintVerificationFailed, match="still has 1 relationship"):
        check.delete_vertex(check.vertex_by_id(b.gid), detach=False)
    check.abort()
    two_linkers = store.begin(), store.begin()  # adding relationships to one node does not conflict
    for tx in two_linkers:
        tx.create_edge(tx.vertex_by_id(a.gid), tx.vertex_by_id(b.gid), "R", {})
    for tx in two_linkers:
        tx.commit()
    final = store.begin()
    assert len(final.out_edges(final.vertex_by_id(a.gid))) == 3
    assert final.delete_vertex(final.vertex_by_id(a.gid), detach=True) == (True, 3)
    final.commit()
    gone = store.begin()
    assert gone.vertex_by_id(a.gid) is None and gone.in_edges(gone.vertex_by_id(b.gid)) == []
    gone.commit()


def test_a_rollback_leaves_nothing(store):
    tx = store.begin()
    tx.create_vertex(("P",), {"name": "Ghost"})
    tx.abort()
    check = store.begin()
    assert list(check.scan_vertices()) == [] and store.last_commit_ts == 0
    check.commit()


def test_the_transaction_protocol_is_filled():
    hints = typing.get_type_hints(GraphTransaction)
    methods = {n for n, v in vars(GraphTransaction).items() if callable(v) and not n.startswith("_")}
    for name in methods:
        ours = [p for p in inspect.signature(getattr(DiskTransaction, name)).parameters if p != "self"]
        theirs = [p for p in inspect.signature(getattr(GraphTransaction, name)).parameters if p != "self"]
        assert [p.rstrip("_") for p in ours] == [p.rstrip("_") for p in theirs], name
    assert set(hints) - methods <= {"storage", "start_ts", "seq", "closed", "deltas", "in_place"}


def test_the_store_protocol_is_filled(store):
    methods = {n for n, v in vars(GraphStore).items() if callable(v) and not n.startswith("_")}
    for name in methods:
        ours = [p for p in inspect.signature(getattr(store, name)).parameters]
        theirs = [p for p in inspect.signature(getattr(GraphStore, name)).parameters if p != "self"]
        assert [p.rstrip("_") for p in ours] == [p.rstrip("_") for p in theirs], name
    for name in set(typing.get_type_hints(GraphStore)) - methods:
        assert hasattr(store, name), name


WRITER = textwrap.dedent("""
    import os, sys
    from weftdb.durability.disk_store import DiskStore
    store = DiskStore(sys.argv[1])
    tx = store.begin()
    previous = max((v for v in tx.scan_vertices()), key=lambda v: tx.get(v, "k"), default=None)
    k = tx.get(previous, "k") if previous is not None else 0
    previous_gid = previous.gid if previous is not None else None
    tx.commit()
    while True:
        k += 1
        tx = store.begin()
        node = tx.create_vertex(("N",), {"k": k})
        if previous_gid is not None:
            tx.create_edge(tx.vertex_by_id(previous_gid), node, "NEXT", {})
        tx.commit()
        previous_gid = node.gid
        os.write(1, f"{k}\\n".encode())
""")


def test_kill9_keeps_every_acknowledged_commit_whole(tmp_path):
    path = str(tmp_path / "rocksdb")
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, path], stdout=subprocess.PIPE,
                                env=dict(os.environ, PYTHONPATH=ROOT))
        acknowledged = 0
        for _ in range(150):
            acknowledged = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        store = DiskStore(path)
        tx = store.begin()
        ks = sorted(tx.get(v, "k") for v in tx.scan_vertices())
        assert ks == list(range(1, len(ks) + 1)) and len(ks) >= acknowledged
        assert len(list(tx.scan_edges())) == len(ks) - 1  # every node but the first came with its edge
        tx.commit()
        store.close()


def test_conflict_records_do_not_grow_with_the_graph(store, monkeypatch):
    from weftdb.durability import disk_store

    monkeypatch.setattr(disk_store, "FORGET_AFTER", 10)
    for i in range(100):
        tx = store.begin()
        tx.create_vertex(("N",), {"i": i})
        tx.commit()
    assert len(store._written) < 2 * 10 + 1 and not store._active
    reader = store.begin()  # an open transaction keeps what it may conflict with
    for i in range(30):
        tx = store.begin()
        tx.create_vertex(("N",), {"i": i})
        tx.commit()
    assert len(store._written) >= 30
    reader.commit()


def stored_keys(store, family):
    return list(store.families[family].keys())


def test_old_versions_go_once_no_transaction_can_read_them(store):
    tx = store.begin()
    ann = tx.create_vertex(("P",), {"name": "Ann", "n": 0})
    bob = tx.create_vertex(("P",), {"name": "Bob"})
    tx.create_edge(ann, bob, "KNOWS", {})
    tx.commit()
    reader = store.begin()  # holds n = 0 readable
    for n in range(1, 6):
        tx = store.begin()
        tx.set_property(tx.vertex_by_id(ann.gid), "n", n)
        tx.commit()
    assert len(stored_keys(store, "vertex")) == 2 + 5  # Bob, and Ann's six versions
    assert [tx.get(v, "n") for v in reader.scan_vertices() if tx.get(v, "name") == "Ann"] == [0]
    reader.commit()  # the next commit removes what only the reader could see
    tx = store.begin()
    tx.set_property(tx.vertex_by_id(ann.gid), "n", 6)
    tx.commit()
    assert len(stored_keys(store, "vertex")) == 2
    tx = store.begin()
    tx.delete_vertex(tx.vertex_by_id(bob.gid), detach=True)
    tx.remove_label(tx.vertex_by_id(ann.gid), "P")
    tx.commit()
    # Bob, his relationship and Ann's label entry are gone, tombstones and all
    assert len(stored_keys(store, "vertex")) == 1
    assert stored_keys(store, "edge") == stored_keys(store, "out") == stored_keys(store, "in") == []
    assert stored_keys(store, "label") == []
    assert not [key for key in stored_keys(store, "meta") if key.startswith(b"g")]
    tx = store.begin()
    assert [tx.get(v, "n") for v in tx.scan_vertices()] == [6] and list(tx.vertices_with_label("P")) == []
    tx.commit()


def test_what_a_crash_left_to_remove_goes_at_the_next_start(tmp_path):
    path = str(tmp_path / "rocksdb")
    store = DiskStore(path)
    tx = store.begin()
    gid = tx.create_vertex(("P",), {"n": 0}).gid
    tx.commit()
    reader = store.begin()
    for n in range(1, 4):
        tx = store.begin()
        tx.set_property(tx.vertex_by_id(gid), "n", n)
        tx.commit()
    assert len(stored_keys(store, "vertex")) == 4
    reader._close()  # the process ends with the reader open: nothing collects
    store.close()
    store = DiskStore(path)
    assert len(stored_keys(store, "vertex")) == 1
    tx = store.begin()
    assert [tx.get(v, "n") for v in tx.scan_vertices()] == [3]
    tx.commit()
    store.close()


def index_entries(store):
    return len(stored_keys(store, "index"))


def test_property_indexes_live_on_disk_and_follow_writes(store):
    from weftdb.graph import schema

    tx = store.begin()
    for i in range(6):
        tx.create_vertex(("P",), {"k": i % 3})
    tx.create_vertex(("Q",), {"k": 1})
    tx.commit()
    before = store.begin()  # began before the index: it scans instead
    store.apply_schema([store.catalog.define_index(schema.RANGE, schema.NODE, "P", ("k",)).op()])
    assert index_entries(store) == 6
    assert before.vertices_with_property("P", "k", 1, lambda a, b: a == b) is None
    before.commit()
    tx = store.begin()
    assert sorted(v.gid for v in tx.vertices_with_property("P", "k", 1.0, lambda a, b: a == b)) == [1, 4]
    tx.set_property(tx.vertex_by_id(1), "k", 7)
    tx.remove_label(tx.vertex_by_id(4), "P")
    assert tx.vertices_with_property("P", "k", 1, lambda a, b: a == b) == []  # its own writes
    assert [v.gid for v in tx.vertices_with_property("P", "k", 7, lambda a, b: a == b)] == [1]
    tx.commit()
    assert index_entries(store) == 5  # 1's old entry and 4's are gone with their tombstones
    tx = store.begin()
    assert [v.gid for v in tx.vertices_with_property("P", "k", 7, lambda a, b: a == b)] == [1]
    assert tx.vertices_with_property("P", "k", 1, lambda a, b: a == b) == []
    tx.commit()
    store.apply_schema([(schema.DROP_INDEX, store.catalog.index_on(schema.RANGE, schema.NODE, "P", ("k",)).name)])
    assert index_entries(store) == 0


def test_a_unique_value_is_checked_against_the_newest_commit(tmp_path):
    from weftdb.basics.errors import ConstraintViolation
    from weftdb.graph import schema

    path = str(tmp_path / "rocksdb")
    store = DiskStore(path)
    store.apply_schema([store.catalog.define_constraint(schema.UNIQUE, "P", ("k",)).op()])
    first, second = store.begin(), store.begin()
    first.create_vertex(("P",), {"k": 1})
    second.create_vertex(("P",), {"k": 1})
    first.commit()
    with pytest.raises(SerializationError, match="committed after this one began"):
        second.commit()
    store.close()
    store = DiskStore(path)  # the constraint and its index are back after a reopen
    tx = store.begin()
    tx.create_vertex(("P",), {"k": 1})
    with pytest.raises(ConstraintViolation, match="already exists"):
        tx.commit()
    store.close()


THREADED_WRITER = textwrap.dedent("""
    import os, sys, threading
    from weftdb.durability.disk_store import DiskStore
    store = DiskStore(sys.argv[1])

    def write(thread):
        k = 0
        while True:
            k += 1
            tx = store.begin()
            tx.create_vertex(("N",), {"thread": thread, "k": k})
            tx.commit()
            os.write(1, f"{thread} {k}\\n".encode())

    for thread in range(8):
        threading.Thread(target=write, args=(thread,), daemon=True).start()
    threading.Event().wait()
""")


def test_group_commit_keeps_every_acknowledged_commit_of_every_thread(tmp_path):
    """Eight threads commit at once, their commits sharing WAL syncs; after a
    kill -9 every commit a thread was told of is there, and each thread's
    commits form an unbroken run (a later one never without an earlier one)."""
    path = str(tmp_path / "rocksdb")
    proc = subprocess.Popen([sys.executable, "-c", THREADED_WRITER, path], stdout=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=ROOT))
    acknowledged: dict[int, int] = {}
    for _ in range(2000):
        thread, k = map(int, proc.stdout.readline().split())
        acknowledged[thread] = max(acknowledged.get(thread, 0), k)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    store = DiskStore(path)
    tx = store.begin()
    found: dict[int, list[int]] = {}
    for vertex in tx.scan_vertices():
        found.setdefault(tx.get(vertex, "thread"), []).append(tx.get(vertex, "k"))
    tx.commit()
    store.close()
    for thread, k in acknowledged.items():
        ks = sorted(found[thread])
        assert ks == list(range(1, len(ks) + 1)) and len(ks) >= k


class _SyncFails:
    """The RocksDB handle, except that syncing its WAL fails (a dying disk)."""

    def __init__(self, db):
        self._db = db

    def __getattr__(self, name):
        return getattr(self._db, name)

    def flush_wal(self, sync):
        raise OSError("EIO: simulated")


def test_commits_share_syncs_and_a_failed_sync_stops_every_commit(store):
    from weftdb.basics.errors import DurabilityError

    syncs = []
    real = store.db

    class Counting(_SyncFails):
        def flush_wal(self, sync):
            syncs.append(1)
            real.flush_wal(sync)

    store.db = Counting(real)
    done = []

    def write():
        for _ in range(50):
            tx = store.begin()
            tx.create_vertex(("N",), {})
            tx.commit()
            done.append(1)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(done) == 400 and len(syncs) < 400  # some syncs covered several commits
    store.db = _SyncFails(real)
    tx = store.begin()
    tx.create_vertex(("N",), {"lost": True})
    with pytest.raises(DurabilityError, match="could not sync its WAL"):
        tx.commit()
    reader = store.begin()
    assert not [v for v in reader.scan_vertices() if reader.get(v, "lost")]  # never visible
    reader.commit()
    store.db = real
    tx = store.begin()
    tx.create_vertex(("N",), {})
    with pytest.raises(DurabilityError, match="until it is restarted"):
        tx.commit()


def test_a_transaction_finds_its_own_writes_through_an_index(store):
    """Its writes are not on disk: it files them itself, under every index
    of their labels, whatever it changed (a key of another index too)."""
    from weftdb.graph import schema

    store.apply_schema([store.catalog.define_index(schema.RANGE, schema.NODE, "P", ("name",)).op(),
                        store.catalog.define_index(schema.RANGE, schema.NODE, "P", ("age",)).op()])
    tx = store.begin()
    ann = tx.create_vertex(("P",), {"name": "Ann", "age": 30})
    tx.commit()
    same = lambda a, b: a == b  # noqa: E731
    tx = store.begin()
    ann = tx.vertex_by_id(ann.gid)
    tx.set_property(ann, "age", None)  # changes another index's key
    assert tx.vertices_with_property("P", "name", "Ann", same) == [ann]
    assert tx.vertices_with_property("P", "age", 30, same) == []
    bob = tx.create_vertex(("Q",), {"name": "Bob"})
    assert tx.vertices_with_property("P", "name", "Bob", same) == []
    tx.add_label(bob, "P")
    assert tx.vertices_with_property("P", "name", "Bob", same) == [bob]
    tx.set_property(bob, "name", "Rob")
    assert tx.vertices_with_property("P", "name", "Bob", same) == []
    assert tx.vertices_with_property("P", "name", "Rob", same) == [bob]
    tx.remove_label(ann, "P")
    assert tx.vertices_with_property("P", "name", "Ann", same) == []
    tx.commit()


def test_a_renewed_transaction_reads_what_was_committed_since(store):
    """CALL { } IN TRANSACTIONS renews the statement's own transaction: what
    it had read takes the newer state, and stays the same object."""
    tx = store.begin()
    ann = tx.create_vertex(("P",), {"n": 0})
    bob = tx.create_vertex(("P",), {"n": 0})
    tx.create_edge(ann, bob, "R", {"w": 0})
    tx.commit()
    reader = store.begin()
    seen = reader.vertex_by_id(ann.gid)
    [edge] = reader.out_edges(seen)
    writer = store.begin()
    writer.set_property(writer.vertex_by_id(ann.gid), "n", 1)
    writer.set_property(writer.out_edges(writer.vertex_by_id(ann.gid))[0], "w", 1)
    writer.delete_vertex(writer.vertex_by_id(bob.gid), detach=True)
    writer.commit()
    assert reader.get(seen, "n") == 0
    store.renew(reader)
    assert reader.vertex_by_id(ann.gid) is seen and reader.get(seen, "n") == 1
    assert reader.out_edges(seen) == [] and edge.deleted and reader.vertex_by_id(bob.gid) is None
    reader.commit()


def test_the_counts_follow_every_commit_and_survive_a_restart(tmp_path):
    import random

    from weftdb.durability import disk_keys

    path = str(tmp_path / "rocksdb")
    store = DiskStore(path)

    def scanned():
        with store.reading() as tx:
            return sum(1 for _ in tx.scan_vertices()), sum(1 for _ in tx.scan_edges())

    rng, made = random.Random(7), []
    for step in range(300):
        tx = store.begin()
        alive = [v for v in tx.scan_vertices()]
        choice = rng.random()
        if choice < 0.4 or len(alive) < 2:
            made.append(tx.create_vertex(("P",), {"n": step}))
        elif choice < 0.6:
            tx.create_edge(rng.choice(alive), rng.choice(alive), "R", {})
        elif choice < 0.75:
            tx.delete_vertex(rng.choice(alive), detach=True)  # its relationships go too
        elif choice < 0.85:
            passing = tx.create_vertex(("P",), {})  # made and deleted in one transaction: never counted
            tx.create_edge(passing, rng.choice(alive), "R", {})
            tx.delete_vertex(passing, detach=True)
        else:
            tx.create_vertex(("P",), {})
            tx.abort()  # a rollback changes nothing
            continue
        tx.commit()
        assert store.counts() == scanned()
    assert store.counts()[0] > 10 and store.counts()[1] > 5
    counted = store.counts()
    store.close()
    store = DiskStore(path)
    assert store.counts() == counted
    store.families[disk_keys.META].delete(disk_keys.COUNTS)  # a store from before meta kept the counts
    store.close()
    store = DiskStore(path)
    assert store.counts() == counted == scanned()
    store.close()


class CountedWrites:
    """The store's Rdict, with the size of each batch it writes noted."""

    def __init__(self, db):
        self.db, self.batches = db, []

    def write(self, batch, options):
        self.batches.append(len(batch))
        return self.db.write(batch, options)

    def __getattr__(self, name):
        return getattr(self.db, name)


def test_an_index_is_built_a_batch_at_a_time_and_a_failed_build_leaves_no_entries(store, monkeypatch):
    from weftdb.durability import disk_keys, disk_store
    from weftdb.graph import schema

    tx = store.begin()
    people = [tx.create_vertex(("P",) if i % 4 else ("P", "Q"), {"k": i % 10} if i % 5 else {}) for i in range(100)]
    for a, b in zip(people, people[1:]):
        tx.create_edge(a, b, "R", {"w": a.gid % 3})
    tx.create_vertex(("Q",), {"k": 1})  # not a P
    tx.commit()
    shape = (schema.NODE, "P", ("k",))
    stray = disk_keys.index_prefix(shape) + disk_keys.index_values((99,)) + disk_keys.gid(5) + disk_keys.inverted(1)
    store.families[disk_keys.INDEX].put(stray, disk_keys.CARRIED)  # what a build cut short by a crash left
    monkeypatch.setattr(disk_store, "BUILD_BATCH", 7)
    store.db = counted = CountedWrites(store.db)
    real_entries = store._index_entries

    def failing(shape_):
        yield from list(real_entries(shape_))[:20]
        raise OSError("disk gone")

    monkeypatch.setattr(store, "_index_entries", failing)
    with pytest.raises(OSError, match="disk gone"):
        store.apply_schema([store.catalog.define_index(schema.RANGE, schema.NODE, "P", ("k",)).op()])
    assert index_entries(store) == 0 and shape not in store.index_prefixes  # what it wrote is gone, the stray entry too
    monkeypatch.setattr(store, "_index_entries", real_entries)
    counted.batches.clear()
    store.apply_schema([store.catalog.define_index(schema.RANGE, schema.NODE, "P", ("k",)).op(),
                        store.catalog.define_index(schema.RANGE, schema.RELATIONSHIP, "R", ("w",)).op()])
    assert index_entries(store) == 80 + 99  # the 80 P nodes with a k, the 99 relationships
    assert max(counted.batches) <= 8 and len(counted.batches) > (80 + 99) // 7  # 7 entries and a range delete at most
    store.db = counted.db
    tx = store.begin()
    assert sorted(v.gid for v in tx.vertices_with_property("P", "k", 3, lambda a, b: a == b)) == list(range(3, 100, 10))
    assert len(tx.edges_with_properties("R", ("w",), (2,), lambda a, b: a == b)) == 33
    tx.commit()


def test_creating_a_constraint_streams_the_label_through(store):
    """An existence check keeps no vertex and a uniqueness check only the
    vertices of the index key it is at (it reads them in the index's order),
    so a label larger than the memory limit goes through; duplicates are
    still found, in the newest state of an index that already had versions."""
    import tracemalloc

    from weftdb.graph import constraints, schema

    tx = store.begin()
    for i in range(20_000):
        tx.create_vertex(("P",), {"k": i, "name": f"person {i}"})
    tx.commit()
    for kind in (constraints.EXISTS, constraints.UNIQUE):
        tracemalloc.start()
        try:
            store.apply_schema([store.catalog.define_constraint(kind, "P", ("k",)).op()])
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < 1_000_000, (kind, peak)  # holding the 20k vertices took 12 MB

    store.apply_schema([store.catalog.define_index(schema.RANGE, schema.NODE, "Q", ("k",)).op()])
    tx = store.begin()
    a, b = tx.create_vertex(("Q",), {"k": 1}), tx.create_vertex(("Q",), {"k": 1})
    tx.commit()
    tx = store.begin()
    tx.set_property(b, "k", 2)  # the index keeps the old entry's version
    tx.commit()
    store.apply_schema([store.catalog.define_constraint(constraints.UNIQUE, "Q", ("k",), name="q").op()])
    store.apply_schema([(schema.DROP_CONSTRAINT, "q")])
    tx = store.begin()
    tx.set_property(a, "k", 2)
    tx.commit()
    with pytest.raises(constraints.ConstraintCreationFailed, match=f"vertices {a.gid} and {b.gid} share the value 2"):
        store.apply_schema([store.catalog.define_constraint(constraints.UNIQUE, "Q", ("k",)).op()])

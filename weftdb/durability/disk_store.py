"""ON_DISK_TRANSACTIONAL: the graph in RocksDB (rocksdict), read and written
through the same transaction interface as the in-memory store
(graph/interface.py). The key layout is disk_keys.py's (docs/formats.md,
section 8).

What a transaction does:

- **Reads** at its start timestamp from versioned keys, plus its own
  writes. Each node or relationship it reads becomes one `Vertex` or `Edge`
  object for the whole transaction (the query layer compares them by
  identity), holding the state this transaction sees; its writes change that
  object and mark it dirty. Memory is what the transaction touches, not the
  graph.
- **Conflicts**, first writer wins as in memory: the first write to an
  existing item claims it; a claim held by another open transaction, or a
  commit of the item after this transaction began, fails the write with
  SerializationError. A relationship created on a node, and that node's
  deletion, conflict too (the node's adjacency is written).
- **Commit**: constraints checked against the newest commit, then one
  WriteBatch with every version it made and the index entries they change,
  written under the write lock; then a sync of RocksDB's WAL outside it,
  one for every commit written meanwhile (`make_durable`: group commit).
  Durable when `commit` returns, visible to others only then, all or
  nothing after a crash.

The store also owns the schema (definitions in meta, property index entries
in the `index` family), the removal of old versions (`collect`), checkpoints
and the memory bound (`_options`).
"""

from __future__ import annotations

import threading
from collections import deque
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rocksdict import (
    AccessType,
    BlockBasedOptions,
    Cache,
    Checkpoint,
    Options,
    Rdict,
    ReadOptions,
    WriteBatch,
    WriteBufferManager,
    WriteOptions,
)

from weftdb.basics import storage_modes
from weftdb.basics.errors import (
    ClientError,
    DurabilityError,
    EntityNotFound,
    SerializationError,
    TransactionError,
    TransientError,
)
from weftdb.durability import codec
from weftdb.durability import disk_keys as keys
from weftdb.graph import schema
from weftdb.graph.constraints import Constraints
from weftdb.graph.image import ImageCache
from weftdb.graph.indexes import Indexes, index_keys, values_key
from weftdb.graph.objects import Edge, Vertex
from weftdb.graph.storage import RETIRED
from weftdb.graph.transaction import relationships_to_delete

BUILD_BATCH = 50_000
"""Index entries written per batch while an index is built (DiskStore._use_index)."""

FORGET_AFTER = 50_000
"""Commit records kept for conflict checks before old ones are dropped (DiskStore._forget_old_writes)."""


class DiskStore:
    """The RocksDB database of one data directory's graph."""

    def __init__(self, path: str, memory_mb: int = 256):
        limit = memory_mb * 2**20
        self._cache = Cache(limit)  # both must outlive the database
        self._buffers = WriteBufferManager.new_write_buffer_manager_with_cache(limit // 4, False, self._cache)
        options = _options(limit, self._cache, self._buffers)
        options.create_if_missing(True)
        options.create_missing_column_families(True)
        families = {name: _options(limit, self._cache, self._buffers) for name in keys.FAMILIES}
        self.db = Rdict(path, options=options, column_families=families)
        self.families = {name: self.db.get_column_family(name) for name in keys.FAMILIES}
        self.handles = {name: self.db.get_column_family_handle(name) for name in keys.FAMILIES}
        meta = self.families[keys.META]
        self.next_vertex_id = _meta(meta, b"next_vertex")
        self.next_edge_id = _meta(meta, b"next_edge")
        self.last_commit_ts = self.visible_ts = _meta(meta, b"last_commit")
        self.write_lock = threading.RLock()  # ids, claims, commit order and the schema
        self._claims: dict[tuple, DiskTransaction] = {}  # ("v" | "e", gid) -> the open transaction writing it
        self._attaching: dict[int, set[DiskTransaction]] = {}  # vertex gid -> open transactions changing its relationships
        self._written: dict[tuple, int] = {}  # ("v" | "e" | "a", gid) -> the commit that last wrote it
        self._active: dict[int, DiskTransaction] = {}  # open transactions, by id()
        self._begun = 0  # transactions begun: each one's sequence number
        self.retired = False
        self.images = ImageCache(automatic=False)  # the columnar image, with --analytics-image ALWAYS only (graph/image.py)
        self._building: list[bytes] = []  # the prefixes apply_schema wrote entries under ahead of its batch
        self._sync = WriteOptions()
        self._sync.sync = True
        self._unsynced = WriteOptions()
        self._syncing = threading.Lock()  # one WAL sync at a time (make_durable)
        self.synced_ts = self.last_commit_ts  # the newest commit RocksDB's WAL holds on disk
        self.failed: str | None = None  # why a WAL sync failed: no commit is accepted after it
        self.garbage: deque[tuple[int, list]] = deque(  # (commit ts, the items it superseded), oldest first
            (keys.number(key, len(keys.GARBAGE)), [tuple(item) for item in codec.unpackb(value)])
            for key, value in _prefixed(self.families[keys.META], keys.GARBAGE))
        self._schema()
        self._names = {key for kind in keys.NAME_KINDS for key, _ in _prefixed(meta, kind)}  # the names meta holds
        self.labels, self.edge_types, self.property_keys = (
            {key[len(kind):].decode("utf-8", "surrogatepass") for key in self._names if key.startswith(kind)}
            for kind in keys.NAME_KINDS)
        self.counted = self._read_counts()
        self.collect()

    mode = storage_modes.ON_DISK

    def checkpoint(self, path: str) -> int:
        """A RocksDB checkpoint of the store in the new directory `path`;
        returns the commit it holds. Commits wait meanwhile (the checkpoint
        links or copies files; it does not read the graph)."""
        with self.write_lock:
            self._publish_all()
            Checkpoint(self.db).create_checkpoint(path)
            return self.last_commit_ts

    # -- group commit --------------------------------------------------------------------------

    def make_durable(self, ts: int) -> None:
        """Return once commit `ts` is on disk, and visible. A commit writes
        its batch under the write lock without a sync; here one thread at a
        time syncs RocksDB's WAL, which holds every batch written before the
        sync began, so the commits that wrote meanwhile all return after one
        sync (group commit). Commits become visible in order, only once
        durable: a reader never sees what a crash could take back."""
        with self._syncing:
            if self.synced_ts < ts:
                self.check_failed()
                covered = self.last_commit_ts  # every batch up to it is written
                try:
                    self.db.flush_wal(True)
                except Exception as exc:  # rocksdict raises plain Exceptions
                    self.failed = str(exc)
                    raise DurabilityError(f"RocksDB could not sync its WAL: {exc}; the commit is not durable. "
                                          "The database accepts no commit until it is restarted.") from None
                self.synced_ts = covered
        with self.write_lock:
            if self.visible_ts < self.synced_ts:
                self.visible_ts = self.synced_ts
                self.collect()  # what the published commits superseded may go now

    def _publish_all(self) -> None:
        """(Under the write lock.) Make every written commit durable and
        visible now: what reads the newest state to change the schema, or
        copies the files, must not miss a commit between write and sync."""
        if self.synced_ts < self.last_commit_ts:
            self.check_failed()
            self.db.flush_wal(True)
            self.synced_ts = self.last_commit_ts
        self.visible_ts = self.last_commit_ts

    def check_failed(self) -> None:
        if self.failed is not None:
            raise DurabilityError(f"A WAL sync failed ({self.failed}): the database accepts no commit until it is restarted.")

    def label_names(self) -> list[str]:
        return list(self.labels)

    def empty(self) -> bool:
        """No node, relationship, index or constraint (the rule for leaving the mode)."""
        with self.reading() as tx:
            nothing = next(tx.scan_vertices(), None) is None and next(tx.scan_edges(), None) is None
        return nothing and not self.catalog.indexes and not self.catalog.constraints

    def _schema(self) -> None:
        """The schema the store holds (meta `schema`: the ops applied, in
        order, and `x` + shape: the commit that built each property index),
        read at the start and again when a schema change fails, which then
        leaves nothing: its batch was never written."""
        self.indexes = Indexes()  # the definitions the planner asks about; the entries are on disk
        self.constraints = Constraints(self.indexes)
        self.catalog = schema.Catalog()
        self._schema_ops: list = []
        self._index_users: dict[tuple, int] = {}  # shape -> the definitions using its entries
        self._index_ts: dict[tuple, int] = {}  # shape -> the commit that built its entries
        self.index_prefixes: dict[tuple, bytes] = {}  # shape -> its entries' key prefix
        meta = self.families[keys.META]
        stored = meta.get(b"schema")
        for op in codec.unpackb(stored) if stored else ():
            self._apply_schema_op(tuple(op), None, 0)
            self._schema_ops.append(tuple(op))
        for shape in self._index_users:
            self._index_ts[shape] = keys.number(meta[keys.BUILT + self.index_prefixes[shape]])

    def apply_schema(self, ops: list[tuple], log: bool = True) -> list[tuple]:
        """Apply schema operations together, all or none, as one commit: the
        definitions, and the entries of the indexes they build, in one
        WriteBatch with sync on. Creating a constraint checks the newest
        committed data first. The store has no log to replay, so `log` is
        moot: every change is written."""
        with self.write_lock:
            self._publish_all()
            ts = self.last_commit_ts + 1
            batch = WriteBatch(raw_mode=True)
            applied = []
            try:
                for op in ops:
                    if self._apply_schema_op(op, batch, ts):
                        applied.append(op)
                if applied:
                    meta = self.handles[keys.META]
                    batch.put(b"schema", codec.packb(self._schema_ops + applied), meta)
                    batch.put(b"last_commit", keys.gid(ts), meta)
                    self.db.write(batch, self._sync)
            except BaseException:
                self._schema()
                self._forget_builds(drop=True)
                raise
            self._forget_builds(drop=False)
            if applied:
                self._schema_ops += applied
                self.last_commit_ts = self.synced_ts = self.visible_ts = ts
            return applied

    def _forget_builds(self, drop: bool) -> None:
        """After apply_schema: with `drop` (it failed), remove the entries its
        index builds wrote ahead of its batch, of the shapes no index uses."""
        built, self._building = self._building, []
        if drop:
            cleanup = WriteBatch(raw_mode=True)
            for prefix in built:
                if prefix not in self.index_prefixes.values():
                    cleanup.delete_range(prefix, keys.successor(prefix), self.handles[keys.INDEX])
            self.db.write(cleanup, self._unsynced)

    def _apply_schema_op(self, op: tuple, batch: WriteBatch | None, ts: int) -> bool:
        """Apply one op; False when it changes nothing. With no batch, the
        store is reading its schema back: the data were checked and the
        entries built when it was first applied."""
        outcome, definition = self.catalog.resolve(op)
        if outcome != schema.APPLY:
            return False
        if op[0] not in (schema.CREATE_INDEX, schema.CREATE_CONSTRAINT):
            self.catalog.remove(definition)
            if isinstance(definition, schema.IndexDef):
                if definition.kind == schema.LOOKUP:
                    self.indexes.declared_labels.discard(definition.token)
                else:
                    self._unuse_index(definition.shape, batch)
            else:
                self.constraints.drop(definition.kind, definition.label, definition.keys)
                if definition.owns_index:
                    self._unuse_index((schema.NODE, definition.label, definition.keys), batch)
            return True
        if isinstance(definition, schema.IndexDef):
            if definition.kind == schema.LOOKUP:
                self.indexes.declared_labels.add(definition.token)
            else:
                self._use_index(definition.shape, batch, ts)
        else:
            shape, checked = (schema.NODE, definition.label, definition.keys), batch is not None
            if definition.owns_index:  # first: the uniqueness check reads the vertices in its order
                self._use_index(shape, batch, ts)
            # (read back at open, the data were checked when it was first applied)
            self.constraints.create(definition.kind, definition.label, definition.keys,
                                    self._newest_with_label(definition.label) if checked else (), _state,
                                    by_value=self._newest_by_value(shape) if checked and definition.owns_index else None)
        self.catalog.add(definition)
        return True

    def _use_index(self, shape: tuple, batch: WriteBatch | None, ts: int) -> None:
        """One more user of the property index `shape`; the first builds its
        entries from the newest committed data, stamped `ts`. They are read
        from the records, no object made, and written BUILD_BATCH at a time,
        so a build holds one batch, not the index; only the last part goes
        with the schema's batch, whose sync makes them all durable. Until that
        batch names the index nobody reads its entries: a build cut short
        leaves some behind, which the range delete ahead of the first batch
        of the next build of the same shape (or the clean-up of a failed
        apply_schema) removes."""
        users = self._index_users.get(shape, 0)
        self._index_users[shape] = users + 1
        if users:
            return
        self.index_prefixes[shape] = keys.index_prefix(shape)
        self.indexes.create(shape, [], None)  # the definition, for the planner
        if batch is None:
            return
        prefix, version, family = self.index_prefixes[shape], keys.inverted(ts), self.handles[keys.INDEX]
        part = WriteBatch(raw_mode=True)
        part.delete_range(prefix, keys.successor(prefix), family)
        self._building.append(prefix)
        for n, entry in enumerate(self._index_entries(shape), 1):
            part.put(entry + version, keys.CARRIED, family)
            if n % BUILD_BATCH == 0:
                self.db.write(part, self._unsynced)
                part = WriteBatch(raw_mode=True)
        self.db.write(part, self._unsynced)
        batch.put(keys.BUILT + prefix, keys.gid(ts), self.handles[keys.META])
        self._index_ts[shape] = ts

    def _index_entries(self, shape: tuple) -> Iterator[bytes]:
        """The index keys (without the version) of the newest committed items
        the index `shape` files, read from their records."""
        entity, token, keys_ = shape
        prefix = self.index_prefixes[shape]
        with self.reading() as tx:
            if entity == schema.RELATIONSHIP:
                for item, record in tx._visible(keys.EDGE, b""):
                    if record:
                        type_, _src, _dst, props = codec.unpackb(record)
                        ukey = values_key(props, keys_) if type_ == token else None
                        if ukey is not None:
                            yield prefix + keys.index_values(ukey) + item
                return
            for gid, _labels, props in _labelled(tx, token):
                ukey = values_key(props, keys_)
                if ukey is not None:
                    yield prefix + keys.index_values(ukey) + gid

    def _unuse_index(self, shape: tuple, batch: WriteBatch | None) -> None:
        """One user fewer; the last one's going removes the entries."""
        users = self._index_users[shape] - 1
        if users:
            self._index_users[shape] = users
            return
        del self._index_users[shape]
        self._index_ts.pop(shape, None)
        self.index_prefixes.pop(shape, None)
        self.indexes.drop(shape)
        if batch is not None:
            prefix = keys.index_prefix(shape)
            batch.delete_range(prefix, keys.successor(prefix), self.handles[keys.INDEX])
            batch.delete(keys.BUILT + prefix, self.handles[keys.META])

    def _newest_with_label(self, label: str) -> Iterator[Vertex]:
        """The vertices with `label` in the newest committed state (under the
        write lock), each made from its record for its caller alone: none is
        kept here, so a label larger than the memory limit streams through."""
        with self.reading() as tx:
            for gid, labels, props in _labelled(tx, label):
                yield Vertex(keys.number(gid), tuple(labels), props)

    def _newest_by_value(self, shape: tuple) -> Iterator[Vertex]:
        """The vertices the property index `shape` files, in the newest
        committed state, in the index's order: those sharing an index key one
        after another. Under the write lock, after the index's entries are
        written (a build's, stamped with the coming commit, included): each
        entry's first version is its newest."""
        prefix = self.index_prefixes[shape]
        current = None
        with self.reading() as tx:
            for key, mark in _prefixed(self.families[keys.INDEX], prefix):
                item = key[:-8]
                if item == current:
                    continue
                current = item
                record = tx._newest(keys.VERTEX, item[-8:]) if mark else None
                if record:
                    labels, props = codec.unpackb(record)
                    yield Vertex(keys.number(item, len(item) - 8), tuple(labels), props)

    def renew(self, tx: DiskTransaction) -> None:
        with self.write_lock:
            if tx.closed or tx.deltas:
                raise TransactionError("Only an open transaction that has written nothing can be renewed.")
            tx.start_ts = self.visible_ts
            tx._cursors.clear()
            tx._stored_adjacency.clear()
            tx._refresh()

    @contextmanager
    def quiet(self, timeout: float, why: str) -> Iterator[None]:
        """Hold the store still: no transaction runs and none begins until
        the block ends (the write lock is held throughout). Only a switch
        asks for it, and it does not wait (`timeout` 0)."""
        with self.write_lock:
            if self._active:
                raise ClientError(f"{len(self._active)} transaction(s) run: {why}")
            yield

    def retire(self) -> None:
        """(Inside `quiet`.) Another store replaces this one: see Storage.retire."""
        self.retired = True

    @contextmanager
    def reading(self) -> Iterator[DiskTransaction]:
        tx = self.begin()
        try:
            yield tx
        finally:
            tx.commit()

    @staticmethod
    def settle(tx: DiskTransaction) -> None:
        """Nothing to freeze: a transaction holds only what it touched."""

    def switch_mode(self, mode: str, where: str = "STORAGE MODE") -> bool:
        """The store cannot change its own mode: leaving ON_DISK_TRANSACTIONAL
        replaces it (Durability.switch_mode)."""
        storage_modes.check_available(mode, where)
        if mode == self.mode:
            return False
        raise ClientError(f"{where}: an {storage_modes.ON_DISK} store cannot become {mode}; the data directory replaces it.")

    def counts(self) -> tuple[int, int]:
        """Nodes and relationships as of the newest commit, kept in meta by
        every commit: SHOW STORAGE INFO reads no graph."""
        return self.counted

    def _read_counts(self) -> tuple[int, int]:
        """The counts meta keeps; a store written before meta kept them is
        counted once, from its keys (no object made, so within the memory
        limit), and the count written for the next start."""
        kept = self.families[keys.META].get(keys.COUNTS)
        if kept:
            return keys.number(kept), keys.number(kept, 8)
        with self.reading() as tx:
            counted = tuple(sum(1 for _, record in tx._visible(family, b"") if record)
                            for family in (keys.VERTEX, keys.EDGE))
        self.families[keys.META].put(keys.COUNTS, keys.gid(counted[0]) + keys.gid(counted[1]), self._sync)
        return counted  # type: ignore[return-value]

    @staticmethod
    def unreleased_deltas() -> int:
        return 0

    def close(self) -> None:
        """Release the files: the column families' handles go first, since each
        keeps the database open (so does an unfinished scan's iterator)."""
        self.families.clear()
        self.handles.clear()
        self.db.close()

    def begin(self) -> DiskTransaction:
        with self.write_lock:
            if self.retired:
                raise TransientError(RETIRED)
            self._begun += 1
            tx = DiskTransaction(self, self.visible_ts, self._begun)
            self._active[id(tx)] = tx
            return tx

    # -- conflicts (under the lock): first writer wins -----------------------------------------

    def _claim(self, tx: DiskTransaction, item: tuple) -> None:
        """`tx` writes the node or relationship `item` (("v" | "e", gid))."""
        holder = self._claims.get(item)
        if (holder is not None and holder is not tx) or self._written.get(item, 0) > tx.start_ts:
            raise _conflict(item)
        self._claims[item] = tx
        tx.claimed.add(item)

    def _detachable(self, tx: DiskTransaction, vertex_gid: int) -> None:
        """`tx` deletes the node: refused while another transaction changes its
        relationships, or when one committed a change after `tx` began (a
        relationship `tx` cannot see would be left without its end)."""
        others = self._attaching.get(vertex_gid, set()) - {tx}
        if others or self._written.get(("a", vertex_gid), 0) > tx.start_ts:
            raise _conflict(("v", vertex_gid))

    def _attach(self, tx: DiskTransaction, vertex_gid: int) -> None:
        """`tx` adds or removes a relationship of the node: shared with other
        such writers, refused while another transaction writes the node."""
        item = ("v", vertex_gid)
        holder = self._claims.get(item)
        if (holder is not None and holder is not tx) or self._written.get(item, 0) > tx.start_ts:
            raise _conflict(item)
        self._attaching.setdefault(vertex_gid, set()).add(tx)
        tx.claimed.add(("a", vertex_gid))

    def _release(self, tx: DiskTransaction, commit_ts: int | None) -> None:
        for item in tx.claimed:
            if commit_ts is not None:
                self._written[item] = commit_ts
            if item[0] == "a":
                writers = self._attaching.get(item[1])
                if writers is not None:
                    writers.discard(tx)
                    if not writers:
                        del self._attaching[item[1]]
            elif self._claims.get(item) is tx:
                del self._claims[item]
        self._active.pop(id(tx), None)
        self._forget_old_writes()
        self.collect()

    def collect(self) -> None:
        """Remove the versions no transaction can read any more: once every
        open transaction began at or after commit T, the versions that T's
        writes superseded are unreachable, and so is T's own version when it
        marks the item gone. The list of what T superseded is written with
        T's commit (meta `g` + T), so a crash only delays its removal to the
        next start. Runs under the write lock, after a commit, in the
        committing thread; the removals are not synced (a lost one is redone
        from the list, which goes with them)."""
        oldest = min((tx.start_ts for tx in self._active.values()), default=self.visible_ts)
        if not self.garbage or self.garbage[0][0] > oldest:
            return
        batch = WriteBatch(raw_mode=True)
        cursors: dict[str, Any] = {}
        while self.garbage and self.garbage[0][0] <= oldest:
            ts, superseded = self.garbage.popleft()
            for family, item in superseded:
                it = cursors.get(family)
                if it is None:
                    it = cursors[family] = self.families[family].iter()
                it.seek(item + keys.inverted(ts))
                while _valid(it):
                    key = it.key()
                    if len(key) != len(item) + 8 or not key.startswith(item):
                        break
                    if keys.version_of(key) < ts or it.value() == keys.GONE:
                        batch.delete(key, self.handles[family])
                    it.next()
            batch.delete(keys.garbage(ts), self.handles[keys.META])
        del cursors
        self.db.write(batch)

    def _forget_old_writes(self) -> None:
        """Drop what no open transaction can conflict with any more (a commit
        at or before the oldest start): the table stays as large as the
        writes of the transactions that overlap, not as the graph."""
        if len(self._written) < 2 * FORGET_AFTER:
            return
        oldest = min((tx.start_ts for tx in self._active.values()), default=self.visible_ts)
        self._written = {item: ts for item, ts in self._written.items() if ts > oldest}


class DiskTransaction:
    """One transaction over a DiskStore; fills graph/interface.py's GraphTransaction."""

    in_place = False

    def __init__(self, store: DiskStore, start_ts: int, seq: int = 0):
        self.storage = store
        self.start_ts, self.seq = start_ts, seq
        self.closed = False
        self.deltas: list[Any] = []  # the items written, in order (non-empty: it wrote)
        self.claimed: set[tuple] = set()
        self._vertices: dict[int, Vertex] = {}
        self._edges: dict[int, Edge] = {}
        self._original: dict[tuple, tuple] = {}  # ("v" | "e", gid) -> (labels, props) before this transaction's writes
        self._created_vertices: list[Vertex] = []
        self._created_edges: list[Edge] = []
        self._dirty_vertices: dict[int, Vertex] = {}
        self._dirty_edges: dict[int, Edge] = {}
        self._cursors: dict[str, Any] = {}
        self._stored_adjacency: dict[tuple[str, int], list[int]] = {}
        self._named: set[bytes] = set()  # the names its commit adds to meta
        self._created_at: dict[tuple[str, int], list[Edge]] = {}  # (out | in, vertex gid) -> relationships it created there
        self._filed: dict[tuple, set] = {}  # (index shape, values) -> what it wrote under them (`_file`)  # (out | in, vertex gid) -> edge gids on disk at the start

    def image_version(self) -> int | None:
        """The version of the graph it reads, for the columnar image: its
        start, unless it wrote (graph/transaction.py's Transaction says why)."""
        return None if self.deltas else self.start_ts

    # -- end -------------------------------------------------------------------------------------

    def commit(self) -> None:
        self._close()
        store = self.storage
        with store.write_lock:
            ts = None
            try:
                if self.deltas:
                    store.check_failed()
                    if store.constraints.active:
                        self._check_constraints()
                    ts = store.last_commit_ts + 1
                    batch = self._batch(ts)
                    try:
                        store.db.write(batch, store._unsynced)
                    except BaseException:
                        if store.garbage and store.garbage[-1][0] == ts:
                            store.garbage.pop()
                        raise
                    store.last_commit_ts = ts
                    store._names |= self._named
                    store.counted = self._counted
            except BaseException:
                ts = None
                raise
            finally:
                self._cursors.clear()  # the checks read through them
                store._release(self, ts)
        if ts is not None:
            store.make_durable(ts)

    def abort(self) -> None:
        self._close()
        with self.storage.write_lock:
            self.storage._release(self, None)

    def _close(self) -> None:
        if self.closed:
            raise TransactionError("The transaction is already closed.")
        self.closed = True
        self._cursors.clear()  # an iterator keeps the files it reads, and the database, open

    def _new_names(self) -> set[bytes]:
        """The labels, relationship types and property keys this transaction
        wrote that meta does not hold yet: written with its commit, so a
        restart knows every name without reading the graph."""
        used = set()
        for vertex in self._dirty_vertices.values():
            if not vertex.deleted:
                used.update(keys.LABEL_NAME + _utf8(label) for label in vertex.labels)
                used.update(keys.KEY_NAME + _utf8(key) for key in vertex.props)
        for edge in self._dirty_edges.values():
            if not edge.deleted:
                used.add(keys.TYPE_NAME + _utf8(edge.type))
                used.update(keys.KEY_NAME + _utf8(key) for key in edge.props)
        return used - self.storage._names

    def _check_constraints(self) -> None:
        """Under the write lock, before the commit: this transaction's nodes
        against the newest committed data and each other (graph/constraints.py
        says what is checked). `latest` reads the newest commit; the unique
        candidates of a value are those its index files it under there, and
        this transaction's nodes that hold it now."""
        latest = DiskTransaction(self.storage, self.storage.last_commit_ts)  # written, durable or about to be
        mine: dict[tuple, dict[tuple, list[Vertex]]] = {}

        def candidates(label: str, keys_: tuple[str, ...], ukey: tuple) -> list[Vertex]:
            if (label, keys_) not in mine:
                held = mine[(label, keys_)] = {}
                for vertex in self._dirty_vertices.values():
                    values = values_key(vertex.props, keys_)
                    if not vertex.deleted and label in vertex.labels and values is not None:
                        held.setdefault(values, []).append(vertex)
            prefix = self.storage.index_prefixes[(schema.NODE, label, keys_)] + keys.index_values(ukey)
            found = [self._dirty_vertices.get(gid) or latest._vertex(gid)
                     for gid in (keys.number(item, len(prefix)) for item, mark in latest._visible(keys.INDEX, prefix) if mark)]
            return [vertex for vertex in found if vertex is not None] + mine[(label, keys_)].get(ukey, [])

        def seen(vertex: Vertex) -> tuple[set[str], dict[str, Any], bool]:
            mine_or_start = self._vertex(vertex.gid)
            return (set(), {}, True) if mine_or_start is None else _state(mine_or_start)

        try:
            self.storage.constraints.check(self._dirty_vertices.values(), _state, seen, candidates)
        finally:
            latest._cursors.clear()

    def _batch(self, ts: int) -> WriteBatch:
        """Every version this transaction made, stamped `ts`, and the list of
        the items whose older versions it superseded (DiskStore.collect). An
        item created and deleted here is not written at all."""
        store, version = self.storage, keys.inverted(ts)
        batch = WriteBatch(raw_mode=True)
        superseded: list[tuple[str, bytes]] = []
        created_vertices = {vertex.gid for vertex in self._created_vertices}
        created_edges = {edge.gid for edge in self._created_edges}
        nodes, relationships = store.counted
        for vertex in self._dirty_vertices.values():
            created = vertex.gid in created_vertices
            if created != vertex.deleted:  # made, or one that was there deleted (first writer wins: only once)
                nodes += 1 if created else -1
            if not (created and vertex.deleted):
                self._vertex_versions(batch, vertex, version, None if created else superseded)
        for edge in self._dirty_edges.values():
            created = edge.gid in created_edges
            if created != edge.deleted:
                relationships += 1 if created else -1
            if not (created and edge.deleted):
                self._edge_versions(batch, edge, version, None if created else superseded)
        meta = store.handles[keys.META]
        self._counted = (nodes, relationships)
        batch.put(keys.COUNTS, keys.gid(nodes) + keys.gid(relationships), meta)
        self._named = self._new_names()
        for name in self._named:
            batch.put(name, b"", meta)
        batch.put(b"next_vertex", keys.gid(store.next_vertex_id), meta)
        batch.put(b"next_edge", keys.gid(store.next_edge_id), meta)
        batch.put(b"last_commit", keys.gid(ts), meta)
        if superseded:
            batch.put(keys.garbage(ts), codec.packb(superseded), meta)
            store.garbage.append((ts, superseded))
        return batch

    def _vertex_versions(self, batch: WriteBatch, vertex: Vertex, version: bytes, superseded: list | None) -> None:
        """A node's new version, its label entries and its index entries;
        `superseded` is None when this transaction created it (nothing older)."""
        handles, key = self.storage.handles, keys.gid(vertex.gid)
        record = keys.GONE if vertex.deleted else codec.packb([list(vertex.labels), vertex.props])
        batch.put(key + version, record, handles[keys.VERTEX])
        if superseded is not None:
            superseded.append((keys.VERTEX, key))
        before_labels, before_props = self._original[("v", vertex.gid)]
        after_labels, after_props = ((), {}) if vertex.deleted else (vertex.labels, vertex.props)
        for label in set(before_labels) ^ set(after_labels):
            mark = keys.CARRIED if label in after_labels else keys.GONE
            batch.put(keys.label_prefix(label) + key + version, mark, handles[keys.LABEL])
            if superseded is not None:
                superseded.append((keys.LABEL, keys.label_prefix(label) + key))
        for shape in self.storage._index_users:
            if shape[0] == schema.NODE:
                before = values_key(before_props, shape[2]) if shape[1] in before_labels else None
                after = values_key(after_props, shape[2]) if shape[1] in after_labels else None
                _index_change(batch, handles[keys.INDEX], superseded, self.storage.index_prefixes[shape], key, version,
                              before, after)

    def _edge_versions(self, batch: WriteBatch, edge: Edge, version: bytes, superseded: list | None) -> None:
        """A relationship's new version, its adjacency entries and its index entries."""
        handles, key = self.storage.handles, keys.gid(edge.gid)
        src, dst = keys.gid(edge.src.gid) + key, keys.gid(edge.dst.gid) + key
        if superseded is not None:
            superseded.append((keys.EDGE, key))
        for shape in self.storage._index_users:
            if shape[0] == schema.RELATIONSHIP and shape[1] == edge.type:
                before = values_key(self._original[("e", edge.gid)][1], shape[2])
                after = None if edge.deleted else values_key(edge.props, shape[2])
                _index_change(batch, handles[keys.INDEX], superseded, self.storage.index_prefixes[shape], key, version,
                              before, after)
        if edge.deleted:  # never one this transaction created: superseded is a list
            batch.put(key + version, keys.GONE, handles[keys.EDGE])
            batch.put(src + version, keys.GONE, handles[keys.OUT])
            batch.put(dst + version, keys.GONE, handles[keys.IN])
            superseded += [(keys.OUT, src), (keys.IN, dst)]
            return
        batch.put(key + version, codec.packb([edge.type, edge.src.gid, edge.dst.gid, edge.props]), handles[keys.EDGE])
        batch.put(src + version, keys.gid(edge.dst.gid), handles[keys.OUT])
        batch.put(dst + version, keys.gid(edge.src.gid), handles[keys.IN])

    # -- reading versions ------------------------------------------------------------------------

    def _cursor(self, family: str):
        """This transaction's iterator over `family`, made at its first read:
        it sees the data as of then, which holds every version at or before
        the start (what the transaction may read), and one iterator sought
        again and again costs far less than one per read."""
        it = self._cursors.get(family)
        if it is None:
            it = self._cursors[family] = self.storage.families[family].iter()
        return it

    def _newest(self, family: str, prefix: bytes) -> bytes | None:
        """The value of the newest version of `prefix` at this transaction's start, or None."""
        it = self._cursor(family)
        it.seek(prefix + keys.inverted(self.start_ts))
        if _valid(it):
            key = it.key()
            if len(key) == len(prefix) + 8 and key.startswith(prefix):
                return it.value()
        return None

    def _visible(self, family: str, prefix: bytes, it: Any = None) -> Iterator[tuple[bytes, bytes]]:
        """(item key, value) of every item under `prefix` in its version at this
        transaction's start; an item's key is its key without the version.
        Through a new iterator unless `it` is given (`_visible_now`)."""
        it = self.storage.families[family].iter() if it is None else it
        it.seek(prefix)
        current = None
        while _valid(it):
            key = it.key()
            if not key.startswith(prefix):
                return
            item = key[:-8]
            if item != current and keys.version_of(key) <= self.start_ts:
                current = item
                yield item, it.value()
            it.next()

    def _visible_now(self, family: str, prefix: bytes) -> list[tuple[bytes, bytes]]:
        """`_visible` read whole through this transaction's cursor (no new
        iterator, which costs more than the seek): for lookups that finish
        before the next read of the family, unlike a scan."""
        return list(self._visible(family, prefix, self._cursor(family)))

    def _refresh(self) -> None:
        """After `renew`: the nodes and relationships already read take their
        state at the new start, in place (the statement's rows hold them, and
        the query layer compares them by identity)."""
        for gid, vertex in self._vertices.items():
            record = self._newest(keys.VERTEX, keys.gid(gid))
            if record:
                labels, vertex.props = codec.unpackb(record)
                vertex.labels, vertex.deleted = tuple(labels), False
            else:
                vertex.deleted = True
        for gid, edge in self._edges.items():
            record = self._newest(keys.EDGE, keys.gid(gid))
            if record:
                edge.props, edge.deleted = codec.unpackb(record)[3], False
            else:
                edge.deleted = True

    def _vertex(self, gid: int) -> Vertex | None:
        vertex = self._vertices.get(gid)
        if vertex is None:
            if not 0 <= gid < 2**64:
                return None
            record = self._newest(keys.VERTEX, keys.gid(gid))
            if not record:
                return None
            labels, props = codec.unpackb(record)
            vertex = Vertex(gid, tuple(labels), props)
            self._vertices[gid] = vertex
        return vertex

    def _edge(self, gid: int) -> Edge | None:
        edge = self._edges.get(gid)
        if edge is None:
            if not 0 <= gid < 2**64:
                return None
            record = self._newest(keys.EDGE, keys.gid(gid))
            if not record:
                return None
            type_, src, dst, props = codec.unpackb(record)
            src_vertex, dst_vertex = self._vertex(src), self._vertex(dst)
            if src_vertex is None or dst_vertex is None:
                return None
            edge = _edge_object(gid, type_, src_vertex, dst_vertex, props)
            self._edges[gid] = edge
        return edge

    # -- reads -----------------------------------------------------------------------------------

    def exists(self, obj: Vertex | Edge) -> bool:
        return not obj.deleted

    def deleted_here(self, obj: Vertex | Edge) -> bool:
        return obj.deleted and ("v" if type(obj) is Vertex else "e", obj.gid) in self.claimed

    def view(self, obj: Vertex | Edge) -> tuple[Any, dict[str, Any], bool]:
        labels = set(obj.labels) if type(obj) is Vertex else None
        return labels, dict(obj.props), obj.deleted

    def get(self, obj: Vertex | Edge, key: str) -> Any:
        return obj.props.get(key)

    def properties(self, obj: Vertex | Edge) -> dict[str, Any]:
        return dict(obj.props)

    def labels(self, vertex: Vertex) -> set[str]:
        return set(vertex.labels)

    def has_label(self, vertex: Vertex, label: str) -> bool:
        return label in vertex.labels

    def newest(self, vertex: Vertex) -> tuple[set[str], dict[str, Any], bool]:
        return self.view(vertex)

    def scan_vertices(self) -> Iterator[Vertex]:
        for item, record in self._visible(keys.VERTEX, b""):
            if record:
                vertex = self._vertex(keys.number(item))
                if vertex is not None and not vertex.deleted:
                    yield vertex
        for vertex in list(self._created_vertices):
            if not vertex.deleted:
                yield vertex

    def scan_edges(self) -> Iterator[Edge]:
        for item, record in self._visible(keys.EDGE, b""):
            if record:
                edge = self._edge(keys.number(item))
                if edge is not None and not edge.deleted:
                    yield edge
        for edge in list(self._created_edges):
            if not edge.deleted:
                yield edge

    def vertices_with_label(self, label: str) -> Iterator[Vertex]:
        prefix = keys.label_prefix(label)
        seen = set()
        for item, mark in self._visible(keys.LABEL, prefix):
            if mark:
                gid = keys.number(item, len(prefix))
                seen.add(gid)
                vertex = self._vertex(gid)
                if vertex is not None and not vertex.deleted and label in vertex.labels:
                    yield vertex
        for vertex in list(self._dirty_vertices.values()):  # labels this transaction added
            if vertex.gid not in seen and not vertex.deleted and label in vertex.labels:
                yield vertex

    def vertices_with_property(self, label: str, key: str, value: Any, equal: Callable[[Any, Any], Any]) -> list[Vertex] | None:
        return self.vertices_with_properties(label, (key,), (value,), equal)

    def vertices_with_properties(self, label: str, keys_: tuple[str, ...], values: tuple,
                                 equal: Callable[[Any, Any], Any]) -> list[Vertex] | None:
        """Through the property index of `label` and `keys_` on disk (and this
        transaction's own entries); a point lookup per row of a load, so an
        exact match of the value's own type needs no `equal` call."""
        found = self._indexed((schema.NODE, label, keys_), values, self._vertex, self._dirty_vertices)
        if found is None:
            return None
        return [vertex for vertex in found if label in vertex.labels and _all_equal(vertex.props, keys_, values, equal)]

    def edges_with_properties(self, type_: str, keys_: tuple[str, ...], values: tuple,
                              equal: Callable[[Any, Any], Any]) -> list[Edge] | None:
        found = self._indexed((schema.RELATIONSHIP, type_, keys_), values, self._edge, self._dirty_edges)
        if found is None:
            return None
        return [edge for edge in found if edge.type == type_ and _all_equal(edge.props, keys_, values, equal)]

    def _indexed(self, shape: tuple, values: tuple, load: Callable[[int], Any], dirty: dict[int, Any]) -> list | None:
        """The objects the index `shape` files under `values` at this
        transaction's start, and those it wrote (its writes are not on disk),
        not deleted; for the caller to check against what it looks for. None
        when no index can answer: there is none, it was built after this
        transaction began, or a value is not indexable (maps)."""
        store = self.storage
        built = store._index_ts.get(shape)
        if built is None or built > self.start_ts:
            return None
        ukey = index_keys(values)
        if ukey is None:
            return None
        prefix = store.index_prefixes[shape] + keys.index_values(ukey)
        found = []
        for item, mark in self._visible_now(keys.INDEX, prefix):
            gid = keys.number(item, len(prefix))
            if mark and gid not in dirty:
                obj = load(gid)
                if obj is not None and not obj.deleted:
                    found.append(obj)
        return found + [obj for obj in self._filed.get((shape, ukey), ()) if not obj.deleted]

    def _file(self, obj: Vertex | Edge) -> None:
        """After a write: file `obj` under its values in this transaction's
        own index entries (its writes are not on disk). An entry may go
        stale when the object changes again; `_indexed`'s callers check."""
        for shape in self.storage._index_users:
            entity, token, keys_ = shape
            if (token in obj.labels) if type(obj) is Vertex else (entity == schema.RELATIONSHIP and obj.type == token):
                if (entity == schema.NODE) == (type(obj) is Vertex):
                    ukey = values_key(obj.props, keys_)
                    if ukey is not None:
                        self._filed.setdefault((shape, ukey), set()).add(obj)

    def out_edges(self, vertex: Vertex) -> list[Edge]:
        return self._adjacent(keys.OUT, vertex)

    def in_edges(self, vertex: Vertex) -> list[Edge]:
        return self._adjacent(keys.IN, vertex)

    def _adjacent(self, family: str, vertex: Vertex) -> list[Edge]:
        """The relationships at `vertex`: those on disk at the start (read once
        per transaction: a search expands a node again and again), less what
        this transaction deleted, plus what it created."""
        stored = self._stored_adjacency.get((family, vertex.gid))
        if stored is None:
            prefix = keys.gid(vertex.gid)
            stored = self._stored_adjacency[(family, vertex.gid)] = [
                keys.number(item, 8) for item, end in self._visible_now(family, prefix) if end]
        found = []
        for gid in stored:
            edge = self._edge(gid)
            if edge is not None and not edge.deleted:
                found.append(edge)
        for edge in self._created_at.get((family, vertex.gid), ()):
            if not edge.deleted:
                found.append(edge)
        return found

    def vertex_by_id(self, gid: int) -> Vertex | None:
        vertex = self._vertex(gid)
        return vertex if vertex is not None and not vertex.deleted else None

    def edge_by_id(self, gid: int) -> Edge | None:
        edge = self._edge(gid)
        return edge if edge is not None and not edge.deleted else None

    # -- writes ----------------------------------------------------------------------------------

    def _write(self, obj: Vertex | Edge) -> None:
        """Claim `obj` before its first change (first writer wins) and mark it dirty."""
        if self.closed:
            raise TransactionError("The transaction is already closed.")
        if obj.deleted:
            kind = "node" if type(obj) is Vertex else "relationship"
            raise EntityNotFound(f"The {kind} {obj.gid} has been deleted in this transaction.")
        item = ("v" if type(obj) is Vertex else "e", obj.gid)
        if item not in self.claimed:
            with self.storage.write_lock:
                self.storage._claim(self, item)
        if item not in self._original:
            self._original[item] = (obj.labels if type(obj) is Vertex else None, dict(obj.props))
        if type(obj) is Vertex:
            self._dirty_vertices[obj.gid] = obj
        else:
            self._dirty_edges[obj.gid] = obj
        self.deltas.append(item)

    def create_vertex(self, labels: tuple[str, ...], props: dict[str, Any]) -> Vertex:
        store = self.storage
        with store.write_lock:
            if self.closed:
                raise TransactionError("The transaction is already closed.")
            gid = store.next_vertex_id
            store.next_vertex_id = gid + 1
        vertex = Vertex(gid, tuple(labels), dict(props))
        store.labels.update(labels)
        store.property_keys.update(props)
        self._vertices[gid] = vertex
        self._created_vertices.append(vertex)
        self._original[("v", gid)] = ((), {})
        self._dirty_vertices[gid] = vertex
        self.claimed.add(("v", gid))
        self.deltas.append(("v", gid))
        self._file(vertex)
        return vertex

    def create_edge(self, src: Vertex, dst: Vertex, type_: str, props: dict[str, Any]) -> Edge:
        for end in (src, dst):  # the ends' adjacency changes: a concurrent delete of either conflicts
            self._adjacency(end)
        store = self.storage
        with store.write_lock:
            gid = store.next_edge_id
            store.next_edge_id = gid + 1
        edge = _edge_object(gid, type_, src, dst, dict(props))
        store.edge_types.add(type_)
        store.property_keys.update(props)
        self._edges[gid] = edge
        self._created_edges.append(edge)
        self._created_at.setdefault((keys.OUT, src.gid), []).append(edge)
        self._created_at.setdefault((keys.IN, dst.gid), []).append(edge)
        self._original[("e", gid)] = (None, {})
        self._dirty_edges[gid] = edge
        self.claimed.add(("e", gid))
        self.deltas.append(("e", gid))
        self._file(edge)
        return edge

    def _adjacency(self, vertex: Vertex) -> None:
        """This transaction adds or removes a relationship of `vertex`."""
        if vertex.deleted:
            raise EntityNotFound(f"The node {vertex.gid} has been deleted in this transaction.")
        if ("a", vertex.gid) not in self.claimed:
            with self.storage.write_lock:
                self.storage._attach(self, vertex.gid)

    def set_property(self, obj: Vertex | Edge, key: str, value: Any) -> bool:
        if value is None and key not in obj.props:
            return False
        self._write(obj)
        if value is None:
            del obj.props[key]
        else:
            obj.props[key] = value
            self.storage.property_keys.add(key)
        self._file(obj)  # written, it is left out of what the disk's entries give: filed again here
        return True

    def add_label(self, vertex: Vertex, label: str) -> bool:
        if label in vertex.labels:
            return False
        self._write(vertex)
        vertex.labels = vertex.labels + (label,)
        self.storage.labels.add(label)
        self._file(vertex)
        return True

    def remove_label(self, vertex: Vertex, label: str) -> bool:
        if label not in vertex.labels:
            return False
        self._write(vertex)
        vertex.labels = tuple(other for other in vertex.labels if other != label)
        self._file(vertex)
        return True

    def delete_edge(self, edge: Edge) -> bool:
        if edge.deleted:
            return False
        self._write(edge)
        for end in (edge.src, edge.dst):
            if not end.deleted:
                self._adjacency(end)
        edge.deleted = True
        return True

    def delete_vertex(self, vertex: Vertex, detach: bool) -> tuple[bool, int]:
        if vertex.deleted:
            return False, 0
        self._write(vertex)
        with self.storage.write_lock:
            self.storage._detachable(self, vertex.gid)
        edges = relationships_to_delete(self, vertex, detach)
        for edge in edges:
            self.delete_edge(edge)
        vertex.deleted = True
        return True, len(edges)


def _edge_object(gid: int, type_: str, src: Vertex, dst: Vertex, props: dict[str, Any]) -> Edge:
    """An Edge without adding it to its ends' lists: a transaction reads
    adjacency from the store, not from the objects."""
    edge = Edge.__new__(Edge)
    edge.gid, edge.type, edge.src, edge.dst, edge.props = gid, type_, src, dst, props
    edge.delta, edge.deleted = None, False
    return edge


def _all_equal(props: dict[str, Any], keys_: tuple[str, ...], values: tuple, equal: Callable[[Any, Any], Any]) -> bool:
    for key, value in zip(keys_, values):
        held = props.get(key)
        kind = type(value)
        exact = kind is not list and kind is not dict and held == value and type(held) is kind
        if not exact and equal(held, value) is not True:
            return False
    return True


def _index_change(batch: WriteBatch, family: Any, superseded: list | None, prefix: bytes, gid: bytes, version: bytes,
                  before: tuple | None, after: tuple | None) -> None:
    """The entries of one index for one object whose values went from
    `before` to `after` (None: not filed); `superseded` None for an object
    the commit creates, whose entries have no older version."""
    if before == after:
        return
    for values, mark in ((before, keys.GONE), (after, keys.CARRIED)):
        if values is not None:
            item = prefix + keys.index_values(values) + gid
            batch.put(item + version, mark, family)
            if superseded is not None:
                superseded.append((keys.INDEX, item))


def _utf8(name: str) -> bytes:
    return name.encode("utf-8", "surrogatepass")


def _valid(it: Any) -> bool:
    """`it.valid()`, except that an iterator stopped by an error (a damaged
    block, an I/O error) raises it: a rocksdict iterator then just ends, and
    a scan would return part of the graph as if it were all of it."""
    if it.valid():
        return True
    try:
        it.status()
    except Exception as exc:  # rocksdict raises plain Exceptions
        raise DurabilityError(f"RocksDB could not read the graph: {exc}") from None
    return False


def check(path: str) -> dict[str, int]:
    """`weftdb verify` of a store or a checkpoint: open it read-only (no
    lock: a running database's store can be checked beside it) and read
    every key of every column family with RocksDB's block checksums
    verified. Returns the newest commit, the nodes and relationships it
    holds and the keys read; a DurabilityError says what RocksDB found."""
    try:
        db = Rdict(path, options=Options(raw_mode=True), access_type=AccessType.read_only(),
                   column_families={name: Options(raw_mode=True) for name in keys.FAMILIES})
    except Exception as exc:  # rocksdict raises plain Exceptions
        raise DurabilityError(f"{path}: RocksDB cannot open it: {exc}") from None
    try:
        found = {"keys": 0, "nodes": 0, "relationships": 0}
        careful = ReadOptions()
        careful.set_verify_checksums(True)
        for name in keys.FAMILIES:
            it = db.get_column_family(name).iter(careful)
            it.seek_to_first()
            current = None
            while _valid(it):
                key = it.key()
                found["keys"] += 1
                if name in (keys.VERTEX, keys.EDGE) and key[:-8] != current:  # the newest version of an item
                    current = key[:-8]
                    if it.value():
                        found["nodes" if name == keys.VERTEX else "relationships"] += 1
                it.next()
            del it
        last = db.get_column_family(keys.META).get(b"last_commit")
        found["last_commit_ts"] = keys.number(last) if last else 0
        return found
    except Exception as exc:
        raise DurabilityError(f"{path}: {exc}") from None
    finally:
        db.close()


def _options(limit: int, cache: Cache, buffers: WriteBufferManager) -> Options:
    """Options that keep RocksDB's memory within `limit` bytes: one LRU block
    cache of that size shared by every column family, the index and filter
    blocks in it rather than beside it, and the write buffers charged to it
    (the write buffer manager), a quarter of it together."""
    options = Options(raw_mode=True)
    table = BlockBasedOptions()
    table.set_block_cache(cache)
    table.set_cache_index_and_filter_blocks(True)
    table.set_pin_l0_filter_and_index_blocks_in_cache(True)
    options.set_block_based_table_factory(table)
    options.set_write_buffer_manager(buffers)
    options.set_write_buffer_size(max(limit // (4 * 2 * len(keys.FAMILIES)), 1 << 20))
    options.set_max_write_buffer_number(2)
    return options


def _labelled(tx: DiskTransaction, label: str) -> Iterator[tuple[bytes, list, dict[str, Any]]]:
    """(gid key, labels, properties) of each vertex with `label` that `tx`
    sees, read from the records: no object is made or cached in `tx`."""
    labelled = keys.label_prefix(label)
    for item, mark in tx._visible(keys.LABEL, labelled):
        gid = item[len(labelled):]
        record = tx._newest(keys.VERTEX, gid) if mark else None
        if record:
            labels, props = codec.unpackb(record)
            yield gid, labels, props


def _state(vertex: Vertex) -> tuple[set[str], dict[str, Any], bool]:
    return set(vertex.labels), vertex.props, vertex.deleted


def _prefixed(family: Rdict, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
    it = family.iter()
    it.seek(prefix)
    while _valid(it) and it.key().startswith(prefix):
        yield it.key(), it.value()
        it.next()


def _meta(family: Rdict, name: bytes) -> int:
    value = family.get(name)
    return keys.number(value) if value else 0


def _conflict(item: tuple) -> SerializationError:
    kind = "node" if item[0] in ("v", "a") else "relationship"
    return SerializationError(
        f"Cannot change {kind} {item[1]}: another transaction changed it concurrently. "
        "This transaction was rolled back; retry it."
    )

"""The in-memory graph: objects, timestamps, active transactions, garbage collection.

Timestamps: `last_commit_ts` is the newest timestamp handed to a committing
transaction; `visible_ts` is the newest one whose transaction, and every
earlier one, is durable. A transaction starts at `visible_ts`, so no reader
ever sees a write that a crash could still take away, and publishing strictly
in timestamp order keeps every snapshot stable.

One lock (`Storage.write_lock`) serialises writers: each primitive write (check for
a conflicting writer, push the Delta, mutate) and each commit. Readers take no
lock (see the ordering rule in `objects.py`).

A commit log (the WAL, from the durability layer) plugs in as
`storage.commit_log`: `append(commit_ts, wall_time_us, ops) -> ticket` is
called under the lock so the log's order is the commit order, then
`wait(ticket)` outside it until the record is on disk — and with it every
record appended before (the log is written in order). The ops are the redo
operations of `redo.py`, made from the transaction's Deltas; they share the
objects' property dicts, so `append` must encode them before it returns.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import deque
from contextlib import contextmanager, nullcontext
from operator import itemgetter
from typing import Any, Iterator, Protocol

from weftdb.basics import collector, storage_modes
from weftdb.basics.errors import ClientError, TransactionError, TransientError
from weftdb.graph import redo, schema
from weftdb.graph.constraints import Constraints
from weftdb.graph.image import ImageCache
from weftdb.graph.indexes import Indexes
from weftdb.graph.objects import (
    CREATED,
    DELETED,
    LABEL_ADDED,
    LABEL_REMOVED,
    MISSING,
    PROPERTY,
    Delta,
    Edge,
    Vertex,
    restore,
    undo,
    version,
)
from weftdb.graph.transaction import InPlaceTransaction, Transaction

NEWEST = float("inf")

_GID, _EDGE_TYPE = itemgetter(1), itemgetter(2)  # of a create op

FREEZE_AFTER = 5_000
"""A commit that changed this many objects moves every live object to the
cyclic garbage collector's permanent generation (`gc.freeze`). The graph's
objects live until they are deleted, and deletion breaks their cycles, so
rescanning them in every full collection is pure cost: without this, a bulk
load spends more time in the collector than in the database."""

SWITCH_RULE = "a storage mode changes only when no other transaction runs. Retry when they have ended."

RETIRED = "The storage mode changed while this transaction waited to begin; run it again."

QUIET_WAIT_SEC = 60.0
"""How long a snapshot or dump in IN_MEMORY_ANALYTICAL waits for the running
transactions to end before it gives up with an error saying so."""


class _Names(dict):
    """`names[s]` is the first string equal to `s` that was looked up."""

    def __missing__(self, name: str) -> str:
        self[name] = name
        return name


class CommitLog(Protocol):
    def append(self, commit_ts: int, wall_time_us: int, ops: list[tuple]) -> Any: ...

    def wait(self, ticket: Any) -> None: ...


class Storage:
    def __init__(self) -> None:
        self.write_lock = threading.RLock()
        self.vertices: dict[int, Vertex] = {}
        self.edges: dict[int, Edge] = {}
        self.next_vertex_id = 0
        self.next_edge_id = 0
        self.last_commit_ts = 0
        self.visible_ts = 0
        self.indexes = Indexes()
        self.constraints = Constraints(self.indexes)
        # Named index and constraint definitions (schema.py), and how many of
        # them use each property index: (entity, label or type, keys) -> count.
        self.catalog = schema.Catalog()
        self._index_users: dict[tuple[str, str, tuple[str, ...]], int] = {}
        # One string per label and edge type name: a WAL record decodes a new
        # one wherever a name appears, and a million edges would keep a
        # million copies of their type.
        self.names = _Names()
        # Every edge type and property key ever used (a superset of the live
        # ones): the name dictionaries of a snapshot.
        self.edge_types: set[str] = set()
        self.property_keys: set[str] = set()
        self.commit_log: CommitLog | None = None
        self._begin_seq = 0
        self._active: dict[int, Transaction] = {}  # by begin sequence: oldest first
        self._finished: deque[Transaction] = deque()
        self._durable: set[int] = set()
        self.mode = storage_modes.TRANSACTIONAL
        self._kind: type[Transaction] = Transaction  # what begin() makes: InPlaceTransaction when analytical
        # quiet(): new transactions wait while it holds the store still (a
        # snapshot in IN_MEMORY_ANALYTICAL), except those of the thread holding it.
        self._ended = threading.Condition(self.write_lock)
        self._quiet_holder: int | None = None
        self.retired = False  # replaced by another store (`retire`)
        # IN_MEMORY_ANALYTICAL: writes of two open transactions never mix (InPlaceTransaction).
        # id() of each object an open transaction changed or deleted -> that transaction, and
        # the open transactions that created objects (each knows which).
        self.owners: dict[int, Transaction] = {}
        self.creators: set[InPlaceTransaction] = set()
        self.images = ImageCache()  # the columnar image of the newest version read (graph/image.py)

    # -- transactions -----------------------------------------------------------

    def begin(self) -> Transaction:
        with self.write_lock:
            if self._quiet_holder is not None:
                self._wait_for_quiet()
            self._begin_seq += 1
            tx = self._kind(self, self.visible_ts, self._begin_seq)
            self._active[tx.seq] = tx
            return tx

    # -- modes ------------------------------------------------------------------

    def switch_mode(self, mode: str, where: str = "STORAGE MODE") -> bool:
        """Change between the in-memory modes; False when already in `mode`.
        Only while no transaction runs: a transaction's writes keep the kind
        of undo and visibility it began with. `where` asked for it (the
        statement, the flag), for the error of a mode not available."""
        storage_modes.check_available(mode, where)
        if mode == storage_modes.ON_DISK:
            raise ClientError(f"{where}: {mode} keeps the graph in a data directory, and this database has none "
                              "(open it with a path).")
        with self.write_lock:
            if mode == self.mode:
                return False
            if self._active:
                raise ClientError(f"{len(self._active)} transaction(s) run: {SWITCH_RULE}")
            self.mode = mode
            self.images.clear()  # versions count differently in each mode (image_version)
            self._kind = InPlaceTransaction if mode == storage_modes.ANALYTICAL else Transaction
            return True

    @contextmanager
    def quiet(self, timeout: float, why: str):
        """Hold the store still: wait for every running transaction to end
        (at most `timeout` seconds, else a ClientError ending in `why`) and
        keep new ones from starting until the block ends, except those this
        thread begins. IN_MEMORY_ANALYTICAL keeps no versions, so this is how
        a snapshot there reads one state. A thread already holding it may
        enter again."""
        me = threading.get_ident()
        with self.write_lock:
            nested = self._quiet_holder == me
            if not nested:
                self._wait_for_quiet()
                self._quiet_holder = me
                if not self._ended.wait_for(lambda: not self._active, timeout):
                    running = len(self._active)
                    self._quiet_holder = None
                    self._ended.notify_all()
                    waited = f"still run after {timeout:g} s" if timeout else "run"
                    raise ClientError(f"{running} transaction(s) {waited}: {why}")
        if nested:
            yield
            return
        try:
            yield
        finally:
            with self.write_lock:
                if not self.retired:  # a retired store stays held: every begin takes the waiting way
                    self._quiet_holder = None
                self._ended.notify_all()

    def retire(self) -> None:
        """(Inside `quiet`.) Another store replaces this one (a switch to or
        from ON_DISK_TRANSACTIONAL): a transaction waiting to begin here, or
        begun later by a caller still holding this store, gets a
        TransientError and runs again on the new one."""
        self.retired = True

    def label_names(self) -> list[str]:
        """Every label a node has had (a superset of those in use)."""
        return list(self.indexes.by_label)

    def empty(self) -> bool:
        """No node, relationship, index or constraint (the rule for switching to or from ON_DISK_TRANSACTIONAL)."""
        return self.counts() == (0, 0) and not self.catalog.indexes and not self.catalog.constraints

    @contextmanager
    def reading(self) -> Iterator[Transaction]:
        """A transaction that reads one state of the graph however long it
        takes (a snapshot, a dump). Any transaction does in the versioned
        mode; IN_MEMORY_ANALYTICAL keeps no versions, so there the store is
        held quiet around it, for at most QUIET_WAIT_SEC of waiting."""
        held = self.quiet(QUIET_WAIT_SEC, f"in {storage_modes.ANALYTICAL} a snapshot or dump waits for every "
                          "running transaction to end. End them, or TERMINATE TRANSACTIONS.")
        with held if self.mode == storage_modes.ANALYTICAL else nullcontext():
            tx = self.begin()
            try:
                yield tx
            finally:
                tx.commit()

    def _left(self, tx: Transaction) -> None:
        """(Under the lock.) `tx` has ended: no longer active, and quiet() may be waiting for that."""
        self._active.pop(tx.seq, None)
        if self._quiet_holder is not None:
            self._ended.notify_all()

    def _disown(self, tx: Transaction) -> None:
        """(Under the lock.) An in-place transaction ended: what it wrote may be written again."""
        self.creators.discard(tx)
        owners = self.owners
        if not owners:
            return
        for item in tx.deltas:
            if type(item) is Delta and owners.get(id(item.obj)) is tx:
                del owners[id(item.obj)]
        if not owners:
            self.owners = {}  # an emptied dict keeps its table, as large as the most it held

    def _wait_for_quiet(self) -> None:
        """(Under the lock.) Wait until no other thread holds the store still."""
        me = threading.get_ident()
        self._ended.wait_for(lambda: self._quiet_holder is None or self._quiet_holder == me or self.retired)
        if self.retired:
            raise TransientError(RETIRED)

    def renew(self, tx: Transaction) -> None:
        """Move the snapshot of `tx`, which has written nothing, to now, as if
        it began now: it reads what was committed since. CALL { } IN
        TRANSACTIONS renews the statement's own transaction after each batch
        commits, so the rest of the statement sees the batches and the
        versions they replaced can be collected."""
        with self.write_lock:
            if tx.closed or tx.deltas:
                raise TransactionError("Only an open transaction that has written nothing can be renewed.")
            self._active.pop(tx.seq, None)
            self._begin_seq += 1
            tx.seq = self._begin_seq
            tx.start_ts = self.visible_ts
            self._active[tx.seq] = tx
            self._collect()

    def _commit(self, tx: Transaction) -> None:
        """Called by Transaction.commit."""
        if not tx.deltas:
            with self.write_lock:
                self._left(tx)
                self._collect()
            return
        log, constraints, lock = self.commit_log, self.constraints, self.write_lock
        # acquire/release, not `with`: a hot path (docs/hot-paths.md).
        lock.acquire()
        try:
            if constraints.active:
                constraints.check(tx.touched_vertices(), tx.newest, tx.view)
            ts = self.last_commit_ts + 1
            if log is None:
                ticket = None
            elif len(tx.deltas) < FREEZE_AFTER:
                ticket = log.append(ts, time.time_ns() // 1000, redo.ops_of(tx.deltas))
            else:  # a large record: its tuples would reach the oldest generation and cost full collections
                with collector.paused():
                    ticket = log.append(ts, time.time_ns() // 1000, redo.ops_of(tx.deltas))
            self.last_commit_ts = ts
            tx.info.commit_ts = ts
            self._left(tx)
            if tx.in_place:  # no reader needs what its Deltas undo
                self._disown(tx)
                for item in tx.deltas:
                    if type(item) is Delta:
                        self._cut(item)
            else:
                self._finished.append(tx)
            if log is None:
                self._publish(ts)
        finally:
            lock.release()
        if log is not None:
            log.wait(ticket)
            lock.acquire()
            try:
                self._publish(ts, True)  # ordered
            finally:
                lock.release()
        if len(tx.deltas) >= FREEZE_AFTER:
            gc.freeze()

    @staticmethod
    def settle(tx: Transaction) -> None:
        """Freeze, as a commit does (FREEZE_AFTER), what a long transaction has
        made so far; the executor calls this every few thousand rows. Without
        it a bulk load in one transaction (one LOAD CSV of a million rows) has
        every full collection rescan everything it made, until the commit.
        Frozen objects of a transaction that rolls back are still freed: the
        rollback breaks their cycles, as deletion does."""
        if len(tx.deltas) - tx.frozen >= FREEZE_AFTER:
            tx.frozen = len(tx.deltas)
            gc.freeze()

    def _publish(self, ts: int, ordered: bool = False) -> None:
        """`ordered`: the commit log made `ts` durable, and with it every earlier
        timestamp (it writes in order), so readers may see up to `ts` at once. The
        committer's next transaction must see its own acknowledged commit even when
        an earlier committer's thread has not yet come back to publish its own."""
        if ordered:
            if ts > self.visible_ts:
                self.visible_ts = ts
                if self._durable:
                    self._durable = {t for t in self._durable if t > ts}
        else:
            self._durable.add(ts)
        while self.visible_ts + 1 in self._durable:
            self.visible_ts += 1
            self._durable.discard(self.visible_ts)
        self._collect()

    def _abort(self, tx: Transaction) -> None:
        with self.write_lock:
            for item in reversed(tx.deltas):
                if type(item) is Delta:
                    restore(item)
                else:  # an object an InPlaceTransaction created
                    item.deleted = True
            tx.info.aborted = True
            tx.abort_seq = self._begin_seq
            self._left(tx)
            if tx.in_place:  # its Deltas were never hung on the objects
                self._disown(tx)
                for item in tx.deltas:
                    if type(item) is Delta:
                        self._undone(item)
                    else:
                        self._drop(item)
            elif tx.deltas:
                self._finished.append(tx)
            self._collect()

    # -- garbage collection -------------------------------------------------------

    def _collect(self) -> None:
        """Unlink Deltas no transaction can need any more (under the lock).

        A committed transaction's Deltas go once every active transaction
        started at or after its commit; an aborted one's once every
        transaction that was running when it aborted has finished."""
        oldest = next(iter(self._active.values()), None)
        while self._finished:
            tx = self._finished[0]
            if tx.info.aborted:
                if oldest is not None and oldest.seq <= tx.abort_seq:
                    return
                self._finished.popleft()
                for delta in tx.deltas:
                    self._unlink(delta)
            else:
                ts = tx.info.commit_ts
                if ts > self.visible_ts or (oldest is not None and oldest.start_ts < ts):
                    return
                self._finished.popleft()
                for delta in tx.deltas:
                    self._cut(delta)

    def _unlink(self, delta: Delta) -> None:
        obj = delta.obj
        if obj.delta is delta:
            obj.delta = delta.next
        else:
            prev = obj.delta
            while prev is not None and prev.next is not delta:
                prev = prev.next
            if prev is None:
                return  # already cut away below a newer, fully visible Delta
            prev.next = delta.next
        self._undone(delta)

    def _undone(self, delta: Delta) -> None:
        """What a rolled back change leaves behind: the object it created, the label it indexed."""
        obj = delta.obj
        if delta.kind == CREATED:
            self._drop(obj)
        elif delta.kind == LABEL_ADDED and type(obj) is Vertex:
            self._forget_label(obj, delta.value)

    def _cut(self, delta: Delta) -> None:
        """Every reader sees `delta`'s transaction: nothing older is needed."""
        delta.next = None
        obj = delta.obj
        if obj.delta is delta:
            obj.delta = None
        kind = delta.kind
        if kind == DELETED:
            self._drop(obj)
        elif kind == PROPERTY and delta.value is not MISSING:
            if type(obj) is Vertex:
                self._forget_value(obj, delta.key, delta.value)
            elif self.indexes.edge_indexes:
                self.indexes.forget_edge(obj, self._edge_versions)
        elif kind == LABEL_REMOVED:
            self._forget_label(obj, delta.value)

    def _still_needed(self, obj: Vertex, kind: int, key: str | None, value: Any) -> bool:
        delta = obj.delta
        while delta is not None:
            if delta.kind == kind and delta.key == key and delta.value == value:
                return True
            delta = delta.next
        return False

    def _forget_value(self, vertex: Vertex, key: str, value: Any) -> None:
        if value is MISSING or vertex.props.get(key, MISSING) == value:
            return
        if not self._still_needed(vertex, PROPERTY, key, value):
            self.indexes.forget(vertex, key=key, value=value, versions=self._versions)

    def _forget_label(self, vertex: Vertex, label: str) -> None:
        if label in vertex.labels or self._still_needed(vertex, LABEL_REMOVED, None, label):
            return
        self.indexes.forget(vertex, label=label)

    def _drop(self, obj: Vertex | Edge) -> None:
        """Remove a deleted (or never committed) object for good."""
        if not obj.deleted:
            return
        if type(obj) is Vertex:
            if self.vertices.get(obj.gid) is obj:
                del self.vertices[obj.gid]
            for label in obj.labels:
                self.indexes.forget(obj, label=label)
            obj.out_edges = obj.in_edges = ()
        else:
            if self.edges.get(obj.gid) is obj:
                del self.edges[obj.gid]
            if self.indexes.edge_indexes:
                self.indexes.forget_edge(obj)
            # Replace, never shrink in place: a reader may be iterating the old list.
            obj.src.out_edges = [e for e in obj.src.out_edges if e is not obj]
            obj.dst.in_edges = [e for e in obj.dst.in_edges if e is not obj]

    # -- schema (under the lock) ------------------------------------------------------

    def _versions(self, vertex: Vertex) -> Iterator[tuple[set[str], dict[str, Any]]]:
        """Every version of a vertex still reachable through its Deltas."""
        labels, props, deleted = set(vertex.labels), dict(vertex.props), vertex.deleted
        delta = vertex.delta
        yield labels, props
        while delta is not None:
            deleted = undo(delta, labels, props, deleted)
            yield labels, props
            delta = delta.next

    def _edge_versions(self, edge: Edge) -> Iterator[tuple[str, dict[str, Any]]]:
        """(type, props) of every version of an edge still reachable through its Deltas."""
        props, deleted = dict(edge.props), edge.deleted
        delta = edge.delta
        yield edge.type, props
        while delta is not None:
            deleted = undo(delta, None, props, deleted)
            yield edge.type, props
            delta = delta.next

    def _newest(self, vertex: Vertex) -> tuple[set[str], dict[str, Any], bool]:
        return version(vertex, None, NEWEST)

    def apply_schema(self, ops: list[tuple], log: bool = True) -> list[tuple]:
        """Apply schema operations (`schema.py`: create or drop a named index
        or constraint) together, all or none, under the lock; returns those
        that changed something. Each is resolved against the catalog first: a
        CREATE of a definition that exists, or a DROP of a name that is gone,
        does nothing. When `log`, the changes get one commit timestamp and
        one WAL record; the record is waited for under the lock too (schema
        changes are rare), so they are published only once durable, and
        undone if the WAL refuses them: a failed change leaves nothing."""
        with self.write_lock:
            applied: list[tuple] = []
            undos: list = []
            try:
                for op in ops:
                    undo_op = self._apply_schema_op(op)
                    if undo_op is not None:
                        applied.append(op)
                        undos.append(undo_op)
                if applied and log:
                    ts = self.last_commit_ts + 1
                    if self.commit_log is not None:
                        self.commit_log.wait(self.commit_log.append(ts, time.time_ns() // 1000, applied))
                    self.last_commit_ts = ts
                    self._publish(ts, ordered=True)
            except BaseException:
                for undo_op in reversed(undos):
                    undo_op()
                raise
            return applied

    def _apply_schema_op(self, op: tuple):
        """Apply one schema op; returns what undoes it, or None when it changes nothing."""
        outcome, definition = self.catalog.resolve(op)
        if outcome != schema.APPLY:
            return None
        creating = op[0] in (schema.CREATE_INDEX, schema.CREATE_CONSTRAINT)
        add, remove = (self._add_definition, self._remove_definition)
        if creating:
            add(definition)
            return lambda: remove(definition)
        remove(definition)
        return lambda: add(definition)

    def _add_definition(self, definition) -> None:
        if isinstance(definition, schema.IndexDef):
            if definition.kind == schema.LOOKUP:
                self.indexes.declared_labels.add(definition.token)
            else:
                self._use_index(definition.shape)
        elif definition.owns_index:
            shape = (schema.NODE, definition.label, definition.keys)
            self._use_index(shape)
            try:
                self.constraints.create(definition.kind, definition.label, definition.keys,
                                        self.indexes.label_candidates(definition.label), self._newest)
            except BaseException:
                self._unuse_index(shape)
                raise
        else:
            self.constraints.create(definition.kind, definition.label, definition.keys,
                                    self.indexes.label_candidates(definition.label), self._newest)
        self.catalog.add(definition)

    def _remove_definition(self, definition) -> None:
        self.catalog.remove(definition)
        if isinstance(definition, schema.IndexDef):
            if definition.kind == schema.LOOKUP:
                self.indexes.declared_labels.discard(definition.token)
            else:
                self._unuse_index(definition.shape)
        else:
            self.constraints.drop(definition.kind, definition.label, definition.keys)
            if definition.owns_index:
                self._unuse_index((schema.NODE, definition.label, definition.keys))

    def _use_index(self, shape: tuple[str, str, tuple[str, ...]]) -> None:
        """Count one more user of a property index, building it for the first."""
        users = self._index_users.get(shape, 0)
        if not users:
            if shape[0] == schema.RELATIONSHIP:
                self.indexes.create(shape, list(self.edges.values()), self._edge_versions)
            else:
                self.indexes.create(shape, list(self.vertices.values()), self._versions)
        self._index_users[shape] = users + 1

    def _unuse_index(self, shape: tuple[str, str, tuple[str, ...]]) -> None:
        users = self._index_users[shape] - 1
        if users:
            self._index_users[shape] = users
            return
        del self._index_users[shape]
        self.indexes.drop(shape)

    # The schema in Memgraph's terms, by what it is over (tests, old WAL records):

    def create_index(self, label: str, key: str | None, log: bool = True) -> bool:
        """A label index (`key` None) or a RANGE index of `label` and `key`; False when it exists already."""
        kind, keys = (schema.LOOKUP, ()) if key is None else (schema.RANGE, (key,))
        with self.write_lock:
            return bool(self.apply_schema([self.catalog.define_index(kind, schema.NODE, label, keys).op()], log))

    def drop_index(self, label: str, key: str | None, log: bool = True) -> bool:
        """False when there is no such index."""
        kind, keys = (schema.LOOKUP, ()) if key is None else (schema.RANGE, (key,))
        with self.write_lock:
            found = self.catalog.index_on(kind, schema.NODE, label, keys)
            return found is not None and bool(self.apply_schema([(schema.DROP_INDEX, found.name)], log))

    def has_constraint(self, kind: str, label: str, keys: tuple[str, ...]) -> bool:
        if kind == schema.EXISTS:
            return all(self.catalog.constraint_on(kind, label, (key,)) for key in keys)
        return self.catalog.constraint_on(kind, label, tuple(keys)) is not None

    def create_constraint(self, kind: str, label: str, keys: tuple[str, ...], log: bool = True) -> None:
        """Existence constraints (one per key), or one unique or node key constraint."""
        with self.write_lock:
            each = [(key,) for key in keys] if kind == schema.EXISTS else [tuple(keys)]
            self.apply_schema([self.catalog.define_constraint(kind, label, keys_).op() for keys_ in each], log)

    def drop_constraint(self, kind: str, label: str, keys: tuple[str, ...], log: bool = True) -> None:
        with self.write_lock:
            each = [(key,) for key in keys] if kind == schema.EXISTS else [tuple(keys)]
            found = [self.catalog.constraint_on(kind, label, keys_) for keys_ in each]
            self.apply_schema([(schema.DROP_CONSTRAINT, d.name) for d in found if d is not None], log)

    # -- recovery (single-threaded, before the database serves) --------------------

    def load_vertices(self, ops: list, label_names: Any = None) -> None:
        """Insert recovered vertices: no Delta, visible to all. `ops` are
        create-vertex redo ops `(code, gid, labels, props)` as decoded: a WAL
        record's, or a snapshot batch, whose ops name each label by its index
        in `label_names` (the snapshot's name table; None: the labels are the
        names themselves), used as they are: they are not copied into rows.

        One call per snapshot batch or WAL record, and a hot path
        (docs/hot-paths.md): recovery spends most of its time here, so the
        per-vertex work is the object and its gid entry, and the label index
        is filled once per label set and batch. Vertices with the same labels
        share one labels tuple; a row with the labels of the row before (most
        rows of a batch) finds it without hashing them."""
        names = self.names if label_names is None else label_names
        vertices, keys = self.vertices, self.property_keys
        by_labels: dict[tuple, tuple[tuple[str, ...], list[Vertex]]] = {}
        last: Any = by_labels  # no row's labels equal it
        for _, gid, labels, props in ops:
            if labels != last:
                last = labels
                entry = by_labels.get(key := tuple(labels))
                if entry is None:
                    entry = by_labels[key] = (tuple([names[label] for label in labels]), [])
                shared, group = entry
            vertex = vertices[gid] = Vertex(gid, shared, props)
            group.append(vertex)
            if props:
                keys.update(props)
        for labels, group in by_labels.values():
            for label in labels:
                self.indexes.add_label_to_many(group, label)
        if ops:
            self.next_vertex_id = max(self.next_vertex_id, max(map(_GID, ops)) + 1)

    def load_edges(self, ops: list, type_names: Any = None) -> None:
        """Insert recovered edges from create-edge redo ops `(code, gid, type,
        src gid, dst gid, props)` (the ends must be loaded), the type an index
        in `type_names` as for `load_vertices`' labels: its batch form."""
        types = self.names if type_names is None else type_names
        vertices, edges, keys = self.vertices, self.edges, self.property_keys
        last = name = None
        for _, gid, type_, src, dst, props in ops:
            if type_ != last:  # most edges of a batch have the type of the one before
                last, name = type_, types[type_]
            edges[gid] = Edge(gid, name, vertices[src], vertices[dst], props)
            if props:
                keys.update(props)
        if ops:
            new_types = [types[t] for t in set(map(_EDGE_TYPE, ops))]
            self.edge_types.update(new_types)
            self.next_edge_id = max(self.next_edge_id, max(map(_GID, ops)) + 1)
            if self.indexes.edge_indexes and any(t in self.indexes.edge_indexes for t in new_types):
                self.indexes.add_edges([edges[op[1]] for op in ops])

    def unload(self, obj: Vertex | Edge) -> None:
        """Remove a recovered object that a later WAL record deleted."""
        obj.deleted = True
        if type(obj) is Vertex:
            for edge in (*obj.out_edges, *obj.in_edges):
                edge.deleted = True
                self._drop(edge)
        self._drop(obj)

    def recovered_to(self, commit_ts: int) -> None:
        """Everything up to `commit_ts` is loaded: new transactions start there."""
        self.last_commit_ts = self.visible_ts = commit_ts

    # -- figures ---------------------------------------------------------------------

    def unreleased_deltas(self) -> int:
        """Deltas of finished transactions not yet collected (SHOW STORAGE INFO's
        unreleased_delta_objects): held while an older transaction may need them."""
        with self.write_lock:
            return sum(len(tx.deltas) for tx in self._finished)

    def counts(self) -> tuple[int, int]:
        """Vertices and edges visible to a new transaction."""
        tx = self.begin()
        try:
            return sum(1 for _ in tx.scan_vertices()), sum(1 for _ in tx.scan_edges())
        finally:
            tx.commit()

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
from operator import itemgetter
from typing import Any, Iterator, Protocol

from weftdb.basics.errors import TransactionError
from weftdb.graph import redo
from weftdb.graph.constraints import Constraints
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
from weftdb.graph.transaction import Transaction

NEWEST = float("inf")

_GID, _EDGE_TYPE = itemgetter(1), itemgetter(2)  # of a create op

FREEZE_AFTER = 5_000
"""A commit that changed this many objects moves every live object to the
cyclic garbage collector's permanent generation (`gc.freeze`). The graph's
objects live until they are deleted, and deletion breaks their cycles, so
rescanning them in every full collection is pure cost: without this, a bulk
load spends more time in the collector than in the database."""


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
        self.constraints = Constraints()
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

    # -- transactions -----------------------------------------------------------

    def begin(self) -> Transaction:
        with self.write_lock:
            self._begin_seq += 1
            tx = Transaction(self, self.visible_ts, self._begin_seq)
            self._active[tx.seq] = tx
            return tx

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
                self._active.pop(tx.seq, None)
                self._collect()
            return
        log, constraints, lock = self.commit_log, self.constraints, self.write_lock
        # acquire/release, not `with`: a hot path (docs/hot-paths.md).
        lock.acquire()
        try:
            if constraints.active:
                constraints.check(tx.touched_vertices(), tx.newest, tx.view)
            ts = self.last_commit_ts + 1
            ticket = log.append(ts, time.time_ns() // 1000, redo.ops_of(tx.deltas)) if log is not None else None
            self.last_commit_ts = ts
            tx.info.commit_ts = ts
            self._active.pop(tx.seq, None)
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
            for delta in reversed(tx.deltas):
                restore(delta)
            tx.info.aborted = True
            tx.abort_seq = self._begin_seq
            self._active.pop(tx.seq, None)
            if tx.deltas:
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
        elif kind == PROPERTY and type(obj) is Vertex and delta.value is not MISSING:
            self._forget_value(obj, delta.key, delta.value)
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
            self.indexes.forget(vertex, key=key, value=value)

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
            # Replace, never shrink in place: a reader may be iterating the old list.
            obj.src.out_edges = [e for e in obj.src.out_edges if e is not obj]
            obj.dst.in_edges = [e for e in obj.dst.in_edges if e is not obj]

    # -- schema (autocommit, under the lock) --------------------------------------

    def _versions(self, vertex: Vertex) -> Iterator[tuple[set[str], dict[str, Any]]]:
        """Every version of a vertex still reachable through its Deltas."""
        labels, props, deleted = set(vertex.labels), dict(vertex.props), vertex.deleted
        delta = vertex.delta
        yield labels, props
        while delta is not None:
            deleted = undo(delta, labels, props, deleted)
            yield labels, props
            delta = delta.next

    def _newest(self, vertex: Vertex) -> tuple[set[str], dict[str, Any], bool]:
        return version(vertex, None, NEWEST)

    def _schema_change(self, change, undo, op: tuple, log: bool) -> Any:
        """Apply a schema change and, when it changed something and `log`,
        give it its own commit timestamp and WAL record, all under the lock.
        It waits for the record under the lock too (schema changes are rare):
        the change is published only once durable, and undone if the WAL
        refuses it, so a failed statement leaves nothing in effect."""
        with self.write_lock:
            result = change()
            if result is False or not log:
                return result
            ts = self.last_commit_ts + 1
            if self.commit_log is not None:
                try:
                    self.commit_log.wait(self.commit_log.append(ts, time.time_ns() // 1000, [op]))
                except BaseException:
                    undo()
                    raise
            self.last_commit_ts = ts
            self._publish(ts, ordered=True)
            return result

    def _add_index(self, label: str, key: str | None) -> bool:
        if key is None:
            if label in self.indexes.declared_labels:
                return False
            self.indexes.declared_labels.add(label)
            return True
        if self.indexes.has_property_index(label, key):
            return False
        self.indexes.create_property_index(label, key, list(self.vertices.values()), self._versions)
        return True

    def _remove_index(self, label: str, key: str | None) -> bool:
        if key is None:
            if label not in self.indexes.declared_labels:
                return False
            self.indexes.declared_labels.discard(label)
            return True
        if not self.indexes.has_property_index(label, key):
            return False
        self.indexes.drop_property_index(label, key)
        return True

    def create_index(self, label: str, key: str | None, log: bool = True) -> bool:
        """False when the index exists already."""
        return self._schema_change(
            lambda: self._add_index(label, key), lambda: self._remove_index(label, key), (redo.CREATE_INDEX, label, key), log
        )

    def drop_index(self, label: str, key: str | None, log: bool = True) -> bool:
        """False when there is no such index."""
        return self._schema_change(
            lambda: self._remove_index(label, key), lambda: self._add_index(label, key), (redo.DROP_INDEX, label, key), log
        )

    def has_constraint(self, kind: str, label: str, keys: tuple[str, ...]) -> bool:
        if kind == "exists":
            return all((label, key) in self.constraints.existence for key in keys)
        return (label, keys) in self.constraints.unique

    def _add_constraint(self, kind: str, label: str, keys: tuple[str, ...]) -> None:
        vertices = self.indexes.label_candidates(label)
        if kind == "exists":
            for key in keys:
                self.constraints.create_existence(label, key, vertices, self._newest)
        else:
            self.constraints.create_unique(label, keys, vertices, self._newest)

    def _remove_constraint(self, kind: str, label: str, keys: tuple[str, ...]) -> None:
        if kind == "exists":
            for key in keys:
                self.constraints.drop_existence(label, key)
        else:
            self.constraints.drop_unique(label, keys)

    def create_constraint(self, kind: str, label: str, keys: tuple[str, ...], log: bool = True) -> None:
        self._schema_change(
            lambda: self._add_constraint(kind, label, keys),
            lambda: self._remove_constraint(kind, label, keys),
            (redo.CREATE_CONSTRAINT, kind, label, list(keys)),
            log,
        )

    def drop_constraint(self, kind: str, label: str, keys: tuple[str, ...], log: bool = True) -> None:
        self._schema_change(
            lambda: self._remove_constraint(kind, label, keys),
            lambda: self._add_constraint(kind, label, keys),
            (redo.DROP_CONSTRAINT, kind, label, list(keys)),
            log,
        )

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
            if labels and self.constraints.unique:
                for vertex in group:
                    self.constraints.note(vertex)
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
            self.edge_types.update([types[t] for t in set(map(_EDGE_TYPE, ops))])
            self.next_edge_id = max(self.next_edge_id, max(map(_GID, ops)) + 1)

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

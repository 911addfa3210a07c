"""A transaction's view of the graph and its writes (snapshot isolation).

Reads see the state committed at the transaction's start plus its own
writes. Writes check for a conflicting writer first (first writer wins):
an object whose newest Delta belongs to another open transaction, or to one
that committed after this one started, fails this transaction with
SerializationError.
"""

from __future__ import annotations

from bisect import bisect_right
from operator import itemgetter
from typing import TYPE_CHECKING, Any, Callable, Iterator

from weftdb.basics.errors import ConstraintVerificationFailed, EntityNotFound, SerializationError, TransactionError
from weftdb.graph.objects import (
    CREATED,
    DELETED,
    LABEL_ADDED,
    LABEL_REMOVED,
    MISSING,
    PROPERTY,
    CommitInfo,
    Delta,
    Edge,
    Vertex,
    version,
    without,
)

if TYPE_CHECKING:
    from weftdb.graph.interface import GraphTransaction
    from weftdb.graph.storage import Storage

NEWEST = float("inf")


class Transaction:
    __slots__ = ("storage", "info", "start_ts", "seq", "deltas", "abort_seq", "closed", "frozen")
    in_place = False  # InPlaceTransaction below: IN_MEMORY_ANALYTICAL

    def __init__(self, storage: "Storage", start_ts: int, seq: int):
        self.storage = storage
        self.info = CommitInfo()
        self.start_ts = start_ts
        self.seq = seq
        self.deltas: list[Any] = []  # Deltas, newest last (InPlaceTransaction: and the objects it created)
        self.abort_seq = 0
        self.closed = False
        self.frozen = 0  # len(deltas) when Storage.settle last froze this transaction's objects

    def image_version(self) -> int | None:
        """The version of the graph this transaction reads, for the columnar
        image (graph/image.py): its start, unless it wrote (it sees its own
        writes, which no image holds)."""
        return None if self.deltas else self.start_ts

    # -- end -----------------------------------------------------------------------

    def commit(self) -> None:
        """On a constraint violation or a failed WAL append the transaction is
        rolled back. Once it has its commit timestamp it is committed in
        memory; if the WAL then fails it is never published (never seen)."""
        self._close()
        try:
            self.storage._commit(self)
        except BaseException:
            if self.info.commit_ts is None:
                self.storage._abort(self)
            raise

    def abort(self) -> None:
        self._close()
        self.storage._abort(self)

    def _close(self) -> None:
        if self.closed:
            raise TransactionError("The transaction is already closed.")
        self.closed = True

    # -- visibility ------------------------------------------------------------------

    def _sees_head(self, delta: Delta) -> bool:
        info = delta.info
        if info is self.info:
            return True
        ts = info.commit_ts
        return ts is not None and ts <= self.start_ts

    def exists(self, obj: Vertex | Edge) -> bool:
        deleted = obj.deleted  # state before chain: see objects.py
        delta = obj.delta
        if delta is None or self._sees_head(delta):
            return not deleted
        return not version(obj, self.info, self.start_ts)[2]

    def view(self, obj: Vertex | Edge) -> tuple[Any, dict[str, Any], bool]:
        """(labels or None for edges, properties, deleted) as this transaction sees them; copies."""
        return version(obj, self.info, self.start_ts)

    def get(self, obj: Vertex | Edge, key: str) -> Any:
        """One property, or None."""
        value = obj.props.get(key)
        delta = obj.delta
        if delta is None or self._sees_head(delta):
            return value
        return version(obj, self.info, self.start_ts)[1].get(key)

    def properties(self, obj: Vertex | Edge) -> dict[str, Any]:
        props = dict(obj.props)
        delta = obj.delta
        if delta is None or self._sees_head(delta):
            return props
        return version(obj, self.info, self.start_ts)[1]

    def labels(self, vertex: Vertex) -> set[str]:
        labels = vertex.labels
        delta = vertex.delta
        if delta is None or self._sees_head(delta):
            return set(labels)
        return version(vertex, self.info, self.start_ts)[0]

    def has_label(self, vertex: Vertex, label: str) -> bool:
        present = label in vertex.labels
        delta = vertex.delta
        if delta is None or self._sees_head(delta):
            return present
        return label in version(vertex, self.info, self.start_ts)[0]

    def newest(self, vertex: Vertex) -> tuple[set[str], dict[str, Any], bool]:
        """The newest committed version plus this transaction's writes (constraint checks)."""
        return version(vertex, self.info, NEWEST)

    # -- scans --------------------------------------------------------------------------

    def scan_vertices(self) -> Iterator[Vertex]:
        exists = self.exists
        for vertex in list(self.storage.vertices.values()):
            if exists(vertex):
                yield vertex

    def scan_edges(self) -> Iterator[Edge]:
        for edge in list(self.storage.edges.values()):
            if self.exists(edge):
                yield edge

    def vertices_with_label(self, label: str) -> Iterator[Vertex]:
        has_label = self.has_label
        exists = self.exists
        for vertex in self.storage.indexes.label_candidates(label):
            if exists(vertex) and has_label(vertex, label):
                yield vertex

    def vertices_with_property(self, label: str, key: str, value: Any, equal: Callable[[Any, Any], Any]) -> list[Vertex] | None:
        """The visible vertices with `label` whose `key` is `equal` to `value`
        among those the index files under it, or None when no index can
        answer. `equal(held, value)` is the caller's equality, True when
        equal (Cypher's: the index groups 1 with 1.0, and True with 1); a held
        scalar of the type of `value` and == to it needs no call. The indexed
        point lookup: a hot path (docs/hot-paths.md)."""
        members = self.storage.indexes.lookup(label, key, value)
        if type(members) is Vertex:
            members = (members,)
        elif type(members) is set:
            members = tuple(members)  # one C call: a writer may add to the set meanwhile
        elif members is None:
            return None
        kind = type(value)
        exact = kind is not list and kind is not dict  # == of containers equates true with 1 inside them
        found = []
        for vertex in members:
            deleted, labels, held = vertex.deleted, vertex.labels, vertex.props.get(key)  # state first
            delta = vertex.delta
            if delta is not None and not self._sees_head(delta):
                labels, props, deleted = version(vertex, self.info, self.start_ts)
                held = props.get(key)
            if not deleted and label in labels and (
                (exact and held == value and type(held) is kind) or equal(held, value) is True
            ):
                found.append(vertex)
        return found

    def vertices_with_properties(self, label: str, keys: tuple[str, ...], values: tuple,
                                 equal: Callable[[Any, Any], Any]) -> list[Vertex] | None:
        """The visible vertices with `label` whose `keys` are `equal` to
        `values`, through the index of `label` over those keys; None when no
        index can answer."""
        members = self.storage.indexes.composite_lookup(label, keys, values)
        if members is None:
            return None
        members = (members,) if type(members) is Vertex else tuple(members)
        found = []
        for vertex in members:
            labels, props, deleted = self.view(vertex)
            if not deleted and label in labels and _all_equal(props, keys, values, equal):
                found.append(vertex)
        return found

    def edges_with_properties(self, type_: str, keys: tuple[str, ...], values: tuple,
                              equal: Callable[[Any, Any], Any]) -> list[Edge] | None:
        """The visible relationships of type `type_` whose `keys` are `equal`
        to `values`, through a relationship property index; None when no
        index can answer."""
        members = self.storage.indexes.edge_lookup(type_, keys, values)
        if members is None:
            return None
        members = (members,) if type(members) is Edge else tuple(members)
        found = []
        for edge in members:
            _, props, deleted = self.view(edge)
            if not deleted and _all_equal(props, keys, values, equal):
                found.append(edge)
        return found

    def out_edges(self, vertex: Vertex) -> list[Edge]:
        return [e for e in vertex.out_edges if self.exists(e)]

    def in_edges(self, vertex: Vertex) -> list[Edge]:
        return [e for e in vertex.in_edges if self.exists(e)]

    def vertex_by_id(self, gid: int) -> Vertex | None:
        vertex = self.storage.vertices.get(gid)
        return vertex if vertex is not None and self.exists(vertex) else None

    def edge_by_id(self, gid: int) -> Edge | None:
        edge = self.storage.edges.get(gid)
        return edge if edge is not None and self.exists(edge) else None

    # -- writes (each under the storage lock) ---------------------------------------------

    def _push(self, obj: Vertex | Edge, kind: int, key: str | None, value: Any) -> None:
        delta = Delta(kind, key, value, self.info, obj)
        delta.next = obj.delta
        obj.delta = delta
        self.deltas.append(delta)

    def _created(self, obj: Vertex | Edge) -> None:
        """Record the creation of `obj`: a Delta that hides it from older
        snapshots until the commit and undoes it on a rollback."""
        obj.delta = delta = Delta(CREATED, None, None, self.info, obj)
        self.deltas.append(delta)

    def deleted_here(self, obj: Vertex | Edge) -> bool:
        """Whether this transaction deleted `obj` already (a second delete does nothing)."""
        return obj.deleted and obj.delta is not None and obj.delta.info is self.info

    def _conflicts(self, obj: Vertex | Edge) -> bool:
        """Whether another transaction is writing `obj`, or wrote it after we started."""
        delta = obj.delta
        while delta is not None:
            info = delta.info
            if info is self.info:
                return False
            if info.aborted:
                delta = delta.next
                continue
            ts = info.commit_ts
            return ts is None or ts > self.start_ts
        return False

    def _prepare(self, obj: Vertex | Edge) -> None:
        """Refuse to write an object another transaction is writing or wrote
        after we started (first writer wins), or one that is deleted."""
        if self.closed:
            raise TransactionError("The transaction is already closed.")
        if self._conflicts(obj):
            raise _conflict(obj)
        if obj.deleted:
            kind = "node" if type(obj) is Vertex else "relationship"
            raise EntityNotFound(f"The {kind} {obj.gid} has been deleted in this transaction.")

    def create_vertex(self, labels: tuple[str, ...], props: dict[str, Any]) -> Vertex:
        """`labels` must be distinct and `props` hold no None values (the
        planner and executor guarantee both; they are not checked again here).
        With `create_edge`, the primitive of bulk loads: a hot path
        (docs/hot-paths.md)."""
        storage = self.storage
        lock = storage.write_lock
        lock.acquire()
        try:
            if self.closed:
                raise TransactionError("The transaction is already closed.")
            gid = storage.next_vertex_id
            storage.next_vertex_id = gid + 1
            vertex = Vertex(gid, labels, props)
            self._created(vertex)
            storage.vertices[gid] = vertex
            if props:
                storage.property_keys.update(props)
            indexes = storage.indexes
            for label in vertex.labels:
                indexes.add_label(vertex, label)
        finally:
            lock.release()
        return vertex

    def create_edge(self, src: Vertex, dst: Vertex, type_: str, props: dict[str, Any]) -> Edge:
        """The endpoints are checked, not written: a concurrent delete of an
        endpoint conflicts here or, if it comes later, in `delete_vertex`."""
        storage = self.storage
        lock = storage.write_lock
        lock.acquire()
        try:
            # An endpoint with no pending version and not deleted needs no
            # check: the common case of a bulk load, so spare the call.
            if src.delta is not None or src.deleted:
                self._prepare(src)
            if dst is not src and (dst.delta is not None or dst.deleted):
                self._prepare(dst)
            if self.closed:
                raise TransactionError("The transaction is already closed.")
            gid = storage.next_edge_id
            storage.next_edge_id = gid + 1
            edge = Edge(gid, type_, src, dst, props)
            self._created(edge)
            storage.edges[gid] = edge
            storage.edge_types.add(type_)
            if props:
                storage.property_keys.update(props)
                if storage.indexes.edge_indexes:
                    storage.indexes.add_edge(edge)
        finally:
            lock.release()
        return edge

    def set_property(self, obj: Vertex | Edge, key: str, value: Any) -> bool:
        """Set (or with None remove) one property; False when nothing changed."""
        storage = self.storage
        with storage.write_lock:
            self._prepare(obj)
            old = obj.props.get(key, MISSING)
            if value is None:
                if old is MISSING:
                    return False
                self._push(obj, PROPERTY, key, old)
                del obj.props[key]
                return True
            self._push(obj, PROPERTY, key, old)
            obj.props[key] = value
            storage.property_keys.add(key)
            if type(obj) is Vertex:
                storage.indexes.add_property(obj, key, value)
            elif storage.indexes.edge_indexes:
                storage.indexes.add_edge(obj)
            return True

    def add_label(self, vertex: Vertex, label: str) -> bool:
        storage = self.storage
        with storage.write_lock:
            self._prepare(vertex)
            if label in vertex.labels:
                return False
            self._push(vertex, LABEL_ADDED, None, label)
            vertex.labels = vertex.labels + (label,)
            storage.indexes.add_label(vertex, label)
            return True

    def remove_label(self, vertex: Vertex, label: str) -> bool:
        with self.storage.write_lock:
            self._prepare(vertex)
            if label not in vertex.labels:
                return False
            self._push(vertex, LABEL_REMOVED, None, label)
            vertex.labels = without(vertex.labels, label)
            return True

    def delete_edge(self, edge: Edge) -> bool:
        """False when this transaction already deleted it."""
        with self.storage.write_lock:
            if self.deleted_here(edge):
                return False
            self._prepare(edge)
            self._push(edge, DELETED, None, None)
            edge.deleted = True
            return True

    def delete_vertex(self, vertex: Vertex, detach: bool) -> tuple[bool, int]:
        """Returns (deleted now, edges deleted). Without `detach` a vertex
        that still has relationships is refused."""
        with self.storage.write_lock:
            if self.deleted_here(vertex):
                return False, 0
            self._prepare(vertex)
            for edge in (*vertex.out_edges, *vertex.in_edges):
                if self._conflicts(edge):
                    raise _conflict(vertex)
            edges = relationships_to_delete(self, vertex, detach)
            for edge in edges:
                self.delete_edge(edge)
            self._push(vertex, DELETED, None, None)
            vertex.deleted = True
            return True, len(edges)

    def touched_vertices(self) -> list[Vertex]:
        seen: dict[int, Vertex] = {}
        for item in self.deltas:
            obj = item.obj if type(item) is Delta else item  # InPlaceTransaction: an object it created
            if type(obj) is Vertex:
                seen[id(obj)] = obj
        return list(seen.values())


def _all_equal(props: dict[str, Any], keys: tuple[str, ...], values: tuple, equal: Callable[[Any, Any], Any]) -> bool:
    for key, value in zip(keys, values):
        if equal(props.get(key), value) is not True:
            return False
    return True


def relationships_to_delete(tx: GraphTransaction, vertex: Vertex, detach: bool) -> list[Edge]:
    """What deleting `vertex` deletes with it, each once (a loop is in both
    lists); without `detach`, a node with any is refused. Every store's rule."""
    edges = tx.out_edges(vertex) + [e for e in tx.in_edges(vertex) if e.src is not vertex]
    if edges and not detach:
        raise ConstraintVerificationFailed(
            f"Cannot delete node {vertex.gid} because it still has {len(edges)} relationship(s). "
            "Delete them first, or use DETACH DELETE."
        )
    return edges


def _conflict(obj: Vertex | Edge) -> SerializationError:
    kind = "node" if type(obj) is Vertex else "relationship"
    return SerializationError(
        f"Cannot change {kind} {obj.gid}: another transaction changed it concurrently. "
        "This transaction was rolled back; retry it."
    )


class InPlaceTransaction(Transaction):
    """A transaction of IN_MEMORY_ANALYTICAL: its writes apply in place and
    keep no version for anyone to read, so every transaction reads the
    newest state, other transactions' uncommitted writes included. Its undo
    log, `deltas`, holds a Delta for each change to an object that existed
    before and, for an object it created, the object itself: a bulk load
    makes no record per node or relationship but that one list entry. Writes
    do not mix: what one open transaction created, changed or deleted another
    may read but not write (a retryable SerializationError), or a rollback
    would restore, or drop, what the other built on. What it changed or
    deleted is in `Storage.owners`; what it created, by identifier, in its
    `runs`. The commit has nothing to publish and writes no WAL
    (Storage._commit)."""

    __slots__ = ("removed", "runs")
    in_place = True

    def __init__(self, storage: "Storage", start_ts: int, seq: int):
        super().__init__(storage, start_ts, seq)
        self.removed: set[int] = set()  # id() of what this transaction deleted
        # The identifiers of what it created, as [first, end) runs, one list
        # for nodes and one for relationships: identifiers are handed out in
        # order, so a load alone makes one run of each.
        self.runs: tuple[list[list[int]], list[list[int]]] = ([], [])

    def _push(self, obj: Vertex | Edge, kind: int, key: str | None, value: Any) -> None:
        if kind == DELETED:
            self.removed.add(id(obj))
        self.storage.owners[id(obj)] = self
        self.deltas.append(Delta(kind, key, value, self.info, obj))

    def _created(self, obj: Vertex | Edge) -> None:
        self.deltas.append(obj)
        runs = self.runs[type(obj) is Edge]
        gid = obj.gid
        if runs and runs[-1][1] == gid:
            runs[-1][1] = gid + 1
        else:
            runs.append([gid, gid + 1])
            self.storage.creators.add(self)

    def created(self, obj: Vertex | Edge) -> bool:
        """Whether this transaction created `obj`."""
        runs = self.runs[type(obj) is Edge]
        at = bisect_right(runs, obj.gid, key=itemgetter(0)) - 1
        return at >= 0 and obj.gid < runs[at][1]

    def image_version(self) -> int | None:
        """Every transaction reads the newest state, which is the last commit's
        while no open transaction has written in place."""
        storage = self.storage
        return None if self.deltas or storage.owners or storage.creators else storage.last_commit_ts

    def _conflicts(self, obj: Vertex | Edge) -> bool:
        """Whether another open transaction wrote `obj`. A committed deletion
        drops the object at once, so a deleted one not deleted here is
        another's (or a stale reference to a dropped one)."""
        storage = self.storage
        owner = storage.owners.get(id(obj))
        if owner is not None:
            return owner is not self
        if obj.deleted:
            return id(obj) not in self.removed
        if self._others_created():
            return any(tx is not self and tx.created(obj) for tx in storage.creators)
        return False

    def _others_created(self) -> bool:
        """Whether another open transaction has created something."""
        creators = self.storage.creators
        return len(creators) > 1 or (bool(creators) and self not in creators)

    def _prepare(self, obj: Vertex | Edge) -> None:
        if self._conflicts(obj) and not self.closed:
            kind = "node" if type(obj) is Vertex else "relationship"
            raise SerializationError(
                f"Cannot change {kind} {obj.gid}: another transaction created, changed or deleted it and has not "
                "ended (in IN_MEMORY_ANALYTICAL it may be read meanwhile, not written). This transaction was rolled "
                "back; retry it."
            )
        super()._prepare(obj)

    def create_edge(self, src: Vertex, dst: Vertex, type_: str, props: dict[str, Any]) -> Edge:
        """Another's rollback could drop an end it created, or bring back one
        it deleted: such an end conflicts. With no other open transaction
        holding anything (a load alone, the hot path), there is nothing to
        check beyond what Transaction.create_edge checks under the lock (an
        end deleted meanwhile); an end another transaction writes later is
        its conflict, with this new relationship (`_conflicts`)."""
        storage = self.storage
        if storage.owners or self._others_created():
            with storage.write_lock:
                if self._conflicts(src):
                    self._prepare(src)  # says so
                if dst is not src and self._conflicts(dst):
                    self._prepare(dst)
                return super().create_edge(src, dst, type_, props)
        return super().create_edge(src, dst, type_, props)

    def deleted_here(self, obj: Vertex | Edge) -> bool:
        return obj.deleted and id(obj) in self.removed

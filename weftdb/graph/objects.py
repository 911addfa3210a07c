"""Vertices, edges and the Deltas that version them.

An object holds its newest state in place (labels, properties, `deleted`) and
a chain of Deltas, newest first, each an undo record of one change. A reader
whose snapshot predates a change walks the chain and applies the undos to a
copy of the state; a reader with nothing newer to undo reads the object
directly. This is the design of the reference documents (Memgraph): one
structure serves rollback, isolation, the WAL and incremental backup.

Ordering rule that makes lock-free reads safe under the GIL: a writer pushes
its Delta *before* it mutates the state; a reader copies the state *before*
it reads the chain head. Either the reader sees the old state, or it sees the
new state together with the Delta that undoes it.
"""

from __future__ import annotations

from typing import Any

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__slots__": ()})()
"""The undo value of a property that did not exist before."""

# Delta kinds, named for the change they record. `value` is what the undo needs.
CREATED = 0  # object created; undo: it does not exist
DELETED = 1  # object deleted; undo: it exists again
PROPERTY = 2  # property `key` changed; value = old value or MISSING
LABEL_ADDED = 3  # value = label; undo removes it
LABEL_REMOVED = 4  # value = label; undo adds it back


class CommitInfo:
    """Shared by every Delta of one transaction. `commit_ts` stays None until
    the transaction commits; a reader sees the Delta's change only when
    `commit_ts` is at or before its start timestamp."""

    __slots__ = ("commit_ts", "aborted")

    def __init__(self) -> None:
        self.commit_ts: int | None = None
        self.aborted = False


class Delta:
    __slots__ = ("kind", "key", "value", "info", "next", "obj")

    def __init__(self, kind: int, key: str | None, value: Any, info: CommitInfo, obj: "Vertex | Edge"):
        self.kind = kind
        self.key = key
        self.value = value
        self.info = info
        self.obj = obj
        self.next: Delta | None = None


class Vertex:
    """A node.

    `labels` is a tuple, replaced (never changed in place) on every label
    change, so a reader holding it holds one consistent version.
    `out_edges`/`in_edges` hold every edge ever attached until the garbage
    collector drops deleted ones; readers filter by visibility. They start as
    an empty tuple and become lists at the first edge: most of a big graph's
    vertices then cost the cyclic garbage collector two objects fewer."""

    __slots__ = ("gid", "labels", "props", "out_edges", "in_edges", "delta", "deleted")
    cypher_kind = "node"

    def __init__(self, gid: int, labels: tuple[str, ...], props: dict[str, Any]):
        self.gid = gid
        self.labels = labels
        self.props = props
        self.out_edges: list[Edge] | tuple = ()
        self.in_edges: list[Edge] | tuple = ()
        self.delta: Delta | None = None
        self.deleted = False

    def __repr__(self) -> str:
        return f"<Vertex {self.gid}>"


class Edge:
    """A relationship. Making one adds it to its ends' adjacency lists (the
    empty tuple a vertex starts with becomes a list): an edge never exists
    unattached, and recovery makes its edges with no further call each
    (docs/hot-paths.md)."""

    __slots__ = ("gid", "type", "src", "dst", "props", "delta", "deleted")
    cypher_kind = "relationship"

    def __init__(self, gid: int, type: str, src: Vertex, dst: Vertex, props: dict[str, Any]):
        self.gid = gid
        self.type = type
        self.src = src
        self.dst = dst
        self.props = props
        self.delta: Delta | None = None
        self.deleted = False
        if src.out_edges:
            src.out_edges.append(self)
        else:
            src.out_edges = [self]
        if dst.in_edges:
            dst.in_edges.append(self)
        else:
            dst.in_edges = [self]

    def __repr__(self) -> str:
        return f"<Edge {self.gid} {self.src.gid}-[:{self.type}]->{self.dst.gid}>"


def undo(delta: Delta, labels: set[str] | None, props: dict[str, Any], deleted: bool) -> bool:
    """Apply one undo to a copied state; returns the new `deleted` flag.
    `labels` is None for edges."""
    kind = delta.kind
    if kind == PROPERTY:
        if delta.value is MISSING:
            props.pop(delta.key, None)
        else:
            props[delta.key] = delta.value
    elif kind == CREATED:
        return True
    elif kind == DELETED:
        return False
    elif kind == LABEL_ADDED:
        labels.discard(delta.value)
    elif kind == LABEL_REMOVED:
        labels.add(delta.value)
    return deleted


def version(obj: Vertex | Edge, mine: CommitInfo | None, start_ts: float) -> tuple[Any, dict[str, Any], bool]:
    """The (labels, props, deleted) a transaction with `mine` and `start_ts`
    sees. Copies the state first, then reads the chain (objects.py)."""
    labels = set(obj.labels) if type(obj) is Vertex else None
    props = dict(obj.props)
    deleted = obj.deleted
    delta = obj.delta
    while delta is not None:
        info = delta.info
        if info is mine:
            break
        ts = info.commit_ts
        if ts is not None and ts <= start_ts:
            break
        deleted = undo(delta, labels, props, deleted)
        delta = delta.next
    return labels, props, deleted


def restore(delta: Delta) -> None:
    """Roll one change back on the object itself (abort)."""
    obj = delta.obj
    kind = delta.kind
    if kind == PROPERTY:
        if delta.value is MISSING:
            obj.props.pop(delta.key, None)
        else:
            obj.props[delta.key] = delta.value
    elif kind == CREATED:
        obj.deleted = True
    elif kind == DELETED:
        obj.deleted = False
    elif kind == LABEL_ADDED:
        obj.labels = without(obj.labels, delta.value)
    elif kind == LABEL_REMOVED:
        obj.labels = obj.labels + (delta.value,)


def without(labels: tuple[str, ...], label: str) -> tuple[str, ...]:
    return tuple(other for other in labels if other != label)

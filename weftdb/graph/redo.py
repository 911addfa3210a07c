"""Redo operations: what a committed transaction did, for the WAL and replication.

`ops_of(deltas)` turns a transaction's undo Deltas into redo operations in
one pass at commit, reading the value each changed property has now (the
Delta holds the old one). `apply(storage, ops)` replays them on recovery.
Both sides live here so the vocabulary cannot drift apart; the durability
layer only frames and stores the tuples.

Every op is a tuple starting with its code. Replaying is idempotent where it
can be (creating an index that exists, deleting what is gone), so a snapshot
taken while a schema change committed may meet that change again in the WAL.

Schema changes name their index or constraint (codes 24 to 27, whose layout
is `schema.py`'s). Codes 20 to 23, the unnamed changes written before
names existed (WAL format version 1), are still replayed: their index or
constraint gets its generated name, the one it has had since.
"""

from __future__ import annotations

from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from weftdb.basics.errors import RecoveryError, SchemaError
from weftdb.graph import schema
from weftdb.graph.objects import CREATED, DELETED, LABEL_ADDED, LABEL_REMOVED, PROPERTY, Delta, Edge, Vertex, without

if TYPE_CHECKING:
    from weftdb.graph.storage import Storage

CREATE_VERTEX = 1  # gid, labels, props
DELETE_VERTEX = 2  # gid
ADD_LABEL = 3  # gid, label
REMOVE_LABEL = 4  # gid, label
SET_VERTEX_PROPERTY = 5  # gid, key, value (None removes)
CREATE_EDGE = 6  # gid, type, src gid, dst gid, props
DELETE_EDGE = 7  # gid
SET_EDGE_PROPERTY = 8  # gid, key, value (None removes)
CREATE_INDEX = 20  # label, key or None (read only: WAL version 1)
DROP_INDEX = 21  # label, key or None (read only)
CREATE_CONSTRAINT = 22  # kind, label, keys (read only)
DROP_CONSTRAINT = 23  # kind, label, keys (read only)
CREATE_NAMED_INDEX = schema.CREATE_INDEX  # 24: name, kind, entity, label or type, keys
DROP_NAMED_INDEX = schema.DROP_INDEX  # 25: name
CREATE_NAMED_CONSTRAINT = schema.CREATE_CONSTRAINT  # 26: name, kind, label, keys
DROP_NAMED_CONSTRAINT = schema.DROP_CONSTRAINT  # 27: name

NAMES = {
    CREATE_VERTEX: "create vertex",
    DELETE_VERTEX: "delete vertex",
    ADD_LABEL: "add label",
    REMOVE_LABEL: "remove label",
    SET_VERTEX_PROPERTY: "set vertex property",
    CREATE_EDGE: "create edge",
    DELETE_EDGE: "delete edge",
    SET_EDGE_PROPERTY: "set edge property",
    CREATE_INDEX: "create index (unnamed)",
    DROP_INDEX: "drop index (unnamed)",
    CREATE_CONSTRAINT: "create constraint (unnamed)",
    DROP_CONSTRAINT: "drop constraint (unnamed)",
    CREATE_NAMED_INDEX: "create index",
    DROP_NAMED_INDEX: "drop index",
    CREATE_NAMED_CONSTRAINT: "create constraint",
    DROP_NAMED_CONSTRAINT: "drop constraint",
}


def ops_of(deltas: list[Delta]) -> list[tuple]:
    """The redo ops of a committing transaction's Deltas, in order.

    The ops share the objects' labels tuples and property dicts rather than
    copy them (a hot path: docs/hot-paths.md): the commit log encodes them in
    `append`, under the storage lock, before any other transaction can write
    those objects."""
    ops: list[tuple] = []
    append = ops.append
    for delta in deltas:
        obj = delta.obj
        kind = delta.kind
        if type(obj) is Vertex:
            if kind == CREATED:
                append((CREATE_VERTEX, obj.gid, obj.labels, obj.props))
            elif kind == PROPERTY:
                append((SET_VERTEX_PROPERTY, obj.gid, delta.key, obj.props.get(delta.key)))
            elif kind == LABEL_ADDED:
                append((ADD_LABEL, obj.gid, delta.value))
            elif kind == LABEL_REMOVED:
                append((REMOVE_LABEL, obj.gid, delta.value))
            elif kind == DELETED:
                append((DELETE_VERTEX, obj.gid))
        elif kind == CREATED:
            append((CREATE_EDGE, obj.gid, obj.type, obj.src.gid, obj.dst.gid, obj.props))
        elif kind == PROPERTY:
            append((SET_EDGE_PROPERTY, obj.gid, delta.key, obj.props.get(delta.key)))
        elif kind == DELETED:
            append((DELETE_EDGE, obj.gid))
    return ops


def apply(storage: "Storage", ops: list, where: str) -> None:
    """Replay one record's ops directly on the store (recovery: no readers yet).
    `where` names the record for errors (file and offset). An op is a tuple or
    the list the WAL record decoded to.

    A run of creations (an UNWIND ... CREATE record holds thousands) goes to
    the store's batch loaders in one call, ops as they are, not one op at a
    time (a hot path: docs/hot-paths.md)."""
    try:
        runs = [(code, list(run)) for code, run in groupby(ops, _CODE)]  # at C speed: a record is one run
    except (IndexError, TypeError):  # an empty or non-list op: one by one, so the error names it
        runs = [(None, ops)]
    for code, run in runs:
        if code == CREATE_VERTEX or code == CREATE_EDGE:
            _create_run(storage, code, run, where)
        else:
            for op in run:
                _apply_one(storage, op, where)


_CODE = itemgetter(0)


def _create_run(storage: "Storage", code: int, run: list, where: str) -> None:
    try:
        if code == CREATE_VERTEX:
            storage.load_vertices(run)
        else:
            storage.load_edges(run)
    except (KeyError, IndexError, TypeError, ValueError):
        # Name the op that does not apply: replayed one by one, it raises.
        # (Recovery stops at this error, so the half-loaded batch is dropped.)
        for op in run:
            _apply_one(storage, op, where)
        raise


def _apply_one(storage: "Storage", op: tuple, where: str) -> None:
    try:
        code = op[0]
        replay = _REPLAY.get(code) if code.__hash__ is not None else None  # a list or map is no code either
        if replay is None:
            raise RecoveryError(f"{where}: unknown operation code {code!r}.")
        replay(storage, op)
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise RecoveryError(
            f"{where}: operation {NAMES.get(op[0] if op else None, op)!s} {op!r} does not apply "
            f"to the recovered graph ({type(exc).__name__}: {exc}). The WAL does not match the snapshot "
            "it follows; recover from an older snapshot or a backup."
        ) from None


# One replay function per op code; each may raise KeyError, IndexError,
# TypeError or ValueError for an op that does not fit the graph.


def _create_vertex(storage: "Storage", op: tuple) -> None:
    storage.load_vertices([op])


def _create_edge(storage: "Storage", op: tuple) -> None:
    storage.load_edges([op])


def _set_vertex_property(storage: "Storage", op: tuple) -> None:
    vertex = storage.vertices[op[1]]
    _set(vertex, op[2], op[3])
    storage.property_keys.add(op[2])
    if op[3] is not None:
        storage.indexes.add_property(vertex, op[2], op[3])


def _set_edge_property(storage: "Storage", op: tuple) -> None:
    edge = storage.edges[op[1]]
    _set(edge, op[2], op[3])
    storage.property_keys.add(op[2])
    if op[3] is not None and storage.indexes.edge_indexes:
        storage.indexes.add_edge(edge)


def _add_label(storage: "Storage", op: tuple) -> None:
    vertex = storage.vertices[op[1]]
    if op[2] not in vertex.labels:
        vertex.labels = vertex.labels + (op[2],)
        storage.indexes.add_label(vertex, op[2])


def _remove_label(storage: "Storage", op: tuple) -> None:
    vertex = storage.vertices[op[1]]
    vertex.labels = without(vertex.labels, op[2])
    storage.indexes.forget(vertex, label=op[2])


def _delete_vertex(storage: "Storage", op: tuple) -> None:
    storage.unload(storage.vertices[op[1]])


def _delete_edge(storage: "Storage", op: tuple) -> None:
    storage.unload(storage.edges[op[1]])


def _create_index(storage: "Storage", op: tuple) -> None:
    storage.create_index(op[1], op[2], log=False)


def _drop_index(storage: "Storage", op: tuple) -> None:
    storage.drop_index(op[1], op[2], log=False)


def _create_constraint(storage: "Storage", op: tuple) -> None:
    if not storage.has_constraint(op[1], op[2], tuple(op[3])):
        storage.create_constraint(op[1], op[2], tuple(op[3]), log=False)


def _drop_constraint(storage: "Storage", op: tuple) -> None:
    if storage.has_constraint(op[1], op[2], tuple(op[3])):
        storage.drop_constraint(op[1], op[2], tuple(op[3]), log=False)


def _named_schema_change(storage: "Storage", op: tuple) -> None:
    if op[0] in (CREATE_NAMED_INDEX, CREATE_NAMED_CONSTRAINT):
        (schema.IndexDef if op[0] == CREATE_NAMED_INDEX else schema.ConstraintDef).of_op(op)  # ValueError if malformed
    elif not isinstance(op[1], str) or len(op) != 2:
        raise ValueError(f"a drop names its index or constraint: {op!r}")
    try:
        storage.apply_schema([tuple(op)], log=False)
    except SchemaError as exc:  # the recovered graph does not allow it: name the record
        raise ValueError(str(exc)) from None


_REPLAY = {
    CREATE_VERTEX: _create_vertex,
    DELETE_VERTEX: _delete_vertex,
    ADD_LABEL: _add_label,
    REMOVE_LABEL: _remove_label,
    SET_VERTEX_PROPERTY: _set_vertex_property,
    CREATE_EDGE: _create_edge,
    DELETE_EDGE: _delete_edge,
    SET_EDGE_PROPERTY: _set_edge_property,
    CREATE_INDEX: _create_index,
    DROP_INDEX: _drop_index,
    CREATE_CONSTRAINT: _create_constraint,
    DROP_CONSTRAINT: _drop_constraint,
    CREATE_NAMED_INDEX: _named_schema_change,
    DROP_NAMED_INDEX: _named_schema_change,
    CREATE_NAMED_CONSTRAINT: _named_schema_change,
    DROP_NAMED_CONSTRAINT: _named_schema_change,
}


def _set(obj: Vertex | Edge, key: str, value: Any) -> None:
    if value is None:
        obj.props.pop(key, None)
    else:
        obj.props[key] = value

"""Existence and uniqueness constraints, checked when a transaction commits.

Checks run under the storage write lock against the newest committed state
plus the committing transaction's own writes, so two transactions that each
create the same unique value cannot both commit: the second one fails.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from weftdb.basics.errors import ConstraintViolation, SchemaError, SerializationError
from weftdb.graph.indexes import index_key
from weftdb.graph.objects import Vertex

# (labels, props, deleted) of the newest committed version of a vertex, as
# seen by the committing transaction.
View = Callable[[Vertex], tuple[set[str], dict[str, Any], bool]]


def _unique_key(props: dict[str, Any], keys: tuple[str, ...]) -> tuple | None:
    values = []
    for key in keys:
        value = props.get(key)
        if value is None:
            return None
        ikey = index_key(value)
        if ikey is None:
            return None
        values.append(ikey)
    return tuple(values)


def describe(label: str, keys: tuple[str, ...]) -> str:
    return f":{label}(" + ", ".join(keys) + ")"


class Constraints:
    def __init__(self) -> None:
        self.existence: set[tuple[str, str]] = set()
        # (label, keys) -> unique key -> vertices that may hold it (filtered on check)
        self.unique: dict[tuple[str, tuple[str, ...]], dict[tuple, set[Vertex]]] = {}
        # Whether any constraint exists, so a commit has something to check:
        # kept by the create and drop methods, read by every commit.
        self.active = False

    # -- maintenance by writers ----------------------------------------------

    def note(self, vertex: Vertex) -> None:
        """Record the vertex's current unique keys (after a label or property change)."""
        for (label, keys), members in self.unique.items():
            if label in vertex.labels:
                ukey = _unique_key(vertex.props, keys)
                if ukey is not None:
                    members.setdefault(ukey, set()).add(vertex)

    # -- commit-time check ------------------------------------------------------

    def check(self, vertices: Iterable[Vertex], newest: View, seen: View) -> None:
        """Raise when the committing transaction's vertices break a constraint.

        `newest` gives the newest committed version plus the transaction's
        writes; `seen` what the transaction saw (its snapshot plus its
        writes). A clash with a unique value the transaction could not see,
        because another transaction committed it after this one began (two
        clients running the same MERGE), is a write conflict: a retry sees
        that vertex, so it is a transient SerializationError, not a
        constraint violation no retry would mend."""
        for vertex in vertices:
            labels, props, deleted = newest(vertex)
            if deleted:
                continue
            for label, key in self.existence:
                if label in labels and props.get(key) is None:
                    raise ConstraintViolation(
                        f"Vertex {vertex.gid} with label :{label} must have property `{key}` "
                        f"(existence constraint {describe(label, (key,))})."
                    )
            for (label, keys), members in self.unique.items():
                if label not in labels:
                    continue
                ukey = _unique_key(props, keys)
                if ukey is None:
                    continue
                for other in members.get(ukey, ()):
                    if other is not vertex and _holds(newest(other), label, keys, ukey):
                        raise _clash(vertex, other, label, keys, ukey, seen_before=_holds(seen(other), label, keys, ukey))

    # -- schema ---------------------------------------------------------------

    def create_existence(self, label: str, key: str, vertices: Iterable[Vertex], newest: View) -> None:
        if (label, key) in self.existence:
            raise SchemaError(f"Existence constraint {describe(label, (key,))} already exists.")
        for vertex in vertices:
            labels, props, deleted = newest(vertex)
            if not deleted and label in labels and props.get(key) is None:
                raise SchemaError(
                    f"Cannot create existence constraint {describe(label, (key,))}: "
                    f"vertex {vertex.gid} has no property `{key}`."
                )
        self.existence.add((label, key))
        self.active = True

    def create_unique(self, label: str, keys: tuple[str, ...], vertices: Iterable[Vertex], newest: View) -> None:
        if (label, keys) in self.unique:
            raise SchemaError(f"Uniqueness constraint {describe(label, keys)} already exists.")
        members: dict[tuple, set[Vertex]] = {}
        for vertex in vertices:
            labels, props, deleted = newest(vertex)
            if deleted or label not in labels:
                continue
            ukey = _unique_key(props, keys)
            if ukey is None:
                continue
            holders = members.setdefault(ukey, set())
            if holders:
                raise SchemaError(
                    f"Cannot create uniqueness constraint {describe(label, keys)}: vertices "
                    f"{next(iter(holders)).gid} and {vertex.gid} share the value {_show(ukey)}."
                )
            holders.add(vertex)
        self.unique[(label, keys)] = members
        self.active = True

    def drop_existence(self, label: str, key: str) -> None:
        if (label, key) not in self.existence:
            raise SchemaError(f"There is no existence constraint {describe(label, (key,))}.")
        self.existence.discard((label, key))
        self.active = bool(self.existence or self.unique)

    def drop_unique(self, label: str, keys: tuple[str, ...]) -> None:
        if (label, keys) not in self.unique:
            raise SchemaError(f"There is no uniqueness constraint {describe(label, keys)}.")
        del self.unique[(label, keys)]
        self.active = bool(self.existence or self.unique)


def _holds(version: tuple[set[str], dict[str, Any], bool], label: str, keys: tuple[str, ...], ukey: tuple) -> bool:
    """Whether a version (labels, props, deleted) holds the unique value `ukey` of :label(keys)."""
    labels, props, deleted = version
    return not deleted and label in labels and _unique_key(props, keys) == ukey


def _clash(vertex: Vertex, other: Vertex, label: str, keys: tuple[str, ...], ukey: tuple,
           seen_before: bool) -> ConstraintViolation | SerializationError:
    what = f"Vertex {vertex.gid} would share the value {_show(ukey)} of {describe(label, keys)} with vertex {other.gid}"
    if seen_before:
        return ConstraintViolation(f"{what} (uniqueness constraint).")
    return SerializationError(
        f"{what}, which another transaction committed after this one began (uniqueness constraint). "
        "This transaction was rolled back; retry it: it will see that vertex."
    )


def _show(ukey: tuple) -> str:
    return repr(ukey[0]) if len(ukey) == 1 else repr(ukey)

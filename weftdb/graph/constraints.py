"""Existence, uniqueness and node key constraints, checked when a transaction commits.

Checks run under the storage write lock against the newest committed state
plus the committing transaction's own writes, so two transactions that each
create the same unique value cannot both commit: the second one fails.

A uniqueness or node key constraint finds the vertices that may hold a value
through the index of its label and keys, which it owns (`storage.py`
creates it with the constraint and keeps it while any of them needs it). A
node key is a uniqueness constraint whose keys must also all be present.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from weftdb.basics.errors import ConstraintViolation, SchemaError, SerializationError
from weftdb.graph.indexes import Indexes, values_key
from weftdb.graph.objects import Vertex

# (labels, props, deleted) of the newest committed version of a vertex, as
# seen by the committing transaction.
View = Callable[[Vertex], tuple[set[str], dict[str, Any], bool]]

EXISTS, UNIQUE, NODE_KEY = "exists", "unique", "node_key"
_WHAT = {UNIQUE: "uniqueness constraint", NODE_KEY: "node key constraint"}


class ConstraintCreationFailed(SchemaError):
    """The data already breaks the constraint being created."""

    code = "Neo.ClientError.Schema.ConstraintCreationFailed"


def describe(label: str, keys: tuple[str, ...]) -> str:
    return f":{label}(" + ", ".join(keys) + ")"


class Constraints:
    def __init__(self, indexes: Indexes) -> None:
        self.indexes = indexes
        self.existence: set[tuple[str, str]] = set()
        self.unique: set[tuple[str, tuple[str, ...]]] = set()
        self.node_keys: set[tuple[str, tuple[str, ...]]] = set()
        # What a commit checks, derived from the three sets above by _derive:
        # (label, key, what) of each required property, (label, keys, what)
        # of each unique tuple of values.
        self._required: tuple[tuple[str, str, str], ...] = ()
        self._distinct: tuple[tuple[str, tuple[str, ...], str], ...] = ()
        # Whether any constraint exists, so a commit has something to check:
        # kept by the create and drop methods, read by every commit.
        self.active = False

    def _derive(self) -> None:
        required = {(label, key): "existence constraint" for label, key in self.existence}
        for label, keys in self.node_keys:
            for key in keys:
                required.setdefault((label, key), "node key constraint")
        self._required = tuple((label, key, what) for (label, key), what in sorted(required.items()))
        distinct = {(label, keys): _WHAT[UNIQUE] for label, keys in self.unique}
        for label, keys in self.node_keys:
            distinct.setdefault((label, keys), _WHAT[NODE_KEY])
        self._distinct = tuple((label, keys, what) for (label, keys), what in sorted(distinct.items()))
        self.active = bool(required or distinct)

    # -- commit-time check ------------------------------------------------------

    def check(self, vertices: Iterable[Vertex], newest: View, seen: View,
              candidates: Callable[[str, tuple[str, ...], tuple], Iterable[Vertex]] | None = None) -> None:
        """Raise when the committing transaction's vertices break a constraint.

        `newest` gives the newest committed version plus the transaction's
        writes; `seen` what the transaction saw (its snapshot plus its
        writes). A clash with a unique value the transaction could not see,
        because another transaction committed it after this one began (two
        clients running the same MERGE), is a write conflict: a retry sees
        that vertex, so it is a transient SerializationError, not a
        constraint violation no retry would mend. `candidates(label, keys,
        values)` finds the vertices that may hold unique values (by default,
        in the constraint's index in memory)."""
        candidates = candidates or self.indexes.unique_candidates
        for vertex in vertices:
            labels, props, deleted = newest(vertex)
            if deleted:
                continue
            for label, key, what in self._required:
                if label in labels and props.get(key) is None:
                    raise ConstraintViolation(
                        f"Vertex {vertex.gid} with label :{label} must have property `{key}` "
                        f"({what} {describe(label, (key,))})."
                    )
            for label, keys, what in self._distinct:
                if label not in labels:
                    continue
                ukey = values_key(props, keys)
                if ukey is None:
                    continue
                unique = _told_apart(ukey)
                for other in candidates(label, keys, ukey):
                    if other is not vertex and _holds(newest(other), label, keys, unique):
                        raise _clash(vertex, other, label, keys, what, props,
                                     seen_before=_holds(seen(other), label, keys, unique))

    # -- schema ---------------------------------------------------------------
    # Creating checks the existing data first; the caller keeps the index a
    # unique or node key constraint needs (Storage).

    def create(self, kind: str, label: str, keys: tuple[str, ...], vertices: Iterable[Vertex], newest: View,
               by_value: Iterable[Vertex] | None = None) -> None:
        """Check the existing data, then add the constraint. `vertices` are
        those with `label`, `newest` gives their state. An existence check
        keeps none of them. A uniqueness check keeps each value it met, unless
        `by_value` gives the vertices again in the order of their index key
        (the on-disk store reads its index): then only the current key's. So
        the on-disk store streams a label larger than memory through."""
        what = {EXISTS: "existence", UNIQUE: "uniqueness", NODE_KEY: "node key"}[kind]
        if kind == NODE_KEY and by_value is None:
            vertices = list(vertices)  # read twice
        if kind in (EXISTS, NODE_KEY):
            _check_present(label, keys, vertices, newest, what)
        if kind in (UNIQUE, NODE_KEY):
            _check_distinct(label, keys, vertices if by_value is None else by_value, newest, what,
                            grouped=by_value is not None)
        if kind == EXISTS:
            self.existence.add((label, keys[0]))
        else:
            (self.unique if kind == UNIQUE else self.node_keys).add((label, keys))
        self._derive()

    def drop(self, kind: str, label: str, keys: tuple[str, ...]) -> None:
        if kind == EXISTS:
            self.existence.discard((label, keys[0]))
        else:
            (self.unique if kind == UNIQUE else self.node_keys).discard((label, keys))
        self._derive()


def _check_present(label: str, keys: tuple[str, ...], vertices: Iterable[Vertex], newest: View, what: str) -> None:
    for vertex in vertices:
        labels, props, deleted = newest(vertex)
        if not deleted and label in labels:
            for key in keys:
                if props.get(key) is None:
                    raise ConstraintCreationFailed(f"Cannot create {what} constraint {describe(label, (key,))}: "
                                                   f"vertex {vertex.gid} has no property `{key}`.")


def _check_distinct(label: str, keys: tuple[str, ...], vertices: Iterable[Vertex], newest: View, what: str,
                    grouped: bool) -> None:
    """`grouped`: vertices under one index key come one after another."""
    holders: dict[tuple, int] = {}
    group = None
    for vertex in vertices:
        labels, props, deleted = newest(vertex)
        if deleted or label not in labels:
            continue
        ukey = values_key(props, keys)
        if ukey is None:
            continue
        if grouped and ukey != group:
            holders.clear()
            group = ukey
        other = holders.setdefault(_told_apart(ukey), vertex.gid)
        if other != vertex.gid:
            raise ConstraintCreationFailed(f"Cannot create {what} constraint {describe(label, keys)}: "
                                           f"vertices {other} and {vertex.gid} share the value {_show(props, keys)}.")


def _told_apart(ukey: Any) -> Any:
    """An index key with its booleans told apart from numbers: the index files
    true under 1, as Python's dicts do (its readers compare each object they
    find), but in Cypher true is not 1, and a uniqueness check compares keys."""
    kind = type(ukey)
    if kind is bool:
        return (bool, ukey)
    if kind is tuple:
        return tuple(_told_apart(item) for item in ukey)
    return ukey


def _holds(version: tuple[set[str], dict[str, Any], bool], label: str, keys: tuple[str, ...], ukey: tuple) -> bool:
    """Whether a version (labels, props, deleted) holds the unique value `ukey` (told apart) of :label(keys)."""
    labels, props, deleted = version
    return not deleted and label in labels and _told_apart(values_key(props, keys)) == ukey


def _clash(vertex: Vertex, other: Vertex, label: str, keys: tuple[str, ...], what: str,
           props: dict[str, Any], seen_before: bool) -> ConstraintViolation | SerializationError:
    if seen_before:
        # Neo4j's words, which clients match on (neomodel's UniqueProperty).
        holds = " and ".join(f"`{key}` = {props[key]!r}" for key in keys)
        return ConstraintViolation(
            f"Node({other.gid}) already exists with label `{label}` and propert{'y' if len(keys) == 1 else 'ies'} "
            f"{holds}: node {vertex.gid} cannot have the same value ({what} {describe(label, keys)})."
        )
    return SerializationError(
        f"Vertex {vertex.gid} would share the value {_show(props, keys)} of {describe(label, keys)} with vertex {other.gid}, "
        f"which another transaction committed after this one began ({what}). "
        "This transaction was rolled back; retry it: it will see that vertex."
    )


def _show(props: dict[str, Any], keys: tuple[str, ...]) -> str:
    values = tuple(props.get(key) for key in keys)
    return repr(values[0]) if len(values) == 1 else repr(values)

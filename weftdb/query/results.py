"""What a query gives back: `Result` and the graph values in its rows.

`Node`, `Relationship` and `Path` are immutable copies taken when the row was
produced; holding one never pins a version of the graph in memory.
"""

from __future__ import annotations

import weakref
from collections import deque
from operator import itemgetter
from typing import Any, Iterator, Protocol

from weftdb.basics.errors import ClientError

_COUNT = itemgetter(1)
ITERATION_BATCH = 1_000
"""Rows a streaming Result makes at a time while it is iterated."""


class Stream(Protocol):
    """The rows of a streaming result still to be made (executor.run makes one)."""

    ended: bool  # every row is made, or the stream was closed or failed: its transaction has ended

    def fetch(self, n: int | None) -> list[tuple]:
        """The next `n` rows (all with None); fewer when the rows end, which ends the stream."""

    def close(self) -> None:
        """End the stream before its rows are all made."""


def element_id(gid: int) -> str:
    """The element id of the node or relationship `gid`: what `elementId()` returns
    and Bolt 5 sends beside the integer id (its decimal digits, as Memgraph's)."""
    return str(gid)


def element_gid(value: object) -> int | None:
    """The id an element id names, or None when `value` is no element id."""
    if type(value) is not str or not value.isascii() or not value.isdigit() or (value[0] == "0" and value != "0"):
        return None
    return int(value)


class _Entity:
    """What nodes and relationships share: properties by key, identity by id."""

    __slots__ = ("id", "properties")

    def __getitem__(self, key: str) -> Any:
        return self.properties[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.properties.get(key, default)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.id == self.id

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.id))


class Node(_Entity):
    __slots__ = ("labels",)

    def __init__(self, id: int, labels: frozenset[str], properties: dict[str, Any]):
        self.id = id
        self.labels = labels
        self.properties = properties

    def __repr__(self) -> str:
        labels = "".join(f":{label}" for label in sorted(self.labels))
        return f"Node({self.id}{labels} {self.properties!r})"


class Relationship(_Entity):
    __slots__ = ("type", "start_node_id", "end_node_id")

    def __init__(self, id: int, type: str, start_node_id: int, end_node_id: int, properties: dict[str, Any]):
        self.id = id
        self.type = type
        self.start_node_id = start_node_id
        self.end_node_id = end_node_id
        self.properties = properties

    def __repr__(self) -> str:
        return f"Relationship({self.id} ({self.start_node_id})-[:{self.type}]->({self.end_node_id}) {self.properties!r})"


class Path:
    """Alternating nodes and relationships: len(nodes) == len(relationships) + 1."""

    __slots__ = ("nodes", "relationships")

    def __init__(self, nodes: tuple[Node, ...], relationships: tuple[Relationship, ...]):
        self.nodes = nodes
        self.relationships = relationships

    def __len__(self) -> int:
        return len(self.relationships)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Path) and other.nodes == self.nodes and other.relationships == self.relationships

    def __hash__(self) -> int:
        return hash(("Path", tuple(n.id for n in self.nodes), tuple(r.id for r in self.relationships)))

    def __repr__(self) -> str:
        return f"Path({[n.id for n in self.nodes]}, {[r.id for r in self.relationships]})"


class Result:
    """The outcome of one statement.

    `columns` names the values of each row; iterating gives tuples in column
    order. `query_type` is "r" (read), "w" (write), "rw" or "s" (schema or
    administration), as Bolt reports it. `counters` holds the non-zero
    update counts ("nodes-created", "properties-set", ...). `plan` is the
    operator tree for EXPLAIN and PROFILE, as text; `plan_tree` the same as
    Neo4j's summary gives it (query/plans.py; a PROFILE's holds rows and times).
    `notifications` are what the statement has to say without failing (a
    CREATE INDEX of an index that exists), each a dict as Neo4j's summary
    holds it: code, title, description, severity, category.

    A large read streams (`streaming`; docs/transactions.md, "Results that
    stream"): its first rows are made at once, the others as they are asked
    for, in the statement's transaction, which ends with the stream. Then
    iterating reads the rows once, as a cursor does, without keeping them;
    `rows`, `data()`, `len()` and `single()` make the rest and keep them;
    `close()` (or dropping the Result) ends the stream early."""

    __slots__ = ("columns", "_rows", "query_type", "counters", "plan", "plan_tree", "notifications", "_ready",
                 "streaming", "_stream", "_closer", "_cut", "__weakref__")

    def __init__(
        self,
        columns: list[str],
        rows: list[tuple],
        query_type: str = "r",
        counters: dict[str, int] | None = None,
        plan: str | None = None,
        plan_tree: dict[str, Any] | None = None,
        notifications: list[dict[str, Any]] | None = None,
        stream: Stream | None = None,
    ):
        self.columns = columns
        self.query_type = query_type
        self.counters = dict(filter(_COUNT, counters.items())) if counters else {}  # the non-zero ones, at C speed
        self.plan = plan
        self.plan_tree = plan_tree
        self.notifications = notifications or []
        self._stream = stream
        # Rows are still to be made (a read that streams). A plain attribute, as
        # every statement's caller reads it (a property costs a lookup per read).
        self.streaming = stream is not None
        if stream is None:
            self._rows, self._ready, self._closer = rows, None, None
        else:  # `_ready`: the rows made and not handed out, until `rows` keeps them all
            self._rows, self._ready = [], deque(rows)
            self._cut: str | None = None  # why a stream closed by its database ended (close)
            # A streaming Result dropped unread ends its stream (its transaction) then.
            self._closer = weakref.finalize(self, stream.close)

    @property
    def rows(self) -> list[tuple]:
        """The rows, as a list: a streaming result makes the rest of its rows
        first (those iteration handed out already are not among them)."""
        if self._ready is not None:
            self._rows, self._ready = self.fetch(None), None
        return self._rows

    def fetch(self, n: int | None) -> list[tuple]:
        """The next `n` rows not handed out yet (all of them with None), made
        as needed; fewer than `n` when the result ends. Handed-out rows are
        not kept: this is how the Bolt server pages through a result."""
        ready = self._ready
        if ready is None:
            rows = self._rows
            if n is None or n >= len(rows):
                self._rows = []
                return rows
            self._rows = rows[n:]
            return rows[:n]
        if n is not None and len(ready) >= n:
            return [ready.popleft() for _ in range(n)]
        rows = list(ready)
        ready.clear()
        return rows + self._make(None if n is None else n - len(rows))

    def _make(self, n: int | None) -> list[tuple]:
        """`n` more rows from the stream (all with None)."""
        stream = self._stream
        if stream is None:
            if self._cut is not None:
                raise ClientError(self._cut)
            return []
        try:
            return stream.fetch(n)
        finally:
            if stream.ended:  # made its last row, or failed
                self._stream, self.streaming = None, False
                self._closer.detach()

    def close(self, reason: str | None = None) -> None:
        """End a streaming result's stream (and its transaction) now: no more
        rows are handed out. Nothing to do for a result that is complete.
        `reason`: why (its database closed): reading on raises it as a ClientError."""
        if self._stream is not None:
            self._stream, self.streaming = None, False
            self._cut = reason
            self._ready.clear()
            self._closer()

    def __iter__(self) -> Iterator[tuple]:
        if self._ready is None:
            return iter(self._rows)
        return self._read_once()

    def _read_once(self) -> Iterator[tuple]:
        ready = self._ready
        while True:
            while ready:
                yield ready.popleft()
            more = self._make(ITERATION_BATCH)
            if not more:
                return
            ready.extend(more)

    def __len__(self) -> int:
        return len(self.rows)

    def data(self) -> list[dict[str, Any]]:
        columns = self.columns
        return [dict(zip(columns, row)) for row in self.rows]

    def single(self) -> Any:
        """The one value of a one-row, one-column result."""
        rows = self.rows
        if len(rows) != 1 or len(self.columns) != 1:
            raise ValueError(f"expected one row with one column, got {len(rows)} row(s) of {len(self.columns)}")
        return rows[0][0]

    def __repr__(self) -> str:
        if self._ready is not None:
            return f"Result(columns={self.columns!r}, streaming)" if self._stream else f"Result(columns={self.columns!r})"
        return f"Result(columns={self.columns!r}, rows={len(self._rows)})"

"""What a query gives back: `Result` and the graph values in its rows.

`Node`, `Relationship` and `Path` are immutable copies taken when the row was
produced; holding one never pins a version of the graph in memory.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any, Iterator

_COUNT = itemgetter(1)


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
    """The outcome of one statement, fully materialised.

    `columns` names the values of each row; iterating gives tuples in column
    order. `query_type` is "r" (read), "w" (write), "rw" or "s" (schema or
    administration), as Bolt reports it. `counters` holds the non-zero
    update counts ("nodes-created", "properties-set", ...). `plan` is the
    operator tree for EXPLAIN and PROFILE, as text; `plan_tree` the same as
    Neo4j's summary gives it (query/plans.py; a PROFILE's holds rows and times).
    `notifications` are what the statement has to say without failing (a
    CREATE INDEX of an index that exists), each a dict as Neo4j's summary
    holds it: code, title, description, severity, category."""

    __slots__ = ("columns", "rows", "query_type", "counters", "plan", "plan_tree", "notifications")

    def __init__(
        self,
        columns: list[str],
        rows: list[tuple],
        query_type: str = "r",
        counters: dict[str, int] | None = None,
        plan: str | None = None,
        plan_tree: dict[str, Any] | None = None,
        notifications: list[dict[str, Any]] | None = None,
    ):
        self.columns = columns
        self.rows = rows
        self.query_type = query_type
        self.counters = dict(filter(_COUNT, counters.items())) if counters else {}  # the non-zero ones, at C speed
        self.plan = plan
        self.plan_tree = plan_tree
        self.notifications = notifications or []

    def __iter__(self) -> Iterator[tuple]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def data(self) -> list[dict[str, Any]]:
        columns = self.columns
        return [dict(zip(columns, row)) for row in self.rows]

    def single(self) -> Any:
        """The one value of a one-row, one-column result."""
        if len(self.rows) != 1 or len(self.columns) != 1:
            raise ValueError(f"expected one row with one column, got {len(self.rows)} row(s) of {len(self.columns)}")
        return self.rows[0][0]

    def __repr__(self) -> str:
        return f"Result(columns={self.columns!r}, rows={len(self.rows)})"

"""The operators a plan is made of.

Each operator pulls rows from its input (`run(ctx, rows)` is a generator) and
yields rows: lists of slot values laid out by the planner. Binding a variable
copies the row, so a row once yielded is never changed by the operator that
made it. The leaf of every plan is `Argument`, which yields the rows handed
to `run`: one empty row for a statement, the outer row for a subquery.

Write operators are eager: they consume their whole input before yielding,
so every clause sees the graph as the previous clause left it. The one
exception is a CREATE that the planner proved cannot change what its input
reads (`Planner.create`): it applies each row as it arrives.

The `run` loops and the row checks they call are hot paths (docs/hot-paths.md):
each binds what it reads per row to locals before its loop.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import repeat
from typing import Any, Callable, Iterable, Iterator

from weftdb.basics.errors import CypherSemanticError, CypherTypeError, EntityNotFound
from weftdb.graph.objects import Edge, Vertex
from weftdb.query import load_csv, values
from weftdb.query.aggregates import CountStar, make_aggregate
from weftdb.query.expressions import GraphPath
from weftdb.query.results import element_gid

Row = list


class Operator:
    name = "Operator"
    input: "Operator | None" = None

    def run(self, ctx, rows: Iterable[Row]) -> Iterator[Row]:
        raise NotImplementedError

    def detail(self) -> str:
        return ""

    def explain(self, depth: int = 0) -> list[str]:
        detail = self.detail()
        lines = [" " * depth + "* " + self.name + (f" ({detail})" if detail else "")]
        for child in self.children():
            lines.extend(child.explain(depth + 1))
        return lines

    def children(self) -> list["Operator"]:
        return [self.input] if self.input is not None else []


class Argument(Operator):
    name = "Once"

    def run(self, ctx, rows):
        return iter(rows)


# -- reading ------------------------------------------------------------------------


class ScanAll(Operator):
    """Every visible vertex; subclasses narrow the source (`vertices`)."""

    name = "ScanAll"

    def __init__(self, input: Operator, slot: int, variable: str):
        self.input, self.slot, self.variable = input, slot, variable

    def detail(self):
        return self.variable

    def vertices(self, tx):
        return tx.scan_vertices()

    def run(self, ctx, rows):
        slot = self.slot
        tick = ctx.tick
        for row in self.input.run(ctx, rows):
            for vertex in self.vertices(ctx.tx):
                if tick():
                    ctx.check()
                out = row.copy()
                out[slot] = vertex
                yield out


class ScanByLabel(ScanAll):
    name = "ScanAllByLabel"

    def __init__(self, input: Operator, slot: int, variable: str, label: str):
        super().__init__(input, slot, variable)
        self.label = label

    def detail(self):
        return f"{self.variable} :{self.label}"

    def vertices(self, tx):
        return tx.vertices_with_label(self.label)


class ScanByProperty(Operator):
    """Index lookup `:label(key) = value`; falls back to a label scan with a
    filter when the index has gone (plans are cached across DROP INDEX)."""

    name = "ScanAllByLabelPropertyValue"

    def __init__(self, input: Operator, slot: int, variable: str, label: str, key: str, value: Callable):
        self.input, self.slot, self.variable = input, slot, variable
        self.label, self.key, self.value = label, key, value

    def detail(self):
        return f"{self.variable} :{self.label}({self.key})"

    def run(self, ctx, rows):
        slot, label, key, value_of = self.slot, self.label, self.key, self.value
        tx = ctx.tx
        equals = values.equals
        for row in self.input.run(ctx, rows):
            value = value_of(row, ctx)
            if value is None:
                continue
            found = tx.vertices_with_property(label, key, value, equals)
            if found is None:
                found = [vertex for vertex in tx.vertices_with_label(label) if equals(tx.get(vertex, key), value) is True]
            for vertex in found:
                out = row.copy()
                out[slot] = vertex
                yield out


class ScanByProperties(Operator):
    """Lookup in the index of `label` over several `keys`, `:label(k1, k2) = (v1, v2)`;
    a label scan with a filter when the index has gone."""

    name = "ScanAllByLabelPropertiesValue"

    def __init__(self, input: Operator, slot: int, variable: str, label: str, keys: tuple, values_: tuple):
        self.input, self.slot, self.variable = input, slot, variable
        self.label, self.keys, self.values = label, keys, values_

    def detail(self):
        return f"{self.variable} :{self.label}({', '.join(self.keys)})"

    def run(self, ctx, rows):
        slot, label, keys, values_of = self.slot, self.label, self.keys, self.values
        tx = ctx.tx
        equals = values.equals
        for row in self.input.run(ctx, rows):
            wanted = tuple(value_of(row, ctx) for value_of in values_of)
            if None in wanted:
                continue
            found = tx.vertices_with_properties(label, keys, wanted, equals)
            if found is None:
                found = [v for v in tx.vertices_with_label(label)
                         if all(equals(tx.get(v, k), w) is True for k, w in zip(keys, wanted))]
            for vertex in found:
                out = row.copy()
                out[slot] = vertex
                yield out


class ScanEdgesByProperty(Operator):
    """Lookup in a relationship property index, `[r:TYPE {key: value}]` with no
    node to start from: binds the relationship and the node on its `direction`
    side, as ScanEdgeById does; the Expand after it checks the rest. Scans the
    relationships of the type when the index has gone."""

    name = "ScanEdgesByTypePropertyValue"

    def __init__(self, input: Operator, rel_slot: int, slot: int, variable: str, direction: str, type_: str,
                 keys: tuple, values_: tuple):
        self.input, self.rel_slot, self.slot, self.variable = input, rel_slot, slot, variable
        self.direction, self.type, self.keys, self.values = direction, type_, keys, values_

    def detail(self):
        return f"{self.variable} [:{self.type}({', '.join(self.keys)})]"

    def run(self, ctx, rows):
        rel_slot, slot, direction, type_, keys, values_of = (self.rel_slot, self.slot, self.direction, self.type,
                                                             self.keys, self.values)
        tx = ctx.tx
        equals = values.equals
        for row in self.input.run(ctx, rows):
            wanted = tuple(value_of(row, ctx) for value_of in values_of)
            if None in wanted:
                continue
            found = tx.edges_with_properties(type_, keys, wanted, equals)
            if found is None:
                found = [e for e in tx.scan_edges()
                         if e.type == type_ and all(equals(tx.get(e, k), w) is True for k, w in zip(keys, wanted))]
            for edge in found:
                if ctx.tick():
                    ctx.check()
                for vertex in _edge_ends(edge, direction):
                    out = row.copy()
                    out[rel_slot] = edge
                    out[slot] = vertex
                    yield out


def _edge_ends(edge: Edge, direction: str) -> tuple:
    """The node a relationship found first binds on the pattern's side: its
    source for `out`, its target for `in`, either (each once) for both."""
    if direction == "out":
        return (edge.src,)
    if direction == "in":
        return (edge.dst,)
    return (edge.src,) if edge.src is edge.dst else (edge.src, edge.dst)


def _ids(value: Any, element: bool, many: bool) -> list[int]:
    """The ids a lookup asks for: `value` is an id or element id (`element`), or a
    list of them (`many`, from `IN`); what is not one matches nothing."""
    found = []
    for item in (value if type(value) is list else ()) if many else (value,):
        gid = element_gid(item) if element else item
        if type(gid) is int and gid not in found:
            found.append(gid)
    return found


class ScanById(Operator):
    """`id(n) = e`, `elementId(n) = e` or `... IN list`: the nodes by their ids."""

    name = "ScanAllById"

    def __init__(self, input: Operator, slot: int, variable: str, value: Callable, element: bool = False,
                 many: bool = False):
        self.input, self.slot, self.variable, self.value = input, slot, variable, value
        self.element, self.many = element, many
        if element:
            self.name = "ScanAllByElementId"

    def detail(self):
        return self.variable

    def run(self, ctx, rows):
        slot, value_of, element, many = self.slot, self.value, self.element, self.many
        for row in self.input.run(ctx, rows):
            for gid in _ids(value_of(row, ctx), element, many):
                vertex = ctx.tx.vertex_by_id(gid)
                if vertex is not None:
                    out = row.copy()
                    out[slot] = vertex
                    yield out


class ScanEdgeById(Operator):
    """`id(r) = e`, `elementId(r) = e` or `... IN list` for a relationship of a
    pattern with no node to start from: binds the relationship and the node on
    its `direction` side ("out": the node it leaves, "in": the node it enters,
    "both": each in turn); the Expand after it checks the rest."""

    name = "ScanEdgeById"

    def __init__(self, input: Operator, rel_slot: int, slot: int, variable: str, direction: str, value: Callable,
                 element: bool = False, many: bool = False):
        self.input, self.rel_slot, self.slot, self.variable = input, rel_slot, slot, variable
        self.direction, self.value, self.element, self.many = direction, value, element, many
        if element:
            self.name = "ScanEdgeByElementId"

    def detail(self):
        return self.variable

    def run(self, ctx, rows):
        rel_slot, slot, value_of, element, many = self.rel_slot, self.slot, self.value, self.element, self.many
        direction = self.direction
        for row in self.input.run(ctx, rows):
            for gid in _ids(value_of(row, ctx), element, many):
                edge = ctx.tx.edge_by_id(gid)
                if edge is None:
                    continue
                for vertex in _edge_ends(edge, direction):
                    out = row.copy()
                    out[rel_slot] = edge
                    out[slot] = vertex
                    yield out


class NodeFilter(Operator):
    """Labels and property map of a node pattern whose variable is already bound
    (or was bound by a scan that did not check them)."""

    name = "NodeFilter"

    def __init__(self, input: Operator, slot: int, variable: str, labels: tuple, props: list):
        self.input, self.slot, self.variable, self.labels, self.props = input, slot, variable, labels, props

    def detail(self):
        return self.variable + "".join(":" + label for label in self.labels)

    def run(self, ctx, rows):
        check = node_checker(self.labels, self.props)
        slot = self.slot
        for row in self.input.run(ctx, rows):
            vertex = row[slot]
            if vertex is not None and check(vertex, row, ctx):
                yield row


def node_checker(labels: tuple, props: Iterable) -> Callable[[Vertex, Row, Any], bool]:
    """A test for a node pattern's labels and `{key: expr}` map (Cypher equality)."""
    equals = values.equals

    def check(vertex, row, ctx):
        tx = ctx.tx
        if type(vertex) is not Vertex:
            raise not_a_node(vertex)
        for label in labels:
            if not tx.has_label(vertex, label):
                return False
        for key, value in props:
            if equals(tx.get(vertex, key), value(row, ctx)) is not True:
                return False
        return True

    return check


def not_a_node(value: Any) -> CypherTypeError:
    """A variable bound to something else (`WITH 1 AS x MATCH (x)-->()`) used as a node."""
    return CypherTypeError(f"Expected a node, got {values.type_name(value)}.")


def edge_checker(types: tuple, props: Iterable) -> Callable[[Edge, Row, Any], bool]:
    equals = values.equals

    def check(edge, row, ctx):
        if types and edge.type not in types:
            return False
        for key, value in props:
            if equals(ctx.tx.get(edge, key), value(row, ctx)) is not True:
                return False
        return True

    return check


def _edges(tx, vertex: Vertex, direction: str) -> list[tuple[Edge, Vertex]]:
    """(edge, other end) pairs leaving `vertex` in `direction`; a self-loop once."""
    if direction == "out":
        return [(e, e.dst) for e in tx.out_edges(vertex)]
    if direction == "in":
        return [(e, e.src) for e in tx.in_edges(vertex)]
    return [(e, e.dst) for e in tx.out_edges(vertex)] + [
        (e, e.src) for e in tx.in_edges(vertex) if e.src is not vertex
    ]


@dataclass(frozen=True, slots=True)
class Hop:
    """One relationship of a pattern as the planner expands it: from the node
    in slot `src` along a relationship (bound to slot `rel`) to the node in
    slot `dst`. `direction` ("out", "in" or "both") is seen from `src`;
    `types` are the allowed relationship types (none: any) and `rel_props`
    the `(key, expr)` pairs the relationship must hold; `dst_labels` and
    `dst_props` likewise for the far node. `dst_bound` when the far node is
    bound already: the hop then only checks the connection (no cartesian
    product); `rel_bound` when an earlier clause bound the relationship: only
    that one matches. `distinct_from` are the slots of the relationships bound
    earlier in the same MATCH, which this one may not repeat. `text` is
    EXPLAIN's."""

    src: int
    rel: int
    dst: int
    direction: str
    types: tuple[str, ...]
    rel_props: tuple
    dst_labels: tuple[str, ...]
    dst_props: tuple
    dst_bound: bool
    rel_bound: bool
    distinct_from: tuple[int, ...]
    text: str

    def rel_checker(self) -> Callable[[Edge, Row, Any], bool]:
        return edge_checker(self.types, self.rel_props)

    def dst_checker(self) -> Callable[[Vertex, Row, Any], bool] | None:
        return node_checker(self.dst_labels, self.dst_props) if (self.dst_labels or self.dst_props) else None


class Expand(Operator):
    """One relationship hop (see `Hop`)."""

    name = "Expand"

    def __init__(self, input: Operator, hop: Hop):
        self.input, self.hop = input, hop
        self.rel_check = hop.rel_checker()
        self.dst_check = hop.dst_checker()

    def detail(self):
        return self.hop.text

    def run(self, ctx, rows):
        hop = self.hop
        src, rel, dst, direction = hop.src, hop.rel, hop.dst, hop.direction
        bound, rel_bound, distinct_from = hop.dst_bound, hop.rel_bound, hop.distinct_from
        rel_check, dst_check = self.rel_check, self.dst_check
        tx = ctx.tx
        for row in self.input.run(ctx, rows):
            vertex = row[src]
            if type(vertex) is not Vertex:
                if vertex is None:
                    continue
                raise not_a_node(vertex)
            target = row[dst] if bound else None
            known_edge = row[rel] if rel_bound else None
            if rel_bound and type(known_edge) is not Edge:
                if known_edge is None:
                    continue
                raise CypherTypeError(f"Expected a relationship, got {values.type_name(known_edge)}.")
            for edge, other in _edges(tx, vertex, direction):
                if ctx.tick():
                    ctx.check()
                if (bound and other is not target) or (rel_bound and edge is not known_edge):
                    continue
                if not rel_check(edge, row, ctx):
                    continue
                if distinct_from and _used(edge, row, distinct_from):
                    continue
                if dst_check is not None and not dst_check(other, row, ctx):
                    continue
                out = row.copy()
                out[rel] = edge
                out[dst] = other
                yield out


def _used(edge: Edge, row: Row, slots: tuple) -> bool:
    for slot in slots:
        bound = row[slot]
        if bound is edge or (type(bound) is list and edge in bound):
            return True
    return False


class VarExpand(Operator):
    """`-[*min..max]-` (a `Hop` whose relationship slot gets a list of edges):
    depth-first, no relationship twice in one path. `reverse` when the
    planner walks the pattern from its right end: the list is still given in
    the pattern's order. A relationship slot bound already (a list of
    relationships from an earlier clause) is followed as it is."""

    name = "ExpandVariable"

    def __init__(self, input: Operator, hop: Hop, min_hops: int | None, max_hops: int | None, reverse: bool = False):
        self.input, self.hop = input, hop
        self.rel_check = hop.rel_checker()
        self.dst_check = hop.dst_checker()
        self.min_hops = 1 if min_hops is None else min_hops
        self.max_hops = max_hops
        self.reverse = reverse

    def detail(self):
        return self.hop.text

    def run(self, ctx, rows):
        src = self.hop.src
        for row in self.input.run(ctx, rows):
            start = row[src]
            if type(start) is not Vertex:
                if start is None:
                    continue
                raise not_a_node(start)
            if self.hop.rel_bound:
                yield from self._along(ctx, row, start)
            elif self.reverse:
                for out in self._paths(ctx, row, start):
                    out[self.hop.rel].reverse()
                    yield out
            else:
                yield from self._paths(ctx, row, start)

    def _along(self, ctx, row, start):
        """The one path a bound list of relationships gives, if it leads
        from `start` in the hop's direction and fits the pattern."""
        hop = self.hop
        edges = row[hop.rel]
        if edges is None:
            return
        if type(edges) is not list or any(type(edge) is not Edge for edge in edges):
            raise CypherTypeError(f"A variable length relationship needs a list of relationships, got {values.type_name(edges)}.")
        if not self.min_hops <= len(edges) <= (len(edges) if self.max_hops is None else self.max_hops):
            return
        current = start
        for edge in edges[::-1] if self.reverse else edges:
            if hop.direction != "in" and edge.src is current:
                current = edge.dst
            elif hop.direction != "out" and edge.dst is current:
                current = edge.src
            else:
                return
            if not self.rel_check(edge, row, ctx):
                return
        if hop.dst_bound and row[hop.dst] is not current:
            return
        if self.dst_check is not None and not self.dst_check(current, row, ctx):
            return
        out = row.copy()
        out[hop.dst] = current
        yield out

    def _paths(self, ctx, row, start):
        tx = ctx.tx
        hop = self.hop
        rel, direction, bound, distinct_from = hop.rel, hop.direction, hop.dst_bound, hop.distinct_from
        min_hops, max_hops = self.min_hops, self.max_hops
        rel_check, dst_check = self.rel_check, self.dst_check
        target = row[hop.dst] if bound else None
        dst = hop.dst
        path: list[Edge] = []
        on_path: set[int] = set()

        def emit(end):
            if len(path) < min_hops:
                return None
            if bound and end is not target:
                return None
            if dst_check is not None and not dst_check(end, row, ctx):
                return None
            if distinct_from and any(_used(e, row, distinct_from) for e in path):
                return None
            out = row.copy()
            out[rel] = list(path)
            out[dst] = end
            return out

        stack = [(start, iter(_edges(tx, start, direction)) if max_hops != 0 else iter(()))]
        first = emit(start)
        if first is not None:
            yield first
        while stack:
            _, edges = stack[-1]
            advanced = False
            for edge, other in edges:
                if ctx.tick():
                    ctx.check()
                if edge.gid in on_path or not rel_check(edge, row, ctx):
                    continue
                path.append(edge)
                on_path.add(edge.gid)
                found = emit(other)
                if found is not None:
                    yield found
                if max_hops is None or len(path) < max_hops:
                    stack.append((other, iter(_edges(tx, other, direction))))
                    advanced = True
                    break
                path.pop()
                on_path.discard(edge.gid)
            if not advanced:
                stack.pop()
                if path:
                    on_path.discard(path.pop().gid)


class BuildPath(Operator):
    name = "ConstructNamedPath"

    def __init__(self, input, slot, variable, node_slots, rel_slots):
        self.input, self.slot, self.variable = input, slot, variable
        self.node_slots, self.rel_slots = node_slots, rel_slots

    def detail(self):
        return self.variable

    def run(self, ctx, rows):
        for row in self.input.run(ctx, rows):
            out = row.copy()
            out[self.slot] = make_path(row, self.node_slots, self.rel_slots)
            yield out


def make_path(row: Row, node_slots: tuple, rel_slots: tuple) -> GraphPath | None:
    nodes = [row[node_slots[0]]]
    if nodes[0] is None:
        return None
    rels: list[Edge] = []
    for index, rel_slot in enumerate(rel_slots):
        bound = row[rel_slot]
        hops = bound if type(bound) is list else [bound]
        current = nodes[-1]
        for edge in hops:
            current = edge.dst if edge.src is current else edge.src
            rels.append(edge)
            nodes.append(current)
        if type(bound) is list and not hops:
            continue
        nodes[-1] = row[node_slots[index + 1]]
    return GraphPath(tuple(nodes), tuple(rels))


class Filter(Operator):
    name = "Filter"

    def __init__(self, input, predicate, text=""):
        self.input, self.predicate, self.text = input, predicate, text

    def detail(self):
        return self.text

    def run(self, ctx, rows):
        predicate = self.predicate
        for row in self.input.run(ctx, rows):
            if predicate(row, ctx) is True:
                yield row


class Optional(Operator):
    """OPTIONAL MATCH: the sub-plan's rows, or the input row with its new variables null."""

    name = "Optional"

    def __init__(self, input, subplan, new_slots):
        self.input, self.subplan, self.new_slots = input, subplan, new_slots

    def children(self):
        return [self.input, self.subplan]

    def run(self, ctx, rows):
        for row in self.input.run(ctx, rows):
            found = False
            for out in self.subplan.run(ctx, (row,)):
                found = True
                yield out
            if not found:
                out = row.copy()
                for slot in self.new_slots:
                    out[slot] = None
                yield out


class Unwind(Operator):
    name = "Unwind"

    def __init__(self, input, expr, slot, variable):
        self.input, self.expr, self.slot, self.variable = input, expr, slot, variable

    def detail(self):
        return self.variable

    def run(self, ctx, rows):
        expr, slot = self.expr, self.slot
        tick = ctx.tick
        for row in self.input.run(ctx, rows):
            value = expr(row, ctx)
            if value is None:
                continue
            items = value if type(value) in (list, tuple, range) else [value]
            for item in items:
                if tick():
                    ctx.check()
                out = row.copy()
                out[slot] = item
                yield out


class Union(Operator):
    name = "Union"

    def __init__(self, parts: list, distinct: bool, key_slots: list[list[int]], out_slots: list[int]):
        self.parts, self.distinct, self.key_slots, self.out_slots = parts, distinct, key_slots, out_slots

    def children(self):
        return self.parts

    def run(self, ctx, rows):
        seen = set()
        group_key = values.group_key
        out_slots = self.out_slots
        for part, slots in zip(self.parts, self.key_slots):
            for row in part.run(ctx, rows):
                out = row.copy()
                for target, source in zip(out_slots, slots):
                    out[target] = row[source]
                if self.distinct:
                    key = tuple(group_key(out[s]) for s in out_slots)
                    if key in seen:
                        continue
                    seen.add(key)
                yield out


# -- projection --------------------------------------------------------------------------


class Project(Operator):
    """The items of WITH / RETURN without aggregates: each into its own slot."""

    name = "Produce"

    def __init__(self, input, items: list[tuple[int, Callable]], names: list[str]):
        self.input, self.items, self.names = input, items, names

    def detail(self):
        return ", ".join(self.names)

    def run(self, ctx, rows):
        items = self.items
        for row in self.input.run(ctx, rows):
            out = row.copy()
            for slot, expr in items:
                out[slot] = expr(row, ctx)
            yield out


class Aggregate(Operator):
    """Groups by the key items; aggregates go to their own slots. With no key
    items and no input rows, one row of empty aggregates (count = 0)."""

    name = "Aggregate"

    def __init__(self, input, keys: list[tuple[int, Callable]], aggregates: list[tuple[int, str, bool, Callable | None, list]], names):
        self.input, self.keys, self.aggregates, self.names = input, keys, aggregates, names

    def detail(self):
        return ", ".join(self.names)

    def _new(self, ctx, row):
        return [
            CountStar() if arg is None else make_aggregate(name, distinct, [e(row, ctx) for e in extra])
            for _, name, distinct, arg, extra in self.aggregates
        ]

    def run(self, ctx, rows):
        groups: dict[tuple, tuple[Row, list]] = {}
        group_key = values.group_key
        keys, aggregates = self.keys, self.aggregates
        for row in self.input.run(ctx, rows):
            if ctx.tick():
                ctx.check()
            key_values = [expr(row, ctx) for _, expr in keys]
            key = tuple(group_key(v) for v in key_values)
            group = groups.get(key)
            if group is None:
                out = row.copy()
                for (slot, _), value in zip(keys, key_values):
                    out[slot] = value
                group = groups[key] = (out, self._new(ctx, row))
            for accumulator, (_, _, _, arg, _) in zip(group[1], aggregates):
                accumulator.add(arg(row, ctx) if arg is not None else True)
        if not groups and not keys:
            base = [None] * ctx.nslots
            groups[()] = (base, self._new(ctx, base))
        for out, accumulators in groups.values():
            for (slot, *_), accumulator in zip(aggregates, accumulators):
                out[slot] = accumulator.result()
            yield out


class Distinct(Operator):
    name = "Distinct"

    def __init__(self, input, slots: list[int]):
        self.input, self.slots = input, slots

    def run(self, ctx, rows):
        seen = set()
        group_key = values.group_key
        slots = self.slots
        for row in self.input.run(ctx, rows):
            key = tuple(group_key(row[s]) for s in slots)
            if key not in seen:
                seen.add(key)
                yield row


class OrderBy(Operator):
    name = "OrderBy"

    def __init__(self, input, keys: list[tuple[Callable, bool]], text: str):
        self.input, self.keys, self.text = input, keys, text

    def detail(self):
        return self.text

    def run(self, ctx, rows):
        order_key = values.order_key
        decorated = [([order_key(expr(row, ctx)) for expr, _ in self.keys], row) for row in self.input.run(ctx, rows)]
        # Stable sorts from the last key to the first give mixed directions.
        for index in range(len(self.keys) - 1, -1, -1):
            decorated.sort(key=lambda item: item[0][index], reverse=self.keys[index][1])
        for _, row in decorated:
            yield row


class Skip(Operator):
    name = "Skip"

    def __init__(self, input, count: Callable):
        self.input, self.count = input, count

    def run(self, ctx, rows):
        remaining = ctx.row_count(self.count, "SKIP")
        for row in self.input.run(ctx, rows):
            if remaining > 0:
                remaining -= 1
                continue
            yield row


class Limit(Operator):
    """LIMIT bounds the rows, never the updates before it: with `after_writes`,
    LIMIT 0 still pulls one row, which runs the (eager) write operators below."""

    name = "Limit"

    def __init__(self, input, count: Callable, after_writes: bool = False):
        self.input, self.count, self.after_writes = input, count, after_writes

    def run(self, ctx, rows):
        remaining = ctx.row_count(self.count, "LIMIT")
        if remaining <= 0:
            if self.after_writes:
                next(iter(self.input.run(ctx, rows)), None)
            return
        for row in self.input.run(ctx, rows):
            yield row
            remaining -= 1
            if remaining <= 0:
                return


# -- writing ------------------------------------------------------------------------------


class Write(Operator):
    """Base of the write operators: one `apply(ctx, row) -> row` per input row.
    Eager unless `streams`: then each row is applied as it arrives, so no
    row outlives its write (a bulk load then keeps no list of 10k rows
    alive for the garbage collector to scan)."""

    def __init__(self, input, text="", streams: bool = False):
        self.input, self.text, self.streams = input, text, streams

    def detail(self):
        return self.text

    def run(self, ctx, rows):
        rows = self.input.run(ctx, rows)
        if self.streams:
            return map(self.apply, repeat(ctx), rows)
        return iter(list(map(self.apply, repeat(ctx), list(rows))))

    def apply(self, ctx, row):
        raise NotImplementedError


def check_property_value(value: Any, key: str) -> Any:
    """A value that may be stored as a property, or a CypherTypeError saying why not."""
    kind = type(value)
    if kind in (str, int, float, bool) or value is None:
        if kind is int and not -(1 << 63) <= value < (1 << 63):
            raise CypherTypeError(f"Property `{key}`: integer {value} does not fit in 64 bits.")
        return value
    if kind is list:
        for item in value:
            if item is None:
                raise CypherTypeError(f"Property `{key}`: a list stored as a property cannot hold null.")
            check_property_value(item, key)
        return value
    if kind is dict:
        for item in value.values():
            check_property_value(item, key)
        return value
    if getattr(value, "cypher_kind", None) is not None:
        raise CypherTypeError(f"Property `{key}`: a {values.type_name(value)} cannot be stored as a property value.")
    if values.type_name(value) in ("DATE", "LOCAL_TIME", "ZONED_TIME", "LOCAL_DATE_TIME", "ZONED_DATE_TIME", "DURATION"):
        return value
    raise CypherTypeError(f"Property `{key}`: values of type {type(value).__name__} cannot be stored.")


_MIN_INT, _MAX_INT = -(1 << 63), (1 << 63) - 1


def evaluate_properties(props: list | Callable, row: Row, ctx, merging: bool = False) -> dict:
    """The property map to store; null values are dropped, except that MERGE
    refuses them: it could never match what it created (openCypher). `props`
    is a list of (key, expr), or one expr giving the whole map (`CREATE (n $map)`)."""
    if not isinstance(props, list):
        return _map_properties(props(row, ctx))
    out = {}
    for key, expr in props:
        value = expr(row, ctx)
        kind = type(value)
        if kind is str or kind is float or kind is bool or (kind is int and _MIN_INT <= value <= _MAX_INT):
            out[key] = value  # the common scalars, checked inline: this runs once per property per row
        elif value is not None:
            out[key] = check_property_value(value, key)
        elif merging:
            raise CypherSemanticError(f"Cannot merge using a null property value for `{key}`.")
    return out


def _map_properties(value: Any) -> dict:
    if type(value) is not dict:
        raise CypherTypeError(f"The properties of a created element must be a map, not {values.type_name(value)}.")
    return {key: check_property_value(item, key) for key, item in value.items() if item is not None}


class CreatePattern(Write):
    """Creates the nodes and relationships of CREATE (and of MERGE when nothing matched).

    `nodes`: (slot, labels, props, create?) per node pattern; `rels`: (slot,
    type, props, from-node index, to-node index) per relationship."""

    name = "Create"

    def __init__(self, input, parts, text, merging: bool = False, streams: bool = False):
        super().__init__(input, text, streams)
        self.parts = parts  # list of (nodes, rels, path_slot, node_slots, rel_slots)
        self.merging = merging

    def apply(self, ctx, row):
        out = row.copy()
        tx = ctx.tx
        counters = ctx.counters
        for nodes, rels, path_slot, node_slots, rel_slots in self.parts:
            for slot, labels, props, create in nodes:
                if not create:
                    node = out[slot]
                    if type(node) is not Vertex:
                        if node is None:
                            raise EntityNotFound("Cannot create a relationship to a null node.")
                        raise not_a_node(node)
                    continue
                properties = evaluate_properties(props, out, ctx, self.merging)
                out[slot] = tx.create_vertex(labels, properties)
                counters["nodes-created"] += 1
                counters["labels-added"] += len(labels)
                counters["properties-set"] += len(properties)
            for slot, type_, props, start, end in rels:
                properties = evaluate_properties(props, out, ctx, self.merging) if props else {}
                out[slot] = tx.create_edge(out[start], out[end], type_, properties)
                counters["relationships-created"] += 1
                if properties:
                    counters["properties-set"] += len(properties)
            if path_slot is not None:
                out[path_slot] = make_path(out, node_slots, rel_slots)
        return out


class SetItems(Write):
    """SET and the ON CREATE / ON MATCH parts of MERGE. Items:
    ("property", subject, key, value) / ("properties", slot, value, replace) / ("labels", slot, labels)."""

    name = "SetProperties"

    def __init__(self, input, items, text):
        super().__init__(input, text)
        self.items = items

    def apply(self, ctx, row):
        set_items(ctx, row, self.items)
        return row


def _entity(value: Any, what: str) -> Any:
    if value is None or type(value) in (Vertex, Edge):
        return value
    raise CypherTypeError(f"{what} needs a node or relationship, not {values.type_name(value)}.")


def set_items(ctx, row: Row, items: list) -> None:
    for item in items:
        _SETTERS[item[0]](ctx, row, item)


def _set_property(ctx, row: Row, item: tuple) -> None:
    _, subject, key, value = item
    target = _entity(subject(row, ctx), "SET")
    if target is not None and ctx.tx.set_property(target, key, check_property_value(value(row, ctx), key)):
        ctx.counters["properties-set"] += 1


def _set_properties(ctx, row: Row, item: tuple) -> None:
    _, slot, value, replace = item
    target = _entity(row[slot], "SET")
    if target is None:
        return
    tx, counters = ctx.tx, ctx.counters
    new = value(row, ctx)
    if type(new) in (Vertex, Edge):
        new = tx.properties(new)
    elif new is None:
        new = {}
    elif type(new) is not dict:
        raise CypherTypeError(f"SET {'=' if replace else '+='} needs a map, not {values.type_name(new)}.")
    if replace:
        for key in list(tx.properties(target)):
            if key not in new and tx.set_property(target, key, None):
                counters["properties-set"] += 1
    for key, item_value in new.items():
        if tx.set_property(target, key, check_property_value(item_value, key)):
            counters["properties-set"] += 1


def _set_labels(ctx, row: Row, item: tuple) -> None:
    _, slot, labels = item
    target = row[slot]
    if target is None:
        return
    if type(target) is not Vertex:
        raise CypherTypeError(f"Labels can only be set on a node, not {values.type_name(target)}.")
    for label in labels:
        if ctx.tx.add_label(target, label):
            ctx.counters["labels-added"] += 1


def dynamic_labels(value: Any) -> tuple[str, ...]:
    """The labels `:$(expr)` stands for: a string, or a list of strings."""
    if type(value) is str:
        labels: tuple = (value,)
    elif type(value) is list and value and all(type(item) is str for item in value):
        labels = tuple(value)
    else:
        raise CypherTypeError(f"A dynamic label :$(...) must be a STRING or a LIST<STRING>, not {values.type_name(value)}.")
    if "" in labels:
        raise CypherTypeError("A dynamic label :$(...) cannot be the empty string.")
    return labels


def _set_dynamic_labels(ctx, row: Row, item: tuple) -> None:
    """("dynamic_labels", slot, exprs): `SET n:$(expr)`, and the labels of a node MERGE creates."""
    _, slot, exprs = item
    labels = tuple(label for expr in exprs for label in dynamic_labels(expr(row, ctx)))
    _set_labels(ctx, row, ("labels", slot, labels))


def has_dynamic_labels(slot: int, exprs: list) -> Callable[[Row, Any], Any]:
    """The test `(n:$(expr))` adds to MATCH and MERGE: the node in `slot` has every label."""

    def test(row, ctx):
        vertex = row[slot]
        if vertex is None:
            return None
        if type(vertex) is not Vertex:
            raise not_a_node(vertex)
        has_label = ctx.tx.has_label
        return all(has_label(vertex, label) for expr in exprs for label in dynamic_labels(expr(row, ctx)))

    return test


_SETTERS = {"property": _set_property, "properties": _set_properties, "labels": _set_labels,
            "dynamic_labels": _set_dynamic_labels}


class RemoveItems(Write):
    """Items: ("property", subject, key) / ("labels", slot, labels)."""

    name = "RemoveProperties"

    def __init__(self, input, items, text):
        super().__init__(input, text)
        self.items = items

    def apply(self, ctx, row):
        tx = ctx.tx
        for item in self.items:
            if item[0] == "property":
                target = _entity(item[1](row, ctx), "REMOVE")
                if target is not None and tx.set_property(target, item[2], None):
                    ctx.counters["properties-set"] += 1
            else:
                target = row[item[1]]
                if target is None:
                    continue
                if type(target) is not Vertex:
                    raise CypherTypeError(f"Labels can only be removed from a node, not {values.type_name(target)}.")
                for label in item[2]:
                    if tx.remove_label(target, label):
                        ctx.counters["labels-removed"] += 1
        return row


class DeleteItems(Write):
    name = "Delete"

    def __init__(self, input, exprs, detach, text):
        super().__init__(input, text)
        self.exprs, self.detach = exprs, detach

    def run(self, ctx, rows):
        rows = list(self.input.run(ctx, rows))
        # Relationships first, those of paths too, so `MATCH (a)-[r]->(b) DELETE r, a, b`
        # and deleting two paths that share nodes need no DETACH.
        targets = []
        for row in rows:
            for expr in self.exprs:
                target = expr(row, ctx)
                if type(target) is GraphPath:
                    targets += target.relationships
                    targets += target.nodes
                else:
                    targets.append(target)
        ordered = sorted(targets, key=lambda t: 0 if type(t) is Edge else 1)
        for target in ordered:
            self._delete(ctx, target)
        return iter(rows)

    def _delete(self, ctx, target):
        tx = ctx.tx
        kind = type(target)
        if target is None:
            return
        if kind is Edge:
            if tx.delete_edge(target):
                ctx.counters["relationships-deleted"] += 1
        elif kind is Vertex:
            deleted, edges = tx.delete_vertex(target, self.detach)
            ctx.counters["nodes-deleted"] += int(deleted)
            ctx.counters["relationships-deleted"] += edges
        elif kind is GraphPath:
            for edge in target.relationships:
                self._delete(ctx, edge)
            for vertex in target.nodes:
                self._delete(ctx, vertex)
        else:
            raise CypherTypeError(f"DELETE needs a node, relationship or path, not {values.type_name(target)}.")


class Merge(Operator):
    """MERGE: the match sub-plan's rows with ON MATCH applied, or else one
    created row with ON CREATE applied."""

    name = "Merge"

    def __init__(self, input, match, create: CreatePattern, on_match, on_create, text):
        self.input, self.match, self.create = input, match, create
        self.on_match, self.on_create, self.text = on_match, on_create, text

    def detail(self):
        return self.text

    def children(self):
        return [self.input, self.match]

    def run(self, ctx, rows):
        out = []
        for row in list(self.input.run(ctx, rows)):
            matched = list(self.match.run(ctx, (row,)))
            if matched:
                for found in matched:
                    set_items(ctx, found, self.on_match)
                out.extend(matched)
            else:
                created = self.create.apply(ctx, row)
                set_items(ctx, created, self.on_create)
                out.append(created)
        return iter(out)


class DynamicLabels(Write):
    """Labels computed per row: `REMOVE n:$(expr)` (`add` false) and the
    labels of nodes CREATE makes with `(n:$(expr))`, which streams when that
    CREATE does. Items: (slot, exprs)."""

    def __init__(self, input, items: list, add: bool, text: str, streams: bool = False):
        super().__init__(input, text, streams)
        self.items, self.add = items, add
        self.name = "SetLabels" if add else "RemoveLabels"

    def apply(self, ctx, row):
        for slot, exprs in self.items:
            if self.add:
                _set_dynamic_labels(ctx, row, ("dynamic_labels", slot, exprs))
                continue
            target = row[slot]
            if target is None:
                continue
            if type(target) is not Vertex:
                raise CypherTypeError(f"Labels can only be removed from a node, not {values.type_name(target)}.")
            for label in (label for expr in exprs for label in dynamic_labels(expr(row, ctx))):
                if ctx.tx.remove_label(target, label):
                    ctx.counters["labels-removed"] += 1
        return row


# -- reading files ----------------------------------------------------------------------------


class LoadCsv(Operator):
    """LOAD CSV: each input row once per record of the file its source names
    (query/load_csv.py reads it), with the record in `slot` and its line and
    path in the slots linenumber() and file() read. The rows stream: the file
    is read as they are pulled."""

    name = "LoadCsv"

    def __init__(self, input, source: Callable, slots: tuple[int, int, int], options: load_csv.Options, variable: str):
        self.input, self.source, self.slots, self.options, self.variable = input, source, slots, options, variable

    def detail(self):
        return self.variable

    def run(self, ctx, rows):
        slot, line_slot, file_slot = self.slots
        options, tick = self.options, ctx.tick
        for row in self.input.run(ctx, rows):
            shown = self.source(row, ctx)
            path = load_csv.resolve(ctx.import_directory, shown)
            for line, record in load_csv.read_rows(path, shown, options):
                if tick():
                    ctx.check()
                out = row.copy()
                out[slot] = record
                out[line_slot] = line
                out[file_slot] = path
                yield out

"""Shortest paths: the searches behind Neo4j's `shortestPath()` and
`allShortestPaths()` and Memgraph's `*BFS`, `*WSHORTEST` and `*ALLSHORTEST`.

Every search keeps what a visited map needs (a parent pointer per vertex
reached, or per (vertex, depth) state when a weighted search has an upper
bound) plus its frontier or priority queue, and rebuilds a path from the
parent pointers only when it hands the path out: memory grows with the part
of the graph searched, never with the number of paths. All-shortest searches
keep every equally short parent instead of one, and list the paths through
them one at a time. Every CHECK_EVERY relationships looked at, a search
calls the running query's `check()`, so the timeout, cancellation and memory
limits stop it as they stop any operator; adjacency comes from the
transaction (`out_edges`, `in_edges`), so a search sees the transaction's
snapshot.

The searches:

- `bfs`, `bfs_all`: breadth-first from one vertex, one shortest path (or
  all of them) to every vertex reached, nearest first.
- `bfs_between`, `bfs_all_between`: bidirectional breadth-first between two
  vertices, expanding the smaller frontier; the first meeting is a shortest
  path (each level is expanded whole).
- `dijkstra`, `dijkstra_all`: lightest paths by a weight lambda, one vertex
  at a time in order of weight; with an upper bound on hops the states are
  (vertex, depth) pairs, as in Memgraph.
- `dijkstra_between`: bidirectional Dijkstra between two vertices.
- `trails_between`: the fallback for what the others cannot answer, Neo4j's
  "exhaustive search": trails (no relationship twice) of growing length,
  depth-first with a bound from the hop distances to the target, until one
  passes the path's predicates.

The planner's part (`plan_search`, `plan_shortest`, `plan_shortest_expression`)
turns a pattern into a `PathSearch` operator; docs/cypher.md ("Shortest
paths") is the user's description.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from itertools import count
from typing import Any, Callable, Iterator

from weftdb.basics.errors import CypherSemanticError, CypherTypeError
from weftdb.graph.objects import Edge, Vertex
from weftdb.query import ast, values
from weftdb.query import operators as op
from weftdb.query.expressions import GraphPath

_REVERSED = {"out": "in", "in": "out", "both": "both"}
CHECK_EVERY = 1024  # relationships looked at between checks of the running query (timeout, cancel, memory)
_NAMES = {"shortest": "shortestPath", "all": "allShortestPaths"}


# --------------------------------------------------------------------------
# What one search may do: the steps from a vertex, the filters, the weights
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Lambda:
    """A compiled `(r, n[, p[, w]] | expr)`: the slots its variables take in
    the row and the compiled expression."""

    edge_slot: int
    node_slot: int
    path_slot: int | None
    weight_slot: int | None
    expr: Callable
    edge_property: str | None = None  # the lambda is `(r, n | r.key)`: read the key, no expression

    @property
    def needs_path(self) -> bool:
        return self.path_slot is not None


@dataclass(frozen=True)
class ElementTest:
    """`all(x IN relationships(p) WHERE cond)` (want True) or `none(...)`
    (want False): `cond` compiled with `x` in `slot`."""

    slot: int
    expr: Callable
    want: bool


@dataclass
class Search:
    """How a `PathSearch` searches, fixed by the query text.

    `kind`: "bfs" (hops) or "weighted"; `all_paths` for all shortest paths;
    `semantics`: "memgraph" (bounds filter the shortest path found: a vertex
    nearer than the lower bound gives no path) or "neo4j" (the shortest path
    among those within the bounds, and WHERE predicates on the path chose
    it). `src`, `dst`, `rel` are slots; `reverse` when the search runs from
    the pattern's right end, so the relationships are handed out reversed.
    """

    kind: str
    all_paths: bool
    semantics: str
    src: int
    dst: int
    rel: int
    dst_bound: bool
    direction: str
    reverse: bool
    min_hops: int
    max_hops: int | None
    types: tuple[str, ...] = ()
    rel_props: tuple = ()
    dst_labels: tuple[str, ...] = ()
    dst_props: tuple = ()
    edge_tests: tuple[ElementTest, ...] = ()
    node_tests: tuple[ElementTest, ...] = ()
    path_tests: tuple[Callable, ...] = ()
    filter: Lambda | None = None
    weight: Lambda | None = None
    total_slot: int | None = None
    path_slot: int | None = None
    distinct_from: tuple[int, ...] = ()
    name: str = "PathSearch"
    text: str = ""
    description: str = field(default="", repr=False)


class Walker:
    """The steps a search may take for one input row: relationships the
    transaction sees that pass the pattern's types and properties, the
    element tests, and the uniqueness with relationships bound earlier.
    `row` is the search's own copy of the input row: lambdas and tests write
    their variables into it."""

    def __init__(self, search: Search, ctx, row: list):
        self.search = search
        self.ctx = ctx
        self.tx = ctx.tx
        self.row = row
        self.direction = search.direction
        self.edge_check = op.edge_checker(search.types, search.rel_props) if (search.types or search.rel_props) else None
        self.excluded = _bound_edges(row, search.distinct_from)
        self.edge_tests = search.edge_tests
        self.node_tests = search.node_tests
        self.filter = search.filter
        self.weight = search.weight
        self.looked_at = 0  # relationships since the last check of the running query
        plain = not (search.rel_props or self.excluded or self.edge_tests or self.node_tests)
        self.only_types = frozenset(search.types) if plain and search.types else None  # the one test: a type

    def node_ok(self, vertex: Vertex) -> bool:
        row, ctx = self.row, self.ctx
        for test in self.node_tests:
            row[test.slot] = vertex
            if test.expr(row, ctx) is not test.want:
                return False
        return True

    def candidates(self, vertex: Vertex, backward: bool = False) -> list[tuple[Edge, Vertex]]:
        """(relationship, vertex at its other end) pairs a path may take from
        `vertex` (against the pattern's direction when `backward`). A hot
        path (docs/hot-paths.md): a type as the only test has its own pass."""
        direction = _REVERSED[self.direction] if backward else self.direction
        tx = self.tx
        types = self.only_types
        if types is not None and direction != "both":  # the common case in one pass: a type is the one test
            edges = tx.out_edges(vertex) if direction == "out" else tx.in_edges(vertex)
            if direction == "out":
                pairs = [(edge, edge.dst) for edge in edges if edge.type in types]
            else:
                pairs = [(edge, edge.src) for edge in edges if edge.type in types]
            self.looked_at += len(edges)
            if self.looked_at >= CHECK_EVERY:
                self.looked_at = 0
                self.ctx.check()
            return pairs
        if direction == "out":
            pairs = [(edge, edge.dst) for edge in tx.out_edges(vertex)]
        elif direction == "in":
            pairs = [(edge, edge.src) for edge in tx.in_edges(vertex)]
        else:
            pairs = [(edge, edge.dst) for edge in tx.out_edges(vertex)]
            pairs += [(edge, edge.src) for edge in tx.in_edges(vertex) if edge.src is not vertex]
        self.looked_at += len(pairs)
        if self.looked_at >= CHECK_EVERY:
            self.looked_at = 0
            self.ctx.check()
        if self.only_types is not None:
            types = self.only_types
            return [pair for pair in pairs if pair[0].type in types]
        if self.edge_check is None and not self.excluded and not self.edge_tests and not self.node_tests:
            return pairs
        return [(edge, other) for edge, other in pairs if self._step_ok(edge, other)]

    def _step_ok(self, edge: Edge, other: Vertex) -> bool:
        row, ctx = self.row, self.ctx
        if edge in self.excluded:
            return False
        if self.edge_check is not None and not self.edge_check(edge, row, ctx):
            return False
        for test in self.edge_tests:
            row[test.slot] = edge
            if test.expr(row, ctx) is not test.want:
                return False
        return not self.node_tests or self.node_ok(other)

    def passes(self, edge: Edge, reached: Vertex, path: Callable[[], GraphPath] | None = None, weight: Any = None) -> bool:
        """Memgraph's filter lambda for the step over `edge` to `reached`;
        `path` builds the path so far (including the step) when the lambda
        reads it."""
        lam = self.filter
        if lam is None:
            return True
        row = self.row
        row[lam.edge_slot] = edge
        row[lam.node_slot] = reached
        if lam.path_slot is not None:
            row[lam.path_slot] = path() if path is not None else None
        if lam.weight_slot is not None:
            row[lam.weight_slot] = weight
        return lam.expr(row, self.ctx) is True

    def weigh(self, edge: Edge | None, reached: Vertex) -> int | float:
        """The weight lambda for one step (`edge` None for the start vertex,
        whose weight counts when it is a number, as in Memgraph)."""
        lam = self.weight
        if lam.edge_property is not None:
            value = None if edge is None else self.tx.get(edge, lam.edge_property)
        else:
            row = self.row
            row[lam.edge_slot] = edge
            row[lam.node_slot] = reached
            value = lam.expr(row, self.ctx)
        kind = type(value)
        if (kind is int or kind is float) and value >= 0:
            return value
        if edge is None and value is None:
            return 0
        where = f"the start node {reached.gid}" if edge is None else f"relationship {edge.gid} to node {reached.gid}"
        if kind is int or kind is float:
            raise CypherTypeError(
                f"The weight lambda gave {value} for {where}: *WSHORTEST and *ALLSHORTEST need weights of "
                "0 or more (with a negative one there may be no lightest path).")
        raise CypherTypeError(
            f"The weight lambda must give a number, but gave {values.type_name(value)} for {where}; "
            "give relationships without a weight one in the lambda, e.g. (r, n | coalesce(r.weight, 1)).")


def _bound_edges(row: list, slots: tuple[int, ...]) -> set:
    """The relationships bound earlier in the same MATCH, which a path may not reuse."""
    found = set()
    for slot in slots:
        value = row[slot]
        if type(value) is Edge:
            found.add(value)
        elif type(value) is list:
            found.update(item for item in value if type(item) is Edge)
    return found


# --------------------------------------------------------------------------
# Paths from parent pointers
# --------------------------------------------------------------------------


def _edges_to(parents: dict, vertex) -> list[Edge]:
    """The relationships from the search's root to `vertex`, following one
    parent pointer (edge, previous) per vertex, or per (vertex, depth) state
    in the searches that keep states."""
    edges = []
    step = parents[vertex]
    while step is not None:
        edge, vertex = step
        edges.append(edge)
        step = parents[vertex]
    edges.reverse()
    return edges


def _nodes_along(start: Vertex, edges: list[Edge]) -> list[Vertex]:
    nodes = [start]
    for edge in edges:
        here = nodes[-1]
        nodes.append(edge.dst if edge.src is here else edge.src)
    return nodes


def _path(start: Vertex, edges: list[Edge]) -> GraphPath:
    return GraphPath(tuple(_nodes_along(start, edges)), tuple(edges))


def _paths_back(preds: dict, root, node) -> Iterator[list[Edge]]:
    """Every path from `root` to `node` through `preds` (state -> list of
    (edge, previous state)), as lists of relationships from `root`; depth
    first, one path held at a time. A state already on the path is not
    entered again (zero-weight cycles)."""
    if node == root:
        yield []
        return
    edges: list[Edge] = []
    on_path = [node]
    seen = {node}
    stack = [iter(preds.get(node, ()))]
    while stack:
        for edge, previous in stack[-1]:
            if previous in seen:
                continue
            edges.append(edge)
            if previous == root:
                yield edges[::-1]
                edges.pop()
                continue
            on_path.append(previous)
            seen.add(previous)
            stack.append(iter(preds.get(previous, ())))
            break
        else:
            stack.pop()
            seen.discard(on_path.pop())
            if edges:
                edges.pop()


# --------------------------------------------------------------------------
# Breadth-first searches (hops)
# --------------------------------------------------------------------------


def bfs(walker: Walker, start: Vertex, min_hops: int, max_hops: int | None) -> Iterator[tuple[Vertex, list[Edge]]]:
    """One shortest path to every vertex reachable from `start`, nearest
    first; vertices nearer than `min_hops` are passed through, not handed out."""
    if min_hops == 0:
        yield start, []
    parents: dict = {start: None}
    frontier = [start]
    depth = 0
    lam = walker.filter
    while frontier and (max_hops is None or depth < max_hops):
        depth += 1
        reached = []
        for vertex in frontier:
            for edge, other in walker.candidates(vertex):
                if other in parents:
                    continue
                if lam is not None and not walker.passes(edge, other, _path_builder(start, parents, vertex, edge)):
                    continue
                parents[other] = (edge, vertex)
                reached.append(other)
                if depth >= min_hops:
                    yield other, _edges_to(parents, other)
        frontier = reached


def _path_builder(start: Vertex, parents: dict, vertex, edge: Edge) -> Callable[[], GraphPath]:
    """The path to `vertex` (or (vertex, depth) state) and on over `edge`, built only when asked for."""
    return lambda: _path(start, _edges_to(parents, vertex) + [edge])


def bfs_all(walker: Walker, start: Vertex, min_hops: int, max_hops: int | None) -> Iterator[tuple[Vertex, list[Edge]]]:
    """Every shortest path to every vertex reachable from `start`, nearest
    first. Each vertex keeps all its parents one level up; the paths to a
    vertex are listed once its level is complete."""
    if min_hops == 0:
        yield start, []
    level = {start: 0}
    preds: dict = {}
    frontier = [start]
    depth = 0
    while frontier and (max_hops is None or depth < max_hops):
        depth += 1
        reached = []
        for vertex in frontier:
            for edge, other in walker.candidates(vertex):
                seen = level.get(other)
                if seen is None:
                    level[other] = depth
                    preds[other] = [(edge, vertex)]
                    reached.append(other)
                elif seen == depth:
                    preds[other].append((edge, vertex))
        if depth >= min_hops:
            for other in reached:
                for edges in _paths_back(preds, start, other):
                    yield other, edges
        frontier = reached


def bfs_between(walker: Walker, src: Vertex, dst: Vertex, min_hops: int, max_hops: int | None) -> Iterator[list[Edge]]:
    """One shortest path from `src` to `dst`, searched from both ends; none
    when it is shorter than `min_hops` (Memgraph's bounds) or longer than
    `max_hops`. The filter lambda must not read the path."""
    if src is dst:
        if min_hops == 0:
            yield []
        return
    forward: dict = {src: None}
    backward: dict = {dst: None}
    ends = [[src], [dst]]
    depths = [0, 0]
    lam = walker.filter
    while ends[0] and ends[1] and (max_hops is None or depths[0] + depths[1] < max_hops):
        side = 0 if len(ends[0]) <= len(ends[1]) else 1
        mine, theirs = (forward, backward) if side == 0 else (backward, forward)
        depths[side] += 1
        reached = []
        for vertex in ends[side]:
            for edge, other in walker.candidates(vertex, backward=side == 1):
                if other in mine:
                    continue
                if lam is not None and not walker.passes(edge, vertex if side else other):
                    continue
                mine[other] = (edge, vertex)
                if other in theirs:
                    edges = _edges_to(forward, other) + _edges_to(backward, other)[::-1]
                    if len(edges) >= min_hops:
                        yield edges
                    return
                reached.append(other)
        ends[side] = reached


def bfs_all_between(walker: Walker, src: Vertex, dst: Vertex, min_hops: int, max_hops: int | None) -> Iterator[list[Edge]]:
    """Every shortest path from `src` to `dst`, searched from both ends: the
    level where the searches meet is completed, then the paths through each
    meeting vertex are listed (each shortest path has exactly one vertex at
    that distance from `src`)."""
    if src is dst:
        if min_hops == 0:
            yield []
        return
    levels = [{src: 0}, {dst: 0}]
    preds: list[dict] = [{}, {}]
    ends = [[src], [dst]]
    depths = [0, 0]
    while ends[0] and ends[1] and (max_hops is None or depths[0] + depths[1] < max_hops):
        side = 0 if len(ends[0]) <= len(ends[1]) else 1
        mine, theirs, my_preds = levels[side], levels[1 - side], preds[side]
        depths[side] += 1
        depth = depths[side]
        reached, meetings = [], []
        for vertex in ends[side]:
            for edge, other in walker.candidates(vertex, backward=side == 1):
                seen = mine.get(other)
                if seen is None:
                    mine[other] = depth
                    my_preds[other] = [(edge, vertex)]
                    reached.append(other)
                    if other in theirs:
                        meetings.append(other)
                elif seen == depth:
                    my_preds[other].append((edge, vertex))
        if meetings:
            shortest = min(depth + theirs[m] for m in meetings)
            if shortest < min_hops:
                return
            for meeting in meetings:
                if depth + theirs[meeting] != shortest:
                    continue
                for head in _paths_back(preds[0], src, meeting):
                    for tail in _paths_back(preds[1], dst, meeting):
                        yield head + tail[::-1]
            return
        ends[side] = reached


# --------------------------------------------------------------------------
# Weighted searches
# --------------------------------------------------------------------------


def dijkstra(walker: Walker, start: Vertex, max_hops: int | None, target: Vertex | None = None
             ) -> Iterator[tuple[Vertex, list[Edge], Any]]:
    """The lightest path to every vertex reachable from `start` (or only to
    `target`), lightest first, as (vertex, relationships, total weight).
    Equal weights go to the path of fewer hops. With `max_hops` a state is
    (vertex, depth), so a lighter path of too many hops does not hide a
    heavier one within the bound."""
    keyed = max_hops is not None
    lam = walker.filter
    first = walker.weigh(None, start)
    root = (start, 0) if keyed else start
    tie = count()
    heap = [(first, 0, next(tie), start, None, None)]
    best = {root: first}
    parents: dict = {}
    handed_out = {start}
    while heap:
        weight, depth, _, vertex, edge, parent = heapq.heappop(heap)
        state = (vertex, depth) if keyed else vertex
        if state in parents:
            continue
        parents[state] = None if edge is None else (edge, parent)
        if vertex not in handed_out and (target is None or vertex is target):
            handed_out.add(vertex)
            yield vertex, _edges_to(parents, state), weight
            if target is not None:
                return
        if keyed and depth >= max_hops:
            continue
        for step, other in walker.candidates(vertex):
            total = weight + walker.weigh(step, other)
            next_state = (other, depth + 1) if keyed else other
            if next_state in parents or best.get(next_state, total + 1) <= total:
                continue
            if lam is not None and not walker.passes(step, other, _path_builder(start, parents, state, step), total):
                continue
            best[next_state] = total
            heapq.heappush(heap, (total, depth + 1, next(tie), other, step, state))


def dijkstra_between(walker: Walker, src: Vertex, dst: Vertex) -> Iterator[tuple[list[Edge], Any]]:
    """The lightest path from `src` to `dst`, searched from both ends (no hop
    bound; the filter lambda reads neither the path nor its weight). Stops
    when the two lightest frontier weights add up to the best meeting found."""
    if src is dst:
        return
    first = walker.weigh(None, src)
    dist = [{src: first}, {dst: 0}]
    parents: list[dict] = [{src: None}, {dst: None}]
    settled: list[set] = [set(), set()]
    tie = count()
    heaps = [[(first, next(tie), src)], [(0, next(tie), dst)]]
    lam = walker.filter
    best, meeting = None, None
    while heaps[0] and heaps[1]:
        if best is not None and heaps[0][0][0] + heaps[1][0][0] >= best:
            break
        side = 0 if heaps[0][0][0] <= heaps[1][0][0] else 1
        weight, _, vertex = heapq.heappop(heaps[side])
        if vertex in settled[side]:
            continue
        settled[side].add(vertex)
        mine, theirs = dist[side], dist[1 - side]
        for edge, other in walker.candidates(vertex, backward=side == 1):
            if other in settled[side]:
                continue
            reached = vertex if side else other
            total = weight + walker.weigh(edge, reached)
            if other in mine and mine[other] <= total:
                continue
            if lam is not None and not walker.passes(edge, reached):
                continue
            mine[other] = total
            parents[side][other] = (edge, vertex)
            heapq.heappush(heaps[side], (total, next(tie), other))
            if other in theirs and (best is None or total + theirs[other] < best):
                best, meeting = total + theirs[other], other
    if meeting is not None:
        yield _edges_to(parents[0], meeting) + _edges_to(parents[1], meeting)[::-1], best


def dijkstra_all(walker: Walker, start: Vertex, max_hops: int | None, target: Vertex | None = None
                 ) -> Iterator[tuple[Vertex, list[Edge], Any]]:
    """Every lightest path to every vertex reachable from `start` (or only to
    `target`). Each state keeps all its parents of equal total; a vertex's
    paths are listed once every state of its weight is settled (a zero-weight
    step may still add a parent until then)."""
    keyed = max_hops is not None
    first = walker.weigh(None, start)
    root = (start, 0) if keyed else start
    tie = count()
    heap = [(first, 0, next(tie), start)]
    dist = {root: first}
    preds: dict = {root: []}
    settled: set = set()
    done = {start}
    pending: list = []  # vertices settled at the current weight, listed when the weight moves on
    lam = walker.filter
    while heap:
        weight, depth, _, vertex = heap[0]
        if pending and weight > pending[0][0]:
            yield from _list_all(preds, root, pending, keyed)
            if target is not None and any(vertex is target for _, vertex, _ in pending):
                return
            pending = []
        heapq.heappop(heap)
        state = (vertex, depth) if keyed else vertex
        if state in settled:
            continue
        settled.add(state)
        if vertex not in done and (target is None or vertex is target):
            done.add(vertex)
            pending.append((weight, vertex, state))
        elif keyed and vertex is not start and pending and any(v is vertex for _, v, _ in pending):
            pending.append((weight, vertex, state))
        if keyed and depth >= max_hops:
            continue
        for edge, other in walker.candidates(vertex):
            total = weight + walker.weigh(edge, other)
            next_state = (other, depth + 1) if keyed else other
            known = dist.get(next_state)
            if known is not None and known < total:
                continue
            if lam is not None and not walker.passes(edge, other, None, total):
                continue
            if known is None or total < known:
                dist[next_state] = total
                preds[next_state] = [(edge, state)]
                heapq.heappush(heap, (total, depth + 1, next(tie), other))
            else:
                preds[next_state].append((edge, state))
    yield from _list_all(preds, root, pending, keyed)


def _list_all(preds: dict, root, pending: list, keyed: bool) -> Iterator[tuple[Vertex, list[Edge], Any]]:
    start = root[0] if keyed else root
    for weight, vertex, state in pending:
        for edges in _paths_back(preds, root, state):
            if not keyed or _simple(start, edges):
                yield vertex, edges, weight


def _simple(start: Vertex, edges: list[Edge]) -> bool:
    """No vertex twice: a bounded search walks (vertex, depth) states, where a
    detour through a cycle of weight 0 could tie with the direct path."""
    nodes = _nodes_along(start, edges)
    return len(set(nodes)) == len(nodes)


# --------------------------------------------------------------------------
# Neo4j's exhaustive search
# --------------------------------------------------------------------------


def distances_to(walker: Walker, target: Vertex, max_hops: int | None) -> dict:
    """Hops from every vertex that can reach `target` (breadth-first against
    the direction), at most `max_hops`."""
    dist = {target: 0}
    frontier = [target]
    depth = 0
    while frontier and (max_hops is None or depth < max_hops):
        depth += 1
        reached = []
        for vertex in frontier:
            for _, other in walker.candidates(vertex, backward=True):
                if other not in dist:
                    dist[other] = depth
                    reached.append(other)
        frontier = reached
    return dist


def trails_between(walker: Walker, src: Vertex, dst: Vertex, min_hops: int, max_hops: int | None,
                   accept: Callable[[list[Edge]], bool], all_paths: bool) -> Iterator[list[Edge]]:
    """Paths from `src` to `dst` that use no relationship twice, by growing
    length: at each length a depth-first search follows only steps after
    which `dst` is still within reach (the hop distances of `distances_to`),
    and the first length with paths that `accept` takes ends the search (one
    path, or all of that length). When a length prunes nothing for being too
    short, no longer path exists and the search ends."""
    if src is dst and min_hops > 0:
        return
    dist = distances_to(walker, dst, max_hops)
    if src not in dist:
        return
    length = max(min_hops, dist[src])
    while max_hops is None or length <= max_hops:
        found = False
        more = [False]
        for edges in _trails(walker, src, length, dist, more):
            if accept(edges):
                found = True
                yield list(edges)
                if not all_paths:
                    return
        if found or not more[0]:
            return
        length += 1


def _trails(walker: Walker, src: Vertex, length: int, dist: dict, more: list) -> Iterator[list[Edge]]:
    """The trails of exactly `length` relationships from `src` that end where
    `dist` is 0; `more[0]` is set when a step was left out only because it
    could not reach the end within `length`."""
    if length == 0:
        yield []
        return
    edges: list[Edge] = []
    used: set = set()
    stack = [iter(walker.candidates(src))]
    while stack:
        depth = len(edges)
        for edge, other in stack[-1]:
            if edge in used:
                continue
            left = dist.get(other)
            if left is None:
                continue
            if depth + 1 + left > length:
                more[0] = True
                continue
            edges.append(edge)
            if depth + 1 == length:
                yield edges
                edges.pop()
                continue
            used.add(edge)
            stack.append(iter(walker.candidates(other)))
            break
        else:
            stack.pop()
            if edges:
                used.discard(edges.pop())


# --------------------------------------------------------------------------
# The operator
# --------------------------------------------------------------------------


class PathSearch(op.Operator):
    """Binds the relationship slot to the list of relationships of each path
    found (in the pattern's order), the far node (when not bound already),
    the total weight and the path; one row per path."""

    def __init__(self, input: op.Operator, search: Search):
        self.input, self.search = input, search
        self.name = search.name
        self.dst_check = op.node_checker(search.dst_labels, search.dst_props) if (search.dst_labels or search.dst_props) else None

    def detail(self) -> str:
        return self.search.text

    def run(self, ctx, rows):
        search = self.search
        for row in self.input.run(ctx, rows):
            start = _vertex(row[search.src])
            if start is None:
                continue
            target = None
            if search.dst_bound:
                target = _vertex(row[search.dst])
                if target is None or (self.dst_check is not None and not self.dst_check(target, row, ctx)):
                    continue
            walker = Walker(search, ctx, row.copy())
            if search.node_tests and not (walker.node_ok(start) and (target is None or walker.node_ok(target))):
                continue
            for end, edges, total in self._found(walker, start, target):
                if target is None and self.dst_check is not None and not self.dst_check(end, row, ctx):
                    continue
                yield self._row(row, end, edges, total)

    def _found(self, walker: Walker, start: Vertex, target: Vertex | None) -> Iterator[tuple[Vertex, list[Edge], Any]]:
        search = self.search
        if search.kind == "weighted":
            yield from self._weighted(walker, start, target)
        elif search.path_tests or (search.semantics == "neo4j" and search.min_hops > 1):
            accept = self._acceptor(walker, start, target)
            for edges in trails_between(walker, start, target, search.min_hops, search.max_hops, accept, search.all_paths):
                yield target, edges, None
        elif target is not None and (walker.filter is None or not walker.filter.needs_path):
            between = bfs_all_between if search.all_paths else bfs_between
            for edges in between(walker, start, target, search.min_hops, search.max_hops):
                yield target, edges, None
        else:
            each = bfs_all if search.all_paths else bfs
            for end, edges in each(walker, start, search.min_hops, search.max_hops):
                if target is None:
                    yield end, edges, None
                elif end is target:
                    yield end, edges, None
                    return

    def _weighted(self, walker: Walker, start: Vertex, target: Vertex | None):
        search = self.search
        lam = walker.filter
        plain_filter = lam is None or (lam.path_slot is None and lam.weight_slot is None)
        if target is not None and search.max_hops is None and not search.all_paths and plain_filter:
            for edges, total in dijkstra_between(walker, start, target):
                yield target, edges, total
            return
        each = dijkstra_all if search.all_paths else dijkstra
        yield from each(walker, start, search.max_hops, target)

    def _acceptor(self, walker: Walker, start: Vertex, target: Vertex) -> Callable[[list[Edge]], bool]:
        """Whether a candidate path passes the WHERE predicates on the whole
        path (Neo4j's shortest path "with predicates")."""
        search, row, ctx = self.search, walker.row, walker.ctx

        def accept(edges: list[Edge]) -> bool:
            ordered = edges[::-1] if search.reverse else list(edges)
            row[search.rel] = ordered
            row[search.dst] = target
            if search.path_slot is not None:
                row[search.path_slot] = _path(target if search.reverse else start, ordered)
            return all(test(row, ctx) is True for test in search.path_tests)

        return accept

    def _row(self, row: list, end: Vertex, edges: list[Edge], total: Any) -> list:
        search = self.search
        out = row.copy()
        if search.reverse:
            edges = edges[::-1]
        out[search.rel] = edges
        out[search.dst] = end
        if search.total_slot is not None:
            out[search.total_slot] = total
        if search.path_slot is not None:
            out[search.path_slot] = _path(end if search.reverse else row[search.src], edges)
        return out


def _vertex(value: Any) -> Vertex | None:
    if type(value) is Vertex or value is None:
        return value
    raise op.not_a_node(value)


# --------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------


_SEARCH_NAMES = {"bfs": "BFSExpand", "wshortest": "WeightedShortestPath", "allshortest": "AllShortestPaths"}


def plan_search(planner, root: op.Operator, hop: op.Hop, rel: ast.RelPattern, scope: dict, reverse: bool) -> op.Operator:
    """Memgraph's `*BFS`, `*WSHORTEST` or `*ALLSHORTEST` relationship of a
    pattern, expanded from the node in slot `hop.src` (the pattern's right
    end when `reverse`)."""
    weighted = rel.search != "bfs"
    word = "*" + rel.search.upper()
    if weighted and rel.max_hops is not None and rel.max_hops < 1:
        raise CypherSemanticError(f"The upper bound of {word} must be at least 1, not {rel.max_hops}.")
    filter_ = _lambda(planner, rel.filter, scope)
    if rel.search == "allshortest" and filter_ is not None and filter_.needs_path:
        raise CypherSemanticError(
            "*ALLSHORTEST's filter lambda cannot read the path so far: several paths lead to a node. "
            "Use (r, n | ...) or (r, n, p, w | ...) without reading p, or *WSHORTEST.")
    name = _SEARCH_NAMES[rel.search]
    if rel.search == "bfs" and hop.dst_bound:
        name = "STShortestPath"
    search = Search(
        kind="weighted" if weighted else "bfs",
        all_paths=rel.search == "allshortest",
        semantics="memgraph",
        src=hop.src, dst=hop.dst, rel=hop.rel, dst_bound=hop.dst_bound,
        direction=hop.direction, reverse=reverse,
        min_hops=1 if rel.min_hops is None else rel.min_hops, max_hops=rel.max_hops,
        types=hop.types, rel_props=hop.rel_props, dst_labels=hop.dst_labels, dst_props=hop.dst_props,
        filter=filter_, weight=_lambda(planner, rel.weight, scope),
        total_slot=scope.get(rel.total_weight) if rel.total_weight is not None else None,
        distinct_from=hop.distinct_from, name=name, text=hop.text.replace("*]", word + "]"),
    )
    return PathSearch(root, search)


def bind_end_first(planner, node: ast.NodePattern, slot: int, scope: dict, bound: set, conjuncts: list) -> bool:
    """Whether to match the far end of a search before searching: when it is
    bound already, or found by its property map, an index or its id, one
    search between two nodes (from both ends) beats one that reaches every
    node to find the few that fit."""
    if slot in bound:
        return True
    if isinstance(node.properties, ast.MapLiteral) and node.properties.items:
        return True
    if planner._index_candidates(node, scope, bound, conjuncts):
        return True
    return node.variable is not None and planner._id_lookup(node.variable, scope, bound, conjuncts) is not None


def _lambda(planner, written: ast.PathLambda | None, scope: dict) -> Lambda | None:
    """Compile `(r, n[, p[, w]] | expr)`: its variables get slots of their own
    and hide outer variables of the same names inside the lambda."""
    if written is None:
        return None
    inner = dict(scope)
    slots = []
    for variable in written.variables:
        slot = planner.new_slot()
        inner[variable] = slot
        slots.append(slot)
    slots += [None] * (4 - len(slots))
    expr = written.expr
    key = expr.key if isinstance(expr, ast.Property) and expr.subject == ast.Variable(written.variables[0]) else None
    return Lambda(slots[0], slots[1], slots[2], slots[3], planner.expr(expr, inner), key)


def plan_shortest(planner, root: op.Operator, part, scope: dict, bound: set, conjuncts: list, rels_seen: list,
                  apply_filters: Callable) -> op.Operator:
    """A `shortestPath(...)` or `allShortestPaths(...)` part of MATCH (Neo4j).

    Its ends are matched first (a bound end is used as it is), then one
    search per pair. When only one end is bound and nothing asks for the
    other first, one breadth-first search from the bound end finds the
    shortest paths to every node that fits the other end. WHERE predicates
    that read the path (or the relationship list) are claimed here:
    `all(x IN relationships(p) WHERE ...)` and `all(x IN nodes(p) WHERE
    ...)` (and `none(...)`) are tested on each step of the search; any other
    is tested on whole candidate paths, shortest first (Neo4j's exhaustive
    search)."""
    pattern = part.part
    rel = pattern.rels[0]
    name = _NAMES[pattern.shortest]
    rel_slot = part.rel_slots[0]
    if rel_slot in bound:
        raise CypherSemanticError(f"{name}(...): relationship variable `{rel.variable}` is already bound; "
                                  "a shortest path binds a new list of relationships.")
    if rel.min_hops is not None and rel.max_hops is not None and rel.min_hops > rel.max_hops:
        return op.Filter(root, lambda row, ctx: False, f"{name} with an empty length range")
    tests = _claim_predicates(planner, pattern, scope, conjuncts)
    index = planner._choose_start(part, scope, bound, conjuncts)
    root = apply_filters(planner._start(root, part, index, scope, bound, conjuncts))
    other = 1 - index
    other_node = pattern.nodes[other]
    other_slot = part.node_slots[other]
    min_hops = 1 if rel.min_hops is None else rel.min_hops
    exhaustive = bool(tests.path) or min_hops > 1
    other_needed = other_node.variable is not None and other_node.variable in tests.reads
    if exhaustive or other_needed or bind_end_first(planner, other_node, other_slot, scope, bound, conjuncts):
        root = apply_filters(planner._start(root, part, other, scope, bound, conjuncts))
    dst_bound = other_slot in bound
    direction = rel.direction if index == 0 else _REVERSED[rel.direction]
    known = {n for n, s in scope.items() if s in bound}
    missing = tests.reads - known - {other_node.variable}
    if missing:
        raise CypherSemanticError(f"{name}(...): the WHERE predicate on the path reads `{sorted(missing)[0]}`, "
                                  "which is not bound before the search.")
    search = Search(
        kind="bfs", all_paths=pattern.shortest == "all", semantics="neo4j",
        src=part.node_slots[index], dst=other_slot, rel=rel_slot, dst_bound=dst_bound,
        direction=direction, reverse=index == 1, min_hops=min_hops, max_hops=rel.max_hops,
        types=rel.types, rel_props=tuple(planner._props(rel.properties, scope)),
        dst_labels=() if dst_bound else other_node.labels,
        dst_props=() if dst_bound else tuple(planner._props(other_node.properties, scope)),
        edge_tests=tuple(tests.edges), node_tests=tuple(tests.nodes), path_tests=tuple(tests.path),
        path_slot=part.path_slot, distinct_from=tuple(rels_seen),
        name="AllShortestPaths" if pattern.shortest == "all" else "ShortestPath",
        text=_pattern_text(pattern),
    )
    root = PathSearch(root, search)
    rels_seen.append(rel_slot)
    bound.update(slot for slot in (rel_slot, other_slot, part.path_slot) if slot is not None)
    return apply_filters(root)


@dataclass
class _Tests:
    edges: list = field(default_factory=list)
    nodes: list = field(default_factory=list)
    path: list = field(default_factory=list)
    reads: set = field(default_factory=set)  # the other variables the tests read


def _claim_predicates(planner, pattern: ast.PatternPart, scope: dict, conjuncts: list) -> _Tests:
    """Take the WHERE conjuncts that read the path or its relationship list."""
    from weftdb.query.planner import variables_in  # the planner imports this module

    tests = _Tests()
    mine = {pattern.path_variable, pattern.rels[0].variable} - {None}
    for conjunct in conjuncts:
        if conjunct.used or not conjunct.needs & mine:
            continue
        conjunct.used = True
        element = _element_test(conjunct.expr, pattern, variables_in)
        if element is None:
            tests.path.append(planner.expr(conjunct.expr, scope))
            tests.reads |= conjunct.needs - mine
            continue
        kind, variable, condition, want = element
        slot = planner.new_slot()
        compiled = planner.expr(condition, {**scope, variable: slot})
        (tests.edges if kind == "edges" else tests.nodes).append(ElementTest(slot, compiled, want))
        tests.reads |= variables_in(condition) - {variable}
    return tests


def _element_test(expr: ast.Expr, pattern: ast.PatternPart, variables_in) -> tuple | None:
    """("edges" or "nodes", variable, condition, wanted value) when `expr` is
    `all(x IN relationships(p) WHERE c)`, `none(...)`, `NOT any(...)`, or the
    same over `nodes(p)` or the relationship list variable, and `c` reads
    neither the path nor the list."""
    want = True
    if isinstance(expr, ast.UnaryOp) and expr.op == "not" and isinstance(expr.operand, ast.Quantifier) and expr.operand.kind == "any":
        expr, want = expr.operand, False
    elif isinstance(expr, ast.Quantifier) and expr.kind in ("all", "none"):
        want = expr.kind == "all"
    else:
        return None
    source = expr.source
    path_var, rel_var = pattern.path_variable, pattern.rels[0].variable
    kind = None
    if isinstance(source, ast.Variable) and rel_var is not None and source.name == rel_var:
        kind = "edges"
    elif (isinstance(source, ast.FunctionCall) and len(source.args) == 1 and path_var is not None
          and source.args[0] == ast.Variable(path_var) and source.name.lower() in ("relationships", "nodes")):
        kind = "edges" if source.name.lower() == "relationships" else "nodes"
    if kind is None:
        return None
    reads = variables_in(expr.where) - {expr.variable}
    if {path_var, rel_var} & reads:
        return None
    return kind, expr.variable, expr.where, want


def plan_shortest_expression(planner, expr: ast.ShortestPath, scope: dict) -> Callable:
    """`shortestPath(...)` as an expression: a path or null; `allShortestPaths(...)`: a list of paths."""
    pattern = expr.pattern
    name = _NAMES[pattern.shortest]
    rel = pattern.rels[0]
    for node in pattern.nodes:
        if node.variable is None or node.variable not in scope:
            what = f"`{node.variable}` is not defined" if node.variable else "one end is an anonymous node"
            raise CypherSemanticError(
                f"{name}(...) as an expression needs both ends bound to variables ({what}); "
                f"to search from every node, write MATCH p = {name}(...).")
    if rel.variable is not None:
        raise CypherSemanticError(
            f"{name}(...) as an expression cannot bind the relationship variable `{rel.variable}`; "
            f"use MATCH p = {name}(...) to name the relationships.")
    src, dst = (scope[node.variable] for node in pattern.nodes)
    root: op.Operator = op.Argument()
    for node, slot in zip(pattern.nodes, (src, dst)):
        if node.labels or node.properties is not None:
            root = op.NodeFilter(root, slot, node.variable, node.labels, planner._props(node.properties, scope))
    path_slot = planner.new_slot()
    search = Search(
        kind="bfs", all_paths=pattern.shortest == "all", semantics="neo4j",
        src=src, dst=dst, rel=planner.new_slot(), dst_bound=True, direction=rel.direction, reverse=False,
        min_hops=1 if rel.min_hops is None else rel.min_hops, max_hops=rel.max_hops,
        types=rel.types, rel_props=tuple(planner._props(rel.properties, scope)), path_slot=path_slot,
        name="AllShortestPaths" if pattern.shortest == "all" else "ShortestPath", text=_pattern_text(pattern),
    )
    plan = PathSearch(root, search)
    if pattern.shortest == "all":
        return lambda row, ctx: [out[path_slot] for out in plan.run(ctx, (row,))]
    return lambda row, ctx: next((out[path_slot] for out in plan.run(ctx, (row,))), None)


def _pattern_text(pattern: ast.PatternPart) -> str:
    left, right = pattern.nodes
    rel = pattern.rels[0]
    types = "|".join(rel.types)
    low = "" if rel.min_hops is None else str(rel.min_hops)
    high = "" if rel.max_hops is None else str(rel.max_hops)
    bounds = "" if rel.min_hops is None and rel.max_hops is None else f"{low}..{high}"
    body = f"[{rel.variable or ''}{':' + types if types else ''}*{bounds}]"
    arrow_in = "<-" if rel.direction == "in" else "-"
    arrow_out = "->" if rel.direction == "out" else "-"
    text = f"({left.variable or ''}){arrow_in}{body}{arrow_out}({right.variable or ''})"
    return f"{pattern.path_variable} = {text}" if pattern.path_variable else text

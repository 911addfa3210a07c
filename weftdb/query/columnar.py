"""Columnar statements: large reads of one shape run as batch operators on
the graph's image (graph/image.py; the design is docs/analytics.md).

`compile` looks at a statement's syntax tree and returns a `Program` when
the statement has the covered shape (one MATCH of one path, WHERE terms
about one node each, RETURN of node properties, ids and aggregates), None
otherwise. The planner puts it above the row plan, as a `ColumnarRead`
root (executor.plan_statement), which EXPLAIN shows. At run time `Program.run`
answers from an image, or returns None when a value is of a kind the batch
operators do not handle the way Cypher does (then the row plan runs): the
answer through either path is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np

from weftdb.graph.image import FLOAT, INT, OBJECT, Image
from weftdb.query import ast
from weftdb.query import operators as op
from weftdb.query.aggregates import make_aggregate
from weftdb.query.planner import split_and
from weftdb.query.values import group_key, order_key

_FLIPPED = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_COMPARE = {"=": np.equal, "<>": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
            ">=": np.greater_equal}
_AGGREGATES = ("count", "sum", "avg", "min", "max", "collect")
_ARITHMETIC = {"+": np.add, "-": np.subtract, "*": np.multiply, "%": np.fmod}
_EXACT = 2 ** 53  # integers a float64 holds exactly
REBUILD_SHARE = 0.5
"""A stale image is rebuilt for a statement whose row plan would read at
least this share of the objects a build reads (Program.worth_rebuilding): a
build costs about as much per object as the row plan does per row."""
_SEEKS = (op.ScanByProperty, op.ScanByProperties, op.ScanById, op.ScanEdgesByProperty, op.ScanEdgeById)


class Declined(Exception):
    """A value the batch operators would not treat as Cypher does: the row plan runs."""


@dataclass
class NodeStep:
    variable: str | None
    labels: tuple[str, ...]
    # ("cmp", key, op, value expr) | ("null", key, is null) | ("labels", names)
    terms: list[tuple] = field(default_factory=list)


@dataclass
class RelStep:
    type: str | None
    direction: str  # "out" | "in"


@dataclass
class Item:
    """A returned column: `kind` "prop" (node, key), "id" (node), or an aggregate
    name with `node` and `key` (key None: count(*), count(x)). A property may
    be taken `op` an integer `operand` (`p.age % 10`)."""

    name: str
    kind: str
    node: int = 0
    key: str | None = None
    op: str | None = None
    operand: int = 0


@dataclass
class Program:
    nodes: list[NodeStep]
    rels: list[RelStep]
    items: list[Item]
    order: list[tuple[int, bool]]  # (item, descending)
    skip: ast.Expr | None
    limit: ast.Expr | None

    @property
    def aggregates(self) -> bool:
        return any(item.kind in _AGGREGATES for item in self.items)

    @property
    def counts_last(self) -> bool:
        """Whether the last expansion's rows are only counted: nothing reads
        its far node, and every aggregate counts rows (count(*), count(x)).
        Then, when that node matches every vertex, its edges are counted per
        row (`_degrees`) instead of made, rows of rows."""
        last = len(self.nodes) - 1
        return (bool(self.rels) and self.aggregates
                and all(item.kind == "count" and item.key is None if item.kind in _AGGREGATES else item.node != last
                        for item in self.items))

    def describe(self) -> str:
        path = "".join(f"-[:{rel.type or '*'}]->" if rel.direction == "out" else f"<-[:{rel.type or '*'}]-"
                       for rel in self.rels)
        what = "aggregate" if self.aggregates else "project"
        return f"{len(self.nodes)} node mask(s), {len(self.rels)} expand(s) {path or 'none'}, {what} {len(self.items)} column(s)"

    def worth_rebuilding(self, stale: Image | None, params: dict) -> bool:
        """Whether to build the image anew for this statement, judged on the
        image of an earlier version (none yet: build it). A build reads every
        vertex, and every edge when the statement expands; the row plan reads
        the first node's label and each expansion's edges. Build when the row
        plan would read at least REBUILD_SHARE of what the build reads: a
        small label, or a selective WHERE, in a large graph keeps the row plan
        while writes keep making the image stale. The first node's rows are
        counted on the stale image."""
        if stale is None or (self.rels and stale.edges is None):
            return True  # the first image (with edges): nothing to judge by
        edges = stale.edges
        total = stale.vertex_count + (len(edges.src) if self.rels else 0)
        labelled = np.ones(stale.vertex_count, dtype=bool)
        for label in self.nodes[0].labels:
            labelled &= stale.label(label)
        try:
            rows = float(_mask(stale, self.nodes[0], params).sum())
        except Declined:  # a value the mask does not compare: the row plan's scan of the label
            rows = float(labelled.sum())
        work = float(labelled.sum())
        for rel in self.rels:
            rows *= edges.count(rel.type) / max(stale.vertex_count, 1)
            work += rows
        return work >= REBUILD_SHARE * total

    def run(self, image: Image, params: dict, check: Callable[[], None]) -> list[tuple] | None:
        """The statement's rows from `image`, or None (Declined): the row plan runs."""
        try:
            return self._run(image, params, check)
        except Declined:
            return None

    def _run(self, image: Image, params: dict, check: Callable[[], None]) -> list[tuple]:
        masks = [_mask(image, node, params) for node in self.nodes]
        check()
        vertices = [np.flatnonzero(masks[0])]
        edges: list[np.ndarray] = []
        counted = self.counts_last and bool(masks[-1].all())
        for step, rel in enumerate(self.rels[:-1] if counted else self.rels):
            vertices, edges = _expand(image, rel, vertices, edges, masks[step + 1])
            check()
        weights = None
        if counted:  # the last expansion only multiplies rows: count its edges, do not make them
            weights = _degrees(image, self.rels[-1], vertices[-1], edges)
            kept = weights > 0
            vertices, weights = [column[kept] for column in vertices], weights[kept]
        columns = [self._column(image, item, vertices) for item in self.items]
        if self.aggregates:
            columns = _aggregate(self.items, columns, len(vertices[0]), weights)
            check()
        count = len(columns[0][0]) if columns else 0
        chosen = _order(columns, self.order, count) if self.order else np.arange(count)
        skip, limit = _number(self.skip, params, "SKIP"), _number(self.limit, params, "LIMIT")
        chosen = chosen[skip:] if limit is None else chosen[skip:skip + limit]
        return list(zip(*(_values(column, chosen) for column in columns))) if columns else []

    @staticmethod
    def _column(image: Image, item: Item, vertices: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, str]:
        at = vertices[item.node]
        if item.kind == "id":
            return image.gids[at], np.ones(len(at), dtype=bool), INT
        if item.key is None:  # count(*), count(x): every row
            return at, np.ones(len(at), dtype=bool), INT
        column = image.column(item.key)
        values, present = column.values[at], column.present[at]
        if item.op is None:
            return values, present, column.kind
        return _arithmetic(values, present, column.kind, item.op, item.operand), present, INT


class ColumnarRead(op.Operator):
    """The root of a plan with a columnar program: it answers from the image
    when one serves the transaction (ImageCache.get) and the program does not
    decline, else it runs its row plan (`input`). Either way it yields rows as
    the row plan would (values in the column slots), so what follows (the
    public values, streaming, PROFILE's counts) is the same for both."""

    name = "ColumnarRead"

    def __init__(self, input: op.Operator, program: Program, slots: list[int], nslots: int, automatic: bool):
        self.input = input
        self.program = program
        self.slots = slots
        self.nslots = nslots
        self.automatic = automatic  # planned under --analytics-image AUTO: only stores that allow it (ImageCache)

    def detail(self) -> str:
        return self.program.describe() + "; the row plan below when the image cannot serve the transaction"

    def run(self, ctx, rows) -> Iterator[op.Row]:
        tx = ctx.tx
        check = ctx.check_cancelled
        images = tx.storage.images
        image = None
        if images.automatic or not self.automatic:
            image = images.get(tx, lambda stale: self.program.worth_rebuilding(stale, ctx.params), check)
        if image is not None and self.program.rels and image.edges_for(tx, check) is None:
            image = None
        answer = None if image is None else self.program.run(image, ctx.params, check)
        if answer is None:
            yield from self.input.run(ctx, rows)
            return
        for values in answer:
            row = [None] * self.nslots
            for slot, value in zip(self.slots, values):
                row[slot] = value
            yield row


# -- compile ---------------------------------------------------------------------------------


def seeks(root: op.Operator) -> bool:
    """Whether a row plan starts from an index or an id (a lookup, which it
    answers in microseconds, where a program masks every vertex)."""
    return isinstance(root, _SEEKS) or any(seeks(child) for child in root.children())


def compile(statement: ast.Statement) -> Program | None:
    """A Program for `statement` when it has the covered shape (docs/analytics.md), else None."""
    if not isinstance(statement, ast.SingleQuery) or len(statement.clauses) != 2:
        return None
    match, ret = statement.clauses
    if not isinstance(match, ast.Match) or not isinstance(ret, ast.Return) or match.optional:
        return None
    if len(match.patterns) != 1:
        return None
    path = match.patterns[0]
    if path.path_variable is not None or path.shortest is not None:
        return None
    nodes, rels, positions = _path(path)
    if nodes is None:
        return None
    for term in split_and(match.where):
        placed = _term(term, positions)
        if placed is None:
            return None
        position, compiled = placed
        nodes[position].terms.append(compiled)
    projection = ret.projection
    if projection.distinct or projection.star:
        return None
    items = [_item(item, positions) for item in projection.items]
    if not items or None in items:
        return None
    order = [_sort_item(sort, projection.items) for sort in projection.order_by]
    if None in order:
        return None
    if not all(_integer_expr(expr) for expr in (projection.skip, projection.limit)):
        return None
    if not order and projection.limit is None and not any(item.kind in _AGGREGATES for item in items):
        return None  # plain rows: the row plan hands them out as they are made (a large result streams)
    return Program(nodes, rels, items, order, projection.skip, projection.limit)


def _path(path: ast.PatternPart) -> tuple[list[NodeStep] | None, list[RelStep], dict[str, int]]:
    nodes: list[NodeStep] = []
    positions: dict[str, int] = {}
    for position, node in enumerate(path.nodes):
        if node.dynamic_labels or (node.variable is not None and node.variable in positions):
            return None, [], {}
        step = NodeStep(node.variable, tuple(node.labels))
        if node.properties is not None:
            if not isinstance(node.properties, ast.MapLiteral):
                return None, [], {}
            for key, value in node.properties.items:
                if not isinstance(value, (ast.Literal, ast.Parameter)):
                    return None, [], {}
                step.terms.append(("cmp", key, "=", value))
        if node.variable is not None:
            positions[node.variable] = position
        nodes.append(step)
    rels = []
    for rel in path.rels:
        if (rel.var_length or rel.properties is not None or len(rel.types) > 1 or rel.direction not in ("out", "in")
                or rel.variable in positions):
            return None, [], {}
        if rel.variable is not None:
            positions[rel.variable] = -1  # a relationship: only count(r) reads it
        rels.append(RelStep(rel.types[0] if rel.types else None, rel.direction))
    return nodes, rels, positions


def _node_property(expr: ast.Expr, positions: dict[str, int]) -> tuple[int, str] | None:
    if (isinstance(expr, ast.Property) and isinstance(expr.subject, ast.Variable)
            and positions.get(expr.subject.name, -1) >= 0):
        return positions[expr.subject.name], expr.key
    return None


def _term(term: ast.Expr, positions: dict[str, int]) -> tuple[int, tuple] | None:
    """(node position, compiled term) for a WHERE term about one node."""
    if isinstance(term, ast.BinaryOp) and term.op in _FLIPPED:
        for this, other, operator in ((term.left, term.right, term.op), (term.right, term.left, _FLIPPED[term.op])):
            found = _node_property(this, positions)
            if found is not None and isinstance(other, (ast.Literal, ast.Parameter)):
                return found[0], ("cmp", found[1], operator, other)
        return None
    if isinstance(term, ast.IsNull):
        found = _node_property(term.operand, positions)
        return None if found is None else (found[0], ("null", found[1], not term.negated))
    if (isinstance(term, ast.HasLabels) and not term.dynamic and isinstance(term.subject, ast.Variable)
            and positions.get(term.subject.name, -1) >= 0):
        return positions[term.subject.name], ("labels", term.labels)
    return None


def _item(item: ast.ReturnItem, positions: dict[str, int]) -> Item | None:
    expr = item.expr
    found = _node_property(expr, positions)
    if found is not None:
        return Item(item.name, "prop", found[0], found[1])
    if isinstance(expr, ast.BinaryOp) and expr.op in _ARITHMETIC and isinstance(expr.right, ast.Literal):
        found = _node_property(expr.left, positions)
        if found is not None and type(expr.right.value) is int and (expr.right.value or expr.op != "%"):
            return Item(item.name, "prop", found[0], found[1], expr.op, expr.right.value)
    if isinstance(expr, ast.CountStar):
        return Item(item.name, "count")
    if not isinstance(expr, ast.FunctionCall) or expr.distinct or len(expr.args) != 1:
        return None
    name, (arg,) = expr.name.lower(), expr.args
    if name == "id" and isinstance(arg, ast.Variable) and positions.get(arg.name, -1) >= 0:
        return Item(item.name, "id", positions[arg.name])
    if name not in _AGGREGATES:
        return None
    if name == "count" and isinstance(arg, ast.Variable) and arg.name in positions:
        return Item(item.name, "count")  # a matched node or relationship is never null
    found = _node_property(arg, positions)
    return None if found is None else Item(item.name, name, found[0], found[1])


def _sort_item(sort: ast.SortItem, items: tuple[ast.ReturnItem, ...]) -> tuple[int, bool] | None:
    for index, item in enumerate(items):
        if sort.expr == item.expr or (isinstance(sort.expr, ast.Variable) and sort.expr.name == item.name):
            return index, sort.descending
    return None


def _integer_expr(expr: ast.Expr | None) -> bool:
    return expr is None or isinstance(expr, ast.Parameter) or (isinstance(expr, ast.Literal) and type(expr.value) is int)


# -- run -------------------------------------------------------------------------------------


def _value(expr: ast.Expr, params: dict) -> Any:
    if isinstance(expr, ast.Literal):
        return expr.value
    if expr.name not in params:
        raise Declined  # the row plan names the missing parameter
    return params[expr.name]


def _number(expr: ast.Expr | None, params: dict, clause: str) -> int | None:
    if expr is None:
        return None if clause == "LIMIT" else 0
    value = _value(expr, params)
    if type(value) is not int or value < 0:
        raise Declined  # the row plan says what is wrong
    return value


def _mask(image: Image, node: NodeStep, params: dict) -> np.ndarray:
    """The vertices a node pattern and its WHERE terms match."""
    mask = np.ones(image.vertex_count, dtype=bool)
    for label in node.labels:
        mask &= image.label(label)
    for term in node.terms:
        if term[0] == "labels":
            for label in term[1]:
                mask &= image.label(label)
        elif term[0] == "null":
            present = image.column(term[1]).present
            mask &= ~present if term[2] else present
        else:
            mask &= _compare(image.column(term[1]), term[2], _value(term[3], params))
    return mask


def _compare(column, operator: str, value: Any) -> np.ndarray:
    """Where `column op value` is true; null (a missing key, a null value) is not."""
    if value is None:
        return np.zeros(len(column.present), dtype=bool)
    kind, number = column.kind, type(value) in (int, float)
    if kind in (INT, FLOAT) and number:
        if kind == INT and type(value) is float and max(-int(column.values.min()), int(column.values.max())) >= _EXACT:
            raise Declined  # compared as floats, large integers would round
        return column.present & _COMPARE[operator](column.values, value)
    if kind == OBJECT and operator in ("=", "<>") and type(value) is str:
        # A string equals only the same string; other kinds (numbers, lists) never do.
        equal = np.fromiter((type(v) is str and v == value for v in column.values), dtype=bool, count=len(column.values))
        return column.present & (equal if operator == "=" else ~equal)
    if kind in (INT, FLOAT) and type(value) is str and operator in ("=", "<>"):
        return column.present & (operator == "<>")
    raise Declined


def _arithmetic(values: np.ndarray, present: np.ndarray, kind: str, operator: str, operand: int) -> np.ndarray:
    """`values op operand` for integers, as Cypher computes them (% keeps the
    dividend's sign, as fmod does); anything else, or a result that could
    leave int64 (Cypher's error), goes to the row plan."""
    if kind != INT:
        raise Declined
    if present.any():
        held = values[present]
        bound = max(abs(int(held.max())), abs(int(held.min())))  # Python integers: no overflow here
        if bound * max(abs(operand), 1) + abs(operand) >= 2 ** 62:
            raise Declined
    return _ARITHMETIC[operator](values, operand)


def _expand(image: Image, rel: RelStep, vertices: list[np.ndarray], edges: list[np.ndarray],
            mask: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Each row times its edges of `rel` whose other end is in `mask`; a row
    that would use an edge a second time is dropped (Cypher's relationship
    uniqueness within a pattern)."""
    adjacency = image.edges.adjacency(rel.type, rel.direction)
    frontier = vertices[-1]
    starts = adjacency.offsets[frontier]
    degrees = adjacency.offsets[frontier + 1] - starts
    row_of = np.repeat(np.arange(len(frontier), dtype=np.int64), degrees)
    before = np.cumsum(degrees) - degrees  # where each row's edges begin in the output
    positions = np.arange(len(row_of), dtype=np.int64) + np.repeat(starts - before, degrees)
    targets = adjacency.targets[positions]
    numbers = adjacency.edges[positions]
    keep = mask[targets]
    for earlier in edges:
        keep &= earlier[row_of] != numbers
    row_of = row_of[keep]
    return ([column[row_of] for column in vertices] + [targets[keep]],
            [column[row_of] for column in edges] + [numbers[keep]])


def _degrees(image: Image, rel: RelStep, frontier: np.ndarray, edges: list[np.ndarray]) -> np.ndarray:
    """How many edges of `rel` each row could take from its last vertex: its
    degree, less the earlier edges of the row that are among them (an edge
    is used once in a pattern)."""
    every = image.edges
    adjacency = every.adjacency(rel.type, rel.direction)
    degrees = adjacency.offsets[frontier + 1] - adjacency.offsets[frontier]
    near = every.src if rel.direction == "out" else every.dst
    code = None if rel.type is None else every.type_codes.get(rel.type, -1)
    for earlier in edges:
        among = near[earlier] == frontier
        if code is not None:
            among &= every.types[earlier] == code
        degrees = degrees - among
    return degrees


def _aggregate(items: list[Item], columns: list[tuple], rows: int, weights: np.ndarray | None = None) -> list[tuple]:
    """One row per group of the non-aggregate columns, in order of first
    appearance. `weights`: how many rows each row stands for (counts only)."""
    keys = [column for item, column in zip(items, columns) if item.kind not in _AGGREGATES]
    if keys:
        group, firsts = _groups(keys, rows)
    else:  # one group, even of no rows
        group, firsts = np.zeros(rows, dtype=np.int64), np.zeros(1, dtype=np.int64)
    count = len(firsts)
    out = []
    for item, column in zip(items, columns):
        if item.kind not in _AGGREGATES:
            values, present, kind = column
            out.append((values[firsts], present[firsts], kind))
        elif weights is not None:  # counts_last: every aggregate is a count of rows
            out.append((np.bincount(group, weights=weights, minlength=count).astype(np.int64),
                        np.ones(count, dtype=bool), INT))
        else:
            out.append(_reduce(item.kind, column, group, count))
    return out


def _groups(keys: list[tuple], rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's group number, numbered by first appearance, and each group's first row."""
    combined = np.zeros(rows, dtype=np.int64)
    for values, present, kind in keys:
        codes, distinct = _codes(values, present, kind)
        combined = np.unique(combined * distinct + codes, return_inverse=True)[1].reshape(-1)
    _, firsts, inverse = np.unique(combined, return_index=True, return_inverse=True)
    order = np.argsort(firsts, kind="stable")
    renumber = np.empty(len(order), dtype=np.int64)
    renumber[order] = np.arange(len(order), dtype=np.int64)
    return renumber[inverse.reshape(-1)], firsts[order]


def _codes(values: np.ndarray, present: np.ndarray, kind: str) -> tuple[np.ndarray, int]:
    """A code per row equal for the rows Cypher groups together (null its own;
    NaN one group, as np.unique makes it)."""
    if kind in (INT, FLOAT):
        distinct, inverse = np.unique(values[present], return_inverse=True)
        codes = np.full(len(values), len(distinct), dtype=np.int64)
        codes[present] = inverse.reshape(-1)
        return codes, len(distinct) + 1
    seen: dict[Any, int] = {}
    codes = np.fromiter((seen.setdefault(group_key(v if p else None), len(seen)) for v, p in zip(values, present)),
                        dtype=np.int64, count=len(values))
    return codes, max(len(seen), 1)


def _reduce(name: str, column: tuple, group: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray, str]:
    values, present, kind = column
    everyone = np.ones(count, dtype=bool)
    if name == "count":
        return np.bincount(group[present], minlength=count).astype(np.int64), everyone, INT
    if kind in (INT, FLOAT) and name != "collect":
        return _numeric(name, values[present], group[present], count, kind)
    results = [make_aggregate(name) for _ in range(count)]  # Cypher's own accumulators, value by value
    for g, value, has in zip(group.tolist(), values.tolist() if kind != OBJECT else values, present.tolist()):
        if has:
            results[g].add(value)
    answers = np.empty(count, dtype=object)
    for g, accumulator in enumerate(results):
        answers[g] = accumulator.result()
    return answers, np.array([a is not None for a in answers], dtype=bool), OBJECT


def _numeric(name: str, values: np.ndarray, group: np.ndarray, count: int, kind: str) -> tuple:
    counts = np.bincount(group, minlength=count)
    has = counts > 0
    if name in ("sum", "avg"):
        if kind == INT:
            if len(values) and max(abs(int(values.max())), abs(int(values.min()))) * len(values) >= 2 ** 62:
                raise Declined  # the sum could leave int64
            totals = np.zeros(count, dtype=np.int64)
            np.add.at(totals, group, values)
        else:
            totals = np.bincount(group, weights=values, minlength=count)  # in row order, as the row engine adds
        if name == "sum":  # the sum of no values is the integer 0
            answers = np.empty(count, dtype=object)
            answers[:] = [int(t) if kind == INT or not h else float(t) for t, h in zip(totals.tolist(), has.tolist())]
            return answers, np.ones(count, dtype=bool), OBJECT
        answers = np.empty(count, dtype=object)
        answers[:] = [(t / c if h else None) for t, c, h in zip(totals.tolist(), counts.tolist(), has.tolist())]
        return answers, has, OBJECT
    if kind == INT:
        info = np.iinfo(np.int64)
        best = np.full(count, info.max if name == "min" else info.min, dtype=np.int64)
        (np.minimum if name == "min" else np.maximum).at(best, group, values)
    elif name == "max":  # NaN is above every number in Cypher's order: max keeps it
        best = np.full(count, -np.inf, dtype=np.float64)
        with np.errstate(invalid="ignore"):  # NaN is the answer, not a mistake
            np.maximum.at(best, group, values)
    else:  # and min passes it by, unless there is nothing else
        best = np.full(count, np.inf, dtype=np.float64)
        np.fmin.at(best, group, values)
        numbers = np.bincount(group[~np.isnan(values)], minlength=count)
        best[has & (numbers == 0)] = np.nan
    return best, has, kind


def _order(columns: list[tuple], order: list[tuple[int, bool]], count: int) -> np.ndarray:
    """Row numbers in ORDER BY order, ties in their order (a stable sort)."""
    ranks = []
    for index, descending in order:
        rank = _ranks(*columns[index])
        ranks.append(-rank if descending else rank)
    return np.lexsort(ranks[::-1]) if ranks else np.arange(count)


def _ranks(values: np.ndarray, present: np.ndarray, kind: str) -> np.ndarray:
    """Dense ranks in Cypher's ascending order: nulls last, NaN above every number."""
    if kind in (INT, FLOAT):
        distinct, inverse = np.unique(values[present], return_inverse=True)  # NaN sorts last, as in Cypher
        rank = np.full(len(values), len(distinct), dtype=np.int64)
        rank[present] = inverse.reshape(-1)
        return rank
    keys = [order_key(v if p else None) for v, p in zip(values, present)]
    ordered = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    current, previous = -1, object()
    for i in ordered:
        if keys[i] != previous:
            current, previous = current + 1, keys[i]
        rank[i] = current
    return rank


def _values(column: tuple, chosen: np.ndarray) -> list[Any]:
    values, present, kind = column
    picked = values[chosen].tolist() if kind != OBJECT else list(values[chosen])
    return [v if p else None for v, p in zip(picked, present[chosen].tolist())]

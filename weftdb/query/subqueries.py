"""Subqueries: CALL { }, CALL { } IN TRANSACTIONS, FOREACH, and COUNT { },
COLLECT { } and EXISTS { } around a query.

All of them plan their inner query with the same planner, on the same row
of slots as the query around them: an inner query starts from the outer row
(its `Argument` yields it), so the variables it imports are read where the
outer query put them and nothing is copied in.

CALL { } (`Apply`) runs its query once per outer row, and gives the outer
row extended by each row the query returns (a query returning nothing drops
the outer row), or the outer row once when the query returns nothing at all
(a unit subquery). What the inner query sees of the outer one:

- `CALL { WITH a, b ... }` and `CALL (a, b) { ... }` import `a` and `b`,
  `CALL (*) { ... }` every variable, `CALL () { ... }` and a query that does
  not start with WITH none; a first WITH that projects more than variables is
  planned as written, with every outer variable in reach;
- each part of a UNION inside imports for itself;
- a variable the subquery returns must be new to the outer query.

CALL { } IN TRANSACTIONS (`CallInTransactions`) runs the same per-row subquery
over batches of outer rows (OF n ROWS, 1000 by default), each batch in a
transaction of its own that commits, durably, before the next batch is read,
so a load of a million rows never holds more than one batch of changes. The
statement's own transaction only reads: after each batch it is renewed
(`Storage.renew`) so the rest of the statement sees what the batches did and
their old versions can be collected. A batch that fails rolls back and fails
the statement (batches before it stay committed), unless ON ERROR CONTINUE
(go on with the next batch) or BREAK (stop batching; the remaining rows pass
without running the subquery); REPORT STATUS AS s binds each row's
transaction status. Because each batch commits, such a statement runs only
in an implicit transaction (`Plan.in_transactions`, checked by the
executor), may write only inside the subquery, and cannot be nested.

FOREACH runs its update clauses once per list item for each row, and passes
the row on unchanged.

The writing ones (FOREACH, and CALL { } whose query writes) are eager as the
writing clauses are: every input row is read before the first write, so no
clause sees half of another's changes. They stream, as a bulk load's CREATE
does, when no clause before or after them reads the graph (`LOAD CSV ...
FOREACH` or `UNWIND $rows AS r CALL { ... }`).

COUNT { }, COLLECT { } and EXISTS { } plan their query once and run it per
evaluation; they see every variable of the enclosing scope, may not write,
and need no RETURN (COLLECT needs one, of one column).
"""

from __future__ import annotations

from typing import Any, Callable

from weftdb.basics.errors import (
    CypherSemanticError,
    CypherTypeError,
    Error,
    MemoryLimitExceeded,
    QueryInterrupted,
    QueryMemoryLimitExceeded,
    QueryTimeout,
)
from weftdb.query import ast, values
from weftdb.query.expressions import find_aggregates
from weftdb.query.load_csv import FILE, LINE
from weftdb.query.operators import Argument, CreatePattern, DynamicLabels, Operator

CHUNK = 1024  # rows a unit subquery that may take many at once runs over, outside IN TRANSACTIONS
DEFAULT_BATCH = 1000  # rows per transaction of IN TRANSACTIONS without OF n ROWS, as Neo4j's
_WRITES = (ast.Create, ast.Merge, ast.Set, ast.Remove, ast.Delete, ast.Foreach)
_STOPS = (QueryInterrupted, QueryTimeout, MemoryLimitExceeded, QueryMemoryLimitExceeded)  # never ON ERROR's to keep


# --------------------------------------------------------------------------
# Planning
# --------------------------------------------------------------------------


def plan_subquery_call(planner: Any, root: Operator, clause: ast.SubqueryCall, scope: dict[str, int],
                       clauses: tuple, index: int) -> tuple[Operator, dict[str, int]]:
    """CALL { } at `clauses[index]`: the operator, and the scope after it."""
    if clause.in_transactions:
        _check_batching(planner, clauses, index)
    planner.subquery_depth += 1
    try:
        inner, columns, slots = _plan_query(planner, clause.query, scope, clause.scope)
    finally:
        planner.subquery_depth -= 1
    for name in columns:
        if name in scope:
            raise CypherSemanticError(f"Variable `{name}` already declared in outer scope: the subquery cannot return it.")
    writes = _writes(clause.query)
    new_scope = {**scope, **dict(zip(columns, slots))}
    unit = not columns
    if clause.in_transactions:
        status_slot = None
        if clause.status is not None:
            if clause.on_error == "fail":
                raise CypherSemanticError("REPORT STATUS needs ON ERROR CONTINUE or ON ERROR BREAK.")
            if clause.status in new_scope:
                raise CypherSemanticError(f"Variable `{clause.status}` already declared.")
            status_slot = new_scope[clause.status] = planner.new_slot()
        batch = planner.expr(clause.batch, {}) if clause.batch is not None else None
        apply = Apply(Argument(), inner, slots, unit, eager=False, rowwise=_rowwise(clause.query, inner, unit))
        return CallInTransactions(root, apply, batch, clause.on_error, status_slot), new_scope
    eager = writes and not _streams(clauses, index)
    return Apply(root, inner, slots, unit, eager, _rowwise(clause.query, inner, unit)), new_scope


def plan_foreach(planner: Any, root: Operator, clause: ast.Foreach, scope: dict[str, int],
                 clauses: tuple, index: int) -> Operator:
    planner.writes = True
    if clause.variable in scope:
        raise CypherSemanticError(f"Variable `{clause.variable}` already declared.")
    source = planner.expr(clause.source, scope)
    slot = planner.new_slot()
    planner.subquery_depth += 1
    try:
        inner, _, _, _ = planner.single(ast.SingleQuery(clause.clauses), Argument(), {**scope, clause.variable: slot})
    finally:
        planner.subquery_depth -= 1
    return Foreach(root, source, slot, inner, not _streams(clauses, index), clause.variable)


def plan_subquery_expression(planner: Any, expr: ast.SubqueryExpression, scope: dict[str, int]) -> Callable:
    """The compiled COUNT { }, COLLECT { } or EXISTS { } of a query."""
    kind = expr.kind
    if _writes(expr.query):
        raise CypherSemanticError(f"{kind.upper()} {{ ... }} cannot contain updating clauses.")
    query = expr.query
    if kind != "collect":
        query = _returning(query)
    planner.subquery_depth += 1
    try:
        inner, columns, slots = _plan_query(planner, query, scope, ("*",))
    finally:
        planner.subquery_depth -= 1
    if kind == "count":
        return lambda row, ctx: sum(1 for _ in inner.run(ctx, (row,)))
    if kind == "exists":
        return lambda row, ctx: next(iter(inner.run(ctx, (row,))), None) is not None
    if len(slots) != 1:
        raise CypherSemanticError("COLLECT { ... } must end with a RETURN of exactly one column.")
    (slot,) = slots
    return lambda row, ctx: [out[slot] for out in inner.run(ctx, (row,))]


def _returning(query: ast.Statement) -> ast.Statement:
    """A query for COUNT or EXISTS that may end without RETURN: one that ends
    with its rows (RETURN of a hidden constant) when it does."""
    if isinstance(query, ast.Union):
        return ast.Union(tuple(_returning(part) for part in query.parts), query.all_flags)
    if isinstance(query.clauses[-1], ast.Return):
        return query
    item = ast.ReturnItem(ast.Literal(True), " row", " row")
    return ast.SingleQuery((*query.clauses, ast.Return(ast.Projection((item,)))))


def _plan_query(planner: Any, query: ast.Statement, scope: dict[str, int], imports: tuple[str, ...] | None):
    """(root, columns, column slots) of an inner query (a SingleQuery or a UNION)."""
    if isinstance(query, ast.SingleQuery):
        body, inner_scope = _imported(query, scope, imports)
        root, columns, slots, _ = planner.single(body, Argument(), inner_scope)
        return root, columns, slots
    return planner.union_of([_imported(part, scope, imports) for part in query.parts], query.all_flags)


def _imported(query: ast.SingleQuery, scope: dict[str, int], imports: tuple[str, ...] | None):
    """(query to plan, its starting scope): what the subquery sees of `scope`.
    LOAD CSV's hidden slots always go in, so linenumber() works inside."""
    hidden = {name: scope[name] for name in (LINE, FILE) if name in scope}
    if imports == ("*",):
        return query, dict(scope)
    if imports is not None:
        return query, {**hidden, **_lookup(imports, scope)}
    first = query.clauses[0]
    if not isinstance(first, ast.With):
        return query, hidden
    if not _is_import(first) or len(query.clauses) == 1:
        return query, dict(scope)
    if first.projection.star:
        return ast.SingleQuery(query.clauses[1:]), dict(scope)
    names = tuple(item.expr.name for item in first.projection.items)
    return ast.SingleQuery(query.clauses[1:]), {**hidden, **_lookup(names, scope)}


def _lookup(names: tuple[str, ...], scope: dict[str, int]) -> dict[str, int]:
    for name in names:
        if name not in scope:
            raise CypherSemanticError(f"Variable `{name}` not defined.")
    return {name: scope[name] for name in names}


def _is_import(clause: ast.With) -> bool:
    """A WITH that only passes variables on: `WITH a, b` or `WITH *`."""
    projection = clause.projection
    if clause.where is not None or projection.distinct or projection.order_by or projection.skip or projection.limit:
        return False
    return all(
        isinstance(item.expr, ast.Variable) and item.alias in (None, item.expr.name) for item in projection.items
    )


_ROWWISE = (ast.Match, ast.Unwind, ast.With, ast.Return, ast.Create, ast.Merge, ast.Set, ast.Remove, ast.Delete)


def _rowwise(query: ast.Statement, root: Operator, unit: bool) -> bool:
    """Whether one run of the subquery over many rows gives what a run per
    row gives, so that `Apply` may run it once per batch (a bulk load's
    `CALL (row) { CREATE ... }` then costs what the CREATE alone costs;
    docs/hot-paths.md has the figures).
    True for a query of clauses that treat each row on its own (no
    aggregation, DISTINCT, ORDER BY, SKIP or LIMIT, no nested subquery) that
    reads only, or that ends a unit subquery with its one write, when no
    clause before that write can see a row's write: a CREATE the planner let
    stream (`CreatePattern.streams`), or any write after clauses that read no
    graph."""
    if not isinstance(query, ast.SingleQuery):
        return False
    clauses = query.clauses
    for clause in clauses:
        if not isinstance(clause, _ROWWISE) or _has_subquery(clause):
            return False
        projection = getattr(clause, "projection", None)
        if projection is not None and (projection.distinct or projection.order_by or projection.skip or projection.limit
                                       or any(find_aggregates(item.expr, []) for item in projection.items)):
            return False
    writes = [clause for clause in clauses if isinstance(clause, _WRITES)]
    if not writes:
        return True
    if not unit or len(writes) > 1 or clauses[-1] is not writes[0]:
        return False
    if isinstance(writes[0], ast.Create):
        creation = root.input if isinstance(root, DynamicLabels) else root
        return isinstance(creation, CreatePattern) and creation.streams
    return not any(_reads_graph(clause) for clause in clauses[:-1])


def _has_subquery(node: ast.Node) -> bool:
    if isinstance(node, ast.SubqueryExpression):
        return True
    return any(_has_subquery(child) for child in ast.children(node))


def _writes(node: ast.Node) -> bool:
    """Whether a clause or query may write: an updating clause anywhere in
    it, or a procedure call (whose mode the AST does not say)."""
    if isinstance(node, (*_WRITES, ast.Call)):
        return True
    return any(_writes(child) for child in ast.children(node))


def _reads_graph(node: ast.Node) -> bool:
    """Whether a clause may read the graph: a pattern in it, or a procedure call."""
    if isinstance(node, (ast.PatternPart, ast.Call)):
        return True
    return any(_reads_graph(child) for child in ast.children(node))


def _streams(clauses: tuple, index: int) -> bool:
    """Whether the writing clause at `index` may apply each row as it comes:
    no other clause of the query reads the graph, so none can see a
    difference between a row written early and one written late."""
    return not any(_reads_graph(clause) for i, clause in enumerate(clauses) if i != index)


def _check_batching(planner: Any, clauses: tuple, index: int) -> None:
    if planner.subquery_depth:
        raise CypherSemanticError("CALL { ... } IN TRANSACTIONS cannot be nested in another subquery or FOREACH.")
    for i, clause in enumerate(clauses):
        if i != index and _writes(clause):
            raise CypherSemanticError(
                "A query with CALL { ... } IN TRANSACTIONS can write only inside the subquery: "
                f"move the {type(clause).__name__.upper()} into it."
            )
    planner.in_transactions = True


# --------------------------------------------------------------------------
# Operators
# --------------------------------------------------------------------------


class Apply(Operator):
    """CALL { }: for each input row, the subquery's rows (`slots` copied onto
    the input row), or the input row once when the subquery returns nothing
    (`unit`). `eager`: read every input row before running the first."""

    name = "Apply"

    def __init__(self, input: Operator, subplan: Operator, slots: list[int], unit: bool, eager: bool,
                 rowwise: bool = False):
        self.input, self.subplan, self.slots, self.unit, self.eager = input, subplan, slots, unit, eager
        self.rowwise = rowwise  # `_rowwise`: one run of the subplan may take many rows

    def children(self):
        return [self.input, self.subplan]

    def run(self, ctx, rows):
        rows = self.input.run(ctx, rows)
        if self.eager:
            return iter(list(self._each(ctx, list(rows))))
        return self._each(ctx, rows)

    def _each(self, ctx, rows):
        subplan, slots = self.subplan, self.slots
        if self.rowwise:
            yield from self._together(ctx, rows)
            return
        for row in rows:
            if self.unit:
                for _ in subplan.run(ctx, (row,)):
                    pass
                yield row
                continue
            for inner in subplan.run(ctx, (row,)):
                out = row.copy()
                for slot in slots:
                    out[slot] = inner[slot]
                yield out

    def _together(self, ctx, rows):
        """Runs of the subplan over many rows at once (`rowwise`): a read-only
        one's rows are the outer rows extended already; a unit one runs over
        each chunk of rows, which then pass on."""
        if not self.unit:
            yield from self.subplan.run(ctx, rows)
            return
        chunks = [rows] if type(rows) is list else _chunks(rows, CHUNK)
        for chunk in chunks:
            for _ in self.subplan.run(ctx, chunk):
                pass
            yield from chunk


def _chunks(rows, size: int):
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class CallInTransactions(Operator):
    """CALL { } IN TRANSACTIONS: `apply` over batches of input rows, each
    batch in its own transaction, committed before the next batch is read."""

    name = "TransactionApply"

    def __init__(self, input: Operator, apply: Apply, batch: Callable | None, on_error: str, status_slot: int | None):
        self.input, self.apply, self.batch = input, apply, batch
        self.on_error, self.status_slot = on_error, status_slot

    def detail(self):
        return "IN TRANSACTIONS" + ("" if self.on_error == "fail" else f" ON ERROR {self.on_error.upper()}")

    def children(self):
        return [self.input, self.apply.subplan]

    def run(self, ctx, rows):
        size = DEFAULT_BATCH if self.batch is None else ctx.row_count(self.batch, "IN TRANSACTIONS OF ... ROWS")
        if size < 1:
            raise CypherSemanticError(f"IN TRANSACTIONS OF ... ROWS needs a positive number of rows, got {size}.")
        batch: list = []
        stopped = False
        for row in self.input.run(ctx, rows):
            batch.append(row)
            if len(batch) < size:
                continue
            out, stopped = self._batch(ctx, batch, stopped)
            batch = []
            yield from out
        if batch:
            out, _ = self._batch(ctx, batch, stopped)
            yield from out

    def _batch(self, ctx, batch: list, stopped: bool) -> tuple[list, bool]:
        """The rows of one batch, and whether batching has stopped (ON ERROR BREAK)."""
        if stopped:
            return self._failed(batch, None), True
        outer = ctx.tx
        inner = outer.storage.begin()
        counters = dict(ctx.counters)
        ctx.tx = inner
        try:
            out = list(self.apply.run(ctx, batch))
            inner.commit()
        except Error as exc:
            if not inner.closed:
                inner.abort()
            if self.on_error == "fail" or isinstance(exc, _STOPS):
                raise
            ctx.counters.clear()
            ctx.counters.update(counters)  # the batch's changes are gone
            return self._failed(batch, _status(inner, False, str(exc))), self.on_error == "break"
        except BaseException:
            if not inner.closed:
                inner.abort()
            raise
        finally:
            ctx.tx = outer
        outer.storage.renew(outer)
        if self.status_slot is not None:
            status = _status(inner, True, None)
            for row in out:
                row[self.status_slot] = status
        return out, False

    def _failed(self, batch: list, status: dict | None) -> list:
        """A batch that did not run (or was rolled back): each input row once,
        with null for what the subquery returns."""
        if status is None:
            status = {"started": False, "committed": False, "transactionId": None, "errorMessage": None}
        out = []
        for row in batch:
            row = row.copy()
            for slot in self.apply.slots:
                row[slot] = None
            if self.status_slot is not None:
                row[self.status_slot] = status
            out.append(row)
        return out


def _status(tx, committed: bool, error: str | None) -> dict:
    return {"started": True, "committed": committed, "transactionId": f"weftdb-transaction-{tx.seq}",
            "errorMessage": error}


class Foreach(Operator):
    """FOREACH: the update subplan once per item of the list, for each input
    row; the row passes on unchanged. Eager unless `streams`."""

    name = "Foreach"

    def __init__(self, input: Operator, source: Callable, slot: int, subplan: Operator, eager: bool, variable: str):
        self.input, self.source, self.slot, self.subplan = input, source, slot, subplan
        self.eager, self.variable = eager, variable

    def detail(self):
        return self.variable

    def children(self):
        return [self.input, self.subplan]

    def run(self, ctx, rows):
        rows = self.input.run(ctx, rows)
        if self.eager:
            return iter(list(self._each(ctx, list(rows))))
        return self._each(ctx, rows)

    def _each(self, ctx, rows):
        source, slot, subplan = self.source, self.slot, self.subplan
        for row in rows:
            items = source(row, ctx)
            if items is None:
                yield row
                continue
            if type(items) not in (list, tuple, range):
                raise CypherTypeError(f"FOREACH needs a LIST, not {values.type_name(items)}.")
            for item in items:
                inner = row.copy()
                inner[slot] = item
                for _ in subplan.run(ctx, (inner,)):
                    pass
            yield row

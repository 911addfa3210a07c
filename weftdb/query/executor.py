"""Run a plan inside a transaction and turn its rows into a Result.

The executor owns what changes per execution (transaction, parameters,
counters, cancellation); plans hold only what is fixed by the text, so one
cached plan serves every thread.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from itertools import cycle, islice
from typing import Any, Callable, Iterable, Iterator, Protocol

from weftdb.basics.errors import (
    AccessModeError,
    CypherSemanticError,
    ImplicitTransactionRequired,
    QueryInterrupted,
    QueryTimeout,
)
from weftdb.graph.interface import GraphTransaction
from weftdb.graph.objects import Edge, Vertex
from weftdb.query import ast, columnar, limits, plans, semantics
from weftdb.query.expressions import GraphPath
from weftdb.query.limits import MemoryLimits, resident_bytes
from weftdb.query.planner import Plan, Planner
from weftdb.query.procedures import Registry
from weftdb.query.results import Node, Path, Relationship, Result

CHECK_EVERY = 1024  # rows between checks for cancellation and timeout
_TICKS = (False,) * (CHECK_EVERY - 1) + (True,)


class OverBudget(BaseException):
    """A statement run with a budget (on the server's event loop) ran past it;
    it is rolled back, and the caller runs it again where it may take its
    time. A BaseException, so that no `except Exception` on the way turns it
    into a statement's error."""


pace: Callable[[], None] | None = None
"""Called at every check of a statement that runs without a budget (on a
worker, not on the server's event loop); None but in `weftdb serve`, which
sets it to its BoltServer's `pace` (server/server.py) for as long as it
serves: long statements then leave the interpreter lock to a busy loop."""


class ExecutionContext:
    """`tick()` is called for every row an operator handles and is true once
    every CHECK_EVERY calls; the operator then calls `check()`. It is a
    C-level iterator, not a method: a hot path (docs/hot-paths.md)."""

    __slots__ = ("tx", "params", "counters", "nslots", "interrupt", "deadline", "memory", "started_at", "tick",
                 "read_only", "import_directory", "budget")

    def __init__(self, tx: GraphTransaction, params: dict, nslots: int, interrupt: threading.Event | None,
                 deadline: float | None, memory: MemoryLimits | None = None, read_only: bool = False):
        self.tx = tx
        self.read_only = read_only  # a read-only transaction: procedures must not write
        self.params = params
        self.counters: defaultdict[str, int] = defaultdict(int)
        self.nslots = nslots
        self.interrupt = interrupt
        self.deadline = deadline
        self.memory = memory
        self.started_at = resident_bytes() if memory is not None and memory.query is not None else 0
        self.tick = cycle(_TICKS).__next__
        self.import_directory = ""  # where LOAD CSV may read (the database's --import-directory); '' reads nothing
        self.budget: float | None = None  # a time.monotonic() after which `check` raises OverBudget

    def check(self) -> None:
        """Stop the query when it was cancelled, is out of time or over a memory
        limit; let the storage settle what a long transaction made; and, on a
        worker of `weftdb serve`, let its event loop have the interpreter (`pace`)."""
        self.check_cancelled()
        if self.budget is not None:
            if time.monotonic() > self.budget:
                raise OverBudget
        elif pace is not None:
            pace()
        self.tx.storage.settle(self.tx)
        if self.memory is not None:
            self.memory.check(self.started_at)

    def check_cancelled(self) -> None:
        """The cheap part of `check`, for the start and end of every query (no /proc read)."""
        if self.interrupt is not None and self.interrupt.is_set():
            raise QueryInterrupted("The query was cancelled.")
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise QueryTimeout("The query ran longer than the execution timeout and was stopped.")

    def row_count(self, expr, clause: str) -> int:
        value = expr([], self)
        if type(value) is not int or value < 0:
            raise CypherSemanticError(f"{clause} needs a non-negative integer, got {value!r}.")
        return value


def plan_statement(statement: ast.Statement, tx: GraphTransaction, procedures: Registry | None = None,
                   images: str = "auto") -> Plan:
    """The row plan of `statement` and, when it has the shape of a columnar
    read (query/columnar.py) and `images` (the --analytics-image flag)
    allows, its columnar program above it (a ColumnarRead root)."""
    semantics.check(statement)  # compile-time errors before any planning
    plan = Planner(tx.storage.indexes, procedures).plan(statement)
    if images != "never":
        program = columnar.compile(statement)
        if program is not None and (images == "always" or not columnar.seeks(plan.root)):
            plan.root = columnar.ColumnarRead(plan.root, program, plan.column_slots, plan.nslots, images == "auto")
    return plan


def run(
    plan: Plan,
    tx: GraphTransaction,
    params: dict | None,
    *,
    timeout: float | None = None,
    interrupt: threading.Event | None = None,
    memory: MemoryLimits | None = None,
    profile: bool = False,
    read_only: bool = False,
    deadline: float | None = None,
    implicit: bool = False,
    import_directory: str = "",
    budget: float | None = None,
    owner: StreamOwner | None = None,
) -> Result:
    """`read_only`: refuse a plan that writes (Bolt's read access mode);
    `deadline` (a time.monotonic() value) instead of `timeout` for a statement
    run inside another (a procedure's), which shares its time. `budget`:
    seconds after which the run stops at its next check with OverBudget.

    `owner`: the statement may stream (`Plan.streams`): when its first
    STREAM_AFTER rows are not all of them, the Result streams the rest, and
    `tx` stays open until `owner.end_stream` ends it (StreamOwner).
    Otherwise the caller ends `tx` as ever."""
    if read_only and plan.writes:
        raise AccessModeError("Writing in read access mode not allowed: this transaction is read-only.")
    if plan.in_transactions and not implicit:
        raise ImplicitTransactionRequired(
            "A query with 'CALL { ... } IN TRANSACTIONS' can only be executed in an implicit transaction, but tried "
            "to execute in an explicit transaction. Run it on its own: session.run() of a driver, db.execute() embedded."
        )
    if deadline is None:
        deadline = time.monotonic() + timeout if timeout else None
    ctx = ExecutionContext(tx, params or {}, plan.nslots, interrupt, deadline, memory, read_only)
    ctx.import_directory = import_directory
    if budget is not None:
        ctx.budget = time.monotonic() + budget
    if interrupt is not None:
        ctx.check_cancelled()  # cancelled already (a deadline just set cannot have passed: it is checked at the end)
    slots = plan.column_slots
    start = [None] * plan.nslots
    if profile:
        measured = _instrument(plan.root)
    produced = plan.root.run(ctx, (start,))
    # A statement that may stream makes one row more than STREAM_AFTER: is there anything after them?
    limit = STREAM_AFTER + 1 if owner is not None and plan.streams and not profile else None
    running = limits.RUNNING.set(ctx)
    try:
        if not plan.returns:
            for _ in produced:  # every row runs its updates; a statement without RETURN has no result rows
                pass
            rows = []
        else:
            rows = _public_rows(produced if limit is None else islice(produced, limit), slots, tx)
    finally:
        limits.RUNNING.reset(running)
    if interrupt is not None or deadline is not None:
        ctx.check_cancelled()
    if profile:
        return _profiled(plan, measured, ctx)
    if limit is not None and len(rows) == limit:  # more rows to come: the rest streams, and ends `tx`
        ctx.budget = None  # the budget is for the statement's start, on the server's event loop
        stream = _Stream(produced, slots, ctx, owner)
        return Result(list(plan.columns), rows, plan.query_type, ctx.counters, stream=stream)
    return Result(list(plan.columns), rows, plan.query_type, ctx.counters)


STREAM_AFTER = 1_000
"""Rows a statement that streams makes at once; when there are no more, it
ends then, as a statement that does not stream (its transaction too)."""


class StreamOwner(Protocol):
    """Who ends the transaction of a statement that streams (query/running.py's
    Entry). One object, passed as one argument, as every statement's run is
    handed it."""

    def __enter__(self) -> Any:
        """Entered around each later fetch of the stream, as around the
        statement's first run (the registry entry names a terminated
        transaction's error)."""

    def __exit__(self, *exc: Any) -> Any: ...

    def end_stream(self, finished: bool) -> None:
        """The stream ended, once: `finished` when it made every row (commit),
        not when it was closed or failed (roll back)."""


def _public_rows(produced: Iterable[list], slots: list[int], tx: GraphTransaction) -> list[tuple]:
    """The rows `produced` makes, as a Result holds them: public values in column order."""
    if len(slots) == 1:
        (slot,) = slots
        return [(public(row[slot], tx),) for row in produced]
    return [tuple([public(row[s], tx) for s in slots]) for row in produced]


class _Stream:
    """The rows of a statement that streams, made as they are fetched (results.Stream).

    Each fetch runs the plan under the statement's context, as `run` does,
    on whichever thread asks (over Bolt, a worker per PULL). A fetch that
    makes the last row, or fails, or a close, ends the stream: its owner's
    `end_stream` says which, once."""

    __slots__ = ("produced", "slots", "ctx", "owner", "ended")

    def __init__(self, produced: Iterator[list], slots: list[int], ctx: ExecutionContext, owner: StreamOwner):
        self.produced = produced
        self.slots = slots
        self.ctx = ctx
        self.owner = owner
        self.ended = False

    def fetch(self, n: int | None) -> list[tuple]:
        if self.ended:
            return []
        produced = self.produced
        running = limits.RUNNING.set(self.ctx)
        try:
            with self.owner:
                rows = _public_rows(produced if n is None else islice(produced, n), self.slots, self.ctx.tx)
                if n is None or len(rows) < n:
                    self.ctx.check_cancelled()
        except BaseException:
            self._end(False)
            raise
        finally:
            limits.RUNNING.reset(running)
        if n is None or len(rows) < n:
            self._end(True)
        return rows

    def close(self) -> None:
        self.produced = iter(())  # the plan's iterators go with their last reference (a read on another thread holds one)
        self._end(False)

    def _end(self, finished: bool) -> None:
        if self.ended:  # closed meanwhile from another thread (its database closing)
            return
        self.ended = True
        self.owner.end_stream(finished)


def _instrument(root) -> dict[int, tuple[int, int]]:
    """Measure each operator of a fresh (uncached) plan: the rows it yields and
    the nanoseconds spent in it and the operators below it, keyed by its line
    in `explain()` (filled in as the plan runs)."""
    measured: dict[int, tuple[int, int]] = {}
    line = 0
    clock = time.perf_counter_ns

    def wrap(operator, index):
        inner = operator.run
        measured[index] = (0, 0)

        def timed(ctx, rows):
            produced = inner(ctx, rows)
            while True:
                began = clock()
                try:
                    row = next(produced)
                except StopIteration:
                    count, spent = measured[index]
                    measured[index] = (count, spent + clock() - began)
                    return
                count, spent = measured[index]
                measured[index] = (count + 1, spent + clock() - began)
                yield row

        operator.run = timed

    def walk(operator):
        nonlocal line
        wrap(operator, line)
        line += 1
        for child in operator.children():
            walk(child)

    walk(root)
    return measured


def _profiled(plan: Plan, measured: dict[int, tuple[int, int]], ctx: ExecutionContext) -> Result:
    """PROFILE's answer: Memgraph's table (each operator's rows and its share of
    the time) and Neo4j's profile tree for the summary."""
    tree = plans.describe(plan.root, measured)
    lines = plan.root.explain()
    total = sum(operator["time"] for operator in plans.flatten(tree)) or 1
    rows = [
        (line, operator["rows"], f"{operator['time'] * 100 / total: 10.6f} %", f"{operator['time'] / 1e6: 10.6f} ms")
        for line, operator in zip(lines, plans.flatten(tree))
    ]
    return Result(["OPERATOR", "ACTUAL HITS", "RELATIVE TIME", "ABSOLUTE TIME"], rows, plan.query_type, ctx.counters,
                  "\n".join(lines), tree)


def public(value: Any, tx: GraphTransaction) -> Any:
    """A row value as the user sees it: graph objects copied out of the store."""
    kind = type(value)
    if kind is Vertex:
        labels, props, _ = tx.view(value)
        return Node(value.gid, frozenset(labels), props)
    if kind is Edge:
        return Relationship(value.gid, value.type, value.src.gid, value.dst.gid, tx.properties(value))
    if kind is list:
        return [public(item, tx) for item in value]
    if kind is dict:
        return {key: public(item, tx) for key, item in value.items()}
    if kind is GraphPath:
        return Path(tuple(public(n, tx) for n in value.nodes), tuple(public(r, tx) for r in value.relationships))
    return value

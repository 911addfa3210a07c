"""Planning and running CALL, and calls of user functions in expressions.

`plan_call` checks a CALL clause against the procedure's signature before
anything runs (the procedure exists, the number of arguments, literal
arguments of the wrong type, aggregates in arguments, YIELD names, variables
already bound) and adds a `ProcedureCall` operator. The rules:

- standalone (`CALL p(...)` alone, or with YIELD and WHERE): without YIELD
  every column is returned; `YIELD *` is allowed; written without
  parentheses (`CALL p`), the arguments are the query parameters of the same
  names;
- inside a query: a procedure with columns needs YIELD, unless the CALL ends
  the query (then its columns are the result); `YIELD *` and calls without
  parentheses of a procedure that takes arguments are refused.

A WRITE procedure is eager like the writing clauses, and makes the plan a
writing one, so a read-only transaction refuses it before it runs. A user
procedure declared READ that writes anyway is stopped when its call ends.
"""

from __future__ import annotations

from typing import Any, Callable

from weftdb.basics.errors import CypherSemanticError, Error, ParameterMissing, ProcedureError
from weftdb.query import apoc, ast, builtin_procedures  # noqa: F401  (apoc, builtin_procedures: fill BUILTINS)
from weftdb.query.expressions import find_aggregates
from weftdb.query.operators import Filter, Operator
from weftdb.query.procedures import (
    BUILTINS,
    Function,
    Procedure,
    ProcedureContext,
    Registry,
    bind_arguments,
    check_arguments,
    check_columns,
    failure,
    kind_of,
    records,
    to_internal,
    to_public,
)

_LITERAL_KINDS = {ast.MapLiteral: "MAP", ast.ListLiteral: "LIST"}


def plan_call(planner: Any, root: Operator, clause: ast.Call, scope: dict[str, int], standalone: bool, last: bool):
    """Returns (root, scope, columns, column slots); the columns are those
    the query returns when the CALL ends it, else empty."""
    registry: Registry = planner.procedures or BUILTINS
    proc = registry.get_procedure(clause.procedure)
    args = _arguments(planner, proc, clause, scope, standalone)
    yields, bind = _yields(proc, clause, standalone, last)
    new_scope = dict(scope)
    outputs, names, slots = [], [], []
    index_of = {column.name: i for i, column in enumerate(proc.columns)}
    for column, alias in yields:
        name = alias or column
        if bind:
            if name in new_scope:
                raise CypherSemanticError(f"Variable `{name}` already declared: YIELD {column}"
                                          f"{' AS ' + alias if alias else ''} would bind it again; rename it with AS.")
            slot = new_scope[name] = planner.new_slot()
        else:
            slot = planner.new_slot()
        outputs.append((index_of[column], slot))
        names.append(name)
        slots.append(slot)
    if proc.writes:
        planner.writes = True
    planner.outside = True
    root = ProcedureCall(root, proc, args, outputs, registry, _text(clause, proc, names))
    if clause.where is not None:
        root = Filter(root, planner.expr(clause.where, new_scope), "YIELD ... WHERE")
    if not last:
        return root, new_scope, [], []
    return root, new_scope, names, slots


def _arguments(planner, proc: Procedure, clause: ast.Call, scope, standalone: bool) -> list[Callable]:
    if clause.args is None:
        if proc.parameters and not standalone:
            raise CypherSemanticError(
                f"Procedure call inside a query does not support passing arguments implicitly: write "
                f"CALL {proc.name}(...) with its arguments (only a CALL on its own takes them from the "
                "parameters of the same names)."
            )
        return [_from_parameter(p) for p in proc.parameters]
    check_arguments(proc, len(clause.args))
    for parameter, arg in zip(proc.parameters, clause.args):
        if find_aggregates(arg, []):
            raise CypherSemanticError(f"Aggregation functions cannot be used as arguments of `{proc.name}`: "
                                      "aggregate in a WITH before the CALL.")
        kind = "LITERAL" if isinstance(arg, ast.Literal) else _LITERAL_KINDS.get(type(arg))
        value = arg.value if kind == "LITERAL" else ({} if kind == "MAP" else [] if kind == "LIST" else None)
        if kind is not None and not parameter.type.accepts(value):
            raise CypherSemanticError(
                f"Type mismatch: the argument `{parameter.name}` of `{proc.name}` must be "
                f"{parameter.type.text()}, not {kind_of(value)} (invalid argument type)."
            )
    return [planner.expr(arg, scope) for arg in clause.args]


def _from_parameter(parameter) -> Callable:
    name, default, required = parameter.name, parameter.default, parameter.required

    def read(row, ctx):
        if name in ctx.params:
            return ctx.params[name]
        if required:
            raise ParameterMissing(f"Expected parameter ${name}, which was not given (CALL without parentheses "
                                   "takes the procedure's arguments from the parameters of the same names).")
        return default

    return read


def _yields(proc: Procedure, clause: ast.Call, standalone: bool, last: bool) -> tuple[list, bool]:
    """The (column, alias) pairs the call produces, and whether they join the scope."""
    everything = [(column.name, None) for column in proc.columns]
    if clause.yield_star:
        if not standalone and proc.listed:
            raise CypherSemanticError("YIELD * is only allowed in a CALL on its own; inside a query, name the "
                                      f"columns: YIELD {', '.join(c.name for c in proc.columns) or '...'}.")
        return everything, True
    if clause.yields is None:
        if standalone or last:
            return everything, False
        if proc.columns:
            raise CypherSemanticError(
                f"Procedure call inside a query does not support naming results implicitly: add YIELD with the "
                f"columns you use: YIELD {', '.join(c.name for c in proc.columns)}."
            )
        return [], False
    known = {column.name for column in proc.columns}
    seen: set[str] = set()
    for column, alias in clause.yields:
        if column not in known:
            offered = ", ".join(sorted(known)) or "no columns"
            raise CypherSemanticError(f"Unknown procedure output: `{column}`; `{proc.name}` yields {offered}.")
        name = alias or column
        if name in seen:
            raise CypherSemanticError(f"Variable `{name}` already declared: YIELD binds it twice.")
        seen.add(name)
    return list(clause.yields), True


def _text(clause: ast.Call, proc: Procedure, names: list[str]) -> str:
    text = proc.name + "()"
    return text + (" YIELD " + ", ".join(names) if names else "")


class ProcedureCall(Operator):
    """For each input row: evaluate the arguments, call the procedure, and
    yield one row per record with the yielded columns in their slots."""

    name = "ProcedureCall"

    def __init__(self, input: Operator, proc: Procedure, args: list[Callable], outputs: list[tuple[int, int]],
                 registry: Registry, text: str):
        self.input, self.proc, self.args, self.outputs, self.registry, self.text = input, proc, args, outputs, registry, text

    def detail(self) -> str:
        return self.text

    def run(self, ctx, rows):
        produced = self._rows(ctx, self.input.run(ctx, rows) if not self.proc.writes else list(self.input.run(ctx, rows)))
        if self.proc.writes:
            return iter(list(produced))
        return produced

    def _rows(self, ctx, rows):
        pctx = ProcedureContext(ctx, self.proc, self.registry)
        outputs, args = self.outputs, self.args
        tick = ctx.tick
        void = not self.proc.columns
        for row in rows:
            arguments = [arg(row, ctx) for arg in args]
            if void:  # a VOID procedure leaves the rows as they were: each passes once
                for _ in self._invoke(ctx, pctx, arguments):
                    pass
                yield row
                continue
            for record in self._invoke(ctx, pctx, arguments):
                if tick():
                    ctx.check()
                out = row.copy()
                for index, slot in outputs:
                    out[slot] = record[index]
                yield out

    def _invoke(self, ctx, pctx: ProcedureContext, arguments: list):
        proc = self.proc
        arguments = bind_arguments(proc, arguments)
        if proc.builtin:
            yield from records(proc, proc.body(pctx, *arguments))
            return
        tx = ctx.tx
        inward, outward = _conversions(proc, tx)
        before = len(tx.deltas)
        try:
            for record in records(proc, proc.body(pctx, *[inward(value) for value in arguments])):
                yield tuple(outward(value) for value in check_columns(proc, record))
        except Error:
            raise
        except (Exception, SystemExit) as error:
            raise failure(proc.name, error) from error
        if not proc.writes and len(tx.deltas) > before:
            raise ProcedureError(f"The procedure `{proc.name}` is declared {proc.mode} but changed the graph; "
                                 "declare it with mode='write'.")


def _same(value):
    return value


def _conversions(callable_: Procedure | Function, tx) -> tuple[Callable, Callable]:
    """How values go into and come out of a user's body: as public copies,
    or as they are for an `internal` one (Memgraph's mgp modules wrap them)."""
    if callable_.internal:
        return _same, _same
    return (lambda value: to_public(value, tx)), (lambda value: to_internal(value, tx))


def compile_function(registry: Registry | None, name: str, args: list[Callable]) -> Callable | None:
    """A compiled call of the user or built-in (APOC) function `name`, or None
    when there is none of that name."""
    fn = (registry or BUILTINS).find_function(name)
    if fn is None:
        return None
    check_arguments(fn, len(args))
    if fn.builtin:
        body = fn.body
        return lambda row, ctx: body(ctx, *bind_arguments(fn, [arg(row, ctx) for arg in args]))
    return _user_call(fn, args, registry)


def _user_call(fn: Function, args: list[Callable], registry: Registry | None) -> Callable:
    body, returns = fn.body, fn.returns

    def call(row, ctx):
        inward, outward = _conversions(fn, ctx.tx)
        arguments = [inward(value) for value in bind_arguments(fn, [arg(row, ctx) for arg in args])]
        try:
            result = body(ProcedureContext(ctx, None, registry), *arguments) if fn.context else body(*arguments)
        except Error:
            raise
        except (Exception, SystemExit) as error:
            raise failure(fn.name, error, "function") from error
        if not returns.accepts(result):
            raise ProcedureError(f"The function `{fn.name}` returned {kind_of(result)}, declared {returns.text()}.")
        return outward(returns.coerce(result))

    return call

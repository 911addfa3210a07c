"""Compile expression ASTs into Python closures.

A compiled expression is `f(row, ctx)`: `row` is the list of slot values the
planner laid out, `ctx` the execution context (transaction, parameters).
Compiling once per statement text, instead of walking the tree for every row,
is what keeps repeated parameterised queries fast. The compiled closures run
per row: the special cases in `_Property` and `_BinaryOp` are hot paths
(docs/hot-paths.md).
"""

from __future__ import annotations

from typing import Any, Callable

from weftdb.basics.errors import CypherSemanticError, CypherTypeError, EntityNotFound, ParameterMissing
from weftdb.graph.objects import Edge, Vertex
from weftdb.query import ast, values
from weftdb.query.aggregates import AGGREGATES
from weftdb.query.functions import FUNCTIONS, check_arity
from weftdb.query.load_csv import FILE, LINE
from weftdb.query.results import element_id
from weftdb.query.temporal import temporal_property

Compiled = Callable[[list, Any], Any]

# linenumber() and file() read the slots LOAD CSV binds.
_LOAD_CSV_FUNCTIONS = {"linenumber": LINE, "file": FILE}

_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "=": values.equals,
    "<>": values.not_equals,
    "<": values.lt,
    "<=": values.le,
    ">": values.gt,
    ">=": values.ge,
    "+": values.add,
    "-": values.sub,
    "*": values.mul,
    "/": values.div,
    "%": values.mod,
    "^": values.pow_,
    "in": values.in_list,
    "starts_with": values.starts_with,
    "ends_with": values.ends_with,
    "contains": values.contains,
    "=~": values.regex_match,
    "xor": values.xor3,
}


class GraphPath:
    """A path inside the executor: internal vertices and edges."""

    __slots__ = ("nodes", "relationships")
    cypher_kind = "path"

    def __init__(self, nodes: tuple, relationships: tuple):
        self.nodes = nodes
        self.relationships = relationships


def is_aggregate(expr: ast.Expr) -> bool:
    return isinstance(expr, ast.CountStar) or (
        isinstance(expr, ast.FunctionCall) and expr.name.lower() in AGGREGATES
    )


def find_aggregates(expr: ast.Node, found: list) -> list:
    """Every aggregate call inside `expr`, outermost only."""
    if is_aggregate(expr):
        found.append(expr)
    else:
        for child in ast.children(expr):
            find_aggregates(child, found)
    return found


def check_alive(entity: Vertex | Edge, ctx: Any, what: str) -> None:
    """A node or relationship this transaction deleted has no properties or
    labels left to read: openCypher makes that an error (DeletedEntityAccess),
    not a silent null. Its id and type stay readable."""
    if entity.deleted and ctx.tx.deleted_here(entity):
        kind = "node" if type(entity) is Vertex else "relationship"
        raise EntityNotFound(f"Cannot read {what} of {kind} {entity.gid}: it was deleted.")


def entity_property(entity: Vertex | Edge, key: str, ctx: Any) -> Any:
    check_alive(entity, ctx, f"property `{key}`")
    return ctx.tx.get(entity, key)


def property_of(subject: Any, key: str, ctx: Any) -> Any:
    kind = type(subject)
    if kind is Vertex or kind is Edge:
        return entity_property(subject, key, ctx)
    if kind is dict:
        return subject.get(key)
    if subject is None:
        return None
    if getattr(subject, "cypher_kind", None) is None:
        try:
            return temporal_property(subject, key)
        except CypherTypeError:
            pass
    raise CypherTypeError(f"Cannot read property `{key}` of a {values.type_name(subject)}.")



def _map_field(expr: ast.Property, scope: dict[str, int]) -> tuple[int, str] | None:
    """(slot, key) when `expr` is `variable.key` of a variable in scope: the
    forms compiled to one closure (`variable_property`, `_integer_of_field`)."""
    subject = expr.subject
    if isinstance(subject, ast.Variable) and subject.name in scope:
        return scope[subject.name], expr.key
    return None


def _integer_of_field(slot: int, key: str, field: Callable, general: Callable) -> Callable:
    """`toInteger(row.key)` of a map's text field, LOAD CSV's every number:
    one closure reads the field and converts plain digits, instead of the
    property's closure, the call's and the conversion's (docs/hot-paths.md).
    Anything else goes the general way (`field`, then `general`)."""

    def integer_of_field(row, ctx):
        subject = row[slot]
        if type(subject) is dict:
            value = subject.get(key)
            if type(value) is str and len(value) < 19 and value.isdigit() and value.isascii():
                return int(value)
            return general(value)
        return general(field(row, ctx))

    return integer_of_field


class ExpressionCompiler:
    """`scope` maps variable names to row slots. `subplans` builds the plan of a
    pattern used inside an expression (EXISTS, pattern predicates and
    comprehensions); `new_slot` hands out a slot for a local variable."""

    def __init__(self, new_slot: Callable[[], int], subplans: Any):
        self.new_slot = new_slot
        self.subplans = subplans

    def compile(self, expr: ast.Expr, scope: dict[str, int], aggregates: dict[int, int] | None = None) -> Compiled:
        method = getattr(self, "_" + type(expr).__name__)
        return method(expr, scope, aggregates)

    # -- atoms --------------------------------------------------------------------

    def _Literal(self, expr, scope, aggs):
        value = expr.value
        return lambda row, ctx: value

    def _Parameter(self, expr, scope, aggs):
        name = expr.name

        def parameter(row, ctx):
            try:
                return ctx.params[name]
            except KeyError:
                raise ParameterMissing(f"Expected parameter ${name}, which was not given.") from None

        return parameter

    def _Variable(self, expr, scope, aggs):
        try:
            slot = scope[expr.name]
        except KeyError:
            raise CypherSemanticError(f"Variable `{expr.name}` not defined.") from None
        return lambda row, ctx: row[slot]

    def _ListLiteral(self, expr, scope, aggs):
        items = [self.compile(item, scope, aggs) for item in expr.items]
        return lambda row, ctx: [item(row, ctx) for item in items]

    def _MapLiteral(self, expr, scope, aggs):
        items = [(key, self.compile(value, scope, aggs)) for key, value in expr.items]
        return lambda row, ctx: {key: value(row, ctx) for key, value in items}

    def _MapProjection(self, expr, scope, aggs):
        subject = self.compile(expr.subject, scope, aggs)
        steps = []
        for kind, key, value in expr.items:
            if kind == "literal":
                steps.append((kind, key, self.compile(value, scope, aggs)))
            elif kind == "variable":
                steps.append((kind, key, self._Variable(ast.Variable(key), scope, aggs)))
            else:
                steps.append((kind, key, None))

        def project(row, ctx):
            base = subject(row, ctx)
            if base is None:
                return None
            out = {}
            for kind, key, value in steps:
                if kind == "property":
                    out[key] = property_of(base, key, ctx)
                elif kind == "all":
                    out.update(_properties(base, ctx))
                else:
                    out[key] = value(row, ctx)
            return out

        return project

    # -- access ------------------------------------------------------------------------

    def _Property(self, expr, scope, aggs):
        key = expr.key
        field = _map_field(expr, scope)
        if field is not None:
            slot = field[0]

            def variable_property(row, ctx):
                subject = row[slot]
                kind = type(subject)
                if kind is dict:  # UNWIND $rows AS r ... r.key: the bulk-load path
                    return subject.get(key)
                if (kind is Vertex or kind is Edge) and not subject.deleted:
                    return ctx.tx.get(subject, key)
                return property_of(subject, key, ctx)

            return variable_property
        subject = self.compile(expr.subject, scope, aggs)
        return lambda row, ctx: property_of(subject(row, ctx), key, ctx)

    def _Subscript(self, expr, scope, aggs):
        subject = self.compile(expr.subject, scope, aggs)
        index = self.compile(expr.index, scope, aggs)

        def subscript(row, ctx):
            container = subject(row, ctx)
            key = index(row, ctx)
            if type(container) in (Vertex, Edge):
                if key is None:
                    return None
                if not isinstance(key, str):
                    raise CypherTypeError(f"A property name must be a STRING, not {values.type_name(key)}.")
                return entity_property(container, key, ctx)
            return values.subscript(container, key)

        return subscript

    def _Slice(self, expr, scope, aggs):
        subject = self.compile(expr.subject, scope, aggs)
        start = self.compile(expr.start, scope, aggs) if expr.start is not None else None
        end = self.compile(expr.end, scope, aggs) if expr.end is not None else None
        omitted = values.OMITTED
        return lambda row, ctx: values.slice_(
            subject(row, ctx),
            start(row, ctx) if start else omitted,
            end(row, ctx) if end else omitted,
        )

    # -- operators ----------------------------------------------------------------------

    def _BinaryOp(self, expr, scope, aggs):
        left = self.compile(expr.left, scope, aggs)
        right = self.compile(expr.right, scope, aggs)
        op = expr.op
        if op == "and":

            def and_(row, ctx):
                a = left(row, ctx)
                if a is False:
                    return False
                return values.and3(a, right(row, ctx))

            return and_
        if op == "or":

            def or_(row, ctx):
                a = left(row, ctx)
                if a is True:
                    return True
                return values.or3(a, right(row, ctx))

            return or_
        function = _BINARY[op]
        if op == "=":

            def eq(row, ctx):
                a = left(row, ctx)
                b = right(row, ctx)
                kind = type(a)
                if kind is type(b) and (kind is str or kind is int):
                    return a == b
                return function(a, b)

            return eq
        return lambda row, ctx: function(left(row, ctx), right(row, ctx))

    def _UnaryOp(self, expr, scope, aggs):
        operand = self.compile(expr.operand, scope, aggs)
        if expr.op == "not":
            return lambda row, ctx: values.not3(operand(row, ctx))
        if expr.op == "-":
            return lambda row, ctx: values.neg(operand(row, ctx))

        def plus(row, ctx):
            value = operand(row, ctx)
            if value is not None and type(value) not in (int, float):
                raise CypherTypeError(f"Unary + needs a number, not {values.type_name(value)}.")
            return value

        return plus

    def _IsNull(self, expr, scope, aggs):
        operand = self.compile(expr.operand, scope, aggs)
        if expr.negated:
            return lambda row, ctx: operand(row, ctx) is not None
        return lambda row, ctx: operand(row, ctx) is None

    def _HasLabels(self, expr, scope, aggs):
        subject = self.compile(expr.subject, scope, aggs)
        labels = expr.labels
        if expr.dynamic:  # `n:$(expr)`: the labels are evaluated per row
            return self._dynamic_labels(subject, labels, [self.compile(e, scope, aggs) for e in expr.dynamic])

        def has_labels(row, ctx):
            vertex = subject(row, ctx)
            if vertex is None:
                return None
            if type(vertex) is not Vertex:
                raise CypherTypeError(f"Label check on a {values.type_name(vertex)}; it needs a node.")
            if vertex.deleted:
                check_alive(vertex, ctx, "the labels")
            has_label = ctx.tx.has_label
            return all(has_label(vertex, label) for label in labels)

        return has_labels

    @staticmethod
    def _dynamic_labels(subject, labels, exprs):
        from weftdb.query.operators import dynamic_labels  # operators imports this module

        def has_labels(row, ctx):
            vertex = subject(row, ctx)
            if vertex is None:
                return None
            if type(vertex) is not Vertex:
                raise CypherTypeError(f"Label check on a {values.type_name(vertex)}; it needs a node.")
            check_alive(vertex, ctx, "the labels")
            wanted = (*labels, *(label for expr in exprs for label in dynamic_labels(expr(row, ctx))))
            return all(ctx.tx.has_label(vertex, label) for label in wanted)

        return has_labels

    def _Case(self, expr, scope, aggs):
        subject = self.compile(expr.subject, scope, aggs) if expr.subject is not None else None
        whens = [(self.compile(c, scope, aggs), self.compile(r, scope, aggs)) for c, r in expr.whens]
        default = self.compile(expr.default, scope, aggs) if expr.default is not None else None

        def case(row, ctx):
            if subject is not None:
                value = subject(row, ctx)
                for condition, result in whens:
                    if values.equals(value, condition(row, ctx)) is True:
                        return result(row, ctx)
            else:
                for condition, result in whens:
                    if condition(row, ctx) is True:
                        return result(row, ctx)
            return default(row, ctx) if default is not None else None

        return case

    # -- functions ------------------------------------------------------------------------

    def _CountStar(self, expr, scope, aggs):
        return self._aggregate_result(expr, aggs)

    def _aggregate_result(self, expr, aggs):
        if aggs is None or id(expr) not in aggs:
            raise CypherSemanticError("Aggregation is only allowed in WITH and RETURN.")
        slot = aggs[id(expr)]
        return lambda row, ctx: row[slot]

    def _FunctionCall(self, expr, scope, aggs):
        name = expr.name.lower()
        if name in AGGREGATES:
            return self._aggregate_result(expr, aggs)
        if name in _LOAD_CSV_FUNCTIONS and not expr.args:  # linenumber(), file(): null outside LOAD CSV
            slot = scope.get(_LOAD_CSV_FUNCTIONS[name])
            return (lambda row, ctx: None) if slot is None else (lambda row, ctx: row[slot])
        if name == "exists" and len(expr.args) == 1 and isinstance(expr.args[0], ast.Property):
            inner = self.compile(expr.args[0], scope, aggs)
            return lambda row, ctx: inner(row, ctx) is not None
        args = [self.compile(arg, scope, aggs) for arg in expr.args]
        graph = _GRAPH_FUNCTIONS.get(name)
        if graph is not None:
            if len(args) != 1:
                raise CypherSemanticError(f"Function {expr.name}() takes exactly one argument.")
            arg = args[0]
            return lambda row, ctx: graph(arg(row, ctx), ctx)
        if name not in FUNCTIONS:
            from weftdb.query.calls import compile_function  # calls imports this module

            registered = compile_function(getattr(self.subplans, "procedures", None), expr.name, args)
            if registered is not None:  # a user function, or APOC's: code the planner does not bound
                self.subplans.outside = True
                return registered
        check_arity(expr.name, len(args))
        function = FUNCTIONS[name]
        if not args:
            return lambda row, ctx: function()
        if len(args) == 1:
            arg = args[0]
            if name == "tointeger" and isinstance(expr.args[0], ast.Property):
                field = _map_field(expr.args[0], scope)
                if field is not None:
                    return _integer_of_field(*field, arg, function)
            return lambda row, ctx: function(arg(row, ctx))
        return lambda row, ctx: function(*[arg(row, ctx) for arg in args])

    # -- list expressions -------------------------------------------------------------------

    def _local(self, name: str, scope: dict[str, int]) -> tuple[int, dict[str, int]]:
        slot = self.new_slot()
        inner = dict(scope)
        inner[name] = slot
        return slot, inner

    def _ListComprehension(self, expr, scope, aggs):
        source = self.compile(expr.source, scope, aggs)
        slot, inner = self._local(expr.variable, scope)
        where = self.compile(expr.where, inner, aggs) if expr.where is not None else None
        projection = self.compile(expr.projection, inner, aggs) if expr.projection is not None else None

        def comprehension(row, ctx):
            items = _as_list(source(row, ctx), "list comprehension")
            if items is None:
                return None
            out = []
            for item in items:
                row[slot] = item
                if where is not None and where(row, ctx) is not True:
                    continue
                out.append(projection(row, ctx) if projection is not None else item)
            return out

        return comprehension

    def _Quantifier(self, expr, scope, aggs):
        source = self.compile(expr.source, scope, aggs)
        slot, inner = self._local(expr.variable, scope)
        where = self.compile(expr.where, inner, aggs)
        kind = expr.kind.lower()

        def quantifier(row, ctx):
            items = _as_list(source(row, ctx), kind + "()")
            if items is None:
                return None
            matches = unknown = 0
            for item in items:
                row[slot] = item
                result = where(row, ctx)
                if result is True:
                    matches += 1
                elif result is None:
                    unknown += 1
            if kind == "all":
                return False if matches + unknown < len(items) else (None if unknown else True)
            if kind == "any":
                return True if matches else (None if unknown else False)
            if kind == "none":
                return False if matches else (None if unknown else True)
            if matches > 1:
                return False
            return None if unknown else matches == 1

        return quantifier

    def _Reduce(self, expr, scope, aggs):
        init = self.compile(expr.init, scope, aggs)
        source = self.compile(expr.source, scope, aggs)
        acc_slot, inner = self._local(expr.accumulator, scope)
        item_slot = self.new_slot()
        inner[expr.variable] = item_slot
        body = self.compile(expr.expr, inner, aggs)

        def reduce_(row, ctx):
            acc = init(row, ctx)
            items = _as_list(source(row, ctx), "reduce()")
            if items is None:
                return None
            for item in items:
                row[acc_slot] = acc
                row[item_slot] = item
                acc = body(row, ctx)
            return acc

        return reduce_

    # -- patterns in expressions --------------------------------------------------------------

    def _PatternPredicate(self, expr, scope, aggs):
        plan = self.subplans.pattern((expr.pattern,), None, scope)
        return lambda row, ctx: next(iter(plan.run(ctx, (row,))), None) is not None

    def _Exists(self, expr, scope, aggs):
        plan = self.subplans.pattern(expr.patterns, expr.where, scope)
        return lambda row, ctx: next(iter(plan.run(ctx, (row,))), None) is not None

    def _SubqueryExpression(self, expr, scope, aggs):
        """COUNT { }, COLLECT { } and EXISTS { } around a query (query/subqueries.py)."""
        return self.subplans.subquery_expression(expr, scope)

    def _PatternComprehension(self, expr, scope, aggs):
        plan, inner = self.subplans.pattern_with_scope((expr.pattern,), expr.where, scope)
        projection = self.compile(expr.projection, inner, aggs)
        return lambda row, ctx: [projection(out, ctx) for out in plan.run(ctx, (row,))]

    def _ShortestPath(self, expr, scope, aggs):
        return self.subplans.shortest_path(expr, scope)



def _as_list(value: Any, where: str) -> list | None:
    if value is None or type(value) is list:
        return value
    raise CypherTypeError(f"{where} needs a LIST, not {values.type_name(value)}.")


def _properties(subject: Any, ctx: Any) -> dict:
    kind = type(subject)
    if kind is Vertex or kind is Edge:
        check_alive(subject, ctx, "the properties")
        return ctx.tx.properties(subject)
    if kind is dict:
        return dict(subject)
    raise CypherTypeError(f"properties() needs a node, relationship or map, not {values.type_name(subject)}.")


# -- functions that need the graph ------------------------------------------------------------


def _need(value: Any, kinds: tuple, name: str) -> None:
    if type(value) not in kinds:
        wanted = " or ".join({Vertex: "NODE", Edge: "RELATIONSHIP", GraphPath: "PATH"}[k] for k in kinds)
        raise CypherTypeError(f"{name}() needs a {wanted}, not {values.type_name(value)}.")


def _id(value, ctx):
    if value is None:
        return None
    _need(value, (Vertex, Edge), "id")
    return value.gid


def _element_id(value, ctx):
    if value is None:
        return None
    _need(value, (Vertex, Edge), "elementId")
    return element_id(value.gid)


def _labels(value, ctx):
    if value is None:
        return None
    _need(value, (Vertex,), "labels")
    check_alive(value, ctx, "the labels")
    return sorted(ctx.tx.labels(value))


def _type(value, ctx):
    if value is None:
        return None
    _need(value, (Edge,), "type")
    return value.type


def _keys(value, ctx):
    if value is None:
        return None
    if type(value) is dict:
        return list(value)
    _need(value, (Vertex, Edge), "keys")
    return list(_properties(value, ctx))


def _props(value, ctx):
    return None if value is None else _properties(value, ctx)


def _start_node(value, ctx):
    if value is None:
        return None
    _need(value, (Edge,), "startNode")
    return value.src


def _end_node(value, ctx):
    if value is None:
        return None
    _need(value, (Edge,), "endNode")
    return value.dst


def _nodes(value, ctx):
    if value is None:
        return None
    _need(value, (GraphPath,), "nodes")
    return list(value.nodes)


def _relationships(value, ctx):
    if value is None:
        return None
    _need(value, (GraphPath,), "relationships")
    return list(value.relationships)


def _length(value, ctx):
    if value is None:
        return None
    if type(value) is GraphPath:
        return len(value.relationships)
    return FUNCTIONS["size"](value)


def _size(value, ctx):
    if type(value) is GraphPath:
        return len(value.relationships)
    return FUNCTIONS["size"](value)


_GRAPH_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "id": _id,
    "elementid": _element_id,
    "labels": _labels,
    "type": _type,
    "keys": _keys,
    "properties": _props,
    "startnode": _start_node,
    "endnode": _end_node,
    "nodes": _nodes,
    "relationships": _relationships,
    "length": _length,
    "size": _size,
}

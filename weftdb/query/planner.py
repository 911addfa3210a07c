"""Turn a parsed statement into a tree of operators.

The planner lays out one row of slots for the whole statement (every
variable, named or anonymous, gets a slot), compiles expressions against that
layout, and picks how each pattern is matched:

- a pattern part starts from a node that is already bound, else from an
  indexed `:Label(key) = value` (from the node's property map or a WHERE
  equality), else from `id(n) = value`, else from a label, else a full scan;
- it then expands along its relationships, so connected nodes are reached
  by traversal and never by a cartesian product;
- each WHERE conjunct is applied as soon as its variables are bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from weftdb.basics.errors import CypherSemanticError
from weftdb.graph.indexes import Indexes
from weftdb.query import ast, load_csv, paths, subqueries
from weftdb.query import operators as op
from weftdb.query.calls import plan_call
from weftdb.query.expressions import ExpressionCompiler, find_aggregates, is_aggregate
from weftdb.query.functions import check_arity, lazy_range
from weftdb.query.procedures import Registry

HIDDEN = " "  # prefix of the names of anonymous pattern elements and internal slots


@dataclass
class Plan:
    root: op.Operator
    nslots: int
    columns: list[str]
    column_slots: list[int]
    writes: bool
    returns: bool
    in_transactions: bool = False  # CALL { } IN TRANSACTIONS: commits batches, so an implicit transaction only
    # Runs code the engine does not bound: a procedure, a user or APOC function, LOAD CSV's file reads.
    outside: bool = False
    # Its last run took under the server's inline budget (Database records it): with
    # `writes` and `outside` false, the server may run it on its event loop (server/connection.py).
    quick: bool = False

    @cached_property  # read by every execution of a cached plan
    def query_type(self) -> str:
        if self.writes:
            return "rw" if self.returns else "w"
        return "r"

    @cached_property  # read by every execution of a cached plan
    def streams(self) -> bool:
        """Whether its rows may stream (executor.run): it returns rows, writes
        nothing (a statement's writes are all made before it returns) and runs
        no code the engine does not bound (procedures, user functions, LOAD CSV)."""
        return self.returns and not self.writes and not self.outside and not self.in_transactions

    def explain(self) -> list[str]:
        return self.root.explain()


_ID_FUNCTIONS = {"id": False, "elementid": True}  # name -> the id is an element id


def _id_equality(expr: ast.Expr, variable: str):
    """(other side, by element id, a list) when `expr` is `id(variable) = other`
    (either way round), `elementId(variable) = other` or `... IN other`."""
    if not isinstance(expr, ast.BinaryOp) or expr.op not in ("=", "in"):
        return None
    sides = ((expr.left, expr.right), (expr.right, expr.left)) if expr.op == "=" else ((expr.left, expr.right),)
    for this, other in sides:
        if (isinstance(this, ast.FunctionCall) and this.name.lower() in _ID_FUNCTIONS and not this.distinct
                and this.args == (ast.Variable(variable),)):
            return other, _ID_FUNCTIONS[this.name.lower()], expr.op == "in"
    return None


def split_and(expr: ast.Expr | None) -> list[ast.Expr]:
    if expr is None:
        return []
    if isinstance(expr, ast.BinaryOp) and expr.op == "and":
        return split_and(expr.left) + split_and(expr.right)
    return [expr]


def variables_in(expr: ast.Node | None, found: set[str] | None = None) -> set[str]:
    """Names an expression reads (over-approximated: local names of
    comprehensions are included; they are simply never bound outside)."""
    found = set() if found is None else found
    if isinstance(expr, ast.Variable):
        found.add(expr.name)
    elif isinstance(expr, (ast.NodePattern, ast.RelPattern)):
        if expr.variable is not None:
            found.add(expr.variable)
        variables_in(expr.properties, found)
    elif isinstance(expr, (ast.ListComprehension, ast.Quantifier, ast.Reduce)):
        inner: set[str] = set()
        for child in ast.children(expr):
            variables_in(child, inner)
        inner.discard(expr.variable)
        if isinstance(expr, ast.Reduce):
            inner.discard(expr.accumulator)
        found |= inner
    elif isinstance(expr, ast.Node):
        for child in ast.children(expr):
            variables_in(child, found)
    return found


@dataclass
class _Part:
    """A pattern part with the slot of each of its elements."""

    part: ast.PatternPart
    node_slots: list[int]
    rel_slots: list[int]
    path_slot: int | None = None


@dataclass
class _Conjunct:
    expr: ast.Expr
    needs: set[str]
    used: bool = False


class Planner:
    def __init__(self, indexes: Indexes, procedures: Registry | None = None):
        self.indexes = indexes
        self.procedures = procedures  # CALL and user functions look names up here (None: the built-ins)
        self.nslots = 0
        self.writes = False
        self.subquery_depth = 0  # subqueries and FOREACH being planned around the current clause
        self.in_transactions = False
        self.outside = False  # Plan.outside, found while planning
        self.compiler = ExpressionCompiler(self.new_slot, self)

    def new_slot(self) -> int:
        slot = self.nslots
        self.nslots += 1
        return slot

    def expr(self, expr: ast.Expr, scope: dict[str, int], aggregates=None):
        return self.compiler.compile(expr, scope, aggregates)

    # -- statements ------------------------------------------------------------------

    def plan(self, statement: ast.Statement) -> Plan:
        if isinstance(statement, ast.SingleQuery):
            root, columns, slots, returns = self.single(statement, op.Argument())
            plan = Plan(root, self.nslots, columns, slots, self.writes, returns)
        elif isinstance(statement, ast.Union):
            plan = self.union(statement)
        else:
            raise CypherSemanticError(f"Cannot plan a {type(statement).__name__}.")
        plan.in_transactions = self.in_transactions
        plan.outside = self.outside
        return plan

    def union(self, statement: ast.Union) -> Plan:
        root, columns, out_slots = self.union_of([(part, None) for part in statement.parts], statement.all_flags)
        return Plan(root, self.nslots, columns, out_slots, self.writes, True)

    def union_of(self, parts: list[tuple[ast.SingleQuery, dict[str, int] | None]], all_flags: tuple):
        """(Union operator, columns, slots) over single queries, each with the
        scope it starts with (a subquery's imports, or None): a statement's
        UNION and one inside CALL { } alike."""
        roots, part_slots, columns = [], [], None
        for part, scope in parts:
            root, names, slots, _ = self.single(part, op.Argument(), scope)
            if columns is None:
                columns = names
            elif names != columns:
                raise CypherSemanticError("All sub queries in a UNION must have the same return column names.")
            roots.append(root)
            part_slots.append(slots)
        if len(set(all_flags)) > 1:
            raise CypherSemanticError("Mixing UNION and UNION ALL is not supported.")
        out_slots = [self.new_slot() for _ in columns]
        return op.Union(roots, not all_flags[0], part_slots, out_slots), columns, out_slots

    def single(self, query: ast.SingleQuery, root: op.Operator, scope: dict[str, int] | None = None):
        """`scope`: what a subquery's query starts with (the variables it imports)."""
        scope = dict(scope or {})
        clauses = query.clauses
        columns, column_slots, returns = [], [], False
        for index, clause in enumerate(clauses):
            last = index == len(clauses) - 1
            if isinstance(clause, ast.Return):
                if not last:
                    raise CypherSemanticError("RETURN can only be the last clause of a query.")
                root, scope, columns, column_slots = self.projection(root, clause.projection, scope, None, True)
                returns = True
            elif isinstance(clause, ast.With):
                root, projected, _, _ = self.projection(root, clause.projection, scope, clause.where, False)
                scope = {**load_csv.hidden(scope), **projected}  # linenumber() still reads LOAD CSV's row
            elif isinstance(clause, ast.Match):
                root = self.match_clause(root, clause, scope)
            elif isinstance(clause, ast.Unwind):
                if clause.variable in scope:
                    raise CypherSemanticError(f"Variable `{clause.variable}` already declared.")
                value = self._unwound(clause.expr, scope)
                slot = self.new_slot()
                scope = {**scope, clause.variable: slot}
                root = op.Unwind(root, value, slot, clause.variable)
            elif isinstance(clause, ast.Create):
                root = self.create(root, clause.patterns, scope, clauses[:index] if last else None)
            elif isinstance(clause, ast.Merge):
                root = self.merge(root, clause, scope)
            elif isinstance(clause, ast.Set):
                self.writes = True
                root = op.SetItems(root, self.set_items(clause.items, scope), "SET")
            elif isinstance(clause, ast.Remove):
                self.writes = True
                root = self.remove_clause(root, clause.items, scope)
            elif isinstance(clause, ast.Delete):
                self.writes = True
                exprs = [self.expr(e, scope) for e in clause.exprs]
                root = op.DeleteItems(root, exprs, clause.detach, "DETACH DELETE" if clause.detach else "DELETE")
            elif isinstance(clause, ast.Call):
                root, scope, columns, column_slots = plan_call(self, root, clause, scope, len(clauses) == 1, last)
                returns = bool(columns)
            else:
                root, scope = self.subquery_clause(root, clause, scope, clauses, index)
        last = clauses[-1]
        if not isinstance(last, (ast.Return, ast.Create, ast.Merge, ast.Set, ast.Remove, ast.Delete, ast.Call, ast.Foreach,
                                 ast.SubqueryCall)):
            raise CypherSemanticError(
                f"A query cannot end with {type(last).__name__.upper()}; "
                "end it with RETURN, CALL or an updating clause (CREATE, MERGE, SET, REMOVE, DELETE)."
            )
        return root, columns, column_slots, returns

    # -- MATCH -----------------------------------------------------------------------

    def _unwound(self, expr: ast.Expr, scope: dict[str, int]):
        """The list UNWIND iterates; `range(...)` as a lazy range: its rows come
        one by one and the list is never built."""
        if isinstance(expr, ast.FunctionCall) and expr.name.lower() == "range" and not expr.distinct:
            check_arity("range", len(expr.args))
            args = [self.expr(arg, scope) for arg in expr.args]
            return lambda row, ctx: lazy_range(*[arg(row, ctx) for arg in args])
        return self.expr(expr, scope)

    def match_clause(self, root, clause: ast.Match, scope: dict[str, int]):
        if not clause.optional:
            return self.match(root, clause.patterns, clause.where, scope)
        before = set(scope.values())
        inner = self.match(op.Argument(), clause.patterns, clause.where, scope)
        new_slots = sorted(set(scope.values()) - before)
        return op.Optional(root, inner, new_slots)

    def pattern(self, patterns, where, scope):
        """A sub-plan for a pattern inside an expression (EXISTS, pattern predicates)."""
        return self.match(op.Argument(), patterns, where, dict(scope))

    def pattern_with_scope(self, patterns, where, scope):
        inner = dict(scope)
        return self.match(op.Argument(), patterns, where, inner), inner

    def subquery_clause(self, root, clause, scope, clauses, index):
        """LOAD CSV, FOREACH and CALL { } (query/subqueries.py): (root, scope after)."""
        if isinstance(clause, ast.LoadCsv):
            if index == len(clauses) - 1:
                raise CypherSemanticError("A query cannot end with LOAD CSV; use its rows in a clause after it.")
            return self.load_csv(root, clause, scope)
        if isinstance(clause, ast.Foreach):
            return subqueries.plan_foreach(self, root, clause, scope, clauses, index), scope
        if not isinstance(clause, ast.SubqueryCall):
            raise CypherSemanticError(f"Unsupported clause {type(clause).__name__}.")
        root, new_scope = subqueries.plan_subquery_call(self, root, clause, scope, clauses, index)
        if index == len(clauses) - 1 and len(new_scope) > len(scope):
            raise CypherSemanticError("A query cannot end with a CALL { } that returns rows; add a RETURN after it.")
        return root, new_scope

    def load_csv(self, root, clause: ast.LoadCsv, scope):
        if clause.variable in scope:
            raise CypherSemanticError(f"Variable `{clause.variable}` already declared.")
        options = load_csv.Options(
            clause.header, clause.ignore_bad, clause.delimiter or ",", clause.quote or '"', clause.nullif, clause.empty_is_null
        )
        slots = (self.new_slot(), self.new_slot(), self.new_slot())
        source = self.expr(clause.source, scope)
        scope = {**scope, clause.variable: slots[0], load_csv.LINE: slots[1], load_csv.FILE: slots[2]}
        self.outside = True
        return op.LoadCsv(root, source, slots, options, clause.variable), scope

    def subquery_expression(self, expr: ast.SubqueryExpression, scope):
        """COUNT { }, COLLECT { } or EXISTS { } of a query, compiled."""
        return subqueries.plan_subquery_expression(self, expr, scope)

    def shortest_path(self, expr: ast.ShortestPath, scope):
        """`shortestPath(...)` / `allShortestPaths(...)` inside an expression."""
        return paths.plan_shortest_expression(self, expr, scope)

    def bind_slots(self, patterns, scope: dict[str, int]) -> list[_Part]:
        """Give every pattern element a slot; named ones join `scope`."""
        parts = []
        for part in patterns:
            node_slots = [self._element_slot(node.variable, scope) for node in part.nodes]
            rel_slots = [self._element_slot(rel.variable, scope) for rel in part.rels]
            for rel in part.rels:
                if rel.total_weight is not None:
                    if rel.total_weight in scope:
                        raise CypherSemanticError(f"Variable `{rel.total_weight}` already declared.")
                    scope[rel.total_weight] = self.new_slot()
            path_slot = None
            if part.path_variable is not None:
                if part.path_variable in scope:
                    raise CypherSemanticError(f"Variable `{part.path_variable}` already declared.")
                path_slot = scope[part.path_variable] = self.new_slot()
            parts.append(_Part(part, node_slots, rel_slots, path_slot))
        return parts

    def _element_slot(self, variable: str | None, scope: dict[str, int]) -> int:
        if variable is None:
            return self.new_slot()
        if variable not in scope:
            scope[variable] = self.new_slot()
        return scope[variable]

    def _props(self, properties, scope) -> list:
        if properties is None:
            return []
        if isinstance(properties, ast.MapLiteral):
            return [(key, self.expr(value, scope)) for key, value in properties.items]
        raise CypherSemanticError("A pattern's properties must be a map literal such as {name: $name}.")

    def _create_props(self, properties, scope):
        """Properties of an element CREATE makes: a map literal, or one map
        parameter as in `CREATE (n:Person $props)` (a compiled expression)."""
        if isinstance(properties, ast.Parameter):
            return self.expr(properties, scope)
        return self._props(properties, scope)

    def match(self, root, patterns, where, scope: dict[str, int], parts: list[_Part] | None = None, bound: set[int] | None = None):
        """Plan a MATCH. `parts` and `bound` come pre-computed from MERGE,
        which lays out its slots before planning both its match and its create."""
        if parts is None:
            bound = set(scope.values())
            parts = self.bind_slots(patterns, scope)
        bound = set(bound)
        conjuncts = [_Conjunct(c, variables_in(c)) for c in split_and(where)]
        names = {slot: name for name, slot in scope.items()}
        rels_seen: list[int] = []

        def bound_names():
            return {names[s] for s in bound if s in names}

        def apply_filters(root):
            known = bound_names() | {n for n, s in scope.items() if s in bound}
            for conjunct in conjuncts:
                if not conjunct.used and conjunct.needs <= known:
                    conjunct.used = True
                    root = op.Filter(root, self.expr(conjunct.expr, scope), _text(conjunct.expr))
            return root

        root = apply_filters(root)
        remaining = list(parts)
        while remaining:
            part = self._next_part(remaining, bound)
            remaining.remove(part)
            root = self._match_part(root, part, scope, bound, conjuncts, rels_seen, apply_filters)
        root = self._dynamic_label_tests(root, parts, scope)
        for conjunct in conjuncts:
            if not conjunct.used:  # reads a variable local to a pattern, or an undefined one (compile says which)
                root = op.Filter(root, self.expr(conjunct.expr, scope), _text(conjunct.expr))
        return root

    def _dynamic_label_tests(self, root, parts: list[_Part], scope):
        """`(n:$(expr))` in a pattern: a filter once the node is bound."""
        for part in parts:
            for node, slot in zip(part.part.nodes, part.node_slots):
                if node.dynamic_labels:
                    test = op.has_dynamic_labels(slot, [self.expr(e, scope) for e in node.dynamic_labels])
                    root = op.Filter(root, test, f"{node.variable or ''}:$(...)")
        return root

    def _dynamic_creations(self, parts: list[_Part], created: list, scope) -> list:
        """(slot, label exprs) of the nodes with `:$(expr)` labels that CREATE or MERGE makes."""
        made = {slot for nodes, *_ in created for slot, _, _, create in nodes if create}
        return [
            (slot, [self.expr(e, scope) for e in node.dynamic_labels])
            for part in parts
            for node, slot in zip(part.part.nodes, part.node_slots)
            if node.dynamic_labels and slot in made
        ]

    @staticmethod
    def _next_part(parts: list[_Part], bound: set[int]) -> _Part:
        parts = [part for part in parts if part.part.shortest is None] or parts  # shortest paths last: their ends bound
        for part in parts:
            if any(slot in bound for slot in part.node_slots):
                return part
        return parts[0]

    def _match_part(self, root, part: _Part, scope, bound: set[int], conjuncts, rels_seen, apply_filters):
        if part.part.shortest is not None:
            return paths.plan_shortest(self, root, part, scope, bound, conjuncts, rels_seen, apply_filters)
        nodes, rels = part.part.nodes, part.part.rels
        start = self._choose_start(part, scope, bound, conjuncts)
        root = self._start(root, part, start, scope, bound, conjuncts)
        root = apply_filters(root)
        order = [(i, i, i + 1, False) for i in range(start, len(rels))]
        order += [(i, i + 1, i, True) for i in range(start - 1, -1, -1)]
        for rel_index, src, dst, reverse in order:
            rel = rels[rel_index]
            rel_slot = part.rel_slots[rel_index]
            rel_bound = rel_slot in bound
            direction = rel.direction
            if reverse and direction != "both":
                direction = "in" if direction == "out" else "out"
            dst_node = nodes[dst]
            if rel.search is not None and paths.bind_end_first(self, dst_node, part.node_slots[dst], scope, bound, conjuncts):
                root = apply_filters(self._start(root, part, dst, scope, bound, conjuncts))  # then search between two nodes
            hop = op.Hop(
                src=part.node_slots[src],
                rel=rel_slot,
                dst=part.node_slots[dst],
                direction=direction,
                types=rel.types,
                rel_props=tuple(self._props(rel.properties, scope)),
                dst_labels=dst_node.labels,
                dst_props=tuple(self._props(dst_node.properties, scope)),
                dst_bound=part.node_slots[dst] in bound,
                rel_bound=rel_bound,
                distinct_from=tuple(rels_seen),
                text=_rel_text(nodes[src], rel, dst_node, direction),
            )
            if rel.search is not None:
                root = paths.plan_search(self, root, hop, rel, scope, reverse)
                if rel.total_weight is not None:
                    bound.add(scope[rel.total_weight])
            elif rel.filter is not None:
                raise CypherSemanticError("A filter lambda (r, n | ...) goes with *BFS, *WSHORTEST or *ALLSHORTEST.")
            else:
                root = op.VarExpand(root, hop, rel.min_hops, rel.max_hops, reverse) if rel.var_length else op.Expand(root, hop)
            rels_seen.append(rel_slot)
            bound.add(rel_slot)
            bound.add(part.node_slots[dst])
            root = apply_filters(root)
        if part.path_slot is not None:
            root = op.BuildPath(root, part.path_slot, part.part.path_variable, tuple(part.node_slots), tuple(part.rel_slots))
            bound.add(part.path_slot)
            root = apply_filters(root)
        return root

    def _equalities(self, element: ast.NodePattern | ast.RelPattern, scope, bound, conjuncts) -> list:
        """(key, value expr) pairs a node or relationship pattern requires, from
        its property map and from WHERE equalities on bound values."""
        equalities = []
        if isinstance(element.properties, ast.MapLiteral):
            equalities += [(key, value) for key, value in element.properties.items]
        if element.variable is not None:
            for conjunct in conjuncts:
                found = _equality_on(conjunct.expr, element.variable)
                if found and not conjunct.used:
                    key, value = found
                    if key is not None and self._bound_expr(value, scope, bound):
                        equalities.append((key, value))
        return equalities

    def _index_candidates(self, node: ast.NodePattern, scope, bound, conjuncts):
        """(label, key, value expr) pairs that an index could answer for this node."""
        return [
            (label, key, value)
            for key, value in self._equalities(node, scope, bound, conjuncts)
            for label in node.labels
            if self.indexes.has_property_index(label, key)
        ]

    def _composite_candidate(self, node: ast.NodePattern, scope, bound, conjuncts):
        """(label, keys, value exprs) of an index over several properties that can
        answer for this node (the one over most keys), or None."""
        if not self.indexes.composites or not node.labels:
            return None
        equal = dict(reversed(self._equalities(node, scope, bound, conjuncts)))  # the first value of each key
        found = [(label, keys) for label in node.labels for keys in self.indexes.composites.get(label, {})
                 if all(key in equal for key in keys)]
        if not found:
            return None
        label, keys = max(found, key=lambda item: len(item[1]))
        return label, keys, tuple(equal[key] for key in keys)

    def _edge_index_lookup(self, part: _Part, index: int, scope, bound, conjuncts):
        """(type, keys, value exprs) of a relationship property index that can answer
        for relationship `index` of the part, or None."""
        rels = part.part.rels
        if index >= len(rels) or not self.indexes.edge_indexes:
            return None
        rel = rels[index]
        if rel.var_length or len(rel.types) != 1 or part.rel_slots[index] in bound or rel.search is not None:
            return None
        equal = dict(reversed(self._equalities(rel, scope, bound, conjuncts)))
        keys = [keys for keys in self.indexes.edge_indexes.get(rel.types[0], {}) if all(k in equal for k in keys)]
        if not keys:
            return None
        best = max(keys, key=len)
        return rel.types[0], best, tuple(equal[key] for key in best)

    def _bound_expr(self, expr, scope, bound) -> bool:
        return all(name in scope and scope[name] in bound for name in variables_in(expr))

    def _choose_start(self, part: _Part, scope, bound, conjuncts) -> int:
        nodes = part.part.nodes
        for index, slot in enumerate(part.node_slots):
            if slot in bound:
                return index
        for index, node in enumerate(nodes):
            if self._index_candidates(node, scope, bound, conjuncts) or self._composite_candidate(node, scope, bound, conjuncts):
                return index
        for index, node in enumerate(nodes):
            if node.variable is not None and self._id_lookup(node.variable, scope, bound, conjuncts):
                return index
        for index in range(len(part.part.rels)):
            if self._edge_lookup(part, index, scope, bound, conjuncts):
                return index
        for index in range(len(part.part.rels)):
            if self._edge_index_lookup(part, index, scope, bound, conjuncts):
                return index
        for index, node in enumerate(nodes):
            if node.labels:
                return index
        return 0

    def _start(self, root, part: _Part, index: int, scope, bound: set[int], conjuncts):
        node = part.part.nodes[index]
        slot = part.node_slots[index]
        name = node.variable or "anon"
        props = self._props(node.properties, scope)
        if slot in bound:
            if node.labels or props or not part.part.rels:  # a lone `(x)` still checks that x is a node
                root = op.NodeFilter(root, slot, name, node.labels, props)
            return root
        candidates = self._index_candidates(node, scope, bound, conjuncts)
        composite = self._composite_candidate(node, scope, bound, conjuncts)
        labels = node.labels
        if composite:
            label, keys, found = composite
            root = op.ScanByProperties(root, slot, name, label, keys, tuple(self.expr(value, scope) for value in found))
            labels = tuple(other for other in labels if other != label)
            self._used_equalities(node, tuple(zip(keys, found)), conjuncts)
        elif candidates:
            label, key, value = candidates[0]
            root = op.ScanByProperty(root, slot, name, label, key, self.expr(value, scope))
            labels = tuple(other for other in labels if other != label)
            if isinstance(node.properties, ast.MapLiteral):
                props = self._props(ast.MapLiteral(tuple((k, v) for k, v in node.properties.items if k != key or v != value)), scope)
            for conjunct in conjuncts:  # the lookup already tests `n.key = value`: no Filter for it
                if not conjunct.used and node.variable is not None and _equality_on(conjunct.expr, node.variable) == (key, value):
                    conjunct.used = True
        elif node.variable is not None and (by_id := self._id_lookup(node.variable, scope, bound, conjuncts)):
            value, element, many = by_id
            root = op.ScanById(root, slot, name, self.expr(value, scope), element, many)
        elif by_id := self._edge_lookup(part, index, scope, bound, conjuncts):
            (value, element, many), direction = by_id
            rel_slot = part.rel_slots[index]
            root = op.ScanEdgeById(root, rel_slot, slot, name, direction, self.expr(value, scope), element, many)
            bound.add(rel_slot)  # the Expand after it checks that one relationship
        elif by_index := self._edge_index_lookup(part, index, scope, bound, conjuncts):
            type_, keys, found = by_index
            rel = part.part.rels[index]
            rel_slot = part.rel_slots[index]
            root = op.ScanEdgesByProperty(root, rel_slot, slot, rel.variable or "anon", rel.direction, type_, keys,
                                          tuple(self.expr(value, scope) for value in found))
            self._used_equalities(rel, tuple(zip(keys, found)), conjuncts)
            bound.add(rel_slot)  # the Expand after it checks that one relationship
        elif labels:
            root = op.ScanByLabel(root, slot, name, labels[0])
            labels = labels[1:]
        else:
            root = op.ScanAll(root, slot, name)
        bound.add(slot)
        if labels or props:
            root = op.NodeFilter(root, slot, name, labels, props)
        return root

    @staticmethod
    def _used_equalities(element: ast.NodePattern | ast.RelPattern, used: tuple, conjuncts) -> None:
        """The index lookup tests these `key = value` WHERE conjuncts: no Filter for them."""
        if element.variable is None:
            return
        for conjunct in conjuncts:
            if not conjunct.used and _equality_on(conjunct.expr, element.variable) in used:
                conjunct.used = True

    def _id_lookup(self, variable, scope, bound, conjuncts):
        """(expr, by element id, a list) for a conjunct `id(v) = expr`, `elementId(v) =
        expr` or `... IN expr` whose expr is bound, or None. The conjunct stays a Filter."""
        for conjunct in conjuncts:
            found = _id_equality(conjunct.expr, variable)
            if found is not None and self._bound_expr(found[0], scope, bound):
                return found
        return None

    def _edge_lookup(self, part: _Part, index: int, scope, bound, conjuncts):
        """An id lookup for relationship `index` of the part and the side of it that
        node `index` is on ("out": it leaves that node), or None."""
        rels = part.part.rels
        if index >= len(rels):
            return None
        rel = rels[index]
        if rel.variable is None or rel.var_length or part.rel_slots[index] in bound:
            return None
        found = self._id_lookup(rel.variable, scope, bound, conjuncts)
        return (found, rel.direction) if found is not None else None

    # -- CREATE / MERGE ------------------------------------------------------------------

    def create(self, root, patterns, scope, before: list[ast.Clause] | None = None):
        """`before`: the clauses before a CREATE that ends the statement. Such a
        CREATE streams (applies each row as it arrives) when those clauses
        read nothing it could change: the Eager analysis of Neo4j and
        Memgraph, kept to the case of bulk loads (`UNWIND $rows ... CREATE`)."""
        self.writes = True
        bound = set(scope.values())
        for part in patterns:
            for node in part.nodes:
                if node.variable in scope and (node.labels or node.properties is not None or node.dynamic_labels):
                    raise CypherSemanticError(
                        f"Can't create node `{node.variable}` with labels or properties here: "
                        "the variable is already declared in this context."
                    )
            self._check_new_relationships(part, scope)
            _check_not_shortest(part, "CREATE")
            for rel in part.rels:
                if rel.direction == "both":
                    raise CypherSemanticError("Only directed relationships can be created; use -> or <-.")
        bound_parts = self.bind_slots(patterns, scope)
        parts = self._create_parts(bound_parts, scope, bound)
        creates_nodes = any(create for nodes, *_ in parts for *_, create in nodes)
        streams = before is not None and not _sees_creations(before, creates_nodes)
        root = op.CreatePattern(root, parts, "CREATE", streams=streams)
        dynamic = self._dynamic_creations(bound_parts, parts, scope)
        return op.DynamicLabels(root, dynamic, True, "CREATE", streams) if dynamic else root

    @staticmethod
    def _check_new_relationships(part: ast.PatternPart, scope) -> None:
        """CREATE and MERGE make every relationship of their pattern; one bound
        before cannot be made again (MATCH, by contrast, may re-match it)."""
        for rel in part.rels:
            if rel.variable is not None and rel.variable in scope:
                raise CypherSemanticError(f"Variable `{rel.variable}` already declared.")

    def _create_parts(self, parts: list[_Part], scope, bound: set[int]) -> list:
        """What CreatePattern needs for each part; nodes whose slot is in
        `bound` (or made earlier in the pattern) are reused, not created."""
        made = set(bound)
        out = []
        for part in parts:
            nodes = []
            for node, slot in zip(part.part.nodes, part.node_slots):
                nodes.append((slot, tuple(dict.fromkeys(node.labels)), self._create_props(node.properties, scope), slot not in made))
                made.add(slot)
            rels = []
            for index, (rel, slot) in enumerate(zip(part.part.rels, part.rel_slots)):
                if len(rel.types) != 1:
                    raise CypherSemanticError("A relationship created by CREATE or MERGE needs exactly one type, like [:KNOWS].")
                if rel.var_length:
                    raise CypherSemanticError("Variable length relationships cannot be created.")
                start, end = (index, index + 1) if rel.direction != "in" else (index + 1, index)
                props = self._create_props(rel.properties, scope)
                rels.append((slot, rel.types[0], props, part.node_slots[start], part.node_slots[end]))
            out.append((nodes, rels, part.path_slot, tuple(part.node_slots), tuple(part.rel_slots)))
        return out

    def merge(self, root, clause: ast.Merge, scope):
        self.writes = True
        for node in clause.pattern.nodes:
            if (node.variable in scope and (node.labels or node.properties is not None or node.dynamic_labels)
                    and len(clause.pattern.nodes) == 1):
                raise CypherSemanticError(f"Variable `{node.variable}` already declared; MERGE cannot add to it.")
        self._check_new_relationships(clause.pattern, scope)
        _check_not_shortest(clause.pattern, "MERGE")
        bound = set(scope.values())
        parts = self.bind_slots((clause.pattern,), scope)
        match = self.match(op.Argument(), (clause.pattern,), None, scope, parts, bound)
        created = self._create_parts(parts, scope, bound)
        create = op.CreatePattern(op.Argument(), created, "MERGE CREATE", merging=True)
        on_match = self.set_items(clause.on_match, scope)
        on_create = [("dynamic_labels", slot, exprs) for slot, exprs in self._dynamic_creations(parts, created, scope)]
        on_create += self.set_items(clause.on_create, scope)
        return op.Merge(root, match, create, on_match, on_create, "MERGE")

    # -- SET / REMOVE -----------------------------------------------------------------------

    def _slot(self, name: str, scope) -> int:
        try:
            return scope[name]
        except KeyError:
            raise CypherSemanticError(f"Variable `{name}` not defined.") from None

    def set_items(self, items, scope) -> list:
        out = []
        for item in items:
            if isinstance(item, ast.SetProperty):
                out.append(("property", self.expr(item.subject, scope), item.key, self.expr(item.value, scope)))
            elif isinstance(item, ast.SetProperties):
                out.append(("properties", self._slot(item.variable, scope), self.expr(item.value, scope), item.replace))
            else:
                out.append(("labels", self._slot(item.variable, scope), item.labels))
                if item.dynamic:  # `SET n:$(expr)`
                    out.append(("dynamic_labels", out[-1][1], [self.expr(e, scope) for e in item.dynamic]))
        return out

    def remove_clause(self, root, items, scope):
        """REMOVE: its properties and labels, then the labels of `n:$(expr)`."""
        root = op.RemoveItems(root, self.remove_items(items, scope), "REMOVE")
        dynamic = [(self._slot(item.variable, scope), [self.expr(e, scope) for e in item.dynamic])
                   for item in items if isinstance(item, ast.RemoveLabels) and item.dynamic]
        return op.DynamicLabels(root, dynamic, False, "REMOVE") if dynamic else root

    def remove_items(self, items, scope) -> list:
        out = []
        for item in items:
            if isinstance(item, ast.RemoveProperty):
                out.append(("property", self.expr(item.subject, scope), item.key))
            else:
                out.append(("labels", self._slot(item.variable, scope), item.labels))
        return out

    # -- WITH / RETURN ------------------------------------------------------------------------

    def projection(self, root, proj: ast.Projection, scope, where, is_return):
        items = list(proj.items)
        if proj.star:
            visible = sorted(name for name in scope if not name.startswith(HIDDEN))
            if not visible and not items and is_return:
                raise CypherSemanticError("RETURN * needs at least one variable in scope.")
            items = [ast.ReturnItem(ast.Variable(name), None, name) for name in visible] + items
        names = [item.name for item in items]
        if len(set(names)) != len(names):
            raise CypherSemanticError("Multiple result columns with the same name are not supported; use AS to rename.")
        if not is_return:
            for item in items:
                if item.alias is None and not isinstance(item.expr, ast.Variable):
                    raise CypherSemanticError(f"Expression in WITH must be aliased (use AS): {item.text}")
        slots = [self.new_slot() for _ in names]
        aggregates = [find_aggregates(item.expr, []) for item in items]
        new_scope = dict(zip(names, slots))
        sorted_by: dict[int, int] = {}  # ORDER BY item -> the slot that holds its value
        if any(aggregates):
            # ORDER BY items that aggregate are computed with the projection's
            # aggregates, in hidden columns.
            hidden = [(index, ast.ReturnItem(sort.expr, None, f"{HIDDEN}order {index}")) for index, sort in enumerate(proj.order_by)
                      if find_aggregates(sort.expr, []) and all(item.expr != sort.expr for item in items)]
            hidden_slots = [self.new_slot() for _ in hidden]
            sorted_by.update((index, slot) for (index, _), slot in zip(hidden, hidden_slots))
            all_items = items + [item for _, item in hidden]
            root = self._aggregate(root, all_items, slots + hidden_slots, [find_aggregates(item.expr, []) for item in all_items],
                                   scope, [item.name for item in all_items])
        else:
            root = op.Project(root, [(slot, self.expr(item.expr, scope)) for slot, item in zip(slots, items)], names)
        if proj.distinct:
            root = op.Distinct(root, slots)
        # ORDER BY and WITH's WHERE see the projected columns over the scope
        # before: each row still holds the values of its first input row. After
        # an aggregation or DISTINCT, semantics.py lets them read only grouping
        # keys there, which that first row holds for the whole group.
        order_scope = {**scope, **new_scope}
        if proj.order_by:
            keys = []
            for index, sort in enumerate(proj.order_by):
                slot = sorted_by.get(index, next((s for s, item in zip(slots, items) if item.expr == sort.expr), None))
                if slot is not None:
                    keys.append((_read(slot), sort.descending))
                else:
                    keys.append((self.expr(sort.expr, order_scope), sort.descending))
            root = op.OrderBy(root, keys, ", ".join(_text(s.expr) for s in proj.order_by))
        if proj.skip is not None:
            root = op.Skip(root, self.expr(proj.skip, {}))
        if proj.limit is not None:
            root = op.Limit(root, self.expr(proj.limit, {}), self.writes)
        if where is not None:
            root = op.Filter(root, self.expr(where, order_scope), _text(where))
        return root, new_scope, names, slots

    def _aggregate(self, root, items, slots, aggregates, scope, names):
        keys = []
        specs = []
        agg_slots: dict[int, int] = {}
        for slot, item, found in zip(slots, items, aggregates):
            if not found:
                keys.append((slot, self.expr(item.expr, scope)))
                continue
            implicit = _implicit_key(item.expr)
            if implicit is not None:
                keys.append((self.new_slot(), self.expr(implicit, scope)))
            for call in found:
                if id(call) in agg_slots:
                    continue
                agg_slot = self.new_slot()
                agg_slots[id(call)] = agg_slot
                if isinstance(call, ast.CountStar):
                    specs.append((agg_slot, "count(*)", False, None, []))
                    continue
                if not call.args:
                    raise CypherSemanticError(f"{call.name}() needs an argument.")
                for arg in call.args:
                    if find_aggregates(arg, []):
                        raise CypherSemanticError("Aggregate functions cannot be nested.")
                specs.append(
                    (agg_slot, call.name.lower(), call.distinct, self.expr(call.args[0], scope), [self.expr(a, scope) for a in call.args[1:]])
                )
        shown = [name for name in names if not name.startswith(HIDDEN)]
        root = op.Aggregate(root, keys, specs, shown)
        _check_grouping(items, aggregates, scope)
        key_scope = {name: slot for name, slot, found in zip(names, slots, aggregates) if not found}
        outer = {**scope, **key_scope}
        finals = [
            (slot, self.expr(item.expr, outer, agg_slots))
            for slot, item, found in zip(slots, items, aggregates)
            if found
        ]
        return op.Project(root, finals, [n for n, f in zip(names, aggregates) if f and n in shown])


def _check_grouping(items, aggregates, scope) -> None:
    """An item that aggregates may read other variables only through grouping
    keys (`RETURN n.x, n.x + count(*)`, `RETURN n, n.x + count(*)`); the
    finals read such values from each group's first row, so anything else
    would be an arbitrary row's value (openCypher AmbiguousAggregationExpression)."""
    keys = [item.expr for item, found in zip(items, aggregates) if not found]
    keys += [key for item, found in zip(items, aggregates) if found and (key := _implicit_key(item.expr)) is not None]
    key_variables = {key.name for key in keys if isinstance(key, ast.Variable)}
    for item, found in zip(items, aggregates):
        if not found:
            continue
        loose = (variables_in(_without_grouped(item.expr, keys)) & set(scope)) - key_variables
        if loose:
            raise CypherSemanticError(
                f"Ambiguous aggregation expression `{item.text}`: `{sorted(loose)[0]}` is neither aggregated "
                "nor a grouping key; add it to the projection or aggregate it."
            )


def _check_not_shortest(part: ast.PatternPart, clause: str) -> None:
    if part.shortest is not None:
        raise CypherSemanticError(f"{clause} cannot create a shortest path; use shortestPath(...) in MATCH.")
    for rel in part.rels:
        if rel.search is not None:
            raise CypherSemanticError(f"{clause} cannot create a *{rel.search.upper()} relationship; use it in MATCH.")


def _sees_creations(clauses: list[ast.Clause], creates_nodes: bool) -> bool:
    """Whether `clauses` may read what a CREATE after them makes. CREATE
    changes no existing element, so only a pattern (in MATCH, MERGE or an
    expression) can see new elements: any pattern sees new nodes, and a
    pattern with a relationship sees new relationships (they change the
    adjacency of existing nodes too)."""
    parts = [part for clause in clauses for part in _pattern_parts(clause, [])]
    return any(creates_nodes or part.rels for part in parts)


def _pattern_parts(node: ast.Node, found: list) -> list:
    """The pattern parts in `node`, outermost only."""
    if isinstance(node, ast.PatternPart):
        found.append(node)
    else:
        for child in ast.children(node):
            _pattern_parts(child, found)
    return found


def _implicit_key(expr: ast.Expr) -> ast.Variable | None:
    """The variable that `n {.name, movies: collect(m.title)}` groups by, as in
    Neo4j: one map per `n`."""
    if isinstance(expr, ast.MapProjection) and isinstance(expr.subject, ast.Variable):
        return expr.subject
    return None


def _without_grouped(expr: ast.Node, keys: list) -> ast.Node:
    """`expr` with its aggregate calls and grouping-key subexpressions replaced by null."""
    if is_aggregate(expr) or (isinstance(expr, ast.Expr) and expr in keys):
        return ast.Literal(None)
    return ast.with_children(expr, lambda child: _without_grouped(child, keys))


def _read(slot: int):
    return lambda row, ctx: row[slot]


def _equality_on(expr: ast.Expr, variable: str):
    """(key, other side) when `expr` is `variable.key = other` (either way round)."""
    if not (isinstance(expr, ast.BinaryOp) and expr.op == "="):
        return None
    for this, other in ((expr.left, expr.right), (expr.right, expr.left)):
        if isinstance(this, ast.Property) and this.subject == ast.Variable(variable):
            if variable not in variables_in(other):
                return this.key, other
    return None


def _text(expr: ast.Expr) -> str:
    """A short description of an expression for EXPLAIN."""
    if isinstance(expr, ast.Variable):
        return expr.name
    if isinstance(expr, ast.Property):
        return f"{_text(expr.subject)}.{expr.key}"
    if isinstance(expr, ast.Literal):
        return repr(expr.value)
    if isinstance(expr, ast.Parameter):
        return "$" + expr.name
    if isinstance(expr, ast.BinaryOp):
        return f"{_text(expr.left)} {expr.op.upper().replace('_', ' ')} {_text(expr.right)}"
    if isinstance(expr, ast.FunctionCall):
        return f"{expr.name}(" + ", ".join(_text(a) for a in expr.args) + ")"
    return type(expr).__name__


def _rel_text(src: ast.NodePattern, rel: ast.RelPattern, dst: ast.NodePattern, direction: str) -> str:
    types = "|".join(rel.types)
    body = f"[{rel.variable or ''}{':' + types if types else ''}{'*' if rel.var_length else ''}]"
    left = "<-" if direction == "in" else "-"
    right = "->" if direction == "out" else "-"
    return f"({src.variable or ''}){left}{body}{right}({dst.variable or ''})"

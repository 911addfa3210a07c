"""Compile-time checks of a Cypher statement: openCypher's semantic analysis.

`check(statement)` walks the AST once, after parsing and before planning, and
raises `CypherSemanticError` for a query that means nothing, so it fails
before anything runs (and before any write). It keeps a scope per clause: for
every variable, what the text says it holds. A pattern says node,
relationship, list of relationships (`-[r*]-`) or path; a literal, an
operator or a function says a value type (BOOLEAN, INTEGER, FLOAT, STRING,
LIST<...>, MAP); anything else (a parameter, a property, most functions) may
hold anything and is never refused here: the operators check it at runtime.

The checks, with openCypher's names for them:

- a variable used as two kinds: a relationship or path as a node, a number
  as a relationship (VariableTypeConflict); a relationship twice in one
  pattern (RelationshipUniquenessViolation);
- a variable declared again where Cypher makes a new one: CREATE (a) or
  MERGE (a) of a bound node, new labels or properties on a bound node, a
  bound relationship or path in CREATE or MERGE, UNWIND ... AS a bound name
  (VariableAlreadyBound);
- a variable that is not in scope (UndefinedVariable), including new
  variables in a pattern used as a predicate and, after a WITH or RETURN
  that aggregates or is DISTINCT, variables of the scope before it that are
  not projected;
- an argument of the wrong type where the text fixes it: `NOT 1`,
  `1 AND 'a'`, `1 IN 2`, `labels(path)`, `type(node)`, `size(path)`,
  `x % 2` over a list of strings, a path's property, `DELETE 1 + 1`
  (InvalidArgumentType, InvalidDelete);
- aggregates where they cannot be: in WHERE, inside another aggregate, over
  `rand()`, inside a list comprehension, mixed with variables that are not
  grouping keys (InvalidAggregation, NestedAggregation, NonConstantExpression,
  AmbiguousAggregationExpression);
- WITH items without an alias, two columns of one name, RETURN * with no
  variables, SKIP and LIMIT that read variables or are negative or not
  integers, a pattern used as a value instead of a predicate.

Clauses and expressions this module does not know (added by later work) are
accepted as they are: an unknown expression may hold anything, and after an
unknown clause variables that are not in scope are no longer refused here
(the planner still refuses them).
"""

from __future__ import annotations

from dataclasses import dataclass

from weftdb.basics.errors import CypherSemanticError, CypherTypeError
from weftdb.query import ast
from weftdb.query.aggregates import AGGREGATES

# --------------------------------------------------------------------------
# Static types
# --------------------------------------------------------------------------
#
# A type is None (anything: unknown) or a frozenset of atoms, the kinds a
# value may have. An atom is a name ("NODE", "INTEGER", ...) or ("LIST", t)
# for a list whose elements have type t. A literal null has type None: null
# goes everywhere.

Type = frozenset | None

NODE = frozenset({"NODE"})
RELATIONSHIP = frozenset({"RELATIONSHIP"})
PATH = frozenset({"PATH"})
BOOLEAN = frozenset({"BOOLEAN"})
INTEGER = frozenset({"INTEGER"})
FLOAT = frozenset({"FLOAT"})
STRING = frozenset({"STRING"})
MAP = frozenset({"MAP"})
NUMBERS = {"INTEGER", "FLOAT"}


def list_of(element: Type) -> frozenset:
    return frozenset({("LIST", element)})


RELATIONSHIPS = list_of(RELATIONSHIP)


def _base(atom) -> str:
    return atom if isinstance(atom, str) else "LIST"


def allows(kind: Type, wanted: set[str]) -> bool:
    """Whether a value of type `kind` may be one of the `wanted` kinds."""
    return kind is None or any(_base(atom) in wanted for atom in kind)


def union(*kinds: Type) -> Type:
    if not kinds or any(kind is None for kind in kinds):
        return None
    return frozenset().union(*kinds)


def element(kind: Type) -> Type:
    """The type of the elements of a list of type `kind` (a value that is not
    a list stands for itself, as UNWIND reads it)."""
    if kind is None:
        return None
    parts = []
    for atom in kind:
        if isinstance(atom, str):
            parts.append(frozenset({atom}))
        else:
            parts.append(atom[1])
    return union(*parts)


def describe(kind: Type) -> str:
    """`kind` as a user reads it: NODE, LIST<STRING>, INTEGER or FLOAT..."""
    if kind is None:
        return "ANY"
    names = sorted(atom if isinstance(atom, str) else f"LIST<{describe(atom[1])}>" for atom in kind)
    return " or ".join(names)


def _what(kind: Type) -> str:
    """`a node`, `a list of relationships`, `an INTEGER`: for messages."""
    words = {"NODE": "a node", "RELATIONSHIP": "a relationship", "PATH": "a path"}
    if kind is not None and len(kind) == 1:
        (atom,) = kind
        if isinstance(atom, str) and atom in words:
            return words[atom]
        if atom == ("LIST", RELATIONSHIP):
            return "a list of relationships"
    name = describe(kind)
    return ("an " if name[0] in "AEIOU" else "a ") + name


# Return types of functions, by lower-case name; an argument index instead of
# a type means "the type of that argument", ("element", i) its element type.
_RETURNS: dict[str, object] = {
    "tostring": STRING, "tostringornull": STRING, "toupper": STRING, "tolower": STRING, "upper": STRING,
    "lower": STRING, "trim": STRING, "ltrim": STRING, "rtrim": STRING, "replace": STRING, "substring": STRING,
    "left": STRING, "right": STRING, "type": STRING, "randomuuid": STRING,
    "size": INTEGER, "length": INTEGER, "id": INTEGER, "tointeger": INTEGER, "tointegerornull": INTEGER,
    "timestamp": INTEGER, "count": INTEGER,
    "tofloat": FLOAT, "tofloatornull": FLOAT, "rand": FLOAT, "pi": FLOAT, "e": FLOAT, "sqrt": FLOAT,
    "exp": FLOAT, "log": FLOAT, "log10": FLOAT, "sin": FLOAT, "cos": FLOAT, "tan": FLOAT, "cot": FLOAT,
    "asin": FLOAT, "acos": FLOAT, "atan": FLOAT, "atan2": FLOAT, "degrees": FLOAT, "radians": FLOAT,
    "haversin": FLOAT, "ceil": FLOAT, "floor": FLOAT, "stdev": FLOAT, "stdevp": FLOAT, "percentilecont": FLOAT,
    "toboolean": BOOLEAN, "tobooleanornull": BOOLEAN, "isempty": BOOLEAN, "exists": BOOLEAN,
    "labels": list_of(STRING), "keys": list_of(STRING), "split": list_of(STRING), "range": list_of(INTEGER),
    "nodes": list_of(NODE), "relationships": RELATIONSHIPS,
    "properties": MAP, "startnode": NODE, "endnode": NODE,
    "abs": 0, "reverse": 0, "tail": 0,
    "head": ("element", 0), "last": ("element", 0),
}

# Arguments whose kind the text can get wrong: function -> kinds its first
# argument may have (null is always allowed).
_ARGUMENT_KINDS: dict[str, set[str]] = {
    "labels": {"NODE"},
    "type": {"RELATIONSHIP"},
    "startnode": {"RELATIONSHIP"},
    "endnode": {"RELATIONSHIP"},
    "id": {"NODE", "RELATIONSHIP"},
    "properties": {"NODE", "RELATIONSHIP", "MAP"},
    "keys": {"NODE", "RELATIONSHIP", "MAP"},
    "nodes": {"PATH"},
    "relationships": {"PATH"},
    "length": {"PATH", "STRING", "LIST"},
    "size": {"STRING", "LIST"},
    "head": {"LIST"},
    "last": {"LIST"},
    "tail": {"LIST"},
}

_BOOLEAN_OPERATORS = {"and", "or", "xor"}
_COMPARISONS = {"=", "<>", "<", ">", "<=", ">=", "starts_with", "ends_with", "contains", "=~"}
# Arithmetic that only numbers (and temporal values, which the text never
# types here) take; + also joins strings and lists, so it is not checked.
_ARITHMETIC = {"-", "*", "/", "%", "^"}
_OPERATOR_TEXT = {"and": "AND", "or": "OR", "xor": "XOR", "in": "IN"}


def fail(message: str) -> CypherSemanticError:
    return CypherSemanticError(message)


# --------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Where:
    """Where an expression stands: `predicate` when a pattern may be used as a
    boolean there; `aggregates` is None where aggregates are allowed, else
    the sentence that says why not."""

    predicate: bool = False
    aggregates: str | None = "Aggregation is only allowed in WITH, RETURN and ORDER BY"


_VALUE = _Where()
_PREDICATE = _Where(predicate=True)
_PROJECTED = _Where(aggregates=None)


def check(statement: ast.Statement) -> None:
    """Raise CypherSemanticError (or CypherTypeError where openCypher says
    TypeError) for what `statement` gets wrong; return None when it is sound.
    Schema and administration statements have nothing to check."""
    if isinstance(statement, (ast.Explain, ast.Profile)):
        check(statement.statement)
    elif isinstance(statement, ast.SingleQuery):
        _Checker().query(statement)
    elif isinstance(statement, ast.Union):
        for part in statement.parts:
            _Checker().query(part)


class _Checker:
    """One single query's walk. `scope` maps each visible variable to its
    type; `open` once a clause this module does not know has run (it may
    have bound anything)."""

    def __init__(self):
        self.scope: dict[str, Type] = {}
        self.open = False

    # -- clauses -------------------------------------------------------------------

    def query(self, query: ast.SingleQuery) -> None:
        for clause in query.clauses:
            handler = getattr(self, "_" + type(clause).__name__, None)
            if handler is None:
                self.open = True
            else:
                handler(clause)

    def _Match(self, clause: ast.Match) -> None:
        self.scope = self.declare_pattern(clause.patterns, self.scope, "MATCH")
        if clause.where is not None:
            self.condition(clause.where, self.scope, "WHERE")

    def _Create(self, clause: ast.Create) -> None:
        self.check_new_pattern(clause.patterns, "CREATE")
        self.scope = self.declare_pattern(clause.patterns, self.scope, "CREATE")

    def _Merge(self, clause: ast.Merge) -> None:
        self.check_new_pattern((clause.pattern,), "MERGE")
        self.scope = self.declare_pattern((clause.pattern,), self.scope, "MERGE")
        self.set_items(clause.on_create + clause.on_match)

    def _Set(self, clause: ast.Set) -> None:
        self.set_items(clause.items)

    def _Remove(self, clause: ast.Remove) -> None:
        for item in clause.items:
            if isinstance(item, ast.RemoveProperty):
                self.entity(item.subject, f"REMOVE {_text(item.subject)}.{item.key}")
            elif isinstance(item, ast.RemoveLabels):
                self.labelled(item.variable, "REMOVE")
                self.values(getattr(item, "dynamic", ()), self.scope)

    def _Delete(self, clause: ast.Delete) -> None:
        for expr in clause.exprs:
            kind = self.typed(expr, self.scope, _VALUE)
            if isinstance(expr, ast.HasLabels):
                labels = "".join(":" + label for label in expr.labels)
                raise fail(f"DELETE removes nodes, relationships and paths, not labels or types: to remove a label write REMOVE {_text(expr.subject)}{labels}.")
            if not allows(kind, {"NODE", "RELATIONSHIP", "PATH"}):
                raise fail(f"DELETE needs a node, relationship or path, but `{_text(expr)}` is {_what(kind)}.")

    def _Unwind(self, clause: ast.Unwind) -> None:
        kind = self.typed(clause.expr, self.scope, _VALUE)
        if clause.variable in self.scope:
            raise fail(f"Variable `{clause.variable}` already declared: UNWIND ... AS {clause.variable} needs a new name.")
        self.scope = {**self.scope, clause.variable: element(kind)}

    def _With(self, clause: ast.With) -> None:
        self.scope = self.projection(clause.projection, clause.where, "WITH")

    def _Return(self, clause: ast.Return) -> None:
        self.scope = self.projection(clause.projection, None, "RETURN")

    def _Call(self, clause: ast.Call) -> None:
        for arg in clause.args or ():
            self.typed(arg, self.scope, _VALUE)
        if not clause.yields:
            self.open = True  # the procedure's columns are known when it is planned
            return
        scope = dict(self.scope)
        for name, alias in clause.yields:
            scope[alias or name] = None
        self.scope = scope
        if clause.where is not None:
            self.condition(clause.where, scope, "WHERE")

    # -- patterns ----------------------------------------------------------------

    def declare_pattern(self, patterns, outer: dict[str, Type], clause: str) -> dict[str, Type]:
        """The scope after `patterns` bind their variables in `outer`, checking
        that each variable is one kind; then the expressions inside them
        (which may read any variable of the pattern)."""
        scope = dict(outer)
        declared: dict[str, Type] = {}  # by this pattern
        for part in patterns:
            if part.path_variable is not None:
                self.bind_path(part.path_variable, scope, declared, clause)
            for index, node in enumerate(part.nodes):
                if node.variable is not None:
                    self.bind(node.variable, NODE, scope, declared, clause)
                if index < len(part.rels):
                    rel = part.rels[index]
                    if rel.variable is not None:
                        self.bind(rel.variable, RELATIONSHIPS if rel.var_length else RELATIONSHIP, scope, declared, clause)
                    total = getattr(rel, "total_weight", None)
                    if total is not None:
                        scope[total] = declared[total] = None
        for part in patterns:
            self.pattern_expressions(part, scope, clause)
        return scope

    def bind(self, name: str, kind: frozenset, scope: dict[str, Type], declared: dict[str, Type], clause: str) -> None:
        if name in declared:
            if declared[name] != kind:
                raise fail(f"Variable `{name}` is used as {_what(declared[name])} and as {_what(kind)} in the same {clause} pattern.")
            if kind != NODE:
                raise fail(
                    f"Relationship `{name}` appears twice in one {clause} pattern; a pattern never matches one relationship twice."
                )
            return
        if name in scope:
            bound = scope[name]
            if kind == RELATIONSHIPS:
                ok = allows(bound, {"LIST"}) and allows(element(bound), {"RELATIONSHIP"})
            else:
                ok = allows(bound, set(kind))
            if not ok:
                raise fail(f"Type mismatch: `{name}` is {_what(bound)}, so it cannot be used as {_what(kind)} in {clause}.")
            return
        scope[name] = declared[name] = kind

    def bind_path(self, name: str, scope, declared, clause: str) -> None:
        if name in declared:
            raise fail(f"Variable `{name}` is used as a path and as {_what(declared[name])} in the same {clause} pattern.")
        if name in scope:
            raise fail(f"Variable `{name}` already declared: a path variable (`{name} = ...`) must be a new name.")
        scope[name] = declared[name] = PATH

    def pattern_expressions(self, part: ast.PatternPart, scope, clause: str) -> None:
        for element_pattern in (*part.nodes, *part.rels):
            properties = element_pattern.properties
            if isinstance(properties, ast.Parameter) and clause == "MATCH":
                raise fail(
                    f"A parameter cannot stand for the properties of a pattern in MATCH (${properties.name}); "
                    f"write them out, e.g. {{name: ${properties.name}.name}}, or filter in WHERE."
                )
            if properties is not None:
                self.typed(properties, scope, _VALUE)
            self.values(getattr(element_pattern, "dynamic_labels", ()), scope)

    def check_new_pattern(self, patterns, clause: str) -> None:
        """What CREATE and MERGE refuse: they make every element of their
        pattern that is not bound, so a bound element may only be a node that
        the pattern connects, as it is."""
        seen: set[str] = set(self.scope)
        for part in patterns:
            for node in part.nodes:
                name = node.variable
                if name is None:
                    continue
                if name in seen:
                    if node.labels or node.properties is not None:
                        raise fail(
                            f"Variable `{name}` already declared: {clause} cannot add labels or properties to it; "
                            f"write ({name}) and use SET {name}:Label or SET {name}.key = value."
                        )
                    if not part.rels:
                        raise fail(f"Variable `{name}` already declared: {clause} ({name}) would make a node that exists already.")
                seen.add(name)
            for rel in part.rels:
                if rel.variable is not None and rel.variable in seen:
                    raise fail(f"Variable `{rel.variable}` already declared: {clause} makes a new relationship, which needs a new name.")
                if rel.variable is not None:
                    seen.add(rel.variable)
                if len(rel.types) != 1:
                    raise fail(f"A relationship that {clause} makes needs exactly one type, like [:KNOWS].")
                if rel.var_length:
                    raise fail(f"{clause} cannot make a variable length relationship (*).")
                if rel.direction == "both" and clause == "CREATE":
                    raise fail("CREATE makes directed relationships only; use -> or <-.")
            if part.path_variable is not None:
                seen.add(part.path_variable)

    # -- SET, REMOVE -----------------------------------------------------------

    def set_items(self, items) -> None:
        for item in items:
            if isinstance(item, ast.SetProperty):
                self.entity(item.subject, f"SET {_text(item.subject)}.{item.key}")
                self.typed(item.value, self.scope, _VALUE)
            elif isinstance(item, ast.SetProperties):
                self.entity(ast.Variable(item.variable), f"SET {item.variable} {'=' if item.replace else '+='} ...")
                self.typed(item.value, self.scope, _VALUE)
            elif isinstance(item, ast.SetLabels):
                self.labelled(item.variable, "SET")
                self.values(getattr(item, "dynamic", ()), self.scope)

    def entity(self, subject: ast.Expr, what: str) -> None:
        kind = self.typed(subject, self.scope, _VALUE)
        if not allows(kind, {"NODE", "RELATIONSHIP", "MAP"}):
            raise fail(f"{what}: `{_text(subject)}` is {_what(kind)}; only nodes and relationships have properties to change.")

    def labelled(self, name: str, clause: str) -> None:
        kind = self.variable(name, self.scope)
        if not allows(kind, {"NODE"}):
            raise fail(f"{clause} {name}:Label: `{name}` is {_what(kind)}; only nodes have labels.")

    # -- WITH, RETURN ------------------------------------------------------------

    def projection(self, proj: ast.Projection, where: ast.Expr | None, clause: str) -> dict[str, Type]:
        old = self.scope
        items = list(proj.items)
        if proj.star:
            if not old and not items and clause == "RETURN" and not self.open:
                raise fail("RETURN * needs at least one variable in scope; there is none here.")
            items = [ast.ReturnItem(ast.Variable(name), None, name) for name in old] + items
        names = [item.name for item in items]
        for name in names:
            if names.count(name) > 1:
                raise fail(f"Two columns of {clause} are named `{name}`; give one another name with AS.")
        kinds = []
        for item in items:
            if clause == "WITH" and item.alias is None and not isinstance(item.expr, ast.Variable):
                raise fail(f"An expression in WITH needs an alias: write {item.text} AS name.")
            kinds.append(self.typed(item.expr, old, _PROJECTED))
        new = dict(zip(names, kinds))
        grouped = [bool(_aggregates(item.expr)) for item in items]
        aggregating = any(grouped)
        if aggregating:
            _check_grouping(items, grouped, old)
        # After an aggregation or DISTINCT, ORDER BY and WHERE see the
        # projected columns and, of the scope before, only what was projected.
        hides = aggregating or proj.distinct
        after = new if hides else {**old, **new}
        for sort in proj.order_by:
            self.after_projection(sort.expr, items, grouped, old, after, hides, aggregating, "ORDER BY")
        self.row_count(proj.skip, "SKIP")
        self.row_count(proj.limit, "LIMIT")
        if where is not None:
            self.after_projection(where, items, grouped, old, after, hides, False, "WHERE")
        return new

    def after_projection(self, expr, items, grouped, old, after, hides, aggregates: bool, clause: str) -> None:
        where = _Where(predicate=clause == "WHERE", aggregates=None if aggregates else _NO_AGGREGATES[clause])
        if not hides:
            kind = self.typed(expr, after, where)
        else:
            keys = [item for item, found in zip(items, grouped) if not found]
            usable = {item.expr: item.name for item in keys if _simple(item.expr) or not any(grouped)}
            projected_calls = {call for item in items for call in _aggregates(item.expr)}
            for call in _aggregates(expr) if aggregates else ():
                self.aggregate(call, old)
                if call not in projected_calls:
                    raise fail(
                        f"{clause} can only use the aggregates its WITH or RETURN computes, and "
                        f"{_text(call)} is not one of them; add it to the projection (... AS name) and sort by that name."
                    )
            visible = _replace(expr, usable, aggregates)
            try:
                kind = self.typed(visible, after, where)
            except CypherSemanticError as error:
                name = getattr(error, "variable", None)
                if name is None or name not in old:
                    raise
                projected = any(name in _names(item.expr) for item in items)
                if aggregates and projected and _aggregates(expr):
                    raise fail(
                        f"Ambiguous aggregation expression in {clause}: `{name}` is used outside the projected "
                        "columns and aggregates; use the column names of the projection."
                    ) from None
                raise fail(
                    f"Variable `{name}` not defined in {clause}: after an aggregation or DISTINCT only the "
                    "projected columns are visible; project it (WITH ..., " + name + ") or use a column name."
                ) from None
        if clause == "WHERE" and not allows(kind, {"BOOLEAN"}):
            raise fail(f"WHERE needs a boolean, but `{_text(expr)}` is {_what(kind)}.")

    def row_count(self, expr: ast.Expr | None, clause: str) -> None:
        if expr is None:
            return
        names = _names(expr)
        if names:
            raise fail(f"{clause} must be a constant or a parameter; it cannot read `{sorted(names)[0]}`.")
        kind = self.typed(expr, {}, _VALUE)
        if isinstance(expr, ast.Literal) and type(expr.value) is int and expr.value < 0:
            raise fail(f"{clause} needs a non-negative integer, got {expr.value}.")
        if not allows(kind, {"INTEGER"}):
            raise fail(f"{clause} needs a non-negative integer, but `{_text(expr)}` is {_what(kind)}.")

    # -- expressions ---------------------------------------------------------------

    def condition(self, expr: ast.Expr, scope, clause: str) -> None:
        kind = self.typed(expr, scope, _PREDICATE)
        if not allows(kind, {"BOOLEAN"}):
            raise fail(f"{clause} needs a boolean, but `{_text(expr)}` is {_what(kind)}.")

    def values(self, exprs, scope) -> None:
        for expr in exprs:
            self.typed(expr, scope, _VALUE)

    def variable(self, name: str, scope) -> Type:
        if name in scope:
            return scope[name]
        if self.open:
            return None
        error = fail(f"Variable `{name}` not defined.")
        error.variable = name
        raise error

    def typed(self, expr: ast.Expr, scope: dict[str, Type], where: _Where) -> Type:
        """The type of `expr` in `scope`, checking it on the way."""
        method = getattr(self, "_expr_" + type(expr).__name__, None)
        if method is None:
            return None  # an expression this module does not know: the planner checks it
        return method(expr, scope, where)

    def boolean(self, expr: ast.Expr, scope, where: _Where, context: str) -> None:
        kind = self.typed(expr, scope, _Where(predicate=True, aggregates=where.aggregates))
        if not allows(kind, {"BOOLEAN"}):
            raise fail(f"Type mismatch: {context} needs a BOOLEAN, but `{_text(expr)}` is {_what(kind)}.")

    def _expr_Literal(self, expr: ast.Literal, scope, where) -> Type:
        value = expr.value
        if value is None:
            return None
        if isinstance(value, bool):
            return BOOLEAN
        if isinstance(value, int):
            return INTEGER
        if isinstance(value, float):
            return FLOAT
        if isinstance(value, str):
            return STRING
        return None

    def _expr_Parameter(self, expr, scope, where) -> Type:
        return None

    def _expr_Variable(self, expr: ast.Variable, scope, where) -> Type:
        return self.variable(expr.name, scope)

    def _expr_Property(self, expr: ast.Property, scope, where) -> Type:
        kind = self.typed(expr.subject, scope, _Where(aggregates=where.aggregates))
        if kind is not None and not allows(kind, {"NODE", "RELATIONSHIP", "MAP"}):
            if kind <= PATH:
                raise fail(
                    f"Type mismatch: `{_text(expr.subject)}` is a path, which has no properties; "
                    f"read them from nodes({_text(expr.subject)}) or relationships({_text(expr.subject)})."
                )
            if "PATH" not in kind:  # openCypher calls this one a TypeError
                raise CypherTypeError(f"Type mismatch: cannot read property `{expr.key}` of {_what(kind)} (`{_text(expr.subject)}`).")
        return None

    def _expr_Subscript(self, expr: ast.Subscript, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        kind = self.typed(expr.subject, scope, inner)
        self.typed(expr.index, scope, inner)
        if kind is not None and all(not isinstance(atom, str) for atom in kind):
            return element(kind)
        return None

    def _expr_Slice(self, expr: ast.Slice, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        kind = self.typed(expr.subject, scope, inner)
        for bound in (expr.start, expr.end):
            if bound is not None:
                self.typed(bound, scope, inner)
        if kind is not None and all(not isinstance(atom, str) for atom in kind):
            return kind
        return None

    def _expr_ListLiteral(self, expr: ast.ListLiteral, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        kinds = [self.typed(item, scope, inner) for item in expr.items]
        return list_of(union(*kinds) if kinds else None)

    def _expr_MapLiteral(self, expr: ast.MapLiteral, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        for _, value in expr.items:
            self.typed(value, scope, inner)
        return MAP

    def _expr_MapProjection(self, expr: ast.MapProjection, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        kind = self.typed(expr.subject, scope, inner)
        if not allows(kind, {"NODE", "RELATIONSHIP", "MAP"}):
            raise fail(f"Type mismatch: a map projection needs a node, relationship or map, but `{_text(expr.subject)}` is {_what(kind)}.")
        for item_kind, key, value in expr.items:
            if item_kind == "literal":
                self.typed(value, scope, inner)
            elif item_kind == "variable":
                self.variable(key, scope)
        return MAP

    def _expr_CountStar(self, expr, scope, where) -> Type:
        if where.aggregates is not None:
            raise fail(f"{where.aggregates}: count(*) cannot be used here.")
        return INTEGER

    def _expr_FunctionCall(self, expr: ast.FunctionCall, scope, where) -> Type:
        name = expr.name.lower()
        if name in AGGREGATES:
            if where.aggregates is not None:
                raise fail(f"{where.aggregates}: {expr.name}(...) cannot be used here.")
            return self.aggregate(expr, scope)
        inner = _Where(predicate=name == "exists", aggregates=where.aggregates)
        kinds = [self.typed(arg, scope, inner) for arg in expr.args]
        wanted = _ARGUMENT_KINDS.get(name)
        if wanted is not None and kinds and not allows(kinds[0], wanted):
            choices = " or ".join(sorted(wanted))
            raise fail(f"Type mismatch: {expr.name}() needs a {choices}, but `{_text(expr.args[0])}` is {_what(kinds[0])}.")
        return _returned(name, kinds)

    def aggregate(self, call, scope) -> Type:
        """An aggregate's arguments: read in the scope before the projection,
        with no aggregate inside and nothing random."""
        if isinstance(call, ast.CountStar):
            return INTEGER
        kinds = []
        for arg in call.args:
            if _aggregates(arg):
                raise fail(f"Aggregate functions cannot be nested: {call.name}() holds another aggregate.")
            if any(isinstance(found, ast.FunctionCall) and found.name.lower() == "rand" for found in _calls(arg)):
                raise fail(f"{call.name}() cannot aggregate rand(): an aggregate needs values that do not change between evaluations.")
            kinds.append(self.typed(arg, scope, _VALUE))
        return _returned(call.name.lower(), kinds)

    def _expr_BinaryOp(self, expr: ast.BinaryOp, scope, where) -> Type:
        op = expr.op
        if op in _BOOLEAN_OPERATORS:
            text = _OPERATOR_TEXT[op]
            self.boolean(expr.left, scope, where, text)
            self.boolean(expr.right, scope, where, text)
            return BOOLEAN
        inner = _Where(aggregates=where.aggregates)
        left = self.typed(expr.left, scope, inner)
        right = self.typed(expr.right, scope, inner)
        if op == "in":
            if not allows(right, {"LIST"}):
                raise fail(f"Type mismatch: IN needs a LIST on its right, but `{_text(expr.right)}` is {_what(right)}.")
            return BOOLEAN
        if op in _COMPARISONS:
            return BOOLEAN
        if op in _ARITHMETIC:
            for side, kind in ((expr.left, left), (expr.right, right)):
                if not allows(kind, NUMBERS):
                    raise fail(f"Type mismatch: {op} needs numbers, but `{_text(side)}` is {_what(kind)}.")
        return _arithmetic(op, left, right)

    def _expr_UnaryOp(self, expr: ast.UnaryOp, scope, where) -> Type:
        if expr.op == "not":
            self.boolean(expr.operand, scope, where, "NOT")
            return BOOLEAN
        kind = self.typed(expr.operand, scope, _Where(aggregates=where.aggregates))
        if not allows(kind, NUMBERS):
            raise fail(f"Type mismatch: unary {expr.op} needs a number, but `{_text(expr.operand)}` is {_what(kind)}.")
        return kind

    def _expr_IsNull(self, expr: ast.IsNull, scope, where) -> Type:
        self.typed(expr.operand, scope, _Where(aggregates=where.aggregates))
        return BOOLEAN

    def _expr_HasLabels(self, expr: ast.HasLabels, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        kind = self.typed(expr.subject, scope, inner)
        if not allows(kind, {"NODE", "RELATIONSHIP"}):
            raise fail(f"Type mismatch: a label test needs a node, but `{_text(expr.subject)}` is {_what(kind)}.")
        self.values(getattr(expr, "dynamic", ()), scope)
        return BOOLEAN

    def _expr_Case(self, expr: ast.Case, scope, where) -> Type:
        inner = _Where(aggregates=where.aggregates)
        if expr.subject is not None:
            self.typed(expr.subject, scope, inner)
        results = []
        for condition, result in expr.whens:
            self.typed(condition, scope, inner if expr.subject is not None else _Where(True, where.aggregates))
            results.append(self.typed(result, scope, inner))
        results.append(self.typed(expr.default, scope, inner) if expr.default is not None else None)
        return union(*results)

    def iteration(self, variable: str, source: ast.Expr, scope, where: _Where, what: str) -> dict[str, Type]:
        """The scope inside `[x IN source ...]` and its kin."""
        kind = self.typed(source, scope, _Where(aggregates=where.aggregates))
        if not allows(kind, {"LIST"}):
            raise fail(f"Type mismatch: {what} iterates over a LIST, but `{_text(source)}` is {_what(kind)}.")
        return {**scope, variable: element(kind)}

    def _expr_ListComprehension(self, expr: ast.ListComprehension, scope, where) -> Type:
        inner = self.iteration(expr.variable, expr.source, scope, where, "a list comprehension")
        if expr.where is not None:
            self.boolean(expr.where, inner, _IN_LIST, "WHERE")
        if expr.projection is not None:
            return list_of(self.typed(expr.projection, inner, _IN_LIST))
        return list_of(inner[expr.variable])

    def _expr_Quantifier(self, expr: ast.Quantifier, scope, where) -> Type:
        inner = self.iteration(expr.variable, expr.source, scope, where, f"{expr.kind}()")
        self.boolean(expr.where, inner, _IN_LIST, "WHERE")
        return BOOLEAN

    def _expr_Reduce(self, expr: ast.Reduce, scope, where) -> Type:
        self.typed(expr.init, scope, _Where(aggregates=where.aggregates))
        inner = self.iteration(expr.variable, expr.source, scope, where, "reduce()")
        inner[expr.accumulator] = None
        self.typed(expr.expr, inner, _IN_LIST)
        return None

    def _expr_PatternPredicate(self, expr: ast.PatternPredicate, scope, where) -> Type:
        if not where.predicate:
            raise fail(
                f"A pattern such as {_pattern_text(expr.pattern)} can only be used as a condition (in WHERE, "
                "with NOT, AND, OR or in exists()); to get its matches use a pattern comprehension "
                f"[p = {_pattern_text(expr.pattern)} | p]."
            )
        for name in _pattern_names(expr.pattern):
            if name not in scope and not self.open:
                raise fail(
                    f"Variable `{name}` not defined: a pattern used as a condition cannot declare new variables; "
                    "use EXISTS { MATCH ... } or a pattern comprehension to bind them."
                )
        self.declare_pattern((expr.pattern,), scope, "pattern")
        return BOOLEAN

    def _expr_Exists(self, expr: ast.Exists, scope, where) -> Type:
        inner = self.declare_pattern(expr.patterns, scope, "EXISTS")
        if expr.where is not None:
            self.boolean(expr.where, inner, _IN_LIST, "WHERE")
        return BOOLEAN

    def _expr_PatternComprehension(self, expr: ast.PatternComprehension, scope, where) -> Type:
        inner = self.declare_pattern((expr.pattern,), scope, "pattern comprehension")
        if expr.where is not None:
            self.boolean(expr.where, inner, _IN_LIST, "WHERE")
        return list_of(self.typed(expr.projection, inner, _IN_LIST))


_IN_LIST = _Where(aggregates="Aggregates cannot be used inside a list comprehension, quantifier, reduce() or pattern")
_NO_AGGREGATES = {
    "ORDER BY": "ORDER BY can aggregate only when its WITH or RETURN does",
    "WHERE": "Aggregation is not allowed in WHERE; aggregate in WITH and filter on its column",
}


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _returned(name: str, kinds: list[Type]) -> Type:
    spec = _RETURNS.get(name)
    if spec is None:
        if name == "collect" and kinds:
            return list_of(kinds[0])
        if name == "coalesce":
            return union(*kinds)
        return None
    if isinstance(spec, int):
        return kinds[spec] if spec < len(kinds) else None
    if isinstance(spec, tuple):
        return element(kinds[spec[1]]) if spec[1] < len(kinds) and kinds[spec[1]] is not None and allows(kinds[spec[1]], {"LIST"}) else None
    return spec


def _arithmetic(op: str, left: Type, right: Type) -> Type:
    """The type of `left op right` where the text fixes it."""
    if left is None or right is None:
        return None
    numbers = FLOAT | INTEGER
    if left <= numbers and right <= numbers:
        if op == "^" or FLOAT in (left, right):
            return FLOAT
        return union(left, right)
    text = {"STRING", "INTEGER", "FLOAT"}
    if op == "+" and STRING in (left, right) and not (left - text) and not (right - text):
        return STRING
    return None


def _aggregates(expr: ast.Node) -> list:
    """The aggregate calls in `expr`, outermost only (a list comprehension's
    too: the checker refuses those)."""
    found: list = []

    def walk(node):
        if isinstance(node, ast.CountStar) or (isinstance(node, ast.FunctionCall) and node.name.lower() in AGGREGATES):
            found.append(node)
        elif isinstance(node, _KNOWN):
            for child in ast.children(node):
                walk(child)

    walk(expr)
    return found


def _calls(expr: ast.Node) -> list:
    found: list = []

    def walk(node):
        if isinstance(node, ast.FunctionCall):
            found.append(node)
        if isinstance(node, _KNOWN):
            for child in ast.children(node):
                walk(child)

    walk(expr)
    return found


def _names(expr: ast.Node) -> set[str]:
    """Variables `expr` reads (local names of comprehensions included)."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, ast.Variable):
            found.add(node.name)
        elif isinstance(node, (ast.NodePattern, ast.RelPattern)) and node.variable is not None:
            found.add(node.variable)
        if isinstance(node, _KNOWN):
            for child in ast.children(node):
                walk(child)

    walk(expr)
    return found


def _pattern_names(part: ast.PatternPart) -> list[str]:
    """The variables of a pattern part, left to right."""
    names = [part.nodes[0].variable]
    for rel, node in zip(part.rels, part.nodes[1:]):
        names += [rel.variable, node.variable]
    return [name for name in names if name is not None]


def _simple(expr: ast.Expr) -> bool:
    """A variable or a property of one (`n`, `n.a.b`): what an aggregating
    item, its ORDER BY or WHERE may reuse from the grouping keys."""
    while isinstance(expr, ast.Property):
        expr = expr.subject
    return isinstance(expr, ast.Variable)


def _replace(expr: ast.Node, usable: dict, aggregates: bool) -> ast.Node:
    """`expr` with the projected expressions in `usable` read from their
    columns, and (when `aggregates`) each aggregate call replaced by null."""
    if isinstance(expr, ast.Expr) and expr in usable:
        return ast.Variable(usable[expr])
    if aggregates and (isinstance(expr, ast.CountStar) or (isinstance(expr, ast.FunctionCall) and expr.name.lower() in AGGREGATES)):
        return ast.Literal(None)
    if not isinstance(expr, _KNOWN):
        return expr
    return ast.with_children(expr, lambda child: _replace(child, usable, aggregates))


def _check_grouping(items, grouped, scope) -> None:
    """An item that aggregates reads other variables only through grouping
    keys that are variables or their properties (`RETURN n.x, n.x + count(*)`
    is sound; `RETURN a.x + b.x, a.x + b.x + count(*)` is ambiguous, as in
    openCypher)."""
    keys = [item.expr for item, found in zip(items, grouped) if not found]
    usable = {key: " key" for key in keys if _simple(key)}
    key_variables = {key.name for key in keys if isinstance(key, ast.Variable)}
    for item, found in zip(items, grouped):
        if not found:
            continue
        implicit = item.expr.subject.name if isinstance(item.expr, ast.MapProjection) and isinstance(item.expr.subject, ast.Variable) else None
        rest = _replace(item.expr, usable, True)
        loose = (_names(rest) & set(scope)) - key_variables - {implicit, " key"}
        if loose:
            raise fail(
                f"Ambiguous aggregation expression `{item.text}`: `{sorted(loose)[0]}` is neither aggregated nor a "
                "grouping key; project it as a column of its own (a variable or a property) or aggregate it."
            )


def _text(expr: ast.Node) -> str:
    """An expression written back, roughly as the user wrote it, for messages."""
    if isinstance(expr, ast.Variable):
        return expr.name
    if isinstance(expr, ast.Property):
        return f"{_text(expr.subject)}.{expr.key}"
    if isinstance(expr, ast.Literal):
        return _literal_text(expr.value)
    if isinstance(expr, ast.Parameter):
        return "$" + expr.name
    if isinstance(expr, ast.ListLiteral):
        return "[" + ", ".join(_text(item) for item in expr.items) + "]"
    if isinstance(expr, ast.MapLiteral):
        return "{" + ", ".join(f"{key}: {_text(value)}" for key, value in expr.items) + "}"
    if isinstance(expr, ast.BinaryOp):
        return f"{_text(expr.left)} {expr.op.upper().replace('_', ' ')} {_text(expr.right)}"
    if isinstance(expr, ast.UnaryOp):
        return f"{expr.op.upper()} {_text(expr.operand)}" if expr.op == "not" else f"{expr.op}{_text(expr.operand)}"
    if isinstance(expr, ast.FunctionCall):
        return f"{expr.name}(" + ", ".join(_text(arg) for arg in expr.args) + ")"
    if isinstance(expr, ast.CountStar):
        return "count(*)"
    if isinstance(expr, ast.HasLabels):
        return _text(expr.subject) + "".join(":" + label for label in expr.labels)
    if isinstance(expr, ast.PatternPredicate):
        return _pattern_text(expr.pattern)
    return "the " + type(expr).__name__ + " expression"


def _literal_text(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return repr(value)


def _pattern_text(part: ast.PatternPart) -> str:
    def node(pattern: ast.NodePattern) -> str:
        return "(" + (pattern.variable or "") + "".join(":" + label for label in pattern.labels) + ")"

    out = node(part.nodes[0])
    for rel, target in zip(part.rels, part.nodes[1:]):
        inner = (rel.variable or "") + (":" + "|".join(rel.types) if rel.types else "") + ("*" if rel.var_length else "")
        body = f"[{inner}]" if inner else ""
        left = "<-" if rel.direction == "in" else "-"
        right = "->" if rel.direction == "out" else "-"
        out += f"{left}{body}{right}{node(target)}"
    return out


# The node types whose children the helpers above walk: the expressions and
# pattern elements this module knows. Others (added later) are left whole.
_KNOWN = (
    ast.Literal, ast.Parameter, ast.Variable, ast.Property, ast.Subscript, ast.Slice, ast.ListLiteral,
    ast.MapLiteral, ast.MapProjection, ast.FunctionCall, ast.CountStar, ast.BinaryOp, ast.UnaryOp,
    ast.IsNull, ast.HasLabels, ast.Case, ast.ListComprehension, ast.Quantifier, ast.Reduce,
    ast.PatternComprehension, ast.PatternPredicate, ast.Exists, ast.PatternPart, ast.NodePattern,
    ast.RelPattern,
)

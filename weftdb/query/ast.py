"""The abstract syntax tree of a Cypher statement.

The parser (`parser.py`) builds these; the planner (`planner.py`) reads them.
Nodes are frozen dataclasses so a parsed statement can be cached by its text
and shared between threads. Names (labels, types, keys, variables) are plain
strings with backquotes already removed; function names keep the case written.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator


class Node:
    """Base of every AST node."""

    __slots__ = ()


# --------------------------------------------------------------------------
# Walking the tree: the one place that knows where a node keeps its children
# --------------------------------------------------------------------------


def children(node: Node) -> Iterator[Node]:
    """The nodes directly below `node`, in field order: its fields that are
    nodes, and the nodes inside its fields that are tuples or lists (at any
    depth: a MapLiteral's `(key, expr)` pairs give their expressions)."""
    for name in node.__dataclass_fields__:
        yield from _nodes_in(getattr(node, name))


def with_children(node: Node, change: Callable[[Node], Node]) -> Node:
    """A copy of `node` with every child (as `children` finds them) replaced
    by `change(child)`; tuples and lists are rebuilt, other values kept."""
    return replace(node, **{name: _changed(getattr(node, name), change) for name in node.__dataclass_fields__})


def _nodes_in(value: Any) -> Iterator[Node]:
    if isinstance(value, Node):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _nodes_in(item)


def _changed(value: Any, change: Callable[[Node], Node]) -> Any:
    if isinstance(value, Node):
        return change(value)
    if isinstance(value, (tuple, list)):
        return type(value)(_changed(item, change) for item in value)
    return value


# --------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------


class Expr(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Literal(Expr):
    """null, booleans, integers (Python int, 64-bit checked by the parser), floats, strings."""

    value: Any


@dataclass(frozen=True, slots=True)
class Parameter(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class Variable(Expr):
    name: str


@dataclass(frozen=True, slots=True)
class Property(Expr):
    """`subject.key`"""

    subject: Expr
    key: str


@dataclass(frozen=True, slots=True)
class Subscript(Expr):
    """`subject[index]` on lists (int index, negative from the end) and maps (string key)."""

    subject: Expr
    index: Expr


@dataclass(frozen=True, slots=True)
class Slice(Expr):
    """`subject[start..end]`; either bound may be None."""

    subject: Expr
    start: Expr | None
    end: Expr | None


@dataclass(frozen=True, slots=True)
class ListLiteral(Expr):
    items: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class MapLiteral(Expr):
    items: tuple[tuple[str, Expr], ...]


@dataclass(frozen=True, slots=True)
class MapProjection(Expr):
    """`n {.name, .age, alias: expr, var, .*}`

    Each item is one of ("property", key, None), ("literal", key, expr),
    ("variable", name, None), ("all", None, None).
    """

    subject: Expr
    items: tuple[tuple[str, str | None, Expr | None], ...]


@dataclass(frozen=True, slots=True)
class FunctionCall(Expr):
    """`name(args)`; `name` may be namespaced (`date.truncate`). Aggregates are FunctionCalls too."""

    name: str
    args: tuple[Expr, ...]
    distinct: bool = False


@dataclass(frozen=True, slots=True)
class CountStar(Expr):
    """`count(*)`"""


@dataclass(frozen=True, slots=True)
class BinaryOp(Expr):
    """Operators, lower-case: or xor and = <> < > <= >= + - * / % ^ in
    starts_with ends_with contains =~

    A comparison chain `a < b <= c` is parsed as `a < b AND b <= c`.
    """

    op: str
    left: Expr
    right: Expr


@dataclass(frozen=True, slots=True)
class UnaryOp(Expr):
    """`not`, `-`, `+`"""

    op: str
    operand: Expr


@dataclass(frozen=True, slots=True)
class IsNull(Expr):
    """`expr IS NULL` (negated=False) or `expr IS NOT NULL` (negated=True)."""

    operand: Expr
    negated: bool


@dataclass(frozen=True, slots=True)
class HasLabels(Expr):
    """`n:A:B` used as a predicate; `dynamic` holds the expressions of
    `n:$(expr)` (each a string or a list of strings when evaluated)."""

    subject: Expr
    labels: tuple[str, ...]
    dynamic: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class Case(Expr):
    """Simple form when `subject` is set (`CASE x WHEN 1 THEN ...`), generic otherwise."""

    subject: Expr | None
    whens: tuple[tuple[Expr, Expr], ...]
    default: Expr | None


@dataclass(frozen=True, slots=True)
class ListComprehension(Expr):
    """`[var IN source WHERE where | projection]`"""

    variable: str
    source: Expr
    where: Expr | None
    projection: Expr | None


@dataclass(frozen=True, slots=True)
class Quantifier(Expr):
    """`all|any|none|single(var IN source WHERE predicate)`"""

    kind: str
    variable: str
    source: Expr
    where: Expr


@dataclass(frozen=True, slots=True)
class Reduce(Expr):
    """`reduce(acc = init, var IN source | expr)`"""

    accumulator: str
    init: Expr
    variable: str
    source: Expr
    expr: Expr


@dataclass(frozen=True, slots=True)
class PatternComprehension(Expr):
    """`[p = (a)-->(b) WHERE cond | expr]`"""

    pattern: PatternPart
    where: Expr | None
    projection: Expr


@dataclass(frozen=True, slots=True)
class PatternPredicate(Expr):
    """A pattern used as a boolean in WHERE: `(a)-[:KNOWS]->(b)`."""

    pattern: PatternPart


@dataclass(frozen=True, slots=True)
class Exists(Expr):
    """`EXISTS { MATCH ... WHERE ... }` or `EXISTS { (a)-->() WHERE ... }` or `exists((a)-->())`."""

    patterns: tuple[PatternPart, ...]
    where: Expr | None


@dataclass(frozen=True, slots=True)
class SubqueryExpression(Expr):
    """`COUNT { ... }` (kind "count"), `COLLECT { ... }` ("collect") and
    `EXISTS { ... }` ("exists") around a whole query: a SingleQuery or a
    Union, which may read the variables of the enclosing scope. The pattern
    forms of EXISTS stay `Exists`."""

    kind: str
    query: Statement


@dataclass(frozen=True, slots=True)
class ShortestPath(Expr):
    """`shortestPath((a)-[*]-(b))` or `allShortestPaths(...)` used as an
    expression: a path or null, or a list of paths (`pattern.shortest` says which)."""

    pattern: PatternPart


# --------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NodePattern(Node):
    variable: str | None
    labels: tuple[str, ...]
    properties: Expr | None  # MapLiteral or Parameter
    dynamic_labels: tuple[Expr, ...] = ()  # `(n:$(expr))`: evaluated per row


@dataclass(frozen=True, slots=True)
class RelPattern(Node):
    """direction: "out" for -->, "in" for <--, "both" for --.

    A variable-length relationship has `var_length=True`; `min_hops` and
    `max_hops` are None when not written (`*` means 1..unbounded, `*2` means 2..2).

    Memgraph's path searches (`*BFS`, `*WSHORTEST`, `*ALLSHORTEST`) are
    variable-length relationships with `search` set to "bfs", "wshortest" or
    "allshortest"; `weight` is the weight lambda of the last two,
    `total_weight` the variable their total is bound to, and `filter` the
    filter lambda (weftdb/query/paths.py).
    """

    variable: str | None
    types: tuple[str, ...]
    properties: Expr | None
    direction: str
    var_length: bool = False
    min_hops: int | None = None
    max_hops: int | None = None
    search: str | None = None
    weight: PathLambda | None = None
    total_weight: str | None = None
    filter: PathLambda | None = None


@dataclass(frozen=True, slots=True)
class PathLambda(Node):
    """Memgraph's `(r, n | expr)` inside a relationship pattern: `variables`
    are the relationship and the node it reaches, then optionally the path
    so far and (weighted searches) its weight."""

    variables: tuple[str, ...]
    expr: Expr


@dataclass(frozen=True, slots=True)
class PatternPart(Node):
    """One comma-separated part of a pattern: nodes[0], rels[0], nodes[1], ...

    `len(nodes) == len(rels) + 1`. `path_variable` is set for `p = (...)`.
    `shortest` is "shortest" for `shortestPath(...)` and "all" for
    `allShortestPaths(...)`.
    """

    path_variable: str | None
    nodes: tuple[NodePattern, ...]
    rels: tuple[RelPattern, ...]
    shortest: str | None = None


# --------------------------------------------------------------------------
# Clauses
# --------------------------------------------------------------------------


class Clause(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Match(Clause):
    patterns: tuple[PatternPart, ...]
    where: Expr | None
    optional: bool = False


@dataclass(frozen=True, slots=True)
class Create(Clause):
    patterns: tuple[PatternPart, ...]


@dataclass(frozen=True, slots=True)
class SetProperty(Node):
    """`subject.key = value`"""

    subject: Expr
    key: str
    value: Expr


@dataclass(frozen=True, slots=True)
class SetProperties(Node):
    """`n = map` (replace=True) or `n += map` (replace=False)."""

    variable: str
    value: Expr
    replace: bool


@dataclass(frozen=True, slots=True)
class SetLabels(Node):
    variable: str
    labels: tuple[str, ...]
    dynamic: tuple[Expr, ...] = ()  # `SET n:$(expr)`


@dataclass(frozen=True, slots=True)
class Merge(Clause):
    pattern: PatternPart
    on_create: tuple[Node, ...] = ()  # SetProperty | SetProperties | SetLabels
    on_match: tuple[Node, ...] = ()


@dataclass(frozen=True, slots=True)
class Set(Clause):
    items: tuple[Node, ...]  # SetProperty | SetProperties | SetLabels


@dataclass(frozen=True, slots=True)
class RemoveProperty(Node):
    subject: Expr
    key: str


@dataclass(frozen=True, slots=True)
class RemoveLabels(Node):
    variable: str
    labels: tuple[str, ...]
    dynamic: tuple[Expr, ...] = ()  # `REMOVE n:$(expr)`


@dataclass(frozen=True, slots=True)
class Remove(Clause):
    items: tuple[Node, ...]  # RemoveProperty | RemoveLabels


@dataclass(frozen=True, slots=True)
class Delete(Clause):
    exprs: tuple[Expr, ...]
    detach: bool = False


@dataclass(frozen=True, slots=True)
class Unwind(Clause):
    expr: Expr
    variable: str


@dataclass(frozen=True, slots=True)
class ReturnItem(Node):
    """`expr AS alias`. `text` is the expression as written (the column name
    when there is no alias), with surrounding whitespace stripped."""

    expr: Expr
    alias: str | None
    text: str

    @property
    def name(self) -> str:
        return self.alias if self.alias is not None else self.text


@dataclass(frozen=True, slots=True)
class SortItem(Node):
    expr: Expr
    descending: bool = False


@dataclass(frozen=True, slots=True)
class Projection(Node):
    """The shared body of WITH and RETURN. `star` is `RETURN *` / `WITH *`
    (further items may follow the star)."""

    items: tuple[ReturnItem, ...]
    distinct: bool = False
    star: bool = False
    order_by: tuple[SortItem, ...] = ()
    skip: Expr | None = None
    limit: Expr | None = None


@dataclass(frozen=True, slots=True)
class With(Clause):
    projection: Projection
    where: Expr | None = None


@dataclass(frozen=True, slots=True)
class Return(Clause):
    projection: Projection


@dataclass(frozen=True, slots=True)
class Call(Clause):
    """`CALL proc.name(args) YIELD a, b AS c WHERE ...` (yield items: (name, alias or None)).

    `args` is None for `CALL proc.name` written without parentheses (a
    standalone call then takes its arguments from the parameters of the same
    names); `yields` is None when no YIELD is written; `yield_star` is `YIELD *`."""

    procedure: str
    args: tuple[Expr, ...] | None
    yields: tuple[tuple[str, str | None], ...] | None = None
    where: Expr | None = None
    yield_star: bool = False


@dataclass(frozen=True, slots=True)
class SubqueryCall(Clause):
    """`CALL { query }`, `CALL (a, b) { query }` and `CALL (*) { query }`.

    `scope` is the variables the `CALL (...)` form imports (("*",) for all),
    None for the plain form, whose query imports with a leading `WITH a, b`.
    `in_transactions`: `IN [n CONCURRENT] TRANSACTIONS [OF batch ROWS]
    [ON ERROR on_error] [REPORT STATUS AS status]`."""

    query: Statement
    scope: tuple[str, ...] | None = None
    in_transactions: bool = False
    batch: Expr | None = None
    on_error: str = "fail"
    status: str | None = None
    concurrency: Expr | None = None


@dataclass(frozen=True, slots=True)
class Foreach(Clause):
    """`FOREACH (variable IN source | clauses)`: update clauses only."""

    variable: str
    source: Expr
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class LoadCsv(Clause):
    """`LOAD CSV` in Neo4j's form (`[WITH HEADERS] FROM url AS row [FIELDTERMINATOR c]`)
    and Memgraph's (`FROM path WITH HEADER | NO HEADER [IGNORE BAD] [DELIMITER c]
    [QUOTE c] [NULLIF s] AS row`). `empty_is_null`: an unquoted empty field is
    null (Neo4j) rather than '' (Memgraph, whose header option follows FROM)."""

    source: Expr
    variable: str
    header: bool = False
    ignore_bad: bool = False
    delimiter: str | None = None
    quote: str | None = None
    nullif: str | None = None
    empty_is_null: bool = True


# --------------------------------------------------------------------------
# Statements
# --------------------------------------------------------------------------


class Statement(Node):
    __slots__ = ()


@dataclass(frozen=True, slots=True)
class SingleQuery(Statement):
    clauses: tuple[Clause, ...]


@dataclass(frozen=True, slots=True)
class Union(Statement):
    """`q1 UNION q2 UNION ALL q3`: `all_flags[i]` tells whether the union
    between parts[i] and parts[i+1] is UNION ALL."""

    parts: tuple[SingleQuery, ...]
    all_flags: tuple[bool, ...]


@dataclass(frozen=True, slots=True)
class Explain(Statement):
    statement: Statement


@dataclass(frozen=True, slots=True)
class Profile(Statement):
    statement: Statement


@dataclass(frozen=True, slots=True)
class CreateIndex(Statement):
    """Memgraph: `CREATE INDEX ON :L;` (a label index), `CREATE INDEX ON :L(p[, q]);`,
    `CREATE EDGE INDEX ON :T(p);` (relationship), `CREATE POINT INDEX ON :L(p);`.
    Neo4j: `CREATE [RANGE|TEXT|POINT] INDEX [name] [IF NOT EXISTS] FOR (n:L) ON (n.p[, n.q])`
    or `FOR ()-[r:T]-() ON (r.p)`. `kind` is RANGE, TEXT or POINT, None for Memgraph's
    label index (LOOKUP) and its label+property index (RANGE); `label` is the
    relationship type when `relationship`."""

    label: str
    properties: tuple[str, ...] = ()
    kind: str | None = None
    relationship: bool = False
    name: str | None = None
    if_not_exists: bool = False


@dataclass(frozen=True, slots=True)
class DropIndex(Statement):
    """Memgraph: `DROP [EDGE|POINT] INDEX ON :L[(p, ...)]`; Neo4j: `DROP INDEX name [IF EXISTS]`
    (`name` set, `label` None)."""

    label: str | None = None
    properties: tuple[str, ...] = ()
    kind: str | None = None
    relationship: bool = False
    name: str | None = None
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class CreateConstraint(Statement):
    """`CREATE CONSTRAINT ON (n:L) ASSERT EXISTS (n.p);` -> kind "exists", properties ("p",)
    `CREATE CONSTRAINT ON (n:L) ASSERT n.p, n.q IS UNIQUE;` -> kind "unique", properties ("p", "q")
    `CREATE CONSTRAINT [name] [IF NOT EXISTS] FOR (n:L) REQUIRE n.p IS UNIQUE | IS NOT NULL
    | (n.a, n.b) IS UNIQUE | IS NODE KEY` (kind "node_key"); `relationship` for `FOR ()-[r:T]-()`."""

    kind: str
    label: str
    properties: tuple[str, ...]
    name: str | None = None
    if_not_exists: bool = False
    relationship: bool = False


@dataclass(frozen=True, slots=True)
class DropConstraint(Statement):
    """Memgraph: `DROP CONSTRAINT ON (n:L) ASSERT ...`; Neo4j: `DROP CONSTRAINT name [IF EXISTS]`
    (`name` set, `kind` and `label` None)."""

    kind: str | None
    label: str | None
    properties: tuple[str, ...] = ()
    name: str | None = None
    if_exists: bool = False


@dataclass(frozen=True, slots=True)
class AdminStatement(Statement):
    """Statements outside Cypher proper, each a lower-case `command` with arguments:

    show_index_info, show_constraint_info,
    begin, commit, rollback                       (text sent by pymgclient through RUN)
    create_snapshot, show_snapshots, show_next_snapshot,
    lock_data_directory, unlock_data_directory, data_directory_lock_status,
    dump_database, show_storage_info, storage_mode {mode},
    checkpoint_create, checkpoint_release, checkpoint_status,
    create_user {user, password}, set_password {user, password},
    drop_user {user}, show_users
    show_version, show_build_info, show_config, show_triggers, show_streams,
    show_database, create_database {name, if_not_exists}, drop_database {name, if_exists},
    stop_database {name}, start_database {name}, use_database {name}   (weftdb/databases.py)
    show_transactions {states | ids}, terminate_transactions {ids}   (query/operations.py)
    """

    command: str
    args: tuple[tuple[str, Any], ...] = field(default=())

    def arg(self, name: str, default: Any = None) -> Any:
        for key, value in self.args:
            if key == name:
                return value
        return default

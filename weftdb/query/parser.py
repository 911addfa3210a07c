"""Cypher text -> `ast.Statement`.

The grammar (`cypher.lark`) is compiled once into an LALR(1) table with lark's
contextual lexer, which is fast enough for first parses and lets keywords stay
ordinary names wherever the grammar expects a name. Parsed statements are
immutable, so `parse` caches them by text: a driver that sends the same
parameterised query a million times pays for one parse.

`_AstBuilder` builds the AST while lark parses (no parse tree is made, which
halves the cost of a first parse) and settles what the LALR grammar deliberately
leaves open (see the grammar's header): operator precedence, whether a
parenthesised expression is a node pattern, and which `[... IN ... | ...]` or
`f(x IN l WHERE p)` is a comprehension, quantifier or reduce. Positions for
RETURN column names and error messages come from `_TokenTracker`; the builder
and tracker are shared, so parses take a lock (they hold the GIL anyway). Every error, from the lexer, the
parser or the builder, becomes a `CypherSyntaxError` with a line, a column and a
short list of what would have been accepted there.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from pathlib import Path

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from weftdb.basics.errors import CypherSyntaxError
from weftdb.query import ast

_INT_MAX = 2**63 - 1
_END_OF_INPUT = "Unexpected end of input"
_MAX_EXPECTED_SHOWN = 12

# What a person calls the terminals that are not spelled out literally.
_TERMINAL_DESCRIPTIONS = {
    "NAME": "a name",
    "QUOTED_NAME": "a name",
    "PARAMETER": "a parameter",
    "INT": "a number",
    "MIN_INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "COMP_OP": "a comparison",
    "EQ": "=",
    "$END": "end of input",
}

_ESCAPES = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)

# Words that start or join clauses; unquoted, they are never variables, so that a
# missing expression (`WHERE n.x = RETURN n`) is reported where it is missing.
_CLAUSE_KEYWORDS = frozenset(
    {"MATCH", "OPTIONAL", "WHERE", "RETURN", "WITH", "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "UNWIND", "CALL", "UNION"}
)

_QUANTIFIERS = frozenset({"all", "any", "none", "single"})


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> ast.Statement:
    """Parse one Cypher statement (an optional trailing `;` is allowed)."""
    with _PARSE_LOCK:
        _BUILDER.text = text
        try:
            return _lark().parse(text)
        except UnexpectedInput as error:
            raise _syntax_error(text, error) from None


# --------------------------------------------------------------------------
# Error messages
# --------------------------------------------------------------------------


def _syntax_error(text: str, error: UnexpectedInput) -> CypherSyntaxError:
    if isinstance(error, UnexpectedToken):
        misplaced = _misplaced_keyword(text, error)
        if misplaced is not None:
            keyword, expected = misplaced
            return _invalid_input(f"Invalid input '{keyword.value}'", keyword.line, keyword.column, expected)
        if error.token.type == "$END":
            return _invalid_input(_END_OF_INPUT, *_end_position(text), error.accepts or error.expected)
        found = f"Invalid input '{error.token.value}'"
        return _invalid_input(found, error.line, error.column, error.accepts or error.expected)
    if isinstance(error, UnexpectedCharacters):
        word = _word_at(text, error.pos_in_stream)
        found = "Unterminated string" if word in ("'", '"') else f"Invalid input '{word}'"
        return _invalid_input(found, error.line, error.column, error.allowed)
    return _invalid_input(_END_OF_INPUT, *_end_position(text), getattr(error, "expected", ()))


def _invalid_input(found: str, line: int, column: int, expected_terminals) -> CypherSyntaxError:
    expected = _describe_expected(expected_terminals)
    message = f"{found} at line {line}, column {column}: {_expected_phrase(expected)}"
    return CypherSyntaxError(message, line, column, expected)


def _misplaced_keyword(text: str, error: UnexpectedToken):
    """A clause keyword where an expression was due (`WHERE n.x = RETURN n`).

    The contextual lexer read it as a name, so the parser only fails one token
    later; point at the keyword instead, with what was expected before it.
    """
    stack = error.interactive_parser.parser_state.value_stack
    keyword = stack[-1] if stack else None
    if not (isinstance(keyword, Token) and keyword.type == "NAME" and keyword.value.upper() in _CLAUSE_KEYWORDS):
        return None
    probe = _lark().parse_interactive(text)
    for token in probe.iter_parse():
        if token.start_pos == keyword.start_pos:
            break
    expected = probe.accepts()
    if "INT" not in expected:
        return None
    return keyword, expected


def _end_position(text: str) -> tuple[int, int]:
    lines = text.split("\n")
    return len(lines), len(lines[-1]) + 1


def _word_at(text: str, pos: int) -> str:
    match = re.compile(r"\w+|\S").match(text, pos)
    return match.group() if match else ""


def _describe_terminal(name: str) -> str:
    if name in _TERMINAL_DESCRIPTIONS:
        return _TERMINAL_DESCRIPTIONS[name]
    pattern = _lark().get_terminal(name).pattern
    if isinstance(pattern, PatternStr):
        return pattern.value.upper() if pattern.value.isalpha() else pattern.value
    return name.lstrip("_")


def _describe_expected(names) -> tuple[str, ...]:
    """Readable, de-duplicated: keywords first, then punctuation, then kinds of token."""
    described = {_describe_terminal(name) for name in names if name not in _lark().ignore_tokens}

    def rank(item: str) -> tuple[int, str]:
        if item.isupper():
            return (0, item)
        if " " not in item:
            return (1, item)
        return (2, item)

    return tuple(sorted(described, key=rank))


def _expected_phrase(expected: tuple[str, ...]) -> str:
    if not expected:
        return "unexpected here"
    if len(expected) == 1:
        return f"expected {expected[0]}"
    shown = ", ".join(expected[:_MAX_EXPECTED_SHOWN])
    more = ", ..." if len(expected) > _MAX_EXPECTED_SHOWN else ""
    return f"expected one of {shown}{more}"


def _fail(message: str, token: Token) -> CypherSyntaxError:
    """An error found while building the AST, placed at `token`."""
    return CypherSyntaxError(f"{message} at line {token.line}, column {token.column}", token.line, token.column, ())


# --------------------------------------------------------------------------
# Literals
# --------------------------------------------------------------------------


def _integer_value(token: Token) -> int:
    text = token.value.lower()
    if text.startswith("0x"):
        value = int(text[2:], 16)
    elif text.startswith("0o"):
        value = int(text[2:], 8)
    else:
        value = int(text)
    if value > _INT_MAX:
        raise _fail(f"Integer literal {token.value} does not fit in 64 bits", token)
    return value


def _parameter_name(token: Token) -> str:
    """`$name`, `$0` or `` $`a name` `` (py2neo writes `` $`1` ``) without its `$` and quotes."""
    name = token.value[1:]
    return name[1:-1].replace("``", "`") if name.startswith("`") else name


def _unescape(token: Token) -> str:
    def replace(match: re.Match) -> str:
        code = match.group(1)
        if code[0] == "u" and len(code) == 5:
            return chr(int(code[1:], 16))
        if code in _ESCAPES:
            return _ESCAPES[code]
        raise _fail(f"Invalid escape sequence \\{code} in string literal", token)

    return _ESCAPE_RE.sub(replace, token.value[1:-1])


def _name(token: Token) -> str:
    if token.type == "QUOTED_NAME":
        return token.value[1:-1].replace("``", "`")
    return token.value


# --------------------------------------------------------------------------
# Reshaping what the grammar leaves open
# --------------------------------------------------------------------------


def _callee_name(callee: ast.Expr) -> str | None:
    """`f` or `date.truncate` written before `(`; None if it is not a name."""
    if isinstance(callee, ast.Variable):
        return callee.name
    if isinstance(callee, ast.Property):
        prefix = _callee_name(callee.subject)
        return None if prefix is None else f"{prefix}.{callee.key}"
    return None


def _in_form(expr: ast.Expr) -> tuple[str, ast.Expr] | None:
    """(variable, source) when `expr` is `var IN source`."""
    if isinstance(expr, ast.BinaryOp) and expr.op == "in" and isinstance(expr.left, ast.Variable):
        return expr.left.name, expr.right
    return None


def _pattern_form(expr: ast.Expr) -> ast.PatternPart | None:
    """The pattern of `(a)-->(b)` or of a named `p = (a)-->(b)`."""
    if isinstance(expr, ast.PatternPredicate):
        return expr.pattern
    if (
        isinstance(expr, ast.BinaryOp)
        and expr.op == "="
        and isinstance(expr.left, ast.Variable)
        and isinstance(expr.right, ast.PatternPredicate)
    ):
        part = expr.right.pattern
        return ast.PatternPart(expr.left.name, part.nodes, part.rels)
    return None


def _as_node(expr, at) -> ast.NodePattern:
    """The node pattern a parenthesised expression stands for, e.g. `(a:L {k: 1})`."""
    if isinstance(expr, ast.NodePattern):
        return expr
    if isinstance(expr, ast.Variable):
        return ast.NodePattern(expr.name, (), None)
    if isinstance(expr, ast.HasLabels) and isinstance(expr.subject, ast.Variable):
        return ast.NodePattern(expr.subject.name, expr.labels, None, expr.dynamic)
    if isinstance(expr, (ast.MapLiteral, ast.Parameter)):
        return ast.NodePattern(None, (), expr)
    if isinstance(expr, ast.MapProjection) and all(kind == "literal" for kind, _, _ in expr.items):
        properties = ast.MapLiteral(tuple((key, value) for _, key, value in expr.items))
        return ast.NodePattern(expr.subject.name, (), properties)
    raise _fail("Expected a node pattern such as (n:Label {key: value}) before the relationship", at)


def _comprehension(subject, where, projection, at) -> ast.Expr:
    in_form = _in_form(subject)
    if in_form is not None:
        return ast.ListComprehension(in_form[0], in_form[1], where, projection)
    pattern = _pattern_form(subject)
    if pattern is not None and projection is not None:
        return ast.PatternComprehension(pattern, where, projection)
    raise _fail("Expected `variable IN list` or a pattern with `| expression` in a comprehension", at)


_SHORTEST_NAMES = {"shortest": "shortestPath", "all": "allShortestPaths"}


def _shortest_pattern(path_variable, kind: str, nodes: tuple, rels: tuple, at) -> ast.PatternPart:
    """The pattern of `shortestPath(...)`: one variable-length relationship."""
    name = _SHORTEST_NAMES[kind]
    if len(rels) != 1:
        raise _fail(f"{name}(...) needs a pattern with exactly one relationship, such as (a)-[*]-(b)", at)
    rel = rels[0]
    if not rel.var_length:
        raise _fail(f"{name}(...) needs a variable-length relationship: write -[*]- (or -[:TYPE*..5]-), "
                    "not a single relationship", at)
    if rel.search is not None:
        raise _fail(f"{name}(...) cannot hold a *{rel.search.upper()} relationship; use one or the other", at)
    return ast.PatternPart(path_variable, nodes, rels, kind)


_WEIGHTED = ("wshortest", "allshortest")


def _path_lambdas(search: str | None, lambdas, at) -> tuple:
    """(weight lambda, total weight variable, filter lambda) of a relationship
    as written after its bounds, with Memgraph's rules for which search takes which."""
    weight = total = filter_ = None
    if lambdas is not None:
        first, total, second = lambdas
        if search in _WEIGHTED:
            weight, filter_ = first, second
        elif total is not None or second is not None:
            what = "*" + search.upper() if search else "A variable-length relationship"
            raise _fail(f"{what} takes one filter lambda (r, n | condition) and no total weight variable; "
                        "weights go with *WSHORTEST and *ALLSHORTEST", at)
        else:
            filter_ = first
    if search in _WEIGHTED and weight is None:
        raise _fail(f"*{search.upper()} needs a weight lambda, such as *{search.upper()} (r, n | r.weight)", at)
    _check_lambda(weight, "weight", "(r, n | ...)", 2, at)
    _check_lambda(filter_, "filter", "(r, n, p, w | ...)" if search in _WEIGHTED else "(r, n, p | ...)",
                  4 if search in _WEIGHTED else 3, at)
    return weight, total, filter_


def _check_lambda(lambda_, kind: str, shape: str, most: int, at) -> None:
    if lambda_ is None:
        return
    if len(lambda_.variables) > most:
        raise _fail(f"A {kind} lambda here takes at most the variables {shape}, not {len(lambda_.variables)}", at)
    if len(set(lambda_.variables)) != len(lambda_.variables):
        raise _fail(f"The variables of a {kind} lambda must differ from each other", at)


def _property_path(names: list[str]) -> tuple[ast.Expr, str]:
    """`n.a.b` as written after SET/REMOVE -> (subject `n.a`, key `b`)."""
    subject: ast.Expr = ast.Variable(names[0])
    for key in names[1:-1]:
        subject = ast.Property(subject, key)
    return subject, names[-1]


# --------------------------------------------------------------------------
# Operator precedence
# --------------------------------------------------------------------------

# Binding power of each binary operator: higher binds tighter. NOT sits between
# AND and the comparisons; all operators are left-associative; comparisons chain.
_BINDING = {
    "or": 1,
    "xor": 2,
    "and": 3,
    "=": 5, "<>": 5, "<": 5, ">": 5, "<=": 5, ">=": 5,
    "starts_with": 6, "ends_with": 6, "contains": 6, "in": 6, "=~": 6,
    "+": 7, "-": 7,
    "*": 8, "/": 8, "%": 8,
    "^": 9,
}
_NOT_OPERAND = 5
_COMPARISON = 5
_PREDICATE = 6

_INFIX = {
    "OR": "or",
    "XOR": "xor",
    "AND": "and",
    "IN": "in",
    "CONTAINS": "contains",
    "STARTS": "starts_with",
    "ENDS": "ends_with",
}


class _NullTest:
    """`IS NULL` / `IS NOT NULL` in an operator sequence."""

    __slots__ = ("negated",)

    def __init__(self, negated: bool):
        self.negated = negated


_IS_NULL = _NullTest(False)
_IS_NOT_NULL = _NullTest(True)


class _OperatorSequence:
    """Precedence climbing over `[NOT...] operand (op [NOT...] operand | IS [NOT] NULL)*`.

    Items are NOT tokens, operator strings, `_NullTest`s and operand expressions.
    """

    __slots__ = ("items", "pos")

    def __init__(self, items: list):
        self.items = items
        self.pos = 0

    def parse(self) -> ast.Expr:
        return self._expression(0)

    def _expression(self, min_binding: int) -> ast.Expr:
        left = self._operand()
        while self.pos < len(self.items):
            item = self.items[self.pos]
            if isinstance(item, _NullTest):
                if _PREDICATE < min_binding:
                    break
                self.pos += 1
                left = ast.IsNull(left, item.negated)
                continue
            binding = _BINDING[item]
            if binding < min_binding:
                break
            if binding == _COMPARISON:
                left = self._comparison_chain(left)
            else:
                self.pos += 1
                left = ast.BinaryOp(item, left, self._expression(binding + 1))
        return left

    def _operand(self) -> ast.Expr:
        item = self.items[self.pos]
        self.pos += 1
        if isinstance(item, Token):  # NOT
            return ast.UnaryOp("not", self._expression(_NOT_OPERAND))
        return item

    def _comparison_chain(self, left: ast.Expr) -> ast.Expr:
        """`a < b <= c` -> `a < b AND b <= c`."""
        result = None
        while self.pos < len(self.items) and _BINDING.get(self.items[self.pos]) == _COMPARISON:
            op = self.items[self.pos]
            self.pos += 1
            right = self._expression(_COMPARISON + 1)
            step = ast.BinaryOp(op, left, right)
            result = step if result is None else ast.BinaryOp("and", result, step)
            left = right
        return result


class _Arguments:
    """What was written between a function's parentheses, before reshaping."""

    __slots__ = ("kind", "parts", "distinct")

    def __init__(self, kind: str, parts: tuple, distinct: bool = False):
        self.kind = kind
        self.parts = parts
        self.distinct = distinct


# --------------------------------------------------------------------------
# Building the AST
# --------------------------------------------------------------------------


class _TokenTracker:
    """Lark post-lexer that remembers the last two tokens handed to the parser.

    The AST is built while parsing (no parse tree), so positions come from here:
    when a rule is reduced, `last` is the lookahead token that follows it.
    """

    always_accept = ()

    def __init__(self):
        self.last = self.previous = None
        self.exhausted = False

    def process(self, stream):
        self.last = self.previous = None
        self.exhausted = False
        for token in stream:
            self.previous, self.last = self.last, token
            yield token
        self.exhausted = True

    def end_of_previous(self) -> int:
        """End offset of the last token of the rule being reduced."""
        token = self.last if self.exhausted else self.previous
        return token.end_pos

    def position(self) -> Token:
        """A token to report an error in the rule being reduced at (its last token)."""
        return self.last if self.exhausted or self.previous is None else self.previous


_YIELD_STAR = ("*",)  # what yield_star gives: `YIELD *`, told apart from yield items

# SHOW PROCEDURES and SHOW FUNCTIONS: the built-in procedure each calls (not
# listed itself) and the columns shown when no YIELD is written, as Neo4j's.
SHOW_PROCEDURES = ("weftdb.listing.procedures", ("name", "description", "mode", "worksOnSystem"))
SHOW_FUNCTIONS = ("weftdb.listing.functions", ("name", "category", "description"))
# Neo4j's SHOW TRANSACTIONS with YIELD or WHERE, and SHOW DATABASES (query/operations.py): read
# queries, so they run in any transaction. SHOW TRANSACTIONS alone is Memgraph's administration statement.
SHOW_TRANSACTIONS = ("weftdb.listing.transactions", ("database", "transactionId", "currentQueryId", "connectionId",
                                                     "clientAddress", "username", "currentQuery", "startTime",
                                                     "status", "elapsedTime"))
_DATABASE_COLUMNS = ("name", "type", "aliases", "access", "address", "role", "writer", "requestedStatus",
                     "currentStatus", "statusMessage", "default", "home", "constituents")
SHOW_DATABASES = ("weftdb.listing.databases", _DATABASE_COLUMNS)
SHOW_DEFAULT_DATABASE = ("weftdb.listing.databases", tuple(c for c in _DATABASE_COLUMNS if c not in ("default", "home")))
# Neo4j 5's default columns; YIELD * gives every column of the procedure (query/schema_listing.py).
SHOW_INDEXES = ("weftdb.listing.indexes", ("id", "name", "state", "populationPercent", "type", "entityType",
                                           "labelsOrTypes", "properties", "indexProvider", "owningConstraint",
                                           "lastRead", "readCount"))
SHOW_CONSTRAINTS = ("weftdb.listing.constraints", ("id", "name", "type", "entityType", "labelsOrTypes", "properties",
                                                   "ownedIndex", "propertyType"))


def show_query(procedure: str, args: tuple, columns: tuple[str, ...], tail) -> ast.SingleQuery:
    """`SHOW ... [YIELD ... [ORDER BY] [SKIP] [LIMIT]] [WHERE ...] [RETURN ...]`
    as the query it means: a CALL of `procedure` yielding `columns` (or what
    YIELD names), then the WHERE and RETURN as written. So a listing is a read
    query: it runs in any transaction and filters like any other."""
    if tail is None or tail[0] == "where":
        where = None if tail is None else tail[1]
        return ast.SingleQuery((ast.Call(procedure, args, tuple((c, None) for c in columns), where),))
    _, yields, order_by, skip, limit, where, returned = tail
    star = yields is _YIELD_STAR
    call = ast.Call(procedure, args, None if star else yields, None, star)
    items = () if star else tuple(ast.ReturnItem(ast.Variable(alias or name), None, alias or name) for name, alias in yields)
    if not order_by and skip is None and limit is None:
        call = ast.Call(procedure, args, call.yields, where, star)
        return ast.SingleQuery((call,) if returned is None else (call, returned))
    ordered = ast.With(ast.Projection(items, False, star, order_by or (), skip, limit), where)
    return ast.SingleQuery((call, ordered, returned or ast.Return(ast.Projection(items, star=star))))


class _Labels(tuple):
    """What `node_labels` gives: the label names written, with the
    expressions of `:$(expr)` labels in `dynamic`."""

    dynamic: tuple = ()


class _PatternBody:
    """`{ pattern [WHERE ...] }` after EXISTS, COUNT or COLLECT."""

    __slots__ = ("patterns", "where")

    def __init__(self, patterns, where):
        self.patterns, self.where = patterns, where


class _DynamicLabel:
    __slots__ = ("expr",)

    def __init__(self, expr: ast.Expr):
        self.expr = expr


def _split_labels(labels, *between) -> tuple:
    """(names, *between, dynamic expressions) of what `node_labels` gave (or None):
    the positional fields of SetLabels and the like, with NodePattern's properties
    between."""
    if labels is None:
        return ((), *between, ())
    return (tuple(labels), *between, getattr(labels, "dynamic", ()))


def _admin(command: str):
    def build(self, children):
        return ast.AdminStatement(command)

    return build


class _AstBuilder:
    """Lark callbacks, one per grammar rule (or alias), run as the parser reduces.

    Shared by all parses under `_PARSE_LOCK`; `text` is the statement being parsed.
    """

    def __init__(self, tracker: _TokenTracker):
        self._tracker = tracker
        self.text = ""

    # -- statements --------------------------------------------------------

    def start(self, children):
        return children[0]

    def explain(self, children):
        return ast.Explain(children[0])

    def profile(self, children):
        return ast.Profile(children[0])

    def query(self, children):
        if len(children) == 1:
            return children[0]
        return ast.Union(tuple(children[0::2]), tuple(children[1::2]))

    def union_op(self, children):
        return bool(children)

    def single_query(self, children):
        return ast.SingleQuery(tuple(children))

    # -- clauses -----------------------------------------------------------

    def match(self, children):
        optional, patterns, where = children
        return ast.Match(patterns, where, optional is not None)

    def where(self, children):
        return children[0]

    def create(self, children):
        return ast.Create(children[0])

    def merge(self, children):
        pattern, *actions = children
        on_create = tuple(item for kind, items in actions if kind == "create" for item in items)
        on_match = tuple(item for kind, items in actions if kind == "match" for item in items)
        return ast.Merge(pattern, on_create, on_match)

    def on_create(self, children):
        return ("create", children[0])

    def on_match(self, children):
        return ("match", children[0])

    def unwind(self, children):
        return ast.Unwind(children[0], children[1])

    def with_clause(self, children):
        return ast.With(children[0], children[1])

    def return_clause(self, children):
        return ast.Return(children[0])

    def set_clause(self, children):
        return ast.Set(children[0])

    def set_items(self, children):
        return tuple(children)

    def set_property(self, children):
        *names, value = children
        subject, key = _property_path(names)
        return ast.SetProperty(subject, key, value)

    def set_all(self, children):
        return ast.SetProperties(children[0], children[1], replace=True)

    def set_merge(self, children):
        return ast.SetProperties(children[0], children[1], replace=False)

    def set_labels(self, children):
        return ast.SetLabels(children[0], *_split_labels(children[1]))

    def remove_clause(self, children):
        return ast.Remove(tuple(children))

    def remove_property(self, children):
        return ast.RemoveProperty(*_property_path(children))

    def remove_labels(self, children):
        return ast.RemoveLabels(children[0], *_split_labels(children[1]))

    def delete_clause(self, children):
        detach, *exprs = children
        return ast.Delete(tuple(exprs), detach is not None)

    def call_clause(self, children):
        procedure, args, yields, where = children
        star = yields is _YIELD_STAR
        return ast.Call(procedure, args, None if star else yields, where, star)

    def call_arguments(self, children):
        return tuple(children)

    def dotted_name(self, children):
        return ".".join(children)

    def yield_star(self, children):
        return _YIELD_STAR

    def yield_items(self, children):
        return tuple(children)

    def yield_item(self, children):
        return (children[0], children[1])

    # -- CALL { }, FOREACH, LOAD CSV -----------------------------------------

    def call_subquery(self, children):
        scope, query, batching = children
        if batching is None:
            return ast.SubqueryCall(query, scope)
        concurrency, batch, on_error, status = batching
        return ast.SubqueryCall(query, scope, True, batch, on_error or "fail", status, concurrency)

    def scope_none(self, children):
        return ()

    def scope_all(self, children):
        return ("*",)

    def scope_names(self, children):
        return tuple(children)

    def in_transactions(self, children):
        _in, concurrency, batch, on_error, status = children
        return (concurrency, batch, on_error, status)

    def concurrency(self, children):
        return children[0] if children[0] is not None else ast.Literal(None)

    def batch_size(self, children):
        return children[0]

    def on_error(self, children):
        return children[0].value.lower()

    def report_status(self, children):
        return children[0]

    def foreach(self, children):
        variable, _in, source, *clauses = children
        return ast.Foreach(variable, source, tuple(clauses))

    def load_csv(self, children):
        before, source, after, *options, variable, terminator = children
        settings = dict(option for option in options)
        if before is not None and after is not None:
            raise _fail("LOAD CSV takes one header option: WITH HEADERS before FROM, or WITH HEADER | NO HEADER after it",
                        self._tracker.position())
        if terminator is not None:
            settings["delimiter"] = _unescape(terminator)
        return ast.LoadCsv(
            source,
            variable,
            header=bool(before or after),
            ignore_bad=settings.get("ignore_bad", False),
            delimiter=settings.get("delimiter"),
            quote=settings.get("quote"),
            nullif=settings.get("nullif"),
            empty_is_null=after is None,  # Memgraph's header option after FROM: empty fields stay ''
        )

    def with_header(self, children):
        return True

    def no_header(self, children):
        return False

    def ignore_bad(self, children):
        return ("ignore_bad", True)

    def delimiter(self, children):
        return ("delimiter", _unescape(children[0]))

    def quote(self, children):
        return ("quote", _unescape(children[0]))

    def nullif(self, children):
        return ("nullif", _unescape(children[0]))

    def projection(self, children):
        distinct, (star, items), order_by, skip, limit = children
        return ast.Projection(items, distinct is not None, star, order_by or (), skip, limit)

    def projection_items(self, children):
        star = isinstance(children[0], Token)
        return (star, tuple(children[1:] if star else children))

    def return_item(self, children):
        (expr, text), alias = children
        return ast.ReturnItem(expr, alias, text)

    def return_expr(self, children):
        start, expr = children
        return (expr, self.text[start : self._tracker.end_of_previous()])

    def item_start(self, children):
        """Empty rule reduced just before a RETURN/WITH item: the lookahead is its first token."""
        return self._tracker.last.start_pos

    def order_by(self, children):
        return tuple(children)

    def sort_asc(self, children):
        return ast.SortItem(children[0], descending=False)

    def sort_desc(self, children):
        return ast.SortItem(children[0], descending=True)

    def skip(self, children):
        return children[0]

    def limit(self, children):
        return children[0]

    # -- patterns ----------------------------------------------------------

    def pattern(self, children):
        return tuple(children)

    def pattern_part(self, children):
        path_variable, *elements = children
        return ast.PatternPart(path_variable, tuple(elements[0::2]), tuple(elements[1::2]))

    def shortest_part(self, children):
        """`[p =] shortestPath((a)-[*]-(b))` or `allShortestPaths(...)` in MATCH."""
        path_variable, kind, *elements = children
        return _shortest_pattern(path_variable, kind, tuple(elements[0::2]), tuple(elements[1::2]), self._tracker.position())

    def shortest_kind(self, children):
        return "shortest" if children[0].type == "SHORTESTPATH" else "all"

    def shortest_path(self, children):
        """`shortestPath(...)` / `allShortestPaths(...)` as an expression."""
        kind, pattern = children
        at = self._tracker.position()
        if not isinstance(pattern, ast.PatternPredicate):
            raise _fail(f"{_SHORTEST_NAMES[kind]}(...) takes a pattern such as (a)-[*]-(b)", at)
        part = pattern.pattern
        return ast.ShortestPath(_shortest_pattern(None, kind, part.nodes, part.rels, at))

    def node_pattern(self, children):
        variable, labels, properties = children
        return ast.NodePattern(variable, *_split_labels(labels, properties))

    def node_labels(self, children):
        labels = _Labels(item for item in children if isinstance(item, str))
        labels.dynamic = tuple(item.expr for item in children if isinstance(item, _DynamicLabel))
        return labels

    def dynamic_label(self, children):
        return _DynamicLabel(children[-1])

    def rel_out(self, children):
        return self._relationship(children, "out")

    def rel_in(self, children):
        return self._relationship(children, "in")

    def rel_both(self, children):
        return self._relationship(children, "both")

    def _relationship(self, children, direction: str) -> ast.RelPattern:
        detail = children[1] if len(children) == 3 else (None, None, None, None, None)
        variable, types, var_length, properties, lambdas = detail
        if var_length is None:
            if lambdas is not None:
                raise _fail("A lambda `(r, n | ...)` needs a variable-length relationship such as -[*BFS (r, n | ...)]-",
                            self._tracker.position())
            return ast.RelPattern(variable, types or (), properties, direction)
        min_hops, max_hops, search = var_length
        weight, total, filter_ = _path_lambdas(search, lambdas, self._tracker.position())
        return ast.RelPattern(variable, types or (), properties, direction, True, min_hops, max_hops, search, weight, total, filter_)

    def rel_detail(self, children):
        return tuple(children)

    def rel_types(self, children):
        return tuple(children)

    def var_length(self, children):
        """(min, max, search): `*BFS 5` and `*5` mean 5..5 as in Memgraph, but
        `*WSHORTEST 5` and `*ALLSHORTEST 5` an upper bound (they take no lower one)."""
        _star, search, low, tail = children
        low = None if low is None else _integer_value(low)
        if search in ("wshortest", "allshortest"):
            if tail is not None and low is not None:
                word = "*" + search.upper()
                raise _fail(f"{word} takes an upper bound only ({word} ..5 or {word} 5): the lightest path "
                            "is found first, so a lower bound would have to skip it", self._tracker.position())
            return (None, low if tail is None else tail[0], search)
        if tail is None:
            return (low, low, search)
        return (low, tail[0], search)

    def path_search(self, children):
        return children[0].value.lower()

    def path_lambdas(self, children):
        return tuple(children)

    def path_lambda(self, children):
        *names, expr = children
        return ast.PathLambda(tuple(names), expr)

    def range_tail(self, children):
        """`..` and the upper bound, if written."""
        _dots, high = children
        return (None if high is None else _integer_value(high),)

    # -- expressions -------------------------------------------------------

    def operators(self, children):
        return _OperatorSequence(children).parse()

    def infix(self, children):
        first = children[0]
        return _INFIX.get(first.type) or first.value

    def is_null(self, children):
        return _IS_NULL

    def is_not_null(self, children):
        return _IS_NOT_NULL

    def neg(self, children):
        """Fold `-literal` into the literal, unless that leaves the 64-bit
        range (`-(-9223372036854775808)` must overflow when evaluated)."""
        operand = children[0]
        if isinstance(operand, ast.Literal) and type(operand.value) in (int, float):
            value = -operand.value
            if type(value) is float or -(1 << 63) <= value < (1 << 63):
                return ast.Literal(value)
        return ast.UnaryOp("-", operand)

    def pos(self, children):
        return ast.UnaryOp("+", children[0])

    def property(self, children):
        return ast.Property(children[0], children[1])

    def subscript(self, children):
        return ast.Subscript(children[0], children[1])

    def slice(self, children):
        subject, start, _dots, end = children
        return ast.Slice(subject, start, end)

    def has_labels(self, children):
        return ast.HasLabels(children[0], *_split_labels(children[1]))

    def call_no_args(self, children):
        at = self._tracker.position()
        return ast.FunctionCall(self._function_name(children[0], at), ())

    def call(self, children):
        at = self._tracker.position()
        callee, arguments = children
        name = self._function_name(callee, at)
        build = getattr(self, f"_call_{arguments.kind}")
        return build(name, arguments, at)

    @staticmethod
    def _function_name(callee, at) -> str:
        name = _callee_name(callee)
        if name is None:
            raise _fail("Only a function name can be called", at)
        return name

    @staticmethod
    def _call_star(name, arguments, at):
        if name.lower() != "count":
            raise _fail(f"`*` is only allowed in count(*), not in {name}(*)", at)
        return ast.CountStar()

    @staticmethod
    def _call_plain(name, arguments, at):
        return ast.FunctionCall(name, arguments.parts, arguments.distinct)

    @staticmethod
    def _call_filter(name, arguments, at):
        subject, where = arguments.parts
        in_form = _in_form(subject)
        if name.lower() not in _QUANTIFIERS or in_form is None:
            raise _fail(f"`{name}(... WHERE ...)` is not a quantifier; use all/any/none/single(x IN list WHERE ...)", at)
        return ast.Quantifier(name.lower(), in_form[0], in_form[1], where)

    @staticmethod
    def _call_reduce(name, arguments, at):
        init, iteration, expr = arguments.parts
        in_form = _in_form(iteration)
        accumulator = isinstance(init, ast.BinaryOp) and init.op == "=" and isinstance(init.left, ast.Variable)
        if name.lower() != "reduce" or in_form is None or not accumulator:
            raise _fail("Expected reduce(accumulator = initial, variable IN list | expression)", at)
        return ast.Reduce(init.left.name, init.right, in_form[0], in_form[1], expr)

    def args_star(self, children):
        return _Arguments("star", ())

    def args(self, children):
        distinct, *exprs = children
        return _Arguments("plain", tuple(exprs), distinct is not None)

    def args_filter(self, children):
        return _Arguments("filter", tuple(children))

    def args_reduce(self, children):
        return _Arguments("reduce", tuple(children))

    # -- atoms -------------------------------------------------------------

    def variable(self, children):
        token = children[0]
        if token.type == "NAME" and token.value.upper() in _CLAUSE_KEYWORDS:
            raise CypherSyntaxError(
                f"Invalid input '{token.value}' at line {token.line}, column {token.column}: expected an expression"
                f" (write `{token.value}` in backquotes to use it as a name)",
                token.line,
                token.column,
                ("an expression",),
            )
        return ast.Variable(_name(token))

    def map_projection(self, children):
        subject, *items = children
        return ast.MapProjection(subject, tuple(item for item in items if item is not None))

    def project_property(self, children):
        return ("property", children[0], None)

    def project_all(self, children):
        return ("all", None, None)

    def project_literal(self, children):
        return ("literal", children[0], children[1])

    def project_variable(self, children):
        return ("variable", children[0], None)

    def map_literal(self, children):
        return ast.MapLiteral(tuple(entry for entry in children if entry is not None))

    def map_entry(self, children):
        return (children[0], children[1])

    def list_empty(self, children):
        return ast.ListLiteral(())

    def list_items(self, children):
        if len(children) == 1 and _in_form(children[0]) is not None:
            variable, source = _in_form(children[0])
            return ast.ListComprehension(variable, source, None, None)
        return ast.ListLiteral(tuple(children))

    def list_where(self, children):
        at = self._tracker.position()
        subject, where = children
        if _in_form(subject) is None:
            raise _fail("Expected `variable IN list WHERE ...` in a list comprehension", at)
        return _comprehension(subject, where, None, at)

    def list_map(self, children):
        at = self._tracker.position()
        return _comprehension(children[0], None, children[1], at)

    def list_where_map(self, children):
        at = self._tracker.position()
        return _comprehension(children[0], children[1], children[2], at)

    def case_expr(self, children):
        subject, *whens, default = children
        return ast.Case(subject, tuple(whens), default)

    def case_when(self, children):
        return (children[0], children[1])

    def paren(self, children):
        return children[0]

    def empty_node(self, children):
        return ast.NodePattern(None, (), None)

    def anonymous_node(self, children):
        labels, properties = children
        return ast.NodePattern(None, *_split_labels(labels, properties))

    def labelled_node(self, children):
        at = self._tracker.position()
        subject, labels, properties = children
        if not isinstance(subject, ast.Variable):
            raise _fail("Expected a variable before the labels of a node pattern", at)
        return ast.NodePattern(subject.name, *_split_labels(labels, properties))

    def pattern_predicate(self, children):
        at = self._tracker.position()
        first, *elements = children
        nodes = (_as_node(first, at), *elements[1::2])
        return ast.PatternPredicate(ast.PatternPart(None, nodes, tuple(elements[0::2])))

    def exists_call(self, children):
        keyword, argument = children
        if isinstance(argument, ast.PatternPredicate):
            return ast.Exists((argument.pattern,), None)
        return ast.FunctionCall(keyword.value, (argument,))

    def exists_subquery(self, children):
        _keyword, body = children
        if isinstance(body, _PatternBody):
            return ast.Exists(body.patterns, body.where)
        clauses = body.clauses if isinstance(body, ast.SingleQuery) else ()
        if len(clauses) == 1 and isinstance(clauses[0], ast.Match) and not clauses[0].optional:
            return ast.Exists(clauses[0].patterns, clauses[0].where)
        return ast.SubqueryExpression("exists", body)

    def subquery_expression(self, children):
        at = self._tracker.position()
        keyword, body = children
        kind = keyword.name.lower() if isinstance(keyword, ast.Variable) else ""
        if kind not in ("count", "collect"):
            raise _fail(f"Expected COUNT, COLLECT or EXISTS before {{ ... }}, not {keyword.name}", at)
        if isinstance(body, _PatternBody):
            if kind == "collect":
                raise _fail("COLLECT { ... } needs a query that ends with RETURN of one column", at)
            body = ast.SingleQuery((ast.Match(body.patterns, body.where),))
        return ast.SubqueryExpression(kind, body)

    def pattern_body(self, children):
        return _PatternBody(children[0], children[1])

    def subquery_body(self, children):
        return children[0]

    # -- literals ----------------------------------------------------------

    def integer(self, children):
        return ast.Literal(_integer_value(children[0]))

    def min_integer(self, children):
        return ast.Literal(-(2**63))

    def float(self, children):
        value = float(children[0].value)
        if math.isinf(value):
            raise _fail(f"Float literal {children[0].value} is too large for a 64-bit float", children[0])
        return ast.Literal(value)

    def string(self, children):
        return ast.Literal(_unescape(children[0]))

    def true(self, children):
        return ast.Literal(True)

    def false(self, children):
        return ast.Literal(False)

    def null(self, children):
        return ast.Literal(None)

    def parameter(self, children):
        return ast.Parameter(_parameter_name(children[0]))

    def name(self, children):
        return _name(children[0])

    # -- schema ------------------------------------------------------------

    def create_index(self, children):
        kind, label, keys = children
        kind, relationship = self._memgraph_index_kind(kind)
        return ast.CreateIndex(label, keys or (), kind, relationship)

    def drop_index(self, children):
        kind, label, keys = children
        kind, relationship = self._memgraph_index_kind(kind)
        return ast.DropIndex(label, keys or (), kind, relationship)

    def _memgraph_index_kind(self, kind: str | None) -> tuple[str | None, bool]:
        """Memgraph's `CREATE [EDGE|POINT] INDEX ON ...`: (kind, relationship)."""
        if kind is None:
            return None, False
        if kind.upper() in ("EDGE", "POINT"):
            return (None, True) if kind.upper() == "EDGE" else ("POINT", False)
        raise _fail(f"Unknown index kind {kind}: `CREATE [EDGE|POINT] INDEX ON :Label(property)`", self._tracker.position())

    def create_index_for(self, children):
        kind, name, if_not_exists, (entity, variable, label), refs, _options = children
        if kind is not None and kind.upper() not in ("RANGE", "TEXT", "POINT"):
            raise _fail(f"{kind.upper()} indexes are not supported; WeftDB has RANGE, TEXT and POINT property "
                        "indexes (docs/cypher.md)", self._tracker.position())
        if refs is None:
            raise _fail("ON EACH [...] is the form of FULLTEXT indexes, which WeftDB does not have; "
                        "write ON (n.property)", self._tracker.position())
        keys = self._keys_of(variable, refs)
        return ast.CreateIndex(label, keys, (kind or "RANGE").upper(), entity == "relationship", name,
                               bool(if_not_exists))

    def drop_index_named(self, children):
        name, if_exists = children
        return ast.DropIndex(name=name, if_exists=bool(if_exists))

    def index_keys(self, children):
        return tuple(children)

    def index_on(self, children):
        return tuple(children)

    def index_on_each(self, children):
        return None

    def if_not_exists(self, children):
        return True

    def if_exists(self, children):
        return True

    def node_target(self, children):
        return ("node", children[0], children[1])

    def relationship_target(self, children):
        return ("relationship", children[1], children[2])

    def create_constraint(self, children):
        at = self._tracker.position()
        return ast.CreateConstraint(*self._constraint(children, at))

    def drop_constraint(self, children):
        at = self._tracker.position()
        return ast.DropConstraint(*self._constraint(children, at))

    def create_constraint_for(self, children):
        name, if_not_exists, (entity, variable, label), body, _options = children
        kind, label, keys = self._constraint((variable, label, body), self._tracker.position())
        return ast.CreateConstraint(kind, label, keys, name, bool(if_not_exists), entity == "relationship")

    def drop_constraint_named(self, children):
        name, if_exists = children
        return ast.DropConstraint(None, None, (), name, bool(if_exists))

    def _keys_of(self, variable: str, refs) -> tuple[str, ...]:
        for ref_variable, key in refs:
            if ref_variable != variable:
                raise _fail(f"Property {ref_variable}.{key} must use the variable {variable}", self._tracker.position())
        return tuple(key for _, key in refs)

    @staticmethod
    def _constraint(children, at) -> tuple[str, str, tuple[str, ...]]:
        variable, label, (kind, refs) = children
        for ref_variable, key in refs:
            if ref_variable != variable:
                raise _fail(f"Constraint property {ref_variable}.{key} must use the variable {variable}", at)
        if kind == "exists" and isinstance(refs, list) and len(refs) > 1:
            raise _fail("IS NOT NULL takes one property; write one constraint per property", at)
        return kind, label, tuple(key for _, key in refs)

    def exists_constraint(self, children):
        return ("exists", tuple(children[1:]))

    def unique_constraint(self, children):
        return ("unique", children[0])

    def node_key_constraint(self, children):
        return ("node_key", children[0])

    def not_null_constraint(self, children):
        return ("exists", list(children[0]))  # a list: one property only (checked in _constraint)

    def property_refs(self, children):
        return tuple(children)

    def property_ref(self, children):
        return (children[0], children[1])

    # -- listings ----------------------------------------------------------

    def show_procedures(self, children):
        _executable, tail = children
        procedure, columns = SHOW_PROCEDURES
        return show_query(procedure, (), columns, tail)

    def show_functions(self, children):
        kind, _executable, tail = children
        procedure, columns = SHOW_FUNCTIONS
        return show_query(procedure, (ast.Literal(kind or "all"),), columns, tail)

    def show_transactions_listing(self, children):
        ids, tail = children
        written = tuple(item if isinstance(item, ast.Parameter) else ast.Literal(item) for item in ids or ())
        procedure, columns = SHOW_TRANSACTIONS
        return show_query(procedure, (ast.ListLiteral(written),), columns, tail)

    def _databases_listing(self, name, which, tail):
        procedure, columns = SHOW_DATABASES if which == "all" else SHOW_DEFAULT_DATABASE
        return show_query(procedure, (ast.Literal(name), ast.Literal(which)), columns, tail)

    def show_databases_listing(self, children):
        return self._databases_listing(None, "all", children[0])

    def show_database_listing(self, children):
        return self._databases_listing(children[0], "all", children[1])

    def show_default_database_listing(self, children):
        return self._databases_listing(None, "default", children[0])

    def show_home_database_listing(self, children):
        return self._databases_listing(None, "home", children[0])

    def show_indexes(self, children):
        kind, tail = children
        procedure, columns = SHOW_INDEXES
        return show_query(procedure, (ast.Literal(kind or "ALL"),), columns, tail)

    def show_constraints(self, children):
        kind, tail = children
        procedure, columns = SHOW_CONSTRAINTS
        return show_query(procedure, (ast.Literal(kind or "ALL"),), columns, tail)

    def all_indexes(self, children):
        return "ALL"

    def range_indexes(self, children):
        return "RANGE"

    def text_indexes(self, children):
        return "TEXT"

    def point_indexes(self, children):
        return "POINT"

    def lookup_indexes(self, children):
        return "LOOKUP"

    def all_constraints(self, children):
        return "ALL"

    def unique_constraints(self, children):
        return "UNIQUE"

    def key_constraints(self, children):
        return "KEY"

    def exist_constraints(self, children):
        return "EXIST"

    def all_functions(self, children):
        return "all"

    def built_in_functions(self, children):
        return "built in"

    def user_defined_functions(self, children):
        return "user defined"

    def executable(self, children):
        return None

    def show_where(self, children):
        return ("where", children[0])

    def show_yield(self, children):
        return ("yield", *children)

    # -- admin -------------------------------------------------------------

    begin = _admin("begin")
    commit = _admin("commit")
    rollback = _admin("rollback")
    create_snapshot = _admin("create_snapshot")
    show_snapshots = _admin("show_snapshots")
    show_next_snapshot = _admin("show_next_snapshot")
    lock_data_directory = _admin("lock_data_directory")
    unlock_data_directory = _admin("unlock_data_directory")
    data_directory_lock_status = _admin("data_directory_lock_status")
    dump_database = _admin("dump_database")
    show_storage_info = _admin("show_storage_info")
    checkpoint_create = _admin("checkpoint_create")
    checkpoint_release = _admin("checkpoint_release")
    checkpoint_status = _admin("checkpoint_status")
    show_users = _admin("show_users")
    show_index_info = _admin("show_index_info")
    show_constraint_info = _admin("show_constraint_info")
    show_version = _admin("show_version")
    show_build_info = _admin("show_build_info")
    show_config = _admin("show_config")
    show_triggers = _admin("show_triggers")
    show_streams = _admin("show_streams")

    show_database = _admin("show_database")  # Memgraph's: the current database

    def database_name(self, children):
        value = children[0]
        return _unescape(value) if isinstance(value, Token) else value

    def create_database(self, children):
        return ast.AdminStatement("create_database", (("name", children[0]), ("if_not_exists", children[1] is not None)))

    def drop_database(self, children):
        return ast.AdminStatement("drop_database", (("name", children[0]), ("if_exists", children[1] is not None)))

    def stop_database(self, children):
        return ast.AdminStatement("stop_database", (("name", children[0]),))

    def start_database(self, children):
        return ast.AdminStatement("start_database", (("name", children[0]),))

    def use_database(self, children):
        return ast.AdminStatement("use_database", (("name", children[0]),))

    def show_transactions(self, children):
        return ast.AdminStatement("show_transactions", (("states", children[0] or ()),))

    def show_transactions_by_id(self, children):
        return ast.AdminStatement("show_transactions", (("ids", children[-1]),))

    def terminate_transactions(self, children):
        return ast.AdminStatement("terminate_transactions", (("ids", children[-1]),))

    def transaction_states(self, children):
        return tuple(children)

    def running_state(self, children):
        return "running"

    def committing_state(self, children):
        return "committing"

    def aborting_state(self, children):
        return "aborting"

    def transaction_ids(self, children):
        """The ids as written: strings, and `$name` parameters as ast.Parameter."""
        return tuple(ast.Parameter(_parameter_name(t)) if t.type == "PARAMETER" else _unescape(t) for t in children)


    def storage_mode(self, children):
        return ast.AdminStatement("storage_mode", (("mode", children[0].upper()),))

    def create_user(self, children):
        return ast.AdminStatement("create_user", (("user", children[0]), ("password", children[1])))

    def set_password(self, children):
        return ast.AdminStatement("set_password", (("user", children[0]), ("password", children[1])))

    def drop_user(self, children):
        return ast.AdminStatement("drop_user", (("user", children[0]),))

    def database_or_all(self, children):
        return children[0] if children else "*"

    def grant_database(self, children):
        return ast.AdminStatement("grant_database", (("database", children[0]), ("user", children[1])))

    def deny_database(self, children):
        return ast.AdminStatement("deny_database", (("database", children[0]), ("user", children[1])))

    def revoke_database(self, children):
        return ast.AdminStatement("revoke_database", (("database", children[0]), ("user", children[1])))

    def set_main_database(self, children):
        return ast.AdminStatement("set_main_database", (("database", children[0]), ("user", children[1])))

    def show_database_privileges(self, children):
        return ast.AdminStatement("show_database_privileges", (("user", children[0]),))

    def user_name(self, children):
        value = children[0]
        return _unescape(value) if isinstance(value, Token) else value

    def password_string(self, children):
        return ast.Literal(_unescape(children[0]))

    def password_parameter(self, children):
        return ast.Parameter(_parameter_name(children[0]))

    def password_null(self, children):
        return ast.Literal(None)


_TRACKER = _TokenTracker()
_BUILDER = _AstBuilder(_TRACKER)
_PARSE_LOCK = threading.Lock()


@functools.lru_cache(maxsize=None)
def _lark() -> Lark:
    """The LALR parser, built at the first parse (about a second): importing
    weftdb, and commands such as `weftdb --help`, do not pay for it."""
    return Lark(
        Path(__file__).with_name("cypher.lark").read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=_TRACKER,
        transformer=_BUILDER,
        maybe_placeholders=True,
    )

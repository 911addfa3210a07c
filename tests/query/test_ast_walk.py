"""The AST walker (`ast.children`, `ast.with_children`) and what the planner
builds on it: the variables an expression reads, its aggregates, the pattern
parts of clauses, an aggregating item without its grouped parts."""

from weftdb.query import ast
from weftdb.query.expressions import find_aggregates
from weftdb.query.parser import parse
from weftdb.query.planner import _pattern_parts, _without_grouped, variables_in


def expression(text):
    """The expression of `RETURN <text>`."""
    (clause,) = parse("RETURN " + text).clauses
    return clause.projection.items[0].expr


def test_children_are_the_nodes_in_fields_tuples_and_pairs():
    a, b, one = ast.Variable("a"), ast.Variable("b"), ast.Literal(1)
    assert list(ast.children(ast.BinaryOp("+", a, b))) == [a, b]
    assert list(ast.children(ast.MapLiteral((("x", a), ("y", one))))) == [a, one]
    assert list(ast.children(ast.Case(None, ((a, one), (b, one)), None))) == [a, one, b, one]
    assert list(ast.children(ast.FunctionCall("f", (), False))) == []
    assert list(ast.children(ast.NodePattern("n", ("L",), None))) == []


def test_with_children_rebuilds_only_the_nodes():
    a, b = ast.Variable("a"), ast.Variable("b")
    case = ast.Case(a, ((b, ast.Literal(1)),), None)
    changed = ast.with_children(case, lambda child: ast.Literal(None) if child == b else child)
    assert changed == ast.Case(a, ((ast.Literal(None), ast.Literal(1)),), None)
    assert case.whens[0][0] == b  # the original is untouched


def test_variables_in_leaves_out_comprehension_locals():
    assert variables_in(expression("a.x + size([y IN b WHERE y > c | y * d])")) == {"a", "b", "c", "d"}
    assert variables_in(expression("reduce(s = 0, i IN xs | s + i + k)")) == {"xs", "k"}
    assert variables_in(expression("exists((a)-[r:R {w: v}]->(:L))")) == {"a", "r", "v"}


def test_find_aggregates_outermost_only():
    found = find_aggregates(expression("count(*) + sum(a.x) + size(collect(b))"), [])
    assert [type(call).__name__ for call in found] == ["CountStar", "FunctionCall", "FunctionCall"]
    assert [call.name for call in found[1:]] == ["sum", "collect"]


def test_pattern_parts_of_clauses():
    statement = parse("MATCH (a)-->(b) WHERE exists((b)-->(:C)) UNWIND [1] AS x CREATE (d)")
    parts = [part for clause in statement.clauses for part in _pattern_parts(clause, [])]
    assert [len(part.nodes) for part in parts] == [2, 2, 1]


def test_without_grouped_replaces_keys_and_aggregates():
    item = expression("n.x + count(*) + m")
    assert _without_grouped(item, [expression("n.x")]) == expression("null + null + m")

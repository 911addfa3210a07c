"""The Cypher parser: each construct gives the AST the planner expects, errors
point at the right place, and everything Memgraph's DUMP DATABASE writes parses."""

import subprocess
import sys

import pytest

from weftdb.basics.errors import CypherSyntaxError
from weftdb.query import ast
from weftdb.query.parser import parse

A = ast.Variable("a")
B = ast.Variable("b")
N = ast.Variable("n")
X = ast.Variable("x")


def lit(value):
    return ast.Literal(value)


def node(variable=None, *labels, properties=None):
    return ast.NodePattern(variable, tuple(labels), properties)


def rel(direction, variable=None, *types, properties=None, **hops):
    return ast.RelPattern(variable, tuple(types), properties, direction, **hops)


def only_clause(text):
    statement = parse(text)
    assert isinstance(statement, ast.SingleQuery)
    assert len(statement.clauses) == 1
    return statement.clauses[0]


def expr(text):
    """The expression of `RETURN <text>`."""
    clause = only_clause(f"RETURN {text}")
    (item,) = clause.projection.items
    return item.expr


def where(text):
    """The WHERE expression of `MATCH (a), (b) WHERE <text>`."""
    statement = parse(f"MATCH (a), (b) WHERE {text} RETURN a")
    return statement.clauses[0].where


# --------------------------------------------------------------------------
# Clauses
# --------------------------------------------------------------------------


def test_match_with_labels_properties_and_where():
    clause = only_clause("MATCH (n:A:B {k: 1, m: $p}) WHERE n.x > 2")
    assert clause == ast.Match(
        (ast.PatternPart(None, (node("n", "A", "B", properties=ast.MapLiteral((("k", lit(1)), ("m", ast.Parameter("p"))))),), ()),),
        ast.BinaryOp(">", ast.Property(N, "x"), lit(2)),
        optional=False,
    )


def test_optional_match():
    statement = parse("MATCH (a) OPTIONAL MATCH (a)-->(b) WHERE b.x = 1 RETURN b")
    optional = statement.clauses[1]
    assert optional.optional is True
    assert optional.where == ast.BinaryOp("=", ast.Property(B, "x"), lit(1))


def test_create_several_parts():
    clause = only_clause("CREATE (a:P {name: 'x'}), (b)-[:R]->(c)")
    assert isinstance(clause, ast.Create)
    assert len(clause.patterns) == 2
    assert clause.patterns[1].rels == (rel("out", None, "R"),)


def test_merge_actions_repeat_in_any_order():
    clause = only_clause("MERGE (x:X {k: 1}) ON MATCH SET x.a = 1 ON CREATE SET x.b = 2, x:New ON MATCH SET x += {c: 3}")
    assert clause.pattern == ast.PatternPart(None, (node("x", "X", properties=ast.MapLiteral((("k", lit(1)),))),), ())
    assert clause.on_create == (ast.SetProperty(X, "b", lit(2)), ast.SetLabels("x", ("New",)))
    assert clause.on_match == (
        ast.SetProperty(X, "a", lit(1)),
        ast.SetProperties("x", ast.MapLiteral((("c", lit(3)),)), replace=False),
    )


def test_with_distinct_order_skip_limit_where():
    statement = parse("MATCH (n) WITH DISTINCT n.x AS x, n ORDER BY x DESC, n.y SKIP 1 LIMIT $l WHERE x > 0 RETURN x")
    clause = statement.clauses[1]
    projection = clause.projection
    assert projection.distinct is True
    assert [item.name for item in projection.items] == ["x", "n"]
    assert projection.order_by == (ast.SortItem(X, True), ast.SortItem(ast.Property(N, "y"), False))
    assert projection.skip == lit(1)
    assert projection.limit == ast.Parameter("l")
    assert clause.where == ast.BinaryOp(">", X, lit(0))


def test_with_star_and_more_items():
    clause = parse("MATCH (n) WITH *, n.x AS x RETURN *").clauses[1]
    assert clause.projection.star is True
    assert clause.projection.items[0].alias == "x"


@pytest.mark.parametrize("word", ["ASC", "ascending", "Desc", "DESCENDING"])
def test_sort_directions(word):
    clause = only_clause(f"RETURN n ORDER BY n {word}")
    assert clause.projection.order_by[0].descending is word.upper().startswith("DESC")


def test_return_star():
    assert only_clause("RETURN *").projection == ast.Projection((), star=True)


def test_unwind():
    statement = parse("UNWIND [1, 2] AS x RETURN x")
    assert statement.clauses[0] == ast.Unwind(ast.ListLiteral((lit(1), lit(2))), "x")


def test_set_items():
    clause = parse("MATCH (n) SET n.p = 1, n = {a: 1}, n += $m, n:A:B, n.a.b = 2").clauses[1]
    assert clause.items == (
        ast.SetProperty(N, "p", lit(1)),
        ast.SetProperties("n", ast.MapLiteral((("a", lit(1)),)), replace=True),
        ast.SetProperties("n", ast.Parameter("m"), replace=False),
        ast.SetLabels("n", ("A", "B")),
        ast.SetProperty(ast.Property(N, "a"), "b", lit(2)),
    )


def test_remove_items():
    clause = parse("MATCH (n) REMOVE n.p, n:A:B").clauses[1]
    assert clause.items == (ast.RemoveProperty(N, "p"), ast.RemoveLabels("n", ("A", "B")))


def test_delete_and_detach_delete():
    assert parse("MATCH (a)-[r]->(b) DELETE r, a").clauses[1] == ast.Delete((ast.Variable("r"), A), detach=False)
    assert parse("MATCH (a) DETACH DELETE a").clauses[1] == ast.Delete((A,), detach=True)


def test_call_with_yield_and_where():
    clause = only_clause("CALL db.proc.name(1, $x) YIELD a AS b, c WHERE b > 1")
    assert clause == ast.Call(
        "db.proc.name",
        (lit(1), ast.Parameter("x")),
        (("a", "b"), ("c", None)),
        ast.BinaryOp(">", B, lit(1)),
    )


def test_call_without_yield_or_parentheses():
    assert only_clause("CALL db.labels()") == ast.Call("db.labels", ())
    assert only_clause("CALL db.labels") == ast.Call("db.labels", None)  # arguments from the parameters
    assert only_clause("CALL db.labels() YIELD *") == ast.Call("db.labels", (), yield_star=True)


def test_union_and_union_all():
    statement = parse("RETURN 1 AS x UNION RETURN 2 AS x UNION ALL RETURN 3 AS x")
    assert isinstance(statement, ast.Union)
    assert len(statement.parts) == 3
    assert statement.all_flags == (False, True)


def test_explain_and_profile():
    assert isinstance(parse("EXPLAIN MATCH (n) RETURN n"), ast.Explain)
    profiled = parse("profile RETURN 1 UNION RETURN 2")
    assert isinstance(profiled, ast.Profile)
    assert isinstance(profiled.statement, ast.Union)


def test_keywords_are_case_insensitive():
    assert parse("match (n) where n.x is not null return distinct n") == parse(
        "MATCH (n) WHERE n.x IS NOT NULL RETURN DISTINCT n"
    )


# --------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arrow, expected",
    [
        ("-->", rel("out")),
        ("<--", rel("in")),
        ("--", rel("both")),
        ("<-->", rel("both")),
        ("-[r]->", rel("out", "r")),
        ("<-[r]-", rel("in", "r")),
        ("-[r]-", rel("both", "r")),
        ("-[r:T|U {k: 1}]->", rel("out", "r", "T", "U", properties=ast.MapLiteral((("k", lit(1)),)))),
        ("-[:T|:U]->", rel("out", None, "T", "U")),
        ("-[*]->", rel("out", var_length=True)),
        ("-[*2]->", rel("out", var_length=True, min_hops=2, max_hops=2)),
        ("-[r:T*1..3]->", rel("out", "r", "T", var_length=True, min_hops=1, max_hops=3)),
        ("-[*..3]->", rel("out", var_length=True, max_hops=3)),
        ("-[*2..]->", rel("out", var_length=True, min_hops=2)),
        ("-[:T*0..1 {k: $v}]-", rel("both", None, "T", properties=ast.MapLiteral((("k", ast.Parameter("v")),)), var_length=True, min_hops=0, max_hops=1)),
    ],
)
def test_relationship_patterns(arrow, expected):
    clause = only_clause(f"MATCH (a){arrow}(b)")
    assert clause.patterns[0].rels == (expected,)


def test_named_path_and_several_parts():
    clause = only_clause("MATCH p = (a)-->(b), (c), q = (d)<--(e)")
    assert [part.path_variable for part in clause.patterns] == ["p", None, "q"]
    assert clause.patterns[0].nodes == (node("a"), node("b"))


def test_anonymous_nodes_and_parameter_properties():
    clause = only_clause("MATCH (), (:L), ({k: 1}), (n $props)")
    assert [part.nodes[0] for part in clause.patterns] == [
        node(),
        node(None, "L"),
        node(properties=ast.MapLiteral((("k", lit(1)),))),
        node("n", properties=ast.Parameter("props")),
    ]


def test_whitespace_around_arrows():
    assert parse("MATCH (a) -[r]-> (b) RETURN a") == parse("MATCH (a)-[r]->(b) RETURN a")


# --------------------------------------------------------------------------
# Expressions
# --------------------------------------------------------------------------


def test_precedence_of_boolean_operators():
    assert expr("a OR b XOR c AND NOT d") == ast.BinaryOp(
        "or", A, ast.BinaryOp("xor", B, ast.BinaryOp("and", ast.Variable("c"), ast.UnaryOp("not", ast.Variable("d"))))
    )


def test_not_binds_looser_than_comparison():
    assert expr("NOT a = b") == ast.UnaryOp("not", ast.BinaryOp("=", A, B))


def test_comparison_chain_becomes_and():
    assert expr("a < b <= c") == ast.BinaryOp(
        "and", ast.BinaryOp("<", A, B), ast.BinaryOp("<=", B, ast.Variable("c"))
    )


@pytest.mark.parametrize("op", ["=", "<>", "<", ">", "<=", ">="])
def test_comparison_operators(op):
    assert expr(f"a {op} b") == ast.BinaryOp(op, A, B)


@pytest.mark.parametrize(
    "text, op",
    [
        ("a STARTS WITH b", "starts_with"),
        ("a ENDS WITH b", "ends_with"),
        ("a CONTAINS b", "contains"),
        ("a IN b", "in"),
        ("a =~ b", "=~"),
    ],
)
def test_string_and_list_predicates(text, op):
    assert expr(text) == ast.BinaryOp(op, A, B)


def test_predicates_bind_tighter_than_comparison_and_looser_than_arithmetic():
    assert expr("a = b IN c + d") == ast.BinaryOp(
        "=", A, ast.BinaryOp("in", B, ast.BinaryOp("+", ast.Variable("c"), ast.Variable("d")))
    )


def test_is_null_and_is_not_null():
    assert expr("a IS NULL") == ast.IsNull(A, negated=False)
    assert expr("a.x IS NOT NULL") == ast.IsNull(ast.Property(A, "x"), negated=True)


def test_arithmetic_precedence_and_associativity():
    assert expr("1 + 2 * 3 - 4") == ast.BinaryOp(
        "-", ast.BinaryOp("+", lit(1), ast.BinaryOp("*", lit(2), lit(3))), lit(4)
    )
    assert expr("a / b % c") == ast.BinaryOp("%", ast.BinaryOp("/", A, B), ast.Variable("c"))
    assert expr("2 ^ 3 * 4") == ast.BinaryOp("*", ast.BinaryOp("^", lit(2), lit(3)), lit(4))


def test_unary_operators():
    assert expr("-a") == ast.UnaryOp("-", A)
    assert expr("+a") == ast.UnaryOp("+", A)
    assert expr("-a.x ^ 2") == ast.BinaryOp("^", ast.UnaryOp("-", ast.Property(A, "x")), lit(2))
    assert expr("- 3") == lit(-3)
    assert expr("1 - -2") == ast.BinaryOp("-", lit(1), lit(-2))


def test_postfix_operators():
    assert expr("a.b.c") == ast.Property(ast.Property(A, "b"), "c")
    assert expr("a[0]") == ast.Subscript(A, lit(0))
    assert expr("a['k'][1]") == ast.Subscript(ast.Subscript(A, lit("k")), lit(1))
    assert expr("a[1..3]") == ast.Slice(A, lit(1), lit(3))
    assert expr("a[..3]") == ast.Slice(A, None, lit(3))
    assert expr("a[1..]") == ast.Slice(A, lit(1), None)
    assert expr("a[-2..-1]") == ast.Slice(A, lit(-2), lit(-1))


def test_label_predicate():
    assert where("a:A:B") == ast.HasLabels(A, ("A", "B"))
    assert where("a:A AND b:`B c`") == ast.BinaryOp(
        "and", ast.HasLabels(A, ("A",)), ast.HasLabels(B, ("B c",))
    )


@pytest.mark.parametrize(
    "text, value",
    [
        ("42", 42),
        ("0x1F", 31),
        ("0o17", 15),
        ("9223372036854775807", 2**63 - 1),
        ("-9223372036854775808", -(2**63)),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("1E-2", 0.01),
        (".5", 0.5),
        ("2.5e2", 250.0),
        ("true", True),
        ("FALSE", False),
        ("Null", None),
        ("'single'", "single"),
        ('"double"', "double"),
        (r"'a\'b\"c\\d'", "a'b\"c\\d"),
        (r'"\n\t\r\b\f"', "\n\t\r\b\f"),
        (r"'\u00e9\u0041'", "éA"),
    ],
)
def test_literals(text, value):
    result = expr(text)
    assert result == lit(value)
    assert type(result.value) is type(value)


def test_integer_outside_64_bits_is_a_syntax_error():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("RETURN 9223372036854775808")
    assert raised.value.line == 1
    assert raised.value.column == 8
    assert "64 bits" in str(raised.value)
    with pytest.raises(CypherSyntaxError):
        parse("RETURN 0x10000000000000000")
    with pytest.raises(CypherSyntaxError):
        parse("MATCH (a)-[*1..99999999999999999999]->(b) RETURN a")


def test_bad_escape_is_a_syntax_error():
    with pytest.raises(CypherSyntaxError, match="escape"):
        parse(r"RETURN 'a\qb'")


def test_parameters():
    assert expr("$name") == ast.Parameter("name")
    assert expr("$0") == ast.Parameter("0")
    assert only_clause("MATCH (n {k: $p})").patterns[0].nodes[0].properties == ast.MapLiteral(
        (("k", ast.Parameter("p")),)
    )


def test_lists_and_maps():
    assert expr("[]") == ast.ListLiteral(())
    assert expr("[1, 'a', [2]]") == ast.ListLiteral((lit(1), lit("a"), ast.ListLiteral((lit(2),))))
    assert expr("{}") == ast.MapLiteral(())
    assert expr("{a: 1, `b c`: [2], end: 3}") == ast.MapLiteral(
        (("a", lit(1)), ("b c", ast.ListLiteral((lit(2),))), ("end", lit(3)))
    )


def test_map_projection():
    assert expr("n {.a, .*, b: n.x + 1, x}") == ast.MapProjection(
        N,
        (
            ("property", "a", None),
            ("all", None, None),
            ("literal", "b", ast.BinaryOp("+", ast.Property(N, "x"), lit(1))),
            ("variable", "x", None),
        ),
    )


def test_function_calls():
    assert expr("toUpper(a)") == ast.FunctionCall("toUpper", (A,))
    assert expr("rand()") == ast.FunctionCall("rand", ())
    assert expr("date.truncate('day', a)") == ast.FunctionCall("date.truncate", (lit("day"), A))
    assert expr("count(DISTINCT a)") == ast.FunctionCall("count", (A,), distinct=True)
    assert expr("count(*)") == ast.CountStar()
    assert expr("COUNT( * )") == ast.CountStar()
    assert expr("size(a)[0]") == ast.Subscript(ast.FunctionCall("size", (A,)), lit(0))


def test_star_only_in_count():
    with pytest.raises(CypherSyntaxError, match=r"count\(\*\)"):
        parse("RETURN sum(*)")


def test_case_expressions():
    assert expr("CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END") == ast.Case(
        A, ((lit(1), lit("one")), (lit(2), lit("two"))), lit("many")
    )
    assert expr("case when a > 1 then b end") == ast.Case(None, ((ast.BinaryOp(">", A, lit(1)), B),), None)


def test_list_comprehensions():
    source = ast.FunctionCall("range", (lit(1), lit(5)))
    assert expr("[x IN range(1, 5) WHERE x > 2 | x * 2]") == ast.ListComprehension(
        "x", source, ast.BinaryOp(">", X, lit(2)), ast.BinaryOp("*", X, lit(2))
    )
    assert expr("[x IN range(1, 5) WHERE x > 2]") == ast.ListComprehension(
        "x", source, ast.BinaryOp(">", X, lit(2)), None
    )
    assert expr("[x IN range(1, 5) | x]") == ast.ListComprehension("x", source, None, X)
    assert expr("[x IN range(1, 5)]") == ast.ListComprehension("x", source, None, None)


def test_pattern_comprehensions():
    assert expr("[(a)-[:KNOWS]->(b:P) WHERE b.age > 3 | b.name]") == ast.PatternComprehension(
        ast.PatternPart(None, (node("a"), node("b", "P")), (rel("out", None, "KNOWS"),)),
        ast.BinaryOp(">", ast.Property(B, "age"), lit(3)),
        ast.Property(B, "name"),
    )
    assert expr("[p = (a)-->() | p]") == ast.PatternComprehension(
        ast.PatternPart("p", (node("a"), node()), (rel("out"),)), None, ast.Variable("p")
    )


@pytest.mark.parametrize("kind", ["all", "any", "none", "single"])
def test_quantifiers(kind):
    assert expr(f"{kind.upper()}(x IN a WHERE x > 1)") == ast.Quantifier(kind, "x", A, ast.BinaryOp(">", X, lit(1)))


def test_reduce():
    assert expr("reduce(acc = 0, x IN a | acc + x)") == ast.Reduce(
        "acc", lit(0), "x", A, ast.BinaryOp("+", ast.Variable("acc"), X)
    )


def test_exists_forms():
    part = ast.PatternPart(None, (node("a"), node("b")), (rel("out"),))
    assert where("EXISTS { MATCH (a)-->(b) WHERE b.x = 1 }") == ast.Exists(
        (part,), ast.BinaryOp("=", ast.Property(B, "x"), lit(1))
    )
    assert where("exists { (a)-->(b) }") == ast.Exists((part,), None)
    assert where("exists((a)-->(b))") == ast.Exists((part,), None)
    assert where("exists(a.name)") == ast.FunctionCall("exists", (ast.Property(A, "name"),))


def test_pattern_predicates():
    knows = ast.PatternPart(None, (node("a"), node("b")), (rel("out", None, "KNOWS"),))
    assert where("(a)-[:KNOWS]->(b)") == ast.PatternPredicate(knows)
    assert where("NOT (a)-->()") == ast.UnaryOp(
        "not", ast.PatternPredicate(ast.PatternPart(None, (node("a"), node()), (rel("out"),)))
    )
    assert where("(a:P {k: 1})<--(:Q)") == ast.PatternPredicate(
        ast.PatternPart(
            None,
            (node("a", "P", properties=ast.MapLiteral((("k", lit(1)),))), node(None, "Q")),
            (rel("in"),),
        )
    )
    assert where("a.x = 1 AND (a)--(b)--()") == ast.BinaryOp(
        "and",
        ast.BinaryOp("=", ast.Property(A, "x"), lit(1)),
        ast.PatternPredicate(ast.PatternPart(None, (node("a"), node("b"), node()), (rel("both"), rel("both")))),
    )


def test_parenthesised_expressions_are_not_patterns():
    assert where("(a)") == A
    assert where("(a.x + 1) * 2 > 3") == ast.BinaryOp(
        ">", ast.BinaryOp("*", ast.BinaryOp("+", ast.Property(A, "x"), lit(1)), lit(2)), lit(3)
    )
    assert where("(a:P)") == ast.HasLabels(A, ("P",))
    assert where("(a) - 1 > 0") == ast.BinaryOp(">", ast.BinaryOp("-", A, lit(1)), lit(0))
    assert where("(a) < 1") == ast.BinaryOp("<", A, lit(1))


def test_a_lone_node_is_not_an_expression():
    with pytest.raises(CypherSyntaxError):
        parse("MATCH (a) WHERE () RETURN a")
    with pytest.raises(CypherSyntaxError, match="node pattern"):
        parse("MATCH (a) WHERE (a + 1)-->() RETURN a")


def test_keywords_as_names():
    assert expr("n.count + n.type + n.contains + n.end + n.order") is not None
    clause = only_clause("MATCH (end:Order:Return)-[type:CONTAINS]->(count {limit: 1, where: 2})")
    part = clause.patterns[0]
    assert part.nodes[0] == node("end", "Order", "Return")
    assert part.rels[0].variable == "type"
    assert part.rels[0].types == ("CONTAINS",)
    assert part.nodes[1].properties.items[0][0] == "limit"
    statement = parse("MATCH (end) WITH end AS order RETURN order.x AS count, end")
    assert statement.clauses[2].projection.items[0].name == "count"
    assert statement.clauses[2].projection.items[1].expr == ast.Variable("end")


def test_backquoted_names():
    statement = parse("MATCH (`my node`:`Odd ``label```) RETURN `my node`.`a b`")
    assert statement.clauses[0].patterns[0].nodes[0] == node("my node", "Odd `label`")
    assert statement.clauses[1].projection.items[0].expr == ast.Property(ast.Variable("my node"), "a b")


def test_return_item_text_is_the_source():
    items = only_clause("RETURN n.name, count(*),  a  +  b , [x IN l | x] AS y, 'q'").projection.items
    assert [item.text for item in items] == ["n.name", "count(*)", "a  +  b", "[x IN l | x]", "'q'"]
    assert [item.name for item in items] == ["n.name", "count(*)", "a  +  b", "y", "'q'"]


def test_comments_whitespace_and_trailing_semicolon():
    text = """
    // find people
    MATCH (n:Person) /* all of them,
       really */ RETURN n; """
    assert parse(text) == parse("MATCH (n:Person) RETURN n")


def test_parse_is_cached():
    text = "MATCH (n {id: $id}) RETURN n"
    assert parse(text) is parse(text)


# --------------------------------------------------------------------------
# Schema and admin statements
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("CREATE INDEX ON :L;", ast.CreateIndex("L")),
        ("CREATE INDEX ON :L(p);", ast.CreateIndex("L", ("p",))),
        ("create index on :`Per son`(`na me`)", ast.CreateIndex("Per son", ("na me",))),
        ("DROP INDEX ON :L;", ast.DropIndex("L")),
        ("DROP INDEX ON :L(p);", ast.DropIndex("L", ("p",))),
        ("CREATE CONSTRAINT ON (n:L) ASSERT EXISTS (n.p);", ast.CreateConstraint("exists", "L", ("p",))),
        ("CREATE CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE;", ast.CreateConstraint("unique", "L", ("p",))),
        ("CREATE CONSTRAINT ON (n:L) ASSERT n.p, n.q IS UNIQUE;", ast.CreateConstraint("unique", "L", ("p", "q"))),
        ("DROP CONSTRAINT ON (n:L) ASSERT EXISTS (n.p);", ast.DropConstraint("exists", "L", ("p",))),
        ("DROP CONSTRAINT ON (n:L) ASSERT n.p IS UNIQUE;", ast.DropConstraint("unique", "L", ("p",))),
        ("SHOW INDEX INFO;", ast.AdminStatement("show_index_info")),
        ("SHOW CONSTRAINT INFO;", ast.AdminStatement("show_constraint_info")),
    ],
)
def test_schema_statements(text, expected):
    assert parse(text) == expected


def test_constraint_must_use_its_variable():
    with pytest.raises(CypherSyntaxError, match="variable n"):
        parse("CREATE CONSTRAINT ON (n:L) ASSERT m.p IS UNIQUE")


@pytest.mark.parametrize(
    "text, command",
    [
        ("BEGIN", "begin"),
        ("COMMIT", "commit"),
        ("ROLLBACK;", "rollback"),
        ("CREATE SNAPSHOT", "create_snapshot"),
        ("SHOW SNAPSHOTS", "show_snapshots"),
        ("SHOW NEXT SNAPSHOT", "show_next_snapshot"),
        ("LOCK DATA DIRECTORY", "lock_data_directory"),
        ("UNLOCK DATA DIRECTORY", "unlock_data_directory"),
        ("DATA DIRECTORY LOCK STATUS", "data_directory_lock_status"),
        ("DUMP DATABASE", "dump_database"),
        ("SHOW STORAGE INFO", "show_storage_info"),
        ("CHECKPOINT CREATE", "checkpoint_create"),
        ("checkpoint release", "checkpoint_release"),
        ("CHECKPOINT STATUS", "checkpoint_status"),
        ("SHOW USERS", "show_users"),
    ],
)
def test_admin_statements(text, command):
    assert parse(text) == ast.AdminStatement(command)


def test_storage_mode():
    assert parse("STORAGE MODE in_memory_analytical") == ast.AdminStatement(
        "storage_mode", (("mode", "IN_MEMORY_ANALYTICAL"),)
    )
    assert parse("STORAGE MODE IN_MEMORY_TRANSACTIONAL").arg("mode") == "IN_MEMORY_TRANSACTIONAL"


def test_user_statements():
    created = parse("CREATE USER alice IDENTIFIED BY 'secret'")
    assert created == ast.AdminStatement("create_user", (("user", "alice"), ("password", lit("secret"))))
    assert parse("CREATE USER `bob`").arg("password") is None
    assert parse("CREATE USER bob IDENTIFIED BY $pw").arg("password") == ast.Parameter("pw")
    assert parse("SET PASSWORD FOR alice TO 'new'") == ast.AdminStatement(
        "set_password", (("user", "alice"), ("password", lit("new")))
    )
    assert parse("SET PASSWORD FOR alice TO null").arg("password") == lit(None)
    assert parse("DROP USER alice") == ast.AdminStatement("drop_user", (("user", "alice"),))


# --------------------------------------------------------------------------
# What Memgraph's DUMP DATABASE writes
# --------------------------------------------------------------------------

MEMGRAPH_DUMP = [
    "CREATE INDEX ON :__mg_vertex__(__mg_id__);",
    'CREATE (:__mg_vertex__:`Person` {__mg_id__: 0, `name`: "Ann", `age`: 3});',
    'CREATE (:__mg_vertex__:`Person`:`Admin` {__mg_id__: 1, `name`: "Bob \\"B\\" \\\\ O\'Neil", `score`: -1.5, '
    "`tags`: [\"a\", \"b\"], `born`: DATE(\"2024-01-02\"), `at`: LOCALDATETIME(\"2024-01-02T03:04:05.000006\"), "
    '`wait`: DURATION("P1DT2H"), `t`: LOCALTIME("10:11:12"), `z`: DATETIME("2024-01-02T03:04:05+01:00[Europe/Paris]"), '
    "`map`: {`k`: null, `ok`: true}});",
    "CREATE (:__mg_vertex__ {__mg_id__: 2});",
    "MATCH (u:__mg_vertex__), (v:__mg_vertex__) WHERE u.__mg_id__ = 0 AND v.__mg_id__ = 1 "
    "CREATE (u)-[:`KNOWS` {`since`: 2020}]->(v);",
    "MATCH (u:__mg_vertex__), (v:__mg_vertex__) WHERE u.__mg_id__ = 1 AND v.__mg_id__ = 2 CREATE (u)-[:`LIKES`]->(v);",
    "DROP INDEX ON :__mg_vertex__(__mg_id__);",
    "MATCH (u) REMOVE u:__mg_vertex__, u.__mg_id__;",
    "CREATE INDEX ON :`Person`;",
    "CREATE INDEX ON :`Person`(`name`);",
    "CREATE CONSTRAINT ON (u:`Person`) ASSERT EXISTS (u.`name`);",
    "CREATE CONSTRAINT ON (u:`Person`) ASSERT u.`id` IS UNIQUE;",
    "CREATE CONSTRAINT ON (u:`Person`) ASSERT u.`first`, u.`last` IS UNIQUE;",
]


@pytest.mark.parametrize("text", MEMGRAPH_DUMP)
def test_memgraph_dump_statements_parse(text):
    assert isinstance(parse(text), ast.Statement)


def test_memgraph_dump_vertex():
    clause = only_clause('CREATE (:__mg_vertex__:`Person` {__mg_id__: 0, `name`: "Ann", `age`: 3});')
    assert clause.patterns[0].nodes[0] == node(
        None,
        "__mg_vertex__",
        "Person",
        properties=ast.MapLiteral((("__mg_id__", lit(0)), ("name", lit("Ann")), ("age", lit(3)))),
    )


def test_memgraph_dump_temporal_values_are_function_calls():
    clause = only_clause('CREATE ({d: DATE("2024-01-02"), w: DURATION("P1D")})')
    properties = clause.patterns[0].nodes[0].properties
    assert properties.items == (
        ("d", ast.FunctionCall("DATE", (lit("2024-01-02"),))),
        ("w", ast.FunctionCall("DURATION", (lit("P1D"),))),
    )


def test_memgraph_dump_cleanup():
    clause = parse("MATCH (u) REMOVE u:__mg_vertex__, u.__mg_id__;").clauses[1]
    assert clause.items == (ast.RemoveLabels("u", ("__mg_vertex__",)), ast.RemoveProperty(ast.Variable("u"), "__mg_id__"))


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def test_misspelled_keyword_names_the_word_and_what_was_expected():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("MATCH (n) RETRUN n")
    error = raised.value
    assert (error.line, error.column) == (1, 11)
    assert "Invalid input 'RETRUN' at line 1, column 11" in str(error)
    assert "RETURN" in error.expected and "WHERE" in error.expected
    assert "expected one of" in str(error)


def test_error_on_a_later_line():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("MATCH (n)\nWHERE n.x = \n  RETURN n")
    assert (raised.value.line, raised.value.column) == (3, 3)
    assert "'RETURN'" in str(raised.value)
    assert "a number" in raised.value.expected


def test_error_at_end_of_input():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("MATCH (n")
    assert (raised.value.line, raised.value.column) == (1, 9)
    assert str(raised.value).startswith("Unexpected end of input at line 1, column 9: expected")
    assert ")" in raised.value.expected


def test_unknown_character():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("RETURN 1 # 2")
    assert (raised.value.line, raised.value.column) == (1, 10)
    assert "'#'" in str(raised.value)


def test_expected_list_is_capped_and_readable():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("FOO")
    message = str(raised.value)
    assert message.endswith(", ...")
    assert "__ANON" not in message and "_MATCH" not in message
    assert "MATCH" in raised.value.expected


def test_unterminated_string():
    with pytest.raises(CypherSyntaxError, match="Unterminated string at line 2, column 8"):
        parse("MATCH (n)\nRETURN 'abc")


def test_clause_keyword_where_an_expression_is_due():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("MATCH (n) WHERE n.x = RETURN n")
    assert (raised.value.line, raised.value.column) == (1, 23)
    assert "Invalid input 'RETURN'" in str(raised.value)
    assert "a number" in raised.value.expected
    with pytest.raises(CypherSyntaxError, match="backquotes"):
        parse("MATCH (n) RETURN n, match")
    assert expr("`match`") == ast.Variable("match")


def test_errors_found_while_building_the_ast_have_positions():
    with pytest.raises(CypherSyntaxError) as raised:
        parse("RETURN foo(x IN l WHERE x)")
    assert raised.value.line == 1 and raised.value.column is not None
    with pytest.raises(CypherSyntaxError, match="reduce"):
        parse("RETURN reduce(a, x IN l | a)")
    with pytest.raises(CypherSyntaxError, match="comprehension"):
        parse("RETURN [x | 1]")
    with pytest.raises(CypherSyntaxError, match="function name"):
        parse("RETURN [f][0](1)")


def test_parse_is_thread_safe():
    import threading

    texts = [f"MATCH (n) RETURN n.p{i} + {i} AS c{i}, n.q{i}" for i in range(200)]
    failures = []

    def work(chunk):
        for text in chunk:
            items = parse.__wrapped__(text).clauses[1].projection.items
            index = text.split("n.p")[1].split(" ")[0]
            if items[0].text != f"n.p{index} + {index}" or items[1].text != f"n.q{index}":
                failures.append(text)

    threads = [threading.Thread(target=work, args=(texts[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_two_statements_are_refused():
    with pytest.raises(CypherSyntaxError):
        parse("RETURN 1; RETURN 2")


def test_importing_weftdb_does_not_build_the_grammar():
    # `weftdb --help` and the other commands pay for the grammar only when they parse (about half a second).
    code = ("import weftdb, weftdb.query.parser as p; "
            "assert p._lark.cache_info().currsize == 0, 'built at import'; "
            "assert weftdb.open().execute('CALL db.labels()').rows == []")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

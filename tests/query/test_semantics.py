"""Compile-time checks (weftdb/query/semantics.py): each refusal happens
before anything runs (no write is made, even on an empty graph), names the
variable or expression at fault, and sound queries of the same shape pass."""

import pytest
from cypher_helpers import rows, value

from weftdb import CypherArgumentError, CypherSemanticError, CypherTypeError
from weftdb.query import semantics
from weftdb.query.parser import parse


def refused(db, query, *words, error=CypherSemanticError, witness=True):
    """`query` fails at compile time with `error`; its message holds `words`.
    With `witness`, a CREATE in front proves that nothing ran: its node is not
    there afterwards."""
    with pytest.raises(error) as caught:
        semantics.check(parse(query))
    message = str(caught.value)
    for word in words:
        assert word in message, message
    if witness and query.startswith(("MATCH", "RETURN", "WITH", "UNWIND")):
        query = "CREATE (:Witness) WITH 1 AS one " + query
    with pytest.raises(error):
        db.execute(query)
    assert value(db, "MATCH (w:Witness) RETURN count(w)") == 0
    return message


def accepted(query):
    semantics.check(parse(query))


# -- variable kinds (VariableTypeConflict) -----------------------------------------------


@pytest.mark.parametrize("query, name, words", [
    ("MATCH ()-[r]-() MATCH (r) RETURN r", "r", ("a relationship", "as a node")),
    ("MATCH r = ()-[]->() MATCH (r) RETURN r", "r", ("a path", "as a node")),
    ("MATCH (r) MATCH ()-[r]-() RETURN r", "r", ("a node", "as a relationship")),
    ("MATCH ()-[r]-(r) RETURN r", "r", ("a relationship", "a node", "same MATCH pattern")),
    ("MATCH r = ()-[]-(), (r) RETURN r", "r", ("a path", "a node")),
    ("MATCH ()-[r*]-()-[]-(r) RETURN r", "r", ("a list of relationships", "a node")),
    ("WITH 123 AS n MATCH (n) RETURN n", "n", ("an INTEGER",)),
    ("WITH {x: 1} AS r MATCH ()-[r]-() RETURN r", "r", ("a MAP", "a relationship")),
    ("MATCH (n) WITH [n] AS users MATCH (users)-->(m) RETURN m", "users", ("LIST<NODE>",)),
])
def test_a_variable_is_one_kind(db, query, name, words):
    refused(db, query, f"`{name}`", *words)


def test_variables_of_the_right_kind_pass(db):
    db.execute("CREATE (:A)-[:R]->(:B)-[:R]->(:C)")
    assert rows(db, "MATCH (a:A)-[r]->(b) MATCH (b)-[s]->(c) WITH a, r, c MATCH (a)-[r]->() RETURN c") != []
    assert value(db, "WITH null AS n MATCH (n) RETURN count(*)") == 0
    assert value(db, "MATCH (n:A) WITH collect(n) AS ns UNWIND ns AS m MATCH (m)-->(x) RETURN count(x)") == 1


def test_a_relationship_twice_in_one_pattern(db):
    refused(db, "MATCH (a)-[r]->()-[r]->(a) RETURN r", "`r`", "twice")


# -- declaring again (VariableAlreadyBound) ---------------------------------------------


@pytest.mark.parametrize("query, words", [
    ("MATCH (a) CREATE (a)", ("`a`", "already declared")),
    ("MATCH (a) MERGE (a)", ("`a`", "already declared")),
    ("CREATE (n:Foo)-[:T1]->(), (n:Bar)-[:T2]->()", ("`n`", "labels or properties")),
    ("CREATE ()<-[:T2]-(n:Foo), (n:Bar)<-[:T1]-()", ("`n`",)),
    ("CREATE (a:Foo) MERGE (a)-[r:KNOWS]->(a:Bar)", ("`a`", "labels or properties")),
    ("MATCH ()-[r]->() CREATE ()-[r:T]->()", ("`r`", "new relationship")),
    ("WITH [1] AS x UNWIND x AS x RETURN x", ("`x`", "UNWIND")),
    ("MATCH p = ()-->() MATCH p = ()-->() RETURN p", ("`p`", "path variable")),
])
def test_a_name_cannot_be_declared_again(db, query, words):
    refused(db, query, *words)


def test_create_and_merge_may_connect_bound_nodes(db):
    db.execute("CREATE (:A), (:B)")
    db.execute("MATCH (a:A), (b:B) CREATE (a)-[:R]->(b)")
    db.execute("MATCH (a:A), (b:B) MERGE (a)-[:S]->(b)")
    assert value(db, "MATCH (:A)-[r]->(:B) RETURN count(r)") == 2


@pytest.mark.parametrize("query, words", [
    ("CREATE ()-[:A|B]->()", ("exactly one type",)),
    ("CREATE ()-[:R*2]->()", ("variable length",)),
    ("CREATE ()-[:R]-()", ("directed",)),
])
def test_what_create_cannot_make(db, query, words):
    refused(db, query, *words)


# -- undefined variables ---------------------------------------------------------------


@pytest.mark.parametrize("pattern, name", [
    ("(a)", "a"), ("(n)-[r]->(a)", "r"), ("()-[r]->()", "r"), ("(n)-->(a {num: 5})", "a"), ("(n)-[r:REL*0..2]->(a)", "r"),
])
def test_a_pattern_condition_declares_nothing(db, pattern, name):
    hint = ("EXISTS",) if "-" in pattern else ()  # `(a)` alone is a variable in parentheses
    refused(db, f"MATCH (n) WHERE {pattern} RETURN n", f"`{name}` not defined", *hint)


def test_pattern_conditions_over_bound_variables_pass(db):
    db.execute("CREATE (:A)-[:R]->(:B), (:A)")
    assert value(db, "MATCH (a:A), (b:B) WHERE (a)-->(b) RETURN count(*)") == 1
    assert value(db, "MATCH (a:A) WHERE NOT (a)-->() RETURN count(*)") == 1
    assert value(db, "MATCH (a:A) WHERE EXISTS { (a)-[r]->(x:B) } RETURN count(*)") == 1


def test_an_undefined_variable_is_named(db):
    refused(db, "MATCH (n) RETURN m", "Variable `m` not defined")
    refused(db, "MATCH (n) WITH n.x AS x RETURN n", "Variable `n` not defined")


# -- WITH ... WHERE and ORDER BY see the scope before the projection ----------------------


def test_with_where_sees_variables_of_the_scope_before(db):
    db.execute("CREATE (a:A), (b:B {id: 1}), (:B {id: 2}) CREATE (a)-[:T]->(b)")
    query = "MATCH (a:A), (other:B) OPTIONAL MATCH (a)-[r]->(other) WITH other WHERE r IS NULL RETURN other.id"
    assert rows(db, query) == [(2,)]
    assert rows(db, "MATCH (b:B) WITH b.id AS id WHERE b.id = 1 OR id = 2 RETURN id ORDER BY id") == [(1,), (2,)]
    # and not after it
    refused(db, "MATCH (b:B) WITH b.id AS id WHERE id = 1 RETURN b", "`b` not defined")


def test_after_distinct_only_projected_expressions_are_visible(db):
    db.execute("CREATE ({name: 'A', age: 1}), ({name: 'A', age: 2}), ({name: 'B', age: 3})")
    assert rows(db, "MATCH (a) WITH DISTINCT a.name AS name WHERE a.name = 'B' RETURN name") == [("B",)]
    assert rows(db, "MATCH (a) RETURN DISTINCT a.name AS name ORDER BY a.name DESC") == [("B",), ("A",)]
    refused(db, "MATCH (a) RETURN DISTINCT a.name AS name ORDER BY a.age", "`a` not defined", "DISTINCT")


def test_order_by_after_an_aggregation(db):
    db.execute("CREATE (:P {age: 30})-[:K]->(:P {age: 40}), ({name: 'A'}), ({name: 'A'}), ({name: 'C'})")
    query = "MATCH (me:P)--(you:P) RETURN me.age AS age, count(you.age) AS cnt ORDER BY me.age + count(you.age) DESC"
    assert rows(db, query) == [(40, 1), (30, 1)]
    assert rows(db, "MATCH (n:P) RETURN avg(n.age) AS avg ORDER BY $k + avg(n.age)", {"k": 1}) == [(35.0,)]
    query = "MATCH (a) WHERE a.name IS NOT NULL WITH a.name AS name, count(*) AS cnt ORDER BY a.name + 'C' DESC LIMIT 1 RETURN name, cnt"
    assert rows(db, query) == [("C", 1)]
    refused(db, "MATCH (me)--(you) RETURN count(you.age) AS agg ORDER BY me.age + count(you.age)", "`me` not defined")
    refused(db, "MATCH (me)--(you) RETURN me.age + you.age, count(*) AS c ORDER BY me.age + you.age + count(*)", "Ambiguous")
    refused(db, "MATCH (a) WITH a.x AS x, min(a.y) AS m ORDER BY sum(a.y) RETURN x", "sum(a.y)", "not one of them")
    refused(db, "MATCH (a) RETURN a ORDER BY count(*)", "ORDER BY can aggregate only")


# -- aggregation --------------------------------------------------------------------------


@pytest.mark.parametrize("query, words", [
    ("MATCH (me)--(you) RETURN me.age + you.age, me.age + you.age + count(*)", ("Ambiguous", "`me`")),
    ("MATCH (me)--(you) WITH me.age + you.age AS g, me.age + you.age + count(*) AS a RETURN *", ("Ambiguous",)),
    ("MATCH (n) RETURN n.x, n.y + count(*)", ("Ambiguous", "`n`")),
    ("RETURN count(rand())", ("rand()",)),
    ("MATCH (n) RETURN [x IN [1, 2, 3] | count(*)]", ("list comprehension",)),
    ("MATCH (n) RETURN count(count(n))", ("nested",)),
    ("MATCH (n) WHERE count(n) > 1 RETURN n", ("WITH, RETURN and ORDER BY",)),
    ("MATCH (n) WITH n, count(*) AS c WHERE count(*) > 1 RETURN n", ("not allowed in WHERE",)),
])
def test_aggregates_where_they_cannot_be(db, query, words):
    refused(db, query, *words)


def test_sound_aggregations_pass(db):
    db.execute("CREATE ({x: 1, y: 2}), ({x: 1, y: 3})")
    assert rows(db, "MATCH (n) RETURN n.x, n.x + count(*) AS c") == [(1, 3)]
    assert value(db, "MATCH (n) WITH n, count(*) AS c RETURN sum(c)") == 2
    assert value(db, "MATCH (n) RETURN [x IN collect(n.y) | x * 2]") == [4, 6]
    assert rows(db, "MATCH (n) RETURN n {.x, ys: collect(n.y)} AS m") != []


# -- types the text fixes (InvalidArgumentType) ------------------------------------------------


@pytest.mark.parametrize("query, words", [
    ("RETURN 123 AND true", ("AND", "`123`", "INTEGER")),
    ("RETURN true OR 'foo'", ("OR", "STRING")),
    ("RETURN false XOR [1]", ("XOR", "LIST<INTEGER>")),
    ("RETURN null AND {x: []}", ("AND", "MAP")),
    ("RETURN NOT 0", ("NOT", "INTEGER")),
    ("RETURN NOT {a: 1}", ("NOT", "MAP")),
    ("RETURN 1 IN 'foo'", ("IN", "STRING")),
    ("RETURN none(x IN ['Clara'] WHERE x % 2 = 0)", ("%", "`x`", "STRING")),
    ("RETURN all(x IN [false, true] WHERE x % 2 = 0)", ("BOOLEAN",)),
    ("MATCH p = (a) RETURN labels(p)", ("labels()", "path")),
    ("MATCH (r) RETURN type(r)", ("type()", "a node")),
    ("RETURN properties(1)", ("properties()", "INTEGER")),
    ("MATCH p = (a)-[*]->(b) RETURN size(p)", ("size()", "path")),
    ("MATCH (n) RETURN length(n)", ("length()", "node")),
    ("MATCH ()-[r]->() RETURN length(r)", ("length()", "relationship")),
    ("MATCH (n) MATCH r = (n)-[*]->() WHERE r.name = 'apa' RETURN r", ("path", "no properties")),
    ("MATCH (n) WHERE (n) RETURN n", ("WHERE needs a boolean", "node")),
    ("MATCH (n) WHERE 1 RETURN n", ("WHERE needs a boolean",)),
    ("RETURN [x IN 5 | x]", ("LIST", "INTEGER")),
    ("RETURN 'a' - 1", ("-", "STRING")),
    ("MATCH ()-[r]->() SET r:Label", ("only nodes have labels",)),
])
def test_arguments_of_the_wrong_type(db, query, words):
    refused(db, query, *words)


def test_property_of_a_value_that_is_no_map_is_a_type_error(db):
    refused(db, "WITH 123 AS x RETURN x.num", "`num`", "INTEGER", error=CypherTypeError)


def test_values_of_unknown_type_are_left_to_runtime(db):
    db.execute("CREATE ({flag: true, n: 4, s: 'x', list: [1, 2]})")
    assert value(db, "MATCH (n) WHERE n.flag RETURN count(*)") == 1
    assert value(db, "MATCH (n) RETURN NOT n.flag") is False
    assert value(db, "MATCH (n) RETURN n.n % 3") == 1
    assert value(db, "MATCH (n) RETURN 2 IN n.list") is True
    assert value(db, "RETURN $a AND $b", {"a": True, "b": False}) is False
    assert value(db, "RETURN null AND null") is None
    assert value(db, "RETURN any(x IN [1, 2] WHERE x % 2 = 0)") is True
    assert value(db, "RETURN date('2024-01-02') - duration('P1D') = date('2024-01-01')") is True
    assert value(db, "UNWIND [true, false] AS b WITH b WHERE b RETURN count(*)") == 1


# -- patterns as values (UnexpectedSyntax) ------------------------------------------------


@pytest.mark.parametrize("query", [
    "MATCH (n) RETURN (n)-[]->()",
    "MATCH (n) WITH (n)-[]->() AS x RETURN x",
    "MATCH (n) SET n.prop = head(nodes(head((n)-[:REL]->()))).foo",
    "MATCH (a) RETURN size((a)-->())",
])
def test_a_pattern_is_a_condition_not_a_value(db, query):
    refused(db, query, "can only be used as a condition", "pattern comprehension")


def test_pattern_comprehensions_and_exists_are_values(db):
    db.execute("CREATE (:A)-[:R]->(:B)")
    assert value(db, "MATCH (a:A) RETURN size([(a)-->(b) | b])") == 1
    assert value(db, "MATCH (a:A) RETURN exists((a)-->())") is True
    assert value(db, "MATCH (a:A) RETURN CASE WHEN (a)-->() THEN 'out' ELSE 'none' END") == "out"


# -- DELETE, projections, SKIP and LIMIT ------------------------------------------------------


def test_delete_takes_nodes_relationships_and_paths(db):
    refused(db, "MATCH (n) DELETE n:Person", "REMOVE n:Person")
    refused(db, "MATCH () DELETE 1 + 1", "`1 + 1`", "INTEGER")


@pytest.mark.parametrize("query, words", [
    ("MATCH (a) WITH a, count(*) RETURN a", ("needs an alias", "count(*) AS")),
    ("RETURN 1 AS a, 2 AS a", ("`a`", "AS")),
    ("MATCH () RETURN *", ("RETURN *", "no")),
    ("MATCH (n) RETURN n SKIP n.count", ("SKIP", "`n`")),
    ("MATCH (n) RETURN n LIMIT -1", ("LIMIT", "-1")),
    ("MATCH (n) RETURN n LIMIT 1.5", ("LIMIT", "FLOAT")),
    ("MATCH (n $param) RETURN n", ("parameter",)),
])
def test_projection_rules(db, query, words):
    refused(db, query, *words, witness="*" not in query)


def test_with_star_may_carry_nothing(db):
    db.execute("CREATE ()")
    db.execute("MATCH () CREATE () WITH * CREATE ()")
    assert value(db, "MATCH (n) RETURN count(n)") == 3


# -- argument errors -------------------------------------------------------------


@pytest.mark.parametrize("query, words", [
    ("RETURN range(2, 8, 0)", ("step",)),
    ("RETURN range(0, 'xyz')", ("INTEGER", "STRING")),
    ("RETURN range(0, 1.5)", ("INTEGER", "FLOAT")),
    ("RETURN left('abc', -1)", ("negative",)),
    ("UNWIND [1] AS x RETURN percentileDisc(x, 1.5)", ("between 0.0 and 1.0",)),
])
def test_arguments_out_of_their_domain(db, query, words):
    with pytest.raises(CypherArgumentError) as caught:
        db.execute(query)
    for word in words:
        assert word in str(caught.value)
    assert CypherArgumentError.code == "Neo.ClientError.Statement.ArgumentError"


# -- what this module does not know ---------------------------------------------------------


def test_unknown_clauses_and_expressions_are_left_to_the_planner():
    from weftdb.query import ast

    class Future(ast.Clause):
        __slots__ = ()

    query = ast.SingleQuery((Future(), ast.Return(ast.Projection((ast.ReturnItem(ast.Variable("x"), None, "x"),)))))
    semantics.check(query)  # `x` may come from the clause this module does not know

    class FutureExpr(ast.Expr):
        __slots__ = ()

    item = ast.ReturnItem(ast.UnaryOp("not", FutureExpr()), None, "x")
    semantics.check(ast.SingleQuery((ast.Return(ast.Projection((item,))),)))
    accepted("MATCH (n) RETURN n")

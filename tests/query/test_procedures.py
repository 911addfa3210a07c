"""The procedure framework: CALL's rules, signatures, user procedures and
functions, their modes and errors."""

import pytest

import weftdb
from weftdb import ClientError, CypherSemanticError, CypherTypeError, ParameterMissing
from weftdb.basics.errors import AccessModeError, ProcedureError, UnknownProcedureError
from weftdb.query.procedures import NO_DEFAULT, parse_signature, parse_type


@pytest.fixture
def db():
    with weftdb.open(None) as database:
        database.execute("CREATE (:Person {name: 'Ann'})-[:KNOWS]->(:Person {name: 'Bob'})")
        yield database


@pytest.fixture
def numbers(db):
    @db.procedure("test.range(low :: INTEGER, high = 3 :: INTEGER) :: (n :: INTEGER, square :: INTEGER)")
    def numbers(ctx, low, high):
        """Numbers from low to high with their squares."""
        for n in range(low, high + 1):
            yield {"n": n, "square": n * n}

    return numbers


# ---------------------------------------------------------------- signatures


def test_signature_with_types_and_defaults_in_either_order():
    parsed = parse_signature("my.proc(a :: INTEGER?, b = 'x' :: STRING, c :: LIST<MAP> = [{k: 1}]) :: (out :: LIST OF STRING?)")
    assert parsed.name == "my.proc"
    assert [(p.name, p.type.text(), p.default) for p in parsed.parameters] == [
        ("a", "INTEGER", NO_DEFAULT), ("b", "STRING", "x"), ("c", "LIST<MAP>", [{"k": 1}])]
    assert [(c.name, c.type.text("memgraph")) for c in parsed.columns] == [("out", "LIST OF STRING")]
    assert parse_signature("test.doNothing() :: ()").columns == ()
    assert parse_signature("f.g(x :: NUMBER) :: FLOAT", function=True).returns.name == "FLOAT"


@pytest.mark.parametrize("text, message", [
    ("no_parentheses", "parentheses"),
    ("p(a :: INTEGER = 1, b :: INTEGER)", "without a default follows"),
    ("p(a :: WIDGET)", "Unknown type `WIDGET`"),
    ("p(a :: INTEGER, a :: STRING)", "twice"),
    ("p(a = n.x :: INTEGER)", "not a literal"),
    ("p() :: out :: INTEGER", "parentheses"),
])
def test_bad_signatures_say_what_is_wrong(text, message):
    with pytest.raises(CypherSemanticError, match=message):
        parse_signature(text)


def test_types_accept_and_convert():
    assert parse_type("FLOAT").coerce(42) == 42.0 and type(parse_type("FLOAT").coerce(42)) is float
    assert parse_type("NUMBER").accepts(1) and parse_type("NUMBER").accepts(1.5) and not parse_type("NUMBER").accepts("1")
    assert parse_type("LIST<INTEGER>").accepts([1, 2]) and not parse_type("LIST<INTEGER>").accepts([1, "2"])
    assert parse_type("INTEGER").accepts(None)  # every argument may be null


# ---------------------------------------------------------------- CALL


def test_standalone_call_returns_every_column(db, numbers):
    result = db.execute("CALL test.range(1)")
    assert result.columns == ["n", "square"]
    assert result.rows == [(1, 1), (2, 4), (3, 9)]


def test_yield_renames_filters_and_feeds_the_query(db, numbers):
    result = db.execute("CALL test.range(1, 5) YIELD square AS s, n WHERE n % 2 = 1 RETURN n, s ORDER BY n DESC")
    assert result.rows == [(5, 25), (3, 9), (1, 1)]
    rows = db.execute("UNWIND [1, 2] AS low CALL test.range(low, 2) YIELD n RETURN low, collect(n) AS ns ORDER BY low")
    assert rows.rows == [(1, [1, 2]), (2, [2])]


def test_standalone_yield_star_and_yield_where(db, numbers):
    assert db.execute("CALL test.range(2, 3) YIELD *").rows == [(2, 4), (3, 9)]
    assert db.execute("CALL test.range(1) YIELD n WHERE n > 2").rows == [(3,)]


def test_call_without_parentheses_takes_the_parameters(db, numbers):
    assert db.execute("CALL test.range", {"low": 2}).rows == [(2, 4), (3, 9)]
    with pytest.raises(ParameterMissing, match=r"\$low"):
        db.execute("CALL test.range")


def test_call_ending_a_query_returns_its_columns(db, numbers):
    assert db.execute("WITH 2 AS low CALL test.range(low)").rows == [(2, 4), (3, 9)]


@pytest.mark.parametrize("query, message", [
    ("CALL test.range(1) RETURN 1", "naming results implicitly"),
    ("CALL test.range(1) YIELD * RETURN n", r"YIELD \* is only allowed"),
    ("WITH 1 AS n CALL test.range(1) YIELD n RETURN n", "already declared"),
    ("CALL test.range(1) YIELD n, square AS n RETURN n", "already declared"),
    ("CALL test.range(1) YIELD nope RETURN nope", "Unknown procedure output: `nope`"),
    ("CALL test.range()", "does not take 0 arguments: it takes 1 to 2"),
    ("CALL test.range(1, 2, 3)", "does not take 3 arguments"),
    ("CALL test.range('one')", "must be INTEGER, not STRING"),
    ("MATCH (n) CALL test.range(count(n)) YIELD n AS m RETURN m", "Aggregation"),
    ("MATCH (p) CALL test.range YIELD n RETURN n", "passing arguments implicitly"),
])
def test_calls_checked_before_anything_runs(db, numbers, query, message):
    with pytest.raises(CypherSemanticError, match=message):
        db.execute(query)


def test_argument_of_the_wrong_type_at_run_time(db, numbers):
    with pytest.raises(CypherTypeError, match="`low` of `test.range` must be INTEGER, not STRING"):
        db.execute("CALL test.range($low)", {"low": "1"})


def test_unknown_procedure_is_procedure_not_found(db):
    with pytest.raises(UnknownProcedureError) as raised:
        db.execute("CALL no.such.procedure()")
    assert raised.value.code == "Neo.ClientError.Procedure.ProcedureNotFound"
    assert isinstance(raised.value, ProcedureError)
    with pytest.raises(UnknownProcedureError, match="Did you mean `db.labels`"):
        db.execute("CALL DB.LABELS()")


def test_void_procedure_keeps_the_rows(db):
    calls = []

    @db.procedure("test.note(x :: ANY)")
    def note(ctx, x):
        calls.append(x)

    result = db.execute("MATCH (p:Person) CALL test.note(p.name) RETURN p.name ORDER BY p.name")
    assert result.rows == [("Ann",), ("Bob",)]
    assert sorted(calls) == ["Ann", "Bob"]
    assert db.execute("CALL test.note(1)").columns == []


def test_procedures_see_and_return_nodes(db):
    @db.procedure("test.friends(person :: NODE) :: (friend :: NODE)")
    def friends(ctx, person):
        found = ctx.execute("MATCH (p)-[:KNOWS]-(f) WHERE id(p) = $id RETURN f", {"id": person.id})
        for (friend,) in found:
            yield {"friend": friend}

    rows = db.execute("MATCH (a:Person {name: 'Ann'}) CALL test.friends(a) YIELD friend "
                      "MATCH (friend)<-[:KNOWS]-(back) RETURN friend.name, back.name").rows
    assert rows == [("Bob", "Ann")]


# ---------------------------------------------------------------- modes and errors


def test_write_procedure_writes_through_the_transaction(tmp_path):
    with weftdb.open(str(tmp_path)) as db:
        @db.procedure("test.make(name :: STRING) :: (node :: NODE)", mode="write")
        def make(ctx, name):
            node = ctx.create_node(["Made"], {"name": name})
            ctx.set_property(node, "n", 1)
            return [{"node": node}]

        result = db.execute("CALL test.make('x') YIELD node RETURN node.name, node.n")
        assert result.rows == [("x", 1)]
        assert result.counters == {"nodes-created": 1, "labels-added": 1, "properties-set": 2}
        assert result.query_type == "rw"
    with weftdb.open(str(tmp_path), storage_snapshot_on_exit=False) as db:  # back from the WAL
        assert db.execute("MATCH (m:Made) RETURN m.name, m.n").rows == [("x", 1)]


def test_read_procedure_cannot_write(db):
    @db.procedure("test.sneaky() :: (ok :: BOOLEAN)")
    def sneaky(ctx):
        ctx.create_node(["Sneaky"])
        return [{"ok": True}]

    with pytest.raises(ProcedureError, match="declared READ and cannot write"):
        db.execute("CALL test.sneaky()")
    assert db.execute("MATCH (s:Sneaky) RETURN count(s)").single() == 0


def test_read_only_transaction_refuses_writes(db):
    @db.procedure("test.touch()", mode="write")
    def touch(ctx):
        ctx.create_node(["Touched"])

    with db.begin(read_only=True) as tx:
        assert tx.execute("CALL db.labels()").rows == [("Person",)]
        with pytest.raises(AccessModeError, match="read access mode"):
            tx.execute("CALL test.touch()")
    with pytest.raises(AccessModeError):
        db.execute("CREATE (:X)", read_only=True)
    with pytest.raises(AccessModeError) as raised:
        db.execute("CALL test.touch()", read_only=True)
    assert raised.value.code == "Neo.ClientError.Statement.AccessMode"
    db.execute("CALL test.touch()")
    assert db.execute("MATCH (t:Touched) RETURN count(t)").single() == 1


def test_errors_in_a_procedure_are_procedure_errors_and_roll_back(db):
    @db.procedure("test.fail(after :: INTEGER) :: (n :: INTEGER)", mode="write")
    def fail(ctx, after):
        ctx.create_node(["Partial"])
        for n in range(after):
            yield {"n": n}
        raise ValueError("out of numbers")

    with pytest.raises(ProcedureError) as raised:
        db.execute("CALL test.fail(2)")
    assert raised.value.code == "Neo.ClientError.Procedure.ProcedureCallFailed"
    assert "Failed to invoke procedure `test.fail`: Caused by: ValueError: out of numbers" in str(raised.value)
    assert db.execute("MATCH (p:Partial) RETURN count(p)").single() == 0  # rolled back
    assert db.execute("RETURN 1 AS one").single() == 1  # and the database goes on


def test_records_must_fit_the_signature(db):
    @db.procedure("test.bad(kind :: STRING) :: (n :: INTEGER)")
    def bad(ctx, kind):
        return {"extra": [{"n": 1, "m": 2}], "type": [{"n": "one"}], "width": [(1, 2)], "exit": SystemExit(3)}.get(kind)

    with pytest.raises(ProcedureError, match="returned the column `m`"):
        db.execute("CALL test.bad('extra')")
    with pytest.raises(ProcedureError, match="returned STRING in the column `n`, declared INTEGER"):
        db.execute("CALL test.bad('type')")
    with pytest.raises(ProcedureError, match="2 values for its 1 columns"):
        db.execute("CALL test.bad('width')")


def test_register_unregister_and_replace(db):
    @weftdb.procedure("mine.one() :: (x :: INTEGER)", description="Gives one.")
    def one(ctx):
        yield (1,)

    proc = db.procedures.register(one)
    assert proc.description == "Gives one." and proc.mode == "READ"
    assert db.execute("CALL mine.one()").single() == 1
    db.procedures.register(lambda ctx: [(2,)], "mine.one() :: (x :: INTEGER)")  # replaces, and the plan is forgotten
    assert db.execute("CALL mine.one()").single() == 2
    assert db.procedures.unregister("mine.one")
    with pytest.raises(UnknownProcedureError):
        db.execute("CALL mine.one()")
    with pytest.raises(ValueError, match="built-in procedure"):
        db.procedures.register(lambda ctx: [], "db.labels() :: (label :: STRING)")
    with pytest.raises(ValueError, match="no signature"):
        db.procedures.register(lambda ctx: [])
    with pytest.raises(ValueError, match="mode must be one of"):
        weftdb.procedure("x.y()", mode="sometimes")


def test_procedures_belong_to_their_database(db):
    @db.procedure("only.here() :: (x :: INTEGER)")
    def here(ctx):
        return [(1,)]

    with weftdb.open(None) as other:
        with pytest.raises(UnknownProcedureError):
            other.execute("CALL only.here()")


# ---------------------------------------------------------------- user functions


def test_user_functions_in_expressions(db):
    @db.function("str.shout(text :: STRING, times = 1 :: INTEGER) :: STRING")
    def shout(text, times):
        return None if text is None else text.upper() + "!" * times

    rows = db.execute("MATCH (p:Person) WHERE str.shout(p.name) = 'ANN!' RETURN str.shout(p.name, 3) AS s, "
                      "STR.SHOUT(null) AS n").rows
    assert rows == [("ANN!!!", None)]
    with pytest.raises(CypherSemanticError, match="does not take 3 arguments"):
        db.execute("RETURN str.shout('a', 1, 2)")


def test_user_function_errors_and_types(db):
    @db.function("my.div(a :: INTEGER, b :: INTEGER) :: INTEGER")
    def div(a, b):
        return a // b

    @db.function("my.wrong() :: INTEGER")
    def wrong():
        return "text"

    with pytest.raises(ProcedureError, match="Failed to invoke function `my.div`: Caused by: ZeroDivisionError"):
        db.execute("RETURN my.div(1, 0)")
    with pytest.raises(ProcedureError, match="returned STRING, declared INTEGER"):
        db.execute("RETURN my.wrong()")
    with pytest.raises(ValueError, match="function of Cypher itself"):
        db.procedures.register_function(lambda x: x, "toUpper(x :: STRING) :: STRING")
    with pytest.raises(CypherSemanticError, match="Unknown function"):
        db.execute("RETURN no.such.function(1)")


def test_functions_cannot_write(db):
    @weftdb.function("my.make() :: ANY")
    def make():
        return None

    db.procedures.register(make)
    assert db.execute("RETURN my.make() AS x").single() is None


# ---------------------------------------------------------------- listings


def test_show_procedures_in_neo4j_shape(db, numbers):
    result = db.execute("SHOW PROCEDURES")
    assert result.columns == ["name", "description", "mode", "worksOnSystem"]
    names = [row[0] for row in result]
    assert {"db.labels", "dbms.components", "apoc.merge.node", "test.range", "mg.procedures"} <= set(names)
    assert names == sorted(names) and not any(name.startswith("weftdb.listing") for name in names)
    row = db.execute("SHOW PROCEDURES YIELD name, signature, mode, argumentDescription WHERE name = 'test.range' "
                     "RETURN *").data()[0]
    assert row["signature"] == "test.range(low :: INTEGER, high = 3 :: INTEGER) :: (n :: INTEGER, square :: INTEGER)"
    assert row["mode"] == "READ"
    assert [a["name"] for a in row["argumentDescription"]] == ["low", "high"]
    limited = db.execute("SHOW PROCEDURES YIELD name ORDER BY name DESC SKIP 1 LIMIT 2 RETURN name")
    assert [r[0] for r in limited] == sorted(names, reverse=True)[1:3]
    filtered = db.execute("SHOW PROCEDURES WHERE name STARTS WITH 'db.' AND mode = 'READ'")
    assert [r[0] for r in filtered] == [n for n in names if n.startswith("db.")]


def test_show_functions(db):
    @db.function("my.twice(x :: INTEGER) :: INTEGER")
    def twice(x):
        return 2 * x

    result = db.execute("SHOW FUNCTIONS")
    assert result.columns == ["name", "category", "description"]
    names = {row[0] for row in result}
    assert {"toUpper", "count", "date.truncate", "apoc.any.property", "my.twice"} <= names
    user = db.execute("SHOW USER DEFINED FUNCTIONS YIELD name, isBuiltIn RETURN name, isBuiltIn").rows
    assert user == [("my.twice", False)]
    builtin = {row[0] for row in db.execute("SHOW BUILT IN FUNCTIONS YIELD name")}
    assert "my.twice" not in builtin and "toUpper" in builtin


def test_listings_run_inside_transactions(db):
    with db.begin() as tx:
        assert tx.execute("SHOW PROCEDURES YIELD name WHERE name = 'db.labels' RETURN name").rows == [("db.labels",)]


def test_dbms_and_mg_listings(db, numbers):
    row = db.execute("CALL dbms.procedures() YIELD name, signature, mode WHERE name = 'test.range' RETURN *").data()
    assert row == [{"name": "test.range", "mode": "READ",
                    "signature": "test.range(low :: INTEGER, high = 3 :: INTEGER) :: (n :: INTEGER, square :: INTEGER)"}]
    mg = db.execute("CALL mg.procedures() YIELD * ").data()
    found = {r["name"]: r for r in mg}
    assert found["apoc.merge.node"]["is_write"] is True and found["db.labels"]["is_write"] is False
    assert found["test.range"]["is_editable"] is True and found["db.labels"]["is_editable"] is False
    assert found["db.labels"]["signature"] == "db.labels() :: (label :: STRING)"
    assert db.execute("CALL dbms.functions() YIELD name WHERE name = 'apoc.any.property' RETURN name").rows


def test_mg_signatures_read_as_gqlalchemy_reads_them(db):
    """gqlalchemy's QueryModule splits a signature at '(', ')', ', ' and ' :: '."""
    for name, signature in db.execute("CALL mg.procedures() YIELD name, signature"):
        end = signature.index(")")
        for part in signature[signature.index("(") + 1:end].split(", "):
            if part:
                assert len(part.split(" :: ")) == 2, (name, part)
        returns = signature[signature.index("(", end) + 1: signature.index(")", end + 1)]
        for part in returns.split(", "):
            if part:
                assert len(part.split(" :: ")) == 2, (name, part)


def test_a_client_error_is_a_client_error(db):
    with pytest.raises(ClientError):
        db.execute("CALL nope()")

"""--query-modules-directory: Python files of procedures and functions,
WeftDB's decorators and Memgraph's mgp API, loaded at start and by
mg.load_all() / mg.load()."""

import textwrap

import pytest

import weftdb
from weftdb.basics.config import ConfigError
from weftdb.basics.errors import ProcedureError, UnknownProcedureError

GREET = '''
import weftdb

@weftdb.procedure("hello(name :: STRING) :: (greeting :: STRING)")
def hello(ctx, name):
    """Greets someone."""
    yield {"greeting": f"Hello, {name}!"}

@weftdb.procedure("people.add(name :: STRING) :: (node :: NODE)", mode="write")
def add(ctx, name):
    return [{"node": ctx.create_node(["Person"], {"name": name})}]

@weftdb.function("shout(text :: STRING) :: STRING")
def shout(text):
    return text.upper()
'''

MEMGRAPH = '''
import mgp

@mgp.read_proc
def degree(ctx: mgp.ProcCtx, label: str, minimum: int = 0) -> mgp.Record(node=mgp.Vertex, degree=int):
    out = []
    for vertex in ctx.graph.vertices:
        if label in [l.name for l in vertex.labels]:
            found = len(list(vertex.out_edges)) + len(list(vertex.in_edges))
            if found >= minimum:
                out.append(mgp.Record(node=vertex, degree=found))
    return out

@mgp.write_proc
def link(ctx: mgp.ProcCtx, a: mgp.Vertex, b: mgp.Vertex, kind: str) -> mgp.Record(edge=mgp.Edge):
    edge = ctx.graph.create_edge(a, b, mgp.EdgeType(kind))
    edge.properties.set("made", True)
    b.add_label("Linked")
    return mgp.Record(edge=edge)

@mgp.read_proc
def sneaky(ctx: mgp.ProcCtx) -> mgp.Record(ok=bool):
    ctx.graph.create_vertex()
    return mgp.Record(ok=True)

@mgp.read_proc
def names(ctx: mgp.ProcCtx, nodes: mgp.List[mgp.Vertex], default: mgp.Nullable[str] = None) -> mgp.Record(name=str):
    return [mgp.Record(name=v.properties.get("name", default)) for v in nodes]

@mgp.function
def double(ctx: mgp.FuncCtx, x: mgp.Number):
    return 2 * x

@mgp.read_proc
def boom(ctx: mgp.ProcCtx) -> mgp.Record(x=int):
    raise RuntimeError("kaboom")
'''


def write(directory, name, text):
    (directory / f"{name}.py").write_text(textwrap.dedent(text))


@pytest.fixture
def modules(tmp_path):
    directory = tmp_path / "modules"
    directory.mkdir()
    write(directory, "greet", GREET)
    write(directory, "graph", MEMGRAPH)
    return directory


@pytest.fixture
def db(modules):
    with weftdb.open(None, query_modules_directory=str(modules)) as database:
        database.execute("CREATE (:P {name: 'a'})-[:K]->(:P {name: 'b'})")
        yield database


def test_weftdb_modules_are_named_after_their_file(db, modules):
    assert db.execute("CALL greet.hello('Ann')").rows == [("Hello, Ann!",)]
    assert db.execute("RETURN greet.shout('hey') AS s").single() == "HEY"
    result = db.execute("CALL people.add('Bo') YIELD node RETURN node.name")  # a namespace of its own
    assert result.rows == [("Bo",)] and result.counters["nodes-created"] == 1
    listed = {row[0]: row for row in db.execute("CALL mg.procedures() YIELD name, path, is_write, is_editable")}
    assert listed["greet.hello"][1:] == (str(modules / "greet.py"), False, True)
    assert listed["people.add"][2] is True
    assert db.execute("SHOW PROCEDURES YIELD name, description WHERE name = 'greet.hello'").rows == [
        ("greet.hello", "Greets someone.")]


def test_memgraph_modules_load_unchanged(db):
    rows = db.execute("CALL graph.degree('P') YIELD node, degree RETURN node.name, degree ORDER BY node.name").rows
    assert rows == [("a", 1), ("b", 1)]
    assert db.execute("CALL graph.degree('P', 5) YIELD degree RETURN count(*)").single() == 0
    result = db.execute("MATCH (a {name: 'a'}), (b {name: 'b'}) CALL graph.link(a, b, 'L') YIELD edge "
                        "RETURN type(edge), edge.made, startNode(edge).name")
    assert result.rows == [("L", True, "a")]
    assert result.counters == {"relationships-created": 1, "properties-set": 1, "labels-added": 1}
    assert db.execute("MATCH (n:Linked) RETURN n.name").rows == [("b",)]
    assert db.execute("MATCH (n:P) WITH n ORDER BY n.name WITH collect(n) AS ns CALL graph.names(ns, 'x') YIELD name RETURN collect(name)"
                      ).single() == ["a", "b"]
    assert db.execute("RETURN graph.double(2.5) AS d, graph.double(2) AS i").rows == [(5.0, 4)]
    signature = db.execute("CALL mg.procedures() YIELD name, signature WHERE name = 'graph.degree' RETURN signature")
    assert signature.single() == "graph.degree(label :: STRING, minimum = 0 :: INTEGER) :: (node :: NODE, degree :: INTEGER)"


def test_a_read_proc_that_writes_is_refused(db):
    with pytest.raises(ProcedureError, match="cannot write"):
        db.execute("CALL graph.sneaky()")
    assert db.execute("MATCH (n) RETURN count(n)").single() == 2


def test_module_errors_reach_the_caller_and_the_database_goes_on(db):
    with pytest.raises(ProcedureError, match="Failed to invoke procedure `graph.boom`: Caused by: RuntimeError: kaboom"):
        db.execute("CALL graph.boom()")
    assert db.execute("CALL greet.hello('again')").single() == "Hello, again!"


def test_load_all_picks_up_new_changed_and_removed_files(db, modules):
    write(modules, "greet", GREET.replace("Hello", "Hi"))
    write(modules, "extra", '''
        import weftdb

        @weftdb.procedure("one() :: (x :: INTEGER)")
        def one(ctx):
            return [(1,)]
    ''')
    (modules / "graph.py").unlink()
    assert db.execute("CALL greet.hello('Ann')").single() == "Hello, Ann!"  # until reloaded
    db.execute("CALL mg.load_all()")
    assert db.execute("CALL greet.hello('Ann')").single() == "Hi, Ann!"
    assert db.execute("CALL extra.one()").single() == 1
    with pytest.raises(UnknownProcedureError):
        db.execute("CALL graph.boom()")
    with pytest.raises(Exception, match="Unknown function"):
        db.execute("RETURN graph.double(1)")


def test_load_one_module(db, modules):
    write(modules, "greet", GREET.replace("Hello", "Hey"))
    db.execute("CALL mg.load('greet')")
    assert db.execute("CALL greet.hello('Ann')").single() == "Hey, Ann!"
    with pytest.raises(ProcedureError, match="no query module `nope`"):
        db.execute("CALL mg.load('nope')")


def test_a_broken_module_is_reported_and_the_old_version_stays(db, modules):
    write(modules, "greet", "import weftdb\n\ndef broken(:\n")
    with pytest.raises(ProcedureError, match=r"greet\.py: SyntaxError"):
        db.execute("CALL mg.load_all()")
    assert db.execute("CALL greet.hello('Ann')").single() == "Hello, Ann!"
    assert db.execute("CALL graph.degree('P') YIELD degree RETURN count(*)").single() == 2  # the others loaded
    with pytest.raises(ProcedureError, match="could not be loaded"):
        db.execute("CALL mg.load('greet')")


def test_a_module_that_fails_at_start_is_a_warning(tmp_path, caplog):
    write(tmp_path, "bad", "raise ImportError('needs numpy')\n")
    write(tmp_path, "good", GREET)
    with weftdb.open(None, query_modules_directory=str(tmp_path)) as db:
        assert db.execute("CALL good.hello('x')").single() == "Hello, x!"
    assert "bad.py: ImportError: needs numpy" in caplog.text


def test_the_directory_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="--query-modules-directory=.*is not a directory"):
        weftdb.open(None, query_modules_directory=str(tmp_path / "missing"))


def test_without_a_directory_mg_load_all_says_so():
    with weftdb.open(None) as db:
        with pytest.raises(ProcedureError, match="No query modules directory is configured"):
            db.execute("CALL mg.load_all()")


def test_several_directories(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    first.mkdir()
    second.mkdir()
    write(first, "greet", GREET)
    write(second, "greet", GREET.replace("Hello", "Ignored"))
    write(second, "graph", MEMGRAPH)
    with weftdb.open(None, query_modules_directory=f"{first}, {second}") as db:
        assert db.execute("CALL greet.hello('A')").single() == "Hello, A!"  # the first directory wins a name
        assert db.execute("RETURN graph.double(1) AS d").single() == 2

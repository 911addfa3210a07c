"""The shell's pieces without an engine: statement splitting, value
printing, and the non-interactive loop driven by a stand-in database."""

import datetime
import io
import threading

import pytest

from weftdb.basics.errors import CypherSyntaxError
from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time
from weftdb.cli.shell import Shell, execute, format_value
from weftdb.query.results import Node, Path, Relationship
from weftdb.query.script import Statement, is_complete, split_statements


def texts(source):
    return [s.text for s in split_statements(source)]


class TestSplitStatements:
    def test_cuts_at_semicolons_and_drops_empty_pieces(self):
        assert texts("RETURN 1; ;\n RETURN 2 ;") == ["RETURN 1", "RETURN 2"]

    def test_semicolons_inside_strings_and_names_do_not_cut(self):
        source = """RETURN 'a;b', "c;\\"d", `e;f`;"""
        assert texts(source) == ["""RETURN 'a;b', "c;\\"d", `e;f`"""]

    def test_escaped_quote_does_not_end_the_string(self):
        assert texts(r"RETURN 'it\'s; fine'; RETURN 2;") == [r"RETURN 'it\'s; fine'", "RETURN 2"]

    def test_comments_become_blanks_and_keep_lines(self):
        source = "// intro; with a semicolon\nRETURN /* a;\nb */ 1;\n"
        [statement] = split_statements(source)
        assert statement.text.split() == ["RETURN", "1"]
        assert statement.text.count("\n") == 1
        assert statement.line == 2

    def test_comment_markers_inside_strings_are_text(self):
        assert texts("RETURN 'http://x' AS u;") == ["RETURN 'http://x' AS u"]

    def test_line_numbers_point_at_the_first_code_line(self):
        source = "RETURN 1;\n\n\n  MATCH (n)\n  RETURN n;\nRETURN 3;"
        assert [s.line for s in split_statements(source)] == [1, 4, 6]

    def test_last_statement_without_semicolon_is_unterminated(self):
        assert split_statements("RETURN 1; RETURN 2") == [
            Statement("RETURN 1", 1, True),
            Statement("RETURN 2", 1, False),
        ]

    @pytest.mark.parametrize(
        "source, complete",
        [
            ("", True),
            ("RETURN 1;", True),
            ("RETURN 1; // trailing comment", True),
            ("MATCH (n)\n", False),
            ("RETURN 'open;", False),
            ("RETURN 1; /* open comment", False),
            ("RETURN `open;", False),
            ("RETURN 'a\\';", False),  # the quote is escaped: the string goes on
            ("RETURN 'a\\\\';", True),  # an escaped backslash, then the closing quote
            ("RETURN `a``b`;", True),
            ("RETURN 1; /*/;", False),
            ("RETURN 1 // no end;", False),
        ],
    )
    def test_is_complete(self, source, complete):
        assert is_complete(source) is complete


class TestFormatValue:
    @pytest.mark.parametrize(
        "value, text",
        [
            (None, "null"),
            (True, "true"),
            (3, "3"),
            (2.5, "2.5"),
            (float("nan"), "NaN"),
            ("a\"b", '"a\\"b"'),
            ([1, "x", None], '[1, "x", null]'),
            ({"k": 1, "two words": [True]}, "{k: 1, `two words`: [true]}"),
            (datetime.date(2024, 2, 29), "2024-02-29"),
            (datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc), "2024-01-02T03:04:05+00:00"),
            (Duration(months=14, days=3, seconds=5, nanoseconds=500_000_000), "P14M3DT5.5S"),
            (Duration(seconds=-1, nanoseconds=500_000_000), "P0M0DT-0.5S"),
            (Date(-44, 3, 15), "-0044-03-15"),
            (LocalTime(12, 31, 14, 645_876_123), "12:31:14.645876123"),
            (Time(12, 0, offset=-7507), "12:00-02:05:07"),
            (LocalDateTime(2024, 1, 2, 3, 4, 5, 600_000_000), "2024-01-02T03:04:05.600"),
            (DateTime(2017, 10, 29, 2, 30, zone="Europe/Stockholm", offset=3600), "2017-10-29T02:30+01:00[Europe/Stockholm]"),
        ],
    )
    def test_values(self, value, text):
        assert format_value(value) == text

    def test_graph_values(self):
        ann = Node(1, frozenset({"Person"}), {"name": "Ann"})
        bob = Node(2, frozenset(), {})
        knows = Relationship(7, "KNOWS", 1, 2, {"since": 2020})
        assert format_value(ann) == '(:Person {name: "Ann"})'
        assert format_value(knows) == "[:KNOWS {since: 2020}]"
        assert format_value(Path((ann, bob), (knows,))) == '(:Person {name: "Ann"})-[:KNOWS {since: 2020}]->()'
        assert format_value(Path((bob, ann), (knows,))) == '()<-[:KNOWS {since: 2020}]-(:Person {name: "Ann"})'


class FakeResult:
    def __init__(self, columns, rows, counters=None):
        self.columns, self.rows, self.counters, self.plan = columns, rows, counters or {}, None


class FakeDatabase:
    """Answers `RETURN <int>`, fails on anything containing BAD, records the rest."""

    def __init__(self):
        self.queries = []

    def execute(self, query, params=None, *, timeout=None, interrupt=None):
        self.queries.append(query)
        if "BAD" in query:
            raise CypherSyntaxError("Invalid input 'BAD': expected a clause\n  BAD\n  ^")
        if query.split()[0] == "RETURN":
            return FakeResult(["x"], [(int(query.split()[1]),)])
        return FakeResult([], [], {"nodes-created": 1})


def run_plain(source):
    db, out, err = FakeDatabase(), io.StringIO(), io.StringIO()
    status = Shell(db, out=out, err=err).run_plain(io.StringIO(source))
    return status, db.queries, out.getvalue(), err.getvalue()


class TestPlainShell:
    def test_multi_line_statements_run_when_complete(self):
        status, queries, out, err = run_plain("RETURN\n 1;\nCREATE ()\n;RETURN 2;\n")
        assert status == 0
        assert queries == ["RETURN\n 1", "CREATE ()", "RETURN 2"]
        assert out == "x\n1\nx\n2\n"
        assert "nodes-created: 1" in err

    def test_error_is_one_line_and_the_shell_carries_on(self):
        status, queries, out, err = run_plain("RETURN 1;\n\nBAD;\nRETURN 2;\n")
        assert status == 1
        assert queries[-1] == "RETURN 2"
        assert "line 3: CypherSyntaxError: Invalid input 'BAD': expected a clause\n" in err
        assert "^" not in err

    def test_commands(self):
        status, queries, out, err = run_plain(":help\nRETURN 1;\n:quit\nRETURN 2;\n")
        assert status == 0 and queries == ["RETURN 1"]
        assert ":quit" in err

    def test_unknown_command(self):
        assert "unknown command :nope" in run_plain(":nope\n")[3]

    def test_unterminated_last_statement_still_runs(self):
        assert run_plain("RETURN 1;\nRETURN 5")[1] == ["RETURN 1", "RETURN 5"]


def test_execute_passes_an_interrupt_event_and_reraises():
    seen = {}

    class Db:
        def execute(self, query, *, interrupt):
            seen["interrupt"] = interrupt
            seen["thread"] = threading.current_thread()
            raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        execute(Db(), "RETURN 1")
    assert isinstance(seen["interrupt"], threading.Event)
    assert seen["thread"] is not threading.main_thread()


def test_syntax_error_is_blamed_on_its_own_line():
    class Db:
        def execute(self, query, *, interrupt):
            raise CypherSyntaxError("Unexpected end of input at line 2, column 6", line=2, column=6)

    err = io.StringIO()
    Shell(Db(), out=io.StringIO(), err=err).run_plain(io.StringIO("\n\nRETURN\n  1 +\n;\n"))
    assert err.getvalue().startswith("line 4: CypherSyntaxError: Unexpected end of input")


def test_interactive_shell_waits_for_the_semicolon(monkeypatch, tmp_path):
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput

    monkeypatch.setenv("HOME", str(tmp_path))
    db, out = FakeDatabase(), io.StringIO()
    with create_pipe_input() as keys, create_app_session(input=keys, output=DummyOutput()):
        keys.send_text("RETURN\r 7;\rBAD;\r:help\r:quit\r")
        status = Shell(db, out=out).run_interactive("hello")
    assert status == 0
    assert db.queries == ["RETURN\n 7", "BAD"]
    text = out.getvalue()
    assert "hello" in text and "│ 7 │" in text and "1 row in" in text
    assert "CypherSyntaxError: Invalid input 'BAD': expected a clause" in text
    assert ":quit" in text  # the help
    assert (tmp_path / ".weftdb_history").exists()


class TestEmbeddedSession:
    """BEGIN/COMMIT/ROLLBACK as statements over a real in-memory database."""

    @pytest.fixture
    def session(self):
        import weftdb
        from weftdb.cli.shell import EmbeddedSession

        session = EmbeddedSession(weftdb.open())
        yield session
        session.close()

    def count(self, session):
        return session.execute("MATCH (n) RETURN count(n)").rows[0][0]

    def test_commit_and_rollback(self, session):
        session.execute("BEGIN")
        assert session.in_transaction
        session.execute("CREATE ()")
        session.execute("ROLLBACK")
        assert not session.in_transaction and self.count(session) == 0
        session.execute("begin")
        session.execute("CREATE ()")
        assert self.count(session) == 1  # its own write, inside the transaction
        session.execute("COMMIT;")
        assert self.count(session) == 1

    def test_misuse_is_a_transaction_error(self, session):
        from weftdb.basics.errors import TransactionError

        with pytest.raises(TransactionError, match="needs a BEGIN"):
            session.execute("COMMIT")
        session.execute("BEGIN")
        with pytest.raises(TransactionError, match="open already"):
            session.execute("BEGIN")


def test_history_falls_back_to_memory_without_a_writable_home(monkeypatch, tmp_path):
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    from weftdb.cli.shell import _history

    monkeypatch.setenv("HOME", str(tmp_path / "missing"))
    assert isinstance(_history(), InMemoryHistory)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert isinstance(_history(), FileHistory)

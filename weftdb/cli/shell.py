"""`weftdb shell`, and the pieces `weftdb run` shares with it.

Two things live here because the shell and `run` must agree on them: how
a statement is executed so that Ctrl-C cancels the query rather than the
process (`execute`), and how values are printed (`format_value`). How text
is cut into statements is `weftdb.query.script`.

The shell reads from a terminal with prompt_toolkit (multi-line editing,
history in ~/.weftdb_history) and prints rich tables. When stdin is not a
terminal it reads statements from stdin and prints rows as tab-separated
text, so it can be scripted and tested.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Iterable, Protocol, TextIO

from weftdb.basics.errors import QueryInterrupted
from weftdb.basics.temporal import TEMPORAL_TYPES, Duration
from weftdb.query.results import Node, Path, Relationship, Result
from weftdb.query.script import Statement, is_complete, split_statements

if TYPE_CHECKING:
    from weftdb.database import Database, Transaction

HISTORY_FILE = "~/.weftdb_history"

HELP = """\
Type Cypher statements ending with `;`. A statement may span several lines.
Comments (`// ...` and `/* ... */`) are allowed. Each statement is its own
transaction; `BEGIN;` ... `COMMIT;` (or `ROLLBACK;`) makes one of several.

  :help    show this help
  :quit    leave the shell (also Ctrl-D)

Ctrl-C cancels the statement being typed or the query that is running."""


# --------------------------------------------------------------------------
# Executing
# --------------------------------------------------------------------------


def execute(db: Session, query: str) -> tuple[Result, float]:
    """Run `query` and return the result and the seconds it took.

    The query runs on a worker thread so that Ctrl-C on the main thread can
    stop it cleanly: the interrupt event (embedded) or a RESET (a server)
    makes the engine stop at its next row and roll back, and this raises
    QueryInterrupted ("cancelled") once it has. The main thread waits on an
    event, not `Thread.join`, which a KeyboardInterrupt can leave believing
    an unfinished thread done."""
    interrupt, done = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["result"] = db.execute(query, interrupt=interrupt)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc
        finally:
            done.set()

    started = time.perf_counter()
    threading.Thread(target=work, name="weftdb-shell-query", daemon=True).start()
    while True:
        try:
            while not done.wait(0.05):
                pass
            break
        except KeyboardInterrupt:
            interrupt.set()
            db.cancel()
    elapsed = time.perf_counter() - started
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"], elapsed  # it finished before the cancel reached it: what it did stands


def error_line(statement: Statement, exc: BaseException) -> int:
    """The source line to blame: the statement's first line, or for a syntax
    error the line inside the statement where the parser stopped."""
    inner = getattr(exc, "line", None)
    return statement.line + inner - 1 if isinstance(inner, int) and inner > 0 else statement.line


def describe_error(exc: BaseException) -> str:
    """One line for a person: the error class and the first line of its message
    ("cancelled" for a statement stopped by Ctrl-C)."""
    if isinstance(exc, QueryInterrupted):
        return "cancelled"
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def summary(result: Any, seconds: float) -> str:
    """`3 rows in 1.2 ms`, followed by the write counters when there are any."""
    count = len(result.rows)
    text = f"{count} row{'' if count == 1 else 's'} in {_format_seconds(seconds)}"
    counters = getattr(result, "counters", None) or {}
    if counters:
        text += "; " + ", ".join(f"{name}: {value}" for name, value in counters.items())
    return text


def _format_seconds(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


# --------------------------------------------------------------------------
# Printing values
# --------------------------------------------------------------------------

_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _name(name: str) -> str:
    return name if _PLAIN_NAME.match(name) else "`" + name.replace("`", "``") + "`"


def _properties(properties: dict[str, Any]) -> str:
    return " {" + ", ".join(f"{_name(k)}: {format_value(v)}" for k, v in properties.items()) + "}" if properties else ""


def _node(node: Node) -> str:
    labels = "".join(":" + _name(label) for label in sorted(node.labels))
    return f"({labels}{_properties(node.properties)})"


def _relationship(rel: Relationship) -> str:
    return f"[:{_name(rel.type)}{_properties(rel.properties)}]"


def _duration(value: Duration) -> str:
    nanoseconds = value.seconds * 1_000_000_000 + value.nanoseconds
    whole, fraction = divmod(abs(nanoseconds), 1_000_000_000)
    seconds = ("-" if nanoseconds < 0 else "") + str(whole) + (f".{fraction:09d}".rstrip("0") if fraction else "")
    return f"P{value.months}M{value.days}DT{seconds}S"


def format_value(value: Any) -> str:
    """A value as Cypher would write it: strings quoted, maps with bare keys,
    nodes as `(:Label {k: v})`, relationships as `[:TYPE {k: v}]`, paths as
    their chain, temporal values in ISO 8601 as Cypher's toString() writes
    them (to the nanosecond, with the offset and the zone)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_name(k)}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, Node):
        return _node(value)
    if isinstance(value, Relationship):
        return _relationship(value)
    if isinstance(value, Path):
        text = _node(value.nodes[0])
        for rel, before, after in zip(value.relationships, value.nodes, value.nodes[1:]):
            forward = rel.start_node_id == before.id
            text += f"-{_relationship(rel)}->" if forward else f"<-{_relationship(rel)}-"
            text += _node(after)
        return text
    if type(value) in TEMPORAL_TYPES:
        return _duration(value) if type(value) is Duration else str(value)
    if isinstance(value, (datetime.date, datetime.time)):  # datetime.datetime is a date
        return value.isoformat()
    return str(value)


# --------------------------------------------------------------------------
# The shell
# --------------------------------------------------------------------------


class Session(Protocol):
    """What the shell, `weftdb run` and `weftdb dump` need of a database: an
    EmbeddedSession or a ServerSession (below)."""

    in_transaction: bool

    def execute(self, query: str, params: dict[str, Any] | None = None, *,
                interrupt: threading.Event | None = None) -> Result: ...

    def cancel(self) -> None:
        """Stop the statement `execute` runs on another thread (Ctrl-C)."""

    def close(self) -> None: ...


class Shell:
    """A read-execute-print loop over a `Session`."""

    def __init__(self, db: Session, *, out: TextIO | None = None, err: TextIO | None = None):
        self.db = db
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    # ---- non-interactive: stdin is a pipe or a file

    def run_plain(self, lines: Iterable[str]) -> int:
        """Execute the statements read from `lines`; print rows tab-separated on
        `out`, summaries and errors on `err`. Returns 1 if any statement
        failed, else 0. `:quit` stops early; an unterminated last statement
        is still run."""
        failed = False
        buffer, buffer_line = "", 1
        for number, line in enumerate(lines, 1):
            if not buffer.strip() and line.strip().startswith(":"):
                if not self._command(line.strip(), self.err):
                    break
                buffer_line = number + 1
                continue
            buffer += line if line.endswith("\n") else line + "\n"
            if is_complete(buffer):
                failed |= not self._run_source_plain(buffer, buffer_line)
                buffer, buffer_line = "", number + 1
        else:
            failed |= not self._run_source_plain(buffer, buffer_line)
        return 1 if failed else 0

    def _run_source_plain(self, source: str, first_line: int) -> bool:
        ok = True
        for statement in split_statements(source):
            try:
                result, seconds = execute(self.db, statement.text)
            except Exception as exc:
                print(f"line {first_line + error_line(statement, exc) - 1}: {describe_error(exc)}", file=self.err)
                ok = False
                continue
            print_plain(result, self.out)
            print(summary(result, seconds), file=self.err)
        return ok

    def _command(self, command: str, stream: TextIO) -> bool:
        """Carry out a `:command`; False means leave the shell."""
        name = command.split()[0].lower()
        if name in (":quit", ":exit", ":q"):
            return False
        if name == ":help":
            print(HELP, file=stream)
        else:
            print(f"unknown command {name}; :help lists the commands", file=stream)
        return True

    # ---- interactive: a terminal

    def run_interactive(self, banner: str) -> int:
        """Read statements with line editing until :quit or Ctrl-D."""
        from prompt_toolkit import PromptSession
        from prompt_toolkit.key_binding import KeyBindings
        from rich.console import Console

        console = Console(file=self.out, highlight=False)
        bindings = KeyBindings()

        @bindings.add("enter")
        def _(event: Any) -> None:
            text = event.current_buffer.text
            if text.strip().startswith(":") or is_complete(text):
                event.current_buffer.validate_and_handle()
            else:
                event.current_buffer.insert_text("\n")

        session: PromptSession[str] = PromptSession(
            history=_history(),
            multiline=True,
            key_bindings=bindings,
            prompt_continuation=lambda width, line, wrap: "...> ".rjust(width),
        )
        console.print(banner, markup=False)
        while True:
            try:
                text = session.prompt("weftdb(tx)> " if getattr(self.db, "in_transaction", False) else "weftdb> ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return 0
            if text.strip().startswith(":"):
                if not self._command(text.strip(), self.out):
                    return 0
                continue
            for statement in split_statements(text):
                self._run_rich(statement.text, console)

    def _run_rich(self, query: str, console: Any) -> None:
        from rich.table import Table
        from rich.text import Text

        try:
            result, seconds = execute(self.db, query)
        except Exception as exc:
            console.print(Text(describe_error(exc), style="bold red"))
            return
        if result.columns:
            table = Table(*result.columns, show_lines=False)
            for row in result.rows:
                table.add_row(*(Text(format_value(value)) for value in row))
            console.print(table)
        console.print(Text(summary(result, seconds), style="dim"))


# --------------------------------------------------------------------------
# What the shell talks to: a database in this process, or a server
# --------------------------------------------------------------------------

_TRANSACTION_CONTROL = frozenset({"begin", "commit", "rollback"})


class EmbeddedSession:
    """An embedded Database with `BEGIN`, `COMMIT`, `ROLLBACK` and `USE
    DATABASE` as statements, as a server session has them: between BEGIN and
    COMMIT the statements run in one transaction; any other statement is its
    own, in the database USE DATABASE chose last."""

    def __init__(self, db: Database):
        self.db = db  # what close() closes
        self.current = db  # where statements run
        self.tx: Transaction | None = None

    @property
    def in_transaction(self) -> bool:
        if self.tx is not None and self.tx.closed:  # a failed statement ended it
            self.tx = None
        return self.tx is not None

    def execute(self, query: str, params: dict[str, Any] | None = None, *, interrupt: Any = None) -> Result:
        from weftdb.basics.errors import TransactionError
        from weftdb.query import ast
        from weftdb.query.parser import parse

        statement = parse(query)  # cached: the engine does not parse it twice
        if isinstance(statement, ast.AdminStatement) and statement.command in _TRANSACTION_CONTROL:
            command, open_tx = statement.command, self.in_transaction
            if command == "begin" and open_tx:
                raise TransactionError("a transaction is open already; COMMIT or ROLLBACK it first")
            if command != "begin" and not open_tx:
                raise TransactionError(f"no transaction is open; {command.upper()} needs a BEGIN first")
            if command == "begin":
                self.tx = self.current.begin()
            else:
                tx, self.tx = self.tx, None
                tx.commit() if command == "commit" else tx.rollback()
            return Result([], [], query_type="s")
        if self.in_transaction:
            return self.tx.execute(query, params, interrupt=interrupt)
        return self.current.execute(query, params, interrupt=interrupt, use=self._use)

    def _use(self, name: str) -> None:
        self.current = self.db.database(name)

    def cancel(self) -> None:
        """Nothing more to do: `execute`'s interrupt event stops the query."""

    def close(self) -> None:
        """Roll back an open transaction, then close the database."""
        try:
            if self.in_transaction:
                self.tx.rollback()
        finally:
            self.db.close()



class ServerSession:
    """A Bolt session to a server (WeftDB's own client, so `weftdb shell
    --host` needs nothing but WeftDB), with the `execute`/`cancel`/`close` of
    EmbeddedSession. BEGIN, COMMIT and ROLLBACK go to the server as
    statements; `cancel` sends RESET, so the server stops the query."""

    def __init__(self, host: str, port: int, user: str | None, password: str | None):
        from weftdb.server.bolt.client import BoltClient

        self._client = BoltClient(host, port, user, password)
        self.in_transaction = False

    def execute(self, query: str, params: dict[str, Any] | None = None, *, interrupt: Any = None) -> Result:
        result = self._client.run(query, params)
        command = query.strip().rstrip(";").strip().upper()
        if command == "BEGIN":
            self.in_transaction = True
        elif command in ("COMMIT", "ROLLBACK"):
            self.in_transaction = False
        return result

    def cancel(self) -> None:
        self._client.cancel()
        self.in_transaction = False  # RESET rolls the server's transaction back

    def close(self) -> None:
        self._client.close()


def _history() -> Any:
    """The history in HISTORY_FILE, or only in memory when the file cannot be
    written (no home directory, a read-only one)."""
    from prompt_toolkit.history import FileHistory, InMemoryHistory

    path = os.path.expanduser(HISTORY_FILE)
    writable = os.access(path, os.W_OK) if os.path.exists(path) else os.access(os.path.dirname(path), os.W_OK)
    return FileHistory(path) if writable else InMemoryHistory()


def print_plain(result: Any, out: TextIO) -> None:
    """A result as tab-separated text: a header of column names, then one line a row."""
    if result.columns:
        print("\t".join(result.columns), file=out)
        for row in result.rows:
            print("\t".join(format_value(value) for value in row), file=out)
    out.flush()  # rows before the summary or error that follows on stderr

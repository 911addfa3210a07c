"""`weftdb import`: run a dump (or any Cypher script) into a database, fast.

A dump is mostly two statement shapes repeated hundreds of thousands of times
(durability/dump.py): `CREATE (:__mg_vertex__:...{...})` per vertex and
`MATCH (u:__mg_vertex__), (v:__mg_vertex__) WHERE ... CREATE (u)-[...]->(v)`
per edge. Parsing each one costs far more than running it, and no two texts
are the same, so the plan cache cannot help. So the importer recognises those
two shapes (Memgraph's exact spelling, literal values only) and turns each
run of consecutive statements of the same shape into one `UNWIND $rows`
statement whose text repeats (one parse and one plan per label set or edge
type and set of property keys). It reads the literal values itself, with the parser's own string
unescaping and the Cypher temporal constructors, so the values are the ones
the statement would have produced. Anything else is parsed and run as written:
schema and administration statements on their own, other statements in the
current transaction.

Statements are committed in transactions of `batch_size` statements. When a
batch fails, it is rolled back and replayed one statement per transaction,
so the statements before the failing one end up committed and the failing
one is reported with its line.
"""

from __future__ import annotations

import functools
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable

from lark import Token

from weftdb.basics.errors import QueryInterrupted
from weftdb.database import Database
from weftdb.durability.dump import ID_PROPERTY, VERTEX_LABEL, name
from weftdb.query.admin import runs_alone
from weftdb.query.functions import FUNCTIONS
from weftdb.query.parser import _unescape as unescape_string  # the parser's own rule, so both agree
from weftdb.query.parser import parse
from weftdb.query.script import Statement

_NAME = r"(?:`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_]*)"
_VERTEX = re.compile(rf"CREATE \(:{VERTEX_LABEL}((?::{_NAME})*) (\{{.*\}})\)", re.S)
_EDGE = re.compile(
    rf"MATCH \(u:{VERTEX_LABEL}\), \(v:{VERTEX_LABEL}\) WHERE u\.{ID_PROPERTY} = (-?\d+) AND v\.{ID_PROPERTY} = (-?\d+) "
    rf"CREATE \(u\)-\[:({_NAME})(?: (\{{.*\}}))?\]->\(v\)",
    re.S,
)
_LABEL = re.compile(rf":({_NAME})")
# Strings, backquoted names, punctuation, and bare words (numbers, names,
# Null/true/false, 0.0/0.0); a stray quote or backquote becomes a token of its
# own, which no rule below accepts.
_TOKEN = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`(?:[^`]|``)+`|[,:\[\]{}()]|[^\s,:\[\]{}()"'`]+|\S""", re.S)
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?(?:[0-9]+\.[0-9]+|\.[0-9]+)(?:[eE][-+]?[0-9]+)?|-?[0-9]+[eE][-+]?[0-9]+")
_BARE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CALLS = {"date", "localtime", "time", "localdatetime", "datetime", "duration"}
_SPECIAL = {"0.0/0.0": float("nan"), "1.0/0.0": float("inf"), "-1.0/0.0": float("-inf")}
_WORDS = {"null": None, "true": True, "false": False}
_INT64 = range(-(2**63), 2**63)


class NotLiteral(ValueError):
    """Text the fast path does not read; the statement runs as written instead."""


class ImportFailed(Exception):
    def __init__(self, statement: Statement, error: BaseException, committed: int):
        super().__init__(str(error))
        self.statement, self.error, self.committed = statement, error, committed


@dataclass
class _Item:
    statement: Statement
    query: str  # the text to run: an UNWIND template, or the statement itself
    alone: str | None = None  # the template for a run of one row (one text for every key set)
    row: dict | None = None  # this statement's row for the template; None: run `query` as written


def _unquote(text: str) -> str:
    return text[1:-1].replace("``", "`") if text.startswith("`") else text


def read_literal(text: str) -> Any:
    """The value of a literal map, list, string, number, boolean, null or
    temporal constructor call, as dump.value writes them; NotLiteral otherwise."""
    tokens = _TOKEN.findall(text)
    value, end = _read(tokens, 0)
    if end != len(tokens):
        raise NotLiteral("trailing tokens")
    return value


def _read(tokens: list[str], i: int) -> tuple[Any, int]:
    """The value whose first token is `tokens[i]`, and the index after it."""
    if i >= len(tokens):
        raise NotLiteral("unexpected end")
    token = tokens[i]
    first = token[0]
    if first == '"' or first == "'":
        if len(token) < 2 or token[-1] != first:
            raise NotLiteral(token)
        return (unescape_string(Token("STRING", token)) if "\\" in token else token[1:-1]), i + 1
    if first == "[":
        return _read_list(tokens, i + 1)
    if first == "{":
        return _read_map(tokens, i + 1)
    if _INT.fullmatch(token):
        value = int(token)
        if value not in _INT64:
            raise NotLiteral(token)
        return value, i + 1
    if _FLOAT.fullmatch(token):
        return float(token), i + 1
    lowered = token.lower()
    if lowered in _WORDS:
        return _WORDS[lowered], i + 1
    if token in _SPECIAL:
        return _SPECIAL[token], i + 1
    if lowered in _CALLS and tokens[i + 1 : i + 2] == ["("]:
        argument, i = _read(tokens, i + 2)
        if type(argument) is not str:
            raise NotLiteral(token)
        return FUNCTIONS[lowered](argument), _expect(tokens, i, ")")
    raise NotLiteral(token)


def _read_list(tokens: list[str], i: int) -> tuple[list, int]:
    """The items of a list whose `[` is just before `tokens[i]`."""
    items: list = []
    while i < len(tokens) and tokens[i] != "]":
        if items:
            i = _expect(tokens, i, ",")
        item, i = _read(tokens, i)
        items.append(item)
    return items, _expect(tokens, i, "]")


def _read_map(tokens: list[str], i: int) -> tuple[dict, int]:
    """The entries of a map whose `{` is just before `tokens[i]`."""
    entries: dict = {}
    while i < len(tokens) and tokens[i] != "}":
        if entries:
            i = _expect(tokens, i, ",")
        key = tokens[i] if i < len(tokens) else ""
        if key.startswith("`") and len(key) > 1 and key.endswith("`"):
            key = key[1:-1].replace("``", "`")
        elif not _BARE_NAME.fullmatch(key):
            raise NotLiteral("map key expected")
        entries[key], i = _read(tokens, _expect(tokens, i + 1, ":"))
    return entries, _expect(tokens, i, "}")


def _expect(tokens: list[str], i: int, punct: str) -> int:
    if i >= len(tokens) or tokens[i] != punct:
        raise NotLiteral(f"{punct!r} expected")
    return i + 1


def _fast(statement: Statement) -> _Item | None:
    """A dump vertex or edge statement as an UNWIND template and its row; None for anything else."""
    text = statement.text
    try:
        if text.startswith("CREATE (:"):
            match = _VERTEX.fullmatch(text)
            if match:
                props = read_literal(match.group(2))
                if type(props) is dict:
                    return _Item(statement, *_vertex_templates(match.group(1), tuple(props)), row=props)
        elif text.startswith("MATCH (u:"):
            match = _EDGE.fullmatch(text)
            if match:
                props = read_literal(match.group(4)) if match.group(4) else {}
                if type(props) is dict:
                    row = {"u": int(match.group(1)), "v": int(match.group(2)), "p": props}
                    return _Item(statement, *_edge_templates(match.group(3), tuple(props)), row=row)
    except NotLiteral:
        pass
    return None


# The templates name the row's keys (`{`k`: r.`k`}`), so the engine creates each
# element with its properties in one step. A run of one row uses the `SET n = r`
# form instead, whose text does not depend on the keys: a graph whose elements
# all have different keys does not parse a new template per element.


@functools.lru_cache(maxsize=1024)
def _vertex_templates(labels: str, keys: tuple[str, ...]) -> tuple[str, str]:
    """(template for a run, template for one row) of vertices with these labels and keys."""
    create = f"UNWIND $rows AS r CREATE (n:{VERTEX_LABEL}" + "".join(f":{name(_unquote(label))}" for label in _LABEL.findall(labels))
    return f"{create} {_row_map(keys, 'r')})", f"{create}) SET n = r"


@functools.lru_cache(maxsize=1024)
def _edge_templates(type_: str, keys: tuple[str, ...]) -> tuple[str, str]:
    create = (
        f"UNWIND $rows AS r MATCH (u:{VERTEX_LABEL}), (v:{VERTEX_LABEL}) WHERE u.{ID_PROPERTY} = r.u "
        f"AND v.{ID_PROPERTY} = r.v CREATE (u)-[e:{name(_unquote(type_))}"
    )
    return f"{create} {_row_map(keys, 'r.p')}]->(v)", f"{create}]->(v) SET e = r.p"


def _row_map(keys: tuple[str, ...], source: str) -> str:
    return "{" + ", ".join(f"{name(key)}: {source}.{name(key)}" for key in keys) + "}"


def import_statements(
    db: Database,
    statements: list[Statement],
    batch_size: int = 10_000,
    progress: Callable[[int], None] | None = None,
    interrupt: threading.Event | None = None,
) -> int:
    """Run `statements`; returns how many ran. Raises ImportFailed at the
    first failing statement, with everything before it committed; when
    `interrupt` is set (Ctrl-C), ImportFailed with QueryInterrupted for the
    first statement not committed: the batch it was in is rolled back."""
    run = _Import(db, batch_size, progress, interrupt or threading.Event())
    for statement in statements:
        item = _fast(statement)
        if item is None:
            try:
                parsed = parse(statement.text)
            except Exception as exc:
                run.commit()
                raise ImportFailed(statement, exc, run.done) from exc
            if runs_alone(parsed):
                run.alone(statement)
                continue
            item = _Item(statement, statement.text)
        run.pending.append(item)
        if len(run.pending) >= batch_size:
            run.commit()
    run.commit()
    return run.done


class _Import:
    """The statements queued for the next transaction, and how many are committed."""

    def __init__(self, db: Database, batch_size: int, progress: Callable[[int], None] | None,
                 interrupt: threading.Event):
        self.db, self.batch_size, self.progress, self.interrupt = db, batch_size, progress, interrupt
        self.pending: list[_Item] = []
        self.done = 0

    def _advance(self, n: int) -> None:
        self.done += n
        if self.progress is not None:
            self.progress(n)

    def commit(self) -> None:
        """Run the queued statements as one transaction: runs of one template as
        one UNWIND each. A failing batch is replayed one statement at a time
        to commit what came before the culprit; an interrupted one is not."""
        pending, self.pending = self.pending, []
        if not pending:
            return
        try:
            with self.db.transaction() as tx:
                start = 0
                while start < len(pending):
                    end = start + 1
                    query = pending[start].query
                    if pending[start].row is None:
                        tx.execute(query, interrupt=self.interrupt)
                    else:
                        while end < len(pending) and pending[end].query == query and pending[end].row is not None:
                            end += 1
                        template = query if end - start > 1 else pending[start].alone
                        tx.execute(template, {"rows": [item.row for item in pending[start:end]]}, interrupt=self.interrupt)
                    start = end
                if self.interrupt.is_set():
                    raise QueryInterrupted("cancelled")
        except Exception as exc:
            if self.interrupt.is_set():
                raise ImportFailed(pending[0].statement, QueryInterrupted("cancelled"), self.done) from exc
            _replay(self.db, pending, self.done)
        self._advance(len(pending))

    def alone(self, statement: Statement) -> None:
        """A schema or administration statement: on its own, after what is queued."""
        self.commit()
        if self.interrupt.is_set():
            raise ImportFailed(statement, QueryInterrupted("cancelled"), self.done)
        try:
            self.db.execute(statement.text)
        except Exception as exc:
            raise ImportFailed(statement, exc, self.done) from exc
        self._advance(1)


def _replay(db: Database, items: list[_Item], done: int) -> None:
    """A batch failed and was rolled back: run it one statement per transaction
    to commit what came before the culprit and name it."""
    for number, item in enumerate(items):
        try:
            db.execute(item.statement.text)
        except Exception as exc:
            raise ImportFailed(item.statement, exc, done + number) from exc

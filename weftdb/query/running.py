"""The transactions open in a database, for SHOW TRANSACTIONS and TERMINATE TRANSACTIONS.

Every transaction is registered while it is open: an autocommit statement
for as long as it runs, an explicit transaction from its start to its commit
or rollback, embedded callers and Bolt connections alike. An entry says who
runs it (`Client`: the user, the connection and its address, the metadata the
client attached), when it began, the statements it has run and the one
running now.

TERMINATE TRANSACTIONS marks an entry terminated. A statement running in it
stops at its next check, as after a RESET: the entry is the interrupt it runs
under, set when the transaction is terminated or the caller's own interrupt
(RESET, a dropped connection) is. An idle explicit transaction is rolled
back at once, so it holds nothing until its owner comes back; the owner's
next statement, and its commit, then fail with `terminated()`. A transaction
that is committing can no longer be terminated (killed is false).

Who may see and terminate what: the embedded API (the process that owns the
data directory) and, while no user is defined, every client see and may
terminate every transaction; once users exist, a client sees and terminates
the transactions of the user it logged in as.
"""

from __future__ import annotations

import itertools
import threading
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from weftdb.basics.errors import QueryInterrupted, TransactionError


class GraphTransaction(Protocol):
    closed: bool

    def commit(self) -> None: ...

    def abort(self) -> None: ...


@dataclass(frozen=True)
class Client:
    """Who runs a transaction. `connection` is empty for the embedded API;
    `user` is empty when no user logged in (none are defined, or embedded)."""

    user: str = ""
    connection: str = ""
    address: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def embedded(self) -> bool:
        return not self.connection


EMBEDDED = Client()


def terminated() -> QueryInterrupted:
    return QueryInterrupted("The transaction was terminated by TERMINATE TRANSACTIONS and rolled back.")


_CURRENT: ContextVar["Entry | None"] = ContextVar("weftdb_transaction", default=None)


def current_entry() -> "Entry":
    """The transaction of the statement this thread is running."""
    entry = _CURRENT.get()
    if entry is None:
        raise RuntimeError("no statement is running in this thread")
    return entry


def current_client() -> Client:
    """Who runs the statement this thread is running (SHOW and TERMINATE TRANSACTIONS ask)."""
    entry = _CURRENT.get()
    return entry.client if entry is not None else EMBEDDED


# Guards the state of every entry; held for a few bytecodes at a time.
_LOCK = threading.Lock()
MAX_QUERIES = 100  # the statements an entry keeps, the latest


class Entry:
    """One open transaction. Its owner runs each statement inside
    `with entry.statement(query, interrupt) as interrupt:` and commits through
    `commit`; the registry ends it. The entry is itself the interrupt a
    statement runs under: set when the transaction is terminated or the
    caller's own interrupt (a RESET, a dropped connection) is. This runs
    around every statement, so it is kept to plain fields and one lock."""

    __slots__ = ("id", "client", "explicit", "registry", "started_monotonic", "queries", "current",
                 "current_started", "committing_now", "terminated", "_tx", "_caller", "_token")

    def __init__(self, number: int, client: Client, explicit: bool, registry: "Running | None" = None,
                 query: str | None = None, interrupt: Any = None):
        """`query`: an autocommit statement's, running from the start (what
        `statement` would do, without the lock: nobody sees the entry yet)."""
        self.id = number
        self.registry = registry
        self.client = client
        self.explicit = explicit
        self.started_monotonic = self.current_started = time.monotonic()  # `current_started`: when `current` began
        self.queries: list[str] = [] if query is None else [query]
        self.current: str | None = query
        self.committing_now = False
        self.terminated = False
        self._tx: GraphTransaction | None = None  # rolled back by whoever takes it first (`_take`)
        self._caller: Any = interrupt
        self._token: Any = None

    def attach(self, tx: GraphTransaction) -> None:
        """The graph transaction this entry stands for (an idle one a TERMINATE rolls back)."""
        self._tx = tx

    @property
    def started(self) -> float:
        """When the transaction began, as a time.time() value."""
        return time.time() - (time.monotonic() - self.started_monotonic)

    @property
    def status(self) -> str:
        """Memgraph's words: running, idle, committing, terminating."""
        if self.terminated:
            return "terminating"
        if self.committing_now:
            return "committing"
        return "running" if self.current is not None else "idle"

    @property
    def transaction_id(self) -> str:
        """The id SHOW TRANSACTIONS gives and TERMINATE TRANSACTIONS takes (Memgraph's form)."""
        return str(self.id)

    def is_set(self) -> bool:
        """The interrupt check of the running statement (what threading.Event.is_set answers)."""
        caller = self._caller
        return self.terminated or (caller is not None and caller.is_set())

    def statement(self, query: str, interrupt: Any) -> "Entry":
        """A statement starts; `with` it, its block runs under the interrupt it
        yields (this entry). Raises when the transaction was terminated."""
        with _LOCK:
            if self.terminated:
                raise terminated()
            queries = self.queries
            if len(queries) >= MAX_QUERIES:
                del queries[0]
            queries.append(query)
            self.current = query
        self.current_started = time.monotonic()
        self._caller = interrupt
        return self

    def __enter__(self) -> "Entry":
        self._token = _CURRENT.set(self)
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        _CURRENT.reset(self._token)
        self.current = None  # one store: a TERMINATE that reads it sees it before or after, both safe
        if kind is not None and self.terminated and issubclass(kind, QueryInterrupted):
            raise terminated() from None
        return False

    def commit(self, tx: GraphTransaction) -> None:
        """Commit `tx`, which from now on TERMINATE cannot stop; when it was
        terminated before, roll it back (if that is not done) and raise."""
        with _LOCK:
            stopped = self.terminated
            self.committing_now = not stopped
        if stopped:
            self.rollback()
            raise terminated()
        tx.commit()

    def end_stream(self, finished: bool) -> None:
        """The stream of this autocommit read ended (executor.StreamOwner):
        commit when it made every row, roll back when it was closed or failed;
        either way the transaction is no longer open."""
        try:
            if finished:
                self.commit(self._tx)
            else:
                self.rollback()
        finally:
            self.registry.end(self)

    def rollback(self) -> None:
        """Roll the attached transaction back unless that is done (by a TERMINATE, a failed statement)."""
        tx = self._take()
        if tx is not None and not tx.closed:
            try:
                tx.abort()
            except TransactionError:  # closed meanwhile
                pass

    def _take(self) -> GraphTransaction | None:
        with _LOCK:
            tx, self._tx = self._tx, None
        return tx

    def terminate(self) -> bool:
        """Stop the transaction; False when it is committing or was stopped already."""
        with _LOCK:
            if self.terminated or self.committing_now:
                return False
            self.terminated = True
            idle = self.current is None
        if idle:
            self.rollback()  # a running statement rolls back itself when it stops
        return True


class Running:
    """The registry of a database's open transactions. A dict's single
    operations are atomic: no lock of its own."""

    def __init__(self, users_defined: Callable[[], bool] = lambda: False, address: str = "",
                 database: str = "") -> None:
        self._entries: dict[int, Entry] = {}
        self._numbers = itertools.count(1)
        self.users_defined = users_defined  # whether the database has users (who may see what)
        self.address = address  # where its Bolt server listens (SHOW DATABASES)
        self.database = database  # the name of the database these transactions run in
        self.databases: Any = None  # its data directory's databases (weftdb/databases.py), for SHOW DATABASES

    def count(self) -> int:
        """How many transactions are open."""
        return len(self._entries)

    def begin(self, client: Client | None = None, *, explicit: bool = False) -> Entry:
        """An explicit transaction's entry; its statements run in `entry.statement`."""
        entry = Entry(next(self._numbers), client or EMBEDDED, explicit, self)
        self._entries[entry.id] = entry
        return entry

    def autocommit(self, client: Client | None, query: str, interrupt: Any) -> Entry:
        """The entry of an autocommit statement, running already: `with` it."""
        entry = Entry(next(self._numbers), client or EMBEDDED, False, self, query, interrupt)
        self._entries[entry.id] = entry
        return entry

    def end(self, entry: Entry) -> None:
        self._entries.pop(entry.id, None)

    def visible_to(self, caller: Client, users_defined: bool) -> list[Entry]:
        """The open transactions `caller` may see, oldest first (module docstring)."""
        entries = list(self._entries.values())
        return [entry for entry in entries if may_manage(caller, entry, users_defined)]

    def terminate(self, numbers: list[int | None], caller: Client,
                  users_defined: bool) -> list[tuple[int | None, Entry | None, bool]]:
        """Terminate the transactions numbered `numbers` that `caller` may:
        (number, its entry or None, killed) for each. One the caller may not
        manage is reported as not found, so its existence is not told; a
        None number (another database's) is not found."""
        out = []
        own = _CURRENT.get()
        for number in numbers:
            entry = self._entries.get(number)
            if entry is None or not may_manage(caller, entry, users_defined):
                out.append((number, None, False))
            else:  # not the transaction asking: it would fail its own TERMINATE
                killed = entry is not own and entry.terminate()
                if killed and entry.current is None:  # rolled back already: nothing of it is left to list
                    self.end(entry)
                out.append((number, entry, killed))
        return out


def may_manage(caller: Client, entry: Entry, users_defined: bool) -> bool:
    return caller.embedded or not users_defined or caller.user == entry.client.user

"""The embedded database: `weftdb.open(path)` returns a `Database`.

The Bolt server drives this same object; it adds a protocol, not a second
engine. A `Database` is safe to share between threads; a `Transaction` is
used by one thread at a time.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from typing import Any, Callable

from weftdb import databases
from weftdb.basics import affinity, identity, storage_modes
from weftdb.basics.config import Config, ConfigError
from weftdb.basics.errors import AccessModeError, ClientError, ForbiddenInTransaction, TransactionError
from weftdb.basics.temporal import adopt
from weftdb.durability.data_directory import Durability
from weftdb.durability.files import FileSystem
from weftdb.durability.users import UserStore
from weftdb.graph.interface import GraphTransaction
from weftdb.graph.storage import Storage
from weftdb.query import admin, ast, load_csv, modules
from weftdb.query.executor import plan_statement, run
from weftdb.query.limits import MemoryLimits
from weftdb.query.parser import parse
from weftdb.query.planner import Plan
from weftdb.query.plans import describe
from weftdb.query.procedures import BUILTINS, Registry
from weftdb.query.results import Result
from weftdb.query.running import Client, Entry, Running

_INSPECTED = (ast.Explain, ast.Profile)  # planned afresh, never cached
QUICK_SECONDS = 0.0005
"""A plan whose last run took less is `quick` (Plan.quick): the server may run it on its event loop."""


class Database:
    def __init__(self, path: str | None = None, config: Config | None = None, fs: FileSystem | None = None, *,
                 name: str = identity.DATABASE, default: "Database | None" = None):
        """`fs` replaces the file layer every durable write goes through (the
        crash-simulating twin in the tests). Without `default` this is the
        default database, which opens the data directory's others
        (weftdb/databases.py); with it, database `name`, which shares the
        default one's users, procedures and memory limit."""
        self.path = path
        self.name = name
        self._fs = fs
        self._owner: Database | None = None  # the default database, when open(database=...) handed out this one
        self.config = config or Config.load()
        try:
            self.placement = affinity.Placement(affinity.choose(self.config.cpu_affinity, path))
        except ValueError as e:
            raise ConfigError(f"--cpu-affinity={self.config.cpu_affinity}: {e}") from None
        self.durability: Durability | None = None
        if path is None:
            self.storage = Storage()
            if self.config.storage_mode:
                self.storage.switch_mode(self.config.storage_mode, "--storage-mode")
        else:
            self.durability = Durability.open(path, self.config, fs=fs)
            self.storage = self.durability.storage
        # Users for Bolt authentication: the server checks `db.users.verify`;
        # CREATE USER & co. go to the same store, the default database's.
        self.users = UserStore(path, fs) if default is None else default.users
        self.memory = MemoryLimits.of(self.config.memory_limit, self.config.query_memory_limit) if default is None \
            else default.memory
        # The open transactions, embedded and over Bolt (SHOW TRANSACTIONS), and who may see them.
        self.running = Running(users_defined=lambda: self.users.has_users,
                               address=f"{self.config.bolt_address}:{self.config.bolt_port}", database=name)
        # LOAD CSV reads only under this directory (--import-directory), fixed when the database opens.
        self.import_directory = load_csv.import_root(self.config.import_directory)
        # Which statements get a columnar program (--analytics-image), fixed when the database opens.
        self.analytics_image = self.config.analytics_image.lower()
        self._plans: OrderedDict[str, Plan] = OrderedDict()
        self._plans_lock = threading.Lock()
        self._streams: weakref.WeakSet[Result] = weakref.WeakSet()  # results streaming now: closing ends them
        self._closed = False
        # Procedures and functions: the built-ins, the user's (db.procedures.register,
        # @db.procedure) and those of --query-modules-directory, loaded now and by
        # CALL mg.load_all(). A plan names the procedures it calls: forget plans on a change.
        if default is None:
            self.procedures = Registry(BUILTINS)
            self.procedures.loader = modules.Loader.start(self.procedures, self.config.query_modules_directory)
        else:
            self.procedures = default.procedures
        self.procedures.listen(self._forget_plans)
        self.databases = databases.Databases(self, fs, self._open_other) if default is None else default.databases
        self.running.databases = self.databases
        if default is None:
            try:
                self.databases.start()
            except BaseException:
                self.close()
                raise

    def _open_other(self, name: str, path: str | None, config: Config) -> "Database":
        return Database(path, config, self._fs, name=name, default=self)

    # -- public API ---------------------------------------------------------------

    def execute(
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        interrupt: threading.Event | None = None,
        client: Client | None = None,
        use: Callable[[str], None] | None = None,
        **options: Any,
    ) -> Result:
        """Run one statement in its own transaction (autocommit). `client` says
        who runs it (the server's connections), for SHOW TRANSACTIONS; the
        statement is listed there while it runs. `use(name)` is how USE
        DATABASE switches the caller's session (a Bolt connection's).
        A read whose rows are many streams them (Result.streaming): it stays
        listed, and its transaction open, until its stream ends."""
        self._check_open()
        entry = self.running.autocommit(client, query, interrupt)
        streaming = False
        try:
            with entry:
                result = self._autocommit(entry, query, params, timeout=timeout, use=use, **options)
            streaming = result.streaming
            if streaming:
                self._streams.add(result)
            return result
        finally:
            if not streaming:
                self.running.end(entry)

    def _autocommit(
        self,
        entry: Entry,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        read_only: bool = False,
        use: Callable[[str], None] | None = None,
        budget: float | None = None,
    ) -> Result:
        """Run one statement in its own transaction (autocommit): on the
        store's transaction directly, with no `Transaction` around it, under
        its registry `entry` (which is also the interrupt it runs under).
        `read_only` refuses a statement that writes (Bolt's read access mode);
        `budget`: see `quick`."""
        statement = parse(query)
        if admin.runs_alone(statement):
            return self._administer(statement, params, read_only=read_only, use=use)
        tx = self.storage.begin()
        entry.attach(tx)  # a TERMINATE TRANSACTIONS before the commit rolls it back
        # In IN_MEMORY_ANALYTICAL an open transaction holds off snapshots and mode
        # switches, so there no result keeps one open: none streams.
        owner = None if self.storage.mode == storage_modes.ANALYTICAL else entry
        result = self._run(tx, query, statement, params, timeout, entry, read_only, implicit=True,  # rolls back if it raises
                           budget=budget, owner=owner)
        if not result.streaming:
            entry.commit(tx)
        return result

    def begin(self, read_only: bool = False, client: Client | None = None) -> "Transaction":
        """Start an explicit transaction; end it with commit() or rollback().
        A `read_only` one refuses statements that write; `client`: as for execute."""
        self._check_open()
        self.placement.pin()
        transaction = Transaction(self, self.storage.begin(), read_only)
        transaction._track(self.running.begin(client, explicit=True))
        return transaction

    def quick(self, query: str) -> bool:
        """Whether `query` may run on the server's event loop, saving the hop to a
        worker: its cached plan only reads, runs no code the engine does not
        bound (Plan.outside), and took under QUICK_SECONDS the last time. It
        runs with a budget there (`execute(budget=...)`): past it, it stops at
        its next check and goes to a worker."""
        plan = self._plans.get(query)
        return plan is not None and plan.quick and not plan.writes and not plan.outside and not plan.in_transactions

    def database(self, name: str | None, *, user: str | None = None) -> "Database":
        """Database `name` of this data directory (the default one's names
        included): DatabaseNotFound when there is none, DatabaseUnavailable
        when it is stopped or failed to start (docs/databases.md). `user`:
        the server's authenticated client, who finds only the databases
        GRANT DATABASE lets them use."""
        self._check_open()
        return self.databases.get(name, user)

    def transaction(self) -> "Transaction":
        """`with db.transaction() as tx:` commits when the block ends normally
        and rolls back when it raises (a Transaction is its own context manager)."""
        return self.begin()

    def close(self) -> None:
        """Write the on-exit snapshot (if enabled), flush the WAL, release the
        directory. The default database closes the others first; one that
        `open(database=...)` handed out closes the default one after it."""
        try:
            self.close_alone()
        finally:
            if self._owner is not None:
                self._owner.close()

    def close_alone(self) -> None:
        """Close this database only (what DROP and STOP DATABASE do to one)."""
        if self._closed:
            return
        self._closed = True
        for result in list(self._streams):  # their transactions end before the store closes
            result.close(f"The database {self.name} was closed while this result streamed; its other rows were not made.")
        try:
            if self.databases.default is self:
                self.databases.close()
        finally:
            if self.durability is not None:
                self.durability.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ClientError(f"The database {self.name} is closed" + (
                "." if self.databases.default is self else " (dropped, stopped, or its data directory closed)."))

    def procedure(self, signature: str, *, mode: str = "read", description: str | None = None):
        """`@db.procedure("ns.name(x :: INTEGER) :: (y :: INTEGER)")` registers the
        function below it as a procedure of this database (docs/cypher.md, Procedures)."""
        return self.procedures.procedure(signature, mode=mode, description=description)

    def function(self, signature: str, *, description: str | None = None):
        """`@db.function("ns.name(x :: INTEGER) :: INTEGER")` registers a user function."""
        return self.procedures.function(signature, description=description)

    def _run(self, tx: GraphTransaction, query, statement, params, timeout, interrupt, read_only=False,
             implicit=False, budget=None, owner=None) -> Result:
        """Run one statement in `tx`. A statement that fails rolls its whole
        transaction back: a half-applied statement is never left for a later commit.
        `implicit`: `tx` is the statement's own (autocommit), so CALL { } IN
        TRANSACTIONS may commit batches of its own beside it. `owner`: the
        statement may stream, and then `owner` ends `tx` (executor.run).
        Its thread is pinned first (`--cpu-affinity`), as is a thread that begins
        or commits: over Bolt those can be three different workers."""
        self.placement.pin()
        try:
            if tx.closed:
                raise TransactionError("The transaction is already closed.")
            if params is not None and not isinstance(params, dict):
                raise ClientError(f"Parameters must be a dict, not {type(params).__name__}.")
            params = adopt(params)  # Python's dates, times, datetimes and timedeltas as WeftDB's temporal values
            if timeout is None:
                timeout = self.config.query_execution_timeout_sec or None
            if isinstance(statement, _INSPECTED):
                plan = plan_statement(statement.statement, tx, self.procedures, self.analytics_image)
                if isinstance(statement, ast.Profile):
                    return run(plan, tx, params, timeout=timeout, interrupt=interrupt, memory=self.memory, profile=True,
                               read_only=read_only, implicit=implicit, import_directory=self.import_directory)
                lines = plan.explain()
                return Result(["QUERY PLAN"], [(line,) for line in lines], "r", plan="\n".join(lines),
                              plan_tree=describe(plan.root))
            plan = self._plans.get(query)
            if plan is None:
                plan = self._plan(query, statement, tx)
            started = time.perf_counter()
            quick = False  # a run stopped over its budget took longer: its next run goes to a worker
            try:
                result = run(plan, tx, params, timeout=timeout, interrupt=interrupt, memory=self.memory,
                             read_only=read_only, implicit=implicit, import_directory=self.import_directory,
                             budget=budget, owner=owner)
                quick = not result.streaming and time.perf_counter() - started < QUICK_SECONDS
                return result
            finally:
                plan.quick = quick
        except BaseException:
            if not tx.closed:
                tx.abort()
            raise

    def _plan(self, query: str, statement: ast.Statement, tx: GraphTransaction) -> Plan:
        """Plan a statement not in the cache, and cache it."""
        plan = plan_statement(statement, tx, self.procedures, self.analytics_image)
        with self._plans_lock:
            self._plans[query] = plan
            if len(self._plans) > self.config.query_plan_cache_size:
                self._plans.popitem(last=False)
        return plan

    def _forget_plans(self) -> None:
        """Schema changed: plans chose their indexes under the old schema."""
        with self._plans_lock:
            self._plans.clear()

    def _administer(self, statement: ast.Statement, params: dict | None, pending: admin.Pending | None = None,
                    read_only: bool = False, use: Callable[[str], None] | None = None) -> Result:
        """Run a schema or administration statement; schema and user changes wait
        in `pending` when it is given (an explicit transaction's)."""
        if read_only and admin.modifies_schema(statement):
            raise AccessModeError("Schema and user changes are writes; this transaction is read-only (read access mode).")
        if isinstance(statement, ast.AdminStatement) and statement.command in databases.COMMANDS:
            if read_only and statement.command != "use_database":
                raise AccessModeError("CREATE, DROP, STOP and START DATABASE are writes; this transaction is "
                                      "read-only (read access mode).")
            return self.databases.administer(statement, self, use)
        parts = admin.Parts(self.storage, self.durability, self.users, running=self.running, config=self.config,
                            pending=pending)
        result = admin.administer(parts, statement, params or {})
        if self.durability is not None and self.durability.storage is not self.storage:
            self.storage = self.durability.storage  # STORAGE MODE to or from ON_DISK_TRANSACTIONAL replaced it
            self._forget_plans()
        elif pending is None and isinstance(statement, admin.SCHEMA_CHANGES):
            self._forget_plans()
        return result


class Transaction:
    """An explicit transaction. Statements see the graph as it was when the
    transaction began, plus the transaction's own writes."""

    def __init__(self, db: Database, tx: GraphTransaction, read_only: bool = False):
        self._db = db
        self._tx = tx
        self.read_only = read_only
        self._pending: admin.Pending | None = None  # schema and user changes, applied at commit

    @property
    def closed(self) -> bool:
        return self._tx.closed

    def _track(self, entry: Entry) -> None:
        """Register this transaction as `entry` of the database's open transactions."""
        self._entry = entry
        entry.attach(self._tx)

    def execute(
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        interrupt: threading.Event | None = None,
    ) -> Result:
        try:
            with self._entry.statement(query, interrupt) as interrupt:
                return self._execute(query, params, timeout=timeout, interrupt=interrupt)
        except BaseException:
            if self._tx.closed:  # the failure rolled the transaction back: it is no longer open
                self._db.running.end(self._entry)
            raise

    def _execute(
        self,
        query: str,
        params: dict[str, Any] | None = None,
        *,
        timeout: float | None = None,
        interrupt: threading.Event | None = None,
    ) -> Result:
        statement = parse(query)
        if admin.runs_alone(statement):
            return self._administer(statement, params)
        result = self._db._run(self._tx, query, statement, params, timeout, interrupt, self.read_only)
        if self._pending is not None and self._tx.deltas:
            self.rollback()
            raise ForbiddenInTransaction(
                "This transaction changed the schema or the users; it cannot also write data (a transaction holds "
                "either, as in Neo4j). It was rolled back: change the schema in a transaction of its own."
            )
        return result

    def _administer(self, statement: ast.Statement, params: dict | None) -> Result:
        """A schema or administration statement in this transaction: a schema or
        user change waits for the commit, and only a transaction without data
        writes takes one; anything else acts at once. A failure rolls back."""
        if self._tx.closed:
            raise TransactionError("The transaction is already closed.")
        try:
            if isinstance(statement, ast.AdminStatement) and statement.command == "use_database":
                raise ForbiddenInTransaction("USE DATABASE cannot run in an explicit transaction: a transaction "
                                             "belongs to one database. Run it on its own, then begin.")
            if not admin.modifies_schema(statement):
                return self._db._administer(statement, params)
            if self._tx.deltas:
                raise ForbiddenInTransaction(
                    "This transaction has written data; it cannot also change the schema or the users (a transaction "
                    "holds either, as in Neo4j). Run the statement in a transaction of its own, for instance as an "
                    "auto-commit query."
                )
            if self._pending is None:
                self._pending = admin.Pending()
            return self._db._administer(statement, params, self._pending, self.read_only)
        except BaseException:
            self.rollback()
            raise

    def commit(self) -> None:
        """Commit; the schema and user changes made in the transaction take effect now."""
        self._db.placement.pin()
        pending, self._pending = self._pending, None
        try:
            self._entry.commit(self._tx)
        finally:
            self._db.running.end(self._entry)
        if pending is not None and pending.apply(self._db.storage):
            self._db._forget_plans()

    def rollback(self) -> None:
        """Roll back; nothing to do when the transaction already ended (a
        failed statement rolls its transaction back)."""
        self._pending = None
        self._entry.rollback()
        self._db.running.end(self._entry)

    def __enter__(self) -> "Transaction":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._tx.closed:
            return
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


def open(path: str | None = None, *, database: str | None = None, flag_file: str | None = None,
         **flags: Any) -> Database:
    """Open (recovering if needed) the database in directory `path`; None
    keeps it in memory only. `flags` are the configuration flags of
    `weftdb.basics.config` with underscores, e.g. `storage_wal_enabled=False`;
    `flag_file` and WEFTDB_* environment variables are read too.
    `database` names another database of the directory than the default
    one; closing it then closes the directory's every database, as closing
    the default one does."""
    config = Config.load(flags, flag_file=flag_file)
    db = Database(path, config)
    if database is None:
        return db
    try:
        chosen = db.database(database)
    except BaseException:
        db.close()
        raise
    if chosen is not db:
        chosen._owner = db
    return chosen

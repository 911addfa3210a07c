"""Several databases in one data directory, served by one process.

The default database lives at the top of the data directory, as it did
before there were several (`weftdb`, reached also as `neo4j`, `memgraph`
and `system`); every other one in `databases/<name>/`, a data directory of
its own (durability/catalog.py owns that layout and the crash-safe order of
CREATE and DROP). The default `Database` holds a `Databases`, which opens
the others at the start, each recovering on its own: one that fails is
logged and not served, the rest are. What the databases share: the users,
the procedures and query modules, the memory limit and, over Bolt, the
server; what each has alone: its graph, schema, WAL, snapshots, storage
mode, retention, `LOCK DATA DIRECTORY` state, open transactions and plan
cache.

The statements (both dialects): CREATE DATABASE name [IF NOT EXISTS],
DROP DATABASE name [IF EXISTS], STOP DATABASE name, START DATABASE name,
USE DATABASE name (a Bolt session's default; embedded, `db.database(name)`),
SHOW DATABASES and SHOW DATABASE (query/operations.py lists them from here).
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Callable

from weftdb.basics import identity
from weftdb.basics.config import Config
from weftdb.basics.errors import (
    ClientError,
    DatabaseNotFound,
    DatabaseUnavailable,
    Error,
    ExistingDatabaseFound,
)
from weftdb.durability import catalog
from weftdb.durability.files import FileSystem
from weftdb.query import ast, running
from weftdb.query.results import Result

log = logging.getLogger("weftdb")

COMMANDS = ("create_database", "drop_database", "stop_database", "start_database", "use_database")
"""The administration statements this module runs (Database._administer hands them here)."""

Database = Any
"""weftdb.database.Database, the layer above: it holds a Databases and hands it its opener."""

Opener = Callable[[str, "str | None", Config], Database]
"""Opens database `name` at a path (None: in memory only) with a configuration."""


class Databases:
    """The databases of one data directory (or, without one, of one process's memory)."""

    def __init__(self, default: Database, fs: FileSystem | None, opener: Opener):
        self.default = default
        self.root = default.path
        self._fs = fs or FileSystem()
        self._opener = opener
        # Every database but the default starts in the mode its directory keeps
        # (--storage-mode is the default database's: another may be on disk).
        self._config = Config({**default.config.as_dict(), "storage_mode": ""})
        self._served: dict[str, Database] = {}
        self._failed: dict[str, str] = {}  # name -> why its start failed
        self._stopped: set[str] = set()
        self._lock = threading.Lock()  # CREATE, DROP, STOP and START, one at a time

    # -- the start and the end ------------------------------------------------------------

    def start(self) -> None:
        """Open every database of the directory that is not stopped, each on
        its own: one that fails to recover is reported, not served."""
        if self.root is None:
            return
        catalog.clean(self._fs, self.root)
        self._stopped = catalog.stopped(self._fs, self.root)
        names = catalog.names(self._fs, self.root)
        for name in names:
            if name not in self._stopped:
                self._open(name)
        if self._stopped - set(names):  # stopped, then dropped before the list was rewritten
            self._stopped &= set(names)
            catalog.set_stopped(self._fs, self.root, self._stopped)

    def _open(self, name: str) -> None:
        try:
            self._served[name] = self._opener(name, catalog.path_of(self.root, name), self._config)
            self._failed.pop(name, None)
        except Error as exc:
            self._failed[name] = str(exc)
            log.error("database %s is not served: %s", name, exc)

    def close(self) -> None:
        """Close every database but the default one (whose close calls this)."""
        with self._lock:
            served, self._served = self._served, {}
        for db in served.values():
            db.close_alone()

    # -- finding one -----------------------------------------------------------------------

    def get(self, name: str | None, user: str | None = None) -> Database:
        """The database a client's name reaches (None or "" and the default's
        names reach the default one), or DatabaseNotFound / DatabaseUnavailable.
        `user`, a Bolt client's, finds only the databases they may use: to
        them another does not exist (None: the embedded caller, who may use all)."""
        key = identity.DATABASE if identity.is_default(name) else name.lower() if isinstance(name, str) else name
        if not self._may_use(user, key):
            raise DatabaseNotFound.named(name or key)
        if key == identity.DATABASE:
            return self.default
        db = self._served.get(key)
        if db is not None:
            return db
        if key in self._failed:
            raise DatabaseUnavailable(f"Database {name!r} is not served: it failed to start ({self._failed[key]}). "
                                      "Repair it (weftdb verify) and run START DATABASE, or drop it.")
        if key in self._stopped:
            raise DatabaseUnavailable(f"Database {name!r} is stopped; START DATABASE {key} serves it again.")
        raise DatabaseNotFound.named(name)

    def _may_use(self, user: str | None, name: str) -> bool:
        users = self.default.users
        return user is None or not users.has_users or users.may_use(user, name)

    def main_of(self, user: str | None) -> str | None:
        """The database `user`'s sessions use when the client names none (SET MAIN DATABASE), or None: the default."""
        if user is None or not self.default.users.has_users:
            return None
        return self.default.users.access(user)[2] or None

    def names(self) -> list[str]:
        """Every database, the default one first."""
        return [identity.DATABASE, *sorted(set(self._served) | set(self._failed) | self._stopped)]

    def rows(self, address: str, user: str | None) -> list[dict[str, Any]]:
        """The rows of SHOW DATABASES that `user` may see (None: every one), the
        default database first (Neo4j's columns)."""
        rows = []
        home = self.main_of(user) or identity.DATABASE
        for name in self.names():
            if not self._may_use(user, name):
                continue
            default = name == identity.DATABASE
            if name in self._failed:
                requested, current, message = "online", "offline", self._failed[name]
            elif name in self._stopped:
                requested, current, message = "offline", "offline", ""
            else:
                requested, current, message = "online", "online", ""
            rows.append({"name": name, "type": "standard", "aliases": list(identity.DATABASE_ALIASES) if default else [],
                         "access": "read-write", "address": address, "role": "primary", "writer": True,
                         "requestedStatus": requested, "currentStatus": current, "statusMessage": message,
                         "default": default, "home": name == home, "constituents": []})
        return rows

    # -- the statements ----------------------------------------------------------------------

    def administer(self, statement: ast.AdminStatement, current: Database,
                   use: Callable[[str], None] | None) -> Result:
        """Run one of COMMANDS from database `current`; `use` switches the
        session's database (USE DATABASE), None where there is no session."""
        command = statement.command
        name = statement.arg("name")
        caller = running.current_client()
        user = None if caller.embedded else caller.user or None
        if command == "use_database":
            target = self.get(name, user)
            if use is None:
                raise ClientError("USE DATABASE chooses a Bolt session's database; embedded, call "
                                  f"db.database({name!r}) for that database's handle.")
            use(identity.DATABASE if target is self.default else target.name)
            return _status(f"Using database {target.name}")
        what = command.replace("_", " ").upper()
        self.default.users.check_administrator(user, what)
        try:
            name = identity.database_name(name)
        except ValueError as exc:
            raise ClientError(f"{what}: {exc}.") from None
        with self._lock:
            if command == "create_database":
                return self._create(name, statement.arg("if_not_exists"))
            if identity.is_default(name):
                raise ClientError(f"{name} is the default database: it cannot be dropped, stopped or started.")
            if command == "drop_database":
                return self._drop(name, statement.arg("if_exists"), current)
            if command == "stop_database":
                return self._stop(name, current)
            return self._start(name)

    def _exists(self, name: str) -> bool:
        """Known to this process, or a directory on disk (one `weftdb restore --database` wrote meanwhile)."""
        return (identity.is_default(name) or name in self._served or name in self._failed or name in self._stopped
                or (self.root is not None and name in catalog.names(self._fs, self.root)))

    def _create(self, name: str, if_not_exists: bool) -> Result:
        if self._exists(name):
            if if_not_exists:
                return _status(f"Database {name} exists already")
            raise ExistingDatabaseFound(f"Database {name} exists already (CREATE DATABASE {name} IF NOT EXISTS "
                                        "accepts that).")
        if len(self.names()) >= self.default.config.max_databases:
            raise ClientError(f"CREATE DATABASE {name}: this data directory holds {len(self.names())} databases, "
                              f"the most --max-databases={self.default.config.max_databases} allows.")
        if self.root is None:
            self._served[name] = self._opener(name, None, self._config)
        else:
            catalog.create(self._fs, self.root, name)
            self._open(name)
            if name in self._failed:
                raise DatabaseUnavailable(f"Database {name} was created but does not start: {self._failed[name]}")
        log.info("created database %s", name)
        return _status(f"Created database {name}")

    def _drop(self, name: str, if_exists: bool, current: Database) -> Result:
        if not self._exists(name):
            if if_exists:
                return _status(f"Database {name} does not exist")
            raise DatabaseNotFound.named(name)
        db = self._served.get(name)
        if db is not None:
            self._refuse_in_use(db, current, "drop")
            del self._served[name]
            db.close_alone()
        if self.root is not None:
            if name in self._stopped:  # first: a stopped name that no longer exists is dropped from the list at the start
                catalog.set_stopped(self._fs, self.root, self._stopped - {name})
            catalog.drop(self._fs, self.root, name)
        self._stopped.discard(name)
        self._failed.pop(name, None)
        log.info("dropped database %s", name)
        return _status(f"Dropped database {name}")

    def _stop(self, name: str, current: Database) -> Result:
        if self.root is None:
            raise ClientError(f"STOP DATABASE {name}: a database kept in memory only would lose its graph; "
                              "DROP DATABASE removes it.")
        if name in self._stopped:
            return _status(f"Database {name} is stopped already")
        db = self.get(name) if name not in self._failed else None
        if db is not None:
            self._refuse_in_use(db, current, "stop")
        catalog.set_stopped(self._fs, self.root, self._stopped | {name})
        self._stopped.add(name)
        self._failed.pop(name, None)
        if db is not None:
            del self._served[name]
            db.close_alone()
        log.info("stopped database %s", name)
        return _status(f"Stopped database {name}")

    def _start(self, name: str) -> Result:
        """Serve a stopped database, one that failed to start, or one that
        `weftdb restore --database` wrote into this directory meanwhile."""
        if name in self._served:
            return _status(f"Database {name} is started already")
        if not self._exists(name):
            raise DatabaseNotFound.named(name)
        known = self.names()
        if name not in known and len(known) >= self.default.config.max_databases:
            raise ClientError(f"START DATABASE {name}: this data directory serves {len(known)} databases, "
                              f"the most --max-databases={self.default.config.max_databases} allows.")
        if name in self._stopped:
            catalog.set_stopped(self._fs, self.root, self._stopped - {name})
            self._stopped.discard(name)
        self._open(name)
        if name in self._failed:
            raise DatabaseUnavailable(f"Database {name} does not start: {self._failed[name]}")
        log.info("started database %s", name)
        return _status(f"Started database {name}")

    @staticmethod
    def _refuse_in_use(db: Database, current: Database, verb: str) -> None:
        if db is current:
            raise ClientError(f"Cannot {verb} database {db.name}: this statement runs in it. Run it from another "
                              "database (USE DATABASE weftdb).")
        busy = db.running.count()
        if busy:
            raise ClientError(f"Cannot {verb} database {db.name}: {busy} transaction(s) are open in it. "
                                         "End them first (SHOW TRANSACTIONS and TERMINATE TRANSACTIONS in it).")


def _status(text: str) -> Result:
    return Result(["STATUS"], [(text,)], "s")

"""Administration statements: indexes and constraints, users, snapshots,
LOCK DATA DIRECTORY, checkpoints, DUMP DATABASE and storage information.

They answer with Memgraph's column names and status texts. Each statement
is one small function in `HANDLERS`, keyed by its AST class or its command
name; a handler is given the `Parts` it may act on (the store, the data
directory's durability, the users), never the whole database. A statement
whose layer is not built says so instead of pretending.

Creating an index or constraint that exists, or dropping one that does not,
succeeds with a notification (Memgraph's behaviour); with IF NOT EXISTS or
IF EXISTS it succeeds silently. In an explicit transaction (Neo4j's rule:
one that has written no data, and writes none after) the schema and user
changes wait in `Pending` and are applied when the transaction commits;
its rollback drops them. Every other statement acts at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from weftdb.basics import identity
from weftdb.basics.config import Config
from weftdb.basics.errors import ClientError, DatabaseNotFound, SchemaError, TransactionError
from weftdb.durability import checkpoint, dump
from weftdb.durability.data_directory import Durability
from weftdb.durability.users import ALL_DATABASES, UnknownUser, UserExists, UserStore
from weftdb.graph import schema
from weftdb.graph.interface import GraphStore
from weftdb.graph.schema import Catalog, ConstraintDef, IndexDef
from weftdb.query import ast, running, schema_listing
from weftdb.query.operations import HANDLERS as OPERATIONS
from weftdb.query.results import Result
from weftdb.query.running import Running

SNAPSHOT_COLUMNS = ["path", "timestamp", "creation_time", "size"]


@dataclass(frozen=True)
class Parts:
    """What administration statements act on. `durability` is None for a
    database kept in memory only."""

    storage: GraphStore
    durability: Durability | None
    users: UserStore
    running: Running | None = None  # the database's open transactions (SHOW / TERMINATE TRANSACTIONS)
    config: Config | None = None  # its flags (SHOW CONFIG)
    pending: "Pending | None" = None  # in an explicit transaction: where its schema and user changes wait


Handler = Callable[[Parts, Any, dict[str, Any]], Result]


STATEMENTS = (ast.CreateIndex, ast.DropIndex, ast.CreateConstraint, ast.DropConstraint, ast.AdminStatement)
SCHEMA_CHANGES = (ast.CreateIndex, ast.DropIndex, ast.CreateConstraint, ast.DropConstraint)
"""Statements after which cached plans are stale: they chose indexes under the old schema."""
_USER_CHANGES = ("create_user", "set_password", "drop_user", "grant_database", "deny_database", "revoke_database",
                 "set_main_database")


def runs_alone(statement: ast.Statement) -> bool:
    """Schema and administration statements are not planned as queries: `administer` runs them."""
    return isinstance(statement, STATEMENTS)


def modifies_schema(statement: ast.Statement) -> bool:
    """Whether a statement changes the schema or the users: Neo4j's schema statements,
    which share no transaction with data writes."""
    return isinstance(statement, SCHEMA_CHANGES) or (
        isinstance(statement, ast.AdminStatement) and statement.command in _USER_CHANGES)


class Pending:
    """The schema and user changes of an explicit transaction, applied when it
    commits (`apply`), dropped when it rolls back. Its statements see them
    (`catalog`): a second CREATE INDEX of the same index in the transaction
    is told it exists."""

    def __init__(self) -> None:
        self.ops: list[tuple] = []
        self.actions: list[Callable[[], None]] = []
        self._catalog: Catalog | None = None

    def catalog(self, storage: GraphStore) -> Catalog:
        if self._catalog is None:
            with storage.write_lock:
                self._catalog = storage.catalog.copy()
        return self._catalog

    def add(self, storage: GraphStore, ops: list[tuple]) -> None:
        catalog = self.catalog(storage)
        for op in ops:
            catalog.apply(op)
        self.ops.extend(ops)

    def apply(self, storage: GraphStore) -> bool:
        """Apply the changes (the schema's all or none); whether the schema changed."""
        applied = storage.apply_schema(self.ops) if self.ops else []
        for action in self.actions:
            action()
        return bool(applied)


def administer(parts: Parts, statement: ast.Statement, params: dict[str, Any]) -> Result:
    key = statement.command if isinstance(statement, ast.AdminStatement) else type(statement)
    handler = HANDLERS.get(key)
    if handler is None:
        raise ClientError(f"{str(key).replace('_', ' ').upper()} is not available in this version of WeftDB.")
    if parts.pending is None and isinstance(statement, SCHEMA_CHANGES):
        with parts.storage.write_lock:  # the catalog it reads is the one it changes
            return handler(parts, statement, params)
    return handler(parts, statement, params)


def _status(text: str) -> Result:
    return Result(["STATUS"], [(text,)], "s")


# -- indexes and constraints ------------------------------------------------------------------


_EXISTS_CODE = "Neo.ClientNotification.Schema.IndexOrConstraintAlreadyExists"
_MISSING_CODE = "Neo.ClientNotification.Schema.IndexOrConstraintDoesNotExist"


def _notification(code: str, title: str, description: str) -> dict[str, Any]:
    return {"code": code, "title": title, "description": description, "severity": "INFORMATION", "category": "SCHEMA"}


def _catalog(parts: Parts) -> Catalog:
    """The catalog as the statement sees it: with its transaction's pending changes."""
    return parts.pending.catalog(parts.storage) if parts.pending is not None else parts.storage.catalog


def _change(parts: Parts, ops: list[tuple]) -> list[tuple]:
    """Apply schema ops now, or at the commit of the statement's transaction; returns the ops that change something."""
    if parts.pending is not None:
        parts.pending.add(parts.storage, ops)
        return ops
    return parts.storage.apply_schema(ops)


def _create(parts: Parts, definitions: list, named: bool, if_not_exists: bool, counter: str) -> Result:
    """CREATE of index or constraint definitions (one per key for Memgraph's
    EXISTS over several): those that exist already are notified, unless IF NOT EXISTS."""
    catalog = _catalog(parts)
    ops, notes = [], []
    for definition in definitions:
        holder = catalog.named(definition.name)
        if holder is not None and if_not_exists:
            continue  # Neo4j: a name in use, by anything, makes IF NOT EXISTS do nothing
        outcome, existing = catalog.resolve(definition.op())  # raises when the name holds another definition
        if outcome == schema.APPLY:
            ops.append(definition.op())
        elif not if_not_exists:
            notes.append(_notification(_EXISTS_CODE, f"`CREATE {definition.describe(named)}` has no effect.",
                                       f"`{existing.describe()}` already exists."))
    applied = _change(parts, ops) if ops else []
    for op in ops:
        if op not in applied:  # made meanwhile by another statement
            notes.append(_notification(_EXISTS_CODE, "The index or constraint exists already.",
                                       f"`{_describe_op(op)}` already exists."))
    return Result([], [], "s", {counter: len(applied)}, notifications=notes)


def _drop(parts: Parts, names: list[str | None], what: str, missing: str, if_exists: bool, counter: str,
          code: int) -> Result:
    """DROP of definitions by name; None stands for one not found (`what` is
    the statement's object, `missing` says what is not there)."""
    found = [name for name in names if name is not None]
    notes = []
    if len(found) < len(names) and not if_exists:
        notes.append(_notification(_MISSING_CODE, f"`DROP {what}` has no effect.", missing))
    applied = _change(parts, [(code, name) for name in found]) if found else []
    return Result([], [], "s", {counter: len(applied)}, notifications=notes)


def _describe_op(op: tuple) -> str:
    return (IndexDef if op[0] == schema.CREATE_INDEX else ConstraintDef).of_op(op).describe()


def _index_shape(statement: ast.CreateIndex | ast.DropIndex) -> tuple[str, str]:
    """(kind, entity) of an index statement, checked: Memgraph's forms have no kind but by their keys."""
    keys = statement.properties
    entity = schema.RELATIONSHIP if statement.relationship else schema.NODE
    kind = statement.kind or (schema.RANGE if keys else schema.LOOKUP)
    if kind == schema.LOOKUP and entity == schema.RELATIONSHIP:
        raise SchemaError(f"An edge index needs a property: CREATE EDGE INDEX ON :{schema.quote(statement.label)}(property).")
    if kind in (schema.TEXT, schema.POINT) and len(keys) > 1:
        raise SchemaError(f"A {kind} index is over one property; a RANGE index may have several.")
    return kind, entity


def _create_index(parts: Parts, statement: ast.CreateIndex, params) -> Result:
    kind, entity = _index_shape(statement)
    definition = IndexDef(statement.name or "", kind, entity, statement.label, statement.properties)
    if statement.name is None:
        definition = IndexDef(_catalog(parts).fresh_name(definition), kind, entity, statement.label, statement.properties)
    return _create(parts, [definition], statement.name is not None, statement.if_not_exists, "indexes-added")


def _drop_index(parts: Parts, statement: ast.DropIndex, params) -> Result:
    catalog = _catalog(parts)
    if statement.name is not None:
        if statement.name in catalog.constraints:
            raise SchemaError(f"`{statement.name}` is a constraint (or the index it owns); "
                              f"drop it with DROP CONSTRAINT {schema.quote(statement.name)}.")
        name = statement.name if statement.name in catalog.indexes else None
        what, missing = f"INDEX {schema.quote(statement.name)}", f"There is no index named `{statement.name}`."
    else:
        kind, entity = _index_shape(statement)
        found = catalog.index_on(kind, entity, statement.label, statement.properties)
        name = found.name if found is not None else None
        keys = "(" + ", ".join(statement.properties) + ")" if statement.properties else ""
        prefix = "EDGE " if statement.relationship else "POINT " if kind == schema.POINT else ""
        what, missing = f"{prefix}INDEX ON :{statement.label}{keys}", f"There is no index on :{statement.label}{keys}."
    return _drop(parts, [name], what, missing, statement.if_exists, "indexes-removed", schema.DROP_INDEX)


def _create_constraint(parts: Parts, statement: ast.CreateConstraint, params) -> Result:
    if statement.relationship:
        raise SchemaError("Relationship property constraints are not supported; constraints hold for nodes "
                          "with a label: FOR (n:Label) REQUIRE ... (docs/cypher.md).")
    catalog = _catalog(parts)
    each = [(key,) for key in statement.properties] if statement.kind == schema.EXISTS else [statement.properties]
    if statement.name is not None and len(each) > 1:
        raise SchemaError("A named existence constraint is over one property.")
    definitions = []
    for keys in each:
        definition = ConstraintDef(statement.name or "", statement.kind, statement.label, keys)
        if statement.name is None:
            definition = ConstraintDef(catalog.fresh_name(definition), statement.kind, statement.label, keys)
        definitions.append(definition)
    return _create(parts, definitions, statement.name is not None, statement.if_not_exists, "constraints-added")


def _drop_constraint(parts: Parts, statement: ast.DropConstraint, params) -> Result:
    catalog = _catalog(parts)
    if statement.name is not None:
        if statement.name in catalog.indexes:
            raise SchemaError(f"`{statement.name}` is an index; drop it with DROP INDEX {schema.quote(statement.name)}.")
        name = statement.name if statement.name in catalog.constraints else None
        return _drop(parts, [name], f"CONSTRAINT {schema.quote(statement.name)}",
                     f"There is no constraint named `{statement.name}`.", statement.if_exists,
                     "constraints-removed", schema.DROP_CONSTRAINT)
    each = [(key,) for key in statement.properties] if statement.kind == schema.EXISTS else [statement.properties]
    names = []
    for keys in each:
        found = catalog.constraint_on(statement.kind, statement.label, keys)
        names.append(found.name if found is not None else None)
    kind = {"exists": "existence", "unique": "uniqueness", "node_key": "node key"}[statement.kind]
    on = f":{statement.label}({', '.join(statement.properties)})"
    return _drop(parts, names, f"CONSTRAINT ON {on}", f"There is no {kind} constraint on {on}.", statement.if_exists,
                  "constraints-removed", schema.DROP_CONSTRAINT)


def _show_index_info(parts: Parts, statement, params) -> Result:
    return Result(["index type", "label", "property", "count"], schema_listing.memgraph_index_rows(parts.storage), "s")


def _show_constraint_info(parts: Parts, statement, params) -> Result:
    return Result(["constraint type", "label", "properties"], schema_listing.memgraph_constraint_rows(parts.storage), "s")


# -- the data directory -------------------------------------------------------------------


def _durable(handler: Callable[[Durability], Result]) -> Handler:
    """A statement about the data directory; refused for a database in memory only."""

    def run(parts: Parts, statement: ast.AdminStatement, params) -> Result:
        if parts.durability is None:
            raise ClientError(f"{statement.command.replace('_', ' ').upper()} needs a data directory; "
                              "this database is in memory only.")
        return handler(parts.durability)

    return run


def _create_snapshot(durability: Durability) -> Result:
    return Result(["path"], [(durability.create_snapshot(),)], "s")


def _show_snapshots(durability: Durability) -> Result:
    rows = [(s.path, s.timestamp, s.creation_time, s.size) for s in durability.snapshots()]
    return Result(SNAPSHOT_COLUMNS, rows, "s")


def _show_next_snapshot(durability: Durability) -> Result:
    if durability.next_snapshot_at is None:
        return Result(SNAPSHOT_COLUMNS, [], "s")
    when = datetime.fromtimestamp(durability.next_snapshot_at, timezone.utc).isoformat()
    return Result(SNAPSHOT_COLUMNS, [(None, None, when, None)], "s")


def _lock(durability: Durability) -> Result:
    now = durability.retention.pause("lock")
    return _status("Data directory is now locked." if now else "Data directory is already locked.")


def _unlock(durability: Durability) -> Result:
    now = durability.retention.resume("lock")
    return _status("Data directory is now unlocked." if now else "Data directory is already unlocked.")


def _lock_status(durability: Durability) -> Result:
    return _status("Data directory is locked." if durability.retention.paused("lock") else "Data directory is unlocked.")


def _checkpoint_create(durability: Durability) -> Result:
    manifest = checkpoint.create(durability)
    return Result(["path", "commit_timestamp"], [(durability.layout.checkpoint_manifest, manifest["commit_timestamp"])], "s")


def _checkpoint_release(durability: Durability) -> Result:
    return _status("Checkpoint released." if checkpoint.release(durability) else "No checkpoint is in flight.")


def _checkpoint_status(durability: Durability) -> Result:
    return Result(checkpoint.STATUS_COLUMNS, [checkpoint.status(durability)], "s")


# -- the database as a whole -----------------------------------------------------------------


def _dump_database(parts: Parts, statement, params) -> Result:
    return Result(["QUERY"], [(line,) for line in dump.dump(parts.storage)], "r")


def _storage_mode(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    """STORAGE MODE: the switching rules are the durability's (data_directory.py) and the store's."""
    mode = statement.arg("mode")
    if parts.durability is not None:
        parts.durability.switch_mode(mode)
    else:
        parts.storage.switch_mode(mode)
    return Result([], [], "s")


def _transaction_control(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    raise TransactionError(
        f"{statement.command.upper()} is transaction control for the Bolt server; "
        "in Python use db.begin() / tx.commit() / tx.rollback() or `with db.transaction()`."
    )


# -- users -----------------------------------------------------------------------------------


def _password(statement: ast.AdminStatement, params: dict[str, Any]) -> str:
    expr = statement.arg("password")
    if expr is None:
        return ""
    if isinstance(expr, ast.Parameter):
        if expr.name not in params:
            raise ClientError(f"Expected parameter ${expr.name} for the password, which was not given.")
        value = params[expr.name]
    else:
        value = expr.value
    if not isinstance(value, str):
        raise ClientError("A password must be a string.")
    return value


def _user_change(parts: Parts, user: str, exists: bool, action: Callable[[], None], what: str) -> Result:
    """Change the users now, or at the commit of the statement's transaction
    (`exists`: whether the user must exist, checked now either way). Only
    an administrator may (UserStore.check_administrator), except a user
    setting their own password."""
    caller = running.current_client()
    if not (what == "SET PASSWORD" and caller.user == user):
        parts.users.check_administrator(None if caller.embedded else caller.user, what)
    if parts.pending is None:
        action()
    else:
        if (user in parts.users.users()) != exists:
            raise (UnknownUser if exists else UserExists)(f"user {user!r} {'does not exist' if exists else 'already exists'}")
        parts.pending.actions.append(action)
    return Result([], [], "s", {"system-updates": 1})


def _create_user(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    user, password = statement.arg("user"), _password(statement, params)
    return _user_change(parts, user, False, lambda: parts.users.create(user, password), "CREATE USER")


def _set_password(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    user, password = statement.arg("user"), _password(statement, params)
    return _user_change(parts, user, True, lambda: parts.users.set_password(user, password), "SET PASSWORD")


def _drop_user(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    user = statement.arg("user")
    return _user_change(parts, user, True, lambda: parts.users.drop(user), "DROP USER")


def _show_users(parts: Parts, statement, params) -> Result:
    return Result(["user"], [(name,) for name in parts.users.users()], "s")


def _database_named(parts: Parts, name: str, every: bool = True) -> str:
    """The database a GRANT, DENY, REVOKE or SET MAIN names, as kept: `*`
    (when `every` may be named), the default one's names as its own, else
    a database of this data directory."""
    if name == ALL_DATABASES and every:
        return name
    try:
        name = identity.database_name(name)
    except ValueError as exc:
        raise ClientError(f"{exc}.") from None
    if identity.is_default(name):
        return identity.DATABASE
    known = parts.running.databases.names() if parts.running is not None and parts.running.databases else ()
    if name not in known:
        raise DatabaseNotFound.named(name)
    return name


def _database_access(how: str) -> Handler:
    def handler(parts: Parts, statement: ast.AdminStatement, params) -> Result:
        user, database = statement.arg("user"), _database_named(parts, statement.arg("database"))
        return _user_change(parts, user, True, lambda: parts.users.set_access(user, database, how),
                            f"{how.upper()} DATABASE")
    return handler


def _set_main_database(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    user, database = statement.arg("user"), _database_named(parts, statement.arg("database"), every=False)
    return _user_change(parts, user, True, lambda: parts.users.set_main(user, database), "SET MAIN DATABASE")


def _show_database_privileges(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    """Memgraph's columns: what the user is granted and denied, and their main database."""
    granted, denied, main = parts.users.access(statement.arg("user"))
    return Result(["grants", "denies", "main"], [(granted, denied, main or identity.DATABASE)], "s")


HANDLERS: dict[Any, Handler] = {
    ast.CreateIndex: _create_index,
    ast.DropIndex: _drop_index,
    ast.CreateConstraint: _create_constraint,
    ast.DropConstraint: _drop_constraint,
    "show_index_info": _show_index_info,
    "show_constraint_info": _show_constraint_info,
    "create_snapshot": _durable(_create_snapshot),
    "show_snapshots": _durable(_show_snapshots),
    "show_next_snapshot": _durable(_show_next_snapshot),
    "lock_data_directory": _durable(_lock),
    "unlock_data_directory": _durable(_unlock),
    "data_directory_lock_status": _durable(_lock_status),
    "checkpoint_create": _durable(_checkpoint_create),
    "checkpoint_release": _durable(_checkpoint_release),
    "checkpoint_status": _durable(_checkpoint_status),
    "dump_database": _dump_database,
    "storage_mode": _storage_mode,
    "begin": _transaction_control,
    "commit": _transaction_control,
    "rollback": _transaction_control,
    "create_user": _create_user,
    "set_password": _set_password,
    "drop_user": _drop_user,
    "show_users": _show_users,
    "grant_database": _database_access("grant"),
    "deny_database": _database_access("deny"),
    "revoke_database": _database_access("revoke"),
    "set_main_database": _set_main_database,
    "show_database_privileges": _show_database_privileges,
    **OPERATIONS,  # SHOW VERSION, CONFIG, STORAGE INFO, DATABASES, TRANSACTIONS, ... (query/operations.py)
}

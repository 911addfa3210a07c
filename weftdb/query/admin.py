"""Administration statements: indexes and constraints, users, snapshots,
LOCK DATA DIRECTORY, checkpoints, DUMP DATABASE and storage information.

They run on their own (autocommit), as in Memgraph, and answer with
Memgraph's column names and status texts. Each statement is one small
function in `HANDLERS`, keyed by its AST class or its command name; a
handler is given the `Parts` it may act on (the store, the data directory's
durability, the users), never the whole database. A statement whose layer is
not built says so instead of pretending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from weftdb.basics.config import Config
from weftdb.basics.errors import ClientError, TransactionError
from weftdb.durability import checkpoint, dump
from weftdb.durability.data_directory import Durability
from weftdb.durability.users import UserStore
from weftdb.graph.storage import Storage
from weftdb.query import ast
from weftdb.query.operations import HANDLERS as OPERATIONS
from weftdb.query.results import Result
from weftdb.query.running import Running

SNAPSHOT_COLUMNS = ["path", "timestamp", "creation_time", "size"]


@dataclass(frozen=True)
class Parts:
    """What administration statements act on. `durability` is None for a
    database kept in memory only."""

    storage: Storage
    durability: Durability | None
    users: UserStore
    running: Running | None = None  # the database's open transactions (SHOW / TERMINATE TRANSACTIONS)
    config: Config | None = None  # its flags (SHOW CONFIG)


Handler = Callable[[Parts, Any, dict[str, Any]], Result]


STATEMENTS = (ast.CreateIndex, ast.DropIndex, ast.CreateConstraint, ast.DropConstraint, ast.AdminStatement)
SCHEMA_CHANGES = (ast.CreateIndex, ast.DropIndex)
"""Statements after which cached plans are stale: they chose indexes under the old schema."""


def runs_alone(statement: ast.Statement) -> bool:
    """Schema and administration statements run on their own, never inside a transaction."""
    return isinstance(statement, STATEMENTS)


def administer(parts: Parts, statement: ast.Statement, params: dict[str, Any]) -> Result:
    key = statement.command if isinstance(statement, ast.AdminStatement) else type(statement)
    handler = HANDLERS.get(key)
    if handler is None:
        raise ClientError(f"{str(key).replace('_', ' ').upper()} is not available in this version of WeftDB.")
    return handler(parts, statement, params)


def _status(text: str) -> Result:
    return Result(["STATUS"], [(text,)], "s")


# -- indexes and constraints ------------------------------------------------------------------


def _create_index(parts: Parts, statement: ast.CreateIndex, params) -> Result:
    created = parts.storage.create_index(statement.label, statement.property)
    return Result([], [], "s", {"indexes-added": int(created)})


def _drop_index(parts: Parts, statement: ast.DropIndex, params) -> Result:
    if not parts.storage.drop_index(statement.label, statement.property):
        target = f":{statement.label}" + (f"({statement.property})" if statement.property else "")
        raise ClientError(f"There is no index on {target} to drop.")
    return Result([], [], "s", {"indexes-removed": 1})


def _create_constraint(parts: Parts, statement: ast.CreateConstraint, params) -> Result:
    parts.storage.create_constraint(statement.kind, statement.label, statement.properties)
    return Result([], [], "s", {"constraints-added": 1})


def _drop_constraint(parts: Parts, statement: ast.DropConstraint, params) -> Result:
    parts.storage.drop_constraint(statement.kind, statement.label, statement.properties)
    return Result([], [], "s", {"constraints-removed": 1})


def _show_index_info(parts: Parts, statement, params) -> Result:
    storage = parts.storage
    with storage.write_lock:  # the declared indexes: not those that uniqueness constraints own
        declared = sorted((d.keys != (), d.token, d.keys) for d in storage.catalog.indexes.values())
    tx = storage.begin()
    try:
        rows = []
        for has_key, label, keys in declared:
            if not has_key:
                rows.append(("label", label, None, sum(1 for _ in tx.vertices_with_label(label))))
                continue
            count = sum(1 for v in tx.vertices_with_label(label) if tx.get(v, keys[0]) is not None)
            rows.append(("label+property", label, keys[0], count))
    finally:
        tx.commit()
    return Result(["index type", "label", "property", "count"], rows, "s")


def _show_constraint_info(parts: Parts, statement, params) -> Result:
    constraints = parts.storage.constraints
    rows = [("exists", label, key) for label, key in sorted(constraints.existence)]
    rows += [("unique", label, list(keys)) for label, keys in sorted(constraints.unique)]
    return Result(["constraint type", "label", "properties"], rows, "s")


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
    mode = statement.arg("mode")
    if mode != "IN_MEMORY_TRANSACTIONAL":
        raise ClientError(f"Storage mode {mode} is not supported; WeftDB runs IN_MEMORY_TRANSACTIONAL.")
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


def _create_user(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    parts.users.create(statement.arg("user"), _password(statement, params))
    return Result([], [], "s")


def _set_password(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    parts.users.set_password(statement.arg("user"), _password(statement, params))
    return Result([], [], "s")


def _drop_user(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    parts.users.drop(statement.arg("user"))
    return Result([], [], "s")


def _show_users(parts: Parts, statement, params) -> Result:
    return Result(["user"], [(name,) for name in parts.users.users()], "s")


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
    **OPERATIONS,  # SHOW VERSION, CONFIG, STORAGE INFO, DATABASES, TRANSACTIONS, ... (query/operations.py)
}

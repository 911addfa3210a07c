"""Schema and administration statements: indexes, constraints, SHOW ... INFO.

These run on their own, outside explicit transactions, as in Memgraph, and
answer with Memgraph's column names. Statements that belong to layers not
built yet say so instead of pretending.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from weftdb.basics.errors import ClientError, TransactionError
from weftdb.durability import checkpoint, dump
from weftdb.query import ast
from weftdb.query.results import Result

if TYPE_CHECKING:
    from weftdb.database import Database


def administer(db: "Database", statement: ast.Statement, params: dict[str, Any]) -> Result:
    storage = db.storage
    if isinstance(statement, ast.CreateIndex):
        created = storage.create_index(statement.label, statement.property)
        return Result([], [], "s", {"indexes-added": int(created)})
    if isinstance(statement, ast.DropIndex):
        if not storage.drop_index(statement.label, statement.property):
            target = f":{statement.label}" + (f"({statement.property})" if statement.property else "")
            raise ClientError(f"There is no index on {target} to drop.")
        return Result([], [], "s", {"indexes-removed": 1})
    if isinstance(statement, ast.CreateConstraint):
        storage.create_constraint(statement.kind, statement.label, statement.properties)
        return Result([], [], "s", {"constraints-added": 1})
    if isinstance(statement, ast.DropConstraint):
        storage.drop_constraint(statement.kind, statement.label, statement.properties)
        return Result([], [], "s", {"constraints-removed": 1})
    command = statement.command
    if command == "show_index_info":
        return show_index_info(db)
    if command == "show_constraint_info":
        return show_constraint_info(db)
    if command in ("begin", "commit", "rollback"):
        raise TransactionError(
            f"{command.upper()} is transaction control for the Bolt server; "
            "in Python use db.begin() / tx.commit() / tx.rollback() or `with db.transaction()`."
        )
    if command == "dump_database":
        return Result(["QUERY"], [(line,) for line in dump.dump(storage)], "r")
    if command in _USERS:
        return _USERS[command](db.users, statement, params)
    if command in _DURABILITY:
        if db.durability is None:
            raise ClientError(f"{command.replace('_', ' ').upper()} needs a data directory; this database is in memory only.")
        return _DURABILITY[command](db.durability)
    if command == "show_storage_info":
        return show_storage_info(db)
    if command == "storage_mode":
        mode = statement.arg("mode")
        if mode != "IN_MEMORY_TRANSACTIONAL":
            raise ClientError(f"Storage mode {mode} is not supported; WeftDB runs IN_MEMORY_TRANSACTIONAL.")
        return Result([], [], "s")
    raise ClientError(f"{command.replace('_', ' ').upper()} is not available in this version of WeftDB.")


def show_index_info(db: "Database") -> Result:
    indexes = db.storage.indexes
    tx = db.storage.begin()
    try:
        rows = []
        for label in sorted(indexes.declared_labels):
            rows.append(("label", label, None, sum(1 for _ in tx.vertices_with_label(label))))
        for label, key in sorted(indexes.by_property):
            count = sum(1 for v in tx.vertices_with_label(label) if tx.get(v, key) is not None)
            rows.append(("label+property", label, key, count))
    finally:
        tx.commit()
    return Result(["index type", "label", "property", "count"], rows, "s")


def show_constraint_info(db: "Database") -> Result:
    constraints = db.storage.constraints
    rows = [("exists", label, key) for label, key in sorted(constraints.existence)]
    rows += [("unique", label, list(keys)) for label, keys in sorted(constraints.unique)]
    return Result(["constraint type", "label", "properties"], rows, "s")


def _create_snapshot(durability) -> Result:
    return Result(["path"], [(durability.create_snapshot(),)], "s")


def _show_snapshots(durability) -> Result:
    rows = [(s.path, s.timestamp, s.creation_time, s.size) for s in durability.snapshots()]
    return Result(["path", "timestamp", "creation_time", "size"], rows, "s")


def _show_next_snapshot(durability) -> Result:
    if durability.next_snapshot_at is None:
        return Result(["path", "timestamp", "creation_time", "size"], [], "s")
    when = datetime.fromtimestamp(durability.next_snapshot_at, timezone.utc).isoformat()
    return Result(["path", "timestamp", "creation_time", "size"], [(None, None, when, None)], "s")


def _lock(durability) -> Result:
    status = "Data directory is now locked." if durability.retention.pause("lock") else "Data directory is already locked."
    return Result(["STATUS"], [(status,)], "s")


def _unlock(durability) -> Result:
    status = "Data directory is now unlocked." if durability.retention.resume("lock") else "Data directory is already unlocked."
    return Result(["STATUS"], [(status,)], "s")


def _lock_status(durability) -> Result:
    status = "Data directory is locked." if durability.retention.paused("lock") else "Data directory is unlocked."
    return Result(["STATUS"], [(status,)], "s")


def _checkpoint_create(durability) -> Result:
    manifest = checkpoint.create(durability)
    return Result(["path", "commit_timestamp"], [(durability.layout.checkpoint_manifest, manifest["commit_timestamp"])], "s")


def _checkpoint_release(durability) -> Result:
    status = "Checkpoint released." if checkpoint.release(durability) else "No checkpoint is in flight."
    return Result(["STATUS"], [(status,)], "s")


def _checkpoint_status(durability) -> Result:
    return Result(checkpoint.STATUS_COLUMNS, [checkpoint.status(durability)], "s")


_DURABILITY = {
    "checkpoint_create": _checkpoint_create,
    "checkpoint_release": _checkpoint_release,
    "checkpoint_status": _checkpoint_status,
    "create_snapshot": _create_snapshot,
    "show_snapshots": _show_snapshots,
    "show_next_snapshot": _show_next_snapshot,
    "lock_data_directory": _lock,
    "unlock_data_directory": _unlock,
    "data_directory_lock_status": _lock_status,
}


def show_storage_info(db: "Database") -> Result:
    vertices, edges = db.storage.counts()
    rows = [
        ("vertex_count", vertices),
        ("edge_count", edges),
        ("average_degree", round(2 * edges / vertices, 3) if vertices else 0.0),
        ("memory_res", _resident_bytes()),
        ("storage_mode", "IN_MEMORY_TRANSACTIONAL"),
        ("global_isolation_level", "SNAPSHOT_ISOLATION"),
        ("last_commit_timestamp", db.storage.last_commit_ts),
    ]
    if db.durability is not None:
        rows += [(key, value) for key, value in db.durability.info().items()]
        rows.append(("data_directory", db.durability.data_dir))
    return Result(["storage info", "value"], rows, "s")


def _resident_bytes() -> int:
    """Resident set size of this process, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _password(statement: ast.AdminStatement, params: dict[str, Any]) -> str | None:
    expr = statement.arg("password")
    if expr is None:
        return None
    if isinstance(expr, ast.Parameter):
        if expr.name not in params:
            raise ClientError(f"Expected parameter ${expr.name} for the password, which was not given.")
        value = params[expr.name]
    else:
        value = expr.value
    if not isinstance(value, str):
        raise ClientError("A password must be a string.")
    return value


def _create_user(users, statement, params) -> Result:
    users.create(statement.arg("user"), _password(statement, params) or "")
    return Result([], [], "s")


def _set_password(users, statement, params) -> Result:
    users.set_password(statement.arg("user"), _password(statement, params) or "")
    return Result([], [], "s")


def _drop_user(users, statement, params) -> Result:
    users.drop(statement.arg("user"))
    return Result([], [], "s")


def _show_users(users, statement, params) -> Result:
    return Result(["user"], [(name,) for name in users.users()], "s")


_USERS = {
    "create_user": _create_user,
    "set_password": _set_password,
    "drop_user": _drop_user,
    "show_users": _show_users,
}

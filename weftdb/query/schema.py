"""Schema and administration statements: indexes, constraints, SHOW ... INFO.

These run on their own, outside explicit transactions, as in Memgraph, and
answer with Memgraph's column names. Statements that belong to layers not
built yet say so instead of pretending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ClientError, TransactionError
from . import ast
from .results import Result

if TYPE_CHECKING:
    from ..database import Database


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

"""The storage seam (graph/interface.py): every store and transaction kind has
every member of its protocol, with the same parameters, and the query layer
names no implementation, only the protocols and the objects that cross."""

import ast
import inspect
import os
import typing

import pytest

from weftdb.graph.interface import GraphStore, GraphTransaction
from weftdb.graph.storage import Storage
from weftdb.graph.transaction import InPlaceTransaction, Transaction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def members(protocol):
    """(methods, attributes) a protocol declares."""
    methods = {name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")}
    attributes = set(typing.get_type_hints(protocol)) - methods
    return methods, attributes


def parameters(function) -> list[str]:
    return [p.name for p in inspect.signature(function).parameters.values() if p.name != "self"]


@pytest.mark.parametrize("kind", [Transaction, InPlaceTransaction])
def test_each_transaction_kind_fills_the_transaction_protocol(kind):
    storage = Storage()
    storage.switch_mode("IN_MEMORY_ANALYTICAL" if kind is InPlaceTransaction else "IN_MEMORY_TRANSACTIONAL")
    tx = storage.begin()
    assert type(tx) is kind
    methods, attributes = members(GraphTransaction)
    for name in methods:
        assert parameters(getattr(tx, name)) == parameters(getattr(GraphTransaction, name)), name
    for name in attributes:
        assert hasattr(tx, name), name
    tx.commit()


def test_the_store_fills_the_store_protocol():
    storage = Storage()
    methods, attributes = members(GraphStore)
    for name in methods:
        assert parameters(getattr(storage, name)) == parameters(getattr(GraphStore, name)), name
    for name in attributes:
        assert hasattr(storage, name), name


def test_the_query_layer_names_no_implementation():
    """query/ and the dump reach the store through the protocols: an on-disk
    store plugs in without the query layer knowing."""
    implementations = {"weftdb.graph.storage", "weftdb.graph.transaction"}
    folder = os.path.join(ROOT, "weftdb", "query")
    files = [os.path.join(folder, name) for name in sorted(os.listdir(folder)) if name.endswith(".py")]
    files.append(os.path.join(ROOT, "weftdb", "durability", "dump.py"))
    for path in files:
        with open(path, encoding="utf-8") as handle:
            tree = ast.parse(handle.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in implementations:
                raise AssertionError(f"{os.path.relpath(path, ROOT)} imports {node.module}; use weftdb.graph.interface")
            if isinstance(node, ast.ImportFrom) and node.module == "weftdb.graph":
                named = {alias.name for alias in node.names}
                assert not named & {"storage", "transaction"}, path

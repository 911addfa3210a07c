"""A stand-in for the embedded Database, so the server's tests do not depend on the engine.

It understands a handful of query shapes, enough to exercise every path of the
server: `RETURN $a AS a, $b AS b` echoes parameters, `UNWIND range(1, N) AS i
RETURN i` makes N rows, `CREATE (:Item {v: $v})` and `MATCH (n:Item) RETURN
count(n) AS c` keep a list with transaction semantics, `SLEEP s` runs until
interrupted or timed out, `FAIL Name` raises weftdb.basics.errors.Name, `GRAPH` returns
a node, a relationship and a path. Anything else is a syntax error.
"""

from __future__ import annotations

import re
import threading
import time

from weftdb.basics import errors, identity
from weftdb.basics.affinity import Placement
from weftdb.durability.users import UserStore
from weftdb.query.results import Node, Path, Relationship


class FakeResult:
    plan_tree = None  # as weftdb.Result: no EXPLAIN or PROFILE here
    notifications = ()
    streaming = False  # as a weftdb.Result that holds every row

    def __init__(self, columns, rows, query_type="r", counters=None):
        self.columns = columns
        self.rows = rows
        self.query_type = query_type
        self.counters = counters or {}


def graph_values():
    alice = Node(1, frozenset({"Person"}), {"name": "Alice"})
    bob = Node(2, frozenset({"Person", "Admin"}), {"name": "Bob"})
    knows = Relationship(7, "KNOWS", 1, 2, {"since": 2020})
    back = Relationship(8, "LIKES", 1, 2, {})
    return alice, knows, Path((alice, bob, alice), (knows, back))


class FakeDatabase:
    """One database, the default: other names are not found, as a data directory of one database answers."""

    name = identity.DATABASE

    def __init__(self):
        self.items: list = []
        self.users = UserStore(None)
        self.placement = Placement(None)
        self.lock = threading.Lock()
        self.closed = False
        self.interrupted = 0  # SLEEP queries stopped by their interrupt event
        self.databases = self  # no other database: its catalog is itself

    def database(self, name, *, user=None):
        if identity.is_default(name):
            return self
        raise errors.DatabaseNotFound(f"Database {name!r} does not exist")

    def main_of(self, user):
        return None

    def quick(self, query):
        return False  # every statement goes to a worker, as the fake's SLEEP tests need

    def execute(self, query, params=None, *, timeout=None, interrupt=None, client=None, use=None):
        writes: list = []
        result = self._run(query, params or {}, writes, timeout, interrupt)
        with self.lock:
            self.items.extend(writes)
        return result

    def begin(self, client=None):
        return FakeTransaction(self)

    def close(self):
        self.closed = True

    def _run(self, query, params, writes, timeout, interrupt):
        text = query.strip()
        if m := re.fullmatch(r"RETURN (\$\w+ AS \w+(?:, \$\w+ AS \w+)*)", text):
            pairs = [p.split(" AS ") for p in m.group(1).split(", ")]
            missing = [name for name, _ in pairs if name[1:] not in params]
            if missing:
                raise errors.ParameterMissing(f"missing parameter {missing[0]}")
            return FakeResult([alias for _, alias in pairs], [tuple(params[name[1:]] for name, _ in pairs)])
        if m := re.fullmatch(r"UNWIND range\(1, (\d+)\) AS i RETURN i", text):
            return FakeResult(["i"], [(i,) for i in range(1, int(m.group(1)) + 1)])
        if text == "CREATE (:Item {v: $v})":
            writes.append(params.get("v"))
            return FakeResult([], [], "w", {"nodes-created": 1, "labels-added": 1, "properties-set": 1})
        if text == "MATCH (n:Item) RETURN count(n) AS c":
            with self.lock:
                return FakeResult(["c"], [(len(self.items) + len(writes),)])
        if m := re.fullmatch(r"SLEEP ([\d.]+)", text):
            deadline = time.monotonic() + float(m.group(1))
            started = time.monotonic()
            while time.monotonic() < deadline:
                if interrupt is not None and interrupt.is_set():
                    self.interrupted += 1
                    raise errors.QueryInterrupted("the query was interrupted")
                if timeout is not None and time.monotonic() - started > timeout:
                    raise errors.QueryTimeout(f"the query ran longer than {timeout} s")
                time.sleep(0.005)
            return FakeResult(["done"], [(True,)])
        if m := re.fullmatch(r"FAIL (\w+)", text):
            raise getattr(errors, m.group(1))(f"fake {m.group(1)}")
        if text == "GRAPH":
            return FakeResult(["n", "r", "p"], [graph_values()])
        raise errors.CypherSyntaxError(f"Invalid input {text[:20]!r}", line=1, column=1)


class FakeTransaction:
    def __init__(self, db):
        self.db = db
        self.writes: list = []
        self.closed = False

    def execute(self, query, params=None, *, timeout=None, interrupt=None):
        if self.closed:
            raise errors.TransactionError("the transaction is closed")
        return self.db._run(query, params or {}, self.writes, timeout, interrupt)

    def commit(self):
        if self.closed:
            raise errors.TransactionError("the transaction is closed")
        self.closed = True
        with self.db.lock:
            self.db.items.extend(self.writes)

    def rollback(self):
        if self.closed:
            raise errors.TransactionError("the transaction is closed")
        self.closed = True

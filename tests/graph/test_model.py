"""Random transactions against the engine and against a plain-dict model.

Each generated program is a list of transactions; each transaction a list of
creates, sets, label changes, edge creates and deletes, ending in commit or
rollback. After every transaction the engine's whole graph must equal the
model's, and a reader that started before the transaction must still see
the graph as it was.
"""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import weftdb

KEYS = st.integers(min_value=0, max_value=7)
VALUES = st.one_of(st.none(), st.integers(-5, 5), st.text(max_size=3), st.floats(allow_nan=False, width=32))
OPERATIONS = st.one_of(
    st.tuples(st.just("create"), KEYS, VALUES),
    st.tuples(st.just("set"), KEYS, VALUES),
    st.tuples(st.just("label"), KEYS, st.booleans()),
    st.tuples(st.just("edge"), KEYS, KEYS),
    st.tuples(st.just("delete"), KEYS, st.booleans()),
    st.tuples(st.just("delete_edges"), KEYS, st.just(None)),
)
TRANSACTIONS = st.lists(st.tuples(st.lists(OPERATIONS, max_size=6), st.booleans()), max_size=8)


class Model:
    """Nodes by key: {"v": value or None, "marked": bool}; edges as a list of (from, to)."""

    def __init__(self):
        self.nodes = {}
        self.edges = []

    def copy(self):
        model = Model()
        model.nodes = {k: dict(v) for k, v in self.nodes.items()}
        model.edges = list(self.edges)
        return model

    def apply(self, tx, op, a, b):
        """Run the operation on the engine transaction and the model alike."""
        if op == "create":
            if a in self.nodes:
                return
            tx.execute("CREATE (:N {k: $k, v: $v})", {"k": a, "v": b})
            self.nodes[a] = {"v": b, "marked": False}
        elif op == "set":
            tx.execute("MATCH (n:N {k: $k}) SET n.v = $v", {"k": a, "v": b})
            if a in self.nodes:
                self.nodes[a]["v"] = b
        elif op == "label":
            clause = "SET n:Marked" if b else "REMOVE n:Marked"
            tx.execute(f"MATCH (n:N {{k: $k}}) {clause}", {"k": a})
            if a in self.nodes:
                self.nodes[a]["marked"] = b
        elif op == "edge":
            tx.execute("MATCH (x:N {k: $a}), (y:N {k: $b}) CREATE (x)-[:E]->(y)", {"a": a, "b": b})
            if a in self.nodes and b in self.nodes:
                self.edges.append((a, b))
        elif op == "delete":
            has_edges = any(a in edge for edge in self.edges)
            if a in self.nodes and has_edges and not b:
                try:
                    tx.execute("MATCH (n:N {k: $k}) DELETE n", {"k": a})
                except weftdb.ConstraintViolation:
                    return "aborted"
                raise AssertionError("deleting a node with edges must fail without DETACH")
            tx.execute("MATCH (n:N {k: $k}) DETACH DELETE n", {"k": a})
            self.nodes.pop(a, None)
            self.edges = [edge for edge in self.edges if a not in edge]
        elif op == "delete_edges":
            tx.execute("MATCH (n:N {k: $k})-[r:E]->() DELETE r", {"k": a})
            self.edges = [edge for edge in self.edges if edge[0] != a]
        return None


def graph_of(runner):
    nodes = {
        k: {"v": v, "marked": marked}
        for k, v, marked in runner.execute("MATCH (n:N) RETURN n.k, n.v, n:Marked").rows
    }
    edges = sorted(runner.execute("MATCH (x:N)-[:E]->(y:N) RETURN x.k, y.k").rows)
    return nodes, edges


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TRANSACTIONS)
def test_engine_matches_model(program):
    model = Model()
    with weftdb.open() as db:
        for operations, commit in program:
            before = model.copy()
            observer = db.begin()
            tx = db.begin()
            outcome = None
            for op, a, b in operations:
                outcome = model.apply(tx, op, a, b)
                if outcome == "aborted":
                    break
            if outcome == "aborted":
                assert tx.closed  # the failed statement rolled the transaction back
                model = before
            elif commit:
                tx.commit()
            else:
                tx.rollback()
                model = before
            assert graph_of(observer) == (before.nodes, sorted(before.edges))
            observer.commit()
            assert graph_of(db) == (model.nodes, sorted(model.edges))
        assert not db.storage._active
        assert not db.storage._finished  # nothing pins old versions once all transactions ended

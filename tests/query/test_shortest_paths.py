"""Shortest paths (weftdb/query/paths.py): Neo4j's shortestPath() and
allShortestPaths(), Memgraph's *BFS, *WSHORTEST and *ALLSHORTEST.

Answers are checked against networkx on small seeded random graphs (hops,
weights, all shortest paths as sets of relationship sequences), and against
a brute-force list of every path where networkx has no equivalent (lower
bounds, predicates on whole paths, hop-bounded weights)."""

import itertools
import random
import threading
import time
import tracemalloc

import networkx as nx
import pytest
from cypher_helpers import rows, value

from weftdb.basics.errors import CypherSemanticError, CypherSyntaxError, CypherTypeError, QueryInterrupted, QueryTimeout
from weftdb.graph.objects import Edge, Vertex
from weftdb.query import paths

# --------------------------------------------------------------------------
# Random graphs, loaded into WeftDB and into networkx
# --------------------------------------------------------------------------


class Graph:
    """A seeded random multigraph: `edges` are (eid, src, dst, type, w)."""

    def __init__(self, seed, nodes=14, edges=30, weights=range(1, 10), loops=True):
        rng = random.Random(seed)
        self.nodes = list(range(nodes))
        self.edges = []
        for eid in range(edges):
            src, dst = rng.randrange(nodes), rng.randrange(nodes)
            if src == dst and not loops:
                continue
            self.edges.append((eid, src, dst, rng.choice("AB"), rng.choice(list(weights))))

    def load(self, db):
        db.execute("UNWIND $ids AS i CREATE (:N {id: i})", {"ids": self.nodes})
        db.execute("CREATE INDEX ON :N(id)")
        db.execute(
            "UNWIND $edges AS e MATCH (a:N {id: e[1]}), (b:N {id: e[2]}) "
            "CREATE (a)-[:R {eid: e[0], kind: e[3], w: e[4]}]->(b)",
            {"edges": [list(edge) for edge in self.edges]},
        )
        return self

    def nx(self, undirected=False, keep=lambda edge: True):
        g = nx.MultiGraph() if undirected else nx.MultiDiGraph()
        g.add_nodes_from(self.nodes)
        for edge in self.edges:
            if keep(edge):
                eid, src, dst, _, w = edge
                g.add_edge(src, dst, key=eid, w=w)
        return g

    def steps(self, undirected=False, keep=lambda edge: True):
        """vertex -> [(eid, other, w)] as a path may take them."""
        out = {n: [] for n in self.nodes}
        for edge in self.edges:
            if not keep(edge):
                continue
            eid, src, dst, _, w = edge
            out[src].append((eid, dst, w))
            if undirected and src != dst:
                out[dst].append((eid, src, w))
        return out


def expand(g, node_paths, lightest=False):
    """Node sequences from networkx as relationship-id sequences, one per
    choice of parallel relationship (only the lightest ones when `lightest`)."""
    found = set()
    for node_path in node_paths:
        choices = []
        for a, b in zip(node_path, node_path[1:]):
            between = g.get_edge_data(a, b)
            weights = {key: data["w"] for key, data in between.items()}
            least = min(weights.values())
            choices.append([key for key, w in weights.items() if not lightest or w == least])
        found.update(itertools.product(*choices))
    return found


def trails(graph, src, dst, longest, undirected=False):
    """Every path (no relationship twice) from src to dst of at most `longest`
    relationships, as (eids, nodes, weight)."""
    steps = graph.steps(undirected)
    out = []

    def walk(node, eids, nodes, weight):
        if node == dst and eids:
            out.append((tuple(eids), tuple(nodes), weight))
        if len(eids) == longest:
            return
        for eid, other, w in steps[node]:
            if eid not in eids:
                walk(other, eids + [eid], nodes + [other], weight + w)

    walk(src, [], [src], 0)
    if src == dst:
        out.append(((), (src,), 0))
    return out


SEEDS = range(6)


@pytest.fixture(params=SEEDS)
def graph(request, db):
    return Graph(request.param).load(db)


def pairs(graph, count=12, seed=0):
    rng = random.Random(seed)
    return [(rng.choice(graph.nodes), rng.choice(graph.nodes)) for _ in range(count)]


def check_path(graph, eids, src, dst, direction):
    """The relationships chain from src to dst in the pattern's direction."""
    by_id = {edge[0]: edge for edge in graph.edges}
    here = src
    for eid in eids:
        _, a, b, _, _ = by_id[eid]
        if direction == "out":
            assert a == here
            here = b
        elif direction == "in":
            assert b == here
            here = a
        else:
            assert here in (a, b)
            here = b if a == here else a
    assert here == dst


# --------------------------------------------------------------------------
# Neo4j: shortestPath / allShortestPaths against networkx
# --------------------------------------------------------------------------

SHORTEST = "MATCH p = shortestPath((a:N {id: $s})-[*]->(b:N {id: $t})) RETURN [r IN relationships(p) | r.eid]"


@pytest.mark.parametrize("arrow,undirected", [("->", False), ("-", True)])
def test_shortest_path_hops_match_networkx(db, graph, arrow, undirected):
    g = graph.nx(undirected)
    query = SHORTEST.replace("]->(b", f"]{arrow}(b")
    for s, t in pairs(graph):
        found = rows(db, query, {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == [], (s, t)
            continue
        (eids,), = found
        assert len(eids) == nx.shortest_path_length(g, s, t)
        check_path(graph, eids, s, t, "both" if undirected else "out")


def test_shortest_path_against_the_direction(db, graph):
    g = graph.nx().reverse()
    for s, t in pairs(graph):
        found = rows(db, "MATCH p = shortestPath((a:N {id: $s})<-[*]-(b:N {id: $t})) RETURN [r IN relationships(p) | r.eid]",
                     {"s": s, "t": t})
        expected = nx.has_path(g, s, t) and s != t
        assert bool(found) == expected
        if found:
            assert len(found[0][0]) == nx.shortest_path_length(g, s, t)
            check_path(graph, found[0][0], s, t, "in")


@pytest.mark.parametrize("arrow,undirected", [("->", False), ("-", True)])
def test_all_shortest_paths_match_networkx(db, graph, arrow, undirected):
    g = graph.nx(undirected)
    query = f"MATCH p = allShortestPaths((a:N {{id: $s}})-[*]{arrow}(b:N {{id: $t}})) RETURN [r IN relationships(p) | r.eid]"
    for s, t in pairs(graph):
        found = [tuple(eids) for (eids,) in rows(db, query, {"s": s, "t": t})]
        assert len(found) == len(set(found))
        if s == t or not nx.has_path(g, s, t):
            assert found == []
        else:
            assert set(found) == expand(g, nx.all_shortest_paths(g, s, t))


def test_shortest_paths_from_one_node_to_every_other(db, graph):
    g = graph.nx()
    for s in graph.nodes[:5]:
        found = dict(rows(db, "MATCH p = shortestPath((a:N {id: $s})-[*]->(b:N)) RETURN b.id, length(p)", {"s": s}))
        expected = {t: d for t, d in nx.single_source_shortest_path_length(g, s).items() if t != s}
        assert found == expected


def test_shortest_paths_to_one_node_from_every_other(db, graph):
    """The indexed end is matched first and searched from, against the
    direction; the paths still read from the pattern's left end."""
    g = graph.nx()
    found = rows(db, "MATCH p = shortestPath((a)-[*]->(b:N {id: 3})) RETURN a.id, [r IN relationships(p) | r.eid]")
    expected = {s: d for s, d in nx.single_source_shortest_path_length(g.reverse(), 3).items() if s != 3}
    assert {s: len(eids) for s, eids in found} == expected
    for s, eids in found:
        check_path(graph, eids, s, 3, "out")
    every = {}
    for s, eids in rows(db, "MATCH p = allShortestPaths((a)-[*]->(b:N {id: 3})) RETURN a.id, [r IN relationships(p) | r.eid]"):
        every.setdefault(s, set()).add(tuple(eids))
    assert every == {s: expand(g, nx.all_shortest_paths(g, s, 3)) for s in expected}


def test_all_shortest_paths_from_one_node(db, graph):
    g = graph.nx(undirected=True)
    s = graph.nodes[0]
    found = {}
    for t, eids in rows(db, "MATCH p = allShortestPaths((a:N {id: $s})-[*]-(b)) RETURN b.id, [r IN relationships(p) | r.eid]",
                        {"s": s}):
        found.setdefault(t, set()).add(tuple(eids))
    expected = {t: expand(g, nx.all_shortest_paths(g, s, t)) for t in nx.node_connected_component(g, s) if t != s}
    assert found == expected


@pytest.mark.parametrize("bounds,low,high", [("*..2", 1, 2), ("*2..3", 2, 3), ("*0..", 0, None), ("*3", 3, 3)])
def test_shortest_path_within_bounds(db, graph, bounds, low, high):
    """Neo4j's bounds: the shortest of the paths whose length is within them."""
    query = f"MATCH p = shortestPath((a:N {{id: $s}})-[{bounds}]->(b:N {{id: $t}})) RETURN length(p)"
    for s, t in pairs(graph, 8):
        found = rows(db, query, {"s": s, "t": t})
        if s == t:
            assert found == ([(0,)] if low == 0 else [])
            continue
        lengths = [len(eids) for eids, _, _ in trails(graph, s, t, 6) if low <= len(eids) <= (high or 6)]
        if lengths:
            assert found == [(min(lengths),)], (s, t)
        elif high is not None:
            assert found == []


def test_all_shortest_paths_with_a_lower_bound(db, graph):
    query = "MATCH p = allShortestPaths((a:N {id: $s})-[*3..5]-(b:N {id: $t})) RETURN [r IN relationships(p) | r.eid]"
    for s, t in pairs(graph, 6):
        candidates = [eids for eids, _, _ in trails(graph, s, t, 5, undirected=True) if len(eids) >= 3]
        shortest = min((len(eids) for eids in candidates), default=None)
        expected = {eids for eids in candidates if len(eids) == shortest} if s != t else set()
        assert {tuple(eids) for (eids,) in rows(db, query, {"s": s, "t": t})} == expected


@pytest.mark.parametrize("where,keep", [
    ("all(r IN relationships(p) WHERE r.w < 6)", lambda e: e[4] < 6),
    ("none(r IN relationships(p) WHERE r.kind = 'B')", lambda e: e[3] != "B"),
    ("NOT any(r IN relationships(p) WHERE r.kind = 'A')", lambda e: e[3] != "A"),
    ("all(x IN rs WHERE x.w >= 3)", lambda e: e[4] >= 3),
])
def test_predicates_on_relationships_choose_the_path(db, graph, where, keep):
    g = graph.nx(keep=keep)
    query = f"MATCH p = shortestPath((a:N {{id: $s}})-[rs*]->(b:N {{id: $t}})) WHERE {where} RETURN length(p)"
    for s, t in pairs(graph):
        found = rows(db, query, {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == []
        else:
            assert found == [(nx.shortest_path_length(g, s, t),)]


def test_predicates_on_nodes_choose_the_path(db, graph):
    banned = {3, 5, 8}
    g = graph.nx(undirected=True)
    query = ("MATCH p = allShortestPaths((a:N {id: $s})-[*]-(b:N {id: $t})) "
             "WHERE none(n IN nodes(p) WHERE n.id IN $banned) RETURN [r IN relationships(p) | r.eid]")
    for s, t in pairs(graph):
        found = {tuple(eids) for (eids,) in rows(db, query, {"s": s, "t": t, "banned": sorted(banned)})}
        h = g.subgraph(n for n in g if n not in banned)
        if s == t or s in banned or t in banned or not nx.has_path(h, s, t):
            assert found == set()
        else:
            assert found == expand(h, nx.all_shortest_paths(h, s, t))


def test_predicate_on_the_whole_path_searches_exhaustively(db, graph):
    """Neo4j: the shortest path that passes a predicate no step can decide."""
    query = ("MATCH p = shortestPath((a:N {id: $s})-[*]-(b:N {id: $t})) "
             "WHERE reduce(total = 0, r IN relationships(p) | total + r.w) >= 15 RETURN length(p)")
    for s, t in pairs(graph, 6):
        candidates = [len(eids) for eids, _, weight in trails(graph, s, t, 5, undirected=True) if weight >= 15 and eids]
        found = rows(db, query, {"s": s, "t": t})
        if candidates and s != t:
            assert found == [(min(candidates),)]
        elif s == t:
            assert found == []


def test_where_on_the_end_node_filters_after(db, graph):
    g = graph.nx()
    found = dict(rows(db, "MATCH p = shortestPath((a:N {id: 0})-[*]->(b)) WHERE b.id % 2 = 0 RETURN b.id, length(p)"))
    expected = {t: d for t, d in nx.single_source_shortest_path_length(g, 0).items() if t != 0 and t % 2 == 0}
    assert found == expected


def test_shortest_path_as_an_expression(db, graph):
    g = graph.nx()
    for s, t in pairs(graph, 6):
        path = value(db, "MATCH (a:N {id: $s}), (b:N {id: $t}) RETURN shortestPath((a)-[*]->(b))", {"s": s, "t": t})
        many = value(db, "MATCH (a:N {id: $s}), (b:N {id: $t}) RETURN allShortestPaths((a)-[*]->(b))", {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert path is None and many == []
        else:
            assert len(path.relationships) == nx.shortest_path_length(g, s, t)
            assert len(many) == len(expand(g, nx.all_shortest_paths(g, s, t)))
            assert path.nodes[0].properties["id"] == s and path.nodes[-1].properties["id"] == t


# --------------------------------------------------------------------------
# Memgraph: *BFS, *WSHORTEST, *ALLSHORTEST against networkx
# --------------------------------------------------------------------------


def test_bfs_to_every_node(db, graph):
    g = graph.nx()
    for s in graph.nodes[:4]:
        found = rows(db, "MATCH p = (a:N {id: $s})-[*BFS]->(b) RETURN b.id, length(p)", {"s": s})
        expected = {t: d for t, d in nx.single_source_shortest_path_length(g, s).items() if t != s}
        assert dict(found) == expected
        assert [d for _, d in found] == sorted(d for _, d in found)  # nearest first


@pytest.mark.parametrize("bounds,low,high", [("..2", 1, 2), ("2..3", 2, 3), ("2", 2, 2), ("", 1, None)])
def test_bfs_bounds_filter_the_shortest_distance(db, graph, bounds, low, high):
    """Memgraph's bounds: a node is returned when its shortest distance is within them."""
    g = graph.nx(undirected=True)
    found = dict(rows(db, f"MATCH p = (a:N {{id: 1}})-[*BFS {bounds}]-(b) RETURN b.id, length(p)"))
    expected = {t: d for t, d in nx.single_source_shortest_path_length(g, 1).items()
                if t != 1 and d >= low and (high is None or d <= high)}
    assert found == expected


def test_bfs_between_two_nodes(db, graph):
    g = graph.nx()
    for s, t in pairs(graph):
        found = rows(db, "MATCH p = (a:N {id: $s})-[*BFS]->(b:N {id: $t}) RETURN [r IN relationships(p) | r.eid]",
                     {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == []
        else:
            assert len(found[0][0]) == nx.shortest_path_length(g, s, t)
            check_path(graph, found[0][0], s, t, "out")


def test_bfs_filter_lambda(db, graph):
    g = graph.nx(keep=lambda e: e[4] <= 5 and e[2] != 4)
    for s, t in pairs(graph):
        found = rows(db, "MATCH p = (a:N {id: $s})-[*BFS (r, n | r.w <= 5 AND n.id <> 4)]->(b:N {id: $t}) RETURN length(p)",
                     {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == []
        else:
            assert found == [(nx.shortest_path_length(g, s, t),)]


def test_bfs_filter_lambda_reads_the_path_so_far(db, graph):
    """(r, n, p | ...): p holds the step being tested; here no path longer than 2."""
    g = graph.nx()
    found = dict(rows(db, "MATCH p = (a:N {id: 2})-[*BFS (r, n, q | length(q) <= 2 AND last(relationships(q)) = r)]->(b) "
                          "RETURN b.id, length(p)"))
    assert found == {t: d for t, d in nx.single_source_shortest_path_length(g, 2, cutoff=2).items() if t != 2}


def test_bfs_from_the_right_end(db, graph):
    """The planner may start from the labelled end; the path still reads left to right."""
    g = graph.nx()
    found = rows(db, "MATCH p = (a)-[*BFS]->(b:N {id: 3}) RETURN a.id, [r IN relationships(p) | r.eid]")
    expected = {s: d for s, d in nx.single_source_shortest_path_length(g.reverse(), 3).items() if s != 3}
    assert {s: len(eids) for s, eids in found} == expected
    for s, eids in found:
        check_path(graph, eids, s, 3, "out")


WSHORTEST = ("MATCH p = (a:N {id: $s})-[*WSHORTEST (r, n | r.w) total]->(b:N {id: $t}) "
             "RETURN [r IN relationships(p) | r.eid], total")


@pytest.mark.parametrize("arrow,undirected", [("->", False), ("-", True)])
def test_weighted_shortest_path_matches_networkx(db, graph, arrow, undirected):
    g = graph.nx(undirected)
    by_id = {edge[0]: edge for edge in graph.edges}
    for s, t in pairs(graph, 16):
        found = rows(db, WSHORTEST.replace("]->(b", f"]{arrow}(b"), {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == []
            continue
        (eids, total), = found
        assert total == nx.dijkstra_path_length(g, s, t, weight="w")
        assert sum(by_id[eid][4] for eid in eids) == total
        check_path(graph, eids, s, t, "both" if undirected else "out")


def test_weighted_shortest_paths_to_every_node(db, graph):
    g = graph.nx()
    found = rows(db, "MATCH (a:N {id: 0})-[*WSHORTEST (r, n | r.w) total]->(b) RETURN b.id, total")
    expected = {t: d for t, d in nx.single_source_dijkstra_path_length(g, 0, weight="w").items() if t != 0}
    assert dict(found) == expected
    assert [w for _, w in found] == sorted(w for _, w in found)


def test_all_weighted_shortest_paths_match_networkx(db, graph):
    g = graph.nx(undirected=True)
    query = "MATCH p = (a:N {id: $s})-[*ALLSHORTEST (r, n | r.w) total]-(b:N {id: $t}) RETURN [r IN relationships(p) | r.eid], total"
    for s, t in pairs(graph, 10):
        found = rows(db, query, {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == []
            continue
        weight = nx.dijkstra_path_length(g, s, t, weight="w")
        assert {total for _, total in found} == {weight}
        assert {tuple(eids) for eids, _ in found} == expand(g, nx.all_shortest_paths(g, s, t, weight="w"), lightest=True)


def test_all_weighted_shortest_paths_to_every_node(db, graph):
    g = graph.nx()
    found = {}
    for t, eids in rows(db, "MATCH p = (a:N {id: 1})-[*ALLSHORTEST (r, n | r.w)]->(b) RETURN b.id, [r IN relationships(p) | r.eid]"):
        found.setdefault(t, set()).add(tuple(eids))
    reachable = nx.single_source_dijkstra_path_length(g, 1, weight="w")
    expected = {t: expand(g, nx.all_shortest_paths(g, 1, t, weight="w"), lightest=True) for t in reachable if t != 1}
    assert found == expected


@pytest.mark.parametrize("upper", [1, 2, 3])
def test_weighted_shortest_path_with_an_upper_bound(db, graph, upper):
    """The lightest path of at most `upper` relationships, even when a lighter one is longer."""
    for s, t in pairs(graph, 10):
        candidates = [weight for eids, _, weight in trails(graph, s, t, upper) if eids]
        found = rows(db, f"MATCH (a:N {{id: $s}})-[*WSHORTEST {upper} (r, n | r.w) total]->(b:N {{id: $t}}) RETURN total",
                     {"s": s, "t": t})
        all_found = rows(db, f"MATCH (a:N {{id: $s}})-[*ALLSHORTEST ..{upper} (r, n | r.w) total]->(b:N {{id: $t}}) RETURN total",
                         {"s": s, "t": t})
        if s == t or not candidates:
            assert found == [] and all_found == []
        else:
            assert found == [(min(candidates),)]
            assert {w for (w,) in all_found} == {min(candidates)}
            assert len(all_found) == sum(1 for w in candidates if w == min(candidates))


def test_weight_of_nodes_and_the_start_node(db):
    """Memgraph evaluates the weight lambda for the start node too (r is null)."""
    db.execute("CREATE (:P {id: 1, cost: 5})-[:R]->(:P {id: 2, cost: 1})-[:R]->(:P {id: 3, cost: 2}), "
               "(:P {id: 4, cost: 1})")
    assert value(db, "MATCH (a:P {id: 1})-[*WSHORTEST (r, n | n.cost) total]->(b:P {id: 3}) RETURN total") == 8
    assert value(db, "MATCH (a:P {id: 1})-[*WSHORTEST (r, n | n.cost + coalesce(r.extra, 0)) total]->(b:P {id: 3}) "
                     "RETURN total") == 8
    assert value(db, "MATCH (a:P {id: 1})-[*WSHORTEST (r, n | 1) total]->(b:P {id: 3}) RETURN total") == 3


def test_weighted_filter_lambda_with_path_and_weight(db, graph):
    g = graph.nx(keep=lambda e: e[3] == "A")
    for s, t in pairs(graph, 8):
        found = rows(db, "MATCH (a:N {id: $s})-[*WSHORTEST (r, n | r.w) total (r, n, p, w | r.kind = 'A' AND w < 1000 "
                         "AND last(relationships(p)) = r)]->(b:N {id: $t}) RETURN total", {"s": s, "t": t})
        if s == t or not nx.has_path(g, s, t):
            assert found == []
        else:
            assert found == [(nx.dijkstra_path_length(g, s, t, weight="w"),)]


def test_weighted_filter_on_the_accumulated_weight(db):
    db.execute("CREATE (a:W {id: 1})-[:R {w: 1}]->(b:W {id: 2})-[:R {w: 1}]->(c:W {id: 3}), (a)-[:R {w: 5}]->(c)")
    assert value(db, "MATCH (a:W {id: 1})-[*WSHORTEST (r, n | r.w) t]->(c:W {id: 3}) RETURN t") == 2
    assert value(db, "MATCH (a:W {id: 1})-[*WSHORTEST (r, n | r.w) t (r, n, p, w | w <> 1)]->(c:W {id: 3}) RETURN t") == 5


def test_zero_weights(db):
    db.execute("CREATE (a:Z {id: 1})-[:R {w: 0}]->(b:Z {id: 2})-[:R {w: 0}]->(c:Z {id: 3}), (a)-[:R {w: 0}]->(c), "
               "(b)-[:R {w: 0}]->(a)")
    assert value(db, "MATCH (a:Z {id: 1})-[*WSHORTEST (r, n | r.w) t]->(c:Z {id: 3}) RETURN t") == 0
    found = rows(db, "MATCH p = (a:Z {id: 1})-[*ALLSHORTEST (r, n | r.w) t]->(c:Z {id: 3}) RETURN [n IN nodes(p) | n.id], t")
    assert sorted(found) == [([1, 2, 3], 0), ([1, 3], 0)]
    found = rows(db, "MATCH p = (a:Z {id: 1})-[*ALLSHORTEST 3 (r, n | r.w) t]->(c:Z {id: 3}) RETURN [n IN nodes(p) | n.id], t")
    assert sorted(found) == [([1, 2, 3], 0), ([1, 3], 0)]


def test_float_weights(db):
    db.execute("CREATE (a:F {id: 1})-[:R {w: 0.5}]->(b:F {id: 2})-[:R {w: 0.25}]->(c:F {id: 3}), (a)-[:R {w: 1}]->(c)")
    assert value(db, "MATCH (a:F {id: 1})-[*WSHORTEST (r, n | r.w) t]->(c:F {id: 3}) RETURN t") == 0.75


# --------------------------------------------------------------------------
# Edge cases
# --------------------------------------------------------------------------


@pytest.fixture
def line(db):
    db.execute("CREATE (:L {id: 1})-[:R {w: 1}]->(:L {id: 2})-[:R {w: 1}]->(:L {id: 3}), (:L {id: 4})")
    return db


def test_same_start_and_end(line):
    assert rows(line, "MATCH p = shortestPath((a:L {id: 1})-[*]-(b:L {id: 1})) RETURN p") == []
    assert rows(line, "MATCH p = shortestPath((a:L {id: 1})-[*0..]-(b:L {id: 1})) RETURN length(p)") == [(0,)]
    assert rows(line, "MATCH p = (a:L {id: 1})-[*BFS]-(b:L {id: 1}) RETURN p") == []
    assert rows(line, "MATCH p = (a:L {id: 1})-[*WSHORTEST (r, n | r.w)]-(b:L {id: 1}) RETURN p") == []
    assert rows(line, "MATCH (a:L {id: 1}) RETURN shortestPath((a)-[*]-(a)) AS p") == [(None,)]


def test_unreachable(line):
    assert rows(line, "MATCH p = shortestPath((a:L {id: 1})-[*]-(b:L {id: 4})) RETURN p") == []
    assert rows(line, "MATCH p = shortestPath((a:L {id: 3})-[*]->(b:L {id: 1})) RETURN p") == []
    assert rows(line, "MATCH (a:L {id: 1}), (b:L {id: 4}) RETURN shortestPath((a)-[*]-(b)), allShortestPaths((a)-[*]-(b))") == [
        (None, [])]
    assert rows(line, "MATCH (a:L {id: 1}) OPTIONAL MATCH p = shortestPath((a)-[*]-(b:L {id: 4})) RETURN a.id, p") == [(1, None)]


def test_upper_bound_too_short(line):
    assert rows(line, "MATCH p = shortestPath((a:L {id: 1})-[*..1]->(b:L {id: 3})) RETURN p") == []
    assert rows(line, "MATCH p = (a:L {id: 1})-[*BFS ..1]->(b:L {id: 3}) RETURN p") == []
    assert rows(line, "MATCH p = (a:L {id: 1})-[*WSHORTEST 1 (r, n | r.w)]->(b:L {id: 3}) RETURN p") == []
    assert rows(line, "MATCH p = shortestPath((a:L {id: 1})-[*3..2]->(b:L {id: 3})) RETURN p") == []


def test_null_ends_give_no_row(line):
    assert rows(line, "OPTIONAL MATCH (a:L {id: 99}) WITH a MATCH p = shortestPath((a)-[*]-(b:L {id: 1})) RETURN p") == []
    assert rows(line, "OPTIONAL MATCH (a:L {id: 99}) WITH a MATCH p = (a)-[*BFS]-(b) RETURN p") == []
    assert rows(line, "OPTIONAL MATCH (a:L {id: 99}) MATCH (b:L {id: 1}) RETURN shortestPath((a)-[*]-(b))") == [(None,)]


def test_relationship_types_and_properties(db):
    db.execute("CREATE (a:T {id: 1})-[:X {ok: true}]->(b:T {id: 2})-[:X {ok: true}]->(c:T {id: 3}), (a)-[:Y]->(c), "
               "(a)-[:X {ok: false}]->(c)")
    assert value(db, "MATCH p = shortestPath((a:T {id: 1})-[*]->(c:T {id: 3})) RETURN length(p)") == 1
    assert value(db, "MATCH p = shortestPath((a:T {id: 1})-[:X*]->(c:T {id: 3})) RETURN length(p)") == 1
    assert value(db, "MATCH p = shortestPath((a:T {id: 1})-[:X* {ok: true}]->(c:T {id: 3})) RETURN length(p)") == 2
    assert value(db, "MATCH p = (a:T {id: 1})-[:X *BFS {ok: true}]->(c:T {id: 3}) RETURN length(p)") == 2
    assert value(db, "MATCH p = (a:T {id: 1})-[:X|Y *BFS (r, n | r.ok IS NULL)]->(c:T {id: 3}) RETURN length(p)") == 1


def test_relationship_list_variable_and_path_read_left_to_right(line):
    found = rows(line, "MATCH p = shortestPath((c:L {id: 3})<-[rs*]-(a:L {id: 1})) "
                       "RETURN [n IN nodes(p) | n.id], [r IN rs | [startNode(r).id, endNode(r).id]]")
    assert found == [([3, 2, 1], [[2, 3], [1, 2]])]


def test_relationships_bound_earlier_in_the_match_are_not_reused(db):
    db.execute("CREATE (a:U {id: 1})-[:R]->(b:U {id: 2}), (a)-[:R]->(c:U {id: 3})-[:R]->(b)")
    assert rows(db, "MATCH (a:U {id: 1})-[r]->(b:U {id: 2}), p = shortestPath((a)-[*]->(b)) RETURN length(p)") == [(2,)]
    assert rows(db, "MATCH (a:U {id: 1})-[r]->(b:U {id: 2}), p = (a)-[*BFS]->(b) RETURN length(p)") == [(2,)]


def test_several_pairs_from_a_cartesian_product(line):
    found = rows(line, "MATCH (a:L), (b:L) WHERE a.id < b.id MATCH p = shortestPath((a)-[*]-(b)) "
                       "RETURN a.id, b.id, length(p) ORDER BY a.id, b.id")
    assert found == [(1, 2, 1), (1, 3, 2), (2, 3, 1)]


def test_total_weight_is_a_new_variable(line):
    found = rows(line, "MATCH (a:L {id: 1})-[*WSHORTEST (r, n | r.w) total]->(b) WHERE total > 1 RETURN b.id, total")
    assert found == [(3, 2)]


def test_explain_names_the_search(line):
    plan = [line for (line,) in rows(line, "EXPLAIN MATCH p = shortestPath((a:L {id: 1})-[*]-(b:L {id: 3})) RETURN p")]
    assert any("ShortestPath" in step for step in plan)
    plan = [line for (line,) in rows(line, "EXPLAIN MATCH p = (a:L {id: 1})-[*WSHORTEST (r, n | r.w)]-(b) RETURN p")]
    assert any("WeightedShortestPath" in step for step in plan)


@pytest.mark.versions
def test_snapshot_isolation(line):
    reader = line.begin()
    assert reader.execute("MATCH p = shortestPath((a:L {id: 1})-[*]->(b:L {id: 3})) RETURN length(p)").single() == 2
    line.execute("MATCH (a:L {id: 1}), (b:L {id: 3}) CREATE (a)-[:R {w: 1}]->(b)")
    line.execute("MATCH (:L {id: 2})-[r]->(:L {id: 3}) DELETE r")
    assert reader.execute("MATCH p = shortestPath((a:L {id: 1})-[*]->(b:L {id: 3})) RETURN length(p)").single() == 2
    assert reader.execute("MATCH p = (a:L {id: 1})-[*BFS]->(b:L {id: 3}) RETURN length(p)").single() == 2
    assert reader.execute("MATCH (a:L {id: 1})-[*WSHORTEST (r, n | r.w) t]->(b:L {id: 3}) RETURN t").single() == 2
    reader.rollback()
    assert line.execute("MATCH p = shortestPath((a:L {id: 1})-[*]->(b:L {id: 3})) RETURN length(p)").single() == 1
    with line.transaction() as writer:
        writer.execute("MATCH (a:L {id: 3}), (b:L {id: 4}) CREATE (a)-[:R {w: 1}]->(b)")
        assert writer.execute("MATCH p = shortestPath((a:L {id: 1})-[*]->(b:L {id: 4})) RETURN length(p)").single() == 2
        assert line.execute("MATCH p = shortestPath((a:L {id: 1})-[*]->(b:L {id: 4})) RETURN length(p)").rows == []


# --------------------------------------------------------------------------
# Errors that say what is wrong
# --------------------------------------------------------------------------


@pytest.mark.parametrize("query,error,words", [
    ("MATCH p = shortestPath((a)-[:R]->(b)) RETURN p", CypherSyntaxError, "variable-length"),
    ("MATCH p = shortestPath((a)-[*]->(b)-[*]->(c)) RETURN p", CypherSyntaxError, "exactly one relationship"),
    ("MATCH p = shortestPath((a)) RETURN p", CypherSyntaxError, "exactly one relationship"),
    ("MATCH p = shortestPath((a)-[*BFS]->(b)) RETURN p", CypherSyntaxError, "*BFS"),
    ("RETURN shortestPath((a)-[*]->(b))", CypherSemanticError, "both ends bound"),
    ("MATCH (a) RETURN shortestPath((a)-[*]->())", CypherSemanticError, "anonymous"),
    ("MATCH (a), (b) RETURN shortestPath((a)-[r*]->(b))", CypherSemanticError, "relationship variable"),
    ("RETURN shortestPath(1)", CypherSyntaxError, "takes a pattern"),
    ("CREATE p = shortestPath((a)-[:R*]->(b))", CypherSemanticError, "CREATE"),
    ("MATCH (a)-[*WSHORTEST]->(b) RETURN a", CypherSyntaxError, "weight lambda"),
    ("MATCH (a)-[*WSHORTEST 2..3 (r, n | r.w)]->(b) RETURN a", CypherSyntaxError, "upper bound only"),
    ("MATCH (a)-[*ALLSHORTEST 1.. (r, n | r.w)]->(b) RETURN a", CypherSyntaxError, "upper bound only"),
    ("MATCH (a)-[*BFS (r, n | true) total]->(b) RETURN a", CypherSyntaxError, "no total weight"),
    ("MATCH (a)-[*BFS (r, n | true) (r, n | true)]->(b) RETURN a", CypherSyntaxError, "one filter lambda"),
    ("MATCH (a)-[r (r, n | true)]->(b) RETURN a", CypherSyntaxError, "variable-length"),
    ("MATCH (a)-[*BFS (r, r | true)]->(b) RETURN a", CypherSyntaxError, "must differ"),
    ("MATCH (a)-[*BFS (r, n, p, w | true)]->(b) RETURN a", CypherSyntaxError, "at most"),
    ("MATCH (a)-[*ALLSHORTEST (r, n | 1) (r, n, p | length(p) < 3)]->(b) RETURN a", CypherSemanticError, "path so far"),
    ("MATCH (a)-[*WSHORTEST 0 (r, n | 1)]->(b) RETURN a", CypherSemanticError, "at least 1"),
    ("MATCH (a)-[* (r, n | true)]->(b) RETURN a", CypherSemanticError, "*BFS"),
])
def test_errors_name_what_is_wrong(line, query, error, words):
    with pytest.raises(error) as raised:
        line.execute(query)
    assert words in str(raised.value)


@pytest.mark.parametrize("weight,words", [
    ("-r.w", "0 or more"),
    ("r.missing", "must give a number, but gave NULL"),
    ("'heavy'", "must give a number, but gave STRING"),
])
def test_bad_weights(line, weight, words):
    with pytest.raises(CypherTypeError) as raised:
        line.execute(f"MATCH (a:L {{id: 1}})-[*WSHORTEST (r, n | {weight})]->(b:L {{id: 3}}) RETURN b")
    assert words in str(raised.value)
    assert "relationship" in str(raised.value) or "start node" in str(raised.value)


def test_null_weight_of_the_start_node_counts_nothing(line):
    assert value(line, "MATCH (a:L {id: 1})-[*WSHORTEST (r, n | r.w) t]->(b:L {id: 3}) RETURN t") == 2


# --------------------------------------------------------------------------
# Limits: time, cancellation and memory inside the search
# --------------------------------------------------------------------------


def clique(db, size):
    db.execute("UNWIND range(1, $n) AS i CREATE (:K {id: i})", {"n": size})
    db.execute("MATCH (a:K), (b:K) WHERE a.id < b.id CREATE (a)-[:R]->(b)")


def test_timeout_stops_an_exhaustive_search(db):
    """A predicate no path passes makes Neo4j's exhaustive search list every
    path of a clique: the timeout stops it inside the search."""
    clique(db, 9)
    started = time.monotonic()
    with pytest.raises(QueryTimeout):
        db.execute("MATCH (a:K {id: 1}), (b:K {id: 2}) MATCH p = shortestPath((a)-[*]-(b)) WHERE length(p) < 0 RETURN p",
                   timeout=0.3)
    assert time.monotonic() - started < 2


def test_cancel_stops_a_search(db):
    clique(db, 9)
    interrupt = threading.Event()
    threading.Timer(0.2, interrupt.set).start()
    started = time.monotonic()
    with pytest.raises(QueryInterrupted):
        db.execute("MATCH (a:K {id: 1}), (b:K {id: 2}) MATCH p = allShortestPaths((a)-[*]-(b)) WHERE length(p) < 0 RETURN p",
                   interrupt=interrupt)
    assert time.monotonic() - started < 2


class _Stop(Exception):
    pass


class _Context:
    """Just enough of an ExecutionContext: the third check stops the query."""

    def __init__(self, tx):
        self.tx = tx
        self.checks = 0

    def check(self):
        self.checks += 1
        if self.checks == 3:
            raise _Stop


@pytest.mark.parametrize("search", ["bfs", "bfs_all", "dijkstra"])
def test_every_search_checks_the_running_query(db, search):
    db.execute("UNWIND range(1, $n) AS i CREATE (:C {id: i})", {"n": 4 * paths.CHECK_EVERY})
    db.execute("CREATE INDEX ON :C(id)")
    for child in ("2 * i", "2 * i + 1"):  # a binary tree: 4 checks' worth of relationships, short paths
        db.execute(f"UNWIND range(1, $n) AS i MATCH (a:C {{id: i}}), (b:C {{id: {child}}}) CREATE (a)-[:R {{w: 1}}]->(b)",
                   {"n": 2 * paths.CHECK_EVERY})
    storage = db.storage
    tx = storage.begin()
    try:
        start = next(v for v in tx.scan_vertices() if tx.get(v, "id") == 1)
        weight = paths.Lambda(0, 1, None, None, lambda row, ctx: 1)
        spec = paths.Search("bfs", False, "memgraph", 0, 1, 2, False, "out", False, 1, None, weight=weight)
        walker = paths.Walker(spec, _Context(tx), [None] * 3)
        run = {"bfs": lambda: list(paths.bfs(walker, start, 1, None)),
               "bfs_all": lambda: list(paths.bfs_all(walker, start, 1, None)),
               "dijkstra": lambda: list(paths.dijkstra(walker, start, None))}[search]
        with pytest.raises(_Stop):
            run()
    finally:
        tx.abort()


def test_all_shortest_paths_stream_in_constant_memory(db):
    """A chain of 14 diamonds has 2^14 shortest paths: they are listed one at
    a time, so counting them holds far less than the paths would."""
    diamonds = 14
    db.execute("UNWIND range(0, $n) AS i CREATE (:D {id: i})", {"n": diamonds})
    db.execute("MATCH (a:D), (b:D) WHERE b.id = a.id + 1 CREATE (a)-[:R]->(:M)-[:R]->(b), (a)-[:R]->(:M)-[:R]->(b)")
    tracemalloc.start()
    try:
        count = value(db, "MATCH (a:D {id: 0}), (b:D {id: $n}) MATCH p = allShortestPaths((a)-[*]->(b)) RETURN count(p)",
                      {"n": diamonds})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 2 ** diamonds
    held = 2 ** diamonds * (2 * diamonds) * 8  # the relationship lists alone, 8 bytes a reference
    assert peak < held / 4, (peak, held)


def test_paths_are_built_of_the_transactions_objects(db):
    """The searches hand out the store's own vertices and edges (no copies)."""
    db.execute("CREATE (:O {id: 1})-[:R]->(:O {id: 2})")
    tx = db.storage.begin()
    try:
        start = next(v for v in tx.scan_vertices() if tx.get(v, "id") == 1)
        spec = paths.Search("bfs", False, "memgraph", 0, 1, 2, False, "out", False, 1, None)
        (end, edges), = paths.bfs(paths.Walker(spec, _Context(tx), [None] * 3), start, 1, None)
        assert type(end) is Vertex and type(edges[0]) is Edge and edges[0].src is start
    finally:
        tx.abort()

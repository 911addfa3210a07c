"""The columnar path (query/columnar.py on graph/image.py; docs/analytics.md):
the same answers as the row engine on awkward data, the image only for a
transaction that reads exactly its version, and the choice EXPLAIN and
PROFILE show. The whole query suite also runs with the image forced on and
off (conftest.py); these tests aim at what that suite's small graphs miss."""

import math
import random
from collections import Counter

import pytest

import weftdb
from weftdb.basics import storage_modes

SHAPES = [
    "MATCH (a:P)-[:K]->(b:P) RETURN count(*)",
    "MATCH (a)-[]->(b) RETURN count(*)",
    "MATCH (a:P)-[:K]->()-[:K]->(c) RETURN count(*)",
    "MATCH (a:P)-[:K]->()-[:K]->()-[:K]->(d) WHERE a.v < 5 RETURN count(*)",
    "MATCH (a:P)<-[r:K]-(b) RETURN a.v, count(r) AS n ORDER BY n DESC, a.v LIMIT 7",
    "MATCH (p:P) RETURN p.v AS v, count(*) AS c ORDER BY v",
    "MATCH (p:P) RETURN p.mixed AS m, count(*) AS c ORDER BY m",
    "MATCH (p:P) RETURN p.f AS f, count(*) AS c ORDER BY f DESC",
    "MATCH (p:P) RETURN sum(p.v), avg(p.v), min(p.v), max(p.v), count(p.v), count(p)",
    "MATCH (p:P) RETURN sum(p.f), avg(p.f), min(p.f), max(p.f), count(p.f)",
    "MATCH (p:P) RETURN min(p.mixed), max(p.mixed), collect(p.s)",
    "MATCH (p:P) WHERE p.v >= 3 AND p.v < 9 AND p.f IS NOT NULL RETURN p.v, p.f ORDER BY p.f, p.v",
    "MATCH (p:P) WHERE p.s IS NULL RETURN count(*)",
    "MATCH (p:P) WHERE p.s = 's3' RETURN p.v ORDER BY p.v",
    "MATCH (p:P) WHERE p.mixed <> 'x' RETURN count(*)",
    "MATCH (p:P) WHERE p.v = 2.0 RETURN count(*)",
    "MATCH (p:P:Q) RETURN p.v ORDER BY p.v DESC LIMIT 3",
    "MATCH (p) WHERE p:Q RETURN count(p)",
    "MATCH (a:P)-[:K]->(b:Q) WHERE a.v < 10 RETURN a.v, collect(b.v) AS vs ORDER BY a.v",
    "MATCH (a:P {v: 3})-[:K]->(b) RETURN id(b), b.s ORDER BY id(b)",
    "MATCH (a:P {v: $v})-[:K]->(b) RETURN count(b)",
    "MATCH (p:P) RETURN p.v % 3 AS g, count(*) AS c ORDER BY g",
    "MATCH (p:P) RETURN p.v * -2 AS g, p.v - 1, p.v + 4, avg(p.f) AS a ORDER BY g",
    "MATCH (p:P) RETURN p.f % 3 AS g, count(*) AS c ORDER BY g",  # a float: the row plan computes it
    "MATCH (p:P) RETURN toString(p.v) AS g, count(*) AS c ORDER BY g",  # not a columnar shape: the row plan alone
    "MATCH (p:P) RETURN p.v, p.s ORDER BY p.v DESC, p.s SKIP 2 LIMIT 5",
    "MATCH (p:P) RETURN p.list AS l, count(*) AS c ORDER BY c, l",
    "MATCH (p:Missing)-[:K]->(q) RETURN count(*), sum(q.v), avg(q.v), collect(q.v)",
    "MATCH (p:P)-[:NONE]->(q) RETURN p.v, count(*)",
]


def _graph(db, seed):
    rng = random.Random(seed)
    nodes = []
    for i in range(60):
        props = {"v": rng.randrange(12) if rng.random() < 0.9 else None,
                 "f": rng.choice([0.5, -1.25, 3.0, float("nan"), None, 2.75]),
                 "mixed": rng.choice([1, 2.5, "x", "y", True, None, [1, 2]]),
                 "s": f"s{rng.randrange(6)}" if rng.random() < 0.7 else None,
                 "list": rng.choice([[1, 2], [3], None])}
        nodes.append({"labels": "Q" if i % 3 == 0 else "", "props": {k: v for k, v in props.items() if v is not None}})
    for i, node in enumerate(nodes):
        db.execute("CREATE (n:P {i: $i}) SET n += $props", {"i": i, "props": node["props"]})
        if node["labels"]:
            db.execute("MATCH (n:P {i: $i}) SET n:Q", {"i": i})
    edges = [(rng.randrange(60), rng.randrange(60)) for _ in range(240)]
    edges += [(i, i) for i in range(0, 60, 7)]  # self-loops: relationship uniqueness matters
    edges += [(1, 2), (2, 1), (1, 2)]  # a two-cycle and a parallel edge
    db.execute("UNWIND $edges AS e MATCH (a:P {i: e[0]}), (b:P {i: e[1]}) CREATE (a)-[:K]->(b)", {"edges": edges})
    db.execute("MATCH (a:P {i: 5}), (b:P {i: 6}) CREATE (a)-[:L]->(b)")


def _canonical(rows, ordered):
    def fix(value):
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        if isinstance(value, list):
            return tuple(fix(v) for v in value)
        return value
    rows = [tuple(fix(v) for v in row) for row in rows]
    return rows if ordered else Counter(rows)


@pytest.fixture(scope="module")
def pair():
    """The same graph with the image forced off and on."""
    off, on = weftdb.open(analytics_image="NEVER"), weftdb.open(analytics_image="ALWAYS")
    for db in (off, on):
        _graph(db, 7)
    yield off, on
    off.close()
    on.close()


@pytest.mark.parametrize("query", SHAPES)
def test_both_paths_give_the_same_answer(pair, query):
    off, on = pair
    params = {"v": 3}
    ordered = "ORDER BY" in query
    expected = off.execute(query, params)
    got = on.execute(query, params)
    assert got.columns == expected.columns
    if "collect" in query:  # collect keeps the rows' order, which the paths may reach differently
        norm = [tuple(sorted(map(repr, v)) if isinstance(v, list) else v for v in row) for row in expected.rows]
        assert [tuple(sorted(map(repr, v)) if isinstance(v, list) else v for v in row) for row in got.rows] == norm
    else:
        assert _canonical(got.rows, ordered) == _canonical(expected.rows, ordered)


def test_the_image_answers_the_columnar_shapes(pair):
    _, on = pair
    answered = [query for query in SHAPES if _path(on, query) == "image"]
    assert len(answered) >= 20, answered  # not a test of the row engine twice


def _path(db, query):
    profile = db.execute("PROFILE " + query, {"v": 3})
    top = profile.rows[0]
    if not top[0].startswith("* ColumnarRead"):
        return "row plan only"
    below = profile.rows[1][1]  # the row plan's root: rows only when it ran
    return "image" if top[1] == len(db.execute(query, {"v": 3}).rows) and below == 0 else "row plan"


def test_a_reader_never_sees_through_the_image_what_committed_after_it_began():
    db = weftdb.open(analytics_image="ALWAYS")
    db.execute("UNWIND range(1, 100) AS i CREATE (:N {i: i})-[:E]->(:N {i: -i})")
    query = "MATCH (a:N)-[:E]->(b) RETURN count(*)"
    before = db.begin()
    assert before.execute(query).single() == 100  # builds the image of its version
    db.execute("MATCH (a:N {i: 1}), (b:N {i: 2}) CREATE (a)-[:E]->(b)")
    assert db.execute(query).single() == 101  # a new reader: the image is rebuilt at the new version
    assert before.execute(query).single() == 100  # the older reader: not through the newer image
    after = db.begin()
    db.execute("MATCH ()-[e:E]->() WITH e LIMIT 10 DELETE e")
    assert after.execute(query).single() == 101
    assert db.execute(query).single() == 91
    before.rollback()
    after.rollback()
    db.close()


def test_a_transaction_sees_its_own_writes_not_the_image():
    db = weftdb.open(analytics_image="ALWAYS")
    db.execute("UNWIND range(1, 50) AS i CREATE (:N {i: i})")
    assert db.execute("MATCH (n:N) RETURN count(n)").single() == 50
    with db.begin() as tx:
        tx.execute("CREATE (:N {i: 0})")
        assert tx.execute("MATCH (n:N) RETURN count(n), min(n.i)").rows == [(51, 0)]
        tx.rollback()
    assert db.execute("MATCH (n:N) RETURN count(n), min(n.i)").rows == [(50, 1)]
    db.close()


def test_in_place_writes_of_an_open_transaction_are_read_as_they_happen():
    db = weftdb.open(storage_mode=storage_modes.ANALYTICAL, analytics_image="ALWAYS")
    db.execute("UNWIND range(1, 50) AS i CREATE (:N {i: i})")
    assert db.execute("MATCH (n:N) RETURN count(n)").single() == 50
    writer = db.begin()
    writer.execute("CREATE (:N {i: 0})")
    assert db.execute("MATCH (n:N) RETURN count(n)").single() == 51  # IN_MEMORY_ANALYTICAL: not isolated
    writer.rollback()
    assert db.execute("MATCH (n:N) RETURN count(n)").single() == 50
    db.close()


def test_the_on_disk_mode_answers_the_same_through_the_image(tmp_path):
    db = weftdb.open(str(tmp_path), storage_mode=storage_modes.ON_DISK, analytics_image="ALWAYS")
    off = weftdb.open(analytics_image="NEVER")
    for each in (db, off):
        _graph(each, 11)
    for query in SHAPES[:6]:
        assert Counter(db.execute(query).rows) == Counter(off.execute(query).rows), query
    assert _path(db, SHAPES[0]) == "image"
    db.close()
    off.close()


def test_by_default_the_on_disk_mode_keeps_its_memory_bound_and_its_row_plans(tmp_path):
    """An image holds every vertex and edge in memory; the on-disk mode's memory is bounded by its flag."""
    db = weftdb.open(str(tmp_path), storage_mode=storage_modes.ON_DISK)
    _graph(db, 5)
    assert _path(db, SHAPES[0]) == "row plan"
    assert db.storage.images.get(db.storage.begin(), lambda stale: False) is None  # none was built
    db.close()


def test_explain_shows_the_columnar_read_over_the_row_plan(pair):
    off, on = pair
    rows = [row[0] for row in on.execute("EXPLAIN MATCH (p:P) RETURN count(p)").rows]
    assert rows[0].startswith("* ColumnarRead (1 node mask(s)") and rows[1] == " * Produce (count(p))"
    assert all("ColumnarRead" not in row[0] for row in off.execute("EXPLAIN MATCH (p:P) RETURN count(p)").rows)


def test_by_default_a_lookup_keeps_its_index_and_a_small_label_keeps_the_row_plan():
    db = weftdb.open()
    db.execute("CREATE INDEX ON :P(i)")
    db.execute("UNWIND range(1, 2000) AS i CREATE (:P {i: i})-[:E]->(:P {i: -i})")
    db.execute("CREATE (:Small {i: 1})")
    lookup = "MATCH (p:P {i: $i})-[:E]->(q) RETURN count(q)"
    assert all("ColumnarRead" not in row[0] for row in db.execute("EXPLAIN " + lookup, {"i": 1}).rows)
    assert _path(db, "MATCH (p:P)-[:E]->(q) RETURN count(*)") == "image"  # the first build
    db.execute("CREATE (:Small {i: 2})")  # the image is stale now
    assert _path(db, "MATCH (s:Small) RETURN count(s)") == "row plan"  # 2 rows do not pay for a build
    assert _path(db, "MATCH (p:P) RETURN count(p)") == "image"  # 4,000 do
    db.close()


def test_bad_skip_and_limit_are_the_row_engines_errors(pair):
    _, on = pair
    with pytest.raises(weftdb.ClientError, match="LIMIT"):
        on.execute("MATCH (p:P) RETURN count(*) AS c ORDER BY c LIMIT $n", {"n": -1})


def test_integers_near_the_edge_of_64_bits_are_the_row_engines_business():
    off, on = weftdb.open(analytics_image="NEVER"), weftdb.open(analytics_image="ALWAYS")
    big = 2 ** 62
    for db in (off, on):
        db.execute("UNWIND [$big, $big, 1, -3, 2 ^ 53 + 1] AS v CREATE (:B {v: toInteger(v)})", {"big": big})
    for query in ["MATCH (b:B) RETURN sum(b.v), avg(b.v), max(b.v)",  # the sum leaves int64: an error
                  "MATCH (b:B) WHERE b.v < 3 RETURN sum(b.v), avg(b.v), max(b.v)",
                  "MATCH (b:B) WHERE b.v > 9007199254740992.0 RETURN count(*)",  # compared as floats, 2^53 + 1 rounds
                  "MATCH (b:B) WHERE b.v < 3 RETURN b.v * 3 AS t, count(*) ORDER BY t",
                  "MATCH (b:B) RETURN b.v * 4 AS t, count(*)"]:  # an error
        assert _outcome(on, query) == _outcome(off, query), query
    assert "overflow" in _outcome(on, "MATCH (b:B) RETURN b.v * 4 AS t, count(*)")
    off.close()
    on.close()


def _outcome(db, query):
    """The rows, or the error's type and text: the image declines what the row engine must say."""
    try:
        return db.execute(query).rows
    except weftdb.ClientError as error:
        return f"{type(error).__name__}: {error}"


def test_a_build_stops_at_its_check_and_leaves_no_image():
    """A build calls the statement's check as it reads (its timeout, TERMINATE)."""
    db = weftdb.open(analytics_image="ALWAYS")
    db.execute("UNWIND range(1, 20000) AS i CREATE (:N {i: i})")
    calls = []

    def check():
        calls.append(1)
        if len(calls) == 2:
            raise weftdb.QueryTimeout("stopped")

    with db.storage.reading() as tx:
        with pytest.raises(weftdb.QueryTimeout):
            db.storage.images.get(tx, lambda stale: True, check)
        assert db.storage.images.get(tx, lambda stale: False) is None  # nothing half-built was kept
    assert db.execute("MATCH (n:N) RETURN count(n)").single() == 20000
    db.close()


# A counted pattern through the image, and the same count through the row plan
# alone (WITH makes it two clauses, which no program covers).
THROUGH_IMAGE = "MATCH (a:N)-[:E]->(b) RETURN count(*) AS c, sum(a.v) AS s"
THROUGH_ROWS = "MATCH (a:N)-[:E]->(b) WITH a RETURN count(*) AS c, sum(a.v) AS s"


@pytest.mark.parametrize("mode", [storage_modes.TRANSACTIONAL, storage_modes.ON_DISK])
def test_readers_at_every_boundary_agree_with_the_row_plan(mode, tmp_path):
    """Writes interleaved with readers begun between them: each reader, asked
    again after later commits, answers through the image as through the row
    plan, and as it did first (its snapshot), whichever version the image is at."""
    path = str(tmp_path) if mode == storage_modes.ON_DISK else None
    db = weftdb.open(path, storage_mode=mode, analytics_image="ALWAYS")
    rng = random.Random(3)
    db.execute("UNWIND range(1, 40) AS i CREATE (:N {i: i, v: i % 7})")
    readers = []
    for step in range(30):
        reader = db.begin()
        first = reader.execute(THROUGH_IMAGE).rows
        assert first == reader.execute(THROUGH_ROWS).rows
        readers.append((reader, first))
        a, b = rng.randrange(1, 41), rng.randrange(1, 41)
        change = rng.randrange(4)
        if change == 0:
            db.execute("MATCH (a:N {i: $a}), (b:N {i: $b}) CREATE (a)-[:E]->(b)", {"a": a, "b": b})
        elif change == 1:
            db.execute("MATCH (:N {i: $a})-[e:E]->() WITH e LIMIT 1 DELETE e", {"a": a})
        elif change == 2:
            db.execute("MATCH (n:N {i: $a}) SET n.v = $v", {"a": a, "v": rng.randrange(100)})
        else:
            db.execute("MATCH (a:N {i: $a}) CREATE (a)-[:E]->(:N {i: 100 + $s, v: 1})", {"a": a, "s": step})
        for earlier, answer in readers[-5:]:  # older readers, after a commit they must not see
            assert earlier.execute(THROUGH_IMAGE).rows == answer
    for reader, answer in readers:
        assert reader.execute(THROUGH_IMAGE).rows == answer == reader.execute(THROUGH_ROWS).rows
        reader.rollback()
    assert db.execute(THROUGH_IMAGE).rows == db.execute(THROUGH_ROWS).rows
    db.close()


def test_a_statement_about_nodes_alone_does_not_read_the_edges():
    db = weftdb.open(analytics_image="ALWAYS")
    db.execute("UNWIND range(1, 100) AS i CREATE (:N {i: i})-[:E]->(:M)")
    assert db.execute("MATCH (n:N) RETURN count(n), max(n.i)").rows == [(100, 100)]
    image = db.storage.images.get(db.storage.begin(), lambda stale: False)
    assert image is not None and image.edges is None
    assert db.execute("MATCH (n:N)-[:E]->(m) RETURN count(m)").single() == 100  # reads them now, same version
    assert image.edges is not None and image.edges.count("E") == 100
    db.close()

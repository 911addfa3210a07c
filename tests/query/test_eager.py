"""When a CREATE may apply its rows as they arrive (streams) instead of after
all the reads before it (eager): the planner's Eager analysis. Each
statement below that must stay eager would give a different answer if it
streamed; the bulk-load shapes that stream give the same answers either way."""

import pytest
from cypher_helpers import value

from weftdb.basics.errors import CypherTypeError
from weftdb.query.parser import parse
from weftdb.query.planner import Planner


def streams(db, query):
    plan = Planner(db.storage.indexes).plan(parse(query))
    return getattr(plan.root, "streams", False)


def edges(db):
    return value(db, "MATCH ()-[r]->() RETURN count(r) AS c")


@pytest.mark.parametrize("query", [
    "UNWIND $rows AS r CREATE (:Person {id: r.id, name: r.name})",
    "UNWIND $rows AS r MATCH (a:Person {id: r.a}), (b:Person {id: r.b}) CREATE (a)-[:KNOWS]->(b)",
    "MATCH (a:P), (b:Q) WHERE a.x = b.x CREATE (a)-[:R]->(b)",
    "CREATE (:A)",
])
def test_bulk_load_shapes_stream(db, query):
    assert streams(db, query)


@pytest.mark.parametrize("query", [
    "MATCH (n) CREATE (m)",
    "MATCH (a)-[:R]->(b) CREATE (a)-[:R]->(b)",
    "MATCH (a), (b) WHERE NOT (a)-->(b) CREATE (a)-[:R]->(b)",
    "WITH 1 AS x WHERE EXISTS { MATCH (n) } CREATE (:A)",
    "CREATE (a) CREATE (b)",
    "CREATE (n) RETURN n",
    "CREATE (a) WITH a CREATE (b)",
])
def test_writes_that_reads_could_see_stay_eager(db, query):
    assert not streams(db, query)


def test_match_does_not_see_the_nodes_its_create_makes(db):
    db.execute("CREATE (:A), (:A)")
    assert db.execute("UNWIND [1, 2] AS x MATCH (n) CREATE (m)").counters == {"nodes-created": 4}


def test_expand_does_not_see_the_relationships_its_create_makes(db):
    db.execute("CREATE (:A)-[:R]->(:B)")
    db.execute("UNWIND [1, 2] AS x MATCH (a)-[:R]->(b) CREATE (a)-[:R]->(b)")
    assert edges(db) == 3


def test_pattern_predicate_does_not_see_the_relationships_its_create_makes(db):
    db.execute("CREATE (:A), (:B)")
    db.execute("UNWIND [1, 2] AS x MATCH (a:A), (b:B) WHERE NOT (a)-->(b) CREATE (a)-[:R]->(b)")
    assert edges(db) == 2


def test_exists_does_not_see_the_nodes_its_create_makes(db):
    result = db.execute("UNWIND [1, 2] AS x WITH x WHERE NOT EXISTS { MATCH (n:A) } CREATE (:A)")
    assert result.counters == {"nodes-created": 2, "labels-added": 2}


def test_streamed_bulk_load(db):
    db.execute("CREATE INDEX ON :Person(id)")
    people = [{"id": i, "name": f"p{i}"} for i in range(50)]
    result = db.execute("UNWIND $rows AS r CREATE (:Person {id: r.id, name: r.name})", {"rows": people})
    assert result.counters == {"nodes-created": 50, "labels-added": 50, "properties-set": 100}
    pairs = [{"a": i, "b": (i * 7) % 50} for i in range(50)] + [{"a": 1, "b": 99}]
    result = db.execute(
        "UNWIND $rows AS r MATCH (a:Person {id: r.a}), (b:Person {id: r.b}) CREATE (a)-[:KNOWS]->(b)", {"rows": pairs}
    )
    assert result.counters == {"relationships-created": 50}
    assert value(db, "MATCH (a:Person {id: 3})-[:KNOWS]->(b) RETURN b.name AS n") == "p21"


def test_failing_streamed_create_rolls_back_the_rows_before_it(db):
    db.execute("CREATE (:P {id: 1}), (:P {id: 2})")
    rows = [{"a": 1, "b": 2, "w": 1}, {"a": 2, "b": 1, "w": [1, None]}]
    query = "UNWIND $rows AS r MATCH (a:P {id: r.a}), (b:P {id: r.b}) CREATE (a)-[:R {w: r.w}]->(b)"
    assert streams(db, query)
    with pytest.raises(CypherTypeError):
        db.execute(query, {"rows": rows})
    assert edges(db) == 0

"""EXPLAIN and PROFILE: Memgraph's rows and Neo4j's plan tree (Result.plan_tree,
which the server puts in the summary as `plan` / `profile`)."""

import pytest

import weftdb
from weftdb.query.plans import flatten


@pytest.fixture(scope="module")
def db():
    db = weftdb.open()
    db.execute("CREATE INDEX ON :Person(name)")
    db.execute("UNWIND range(1, 50) AS i CREATE (:Person {name: 'p' + i})-[:KNOWS]->(:Pet {n: i})")
    yield db
    db.close()


QUERY = "MATCH (p:Person {name: 'p7'})-[k:KNOWS]->(f) RETURN f.n AS n"


def test_explain_gives_rows_and_the_tree_in_the_same_order(db):
    result = db.execute("EXPLAIN " + QUERY)
    tree = result.plan_tree
    operators = flatten(tree)
    assert [row[0].split("* ", 1)[1].split(" (")[0] for row in result.rows] == [o["operatorType"] for o in operators]
    assert tree["operatorType"] == "Produce" and tree["arguments"]["Details"] == "n"
    assert tree["arguments"]["version"] == "CYPHER 5"
    assert set(tree["identifiers"]) >= {"p", "k", "f", "n"}
    seek = next(o for o in operators if o["operatorType"] == "ScanAllByLabelPropertyValue")
    assert seek["arguments"] == {"Details": "p :Person(name)"} and seek["identifiers"] == ["p"]
    assert all("rows" not in o for o in operators)  # a plan, not a profile


def test_profile_counts_rows_and_time_per_operator(db):
    result = db.execute("PROFILE MATCH (p:Person) RETURN p.name AS name")
    assert result.columns == ["OPERATOR", "ACTUAL HITS", "RELATIVE TIME", "ABSOLUTE TIME"]
    operators = flatten(result.plan_tree)
    assert [o["rows"] for o in operators] == [row[1] for row in result.rows]
    scan = next(o for o in operators if o["operatorType"] == "ScanAllByLabel")
    assert scan["rows"] == 50 and result.plan_tree["rows"] == 50
    assert all(o["time"] >= 0 and o["dbHits"] == 0 for o in operators)
    assert sum(o["time"] for o in operators) > 0
    shares = [float(row[2].rstrip(" %")) for row in result.rows]
    assert abs(sum(shares) - 100) < 0.01 and all(row[3].endswith(" ms") for row in result.rows)


def test_plain_queries_carry_no_plan(db):
    assert db.execute(QUERY).plan_tree is None

"""The official neo4j driver (6.x, Bolt 5.8) against the server over the real engine."""

import datetime as dt
import itertools

import neo4j
import pytest
import pytz
from neo4j.exceptions import ClientError, ConstraintError, CypherSyntaxError, TransientError
from neo4j.graph import Node, Path, Relationship
from neo4j.time import Date, DateTime, Duration, Time

_labels = itertools.count()


@pytest.fixture
def label():
    return f"T{next(_labels)}"


@pytest.fixture(scope="module")
def driver(engine_server):
    with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{engine_server.port}", auth=None) as driver:
        yield driver


def test_connectivity_over_bolt_and_neo4j_uris(engine_server):
    for scheme in ("bolt", "neo4j"):
        with neo4j.GraphDatabase.driver(f"{scheme}://127.0.0.1:{engine_server.port}", auth=None) as driver:
            driver.verify_connectivity()
            records, summary, keys = driver.execute_query("RETURN 1 AS x")
            assert keys == ["x"] and records[0]["x"] == 1
            assert summary.server.protocol_version == (5, 8)


def test_execute_query_writes_and_counts(driver, label):
    _, summary, _ = driver.execute_query(f"UNWIND range(1, 3) AS i CREATE (:{label} {{i: i}})")
    assert summary.counters.nodes_created == 3
    assert summary.query_type == "w"
    records, _, _ = driver.execute_query(f"MATCH (n:{label}) RETURN count(n) AS c", routing_=neo4j.RoutingControl.READ)
    assert records[0]["c"] == 3


def test_explicit_transactions_commit_and_rollback(driver, label):
    with driver.session() as session:
        with session.begin_transaction() as tx:
            tx.run(f"CREATE (:{label} {{v: 1}})").consume()
            tx.run(f"CREATE (:{label} {{v: 2}})").consume()
            assert tx.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()["c"] == 2
            tx.commit()
        with session.begin_transaction() as tx:
            tx.run(f"CREATE (:{label} {{v: 3}})").consume()
            tx.rollback()
        assert session.run(f"MATCH (n:{label}) RETURN count(n) AS c").single()["c"] == 2
        assert session.last_bookmarks()


def test_two_open_results_in_one_transaction(driver):
    with driver.session() as session, session.begin_transaction() as tx:
        first = tx.run("UNWIND range(1, 5) AS i RETURN i")
        second = tx.run("UNWIND range(6, 8) AS i RETURN i")
        assert [r["i"] for r in second] == [6, 7, 8]
        assert [r["i"] for r in first] == [1, 2, 3, 4, 5]


def test_large_result_pages_with_fetch_size(driver):
    with driver.session(fetch_size=100) as session:
        result = session.run("UNWIND range(1, 5000) AS i RETURN i")
        assert sum(record["i"] for record in result) == 5000 * 5001 // 2


def test_execute_read_and_write_with_retry_on_conflict(engine_server, driver, label):
    driver.execute_query(f"CREATE (:{label} {{k: 1, v: 0}})")
    attempts = []
    blocker = driver.session()
    blocking_tx = blocker.begin_transaction()
    blocking_tx.run(f"MATCH (n:{label}) SET n.v = 100").consume()

    def work(tx):
        attempts.append(1)
        try:
            return tx.run(f"MATCH (n:{label}) SET n.v = n.v + 1 RETURN n.v AS v").single()["v"]
        finally:
            if len(attempts) == 1:
                blocking_tx.commit()  # the first attempt conflicted; let the retry through

    with driver.session() as session:
        assert session.execute_write(work) == 101
        assert len(attempts) == 2
        assert session.execute_read(lambda tx: tx.run(f"MATCH (n:{label}) RETURN n.v AS v").single()["v"]) == 101
    blocker.close()


def test_serialization_error_is_a_transient_error(driver, label):
    driver.execute_query(f"CREATE (:{label})")
    with driver.session() as a, driver.session() as b:
        ta, tb = a.begin_transaction(), b.begin_transaction()
        ta.run(f"MATCH (n:{label}) SET n.x = 1").consume()
        with pytest.raises(TransientError) as caught:
            tb.run(f"MATCH (n:{label}) SET n.x = 2").consume()
        assert caught.value.is_retryable()
        ta.commit()
        tb.close()


def test_error_classes(driver, label):
    with pytest.raises(CypherSyntaxError):
        driver.execute_query("RETURN RETURN")
    with driver.session() as session:  # schema statements run outside explicit transactions
        session.run(f"CREATE CONSTRAINT ON (n:{label}) ASSERT n.k IS UNIQUE").consume()
    driver.execute_query(f"CREATE (:{label} {{k: 1}})")
    with pytest.raises(ConstraintError):
        driver.execute_query(f"CREATE (:{label} {{k: 1}})")
    with pytest.raises(ClientError) as caught:
        driver.execute_query("RETURN $missing AS x")
    assert caught.value.code.startswith("Neo.ClientError.Statement.")
    # the connection is reusable after each failure
    assert driver.execute_query("RETURN 2 AS x").records[0]["x"] == 2


def test_unknown_database_is_refused(driver):
    with pytest.raises(ClientError, match="does not exist") as caught:
        driver.execute_query("RETURN 1", database_="elsewhere")
    assert caught.value.code == "Neo.ClientError.Database.DatabaseNotFound"


@pytest.mark.parametrize("name", ["weftdb", "neo4j", "memgraph", "Neo4j", "system"])
def test_the_clients_default_names_reach_the_database(engine_server, name):
    for scheme in ("bolt", "neo4j"):  # neo4j:// sends ROUTE with the name first
        with neo4j.GraphDatabase.driver(f"{scheme}://127.0.0.1:{engine_server.port}", auth=None) as driver:
            records, summary, _ = driver.execute_query("RETURN 1 AS one", database_=name)
            assert records[0]["one"] == 1 and summary.database == name
            with driver.session(database=name) as session, session.begin_transaction() as tx:
                assert tx.run("RETURN 2 AS two").single()["two"] == 2


def test_server_agent_starts_with_neo4j_and_names_weftdb(driver):
    agent = driver.get_server_info().agent
    assert agent.startswith("Neo4j/v5.") and "WeftDB" in agent


VALUES = [
    None,
    True,
    False,
    0,
    -(2**63),
    2**63 - 1,
    1.5,
    float("inf"),
    "",
    "snowman ☃ and emoji 🎉",
    [1, "two", [3.0, None]],
    {"a": 1, "b": {"c": [True]}},
    dt.date(1, 1, 1),
    dt.date(2024, 2, 29),
    dt.time(12, 30, 15, 123456),
    dt.time(23, 59, 59, tzinfo=pytz.FixedOffset(-300)),  # the driver cannot send a datetime.timezone time
    dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2024, 6, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    # zoned: the driver sends pytz zones (it crashes the interpreter on some zoneinfo values)
    pytz.timezone("Europe/Berlin").localize(dt.datetime(2024, 7, 1, 12, 30, 1, 500)),
    pytz.timezone("America/New_York").localize(dt.datetime(1900, 1, 1)),
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_value_round_trip(driver, value):
    got = driver.execute_query("RETURN $v AS v", v=value).records[0]["v"]
    if isinstance(got, (Date, Time, DateTime)):
        got = got.to_native()
    assert got == value and type(got) is type(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        assert got.utcoffset() == value.utcoffset()


def test_duration_round_trip(driver):
    value = Duration(months=14, days=3, seconds=7200, nanoseconds=5000)
    assert driver.execute_query("RETURN $v AS v", v=value).records[0]["v"] == value


def test_temporals_made_by_cypher(driver):
    record = driver.execute_query(
        "RETURN date('2020-01-02') AS d, datetime('2020-01-02T03:04:05+01:00') AS dt, duration('P1DT2H') AS du"
    ).records[0]
    assert record["d"] == Date(2020, 1, 2)
    assert record["dt"].to_native() == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    assert record["du"] == Duration(days=1, seconds=7200)


def test_graph_values(driver, label):
    record = driver.execute_query(
        f"CREATE p = (a:{label}:Extra {{name: 'a'}})-[r:KNOWS {{since: 2020}}]->(b:{label} {{name: 'b'}}) RETURN a, r, b, p"
    ).records[0]
    a, r, b, p = record["a"], record["r"], record["b"], record["p"]
    assert isinstance(a, Node) and a.labels == {label, "Extra"} and a["name"] == "a"
    assert isinstance(r, Relationship) and r.type == "KNOWS" and r["since"] == 2020
    assert r.start_node.element_id == a.element_id and r.end_node.element_id == b.element_id
    assert isinstance(p, Path) and [n["name"] for n in p.nodes] == ["a", "b"] and p.relationships[0].type == "KNOWS"
    back = driver.execute_query(
        f"MATCH p = (:{label} {{name: 'b'}})<-[:KNOWS]-(:{label} {{name: 'a'}}) RETURN p"
    ).records[0]["p"]
    assert [n["name"] for n in back.nodes] == ["b", "a"]
    assert back.relationships[0].start_node["name"] == "a"


def test_element_id_round_trips_through_the_driver(driver, label):
    records, _, _ = driver.execute_query(
        f"CREATE (a:{label} {{n: 1}})-[r:LINK]->(b:{label} {{n: 2}}) RETURN a, r, elementId(a) AS a_id, elementId(r) AS r_id")
    a, r = records[0]["a"], records[0]["r"]
    assert records[0]["a_id"] == a.element_id and records[0]["r_id"] == r.element_id
    found, _, _ = driver.execute_query("MATCH (n) WHERE elementId(n) = $id RETURN n.n AS n", id=a.element_id)
    assert [row["n"] for row in found] == [1]
    found, _, _ = driver.execute_query("MATCH (x)-[r]->(y) WHERE elementId(r) = $id RETURN y.n AS n", id=r.element_id)
    assert [row["n"] for row in found] == [2]


def test_explain_and_profile_fill_summary_plan_and_profile(driver, label):
    driver.execute_query(f"UNWIND range(1, 4) AS i CREATE (:{label} {{i: i}})")
    records, summary, _ = driver.execute_query(f"EXPLAIN MATCH (n:{label}) WHERE n.i > 2 RETURN n.i AS i")
    plan = summary.plan
    assert plan["operatorType"] == "Produce" and "n" in plan["identifiers"] and plan["children"]
    assert records and records[0]["QUERY PLAN"].startswith("* Produce")  # Memgraph's rows stay
    assert summary.profile is None
    records, summary, _ = driver.execute_query(f"PROFILE MATCH (n:{label}) WHERE n.i > 2 RETURN n.i AS i")
    profile = summary.profile
    assert profile["rows"] == 2 and profile["operatorType"] == "Produce"
    scan = profile
    while scan["children"]:
        scan = scan["children"][0]
        if scan["operatorType"] == "ScanAllByLabel":
            break
    assert scan["rows"] == 4 and scan["time"] >= 0 and "dbHits" in scan
    assert [r["OPERATOR"] for r in records][0] == "* Produce (i)"


def test_backquoted_parameter_names(driver):
    # py2neo's node matcher writes `_.name = $`1``
    records, _, _ = driver.execute_query("RETURN $`1` AS one, $`a b` AS two, $`x``y` AS three",
                                         {"1": 1, "a b": 2, "x`y": 3})
    assert records[0].values() == [1, 2, 3]

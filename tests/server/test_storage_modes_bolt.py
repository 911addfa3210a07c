"""Storage modes over Bolt with the neo4j driver: STORAGE MODE from a session,
to and from ON_DISK_TRANSACTIONAL while the database is empty,
refused with a clear error while another connection holds a transaction,
dirty reads across connections in IN_MEMORY_ANALYTICAL, and the mode in
SHOW STORAGE INFO."""

import neo4j
import pytest
from bolt_servers import serving
from neo4j.exceptions import ClientError

import weftdb


@pytest.fixture
def driver(tmp_path):
    with serving(weftdb.open(str(tmp_path))) as server:
        with neo4j.GraphDatabase.driver(f"bolt://127.0.0.1:{server.port}", auth=None) as driver:
            yield driver


def mode(session):
    return {r["storage info"]: r["value"] for r in session.run("SHOW STORAGE INFO")}["storage_mode"]


def test_storage_mode_switches_from_a_session_and_reads_go_dirty(driver):
    with driver.session() as one, driver.session() as two:
        assert mode(one) == "IN_MEMORY_TRANSACTIONAL"
        one.run("STORAGE MODE IN_MEMORY_ANALYTICAL").consume()
        assert mode(two) == "IN_MEMORY_ANALYTICAL"
        tx = one.begin_transaction()
        tx.run("CREATE (:Seen {by: 'one'})").consume()
        assert two.run("MATCH (s:Seen) RETURN count(s) AS c").single()["c"] == 1  # before the commit
        with pytest.raises(ClientError, match="no other transaction runs"):
            two.run("STORAGE MODE IN_MEMORY_TRANSACTIONAL").consume()
        tx.rollback()
        assert two.run("MATCH (s:Seen) RETURN count(s) AS c").single()["c"] == 0
        two.run("STORAGE MODE IN_MEMORY_TRANSACTIONAL").consume()
        assert mode(one) == "IN_MEMORY_TRANSACTIONAL"
        one.run("CREATE (:Kept)").consume()
        with pytest.raises(ClientError, match="needs an empty database .* holds 1 node"):
            one.run("STORAGE MODE ON_DISK_TRANSACTIONAL").consume()
        assert one.run("RETURN 1 AS x").single()["x"] == 1


def test_an_empty_database_moves_to_the_disk_and_back_between_queries(driver):
    """Every session goes on with the store that replaced the old one."""
    with driver.session() as one, driver.session() as two:
        one.run("STORAGE MODE ON_DISK_TRANSACTIONAL").consume()
        assert mode(two) == "ON_DISK_TRANSACTIONAL"
        two.run("UNWIND range(1, 5) AS i CREATE (:OnDisk {i: i})").consume()
        assert one.run("MATCH (n:OnDisk) RETURN sum(n.i) AS s").single()["s"] == 15
        tx = two.begin_transaction()
        with pytest.raises(ClientError, match="1 transaction.s. run"):
            one.run("STORAGE MODE IN_MEMORY_ANALYTICAL").consume()
        tx.run("MATCH (n) DELETE n").consume()
        tx.commit()
        one.run("STORAGE MODE IN_MEMORY_ANALYTICAL").consume()
        assert mode(two) == "IN_MEMORY_ANALYTICAL" and two.run("MATCH (n) RETURN count(n) AS c").single()["c"] == 0

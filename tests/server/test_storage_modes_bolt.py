"""Storage modes over Bolt with the neo4j driver: STORAGE MODE from a session,
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
        with pytest.raises(ClientError, match="ON_DISK_TRANSACTIONAL is not available"):
            one.run("STORAGE MODE ON_DISK_TRANSACTIONAL").consume()
        assert one.run("RETURN 1 AS x").single()["x"] == 1

"""Fixtures for the Cypher engine tests.

Opening a database is not free (it sets up the user store), so the tests
share one in-memory database and `db` hands it over empty: after each test
every node, relationship, index and constraint is removed again, and the
fixture checks that it was. The database is opened once per storage mode."""

import pytest

import weftdb
from weftdb.basics import storage_modes

NOT_IN = {"versions": storage_modes.ANALYTICAL, "index_entries": storage_modes.ON_DISK}
"""A test marked `versions` asserts snapshot isolation, which
IN_MEMORY_ANALYTICAL does not give (docs/storage-modes.md); one marked
`index_entries` looks into the in-memory index structures, which
ON_DISK_TRANSACTIONAL keeps in RocksDB instead (tests/durability/test_disk_store.py
checks those). Neither is collected in that mode, rather than skipped there."""


DATABASES = [(mode, "AUTO") for mode in storage_modes.ALL] + [
    (storage_modes.TRANSACTIONAL, "NEVER"), (storage_modes.TRANSACTIONAL, "ALWAYS")]
"""(storage mode, --analytics-image) of each shared database: every mode as
it starts by default, and the in-memory one with the columnar image forced
off (the row engine alone) and forced on (every statement of a columnar
shape answered from the image; docs/analytics.md)."""


def _id(database):
    mode, image = database
    return mode if image == "AUTO" else f"{mode}-image-{image}"


def pytest_collection_modifyitems(config, items):
    left_out = [item for item in items for marker, mode in NOT_IN.items()
                if item.get_closest_marker(marker) and getattr(item, "callspec", None) is not None
                and item.callspec.params.get("_shared_database", ("",))[0] == mode]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


@pytest.fixture(scope="session", params=DATABASES, ids=_id)
def _shared_database(request, tmp_path_factory):
    """Every test of `db` runs in each storage mode, and with the columnar
    image off and on: the answers are the same whether writes keep versions,
    apply in place or go to RocksDB, and whichever path a read takes."""
    mode, image = request.param
    if mode == storage_modes.ON_DISK:
        database = weftdb.open(str(tmp_path_factory.mktemp("on-disk")), storage_mode=mode, analytics_image=image)
    else:
        database = weftdb.open(storage_mode=mode, analytics_image=image)
    yield database
    database.close()


@pytest.fixture
def db(_shared_database):
    yield _shared_database
    _wipe(_shared_database)


def _name(text):
    return "`" + text.replace("`", "``") + "`"


def _wipe(db):
    db.execute("MATCH (n) DETACH DELETE n")
    for kind, label, properties in db.execute("SHOW CONSTRAINT INFO").rows:
        if kind == "exists":
            db.execute(f"DROP CONSTRAINT ON (n:{_name(label)}) ASSERT EXISTS (n.{_name(properties)})")
        else:
            keys = ", ".join("n." + _name(key) for key in properties)
            db.execute(f"DROP CONSTRAINT ON (n:{_name(label)}) ASSERT {keys} IS UNIQUE")
    for _, label, key, _ in db.execute("SHOW INDEX INFO").rows:
        db.execute(f"DROP INDEX ON :{_name(label)}" + (f"({_name(key)})" if key is not None else ""))
    assert db.execute("MATCH (n) RETURN count(n)").single() == 0
    assert db.execute("SHOW INDEX INFO").rows == [] and db.execute("SHOW CONSTRAINT INFO").rows == []

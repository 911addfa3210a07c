"""Index and constraint names survive restarts through the WAL and snapshots, and a
data directory written before names existed (WAL format 1, snapshot format 2)
still opens, its definitions under their generated names, and goes on in the
new formats.

`data/schema-v1` was written by WeftDB 0.1 before this change: a label index,
:Person(name), an existence and a uniqueness constraint and two people, then
a snapshot; then, in the WAL only, :City(name), a composite uniqueness
constraint on :Employee(company, number), an index and an existence
constraint created and dropped again, and a city and an employee."""

import os
import shutil
import struct

import pytest

import weftdb
from weftdb.basics.errors import ConstraintViolation
from weftdb.durability import snapshot_file, wal

HERE = os.path.dirname(os.path.abspath(__file__))
OLD = os.path.join(HERE, "data", "schema-v1")

SCHEMA = [
    "CREATE INDEX person_name FOR (p:Person) ON (p.name)",
    "CREATE INDEX ON :Person",
    "CREATE TEXT INDEX FOR (p:Person) ON (p.bio)",
    "CREATE INDEX knows_since FOR ()-[r:KNOWS]-() ON (r.since)",
    "CREATE INDEX book FOR (b:Book) ON (b.title, b.year)",
    "CREATE CONSTRAINT person_email FOR (p:Person) REQUIRE p.email IS UNIQUE",
    "CREATE CONSTRAINT FOR (e:Employee) REQUIRE (e.company, e.number) IS NODE KEY",
    "CREATE CONSTRAINT ON (c:City) ASSERT EXISTS (c.name)",
]


def catalog(db):
    return sorted(db.storage.catalog.indexes.values(), key=repr), sorted(db.storage.catalog.constraints.values(), key=repr)


def build(path):
    db = weftdb.open(path, storage_snapshot_on_exit=False, storage_snapshot_interval_sec=0)
    for statement in SCHEMA:
        db.execute(statement)
    db.execute("CREATE (a:Person {name: 'Ann', email: 'a@x'})-[:KNOWS {since: 2020}]->(:Person {name: 'Bo'}), "
               "(:Employee {company: 'A', number: 1}), (:Book {title: 'T', year: 1})")
    db.execute("DROP INDEX person_name")
    db.execute("CREATE INDEX person_name FOR (p:Person) ON (p.name)")
    return db


def check_enforced_and_used(db):
    with pytest.raises(ConstraintViolation):
        db.execute("CREATE (:Employee {company: 'A', number: 1})")
    with pytest.raises(ConstraintViolation):
        db.execute("CREATE (:Employee {company: 'B'})")
    plan = db.execute("EXPLAIN MATCH (a)-[r:KNOWS {since: 2020}]->(b) RETURN b").plan
    assert "ScanEdgesByTypePropertyValue" in plan
    assert db.execute("MATCH (a)-[r:KNOWS {since: 2020}]->(b) RETURN b.name").single() == "Bo"
    assert db.execute("MATCH (b:Book {title: 'T', year: 1}) RETURN count(b)").single() == 1


@pytest.mark.parametrize("snapshot", [False, True], ids=["from the WAL", "from a snapshot"])
def test_names_survive_a_restart(tmp_path, snapshot):
    path = str(tmp_path / "data")
    db = build(path)
    before = catalog(db)
    if snapshot:
        db.execute("CREATE SNAPSHOT")
    db.close()
    with weftdb.open(path, storage_snapshot_on_exit=False) as db:
        assert catalog(db) == before
        assert "person_name" in db.storage.catalog.indexes and "person_email" in db.storage.catalog.constraints
        check_enforced_and_used(db)


def test_new_files_are_written_in_the_new_versions(tmp_path):
    path = str(tmp_path / "data")
    db = build(path)
    db.execute("CREATE SNAPSHOT")
    db.close()
    segment = sorted(os.listdir(os.path.join(path, "wal")))[-1]
    with open(os.path.join(path, "wal", segment), "rb") as f:
        assert struct.unpack_from("<H", f.read(10), 8)[0] == wal.VERSION == 2
    snapshot = sorted(os.listdir(os.path.join(path, "snapshots")))[-1]
    with open(os.path.join(path, "snapshots", snapshot), "rb") as f:
        assert struct.unpack_from("<H", f.read(10), 8)[0] == snapshot_file.VERSION == 3


def old_data_directory(tmp_path, snapshot: bool) -> str:
    path = str(tmp_path / "old")
    shutil.copytree(OLD, path)
    if not snapshot:
        shutil.rmtree(os.path.join(path, "snapshots"))
    return path


def generated(definition) -> bool:
    return definition.name == definition.default_name()


@pytest.mark.parametrize("snapshot", [False, True], ids=["WAL only", "snapshot and WAL"])
def test_a_data_directory_of_the_old_formats_opens(tmp_path, snapshot):
    path = old_data_directory(tmp_path, snapshot)
    with weftdb.open(path, storage_snapshot_on_exit=False) as db:
        indexes, constraints = catalog(db)
        assert all(generated(d) for d in indexes + constraints)
        assert sorted((d.kind, d.token, d.keys) for d in indexes) == [
            ("LOOKUP", "Person", ()), ("RANGE", "City", ("name",)), ("RANGE", "Person", ("name",))]
        assert sorted((d.kind, d.label, d.keys) for d in constraints) == [
            ("exists", "Person", ("name",)), ("unique", "Employee", ("company", "number")), ("unique", "Person", ("email",))]
        assert db.execute("MATCH (n) RETURN count(n)").single() == 4
        with pytest.raises(ConstraintViolation):
            db.execute("CREATE (:Employee {company: 'A', number: 1})")
        db.execute("CREATE INDEX city_pop FOR (c:City) ON (c.population)")  # a new-format record after old ones
        names = catalog(db)
    with weftdb.open(path, storage_snapshot_on_exit=False) as db:  # format 1 and 2 segments, read in turn
        assert catalog(db) == names and "city_pop" in db.storage.catalog.indexes


def test_a_dump_keeps_names_and_loads_back(tmp_path):
    db = build(str(tmp_path / "data"))
    lines = [row[0] for row in db.execute("DUMP DATABASE")]
    schema_lines = [line for line in lines if "INDEX" in line or "CONSTRAINT" in line]
    assert "CREATE RANGE INDEX `person_name` FOR (n:`Person`) ON (n.`name`);" in schema_lines
    assert "CREATE INDEX ON :`Person`;" in schema_lines  # generated names: Memgraph's syntax
    assert "CREATE EDGE INDEX ON :`KNOWS`(`since`);" not in schema_lines  # named: Neo4j's syntax
    copy = weftdb.open()
    for line in lines:
        copy.execute(line)
    assert catalog(copy) == catalog(db)
    assert [row[0] for row in copy.execute("DUMP DATABASE")] == lines
    db.close()

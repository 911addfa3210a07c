"""What the store keeps for its hot paths stays true to its schema:
`Constraints.active` (whether a commit has constraints to check) follows every
create and drop, and `Indexes.lookup` tells "no index can answer" from "the
index holds nothing"."""

import pytest

from weftdb.basics.errors import ConstraintViolation
from weftdb.graph.storage import Storage


def test_constraints_active_follows_create_and_drop():
    storage = Storage()
    constraints = storage.constraints
    assert not constraints.active
    storage.create_constraint("exists", "P", ("id",))
    assert constraints.active
    storage.create_constraint("unique", "P", ("id",))
    storage.drop_constraint("exists", "P", ("id",))
    assert constraints.active  # the unique one is left
    storage.drop_constraint("unique", "P", ("id",))
    assert not constraints.active
    storage.create_constraint("unique", "P", ("id", "name"))
    assert constraints.active
    storage.drop_constraint("unique", "P", ("id", "name"))
    assert not constraints.active


def test_a_commit_checks_constraints_only_while_one_exists():
    storage = Storage()
    storage.create_constraint("exists", "P", ("id",))
    tx = storage.begin()
    tx.create_vertex(("P",), {})
    with pytest.raises(ConstraintViolation):
        tx.commit()
    storage.drop_constraint("exists", "P", ("id",))
    tx = storage.begin()
    tx.create_vertex(("P",), {})
    tx.commit()


def test_index_lookup_entries():
    storage = Storage()
    tx = storage.begin()
    one = tx.create_vertex(("P",), {"id": 1, "tags": ["a"]})
    two = tx.create_vertex(("P",), {"id": 2})
    three = tx.create_vertex(("P",), {"id": 2.0})
    tx.commit()
    indexes = storage.indexes
    assert indexes.lookup("P", "id", 1) is None  # no index yet
    storage.create_index("P", "id", log=False)
    storage.create_index("P", "tags", log=False)
    assert indexes.lookup("P", "id", 1) is one
    assert indexes.lookup("P", "id", 1.0) is one  # Cypher groups 1 with 1.0
    assert indexes.lookup("P", "id", 2) == {two, three}
    assert indexes.lookup("P", "id", 7) == ()
    assert indexes.lookup("P", "id", {"a": 1}) is None  # maps are not indexed: the caller scans
    assert indexes.lookup("P", "tags", ["a"]) is one
    assert indexes.lookup("Q", "id", 1) is None
    assert indexes.property_candidates("P", "id", 7) == []
    assert indexes.property_candidates("P", "id", {"a": 1}) is None
    assert sorted(v.gid for v in indexes.property_candidates("P", "id", 2)) == [1, 2]

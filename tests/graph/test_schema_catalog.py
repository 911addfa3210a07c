"""The schema catalog in the store: named definitions, generated names, changes
applied all or none, replay of old and new redo operations, and the garbage
collection of the indexes over several properties and of relationships."""

import pytest

from weftdb.basics.errors import ConstraintViolation, RecoveryError, SchemaError
from weftdb.graph import redo, schema
from weftdb.graph.storage import Storage
from weftdb.query.values import equals


def index_op(kind, entity, token, keys, name=None):
    definition = schema.IndexDef(name or "", kind, entity, token, tuple(keys))
    return schema.IndexDef(name or definition.default_name(), kind, entity, token, tuple(keys)).op()


def test_generated_names_depend_on_the_definition_only():
    one, two = Storage(), Storage()
    a = one.catalog.define_index(schema.RANGE, schema.NODE, "Person", ("name",))
    b = two.catalog.define_index(schema.RANGE, schema.NODE, "Person", ("name",))
    assert a.name == b.name and a.name.startswith("index_")
    assert one.catalog.define_index(schema.TEXT, schema.NODE, "Person", ("name",)).name != a.name
    assert one.catalog.define_constraint(schema.UNIQUE, "Person", ("name",)).name.startswith("constraint_")


def test_equivalent_definitions_are_kept_once_and_names_once():
    storage = Storage()
    assert storage.apply_schema([index_op(schema.RANGE, schema.NODE, "P", ["k"], "first")])
    assert storage.apply_schema([index_op(schema.RANGE, schema.NODE, "P", ["k"], "second")]) == []  # exists as `first`
    assert storage.apply_schema([index_op(schema.TEXT, schema.NODE, "P", ["k"], "text")])  # another kind: its own
    with pytest.raises(schema.SchemaNameTaken):
        storage.apply_schema([index_op(schema.RANGE, schema.NODE, "Q", ["k"], "first")])
    assert sorted(storage.catalog.indexes) == ["first", "text"]
    assert storage._index_users == {(schema.NODE, "P", ("k",)): 2}  # one structure, two users
    storage.apply_schema([(schema.DROP_INDEX, "first")])
    assert storage.indexes.has_property_index("P", "k")
    storage.apply_schema([(schema.DROP_INDEX, "text")])
    assert not storage.indexes.has_property_index("P", "k") and storage._index_users == {}


def test_changes_are_applied_all_or_none():
    storage = Storage()
    tx = storage.begin()
    tx.create_vertex(("P",), {"k": 1})
    tx.create_vertex(("P",), {"k": 1})
    tx.commit()
    ops = [index_op(schema.RANGE, schema.NODE, "P", ["j"], "i"),
           schema.ConstraintDef("c", schema.UNIQUE, "P", ("k",)).op()]
    with pytest.raises(SchemaError, match="share the value"):
        storage.apply_schema(ops)
    assert storage.catalog.indexes == {} and storage.catalog.constraints == {}
    assert not storage.indexes.has_property_index("P", "j") and not storage.indexes.has_property_index("P", "k")
    assert not storage.constraints.active


def test_node_key_is_checked_at_commit():
    storage = Storage()
    storage.apply_schema([schema.ConstraintDef("key", schema.NODE_KEY, "P", ("a", "b")).op()])
    tx = storage.begin()
    tx.create_vertex(("P",), {"a": 1})
    with pytest.raises(ConstraintViolation, match="`b`"):
        tx.commit()
    tx = storage.begin()
    tx.create_vertex(("P",), {"a": 1, "b": 2})
    tx.commit()
    tx = storage.begin()
    tx.create_vertex(("P",), {"a": 1, "b": 2.0})  # equal in Cypher
    with pytest.raises(ConstraintViolation, match="already exists with label `P` and properties"):
        tx.commit()


def test_old_unnamed_operations_replay_with_generated_names():
    storage = Storage()
    redo.apply(storage, [(redo.CREATE_INDEX, "P", None), (redo.CREATE_INDEX, "P", "k"),
                         (redo.CREATE_CONSTRAINT, "exists", "P", ["a", "b"]),
                         (redo.CREATE_CONSTRAINT, "unique", "P", ["k", "j"])], "record 1")
    names = {d.kind: d.name for d in storage.catalog.indexes.values()}
    assert names[schema.LOOKUP] == schema.IndexDef("", schema.LOOKUP, schema.NODE, "P", ()).default_name()
    assert len(storage.catalog.constraints) == 3
    redo.apply(storage, [(redo.DROP_CONSTRAINT, "exists", "P", ["a"]), (redo.DROP_INDEX, "P", "k")], "record 2")
    assert [d.keys for d in storage.catalog.constraints.values() if d.kind == "exists"] == [("b",)]
    assert [d.kind for d in storage.catalog.indexes.values()] == [schema.LOOKUP]


def test_named_operations_replay_idempotently_and_name_what_does_not_fit():
    storage = Storage()
    op = index_op(schema.RANGE, schema.RELATIONSHIP, "T", ["w"], "tw")
    redo.apply(storage, [op], "record 1")
    redo.apply(storage, [op], "record 2")  # a snapshot taken while it committed meets it again
    assert list(storage.catalog.indexes) == ["tw"]
    redo.apply(storage, [(schema.DROP_INDEX, "tw"), (schema.DROP_INDEX, "tw")], "record 3")
    assert storage.catalog.indexes == {}
    with pytest.raises(RecoveryError, match="record 4: operation create index"):
        redo.apply(storage, [(schema.CREATE_INDEX, "x", "HASH", schema.NODE, "P", ["k"])], "record 4")


def test_composite_index_drops_the_tuples_no_version_has():
    storage = Storage()
    storage.apply_schema([index_op(schema.RANGE, schema.NODE, "P", ["a", "b"])])
    tx = storage.begin()
    vertex = tx.create_vertex(("P",), {"a": 1, "b": 1})
    tx.commit()
    reader = storage.begin()  # keeps (1, 1) alive
    tx = storage.begin()
    tx.set_property(vertex, "a", 2)
    tx.set_property(vertex, "b", 2)
    tx.commit()
    index = storage.indexes.composites["P"][("a", "b")]
    assert set(index.entries) == {(1, 1), (2, 1), (2, 2)}  # every tuple a version held, mid-way included
    assert reader.vertices_with_properties("P", ("a", "b"), (1, 1), equals) == [vertex]
    reader.commit()
    tx = storage.begin()
    tx.commit()  # collects
    assert set(index.entries) == {(2, 2)}
    tx = storage.begin()
    tx.remove_label(vertex, "P")
    tx.commit()
    storage.begin().commit()
    assert index.entries == {} and index.filed == {}


def test_relationship_index_drops_old_values_and_deleted_relationships():
    storage = Storage()
    storage.apply_schema([index_op(schema.RANGE, schema.RELATIONSHIP, "T", ["w"])])
    tx = storage.begin()
    a, b = tx.create_vertex((), {}), tx.create_vertex((), {})
    edge = tx.create_edge(a, b, "T", {"w": 1})
    tx.create_edge(a, b, "U", {"w": 1})  # another type: not in this index
    tx.commit()
    index = storage.indexes.edge_indexes["T"][("w",)]
    assert index.entries == {(1,): edge}
    tx = storage.begin()
    tx.set_property(edge, "w", 2)
    tx.commit()
    storage.begin().commit()
    assert index.entries == {(2,): edge}
    tx = storage.begin()
    tx.delete_edge(edge)
    tx.commit()
    storage.begin().commit()
    assert index.entries == {} and index.filed == {}

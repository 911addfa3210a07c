"""Recovery loads runs of creations in batches: the result must be what op-by-op replay gives."""

import pytest

from weftdb.errors import RecoveryError
from weftdb.graph import redo
from weftdb.graph.storage import Storage


def test_runs_of_creations_and_other_ops_interleaved():
    storage = Storage()
    redo.apply(storage, [(redo.CREATE_INDEX, "P", "id")], "record 1")
    redo.apply(storage, [
        (redo.CREATE_VERTEX, 0, ["P"], {"id": 10}),
        (redo.CREATE_VERTEX, 1, ["P", "Q"], {"id": 11}),
        (redo.CREATE_VERTEX, 5, [], {}),
        (redo.SET_VERTEX_PROPERTY, 5, "id", 15),
        (redo.ADD_LABEL, 5, "P"),
        (redo.CREATE_EDGE, 0, "K", 0, 1, {"w": 1}),
        (redo.CREATE_EDGE, 3, "L", 1, 1, {}),
        (redo.DELETE_EDGE, 0),
        (redo.CREATE_VERTEX, 2, ["Q"], {}),
    ], "record 2")
    assert sorted(storage.vertices) == [0, 1, 2, 5]
    assert sorted(storage.edges) == [3]
    assert (storage.next_vertex_id, storage.next_edge_id) == (6, 4)
    assert storage.vertices[1].labels == ("P", "Q")
    assert {v.gid for v in storage.indexes.label_candidates("Q")} == {1, 2}
    assert [v.gid for v in storage.indexes.property_candidates("P", "id", 15)] == [5]
    assert [v.gid for v in storage.indexes.property_candidates("P", "id", 11)] == [1]
    assert storage.vertices[1].out_edges == storage.vertices[1].in_edges == [storage.edges[3]]
    assert storage.edge_types == {"K", "L"} and storage.property_keys == {"id", "w"}


def test_an_op_of_a_run_that_does_not_apply_is_named():
    storage = Storage()
    redo.apply(storage, [(redo.CREATE_VERTEX, 0, ["P"], {})], "record 1")
    ops = [(redo.CREATE_EDGE, 0, "K", 0, 0, {}), (redo.CREATE_EDGE, 1, "K", 0, 7, {}), (redo.CREATE_EDGE, 2, "K", 0, 0, {})]
    with pytest.raises(RecoveryError, match=r"record 2: operation create edge \(6, 1, 'K', 0, 7, \{\}\) does not apply"):
        redo.apply(storage, ops, "record 2")


def test_recovery_pauses_the_collector_and_freezes_only_a_served_graph(tmp_path):
    import gc

    import weftdb
    from weftdb.durability.files import FileSystem
    from weftdb.durability.recovery import recover

    with weftdb.open(str(tmp_path), storage_snapshot_interval_sec=0) as db:
        db.execute("UNWIND range(1, 100) AS i CREATE (:P {id: i})-[:K]->(:P)")
    assert gc.isenabled()
    frozen = gc.get_freeze_count()
    dry = recover(FileSystem(), str(tmp_path))  # a dry run (weftdb verify): its graph is dropped later
    assert gc.isenabled() and gc.get_freeze_count() == frozen and len(dry.storage.vertices) == 200
    served = recover(FileSystem(), str(tmp_path), long_lived=True)
    assert gc.isenabled() and gc.get_freeze_count() > frozen and len(served.storage.edges) == 100
    gc.unfreeze()

"""Recovery loads runs of creations in batches: the result must be what op-by-op replay gives."""

import os
import shutil

import pytest

import weftdb
from weftdb.basics.errors import RecoveryError
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


def test_ops_as_decoded_lists_load_like_tuples():
    """Recovery hands the loaders the lists a WAL record decoded to, code first."""
    storage = Storage()
    redo.apply(storage, [[redo.CREATE_VERTEX, g, ["P", "Q"] if g % 2 else ["P"], {"id": g}] for g in range(6)], "r1")
    redo.apply(storage, [[redo.CREATE_EDGE, g, "K", g, 5 - g, {"w": g} if g else {}] for g in range(4)], "r2")
    vertices = storage.vertices
    assert vertices[1].labels == ("P", "Q") and vertices[1].labels is vertices[3].labels
    assert vertices[0].labels is vertices[2].labels == ("P",)
    assert {v.gid for v in storage.indexes.label_candidates("Q")} == {1, 3, 5}
    assert vertices[0].out_edges == [storage.edges[0]] and vertices[5].in_edges == [storage.edges[0]]
    assert vertices[4].out_edges == () and vertices[4].in_edges == [storage.edges[1]]
    assert (storage.next_vertex_id, storage.next_edge_id) == (6, 4)
    assert storage.edge_types == {"K"} and storage.property_keys == {"id", "w"}


@pytest.mark.parametrize("bad", [[], [[1]], [redo.CREATE_VERTEX, 9, ["P"]], [redo.CREATE_VERTEX, [9], ["P"], {}]])
def test_a_malformed_op_in_a_run_is_named(bad):
    storage = Storage()
    ops = [[redo.CREATE_VERTEX, 0, ["P"], {}], bad, [redo.CREATE_VERTEX, 1, ["P"], {}]]
    with pytest.raises(RecoveryError, match=r"^record 7: "):
        redo.apply(storage, ops, "record 7")
    with pytest.raises(RecoveryError, match=r"^record 8: "):
        redo.apply(Storage(), [bad], "record 8")


def test_wal_record_decode_gives_lists_and_refuses_other_shapes():
    from weftdb.durability import codec, wal
    from weftdb.durability.wal_reader import WalRecord

    body = wal.encode_record(3, 4, [(redo.CREATE_VERTEX, 0, ["P"], {"id": 1}), (redo.DELETE_VERTEX, 0)])
    assert WalRecord("seg", 1, 40, body).decode() == (3, 4, [[redo.CREATE_VERTEX, 0, ["P"], {"id": 1}], [redo.DELETE_VERTEX, 0]])
    for shape in ([3, 4, [5]], [3, 4, (1, 2)], [3, 4], [3, "4", []], {"a": 1}):
        with pytest.raises(RecoveryError, match=r"WAL segment seg: the record at byte 40 has a valid checksum"):
            WalRecord("seg", 1, 40, codec.packb(shape)).decode()


def test_edges_recovered_from_the_wal_share_one_type_string():
    """msgpack decodes a new string for every edge's type in a WAL record; a
    million edges must not keep a million copies of "KNOWS"."""
    storage = Storage()
    redo.apply(storage, [(redo.CREATE_VERTEX, 0, [], {})], "record 1")
    decoded = [[redo.CREATE_EDGE, gid, "".join(["KNO", "WS"]), 0, 0, {}] for gid in range(3)]
    assert decoded[0][2] is not decoded[1][2]
    redo.apply(storage, decoded, "record 2")
    redo.apply(storage, [[redo.CREATE_EDGE, 3, "".join(["KNO", "WS"]), 0, 0, {}]], "record 3")
    assert len({id(e.type) for e in storage.edges.values()}) == 1


def graph_of(storage) -> list[str]:
    """Every vertex and edge with labels, type, ends and properties, as sorted text (values may be lists)."""
    vertices = [repr((v.gid, sorted(v.labels), sorted(v.props.items()))) for v in storage.vertices.values()]
    edges = [repr((e.gid, e.type, e.src.gid, e.dst.gid, sorted(e.props.items()))) for e in storage.edges.values()]
    return sorted(vertices) + sorted(edges)


def test_a_snapshot_brings_back_every_shape_of_vertex_and_edge(tmp_path):
    """Snapshot items are create ops naming labels and types by index: label
    sets of every size, several types, properties of every kind on both,
    read back from the snapshot alone (its WAL moved away) equal to what was
    written, with one string per name."""
    quiet = dict(storage_snapshot_on_exit=False, storage_snapshot_interval_sec=0)
    src, only_snapshot = str(tmp_path / "src"), str(tmp_path / "only-snapshot")
    db = weftdb.open(src, **quiet)
    db.execute("CREATE INDEX ON :Person(name)")
    db.execute("CREATE (:Person:Émigré {name: 'Ana', tags: ['a', 'b'], born: date('1990-01-02')})")
    db.execute("CREATE (:Person {name: 'Bo', score: 1.5, ok: true})")
    db.execute("CREATE ({nothing: null})")
    db.execute("CREATE (:City)")
    db.execute("MATCH (a:Person {name: 'Ana'}), (b:Person {name: 'Bo'}) "
               "CREATE (a)-[:KNOWS {since: 2001, via: 'work'}]->(b), (b)-[:KNOWS]->(a), (a)-[:LIKES {w: [1, 2]}]->(a)")
    db.execute("MATCH (p:Person {name: 'Bo'}), (c:City) CREATE (p)-[:LIVES_IN]->(c)")
    before = graph_of(db.storage)
    path = db.execute("CREATE SNAPSHOT").rows[0][0]
    db.close()
    os.makedirs(os.path.join(only_snapshot, "snapshots"))
    shutil.copy(path, os.path.join(only_snapshot, "snapshots"))
    db = weftdb.open(only_snapshot, **quiet)
    try:
        assert db.durability.recovered.snapshot and not db.durability.recovered.replayed
        assert graph_of(db.storage) == before and len(before) == 4 + 4
        assert len({id(e.type) for e in db.storage.edges.values() if e.type == "KNOWS"}) == 1
        assert db.execute("MATCH (p:Person {name: 'Ana'})-[:KNOWS]->(q) RETURN q.name").rows == [("Bo",)]
    finally:
        db.close()

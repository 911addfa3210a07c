"""The whole visible state of a store as one comparable value (for crash tests).

Why by gid: recovery keeps vertex and edge ids, so two states are equal only
if the same objects came back with the same labels, properties and ends — a
partly replayed transaction or a wrong snapshot shows up as a difference.
"""

from __future__ import annotations


def state_of(storage) -> tuple:
    """(vertices, edges, indexes) as a new transaction sees them."""
    tx = storage.begin()
    try:
        vertices = frozenset(
            (v.gid, tuple(sorted(labels)), tuple(sorted(props.items(), key=repr)))
            for v in tx.scan_vertices()
            for labels, props, _deleted in [tx.view(v)]
        )
        edges = frozenset(
            (e.gid, e.type, e.src.gid, e.dst.gid, tuple(sorted(tx.properties(e).items(), key=repr)))
            for e in tx.scan_edges()
        )
    finally:
        tx.commit()
    indexes = (tuple(sorted(storage.indexes.declared_labels)), tuple(sorted(storage.indexes.by_property)))
    return vertices, edges, indexes


def describe(state: tuple) -> str:
    vertices, edges, _ = state
    return f"{len(vertices)} vertices, {len(edges)} edges"


def cheap_scrypt(monkeypatch) -> None:
    """Opening a Database hashes a dummy password with scrypt (~0.1 s, auth.py);
    tests that open hundreds of times do not test passwords, so make it cheap."""
    import weftdb.durability.users

    monkeypatch.setattr(weftdb.durability.users, "SCRYPT_N", 2)

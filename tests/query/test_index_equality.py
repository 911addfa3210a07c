"""Indexed lookups compare with Cypher equality, not Python's: the index files
true under 1 and false under 0 (they hash alike), and a stale entry (a value
changed or rolled back) must not match."""

from cypher_helpers import value


def test_booleans_and_numbers_share_index_entries_but_do_not_match(db):
    db.execute("CREATE INDEX ON :L(p)")
    db.execute("CREATE (:L {p: true}), (:L {p: 1}), (:L {p: false}), (:L {p: 0.0})")
    assert value(db, "MATCH (n:L {p: 1}) RETURN count(n) AS c") == 1
    assert value(db, "MATCH (n:L {p: true}) RETURN count(n) AS c") == 1
    assert value(db, "MATCH (n:L {p: 0}) RETURN n.p AS p") == 0.0
    assert value(db, "MATCH (n:L {p: false}) RETURN count(n) AS c") == 1


def test_stale_index_entries_do_not_match(db):
    db.execute("CREATE INDEX ON :L(p)")
    db.execute("CREATE (:L {p: 1})")
    db.execute("MATCH (n:L) SET n.p = 2")
    tx = db.begin()
    tx.execute("MATCH (n:L) SET n.p = 3")
    tx.rollback()
    assert value(db, "MATCH (n:L {p: 1}) RETURN count(n) AS c") == 0
    assert value(db, "MATCH (n:L {p: 3}) RETURN count(n) AS c") == 0
    assert value(db, "MATCH (n:L {p: 2}) RETURN count(n) AS c") == 1


def test_lists_and_maps_holding_booleans_and_numbers_do_not_match(db):
    """Python's == says [1] == [True]; Cypher's says false, with or without an index."""
    db.execute("CREATE (:L {p: [1], q: 'list'}), (:L {p: [true], q: 'bool list'})")
    without = value(db, "MATCH (n:L {p: [true]}) RETURN collect(n.q) AS qs")
    db.execute("CREATE INDEX ON :L(p)")
    assert value(db, "MATCH (n:L {p: [true]}) RETURN collect(n.q) AS qs") == without == ["bool list"]
    assert value(db, "MATCH (n:L {p: [1]}) RETURN collect(n.q) AS qs") == ["list"]
    assert value(db, "MATCH (n:L {p: [1.0]}) RETURN collect(n.q) AS qs") == ["list"]

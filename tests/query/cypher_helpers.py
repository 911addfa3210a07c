"""Helpers shared by the Cypher engine tests (imported by module name: tests/query is on sys.path)."""


def rows(db, query, params=None):
    """The rows of `query` as a list of tuples."""
    return list(db.execute(query, params).rows)


def value(db, query, params=None):
    """The single value of a one-row, one-column query."""
    return db.execute(query, params).single()


def same(actual, expected):
    """Equal and of the same type all the way down (1 is not 1.0, True is not 1)."""
    if type(actual) is not type(expected):
        return False
    if isinstance(expected, list):
        return len(actual) == len(expected) and all(same(a, e) for a, e in zip(actual, expected))
    if isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(same(actual[k], expected[k]) for k in expected)
    if isinstance(expected, float) and expected != expected:
        return actual != actual
    return actual == expected

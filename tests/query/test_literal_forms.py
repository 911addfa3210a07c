"""Literal and clause forms openCypher allows at the edges: the smallest
64-bit integer in hexadecimal and octal, a float literal too large for a
float, and `SET (n).key` with the variable in parentheses."""

import pytest
from cypher_helpers import value

from weftdb import CypherSyntaxError


@pytest.mark.parametrize("literal", ["-9223372036854775808", "-0x8000000000000000", "-0X8000000000000000", "-0o1000000000000000000000"])
def test_the_smallest_integer_in_every_base(db, literal):
    assert value(db, f"RETURN {literal} AS x") == -(2**63)


def test_minus_before_a_hexadecimal_literal_is_still_subtraction(db):
    assert value(db, "RETURN 3 -0x10 AS x") == -13
    assert value(db, "RETURN -0x7FFFFFFFFFFFFFFF AS x") == -(2**63) + 1


@pytest.mark.parametrize("literal", ["0x8000000000000000", "0o1000000000000000000000", "9223372036854775808"])
def test_integers_beyond_64_bits_are_refused(db, literal):
    with pytest.raises(CypherSyntaxError, match="does not fit in 64 bits"):
        db.execute(f"RETURN {literal} AS x")


def test_a_float_literal_too_large_is_refused(db):
    with pytest.raises(CypherSyntaxError, match="1.34E999 is too large"):
        db.execute("RETURN 1.34E999 AS x")
    assert value(db, "RETURN 1.7976931348623157E308 AS x") == 1.7976931348623157e308


def test_set_a_property_of_a_parenthesised_variable(db):
    db.execute("CREATE (:A)-[:T]->()")
    assert value(db, "MATCH (n:A) SET (n).name = 'neo4j' RETURN n.name AS x") == "neo4j"
    assert value(db, "MATCH ()-[r:T]->() SET (r).num = 1 RETURN r.num AS x") == 1

"""A small app on neomodel 7 (the Neo4j OGM, on the neo4j driver 6), written as
neomodel's documentation teaches: models with indexed and unique properties,
install_all_labels at start, the node managers, relationships, transactions and
the maintenance helpers. Reports its checks as JSON lines (checklib)."""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version

import checklib
from checklib import CYPHER_VALUES, NATIVE_VALUES, check, expect, expect_equal, raises
from neo4j.exceptions import CypherSyntaxError
from neomodel import (
    ArrayProperty,
    BooleanProperty,
    DateProperty,
    DateTimeNeo4jFormatProperty,
    DateTimeProperty,
    FloatProperty,
    IntegerProperty,
    JSONProperty,
    RelationshipTo,
    StringProperty,
    StructuredNode,
    StructuredRel,
    UniqueIdProperty,
    UniqueProperty,
    db,
)

checklib.info(client="neomodel", version=version("neomodel"), driver=version("neo4j"))

# neomodel's URL form names a user; a server without users lets anyone in.
URL = f"bolt://neo4j:password@{checklib.HOST}:{checklib.PORT}"


class Country(StructuredNode):
    code = StringProperty(unique_index=True, required=True)
    name = StringProperty(index=True)


class FriendRel(StructuredRel):
    since = DateProperty()


class Person(StructuredNode):
    uid = UniqueIdProperty()
    name = StringProperty(unique_index=True, required=True)
    age = IntegerProperty(index=True, default=0)
    country = RelationshipTo(Country, "IS_FROM")
    friends = RelationshipTo("Person", "FRIEND", model=FriendRel)


class Sample(StructuredNode):
    text = StringProperty()
    number = IntegerProperty()
    ratio = FloatProperty()
    flag = BooleanProperty()
    day = DateProperty()
    moment = DateTimeProperty()
    stamp = DateTimeNeo4jFormatProperty()
    tags = ArrayProperty(StringProperty())
    doc = JSONProperty()


def person(name: str) -> Person | None:
    return Person.nodes.get_or_none(name=name)


with check("connect"):
    # set_connection asks CALL dbms.components() for the server's version at once.
    db.set_connection(url=URL)
    expect(isinstance(db.database_version, str), f"database_version is {db.database_version!r}")

with check("install_all_labels"):
    db.install_all_labels()

with check("install_all_labels_again"):
    # What the next start of the app does.
    db.install_all_labels()

with check("list_schema"):
    constraints = db.list_constraints()
    indexes = db.list_indexes(exclude_token_lookup=True)
    unique = {(tuple(c["labelsOrTypes"]), tuple(c["properties"])) for c in constraints}
    indexed = {(tuple(i["labelsOrTypes"]), tuple(i["properties"])) for i in indexes}
    expect((("Person",), ("name",)) in unique and (("Country",), ("code",)) in unique, f"constraints: {constraints}")
    expect((("Person",), ("age",)) in indexed, f"indexes: {indexes}")

with check("save"):
    ann = Person(name="Ann", age=31).save()
    expect(isinstance(ann.element_id, str) and ann.element_id, f"element_id {ann.element_id!r}")
    Person(name="Bob", age=27).save()
    Person(name="Cy", age=45).save()

with check("unique_property"):
    try:
        raises(lambda: Person(name="Ann", age=99).save(), UniqueProperty)
    finally:  # a duplicate that got in would fail the checks after this one too
        db.cypher_query("MATCH (p:Person {name: 'Ann', age: 99}) DETACH DELETE p")

with check("get"):
    ann = Person.nodes.get(name="Ann")
    expect_equal(ann.age, 31, "age")

with check("filter"):
    names = [p.name for p in Person.nodes.filter(age__gte=30).order_by("name")]
    expect_equal(names, ["Ann", "Cy"], "age >= 30 by name")
    expect_equal(len(Person.nodes), 3, "len(Person.nodes)")

with check("update"):
    ann = Person.nodes.get(name="Ann")
    ann.age = 32
    ann.save()  # MATCH by elementId, then SET
    ann.refresh()
    expect_equal(Person.nodes.get(name="Ann").age, 32, "age after save")

with check("get_or_create"):
    first = Country.get_or_create({"code": "SI", "name": "Slovenia"}, {"code": "HR", "name": "Croatia"})
    again = Country.get_or_create({"code": "SI", "name": "Slovenia"})
    expect_equal(len(first), 2, "created")
    expect_equal(again[0].element_id, first[0].element_id, "the existing node")

with check("relationships"):
    ann, bob, cy = (Person.nodes.get(name=n) for n in ("Ann", "Bob", "Cy"))
    ann.friends.connect(bob, {"since": dt.date(2019, 5, 1)})
    ann.friends.connect(cy, {"since": dt.date(2021, 1, 2)})
    ann.country.connect(Country.nodes.get(code="SI"))
    expect_equal(sorted(p.name for p in ann.friends.all()), ["Bob", "Cy"], "friends")
    expect_equal(ann.friends.relationship(bob).since, dt.date(2019, 5, 1), "FRIEND.since")
    expect(ann.friends.is_connected(cy), "Ann is not connected to Cy")
    expect_equal(ann.country.single().code, "SI", "country")
    ann.friends.disconnect(cy)
    expect_equal([p.name for p in ann.friends.all()], ["Bob"], "friends after disconnect")

with check("traversal"):
    # its own data, so that it does not depend on the check before
    db.cypher_query("MATCH (a:Person {name: 'Ann'}), (b:Person {name: 'Bob'}) MERGE (a)-[:FRIEND]->(b)")
    # neomodel 7 gives rows [person, friend, relationship] for a filter through a relationship
    names = [(row[0] if isinstance(row, list) else row).name for row in Person.nodes.filter(friends__name="Bob")]
    expect_equal(names, ["Ann"], "people with a friend named Bob")

with check("property_types"):
    moment = dt.datetime(2024, 6, 1, 12, 30, 45, 123456, tzinfo=dt.timezone.utc)
    saved = Sample(text="grüße", number=-(2 ** 53) - 1, ratio=0.25, flag=True, day=dt.date(2024, 2, 29), moment=moment,
                   stamp=moment, tags=["a", "b"], doc={"k": [1, 2]}).save()
    got = Sample.nodes.get(text="grüße")
    expect_equal(got.element_id, saved.element_id, "element_id")
    for name, expected in (("number", -(2 ** 53) - 1), ("ratio", 0.25), ("flag", True), ("day", dt.date(2024, 2, 29)),
                           ("tags", ["a", "b"]), ("doc", {"k": [1, 2]})):
        expect_equal(getattr(got, name), expected, name)
    expect(got.moment == moment and got.stamp == moment, f"moment {got.moment!r}, stamp {got.stamp!r}")

with check("cypher_query_values"):
    query = "RETURN " + ", ".join(f"{cypher} AS {name}" for name, cypher in CYPHER_VALUES.items())
    rows, columns = db.cypher_query(query)
    expect_equal(list(columns), list(CYPHER_VALUES), "columns")
    for name, got in zip(columns, rows[0]):
        if name == "duration":
            expect((got.months, got.days, got.seconds, got.nanoseconds) == (14, 10, 11045, 6000), f"duration {got!r}")
        else:
            native = got.to_native() if hasattr(got, "to_native") else got
            expect_equal(native, NATIVE_VALUES[name], name)

with check("resolve_objects"):
    db.cypher_query("MATCH (a:Person {name: 'Bob'}), (b:Person {name: 'Cy'}) MERGE (a)-[:FRIEND {since: date('2020-01-01')}]->(b)")
    rows, _ = db.cypher_query("MATCH (p:Person {name: 'Bob'})-[r:FRIEND]->(f) RETURN p, r, f", resolve_objects=True)
    p, r, f = rows[0]
    expect(isinstance(p, Person) and isinstance(r, FriendRel) and isinstance(f, Person), f"resolved to {rows[0]!r}")

with check("transaction_commit"):
    with db.transaction:
        Person(name="Dee", age=38).save()
    expect(person("Dee") is not None, "Dee is not there after the transaction")

with check("transaction_rollback"):
    class Abort(Exception):
        pass

    try:
        with db.transaction:
            Person(name="Eve", age=22).save()
            expect(person("Eve") is not None, "Eve is not seen inside the transaction")
            raise Abort()
    except Abort:
        pass
    expect(person("Eve") is None, "Eve is there after the rollback")

with check("syntax_error"):
    raises(lambda: db.cypher_query("RETURN RETURN"), CypherSyntaxError)

with check("delete"):
    person("Dee").delete()  # MATCH (self) WHERE elementId(self) = $self DETACH DELETE self
    expect(person("Dee") is None, "Dee is there after delete()")

with check("clear_database"):
    db.clear_neo4j_database()  # MATCH (a) CALL { WITH a DETACH DELETE a } IN TRANSACTIONS OF 5000 rows
    rows, _ = db.cypher_query("MATCH (n) RETURN count(n)")
    expect_equal(rows[0][0], 0, "nodes left")

with check("remove_all_labels"):
    db.remove_all_labels()  # SHOW CONSTRAINTS, DROP CONSTRAINT name, SHOW INDEXES, DROP INDEX name
    expect_equal((db.list_constraints(), db.list_indexes(exclude_token_lookup=True)), ([], []), "(constraints, indexes) left")

db.close_connection()

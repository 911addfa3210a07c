"""A small app on gqlalchemy 1.10 (Memgraph's OGM, on pymgclient), written as its
documentation teaches: models whose fields declare unique, exists and index
(created when the class is defined), save/load, the query builder, and the
Memgraph object's schema and maintenance helpers.

Run twice against the same server: `first` is the app's first start, `restart`
its next one, when the models' constraints and indexes already exist.
Reports its checks as JSON lines (checklib)."""

from __future__ import annotations

import sys
from importlib.metadata import version
from typing import Optional

import checklib
import mgclient
from checklib import MEMGRAPH_CYPHER_VALUES, MEMGRAPH_NATIVE_VALUES, check, expect, expect_equal, raises
from gqlalchemy import (
    Field,
    Memgraph,
    MemgraphConstraintExists,
    MemgraphConstraintUnique,
    MemgraphIndex,
    Node,
    Relationship,
    match,
)
from gqlalchemy.exceptions import GQLAlchemyDatabaseError
from gqlalchemy.query_builders.memgraph_query_builder import Operator

RUN = sys.argv[1] if len(sys.argv) > 1 else "first"
checklib.info(client="gqlalchemy", version=version("gqlalchemy"), pymgclient=version("pymgclient"), run=RUN)

db = Memgraph(host=checklib.HOST, port=checklib.PORT)
models_defined = False


def define_models() -> None:
    """The app's models, as its module would define them at import."""
    global Team, Player, PlaysFor, models_defined

    class Team(Node):
        code: str = Field(unique=True, db=db)
        name: Optional[str] = Field(None, exists=True, db=db)
        city: Optional[str] = Field(None, index=True, db=db)

    class Player(Node, index=True, db=db):
        name: str = Field(unique=True, db=db)
        age: Optional[int] = None

    class PlaysFor(Relationship, type="PLAYS_FOR"):
        since: Optional[int] = None

    models_defined = True


def expected_schema() -> tuple[set, set]:
    indexes = {MemgraphIndex("Team", "city"), MemgraphIndex("Player")}
    constraints = {MemgraphConstraintUnique("Team", ("code",)), MemgraphConstraintExists("Team", "name"),
                   MemgraphConstraintUnique("Player", ("name",))}
    return indexes, constraints


if RUN == "restart":
    with check("restart_models"):
        # The classes again: each field's CREATE CONSTRAINT / CREATE INDEX of
        # something that exists (Memgraph answers it with a notification).
        define_models()

    if not models_defined:  # the app would have crashed at import; carry on without its schema calls
        db_execute = db.execute
        db.execute = lambda query, parameters={}, connection=None: None
        define_models()
        db.execute = db_execute

    with check("restart_schema"):
        indexes, constraints = expected_schema()
        expect_equal(set(db.get_indexes()), indexes, "get_indexes()")
        expect_equal(set(db.get_constraints()), constraints, "get_constraints()")

    with check("restart_load"):
        team = Team(code="NYK").load(db=db)
        expect_equal(team.name, "Knicks", "the team the first run saved")

    with check("restart_drop_missing"):
        # Dropping what does not exist: Memgraph answers with a notification.
        db.drop_index(MemgraphIndex("Nope", "x"))
        db.drop_constraint(MemgraphConstraintUnique("Nope", ("x",)))
    sys.exit(0)


with check("connect"):
    expect_equal(list(db.execute_and_fetch("RETURN 1 AS one")), [{"one": 1}], "rows")

with check("models"):
    define_models()

with check("schema_helpers"):
    indexes, constraints = expected_schema()
    expect_equal(set(db.get_indexes()), indexes, "get_indexes() (SHOW INDEX INFO)")
    expect_equal(set(db.get_constraints()), constraints, "get_constraints() (SHOW CONSTRAINT INFO)")

with check("ensure_helpers"):
    indexes, constraints = expected_schema()
    db.ensure_indexes(list(indexes | {MemgraphIndex("Player", "age")}))
    db.ensure_constraints(list(constraints | {MemgraphConstraintExists("Player", "name")}))
    expect_equal(set(db.get_indexes()), indexes | {MemgraphIndex("Player", "age")}, "indexes after ensure_indexes")
    db.drop_index(MemgraphIndex("Player", "age"))
    db.drop_constraint(MemgraphConstraintExists("Player", "name"))
    expect_equal(set(db.get_indexes()), indexes, "indexes after drop_index")

with check("save_and_load"):
    knicks = Team(code="NYK", name="Knicks", city="New York").save(db)
    ann = Player(name="Ann", age=31).save(db)
    PlaysFor(_start_node_id=ann._id, _end_node_id=knicks._id, since=2020).save(db)
    loaded = Team(code="NYK").load(db=db)
    expect_equal((loaded._id, loaded.name, loaded.city), (knicks._id, "Knicks", "New York"), "loaded team")
    ann.age = 32
    ann.save(db)
    expect_equal(Player(name="Ann").load(db=db).age, 32, "age after a second save")

with check("write_with_parameters"):
    db.execute("CREATE (:Player {name: $name, age: $age})", {"name": "Bob", "age": 27})
    rows = list(db.execute_and_fetch("MATCH (p:Player {name: $name}) RETURN p.age AS age", {"name": "Bob"}))
    expect_equal(rows, [{"age": 27}], "rows")

for name, cypher in MEMGRAPH_CYPHER_VALUES.items():
    with check(f"value_{name}"):
        value = next(db.execute_and_fetch(f"RETURN {cypher} AS v"))["v"]
        expect_equal(value, MEMGRAPH_NATIVE_VALUES[name], "literal")
        back = next(db.execute_and_fetch("RETURN $v AS v", {"v": MEMGRAPH_NATIVE_VALUES[name]}))["v"]
        expect_equal(back, MEMGRAPH_NATIVE_VALUES[name], "parameter")
        if name == "datetime_zone":
            expect_equal(getattr(value.tzinfo, "key", None), "Europe/Berlin", "zone")

with check("value_graph"):
    row = next(db.execute_and_fetch("MATCH p = (a:Player {name: 'Ann'})-[r:PLAYS_FOR]->(t:Team) RETURN a, r, t, p"))
    expect(isinstance(row["a"], Player) and isinstance(row["t"], Team), f"nodes {row['a']!r}, {row['t']!r}")
    expect(isinstance(row["r"], PlaysFor) and row["r"].since == 2020, f"relationship {row['r']!r}")
    expect_equal([n._id for n in row["p"]._nodes], [row["a"]._id, row["t"]._id], "path nodes")

with check("query_builder"):
    rows = list(match(connection=db).node("Player", variable="p").where(item="p.age", operator=Operator.GREATER_THAN, literal=30)
                .return_({"p.name": "name"}).order_by(properties="p.name").execute())
    expect_equal(rows, [{"name": "Ann"}], "rows")

with check("syntax_error"):
    raises(lambda: db.execute("RETURN RETURN"), GQLAlchemyDatabaseError)

with check("unique_violation"):
    raises(lambda: db.execute("CREATE (:Team {code: 'NYK', name: 'Another'})"), GQLAlchemyDatabaseError)

with check("exists_violation"):
    raises(lambda: db.execute("CREATE (:Team {code: 'BOS'})"), GQLAlchemyDatabaseError)

with check("storage_mode"):
    expect_equal(db.get_storage_mode(), "IN_MEMORY_TRANSACTIONAL", "get_storage_mode() (SHOW STORAGE INFO)")

with check("storage_info"):
    info = {row["storage info"]: row["value"] for row in db.get_storage_info()}
    for key in ("vertex_count", "edge_count", "average_degree", "memory_res", "disk_usage", "storage_mode"):
        expect(key in info, f"SHOW STORAGE INFO has no {key!r}: {info}")

with check("build_info"):
    rows = db.get_build_info()
    expect(any(row.get("build info") == "build_type" for row in rows), f"SHOW BUILD INFO rows {rows}")

with check("triggers"):
    expect_equal(db.get_triggers(), [], "get_triggers() (SHOW TRIGGERS)")

with check("streams"):
    expect_equal(db.get_streams(), [], "get_streams() (SHOW STREAMS)")

with check("procedures"):
    names = [module.name for module in db.get_procedures()]
    expect(names, "get_procedures() (CALL mg.procedures() YIELD *) lists nothing")

with check("transactions"):
    # A transaction another connection holds open, then listed and terminated.
    other = mgclient.connect(host=checklib.HOST, port=checklib.PORT)
    other.cursor().execute("CREATE (:Idle {n: 1})")
    listed = [t for t in db.get_transactions() if any("Idle" in q for q in t.query)]
    expect(len(listed) == 1, f"get_transactions() (SHOW TRANSACTIONS) lists {db.get_transactions()}")
    terminated = db.terminate_transactions([listed[0].transaction_id])
    expect(terminated and terminated[0].killed, f"terminate_transactions() answered {terminated}")
    raises(other.commit, mgclient.DatabaseError)
    expect_equal(list(db.execute_and_fetch("MATCH (i:Idle) RETURN count(i) AS c")), [{"c": 0}], "Idle nodes")

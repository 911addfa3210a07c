"""The listings of indexes and constraints, in the shapes the clients read.

`SHOW INDEXES` and `SHOW CONSTRAINTS` (Neo4j 5) are queries: the parser
makes each a CALL of a procedure here (`weftdb.listing.indexes`,
`weftdb.listing.constraints`), with the YIELD, WHERE and RETURN written after
it, so they filter like any query and run in any transaction. Their columns
are Neo4j's, which neomodel's `list_indexes` / `list_constraints` and
langchain-neo4j's schema read. `db.indexes()` and `db.constraints()` answer
in Neo4j 4's shape, which py2neo reads. Memgraph's `SHOW INDEX INFO` and
`SHOW CONSTRAINT INFO` are administration statements (`admin.py`), built
from `memgraph_index_rows` and `memgraph_constraint_rows` below.

A uniqueness or node key constraint owns a RANGE index of its label and keys
(`graph/constraints.py`): SHOW INDEXES lists it under the constraint's name
with `owningConstraint` set, as Neo4j does; Memgraph's listing does not.
"""

from __future__ import annotations

from typing import Iterator

from weftdb.graph import schema
from weftdb.graph.interface import GraphStore
from weftdb.graph.schema import ConstraintDef, IndexDef
from weftdb.query.procedures import ProcedureContext, builtin

_PROVIDERS = {schema.LOOKUP: "token-lookup-1.0", schema.RANGE: "range-1.0", schema.TEXT: "text-2.0",
              schema.POINT: "point-1.0"}
_CONSTRAINT_TYPES = {schema.EXISTS: "NODE_PROPERTY_EXISTENCE", schema.UNIQUE: "NODE_PROPERTY_UNIQUENESS",
                     schema.NODE_KEY: "NODE_KEY"}
_INDEX_FILTERS = {"ALL": None, "RANGE": schema.RANGE, "TEXT": schema.TEXT, "POINT": schema.POINT,
                  "LOOKUP": schema.LOOKUP}
_CONSTRAINT_FILTERS = {"ALL": None, "UNIQUE": schema.UNIQUE, "KEY": schema.NODE_KEY, "EXIST": schema.EXISTS}

_INDEX_COLUMNS = (
    "id :: INTEGER, name :: STRING, state :: STRING, populationPercent :: FLOAT, type :: STRING, "
    "entityType :: STRING, labelsOrTypes :: LIST<STRING>, properties :: LIST<STRING>, indexProvider :: STRING, "
    "owningConstraint :: STRING, lastRead :: DATETIME, readCount :: INTEGER, trackedSince :: DATETIME, "
    "options :: MAP, failureMessage :: STRING, createStatement :: STRING"
)
_CONSTRAINT_COLUMNS = (
    "id :: INTEGER, name :: STRING, type :: STRING, entityType :: STRING, labelsOrTypes :: LIST<STRING>, "
    "properties :: LIST<STRING>, ownedIndex :: STRING, propertyType :: STRING, options :: MAP, "
    "createStatement :: STRING"
)


def _definitions(storage: GraphStore) -> tuple[list[IndexDef], list[ConstraintDef]]:
    with storage.write_lock:
        return list(storage.catalog.indexes.values()), list(storage.catalog.constraints.values())


def index_listing(storage: GraphStore) -> list[tuple[IndexDef, ConstraintDef | None]]:
    """Every index by name, with the constraint that owns it (None for declared ones)."""
    indexes, constraints = _definitions(storage)
    listed: list[tuple[IndexDef, ConstraintDef | None]] = [(d, None) for d in indexes]
    listed += [(IndexDef(c.name, schema.RANGE, schema.NODE, c.label, c.keys), c) for c in constraints if c.owns_index]
    return sorted(listed, key=lambda item: item[0].name)


@builtin(f"weftdb.listing.indexes(kind = 'ALL' :: STRING) :: ({_INDEX_COLUMNS})", listed=False,
         description="The rows of SHOW INDEXES.")
def listing_indexes(ctx: ProcedureContext, kind: str) -> Iterator[tuple]:
    wanted = _INDEX_FILTERS.get(kind)
    for number, (index, owner) in enumerate(index_listing(ctx.tx.storage), 1):
        if wanted is not None and index.kind != wanted:
            continue
        lookup = index.kind == schema.LOOKUP
        provider = _PROVIDERS[index.kind]
        yield (number, index.name, "ONLINE", 100.0, index.kind, index.entity, [index.token],
               None if lookup else list(index.keys), provider, owner and owner.name, None, None, None,
               {"indexProvider": provider, "indexConfig": {}}, "",
               _constraint_statement(owner) if owner else _index_statement(index))


@builtin(f"weftdb.listing.constraints(kind = 'ALL' :: STRING) :: ({_CONSTRAINT_COLUMNS})", listed=False,
         description="The rows of SHOW CONSTRAINTS.")
def listing_constraints(ctx: ProcedureContext, kind: str) -> Iterator[tuple]:
    wanted = _CONSTRAINT_FILTERS.get(kind)
    _, constraints = _definitions(ctx.tx.storage)
    for number, constraint in enumerate(sorted(constraints, key=lambda c: c.name), 1):
        if wanted is not None and constraint.kind != wanted:
            continue
        owned = constraint.name if constraint.owns_index else None
        options = {"indexProvider": "range-1.0", "indexConfig": {}} if owned else None
        yield (number, constraint.name, _CONSTRAINT_TYPES[constraint.kind], "NODE", [constraint.label],
               list(constraint.keys), owned, None, options, _constraint_statement(constraint))


@builtin("db.indexes() :: (id :: INTEGER, name :: STRING, state :: STRING, populationPercent :: FLOAT, "
         "uniqueness :: STRING, type :: STRING, entityType :: STRING, labelsOrTypes :: LIST<STRING>, "
         "properties :: LIST<STRING>, provider :: STRING)",
         description="List all indexes in the database (Neo4j 4's listing; SHOW INDEXES is Neo4j 5's).")
def db_indexes(ctx: ProcedureContext) -> Iterator[tuple]:
    for number, (index, owner) in enumerate(index_listing(ctx.tx.storage), 1):
        lookup = index.kind == schema.LOOKUP
        yield (number, index.name, "ONLINE", 100.0, "UNIQUE" if owner else "NONUNIQUE",
               "LOOKUP" if lookup else "BTREE", index.entity, [index.token],
               [] if lookup else list(index.keys), _PROVIDERS[index.kind])


@builtin("db.constraints() :: (name :: STRING, description :: STRING, details :: STRING)",
         description="List all constraints in the database (Neo4j 4's listing; SHOW CONSTRAINTS is Neo4j 5's).")
def db_constraints(ctx: ProcedureContext) -> Iterator[tuple]:
    _, constraints = _definitions(ctx.tx.storage)
    for constraint in sorted(constraints, key=lambda c: c.name):
        text = _constraint_statement(constraint)
        yield (constraint.name, text, text)


def _index_statement(index: IndexDef) -> str:
    if index.kind == schema.LOOKUP:
        return f"CREATE INDEX ON :{schema.quote(index.token)}"
    return "CREATE " + index.describe()


def _constraint_statement(constraint: ConstraintDef) -> str:
    return "CREATE " + constraint.describe()


# -- Memgraph's SHOW INDEX INFO and SHOW CONSTRAINT INFO ----------------------------------------


_MEMGRAPH_INDEX_TYPES = {(schema.NODE, schema.RANGE): "label+property", (schema.RELATIONSHIP, schema.RANGE): "edge-type+property",
                         (schema.NODE, schema.POINT): "point", (schema.NODE, schema.TEXT): "text",
                         (schema.RELATIONSHIP, schema.POINT): "edge-type+property",
                         (schema.RELATIONSHIP, schema.TEXT): "edge-type+property"}


def memgraph_index_rows(storage: GraphStore) -> list[tuple]:
    """(index type, label, property, count) of the declared indexes, as Memgraph lists them:
    a label index's property is null, a composite index's a list."""
    indexes, _ = _definitions(storage)
    tx = storage.begin()
    try:
        rows = []
        for index in sorted(indexes, key=lambda d: (d.kind != schema.LOOKUP, d.entity, d.token, d.keys, d.kind)):
            if index.kind == schema.LOOKUP:
                rows.append(("label", index.token, None, sum(1 for _ in tx.vertices_with_label(index.token))))
                continue
            keys = index.keys[0] if len(index.keys) == 1 else list(index.keys)
            rows.append((_MEMGRAPH_INDEX_TYPES[(index.entity, index.kind)], index.token, keys, _count(tx, index)))
        return rows
    finally:
        tx.commit()


def _count(tx, index: IndexDef) -> int:
    """How many nodes or relationships the index holds: those with every key set."""
    if index.entity == schema.NODE:
        entities = tx.vertices_with_label(index.token)
    else:
        entities = (e for e in tx.scan_edges() if e.type == index.token)
    return sum(1 for e in entities if all(tx.get(e, key) is not None for key in index.keys))


def memgraph_constraint_rows(storage: GraphStore) -> list[tuple]:
    """(constraint type, label, properties): `exists` with one property, `unique`
    with a list; a node key shows as its uniqueness and one existence per key."""
    _, constraints = _definitions(storage)
    rows = set()
    for c in constraints:
        if c.kind in (schema.EXISTS, schema.NODE_KEY):
            rows.update(("exists", c.label, key) for key in c.keys)
        if c.kind in (schema.UNIQUE, schema.NODE_KEY):
            rows.add(("unique", c.label, c.keys))
    return [(kind, label, list(keys) if kind == "unique" else keys) for kind, label, keys in sorted(rows)]

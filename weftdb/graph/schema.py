"""The schema catalog: named index and constraint definitions.

Every index and constraint has a name, given by the user (Neo4j's `CREATE
INDEX name FOR ...`) or generated in Neo4j's style (`index_1f2e3d4c`,
`constraint_5a6b7c8d`: a hash of the definition), and is kept in the WAL and
in snapshots under that name, so it is the same after a restart.

The catalog holds definitions only; `storage.py` builds what they stand for
(the indexes of `indexes.py`, the checks of `constraints.py`). A schema
change is a redo operation (`redo.py`, codes 24 to 27) that names its
definition; `Catalog.resolve` says what one would do to a catalog: apply,
or nothing because the definition exists already or the name is gone.
Equivalent definitions (same kind, entity, label or type and properties)
are never kept twice.

Index kinds: LOOKUP (a label index, Memgraph's `CREATE INDEX ON :L`), and
RANGE, TEXT and POINT property indexes over one or more properties of nodes
with a label or of relationships of a type. Constraint kinds: `exists`
(IS NOT NULL), `unique` and `node_key` (unique, and each key present).
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass

from weftdb.basics.errors import SchemaError

NODE = "NODE"
RELATIONSHIP = "RELATIONSHIP"
LOOKUP, RANGE, TEXT, POINT = "LOOKUP", "RANGE", "TEXT", "POINT"
INDEX_KINDS = (LOOKUP, RANGE, TEXT, POINT)
EXISTS, UNIQUE, NODE_KEY = "exists", "unique", "node_key"
CONSTRAINT_KINDS = (EXISTS, UNIQUE, NODE_KEY)

# Redo operation codes of schema changes (the vocabulary is redo.py's; the
# numbers live here so the catalog reads its own operations).
CREATE_INDEX = 24  # name, kind, entity, label or type, [keys]
DROP_INDEX = 25  # name
CREATE_CONSTRAINT = 26  # name, kind, label, [keys]
DROP_CONSTRAINT = 27  # name

APPLY, EXISTING, MISSING = "apply", "existing", "missing"


class SchemaNameTaken(SchemaError):
    """A CREATE names an index or constraint that exists with another definition."""

    code = "Neo.ClientError.Schema.IndexWithNameAlreadyExists"


class ConstraintNameTaken(SchemaNameTaken):
    code = "Neo.ClientError.Schema.ConstraintWithNameAlreadyExists"


def quote(name: str) -> str:
    """A name as Cypher text: bare when it is a plain identifier, else in backquotes."""
    plain = name.replace("_", "a").isalnum() and not name[:1].isdigit()
    return name if plain else "`" + name.replace("`", "``") + "`"


def _hash8(parts: list) -> str:
    return f"{zlib.crc32(json.dumps(parts).encode('utf-8')):08x}"


@dataclass(frozen=True)
class IndexDef:
    name: str
    kind: str  # LOOKUP, RANGE, TEXT, POINT
    entity: str  # NODE or RELATIONSHIP
    token: str  # the label or the relationship type
    keys: tuple[str, ...]  # () for LOOKUP

    @property
    def shape(self) -> tuple[str, str, tuple[str, ...]]:
        """What the index is over; indexes of one shape share one structure."""
        return self.entity, self.token, self.keys

    def same(self, other: "IndexDef") -> bool:
        return (self.kind, self.entity, self.token, self.keys) == (other.kind, other.entity, other.token, other.keys)

    def op(self) -> tuple:
        return (CREATE_INDEX, self.name, self.kind, self.entity, self.token, list(self.keys))

    @classmethod
    def of_op(cls, op) -> "IndexDef":
        _, name, kind, entity, token, keys = op
        if kind not in INDEX_KINDS or entity not in (NODE, RELATIONSHIP) or not isinstance(name, str):
            raise ValueError(f"not an index definition: {op!r}")
        return cls(name, kind, entity, token, tuple(keys))

    def default_name(self) -> str:
        return "index_" + _hash8([self.kind, self.entity, self.token, list(self.keys)])

    def pattern(self) -> str:
        """`(n:Person)` or `()-[r:KNOWS]-()`, as Neo4j writes it."""
        if self.entity == NODE:
            return f"(n:{quote(self.token)})"
        return f"()-[r:{quote(self.token)}]-()"

    def describe(self, named: bool = True) -> str:
        """`RANGE INDEX person_name FOR (n:Person) ON (n.name)`: the definition as Neo4j shows it."""
        name = f" {quote(self.name)}" if named else ""
        if self.kind == LOOKUP:
            return f"LOOKUP INDEX{name} FOR (n:{quote(self.token)})"
        var = "n" if self.entity == NODE else "r"
        on = ", ".join(f"{var}.{quote(key)}" for key in self.keys)
        return f"{self.kind} INDEX{name} FOR {self.pattern()} ON ({on})"


@dataclass(frozen=True)
class ConstraintDef:
    name: str
    kind: str  # exists, unique, node_key
    label: str
    keys: tuple[str, ...]

    def same(self, other: "ConstraintDef") -> bool:
        return (self.kind, self.label, self.keys) == (other.kind, other.label, other.keys)

    def op(self) -> tuple:
        return (CREATE_CONSTRAINT, self.name, self.kind, self.label, list(self.keys))

    @classmethod
    def of_op(cls, op) -> "ConstraintDef":
        _, name, kind, label, keys = op
        if kind not in CONSTRAINT_KINDS or not isinstance(name, str) or not keys:
            raise ValueError(f"not a constraint definition: {op!r}")
        if kind == EXISTS and len(keys) != 1:
            raise ValueError(f"an existence constraint has one key: {op!r}")
        return cls(name, kind, label, tuple(keys))

    def default_name(self) -> str:
        return "constraint_" + _hash8([self.kind, self.label, list(self.keys)])

    @property
    def owns_index(self) -> bool:
        """Unique and node key constraints are checked through a RANGE index of their keys, which they own."""
        return self.kind != EXISTS

    def describe(self, named: bool = True) -> str:
        """`CONSTRAINT person_email FOR (n:Person) REQUIRE (n.email) IS UNIQUE`, as Neo4j shows it."""
        keys = ", ".join(f"n.{quote(key)}" for key in self.keys)
        required = {EXISTS: "IS NOT NULL", UNIQUE: "IS UNIQUE", NODE_KEY: "IS NODE KEY"}[self.kind]
        name = f" {quote(self.name)}" if named else ""
        return f"CONSTRAINT{name} FOR (n:{quote(self.label)}) REQUIRE ({keys}) {required}"


class Catalog:
    """Index and constraint definitions by name; names are shared: an index
    and a constraint never have the same name (a constraint's own index is
    listed under the constraint's name, as in Neo4j)."""

    def __init__(self) -> None:
        self.indexes: dict[str, IndexDef] = {}
        self.constraints: dict[str, ConstraintDef] = {}

    def copy(self) -> "Catalog":
        other = Catalog()
        other.indexes, other.constraints = dict(self.indexes), dict(self.constraints)
        return other

    def named(self, name: str) -> IndexDef | ConstraintDef | None:
        return self.indexes.get(name) or self.constraints.get(name)

    def equivalent(self, definition: IndexDef | ConstraintDef) -> IndexDef | ConstraintDef | None:
        pool = self.indexes if isinstance(definition, IndexDef) else self.constraints
        return next((d for d in pool.values() if d.same(definition)), None)

    def index_on(self, kind: str, entity: str, token: str, keys: tuple[str, ...]) -> IndexDef | None:
        return self.equivalent(IndexDef("", kind, entity, token, keys))  # type: ignore[return-value]

    def constraint_on(self, kind: str, label: str, keys: tuple[str, ...]) -> ConstraintDef | None:
        return self.equivalent(ConstraintDef("", kind, label, keys))  # type: ignore[return-value]

    def define_index(self, kind: str, entity: str, token: str, keys: tuple[str, ...], name: str | None = None) -> IndexDef:
        """An index definition with `name`, or with its generated name."""
        definition = IndexDef(name or "", kind, entity, token, tuple(keys))
        return definition if name is not None else IndexDef(self.fresh_name(definition), kind, entity, token, tuple(keys))

    def define_constraint(self, kind: str, label: str, keys: tuple[str, ...], name: str | None = None) -> ConstraintDef:
        """A constraint definition with `name`, or with its generated name."""
        definition = ConstraintDef(name or "", kind, label, tuple(keys))
        return definition if name is not None else ConstraintDef(self.fresh_name(definition), kind, label, tuple(keys))

    def fresh_name(self, definition: IndexDef | ConstraintDef) -> str:
        """The generated name of a definition: its hash, with a counter in the rare case that is taken."""
        base = definition.default_name()
        name, n = base, 0
        while self.named(name) is not None:
            n += 1
            name = f"{base}_{n}"
        return name

    # -- changes --------------------------------------------------------------------

    def resolve(self, op) -> tuple[str, IndexDef | ConstraintDef | None]:
        """What schema operation `op` would do here: (APPLY, its definition),
        (EXISTING, the equivalent definition) for a CREATE of what exists, or
        (MISSING, None) for a DROP of a name that is not there. A CREATE of a
        name that holds another definition raises SchemaNameTaken."""
        code = op[0]
        if code == CREATE_INDEX or code == CREATE_CONSTRAINT:
            definition = IndexDef.of_op(op) if code == CREATE_INDEX else ConstraintDef.of_op(op)
            same_name = self.named(definition.name)
            if same_name is not None and not (type(same_name) is type(definition) and same_name.same(definition)):
                raise _name_taken(definition, same_name)
            existing = same_name or self.equivalent(definition)
            return (EXISTING, existing) if existing is not None else (APPLY, definition)
        pool = self.indexes if code == DROP_INDEX else self.constraints
        found = pool.get(op[1])
        return (APPLY, found) if found is not None else (MISSING, None)

    def add(self, definition: IndexDef | ConstraintDef) -> None:
        pool = self.indexes if isinstance(definition, IndexDef) else self.constraints
        pool[definition.name] = definition

    def remove(self, definition: IndexDef | ConstraintDef) -> None:
        pool = self.indexes if isinstance(definition, IndexDef) else self.constraints
        del pool[definition.name]

    def apply(self, op) -> None:
        """Apply `op` to the definitions only (a transaction's view of the catalog before it commits)."""
        outcome, definition = self.resolve(op)
        if outcome != APPLY:
            return
        if op[0] in (CREATE_INDEX, CREATE_CONSTRAINT):
            self.add(definition)
        else:
            self.remove(definition)


def _name_taken(definition: IndexDef | ConstraintDef, holder: IndexDef | ConstraintDef) -> SchemaError:
    kind = ConstraintNameTaken if isinstance(definition, ConstraintDef) else SchemaNameTaken
    return kind(f"There is already an index or constraint named `{definition.name}`: {holder.describe()}. "
                "Choose another name, or drop that one first.")

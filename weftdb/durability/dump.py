"""`DUMP DATABASE`: the graph as Cypher statements, in Memgraph's dump format.

Why Memgraph's format: a WeftDB dump then loads into Memgraph, and a Memgraph
dump loads into WeftDB (`weftdb import`). The statements come in this order:

    CREATE (:__mg_vertex__:`L` {__mg_id__: 0, `k`: 1});            one per vertex
    CREATE INDEX ON :__mg_vertex__(__mg_id__);
    MATCH (u:__mg_vertex__), (v:__mg_vertex__) WHERE u.__mg_id__ = 0 AND v.__mg_id__ = 1 CREATE (u)-[:`T`]->(v);
    DROP INDEX ON :__mg_vertex__(__mg_id__);
    MATCH (u) REMOVE u:__mg_vertex__, u.__mg_id__;
    CREATE INDEX ON :`L`;  CREATE INDEX ON :`L`(`k`);                 label, then label+property,
    CREATE EDGE INDEX ON :`T`(`k`);                                   then relationship indexes
    CREATE CONSTRAINT ON (u:`L`) ASSERT EXISTS (u.`k`);               existence, unique, node key

Indexes and constraints have names (graph/schema.py). One whose name is
the one WeftDB generates for it is written in Memgraph's syntax, which
gives it that name again on import; one named by the user, a TEXT index,
a relationship index over several properties and a node key (none of which
Memgraph has) is written in Neo4j 5's syntax, `CREATE RANGE INDEX `name`
FOR (n:`L`) ON (n.`k`);`, which WeftDB and Neo4j load and Memgraph does not.

Choices that make a dump exact and repeatable (dump, import, dump gives the
same text):

* everything is read through one read transaction, so the dump is one
  consistent MVCC view while writers go on;
* `__mg_id__` is the vertex's position in id order (0, 1, 2, ...), which is
  its id when no vertex was ever deleted and which a fresh import reproduces;
* labels and property keys are sorted (a vertex's labels are a set); nested
  maps keep their order;
* every value is written as an expression our Cypher evaluates back to the
  identical value: floats by `repr` (NaN and infinities as `0.0/0.0`,
  `1.0/0.0`, `-1.0/0.0`), strings with `\\` escapes for quotes, backslashes,
  control and line-separator characters, temporal values as constructor
  calls on their ISO text (`DATE("2024-01-02")`, `DURATION("P1DT2H")`), names
  always in backquotes with backquotes doubled.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any, Iterator

from weftdb.basics.errors import ClientError
from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time, from_native
from weftdb.graph import schema
from weftdb.graph.interface import GraphStore
from weftdb.graph.schema import ConstraintDef, IndexDef

VERTEX_LABEL = "__mg_vertex__"
ID_PROPERTY = "__mg_id__"
CREATE_INTERNAL_INDEX = f"CREATE INDEX ON :{VERTEX_LABEL}({ID_PROPERTY});"
DROP_INTERNAL_INDEX = f"DROP INDEX ON :{VERTEX_LABEL}({ID_PROPERTY});"
REMOVE_INTERNAL = f"MATCH (u) REMOVE u:{VERTEX_LABEL}, u.{ID_PROPERTY};"

_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "'": "\\'", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Quotes and backslashes, C0/C1 control characters, the Unicode line and
# paragraph separators (a dump is read line by line) and lone surrogates.
_NEEDS_ESCAPE = re.compile("[\\\\\"'\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_TEMPORAL_FUNCTIONS = {Date: "DATE", LocalTime: "LOCALTIME", Time: "TIME", LocalDateTime: "LOCALDATETIME",
                       DateTime: "DATETIME", Duration: "DURATION"}


def name(text: str) -> str:
    """A label, type or key in backquotes: `a``b` for a`b."""
    return "`" + text.replace("`", "``") + "`"


def string(text: str) -> str:
    def escape(match: re.Match) -> str:
        char = match.group()
        return _STRING_ESCAPES.get(char) or f"\\u{ord(char):04x}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def value(v: Any) -> str:
    """A Cypher expression that evaluates to exactly `v`."""
    kind = type(v)
    if v is None:
        return "Null"
    if kind is bool:
        return "true" if v else "false"
    if kind is int:
        return str(v)
    if kind is float:
        if math.isnan(v):
            return "0.0/0.0"
        if math.isinf(v):
            return "1.0/0.0" if v > 0 else "-1.0/0.0"
        return repr(v)
    if kind is str:
        return string(v)
    if kind is list:
        return "[" + ", ".join(value(item) for item in v) + "]"
    if kind is dict:
        return "{" + ", ".join(f"{name(key)}: {value(item)}" for key, item in v.items()) + "}"
    if kind in _TEMPORAL_FUNCTIONS:  # the ISO text keeps nanoseconds, the offset and the zone
        return f"{_TEMPORAL_FUNCTIONS[kind]}({string(str(v))})"
    if isinstance(v, (_dt.date, _dt.time, _dt.timedelta)):  # Python's own, from code that skipped adopt()
        return value(from_native(v))
    raise ClientError(f"A {kind.__name__} property value has no Cypher literal; DUMP DATABASE cannot write it.")


def _properties(props: dict[str, Any], first: str = "") -> str:
    entries = [first] if first else []
    entries += [f"{name(key)}: {value(props[key])}" for key in sorted(props)]
    return "{" + ", ".join(entries) + "}"


def dump(storage: GraphStore) -> Iterator[str]:
    """The statements that rebuild the graph as one read transaction sees it."""
    with storage.reading() as tx:
        with storage.write_lock:  # the schema is not versioned: read it as the transaction starts
            indexes = list(storage.catalog.indexes.values())
            constraints = list(storage.catalog.constraints.values())
        ordinal: dict[int, int] = {}
        for vertex in sorted(tx.scan_vertices(), key=lambda v: v.gid):
            labels, props, _ = tx.view(vertex)
            ordinal[vertex.gid] = number = len(ordinal)
            tagged = "".join(f":{name(label)}" for label in sorted(labels))
            yield f"CREATE (:{VERTEX_LABEL}{tagged} {_properties(props, f'{ID_PROPERTY}: {number}')});"
        if ordinal:
            yield CREATE_INTERNAL_INDEX
        for edge in sorted(tx.scan_edges(), key=lambda e: e.gid):
            props = tx.properties(edge)
            body = f"{name(edge.type)} {_properties(props)}" if props else name(edge.type)
            yield (
                f"MATCH (u:{VERTEX_LABEL}), (v:{VERTEX_LABEL}) WHERE u.{ID_PROPERTY} = {ordinal[edge.src.gid]} "
                f"AND v.{ID_PROPERTY} = {ordinal[edge.dst.gid]} CREATE (u)-[:{body}]->(v);"
            )
        if ordinal:
            yield DROP_INTERNAL_INDEX
            yield REMOVE_INTERNAL
    order = {schema.LOOKUP: 0, schema.RANGE: 1, schema.POINT: 2, schema.TEXT: 3}
    for index in sorted(indexes, key=lambda d: (d.entity, order[d.kind], d.token, d.keys, d.name)):
        yield _index_statement(index)
    order = {schema.EXISTS: 0, schema.UNIQUE: 1, schema.NODE_KEY: 2}
    for constraint in sorted(constraints, key=lambda d: (order[d.kind], d.label, d.keys, d.name)):
        yield _constraint_statement(constraint)


def _keys(variable: str, keys: tuple[str, ...]) -> str:
    return ", ".join(f"{variable}.{name(key)}" for key in keys)


def _index_statement(index: IndexDef) -> str:
    """Memgraph's syntax for what Memgraph has under the generated name, Neo4j's for the rest."""
    token, keys = name(index.token), "(" + ", ".join(name(key) for key in index.keys) + ")"
    if index.name == index.default_name():
        if index.kind == schema.LOOKUP:
            return f"CREATE INDEX ON :{token};"
        if index.entity == schema.NODE and index.kind in (schema.RANGE, schema.POINT):
            return f"CREATE {'POINT ' if index.kind == schema.POINT else ''}INDEX ON :{token}{keys};"
        if index.entity == schema.RELATIONSHIP and index.kind == schema.RANGE and len(index.keys) == 1:
            return f"CREATE EDGE INDEX ON :{token}{keys};"
    target = f"(n:{token})" if index.entity == schema.NODE else f"()-[n:{token}]-()"
    return f"CREATE {index.kind} INDEX {name(index.name)} FOR {target} ON ({_keys('n', index.keys)});"


def _constraint_statement(constraint: ConstraintDef) -> str:
    label, keys = name(constraint.label), _keys("u", constraint.keys)
    if constraint.name == constraint.default_name():
        if constraint.kind == schema.EXISTS:
            return f"CREATE CONSTRAINT ON (u:{label}) ASSERT EXISTS ({keys});"
        if constraint.kind == schema.UNIQUE:
            return f"CREATE CONSTRAINT ON (u:{label}) ASSERT {keys} IS UNIQUE;"
    required = {schema.EXISTS: "IS NOT NULL", schema.UNIQUE: "IS UNIQUE", schema.NODE_KEY: "IS NODE KEY"}[constraint.kind]
    keys = keys if len(constraint.keys) == 1 else f"({keys})"
    named = "" if constraint.name == constraint.default_name() else f" {name(constraint.name)}"
    return f"CREATE CONSTRAINT{named} FOR (u:{label}) REQUIRE {keys} {required};"

"""`DUMP DATABASE`: the graph as Cypher statements, in Memgraph's dump format.

Why Memgraph's format: a WeftDB dump then loads into Memgraph, and a Memgraph
dump loads into WeftDB (`weftdb import`). The statements come in this order:

    CREATE (:__mg_vertex__:`L` {__mg_id__: 0, `k`: 1});            one per vertex
    CREATE INDEX ON :__mg_vertex__(__mg_id__);
    MATCH (u:__mg_vertex__), (v:__mg_vertex__) WHERE u.__mg_id__ = 0 AND v.__mg_id__ = 1 CREATE (u)-[:`T`]->(v);
    DROP INDEX ON :__mg_vertex__(__mg_id__);
    MATCH (u) REMOVE u:__mg_vertex__, u.__mg_id__;
    CREATE INDEX ON :`L`;  CREATE INDEX ON :`L`(`k`);                 label, then label+property
    CREATE CONSTRAINT ON (u:`L`) ASSERT EXISTS (u.`k`);               existence, then unique

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
from weftdb.graph.storage import Storage

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


def dump(storage: Storage) -> Iterator[str]:
    """The statements that rebuild the graph as one read transaction sees it."""
    tx = storage.begin()
    try:
        with storage.write_lock:  # the schema is not versioned: read it as the transaction starts
            label_indexes = sorted(storage.indexes.declared_labels)
            property_indexes = sorted(storage.indexes.by_property)
            existence = sorted(storage.constraints.existence)
            unique = sorted(storage.constraints.unique)
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
    finally:
        tx.commit()
    for label in label_indexes:
        yield f"CREATE INDEX ON :{name(label)};"
    for label, key in property_indexes:
        yield f"CREATE INDEX ON :{name(label)}({name(key)});"
    for label, key in existence:
        yield f"CREATE CONSTRAINT ON (u:{name(label)}) ASSERT EXISTS (u.{name(key)});"
    for label, keys in unique:
        yield f"CREATE CONSTRAINT ON (u:{name(label)}) ASSERT {', '.join(f'u.{name(key)}' for key in keys)} IS UNIQUE;"

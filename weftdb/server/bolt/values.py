"""WeftDB values <-> PackStream structures, in the shape each Bolt version expects.

Bolt 5 added element ids to nodes and relationships (4, 8 and 4 fields for
Node, Relationship and UnboundRelationship instead of 3, 5 and 3) and sends a
zoned DateTime as UTC seconds (tags I/i) where Bolt 4 sent local seconds (F/f).
`dehydrate` turns a result value into plain PackStream values for one version;
`hydrate` turns a client's parameter back into a WeftDB value. WeftDB's
temporal values hold what Bolt's structures hold (days, nanoseconds, seconds,
offsets, zone ids), so both directions are exact to the nanosecond.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from weftdb.basics.errors import ClientError, CypherArithmeticError, CypherSemanticError
from weftdb.basics.temporal import (
    DAY_NANOS,
    DAY_SECONDS,
    MAX_OFFSET,
    Date,
    DateTime,
    Duration,
    LocalDateTime,
    LocalTime,
    Time,
    check_days,
    from_native,
    offset_at,
    resolve_local,
    zone_name,
)
from weftdb.query.results import Node, Path, Relationship, element_id
from weftdb.server.bolt.packstream import Structure

NODE, RELATIONSHIP, UNBOUND_RELATIONSHIP, PATH = 0x4E, 0x52, 0x72, 0x50
DATE, TIME, LOCAL_TIME, LOCAL_DATE_TIME, DURATION = 0x44, 0x54, 0x74, 0x64, 0x45
DATE_TIME_OFFSET_V4, DATE_TIME_ZONE_V4 = 0x46, 0x66  # local seconds
DATE_TIME_OFFSET_V5, DATE_TIME_ZONE_V5 = 0x49, 0x69  # UTC seconds

_NANOS = 1_000_000_000


class BadValue(ClientError):
    """A parameter sent by the client is not a value WeftDB can hold."""

    code = "Neo.ClientError.Request.Invalid"


def _dehydrate_datetime(value: DateTime, major: int) -> Structure:
    """Bolt 5 sends UTC seconds, Bolt 4 local seconds."""
    seconds = value.seconds if major >= 5 else value.seconds + value.offset
    if value.zone is not None:
        return Structure(DATE_TIME_ZONE_V5 if major >= 5 else DATE_TIME_ZONE_V4, (seconds, value.nanos, value.zone))
    tag = DATE_TIME_OFFSET_V5 if major >= 5 else DATE_TIME_OFFSET_V4
    return Structure(tag, (seconds, value.nanos, value.offset))


_TEMPORAL = {
    Date: lambda v, major: Structure(DATE, (v.days,)),
    LocalTime: lambda v, major: Structure(LOCAL_TIME, (v.nanos,)),
    Time: lambda v, major: Structure(TIME, (v.nanos, v.offset)),
    LocalDateTime: lambda v, major: Structure(LOCAL_DATE_TIME, (v.seconds, v.nanos)),
    DateTime: _dehydrate_datetime,
    Duration: lambda v, major: Structure(DURATION, (v.months, v.days, v.seconds, v.nanoseconds)),
}


def _relationship(rel: Relationship, major: int, bound: bool) -> Structure:
    props = dehydrate(rel.properties, major)
    if not bound:
        fields = (rel.id, rel.type, props)
        return Structure(UNBOUND_RELATIONSHIP, fields + ((element_id(rel.id),) if major >= 5 else ()))
    fields = (rel.id, rel.start_node_id, rel.end_node_id, rel.type, props)
    if major >= 5:
        fields += (element_id(rel.id), element_id(rel.start_node_id), element_id(rel.end_node_id))
    return Structure(RELATIONSHIP, fields)


def _path(path: Path, major: int) -> Structure:
    node_index: dict[int, int] = {}
    rel_index: dict[int, int] = {}
    for node in path.nodes:
        node_index.setdefault(node.id, len(node_index))
    nodes = list({node.id: node for node in path.nodes}.values())
    rels = []
    for rel in path.relationships:
        if rel.id not in rel_index:
            rel_index[rel.id] = len(rel_index) + 1
            rels.append(rel)
    indices = []
    for step, rel in enumerate(path.relationships):
        forward = rel.start_node_id == path.nodes[step].id
        indices.append(rel_index[rel.id] if forward else -rel_index[rel.id])
        indices.append(node_index[path.nodes[step + 1].id])
    return Structure(
        PATH,
        (
            [dehydrate(node, major) for node in nodes],
            [_relationship(rel, major, bound=False) for rel in rels],
            indices,
        ),
    )


def dehydrate(value: Any, major: int) -> Any:
    """A result value as PackStream values for Bolt major version `major`."""
    if value is None or isinstance(value, (bool, int, float, str, bytes)):
        return value
    if isinstance(value, (list, tuple)):
        return [dehydrate(item, major) for item in value]
    if isinstance(value, dict):
        return {key: dehydrate(item, major) for key, item in value.items()}
    if isinstance(value, Node):
        fields = (value.id, sorted(value.labels), dehydrate(value.properties, major))
        return Structure(NODE, fields + ((element_id(value.id),) if major >= 5 else ()))
    if isinstance(value, Relationship):
        return _relationship(value, major, bound=True)
    if isinstance(value, Path):
        return _path(value, major)
    temporal = _TEMPORAL.get(type(value))
    if temporal is not None:
        return temporal(value, major)
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):  # Python's own, from a user's procedure
        try:
            return dehydrate(from_native(value), major)
        except ValueError as exc:
            raise BadValue(f"cannot send {value!r} over Bolt: {exc}") from None
    raise BadValue(f"cannot send a value of type {type(value).__name__} over Bolt")


def _ints(structure: Structure, count: int) -> tuple[int, ...]:
    fields = structure.fields
    if len(fields) != count or not all(isinstance(f, int) and not isinstance(f, bool) for f in fields):
        raise BadValue(f"structure 0x{structure.tag:02X} needs {count} integer fields")
    return fields


def _zone(name: Any) -> str:
    if not isinstance(name, str):
        raise BadValue("a time zone id must be a string")
    try:
        return zone_name(name)
    except CypherSemanticError:
        raise BadValue(f"unknown time zone {name!r}") from None


def _offset(seconds: int) -> int:
    """An offset from a client. py2neo 2021.2 sends a negative one as Python's
    `timedelta.seconds`, a day more (-05:00 as 68400): an offset between 18
    and 24 hours can be nothing else, so it is read as the one meant."""
    if MAX_OFFSET < seconds < DAY_SECONDS:
        seconds -= DAY_SECONDS
    if not -MAX_OFFSET <= seconds <= MAX_OFFSET:
        raise BadValue(f"UTC offset out of range: {seconds} s (at most 18 hours)")
    return seconds


def _time_of_day(nanos: int) -> int:
    if not 0 <= nanos < DAY_NANOS:
        raise BadValue("a time must lie within one day")
    return nanos


def _days(days: int) -> int:
    try:
        return check_days(days)
    except CypherArithmeticError as exc:
        raise BadValue(f"temporal value out of range: {exc}") from None


def _fraction(nanos: int) -> int:
    if not 0 <= nanos < _NANOS:
        raise BadValue(f"nanoseconds out of range: {nanos}")
    return nanos


def _hydrate_datetime(s: Structure, major: int) -> DateTime:
    tag = s.tag
    if (tag in (DATE_TIME_OFFSET_V5, DATE_TIME_ZONE_V5)) != (major >= 5):
        raise BadValue(f"structure 0x{tag:02X} is not used by Bolt {major}")
    if len(s.fields) != 3:
        raise BadValue(f"structure 0x{tag:02X} needs 3 fields")
    seconds, nanos = _ints(Structure(tag, s.fields[:2]), 2)
    nanos = _fraction(nanos)
    if tag in (DATE_TIME_ZONE_V5, DATE_TIME_ZONE_V4):
        zone = _zone(s.fields[2])
        _days(seconds // DAY_SECONDS)
        if major >= 5:
            offset = offset_at(zone, seconds)
        else:  # local seconds: a wall-clock time turned back twice is read as its first occurrence
            seconds, offset = resolve_local(zone, seconds)
    else:
        zone, offset = None, _offset(_ints(Structure(tag, s.fields[2:]), 1)[0])
        seconds -= 0 if major >= 5 else offset
    _days((seconds + offset) // DAY_SECONDS)
    return DateTime._of(seconds, nanos, offset, zone)


def _hydrate_structure(s: Structure, major: int) -> Any:
    tag = s.tag
    if tag == DATE:
        return Date._of(_days(_ints(s, 1)[0]))
    if tag == LOCAL_TIME:
        return LocalTime._of(_time_of_day(_ints(s, 1)[0]))
    if tag == TIME:
        nanos, offset = _ints(s, 2)
        return Time._of(_time_of_day(nanos), _offset(offset))
    if tag == LOCAL_DATE_TIME:
        seconds, nanos = _ints(s, 2)
        _days(seconds // DAY_SECONDS)
        return LocalDateTime._of(seconds, _fraction(nanos))
    if tag == DURATION:
        months, days, seconds, nanos = _ints(s, 4)
        return Duration(months, days, seconds, nanos)
    if tag in (DATE_TIME_OFFSET_V5, DATE_TIME_OFFSET_V4, DATE_TIME_ZONE_V5, DATE_TIME_ZONE_V4):
        return _hydrate_datetime(s, major)
    raise BadValue(f"structure 0x{tag:02X} is not accepted as a parameter")


def _node(s: Structure, major: int) -> Node:
    node_id, labels, props = s.fields[:3]
    return Node(node_id, frozenset(labels), result_value(props, major))


def _relationship_value(s: Structure, major: int, ends: tuple[int, int] | None = None) -> Relationship:
    if s.tag == RELATIONSHIP:
        rel_id, start, end, rel_type, props = s.fields[:5]
    else:
        (rel_id, rel_type, props), (start, end) = s.fields[:3], ends
    return Relationship(rel_id, rel_type, start, end, result_value(props, major))


def _path_value(s: Structure, major: int) -> Path:
    nodes, rels, indices = s.fields
    nodes = [_node(n, major) for n in nodes]
    walk, steps = [nodes[0]], []
    for i in range(0, len(indices), 2):
        rel_index, node = indices[i], nodes[indices[i + 1]]
        before = walk[-1]
        ends = (before.id, node.id) if rel_index > 0 else (node.id, before.id)
        steps.append(_relationship_value(rels[abs(rel_index) - 1], major, ends))
        walk.append(node)
    return Path(tuple(walk), tuple(steps))


_GRAPH = {NODE: _node, RELATIONSHIP: _relationship_value, PATH: _path_value}


def result_value(value: Any, major: int) -> Any:
    """A value of a RECORD as the embedded API gives it (for WeftDB's own
    Bolt client): nodes, relationships and paths as `weftdb.Node` & co."""
    if isinstance(value, list):
        return [result_value(item, major) for item in value]
    if isinstance(value, dict):
        return {key: result_value(item, major) for key, item in value.items()}
    if isinstance(value, Structure):
        graph = _GRAPH.get(value.tag)
        return graph(value, major) if graph is not None else _hydrate_structure(value, major)
    return value


def hydrate(value: Any, major: int) -> Any:
    """A parameter received over Bolt as a WeftDB value; raises BadValue when it cannot be one."""
    if isinstance(value, list):
        return [hydrate(item, major) for item in value]
    if isinstance(value, dict):
        return {key: hydrate(item, major) for key, item in value.items()}
    if isinstance(value, Structure):
        try:
            return _hydrate_structure(value, major)
        except (OverflowError, ValueError) as exc:  # out of Python's date range
            raise BadValue(f"temporal value out of range: {exc}") from None
    return value

"""WeftDB values <-> PackStream structures, in the shape each Bolt version expects.

Bolt 5 added element ids to nodes and relationships (4, 8 and 4 fields for
Node, Relationship and UnboundRelationship instead of 3, 5 and 3) and sends a
zoned DateTime as UTC seconds (tags I/i) where Bolt 4 sent local seconds (F/f).
`dehydrate` turns a result value into plain PackStream values for one version;
`hydrate` turns a client's parameter back into a WeftDB value. Python keeps
microseconds, so nanoseconds beyond them are dropped on the way in.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from weftdb.basics.errors import ClientError
from weftdb.basics.temporal import Duration
from weftdb.query.results import Node, Path, Relationship, element_id
from weftdb.server.bolt.packstream import Structure

NODE, RELATIONSHIP, UNBOUND_RELATIONSHIP, PATH = 0x4E, 0x52, 0x72, 0x50
DATE, TIME, LOCAL_TIME, LOCAL_DATE_TIME, DURATION = 0x44, 0x54, 0x74, 0x64, 0x45
DATE_TIME_OFFSET_V4, DATE_TIME_ZONE_V4 = 0x46, 0x66  # local seconds
DATE_TIME_OFFSET_V5, DATE_TIME_ZONE_V5 = 0x49, 0x69  # UTC seconds

_EPOCH_DATE = dt.date(1970, 1, 1)
_EPOCH = dt.datetime(1970, 1, 1)
_EPOCH_UTC = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
_NANOS = 1_000_000_000


class BadValue(ClientError):
    """A parameter sent by the client is not a value WeftDB can hold."""

    code = "Neo.ClientError.Request.Invalid"


def _time_nanos(value: dt.time) -> int:
    seconds = value.hour * 3600 + value.minute * 60 + value.second
    return seconds * _NANOS + value.microsecond * 1000


def _split(delta: dt.timedelta) -> tuple[int, int]:
    """Whole seconds and nanoseconds of a timedelta (nanoseconds >= 0)."""
    return delta.days * 86400 + delta.seconds, delta.microseconds * 1000


def _dehydrate_datetime(value: dt.datetime, major: int) -> Structure:
    tz = value.tzinfo
    if tz is None:
        return Structure(LOCAL_DATE_TIME, _split(value - _EPOCH))
    zone_id = tz.key if isinstance(tz, ZoneInfo) else None
    offset = value.utcoffset()
    if major >= 5:
        seconds, nanos = _split(value - _EPOCH_UTC)
    else:
        seconds, nanos = _split(value.replace(tzinfo=None) - _EPOCH)
    if zone_id is not None:
        return Structure(DATE_TIME_ZONE_V5 if major >= 5 else DATE_TIME_ZONE_V4, (seconds, nanos, zone_id))
    tag = DATE_TIME_OFFSET_V5 if major >= 5 else DATE_TIME_OFFSET_V4
    return Structure(tag, (seconds, nanos, int(offset.total_seconds())))


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
    if isinstance(value, dt.datetime):
        return _dehydrate_datetime(value, major)
    if isinstance(value, dt.date):
        return Structure(DATE, ((value - _EPOCH_DATE).days,))
    if isinstance(value, dt.time):
        if value.tzinfo is None:
            return Structure(LOCAL_TIME, (_time_nanos(value),))
        offset = value.utcoffset() or dt.timedelta(0)
        return Structure(TIME, (_time_nanos(value), int(offset.total_seconds())))
    if isinstance(value, Duration):
        return Structure(DURATION, (value.months, value.days, value.seconds, value.nanoseconds))
    raise BadValue(f"cannot send a value of type {type(value).__name__} over Bolt")


def _ints(structure: Structure, count: int) -> tuple[int, ...]:
    fields = structure.fields
    if len(fields) != count or not all(isinstance(f, int) and not isinstance(f, bool) for f in fields):
        raise BadValue(f"structure 0x{structure.tag:02X} needs {count} integer fields")
    return fields


def _zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str):
        raise BadValue("a time zone id must be a string")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadValue(f"unknown time zone {name!r}") from None


def _offset(seconds: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(seconds=seconds))


def _time_of_day(nanos: int) -> dt.time:
    if not 0 <= nanos < 86400 * _NANOS:
        raise BadValue("a time must lie within one day")
    micros = nanos // 1000
    seconds, micros = divmod(micros, 1_000_000)
    return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60, micros)


def _hydrate_structure(s: Structure, major: int) -> Any:
    tag = s.tag
    if tag == DATE:
        return _EPOCH_DATE + dt.timedelta(days=_ints(s, 1)[0])
    if tag == LOCAL_TIME:
        return _time_of_day(_ints(s, 1)[0])
    if tag == TIME:
        nanos, offset = _ints(s, 2)
        return _time_of_day(nanos).replace(tzinfo=_offset(offset))
    if tag == LOCAL_DATE_TIME:
        seconds, nanos = _ints(s, 2)
        return _EPOCH + dt.timedelta(seconds=seconds, microseconds=nanos // 1000)
    if tag == DURATION:
        return Duration(*_ints(s, 4))
    if tag in (DATE_TIME_OFFSET_V5, DATE_TIME_OFFSET_V4, DATE_TIME_ZONE_V5, DATE_TIME_ZONE_V4):
        if (tag in (DATE_TIME_OFFSET_V5, DATE_TIME_ZONE_V5)) != (major >= 5):
            raise BadValue(f"structure 0x{tag:02X} is not used by Bolt {major}")
        zoned = tag in (DATE_TIME_ZONE_V5, DATE_TIME_ZONE_V4)
        if len(s.fields) != 3:
            raise BadValue(f"structure 0x{tag:02X} needs 3 fields")
        seconds, nanos = _ints(Structure(tag, s.fields[:2]), 2)
        tz = _zone(s.fields[2]) if zoned else _offset(_ints(Structure(tag, s.fields[2:]), 1)[0])
        delta = dt.timedelta(seconds=seconds, microseconds=nanos // 1000)
        if major >= 5:
            return (_EPOCH_UTC + delta).astimezone(tz)
        return (_EPOCH + delta).replace(tzinfo=tz)
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

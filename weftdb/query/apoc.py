"""The APOC procedures and functions that clients call, doing what APOC does
for the arguments they pass.

langchain-neo4j's `Neo4jGraph` (through neo4j-graphrag) reads the schema with
`apoc.meta.data`, `apoc.schema.nodes`, and for its enhanced schema
`apoc.meta.graph`, `apoc.any.property` and `apoc.schema.properties.distinct`;
`add_graph_documents` writes with `apoc.merge.node` and
`apoc.merge.relationship` (older versions with `apoc.create.addLabels`).
neomodel's inspector calls `apoc.meta.cypher.types`. The rest of
`apoc.create.*` comes along because it is a line each.

The merges are Cypher MERGE statements run in the caller's transaction, as
APOC's are: the same matching, constraints and counters as a MERGE written
by hand.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator

from weftdb.basics.errors import CypherTypeError, ProcedureError
from weftdb.graph.objects import Edge, Vertex
from weftdb.query import values
from weftdb.query.builtin_procedures import meta_graph
from weftdb.query.procedures import ProcedureContext, builtin, builtin_function, kind_of
from weftdb.query.results import Node, Relationship

# ---------------------------------------------------------------- the schema of the data

_META_COLUMNS = (
    "label :: STRING, property :: STRING, count :: INTEGER, unique :: BOOLEAN, index :: BOOLEAN, "
    "existence :: BOOLEAN, type :: STRING, array :: BOOLEAN, sample :: LIST<ANY>, left :: INTEGER, "
    "right :: INTEGER, other :: LIST<STRING>, otherLabels :: LIST<STRING>, elementType :: STRING"
)
_APOC_TYPES = {"DATETIME": "DATE_TIME", "LOCALDATETIME": "LOCAL_DATE_TIME", "LOCALTIME": "LOCAL_TIME"}


def apoc_type(value: Any) -> str:
    """APOC's name of a value's type: STRING, INTEGER, DATE_TIME, LIST..."""
    return _APOC_TYPES.get(kind_of(value), kind_of(value))


class _Item:
    """One row of apoc.meta.data while it is being counted."""

    __slots__ = ("label", "property", "count", "unique", "index", "existence", "type", "array", "left_count",
                 "right_count", "other", "other_labels", "element_type")

    def __init__(self, label: str, property_: str):
        self.label, self.property = label, property_
        self.count = 0
        self.unique = self.index = self.existence = self.array = False
        self.type = None
        self.left_count = self.right_count = 0
        self.other: list[str] = []
        self.other_labels: list[str] = []
        self.element_type = None

    def rel(self, out: int, into: int) -> None:
        self.count += 1
        self.type = "RELATIONSHIP"
        self.array = self.array or out > 1
        self.left_count += out
        self.right_count += into

    def add_other(self, labels) -> None:
        for label in labels:
            if label not in self.other:
                self.other.append(label)

    def row(self) -> tuple:
        left = self.left_count // self.count if self.count else 0
        right = self.right_count // self.count if self.count else 0
        return (self.label, self.property, self.count, self.unique, self.index, self.existence, self.type,
                self.array, None, left, right, self.other, self.other_labels, self.element_type)


def _schema_flags(storage) -> tuple[set, set, set]:
    """(label, key) pairs with an index, a uniqueness constraint, an existence constraint."""
    indexed, unique, existence = set(), set(), set()
    catalog = getattr(storage, "catalog", None)
    if catalog is not None:
        for index in catalog.indexes.values():
            for key in index.keys:
                indexed.add((index.token, key))
        for constraint in catalog.constraints.values():
            for key in constraint.keys:
                (existence if constraint.kind == "exists" else unique).add((constraint.label, key))
                if constraint.kind != "exists":
                    indexed.add((constraint.label, key))
    else:
        indexed = set(storage.indexes.by_property)
        existence = set(storage.constraints.existence)
        unique = {(label, key) for label, keys in storage.constraints.unique for key in keys}
    return indexed, unique, existence


def _sample_step(count: int, sample: int) -> int:
    """Every how many nodes of a label apoc.meta.data looks at: all of them
    below ten samples' worth, as APOC's randomised skip comes to."""
    if sample is None or sample <= 0:
        return 1
    return max(1, count // sample) if count >= 10 * sample else 1


@builtin(f"apoc.meta.data(config = {{}} :: MAP) :: ({_META_COLUMNS})",
         description="Examines the full graph and returns a table of metadata.")
def meta_data(ctx: ProcedureContext, config: dict) -> Iterator[tuple]:
    tx = ctx.tx
    config = config or {}
    sample = config.get("sample", 1000)
    indexed, unique, existence = _schema_flags(tx.storage)
    by_type: dict[str, dict[str, _Item]] = {}
    by_label: dict[str, dict[str, _Item]] = {}
    labels = defaultdict(list)
    for vertex in tx.scan_vertices():
        for label in tx.labels(vertex):
            labels[label].append(vertex)
    for edge in tx.scan_edges():
        by_type.setdefault(edge.type, {})
    for label in sorted(labels):
        node_meta = by_label[label] = {}
        members = labels[label]
        for vertex in members[:: _sample_step(len(members), sample)]:
            _add_relationships(ctx, label, vertex, node_meta, by_type)
            _add_properties(node_meta, label, tx.properties(vertex), "node", indexed, unique, existence,
                            tx.labels(vertex))
    for items in list(by_type.values()) + list(by_label.values()):
        for item in items.values():
            yield item.row()


def _add_relationships(ctx, label: str, vertex, node_meta: dict, by_type: dict) -> None:
    tx = ctx.tx
    outgoing = defaultdict(list)
    for edge in tx.out_edges(vertex):
        outgoing[edge.type].append(edge)
    incoming = defaultdict(int)
    for edge in tx.in_edges(vertex):
        incoming[edge.type] += 1
    for type_, edges in outgoing.items():
        rel_meta = node_meta.setdefault(type_, _Item(label, type_))
        rel_meta.element_type = "node"
        type_meta = by_type.setdefault(type_, {})
        rel_node_meta = type_meta.setdefault(label, _Item(type_, label))
        rel_meta.rel(len(edges), incoming[type_])
        rel_node_meta.rel(len(edges), incoming[type_])
        for edge in edges:
            end_labels = sorted(tx.labels(edge.dst))
            rel_meta.add_other(end_labels)
            rel_node_meta.add_other(end_labels)
            _add_properties(type_meta, type_, tx.properties(edge), "relationship", set(), set(), set(), ())
            rel_node_meta.element_type = "relationship"


def _add_properties(meta: dict, label: str, props: dict, element_type: str, indexed, unique, existence,
                    node_labels) -> None:
    for key, value in props.items():
        if key in meta:
            continue
        item = meta[key] = _Item(label, key)
        item.type = apoc_type(value)
        item.array = isinstance(value, list)
        item.element_type = element_type
        item.index = (label, key) in indexed
        item.existence = (label, key) in existence
        if (label, key) in unique:
            item.unique = True
            item.other_labels = [other for other in sorted(node_labels) if other != label]


@builtin("apoc.meta.graph(config = {} :: MAP) :: (nodes :: LIST<NODE>, relationships :: LIST<RELATIONSHIP>)",
         description="Examines the full graph and returns a meta-graph: a virtual node per label and a virtual "
                     "relationship per connection, with counts.")
def meta_graph_procedure(ctx: ProcedureContext, config: dict) -> Iterator[tuple]:
    nodes, relationships = meta_graph(ctx, {"name", "count"})
    yield (nodes, relationships)


@builtin("apoc.meta.schema(config = {} :: MAP) :: (value :: MAP)",
         description="Returns the metadata of the graph: per label and type, the count, the properties and "
                     "their types, and the relationships.")
def meta_schema(ctx: ProcedureContext, config: dict) -> Iterator[tuple]:
    schema: dict[str, Any] = {}
    for row in meta_data(ctx, config):
        label, prop, count, unique_, index, existence_, type_, array, _, _, _, other, _, element = row
        entry = schema.setdefault(label, {"type": element, "count": 0, "properties": {}, "labels": []}
                                  if element == "node" else {"type": "relationship", "count": 0, "properties": {}})
        if type_ == "RELATIONSHIP":
            if element == "node":
                entry.setdefault("relationships", {})[prop] = {"direction": "out", "count": count, "labels": other,
                                                                "properties": {}}
            continue
        entry["properties"][prop] = {"type": type_, "indexed": index, "unique": unique_, "existence": existence_,
                                     "array": array}
    tx = ctx.tx
    for vertex in tx.scan_vertices():
        for label in tx.labels(vertex):
            if label in schema:
                schema[label]["count"] += 1
    for edge in tx.scan_edges():
        if edge.type in schema and schema[edge.type]["type"] == "relationship":
            schema[edge.type]["count"] += 1
    yield (schema,)


# ---------------------------------------------------------------- indexes and constraints


@builtin("apoc.schema.nodes(config = {} :: MAP) :: (name :: STRING, label :: ANY, properties :: LIST<STRING>, "
         "status :: STRING, type :: STRING, failure :: STRING, populationProgress :: FLOAT, size :: INTEGER, "
         "valuesSelectivity :: FLOAT, userDescription :: STRING)", mode="schema",
         description="Returns all indexes and constraints information for all node labels in the database.")
def schema_nodes(ctx: ProcedureContext, config: dict) -> Iterator[tuple]:
    config = config or {}
    include, exclude = set(config.get("labels") or ()), set(config.get("excludeLabels") or ())
    rows = []
    for label, keys, kind, description, is_index in _node_schema(ctx.tx.storage):
        if (include and label not in include) or label in exclude:
            continue
        name = f":{label}({','.join(keys)})"
        if not is_index:
            rows.append((name, label, list(keys), "", kind, "NO FAILURE", 0.0, 0, 0.0, description))
            continue
        size, distinct = _index_size(ctx.tx, label, keys)
        selectivity = distinct / size if size else 1.0
        rows.append((name, label, list(keys), "ONLINE", kind, "NO FAILURE", 100.0, size, selectivity, description))
    yield from sorted(rows, key=lambda row: (row[1], row[0]))


def _node_schema(storage) -> list[tuple]:
    """(label, keys, type, description, is an index) of each node index and constraint."""
    catalog = getattr(storage, "catalog", None)
    out = []
    if catalog is not None:
        for index in catalog.indexes.values():
            if index.entity == "NODE":
                out.append((index.token, index.keys, index.kind, index.describe(), True))
        for constraint in catalog.constraints.values():
            kind = {"exists": "NODE_PROPERTY_EXISTENCE", "unique": "UNIQUENESS", "node_key": "NODE_KEY"}[constraint.kind]
            out.append((constraint.label, constraint.keys, kind, constraint.describe(), False))
        return out
    for label in storage.indexes.declared_labels:
        out.append((label, (), "LOOKUP", f"INDEX ON :{label}", True))
    for label, key in storage.indexes.by_property:
        out.append((label, (key,), "RANGE", f"INDEX ON :{label}({key})", True))
    for label, key in storage.constraints.existence:
        out.append((label, (key,), "NODE_PROPERTY_EXISTENCE", f"CONSTRAINT ON :{label} ASSERT EXISTS ({key})", False))
    for label, keys in storage.constraints.unique:
        out.append((label, keys, "UNIQUENESS", f"CONSTRAINT ON :{label} ASSERT ({', '.join(keys)}) IS UNIQUE", False))
    return out


def _index_size(tx, label: str, keys: tuple[str, ...]) -> tuple[int, int]:
    """Entries of an index on `label` (and `keys`) as the transaction sees them, and their distinct values."""
    size, seen = 0, set()
    for vertex in tx.vertices_with_label(label):
        found = tuple(tx.get(vertex, key) for key in keys)
        if any(value is None for value in found):
            continue
        size += 1
        seen.add(tuple(values.group_key(value) for value in found))
    return size, len(seen)


@builtin("apoc.schema.relationships(config = {} :: MAP) :: (name :: STRING, type :: STRING, "
         "properties :: LIST<STRING>, status :: STRING, relationshipType :: ANY)", mode="schema",
         description="Returns the indexes and constraints information for all the relationship types in the database.")
def schema_relationships(ctx: ProcedureContext, config: dict) -> Iterator[tuple]:
    catalog = getattr(ctx.tx.storage, "catalog", None)
    if catalog is None:
        return
    for index in sorted(catalog.indexes.values(), key=lambda i: (i.token, i.keys)):
        if index.entity == "RELATIONSHIP":
            yield (f":{index.token}({','.join(index.keys)})", index.kind, list(index.keys), "ONLINE", index.token)


@builtin("apoc.schema.properties.distinct(label :: STRING, key :: STRING) :: (value :: LIST<ANY>)",
         description="Returns all distinct node property values for the given key.")
def properties_distinct(ctx: ProcedureContext, label: str, key: str) -> Iterator[tuple]:
    tx = ctx.tx
    seen, out = set(), []
    source = tx.vertices_with_label(label) if label else tx.scan_vertices()
    for vertex in source:
        value = tx.get(vertex, key)
        if value is None:
            continue
        group = values.group_key(value)
        if group not in seen:
            seen.add(group)
            out.append(value)
    yield (out,)


# ---------------------------------------------------------------- writing


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _ident(props: dict | None, parameter: str) -> str:
    return ", ".join(f"{_quote(key)}: ${parameter}.{_quote(key)}" for key in (props or {}))


@builtin("apoc.merge.node(labels :: LIST<STRING>, identProps :: MAP, onCreateProps = {} :: MAP, "
         "onMatchProps = {} :: MAP) :: (node :: NODE)", mode="write",
         description="Merges the given node with the given dynamic labels: MERGE on the identifying properties, "
                     "then onCreateProps or onMatchProps.")
def merge_node(ctx: ProcedureContext, labels: list, ident: dict, on_create: dict, on_match: dict) -> Iterator[tuple]:
    if not ident:
        raise ProcedureError("apoc.merge.node: you need to supply at least one identifying property for a merge.")
    if labels is not None and any(label is None or label == "" for label in labels):
        raise ProcedureError("apoc.merge.node: the list of label names may not contain null or empty strings; "
                             "to merge a node without a label, pass an empty list.")
    label_text = "".join(":" + _quote(label) for label in labels or ())
    query = (f"MERGE (n{label_text} {{{_ident(ident, 'identProps')}}}) "
             "ON CREATE SET n += $onCreateProps ON MATCH SET n += $onMatchProps RETURN n")
    params = {"identProps": ident, "onCreateProps": on_create or {}, "onMatchProps": on_match or {}}
    yield from ctx.rows(query, params)


@builtin("apoc.merge.relationship(startNode :: NODE, relType :: STRING, identProps :: MAP, onCreateProps :: MAP, "
         "endNode :: NODE, onMatchProps = {} :: MAP) :: (rel :: RELATIONSHIP)", mode="write",
         description="Merges the given relationship with the given dynamic type: MERGE on the identifying "
                     "properties, then onCreateProps or onMatchProps.")
def merge_relationship(ctx: ProcedureContext, start, rel_type: str, ident: dict, on_create: dict, end,
                       on_match: dict) -> Iterator[tuple]:
    if not rel_type:
        raise ProcedureError("apoc.merge.relationship: it is not possible to merge a relationship without a type.")
    if start is None or end is None:
        raise ProcedureError("apoc.merge.relationship: the start and end nodes may not be null.")
    props = f" {{{_ident(ident, 'identProps')}}}" if ident else ""
    query = (f"WITH $startNode AS startNode, $endNode AS endNode "
             f"MERGE (startNode)-[r:{_quote(rel_type)}{props}]->(endNode) "
             "ON CREATE SET r += $onCreateProps ON MATCH SET r += $onMatchProps RETURN r")
    params = {"identProps": ident or {}, "onCreateProps": on_create or {}, "onMatchProps": on_match or {},
              "startNode": start, "endNode": end}
    yield from ctx.rows(query, params)


@builtin("apoc.create.node(labels :: LIST<STRING>, props :: MAP) :: (node :: NODE)", mode="write",
         description="Creates a node with the given dynamic labels.")
def create_node(ctx: ProcedureContext, labels: list, props: dict) -> Iterator[tuple]:
    label_text = "".join(":" + _quote(label) for label in labels or ())
    yield from ctx.rows(f"CREATE (n{label_text}) SET n += $props RETURN n", {"props": props or {}})


@builtin("apoc.create.relationship(from :: NODE, relType :: STRING, props :: MAP, to :: NODE) "
         ":: (rel :: RELATIONSHIP)", mode="write",
         description="Creates a relationship with the given dynamic type.")
def create_relationship(ctx: ProcedureContext, start, rel_type: str, props: dict, end) -> Iterator[tuple]:
    if not rel_type:
        raise ProcedureError("apoc.create.relationship: a relationship needs a type.")
    query = (f"WITH $from AS a, $to AS b CREATE (a)-[r:{_quote(rel_type)}]->(b) SET r += $props RETURN r")
    yield from ctx.rows(query, {"from": start, "to": end, "props": props or {}})


def _nodes(ctx: ProcedureContext, nodes: Any, what: str) -> list:
    """APOC's `nodes` argument: a node, a node id, an element id, or a list of those."""
    items = nodes if isinstance(nodes, list) else [nodes]
    out = []
    for item in items:
        if item is None:
            continue
        if type(item) is Vertex:
            out.append(item)
            continue
        gid = item if type(item) is int else int(item) if type(item) is str and item.isdigit() else None
        vertex = ctx.tx.vertex_by_id(gid) if gid is not None else None
        if vertex is None:
            raise CypherTypeError(f"{what} takes nodes, node ids or element ids, not {values.type_name(item)} {item!r}.")
        out.append(vertex)
    return out


def _labelled(ctx: ProcedureContext, nodes: Any, labels: list, what: str, add: bool, remove_others: bool = False):
    tx, counters = ctx.tx, ctx.counters
    for vertex in _nodes(ctx, nodes, what):
        if remove_others:
            for label in sorted(tx.labels(vertex) - set(labels or ())):
                if tx.remove_label(vertex, label):
                    counters["labels-removed"] += 1
        for label in labels or ():
            if add and tx.add_label(vertex, label):
                counters["labels-added"] += 1
            elif not add and tx.remove_label(vertex, label):
                counters["labels-removed"] += 1
        yield (vertex,)


@builtin("apoc.create.addLabels(nodes :: ANY, labels :: LIST<STRING>) :: (node :: NODE)", mode="write",
         description="Adds the given labels to the given nodes.")
def add_labels(ctx: ProcedureContext, nodes: Any, labels: list) -> Iterator[tuple]:
    return _labelled(ctx, nodes, labels, "apoc.create.addLabels", add=True)


@builtin("apoc.create.removeLabels(nodes :: ANY, labels :: LIST<STRING>) :: (node :: NODE)", mode="write",
         description="Removes the given labels from the given nodes.")
def remove_labels(ctx: ProcedureContext, nodes: Any, labels: list) -> Iterator[tuple]:
    return _labelled(ctx, nodes, labels, "apoc.create.removeLabels", add=False)


@builtin("apoc.create.setLabels(nodes :: ANY, labels :: LIST<STRING>) :: (node :: NODE)", mode="write",
         description="Sets the given labels on the given nodes; labels not in the list are removed.")
def set_labels(ctx: ProcedureContext, nodes: Any, labels: list) -> Iterator[tuple]:
    return _labelled(ctx, nodes, labels, "apoc.create.setLabels", add=True, remove_others=True)


@builtin("apoc.create.setProperty(nodes :: ANY, key :: STRING, value :: ANY) :: (node :: NODE)", mode="write",
         description="Sets the given property on the given nodes.")
def set_property(ctx: ProcedureContext, nodes: Any, key: str, value: Any) -> Iterator[tuple]:
    from weftdb.query.operators import check_property_value

    for vertex in _nodes(ctx, nodes, "apoc.create.setProperty"):
        if ctx.tx.set_property(vertex, key, check_property_value(value, key)):
            ctx.counters["properties-set"] += 1
        yield (vertex,)


@builtin("apoc.create.setProperties(nodes :: ANY, keys :: LIST<STRING>, values :: LIST<ANY>) :: (node :: NODE)",
         mode="write", description="Sets the given properties on the given nodes.")
def set_properties(ctx: ProcedureContext, nodes: Any, keys: list, values_: list) -> Iterator[tuple]:
    from weftdb.query.operators import check_property_value

    if len(keys or ()) != len(values_ or ()):
        raise ProcedureError("apoc.create.setProperties: give as many values as keys.")
    for vertex in _nodes(ctx, nodes, "apoc.create.setProperties"):
        for key, value in zip(keys, values_):
            if ctx.tx.set_property(vertex, key, check_property_value(value, key)):
                ctx.counters["properties-set"] += 1
        yield (vertex,)


# ---------------------------------------------------------------- functions


@builtin_function("apoc.any.property(object :: ANY, key :: STRING) :: ANY", category="Other",
                  description="Returns the property for the given key from a node, relationship (virtual ones "
                              "too) or map.")
def any_property(ctx, value: Any, key: str) -> Any:
    if value is None or key is None:
        return None
    kind = type(value)
    if kind is Vertex or kind is Edge:
        return ctx.tx.get(value, key)
    if kind is Node or kind is Relationship:
        return value.properties.get(key)
    if kind is dict:
        return value.get(key)
    raise CypherTypeError(f"apoc.any.property() reads a node, relationship or map, not {values.type_name(value)}.")


@builtin_function("apoc.meta.cypher.type(value :: ANY) :: STRING", category="Other",
                  description="Returns the type name of the given value.")
def cypher_type(ctx, value: Any) -> str:
    return _cypher_type_name(value)


def _cypher_type_name(value: Any) -> str:
    if isinstance(value, list):
        inner = {_cypher_type_name(item) for item in value}
        return "LIST OF " + (inner.pop() if len(inner) == 1 else "ANY")
    return apoc_type(value)


@builtin_function("apoc.meta.cypher.types(props :: ANY) :: MAP", category="Other",
                  description="Returns a map of the type names of the given values (a node's, a relationship's "
                              "or a map's).")
def cypher_types(ctx, value: Any) -> dict:
    kind = type(value)
    if kind is Vertex or kind is Edge:
        props = ctx.tx.properties(value)
    elif kind is Node or kind is Relationship:
        props = value.properties
    elif kind is dict:
        props = value
    else:
        props = {}
    return {key: _cypher_type_name(item) for key, item in props.items()}

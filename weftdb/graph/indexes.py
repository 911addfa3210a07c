"""Label and label+property indexes.

Entries are only ever added by writers, never removed by them: an index may
hold a vertex that no longer has the label or value (an old version some
reader still needs, or a rolled-back write), so every lookup is filtered by
the reader's view of the vertex. The garbage collector removes entries that
no version anyone can see still matches (`Indexes.forget`).

Every label has a lookup set, declared or not, so `MATCH (n:L)` never scans
the whole graph; `CREATE INDEX ON :L` records the declaration that
`SHOW INDEX INFO` lists and the dump writes. Label+property indexes exist only
when declared. A property index maps a value to the one vertex holding it, or
to a set once a second vertex shares the value: most indexed values (ids,
names) are unique, and a set per entry would double the index's memory.

Indexes over several properties of a label (composite) and property indexes
of relationship types are `KeyedIndex`es: a tuple of value keys maps to the
objects holding it, and each object remembers the tuples it is filed under,
so the garbage collector can drop those no version still has. They are kept
apart from the single-property node indexes, whose layout the hot paths
below rely on.
"""

from __future__ import annotations

from typing import Any, Iterable

from weftdb.graph.objects import Edge, Vertex
from weftdb.graph.schema import RELATIONSHIP


def index_key(value: Any) -> Any:
    """A hashable key under which equal Cypher values meet (1 and 1.0 already
    hash alike in Python). Maps are not indexable: None."""
    kind = type(value)
    if kind is int or kind is str or kind is float:
        return value
    if kind is list:
        keys = tuple(index_key(item) for item in value)
        return None if None in keys else ("list", keys)
    if kind is dict:
        return None
    return value


def index_keys(values: Iterable[Any]) -> tuple | None:
    """The index keys of `values`, one each; None when one is null or not
    indexable (nothing is filed, or can be found, under it)."""
    out = []
    for value in values:
        ikey = None if value is None else index_key(value)
        if ikey is None:
            return None
        out.append(ikey)
    return tuple(out)


def values_key(props: dict[str, Any], keys: tuple[str, ...]) -> tuple | None:
    """The entry key of a property map under `keys`; None when a key is missing or its value not indexable."""
    return index_keys([props.get(key) for key in keys])


class KeyedIndex:
    """An index over the tuple of `keys` values of nodes or relationships:
    tuple of value keys -> an object, or a set once a second one shares it.
    `filed` maps each object to the tuple, or set of tuples, it is filed under."""

    __slots__ = ("keys", "entries", "filed")

    def __init__(self, keys: tuple[str, ...]):
        self.keys = keys
        self.entries: dict[tuple, Any] = {}
        self.filed: dict[Any, Any] = {}

    def key_of(self, props: dict[str, Any]) -> tuple | None:
        return values_key(props, self.keys)

    def add(self, obj: Any, props: dict[str, Any]) -> None:
        tkey = self.key_of(props)
        if tkey is None:
            return
        members = self.entries.get(tkey)
        if members is None:
            self.entries[tkey] = obj
        elif type(members) is set:
            members.add(obj)
        elif members is not obj:
            self.entries[tkey] = {members, obj}
        filed = self.filed.get(obj)
        if filed is None:
            self.filed[obj] = tkey
        elif type(filed) is set:
            filed.add(tkey)
        elif filed != tkey:
            self.filed[obj] = {filed, tkey}

    def lookup(self, values: tuple) -> Any:
        """The raw entry for `values` (one per key): an object, a set (copy it
        before iterating), or (); None when a value is not indexable."""
        keys = index_keys(values)
        return None if keys is None else self.entries.get(keys, ())

    def keep(self, obj: Any, needed: set) -> None:
        """Unfile `obj` from every tuple not in `needed` (all of them when it is empty)."""
        filed = self.filed.get(obj)
        if filed is None:
            return
        tuples = filed if type(filed) is set else {filed}
        gone = [t for t in tuples if t not in needed]
        for tkey in gone:
            members = self.entries.get(tkey)
            if members is obj:
                del self.entries[tkey]
            elif type(members) is set:
                members.discard(obj)
                if not members:
                    del self.entries[tkey]
        left = [t for t in tuples if t in needed]
        if not left:
            del self.filed[obj]
        else:
            self.filed[obj] = left[0] if len(left) == 1 else set(left)

    def build(self, objects: Iterable[Any], versions, token_test) -> None:
        """File every version of every object (`versions(o)` yields (labels or
        type, props)) that passes `token_test(labels or type)`."""
        for obj in objects:
            for token, props in versions(obj):
                if token_test(token):
                    self.add(obj, props)


class Indexes:
    def __init__(self) -> None:
        self.by_label: dict[str, set[Vertex]] = {}
        self.declared_labels: set[str] = set()
        # (label, key) -> value key -> a vertex, or a set of vertices
        self.by_property: dict[tuple[str, str], dict[Any, Any]] = {}
        # Which (label, key) pairs are indexed, looked up from either side
        # so writers pay one dict lookup when nothing is indexed. By label it
        # maps straight to the index dicts, for the hot paths (adding a label,
        # lookups): two lookups by string beat building and hashing a tuple.
        self._labels_of_key: dict[str, set[str]] = {}
        self._keys_of_label: dict[str, dict[str, dict[Any, Any]]] = {}
        # Node indexes over several properties, by label; relationship
        # property indexes, by type: (keys) -> KeyedIndex.
        self.composites: dict[str, dict[tuple[str, ...], KeyedIndex]] = {}
        self.edge_indexes: dict[str, dict[tuple[str, ...], KeyedIndex]] = {}

    # -- maintenance by writers (under the storage write lock) ---------------

    def add_label(self, vertex: Vertex, label: str) -> None:
        members = self.by_label.get(label)
        if members is None:
            members = self.by_label[label] = set()
        members.add(vertex)
        indexed = self._keys_of_label.get(label)
        if indexed:
            props = vertex.props
            for key, index in indexed.items():
                if key in props:
                    value = props[key]
                    kind = type(value)
                    if (kind is int or kind is str) and value not in index:
                        index[value] = vertex  # a new unique value: the bulk-load case, no call
                    else:
                        self._add(index, value, vertex)
        if self.composites and label in self.composites:
            for composite in self.composites[label].values():
                composite.add(vertex, vertex.props)

    def add_label_to_many(self, vertices: list[Vertex], label: str) -> None:
        """`add_label` for many vertices (recovery): one set update, then one
        pass per property index of the label."""
        members = self.by_label.get(label)
        if members is None:
            self.by_label[label] = set(vertices)
        else:
            members.update(vertices)
        add = self._add
        for key, index in self._keys_of_label.get(label, {}).items():
            for vertex in vertices:
                props = vertex.props
                if key in props:
                    add(index, props[key], vertex)
        for composite in self.composites.get(label, {}).values():
            for vertex in vertices:
                composite.add(vertex, vertex.props)

    def add_property(self, vertex: Vertex, key: str, value: Any) -> None:
        labels = self._labels_of_key.get(key)
        if labels:
            for label in vertex.labels:
                if label in labels:
                    self._add(self.by_property[(label, key)], value, vertex)
        if self.composites:
            for label in vertex.labels:
                for keys, composite in self.composites.get(label, {}).items():
                    if key in keys:
                        composite.add(vertex, vertex.props)

    def add_edge(self, edge: Edge) -> None:
        """File a new edge, or an edge whose property changed, in its type's indexes."""
        for index in self.edge_indexes.get(edge.type, {}).values():
            index.add(edge, edge.props)

    def add_edges(self, edges: Iterable[Edge]) -> None:
        indexed = self.edge_indexes
        for edge in edges:
            if edge.type in indexed:
                for index in indexed[edge.type].values():
                    index.add(edge, edge.props)

    @staticmethod
    def _add(index: dict[Any, Any], value: Any, vertex: Vertex) -> None:
        kind = type(value)
        key = value if kind is int or kind is str else index_key(value)  # the common keys without a call
        if key is None:
            return
        members = index.get(key)
        if members is None:
            index[key] = vertex
        elif type(members) is set:
            members.add(vertex)
        elif members is not vertex:
            index[key] = {members, vertex}

    # -- lookups (candidates; the caller filters by visibility) ---------------

    def label_candidates(self, label: str) -> list[Vertex]:
        members = self.by_label.get(label)
        return list(members) if members else []

    def property_candidates(self, label: str, key: str, value: Any) -> list[Vertex] | None:
        """Vertices that may have `label` and `key = value`; None when no index
        can answer (no such index, or a value the index does not hold: maps)."""
        members = self.lookup(label, key, value)
        if members is None:
            return None
        return [members] if type(members) is Vertex else list(members)

    def lookup(self, label: str, key: str, value: Any) -> Any:
        """The raw entry for `value` in the `:label(key)` index: a vertex, a set
        of vertices (a writer may add to it meanwhile: copy it before
        iterating), or () when it holds none; None when no index can answer
        (no such index, or a value it does not hold: maps). The entries are
        candidates, for the caller to filter by its view."""
        keys = self._keys_of_label.get(label)
        if keys is not None:
            index = keys.get(key)
            if index is not None:
                kind = type(value)
                if kind is int or kind is str or kind is float:
                    return index.get(value, ())  # their own index key: no index_key call
                ikey = index_key(value)
                if ikey is not None:
                    return index.get(ikey, ())
        return None

    def has_property_index(self, label: str, key: str) -> bool:
        return (label, key) in self.by_property

    def has_composite_index(self, label: str, keys: tuple[str, ...]) -> bool:
        return keys in self.composites.get(label, {})

    def composite_lookup(self, label: str, keys: tuple[str, ...], values: tuple) -> Any:
        """`lookup` for the index of `label` over several `keys`, one value each."""
        index = self.composites.get(label, {}).get(keys)
        return None if index is None else index.lookup(values)

    def has_edge_index(self, type_: str, keys: tuple[str, ...]) -> bool:
        return keys in self.edge_indexes.get(type_, {})

    def edge_lookup(self, type_: str, keys: tuple[str, ...], values: tuple) -> Any:
        """`lookup` for the relationship index of type `type_` over `keys`."""
        index = self.edge_indexes.get(type_, {}).get(keys)
        return None if index is None else index.lookup(values)

    def unique_candidates(self, label: str, keys: tuple[str, ...], ukey: tuple) -> tuple:
        """The vertices filed under the index keys `ukey` in the index of
        `label` over `keys` (a uniqueness constraint's own index)."""
        if len(keys) == 1:
            members = self._keys_of_label[label][keys[0]].get(ukey[0], ())
        else:
            members = self.composites[label][keys].entries.get(ukey, ())
        return (members,) if type(members) is Vertex else tuple(members)

    # -- schema ---------------------------------------------------------------

    def create(self, shape: tuple[str, str, tuple[str, ...]], objects: Iterable[Any], versions) -> None:
        """The index of `shape` (entity, label or type, keys), built from
        `objects` (vertices, or edges for a relationship index) as the
        create method of its kind says."""
        entity, token, keys = shape
        if entity == RELATIONSHIP:
            self.create_edge_index(token, keys, objects, versions)
        elif len(keys) == 1:
            self.create_property_index(token, keys[0], objects, versions)
        else:
            self.create_composite_index(token, keys, objects, versions)

    def drop(self, shape: tuple[str, str, tuple[str, ...]]) -> None:
        entity, token, keys = shape
        if entity == RELATIONSHIP:
            self.drop_edge_index(token, keys)
        elif len(keys) == 1:
            self.drop_property_index(token, keys[0])
        else:
            self.drop_composite_index(token, keys)

    def create_property_index(self, label: str, key: str, vertices: Iterable[Vertex], versions) -> None:
        """Build from every version of every vertex (`versions(v)` yields
        (labels, props) of each), so readers of older snapshots find theirs."""
        index: dict[Any, Any] = {}
        for vertex in vertices:
            for labels, props in versions(vertex):
                if label in labels and key in props:
                    self._add(index, props[key], vertex)
        self.by_property[(label, key)] = index
        self._labels_of_key.setdefault(key, set()).add(label)
        self._keys_of_label.setdefault(label, {})[key] = index

    def create_composite_index(self, label: str, keys: tuple[str, ...], vertices: Iterable[Vertex], versions) -> None:
        index = KeyedIndex(keys)
        index.build(vertices, versions, lambda labels: label in labels)
        self.composites.setdefault(label, {})[keys] = index

    def drop_composite_index(self, label: str, keys: tuple[str, ...]) -> None:
        indexes = self.composites[label]
        del indexes[keys]
        if not indexes:
            del self.composites[label]

    def create_edge_index(self, type_: str, keys: tuple[str, ...], edges: Iterable[Edge], versions) -> None:
        index = KeyedIndex(keys)
        index.build((e for e in edges if e.type == type_), versions, lambda _: True)
        self.edge_indexes.setdefault(type_, {})[keys] = index

    def drop_edge_index(self, type_: str, keys: tuple[str, ...]) -> None:
        indexes = self.edge_indexes[type_]
        del indexes[keys]
        if not indexes:
            del self.edge_indexes[type_]

    def drop_property_index(self, label: str, key: str) -> None:
        del self.by_property[(label, key)]
        labels = self._labels_of_key[key]
        labels.discard(label)
        if not labels:
            del self._labels_of_key[key]
        keys = self._keys_of_label[label]
        del keys[key]
        if not keys:
            del self._keys_of_label[label]

    # -- garbage collection ---------------------------------------------------

    def forget(self, vertex: Vertex, label: str | None = None, key: str | None = None, value: Any = None,
               versions=None) -> None:
        """Drop entries of `vertex` no version still needs: its label `label`
        (and the property entries under it), or its value `value` of `key`
        (`versions(vertex)` then yields the (labels, props) still reachable,
        for the indexes over several properties)."""
        if label is not None:
            members = self.by_label.get(label)
            if members is not None:
                members.discard(vertex)
                if not members:
                    del self.by_label[label]
            for (ilabel, ikey), index in self.by_property.items():
                if ilabel == label and ikey in vertex.props:
                    self._discard(index, vertex.props[ikey], vertex)
            for composite in self.composites.get(label, {}).values():
                composite.keep(vertex, set())
        if key is not None:
            for label_ in self._labels_of_key.get(key, ()):
                self._discard(self.by_property[(label_, key)], value, vertex)
            if self.composites and versions is not None:
                for label_, indexes in self.composites.items():
                    for keys, composite in indexes.items():
                        if key in keys and vertex in composite.filed:
                            composite.keep(vertex, {composite.key_of(props) for labels, props in versions(vertex)
                                                    if label_ in labels})

    def forget_edge(self, edge: Edge, versions=None) -> None:
        """Drop entries of `edge` no version still needs (`versions(edge)` yields
        (type, props) of each); every entry when `versions` is None (dropped)."""
        for index in self.edge_indexes.get(edge.type, {}).values():
            index.keep(edge, set() if versions is None else {index.key_of(props) for _, props in versions(edge)})

    @staticmethod
    def _discard(index: dict[Any, Any], value: Any, vertex: Vertex) -> None:
        key = index_key(value)
        members = index.get(key) if key is not None else None
        if members is vertex:
            del index[key]
        elif type(members) is set:
            members.discard(vertex)
            if not members:
                del index[key]

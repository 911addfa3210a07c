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
"""

from __future__ import annotations

from typing import Any, Iterable

from weftdb.graph.objects import Vertex


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

    def add_property(self, vertex: Vertex, key: str, value: Any) -> None:
        labels = self._labels_of_key.get(key)
        if labels:
            for label in vertex.labels:
                if label in labels:
                    self._add(self.by_property[(label, key)], value, vertex)

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

    # -- schema ---------------------------------------------------------------

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

    def forget(self, vertex: Vertex, label: str | None = None, key: str | None = None, value: Any = None) -> None:
        """Drop entries of `vertex` no version still needs: its label `label`
        (and the property entries under it), or its value `value` of `key`."""
        if label is not None:
            members = self.by_label.get(label)
            if members is not None:
                members.discard(vertex)
                if not members:
                    del self.by_label[label]
            for (ilabel, ikey), index in self.by_property.items():
                if ilabel == label and ikey in vertex.props:
                    self._discard(index, vertex.props[ikey], vertex)
        if key is not None:
            for label_ in self._labels_of_key.get(key, ()):
                self._discard(self.by_property[(label_, key)], value, vertex)

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

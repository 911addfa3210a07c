"""The columnar image: one version of the graph as NumPy arrays (docs/analytics.md).

An image is built through a transaction (`build`), so it holds exactly what
that transaction reads, MVCC included; it then serves every transaction that
sees the same version (`GraphTransaction.image_version`). A store keeps the
image of the newest version asked for in its `ImageCache` and rebuilds it
lazily, when a statement finds it at another version. Nothing on the write
path knows it exists.

Vertices are numbered densely in scan order; an edge is numbered by its
position in the scan of edges, which is read when a statement first needs
edges (`Image.edges_for`). Arrays are never changed once built, and the
parts made on first use (adjacency) are whole arrays put in place at once, so
readers on other threads share an image without a lock.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:
    from weftdb.graph.interface import GraphTransaction

INT, FLOAT, OBJECT = "int", "float", "object"


class Column:
    """One vertex property key over all vertices: `values` (int64, float64 or
    object), `present` (the vertices that have the key) and `kind`, which
    says whether arithmetic and ordering may be done by NumPy (INT, FLOAT)
    or must follow Cypher's rules value by value (OBJECT: strings, booleans,
    lists, temporal values, or a mix of types)."""

    __slots__ = ("values", "present", "kind")

    def __init__(self, values: np.ndarray, present: np.ndarray, kind: str):
        self.values = values
        self.present = present
        self.kind = kind


class Adjacency:
    """Compressed adjacency of one direction and type: the edges of vertex i
    are positions offsets[i]..offsets[i+1] of `targets` (the other ends) and
    `edges` (their edge numbers), in scan order."""

    __slots__ = ("offsets", "targets", "edges")

    def __init__(self, offsets: np.ndarray, targets: np.ndarray, edges: np.ndarray):
        self.offsets = offsets
        self.targets = targets
        self.edges = edges


class Edges:
    """The edges of an image: their ends (vertex numbers) and type codes, in
    scan order, and adjacency built on first use."""

    def __init__(self, vertex_count: int, src: np.ndarray, dst: np.ndarray, types: np.ndarray,
                 type_codes: dict[str, int]):
        self.vertex_count = vertex_count
        self.src = src
        self.dst = dst
        self.types = types
        self.type_codes = type_codes
        self.type_counts = np.bincount(types, minlength=len(type_codes))
        self._adjacency: dict[tuple[str | None, str], Adjacency] = {}

    def count(self, type_: str | None) -> int:
        """How many edges of type `type_` (None: of every type) there are."""
        if type_ is None:
            return len(self.src)
        code = self.type_codes.get(type_)
        return 0 if code is None else int(self.type_counts[code])

    def adjacency(self, type_: str | None, direction: str) -> Adjacency:
        """The edges of type `type_` (None: every type) leaving each vertex
        (`direction` "out") or arriving at it ("in")."""
        key = (type_, direction)
        adjacency = self._adjacency.get(key)
        if adjacency is None:
            adjacency = self._adjacency[key] = self._build_adjacency(type_, direction)
        return adjacency

    def _build_adjacency(self, type_: str | None, direction: str) -> Adjacency:
        numbers = np.arange(len(self.src), dtype=np.int64)
        if type_ is not None:
            code = self.type_codes.get(type_)
            numbers = numbers[self.types == code] if code is not None else numbers[:0]
        near, far = (self.src, self.dst) if direction == "out" else (self.dst, self.src)
        near = near[numbers]
        order = np.argsort(near, kind="stable")  # a vertex's edges keep their scan order
        offsets = np.zeros(self.vertex_count + 1, dtype=np.int64)
        np.cumsum(np.bincount(near, minlength=self.vertex_count), out=offsets[1:])
        return Adjacency(offsets, far[numbers][order], numbers[order])


class Image:
    """The graph at `version`: vertex ids, label masks and property columns,
    and its edges, read when a statement first needs them (`edges_for`): a
    statement about nodes alone does not pay to read every edge."""

    def __init__(self, version: int, gids: np.ndarray, labels: dict[str, np.ndarray], columns: dict[str, Column]):
        self.version = version
        self.gids = gids
        self.labels = labels
        self.columns = columns
        self.edges: Edges | None = None
        self._lock = threading.Lock()

    @property
    def vertex_count(self) -> int:
        return len(self.gids)

    def label(self, name: str) -> np.ndarray:
        """The mask of the vertices with label `name` (all False for an unknown label)."""
        mask = self.labels.get(name)
        return mask if mask is not None else np.zeros(self.vertex_count, dtype=bool)

    def column(self, key: str) -> Column:
        column = self.columns.get(key)
        if column is None:
            n = self.vertex_count
            column = Column(np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool), INT)
        return column

    def edges_for(self, tx: GraphTransaction, check: Callable[[], None] = lambda: None) -> Edges | None:
        """The image's edges, read through `tx` (which reads this version)
        the first time; None when a write overlapped the read (in place)."""
        if self.edges is None:
            with self._lock:
                if self.edges is None:
                    edges = _edges(tx, self.gids, check)
                    if tx.image_version() != self.version:  # IN_MEMORY_ANALYTICAL: written meanwhile
                        return None
                    self.edges = edges
        return self.edges


CHECK_EVERY = 8192
"""Objects a build reads between two calls of its `check` (the statement's
timeout and TERMINATE)."""


def build(tx: GraphTransaction, version: int, check: Callable[[], None] = lambda: None) -> Image:
    """The image of what `tx` reads, its vertices now (its edges when first
    needed: Image.edges_for). Reads every visible vertex once through the
    transaction, as a full scan of the row engine does, calling `check` every
    CHECK_EVERY objects (it raises to stop the build)."""
    gids: list[int] = []
    members: dict[str, list[int]] = {}
    keyed: dict[str, tuple[list[int], list[Any]]] = {}
    for number, vertex in enumerate(tx.scan_vertices()):
        labels, props, _ = tx.view(vertex)
        if not number % CHECK_EVERY:
            check()
        gids.append(vertex.gid)
        for label in labels:
            members.setdefault(label, []).append(number)
        for key, value in props.items():
            at = keyed.get(key)
            if at is None:
                at = keyed[key] = ([], [])
            at[0].append(number)
            at[1].append(value)
    n = len(gids)
    gid_array = np.array(gids, dtype=np.int64)
    labels = {}
    for label, numbers in members.items():
        mask = np.zeros(n, dtype=bool)
        mask[numbers] = True
        labels[label] = mask
    columns = {key: _column(n, numbers, values) for key, (numbers, values) in keyed.items()}
    return Image(version, gid_array, labels, columns)


def _column(n: int, numbers: list[int], values: list[Any]) -> Column:
    kinds = set(map(type, values))
    kind, dtype = OBJECT, object
    if kinds == {int}:
        kind, dtype = INT, np.int64
    elif kinds == {float}:
        kind, dtype = FLOAT, np.float64
    try:
        dense = np.array(values, dtype=dtype) if dtype is not object else _objects(values)
    except OverflowError:  # an integer beyond int64: Cypher's rules, value by value
        kind, dense = OBJECT, _objects(values)
    full = np.zeros(n, dtype=dense.dtype) if kind != OBJECT else np.full(n, None, dtype=object)
    present = np.zeros(n, dtype=bool)
    full[numbers] = dense
    present[numbers] = True
    return Column(full, present, kind)


def _objects(values: list[Any]) -> np.ndarray:
    """An object array of `values` as they are (np.array would unpack lists)."""
    array = np.empty(len(values), dtype=object)
    for i, value in enumerate(values):
        array[i] = value
    return array


def _edges(tx: GraphTransaction, gids: np.ndarray, check: Callable[[], None]) -> Edges:
    """The visible edges' ends (vertex numbers) and type codes, in scan order."""
    type_codes: dict[str, int] = {}
    src_gids: list[int] = []
    dst_gids: list[int] = []
    codes: list[int] = []
    for edge in tx.scan_edges():
        code = type_codes.get(edge.type)
        if code is None:
            code = type_codes[edge.type] = len(type_codes)
        if not len(codes) % CHECK_EVERY:
            check()
        src_gids.append(edge.src.gid)
        dst_gids.append(edge.dst.gid)
        codes.append(code)
    src, dst = np.array(src_gids, dtype=np.int64), np.array(dst_gids, dtype=np.int64)
    # An end not among the vertices (-1) is a torn read of IN_MEMORY_ANALYTICAL,
    # whose writes apply in place: Image.edges_for then finds the version moved on.
    size = 1 + max((int(array.max()) for array in (gids, src, dst) if len(array)), default=-1)
    number_of = np.full(size, -1, dtype=np.int64)
    number_of[gids] = np.arange(len(gids), dtype=np.int64)
    return Edges(len(gids), number_of[src], number_of[dst], np.array(codes, dtype=np.int32), type_codes)


class ImageCache:
    """A store's image of the newest version asked for. One build at a time:
    a second statement that needs the same version waits for the first's.
    `automatic`: whether `--analytics-image AUTO` may build images for this
    store; not for ON_DISK_TRANSACTIONAL's, whose memory its flag bounds while
    an image holds every vertex and edge in memory (ALWAYS still does)."""

    def __init__(self, automatic: bool = True) -> None:
        self.automatic = automatic
        self._image: Image | None = None
        self._lock = threading.Lock()

    def get(self, tx: GraphTransaction, rebuild: Callable[[Image | None], bool],
            check: Callable[[], None] = lambda: None) -> Image | None:
        """The image `tx` reads, or None: `tx` cannot be served by one (it
        wrote), or the image is at another version and `rebuild(that image,
        None if there is none)` says a build would cost more than it saves.
        `check` is called as a build goes (build)."""
        version = tx.image_version()
        if version is None:
            return None
        image = self._image
        if image is not None and image.version == version:
            return image
        if image is not None and image.version > version:
            return None  # a reader older than the image: its row plan, not a build per statement
        if not rebuild(image):
            return None
        with self._lock:
            image = self._image
            if image is not None and image.version == version:
                return image
            if image is not None and image.version > version:  # built by the statement waited for
                return None
            image = build(tx, version, check)
            if tx.image_version() != version:  # IN_MEMORY_ANALYTICAL: written meanwhile, in place
                return None
            self._image = image
            return image

    def clear(self) -> None:
        """Forget the image (the store's contents changed outside transactions)."""
        self._image = None

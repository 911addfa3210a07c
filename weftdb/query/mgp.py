"""Memgraph's Python query module API (`import mgp`), so that modules written
for Memgraph load unchanged: `@mgp.read_proc`, `@mgp.write_proc` and
`@mgp.function`, with parameters and results typed by annotations
(`str`, `int`, `mgp.Number`, `mgp.Nullable[...]`, `mgp.List[...]`,
`mgp.Vertex`, ...), `mgp.Record`, and the graph as `ctx.graph`: vertices,
edges, their labels and properties, creating and deleting.

The loader (`modules.py`) makes this module importable as `mgp` while it
loads query modules. What is offered is the part of Memgraph's API that
query modules use day to day; `mgp.Graph.vertices` walks the transaction's
view of the graph, and writes go through the transaction like any other
(allowed in `@mgp.write_proc` only).
"""

from __future__ import annotations

import datetime
import inspect
import typing
from collections import namedtuple

from weftdb.graph.objects import Edge as _Edge
from weftdb.graph.objects import Vertex as _Vertex
from weftdb.query.procedures import (
    ANY,
    NO_DEFAULT,
    Column,
    CypherType,
    Function,
    Parameter,
    Procedure,
    ProcedureContext,
    _description,
)

# ---------------------------------------------------------------- errors


class InvalidContextError(Exception):
    """A graph object was used outside the procedure call that gave it."""


class ImmutableObjectError(Exception):
    """A read procedure tried to change the graph."""


class DeletedObjectError(Exception):
    pass


class UnknownError(Exception):
    pass


class AbortError(Exception):
    pass


class InvalidArgumentError(Exception):
    pass


class SerializationError(Exception):
    pass


# ---------------------------------------------------------------- graph objects


class Label:
    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    def __eq__(self, other) -> bool:
        if isinstance(other, Label):
            return self._name == other._name
        return isinstance(other, str) and self._name == other

    def __hash__(self) -> int:
        return hash(self._name)

    def __repr__(self) -> str:
        return f"Label({self._name!r})"


class EdgeType(Label):
    def __repr__(self) -> str:
        return f"EdgeType({self._name!r})"


Property = namedtuple("Property", ("name", "value"))


class Properties:
    """The properties of a vertex or edge, read live from the transaction."""

    def __init__(self, owner):
        self._owner = owner

    def _tx(self):
        return self._owner._ctx.tx

    def get(self, property_name: str, default=None) -> object:
        value = self._tx().get(self._owner._object, property_name)
        return default if value is None else value

    def set(self, property_name: str, value: object) -> None:
        _write(self._owner._ctx, lambda ctx: ctx._set_property(self._owner._object, property_name, _unwrap(value)))

    def set_properties(self, properties: dict) -> None:
        for key, value in properties.items():
            self.set(key, value)

    def items(self) -> typing.Iterable[Property]:
        return [Property(k, v) for k, v in self._tx().properties(self._owner._object).items()]

    def keys(self) -> typing.Iterable[str]:
        return list(self._tx().properties(self._owner._object))

    def values(self) -> typing.Iterable[object]:
        return list(self._tx().properties(self._owner._object).values())

    def __len__(self) -> int:
        return len(self._tx().properties(self._owner._object))

    def __iter__(self):
        return iter(self.keys())

    def __getitem__(self, property_name: str) -> object:
        value = self._tx().get(self._owner._object, property_name)
        if value is None:
            raise KeyError(property_name)
        return value

    def __setitem__(self, property_name: str, value: object) -> None:
        self.set(property_name, value)

    def __contains__(self, property_name: str) -> bool:
        return self._tx().get(self._owner._object, property_name) is not None


def _write(ctx: ProcedureContext, change) -> None:
    from weftdb.basics.errors import ProcedureError

    try:
        change(ctx)
    except ProcedureError as error:
        raise ImmutableObjectError(str(error)) from None


class _GraphObject:
    """What mgp's Vertex and Edge share: the WeftDB object and the procedure's context."""

    __slots__ = ("_object", "_ctx")

    def __init__(self, obj, ctx: ProcedureContext):
        self._object, self._ctx = obj, ctx

    def is_valid(self) -> bool:
        return True

    def underlying_graph_is_mutable(self) -> bool:
        return bool(self._ctx.procedure and self._ctx.procedure.writes)

    @property
    def id(self) -> int:
        return self._object.gid


class Vertex(_GraphObject):
    __slots__ = ()

    @property
    def labels(self) -> tuple[Label, ...]:
        return tuple(Label(name) for name in sorted(self._ctx.tx.labels(self._object)))

    def add_label(self, label: str) -> None:
        _write(self._ctx, lambda ctx: ctx._add_label(self._object, label))

    def remove_label(self, label: str) -> None:
        _write(self._ctx, lambda ctx: ctx._remove_label(self._object, label))

    @property
    def properties(self) -> Properties:
        return Properties(self)

    @property
    def in_edges(self) -> typing.Iterable["Edge"]:
        return [Edge(edge, self._ctx) for edge in self._ctx.tx.in_edges(self._object)]

    @property
    def out_edges(self) -> typing.Iterable["Edge"]:
        return [Edge(edge, self._ctx) for edge in self._ctx.tx.out_edges(self._object)]

    def __eq__(self, other) -> bool:
        return isinstance(other, Vertex) and other._object is self._object

    def __hash__(self) -> int:
        return hash(("Vertex", self._object.gid))

    def __repr__(self) -> str:
        return f"Vertex({self.id})"


class Edge(_GraphObject):
    __slots__ = ()

    @property
    def type(self) -> EdgeType:
        return EdgeType(self._object.type)

    @property
    def from_vertex(self) -> Vertex:
        return Vertex(self._object.src, self._ctx)

    @property
    def to_vertex(self) -> Vertex:
        return Vertex(self._object.dst, self._ctx)

    @property
    def properties(self) -> Properties:
        return Properties(self)

    def __eq__(self, other) -> bool:
        return isinstance(other, Edge) and other._object is self._object

    def __hash__(self) -> int:
        return hash(("Edge", self._object.gid))

    def __repr__(self) -> str:
        return f"Edge({self.id})"


class Path:
    def __init__(self, starting_vertex_or_path):
        if isinstance(starting_vertex_or_path, Path):
            self._vertices = list(starting_vertex_or_path._vertices)
            self._edges = list(starting_vertex_or_path._edges)
        elif isinstance(starting_vertex_or_path, Vertex):
            self._vertices, self._edges = [starting_vertex_or_path], []
        else:
            raise TypeError(f"Expected a Vertex or a Path, got {type(starting_vertex_or_path).__name__}")

    def is_valid(self) -> bool:
        return True

    def expand(self, edge: Edge) -> None:
        last = self._vertices[-1]
        if edge.from_vertex == last:
            self._vertices.append(edge.to_vertex)
        elif edge.to_vertex == last:
            self._vertices.append(edge.from_vertex)
        else:
            raise LogicErrorError("The edge does not continue the path from its last vertex.")
        self._edges.append(edge)

    def pop(self) -> None:
        if not self._edges:
            raise IndexError("The path has no edge to pop.")
        self._edges.pop()
        self._vertices.pop()

    @property
    def vertices(self) -> tuple[Vertex, ...]:
        return tuple(self._vertices)

    @property
    def edges(self) -> tuple[Edge, ...]:
        return tuple(self._edges)

    def length(self) -> int:
        return len(self._edges)


class LogicErrorError(Exception):
    pass


class Record:
    """One row of a procedure's result: `mgp.Record(name=value, ...)`; as a
    return annotation, the columns and their types."""

    __slots__ = ("fields",)

    def __init__(self, **kwargs):
        self.fields = kwargs


class Vertices:
    def __init__(self, graph: "Graph"):
        self._graph = graph

    def is_valid(self) -> bool:
        return True

    def __iter__(self):
        ctx = self._graph._ctx
        for vertex in ctx.tx.scan_vertices():
            yield Vertex(vertex, ctx)

    def __contains__(self, vertex) -> bool:
        return isinstance(vertex, Vertex) and self._graph._ctx.tx.exists(vertex._object)

    def __len__(self) -> int:
        return sum(1 for _ in self._graph._ctx.tx.scan_vertices())


class Graph:
    def __init__(self, ctx: ProcedureContext):
        self._ctx = ctx

    def is_valid(self) -> bool:
        return True

    def get_vertex_by_id(self, vertex_id: int) -> Vertex:
        vertex = self._ctx.tx.vertex_by_id(vertex_id)
        if vertex is None:
            raise IndexError(f"Unable to find vertex with ID {vertex_id}.")
        return Vertex(vertex, self._ctx)

    @property
    def vertices(self) -> Vertices:
        return Vertices(self)

    def is_mutable(self) -> bool:
        return bool(self._ctx.procedure and self._ctx.procedure.writes)

    def create_vertex(self) -> Vertex:
        made = []
        _write(self._ctx, lambda ctx: made.append(ctx._create_node()))
        return Vertex(made[0], self._ctx)

    def delete_vertex(self, vertex: Vertex) -> None:
        _write(self._ctx, lambda ctx: ctx._delete(vertex._object, detach=False))

    def detach_delete_vertex(self, vertex: Vertex) -> None:
        _write(self._ctx, lambda ctx: ctx._delete(vertex._object, detach=True))

    def create_edge(self, from_vertex: Vertex, to_vertex: Vertex, edge_type: EdgeType) -> Edge:
        made = []
        name = edge_type.name if isinstance(edge_type, EdgeType) else str(edge_type)
        _write(self._ctx, lambda ctx: made.append(ctx._create_relationship(from_vertex._object, name, to_vertex._object)))
        return Edge(made[0], self._ctx)

    def delete_edge(self, edge: Edge) -> None:
        _write(self._ctx, lambda ctx: ctx._delete(edge._object))


class ProcCtx:
    def __init__(self, graph: Graph):
        self._graph = graph

    def is_valid(self) -> bool:
        return True

    @property
    def graph(self) -> Graph:
        return self._graph

    def must_abort(self) -> bool:
        try:
            self._graph._ctx.check()
        except Exception:
            return True
        return False

    def check_must_abort(self) -> None:
        self._graph._ctx.check()


class FuncCtx(ProcCtx):
    pass


# ---------------------------------------------------------------- types

Number = typing.Union[int, float]
Map = typing.Union[dict, Edge, Vertex]
Date = datetime.date
LocalTime = datetime.time
LocalDateTime = datetime.datetime
Duration = datetime.timedelta


class ZonedDateTime:
    """The annotation of a zoned datetime (values are Python datetimes with a tzinfo)."""


Any = typing.Union[bool, str, Number, Map, Path, list, Date, LocalTime, LocalDateTime, Duration]
List = typing.List
Nullable = typing.Optional


class UnsupportedTypingError(Exception):
    def __init__(self, type_):
        super().__init__(f"Unsupported typing annotation '{type_}'")


_SIMPLE = {
    typing.Any: ANY, object: ANY, Any: ANY, list: CypherType("LIST"), bool: CypherType("BOOLEAN"),
    str: CypherType("STRING"), int: CypherType("INTEGER"), float: CypherType("FLOAT"), Number: CypherType("NUMBER"),
    Map: CypherType("MAP"), dict: CypherType("MAP"), Vertex: CypherType("NODE"), Edge: CypherType("RELATIONSHIP"),
    Path: CypherType("PATH"), Date: CypherType("DATE"), LocalTime: CypherType("LOCALTIME"),
    LocalDateTime: CypherType("LOCALDATETIME"), Duration: CypherType("DURATION"), ZonedDateTime: CypherType("DATETIME"),
}


def cypher_type(annotation) -> CypherType:
    """The signature type of a Python annotation, as Memgraph's mgp reads it."""
    if annotation is inspect.Parameter.empty:
        return ANY
    try:
        return _SIMPLE[annotation]
    except (KeyError, TypeError):
        pass
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Union and type(None) in args:
        rest = tuple(arg for arg in args if arg is not type(None))
        return cypher_type(rest[0] if len(rest) == 1 else typing.Union[rest])
    if origin is list:
        return CypherType("LIST", cypher_type(args[0]) if args else None)
    raise UnsupportedTypingError(annotation)


# ---------------------------------------------------------------- values in and out


def _wrap(value, ctx: ProcedureContext):
    kind = type(value)
    if kind is _Vertex:
        return Vertex(value, ctx)
    if kind is _Edge:
        return Edge(value, ctx)
    if getattr(value, "cypher_kind", None) == "path":
        path = Path(Vertex(value.nodes[0], ctx))
        for edge in value.relationships:
            path.expand(Edge(edge, ctx))
        return path
    if kind is list:
        return [_wrap(item, ctx) for item in value]
    if kind is dict:
        return {key: _wrap(item, ctx) for key, item in value.items()}
    return value


def _unwrap(value):
    if isinstance(value, (Vertex, Edge)):
        return value._object
    if isinstance(value, Path):
        from weftdb.query.expressions import GraphPath

        return GraphPath(tuple(v._object for v in value._vertices), tuple(e._object for e in value._edges))
    if isinstance(value, (list, tuple)):
        return [_unwrap(item) for item in value]
    if isinstance(value, dict):
        return {key: _unwrap(item) for key, item in value.items()}
    if isinstance(value, datetime.timedelta):  # Memgraph's durations are timedeltas
        from weftdb.basics.temporal import Duration as _Duration

        return _Duration(0, value.days, value.seconds, value.microseconds * 1000)
    return value


def _unwrap_result(result):
    if result is None:
        return None
    if isinstance(result, Record):
        return [{key: _unwrap(value) for key, value in result.fields.items()}]
    return [{key: _unwrap(value) for key, value in record.fields.items()} if isinstance(record, Record) else record
            for record in result]


# ---------------------------------------------------------------- declaring


def _check_body(func) -> None:
    if not callable(func):
        raise TypeError(f"Expected a callable object, got an instance of '{type(func).__name__}'")
    if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
        raise TypeError("Callable must not be 'async def' function")


def read_proc(func):
    """Register `func` as a read-only procedure of the module being loaded."""
    _check_body(func)
    func.__mgp__ = "read"
    return func


def write_proc(func):
    """Register `func` as a writing procedure of the module being loaded."""
    _check_body(func)
    func.__mgp__ = "write"
    return func


def function(func):
    """Register `func` as a function of the module being loaded."""
    _check_body(func)
    func.__mgp__ = "function"
    return func


def declared(func, module: str, path: str) -> Procedure | Function | None:
    """The Procedure or Function `func` was declared as by the decorators
    above, named `<module>.<function name>`; None if it was not."""
    kind = getattr(func, "__mgp__", None)
    if kind is None:
        return None
    signature = inspect.signature(func)
    params = list(signature.parameters.values())
    takes_context = bool(params) and params[0].annotation in (ProcCtx, FuncCtx)
    if takes_context:
        params = params[1:]
    parameters = tuple(
        Parameter(p.name, cypher_type(p.annotation), NO_DEFAULT if p.default is p.empty else _unwrap(p.default))
        for p in params
    )
    name = f"{module}.{func.__name__}"
    if kind == "function":
        def call(ctx, *args):
            wrapped = [_wrap(arg, ctx) for arg in args]
            result = func(FuncCtx(Graph(ctx)), *wrapped) if takes_context else func(*wrapped)
            return _unwrap(result)

        return Function(name, parameters, ANY, call, _description(func, None), internal=True, path=path,
                        module=module, context=True)
    record = signature.return_annotation
    columns: tuple[Column, ...] = ()
    if record is not signature.empty:
        if not isinstance(record, Record):
            raise TypeError(f"Expected '{func.__name__}' to return 'mgp.Record', got '{record!r}'")
        columns = tuple(Column(field, cypher_type(type_)) for field, type_ in record.fields.items())

    def body(ctx: ProcedureContext, *args):
        wrapped = [_wrap(arg, ctx) for arg in args]
        result = func(ProcCtx(Graph(ctx)), *wrapped) if takes_context else func(*wrapped)
        return _unwrap_result(result)

    return Procedure(name, parameters, columns, body, "WRITE" if kind == "write" else "READ",
                     _description(func, None), internal=True, path=path, module=module)


"""The procedures every database has: the schema of the graph (`db.labels`,
`db.relationshipTypes`, `db.propertyKeys`, `db.schema.*`), who the server
is (`dbms.components`), the listings of procedures and functions in
Neo4j's shape (`SHOW PROCEDURES`, `SHOW FUNCTIONS`, `dbms.procedures`,
`dbms.functions`) and Memgraph's (`mg.procedures`, `mg.functions`), and the
reloading of query modules (`mg.load_all`, `mg.load`).

Each is a small generator registered in `procedures.BUILTINS`; the APOC
procedures are in `apoc.py`.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from typing import Any, Iterator

from weftdb.basics import identity
from weftdb.basics.errors import ProcedureError
from weftdb.query.aggregates import AGGREGATES
from weftdb.query.functions import FUNCTIONS
from weftdb.query.procedures import Function, Procedure, ProcedureContext, builtin, render
from weftdb.query.results import Node, Relationship

# ---------------------------------------------------------------- the graph's schema


@builtin("db.labels() :: (label :: STRING)", description="List all labels attached to nodes within the database.")
def labels(ctx: ProcedureContext) -> Iterator[tuple]:
    tx = ctx.tx
    for label in sorted(tx.storage.label_names()):
        if next(iter(tx.vertices_with_label(label)), None) is not None:
            yield (label,)


@builtin("db.relationshipTypes() :: (relationshipType :: STRING)",
         description="List all types attached to relationships within the database.")
def relationship_types(ctx: ProcedureContext) -> Iterator[tuple]:
    known = set(ctx.tx.storage.edge_types)
    seen: set[str] = set()
    for edge in ctx.tx.scan_edges():
        seen.add(edge.type)
        if len(seen) == len(known):
            break
    for name in sorted(seen):
        yield (name,)


@builtin("db.propertyKeys() :: (propertyKey :: STRING)",
         description="List all property keys in the database.")
def property_keys(ctx: ProcedureContext) -> Iterator[tuple]:
    for key in sorted(ctx.tx.storage.property_keys):
        yield (key,)


_NEO4J_TYPE_NAMES = {
    "STRING": "String", "INTEGER": "Long", "FLOAT": "Double", "BOOLEAN": "Boolean", "DATE": "Date",
    "DATETIME": "DateTime", "LOCALDATETIME": "LocalDateTime", "TIME": "Time", "LOCALTIME": "LocalTime",
    "DURATION": "Duration", "MAP": "Map",
}


def _property_type(value: Any) -> str:
    """The type name db.schema.*TypeProperties gives a property value (Neo4j's: String, LongArray...)."""
    from weftdb.query.procedures import kind_of

    if isinstance(value, list):
        inner = {_property_type(item) for item in value}
        return (inner.pop() if len(inner) == 1 else "") + "Array"
    return _NEO4J_TYPE_NAMES.get(kind_of(value), kind_of(value).title())


def _type_properties(entities, key_of, ctx: ProcedureContext):
    """{key: {property: set of type names}} and how many entities have each key."""
    props: dict[Any, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    totals: dict[Any, int] = defaultdict(int)
    counts: dict[Any, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    tx = ctx.tx
    for entity in entities:
        key = key_of(entity)
        totals[key] += 1
        _ = props[key]  # an entity without properties still gives its type a row
        for name, value in tx.properties(entity).items():
            props[key][name].add(_property_type(value))
            counts[key][name] += 1
    return props, totals, counts


@builtin("db.schema.nodeTypeProperties() :: (nodeType :: STRING, nodeLabels :: LIST<STRING>, "
         "propertyName :: STRING, propertyTypes :: LIST<STRING>, mandatory :: BOOLEAN)",
         description="Show the derived property schema of the nodes in tabular form.")
def node_type_properties(ctx: ProcedureContext) -> Iterator[tuple]:
    tx = ctx.tx
    props, totals, counts = _type_properties(tx.scan_vertices(), lambda v: tuple(sorted(tx.labels(v))), ctx)
    for labels_ in sorted(props):
        node_type = ":" + ":".join(f"`{label}`" for label in labels_)
        if not props[labels_]:
            yield (node_type, list(labels_), None, None, False)
        for name in sorted(props[labels_]):
            yield (node_type, list(labels_), name, sorted(props[labels_][name]), counts[labels_][name] == totals[labels_])


@builtin("db.schema.relTypeProperties() :: (relType :: STRING, propertyName :: STRING, "
         "propertyTypes :: LIST<STRING>, mandatory :: BOOLEAN)",
         description="Show the derived property schema of the relationships in tabular form.")
def rel_type_properties(ctx: ProcedureContext) -> Iterator[tuple]:
    props, totals, counts = _type_properties(ctx.tx.scan_edges(), lambda e: e.type, ctx)
    for type_ in sorted(props):
        rel_type = f":`{type_}`"
        if not props[type_]:
            yield (rel_type, None, None, False)
        for name in sorted(props[type_]):
            yield (rel_type, name, sorted(props[type_][name]), counts[type_][name] == totals[type_])


@builtin("db.schema.visualization() :: (nodes :: LIST<NODE>, relationships :: LIST<RELATIONSHIP>)",
         description="Visualizes the schema of the data: a node per label, a relationship per connection.")
def visualization(ctx: ProcedureContext) -> Iterator[tuple]:
    nodes, relationships = meta_graph(ctx, {"name"})
    yield (nodes, relationships)


def meta_graph(ctx: ProcedureContext, keep: set[str]) -> tuple[list[Node], list[Relationship]]:
    """Virtual nodes (one per label, negative ids, properties name and count)
    and virtual relationships (one per start label, type and end label, with
    type and count) describing the graph; `keep` picks the properties shown."""
    tx = ctx.tx
    label_counts: dict[str, int] = defaultdict(int)
    for vertex in tx.scan_vertices():
        for label in tx.labels(vertex):
            label_counts[label] += 1
    nodes = {}
    for index, label in enumerate(sorted(label_counts)):
        props = {"name": label, "count": label_counts[label]}
        nodes[label] = Node(-1 - index, frozenset((label,)), {k: v for k, v in props.items() if k in keep})
    connections: dict[tuple[str, str, str], int] = defaultdict(int)
    for edge in tx.scan_edges():
        for start in tx.labels(edge.src):
            for end in tx.labels(edge.dst):
                connections[(start, edge.type, end)] += 1
    relationships = []
    for index, ((start, type_, end), count) in enumerate(sorted(connections.items())):
        props = {"type": type_, "count": count}
        relationships.append(Relationship(-1 - index, type_, nodes[start].id, nodes[end].id,
                                          {k: v for k, v in props.items() if k in keep | {"type"}}))
    return list(nodes.values()), relationships


# ---------------------------------------------------------------- the server


@builtin("dbms.components() :: (name :: STRING, versions :: LIST<STRING>, edition :: STRING)",
         description="List DBMS components and their versions.")
def components(ctx: ProcedureContext) -> Iterator[tuple]:
    yield (identity.NEO4J_KERNEL, [identity.NEO4J_VERSION], identity.EDITION)


# ---------------------------------------------------------------- listings, Neo4j's shape

_WORKS_ON_SYSTEM = {"dbms.components", "dbms.procedures", "dbms.functions", "mg.procedures", "mg.functions"}
_PROCEDURE_COLUMNS = (
    "name :: STRING, description :: STRING, mode :: STRING, worksOnSystem :: BOOLEAN, signature :: STRING, "
    "argumentDescription :: LIST<MAP>, returnDescription :: LIST<MAP>, admin :: BOOLEAN, "
    "rolesExecution :: LIST<STRING>, rolesBoostedExecution :: LIST<STRING>, isDeprecated :: BOOLEAN, "
    "deprecatedBy :: STRING, option :: MAP"
)
_FUNCTION_COLUMNS = (
    "name :: STRING, category :: STRING, description :: STRING, signature :: STRING, isBuiltIn :: BOOLEAN, "
    "argumentDescription :: LIST<MAP>, returnDescription :: LIST<MAP>, aggregating :: BOOLEAN, "
    "rolesExecution :: LIST<STRING>, rolesBoostedExecution :: LIST<STRING>, isDeprecated :: BOOLEAN, "
    "deprecatedBy :: STRING"
)


def _arguments(callable_: Procedure | Function) -> list[dict]:
    out = []
    for p in callable_.parameters:
        entry = {"name": p.name, "description": p.description or f"{p.name} :: {p.type.text()}",
                 "isDeprecated": False, "type": p.type.text()}
        if not p.required:
            entry["default"] = f"DefaultParameterValue{{value={render(p.default)}, type={p.type.text()}}}"
        out.append(entry)
    return out


@builtin(f"weftdb.listing.procedures() :: ({_PROCEDURE_COLUMNS})", listed=False,
         description="The rows of SHOW PROCEDURES.")
def listing_procedures(ctx: ProcedureContext) -> Iterator[tuple]:
    for proc in ctx.registry.procedures():
        returns = [{"name": c.name, "description": c.description or f"{c.name} :: {c.type.text()}",
                    "isDeprecated": False, "type": c.type.text()} for c in proc.columns]
        yield (proc.name, proc.description, proc.mode, proc.name in _WORKS_ON_SYSTEM, proc.signature(),
               _arguments(proc), returns, False, None, None, False, None, {"deprecated": False})


def cypher_functions() -> list[Function]:
    """Cypher's own functions, described for the listings from their Python bodies."""
    from weftdb.query.procedures import ANY, Parameter

    out = []
    names = set(FUNCTIONS) | set(AGGREGATES) | _GRAPH_FUNCTIONS
    for key in sorted(names):
        body = FUNCTIONS.get(key)
        parameters: tuple = ()
        description = ""
        if body is not None:
            try:
                parameters = tuple(Parameter(name) for name in inspect.signature(body).parameters)
            except (TypeError, ValueError):
                parameters = ()
            description = (inspect.getdoc(body) or "").split("\n\n", 1)[0].replace("\n", " ")
        elif key in AGGREGATES or key in _GRAPH_FUNCTIONS:
            parameters = (Parameter("input"),)
        out.append(Function(_DISPLAY.get(key, key), parameters, ANY, body or (lambda *a: None), description,
                            builtin=True, category=_category(key)))
    return out


_GRAPH_FUNCTIONS = {"id", "labels", "type", "keys", "properties", "startnode", "endnode", "nodes", "relationships",
                    "length", "exists", "elementid"}
_DISPLAY = {
    "tointeger": "toInteger", "tofloat": "toFloat", "tostring": "toString", "toboolean": "toBoolean",
    "tointegerornull": "toIntegerOrNull", "tofloatornull": "toFloatOrNull", "tostringornull": "toStringOrNull",
    "tobooleanornull": "toBooleanOrNull", "tolower": "toLower", "toupper": "toUpper", "randomuuid": "randomUUID",
    "isempty": "isEmpty", "startnode": "startNode", "endnode": "endNode", "elementid": "elementId",
    "duration.inmonths": "duration.inMonths", "duration.indays": "duration.inDays",
    "duration.inseconds": "duration.inSeconds", "stdev": "stDev", "stdevp": "stDevP",
    "percentilecont": "percentileCont", "percentiledisc": "percentileDisc",
}


def _category(key: str) -> str:
    if key in AGGREGATES:
        return "Aggregating"
    if key in _GRAPH_FUNCTIONS:
        return "Scalar"
    if key.split(".")[0] in ("date", "datetime", "localdatetime", "localtime", "time", "duration", "timestamp"):
        return "Temporal"
    if key in ("head", "last", "tail", "range", "reverse", "keys", "size", "isempty"):
        return "List"
    if key in ("left", "right", "lower", "upper", "tolower", "toupper", "trim", "ltrim", "rtrim", "replace",
               "split", "substring", "reverse"):
        return "String"
    if key.startswith("to"):
        return "Scalar"
    return "Numeric"


@builtin(f"weftdb.listing.functions(kind = 'all' :: STRING) :: ({_FUNCTION_COLUMNS})", listed=False,
         description="The rows of SHOW FUNCTIONS.")
def listing_functions(ctx: ProcedureContext, kind: str) -> Iterator[tuple]:
    own = [] if kind == "user defined" else cypher_functions()
    others = [fn for fn in ctx.registry.functions() if kind == "all" or fn.builtin == (kind == "built in")]
    for fn in sorted(own + others, key=lambda f: f.name.lower()):
        returns = [{"name": "result", "description": fn.returns.text(), "isDeprecated": False, "type": fn.returns.text()}]
        yield (fn.name, fn.category or ("Other" if fn.builtin else "User defined"), fn.description, fn.signature(),
               fn.builtin, _arguments(fn), returns, fn.category == "Aggregating", None, None, False, None)


@builtin("dbms.procedures() :: (name :: STRING, signature :: STRING, description :: STRING, mode :: STRING, "
         "defaultBuiltInRoles :: LIST<STRING>, worksOnSystem :: BOOLEAN)",
         description="List all procedures in the DBMS (Neo4j 4's listing; SHOW PROCEDURES is Neo4j 5's).")
def dbms_procedures(ctx: ProcedureContext) -> Iterator[tuple]:
    for proc in ctx.registry.procedures():
        yield (proc.name, proc.signature(), proc.description, proc.mode, None, proc.name in _WORKS_ON_SYSTEM)


@builtin("dbms.functions() :: (name :: STRING, signature :: STRING, description :: STRING, "
         "aggregating :: BOOLEAN, defaultBuiltInRoles :: LIST<STRING>)",
         description="List all functions in the DBMS (Neo4j 4's listing; SHOW FUNCTIONS is Neo4j 5's).")
def dbms_functions(ctx: ProcedureContext) -> Iterator[tuple]:
    for fn in ctx.registry.functions():
        yield (fn.name, fn.signature(), fn.description, False, None)


# ---------------------------------------------------------------- listings, Memgraph's shape


@builtin("mg.procedures() :: (name :: STRING, signature :: STRING, is_write :: BOOLEAN, path :: STRING, "
         "is_editable :: BOOLEAN)", description="List the procedures, as Memgraph's mg.procedures() does.")
def mg_procedures(ctx: ProcedureContext) -> Iterator[tuple]:
    for proc in ctx.registry.procedures():
        yield (proc.name, proc.signature("memgraph"), proc.writes, proc.path, not proc.builtin)


@builtin("mg.functions() :: (name :: STRING, signature :: STRING, path :: STRING, is_editable :: BOOLEAN)",
         description="List the functions of query modules and APOC, as Memgraph's mg.functions() does.")
def mg_functions(ctx: ProcedureContext) -> Iterator[tuple]:
    for fn in ctx.registry.functions():
        yield (fn.name, fn.signature("memgraph"), fn.path, not fn.builtin)


def _loader(ctx: ProcedureContext) -> Any:
    loader = ctx.registry.loader if ctx.registry is not None else None
    if loader is None:
        raise ProcedureError("No query modules directory is configured (--query-modules-directory, or the "
                             "query_modules_directory keyword of weftdb.open), so there is nothing to load.")
    return loader


@builtin("mg.load_all()", mode="dbms",
         description="Load the query modules again from --query-modules-directory: changed, new and removed files.")
def load_all(ctx: ProcedureContext) -> Iterator[tuple]:
    _loader(ctx).load_all(strict=True)
    return iter(())


@builtin("mg.load(module_name :: STRING)", mode="dbms",
         description="Load one query module again from --query-modules-directory.")
def load(ctx: ProcedureContext, module_name: str) -> Iterator[tuple]:
    if module_name is None:
        raise ProcedureError("mg.load() needs the name of a module, such as mg.load('my_module').")
    _loader(ctx).load(module_name)
    return iter(())


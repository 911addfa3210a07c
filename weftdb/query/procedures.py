"""Procedures and user functions: signatures, the registry, and what a
procedure is given when it runs.

A procedure is called with `CALL ns.name(args) YIELD ...`, a function from
any expression. Both are declared by a signature in Neo4j's notation:

    greet.hello(name :: STRING, times = 1 :: INTEGER) :: (greeting :: STRING)
    greet.shout(text :: STRING) :: STRING

(`name :: TYPE = default` is read as well as `name = default :: TYPE`; a
trailing `?` on a type, as the TCK writes it, is accepted.) Every argument
may be null. An INTEGER passed where a FLOAT is declared becomes a FLOAT.

`Registry` holds them by name. The built-in registry (`BUILTINS`, filled by
`builtin_procedures` and `apoc`) is the parent of each database's own, where
users register theirs (`db.procedures.register`, the `@db.procedure` and
`@db.function` decorators, or files in `--query-modules-directory`, see
`modules.py`). A registry tells its listeners when it changes, so the
database forgets plans that named what changed.

A user procedure is called as `body(ctx, *arguments)` with a
`ProcedureContext` and the arguments as the user sees values (`Node`,
`Relationship`, `Path` copies); it returns or yields records: dicts by column
name, or tuples in column order. A user function is called as
`body(*arguments)`. What they raise, other than a WeftDB error, reaches the
client as `ProcedureError`; the transaction is rolled back and the database
goes on serving. Built-ins are `internal`: they see the executor's own
values and transaction.
"""

from __future__ import annotations

import inspect
import re
import threading
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from weftdb.basics.errors import (
    CypherSemanticError,
    CypherTypeError,
    EntityNotFound,
    Error,
    ProcedureError,
    UnknownProcedureError,
)
from weftdb.query import values
from weftdb.query.results import Node, Path, Relationship

MODES = ("READ", "WRITE", "SCHEMA", "DBMS")

# ---------------------------------------------------------------- types

_TEMPORAL_NAMES = {
    "LOCAL_TIME": "LOCALTIME",
    "ZONED_TIME": "TIME",
    "LOCAL_DATE_TIME": "LOCALDATETIME",
    "ZONED_DATE_TIME": "DATETIME",
}
_ALIASES = {
    "BOOL": "BOOLEAN",
    "INT": "INTEGER",
    "STR": "STRING",
    "EDGE": "RELATIONSHIP",
    "REL": "RELATIONSHIP",
    "DICT": "MAP",
    "ZONED DATETIME": "DATETIME",
    "LOCAL DATETIME": "LOCALDATETIME",
    "ZONED TIME": "TIME",
    "LOCAL TIME": "LOCALTIME",
}
_ATOMS = frozenset({
    "ANY", "BOOLEAN", "STRING", "INTEGER", "FLOAT", "NUMBER", "MAP", "NODE", "RELATIONSHIP", "PATH",
    "DATE", "DATETIME", "LOCALDATETIME", "TIME", "LOCALTIME", "DURATION", "POINT", "LIST",
})


@dataclass(frozen=True)
class CypherType:
    """A type in a signature: an atom such as INTEGER, or LIST of an element type."""

    name: str
    element: "CypherType | None" = None

    def text(self, style: str = "neo4j") -> str:
        """`LIST<STRING>` as Neo4j 5 writes it; `LIST OF STRING` for Memgraph's mg.procedures()."""
        if self.name != "LIST" or self.element is None:
            return self.name
        inner = self.element.text(style)
        return f"LIST OF {inner}" if style == "memgraph" else f"LIST<{inner}>"

    def accepts(self, value: Any) -> bool:
        if value is None or self.name == "ANY":
            return True
        kind = kind_of(value)
        if self.name == "LIST":
            return kind == "LIST" and (self.element is None or all(self.element.accepts(item) for item in value))
        if self.name == "NUMBER":
            return kind in ("INTEGER", "FLOAT")
        if self.name == "FLOAT":
            return kind in ("INTEGER", "FLOAT")
        return kind == self.name

    def coerce(self, value: Any) -> Any:
        """The value as this type holds it: an INTEGER becomes a FLOAT where a FLOAT is declared."""
        if self.name == "FLOAT" and type(value) is int:
            return float(value)
        if self.name == "LIST" and self.element is not None and value is not None:
            return [self.element.coerce(item) for item in value]
        return value


ANY = CypherType("ANY")


def kind_of(value: Any) -> str:
    """The Cypher type name of a value, as signatures spell it (NODE, DATETIME, ...)."""
    name = values.type_name(value)
    return _TEMPORAL_NAMES.get(name, name)


def parse_type(text: str) -> CypherType:
    """`INTEGER`, `INTEGER?`, `LIST OF STRING`, `LIST<STRING>`, `LIST? OF ANY?`, `ZONED DATETIME`..."""
    raw = " ".join(text.replace("?", " ").split()).upper()
    if raw.startswith("LIST<") and raw.endswith(">"):
        return CypherType("LIST", parse_type(raw[5:-1]))
    if raw.startswith("LIST OF "):
        return CypherType("LIST", parse_type(raw[8:]))
    raw = _ALIASES.get(raw, raw)
    if raw not in _ATOMS:
        raise CypherSemanticError(f"Unknown type `{text.strip()}` in a signature; known types: {', '.join(sorted(_ATOMS))}.")
    return CypherType(raw)


# ---------------------------------------------------------------- signatures


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True)
class Parameter:
    name: str
    type: CypherType = ANY
    default: Any = NO_DEFAULT
    description: str = ""

    @property
    def required(self) -> bool:
        return self.default is NO_DEFAULT

    def text(self, style: str = "neo4j") -> str:
        if self.required:
            return f"{self.name} :: {self.type.text(style)}"
        return f"{self.name} = {render(self.default, compact=style == 'memgraph')} :: {self.type.text(style)}"


@dataclass(frozen=True)
class Column:
    name: str
    type: CypherType = ANY
    description: str = ""

    def text(self, style: str = "neo4j") -> str:
        return f"{self.name} :: {self.type.text(style)}"


def render(value: Any, compact: bool = False) -> str:
    """A default value as Cypher writes it (`compact`: no spaces, for Memgraph's
    signatures, which gqlalchemy splits at ', ')."""
    sep = "," if compact else ", "
    if value is None:
        return "null"
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + sep.join(render(item, compact) for item in value) + "]"
    if isinstance(value, dict):
        colon = ":" if compact else ": "
        return "{" + sep.join(f"{key}{colon}{render(item, compact)}" for key, item in value.items()) + "}"
    return repr(value)


def _split_top(text: str, separator: str = ",") -> list[str]:
    """`text` cut at the separators outside brackets and quotes."""
    parts, depth, quote, start = [], 0, None, 0
    for index, char in enumerate(text):
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = None
        elif char in "'\"`":
            quote = char
        elif char in "([{<":
            depth += 1
        elif char in ")]}>":
            depth -= 1
        elif char == separator and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return [part.strip() for part in parts if part.strip()]


def _closing(text: str, start: int) -> int:
    """The index of the bracket closing the one at `start`."""
    depth, quote = 0, None
    for index in range(start, len(text)):
        char = text[index]
        if quote:
            if char == quote and text[index - 1] != "\\":
                quote = None
        elif char in "'\"`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index
    raise CypherSemanticError(f"Unbalanced parentheses in the signature `{text}`.")


_NAME = r"(?:`[^`]+`|[A-Za-z_][\w]*)"
_PARAMETER = re.compile(rf"\s*(?P<name>{_NAME})\s*(?:=\s*(?P<before>.+?)\s*)?::\s*(?P<type>[^=]+?)\s*(?:=\s*(?P<after>.+?))?\s*", re.S)
_COLUMN = re.compile(rf"\s*(?P<name>{_NAME})\s*::\s*(?P<type>.+?)\s*", re.S)
_QUALIFIED = re.compile(rf"{_NAME}(?:\.{_NAME})*")


def _unquote(name: str) -> str:
    return name[1:-1] if name.startswith("`") else name


_WORDS = {"null": None, "true": True, "false": False}
_SIMPLE_STRING = re.compile(r"'[^'\\]*'|\"[^\"\\]*\"")
_INTEGER = re.compile(r"-?\d{1,18}")


def _constant(text: str) -> Any:
    """The value of a default written as a Cypher literal (`1`, `'a'`, `{}`,
    `[1, 2]`, `null`). The usual ones (null, true, false, an integer, a string
    without escapes, `{}`, `[]`) are read here rather than by the Cypher
    parser: the built-in procedures' signatures are read when weftdb is
    imported, and the parser's grammar, built at its first use, costs about
    half a second that `weftdb --help` would pay."""
    word = text.strip()
    if word.lower() in _WORDS:
        return _WORDS[word.lower()]
    if _INTEGER.fullmatch(word):
        return int(word)
    if _SIMPLE_STRING.fullmatch(word):
        return word[1:-1]
    if word in ("{}", "[]"):
        return {} if word == "{}" else []
    from weftdb.query import ast
    from weftdb.query.parser import parse

    def value_of(expr):
        if isinstance(expr, ast.Literal):
            return expr.value
        if isinstance(expr, ast.ListLiteral):
            return [value_of(item) for item in expr.items]
        if isinstance(expr, ast.MapLiteral):
            return {key: value_of(item) for key, item in expr.items}
        if isinstance(expr, ast.UnaryOp) and expr.op in "-+":
            number = value_of(expr.operand)
            if isinstance(number, (int, float)) and not isinstance(number, bool):
                return -number if expr.op == "-" else number
        raise CypherSemanticError(f"The default `{text}` is not a literal value.")

    try:
        statement = parse(f"RETURN {text} AS value")
    except Error:
        raise CypherSemanticError(f"The default `{text}` is not a literal value.") from None
    return value_of(statement.clauses[0].projection.items[0].expr)


@dataclass(frozen=True)
class Signature:
    """What a signature text says: the name, the parameters, and either the
    columns (a procedure; none for VOID) or the return type (a function)."""

    name: str
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...] = ()
    returns: CypherType = ANY


def parse_signature(text: str, function: bool = False) -> Signature:
    text = text.strip()
    opening = text.find("(")
    if opening < 0:
        raise CypherSemanticError(f"A signature needs parentheses after the name, as in `ns.name(x :: INTEGER)`; got `{text}`.")
    name = text[:opening].strip()
    if not _QUALIFIED.fullmatch(name):
        raise CypherSemanticError(f"`{name}` is not a procedure or function name (letters, digits, _ and dots).")
    name = ".".join(_unquote(part) for part in re.findall(_NAME, name))
    closing = _closing(text, opening)
    parameters = []
    for part in _split_top(text[opening + 1 : closing]):
        match = _PARAMETER.fullmatch(part)
        if match is None:
            raise CypherSemanticError(f"Cannot read the parameter `{part}` of `{name}`; write it `name :: TYPE` or `name :: TYPE = default`.")
        default_text = match.group("before") or match.group("after")
        default = NO_DEFAULT if default_text is None else _constant(default_text)
        parameters.append(Parameter(_unquote(match.group("name")), parse_type(match.group("type")), default))
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        raise CypherSemanticError(f"`{name}` names a parameter twice.")
    for earlier, later in zip(parameters, parameters[1:]):
        if not earlier.required and later.required:
            raise CypherSemanticError(f"In `{name}`, the parameter `{later.name}` without a default follows one with a default.")
    rest = text[closing + 1 :].strip()
    if rest and not rest.startswith("::"):
        raise CypherSemanticError(f"Expected `::` after the parameters of `{name}`, got `{rest}`.")
    rest = rest[2:].strip()
    if function:
        return Signature(name, tuple(parameters), returns=parse_type(rest) if rest else ANY)
    columns = []
    if rest and rest.upper() != "VOID":
        if not (rest.startswith("(") and rest.endswith(")")):
            raise CypherSemanticError(f"The columns of `{name}` go in parentheses: `:: (name :: TYPE, ...)`.")
        for part in _split_top(rest[1:-1]):
            match = _COLUMN.fullmatch(part)
            if match is None:
                raise CypherSemanticError(f"Cannot read the column `{part}` of `{name}`; write it `name :: TYPE`.")
            columns.append(Column(_unquote(match.group("name")), parse_type(match.group("type"))))
    if len({c.name for c in columns}) != len(columns):
        raise CypherSemanticError(f"`{name}` names a column twice.")
    return Signature(name, tuple(parameters), tuple(columns))


# ---------------------------------------------------------------- procedures and functions


@dataclass(eq=False)
class Procedure:
    """`body(ctx, *arguments)` returns or yields records. `internal` bodies
    (the built-ins) see the executor's values; others see public copies.
    `path` is the file a query module came from; `module` the name it is
    reloaded by. `listed` is False for the statements' own helpers (SHOW
    PROCEDURES is a call of one)."""

    name: str
    parameters: tuple[Parameter, ...]
    columns: tuple[Column, ...]
    body: Callable
    mode: str = "READ"
    description: str = ""
    builtin: bool = False
    internal: bool = False
    listed: bool = True
    path: str = ""
    module: str | None = None

    @property
    def required(self) -> int:
        return sum(p.required for p in self.parameters)

    @property
    def writes(self) -> bool:
        return self.mode == "WRITE"

    def signature(self, style: str = "neo4j") -> str:
        params = ", ".join(p.text(style) for p in self.parameters)
        if not self.columns:
            return f"{self.name}({params}) :: ()" if style == "memgraph" else f"{self.name}({params})"
        return f"{self.name}({params}) :: (" + ", ".join(c.text(style) for c in self.columns) + ")"


@dataclass(eq=False)
class Function:
    """`body(*arguments)`; with `context`, `body(ctx, *arguments)` (Memgraph's FuncCtx)."""

    name: str
    parameters: tuple[Parameter, ...]
    returns: CypherType
    body: Callable
    description: str = ""
    builtin: bool = False
    internal: bool = False
    path: str = ""
    module: str | None = None
    context: bool = False
    category: str = ""

    def signature(self, style: str = "neo4j") -> str:
        params = ", ".join(p.text(style) for p in self.parameters)
        return f"{self.name}({params}) :: {self.returns.text(style)}"


def check_arguments(callable_: Procedure | Function, count: int) -> None:
    """Refuse, before anything runs, a call with too few or too many arguments."""
    total, required = len(callable_.parameters), sum(p.required for p in callable_.parameters)
    if required <= count <= total:
        return
    expected = f"{total}" if required == total else f"{required} to {total}"
    kind = "Procedure" if isinstance(callable_, Procedure) else "Function"
    raise CypherSemanticError(
        f"{kind} call `{callable_.name}` does not take {count} argument{'s' if count != 1 else ''}: "
        f"it takes {expected}, as its signature says: {callable_.signature()}"
    )


def bind_arguments(callable_: Procedure | Function, arguments: list) -> list:
    """The arguments with defaults filled in, checked against and converted to
    their declared types; a wrong type is a CypherTypeError naming the parameter."""
    out = []
    for index, parameter in enumerate(callable_.parameters):
        value = arguments[index] if index < len(arguments) else parameter.default
        if not parameter.type.accepts(value):
            raise CypherTypeError(
                f"The argument `{parameter.name}` of `{callable_.name}` must be {parameter.type.text()}, "
                f"not {kind_of(value)}."
            )
        out.append(parameter.type.coerce(value))
    return out


# ---------------------------------------------------------------- declaring them in Python


@dataclass(frozen=True)
class _Declared:
    kind: str  # "procedure" or "function"
    signature: str
    mode: str = "READ"
    description: str | None = None


def _mode(mode: str) -> str:
    upper = str(mode).upper()
    if upper not in MODES:
        raise ValueError(f"mode must be one of {', '.join(m.lower() for m in MODES)}, not {mode!r}")
    return upper


def procedure(signature: str, *, mode: str = "read", description: str | None = None) -> Callable:
    """Mark `body(ctx, *arguments)` as a procedure; `db.procedures.register`
    (or a query modules file) then makes it callable. `mode`: "read" (the
    default) or "write"; a read procedure that writes is refused."""
    declared = _Declared("procedure", signature, _mode(mode), description)

    def mark(body: Callable) -> Callable:
        body.__weftdb__ = declared  # type: ignore[attr-defined]
        return body

    return mark


def function(signature: str, *, description: str | None = None) -> Callable:
    """Mark `body(*arguments)` as a user function, callable in any expression."""
    declared = _Declared("function", signature, "READ", description)

    def mark(body: Callable) -> Callable:
        body.__weftdb__ = declared  # type: ignore[attr-defined]
        return body

    return mark


def _description(body: Callable, given: str | None) -> str:
    if given is not None:
        return given
    doc = inspect.getdoc(body) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ")


# ---------------------------------------------------------------- the registry


class Registry:
    """Procedures by exact name, functions by name in any case; a name not
    found here is looked up in `parent` (the built-ins)."""

    def __init__(self, parent: "Registry | None" = None):
        self.parent = parent
        self._procedures: dict[str, Procedure] = {}
        self._functions: dict[str, Function] = {}
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self.loader: Any = None  # the query modules loader, for mg.load_all() (modules.py)

    def listen(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every change (the database forgets its plans)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in self._listeners:
            callback()

    # -- registering ---------------------------------------------------------------

    def register(self, body: Callable, signature: str | None = None, *, mode: str | None = None,
                 description: str | None = None, replace_builtin: bool = False) -> Procedure | Function:
        """Register a procedure or function: a body marked by `@weftdb.procedure`
        / `@weftdb.function`, or a procedure given its `signature` here. A name
        registered again replaces the earlier one; a built-in's name is refused
        unless `replace_builtin`."""
        declared = getattr(body, "__weftdb__", None)
        if signature is None:
            if declared is None:
                raise ValueError(f"{getattr(body, '__name__', body)!r} has no signature: mark it with "
                                 "@weftdb.procedure(...) or @weftdb.function(...), or pass the signature")
            signature, kind = declared.signature, declared.kind
            mode = mode or declared.mode
            description = description if description is not None else declared.description
        else:
            kind = "procedure"
        if kind == "function":
            return self.add_function(make_function(body, signature, description=description), replace_builtin)
        made = make_procedure(body, signature, mode=mode or "read", description=description)
        return self.add_procedure(made, replace_builtin)

    def register_function(self, body: Callable, signature: str, *, description: str | None = None) -> Function:
        return self.add_function(make_function(body, signature, description=description))

    def add_procedure(self, proc: Procedure, replace_builtin: bool = False) -> Procedure:
        if self.parent is not None and not replace_builtin and self.parent.find_procedure(proc.name) is not None:
            raise ValueError(f"`{proc.name}` is a built-in procedure; pass replace_builtin=True to replace it")
        with self._lock:
            self._procedures = {**self._procedures, proc.name: proc}
        self._changed()
        return proc

    def add_function(self, fn: Function, replace_builtin: bool = False) -> Function:
        from weftdb.query.functions import FUNCTIONS

        key = fn.name.lower()
        if key in FUNCTIONS or key in _GRAPH_AND_AGGREGATES():
            raise ValueError(f"`{fn.name}` is a function of Cypher itself; choose another name (a namespace such as my.{fn.name})")
        if self.parent is not None and not replace_builtin and self.parent.find_function(fn.name) is not None:
            raise ValueError(f"`{fn.name}` is a built-in function; pass replace_builtin=True to replace it")
        with self._lock:
            self._functions = {**self._functions, key: fn}
        self._changed()
        return fn

    def unregister(self, name: str) -> bool:
        """Remove a procedure or function registered here; False if there was none."""
        with self._lock:
            procedures = {k: v for k, v in self._procedures.items() if k != name}
            functions = {k: v for k, v in self._functions.items() if k != name.lower()}
            removed = len(procedures) != len(self._procedures) or len(functions) != len(self._functions)
            self._procedures, self._functions = procedures, functions
        if removed:
            self._changed()
        return removed

    def replace_module(self, module: str, procedures: Iterable[Procedure], functions: Iterable[Function]) -> None:
        """Swap everything a query module registered for what it registers now, at once."""
        procedures, functions = list(procedures), list(functions)
        for proc in procedures:
            if self.parent is not None and self.parent.find_procedure(proc.name) is not None:
                raise ValueError(f"`{proc.name}` is a built-in procedure")
        with self._lock:
            kept_p = {k: v for k, v in self._procedures.items() if v.module != module}
            kept_f = {k: v for k, v in self._functions.items() if v.module != module}
            for proc in procedures:
                kept_p[proc.name] = proc
            for fn in functions:
                kept_f[fn.name.lower()] = fn
            self._procedures, self._functions = kept_p, kept_f
        self._changed()

    # -- decorators ------------------------------------------------------------------

    def procedure(self, signature: str, *, mode: str = "read", description: str | None = None) -> Callable:
        """`@db.procedure("ns.name(x :: INTEGER) :: (y :: INTEGER)")` registers at once."""
        def decorate(body: Callable) -> Callable:
            self.register(procedure(signature, mode=mode, description=description)(body))
            return body
        return decorate

    def function(self, signature: str, *, description: str | None = None) -> Callable:
        def decorate(body: Callable) -> Callable:
            self.register(function(signature, description=description)(body))
            return body
        return decorate

    # -- looking up --------------------------------------------------------------------

    def find_procedure(self, name: str) -> Procedure | None:
        found = self._procedures.get(name)
        if found is None and self.parent is not None:
            found = self.parent.find_procedure(name)
        return found

    def get_procedure(self, name: str) -> Procedure:
        """The procedure called `name`, or UnknownProcedureError saying so (and
        naming one that differs only in case)."""
        found = self.find_procedure(name)
        if found is not None:
            return found
        near = [p.name for p in self.procedures(listed_only=False) if p.name.lower() == name.lower()]
        hint = f" Did you mean `{near[0]}`? Procedure names are case-sensitive." if near else \
            " SHOW PROCEDURES lists the procedures there are."
        raise UnknownProcedureError(f"There is no procedure with the name `{name}` registered for this database instance.{hint}")

    def find_function(self, name: str) -> Function | None:
        found = self._functions.get(name.lower())
        if found is None and self.parent is not None:
            found = self.parent.find_function(name)
        return found

    def procedures(self, listed_only: bool = True) -> list[Procedure]:
        merged = dict(self.parent._all_procedures()) if self.parent is not None else {}
        merged.update(self._procedures)
        return sorted((p for p in merged.values() if p.listed or not listed_only), key=lambda p: p.name)

    def _all_procedures(self) -> dict[str, Procedure]:
        merged = dict(self.parent._all_procedures()) if self.parent is not None else {}
        merged.update(self._procedures)
        return merged

    def functions(self) -> list[Function]:
        merged = dict(self.parent._all_functions()) if self.parent is not None else {}
        merged.update(self._functions)
        return sorted(merged.values(), key=lambda f: f.name.lower())

    def _all_functions(self) -> dict[str, Function]:
        merged = dict(self.parent._all_functions()) if self.parent is not None else {}
        merged.update(self._functions)
        return merged


def _GRAPH_AND_AGGREGATES() -> frozenset:
    from weftdb.query.aggregates import AGGREGATES

    return AGGREGATES | {"id", "labels", "type", "keys", "properties", "startnode", "endnode", "nodes",
                         "relationships", "length", "size", "exists", "elementid", "count"}


def make_procedure(body: Callable, signature: str, *, mode: str = "read", description: str | None = None,
                   **options: Any) -> Procedure:
    parsed = parse_signature(signature)
    return Procedure(parsed.name, parsed.parameters, parsed.columns, body, _mode(mode),
                     _description(body, description), **options)


def make_function(body: Callable, signature: str, *, description: str | None = None, **options: Any) -> Function:
    parsed = parse_signature(signature, function=True)
    return Function(parsed.name, parsed.parameters, parsed.returns, body, _description(body, description), **options)


BUILTINS = Registry()
"""The procedures and functions every database has; `builtin_procedures` and `apoc` fill it."""


def builtin(signature: str, *, mode: str = "read", description: str = "", listed: bool = True) -> Callable:
    """Register a built-in procedure; its body sees the executor's values."""
    def decorate(body: Callable) -> Callable:
        BUILTINS.add_procedure(make_procedure(body, signature, mode=mode, description=description,
                                              builtin=True, internal=True, listed=listed))
        return body
    return decorate


def builtin_function(signature: str, *, description: str = "", category: str = "") -> Callable:
    """Register a built-in function: `body(ctx, *arguments)` with the executor's context and values."""
    def decorate(body: Callable) -> Callable:
        BUILTINS.add_function(make_function(body, signature, description=description, builtin=True,
                                            internal=True, category=category, context=True))
        return body
    return decorate


# ---------------------------------------------------------------- running them


class ProcedureContext:
    """What a procedure is given as its first argument: the graph as its
    transaction sees it, and the ways to change it. Writes from a procedure
    declared READ are refused. Values are `Node`, `Relationship` and `Path`
    copies; pass them back (as arguments here, or in records) and they stand
    for the graph's own nodes and relationships.

    `tx`, `counters` and `registry` are for the built-in procedures."""

    def __init__(self, ctx: Any, procedure: Procedure | None, registry: Registry | None):
        self._ctx = ctx
        self.tx = ctx.tx
        self.counters = ctx.counters
        self.procedure = procedure
        self.registry = registry

    @property
    def read_only(self) -> bool:
        """Whether this call may not write: a READ procedure, or a read-only transaction."""
        return bool(getattr(self._ctx, "read_only", False)) or (self.procedure is not None and not self.procedure.writes)

    def check(self) -> None:
        """Stop here if the query was cancelled or ran out of time; long procedures call it now and then."""
        self._ctx.check()

    # -- reading -------------------------------------------------------------------

    def execute(self, query: str, parameters: dict | None = None) -> Any:
        """Run a Cypher statement in this procedure's transaction; returns a `Result`."""
        from weftdb.query.executor import plan_statement, run
        from weftdb.query.parser import parse

        statement = parse(query)
        plan = plan_statement(statement, self.tx, self.registry)
        if plan.writes:
            self._writing()
        result = run(plan, self.tx, parameters or {}, interrupt=self._ctx.interrupt, memory=self._ctx.memory,
                     deadline=self._ctx.deadline, read_only=self.read_only)
        for key, count in result.counters.items():
            self.counters[key] += count
        return result

    def rows(self, query: str, parameters: dict | None = None) -> list[tuple]:
        """For built-ins: run a Cypher statement in this transaction and return
        its rows as the executor holds them (live nodes, not copies); its
        updates count in this statement's counters."""
        from weftdb.query.executor import ExecutionContext, plan_statement
        from weftdb.query.parser import parse

        outer = self._ctx
        plan = plan_statement(parse(query), self.tx, self.registry)
        inner = ExecutionContext(self.tx, parameters or {}, plan.nslots, outer.interrupt, outer.deadline,
                                 outer.memory, outer.read_only)
        inner.counters = outer.counters
        slots = plan.column_slots
        return [tuple(row[slot] for slot in slots) for row in plan.root.run(inner, ([None] * plan.nslots,))]

    def nodes(self, label: str | None = None) -> Iterator[Node]:
        tx = self.tx
        source = tx.scan_vertices() if label is None else tx.vertices_with_label(label)
        for vertex in source:
            yield to_public(vertex, tx)

    def relationships(self, type: str | None = None) -> Iterator[Relationship]:
        tx = self.tx
        for edge in tx.scan_edges():
            if type is None or edge.type == type:
                yield to_public(edge, tx)

    def node(self, id: int) -> Node | None:
        vertex = self.tx.vertex_by_id(id)
        return None if vertex is None else to_public(vertex, self.tx)

    # -- writing -------------------------------------------------------------------
    # The public methods take and give `Node` / `Relationship` copies; the
    # underscored ones the executor's own objects (for the built-ins and mgp).

    def _writing(self) -> None:
        if self.procedure is None:
            raise ProcedureError("A function cannot change the graph; write a procedure with mode='write'.")
        if not self.procedure.writes:
            raise ProcedureError(
                f"The procedure `{self.procedure.name}` is declared {self.procedure.mode} and cannot write; "
                "declare it with mode='write'."
            )
        if getattr(self._ctx, "read_only", False):
            from weftdb.basics.errors import AccessModeError

            raise AccessModeError("Writing in read access mode not allowed: this transaction is read-only.")

    def create_node(self, labels: Iterable[str] = (), properties: dict | None = None) -> Node:
        return to_public(self._create_node(labels, properties), self.tx)

    def create_relationship(self, start: Node, type: str, end: Node, properties: dict | None = None) -> Relationship:
        edge = self._create_relationship(to_internal(start, self.tx), type, to_internal(end, self.tx), properties)
        return to_public(edge, self.tx)

    def set_property(self, entity: Node | Relationship, key: str, value: Any) -> None:
        """Set a property; None removes it."""
        self._set_property(to_internal(entity, self.tx), key, value)

    def add_label(self, node: Node, label: str) -> None:
        self._add_label(to_internal(node, self.tx), label)

    def remove_label(self, node: Node, label: str) -> None:
        self._remove_label(to_internal(node, self.tx), label)

    def delete(self, entity: Node | Relationship, detach: bool = False) -> None:
        """Delete a relationship, or a node (with `detach`, its relationships too)."""
        self._delete(to_internal(entity, self.tx), detach)

    def _create_node(self, labels: Iterable[str] = (), properties: dict | None = None) -> Any:
        self._writing()
        labels = tuple(dict.fromkeys(labels))
        props = _storable(properties)
        vertex = self.tx.create_vertex(labels, props)
        self.counters["nodes-created"] += 1
        self.counters["labels-added"] += len(labels)
        self.counters["properties-set"] += len(props)
        return vertex

    def _create_relationship(self, start: Any, type: str, end: Any, properties: dict | None = None) -> Any:
        self._writing()
        if not isinstance(type, str) or not type:
            raise CypherTypeError("A relationship needs a type: a non-empty string.")
        props = _storable(properties)
        edge = self.tx.create_edge(_need_node(start), _need_node(end), type, props)
        self.counters["relationships-created"] += 1
        self.counters["properties-set"] += len(props)
        return edge

    def _set_property(self, entity: Any, key: str, value: Any) -> None:
        from weftdb.query.operators import check_property_value

        self._writing()
        if getattr(entity, "cypher_kind", None) not in ("node", "relationship"):
            raise CypherTypeError(f"Properties can be set on nodes and relationships, not on {kind_of(entity)}.")
        if self.tx.set_property(entity, key, check_property_value(value, key)):
            self.counters["properties-set"] += 1

    def _add_label(self, vertex: Any, label: str) -> None:
        self._writing()
        if self.tx.add_label(_need_node(vertex), label):
            self.counters["labels-added"] += 1

    def _remove_label(self, vertex: Any, label: str) -> None:
        self._writing()
        if self.tx.remove_label(_need_node(vertex), label):
            self.counters["labels-removed"] += 1

    def _delete(self, entity: Any, detach: bool = False) -> None:
        self._writing()
        kind = getattr(entity, "cypher_kind", None)
        if kind == "relationship":
            if self.tx.delete_edge(entity):
                self.counters["relationships-deleted"] += 1
            return
        deleted, edges = self.tx.delete_vertex(_need_node(entity), detach)
        self.counters["nodes-deleted"] += int(deleted)
        self.counters["relationships-deleted"] += edges


def _need_node(value: Any) -> Any:
    if getattr(value, "cypher_kind", None) != "node" or isinstance(value, Node):
        raise CypherTypeError(f"Expected a node of the graph, got {kind_of(value)}.")
    return value


def _storable(properties: dict | None) -> dict:
    from weftdb.query.operators import check_property_value

    if properties is not None and not isinstance(properties, dict):
        raise CypherTypeError(f"Properties must be a map, not {kind_of(properties)}.")
    return {key: check_property_value(value, key) for key, value in (properties or {}).items() if value is not None}


def to_public(value: Any, tx: Any) -> Any:
    """A value as users see it (the executor's own conversion)."""
    from weftdb.query.executor import public

    return public(value, tx)


def to_internal(value: Any, tx: Any) -> Any:
    """A public value back to what the executor holds: a `Node` or
    `Relationship` of the graph becomes the live one (a virtual one, with a
    negative id, stays as it is); lists and maps are converted inside."""
    kind = type(value)
    if kind is Node:
        if value.id < 0:
            return value
        vertex = tx.vertex_by_id(value.id)
        if vertex is None:
            raise EntityNotFound(f"Node {value.id} does not exist (it was deleted, or never committed).")
        return vertex
    if kind is Relationship:
        if value.id < 0:
            return value
        edge = tx.edge_by_id(value.id)
        if edge is None:
            raise EntityNotFound(f"Relationship {value.id} does not exist (it was deleted, or never committed).")
        return edge
    if kind is Path:
        from weftdb.query.expressions import GraphPath

        return GraphPath(tuple(to_internal(n, tx) for n in value.nodes), tuple(to_internal(r, tx) for r in value.relationships))
    if kind is list or kind is tuple:
        return [to_internal(item, tx) for item in value]
    if kind is dict:
        return {key: to_internal(item, tx) for key, item in value.items()}
    return value


def failure(name: str, error: BaseException, kind: str = "procedure") -> ProcedureError:
    """What a user procedure's own exception becomes for the client."""
    return ProcedureError(f"Failed to invoke {kind} `{name}`: Caused by: {type(error).__name__}: {error}")


def records(proc: Procedure, result: Any) -> Iterator[tuple]:
    """The rows of what a procedure body returned: an iterable of dicts,
    tuples or objects with `fields` (Memgraph's mgp.Record), a single one of
    those, or None. Each becomes a tuple in column order."""
    if result is None:
        return
    if isinstance(result, dict) or hasattr(result, "fields") or (isinstance(result, tuple) and not proc.columns):
        result = (result,)
    columns = proc.columns
    names = [c.name for c in columns]
    for record in result:
        if hasattr(record, "fields") and not isinstance(record, dict):
            record = record.fields
        if isinstance(record, dict):
            unknown = set(record) - set(names)
            if unknown:
                raise ProcedureError(f"The procedure `{proc.name}` returned the column `{sorted(unknown)[0]}`, "
                                     f"which its signature does not declare: {proc.signature()}")
            row = tuple(record.get(name) for name in names)
        elif isinstance(record, (tuple, list)):
            if len(record) != len(names):
                raise ProcedureError(f"The procedure `{proc.name}` returned a record of {len(record)} values "
                                     f"for its {len(names)} columns: {proc.signature()}")
            row = tuple(record)
        else:
            if len(names) != 1:
                raise ProcedureError(f"The procedure `{proc.name}` returned {type(record).__name__}, not a record "
                                     "(a dict by column name, or a tuple in column order).")
            row = (record,)
        yield row


def check_columns(proc: Procedure, row: tuple) -> tuple:
    """A row of a user procedure with each value of its declared column type."""
    out = []
    for column, value in zip(proc.columns, row):
        if not column.type.accepts(value):
            raise ProcedureError(f"The procedure `{proc.name}` returned {kind_of(value)} in the column "
                                 f"`{column.name}`, declared {column.type.text()}.")
        out.append(column.type.coerce(value))
    return tuple(out)


__all__ = [
    "ANY", "BUILTINS", "Column", "CypherType", "Function", "MODES", "NO_DEFAULT", "Parameter", "Procedure",
    "ProcedureContext", "Registry", "Signature", "bind_arguments", "builtin", "builtin_function",
    "check_arguments", "function", "make_function", "make_procedure", "parse_signature", "parse_type",
    "procedure", "records",
]

"""Query modules: Python files whose procedures and functions a database
registers when it opens, as Memgraph's query modules.

`--query-modules-directory` (embedded: `query_modules_directory`) names one
or more directories, comma-separated. Each `*.py` file there (not those
starting with `_`) is a module named after the file. It declares what it
offers in either of two ways:

    import weftdb

    @weftdb.procedure("hello(name :: STRING) :: (greeting :: STRING)")
    def hello(ctx, name):
        yield {"greeting": f"Hello, {name}!"}

    import mgp                         # Memgraph's API (weftdb/query/mgp.py)

    @mgp.read_proc
    def hello(ctx: mgp.ProcCtx, name: str) -> mgp.Record(greeting=str):
        return mgp.Record(greeting=f"Hello, {name}!")

Both are called as `CALL <file name>.hello('Ann')`; a signature that names a
namespace of its own (`greet.hello(...)`) keeps it. `CALL mg.load_all()`
loads every file again (new, changed and removed ones); `CALL
mg.load('name')` one. A file that fails to load is reported (a warning at
start, a ProcedureError from mg.load) and what it registered before stays.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import threading
from pathlib import Path
from types import ModuleType

from weftdb.basics.config import ConfigError
from weftdb.basics.errors import ProcedureError
from weftdb.query.procedures import Function, Procedure, Registry, make_function, make_procedure, parse_signature

log = logging.getLogger("weftdb.modules")

_PACKAGE = "weftdb_query_modules"  # the name modules are imported under: weftdb_query_modules.<file name>


class ModuleProblem(Exception):
    """A query module that could not be loaded; the message names its file."""


class Loader:
    """Loads the modules of some directories into a registry, and again on request."""

    def __init__(self, registry: Registry, directories: list[Path]):
        self.registry = registry
        self.directories = directories
        self.loaded: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def start(cls, registry: Registry, setting: str) -> "Loader | None":
        """The loader of `--query-modules-directory`, with every module loaded
        (a module that fails is a warning), or None when the flag is empty."""
        directories = [Path(part.strip()).expanduser() for part in (setting or "").split(",") if part.strip()]
        if not directories:
            return None
        for directory in directories:
            if not directory.is_dir():
                raise ConfigError(f"--query-modules-directory={setting}: {directory} is not a directory.")
        loader = cls(registry, directories)
        loader.load_all(strict=False)
        return loader

    def files(self) -> dict[str, Path]:
        """Module name -> file; the first directory listed wins a name."""
        found: dict[str, Path] = {}
        for directory in self.directories:
            for path in sorted(directory.glob("*.py")):
                if not path.name.startswith("_"):
                    found.setdefault(path.stem, path)
        return found

    def load_all(self, strict: bool = True) -> None:
        """Load every module again and forget those whose file is gone. With
        `strict`, problems end in one ProcedureError (after the good ones
        loaded); else each is logged."""
        with self._lock:
            present = self.files()
            for name in sorted(self.loaded - set(present)):
                self.registry.replace_module(name, [], [])
                self.loaded.discard(name)
                sys.modules.pop(f"{_PACKAGE}.{name}", None)
            problems = []
            for name, path in present.items():
                try:
                    self._load(name, path)
                except ModuleProblem as problem:
                    problems.append(str(problem))
        for problem in problems:
            log.warning("query module not loaded: %s", problem)
        if problems and strict:
            raise ProcedureError("Some query modules could not be loaded: " + "; ".join(problems))

    def load(self, name: str) -> None:
        """Load the module `name` again (a ProcedureError says why it could not be)."""
        with self._lock:
            path = self.files().get(name)
            if path is None:
                where = ", ".join(str(d) for d in self.directories)
                raise ProcedureError(f"There is no query module `{name}` ({name}.py) in {where}.")
            try:
                self._load(name, path)
            except ModuleProblem as problem:
                raise ProcedureError(f"The query module `{name}` could not be loaded: {problem}") from None

    def _load(self, name: str, path: Path) -> None:
        module = _execute(name, path)
        procedures, functions = collect(module, name, path)
        try:
            self.registry.replace_module(name, procedures, functions)
        except ValueError as error:
            raise ModuleProblem(f"{path}: {error}") from None
        self.loaded.add(name)


def _execute(name: str, path: Path) -> ModuleType:
    from weftdb.query import mgp

    module_name = f"{_PACKAGE}.{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ModuleProblem(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules["mgp"] = mgp  # `import mgp` in a module is this API, even where Memgraph's stub package is installed
    previous = sys.modules.get(module_name)
    sys.modules[module_name] = module  # dataclasses and pickling look modules up there
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as error:
        if previous is not None:
            sys.modules[module_name] = previous
        else:
            sys.modules.pop(module_name, None)
        raise ModuleProblem(f"{path}: {type(error).__name__}: {error}") from None
    return module


def collect(module: ModuleType, name: str, path: Path) -> tuple[list[Procedure], list[Function]]:
    """What a module declares: functions marked by @weftdb.procedure /
    @weftdb.function, and by mgp's @read_proc, @write_proc and @function."""
    from weftdb.query import mgp

    procedures: list[Procedure] = []
    functions: list[Function] = []
    for value in list(vars(module).values()):
        if getattr(value, "__module__", None) != module.__name__:
            continue  # imported from elsewhere
        try:
            declared = getattr(value, "__weftdb__", None)
            if declared is not None:
                signature = _namespaced(declared.signature, name, declared.kind == "function")
                options = {"description": declared.description, "path": str(path), "module": name}
                if declared.kind == "function":
                    functions.append(make_function(value, signature, **options))
                else:
                    procedures.append(make_procedure(value, signature, mode=declared.mode, **options))
            made = mgp.declared(value, name, str(path))
            if isinstance(made, Procedure):
                procedures.append(made)
            elif isinstance(made, Function):
                functions.append(made)
        except (Exception, SystemExit) as error:
            raise ModuleProblem(f"{path}: {getattr(value, '__name__', value)}: {type(error).__name__}: {error}") from None
    return procedures, functions


def _namespaced(signature: str, module: str, function: bool) -> str:
    """A signature whose name has no namespace gets the module's (`hello(...)` -> `greet.hello(...)`)."""
    if "." in parse_signature(signature, function).name:
        return signature
    return f"{module}.{signature.strip()}"

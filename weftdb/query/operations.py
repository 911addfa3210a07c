"""The statements operators type to look at a running database: SHOW VERSION,
SHOW BUILD INFO, SHOW CONFIG, SHOW STORAGE INFO, SHOW DATABASE(S), SHOW
TRANSACTIONS, TERMINATE TRANSACTIONS, SHOW TRIGGERS and SHOW STREAMS.

Each answers with Memgraph's columns (and Neo4j's where a Neo4j statement
has the same words: SHOW DATABASES, SHOW TRANSACTIONS 'id', TERMINATE
TRANSACTIONS with Neo4j's ids). None of them touches the data of the
transaction it runs in, so they run in any transaction. They are handlers of
`admin.HANDLERS`, given the same `Parts`; who asks comes from the
transaction registry (`running.current`).
"""

from __future__ import annotations

import datetime as dt
import platform
import re
import resource
import sys
import time
from typing import TYPE_CHECKING, Any, Callable

from weftdb.basics import identity, storage_modes
from weftdb.basics.config import FLAGS, Config
from weftdb.basics.errors import ClientError
from weftdb.basics.temporal import DateTime, Duration
from weftdb.query import ast, running
from weftdb.query.limits import MemoryLimits, resident_bytes
from weftdb.query.procedures import ProcedureContext, builtin
from weftdb.query.results import Result

if TYPE_CHECKING:
    from weftdb.query.admin import Parts

INFO = "s"  # Bolt's query type for these statements

# -- who the database is ---------------------------------------------------------------------


def _show_version(parts: Parts, statement, params) -> Result:
    return Result(["version"], [(identity.VERSION,)], INFO)


def _show_build_info(parts: Parts, statement, params) -> Result:
    """Memgraph's one row (`build_type`), then WeftDB's: its version and the Python it runs on."""
    python = f"{platform.python_implementation()} {platform.python_version()}"
    rows = [("build_type", "Release"), ("version", identity.VERSION), ("python", python)]
    return Result(["build info", "value"], rows, INFO)


def _config_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _show_config(parts: Parts, statement, params) -> Result:
    """Every flag, as Memgraph lists its flags: the name with underscores, the
    default and current values as text, and what the flag does."""
    config = parts.config or Config.load({}, environ={})
    rows = [(flag.attr, _config_text(flag.default), _config_text(getattr(config, flag.attr)), flag.help)
            for flag in FLAGS]
    return Result(["name", "default_value", "current_value", "description"], rows, INFO)


# -- storage -------------------------------------------------------------------------------------


def readable_size(size: float) -> str:
    """Bytes as Memgraph writes them in SHOW STORAGE INFO: `43.16MiB`."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{size:.2f}{unit}"
        size /= 1024
    return f"{size:.2f}TiB"


def _vm_max_map_count() -> int:
    try:
        with open("/proc/sys/vm/max_map_count") as handle:
            return int(handle.read())
    except (OSError, ValueError):
        return -1


def _peak_resident_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux counts KiB, macOS bytes


def _show_storage_info(parts: Parts, statement, params) -> Result:
    """Memgraph's rows in Memgraph's order, then WeftDB's own (the commit
    timestamp and the data directory's files)."""
    storage = parts.storage
    vertices, edges = storage.counts()
    info = parts.durability.info() if parts.durability is not None else {}
    config = parts.config or Config.load({}, environ={})
    limit = MemoryLimits.of(config.memory_limit, config.query_memory_limit).process
    rss = resident_bytes()
    # What a transaction sees of others (docs/storage-modes.md): in place, their uncommitted writes.
    isolation = "READ_UNCOMMITTED" if storage.mode == storage_modes.ANALYTICAL else "SNAPSHOT_ISOLATION"
    rows = [
        ("name", parts.running.database if parts.running is not None else identity.DATABASE),
        ("vertex_count", vertices),
        ("edge_count", edges),
        ("average_degree", round(2 * edges / vertices, 3) if vertices else 0.0),
        ("vm_max_map_count", _vm_max_map_count()),
        ("memory_res", readable_size(rss)),
        ("peak_memory_res", readable_size(max(rss, _peak_resident_bytes()))),
        ("unreleased_delta_objects", storage.unreleased_deltas()),
        ("disk_usage", readable_size(info.get("disk_usage", 0))),
        ("memory_tracked", readable_size(rss)),  # Python tracks no allocations of its own: the resident size
        ("allocation_limit", readable_size(limit) if limit else "unlimited"),
        ("global_isolation_level", isolation),
        ("session_isolation_level", isolation),
        ("next_session_isolation_level", isolation),
        ("storage_mode", storage.mode),
        ("last_commit_timestamp", storage.last_commit_ts),
    ]
    rows += [(key, value) for key, value in info.items() if key != "disk_usage"]
    if parts.durability is not None:
        rows.append(("data_directory", parts.durability.data_dir))
    return Result(["storage info", "value"], rows, INFO)


# -- databases -----------------------------------------------------------------------------------

# Neo4j's columns of SHOW DATABASES (a query: parser.py calls weftdb.listing.databases).
DATABASE_COLUMNS = ["name", "type", "aliases", "access", "address", "role", "writer", "requestedStatus",
                    "currentStatus", "statusMessage", "default", "home", "constituents"]


@builtin("weftdb.listing.databases(name :: STRING?, which :: STRING) :: (name :: STRING, type :: STRING, "
         "aliases :: LIST<STRING>, access :: STRING, address :: STRING, role :: STRING, writer :: BOOLEAN, "
         "requestedStatus :: STRING, currentStatus :: STRING, statusMessage :: STRING, default :: BOOLEAN, "
         "home :: BOOLEAN, constituents :: LIST<STRING>)", listed=False,
         description="The rows of SHOW DATABASES (Neo4j's).")
def listing_databases(ctx: ProcedureContext, name: str | None, which: str) -> Any:
    registry = running.current_entry().registry
    if name is not None and identity.is_default(name):
        name = identity.DATABASE
    caller = running.current_client()
    for row in registry.databases.rows(registry.address, None if caller.embedded else caller.user or None):
        if row[which] if which != "all" else name is None or row["name"] == name.lower():
            yield tuple(row[c] for c in DATABASE_COLUMNS)


def _show_database(parts: Parts, statement, params) -> Result:
    """Memgraph's SHOW DATABASE: the database this session uses."""
    return Result(["Current"], [(_registry(parts).database,)], INFO)


# -- transactions --------------------------------------------------------------------------------

# Neo4j's default columns of SHOW TRANSACTIONS; YIELD * adds metaData, protocol and the current query's times.
NEO4J_TRANSACTION_COLUMNS = ["database", "transactionId", "currentQueryId", "connectionId", "clientAddress",
                             "username", "currentQuery", "startTime", "status", "elapsedTime"]
_NEO4J_ID = re.compile(r"^(?P<db>[A-Za-z0-9._-]+)-transaction-(?P<n>[0-9]+)$")
_STATES = {"running": "running", "committing": "committing", "aborting": "terminating"}


def _caller(parts: Parts) -> tuple[running.Client, bool]:
    return running.current_client(), parts.users.has_users


def _neo4j_id(entry: running.Entry) -> str:
    return f"{entry.registry.database}-transaction-{entry.id}"


def _show_transactions(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    """Memgraph's SHOW [RUNNING | COMMITTING | ABORTING] TRANSACTIONS; with
    ids (`SHOW TRANSACTIONS 'weftdb-transaction-3'`), Neo4j's."""
    registry = _registry(parts)
    caller, users = _caller(parts)
    entries = registry.visible_to(caller, users)
    ids = statement.arg("ids")
    if ids is not None:
        wanted = {_number(text, registry) for text in _ids(statement, params)}
        rows = [_neo4j_row(e)[:len(NEO4J_TRANSACTION_COLUMNS)] for e in entries if e.id in wanted]
        return Result(NEO4J_TRANSACTION_COLUMNS, rows, INFO)
    states = statement.arg("states")
    if states:
        entries = [e for e in entries if e.status in {_STATES[s] for s in states}]
    rows = [(e.client.user, e.transaction_id, list(e.queries), dict(e.client.metadata)) for e in entries]
    return Result(["username", "transaction_id", "query", "metadata"], rows, INFO)


_NEO4J_STATUS = {"running": "Running", "idle": "Idle", "committing": "Committing", "terminating": "Terminated"}


def _duration(seconds: float) -> Duration:
    whole = int(seconds)
    return Duration(0, 0, whole, int((seconds - whole) * 1e9))


def _instant(monotonic: float) -> DateTime:
    """A time.monotonic() value as the UTC DateTime it was."""
    wall = time.time() - (time.monotonic() - monotonic)
    return DateTime.from_native(dt.datetime.fromtimestamp(wall, dt.timezone.utc))


def _neo4j_row(entry: running.Entry) -> tuple:
    """Every column of Neo4j's SHOW TRANSACTIONS that WeftDB knows, the default ones first."""
    now = time.monotonic()
    current = entry.current
    client = entry.client
    return (entry.registry.database, _neo4j_id(entry), f"query-{entry.id}" if current is not None else "",
            client.connection, client.address, client.user, current or "", _instant(entry.started_monotonic),
            _NEO4J_STATUS[entry.status], _duration(now - entry.started_monotonic),
            dict(client.metadata), "embedded" if client.embedded else "bolt",
            _instant(entry.current_started) if current is not None else None,
            _duration(now - entry.current_started) if current is not None else None)


@builtin("weftdb.listing.transactions(ids :: LIST<ANY>) :: (database :: STRING, transactionId :: STRING, "
         "currentQueryId :: STRING, connectionId :: STRING, clientAddress :: STRING, username :: STRING, "
         "currentQuery :: STRING, startTime :: DATETIME, status :: STRING, elapsedTime :: DURATION, "
         "metaData :: MAP, protocol :: STRING, currentQueryStartTime :: DATETIME?, "
         "currentQueryElapsedTime :: DURATION?)", listed=False,
         description="The rows of SHOW TRANSACTIONS with YIELD or WHERE (Neo4j's).")
def listing_transactions(ctx: ProcedureContext, ids: list) -> Any:
    asking = running.current_entry()
    registry = asking.registry
    wanted = {_number(text, registry) for text in _flatten(ids)}
    for entry in registry.visible_to(asking.client, registry.users_defined()):
        if not wanted or entry.id in wanted:
            yield _neo4j_row(entry)


def _flatten(values: list) -> list:
    """Ids written one by one or as lists (`SHOW TRANSACTIONS $ids`)."""
    out = []
    for value in values or ():
        out.extend(value if isinstance(value, list) else [value])
    return out


def _number(value: Any, registry: running.Running) -> int | None:
    """The transaction a TERMINATE or SHOW names: Memgraph's '7' or Neo4j's
    'neo4j-transaction-7'; None for Neo4j's form naming another database,
    whose transactions this one does not hold (so none is found)."""
    text = value
    if not isinstance(text, str):
        raise ClientError(f"A transaction id is a string such as '7' or '{identity.DATABASE}-transaction-7', "
                          f"not {text!r}.")
    match = _NEO4J_ID.match(text)
    if match is not None:
        named = match.group("db").lower()
        here = named == registry.database or (identity.is_default(named) and registry.database == identity.DATABASE)
        return int(match.group("n")) if here else None
    if text.isascii() and text.isdigit():
        return int(text)
    raise ClientError(f"{text!r} is not a transaction id; SHOW TRANSACTIONS lists them "
                      f"('7', or Neo4j's form '{identity.DATABASE}-transaction-7').")


def _ids(statement: ast.AdminStatement, params: dict[str, Any]) -> list:
    """The ids written (strings) or given as parameters (a string or a list of them)."""
    values = []
    for item in statement.arg("ids"):
        if isinstance(item, ast.Parameter):
            if item.name not in params:
                raise ClientError(f"Expected parameter ${item.name} for the transaction ids, which was not given.")
            value = params[item.name]
            values.extend(value if isinstance(value, list) else [value])
        else:
            values.append(item)
    return values


def _terminate_transactions(parts: Parts, statement: ast.AdminStatement, params) -> Result:
    """Memgraph's answer (transaction_id, killed), or Neo4j's (transactionId,
    username, message) when the ids are written Neo4j's way."""
    registry = _registry(parts)
    caller, users = _caller(parts)
    texts = _ids(statement, params)
    numbers = [_number(text, registry) for text in texts]
    outcome = registry.terminate(numbers, caller, users)
    if any(isinstance(text, str) and _NEO4J_ID.match(text) for text in texts):
        rows = [(text, entry.client.user if entry is not None else None,
                 "Transaction terminated." if killed else
                 ("Transaction not found." if entry is None else "Transaction is committing or ended already."))
                for text, (_, entry, killed) in zip(texts, outcome)]
        return Result(["transactionId", "username", "message"], rows, INFO)
    return Result(["transaction_id", "killed"], [(str(number), killed) for number, _, killed in outcome], INFO)


def _registry(parts: Parts) -> running.Running:
    if parts.running is None:
        raise ClientError("This database keeps no registry of its transactions.")
    return parts.running


# -- what WeftDB does not have yet -----------------------------------------------------------------


def _show_triggers(parts: Parts, statement, params) -> Result:
    """Memgraph's columns; WeftDB has no triggers yet, so no rows."""
    return Result(["trigger name", "statement", "privilege context", "event type", "phase", "owner"], [], INFO)


def _show_streams(parts: Parts, statement, params) -> Result:
    """Memgraph's columns; WeftDB has no streams yet, so no rows."""
    return Result(["name", "type", "batch_interval", "batch_size", "transformation_name", "owner", "is running"],
                  [], INFO)


HANDLERS: dict[str, Callable[[Any, Any, dict[str, Any]], Result]] = {
    "show_version": _show_version,
    "show_build_info": _show_build_info,
    "show_config": _show_config,
    "show_storage_info": _show_storage_info,
    "show_database": _show_database,
    "show_transactions": _show_transactions,
    "terminate_transactions": _terminate_transactions,
    "show_triggers": _show_triggers,
    "show_streams": _show_streams,
}

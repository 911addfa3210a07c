"""One Config for the whole database.

Every setting is a flag declared once in `FLAGS`, with the name Memgraph uses
where Memgraph has one. A value can come from (lowest to highest precedence):
the default, a flag file (`--flag-file`, one `--name=value` a line, `#`
comments), an environment variable (`WEFTDB_` + the name upper-cased with
underscores, e.g. `WEFTDB_STORAGE_WAL_ENABLED=false`), and finally keyword
arguments of `weftdb.open` or command-line options.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from weftdb.basics import identity, storage_modes
from weftdb.basics.affinity import parse as _parse_cpu_affinity
from weftdb.basics.errors import ClientError


class ConfigError(ClientError):
    """A flag is unknown or its value does not parse."""


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


@dataclass(frozen=True)
class Flag:
    name: str  # with dashes, as on the command line
    type: Callable[[str], Any]
    default: Any
    help: str
    aliases: tuple[str, ...] = ()
    metavar: str = ""  # what --help shows for the value; by default named after `type`
    minimum: float | None = None  # numbers: the range a value must be in
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # text: the values allowed (compared without case)

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")

    @property
    def range_text(self) -> str:
        """The values allowed, as docs/configuration.md and errors say them."""
        if self.choices:
            return ", ".join(self.choices)
        if self.minimum is not None and self.maximum is not None:
            return f"{_number(self.minimum)} to {_number(self.maximum)}"
        if self.minimum is not None:
            return f"at least {_number(self.minimum)}"
        return ""

    def check(self, value: Any) -> Any:
        """`value` if it is in range, else ValueError saying what is allowed."""
        if self.choices:
            if value == self.default:  # "" where unset means "as before" (--storage-mode)
                return value
            if str(value).upper() not in self.choices:
                raise ValueError(f"expected one of {self.range_text}, got {value!r}")
            return str(value).upper()
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        low, high = self.minimum, self.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise ValueError(f"must be {self.range_text}, not {_number(value)}")
        return value


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


PORT = {"minimum": 0, "maximum": 65535}


FLAGS: tuple[Flag, ...] = (
    Flag("data-directory", str, "./data", "Directory holding the WAL, snapshots and users."),
    Flag("storage-wal-enabled", _parse_bool, True, "Write every committed transaction to the write-ahead log."),
    Flag("storage-wal-file-size-kib", int, 20480, "Rotate a WAL segment once it reaches this size.", minimum=1, maximum=1048576),
    Flag(
        "storage-wal-file-flush-every-n-tx",
        int,
        1,
        "fsync the WAL every N commits. 1 (default) means a commit returns only once it is on disk; "
        "larger values trade the last N-1 acknowledged transactions for speed.",
        minimum=1,
    ),
    Flag("storage-snapshot-interval-sec", int, 300, "Seconds between periodic snapshots; 0 turns them off.", minimum=0),
    Flag("storage-snapshot-on-exit", _parse_bool, True, "Write a snapshot when the database closes."),
    Flag("storage-snapshot-retention-count", int, 3, "How many snapshots to keep.", minimum=1),
    Flag(
        "storage-snapshot-fork",
        _parse_bool,
        True,
        "Write in-memory snapshots (and online full backups) from a forked child process, so commits keep their "
        "latency; the child may use up to the graph's memory again while it writes. false writes them from a "
        "thread of the server. Ignored where the system has no fork().",
    ),
    Flag("storage-items-per-batch", int, 1_000_000, "Vertices or edges per snapshot batch.", minimum=1),
    Flag("storage-recovery-thread-count", int, 1, "Threads decoding snapshot batches during recovery.", minimum=1, maximum=256),
    Flag(
        "storage-recover-on-startup",
        _parse_bool,
        True,
        "Recover the data in the data directory at startup.",
        aliases=("data-recovery-on-startup",),
    ),
    Flag(
        "storage-mode",
        str,
        "",
        "The storage mode to start in: IN_MEMORY_TRANSACTIONAL, IN_MEMORY_ANALYTICAL (no WAL, writes in place) or "
        "ON_DISK_TRANSACTIONAL (the graph in RocksDB, for graphs larger than memory; an empty directory only; "
        "docs/storage-modes.md). Unset: the mode the data directory was left in, IN_MEMORY_TRANSACTIONAL for a new one.",
        choices=storage_modes.ALL,
    ),
    Flag(
        "storage-on-disk-memory-mb",
        int,
        256,
        "ON_DISK_TRANSACTIONAL: the memory RocksDB may hold, in MiB: its block cache, which its write buffers "
        "are charged to. Transactions hold what they read and write on top of it.",
        minimum=16,
    ),
    Flag(
        "max-databases",
        int,
        128,
        "How many databases one data directory may hold, the default one included (CREATE DATABASE beyond it "
        "is refused; docs/databases.md).",
        minimum=1,
    ),
    Flag("storage-gc-cycle-sec", int, 30, "Accepted for Memgraph flag files; WeftDB collects old versions at every commit, so it has no effect.", minimum=0),
    Flag(
        "cpu-affinity",
        _parse_cpu_affinity,
        "none",
        "CPUs for the threads that run statements: none (leave them to the OS), auto (one CPU, the one "
        "completing the data disk's I/O) or a list like 0,2-3. Pinned threads hand off the GIL without "
        "waking another CPU; docs/configuration.md says when that pays.",
        metavar="CPUS",
    ),
    Flag("query-execution-timeout-sec", float, 600.0, "Stop a query that runs longer than this; 0 means no limit.", minimum=0),
    Flag("query-plan-cache-size", int, 1000, "Parsed statements kept by query text.", minimum=0),
    Flag(
        "analytics-image",
        str,
        "AUTO",
        "Reads of the shapes docs/analytics.md lists (counts, groups, top-k over a label or a short pattern) run "
        "on a columnar image of the graph: AUTO (not a statement an index seek answers, not in ON_DISK_TRANSACTIONAL; "
        "after writes the image is rebuilt when the statement would read about as much), ALWAYS (every such "
        "statement), NEVER.",
        choices=("AUTO", "ALWAYS", "NEVER"),
    ),
    Flag("query-modules-directory", str, "", "Directories (comma-separated) whose Python files register procedures "
         "and functions at start, reloaded by CALL mg.load_all(); none by default.", metavar="DIRS"),
    Flag("memory-limit", int, 0, "MiB of memory the whole process may hold; a query that finds it over is stopped. "
         "0 means 90% of the physical memory.", minimum=0),
    Flag("query-memory-limit", int, 0, "MiB one query may grow the process by before it is stopped; 0 means no limit.",
         minimum=0),
    Flag("import-directory", str, "./import", "The one directory LOAD CSV reads files from: a relative path or a "
         "file:/// URL is taken inside it, a file outside it (symbolic links resolved) is refused; a relative "
         "directory is taken from where the database opens. Empty turns LOAD CSV off.", metavar="DIR"),
    Flag("bolt-address", str, "127.0.0.1", "Address the Bolt server listens on."),
    Flag("bolt-port", int, 7687, "Port the Bolt server listens on; 0 takes any free port.", **PORT),
    Flag("bolt-cert-file", str, "", "TLS certificate (PEM) for Bolt; with --bolt-key-file turns TLS on."),
    Flag("bolt-key-file", str, "", "TLS private key (PEM) for Bolt."),
    Flag("bolt-session-inactivity-timeout", int, 1800, "Close a Bolt connection idle for this many seconds; 0 never does.", minimum=0),
    Flag("bolt-num-workers", int, 0, "Threads running queries for Bolt clients; 0 means 4 per CPU, at least 16.", minimum=0),
    Flag("bolt-max-connections", int, 1000, "Refuse Bolt connections beyond this many.", minimum=1),
    Flag("bolt-max-message-size-kib", int, 16384, "Refuse a larger Bolt message: a FAILURE, then the connection closes.", minimum=1, maximum=1048576),
    Flag(
        "bolt-max-buffered-mib",
        int,
        256,
        "Bytes of unfinished messages all Bolt connections may hold together; a connection whose message "
        "would go beyond is refused (a FAILURE, then it closes), not queued.",
        minimum=1,
        maximum=1048576,
    ),
    Flag(
        "bolt-handshake-timeout-sec",
        int,
        5,
        "Close a new Bolt connection that has not finished its (TLS and) Bolt handshake in this many seconds.",
        minimum=1,
        maximum=3600,
    ),
    Flag(
        "bolt-auth-timeout-sec",
        int,
        10,
        "Close a Bolt connection that has not logged in this many seconds after it opened (or logged off).",
        minimum=1,
        maximum=3600,
    ),
    Flag(
        "bolt-min-message-rate-kib",
        int,
        1,
        "KiB per second a Bolt message must arrive at, once it has taken 10 s; a connection sending slower is "
        "closed. 0 turns the check off.",
        minimum=0,
        maximum=1048576,
    ),
    Flag("bolt-shutdown-grace-sec", float, 10.0, "On SIGTERM, wait this long for running work before rolling it back.", minimum=0),
    Flag(
        "bolt-server-name-for-init",
        str,
        identity.SERVER_AGENT,
        "The server agent a Bolt client is told at login (HELLO). The neo4j drivers refuse one that does not "
        "start with Neo4j/.",
    ),
    Flag("backup-enabled", _parse_bool, True, "Run the online backup service (weftdb backup --from HOST:PORT)."),
    Flag("backup-port", int, 6362, "Port of the online backup service, on --bolt-address; 0 takes any free port.", **PORT),
    Flag("log-level", str, "WARNING", "How much to log.", choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")),
    Flag("log-file", str, "", "Append the log to this file instead of standard error."),
)

_BY_NAME: dict[str, Flag] = {}
for _flag in FLAGS:
    _BY_NAME[_flag.attr] = _flag
    for _alias in _flag.aliases:
        _BY_NAME[_alias.replace("-", "_")] = _flag


def lookup(name: str) -> Flag:
    """The flag called `name` (dashes or underscores, with or without leading `--`)."""
    key = name.lstrip("-").replace("-", "_")
    try:
        return _BY_NAME[key]
    except KeyError:
        raise ConfigError(f"unknown flag --{name.lstrip('-')}; `weftdb serve --help` lists the flags") from None


def _convert(flag: Flag, value: Any, source: str) -> Any:
    """The flag's value from text or a Python value, checked against its range."""
    try:
        return flag.check(_parse(flag, value))
    except ValueError as exc:
        where = f" (from {source})" if source else ""
        raise ConfigError(f"--{flag.name}={_shown(value)}{where}: {exc}") from None


def _shown(value: Any) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _parse(flag: Flag, value: Any) -> Any:
    if isinstance(value, str) and flag.type is not str:
        return flag.type(value)
    if flag.type not in (str, int, float, _parse_bool):  # a parser of its own: it takes the text
        return flag.type(str(value))
    if flag.type is _parse_bool and not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    if flag.type in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise ValueError(f"expected a number, got {value!r}")
    if flag.type is int and isinstance(value, float) and not value.is_integer():
        raise ValueError(f"expected a whole number, got {value!r}")
    return flag.type(value) if flag.type in (int, float) else value


def read_flag_file(path: str) -> dict[str, str]:
    """Parse a flag file: one `--name=value` a line, blank lines and `#` comments ignored."""
    values: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.readlines()
    except OSError as exc:
        raise ConfigError(f"cannot read flag file {path}: {exc.strerror}") from None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("--") or "=" not in line:
            raise ConfigError(f"{path}:{number}: expected --name=value, got {line!r}")
        name, _, value = line[2:].partition("=")
        values[lookup(name).attr] = value
    return values


class Config:
    """The resolved value of every flag, as attributes with underscores:
    `config.storage_wal_enabled`."""

    def __init__(self, values: Mapping[str, Any]):
        self._values = dict(values)
        self.__dict__.update(self._values)  # plain attributes: some are read on every statement

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        *,
        flag_file: str | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> "Config":
        """Resolve every flag: defaults < flag file < WEFTDB_* env vars < overrides.

        `overrides` keys may use dashes or underscores; a value of None means
        "not given" (so unset command-line options fall through)."""
        values = {flag.attr: flag.default for flag in FLAGS}
        if flag_file:
            for attr, text in read_flag_file(flag_file).items():
                values[attr] = _convert(_BY_NAME[attr], text, flag_file)
        env = os.environ if environ is None else environ
        for key, text in env.items():
            if key.startswith("WEFTDB_"):
                flag = lookup(key[len("WEFTDB_"):].lower())
                values[flag.attr] = _convert(flag, text, key)
        for key, value in (overrides or {}).items():
            if value is None:
                continue
            flag = lookup(key)
            values[flag.attr] = _convert(flag, value, "")
        return cls(values)

"""Snapshots of the graph: written from one MVCC view, loaded at recovery.

A snapshot is consistent at one commit timestamp: it is written through a
read transaction, so writers go on while it is written and their changes
simply are not in it (they are in the WAL after that timestamp). The file
container is `snapshot_file.py`; this module decides what goes in it:

    header   {db_uuid, commit_ts, wall_time_us, vertex_count, edge_count,
              next_vertex_id, next_edge_id}
    names    {labels: [...], edge_types: [...], property_keys: [...]}
    vertex   [1, gid, [label id, ...], {key: value, ...}]
    edge     [6, gid, type id, from gid, to gid, {key: value, ...}]
    schema   {indexes: [[name, kind, entity, label or type, [key, ...]], ...],
              constraints: [[name, kind, label, [key, ...]], ...]}

The schema block of a version 2 snapshot, read too, held unnamed definitions
({label_indexes, property_indexes, existence, unique}); they get their
generated names (schema.py) as they are loaded.

A vertex or edge item is the WAL's create op (redo.CREATE_VERTEX,
redo.CREATE_EDGE) with labels and edge types as indexes into `names`, so a
decoded batch goes to the store's loaders as it is: building ops from other
items cost a sixth of a recovery from a snapshot.

File names sort by commit timestamp: `<commit ts, 20 digits>_<UTC time>.snapshot`.
"""

from __future__ import annotations

import gc
import json
import os
import re
import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Any, Iterator, NoReturn

from weftdb.basics import collector
from weftdb.basics.errors import DurabilityError, SchemaError
from weftdb.durability.files import FileSystem
from weftdb.durability.layout import temporary
from weftdb.durability.snapshot_file import SnapshotInfo, SnapshotReader, write_snapshot
from weftdb.graph import schema as schema_defs
from weftdb.graph.redo import CREATE_EDGE, CREATE_VERTEX
from weftdb.graph.storage import Storage

SUFFIX = ".snapshot"
_NAME = re.compile(r"(\d{20})_(\d{8}T\d{12})\.snapshot")


@dataclass(frozen=True)
class SnapshotFile:
    path: str
    commit_ts: int

    @property
    def name(self) -> str:
        return os.path.basename(self.path)


def snapshot_name(commit_ts: int, wall_time_us: int) -> str:
    moment = datetime.fromtimestamp(wall_time_us / 1e6, timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    return f"{commit_ts:020d}_{moment}{SUFFIX}"


def list_snapshots(fs: FileSystem, directory: str) -> list[SnapshotFile]:
    """Snapshots in `directory`, oldest first; temporaries and strangers ignored."""
    if not fs.exists(directory):
        return []
    found = []
    for name in fs.listdir(directory):
        match = _NAME.fullmatch(name)
        if match:
            found.append(SnapshotFile(os.path.join(directory, name), int(match.group(1))))
    return sorted(found, key=lambda s: (s.commit_ts, s.name))


def _vertex_batches(tx, label_id: dict[str, int], size: int) -> Iterator[list[tuple]]:
    """The vertices `tx` sees as snapshot items, `size` a batch: one list
    comprehension per batch, not a generator step and an append per item."""
    labels_of, properties, scan = tx.labels, tx.properties, tx.scan_vertices()
    while batch := [(CREATE_VERTEX, v.gid, tuple([label_id[l] for l in labels_of(v)]), properties(v))
                    for v in islice(scan, size)]:
        yield batch


def _edge_batches(tx, type_id: dict[str, int], size: int) -> Iterator[list[tuple]]:
    properties, scan = tx.properties, tx.scan_edges()
    while batch := [(CREATE_EDGE, e.gid, type_id[e.type], e.src.gid, e.dst.gid, properties(e))
                    for e in islice(scan, size)]:
        yield batch


SWITCH_INTERVAL = 0.0005
"""Seconds a thread waiting for the GIL waits while a snapshot is written (CPython's default is 0.005)."""
_switch = {"users": 0, "saved": 0.0}
_switch_lock = threading.Lock()


@contextmanager
def _writers_keep_up():
    """Let a waiting thread have the GIL after SWITCH_INTERVAL while a snapshot is written.

    Writing a snapshot is Python work that never waits, and a committing thread
    gives the GIL up at every fsync, so with the default 5 ms interval each
    commit waited up to 5 ms to get it back. Measured (60k nodes + 300k
    edges, one writer, snapshots back to back): commit p50 9-11 ms -> 1.2 ms,
    p99 40-52 ms -> 17-18 ms, the same number of snapshots written. The
    interval is process-wide: it is restored when the last snapshot running
    in the process (one per database) ends, and never raised."""
    with _switch_lock:
        if _switch["users"] == 0:
            _switch["saved"] = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch["saved"], SWITCH_INTERVAL))
        _switch["users"] += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch["users"] -= 1
            if _switch["users"] == 0:
                sys.setswitchinterval(_switch["saved"])


def write(storage: Storage, fs: FileSystem, directory: str, db_uuid: bytes, items_per_batch: int, compress: bool = False,
          fork: bool = False) -> tuple[SnapshotInfo, int]:
    """Write a snapshot of what a transaction starting now sees; returns
    (file info, the commit timestamp it is consistent at).

    With `fork`, a forked child process walks the graph and writes the file
    (`_from_child`), and this thread only waits: the server's writers keep
    the interpreter. Only through the operating system's own FileSystem: a
    subclass (the tests' fault-injecting twins) keeps state in this process,
    which a child's writes would not reach."""
    if fork and hasattr(os, "fork") and type(fs) is FileSystem:
        return _write(storage, fs, directory, db_uuid, items_per_batch, compress, _from_child)
    with _writers_keep_up(), collector.paused():
        return _write(storage, fs, directory, db_uuid, items_per_batch, compress, write_snapshot)


def _write(storage: Storage, fs: FileSystem, directory: str, db_uuid: bytes, items_per_batch: int, compress: bool,
           writer) -> tuple[SnapshotInfo, int]:
    with storage.reading() as tx:
        with storage.write_lock:
            catalog = storage.catalog
            schema = {
                "indexes": [list(catalog.indexes[name].op()[1:]) for name in sorted(catalog.indexes)],
                "constraints": [list(catalog.constraints[name].op()[1:]) for name in sorted(catalog.constraints)],
            }
            labels = sorted(storage.label_names())
            edge_types = sorted(storage.edge_types)
            keys = sorted(storage.property_keys)
            next_ids = (storage.next_vertex_id, storage.next_edge_id)
        label_id = {name: i for i, name in enumerate(labels)}
        type_id = {name: i for i, name in enumerate(edge_types)}
        wall_time_us = time.time_ns() // 1000
        path = os.path.join(directory, snapshot_name(tx.start_ts, wall_time_us))
        header = {
            "db_uuid": db_uuid,
            "commit_ts": tx.start_ts,
            "wall_time_us": wall_time_us,
            "next_vertex_id": next_ids[0],
            "next_edge_id": next_ids[1],
        }
        names = {"labels": labels, "edge_types": edge_types, "property_keys": keys}
        fs.makedirs(directory)
        info = writer(
            fs,
            path,
            header,
            names,
            _vertex_batches(tx, label_id, items_per_batch),
            _edge_batches(tx, type_id, items_per_batch),
            schema,
            compress,
        )
        return info, tx.start_ts


def _from_child(fs: FileSystem, path: str, header: dict, names: dict, vertex_batches: Iterator[list],
                edge_batches: Iterator[list], schema: dict, compress: bool) -> SnapshotInfo:
    """`write_snapshot` run by a forked child, as Redis writes its RDB file:
    the child sees a copy-on-write image of this process, so the transaction
    the batches read from holds still in it without holding anything here,
    and the parent's threads keep the interpreter. Written from a thread, a
    snapshot cost one writer's commit p99 5 to 7 times its quiet value (the
    commit waits for the interpreter at each fsync); from the child, 1.1 to
    1.5 times (bench/README.md).

    The child's memory grows with every page it touches (reading an object
    writes its reference count), up to the graph's size again. Its answer
    comes back through a pipe as JSON (DESIGN.md invariant 8: nothing is
    unpickled): the SnapshotInfo's fields, or the error's text, raised here
    as a DurabilityError. A child that dies without one (killed, out of
    memory) fails the snapshot and its temporary file is removed here; the
    child stops by itself when this process is gone."""
    readable, writable = os.pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        _child(writable, lambda: write_snapshot(fs, path, header, names, _while_alive(vertex_batches, parent),
                                                _while_alive(edge_batches, parent), schema, compress))
    os.close(writable)
    try:
        with open(readable, "rb") as pipe:
            outcome = pipe.read()
    except BaseException:  # interrupted while waiting: the child's work is for nobody
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        fs.discard(temporary(path))
        raise
    _, status = os.waitpid(pid, 0)
    if not outcome:
        fs.discard(temporary(path))
        raise DurabilityError(f"the snapshot's writer process ended without an answer ({_ended(status)})")
    answer = json.loads(outcome)
    if "error" in answer:
        raise DurabilityError(answer["error"])
    return SnapshotInfo(**answer["info"])


def _child(answer: int, work) -> NoReturn:
    """The forked child's whole life: write, answer, `os._exit` (no atexit
    handlers, no flushing of the parent's buffers). It keeps only standard
    input, output and error and its answer pipe open: a listening socket or
    the data directory's lock held by it would outlive a parent killed
    meanwhile. Ctrl-C in a terminal reaches the whole process group; the
    parent decides, so the child ignores SIGINT."""
    code = 1
    try:
        gc.disable()  # a collection would touch, and so copy, every tracked object's page
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for number in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        os.closerange(3, answer)
        os.closerange(answer + 1, os.sysconf("SC_OPEN_MAX"))
        try:
            outcome = {"info": asdict(work())}
        except BaseException as exc:  # every failure is the parent's to report
            outcome = {"error": str(exc) if isinstance(exc, DurabilityError) else f"{type(exc).__name__}: {exc}"}
        with open(answer, "wb") as out:
            out.write(json.dumps(outcome).encode())
        code = 0
    finally:
        os._exit(code)


def _while_alive(batches: Iterator[list], parent: int) -> Iterator[list]:
    """`batches` while the process `parent` lives; once it is gone an error,
    so that the temporary file is removed on the way out."""
    for batch in batches:
        if os.getppid() != parent:
            raise DurabilityError("the process that asked for this snapshot is gone")
        yield batch


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


def load(storage: Storage, reader: SnapshotReader, threads: int = 1, progress=None) -> int:
    """Load a checked snapshot into an empty store; returns its commit timestamp."""
    header, names, schema = reader.header, reader.names, reader.schema
    labels, edge_types, keys = names["labels"], names["edge_types"], names["property_keys"]
    indexes, constraints = _schema_ops(schema) if getattr(reader, "version", 3) >= 3 else _old_schema_ops(storage, schema)
    _define(storage, indexes)  # indexes before the data: filled as it loads
    for batch in reader.vertex_batches(threads):
        storage.load_vertices(batch, labels)
        if progress:
            progress(len(batch))
    for batch in reader.edge_batches(threads):
        storage.load_edges(batch, edge_types)
        if progress:
            progress(len(batch))
    storage.property_keys.update(keys)
    _define(storage, constraints)
    storage.next_vertex_id = max(storage.next_vertex_id, header.get("next_vertex_id", 0))
    storage.next_edge_id = max(storage.next_edge_id, header.get("next_edge_id", 0))
    return header["commit_ts"]


def _define(storage: Storage, ops: list[tuple]) -> None:
    try:
        storage.apply_schema(ops, log=False)
    except SchemaError as exc:  # the snapshot's own data breaks it: damage, or a bug that wrote it
        raise ValueError(f"the schema block does not fit the snapshot's graph: {exc}") from None


def _schema_ops(schema: dict) -> tuple[list[tuple], list[tuple]]:
    """The create ops of a version 3 schema block: (indexes, constraints)."""
    try:
        indexes = [schema_defs.IndexDef.of_op((schema_defs.CREATE_INDEX, *item)).op() for item in schema.get("indexes", [])]
        constraints = [schema_defs.ConstraintDef.of_op((schema_defs.CREATE_CONSTRAINT, *item)).op()
                       for item in schema.get("constraints", [])]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the schema block does not hold index and constraint definitions ({exc})") from None
    return indexes, constraints


def _old_schema_ops(storage: Storage, schema: dict) -> tuple[list[tuple], list[tuple]]:
    """The create ops of a version 2 schema block, named as the definitions are named when created unnamed."""
    indexes = [storage.catalog.define_index(schema_defs.LOOKUP, schema_defs.NODE, label, ()).op()
               for label in schema.get("label_indexes", [])]
    indexes += [storage.catalog.define_index(schema_defs.RANGE, schema_defs.NODE, label, (key,)).op()
                for label, key in schema.get("property_indexes", [])]
    constraints = [storage.catalog.define_constraint(schema_defs.EXISTS, label, (key,)).op() for label, key in schema.get("existence", [])]
    constraints += [storage.catalog.define_constraint(schema_defs.UNIQUE, label, tuple(keys)).op()
                    for label, keys in schema.get("unique", [])]
    return indexes, constraints


def describe(reader: SnapshotReader) -> dict[str, Any]:
    return {
        "commit_ts": reader.header.get("commit_ts"),
        "vertices": reader.vertex_count,
        "edges": reader.edge_count,
        "size": reader.size,
    }

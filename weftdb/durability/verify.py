"""`weftdb verify DATA_DIR`: check every durability file and dry-run recovery.

Why a dry run and not just checksums: a directory can consist of intact files
and still not recover (a gap in the WAL sequence, a WAL that does not continue
its snapshot, a file of another database). So after checking every WAL record
and every snapshot batch on its own, this runs the same `recover` the
database runs at startup, into memory, and reports what it would yield.

It only reads: it takes no lock (a running server keeps its directory and
this can check it beside it), truncates no torn tail (it reports it; the
database cuts it off at its next start), deletes and rewrites nothing.
`ok` is true only when every file is intact and recovery would succeed; a torn
tail of the newest segment is what a crash leaves and does not count as a
problem, but it is reported.
"""

from __future__ import annotations

import os
import time
import uuid as _uuid
from dataclasses import dataclass, field
from typing import Callable

from weftdb.basics.errors import RecoveryError
from weftdb.cli.printer import Printer
from weftdb.durability import snapshot, wal
from weftdb.durability.files import FileSystem
from weftdb.durability.recovery import recover
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.wal_reader import WalReader


@dataclass
class Verification:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wal_records: int = 0
    snapshots: int = 0
    vertices: int | None = None
    edges: int | None = None
    last_commit_ts: int | None = None
    recovered_from: str | None = None
    replayed: int = 0
    torn_tail: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    data_dir: str,
    out: Printer,
    fs: FileSystem | None = None,
    threads: int = 1,
    report: Callable[[str], None] | None = None,
) -> Verification:
    fs = fs or FileSystem()
    result = Verification()
    started = time.monotonic()
    out.heading(f"verifying data directory {data_dir}")
    if not os.path.isdir(data_dir):
        result.problems.append(f"{data_dir} is not a directory")
        out.problem(result.problems[-1])
        return result
    wal_uuid = _check_wal(fs, os.path.join(data_dir, "wal"), out, result)
    _check_snapshots(fs, os.path.join(data_dir, "snapshots"), wal_uuid, out, result)
    _dry_run(fs, data_dir, threads, report, out, result)
    verdict = "all is well" if result.ok else f"{len(result.problems)} problem{'s' if len(result.problems) != 1 else ''}"
    out.line(f"{verdict} ({time.monotonic() - started:.2f} s)")
    return result


def _strangers(fs: FileSystem, directory: str, known: Callable[[str], bool], out: Printer, result: Verification) -> None:
    for name in fs.listdir(directory):
        if not known(name):
            note = f"{os.path.join(directory, name)} is not part of the data (a temporary left by a crash, or a stranger); recovery ignores it and removes .tmp files"
            result.notes.append(note)
            out.line(f"note: {note}")


def _check_wal(fs: FileSystem, wal_dir: str, out: Printer, result: Verification) -> bytes | None:
    if not fs.exists(wal_dir):
        out.line("wal/: absent")
        return None
    reader = WalReader(fs, wal_dir)
    rows: dict[str, list] = {}
    try:
        for seg in reader.segments():
            rows[seg.path] = [str(seg.sequence), os.path.basename(seg.path), 0, None, None, "OK"]
        for record in reader.records():
            commit_ts, _wall, _ops = record.decode()
            row = rows[record.path]
            row[2] += 1
            row[3] = commit_ts if row[3] is None else row[3]
            row[4] = commit_ts
            result.wal_records += 1
    except (RecoveryError, OSError) as exc:
        result.problems.append(str(exc))
    tail = reader.tail
    if tail is not None and tail.torn:
        result.torn_tail = f"{tail.path} at byte {tail.offset} ({tail.dropped_bytes} bytes: {tail.reason})"
        rows[tail.path][5] = "torn tail"
    table = [[seq, name, str(n), str(first) if first is not None else "", str(last) if last is not None else "", st]
             for seq, name, n, first, last, st in rows.values()]
    uuid_text = f", database {_uuid.UUID(bytes=reader.db_uuid)}" if reader.db_uuid else ""
    out.line(f"wal/: {len(rows)} segments, {result.wal_records} records{uuid_text}")
    if table:
        out.table(["sequence", "segment", "records", "first ts", "last ts", "status"], table)
    for problem in result.problems:
        out.problem(problem)
    if result.torn_tail:
        out.line(f"torn tail (a write cut off by a crash; the next start cuts it off with a warning): {result.torn_tail}")
    _strangers(fs, wal_dir, lambda n: wal.sequence_of_name(n) is not None, out, result)
    return reader.db_uuid


def _check_snapshots(fs: FileSystem, snap_dir: str, wal_uuid: bytes | None, out: Printer, result: Verification) -> None:
    if not fs.exists(snap_dir):
        out.line("snapshots/: absent")
        return
    rows = []
    for snap in snapshot.list_snapshots(fs, snap_dir):
        result.snapshots += 1
        try:
            reader = SnapshotReader(fs, snap.path, expected_uuid=wal_uuid)
            reader.verify()
            rows.append([snap.name, str(reader.header.get("commit_ts")), str(reader.vertex_count),
                         str(reader.edge_count), str(reader.size), "OK"])
        except (RecoveryError, OSError) as exc:
            result.problems.append(str(exc))
            out.problem(str(exc))
            rows.append([snap.name, str(snap.commit_ts), "", "", str(fs.size(snap.path)), "BAD"])
    out.line(f"snapshots/: {result.snapshots} snapshots")
    if rows:
        out.table(["snapshot", "commit ts", "vertices", "edges", "bytes", "status"], rows)
    known = {s.name for s in snapshot.list_snapshots(fs, snap_dir)}
    _strangers(fs, snap_dir, lambda n: n in known, out, result)


def _dry_run(fs, data_dir, threads, report, out: Printer, result: Verification) -> None:
    try:
        recovered = recover(fs, data_dir, threads, report)
    except (RecoveryError, OSError) as exc:
        problem = f"recovery would stop: {exc}"
        if problem not in result.problems:
            result.problems.append(problem)
            out.problem(problem)
        return
    result.vertices, result.edges = recovered.storage.counts()
    result.last_commit_ts = recovered.last_ts
    result.recovered_from = recovered.snapshot
    result.replayed = recovered.replayed
    start = os.path.basename(recovered.snapshot) if recovered.snapshot else "no snapshot"
    out.line(f"dry-run recovery: from {start}, replaying {recovered.replayed} WAL transactions, "
             f"in {recovered.seconds:.2f} s")
    if recovered.skipped_snapshots:
        out.line("  it would skip the damaged " + ", ".join(os.path.basename(p) for p in recovered.skipped_snapshots))
    out.line(f"  {result.vertices} vertices, {result.edges} edges, last commit timestamp {result.last_commit_ts}")

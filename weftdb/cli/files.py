"""The `weftdb inspect` and `weftdb verify` commands, and how they print.

The durability layer finds the facts (`durability/inspect.py`,
`durability/verify.py`) and prints nothing; this module turns them into
text through `Printer`. Both commands only read: they take no lock and
change nothing, so they are safe to run next to a running server. Exit
status 0 means no problem was found, 1 that one was.
"""

from __future__ import annotations

import os
import sys
import uuid as _uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import click

from weftdb.basics import storage_modes
from weftdb.cli.printer import Printer

if TYPE_CHECKING:
    from weftdb.durability.inspect import Inspection, SegmentInspection, SnapshotInspection
    from weftdb.durability.verify import DiskCheck, DryRun, Section, SnapshotsCheck, Verification, WalCheck


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def inspect(file: str) -> None:
    """Print a WAL segment or a snapshot for a person.

    For a WAL segment: its header, then each record's offset, length,
    checksum (OK or BAD), commit timestamp, wall-clock time, number of
    operations and a short summary of them. For a snapshot: its prelude and
    header, the name dictionaries, each block's kind, offset, items and
    checksum, and the schema. Damage is reported with its byte offset, and
    the rest of the file is still shown where it can be. The exit status is
    1 if any problem was found.

    \b
    Examples:
      weftdb inspect data/wal/0000000000000003.wal
      weftdb inspect data/snapshots/00000000000000001234_20260101T120000000000.snapshot
      weftdb inspect data/wal/0000000000000003.wal | grep BAD
    """
    from weftdb.durability.inspect import inspect_file

    try:
        found = inspect_file(file)
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    print_inspection(found, Printer())
    sys.exit(1 if found.problems else 0)


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Threads decoding snapshot batches during the dry-run recovery.")
def verify(data_dir: str, threads: int) -> None:
    """Check every file of DATA_DIR and dry-run its recovery.

    Every WAL record and every snapshot batch is read and its checksum and
    encoding checked; then recovery runs into memory exactly as at startup
    (newest valid snapshot, then the WAL after it) and the resulting vertex
    and edge counts and last commit timestamp are printed. Nothing on disk
    is changed and no lock is taken, so a running server's directory can be
    checked. A torn WAL tail (what a crash leaves; the next start cuts it
    off) is reported but is not a problem. A directory in
    ON_DISK_TRANSACTIONAL has its RocksDB store and each of its checkpoints
    opened read-only and read whole, RocksDB's checksums verified. The exit
    status is 0 only if all is well.

    \b
    Examples:
      weftdb verify ./data
      weftdb verify /var/lib/weftdb --threads 4 && echo "recoverable"
    """
    from weftdb.durability.verify import verify as run_verify

    printer = Printer()
    printer.heading(f"verifying data directory {data_dir}")
    report = (lambda text: click.echo(text, err=True)) if sys.stderr.isatty() else None
    result = run_verify(data_dir, threads=threads, report=report, done=lambda section: print_section(section, printer))
    print_verdict(result, printer)
    sys.exit(0 if result.ok else 1)


def _problems(n: int) -> str:
    return f"{n} problem{'s' if n != 1 else ''}"


def _when(wall_time_us: Any) -> str:
    try:
        return datetime.fromtimestamp(wall_time_us / 1e6, timezone.utc).isoformat(timespec="microseconds")
    except (TypeError, ValueError, OverflowError, OSError):
        return repr(wall_time_us)


# --- inspect ------------------------------------------------------------------------------


def print_inspection(found: Inspection, out: Printer) -> None:
    from weftdb.durability.inspect import SegmentInspection, SnapshotInspection

    if isinstance(found, SegmentInspection):
        _print_segment(found, out)
    elif isinstance(found, SnapshotInspection):
        _print_snapshot(found, out)
    else:
        out.problem(found.problems[0])


def _print_segment(found: SegmentInspection, out: Printer) -> None:
    from weftdb.durability.wal_reader import DAMAGE, PADDING, TORN

    out.heading(f"WAL segment {found.path} ({found.size} bytes)")
    if found.header is not None:
        version, db_uuid, sequence = found.header
        out.line(f"header: format version {version}, database {_uuid.UUID(bytes=db_uuid)}, "
                 f"sequence {sequence}, header checksum OK")
    for problem in found.file_problems:
        out.problem(problem)
    if not found.scanned:
        return
    rows = []
    for r in found.records:
        if not r.checksum_ok:
            rows.append([str(r.offset), str(r.length) if r.length is not None else "?", "BAD", "", "", "", r.problem])
            if r.resumes_at is not None:
                rows.append(["", "", "", "", "", "", f"... skipped {r.resumes_at - r.offset} bytes to the next valid record"])
        elif r.problem:
            rows.append([str(r.offset), str(r.length), "OK", "", "", "", f"PROBLEM: {r.problem}"])
        else:
            operations = ", ".join(name if n == 1 else f"{name} ×{n}" for name, n in r.operations)
            rows.append([str(r.offset), str(r.length), "OK", str(r.commit_ts), _when(r.wall_time_us), str(r.ops),
                         operations])
    out.table(["offset", "length", "checksum", "commit_ts", "wall time (UTC)", "ops", "operations"], rows)
    end = found.end
    if end is not None and end.kind == PADDING:
        out.line(f"zero padding from byte {end.offset} to the end ({end.size} bytes): the end of the data")
    elif end is not None and end.kind == TORN:
        out.line(f"from byte {end.offset} to the end ({end.size} bytes) no valid record follows: a torn tail if "
                 "this is the newest segment (recovery cuts it off), damage otherwise")
    elif end is not None and end.kind == DAMAGE:
        out.line(f"from byte {end.offset} to the end ({end.size} bytes) more data follows than the search for a "
                 "valid record covers: damage, not a torn tail (recovery stops here rather than guess)")
    out.line(f"{found.valid_records} valid records, {_problems(len(found.problems))}")


def _print_snapshot(found: SnapshotInspection, out: Printer) -> None:
    from weftdb.durability import snapshot_file as sf

    examined = found.examination
    out.heading(f"snapshot {examined.path} ({examined.size} bytes)")
    prelude = examined.prelude
    if prelude is None:
        for problem in examined.problems:
            out.problem(problem)
        return
    out.line(f"prelude: format version {prelude.version}, database {_uuid.UUID(bytes=prelude.db_uuid)}, "
             f"checksum {'OK' if prelude.intact else 'BAD'}")
    for problem in examined.problems:
        out.problem(problem)
    if found.header is not None:
        fields = ", ".join(
            f"{k} {_uuid.UUID(bytes=v) if k == 'db_uuid' and isinstance(v, bytes) and len(v) == 16 else v}"
            for k, v in found.header.items()
        )
        out.line(f"header: {fields}")
        if "wall_time_us" in found.header:
            out.line(f"written at {_when(found.header['wall_time_us'])}")
    if found.names is not None:
        out.line("names: " + ", ".join(f"{len(v) if isinstance(v, list) else '?'} {k}" for k, v in found.names.items()))
    rows = [[sf.KIND_NAMES.get(b.entry.kind, f"kind {b.entry.kind}"), str(b.entry.offset), str(b.entry.items),
             str(b.entry.length), "zstd" if b.entry.flags & sf.FLAG_ZSTD else "", "BAD" if b.problem else "OK", b.problem]
            for b in found.blocks]
    out.table(["block", "offset", "items", "stored bytes", "compression", "checksum", "problem"], rows)
    if found.schema is not None:
        for key, value in found.schema.items():
            out.line(f"schema {key}: {value if value else 'none'}")
    out.line(f"{found.vertices} vertices and {found.edges} edges in {len(found.blocks)} blocks, "
             f"{_problems(len(found.problems))}")


# --- verify -------------------------------------------------------------------------------


def print_verification(result: Verification, out: Printer) -> None:
    """Everything after the heading (which the command prints before the checks start)."""
    for section in (result.wal, result.snapshots, result.dry_run, result.disk):
        if section is not None:
            print_section(section, out)
    print_verdict(result, out)


def print_section(section: Section, out: Printer) -> None:
    from weftdb.durability.verify import DiskCheck, SnapshotsCheck, WalCheck

    if isinstance(section, WalCheck):
        _print_wal_check(section, out)
    elif isinstance(section, SnapshotsCheck):
        _print_snapshots_check(section, out)
    elif isinstance(section, DiskCheck):
        _print_disk_check(section, out)
    else:
        _print_dry_run(section, out)


def print_verdict(result: Verification, out: Printer) -> None:
    if result.not_a_directory:
        out.problem(result.problems[0])
        return
    verdict = "all is well" if result.ok else _problems(len(result.problems))
    out.line(f"{verdict} ({result.seconds:.2f} s)")


def _print_wal_check(check: WalCheck, out: Printer) -> None:
    if not check.present:
        out.line("wal/: absent")
        return
    uuid_text = f", database {_uuid.UUID(bytes=check.db_uuid)}" if check.db_uuid else ""
    out.line(f"wal/: {len(check.segments)} segments, {check.records} records{uuid_text}")
    if check.segments:
        out.table(["sequence", "segment", "records", "first ts", "last ts", "status"],
                  [[str(s.sequence), s.name, str(s.records), str(s.first_ts) if s.first_ts is not None else "",
                    str(s.last_ts) if s.last_ts is not None else "", "torn tail" if s.torn else "OK"]
                   for s in check.segments])
    for problem in check.problems:
        out.problem(problem)
    if check.torn_tail:
        out.line(f"torn tail (a write cut off by a crash; the next start cuts it off with a warning): {check.torn_tail}")
    for note in check.notes:
        out.line(f"note: {note}")


def _print_snapshots_check(check: SnapshotsCheck, out: Printer) -> None:
    if not check.present:
        out.line("snapshots/: absent")
        return
    for problem in check.problems:
        out.problem(problem)
    out.line(f"snapshots/: {len(check.snapshots)} snapshots")
    if check.snapshots:
        out.table(["snapshot", "commit ts", "vertices", "edges", "bytes", "status"],
                  [[s.name, str(s.commit_ts), str(s.vertices), str(s.edges), str(s.size), "OK"] if s.ok else
                   [s.name, str(s.commit_ts), "", "", str(s.size), "BAD"] for s in check.snapshots])
    for note in check.notes:
        out.line(f"note: {note}")


def _print_disk_check(check: DiskCheck, out: Printer) -> None:
    out.line(f"{storage_modes.ON_DISK}: the store and {len(check.stores) - 1} checkpoint(s), each read whole "
             "with RocksDB's checksums verified")
    out.table(["store", "commit ts", "vertices", "edges", "keys", "status"],
              [[row.name, str(row.commit_ts), str(row.vertices), str(row.edges), str(row.keys), "OK"] if row.ok else
               [row.name, "", "", "", "", "BAD"] for row in check.stores])
    for problem in check.problems:
        out.problem(problem)


def _print_dry_run(dry: DryRun, out: Printer) -> None:
    if dry.problem is not None:
        out.problem(dry.problem)
        return
    start = os.path.basename(dry.snapshot) if dry.snapshot else "no snapshot"
    out.line(f"dry-run recovery: from {start}, replaying {dry.replayed} WAL transactions, in {dry.seconds:.2f} s")
    if dry.skipped_snapshots:
        out.line("  it would skip the damaged " + ", ".join(os.path.basename(p) for p in dry.skipped_snapshots))
    out.line(f"  {dry.vertices} vertices, {dry.edges} edges, last commit timestamp {dry.last_commit_ts}")

"""`weftdb verify BACKUP`: prove a backup restorable, or say exactly why not.

A backup is worth what a restore proves, so verify does the restore: after
checking what can be checked file by file it rebuilds the chain's end state
in a temporary data directory and opens it. In order:

1. the manifest: readable, its own checksum, a known format version, the key
   (for an encrypted backup) matching;
2. every listed file: present, of the recorded size and SHA-256 (a flipped bit
   anywhere, a missing or truncated file); a file present but not listed is a
   problem (a database was opened on the backup, or another program wrote
   there), unless an interrupted backup left it (a note: the next backup
   removes it);
3. every file's contents once decrypted and decompressed: each snapshot opens
   with `SnapshotReader` as the manifest's database at the recorded commit
   timestamp; each WAL segment belongs to the manifest's database and its
   records continue the chain's commit timestamps without a gap; each users
   file parses and has the digest its name says;
4. the chain: each incremental continues its predecessor at last_ts + 1;
5. a trial restore into a temporary directory (recovery runs), with the
   vertex and edge counts of the result.

`verify_backup` returns a `Report`; `ok` only if every check held.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from weftdb.backup.artifacts import ArtifactError, fetch, logical_name
from weftdb.backup.manifest import USERS_PREFIX, FileEntry, Manifest, ManifestError, unlisted
from weftdb.backup.records import ChainBroken, record_times
from weftdb.backup.restore import RestoreError, plan, restore
from weftdb.backup.sealing import SealError
from weftdb.backup.target import MANIFEST, TargetError, open_target
from weftdb.basics.errors import RecoveryError
from weftdb.durability import disk_archive
from weftdb.durability.files import FileSystem
from weftdb.durability.snapshot_file import SnapshotReader
from weftdb.durability.users import parse as parse_users
from weftdb.durability.wal_reader import WalReader


@dataclass
class Report:
    location: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files_checked: int = 0
    bytes_checked: int = 0
    vertices: int | None = None
    edges: int | None = None
    last_ts: int | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


_EXPECTED = (OSError, ArtifactError, SealError, RecoveryError, ChainBroken, RestoreError, ManifestError, TargetError, ValueError,
             disk_archive.ArchiveError)


def verify_backup(location: str, key: bytes | None = None, storage_options: dict[str, Any] | None = None,
                  progress: Callable[[int], None] | None = None, total: Callable[[int], None] | None = None) -> Report:
    """Check the backup at `location`. `progress(n)` is called with the stored
    bytes checked as they are, after `total(n)` with all it will read: every
    listed file, then the files the trial restore reads again."""
    started = time.monotonic()
    report = _verify(location, key, storage_options, progress, total)
    report.seconds = time.monotonic() - started
    return report


def _verify(location: str, key: bytes | None, storage_options: dict[str, Any] | None,
            progress: Callable[[int], None] | None, total: Callable[[int], None] | None) -> Report:
    report = Report(location)
    try:
        target = open_target(location, storage_options)
        manifest = Manifest.load(target)
        if manifest is None:
            report.problems.append(f"{location} holds no {MANIFEST}")
            return report
        manifest.check_key(key)
    except _EXPECTED as exc:
        report.problems.append(str(exc))
        return report
    report.location = target.url
    leftovers, strangers = unlisted(target, manifest)
    report.notes += [f"{name} was left by an interrupted backup (the next backup removes it)" for name in leftovers]
    report.problems += [f"{name} is not listed in the manifest: no backup wrote it (a database opened on the backup, "
                        "or another program), so the location does not hold this backup alone" for name in strangers]
    _check_chain(manifest, report)
    if total is not None:
        total(sum(f.size for f in manifest.files()) + _trial_bytes(manifest))
    staging = tempfile.mkdtemp(prefix="weftdb-verify-")
    try:
        for number, artifact in enumerate(manifest.artifacts):
            expected = artifact.first_ts
            before = len(report.problems)
            for entry in artifact.files:
                where = f"artifact {number} ({artifact.kind}) file {entry.name}"
                try:
                    if key is None and manifest.encrypted:
                        raise ManifestError("encrypted: needs the key")
                    dest = os.path.join(staging, os.path.basename(logical_name(entry)))
                    fetch(target, manifest, entry, dest, key)
                    report.files_checked += 1
                    report.bytes_checked += entry.size
                    if progress:
                        progress(entry.size)
                    if entry.name.startswith("snapshots/") and artifact.store_files is not None:
                        previous = manifest.artifacts[number - 1] if artifact.kind == "incremental" and number else None
                        disk_archive.check(dest, manifest.db_uuid, artifact.snapshot_ts,
                                           previous.store_files if previous else None, artifact.store_files)
                    elif entry.name.startswith("snapshots/"):
                        _check_snapshot(dest, manifest, artifact.snapshot_ts)
                    elif entry.name.startswith(USERS_PREFIX):
                        _check_users(dest, entry)
                    else:
                        expected = _check_segment(dest, manifest, expected)
                    os.remove(dest)
                except _EXPECTED as exc:
                    report.problems.append(f"{where}: {exc}")
            if artifact.segments and expected != artifact.last_ts + 1 and len(report.problems) == before:
                report.problems.append(f"artifact {number} ({artifact.kind}): its WAL ends at commit timestamp "
                                       f"{expected - 1}, the manifest says {artifact.last_ts}")
        if len(report.problems) > len(strangers):
            report.problems.append("trial restore skipped: the files above are not as recorded")
            return report
        trial = os.path.join(staging, "trial")
        try:
            summary = restore(location, trial, key=key, storage_options=storage_options, progress=progress)
            report.vertices, report.edges, report.last_ts = summary.vertices, summary.edges, summary.last_ts
        except _EXPECTED as exc:
            report.problems.append(f"trial restore failed: {exc}")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report


def _trial_bytes(manifest: Manifest) -> int:
    try:
        return plan(manifest, None, None).bytes
    except (RestoreError, AttributeError):  # no full backup, or one without a snapshot: the chain check says so
        return 0


def _check_chain(manifest: Manifest, report: Report) -> None:
    if not manifest.artifacts or manifest.artifacts[0].kind != "full":
        report.problems.append("the chain does not start with a full backup")
    previous = None
    for number, artifact in enumerate(manifest.artifacts):
        if artifact.kind == "full":
            if artifact.snapshot is None or artifact.snapshot_ts is None:
                report.problems.append(f"artifact {number} (full) has no snapshot")
            elif artifact.first_ts != artifact.snapshot_ts + 1:
                report.problems.append(f"artifact {number} (full): first_ts {artifact.first_ts} does not follow its snapshot at {artifact.snapshot_ts}")
        elif artifact.store_files is not None:  # a whole checkpoint, stored as what the one before lacks
            if previous is None or previous.store_files is None:
                report.problems.append(f"artifact {number} (incremental) continues a RocksDB checkpoint the chain "
                                       "before it does not end in")
        elif previous is not None and artifact.first_ts != previous.last_ts + 1:
            report.problems.append(f"artifact {number} (incremental) starts at commit timestamp {artifact.first_ts}, "
                                   f"but the chain before it ends at {previous.last_ts}: transactions are missing")
        if artifact.last_ts < artifact.first_ts - 1:
            report.problems.append(f"artifact {number}: last_ts {artifact.last_ts} before first_ts {artifact.first_ts}")
        if artifact.records and not artifact.segments:
            report.problems.append(f"artifact {number}: {artifact.records} transactions but no WAL segment")
        previous = artifact


def _check_snapshot(path: str, manifest: Manifest, snapshot_ts: int | None) -> None:
    reader = SnapshotReader(FileSystem(), path, expected_uuid=manifest.db_uuid)
    if reader.header.get("commit_ts") != snapshot_ts:
        raise ChainBroken(f"the snapshot is at commit timestamp {reader.header.get('commit_ts')}, the manifest says {snapshot_ts}")
    for _batch in reader.vertex_batches(1):
        pass
    for _batch in reader.edge_batches(1):
        pass


def _check_users(path: str, entry: FileEntry) -> None:
    """A users file that parses, named by the digest of its bytes."""
    with open(path, "rb") as handle:
        data = handle.read()
    parse_users(data)
    if logical_name(entry) != f"{USERS_PREFIX}{hashlib.sha256(data).hexdigest()[:32]}.json":
        raise ValueError("its bytes are not the ones its name was given for")


def _check_segment(path: str, manifest: Manifest, expected: int) -> int:
    """Read one segment alone; its records must start at `expected` and continue. Returns the next expected."""
    reader = WalReader.of_files(FileSystem(), [path], manifest.db_uuid)
    for record in reader.records():
        commit_ts, _wall = record_times(record.body)
        record.decode()
        if commit_ts != expected:
            raise ChainBroken(f"record at byte {record.offset} has commit timestamp {commit_ts}, {expected} was next")
        expected += 1
    if reader.torn_tail is not None:
        raise ChainBroken(f"the segment ends in a torn record at byte {reader.torn_tail.offset}")
    return expected


def describe(report: Report) -> list[str]:
    lines = [f"verify {report.location}:"]
    lines += [f"  PROBLEM {p}" for p in report.problems]
    lines += [f"  note {n}" for n in report.notes]
    lines.append(f"  {report.files_checked} files, {report.bytes_checked:,} bytes checked in {report.seconds:.2f} s")
    if report.vertices is not None:
        lines.append(f"  trial restore: {report.vertices} vertices, {report.edges} edges, up to commit timestamp {report.last_ts}")
    lines.append("  OK" if report.ok else f"  FAILED ({len(report.problems)} problems)")
    return lines


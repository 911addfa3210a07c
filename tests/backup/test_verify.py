"""verify catches a flipped bit in any file, a missing WAL segment, a truncated
snapshot and a manifest from another database; aggregate folds a chain; the CLI."""

import os
import shutil
import uuid

import pytest
from click.testing import CliRunner
from conftest import dump_of_directory, dump_text

from weftdb.backup.aggregate import aggregate
from weftdb.backup.client import backup
from weftdb.backup.manifest import Manifest
from weftdb.backup.restore import restore
from weftdb.backup.target import LocalTarget
from weftdb.backup.verify import verify_backup
from weftdb.cli import main


@pytest.fixture
def chain(source, tmp_path):
    """A full backup and two incrementals (each with a WAL segment); returns (path, final dump)."""
    db, to = source.db, str(tmp_path / "backup")
    db.execute("UNWIND range(1, 30) AS i CREATE (:A {i: i})-[:T {i: i}]->(:B {i: i})")
    backup(source.address, to)
    for k in range(2):
        db.execute("UNWIND range(1, 5) AS i CREATE (:C {k: $k, i: i})", {"k": k})
        db.execute("MATCH (a:A) WHERE a.i = $k SET a.touched = true", {"k": k})
        backup(source.address, to)
    return to, dump_text(db)


def _files(path):
    return [os.path.join(root, n) for root, _, names in os.walk(path) for n in names if n != ".lock"]


def test_a_good_chain_verifies(chain):
    report = verify_backup(chain[0])
    assert report.ok, report.problems
    assert (report.vertices, report.edges) == (70, 30)
    assert report.files_checked == 4  # a snapshot, two WAL segments, the users file


def test_verify_catches_a_flipped_bit_in_any_file(chain, tmp_path):
    path, _ = chain
    files = _files(path)
    assert len(files) == 5  # manifest, snapshot, two segments, users
    for number, name in enumerate(files):
        copy = str(tmp_path / f"copy{number}")
        shutil.copytree(path, copy)
        victim = os.path.join(copy, os.path.relpath(name, path))
        data = bytearray(open(victim, "rb").read())
        data[(len(data) * 7 // 13)] ^= 0x10
        open(victim, "wb").write(bytes(data))
        report = verify_backup(copy)
        assert not report.ok, f"a flipped bit in {os.path.relpath(name, path)} went unnoticed"


def test_verify_catches_a_missing_wal_segment_and_a_truncated_snapshot(chain):
    path, _ = chain
    segment = sorted(os.listdir(os.path.join(path, "wal")))[0]
    os.rename(os.path.join(path, "wal", segment), os.path.join(path, segment))
    report = verify_backup(path)
    assert not report.ok and any("missing" in p for p in report.problems)
    os.rename(os.path.join(path, segment), os.path.join(path, "wal", segment))
    assert verify_backup(path).ok
    snap = os.path.join(path, "snapshots", os.listdir(os.path.join(path, "snapshots"))[0])
    os.truncate(snap, os.path.getsize(snap) - 10)
    report = verify_backup(path)
    assert not report.ok and any("bytes" in p for p in report.problems)


def test_verify_catches_a_manifest_from_another_database(chain):
    path, _ = chain
    target = LocalTarget(path)
    manifest = Manifest.load(target)
    manifest.database_uuid = str(uuid.uuid4())
    manifest.save(target)  # a consistent manifest (its checksum is right) naming another database
    report = verify_backup(path)
    assert not report.ok and any("belongs to database" in p for p in report.problems)


def test_aggregate_folds_the_chain_into_one_full_backup(chain, source, tmp_path):
    path, expected = chain
    summary = aggregate(path)
    assert summary.artifacts_before == 3
    manifest = Manifest.load(LocalTarget(path))
    assert [a.kind for a in manifest.artifacts] == ["full"]
    assert os.listdir(os.path.join(path, "wal")) == []
    assert verify_backup(path).ok
    restore(path, str(tmp_path / "restored"))
    assert dump_of_directory(str(tmp_path / "restored")) == expected
    source.db.execute("CREATE (:After)")
    assert backup(source.address, path).kind == "incremental"  # the chain goes on from the aggregate
    assert verify_backup(path).ok


def test_cli_backup_inspect_verify_restore(source, tmp_path):
    source.db.execute("UNWIND range(1, 10) AS i CREATE (:N {i: i})")
    runner = CliRunner()
    to, data = str(tmp_path / "b"), str(tmp_path / "data")
    result = runner.invoke(main, ["backup", "--from", source.address, "--to", to])
    assert result.exit_code == 0, result.output
    assert "full backup" in result.output
    result = runner.invoke(main, ["backup", "inspect", to])
    assert result.exit_code == 0 and "full" in result.output
    result = runner.invoke(main, ["restore", "--from", to, "--to", data])
    assert result.exit_code == 0 and "10 vertices" in result.output
    result = runner.invoke(main, ["restore", "--from", to, "--to", data])
    assert result.exit_code == 1 and "--overwrite" in result.output
    result = runner.invoke(main, ["verify", to])
    assert result.exit_code == 0 and "OK" in result.output, result.output
    result = runner.invoke(main, ["backup", "aggregate", "--from", to])
    assert result.exit_code == 0, result.output
    snapshots = os.path.join(to, "snapshots")
    os.truncate(os.path.join(snapshots, os.listdir(snapshots)[0]), 100)
    result = runner.invoke(main, ["verify", to])
    assert result.exit_code == 1 and "PROBLEM" in result.output


def test_the_online_backup_example_in_docs_backup_md_runs(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "backup.md").read_text(encoding="utf-8")
    block = text.split("<!-- tests/backup/test_verify.py runs the next block -->\n```python\n", 1)[1].split("```", 1)[0]
    process = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert process.returncode == 0, process.stderr
    assert "incremental backup" in process.stdout

"""A backup directory is a backup, not a data directory (issue 12, item 10): a
database refuses to open it, `weftdb backup` refuses to add to one that holds
files its manifest does not list, and `weftdb verify` fails on them; what an
interrupted backup left is removed by the next one."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

import weftdb
from weftdb.backup.client import BackupError, backup
from weftdb.backup.verify import verify_backup
from weftdb.basics.config import ConfigError
from weftdb.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _tree(path):
    return sorted(os.path.relpath(os.path.join(r, n), path) for r, _, names in os.walk(path) for n in names)


@pytest.mark.parametrize("compress", [False, True])
def test_a_database_refuses_to_open_a_backup_and_writes_nothing_there(source, tmp_path, compress):
    source.db.execute("UNWIND range(1, 10) AS i CREATE (:N {i: i})")
    to = str(tmp_path / "backup")
    backup(source.address, to, compress=compress)
    before = _tree(to)
    with pytest.raises(ConfigError, match=r"holds a backup .*weftdb restore --from .* --to NEW_DIR"):
        weftdb.open(to)
    result = CliRunner().invoke(main, ["dump", "--data-directory", to])
    assert result.exit_code == 2 and "weftdb restore --from" in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert _tree(to) == before  # no .lock, no wal/, no snapshot


def _opened_by_an_older_weftdb(path):
    """What a WeftDB that opened backup directories did to one: its own lock, WAL and snapshot beside the backup's."""
    manifest = os.path.join(path, "backup.json")
    os.rename(manifest, manifest + ".away")
    with weftdb.open(path, storage_snapshot_interval_sec=0) as db:
        db.execute("CREATE (:Other {history: 'not the source'})")
    os.rename(manifest + ".away", manifest)


def test_backup_and_verify_refuse_a_backup_a_database_wrote_into(source, tmp_path):
    source.db.execute("UNWIND range(1, 10) AS i CREATE (:N {i: i})")
    to = str(tmp_path / "backup")
    backup(source.address, to)
    _opened_by_an_older_weftdb(to)
    source.db.execute("CREATE (:Later)")
    with pytest.raises(BackupError, match=r"files its manifest does not list \(\.lock, "):
        backup(source.address, to)
    report = verify_backup(to)
    assert not report.ok
    assert any(p.startswith(".lock is not listed") for p in report.problems), report.problems
    assert any(p.startswith("wal/") and "not listed" in p for p in report.problems), report.problems
    result = CliRunner().invoke(main, ["verify", to])
    assert result.exit_code == 1 and "not listed in the manifest" in result.output
    with pytest.raises(BackupError, match="is not empty"):  # no manifest: an empty directory or nothing
        backup(source.address, str(tmp_path / "source"))


_KILLED_AT_THE_MANIFEST = textwrap.dedent("""
    import os, signal, sys
    sys.path.insert(0, sys.argv[3])
    from weftdb.backup import manifest
    from weftdb.backup.client import backup

    def die(self, target):
        os.kill(os.getpid(), signal.SIGKILL)

    manifest.Manifest.save = die
    backup(sys.argv[1], sys.argv[2])
""")


def test_what_an_interrupted_backup_left_is_removed_by_the_next_one(source, tmp_path):
    db, to = source.db, str(tmp_path / "backup")
    db.execute("UNWIND range(1, 10) AS i CREATE (:N {i: i})")
    backup(source.address, to)
    db.execute("UNWIND range(1, 10) AS i CREATE (:M {i: i})")
    kept = _tree(to)
    script = tmp_path / "killed.py"
    script.write_text(_KILLED_AT_THE_MANIFEST)
    run = subprocess.run([sys.executable, str(script), source.address, to, ROOT], capture_output=True, timeout=60)
    assert run.returncode == -signal.SIGKILL, run.stderr
    left = sorted(set(_tree(to)) - set(kept))
    assert "backup.pending.json" in left and any(n.startswith("wal/") for n in left), left
    report = verify_backup(to)
    assert report.ok, report.problems  # the chain is intact; the leftovers are notes
    assert any("left by an interrupted backup" in n for n in report.notes)
    assert backup(source.address, to).kind == "incremental"
    report = verify_backup(to)
    assert report.ok and not report.notes, (report.problems, report.notes)
    assert "backup.pending.json" not in _tree(to)


def test_a_failed_backup_removes_the_files_it_had_stored(source, tmp_path, monkeypatch):
    from weftdb.backup import client

    db, to = source.db, str(tmp_path / "backup")
    db.execute("CREATE (:N)")
    backup(source.address, to)
    kept = _tree(to)
    db.execute("CREATE (:M)")
    real = client.publish
    calls = []

    def publish_then_fail(*args):
        calls.append(real(*args))
        raise OSError("disk full")

    monkeypatch.setattr(client, "publish", publish_then_fail)
    with pytest.raises(BackupError, match="disk full"):
        backup(source.address, to)
    assert calls and _tree(to) == kept

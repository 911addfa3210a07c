"""Point-in-time restore reads only what the point needs (issue 12, item 11): a
damaged file in a later artifact does not block an earlier point; a point it
cannot reach is refused with the latest one it can; a failed restore leaves the
target as it was and the retry needs no --overwrite."""

import os

import pytest
from click.testing import CliRunner
from conftest import dump_of_directory

from weftdb.backup.client import backup
from weftdb.backup.manifest import Manifest
from weftdb.backup.restore import RestoreError, restore
from weftdb.backup.target import LocalTarget
from weftdb.cli import main


def _flip(path):
    data = bytearray(open(path, "rb").read())
    data[len(data) * 2 // 3] ^= 0x04
    open(path, "wb").write(bytes(data))


@pytest.fixture
def chain(source, tmp_path):
    """A full backup and two incrementals of three transactions each; returns (backup, manifest)."""
    db, to = source.db, str(tmp_path / "backup")
    db.execute("UNWIND range(1, 20) AS i CREATE (:Base {i: i})")
    backup(source.address, to)
    for k in (1, 2):
        for j in range(3):
            db.execute("CREATE (:Step {k: $k, j: $j})", {"k": k, "j": j})
        backup(source.address, to)
    return to, Manifest.load(LocalTarget(to))


def test_a_bit_flipped_in_artifact_2_does_not_block_a_point_inside_artifact_1(chain, tmp_path):
    to, manifest = chain
    point = str(manifest.artifacts[1].first_ts + 2)  # the first two transactions of artifact 1
    restore(to, str(tmp_path / "reference"), until=point)
    expected = dump_of_directory(str(tmp_path / "reference"))
    _flip(os.path.join(to, manifest.artifacts[2].segments[0].name))

    summary = restore(to, str(tmp_path / "restored"), until=point)
    assert summary.last_ts == manifest.artifacts[1].first_ts + 1
    assert dump_of_directory(str(tmp_path / "restored")) == expected


@pytest.mark.parametrize("existing", ["absent", "empty"])
def test_a_point_past_the_damage_names_the_latest_it_can_and_leaves_the_target_as_it_was(chain, tmp_path, existing, caplog):
    to, manifest = chain
    damaged = manifest.artifacts[2].segments[0].name
    _flip(os.path.join(to, damaged))
    reachable = manifest.artifacts[1].last_ts
    target = tmp_path / "new" / "data"
    if existing == "empty":
        target.mkdir(parents=True)
    with pytest.raises(RestoreError) as refused:
        restore(to, str(target))
    message = str(refused.value)
    assert f"artifact 2 (incremental) file {damaged}" in message and "SHA-256" in message
    assert f"latest point this backup can restore before it is commit timestamp {reachable}" in message
    assert f"--until {reachable + 1}" in message
    assert not [r for r in caplog.records if r.levelname == "WARNING"]  # its own staging is no "interrupted restore"
    if existing == "empty":
        assert os.listdir(target) == []  # no .lock, no .restore-staging
    else:
        assert not (tmp_path / "new").exists()  # the directories it made are gone
    summary = restore(to, str(target), until=str(reachable + 1))  # no --overwrite needed
    assert summary.last_ts == reachable


def test_a_damaged_later_full_backup_points_to_the_earlier_one(source, tmp_path):
    db, to = source.db, str(tmp_path / "backup")
    db.execute("CREATE (:A)")
    backup(source.address, to)
    db.execute("CREATE (:B)")
    backup(source.address, to)
    db.execute("CREATE (:C)")
    backup(source.address, to, "full")
    manifest = Manifest.load(LocalTarget(to))
    later = manifest.artifacts[2]
    _flip(os.path.join(to, later.snapshot.name))
    with pytest.raises(RestoreError, match=rf"artifact 2 \(full\) file .*No point from its snapshot \(commit timestamp "
                                           rf"{later.snapshot_ts}\) on .* earlier full backup \(--until {later.snapshot_ts}\)"):
        restore(to, str(tmp_path / "end"))
    assert restore(to, str(tmp_path / "earlier"), until=str(later.snapshot_ts)).last_ts == manifest.artifacts[1].last_ts


def test_the_cli_refuses_in_one_line_and_the_retry_works(chain, tmp_path):
    to, manifest = chain
    _flip(os.path.join(to, manifest.artifacts[2].segments[0].name))
    target = str(tmp_path / "data")
    runner = CliRunner()
    result = runner.invoke(main, ["restore", "--from", to, "--to", target])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1, result.output
    assert "--until" in result.output and not os.path.exists(target)
    until = result.output.rsplit("--until ", 1)[1].strip()
    result = runner.invoke(main, ["restore", "--from", to, "--to", target, "--until", until])
    assert result.exit_code == 0, result.output

"""Compressed and encrypted backups round-trip; a wrong key is a clear error; an
S3 target (moto's server mode on loopback) round-trips."""

import os
import socket

import pytest
from conftest import dump_of_directory, dump_text

from weftdb.backup.client import BackupError, backup
from weftdb.backup.manifest import ManifestError
from weftdb.backup.restore import restore
from weftdb.backup.sealing import SealError, load_key, seal, unseal
from weftdb.backup.verify import verify_backup

KEY = bytes(range(32))


def _work(db, k):
    db.execute("UNWIND range(1, 40) AS i CREATE (:P {k: $k, i: i, text: 'some text ' + toString(i)})", {"k": k})
    db.execute("MATCH (p:P {k: $k}) WHERE p.i % 4 = 0 SET p.flag = true", {"k": k})


@pytest.mark.parametrize("compress, encrypt", [(True, False), (False, True), (True, True)])
def test_sealed_backups_round_trip(source, tmp_path, compress, encrypt):
    key_file = tmp_path / "key.hex"
    key_file.write_text(KEY.hex() + "\n")
    key = load_key(str(key_file)) if encrypt else None
    to = str(tmp_path / "backup")
    _work(source.db, 0)
    backup(source.address, to, compress=compress, key=key)
    _work(source.db, 1)
    assert backup(source.address, to, compress=compress, key=key).kind == "incremental"
    ending = (".zst" if compress else "") + (".enc" if encrypt else "")
    stored = [n for d in ("snapshots", "wal") for n in os.listdir(os.path.join(to, d))]
    assert stored and all(n.endswith(ending) for n in stored)
    restore(to, str(tmp_path / "restored"), key=key)
    assert dump_of_directory(str(tmp_path / "restored")) == dump_text(source.db)
    assert verify_backup(to, key).ok
    with pytest.raises(BackupError, match="same options"):
        backup(source.address, to, compress=not compress, key=key)


def test_a_wrong_or_missing_key_is_a_clear_error(source, tmp_path):
    to = str(tmp_path / "backup")
    _work(source.db, 0)
    backup(source.address, to, key=KEY)
    wrong = bytes(32)
    with pytest.raises(ManifestError, match="wrong key"):
        restore(to, str(tmp_path / "r1"), key=wrong)
    with pytest.raises(ManifestError, match="encrypted"):
        restore(to, str(tmp_path / "r2"))
    with pytest.raises(ManifestError, match="wrong key"):
        backup(source.address, to, key=wrong)
    assert not verify_backup(to, wrong).ok
    # Below the manifest's key check, the files themselves refuse a wrong key.
    sealed = b"".join(seal([b"hello" * 1000], "wal/0000000000000001.wal", True, KEY))
    with pytest.raises(SealError, match="wrong key"):
        b"".join(unseal([sealed], "wal/0000000000000001.wal", True, wrong))
    with pytest.raises(SealError):  # bound to its name: cannot be passed off as another file
        b"".join(unseal([sealed], "wal/0000000000000002.wal", True, KEY))
    with pytest.raises(SealError, match="cut short"):
        b"".join(unseal([sealed[:-20]], "wal/0000000000000001.wal", True, KEY))
    assert b"".join(unseal([sealed], "wal/0000000000000001.wal", True, KEY)) == b"hello" * 1000


def test_key_files_take_raw_hex_and_base64(tmp_path):
    import base64

    for name, data in (("raw", KEY), ("hex", KEY.hex().encode()), ("b64", base64.b64encode(KEY) + b"\n")):
        (tmp_path / name).write_bytes(data)
        assert load_key(str(tmp_path / name)) == KEY
    (tmp_path / "short").write_bytes(b"abc")
    with pytest.raises(SealError):
        load_key(str(tmp_path / "short"))


@pytest.fixture
def s3(monkeypatch):
    pytest.importorskip("s3fs")
    moto_server = pytest.importorskip("moto.server")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    endpoint = f"http://127.0.0.1:{port}"
    import s3fs

    fs = s3fs.S3FileSystem(client_kwargs={"endpoint_url": endpoint}, skip_instance_cache=True)
    fs.mkdir("backups")
    yield {"client_kwargs": {"endpoint_url": endpoint}, "skip_instance_cache": True}
    server.stop()


def test_s3_round_trip(source, tmp_path, s3):
    url = "s3://backups/graph/one"
    _work(source.db, 0)
    assert backup(source.address, url, storage_options=s3, compress=True).kind == "full"
    _work(source.db, 1)
    assert backup(source.address, url, storage_options=s3, compress=True).kind == "incremental"
    restore(url, str(tmp_path / "restored"), storage_options=s3)
    assert dump_of_directory(str(tmp_path / "restored")) == dump_text(source.db)
    assert verify_backup(url, storage_options=s3).ok


def test_cli_compressed_encrypted_backup_and_restore(source, tmp_path):
    from click.testing import CliRunner

    from weftdb.cli import main

    key_file = tmp_path / "backup.key"
    key_file.write_bytes(KEY)
    _work(source.db, 0)
    runner = CliRunner()
    to, data = str(tmp_path / "b"), str(tmp_path / "data")
    result = runner.invoke(main, ["backup", "--from", source.address, "--to", to, "--compress", "--encrypt-key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["restore", "--from", to, "--to", data])
    assert result.exit_code == 1 and "encrypted" in result.output
    result = runner.invoke(main, ["restore", "--from", to, "--to", data, "--key-file", str(key_file)])
    assert result.exit_code == 0 and "40 vertices" in result.output, result.output
    result = runner.invoke(main, ["verify", to, "--key-file", str(key_file)])
    assert result.exit_code == 0, result.output
    (tmp_path / "wrong.key").write_text("00" * 32)
    result = runner.invoke(main, ["verify", to, "--key-file", str(tmp_path / "wrong.key")])
    assert result.exit_code == 1 and "wrong key" in result.output

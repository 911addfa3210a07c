"""Misuse of the command line gets one line naming what is wrong and exit
status 2, never a traceback; read-only commands create nothing; a data
directory's lock file is never written through a symbolic link.

These run the installed `weftdb` command in its own process, as a user does."""

import os
import subprocess
import sys

import pytest

WEFTDB = [sys.executable, "-m", "weftdb"]


def weftdb(*args, cwd=None):
    return subprocess.run([*WEFTDB, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def one_line_error(run, *words):
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "ok.cypherl"
    path.write_text("RETURN 1;\n")
    return str(path)


@pytest.mark.parametrize("flag, value, words", [
    ("--bolt-port", "99999", ["--bolt-port=99999", "0 to 65535"]),
    ("--storage-wal-file-flush-every-n-tx", "0", ["--storage-wal-file-flush-every-n-tx=0", "at least 1"]),
    ("--storage-snapshot-retention-count", "0", ["--storage-snapshot-retention-count=0", "at least 1"]),
    ("--storage-snapshot-retention-count", "-1", ["--storage-snapshot-retention-count=-1", "at least 1"]),
    ("--query-execution-timeout-sec", "-1", ["--query-execution-timeout-sec=-1", "at least 0"]),
    ("--storage-wal-file-size-kib", "0", ["--storage-wal-file-size-kib=0", "1 to 1048576"]),
    ("--storage-items-per-batch", "0", ["--storage-items-per-batch=0", "at least 1"]),
    ("--storage-snapshot-interval-sec", "-5", ["--storage-snapshot-interval-sec=-5", "at least 0"]),
    ("--log-level", "loud", ["--log-level=loud", "DEBUG"]),
])
def test_an_out_of_range_flag_is_one_line_and_exit_2(tmp_path, script, flag, value, words):
    run = weftdb("run", script, "--data-directory", str(tmp_path / "data"), f"{flag}={value}")
    one_line_error(run, *words)
    assert not (tmp_path / "data").exists()


def test_serve_refuses_a_bad_port_before_listening(tmp_path):
    one_line_error(weftdb("serve", "--bolt-port", "99999", "--data-directory", str(tmp_path / "d")), "--bolt-port=99999")


def test_a_data_directory_that_is_a_file(tmp_path, script):
    afile = tmp_path / "afile"
    afile.write_text("not a directory")
    one_line_error(weftdb("run", script, "--data-directory", str(afile)), "--data-directory", "it is a file")
    one_line_error(weftdb("serve", "--data-directory", str(afile), "--bolt-port", "0"), "it is a file")


def test_a_data_directory_under_proc(script):
    one_line_error(weftdb("run", script, "--data-directory", "/proc/weftdb-data"), "/proc is a virtual file system")


def test_import_of_a_file_that_is_not_utf8(tmp_path):
    bad = tmp_path / "latin1.cypherl"
    bad.write_bytes("CREATE (:City {name: 'Zürich'});\n".encode("latin-1"))
    one_line_error(weftdb("import", str(bad), "--data-directory", str(tmp_path / "d")), "not UTF-8", "line 1")


@pytest.mark.parametrize("command", [["dump"], ["verify"], ["inspect"]])
def test_read_only_commands_refuse_a_directory_that_is_not_there(tmp_path, command):
    typo = tmp_path / "typo"
    if command == ["dump"]:
        run = weftdb("dump", "--data-directory", str(typo))
    elif command == ["verify"]:
        run = weftdb("verify", str(typo))
    else:
        run = weftdb("inspect", str(typo / "wal" / "0000000000000001.wal"))
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr and str(typo) in run.stderr
    assert not typo.exists()


def test_a_symlinked_lock_file_is_refused_and_its_target_untouched(tmp_path, script):
    data = tmp_path / "data"
    data.mkdir()
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, data / ".lock")
    one_line_error(weftdb("run", script, "--data-directory", str(data)), ".lock is a symbolic link")
    assert victim.read_text() == "precious\n"


def test_a_symlink_planted_at_a_temporary_name_is_not_written_through(tmp_path):
    """Files are created with O_NOFOLLOW: a link where a temporary will be made fails the write, never follows."""
    from weftdb.basics.errors import DurabilityError
    from weftdb.durability.files import FileSystem

    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    os.symlink(victim, tmp_path / "users.json.tmp")
    with pytest.raises(DurabilityError, match="symbolic links"):
        FileSystem().write_atomic(str(tmp_path / "users.json"), b"{}")
    assert victim.read_text() == "precious\n"

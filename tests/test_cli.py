"""The `weftdb` command: help texts, flag handling, `run` and the shell's
non-interactive mode, through click's CliRunner and as a real process."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

import weftdb
from weftdb.basics.config import FLAGS
from weftdb.cli import main


def weftdb_process(*args, stdin="", cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "weftdb", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.mark.parametrize("command", [[], ["shell"], ["run"]])
def test_every_command_has_help_with_examples(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output


def test_database_commands_take_every_flag():
    for command in ("shell", "run"):
        text = CliRunner().invoke(main, [command, "--help"], terminal_width=200).output
        for flag in FLAGS:
            assert f"--{flag.name}" in text, (command, flag.name)
        assert "--flag-file" in text


class TestFlags:
    """What reaches weftdb.open, with a stand-in database."""

    @pytest.fixture
    def opened(self, monkeypatch):
        calls = []

        class Db:
            def execute(self, query, params=None, *, timeout=None, interrupt=None):
                raise AssertionError("no statements expected")

            def close(self):
                pass

        def fake_open(path=None, **flags):
            calls.append((path, flags))
            return Db()

        monkeypatch.setattr(weftdb.database, "open", fake_open)
        monkeypatch.delenv("WEFTDB_STORAGE_GC_CYCLE_SEC", raising=False)
        return calls

    def test_options_flag_file_and_environment(self, opened, tmp_path, monkeypatch):
        script = tmp_path / "empty.cypherl"
        script.write_text("// nothing\n")
        flag_file = tmp_path / "flags"
        flag_file.write_text("# tuned\n--storage-snapshot-retention-count=7\n--storage-gc-cycle-sec=5\n")
        monkeypatch.setenv("WEFTDB_STORAGE_GC_CYCLE_SEC", "9")
        result = CliRunner().invoke(
            main,
            ["run", str(script), "--data-directory", str(tmp_path / "d"), "--storage-wal-enabled=false",
             "--flag-file", str(flag_file)],
        )
        assert result.exit_code == 0, result.output
        [(path, flags)] = opened
        assert path == str(tmp_path / "d")
        assert flags["storage_wal_enabled"] is False
        assert flags["storage_snapshot_retention_count"] == 7
        assert flags["storage_gc_cycle_sec"] == 9  # the environment beats the flag file
        assert "data_directory" not in flags

    def test_alias(self, opened, tmp_path):
        script = tmp_path / "empty.cypherl"
        script.write_text("")
        result = CliRunner().invoke(main, ["run", str(script), "--data-recovery-on-startup", "no"])
        assert result.exit_code == 0, result.output
        assert opened[0][1]["storage_recover_on_startup"] is False

    def test_bad_value_is_a_usage_error(self, opened, tmp_path):
        script = tmp_path / "empty.cypherl"
        script.write_text("")
        result = CliRunner().invoke(main, ["run", str(script), "--storage-wal-enabled=maybe"])
        assert result.exit_code == 2
        assert "--storage-wal-enabled" in result.output and "expected true or false" in result.output
        assert opened == []


# ---- against the engine


@pytest.fixture
def data_dir(tmp_path):
    return str(tmp_path / "data")


def test_run_prints_rows_and_succeeds(tmp_path, data_dir):
    script = tmp_path / "tour.cypherl"
    script.write_text(
        "// two people\n"
        "CREATE (:Person {name: 'Ann', age: 31});\n"
        "CREATE (:Person {name: 'Bob', age: 27});\n"
        "MATCH (p:Person)\n"
        "RETURN p.name AS name, p.age AS age\n"
        "ORDER BY name;\n"
    )
    result = CliRunner().invoke(main, ["run", str(script), "--data-directory", data_dir])
    assert result.exit_code == 0, result.output
    assert 'name\tage\n"Ann"\t31\n"Bob"\t27\n' in result.stdout
    assert "ran 3 statements" in result.stderr


def test_run_reports_the_first_failure_with_its_line(tmp_path, data_dir):
    script = tmp_path / "broken.cypherl"
    script.write_text("CREATE (:A);\n\n/* next one is wrong */\nMATCH (n RETURN n;\nCREATE (:B);\n")
    process = weftdb_process("run", str(script), "--data-directory", data_dir)
    assert process.returncode == 1
    assert f"{script}:4: CypherSyntaxError:" in process.stderr
    assert "stopped after 1 of 3 statements" in process.stderr


def test_shell_reads_stdin_when_not_a_terminal(data_dir):
    process = weftdb_process(
        "shell", "--data-directory", data_dir,
        stdin="CREATE (:City {name: 'Oslo'});\nMATCH (c:City)\nRETURN c.name AS city;\nRETURN 1 +;\nRETURN 2 AS two;\n",
    )
    assert process.returncode == 1  # one statement failed, the rest ran
    assert process.stdout == 'city\n"Oslo"\ntwo\n2\n'
    assert "line 4: CypherSyntaxError:" in process.stderr
    assert "nodes-created: 1" in process.stderr


def test_shell_says_when_the_server_is_not_there():
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = CliRunner().invoke(main, ["shell", "--host", "127.0.0.1", "--port", str(port)])
    assert result.exit_code == 1
    assert f"cannot connect to 127.0.0.1:{port}" in result.output


def test_shell_against_a_server():
    from weftdb.basics.config import Config
    from weftdb.server.server import ServerThread

    with weftdb.open() as db, ServerThread(db, Config.load({"bolt_port": 0})) as server:
        result = CliRunner().invoke(
            main,
            ["shell", "--host", "127.0.0.1", "--port", str(server.port)],
            input="CREATE (:City {name: 'Oslo'})-[:IN]->(:Country {name: 'Norway'});\n"
                  "MATCH p = (:City)-[:IN]->(c) RETURN c, p, date('2024-01-02') AS d;\n",
        )
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        'c\tp\td\n(:Country {name: "Norway"})\t'
        '(:City {name: "Oslo"})-[:IN]->(:Country {name: "Norway"})\t2024-01-02\n'
    )
    assert "nodes-created: 2, labels-added: 2, properties-set: 2, relationships-created: 1" in result.stderr


def test_run_groups_statements_between_begin_and_commit(tmp_path, data_dir):
    script = tmp_path / "tx.cypherl"
    script.write_text(
        "BEGIN;\nCREATE (:A);\nCREATE (:A);\nROLLBACK;\n"
        "BEGIN;\nCREATE (:B);\nMATCH (b:B) RETURN count(b) AS seen;\nCOMMIT;\n"
        "MATCH (n) RETURN count(n) AS total;\n"
    )
    result = CliRunner().invoke(main, ["run", str(script), "--data-directory", data_dir])
    assert result.exit_code == 0, result.output
    assert result.stdout == "seen\n1\ntotal\n1\n"


def test_run_refuses_a_file_ending_inside_a_transaction(tmp_path, data_dir):
    script = tmp_path / "open.cypherl"
    script.write_text("BEGIN;\nCREATE (:A);\n")
    result = CliRunner().invoke(main, ["run", str(script), "--data-directory", data_dir])
    assert result.exit_code == 1
    assert "ends inside a transaction" in result.stderr
    check = CliRunner().invoke(main, ["shell", "--data-directory", data_dir], input="MATCH (n) RETURN count(n) AS n;\n")
    assert check.stdout == "n\n0\n"

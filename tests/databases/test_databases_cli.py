"""`--database` of the commands that act on one database: run, import, dump,
verify and shell (embedded and over Bolt)."""

import os
import sys

from click.testing import CliRunner

import weftdb
from weftdb.cli.main import main

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "server"))
from bolt_servers import serving  # noqa: E402


def cli(*args, input=None, code=0):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exit_code == code, result.output
    return result


def test_run_import_dump_and_verify_act_on_the_named_database(tmp_path):
    data = str(tmp_path / "data")
    with weftdb.open(data) as db:
        db.execute("CREATE DATABASE sales")
    script = tmp_path / "s.cypherl"
    script.write_text("CREATE (:Deal {v: 1});\nCREATE (:Deal {v: 2});\n")
    cli("run", str(script), "--data-directory", data, "--database", "sales")
    dumped = cli("dump", "--data-directory", data, "--database", "SALES").stdout
    assert dumped.count("CREATE") >= 2 and "Deal" in dumped
    assert "Deal" not in cli("dump", "--data-directory", data).stdout  # the default database has none
    (tmp_path / "d.cypherl").write_text(dumped)
    with weftdb.open(data) as db:
        db.execute("CREATE DATABASE copy")
    cli("import", str(tmp_path / "d.cypherl"), "--data-directory", data, "--database", "copy")
    with weftdb.open(data) as db:
        assert db.database("copy").execute("MATCH (d:Deal) RETURN sum(d.v)").single() == 3
    checked = cli("verify", data, "--database", "copy").output
    assert os.path.join(data, "databases", "copy") in checked
    refused = cli("dump", "--data-directory", data, "--database", "nowhere", code=2).output
    assert "--database=nowhere" in refused and "does not exist" in refused
    assert "--database" in cli("verify", data, "--database", "../etc", code=2).output


def test_shell_over_bolt_uses_the_named_database(tmp_path):
    db = weftdb.open(str(tmp_path / "data"))
    db.execute("CREATE DATABASE sales")
    db.database("sales").execute("CREATE (:Deal)")
    with serving(db) as server:
        out = cli("shell", "--host", "127.0.0.1", "--port", str(server.port), "--database", "sales",
                  input="MATCH (n:Deal) RETURN count(n) AS c;\nSHOW DATABASE;\n").stdout
        assert out.splitlines() == ["c", "1", "Current", '"sales"']  # strings printed as Cypher literals
        refused = cli("shell", "--host", "127.0.0.1", "--port", str(server.port), "--database", "nowhere",
                      input="RETURN 1;\n", code=2).output
        assert "--database=nowhere" in refused


def test_a_script_switches_databases_with_use_database(tmp_path):
    data = str(tmp_path / "data")
    script = tmp_path / "s.cypherl"
    script.write_text("CREATE DATABASE shop;\nUSE DATABASE shop;\nCREATE (:Item);\nBEGIN;\nCREATE (:Item);\nCOMMIT;\n"
                      "USE DATABASE neo4j;\nCREATE (:Top);\n")
    cli("run", str(script), "--data-directory", data)
    with weftdb.open(data) as db:
        assert db.database("shop").execute("MATCH (n:Item) RETURN count(n)").single() == 2
        assert db.execute("MATCH (n) RETURN labels(n)").rows == [(["Top"],)]

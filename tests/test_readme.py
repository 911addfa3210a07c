"""The examples in the README and docs run as written.

The ```cypher blocks of a document go, in order, into one script that
`weftdb run` executes on an empty database; the ```python blocks go, in
order, into one program run in an empty directory. Lines outside the blocks
become blank lines, so a failure names the document's own line number.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from weftdb.cli import main

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```(\w*)\s*$")


def blocks_only(document: Path, language: str) -> str:
    """The document with every line outside ```language blocks blanked."""
    kept, inside = [], None
    for line in document.read_text(encoding="utf-8").splitlines():
        fence = FENCE.match(line)
        if fence:
            inside = None if inside is not None else fence.group(1)
            kept.append("")
        else:
            kept.append(line if inside == language else "")
    return "\n".join(kept) + "\n"


@pytest.mark.parametrize("document", ["README.md", "docs/cypher.md"])
def test_cypher_blocks_run(document, tmp_path):
    script = blocks_only(ROOT / document, "cypher")
    assert script.strip(), f"{document} has no cypher examples"
    path = tmp_path / (Path(document).stem + ".cypherl")
    path.write_text(script, encoding="utf-8")
    # The LOAD CSV examples read docs/import/, as docs/cypher.md says.
    options = ["--data-directory", str(tmp_path / "data"), "--import-directory", str(ROOT / "docs" / "import")]
    result = CliRunner().invoke(main, ["run", str(path), *options])
    assert result.exit_code == 0, f"{document}: {result.stderr}"


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md", "docs/transactions.md", "docs/storage-modes.md",
                                      "docs/databases.md", "docs/analytics.md"])
def test_python_blocks_run(document, tmp_path):
    program = blocks_only(ROOT / document, "python")
    assert program.strip(), f"{document} has no python examples"
    path = tmp_path / "readme_examples.py"
    path.write_text(program, encoding="utf-8")
    process = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr.replace(str(path), document)


def sh_lines(document: Path) -> list[str]:
    """The lines of the ```sh blocks, in order."""
    lines, inside = [], None
    for line in document.read_text(encoding="utf-8").splitlines():
        fence = FENCE.match(line)
        if fence:
            inside = None if inside is not None else fence.group(1)
        elif inside == "sh":
            lines.append(line)
    return lines


def test_readme_commands_run_as_written(tmp_path):
    """The README's commands after `make run`, top to bottom, in an empty
    directory: `.venv/bin/weftdb` is this installation's command, a server
    started here stands for `make run`, and each interactive shell reads one
    statement from its standard input instead of a terminal."""
    command = shutil.which("weftdb", path=os.path.dirname(sys.executable))
    assert command, f"no weftdb command beside {sys.executable}"
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    (tmp_path / ".venv" / "bin" / "weftdb").symlink_to(command)
    server = subprocess.Popen([command, "serve", "--data-directory", str(tmp_path / "server-data"),
                               "--bolt-port", "0", "--backup-port", "0"], stderr=subprocess.PIPE, text=True)
    try:
        banner = server.stderr.readline()
        port = re.search(r"bolt://[^:]+:(\d+)", banner)
        assert port, f"weftdb serve said {banner!r}"
        script, heredoc = [], None
        for line in sh_lines(ROOT / "README.md"):
            if heredoc is not None:
                script.append(line)
                heredoc = None if line == heredoc else heredoc
                continue
            if "<<'" in line:
                heredoc = line.split("<<'", 1)[1].split("'", 1)[0]
            command_line = line.split("  #", 1)[0].strip()
            if not command_line or command_line.startswith(("make ", "#")):
                continue
            if command_line.startswith(".venv/bin/weftdb serve"):
                continue  # the server started above stands for it
            if command_line.startswith(".venv/bin/weftdb shell"):  # interactive as written
                if "--host" in command_line:
                    command_line += f" --port {port.group(1)}"
                command_line = f"echo 'RETURN 1 AS one;' | {command_line}"
            script.append(command_line)
        process = subprocess.run(["bash", "-euc", "\n".join(script)], cwd=tmp_path, capture_output=True, text=True,
                                 timeout=120)
        assert process.returncode == 0, process.stderr
        assert "\"Lisbon\"\t313\t\"Porto\"" in process.stdout and process.stdout.count("one\n1") == 2, process.stdout
    finally:
        server.terminate()
        server.wait(15)

"""The examples in the README and docs run as written.

The ```cypher blocks of a document go, in order, into one script that
`weftdb run` executes on an empty database; the ```python blocks go, in
order, into one program run in an empty directory. Lines outside the blocks
become blank lines, so a failure names the document's own line number.
"""

import re
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


@pytest.mark.parametrize("document", ["README.md", "docs/configuration.md", "docs/transactions.md"])
def test_python_blocks_run(document, tmp_path):
    program = blocks_only(ROOT / document, "python")
    assert program.strip(), f"{document} has no python examples"
    path = tmp_path / "readme_examples.py"
    path.write_text(program, encoding="utf-8")
    process = subprocess.run(
        [sys.executable, str(path)], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stderr.replace(str(path), document)

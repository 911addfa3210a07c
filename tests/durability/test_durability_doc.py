"""docs/durability.md's Python examples run as written, in an empty directory.

Why: the page tells operators how to lock, copy, restore and verify a data
directory; an example that no longer works would teach them wrong. The
```python blocks form one program (lines outside them become blank lines,
so a failure names the page's own line number).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_python_examples_run(tmp_path):
    lines, inside = [], False
    for line in (ROOT / "docs" / "durability.md").read_text(encoding="utf-8").splitlines():
        fence = re.match(r"^```(\w*)\s*$", line)
        if fence:
            inside = not inside and fence.group(1) == "python"
            lines.append("")
        else:
            lines.append(line if inside else "")
    program = tmp_path / "durability_md.py"
    program.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(program)], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr.replace(str(program), "docs/durability.md")
    assert "Data directory is now locked." in done.stdout and "all is well" in done.stdout

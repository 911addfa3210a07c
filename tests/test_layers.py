"""No module of weftdb/ imports from a higher layer.

The order of the layers is the list in docs/architecture.md ("Layers"); this
test reads it there, so it is written once. Every import is checked: at the
top of a module, inside a function, and under `if TYPE_CHECKING:`.
"""

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "weftdb")


def layers() -> list[str]:
    """The entries of the Layers block, bottom first: 'weftdb/basics/', 'weftdb/database.py', ..."""
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as handle:
        text = handle.read()
    section = text.split("## Layers", 1)[1]
    block = re.search(r"```text\n(.*?)```", section, re.S).group(1)
    entries = [line.split()[0] for line in block.splitlines() if line.startswith("weftdb/")]
    return list(reversed(entries))


def rank(module_path: str, order: list[str]) -> int:
    """The layer of a file path relative to the repository root (the longest entry that matches)."""
    matches = [i for i, entry in enumerate(order)
               if module_path == entry or (entry.endswith("/") and module_path.startswith(entry))]
    if not matches:
        raise AssertionError(f"{module_path} is in no layer of docs/architecture.md")
    return max(matches, key=lambda i: len(order[i]))


def module_file(module: str) -> str:
    """weftdb.durability.wal -> weftdb/durability/wal.py (or the package's __init__.py)."""
    path = module.replace(".", "/")
    if os.path.isdir(os.path.join(ROOT, path)):
        return path + "/__init__.py"
    return path + ".py"


def imports(path: str) -> list[tuple[int, str]]:
    """(line, imported weftdb module) for every import in the file, wherever it stands."""
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.split(".")[0] == "weftdb"]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}:{node.lineno}: a relative import (the project uses absolute imports)"
            if node.module and node.module.split(".")[0] == "weftdb":
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"  # `from weftdb.durability import wal` imports a module
                    found.append((node.lineno, sub if os.path.exists(os.path.join(ROOT, module_file(sub))) else node.module))
    return found


def sources() -> list[str]:
    out = []
    for directory, _dirs, names in os.walk(PACKAGE):
        out += [os.path.relpath(os.path.join(directory, n), ROOT) for n in names if n.endswith(".py")]
    return sorted(out)


def test_the_layer_list_names_every_folder_of_weftdb():
    order = layers()
    assert len(order) >= 8
    folders = {f"weftdb/{d}/" for d in os.listdir(PACKAGE) if os.path.isdir(os.path.join(PACKAGE, d)) and d != "__pycache__"}
    assert folders <= set(order), f"folders missing from docs/architecture.md: {sorted(folders - set(order))}"


@pytest.mark.parametrize("source", sources())
def test_no_import_reaches_a_higher_layer(source):
    order = layers()
    mine = rank(source, order)
    wrong = []
    for line, module in imports(os.path.join(ROOT, source)):
        theirs = rank(module_file(module), order)
        if theirs > mine:
            wrong.append(f"{source}:{line} imports {module} ({order[theirs]}, above {order[mine]})")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_imports_inside_functions(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from weftdb.cli.main import main\n")
    assert imports(str(sample)) == [(2, "weftdb.cli.main")]

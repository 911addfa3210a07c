"""docs/configuration.md is written by hand; this keeps it in step with
weftdb.basics.config.FLAGS: every flag has a row with its default, and every row
names a flag that exists."""

import re
from pathlib import Path

from weftdb.basics.config import FLAGS

DOC = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
ROW = re.compile(r"^\| `--([a-z0-9-]+)` \| [a-z]+ \| ([^|]+) \| ([^|]+) \|", re.MULTILINE)


def rows() -> dict[str, tuple[str, str]]:
    """flag -> (default, range) as the document gives them."""
    return {name: (default.strip(), span.strip()) for name, default, span in ROW.findall(DOC.read_text(encoding="utf-8"))}


def documented() -> dict[str, str]:
    return {name: default for name, (default, _span) in rows().items()}


def expected_default(value) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if value == "":
        return "(none)"
    if isinstance(value, float) and value.is_integer():
        return f"`{int(value)}`"
    return f"`{value}`"


def test_every_flag_is_documented_with_its_default():
    rows = documented()
    for flag in FLAGS:
        assert flag.name in rows, f"--{flag.name} is missing from {DOC.name}"
        assert rows[flag.name] == expected_default(flag.default), f"--{flag.name}: default differs"


def test_every_documented_flag_exists():
    names = {flag.name for flag in FLAGS}
    assert set(documented()) <= names


def test_aliases_are_mentioned():
    text = DOC.read_text(encoding="utf-8")
    for flag in FLAGS:
        for alias in flag.aliases:
            assert f"--{alias}" in text


def test_every_flag_is_documented_with_its_range():
    documented_ranges = {name: span for name, (_default, span) in rows().items()}
    for flag in FLAGS:
        assert documented_ranges[flag.name] == (flag.range_text or "any"), f"--{flag.name}: range differs"

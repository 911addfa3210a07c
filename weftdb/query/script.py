"""Cutting a Cypher script into statements.

`weftdb shell`, `weftdb run` and `weftdb import` read scripts of
`;`-terminated statements (Memgraph's `.cypherl` files, dumps). A `;` ends a
statement only outside strings, backquoted names and comments, and each
statement keeps the line it starts on, so errors name the source line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """One statement of a script: its text without comments or the `;`, the
    1-based line where it starts, and whether a `;` ended it."""

    text: str
    line: int
    terminated: bool


def split_statements(source: str) -> list[Statement]:
    """Cut `source` at every `;` that is outside a string, a backquoted name
    or a comment; pieces with no code are dropped. A last statement without
    its `;` is returned with `terminated=False`.

    Comments become spaces (newlines are kept) so that the line and column of
    a syntax error still point into the source."""
    return _scan(source)[0]


def is_complete(source: str) -> bool:
    """True when every statement in `source` has its `;` and no string or
    block comment is left open: the shell can run what was typed."""
    statements, open_tail = _scan(source)
    return not open_tail and all(statement.terminated for statement in statements)


# The tokens that matter for cutting: everything between them is code. An
# unclosed string, name or block comment runs to the end of the text.
_TOKENS = re.compile(
    r"""
      ;
    | //[^\n]*
    | /\*(?:.*?\*/|.*\Z)
    | '(?:[^'\\]|\\.)*(?:'|\\?\Z)
    | "(?:[^"\\]|\\.)*(?:"|\\?\Z)
    | `[^`]*(?:`|\Z)
    """,
    re.DOTALL | re.VERBOSE,
)
_NOT_NEWLINE = re.compile(r"[^\n]")


def _scan(source: str) -> tuple[list[Statement], bool]:
    """The statements of `source`, and whether it ends inside a string, a
    backquoted name or a block comment."""
    statements: list[Statement] = []
    pieces: list[str] = []
    line = 1  # where the current statement's text begins
    position = 0
    last = ""
    for match in _TOKENS.finditer(source):
        pieces.append(source[position : match.start()])
        position, last = match.end(), match.group()
        if last == ";":
            line = _add(statements, "".join(pieces), line, terminated=True)
            pieces = []
        elif last.startswith(("//", "/*")):
            pieces.append(_NOT_NEWLINE.sub(" ", last))
        else:
            pieces.append(last)
    pieces.append(source[position:])
    _add(statements, "".join(pieces), line, terminated=False)
    open_tail = position == len(source) and last[:1] in ("'", '"', "`", "/") and not _closed(last)
    return statements, open_tail


def _add(statements: list[Statement], text: str, line: int, *, terminated: bool) -> int:
    """Append the statement in `text` (if it has code); the line after it."""
    stripped = text.strip()
    if stripped:
        leading = text[: len(text) - len(text.lstrip())]
        statements.append(Statement(stripped, line + leading.count("\n"), terminated))
    return line + text.count("\n")


def _closed(token: str) -> bool:
    """Whether a string, name or comment token found its end."""
    if token.startswith("//"):
        return True
    if token.startswith("/*"):
        return len(token) >= 4 and token.endswith("*/")
    quote = token[0]
    if len(token) < 2 or not token.endswith(quote):
        return False
    backslashes = len(token[:-1]) - len(token[:-1].rstrip("\\"))
    return quote == "`" or backslashes % 2 == 0

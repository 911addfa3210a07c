"""Output for `weftdb inspect` and `weftdb verify`: rich on a terminal, plain otherwise.

Why one small class: both commands print headings, lines, problems and
tables, and both must stay greppable when piped (plain text, tables as
tab-separated lines under a header line) while being readable on a terminal
(rich tables, problems in red).
"""

from __future__ import annotations

import sys
from typing import IO


class Printer:
    def __init__(self, stream: IO[str] | None = None, rich: bool | None = None):
        self.stream = stream or sys.stdout
        if rich is None:
            rich = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._console = None
        if rich:
            from rich.console import Console

            self._console = Console(file=self.stream, highlight=False)

    def heading(self, text: str) -> None:
        if self._console:
            self._console.rule(f"[bold]{_escape(text)}")
        else:
            self.stream.write(text + "\n")

    def line(self, text: str) -> None:
        if self._console:
            self._console.print(_escape(text))
        else:
            self.stream.write(text + "\n")

    def problem(self, text: str) -> None:
        if self._console:
            self._console.print(f"[bold red]PROBLEM[/] {_escape(text)}")
        else:
            self.stream.write(f"PROBLEM {text}\n")

    def table(self, columns: list[str], rows: list[list[str]]) -> None:
        if self._console:
            from rich.table import Table

            table = Table(*columns, show_lines=False)
            for row in rows:
                table.add_row(*(_style(cell) for cell in row))
            self._console.print(table)
        else:
            self.stream.write("\t".join(columns) + "\n")
            for row in rows:
                self.stream.write("\t".join(row) + "\n")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _style(cell: str) -> str:
    if cell == "BAD":
        return "[bold red]BAD[/]"
    if cell == "OK":
        return "[green]OK[/]"
    return _escape(cell)

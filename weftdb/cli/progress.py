"""Progress of long commands on a terminal: a rich bar with a total and an ETA
once the total is known, a pulsing bar with a running count until then.

`progress(...)` yields a `Meter`: call it with the amount done since the last
call; give it the total with `meter.total(n)` as soon as the work knows it
(a restore from its plan, a verify from the manifest, a backup from the
snapshot size the server announces), which may be after it started.

Off a terminal (a pipe, CI) nothing is drawn, so output stays greppable.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator


class Meter:
    """`meter(n)`: n more done; `meter.total(n)`: the whole is n. Does nothing off a terminal."""

    def __init__(self, bar: Any = None, task: Any = None):
        self._bar, self._task = bar, task

    def __call__(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)

    def total(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(self._task, total=n)


@contextlib.contextmanager
def progress(what: str, total: int | None = None, unit: str = "items") -> Iterator[Meter]:
    """Yields a `Meter`. `unit` "bytes" shows sizes and a transfer rate."""
    if not sys.stderr.isatty():
        yield Meter()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    count = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    rate = [TransferSpeedColumn()] if unit == "bytes" else []
    columns = [TextColumn(what), BarColumn(), count, *rate, TextColumn("eta"), TimeRemainingColumn()]
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        yield Meter(bar, bar.add_task(what, total=total))

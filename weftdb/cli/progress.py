"""Progress of long commands on a terminal: a rich bar with a total and an ETA
where the total is known, a spinner with a running count where it is not.

Off a terminal (a pipe, CI) nothing is drawn, so output stays greppable.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator


@contextlib.contextmanager
def progress(what: str, total: int | None = None, unit: str = "items") -> Iterator[Callable[[int], None]]:
    """Yields `advance(n)`. `unit` "bytes" shows sizes and a transfer rate."""
    if not sys.stderr.isatty():
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    count = DownloadColumn() if unit == "bytes" else MofNCompleteColumn()
    rate = [TransferSpeedColumn()] if unit == "bytes" else []
    shape = [BarColumn(), TimeRemainingColumn()] if total is not None else [SpinnerColumn()]
    with Progress(TextColumn(what), *shape, count, *rate, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)

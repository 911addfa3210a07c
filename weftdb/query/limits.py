"""What stops a running query, and the check that work without rows calls.

Operators check every CHECK_EVERY rows whether their query was cancelled or
ran past its timeout (`ExecutionContext.check`). Work that builds one large
value without producing a row, such as `range(1, 100000000)`, would hold the
thread past every limit: it builds in chunks and calls `check()` between
them, which finds the running query's context through `RUNNING`.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

RUNNING: ContextVar[Any] = ContextVar("weftdb_running_query", default=None)
"""The ExecutionContext of the query this thread runs, while it runs."""

CHUNK = 1 << 18
"""Items a long-built value grows by between two checks."""


def check() -> None:
    """Stop the running query if it was cancelled or is out of time (a no-op outside a query)."""
    ctx = RUNNING.get()
    if ctx is not None:
        ctx.check()

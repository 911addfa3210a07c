"""What stops a running query, and the check that work without rows calls.

Operators check every CHECK_EVERY rows whether their query was cancelled,
ran past its timeout or made the process hold more memory than a limit
allows (`ExecutionContext.check`, with `MemoryLimits`). Work that builds one large
value without producing a row, such as `range(1, 100000000)`, would hold the
thread past every limit: it builds in chunks and calls `check()` between
them, which finds the running query's context through `RUNNING`.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from weftdb.basics.errors import MemoryLimitExceeded, QueryMemoryLimitExceeded

RUNNING: ContextVar[Any] = ContextVar("weftdb_running_query", default=None)
"""The ExecutionContext of the query this thread runs, while it runs."""

CHUNK = 1 << 18
"""Items a long-built value grows by between two checks."""


def check() -> None:
    """Stop the running query if it was cancelled or is out of time (a no-op outside a query)."""
    ctx = RUNNING.get()
    if ctx is not None:
        ctx.check()


MIB = 1 << 20


def resident_bytes() -> int:
    """This process's resident set size, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0


def physical_memory() -> int:
    """Bytes of physical memory, or 0 when the system does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGE
    except (OSError, ValueError):
        return 0


_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


@dataclass(frozen=True)
class MemoryLimits:
    """`process`: bytes the whole process may hold resident (`--memory-limit`);
    `query`: bytes the process may grow by while one query runs
    (`--query-memory-limit`). A query over either is stopped. Python cannot
    count one query's allocations cheaply, so the query limit is measured as
    the process's growth from the query's start: queries running at the same
    time share the blame, and memory freed but kept by the allocator counts."""

    process: int | None
    query: int | None

    @classmethod
    def of(cls, memory_limit_mib: int, query_memory_limit_mib: int) -> MemoryLimits:
        process = memory_limit_mib * MIB if memory_limit_mib else int(physical_memory() * DEFAULT_SHARE) or None
        return cls(process, query_memory_limit_mib * MIB or None)

    def check(self, started_at: int) -> None:
        """Raise MemoryLimitExceeded when over a limit; `started_at` is the
        resident size when the query began."""
        rss = resident_bytes()
        if self.process is not None and rss > self.process:
            raise MemoryLimitExceeded(
                f"The process holds {rss // MIB} MiB, over --memory-limit ({self.process // MIB} MiB): "
                "the query was stopped and rolled back.")
        if self.query is not None and rss - started_at > self.query:
            raise QueryMemoryLimitExceeded(
                f"The query grew the process by {(rss - started_at) // MIB} MiB, over --query-memory-limit "
                f"({self.query // MIB} MiB): it was stopped and rolled back.")


DEFAULT_SHARE = 0.9
"""With --memory-limit=0 the process may hold this share of the physical memory, as Memgraph's default."""

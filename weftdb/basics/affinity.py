"""Which CPUs the threads that run statements may use (`--cpu-affinity`).

Why: the engine is Python, so its threads take turns on the GIL and never run
statements in parallel. With many clients every commit hands the GIL and a
lock from thread to thread; when those threads sit on different CPUs each
hand-off wakes an idle CPU by interrupt, which on a virtual machine costs tens
of microseconds, more than the commit itself. On one CPU the hand-off is a
plain context switch: 16 clients commit 1.6x to 1.9x as fast (bench/README.md).
A lone client gains when that CPU is also the one that completes the data
disk's I/O, as the thread waiting for its WAL write is then woken where the
completion arrives.

Values: `none` (the default: threads stay where the OS puts them), `auto`
(one CPU: the one that has handled most of the data disk's interrupts, else
the lowest this process may use), or a list such as `1` or `0,2-3`. A thread
is pinned the first time it runs a statement, begins or commits a
transaction, and stays pinned. Embedded, it is the application's thread, and
threads it creates afterwards inherit the set: the reason the default leaves
it alone.
"""

from __future__ import annotations

import logging
import os
import threading

log = logging.getLogger("weftdb.basics.affinity")

_pinned = threading.local()  # .cpus: the set this thread was pinned to


def parse(text: str) -> str:
    """The flag's parser: `none`, `auto` or a CPU list, checked for syntax."""
    value = text.strip().lower()
    if value not in ("none", "auto"):
        cpu_list(value)
    return value


def cpu_list(text: str) -> frozenset[int]:
    """`0,2-3` -> {0, 2, 3}; ValueError naming what does not parse."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(f"expected none, auto or CPU numbers like 0,2-3, got {text!r}")
        low, high = int(first), int(last) if dash else int(first)
        if high < low:
            raise ValueError(f"the range {part.strip()!r} runs backwards")
        cpus.update(range(low, high + 1))
    return frozenset(cpus)


def choose(setting: str, data_dir: str | None) -> frozenset[int] | None:
    """The CPUs to pin statement threads to, or None to leave them alone.

    ValueError for CPUs this process may not use."""
    if setting == "none":
        return None
    if not hasattr(os, "sched_setaffinity"):
        if setting == "auto":
            log.info("--cpu-affinity=auto: this platform cannot pin threads; they stay unpinned")
            return None
        raise ValueError("this platform cannot pin threads; use none")
    allowed = frozenset(os.sched_getaffinity(0))
    if setting == "auto":
        cpu = disk_interrupt_cpu(data_dir, allowed) if data_dir else None
        return frozenset((min(allowed) if cpu is None else cpu,))
    cpus = cpu_list(setting)
    if not cpus <= allowed:
        raise ValueError(f"{_describe(cpus - allowed)} is not one this process may use ({_describe(allowed)})")
    return cpus


def disk_interrupt_cpu(path: str, allowed: frozenset[int], proc: str = "/proc", sys: str = "/sys") -> int | None:
    """The allowed CPU that has handled most interrupts of the block device
    holding `path`, or None where that cannot be told (tmpfs, no sysfs)."""
    path = os.path.abspath(path)
    while not os.path.exists(path) and os.path.dirname(path) != path:
        path = os.path.dirname(path)  # a directory still to be made: the disk it will be on
    try:
        dev = os.stat(path).st_dev
        irqs = _device_irqs(os.path.join(sys, "dev", "block", f"{os.major(dev)}:{os.minor(dev)}"))
        counts = _interrupt_counts(os.path.join(proc, "interrupts"), irqs)
    except OSError:
        return None
    busiest = max(((n, -cpu) for cpu, n in counts.items() if cpu in allowed and n > 0), default=None)
    return None if busiest is None else -busiest[1]  # the lower CPU of a tie


def _device_irqs(block: str) -> set[int]:
    """IRQ numbers of the hardware behind a /sys/dev/block/M:m entry: the
    MSI vectors (or legacy `irq`) of the nearest device above it that has any."""
    disk = os.path.realpath(block)
    if os.path.exists(os.path.join(disk, "partition")):
        disk = os.path.dirname(disk)
    here = os.path.realpath(os.path.join(disk, "device"))
    while os.path.basename(here) and os.path.basename(here) != "devices":
        msi = os.path.join(here, "msi_irqs")
        if os.path.isdir(msi):
            return {int(n) for n in os.listdir(msi) if n.isdigit()}
        legacy = os.path.join(here, "irq")
        if os.path.isfile(legacy):
            with open(legacy) as f:
                irq = int(f.read().strip() or 0)
            if irq > 0:
                return {irq}
        here = os.path.dirname(here)
    return set()


def _interrupt_counts(interrupts: str, irqs: set[int]) -> dict[int, int]:
    """Per CPU, the interrupts /proc/interrupts has counted for `irqs`."""
    counts: dict[int, int] = {}
    if not irqs:
        return counts
    with open(interrupts) as f:
        cpus = [int(name[3:]) for name in f.readline().split() if name.startswith("CPU")]
        for line in f:
            number, colon, rest = line.partition(":")
            if colon and number.strip().isdigit() and int(number) in irqs:
                for cpu, field in zip(cpus, rest.split()):
                    if field.isdigit():
                        counts[cpu] = counts.get(cpu, 0) + int(field)
    return counts


def _describe(cpus: frozenset[int]) -> str:
    """"CPU 0,2-5", in the flag's own notation (runs as ranges)."""
    runs: list[list[int]] = []
    for cpu in sorted(cpus):
        if runs and runs[-1][1] == cpu - 1:
            runs[-1][1] = cpu
        else:
            runs.append([cpu, cpu])
    return "CPU " + ",".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs)


class Placement:
    """The chosen CPUs of one database; `pin()` is called on every statement
    and costs one attribute lookup once the thread is pinned."""

    def __init__(self, cpus: frozenset[int] | None):
        self.cpus = cpus

    def pin(self) -> None:
        cpus = self.cpus
        if cpus is None or getattr(_pinned, "cpus", None) is cpus:
            return
        _pinned.cpus = cpus  # once per thread, whether or not the kernel agrees
        try:
            os.sched_setaffinity(0, cpus)
        except OSError as e:  # e.g. the cgroup's CPUs changed since the database opened
            log.warning("could not pin thread %s to %s: %s", threading.current_thread().name, _describe(cpus), e)

    def __str__(self) -> str:
        return "unpinned" if self.cpus is None else _describe(self.cpus)

"""Temporal property values.

Dates, times and datetimes are Python's own `datetime` types:

    Cypher type      Python value
    Date             datetime.date
    LocalTime        datetime.time without tzinfo
    Time             datetime.time with tzinfo (a fixed offset)
    LocalDateTime    datetime.datetime without tzinfo
    DateTime         datetime.datetime with tzinfo (an offset or a zoneinfo zone)
    Duration         weftdb.Duration (below)

Python has no type for a Cypher duration, whose months, days and seconds do
not convert into each other, so `Duration` keeps the four components apart,
as Cypher and Bolt do.
"""

from __future__ import annotations


class Duration:
    """A Cypher duration: months, days, seconds and nanoseconds, kept apart.

    Normalised as Cypher does: `seconds` carries whole seconds and
    `nanoseconds` is in [0, 1e9)."""

    __slots__ = ("months", "days", "seconds", "nanoseconds")

    def __init__(self, months: int = 0, days: int = 0, seconds: int = 0, nanoseconds: int = 0):
        extra, nanoseconds = divmod(int(nanoseconds), 1_000_000_000)
        self.months = int(months)
        self.days = int(days)
        self.seconds = int(seconds) + extra
        self.nanoseconds = nanoseconds

    def _key(self) -> tuple[int, int, int, int]:
        return (self.months, self.days, self.seconds, self.nanoseconds)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Duration) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(("Duration",) + self._key())

    def __repr__(self) -> str:
        return f"Duration(months={self.months}, days={self.days}, seconds={self.seconds}, nanoseconds={self.nanoseconds})"

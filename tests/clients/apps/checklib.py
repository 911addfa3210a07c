"""What every Python app of the client matrix shares: checks reported as JSON lines.

An app runs inside a client's own environment (.clients/<name>/bin/python), so
this module uses the standard library only. `check(name)` is a context manager:
it prints {"start": name}, runs the block, and prints whether it passed or the
exception the client raised (its class and message), then the app goes on with
its next check. See tests/clients/conftest.py for the reading side.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import sys
import traceback

URI = os.environ.get("WEFTDB_URI", "bolt://127.0.0.1:7687")
HOST = os.environ.get("WEFTDB_HOST", "127.0.0.1")
PORT = int(os.environ.get("WEFTDB_PORT", "7687"))

# The values every client reads back, as Cypher that makes them. Temporal values
# stop at microseconds (Python's precision). `time` and `datetime_offset` carry a
# UTC offset, `datetime_zone` a zone id.
CYPHER_VALUES = {
    "null": "null",
    "bool": "true",
    "int": "-9007199254740993",
    "float": "2.5e-3",
    "string": "'grüße, 世界 \U0001f600'",
    "list": "[1, 'two', [3.0, null], {four: 4}]",
    "map": "{a: 1, b: 'two', c: [true, false], d: {e: null}}",
    "date": "date('2024-02-29')",
    "time": "time('12:34:56.123456+02:00')",
    "localtime": "localtime('23:59:58.000001')",
    "datetime_offset": "datetime('2024-06-01T12:30:45.123456-05:00')",
    "datetime_zone": "datetime('2024-06-01T12:30:45.123456[Europe/Berlin]')",
    "localdatetime": "localdatetime('2024-01-02T03:04:05.678901')",
    "duration": "duration('P1Y2M10DT3H4M5.000006S')",
}

NATIVE_VALUES = {
    "null": None,
    "bool": True,
    "int": -9007199254740993,
    "float": 2.5e-3,
    "string": "grüße, 世界 \U0001f600",
    "list": [1, "two", [3.0, None], {"four": 4}],
    "map": {"a": 1, "b": "two", "c": [True, False], "d": {"e": None}},
    "date": dt.date(2024, 2, 29),
    "time": dt.time(12, 34, 56, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    "localtime": dt.time(23, 59, 58, 1),
    "datetime_offset": dt.datetime(2024, 6, 1, 12, 30, 45, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    # 12:30:45 in Berlin in June (CEST, +02:00)
    "datetime_zone": dt.datetime(2024, 6, 1, 10, 30, 45, 123456, tzinfo=dt.timezone.utc),
    "localdatetime": dt.datetime(2024, 1, 2, 3, 4, 5, 678901),
}


# What a pymgclient (and so gqlalchemy) user reads back: Memgraph's value types.
# pymgclient turns a Duration into a datetime.timedelta, which has no months, and
# aborts its process on a Time with an offset (src/connection-int.c's
# connection_discard_all assertion); Memgraph has neither, so its users never
# meet them.
MEMGRAPH_CYPHER_VALUES = {name: cypher for name, cypher in CYPHER_VALUES.items() if name != "time"}
MEMGRAPH_CYPHER_VALUES["duration"] = "duration('P10DT3H4M5.000006S')"
MEMGRAPH_NATIVE_VALUES = {name: value for name, value in NATIVE_VALUES.items() if name != "time"}
MEMGRAPH_NATIVE_VALUES["duration"] = dt.timedelta(days=10, hours=3, minutes=4, seconds=5, microseconds=6)


class CheckFailed(AssertionError):
    pass


def expect(condition: object, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def expect_equal(actual: object, expected: object, what: str = "value") -> None:
    if actual != expected or type(actual) is not type(expected):
        raise CheckFailed(f"{what}: expected {expected!r} ({type(expected).__name__}), got {actual!r} ({type(actual).__name__})")


def info(**fields: object) -> None:
    _emit({"info": fields})


def _emit(message: dict) -> None:
    sys.stdout.write(json.dumps(message, default=repr) + "\n")
    sys.stdout.flush()


def describe(exc: BaseException) -> str:
    """The exception as a client's user sees it: its class, code and message."""
    kind = type(exc)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    code = getattr(exc, "code", None)
    message = getattr(exc, "message", None)  # the neo4j driver's error: its server message alone
    text = (message if isinstance(message, str) and message else str(exc)).strip() or repr(exc)
    if code and str(code) not in text:
        text = f"{{code: {code}}} {text}"
    if isinstance(exc, CheckFailed):
        return text
    cause = exc.__cause__ or exc.__context__
    if cause is not None and not isinstance(exc, CheckFailed) and str(cause) not in text:
        text += f" (caused by {describe(cause)})"
    return f"{name}: {text}"


class CheckTimeout(Exception):
    pass


def _timeout(signum, frame):
    raise CheckTimeout("the check did not finish in time (a client waiting for an answer it never gets)")


@contextlib.contextmanager
def check(name: str, seconds: int = 20):
    """Run a check; one that takes more than `seconds` fails (SIGALRM), and the app goes on."""
    _emit({"start": name})
    previous = signal.signal(signal.SIGALRM, _timeout)
    signal.alarm(seconds)
    try:
        yield
    except Exception as exc:  # every failure is a result of the check, not of the app
        if os.environ.get("WEFTDB_APP_TRACEBACK"):
            traceback.print_exc()
        _emit({"check": name, "ok": False, "error": describe(exc)})
    else:
        _emit({"check": name, "ok": True})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def raises(call, *classes: type, match: str | None = None) -> BaseException:
    """Run `call`; it must raise one of `classes` (the client's own error classes)."""
    try:
        call()
    except classes as exc:
        if match is not None and match.lower() not in str(exc).lower():
            raise CheckFailed(f"raised {describe(exc)}, whose message does not mention {match!r}") from None
        return exc
    except Exception as exc:
        wanted = " or ".join(c.__qualname__ for c in classes)
        raise CheckFailed(f"expected {wanted}, got {describe(exc)}") from None
    wanted = " or ".join(c.__qualname__ for c in classes)
    raise CheckFailed(f"expected {wanted}, nothing was raised")

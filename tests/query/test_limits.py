"""A query is held to its timeout even while it builds one big list, and to
the memory limits (--memory-limit for the process, --query-memory-limit for
one query), each stop naming the limit. Each case runs in its own process so
that its peak resident memory is its own."""

import json
import subprocess
import sys
import textwrap

import pytest

import weftdb

_RUN = textwrap.dedent("""
    import json, sys, time, weftdb
    flags = json.loads(sys.argv[2])
    db = weftdb.open(None, **flags)
    started = time.monotonic()
    outcome = {}
    try:
        db.execute(sys.argv[1])
        outcome["error"] = None
    except weftdb.Error as exc:
        outcome["error"] = type(exc).__name__
        outcome["message"] = str(exc)
    outcome["seconds"] = time.monotonic() - started
    with open("/proc/self/status") as status:
        outcome["peak_mib"] = next(int(l.split()[1]) for l in status if l.startswith("VmHWM")) / 1024
    print(json.dumps(outcome))
""")


def run_alone(query: str, **flags) -> dict:
    done = subprocess.run([sys.executable, "-c", _RUN, query, json.dumps(flags)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_unwind_of_a_huge_range_stops_at_its_timeout_without_building_the_list():
    outcome = run_alone("UNWIND range(1, 100000000) AS i WITH i WHERE i < 0 RETURN count(i)",
                        query_execution_timeout_sec=2)
    assert outcome["error"] == "QueryTimeout"
    assert outcome["seconds"] < 3
    assert outcome["peak_mib"] < 200  # the 100M-element list (3.9 GB) is never made


def test_building_a_huge_list_stops_at_its_timeout():
    # Freeing what was built by then takes a while too (tens of millions of ints): 1 s leaves room for it.
    outcome = run_alone("RETURN size(range(1, 100000000)) AS n", query_execution_timeout_sec=1)
    assert outcome["error"] == "QueryTimeout" and outcome["seconds"] < 3


def test_building_a_huge_list_stops_at_the_query_memory_limit_naming_it():
    outcome = run_alone("RETURN size(range(1, 100000000)) AS n", query_memory_limit=256)
    assert outcome["error"] == "QueryMemoryLimitExceeded"
    assert "--query-memory-limit (256 MiB)" in outcome["message"]
    assert outcome["peak_mib"] < 256 + 150  # the limit, the interpreter and one chunk's worth


def test_the_process_memory_limit_stops_a_query_naming_it():
    outcome = run_alone("UNWIND range(1, 3000000) AS i WITH collect(i) AS all RETURN size(all)", memory_limit=120)
    assert outcome["error"] == "MemoryLimitExceeded"
    assert "--memory-limit (120 MiB)" in outcome["message"]
    assert outcome["peak_mib"] < 120 + 60


def test_a_stopped_query_leaves_the_database_serving():
    with weftdb.open(None, query_memory_limit=64) as db:
        with pytest.raises(weftdb.QueryMemoryLimitExceeded):
            db.execute("UNWIND range(1, 10000000) AS i CREATE (:Big {i: i})")
        assert db.execute("MATCH (n:Big) RETURN count(n)").rows == [(0,)]  # rolled back whole
        assert db.execute("RETURN 1 AS one").rows == [(1,)]

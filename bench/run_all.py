"""Run every benchmark in bench/ (`make bench`).

A benchmark is any `bench/*_bench*.py` script; each runs in its own process
with its default sizes, prints its table and writes its JSON to
bench/results/. A new benchmark needs no change here. The exit status is 1
if any benchmark failed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    scripts = sorted(here.glob("*_bench*.py"))
    failed = []
    for script in scripts:
        print(f"\n=== {script.name} ===", flush=True)
        started = time.perf_counter()
        status = subprocess.run([sys.executable, str(script)]).returncode
        print(f"=== {script.name}: {'ok' if status == 0 else f'FAILED (exit {status})'} "
              f"in {time.perf_counter() - started:.0f} s", flush=True)
        if status:
            failed.append(script.name)
    print(f"\n{len(scripts) - len(failed)} of {len(scripts)} benchmarks passed" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

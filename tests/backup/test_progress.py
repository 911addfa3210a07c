"""Progress with totals (issue 12, item 20, backup half): restore and verify
announce the bytes they will read from the manifest, a full backup the
snapshot size the server announces; `weftdb backup`, `restore` and `verify`
draw a bar with that total and an ETA on a terminal, and nothing off one."""

import os
import pty
import re
import select
import subprocess
import sys

from weftdb.backup.client import backup
from weftdb.backup.restore import restore
from weftdb.backup.verify import verify_backup

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Events(list):
    def progress(self, n):
        self.append(("progress", n))

    def total(self, n):
        self.append(("total", n))

    def advanced(self):
        return sum(n for kind, n in self if kind == "progress")


def _work(source, tmp_path):
    db, to = source.db, str(tmp_path / "backup")
    db.execute("UNWIND range(1, 2000) AS i CREATE (:N {i: i, text: 'some text to fill a snapshot ' + toString(i)})")
    full = Events()
    summary = backup(source.address, to, progress=full.progress, total=full.total)
    db.execute("UNWIND range(1, 50) AS i CREATE (:M {i: i})")
    incremental = Events()
    backup(source.address, to, progress=incremental.progress, total=incremental.total)
    return to, full, summary, incremental


def test_the_library_announces_totals_before_the_work(source, tmp_path):
    to, full, summary, incremental = _work(source, tmp_path)
    snapshot = os.path.join(to, "snapshots", os.listdir(os.path.join(to, "snapshots"))[0])
    assert full[0] == ("total", os.path.getsize(snapshot)) and full.advanced() >= full[0][1]
    assert not [e for e in incremental if e[0] == "total"] and incremental.advanced() > 0  # its size is not known before
    restored = Events()
    restore(to, str(tmp_path / "restored"), progress=restored.progress, total=restored.total)
    stored = sum(os.path.getsize(os.path.join(to, d, n)) for d in ("snapshots", "wal") for n in os.listdir(os.path.join(to, d)))
    assert restored[0] == ("total", stored) and restored.advanced() == stored
    checked = Events()
    assert verify_backup(to, progress=checked.progress, total=checked.total).ok
    assert checked[0][0] == "total" and checked.advanced() == checked[0][1] > stored  # the files, then the trial restore


def _on_a_terminal(args, timeout=60):
    """Run `python -m weftdb ARGS` with stdout and stderr on a pseudo-terminal; (exit status, what it drew)."""
    master, slave = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "weftdb", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                               stdout=slave, stderr=slave)
    os.close(slave)
    drawn = b""
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        try:
            chunk = os.read(master, 65536) if ready else b""
        except OSError:  # the child closed the terminal
            chunk = b""
        if not chunk:
            break
        drawn += chunk
    os.close(master)
    return process.wait(timeout), re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", drawn).decode("utf-8", "replace")


def test_the_commands_draw_a_total_and_an_eta_on_a_terminal_and_nothing_off_one(source, tmp_path):
    source.db.execute("UNWIND range(1, 20000) AS i CREATE (:N {i: i, text: 'text to fill a snapshot ' + toString(i)})")
    to, data = str(tmp_path / "backup"), str(tmp_path / "data")
    total = re.compile(r"[\d.]+/[\d.]+ (bytes|kB|MB) .*eta \d+:\d\d:\d\d")
    for args in (["backup", "--from", source.address, "--to", to], ["restore", "--from", to, "--to", data],
                 ["verify", to]):
        status, drawn = _on_a_terminal(args)
        assert status == 0, drawn
        assert total.search(drawn), f"weftdb {args[0]} drew no total and ETA: {drawn[-500:]!r}"
    piped = subprocess.run([sys.executable, "-m", "weftdb", "restore", "--from", to, "--to", data, "--overwrite"],
                           cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert piped.returncode == 0 and piped.stdout == "" and piped.stderr.startswith("restored "), piped.stderr
    assert len(piped.stderr.splitlines()) == 1

"""Ctrl-C in `weftdb shell` cancels the running statement, embedded and over
Bolt (where the server must stop the query too), says "cancelled" and gives
the prompt back: with a real SIGINT to the main thread, and in a real
terminal driven through tmux."""

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

import weftdb
from weftdb.basics.config import Config
from weftdb.basics.errors import QueryInterrupted
from weftdb.cli.shell import EmbeddedSession, ServerSession, describe_error, execute
from weftdb.server.server import ServerThread

SLOW = "UNWIND range(1, 6000) AS a UNWIND range(1, 6000) AS b RETURN count(*)"  # 36M rows: tens of seconds


def ctrl_c_after(seconds):
    main = threading.main_thread().ident
    timer = threading.Timer(seconds, lambda: signal.pthread_kill(main, signal.SIGINT))
    timer.start()
    return timer


def test_ctrl_c_cancels_an_embedded_statement_and_the_session_goes_on():
    session = EmbeddedSession(weftdb.open())
    try:
        ctrl_c_after(0.3)
        started = time.monotonic()
        with pytest.raises(QueryInterrupted) as caught:
            execute(session, SLOW)
        assert time.monotonic() - started < 5
        assert describe_error(caught.value) == "cancelled"
        result, _ = execute(session, "RETURN 42 AS answer")
        assert result.rows == [(42,)]
    finally:
        session.close()


def test_ctrl_c_over_bolt_resets_and_the_server_stops_the_query():
    with weftdb.open() as db, ServerThread(db, Config.load({"bolt_port": 0})) as server:
        session = ServerSession("127.0.0.1", server.port, None, None)
        try:
            ctrl_c_after(0.3)
            started = time.monotonic()
            with pytest.raises(QueryInterrupted):
                execute(session, SLOW)
            assert time.monotonic() - started < 5
            deadline = time.monotonic() + 5
            while any(c.busy for c in server.server.connections) and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not any(c.busy for c in server.server.connections), "the server still runs the query"
            result, _ = execute(session, "RETURN 42 AS answer")
            assert result.rows == [(42,)]
        finally:
            session.close()


def test_ctrl_c_inside_a_transaction_over_bolt_rolls_it_back():
    with weftdb.open() as db, ServerThread(db, Config.load({"bolt_port": 0})) as server:
        session = ServerSession("127.0.0.1", server.port, None, None)
        try:
            execute(session, "BEGIN")
            execute(session, "CREATE (:Pending)")
            ctrl_c_after(0.3)
            with pytest.raises(QueryInterrupted):
                execute(session, SLOW)
            assert not session.in_transaction
            assert execute(session, "MATCH (n:Pending) RETURN count(n)")[0].rows == [(0,)]
        finally:
            session.close()


# -- a real terminal ---------------------------------------------------------------------------


class Terminal:
    """A tmux session running one command, read through capture-pane."""

    def __init__(self, command: list[str]):
        self.name = f"weftdb-test-{uuid.uuid4().hex[:8]}"
        subprocess.run(["tmux", "new-session", "-d", "-s", self.name, "-x", "200", "-y", "50", *command], check=True)

    def screen(self) -> str:
        return subprocess.run(["tmux", "capture-pane", "-p", "-t", self.name], capture_output=True, text=True).stdout

    def type(self, text: str) -> None:
        """Type `text` as it is, then Enter (as hex key codes: tmux reads a trailing `;` as its own separator)."""
        subprocess.run(["tmux", "send-keys", "-t", self.name, "-H", *(f"{b:02x}" for b in text.encode())], check=True)
        self.keys("Enter")

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, text: str, timeout: float = 30.0, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            screen = self.screen()
            if screen.count(text) >= count:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} did not appear {count} times; the screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


@pytest.fixture
def terminal():
    assert shutil.which("tmux"), "tmux is installed by `make test` (Makefile: system packages)"
    opened = []

    def start(command):
        opened.append(Terminal(command))
        return opened[-1]

    yield start
    for t in opened:
        t.close()


def _cancel_in_a_terminal(term):
    term.wait_for("weftdb>")
    term.type(SLOW + ";")
    time.sleep(1.0)
    term.keys("C-c")
    term.wait_for("cancelled", timeout=15)
    term.wait_for("weftdb>", count=2)
    term.type("RETURN 6 * 7 AS answer;")
    screen = term.wait_for("42", timeout=15)
    assert "KeyError" not in screen and "Traceback" not in screen, screen
    term.type(":quit")


def test_ctrl_c_in_a_real_terminal_embedded(tmp_path, terminal):
    env = f"HOME={tmp_path}"
    term = terminal(["env", env, sys.executable, "-m", "weftdb", "shell", "--data-directory", str(tmp_path / "data")])
    _cancel_in_a_terminal(term)


def test_ctrl_c_in_a_real_terminal_against_a_server(tmp_path, terminal):
    server = subprocess.Popen(
        [sys.executable, "-m", "weftdb", "serve", "--data-directory", str(tmp_path / "data"), "--bolt-port", "0",
         "--backup-enabled", "false"], stderr=subprocess.PIPE, text=True)
    try:
        line = server.stderr.readline()
        assert "listening on bolt://" in line, line
        port = line.rsplit(":", 1)[1].strip()
        term = terminal(["env", f"HOME={tmp_path}", sys.executable, "-m", "weftdb", "shell", "--host", "127.0.0.1",
                         "--port", port])
        _cancel_in_a_terminal(term)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    assert server.returncode == 0
    assert os.path.isdir(tmp_path / "data")

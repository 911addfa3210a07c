"""The harness of the client matrix (issue 13): published clients, each in its own environment
under .clients/ (`make clients`), run small apps against `weftdb serve`.

Each test module starts one `weftdb serve` subprocess with default flags (a
temporary data directory, any free Bolt and backup port), runs its client's app
(tests/clients/apps/) with that client's interpreter, and turns every check the
app reports into one test, so a failure names the client, the check and the
error the client raised. The apps speak a line protocol on stdout, one JSON
object a line: {"start": name} before a check, then {"check": name, "ok": true}
or {"check": name, "ok": false, "error": "..."}, and {"info": {...}} for the
client's versions. A check the app never finished (it crashed or hung) fails
with the app's exit status, its last started check and the end of its stderr.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
APPS = os.path.join(HERE, "apps")
CLIENTS = os.path.join(ROOT, ".clients")
LISTENING = re.compile(r"WeftDB is listening on bolt://([^:\s]+):(\d+)")


class WeftServer:
    """`weftdb serve` as a user starts it: default flags, its own data directory."""

    def __init__(self, *flags: str):
        self.dir = tempfile.mkdtemp(prefix="weftdb-clients-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "server.log")
        weftdb = shutil.which("weftdb", path=os.path.dirname(sys.executable))
        if weftdb is None:
            raise RuntimeError(f"no weftdb command beside {sys.executable}: run `make install-test`")
        command = [weftdb, "serve", "--data-directory", self.data, "--bolt-port", "0", "--backup-port", "0", *flags]
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        self.host, self.port = self._wait_listening(timeout=30)

    def _wait_listening(self, timeout: float) -> tuple[str, int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = LISTENING.search(self.log())
            if match:
                return match.group(1), int(match.group(2))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        log = self.log()
        self.stop()
        raise RuntimeError(f"weftdb serve did not start (exit {self.process.returncode}):\n{log}")

    @property
    def uri(self) -> str:
        return f"bolt://{self.host}:{self.port}"

    def log(self) -> str:
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class AppRun:
    """What one run of an app reported."""

    client: str
    results: dict[str, dict] = field(default_factory=dict)
    info: dict = field(default_factory=dict)
    started: list[str] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    stderr: str = ""

    @property
    def title(self) -> str:
        version = self.info.get("version")
        return f"{self.info.get('client', self.client)} {version}" if version else self.client

    def failure(self, name: str) -> str | None:
        """None when the check passed, else why it did not."""
        result = self.results.get(name)
        if result is not None:
            return None if result["ok"] else result["error"]
        how = "timed out" if self.timed_out else f"exited with status {self.returncode}"
        where = f" during check {self.started[-1]!r}" if self.started else " before its first check"
        tail = "\n".join(self.stderr.strip().splitlines()[-15:])
        return f"the app {how}{where} and never finished this check; its stderr ends:\n{tail}"


def client_bin(env: str, program: str = "python") -> str:
    path = os.path.join(CLIENTS, env, "bin", program)
    if not os.path.exists(path):
        pytest.fail(f"client environment .clients/{env} is missing: run `make clients`", pytrace=False)
    return path


def run_app(client: str, command: list[str], server: WeftServer, *args: str, timeout: float = 90,
            env: dict[str, str] | None = None) -> AppRun:
    """Run an app (argv `command` + `args`) against `server`; collect its JSON lines."""
    environment = {**os.environ, "WEFTDB_URI": server.uri, "WEFTDB_HOST": server.host,
                   "WEFTDB_PORT": str(server.port), "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    for name in ("NEO4J_URI", "NEO4J_USERNAME", "NEO4J_PASSWORD", "NEO4J_DATABASE", "MG_HOST", "MG_PORT"):
        if name not in (env or {}):
            environment.pop(name, None)
    run = AppRun(client)
    try:
        done = subprocess.run([*command, *args], cwd=APPS, env=environment, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout)
        stdout, run.stderr, run.returncode = done.stdout, done.stderr, done.returncode
    except subprocess.TimeoutExpired as exc:
        stdout = _text(exc.stdout)
        run.stderr, run.timed_out = _text(exc.stderr), True
    for line in stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue  # a client's own print
        if "start" in message:
            run.started.append(message["start"])
        elif "check" in message:
            run.results[message["check"]] = message
        elif "info" in message:
            run.info.update(message["info"])
    return run


def _text(data: bytes | str | None) -> str:
    if isinstance(data, bytes):
        return data.decode(errors="replace")
    return data or ""


def python_app(env: str, script: str) -> list[str]:
    return [client_bin(env), os.path.join(APPS, script)]


def node_app(script: str) -> tuple[list[str], dict[str, str]]:
    """node, with the JavaScript client's node_modules on its require path."""
    modules = os.path.join(CLIENTS, "js", "node_modules")
    if not os.path.isdir(os.path.join(modules, "neo4j-driver")):
        pytest.fail("client environment .clients/js is missing: run `make clients`", pytrace=False)
    node = shutil.which("node")
    if node is None:
        pytest.fail("no node on PATH for the JavaScript client", pytrace=False)
    return [node, os.path.join(APPS, script)], {"NODE_PATH": modules}


def assert_check(run: AppRun, name: str, checks: dict[str, str]) -> None:
    """Fail with the client, what the check is for and what the client raised."""
    problem = run.failure(name)
    if problem is not None:
        pytest.fail(f"{run.title}: {checks[name]}: {problem}", pytrace=False)


def assert_all_listed(run: AppRun, checks: dict[str, str]) -> None:
    """The app and its test module name the same checks."""
    unknown = sorted(run.results.keys() - checks.keys())
    assert not unknown, f"{run.title}: the app reported checks its test does not list: {unknown}"

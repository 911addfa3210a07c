"""A Bolt server in a child process, for clients that must not share our process.

pymgclient holds the GIL inside its blocking C calls, so a server on a thread
of the test process would never get to answer it. Run as
`python serverproc.py [--fake] [--user NAME:PASSWORD] [--directory=PATH] [flag=value ...]`: prints
`PORT <n>` once listening, stops when its standard input closes.
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


class ServerProcess:
    def __init__(self, *args: str):
        self.process = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "serverproc.py"), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.process.stdout.readline()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"server process did not start: {line!r}")
        self.port = int(line.split()[1])

    def stop(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=15)

    def __enter__(self) -> "ServerProcess":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main(argv: list[str]) -> None:
    sys.path.insert(0, HERE)
    from fakes import FakeDatabase

    import weftdb
    from weftdb.basics.config import Config
    from weftdb.server.server import ServerThread

    flags = {"bolt_port": 0}
    db = None
    users = []
    directory = None  # the data directory: in memory only without one
    for arg in argv:
        if arg == "--fake":
            db = FakeDatabase()
        elif arg.startswith("--directory="):
            directory = arg[len("--directory=") :]
        elif arg.startswith("--user="):
            users.append(arg[len("--user=") :].split(":", 1))
        else:
            name, _, value = arg.partition("=")
            flags[name] = value
    db = db or weftdb.open(directory)
    for name, password in users:
        db.users.create(name, password)
    server = ServerThread(db, Config.load(flags)).start()
    print(f"PORT {server.port}", flush=True)
    sys.stdin.read()
    server.stop()
    db.close()


if __name__ == "__main__":
    main(sys.argv[1:])

"""In-process Bolt servers for the tests: on a background thread, 127.0.0.1, a free port."""

from contextlib import contextmanager

from weftdb.basics.config import Config
from weftdb.server.server import ServerThread


def start(db, **flags):
    """A started ServerThread for `db`; `flags` override the server's configuration."""
    return ServerThread(db, Config.load({"bolt_port": 0, "bolt_address": "127.0.0.1", **flags})).start()


@contextmanager
def serving(db, **flags):
    """`start(db)` for a `with` block (the server's `db` is `db`); stops the
    server and closes `db` at its end."""
    server = start(db, **flags)
    server.db = db
    try:
        yield server
    finally:
        server.stop()
        db.close()

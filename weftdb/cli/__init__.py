"""The `weftdb` command: every click and rich command, and nothing else."""

from weftdb.cli.main import main

__all__ = ["main"]

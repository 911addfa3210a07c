"""The names of the storage modes, shared by the flag, the graph and the data directory.

- IN_MEMORY_TRANSACTIONAL (the default): snapshot isolation through versions
  (Deltas), every commit in the WAL, periodic snapshots.
- IN_MEMORY_ANALYTICAL: writes apply in place with no versions for other
  transactions to read, no WAL and no periodic snapshots; `CREATE SNAPSHOT`
  makes the data durable, and while it runs new transactions wait.
- ON_DISK_TRANSACTIONAL: the graph in RocksDB (durability/disk_store.py),
  snapshot isolation through versioned keys, every commit in RocksDB's WAL;
  `CREATE SNAPSHOT` makes a RocksDB checkpoint.

docs/storage-modes.md says which to choose and what each guarantees.
"""

from weftdb.basics.errors import ClientError

TRANSACTIONAL = "IN_MEMORY_TRANSACTIONAL"
ANALYTICAL = "IN_MEMORY_ANALYTICAL"
ON_DISK = "ON_DISK_TRANSACTIONAL"

ALL = (TRANSACTIONAL, ANALYTICAL, ON_DISK)
IN_MEMORY = (TRANSACTIONAL, ANALYTICAL)


def check_available(mode: str, where: str) -> None:
    """A ClientError naming `where` (the flag, the statement) unless `mode` is one of the modes."""
    if mode not in ALL:
        raise ClientError(f"{where}: unknown storage mode {mode}; the modes are {', '.join(ALL)}.")

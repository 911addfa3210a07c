"""Who the database says it is, in one place.

`NAME` and `VERSION` are WeftDB's own. Clients written for Neo4j read a Neo4j
version where a server states its version (the HELLO agent, `CALL
dbms.components()`) and choose their Cypher by it: neomodel takes `4.x` to
mean "use id()", py2neo wants a `Neo4j Kernel` component. `NEO4J_VERSION` is
the Neo4j release whose Cypher and Bolt behaviour WeftDB answers as (5.26,
Neo4j 5's long-term release), as Memgraph answers `Neo4j/v5.11.0 compatible`.
"""

from __future__ import annotations

import re
from importlib import metadata

NAME = "WeftDB"
EDITION = "community"
NEO4J_VERSION = "5.26.0"
NEO4J_KERNEL = "Neo4j Kernel"  # the component name clients look for in dbms.components()


def _version() -> str:
    try:
        return metadata.version("weftdb")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "0.1.0"


VERSION = _version()

# The HELLO `server` agent by default (--bolt-server-name-for-init changes it).
# The neo4j drivers refuse an agent that does not start with `Neo4j/` (Python
# 5.x: UnsupportedServerProduct; py2neo: ProtocolError), so it does, as
# Memgraph's `Neo4j/v5.11.0 compatible graph database server - Memgraph`.
SERVER_AGENT = f"Neo4j/v{NEO4J_VERSION} compatible graph database server - {NAME} {VERSION}"

# The default database, and the other names that reach it: the defaults of
# Neo4j's clients (`neo4j`: langchain-neo4j, neomodel URLs) and of Memgraph's
# (`memgraph`). Names compare without case, as Neo4j's do.
DATABASE = "weftdb"
DATABASE_ALIASES = ("memgraph", "neo4j")
# Neo4j's clients send administration to the database `system` (py2neo asks it
# for dbms.components(); Neo4j's manual runs SHOW DATABASES there): that name
# reaches the default database too, without being listed as one.
SYSTEM = "system"
RESERVED = (DATABASE, *DATABASE_ALIASES, SYSTEM)

# A database's name is also the name of its directory (databases/<name>/), so it
# is never a path: a letter, then letters, digits, `_`, `-` and `.`, at most 63,
# kept in lower case (two names differing only in case would share a directory
# on a case-insensitive file system). Neo4j's rule, with Memgraph's `_` allowed.
_DATABASE_NAME = re.compile(r"[a-z][a-z0-9_.-]{0,62}")


def database_name(name: object) -> str:
    """`name` as a database's name (lower case), or ValueError saying what is wrong with it."""
    if not isinstance(name, str) or not name:
        raise ValueError("a database name is a non-empty string")
    lowered = name.lower()
    if not _DATABASE_NAME.fullmatch(lowered):
        raise ValueError(f"{name!r} is not a valid database name: it starts with a letter and holds only letters, "
                         "digits, '_', '-' and '.', at most 63 of them")
    return lowered


def is_default(name: str | None) -> bool:
    """Whether a client's name for a database (None or "" included) reaches the default one."""
    return not name or name.lower() in RESERVED

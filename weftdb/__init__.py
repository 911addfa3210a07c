"""WeftDB: a durable property-graph database that speaks Cypher.

    import weftdb
    with weftdb.open("./data") as db:
        db.execute("CREATE (:Person {name: $name})", {"name": "Ann"})
        for (name,) in db.execute("MATCH (p:Person) RETURN p.name"):
            print(name)
"""

from weftdb.basics.errors import (
    AccessModeError,
    AuthError,
    ClientError,
    ConstraintViolation,
    CypherArgumentError,
    CypherArithmeticError,
    CypherSemanticError,
    CypherSyntaxError,
    CypherTypeError,
    DatabaseError,
    DataDirectoryLocked,
    DurabilityError,
    EntityNotFound,
    Error,
    ForbiddenInTransaction,
    MemoryLimitExceeded,
    ParameterMissing,
    ProcedureError,
    QueryInterrupted,
    QueryMemoryLimitExceeded,
    QueryTimeout,
    RecoveryError,
    SchemaError,
    SerializationError,
    TransactionError,
    TransientError,
    UnknownProcedureError,
)
from weftdb.basics.temporal import Date, DateTime, Duration, LocalDateTime, LocalTime, Time
from weftdb.database import Database, Transaction, open
from weftdb.query.procedures import function, procedure
from weftdb.query.results import Node, Path, Relationship, Result

__all__ = [
    "open",
    "Database",
    "Transaction",
    "Result",
    "Node",
    "Relationship",
    "Path",
    "Date",
    "LocalTime",
    "Time",
    "LocalDateTime",
    "DateTime",
    "Duration",
    "procedure",
    "function",
    "Error",
    "ClientError",
    "TransientError",
    "DatabaseError",
    "CypherSyntaxError",
    "CypherSemanticError",
    "CypherTypeError",
    "CypherArithmeticError",
    "CypherArgumentError",
    "ParameterMissing",
    "ProcedureError",
    "UnknownProcedureError",
    "AccessModeError",
    "EntityNotFound",
    "ConstraintViolation",
    "SchemaError",
    "TransactionError",
    "ForbiddenInTransaction",
    "SerializationError",
    "QueryInterrupted",
    "QueryTimeout",
    "MemoryLimitExceeded",
    "QueryMemoryLimitExceeded",
    "DurabilityError",
    "RecoveryError",
    "DataDirectoryLocked",
    "AuthError",
]

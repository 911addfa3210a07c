"""The exceptions WeftDB raises.

Every error a user can cause is a subclass of `Error` with a message that says
what was wrong and, where there is one, what to do about it. The Bolt server
maps each class to a Neo4j status code (`code`), so the real clients raise
their matching exception class.
"""


class Error(Exception):
    """Base of every WeftDB error."""

    code = "Neo.DatabaseError.General.UnknownError"


class ClientError(Error):
    """The request was wrong; retrying it unchanged fails the same way."""

    code = "Neo.ClientError.General.InvalidArguments"


class CypherSyntaxError(ClientError):
    """The query text does not parse. Carries line, column and what was expected."""

    code = "Neo.ClientError.Statement.SyntaxError"

    def __init__(self, message, line=None, column=None, expected=None):
        super().__init__(message)
        self.line = line
        self.column = column
        self.expected = expected


class CypherSemanticError(ClientError):
    """The query parses but means nothing: an unknown variable, a misplaced aggregate."""

    code = "Neo.ClientError.Statement.SemanticError"


class CypherTypeError(ClientError):
    """An operation got a value of the wrong type (e.g. `1 + true`)."""

    code = "Neo.ClientError.Statement.TypeError"


class CypherArithmeticError(ClientError):
    """Division by zero, integer overflow."""

    code = "Neo.ClientError.Statement.ArithmeticError"


class ParameterMissing(ClientError):
    """The query names a `$parameter` that was not supplied."""

    code = "Neo.ClientError.Statement.ParameterMissing"


class EntityNotFound(ClientError):
    """A deleted node or relationship was used, or a node with edges was deleted without DETACH."""

    code = "Neo.ClientError.Statement.EntityNotFound"


class ConstraintViolation(ClientError):
    """A commit would break an existence or uniqueness constraint."""

    code = "Neo.ClientError.Schema.ConstraintValidationFailed"


class SchemaError(ClientError):
    """An index or constraint statement cannot be carried out (exists already, missing)."""

    code = "Neo.ClientError.Schema.SchemaRuleValidationFailed"


class TransactionError(ClientError):
    """A transaction was used wrongly: after commit or rollback, or without one."""

    code = "Neo.ClientError.Transaction.TransactionNotFound"


class ForbiddenInTransaction(TransactionError):
    """A schema or administration statement inside an explicit transaction:
    those run on their own (autocommit), as in Memgraph."""

    code = "Neo.ClientError.Transaction.ForbiddenDueToTransactionType"


class TransientError(Error):
    """The request may succeed if retried."""

    code = "Neo.TransientError.General.TransientError"


class SerializationError(TransientError):
    """Two transactions wrote the same object; the later one is rolled back. Retry it."""

    code = "Neo.TransientError.Transaction.Outdated"


class QueryInterrupted(TransientError):
    """The query was cancelled (client reset, dropped connection, shutdown)."""

    code = "Neo.TransientError.Transaction.Terminated"


class QueryTimeout(ClientError):
    """The query ran past `--query-execution-timeout-sec`."""

    code = "Neo.ClientError.Transaction.TransactionTimedOut"


class DatabaseError(Error):
    """The database cannot do what was asked: a failed disk, a refused start."""

    code = "Neo.DatabaseError.General.UnknownError"


class DurabilityError(DatabaseError):
    """A write-ahead log or snapshot write failed; the database refuses further writes."""

    code = "Neo.DatabaseError.Transaction.TransactionCommitFailed"


class RecoveryError(DatabaseError):
    """Startup found damage it must not guess about. Names the file and the offset."""


class DataDirectoryLocked(DatabaseError):
    """Another process holds the data directory."""


class AuthError(ClientError):
    """Authentication failed. Never says whether the user or the password was wrong."""

    code = "Neo.ClientError.Security.Unauthorized"

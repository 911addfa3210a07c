"""The exceptions WeftDB raises.

Every error a user can cause is a subclass of `Error` with a message that says
what was wrong and, where there is one, what to do about it. Each class names
what the Bolt server reports for it: the Neo4j status code (`code`), so the
real clients raise their matching exception class, and from Bolt 5.7 the GQL
status (`gql_status`) with its description (`gql_description`: the condition
and subcondition from Neo4j's table of GQLSTATUS codes, without the message,
which travels once, in its own field). A subclass defined elsewhere inherits
both from the class it extends.
"""


class Error(Exception):
    """Base of every WeftDB error."""

    code = "Neo.DatabaseError.General.UnknownError"
    gql_status = "50N42"
    gql_description = "general processing exception - unexpected error"


class ClientError(Error):
    """The request was wrong; retrying it unchanged fails the same way."""

    code = "Neo.ClientError.General.InvalidArguments"
    # Raised as such mostly by administration statements refused in the state the
    # database is in (a checkpoint in flight, a snapshot being written, no data
    # directory): an expected refusal, not "unexpected error".
    gql_status = "51N41"
    gql_description = "system configuration or operation exception - admin operation failed"


class CypherSyntaxError(ClientError):
    """The query text does not parse. Carries line, column and what was expected."""

    code = "Neo.ClientError.Statement.SyntaxError"
    gql_status = "42001"
    gql_description = "syntax error or access rule violation - invalid syntax"

    def __init__(self, message, line=None, column=None, expected=None):
        super().__init__(message)
        self.line = line
        self.column = column
        self.expected = expected


class CypherSemanticError(ClientError):
    """The query parses but means nothing: an unknown variable, a misplaced aggregate."""

    code = "Neo.ClientError.Statement.SemanticError"
    gql_status = "42000"
    gql_description = "syntax error or access rule violation"


class CypherTypeError(ClientError):
    """An operation got a value of the wrong type (e.g. `1 + true`)."""

    code = "Neo.ClientError.Statement.TypeError"
    gql_status = "22G03"
    gql_description = "data exception - invalid value type"


class CypherArithmeticError(ClientError):
    """Division by zero, integer overflow."""

    code = "Neo.ClientError.Statement.ArithmeticError"
    gql_status = "22000"
    gql_description = "data exception"


class CypherArgumentError(ClientError):
    """A function got an argument outside what it accepts: range() with a
    step of 0 or a bound that is not an INTEGER, a negative length, a
    percentile outside 0.0 to 1.0 (openCypher's ArgumentError)."""

    code = "Neo.ClientError.Statement.ArgumentError"
    gql_status = "22N11"
    gql_description = "data exception - invalid argument"


class ParameterMissing(ClientError):
    """The query names a `$parameter` that was not supplied."""

    code = "Neo.ClientError.Statement.ParameterMissing"
    gql_status = "42N51"
    gql_description = "syntax error or access rule violation - invalid parameter"


class ProcedureError(ClientError):
    """A procedure or user function failed while it ran (its own error, or a
    record that does not fit its signature); the transaction is rolled back."""

    code = "Neo.ClientError.Procedure.ProcedureCallFailed"
    gql_status = "52N37"
    gql_description = "procedure exception - procedure execution error"


class UnknownProcedureError(ProcedureError):
    """CALL names a procedure that is not registered."""

    code = "Neo.ClientError.Procedure.ProcedureNotFound"
    gql_status = "42N08"
    gql_description = "syntax error or access rule violation - no such procedure"


class AccessModeError(ClientError):
    """A write (a writing clause or a WRITE procedure) in a read-only transaction."""

    code = "Neo.ClientError.Statement.AccessMode"
    gql_status = "25000"
    gql_description = "invalid transaction state"


class EntityNotFound(ClientError):
    """A deleted node or relationship was used, or a node with edges was deleted without DETACH."""

    code = "Neo.ClientError.Statement.EntityNotFound"
    gql_status = "25N13"
    gql_description = "invalid transaction state - cannot access entity after removal"


class LoadCsvError(ClientError):
    """LOAD CSV cannot read its file: refused (outside --import-directory),
    missing, unreadable, or a row that is not CSV (the message names the line)."""

    code = "Neo.ClientError.Statement.ExternalResourceFailed"
    gql_status = "22N43"
    gql_description = "data exception - unable to load external resource"


class ConstraintViolation(ClientError):
    """A commit would break an existence or uniqueness constraint."""

    code = "Neo.ClientError.Schema.ConstraintValidationFailed"
    gql_status = "50N14"
    gql_description = "general processing exception - constraint violation"


class ConstraintVerificationFailed(ConstraintViolation):
    """DELETE (without DETACH) of a node that still has relationships:
    openCypher's ConstraintVerificationFailed (DeleteConnectedNode)."""


class SchemaError(ClientError):
    """An index or constraint statement cannot be carried out (exists already, missing)."""

    code = "Neo.ClientError.Schema.SchemaRuleValidationFailed"


class TransactionError(ClientError):
    """A transaction was used wrongly: after commit or rollback, or without one."""

    code = "Neo.ClientError.Transaction.TransactionNotFound"
    gql_status = "25000"
    gql_description = "invalid transaction state"


class ForbiddenInTransaction(TransactionError):
    """A schema or administration statement inside an explicit transaction:
    those run on their own (autocommit), as in Memgraph."""

    code = "Neo.ClientError.Transaction.ForbiddenDueToTransactionType"
    gql_status = "25N01"
    gql_description = "invalid transaction state - invalid combination of statement types"


class DatabaseNotFound(ClientError):
    """A request named a database the server does not hold (or one the user may not know of)."""

    code = "Neo.ClientError.Database.DatabaseNotFound"
    gql_status = "22N51"
    gql_description = "data exception - graph reference not found"

    @classmethod
    def named(cls, name: object) -> "DatabaseNotFound":
        """The one wording, whether the database is absent or the user may not
        use it: the answer must not tell the two apart."""
        return cls(f"Database {name!r} does not exist (SHOW DATABASES lists the databases).")


class ExistingDatabaseFound(ClientError):
    """CREATE DATABASE of a name that exists already (IF NOT EXISTS makes it a no-op)."""

    code = "Neo.ClientError.Database.ExistingDatabaseFound"
    gql_status = "42N11"
    gql_description = "syntax error or access rule violation - graph reference already exists"


class TransientError(Error):
    """The request may succeed if retried."""

    code = "Neo.TransientError.General.TransientError"


class SerializationError(TransientError):
    """Two transactions wrote the same object; the later one is rolled back. Retry it."""

    code = "Neo.TransientError.Transaction.Outdated"
    gql_status = "25N11"
    gql_description = "invalid transaction state - conflicting transaction state"


class QueryInterrupted(TransientError):
    """The query was cancelled (client reset, dropped connection, shutdown)."""

    code = "Neo.TransientError.Transaction.Terminated"
    gql_status = "25N16"
    gql_description = "invalid transaction state - transaction termination transient error"


class QueryTimeout(ClientError):
    """The query ran past `--query-execution-timeout-sec`."""

    code = "Neo.ClientError.Transaction.TransactionTimedOut"
    gql_status = "25N14"
    gql_description = "invalid transaction state - transaction termination client error"


class MemoryLimitExceeded(TransientError):
    """The process holds more memory than `--memory-limit` allows; the query
    that noticed was stopped. It may succeed once other work has finished."""

    code = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
    gql_status = "51N72"
    gql_description = "system configuration or operation exception - memory pool out of memory"


class QueryMemoryLimitExceeded(ClientError):
    """One query grew the process by more than `--query-memory-limit`; run as
    it is, it would again."""

    code = "Neo.ClientError.General.TransactionOutOfMemoryError"
    gql_status = "51N73"
    gql_description = "system configuration or operation exception - transaction memory limit reached"


class DatabaseUnavailable(TransientError):
    """The database exists but is not served: stopped (START DATABASE), or
    its recovery failed at the start (the server's log says why)."""

    code = "Neo.TransientError.General.DatabaseUnavailable"


class DatabaseError(Error):
    """The database cannot do what was asked: a failed disk, a refused start."""

    code = "Neo.DatabaseError.General.UnknownError"


class DurabilityError(DatabaseError):
    """A durable write failed. From the write-ahead log: the commit did not complete
    and the database refuses further writes."""

    code = "Neo.DatabaseError.Transaction.TransactionCommitFailed"
    gql_status = "25N02"
    gql_description = "invalid transaction state - unable to complete transaction"


class ImplicitTransactionRequired(DatabaseError):
    """CALL { } IN TRANSACTIONS commits batches of its own, so it runs only
    as a statement of its own (an implicit transaction): Neo4j's error, whose
    message clients such as langchain-neo4j read to run the query again so."""

    code = "Neo.DatabaseError.Transaction.TransactionStartFailed"
    gql_status = "25N17"
    gql_description = "invalid transaction state - implicit transaction required"


class SnapshotFailed(DurabilityError):
    """A snapshot could not be written (a full or failing disk). No commit was
    involved: the write-ahead log goes on and the data stays as committed, so
    the statement failed, not a transaction; nothing was damaged either, so not a
    storage-damage code."""

    code = "Neo.DatabaseError.Statement.ExecutionFailed"
    gql_status = "50N07"
    gql_description = "general processing exception - execution failed"


class RecoveryError(DatabaseError):
    """Startup found damage it must not guess about. Names the file and the offset."""


class DataDirectoryLocked(DatabaseError):
    """Another process holds the data directory."""


class AuthError(ClientError):
    """Authentication failed. Never says whether the user or the password was wrong."""

    code = "Neo.ClientError.Security.Unauthorized"
    gql_status = "42NFF"
    gql_description = "syntax error or access rule violation - permission/access denied"


class Forbidden(ClientError):
    """The user may not do this (manage users or databases without access to every database)."""

    code = "Neo.ClientError.Security.Forbidden"
    gql_status = "42NFF"
    gql_description = "syntax error or access rule violation - permission/access denied"

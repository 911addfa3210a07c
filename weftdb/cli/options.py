"""Options shared by the commands that open a database: one per flag of
`weftdb.basics.config.FLAGS`, built from that table, and `--flag-file`."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable

import click

from weftdb.basics.config import FLAGS, Config, ConfigError, Flag

if TYPE_CHECKING:
    from weftdb.cli.shell import EmbeddedSession
    from weftdb.database import Database

_TYPE_NAMES = {str: "TEXT", int: "INTEGER", float: "NUMBER"}


def _flag_option(flag: Flag) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    # Values stay strings until Config.load parses them with the flag's own
    # parser, so `--storage-wal-enabled=false` means what it says. Unset
    # options are None and fall through to the flag file and environment.
    names = [f"--{flag.name}", *(f"--{alias}" for alias in flag.aliases)]
    return click.option(
        *names,
        flag.attr,
        default=None,
        metavar=flag.metavar or _TYPE_NAMES.get(flag.type, "BOOL"),
        help=f"{flag.help} [default: {_default_text(flag.default)}]",
    )


def _default_text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class BadInput(click.ClickException):
    """Something given on the command line is wrong: one line naming it, and
    exit status 2 as for click's own usage errors."""

    exit_code = 2


def database_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one option per flag of FLAGS and `--flag-file`; call `command`
    with `config=` the resolved Config instead of the separate values.

    Precedence, lowest first: defaults, flag file, WEFTDB_* environment
    variables, options given on the command line."""

    @functools.wraps(command)
    def wrapper(*args: Any, flag_file: str | None, **kwargs: Any) -> Any:
        overrides = {flag.attr: kwargs.pop(flag.attr) for flag in FLAGS}
        try:
            config = Config.load(overrides, flag_file=flag_file)
        except ConfigError as exc:
            raise BadInput(str(exc)) from None
        return command(*args, config=config, **kwargs)

    for flag in reversed(FLAGS):
        wrapper = _flag_option(flag)(wrapper)
    return click.option(
        "--flag-file",
        type=click.Path(exists=True, dir_okay=False),
        help="Read flags from FILE: one --name=value a line, # comments.",
    )(wrapper)


database_choice = click.option(
    "--database", metavar="NAME",
    help="The database to use among the data directory's (or the server's); the default database without it.")
"""The option of the commands that act on one database (docs/databases.md)."""


def open_session(config: Config, database: str | None = None) -> EmbeddedSession:
    """An EmbeddedSession (BEGIN/COMMIT/ROLLBACK as statements) on the database for `config`."""
    from weftdb.cli.shell import EmbeddedSession

    return EmbeddedSession(open_database(config, database=database))


def open_database(config: Config, *, must_exist: bool = False, database: str | None = None,
                  **overrides: Any) -> Database:
    """The embedded database for `config` (with `overrides` of its flags), or
    a clean exit with the reason. `must_exist`: a command that only reads
    refuses a data directory that is not there rather than create it.
    `database`: another database of the directory than the default one."""
    import os

    from weftdb import database as weftdb_database
    from weftdb.basics.errors import DatabaseNotFound, Error

    flags = {**config.as_dict(), **overrides}
    path = flags.pop("data_directory")
    if must_exist and not os.path.isdir(path):
        raise BadInput(f"--data-directory={path}: no such directory (this command reads a database, it makes none)")
    try:
        return weftdb_database.open(path, database=database, **flags)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    except DatabaseNotFound as exc:
        raise BadInput(f"--database={database}: {exc}") from None
    except Error as exc:
        raise click.ClickException(f"cannot open {path}: {exc}") from None


def read_text(file: Any) -> str:
    """The whole of a script given on the command line (a binary file object),
    or a one-line error naming where it is not UTF-8."""
    data = file.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise BadInput(f"{file.name}: not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}); "
                       "save the file as UTF-8") from None

"""The `weftdb` command: the group and its database commands (serve, shell,
run, dump, import); the backup commands are `cli/backup.py`, the file
commands (inspect, verify of a data directory) `cli/files.py`.

Each subcommand is a small function. Commands that open a database take the
flags of `weftdb.basics.config.FLAGS` through `cli.options.database_options`
(so a new flag needs no change here) and get one resolved `Config`:

    @main.command()
    @database_options
    def serve(config: Config) -> None: ...
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from typing import Any, Iterator

import click

from weftdb.basics.config import Config, ConfigError
from weftdb.cli.backup import backup as backup_command
from weftdb.cli.backup import restore as restore_command
from weftdb.cli.backup import verify as verify_command
from weftdb.cli.files import inspect as inspect_command
from weftdb.cli.options import BadInput, database_choice, database_options, open_database, open_session, read_text
from weftdb.cli.progress import progress


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="weftdb", prog_name="weftdb")
def main() -> None:
    """WeftDB: a durable property-graph database that speaks Cypher.

    \b
    Examples:
      weftdb shell                              # Cypher shell on ./data
      weftdb run import.cypherl --data-directory /tmp/graph
      weftdb COMMAND --help                     # options of one command
    """


@main.command()
@database_options
def serve(config: Config) -> None:
    """Run the Bolt server until SIGTERM or Ctrl-C.

    The neo4j driver and pymgclient connect to --bolt-address:--bolt-port
    (127.0.0.1:7687 by default); with --bolt-cert-file and --bolt-key-file
    they connect with TLS (bolt+s://). A first signal shuts down gracefully
    (running work gets --bolt-shutdown-grace-sec, the rest is rolled back);
    a second exits at once. docs/server.md tells more.

    \b
    Examples:
      weftdb serve --data-directory ./data
      weftdb serve --bolt-address 0.0.0.0 --bolt-port 7688 --log-level INFO
      weftdb serve --bolt-cert-file cert.pem --bolt-key-file key.pem
    """
    from weftdb.basics.errors import Error
    from weftdb.server.server import serve as run_server

    try:
        run_server(config)
    except ConfigError as exc:
        raise BadInput(str(exc)) from None
    except Error as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the address is taken or not ours
        raise click.ClickException(f"cannot listen on {config.bolt_address}:{config.bolt_port}: {exc.strerror}") from None


@main.command()
@click.option("--host", help="Connect to a WeftDB server at HOST instead of opening a data directory.")
@click.option("--port", type=int, default=7687, show_default=True, help="Port of the server given by --host.")
@click.option("--username", help="User name on the server.")
@click.option("--password", help="Password on the server; asked for when --username is given without it.")
@database_choice
@database_options
def shell(config: Config, host: str | None, port: int, username: str | None, password: str | None,
          database: str | None) -> None:
    """An interactive Cypher shell.

    Statements end with `;` and may span several lines; `:help` lists the
    shell's own commands. Each statement is its own transaction unless
    BEGIN; ... COMMIT; groups several. History is kept in ~/.weftdb_history.
    Without --host the shell opens the data directory itself (embedded).

    When stdin is not a terminal the shell reads statements from it and
    prints each result as tab-separated lines (a header, then the rows);
    timings and errors go to stderr, and the exit status is 1 if any
    statement failed.

    \b
    Examples:
      weftdb shell
      weftdb shell --data-directory /tmp/graph
      echo 'MATCH (n) RETURN count(n);' | weftdb shell
      weftdb shell --host 127.0.0.1 --port 7687 --username admin
      weftdb shell --data-directory /tmp/graph --database sales
    """
    from weftdb.cli.shell import Shell

    if host is None:
        session = open_session(config, database)
        where = f"data directory {config.data_directory}"
    else:
        session = _connect(host, port, username, password, database)
        where = f"server {host}:{port}"
    if database:
        where += f", database {database}"
    try:
        repl = Shell(session)
        if sys.stdin.isatty():
            status = repl.run_interactive(f"WeftDB shell on {where}. Type :help for help, :quit to leave.")
        else:
            status = repl.run_plain(sys.stdin)
    finally:
        session.close()
    sys.exit(status)


def _connect(host: str, port: int, username: str | None, password: str | None, database: str | None) -> Any:
    """A session on the server at host:port (in `database`: USE DATABASE), or a clean exit with the reason."""
    from weftdb.basics.errors import Error
    from weftdb.cli.shell import ServerSession

    if username and password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("give --password: stdin holds the statements, not a password")
        password = click.prompt("Password", hide_input=True)
    try:
        session = ServerSession(host, port, username, password)
    except (Error, OSError) as exc:
        raise click.ClickException(f"cannot connect to {host}:{port}: {exc}") from None
    if database:
        try:
            session.execute("USE DATABASE `" + database.replace("`", "``") + "`")
        except Error as exc:
            session.close()
            raise BadInput(f"--database={database}: {exc}") from None
    return session


@main.command()
@click.argument("file", type=click.File("rb"))
@database_choice
@database_options
def run(config: Config, file: Any, database: str | None) -> None:
    """Run the Cypher statements in FILE ('-' for stdin).

    Statements end with `;`; `//` and `/* */` comments are allowed, as in
    Memgraph's `.cypherl` files. Each statement is its own transaction,
    except that statements between BEGIN and COMMIT (or ROLLBACK) form one.
    Rows of statements that return some are printed tab-separated. The
    first failure stops the run: it is reported with its line number and the
    exit status is 1; transactions committed before it stay committed, an
    open one is rolled back.

    \b
    Examples:
      weftdb run schema.cypherl
      weftdb run dump.cypherl --data-directory /tmp/graph
      weftdb run - < queries.cypherl
    """
    from weftdb.cli.shell import describe_error, error_line, execute, print_plain
    from weftdb.query.script import split_statements

    statements = split_statements(read_text(file))
    session = open_session(config, database)
    try:
        for number, statement in enumerate(statements, 1):
            try:
                result, _ = execute(session, statement.text)
            except Exception as exc:
                click.echo(f"{file.name}:{error_line(statement, exc)}: {describe_error(exc)}", err=True)
                click.echo(f"stopped after {number - 1} of {len(statements)} statements", err=True)
                sys.exit(1)
            print_plain(result, sys.stdout)
        if session.in_transaction:
            click.echo(f"{file.name}: ends inside a transaction (BEGIN without COMMIT); rolled back", err=True)
            sys.exit(1)
    finally:
        session.close()
    click.echo(f"ran {len(statements)} statements", err=True)


@main.command()
@click.option("--to", "target", default="-", show_default=True, help="File to write the statements to; '-' is stdout.")
@click.option("--host", help="Dump the database of the WeftDB server at HOST instead of a data directory.")
@click.option("--port", type=int, default=7687, show_default=True, help="Port of the server given by --host.")
@click.option("--username", help="User name on the server.")
@click.option("--password", help="Password on the server; asked for when --username is given without it.")
@database_choice
@database_options
def dump(config: Config, target: str, host: str | None, port: int, username: str | None, password: str | None,
         database: str | None) -> None:
    """Write the database as Cypher statements, one a line (DUMP DATABASE).

    The format is Memgraph's dump format, so the file loads into WeftDB
    with `weftdb import` and into Memgraph as it is. Without --host the
    data directory is opened (and recovered) directly: the database must
    not be running. With --host the running server writes the dump from
    one consistent view while it goes on serving.

    \b
    Examples:
      weftdb dump --data-directory /var/lib/weftdb --to graph.cypherl
      weftdb dump --host 127.0.0.1 --port 7687 > graph.cypherl
      weftdb dump --data-directory /var/lib/weftdb --database sales --to sales.cypherl
    """
    if host is None:  # reading leaves it as it was
        db = open_database(config, must_exist=True, database=database, storage_snapshot_on_exit=False)
    else:
        db = _connect(host, port, username, password, database)
    try:
        rows = db.execute("DUMP DATABASE").rows
    finally:
        db.close()
    with click.open_file(target, "w", encoding="utf-8") as out:
        for (statement,) in rows:
            out.write(statement + "\n")
    click.echo(f"dumped {len(rows)} statements", err=True)


@main.command(name="import")
@click.argument("file", type=click.File("rb"))
@click.option("--force", is_flag=True, help="Import into a database that already holds nodes or relationships.")
@click.option("--batch-size", type=click.IntRange(min=1), default=10_000, show_default=True, help="Statements per transaction.")
@click.option("--skip-statements", type=click.IntRange(min=0), default=0, metavar="N",
              help="Leave out the first N statements: resume an import that stopped after N (it says so).")
@database_choice
@database_options
def import_(config: Config, file: Any, force: bool, batch_size: int, skip_statements: int,
            database: str | None) -> None:
    """Load a dump (or any `;`-separated Cypher script) into the database.

    Statements run in transactions of --batch-size statements; schema
    statements (indexes, constraints) run on their own. The first failing
    statement, or Ctrl-C, stops the import: it says how many statements
    stayed committed (the transaction in progress is rolled back), and the
    command that goes on from there (--skip-statements) or starts over. The
    exit status is then 1. A database that is not empty is refused unless
    --force is given.

    \b
    Examples:
      weftdb import graph.cypherl --data-directory /tmp/graph
      weftdb dump --data-directory old | weftdb import - --data-directory new
      weftdb import graph.cypherl --data-directory /tmp/graph --force --skip-statements 120000
    """
    import time

    from weftdb.backup.importer import ImportFailed, import_statements
    from weftdb.cli.shell import describe_error, error_line
    from weftdb.query.script import split_statements

    statements = split_statements(read_text(file))
    db = open_database(config, database=database)
    try:
        vertices, edges = db.storage.counts()
        if (vertices or edges) and not force:
            raise click.ClickException(
                f"the database is not empty ({vertices} nodes, {edges} relationships); "
                "import into an empty data directory, or give --force to add to it"
            )
        started = time.perf_counter()
        todo = statements[skip_statements:]
        try:
            with progress("importing", len(todo)) as advance, _interruptible() as interrupt:
                done = import_statements(db, todo, batch_size, advance, interrupt)
        except ImportFailed as failed:
            committed = skip_statements + failed.committed
            where = f"{file.name}:{error_line(failed.statement, failed.error)}"
            click.echo(f"{where}: {describe_error(failed.error)}", err=True)
            click.echo(_how_to_go_on(config, file.name, committed, len(statements), was_empty=not (vertices or edges),
                                     database=database), err=True)
            sys.exit(1)
        seconds = time.perf_counter() - started
    finally:
        db.close()
    click.echo(f"imported {done} statements in {seconds:.2f} s ({done / max(seconds, 1e-9):,.0f} statements/s)", err=True)


def _how_to_go_on(config: Config, name: str, committed: int, total: int, was_empty: bool,
                  database: str | None) -> str:
    """What an import that stopped left, and the commands that resume it or start over."""
    directory = config.data_directory
    target = f"--data-directory {directory}" + (f" --database {database}" if database else "")
    lines = [f"stopped: the first {committed} of {total} statements are committed, the others did not run.",
             f"  to go on from there:  weftdb import {name} {target} --force --skip-statements {committed}"]
    if was_empty:
        emptied = f"DROP and CREATE DATABASE {database}" if database else f"remove {directory}"
        lines.append(f"  to start over:        {emptied} (it held no nodes or relationships before) "
                     f"and run weftdb import {name} {target}")
    else:
        lines.append("  to start over:        the database held data before this import: restore the backup "
                     "or dump taken before it")
    return "\n".join(lines)


@contextlib.contextmanager
def _interruptible() -> Iterator[threading.Event]:
    """An event the first Ctrl-C sets (the import stops cleanly between rows);
    a second Ctrl-C interrupts at once."""
    interrupt = threading.Event()

    def on_sigint(signum: int, frame: Any) -> None:
        if interrupt.is_set():
            raise KeyboardInterrupt
        interrupt.set()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield interrupt
    finally:
        signal.signal(signal.SIGINT, previous)


main.add_command(backup_command)
main.add_command(restore_command)
main.add_command(inspect_command)
main.add_command(verify_command)  # a backup itself, a data directory through cli/files.py

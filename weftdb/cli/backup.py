"""The backup commands of `weftdb`: backup (+ aggregate, inspect), restore, and verify of a backup.

Kept beside the code they drive so `cli.py` only registers them; each command
turns the library's errors into a one-line message and a non-zero exit, shows
progress on a terminal and ends with a summary (bytes, items, seconds).
"""

from __future__ import annotations

import getpass
import sys

import click

from weftdb.cli.progress import progress


def _key(path: str | None) -> bytes | None:
    if path is None:
        return None
    from weftdb.backup.sealing import SealError, load_key

    try:
        return load_key(path)
    except (OSError, SealError) as exc:
        raise click.ClickException(f"cannot use the key file: {exc}") from None


def _errors() -> tuple[type[BaseException], ...]:
    from weftdb.backup.artifacts import ArtifactError
    from weftdb.backup.client import BackupError
    from weftdb.backup.manifest import ManifestError
    from weftdb.backup.restore import RestoreError
    from weftdb.backup.sealing import SealError
    from weftdb.backup.target import TargetError
    from weftdb.basics.errors import Error

    return (BackupError, RestoreError, ManifestError, ArtifactError, SealError, TargetError, Error, OSError)


@click.group(invoke_without_command=True)
@click.option("--from", "source", metavar="HOST:PORT", help="The server's backup service (its --backup-port, default 6362).")
@click.option("--to", "to", metavar="DIR|URL", help="Backup directory, or an fsspec URL such as s3://bucket/prefix.")
@click.option("--type", "kind", type=click.Choice(["full", "incremental", "auto"]), default="auto", show_default=True,
              help="auto: incremental when --to holds a backup, else full.")
@click.option("--username", help="User on the server (needed once the server has users).")
@click.option("--password-file", type=click.Path(exists=True, dir_okay=False), help="File whose first line is the password.")
@click.option("--compress", is_flag=True, help="Store files zstd-compressed (*.zst).")
@click.option("--encrypt-key-file", type=click.Path(exists=True, dir_okay=False),
              help="Encrypt with AES-256-GCM under this key (32 bytes, or 64 hex digits, or base64).")
@click.option("--database", metavar="NAME", help="The database to back up (default: the default database).")
@click.option("--all-databases", is_flag=True,
              help="Back up every database the user may, each into --to/<name>/ at its own consistent point.")
@click.pass_context
def backup(ctx: click.Context, source: str | None, to: str | None, kind: str, username: str | None,
           password_file: str | None, compress: bool, encrypt_key_file: str | None, database: str | None,
           all_databases: bool) -> None:
    """Back up a running server over the network (full or incremental).

    A full backup copies a consistent snapshot and then the WAL up to the end
    of the copy while the server goes on serving; an incremental one fetches
    only the transactions since the backup's last one. A backup directory
    is not a data directory: `weftdb restore` makes one from it. --to must
    be empty or hold a backup and nothing else. One database is backed up
    (--database, the default one without it), or every one (--all-databases:
    a backup each, in --to/<name>/).

    \b
    Examples:
      weftdb backup --from 127.0.0.1:6362 --to /backups/graph
      weftdb backup --from db1:6362 --to /backups/graph --type incremental
      weftdb backup --from db1:6362 --to /backups/sales --database sales
      weftdb backup --from db1:6362 --to /backups/server --all-databases
      weftdb backup --from db1:6362 --to s3://bucket/graph --compress --encrypt-key-file key.bin
      weftdb backup inspect /backups/graph
      weftdb backup aggregate --from /backups/graph
    """
    if ctx.invoked_subcommand is not None:
        return
    if not source or not to:
        raise click.UsageError("give --from HOST:PORT and --to DIR (or a subcommand: aggregate, inspect)")
    if database and all_databases:
        raise click.UsageError("give --database NAME or --all-databases, not both")
    from weftdb.backup.client import backup as take_backup
    from weftdb.backup.client import databases
    from weftdb.backup.target import of_database

    password = None
    if password_file:
        with open(password_file, encoding="utf-8") as handle:
            password = handle.readline().rstrip("\r\n")
    elif username and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    key = _key(encrypt_key_file)
    try:
        names = databases(source, username, password) if all_databases else [database]
        for name in names:
            where = of_database(to, name) if all_databases else to
            with progress(f"receiving {name}" if all_databases else "receiving", unit="bytes") as meter:
                summary = take_backup(source, where, kind, username, password, compress, key, meter,
                                      total=meter.total, database=name)
            for message in summary.messages:
                click.echo(message, err=True)
            click.echo(f"{name}: {summary.line()}" if all_databases else summary.line(), err=True)
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None


@backup.command()
@click.option("--from", "source", required=True, metavar="DIR|URL", help="The backup to fold.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Key of an encrypted backup.")
def aggregate(source: str, key_file: str | None) -> None:
    """Fold a backup chain (full + incrementals) into one full backup.

    \b
    Example:
      weftdb backup aggregate --from /backups/graph
    """
    from weftdb.backup.aggregate import aggregate as fold

    try:
        summary = fold(source, _key(key_file))
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(summary.line(), err=True)


@backup.command()
@click.argument("location", metavar="BACKUP")
@click.option("--database", metavar="NAME", help="Of a backup of every database: the one of database NAME (NAME/).")
def inspect(location: str, database: str | None) -> None:
    """Show a backup's chain: kinds, commit timestamps, times and sizes.

    \b
    Examples:
      weftdb backup inspect /backups/graph
      weftdb backup inspect /backups/server --database sales
    """
    from weftdb.backup.client import describe_time
    from weftdb.backup.manifest import Manifest
    from weftdb.backup.target import of_database, open_target

    if database:
        location = of_database(location, database)

    try:
        target = open_target(location)
        manifest = Manifest.load(target)
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None
    if manifest is None:
        held = target.databases()
        if held:
            raise click.ClickException(f"{location} holds a backup of each of {', '.join(held)}: inspect one, "
                                       f"e.g. weftdb backup inspect {of_database(location, held[0])}")
        raise click.ClickException(f"{location} holds no backup.json: not a WeftDB backup")
    settings = [s for s in (manifest.compression, manifest.encryption) if s] or ["plain"]
    click.echo(f"backup of database {manifest.database_uuid} ({', '.join(settings)}), "
               f"{len(manifest.artifacts)} artifacts, up to commit timestamp {manifest.last_ts}")
    click.echo(f"{'#':>3}  {'kind':<11} {'snapshot':>9} {'first':>9} {'last':>9}  {'first commit (UTC)':<23}  "
               f"{'last commit (UTC)':<23} {'files':>5} {'bytes':>13}  created")
    for number, a in enumerate(manifest.artifacts):
        snap = "-" if a.snapshot_ts is None else str(a.snapshot_ts)
        first = str(a.first_ts) if a.records else "-"
        click.echo(f"{number:>3}  {a.kind:<11} {snap:>9} {first:>9} {a.last_ts:>9}  {describe_time(a.first_wall_us):<23}  "
                   f"{describe_time(a.last_wall_us):<23} {len(a.files):>5} {sum(f.size for f in a.files):>13,}  {a.created}")
        for f in a.files:
            click.echo(f"       {f.name}  {f.size:,} bytes  sha256 {f.sha256[:16]}…")


@click.command()
@click.option("--from", "source", required=True, metavar="DIR|URL", help="The backup to restore.")
@click.option("--to", "to", required=True, metavar="DATA_DIR", help="The data directory to rebuild.")
@click.option("--until", metavar="TIMESTAMP|'YYYY-MM-DD hh:mm:ss'",
              help="Point in time: keep transactions with a commit timestamp below TIMESTAMP, or committed before this UTC time.")
@click.option("--overwrite", is_flag=True, help="Replace the data of a data directory that is not empty.")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Key of an encrypted backup.")
@click.option("--database", metavar="NAME",
              help="Restore into database NAME of DATA_DIR (databases/NAME/; the default database's names: the top).")
@click.option("--all-databases", is_flag=True,
              help="--from holds a backup per database (weftdb backup --all-databases): restore each into DATA_DIR.")
def restore(source: str, to: str, until: str | None, overwrite: bool, key_file: str | None, database: str | None,
            all_databases: bool) -> None:
    """Rebuild a data directory from a backup, to its end or to a point in time.

    The result is opened once (recovery) and its counts printed. The
    database must not be running on DATA_DIR; in a running server, STOP
    DATABASE NAME first and START DATABASE NAME after (a database new to the
    server starts with START DATABASE too).

    \b
    Examples:
      weftdb restore --from /backups/graph --to /var/lib/weftdb
      weftdb restore --from /backups/graph --to /tmp/before --until "2026-11-21 14:30:00"
      weftdb restore --from s3://bucket/graph --to /tmp/g --until 1200 --key-file key.bin --overwrite
      weftdb restore --from /backups/sales --to /var/lib/weftdb --database sales
      weftdb restore --from /backups/server --to /var/lib/weftdb --all-databases
    """
    from weftdb.backup.restore import restore as rebuild
    from weftdb.backup.target import of_database, open_target
    from weftdb.durability import catalog

    if database and all_databases:
        raise click.UsageError("give --database NAME or --all-databases, not both")
    if all_databases:
        names = open_target(source).databases()
        if not names:
            raise click.ClickException(f"{source} holds no backup of a database (weftdb backup --all-databases makes "
                                       "one per database, in <name>/)")
    else:
        names = [database]
    try:
        for name in names:
            where = catalog.data_directory(to, name)
            origin = of_database(source, name) if all_databases else source
            with progress(f"reading {name}" if all_databases else "reading", unit="bytes") as meter:
                summary = rebuild(origin, where, until, overwrite, _key(key_file), progress=meter, total=meter.total)
            click.echo(f"{name}: {summary.line()}" if all_databases else summary.line(), err=True)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--database") from None
    except _errors() as exc:
        raise click.ClickException(str(exc)) from None


def verify_backup_command(location: str, key_file: str | None) -> int:
    """Verify a backup (see backup/verify.py); prints the report, returns the exit status."""
    from weftdb.backup.verify import describe, verify_backup

    with progress("checking", unit="bytes") as meter:
        report = verify_backup(location, _key(key_file), progress=meter, total=meter.total)
    for line in describe(report):
        click.echo(line)
    return 0 if report.ok else 1


def is_backup(location: str) -> bool:
    """True for a URL or a directory holding backup.json."""
    import os

    from weftdb.backup.target import MANIFEST, is_url

    return is_url(location) or os.path.isfile(os.path.join(location, MANIFEST))


@click.command()
@click.argument("location", metavar="BACKUP_OR_DATA_DIR")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Threads decoding snapshot batches during the dry-run recovery (data directories).")
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False), help="Key of an encrypted backup.")
@click.option("--database", metavar="NAME",
              help="The database to check: of a data directory (databases/NAME/), or of a backup of every database "
                   "(NAME/); without it the default one, or every one of such a backup.")
@click.pass_context
def verify(ctx: click.Context, location: str, threads: int, key_file: str | None, database: str | None) -> None:
    """Check a backup or a data directory; exit status 0 only if all is well.

    A backup (a directory holding backup.json, or a URL such as
    s3://bucket/prefix): the manifest and its checksum, every file's size and
    SHA-256, each snapshot and WAL segment of the manifest's database, the
    chain's commit timestamps without a gap, then a trial restore into a
    temporary directory with its vertex and edge counts.

    A backup of every database (weftdb backup --all-databases): each
    database's backup in turn, or the one --database names.

    A data directory: every WAL record and snapshot batch, then a dry-run
    recovery into memory (see `weftdb/durability/verify.py`); nothing on disk
    is changed and no lock is taken.

    \b
    Examples:
      weftdb verify ./data
      weftdb verify ./data --database sales
      weftdb verify /backups/graph
      weftdb verify /backups/server --database sales
      weftdb verify s3://bucket/graph --key-file backup.key
    """
    import os

    from weftdb.backup.target import of_database, open_target

    if is_backup(location):
        if database:
            raise click.UsageError(f"{location} is the backup of one database: --database does not apply to it")
        try:
            status = verify_backup_command(location, key_file)
        except _errors() as exc:
            raise click.ClickException(str(exc)) from None
        sys.exit(status)
    held = open_target(location).databases() if os.path.isdir(location) else []
    if held:
        if database and database.lower() not in held:
            raise click.BadParameter(f"{location} holds backups of {', '.join(held)}, not of {database!r}",
                                     param_hint="--database")
        status = 0
        for name in [database.lower()] if database else held:
            click.echo(f"== {name}")
            try:
                status = max(status, verify_backup_command(of_database(location, name), key_file))
            except _errors() as exc:
                click.echo(f"{name}: {exc}", err=True)
                status = 1
        sys.exit(status)
    if not os.path.isdir(location):
        raise click.UsageError(f"{location} is neither a data directory nor a backup")
    from weftdb.cli.files import verify as verify_data_directory
    from weftdb.durability import catalog

    if database:
        try:
            location = catalog.data_directory(location, database)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--database") from None
        if not os.path.isdir(location):
            raise click.BadParameter(f"{location} does not exist: no database {database!r} here", param_hint="--database")

    ctx.invoke(verify_data_directory, data_dir=location, threads=threads)

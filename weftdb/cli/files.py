"""The `weftdb inspect` and `weftdb verify` commands.

Kept beside the code they drive so `cli.py` only registers them. Both only
read: they take no lock and change nothing, so they are safe to run next to a
running server. Exit status 0 means no problem was found, 1 that one was.
"""

from __future__ import annotations

import sys

import click


@click.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def inspect(file: str) -> None:
    """Print a WAL segment or a snapshot for a person.

    For a WAL segment: its header, then each record's offset, length,
    checksum (OK or BAD), commit timestamp, wall-clock time, number of
    operations and a short summary of them. For a snapshot: its prelude and
    header, the name dictionaries, each block's kind, offset, items and
    checksum, and the schema. Damage is reported with its byte offset, and
    the rest of the file is still shown where it can be. The exit status is
    1 if any problem was found.

    \b
    Examples:
      weftdb inspect data/wal/0000000000000003.wal
      weftdb inspect data/snapshots/00000000000000001234_20260101T120000000000.snapshot
      weftdb inspect data/wal/0000000000000003.wal | grep BAD
    """
    from weftdb.cli.printer import Printer
    from weftdb.durability.inspect import inspect_file

    try:
        problems = inspect_file(file, Printer())
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    sys.exit(1 if problems else 0)


@click.command()
@click.argument("data_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="Threads decoding snapshot batches during the dry-run recovery.")
def verify(data_dir: str, threads: int) -> None:
    """Check every file of DATA_DIR and dry-run its recovery.

    Every WAL record and every snapshot batch is read and its checksum and
    encoding checked; then recovery runs into memory exactly as at startup
    (newest valid snapshot, then the WAL after it) and the resulting vertex
    and edge counts and last commit timestamp are printed. Nothing on disk
    is changed and no lock is taken, so a running server's directory can be
    checked. A torn WAL tail (what a crash leaves; the next start cuts it
    off) is reported but is not a problem. The exit status is 0 only if all
    is well.

    \b
    Examples:
      weftdb verify ./data
      weftdb verify /var/lib/weftdb --threads 4 && echo "recoverable"
    """
    from weftdb.cli.printer import Printer
    from weftdb.durability.verify import verify as run_verify

    printer = Printer()
    report = (lambda text: click.echo(text, err=True)) if sys.stderr.isatty() else None
    result = run_verify(data_dir, printer, threads=threads, report=report)
    sys.exit(0 if result.ok else 1)

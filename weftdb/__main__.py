"""`python -m weftdb` is the `weftdb` command."""

from weftdb.cli.main import main

main(prog_name="weftdb")

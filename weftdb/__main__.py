"""`python -m weftdb` is the `weftdb` command."""

from .cli import main

main(prog_name="weftdb")

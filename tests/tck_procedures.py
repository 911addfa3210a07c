"""The openCypher TCK's test procedures, defined through WeftDB's procedure API.

`../shared/tck/run_tck.py --procedure-hook tests/tck_procedures.py:define`
calls `define` for each `And there exists a procedure <signature>:` step,
with the table's column names and its parsed rows. The procedure it
registers returns the rows whose input columns (the signature's parameters)
equal its arguments, projected on its output columns, in the table's order.
"""

from __future__ import annotations

from typing import Any

from weftdb.query.procedures import parse_signature


def _same(a: Any, b: Any) -> bool:
    """Equality as the TCK's tables mean it: null matches null, 1 is not 1.0."""
    if a is None or b is None:
        return a is None and b is None
    return type(a) is type(b) and a == b


def define(db, signature: str, columns: list[str], rows: list[list]) -> None:
    parsed = parse_signature(signature)
    inputs = [columns.index(p.name) for p in parsed.parameters]
    outputs = [columns.index(c.name) for c in parsed.columns]

    def body(ctx, *arguments):
        for row in rows:
            if all(_same(row[i], argument) for i, argument in zip(inputs, arguments)):
                yield tuple(row[i] for i in outputs)

    db.procedures.register(body, signature)

"""A plan as Neo4j's result summary describes it, for EXPLAIN and PROFILE.

The neo4j drivers read the plan of an EXPLAIN from the summary's `plan` map
and that of a PROFILE from its `profile` map (`summary.plan`,
`summary.profile`): each operator is `operatorType`, `identifiers` (the
variables bound at that point), `arguments` (`Details`: what the operator
works on) and `children`; a profiled operator adds `rows`, `time` (the
nanoseconds spent in the operator itself, its children's excluded), and
`dbHits` and the page cache counts, which WeftDB does not count (0). The
rows Memgraph's users read (EXPLAIN's `QUERY PLAN`, PROFILE's `OPERATOR`
table) are the same operators in the same order: `explain()`'s pre-order.
"""

from __future__ import annotations

import re
from typing import Any

# What the root names as the planner and runtime (Neo4j: COST / PIPELINED): a
# rule-based choice of start and index, and operators run as generators.
ROOT_ARGUMENTS = {"version": "CYPHER 5", "planner": "RULE", "runtime": "INTERPRETED"}
_PATTERN_NAME = re.compile(r"[(\[]([^\s:(){}\[\]*]+)")


def _names(operator) -> set[str]:
    """The variables an operator binds or projects, as far as its fields say."""
    names = set()
    variable = getattr(operator, "variable", None)
    if isinstance(variable, str):
        names.add(variable)
    projected = getattr(operator, "names", None)
    if isinstance(projected, (list, tuple)):
        names.update(name for name in projected if isinstance(name, str))
    hop = getattr(operator, "hop", None)
    if hop is not None and isinstance(getattr(hop, "text", None), str):
        names.update(_PATTERN_NAME.findall(hop.text))
    return {name for name in names if name and not name.startswith(" ") and name != "anon"}


def describe(root, profile: dict[int, tuple[int, int]] | None = None) -> dict[str, Any]:
    """The operator tree under `root`. `profile` maps an operator's position in
    pre-order to (rows it yielded, nanoseconds spent in it and below): given,
    the tree is a profile."""
    position = 0

    def walk(operator) -> tuple[dict[str, Any], int]:
        nonlocal position
        me = position
        position += 1
        described = [walk(child) for child in operator.children()]
        children = [entry for entry, _ in described]
        identifiers = _names(operator).union(*(entry["identifiers"] for entry in children))
        detail = operator.detail()
        entry: dict[str, Any] = {
            "operatorType": operator.name,
            "identifiers": sorted(identifiers),
            "arguments": {"Details": detail} if detail else {},
            "children": children,
        }
        inclusive = 0
        if profile is not None:
            rows, inclusive = profile.get(me, (0, 0))
            entry.update(rows=rows, dbHits=0, time=max(0, inclusive - sum(spent for _, spent in described)),
                         pageCacheHits=0, pageCacheMisses=0, pageCacheHitRatio=0.0)
        return entry, inclusive

    tree, _ = walk(root)
    tree["arguments"] = {**ROOT_ARGUMENTS, **tree["arguments"]}
    return tree


def flatten(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """The operators of a described tree in pre-order (the order of its rows)."""
    out = [tree]
    for child in tree["children"]:
        out.extend(flatten(child))
    return out

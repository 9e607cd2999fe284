"""Small helpers shared by the Python front-end tests."""

from __future__ import annotations

from orgscope.context import QueryWrapper
from orgscope.facts import Compare, Query


def wrapper(call: str, op: str, **indexes) -> QueryWrapper:
    return QueryWrapper(call=call, op=op, **indexes)


def at(span) -> tuple[int, int]:
    """(line, column) where a span starts."""
    return span.line, span.column


def only(items):
    assert len(items) == 1, items
    return items[0]


def compares(query: Query) -> list[Compare]:
    """Every Compare of the query's first block, also inside OR branches."""
    out: list[Compare] = []

    def walk(preds):
        for pred in preds:
            if isinstance(pred, Compare):
                out.append(pred)
            else:
                for branch in pred.branches:
                    walk(branch)

    walk(query.blocks[0].where)
    return out

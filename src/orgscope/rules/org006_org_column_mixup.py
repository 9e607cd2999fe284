"""ORG006 org-column-mixup — a tenancy-model column is referenced on a table that
does not have it (`agents.clerk_organization_id`, `clients.clerk_org_id`,
`users.clerk_org_id`). Document: rules/ORG006.yaml.

Whether a table has a column comes from the replayed migrations when they
know the table, else from the tenancy model; a table neither knows is never
reported.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.facts import COLUMN, Column, FileFacts, Or
from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.rules.scoping import resolve_column

CODE = "ORG006"


def check(ctx: RuleContext, facts: FileFacts) -> Iterator[Finding]:
    for query in facts.queries:
        seen = set()
        for block in query.blocks:
            for column in _block_columns(block):
                if column.name not in ctx.model.tenancy_columns or column.span in seen:
                    continue
                seen.add(column.span)
                ref = resolve_column(query, ctx.catalog, column, block)
                if ref is None and column.qualifier is None:
                    tables = [r for r in block.refs if not r.cte]
                    ref = tables[0] if len(tables) == 1 and len(block.refs) == 1 else None
                if ref is None or ref.cte or ref.table is None:
                    continue
                if ctx.catalog.has_column(ref.table, ref.schema, column.name) is False:
                    yield _finding(ctx, facts.path, query, column.name, column.span, ref.table)
        for write in query.writes:
            for name, span in (write.columns or {}).items():
                if name in ctx.model.tenancy_columns and span not in seen:
                    if ctx.catalog.has_column(write.table, write.schema, name) is False:
                        seen.add(span)
                        yield _finding(ctx, facts.path, query, name, span, write.table)


def _finding(ctx: RuleContext, path: str, query, name: str, span, table: str) -> Finding:
    model = ctx.model
    if model.is_mapping_table(table) and name == model.org_column:
        hint = f"{table} links to an organization through {model.mapping_column}"
    elif model.is_org_table(table) and name == model.mapping_column:
        hint = f"org tables are scoped by {model.org_column}"
    elif name == model.org_column:
        hint = f"join through {model.mapping_table} on {model.mapping_column} to reach the organization"
    else:
        hint = "check the tenancy model of this table"
    message = f"{table} has no column {name}; {hint}"
    return ctx.finding(CODE, path, span, message, table=table, statement_line=query.span.line, anchor=query.text)


def _block_columns(block) -> Iterator[Column]:
    yield from block.columns
    preds = list(block.where)
    for ref in block.refs:
        preds.extend(ref.on)
        yield from ref.sets
    yield from _pred_columns(preds)


def _pred_columns(preds) -> Iterator[Column]:
    for pred in preds:
        if isinstance(pred, Or):
            for branch in pred.branches:
                yield from _pred_columns(branch)
            continue
        yield pred.column
        if pred.value.kind == COLUMN and pred.value.column is not None:
            yield pred.value.column

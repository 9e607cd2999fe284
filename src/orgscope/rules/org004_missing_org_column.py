"""ORG004 missing-org-column — after every migration is replayed, an org table
that the migrations create has no org column, or has it with a type other
than the pack's `org_column_type`. Document: rules/ORG004.yaml.

A missing column is reported at the CREATE TABLE (the table's first name when
a rename gave it its current one), or at the DROP COLUMN / RENAME COLUMN that
took the column away. A wrong type is a warning at the place that gave the
column its type, unless the user configured ORG004's severity. Tables that
no migration creates, or that a migration drops, are not reported.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.schema import Schema
from orgscope.sql.ddl import normalise_type

CODE = "ORG004"


def check(ctx: RuleContext) -> Iterator[Finding]:
    schema = getattr(ctx.catalog, "schema", None)
    if not isinstance(schema, Schema):
        return
    model = ctx.model
    org = model.org_column
    expected_type = model.org_column_type
    for table in schema.tables():
        if not model.is_org_table(table.name, table.schema):
            continue
        name = table.qualified_name
        if org not in table.columns:
            dropped = table.column_dropped_at.get(org)
            where = dropped or table.created_at
            if where is None:
                continue
            if dropped is not None:
                message = (f"{name} loses {org} here, and every row of an org table must carry its "
                           f"organization; keep the column ({org} {expected_type}) and its index")
            else:
                message = (f"{name} has no {org} column; add ALTER TABLE {name} ADD COLUMN {org} "
                           f"{expected_type}, backfill it and index it")
            yield ctx.finding(CODE, where.path, where.span, message, table=name,
                              statement_line=where.statement_line, anchor=f"{CODE}:{name}")
            continue
        actual = table.columns[org]
        if not actual or normalise_type(actual) == normalise_type(expected_type):
            continue
        where = table.column_typed_at.get(org) or table.column_added_at.get(org) or table.created_at
        if where is None:
            continue
        message = (f"{name}.{org} is {actual}, the tenancy model expects {expected_type}; change it with "
                   f"ALTER TABLE {name} ALTER COLUMN {org} TYPE {expected_type}")
        finding = ctx.finding(CODE, where.path, where.span, message, table=name,
                              statement_line=where.statement_line, anchor=f"{CODE}:{name}:type")
        if not _severity_configured(ctx, CODE):
            finding.severity = "warning"
        yield finding


def _severity_configured(ctx: RuleContext, code: str) -> bool:
    """Did the user set this rule's severity? The config says so when it is
    known; otherwise an entry in ctx.severities counts as the user's."""
    configured = getattr(ctx.config, "severity", None)
    if isinstance(configured, dict):
        return code in configured
    return code in ctx.severities

"""ORG004 missing-org-column — after every migration is replayed, an org table
that the migrations create has no org column, or has it with a type other
than the pack's `org_column_type`. Document: rules/ORG004.yaml.

A missing column is reported at the CREATE TABLE (the table's first name when
a rename gave it its current one), or at the DROP COLUMN / RENAME COLUMN that
took the column away. A wrong type is a warning at the place that gave the
column its type, unless the user configured ORG004's severity. Tables that
no migration creates, or that a migration drops, are not reported. The
judgement and its message are rules/org_tables.py's, shared with
`orgscope db`.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.rules.org_tables import MISSING_COLUMN, replayed_verdicts

CODE = MISSING_COLUMN


def check(ctx: RuleContext) -> Iterator[Finding]:
    for verdict in replayed_verdicts(ctx.catalog.schema, ctx.model, CODE):
        where = verdict.where
        anchor = f"{CODE}:{verdict.table}" + (":type" if verdict.wrong_type else "")
        finding = ctx.finding(CODE, where.path, where.span, verdict.message, table=verdict.table,
                              statement_line=where.statement_line, anchor=anchor)
        if verdict.wrong_type and not _severity_configured(ctx, CODE):
            finding.severity = "warning"
        yield finding


def _severity_configured(ctx: RuleContext, code: str) -> bool:
    """Did the user set this rule's severity? The config says so when it is
    known; otherwise an entry in ctx.severities counts as the user's."""
    if ctx.config is not None:
        return code in ctx.config.severity
    return code in ctx.severities

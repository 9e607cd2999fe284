"""ORG002 missing-org-index — after every migration is replayed, an org table
has no usable index whose leading column is the org column. Document:
rules/ORG002.yaml.

Usable means: the first key column is the org column, the index is not
partial and that key is not an expression; a composite index, a UNIQUE or a
PRIMARY KEY constraint leading with the column counts. With
`require_index_name: true` in the pack the index must also carry the
conventional name.

The finding points at the DROP INDEX (or other change) that took away the
last usable index, else at the org column where it was added (ADD COLUMN,
RENAME COLUMN, or its definition in CREATE TABLE). A table without the org
column is ORG004's, not this rule's; tables that no migration creates, or
that a migration drops, are not reported. The judgement and its message are
rules/org_tables.py's, shared with `orgscope db`.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.rules.org_tables import MISSING_INDEX, replayed_verdicts

CODE = MISSING_INDEX


def check(ctx: RuleContext) -> Iterator[Finding]:
    for verdict in replayed_verdicts(ctx.catalog.schema, ctx.model, CODE):
        where = verdict.where
        yield ctx.finding(
            CODE, where.path, where.span, verdict.message,
            table=verdict.table, statement_line=where.statement_line, anchor=f"{CODE}:{verdict.table}",
        )

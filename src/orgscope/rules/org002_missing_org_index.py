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
that a migration drops, are not reported.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.schema import Schema, usable_org_index, why_no_org_index

CODE = "ORG002"


def check(ctx: RuleContext) -> Iterator[Finding]:
    schema = getattr(ctx.catalog, "schema", None)
    if not isinstance(schema, Schema):
        return
    model = ctx.model
    org = model.org_column
    for table in schema.tables():
        if not model.is_org_table(table.name, table.schema) or org not in table.columns:
            continue
        if usable_org_index(table, model) is not None:
            continue
        where = table.usable_index_lost_at or table.column_added_at.get(org) or table.created_at
        if where is None:
            continue
        name = table.qualified_name
        expected = model.expected_index_name(table.name)
        reason = why_no_org_index(table, model)
        misnamed = sorted(i.name for i in table.indexes.values() if i.leading_column == org and not i.partial)
        if model.require_index_name and misnamed:
            fix = f"rename it: ALTER INDEX {misnamed[0]} RENAME TO {expected}"
        else:
            fix = f"add CREATE INDEX CONCURRENTLY {expected} ON {name} ({org})"
        message = f"{name} has no index leading with {org} ({reason}); {fix}"
        yield ctx.finding(
            CODE, where.path, where.span, message,
            table=name, statement_line=where.statement_line, anchor=f"{CODE}:{name}",
        )

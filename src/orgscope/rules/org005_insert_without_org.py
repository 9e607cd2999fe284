"""ORG005 insert-without-org — an INSERT / upsert / ORM create on an org table
does not set the org column. Document: rules/ORG005.yaml.

Only writes whose columns are visible are judged (a column list, a dict
literal, keyword arguments); an INSERT without a column list or a payload built
elsewhere is not reported.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.facts import FileFacts
from orgscope.findings import Finding
from orgscope.rules.base import RuleContext

CODE = "ORG005"


def check(ctx: RuleContext, facts: FileFacts) -> Iterator[Finding]:
    column = ctx.model.org_column
    for query in facts.queries:
        for write in query.writes:
            if write.columns is None or write.scoped_by or not ctx.model.is_org_table(write.table, write.schema):
                continue
            if column in write.columns:
                continue
            if write.op == "create":
                what = f"creating {write.model or 'a model'} (a {write.table} row)"
            else:
                what = f"{write.op} into {write.table}"
            message = f"{what} does not set {column}; the row would belong to no organization"
            yield ctx.finding(
                CODE, facts.path, write.span, message, table=write.table, statement_line=query.span.line,
                anchor=query.text,
            )

"""ORG003 client-id-scoping — the legacy client column scopes or populates an org
table. Document: rules/ORG003.yaml.

Org data is shared by every member of the organization; a legacy client filter
narrows it back to one user's tenant (or, as the only filter, scopes by the
wrong key). Reported at the legacy column, once per use.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.facts import FileFacts
from orgscope.findings import Finding
from orgscope.rules.base import RuleContext

CODE = "ORG003"


def check(ctx: RuleContext, facts: FileFacts) -> Iterator[Finding]:
    legacy, column = ctx.model.legacy_column, ctx.model.org_column
    for query in facts.queries:
        for verdict in ctx.scoping(query).org_verdicts():
            table = verdict.ref.table
            for use in verdict.client_columns:
                if verdict.constrained:
                    message = (
                        f"{table} is filtered by {legacy} beside {column}: org data is shared by the whole "
                        f"organization, so the {legacy} filter hides it from the other members; drop it"
                    )
                else:
                    message = f"{table} is scoped by {legacy}, the legacy per-user tenant; scope it by {column}"
                yield ctx.finding(
                    CODE, facts.path, use.span, message, table=table, statement_line=query.span.line,
                    anchor=query.text + f"#{legacy}",
                )
        for write in query.writes:
            if not ctx.model.is_org_table(write.table, write.schema):
                continue
            spans = [span for name, span in (write.columns or {}).items() if name == legacy]
            spans += [c.span for c in write.sets if c.name == legacy]
            for span in spans:
                message = f"{write.op} into {write.table} sets {legacy}; org tables are populated with {column}"
                yield ctx.finding(
                    CODE, facts.path, span, message, table=write.table, statement_line=query.span.line,
                    anchor=query.text + f"#{legacy}",
                )
    for flow in facts.legacy_flows:
        message = (
            f"{flow.target} takes a value read from {legacy}, the legacy per-user tenant: a client id is not an "
            f"organization id, so what is scoped or written with it belongs to the wrong tenant; use {column} "
            f"(or look the organization up through the clients mapping)"
        )
        yield ctx.finding(CODE, facts.path, flow.span, message, statement_line=flow.statement_line,
                          anchor=f"legacy:{flow.target}")

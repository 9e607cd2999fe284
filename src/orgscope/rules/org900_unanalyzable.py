"""ORG900 unanalyzable — SQL or Python that mentions an org table but could not
be parsed or resolved. Document: rules/ORG900.yaml.

orgscope never passes silently over what it cannot read: a syntax error, an
internal error in one file, or a partially dynamic query (an interpolated SQL
fragment) with no visible org predicate is reported here.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.facts import FileFacts
from orgscope.findings import Finding
from orgscope.rules.base import RuleContext

CODE = "ORG900"


def check(ctx: RuleContext, facts: FileFacts) -> Iterator[Finding]:
    for problem in facts.problems:
        yield ctx.finding(
            CODE, facts.path, problem.span, problem.message, table=problem.table,
            statement_line=problem.statement_line, anchor=problem.message,
        )
    column = ctx.model.org_column
    for query in facts.queries:
        if not query.dynamic:
            continue
        for verdict in ctx.scoping(query).org_verdicts():
            if verdict.constrained or verdict.client_columns:
                continue
            ref = verdict.ref
            if query.unseen:
                message = f"cannot see {query.unseen}, so whether this query on {ref.table} is scoped by {column} is unknown"
            elif query.origin == "sqlalchemy":
                message = (
                    f"the filters of this query on {ref.table} come from a value orgscope cannot follow (a "
                    f"splatted list or `**kwargs` built elsewhere) and no {column} filter is visible; filter by "
                    f"{column} where the query is built"
                )
            else:
                message = (
                    f"partially dynamic query on {ref.table}: an interpolated SQL fragment may hold the scope, but "
                    f"no {column} predicate is visible; pass the org id as a bind parameter in the visible SQL"
                )
            yield ctx.finding(
                CODE, facts.path, ref.span, message, table=ref.table, statement_line=query.span.line,
                anchor=query.text,
            )
    yield from _refused_migration_statements(ctx, facts)


def _refused_migration_statements(ctx: RuleContext, facts: FileFacts) -> Iterator[Finding]:
    """A migration statement on an org table that PostgreSQL would reject on
    the schema the migrations build: the database the application runs on is
    then not the one the migrations describe, and what orgscope checks may not
    be what is deployed."""
    if facts.kind != "migration":
        return
    for refusal in ctx.catalog.schema.refusals:
        if refusal.where.path == facts.path and ctx.model.is_org_table(refusal.table, refusal.schema):
            message = (f"{refusal.message}: the database the application runs on is not the one the migrations "
                       "build, so the org tables orgscope checks may not be the ones deployed")
            yield ctx.finding(CODE, facts.path, refusal.where.span, message, table=refusal.table,
                              anchor=refusal.message)

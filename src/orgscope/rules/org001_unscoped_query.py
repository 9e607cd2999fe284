"""ORG001 unscoped-query — a query reads or changes rows of an org table without
an org-column predicate. Document: rules/ORG001.yaml.

A reference scoped only by the legacy column is ORG003 instead (one finding per
reference); a reference in a partially dynamic query is ORG900 instead, since
the missing scope may hide in the fragment orgscope cannot see.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.facts import FileFacts
from orgscope.findings import Finding
from orgscope.rules.base import RuleContext

CODE = "ORG001"

_VERBS = {
    "select": "reads",
    "update": "updates",
    "delete": "deletes from",
    "merge": "merges into",
    "copy": "copies",
    "truncate": "truncates",
}


def check(ctx: RuleContext, facts: FileFacts) -> Iterator[Finding]:
    column = ctx.model.org_column
    for query in facts.queries:
        if query.dynamic:
            continue
        if query.view is not None:
            yield from _view(ctx, facts, query)
            continue
        for verdict in ctx.scoping(query).org_verdicts():
            if verdict.constrained or verdict.client_columns:
                continue
            ref = verdict.ref
            table = ref.table
            verb = _VERBS.get(ref.op, "reads")
            if verdict.conditional:
                message = (
                    f"the {column} filter on {table} is conditional: it is applied only on some code paths, so "
                    f"the other paths read every organization's rows; apply it unconditionally (or leave the "
                    f"function when the org is missing)"
                )
            elif ref.op == "truncate":
                message = f"TRUNCATE {table} deletes the rows of every organization; use DELETE ... WHERE {column} = $1"
            else:
                message = (f"query {verb} {table} without {_article(column)} {column} predicate; "
                           f"add `{_qualified(ref)}.{column} = <org id>`")
            message += _in_function(query)
            yield ctx.finding(
                CODE, facts.path, ref.span, message, table=table, statement_line=query.span.line, anchor=query.text
            )


def _article(word: str) -> str:
    """'an org_id', 'an account_id', 'a clerk_org_id', 'a tenant_id' (by the first letter, as it is read)."""
    return "an" if word[:1].lower() in "aeio" else "a"


def _view(ctx: RuleContext, facts: FileFacts, query) -> Iterator[Finding]:
    """A view that exposes the org column is scoped by the queries on it (it
    is an org table for them); one that hides it is reported once, at its
    name, when its own body reads an org table unscoped."""
    current = ctx.catalog.schema.views.get((None, query.view))
    if query.view_exposes_org or current is None or current.created_at.span != query.view_span:
        return  # scoped by its callers, dropped, or replaced by a later definition
    unscoped = sorted({v.ref.table for v in ctx.scoping(query).org_verdicts()
                       if not v.constrained and not v.client_columns})
    if not unscoped:
        return
    column = ctx.model.org_column
    message = (f"view {query.view} reads {', '.join(unscoped)} but does not expose {column}, so no query on it can "
               f"be scoped to one organization; add {unscoped[0]}.{column} to its select list (and scope the "
               f"queries on the view), or scope the view's own query")
    yield ctx.finding(CODE, facts.path, query.view_span or query.span, message, table=unscoped[0],
                      statement_line=query.span.line, anchor=query.text)


def _in_function(query) -> str:
    """Where a query inside a function body runs, and how: SECURITY DEFINER
    functions run as their owner, past every row level security policy."""
    if query.function is None:
        return ""
    if query.security_definer:
        return (f" (in function {query.function}, SECURITY DEFINER: it runs as its owner and bypasses row level "
                f"security, so only this predicate can scope it)")
    return f" (in function {query.function})"


def _qualified(ref) -> str:
    return ref.alias or ref.table

"""ORG007 org-table-without-rls — after every migration is replayed, an org
table has row level security off while the project relies on it (the pack's
`rls`: `required`, or `auto` and a migration enables it somewhere, creates a
policy, or the project has a supabase/ folder). Document: rules/ORG007.yaml.

Reported at the DISABLE ROW LEVEL SECURITY that switched it off, else at the
CREATE TABLE of the table (the name it was created under, when a rename gave
it its current one). A table no migration creates, or one they drop, is not
reported.
"""

from __future__ import annotations

from typing import Iterator

from orgscope.findings import Finding
from orgscope.rules.base import RuleContext
from orgscope.rules.row_security import org_filter_hint, rls_required

CODE = "ORG007"


def check(ctx: RuleContext) -> Iterator[Finding]:
    schema = ctx.catalog.schema
    if not rls_required(ctx.model, schema, project_has_supabase(ctx)):
        return
    for table in schema.tables():
        if not ctx.model.is_org_table(table.name, table.schema) or table.rls:
            continue
        name = table.qualified_name
        if table.rls_changed_at is not None:
            where = table.rls_changed_at
            message = (f"row level security on {name} is disabled here, so every request through the API "
                       f"(PostgREST, a client key) reads and writes every organization's rows; keep it on: "
                       f"{how_to_enable(table.name, name, ctx.model)}")
        else:
            where = table.created_at
            message = (f"{name} never gets row level security while this project relies on it, so every "
                       f"request through the API reads and writes every organization's rows; add "
                       f"{how_to_enable(table.name, name, ctx.model)}")
        if where is None:
            continue
        yield ctx.finding(CODE, where.path, where.span, message, table=name,
                          statement_line=where.statement_line, anchor=f"{CODE}:{name}")


def how_to_enable(table: str, qualified: str, model) -> str:
    """The SQL that turns row level security on, with a policy scoped by the request's organization."""
    return (f"`ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY` with a policy such as `CREATE POLICY "
            f"{table}_org ON {qualified} TO authenticated USING ({org_filter_hint(model)})`")


def project_has_supabase(ctx: RuleContext) -> bool:
    """A supabase/ folder at the project root, or migrations under one."""
    if ctx.config is not None and (ctx.config.root / "supabase").is_dir():
        return True
    return any("supabase" in path.split("/") for path in ctx.catalog.migration_paths)

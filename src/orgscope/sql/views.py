"""Views over org tables (SPEC section 11).

A view that selects an org table's rows and exposes the org column is itself
an org table for the queries that read it: they must scope it by the column.
A view that reads an org table but hides the column can never be scoped by
its callers; its own body is then judged like a query, and an unscoped org
table in it is reported once, at the view's name.
"""

from __future__ import annotations

from sqlglot import exp

from orgscope.facts import CreateView, DropView, Problem, Query, SchemaEvent
from orgscope.model import TenancyModel
from orgscope.sql import tokens as tok
from orgscope.sql.split import Statement


def view_of(create: exp.Expression | None) -> exp.Create | None:
    if isinstance(create, exp.Create) and str(create.args.get("kind", "")).upper() == "VIEW" \
            and isinstance(create.expression, (exp.Select, exp.SetOperation, exp.Subquery)):
        return create
    return None


def _name(create: exp.Create) -> tuple[exp.Table | None, list[str] | None]:
    target = create.this
    columns = None
    if isinstance(target, exp.Schema):
        columns = [c.name.lower() for c in target.expressions]
        target = target.this
    return (target if isinstance(target, exp.Table) else None), columns


def exposes_org(create: exp.Create, model: TenancyModel) -> bool:
    """Does the view's select list carry the org column? A `*` (or `t.*`)
    over an org table does; a column list renames what the query gives."""
    query = create.expression
    while isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.SetOperation):
        query = query.this
    if not isinstance(query, exp.Select):
        return False
    _, renamed = _name(create)
    org = model.org_column
    for position, projection in enumerate(query.expressions):
        if isinstance(projection, exp.Star) or (isinstance(projection, exp.Column) and isinstance(projection.this, exp.Star)):
            return True
        name = (renamed[position] if renamed and position < len(renamed) else projection.alias_or_name or "").lower()
        if name == org:
            return True
    return False


def org_tables_read(create: exp.Create, model: TenancyModel) -> list[str]:
    found = []
    for table in create.expression.find_all(exp.Table):
        schema = table.args.get("db")
        schema_name = schema.name.lower() if schema is not None else None
        if model.is_org_table(table.name.lower(), None if schema_name == "public" else schema_name):
            found.append(table.name.lower())
    return sorted(set(found))


def view_event(reader) -> list[SchemaEvent]:
    """The CreateView of a DDL reader's statement (orgscope.sql.ddl._Reader)."""
    tree = reader.tree()
    create = view_of(tree.expr if tree is not None else None)
    if create is None:
        return []
    table, _ = _name(create)
    if table is None:
        return []
    schema = table.args.get("db")
    schema_name = schema.name.lower() if schema is not None else None
    return [CreateView(name=table.name.lower(), span=reader.node_span(tree, table),
                       org_tables=org_tables_read(create, reader.model), exposes_org=exposes_org(create, reader.model),
                       schema=None if schema_name == "public" else schema_name)]


def drop_view_events(reader) -> list[SchemaEvent]:
    cursor = tok.Cursor(reader.tokens)
    cursor.accept("DROP")
    cursor.accept("MATERIALIZED")
    cursor.accept("VIEW")
    cursor.accept("IF", "EXISTS")
    events: list[SchemaEvent] = []
    while True:
        named = cursor.name()
        if named is None:
            return events
        parts, first, last = named
        events.append(DropView(name=parts[-1], span=reader.span(first, last), schema=tok.schema_of(parts)))
        if not cursor.accept(","):
            return events


def view_query(stmt: Statement, positions, model: TenancyModel) -> tuple[list[Query], list[Problem]]:
    """The view's body as a query, marked with the view, for ORG001."""
    from orgscope.sql.extract import analyze_statement

    create = view_of(stmt.expr)
    table = _name(create)[0] if create is not None else None
    if table is None or not org_tables_read(create, model):
        return [], []
    body = Statement(text=stmt.text, start=stmt.start, expr=create.expression, tokens=stmt.tokens, base=stmt.base)
    queries, problems = analyze_statement(body, positions, model=model, origin="sql")
    meta = table.this.meta if isinstance(table.this, exp.Identifier) else {}
    for query in queries:
        query.view = table.name.lower()
        query.view_exposes_org = exposes_org(create, model)
        if "start" in meta:
            query.view_span = positions.span(stmt.base + meta["start"], stmt.base + meta["end"] + 1)
    return queries, problems

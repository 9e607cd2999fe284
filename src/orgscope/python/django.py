"""Python migration modules that are not Alembic revisions (SPEC section 10).

A Django migration (a module under a `migrations` package that defines
`class Migration(migrations.Migration)`) is a migration: the SQL of its
`RunSQL(...)` operations feeds the schema replay, and its data changes are
not query-checked by default (backfills legitimately span organizations).
A Python module matched by a configured `migrations` glob is read the same
way, with the SQL it passes to `execute(...)` as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import libcst as cst

from orgscope.facts import SchemaEvent
from orgscope.python.alembic import sql_events
from orgscope.python.names import dotted
from orgscope.python.nodes import children

if TYPE_CHECKING:
    from orgscope.python.walker import Walker


def is_django_migration(module: cst.Module, path: str) -> bool:
    if "migrations" not in path.split("/")[:-1]:
        return False
    for statement in module.body:
        if isinstance(statement, cst.ClassDef) and statement.name.value == "Migration":
            if any((dotted(base.value) or "").endswith("Migration") for base in statement.bases):
                return True
    return False


def migration_events(w: "Walker", module: cst.Module, *, executes: bool) -> list[SchemaEvent]:
    """Schema events of `RunSQL(sql)` (and `x.execute(sql)` when `executes`), in source order."""
    events: list[SchemaEvent] = []
    for call in _calls(module):
        name = (dotted(call.func) or "").rsplit(".", 1)[-1]
        if name == "RunSQL" or (executes and name == "execute"):
            for sql in _sql_arguments(call):
                events.extend(sql_events(w, sql))
    return events


def _sql_arguments(call: cst.Call) -> list[cst.BaseExpression]:
    """`RunSQL("...")`, `RunSQL(sql="...")`, `RunSQL(["...", ("...", params)])`; never reverse_sql."""
    value = None
    for arg in call.args:
        if arg.keyword is None and not arg.star:
            value = arg.value
            break
        if arg.keyword is not None and arg.keyword.value == "sql":
            value = arg.value
            break
    if value is None:
        return []
    if isinstance(value, (cst.List, cst.Tuple)):
        found = []
        for element in value.elements:
            item = element.value
            if isinstance(item, (cst.Tuple, cst.List)) and item.elements:
                item = item.elements[0].value  # (sql, params)
            found.append(item)
        return found
    return [value]


def _calls(node: cst.CSTNode) -> Iterator[cst.Call]:
    if isinstance(node, cst.Call):
        yield node
    for child in children(node):
        yield from _calls(child)

"""`orgscope schema --format json`: the replayed schema as one JSON object,
for scripts and tests. The shape is documented in the README (`orgscope
schema`) and asserted by tests/test_schema_json.py; keys are only ever added.

Every table the migrations create, change or drop is listed, and every org
table of the tenancy model whether or not a migration touches it, each with
its status: `created`, `never-created` (the migrations change it but never
create it, or do not mention it at all) or `dropped`. Org tables carry the
verdict `orgscope schema` prints as text (`org`), from the same rows
(rules/org_tables.py `describe`).
"""

from __future__ import annotations

import json
from typing import Callable

from orgscope import __version__
from orgscope.model import TenancyModel
from orgscope.report.schema_text import replay_notes
from orgscope.rules.org_tables import describe
from orgscope.schema import Schema, TableState, Where

# A policy's verdict by name: ("leaks" | "scoped" | "trusted", commands it leaks through).
PolicyVerdicts = Callable[[TableState], dict[str, tuple[str, list[str]]]]


def render_schema_json(schema: Schema, model: TenancyModel, plan: dict, policy_verdicts: PolicyVerdicts) -> str:
    """`plan` is migration_order.describe_plan of the catalog's plan."""
    org_rows = {row["table"]: row for row in describe(schema, model)}
    keys = {(t.schema, t.name) for t in schema.known_tables()} | set(schema.dropped_tables) | set(model.org_tables)
    tables = [_table(key, schema, model, org_rows, policy_verdicts)
              for key in sorted(keys, key=lambda k: (k[0] or "", k[1]))]
    data = {
        "version": __version__,
        "org_column": model.org_column,
        "org_column_type": model.org_column_type,
        "migrations": plan["sets"],
        "not_replayed": plan["not_replayed"],
        "tables": tables,
        "types": [_type(t) for t in sorted(schema.types.values(), key=lambda t: (t.schema or "", t.name))],
        "notes": [{"kind": "plan", "path": None, "line": None, "table": None, "message": note}
                  for note in plan["notes"]] + replay_notes(schema),
    }
    return json.dumps(data, indent=2) + "\n"


def _where(where: Where | None) -> str | None:
    return None if where is None else str(where)


def _table(key, schema: Schema, model: TenancyModel, org_rows: dict, policy_verdicts: PolicyVerdicts) -> dict:
    schema_name, name = key
    state = schema.known_table(name, schema_name)
    qualified = name if schema_name is None else f"{schema_name}.{name}"
    org_row = org_rows.get(qualified)
    entry: dict = {
        "name": name,
        "schema": schema_name,
        "org_table": org_row is not None,
        "status": "never-created",
        "created_at": None,
        "renamed_at": None,
        "dropped_at": _where(schema.table_dropped_at(name, schema_name)),
        "columns": [],
        "indexes": [],
        "row_level_security": None,
        "policies": [],
        "org": None,
    }
    if entry["dropped_at"] is not None and (state is None or not state.created):
        entry["status"] = "dropped"
    if org_row is not None:
        entry["org"] = {k: org_row.get(k) for k in ("status", "org_column", "index", "index_problem")}
    if state is None:
        return entry
    if state.created:
        entry.update(status="created", created_at=_where(state.created_at), dropped_at=None)
    entry["renamed_at"] = _where(state.renamed_at)
    entry["columns"] = [{"name": column, "type": type_ or None, "added_at": _where(state.column_added_at.get(column))}
                        for column, type_ in state.columns.items()]
    entry["indexes"] = [{"name": index.name, "columns": list(index.columns), "unique": index.unique,
                         "partial": index.partial, "primary": index.primary, "constraint": index.constraint,
                         "created_at": _where(index.created_at)}
                        for index in sorted(state.indexes.values(), key=lambda i: i.name)]
    entry["row_level_security"] = {"enabled": state.rls, "forced": state.rls_forced,
                                   "changed_at": _where(state.rls_changed_at)}
    verdicts = policy_verdicts(state)
    entry["policies"] = [{"name": p.name, "command": p.command, "permissive": p.permissive, "roles": list(p.roles),
                          "using": p.using.text if p.using is not None else None,
                          "check": p.check.text if p.check is not None else None,
                          "created_at": _where(p.created_at), "changed_at": _where(p.changed_at),
                          "verdict": verdicts[p.name][0], "leaks_for": verdicts[p.name][1]}
                         for p in sorted(state.policies.values(), key=lambda p: p.name)]
    return entry


def _type(state) -> dict:
    return {"name": state.name, "schema": state.schema, "kind": state.kind, "labels": list(state.labels),
            "created_at": _where(state.created_at), "renamed_at": _where(state.renamed_at)}

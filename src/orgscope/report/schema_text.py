"""`orgscope schema` as text: one paragraph per org table, from the rows that
rules/org_tables.py's `describe` judges, then the replay's notes (statements
PostgreSQL would refuse on the schema the migrations build)."""

from __future__ import annotations

from typing import Callable

from orgscope.model import TenancyModel, split_table_name
from orgscope.rules.org_tables import describe
from orgscope.schema import Schema, TableState


def render_schema_text(schema: Schema, model: TenancyModel,
                       security: Callable[[TableState], list[str]] | None = None) -> str:
    """`orgscope schema` as text: one paragraph per org table. `security`
    gives the lines about a table's row level security and its policies."""
    rows = describe(schema, model)
    org = model.org_column
    lines = [f"{len(rows)} org tables, scoped by {org} {model.org_column_type}:", ""]
    width = max((len(r["table"]) for r in rows), default=0)
    for row in rows:
        head = row["table"].ljust(width)
        if row["status"] == "unknown":
            lines.append(f"{head}  unknown (never created by any migration)")
        elif row["status"] == "dropped":
            lines.append(f"{head}  dropped at {row['dropped_at']}")
        else:
            renamed = f", renamed at {row['renamed_at']}" if row.get("renamed_at") else ""
            lines.append(f"{head}  created at {row['created_at']}{renamed}")
        column = row["org_column"]
        if row["status"] == "missing-column":
            dropped = row.get("org_column_dropped_at")
            lines.append(f"  {org}: missing" + (f" (dropped at {dropped})" if dropped else ""))
        elif column is not None:
            type_ = column["type"] or "type unknown"
            expected = "" if column["type_ok"] else f" (expected {column['expected_type']})"
            added = f", added at {column['added_at']}" if column["added_at"] else ""
            lines.append(f"  {org}: {type_}{expected}{added}")
        if row["index"] is not None:
            index = row["index"]
            lines.append(f"  index: {index['name']} ({', '.join(index['columns'])}), created at {index['created_at']}")
        elif row["index_problem"] is not None:
            lines.append(f"  index: none usable ({row['index_problem']})")
        schema_name, name = split_table_name(row["table"])
        state = schema.known_table(name, schema_name)
        if security is not None and state is not None and row["status"] != "dropped":
            lines.extend(f"  {line}" for line in security(state))
    notes = replay_notes(schema)
    if notes:
        lines += ["", f"notes ({len(notes)}):"]
        lines += [f"  {note['path']}:{note['line']}: {note['message']}" if note["path"] else f"  {note['message']}"
                  for note in notes]
    return "\n".join(lines) + "\n"


def replay_notes(schema: Schema) -> list[dict]:
    """What the replay noted, for both forms of `orgscope schema`: each
    statement PostgreSQL would refuse (`refused`, with where and the table it
    touches), then anything else it could not apply (`warning`)."""
    notes = [{"kind": "refused", "path": r.where.path, "line": r.where.span.line,
              "table": r.table if r.schema is None or r.table is None else f"{r.schema}.{r.table}",
              "message": r.message} for r in schema.refusals]
    return notes + [{"kind": "warning", "path": None, "line": None, "table": None, "message": w}
                    for w in schema.warnings]

"""`orgscope schema` as text: one paragraph per org table, from the rows that
rules/org_tables.py's `describe` judges."""

from __future__ import annotations

from orgscope.model import TenancyModel
from orgscope.rules.org_tables import describe
from orgscope.schema import Schema


def render_schema_text(schema: Schema, model: TenancyModel) -> str:
    """`orgscope schema` as text: one paragraph per org table."""
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
    return "\n".join(lines) + "\n"

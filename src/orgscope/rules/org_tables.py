"""What the tenancy model requires of an org table's schema, judged once.

An org table must have the org column, of the pack's `org_column_type`
(ORG004), and a usable index leading with it (ORG002). The same judgement,
with the same words, serves `orgscope check` (the schema the migrations
leave, `schema.TableState`), `orgscope db` (the live catalog,
`livedb.LiveTable`) and `orgscope schema` (`describe`). Each message says the
problem and how to fix it and is built here only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Protocol, Sequence

from orgscope.model import TenancyModel
from orgscope.postgres import normalise_type
from orgscope.schema import Schema, TableState, Where

MISSING_INDEX = "ORG002"
MISSING_COLUMN = "ORG004"


class IndexKey(Protocol):
    """What decides whether an index serves lookups by the org column."""

    @property
    def name(self) -> str: ...
    @property
    def leading_column(self) -> str | None: ...  # None: the first key is an expression
    @property
    def partial(self) -> bool: ...
    @property
    def valid(self) -> bool: ...  # False: a failed CREATE INDEX CONCURRENTLY


class IndexView(IndexKey, Protocol):
    @property
    def columns(self) -> Sequence[str | None]: ...  # the key columns as far as they are known


class TableView(Protocol):
    """A table as the replay or the live catalog has it."""

    @property
    def name(self) -> str: ...
    @property
    def schema(self) -> str | None: ...
    @property
    def qualified_name(self) -> str: ...
    @property
    def columns(self) -> Mapping[str, str]: ...  # name -> type ("" when unknown)
    @property
    def indexes(self) -> Mapping[str, IndexView]: ...


@dataclass(frozen=True)
class Verdict:
    """One thing an org table lacks. `where` is the place in the migrations
    the finding points at (None when they do not say, and for a live table)."""

    code: str  # ORG002 | ORG004
    table: str  # qualified name
    message: str
    where: Where | None = None
    wrong_type: bool = False  # ORG004 for a column of another type: a warning by default


# --- the org index ----------------------------------------------------------------


def is_usable_org_index(index: IndexKey, table_name: str, model: TenancyModel) -> bool:
    """Does `index` serve lookups by the org column (SPEC section 5)? It must
    be valid, lead with the column, be neither partial nor on an expression,
    and carry the conventional name when the pack requires it."""
    if not index.valid or index.partial or index.leading_column != model.org_column:
        return False
    return not model.require_index_name or index.name == model.expected_index_name(table_name)


def usable_org_index(table: TableView, model: TenancyModel) -> IndexView | None:
    usable = [i for i in table.indexes.values() if is_usable_org_index(i, table.name, model)]
    return min(usable, key=lambda i: i.name) if usable else None


def index_lost_at(table: TableState, model: TenancyModel) -> tuple[Where, str] | None:
    """The event of the replay that took away the table's last usable org
    index, and that index's name; None when the table has one, or never had."""
    lost = None
    for change in table.index_history:
        if _usable_names(change.after, change.after_name, table.schema, model):
            lost = None
        else:
            before = _usable_names(change.before, change.before_name, table.schema, model)
            if before:
                lost = (change.where, sorted(before)[0])
    return lost


def _usable_names(indexes: Iterable[IndexKey], name: str | None, schema: str | None, model: TenancyModel) -> set[str]:
    if name is None or not model.is_org_table(name, schema):
        return set()
    return {i.name for i in indexes if is_usable_org_index(i, name, model)}


def why_no_org_index(table: TableView, model: TenancyModel) -> str:
    """Why `table` has no usable org index, in a few words: the change that
    took the last one away (a replayed table), then what is left that does
    not count."""
    org = model.org_column
    reasons = []
    if isinstance(table, TableState):
        lost = index_lost_at(table, model)
        if lost is not None:
            where, name = lost
            dropped = next((i for i in reversed(table.dropped_indexes) if i.name == name), None)
            if dropped is not None and dropped.dropped_at == where:
                reasons.append(f"{dropped.name} was dropped at {dropped.dropped_at}")
            else:
                reasons.append(f"{name} stopped counting at {where}")
    indexes = sorted(table.indexes.values(), key=lambda i: i.name)
    leading = [i for i in indexes if i.leading_column == org]
    left = []  # what remains that involves the org column but does not count
    invalid = [i.name for i in leading if not i.valid]
    if invalid:
        left.append(f"{', '.join(invalid)} is INVALID, left by a failed CREATE INDEX CONCURRENTLY; "
                    "drop and rebuild it")
    misnamed = [i.name for i in leading if not i.partial and i.valid]
    if misnamed and model.require_index_name:
        left.append(f"{', '.join(misnamed)} is not named {model.expected_index_name(table.name)}")
    partial = [i.name for i in leading if i.partial]
    if partial:
        left.append(f"only a partial index: {', '.join(partial)}")
    later = [i.name for i in indexes if org in i.columns[1:]]
    if later:
        left.append(f"{', '.join(later)} has {org} but not as its first column")
    expression = [i.name for i in indexes if i.leading_column is None]
    if expression and not left:
        # The events do not say which columns an expression key uses.
        left.append(f"only an expression index: {', '.join(expression)}")
    return "; ".join(reasons + left) or "no index"


# --- the verdicts -------------------------------------------------------------------


def judge(table: TableView, model: TenancyModel) -> list[Verdict]:
    """What the org table `table` lacks (nothing for a table the model does not scope)."""
    if not model.is_org_table(table.name, table.schema):
        return []
    org, expected_type, name = model.org_column, model.org_column_type, table.qualified_name
    history = table if isinstance(table, TableState) else None
    if org not in table.columns:
        dropped = history.column_dropped_at.get(org) if history else None
        if dropped is not None:
            message = (f"{name} loses {org} here, and every row of an org table must carry its "
                       f"organization; keep the column ({org} {expected_type}) and its index")
            return [Verdict(MISSING_COLUMN, name, message, dropped)]
        message = (f"{name} has no {org} column; add ALTER TABLE {name} ADD COLUMN {org} "
                   f"{expected_type}, backfill it and index it")
        return [Verdict(MISSING_COLUMN, name, message, history.created_at if history else None)]
    verdicts = []
    actual = table.columns[org]
    if actual and normalise_type(actual) != normalise_type(expected_type):
        where = (history.column_typed_at.get(org) or history.column_added_at.get(org) or history.created_at
                 if history else None)
        message = (f"{name}.{org} is {actual}, the tenancy model expects {expected_type}; change it with "
                   f"ALTER TABLE {name} ALTER COLUMN {org} TYPE {expected_type}")
        verdicts.append(Verdict(MISSING_COLUMN, name, message, where, wrong_type=True))
    if usable_org_index(table, model) is None:
        where = None
        if history is not None:
            lost = index_lost_at(history, model)
            where = (lost[0] if lost else None) or history.column_added_at.get(org) or history.created_at
        expected = model.expected_index_name(table.name)
        misnamed = sorted(i.name for i in table.indexes.values() if i.leading_column == org and not i.partial)
        if model.require_index_name and misnamed:
            fix = f"rename it: ALTER INDEX {misnamed[0]} RENAME TO {expected}"
        else:
            fix = f"add CREATE INDEX CONCURRENTLY {expected} ON {name} ({org})"
        message = f"{name} has no index leading with {org} ({why_no_org_index(table, model)}); {fix}"
        verdicts.append(Verdict(MISSING_INDEX, name, message, where))
    return verdicts


def replayed_verdicts(schema: Schema, model: TenancyModel, code: str) -> Iterable[Verdict]:
    """The verdicts of one code on every table the migrations create, where
    the migrations say where to point."""
    for table in schema.tables():
        for verdict in judge(table, model):
            if verdict.code == code and verdict.where is not None:
                yield verdict


# --- orgscope schema ---------------------------------------------------------------


def describe(schema: Schema, model: TenancyModel) -> list[dict]:
    """One row per org table of the model: what the migrations leave of it."""
    org = model.org_column
    rows = []
    for schema_name, name in sorted(model.org_tables, key=lambda k: (k[0] or "", k[1])):
        qualified = name if schema_name is None else f"{schema_name}.{name}"
        row: dict = {"table": qualified, "status": "unknown", "exists": None, "created_at": None,
                     "dropped_at": None, "org_column": None, "index": None, "index_problem": None}
        rows.append(row)
        state = schema.table(name, schema_name)
        if state is None:
            dropped = schema.table_dropped_at(name, schema_name)
            if dropped is not None:
                row.update(status="dropped", exists=False, dropped_at=str(dropped))
            partial = schema.known_table(name, schema_name)
            if partial is not None and org in partial.columns:
                row["org_column"] = _column_row(partial, model)
            continue
        row.update(exists=True, created_at=str(state.created_at))
        if state.renamed_at is not None:
            row["renamed_at"] = str(state.renamed_at)
        if org not in state.columns:
            row["status"] = "missing-column"
            dropped_column = state.column_dropped_at.get(org)
            row["org_column_dropped_at"] = str(dropped_column) if dropped_column else None
            continue
        row["org_column"] = _column_row(state, model)
        index = usable_org_index(state, model)
        if index is None:
            row["status"] = "missing-index"
            row["index_problem"] = why_no_org_index(state, model)
        else:
            row["status"] = "ok" if row["org_column"]["type_ok"] else "wrong-type"
            row["index"] = {"name": index.name, "columns": [c or "<expression>" for c in index.columns],
                            "unique": index.unique, "created_at": str(index.created_at)}
    return rows


def _column_row(state: TableState, model: TenancyModel) -> dict:
    org = model.org_column
    type_ = state.columns.get(org, "")
    added = state.column_added_at.get(org)
    return {
        "name": org,
        "type": type_ or None,
        "expected_type": model.org_column_type,
        "type_ok": not type_ or normalise_type(type_) == normalise_type(model.org_column_type),
        "added_at": str(added) if added else None,
    }

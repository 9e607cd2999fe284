"""The schema replay (SPEC section 5): apply every migration's schema events
in order and keep what ORG002 / ORG004 and `orgscope schema` need to know.

The replay follows PostgreSQL's rules where they matter to tenancy:

* IF NOT EXISTS on an existing table, column or index is a no-op, and so is
  a statement PostgreSQL would reject (adding a column or an index name that
  exists, altering a table the migrations dropped).
* RENAME TABLE moves the columns and indexes; RENAME COLUMN renames the
  column inside the indexes too; DROP COLUMN drops every index that uses the
  column; DROP TABLE drops its indexes. Index names are unique per schema.
* An unnamed index gets PostgreSQL's name (`agents_clerk_org_id_idx`, then
  `..._idx1`), so a later DROP INDEX by that name finds it.

A table the migrations change but never create (they may start from an
existing database) is "partially known": what the migrations did to it is
kept, but `table()` does not return it and `has_column` answers None for a
column it knows nothing about.

Besides the current state the replay keeps the history the rules point at:
where each table was created or renamed, where each column was added, typed
and dropped, where each index was created and dropped, and which event took
away an org table's last usable index.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from heapq import heappop, heappush

from orgscope.facts import (
    AddColumn,
    AlembicRevision,
    AlterColumnType,
    AlterPolicy,
    CreatePolicy,
    DropPolicy,
    PolicyExpr,
    RowSecurity,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    IndexDef,
    RenameColumn,
    RenameIndex,
    RenameTable,
    SchemaEvent,
    Span,
)
from orgscope.model import TenancyModel
from orgscope.sql.ddl import normalise_type, pg_object_name

TableKey = tuple[str | None, str]  # (schema, table); schema None = public
_MAX_IDENTIFIER = 63  # PostgreSQL's NAMEDATALEN - 1


# --- ordering ----------------------------------------------------------------

_RUNS = re.compile(r"(\d+)")


def natural_sort_key(path: str) -> tuple:
    """Sort key for migration paths: component by component, digit runs as
    numbers, so `2_x.sql` < `10_x.sql` and `20240101120000_x.sql` compares as
    a number; letters compare without case. The path itself breaks the ties
    that leaves (`V1` / `v1`, `002` / `2`), so the order is always the same."""
    components = []
    for component in re.split(r"[\\/]+", path):
        runs = []
        for i, run in enumerate(_RUNS.split(component)):
            if run:
                runs.append((0, int(run), "") if i % 2 else (1, 0, run.lower()))
        components.append(tuple(runs))
    return tuple(components), path


def order_alembic(
    revisions: list[tuple[str, AlembicRevision]], warnings: list[str] | None = None
) -> list[tuple[str, AlembicRevision]]:
    """Alembic revisions in an order that applies every parent before its
    children (branches and merges included). Among revisions that are ready
    at the same time the path decides, by natural sort. A down_revision that
    no file defines is treated as already applied; revisions caught in a
    cycle follow in path order. Each such oddity is appended to `warnings`.
    """
    notes = warnings if warnings is not None else []
    order = sorted(range(len(revisions)), key=lambda i: (natural_sort_key(revisions[i][0]), revisions[i][0]))
    rank = {node: position for position, node in enumerate(order)}
    by_id: dict[str, list[int]] = {}
    for i, (path, revision) in enumerate(revisions):
        by_id.setdefault(str(revision.revision), []).append(i)
    for revision_id, nodes in by_id.items():
        if len(nodes) > 1:
            paths = ", ".join(revisions[i][0] for i in sorted(nodes, key=rank.__getitem__))
            notes.append(f"revision {revision_id} is defined more than once ({paths})")

    waiting = [0] * len(revisions)
    children: dict[int, list[int]] = {}
    for i, (path, revision) in enumerate(revisions):
        for parent_id in dict.fromkeys(str(p) for p in revision.down_revisions if p is not None):
            parents = by_id.get(parent_id)
            if not parents:
                notes.append(f"{path}: down_revision {parent_id} is not defined by any migration; "
                             "treating it as already applied")
                continue
            for parent in parents:
                if parent != i:
                    waiting[i] += 1
                    children.setdefault(parent, []).append(i)

    ready = [rank[i] for i in range(len(revisions)) if waiting[i] == 0]
    ready.sort()
    result: list[int] = []
    while ready:
        node = order[heappop(ready)]
        result.append(node)
        for child in children.get(node, []):
            waiting[child] -= 1
            if waiting[child] == 0:
                heappush(ready, rank[child])
    if len(result) < len(revisions):
        done = set(result)
        stuck = [i for i in order if i not in done]
        notes.append("revisions in a cycle of down_revisions, applied in path order: "
                     + ", ".join(revisions[i][0] for i in stuck))
        result.extend(stuck)
    return [revisions[i] for i in result]


# --- state ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Where:
    """A place in a migration: its path and the span of the statement's token.
    `statement_line` is the first line of the statement when it differs from
    the span's line (a column inside a CREATE TABLE)."""

    path: str
    span: Span
    statement_line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.span.line}"


@dataclass(slots=True)
class IndexState:
    name: str
    table: str
    schema: str | None
    columns: list[str | None]  # key columns in order; None = an expression
    unique: bool
    partial: bool
    created_at: Where
    dropped_at: Where | None = None
    renamed_at: Where | None = None
    # Every column the index depends on: its keys, the columns their
    # expressions use, INCLUDE and WHERE columns. DROP COLUMN of any drops it.
    uses: set[str] = field(default_factory=set)

    @property
    def leading_column(self) -> str | None:
        return self.columns[0] if self.columns else None


@dataclass(slots=True)
class PolicyState:
    """A row level security policy as the migrations leave it. `changed_at`
    is the CREATE POLICY, or the last ALTER POLICY that changed its roles or
    expressions: where a finding about what it lets through belongs."""

    name: str
    command: str  # all | select | insert | update | delete
    permissive: bool
    roles: tuple[str, ...]
    using: PolicyExpr | None
    check: PolicyExpr | None
    created_at: Where
    changed_at: Where
    renamed_at: Where | None = None


@dataclass(slots=True)
class TableState:
    name: str
    schema: str | None
    columns: dict[str, str] = field(default_factory=dict)  # name -> type ("" when unknown)
    indexes: dict[str, IndexState] = field(default_factory=dict)  # by index name
    created_at: Where | None = None  # None: the migrations change it but never create it
    renamed_at: Where | None = None  # the RENAME TO that gave it its current name
    column_added_at: dict[str, Where] = field(default_factory=dict)
    column_typed_at: dict[str, Where] = field(default_factory=dict)
    column_dropped_at: dict[str, Where] = field(default_factory=dict)  # columns it no longer has
    dropped_indexes: list[IndexState] = field(default_factory=list)
    # The event that took away the last usable org index, and that index.
    usable_index_lost_at: Where | None = None
    lost_index: str | None = None
    # Row level security: on or off, where it was last switched, and the
    # policies by name.
    rls: bool = False
    rls_forced: bool = False
    rls_changed_at: Where | None = None
    policies: dict[str, PolicyState] = field(default_factory=dict)
    dropped_policies: list[PolicyState] = field(default_factory=list)

    @property
    def created(self) -> bool:
        return self.created_at is not None

    @property
    def qualified_name(self) -> str:
        return self.name if self.schema is None else f"{self.schema}.{self.name}"


def _key(table: str, schema: str | None) -> TableKey:
    return (None if schema == "public" else schema), table


class Schema:
    """The replayed schema: current tables and indexes, plus their history."""

    def __init__(self, model: TenancyModel) -> None:
        self.model = model
        self._tables: dict[TableKey, TableState] = {}
        self._index_owner: dict[tuple[str | None, str], TableKey] = {}
        self.dropped_tables: dict[TableKey, Where] = {}
        self.dropped_indexes: list[IndexState] = []
        self.warnings: list[str] = []
        # The first migration that enables row level security or creates a
        # policy: the project relies on it (the pack's `rls: auto`).
        self.rls_used_at: Where | None = None

    # questions

    def table(self, name: str, schema: str | None = None) -> TableState | None:
        """The table as the migrations leave it, when they create it."""
        state = self._tables.get(_key(name, schema))
        return state if state is not None and state.created else None

    def known_table(self, name: str, schema: str | None = None) -> TableState | None:
        """Also a table the migrations change without creating it."""
        return self._tables.get(_key(name, schema))

    def tables(self) -> list[TableState]:
        """Every table the migrations create and do not drop, by name."""
        return sorted((t for t in self._tables.values() if t.created), key=lambda t: (t.schema or "", t.name))

    def known_tables(self) -> list[TableState]:
        """Every table the migrations create or change and do not drop."""
        return sorted(self._tables.values(), key=lambda t: (t.schema or "", t.name))

    def has_column(self, table: str, schema: str | None, column: str) -> bool | None:
        """True / False as the migrations leave `table`; None when they do not
        create it and say nothing about the column."""
        state = self._tables.get(_key(table, schema))
        if state is None:
            return None
        if column in state.columns:
            return True
        if state.created or column in state.column_dropped_at:
            return False
        return None

    def index(self, name: str, schema: str | None = None) -> IndexState | None:
        owner = self._index_owner.get((None if schema == "public" else schema, name))
        return None if owner is None else self._tables[owner].indexes.get(name)

    def table_dropped_at(self, name: str, schema: str | None = None) -> Where | None:
        """Where the migrations drop the table, when they leave it dropped."""
        return self.dropped_tables.get(_key(name, schema))

    # replay

    def apply(self, path: str, event: SchemaEvent) -> None:
        """Apply one event, keeping track of the org indexes it takes away."""
        before_key, after_key = self._keys_touched(event)
        before = self._usable_names(before_key)
        _APPLY[type(event)](self, path, event)
        if isinstance(event, RenameTable) and before_key in self._tables:
            after_key = before_key  # the rename did not happen
        if after_key is None:
            return
        state = self._tables.get(after_key)
        if state is None:
            return
        after = self._usable_names(after_key)
        if after:
            state.usable_index_lost_at = None
            state.lost_index = None
        elif before:
            state.usable_index_lost_at = Where(path, _event_span(event))
            state.lost_index = sorted(before)[0]

    def _keys_touched(self, event: SchemaEvent) -> tuple[TableKey | None, TableKey | None]:
        if isinstance(event, (RowSecurity, CreatePolicy, AlterPolicy, DropPolicy)):
            return None, None  # nothing to do with indexes
        if isinstance(event, CreateIndex):
            key = _key(event.index.table, event.index.schema)
            return key, key
        if isinstance(event, (DropIndex, RenameIndex)):
            names = event.names if isinstance(event, DropIndex) else [event.old]
            owners = [self._index_owner.get(_split_index_name(n)) for n in names]
            key = next((o for o in owners if o is not None), None)
            return key, key
        if isinstance(event, RenameTable):
            return _key(event.table, event.schema), _key(event.new, event.schema)
        if isinstance(event, DropTable):
            return None, None
        key = _key(event.table, event.schema)
        return key, key

    def _usable_names(self, key: TableKey | None) -> set[str]:
        state = self._tables.get(key) if key is not None else None
        if state is None or not self.model.is_org_table(state.name, state.schema):
            return set()
        return {i.name for i in state.indexes.values() if is_usable_org_index(i, state, self.model)}

    def _state_for_change(self, table: str, schema: str | None) -> TableState | None:
        """The table an ALTER changes. A table the migrations never mention
        becomes partially known; one they dropped cannot be altered."""
        key = _key(table, schema)
        state = self._tables.get(key)
        if state is None and key not in self.dropped_tables:
            state = self._tables[key] = TableState(name=table, schema=key[0])
        return state

    def _create_table(self, path: str, event: CreateTable) -> None:
        key = _key(event.table, event.schema)
        if key in self._tables and event.if_not_exists:
            return
        self._forget_table(key, None)
        self.dropped_tables.pop(key, None)
        state = self._tables[key] = TableState(name=event.table, schema=key[0], created_at=Where(path, event.span))
        for column, type_ in event.columns.items():
            state.columns[column] = type_
            where = Where(path, event.column_spans.get(column, event.span), statement_line=event.span.line)
            state.column_added_at[column] = where
            state.column_typed_at[column] = where
        for index in event.indexes:
            self._add_index(path, index, state, constraint=True)

    def _add_column(self, path: str, event: AddColumn) -> None:
        state = self._state_for_change(event.table, event.schema)
        if state is None or event.column in state.columns:
            return  # ADD COLUMN [IF NOT EXISTS] of a column that exists
        where = Where(path, event.span)
        state.columns[event.column] = event.type
        state.column_added_at[event.column] = where
        state.column_typed_at[event.column] = where
        state.column_dropped_at.pop(event.column, None)

    def _drop_column(self, path: str, event: DropColumn) -> None:
        state = self._state_for_change(event.table, event.schema)
        if state is None or (state.created and event.column not in state.columns):
            return
        where = Where(path, event.span)
        state.columns.pop(event.column, None)
        state.column_added_at.pop(event.column, None)
        state.column_typed_at.pop(event.column, None)
        state.column_dropped_at[event.column] = where
        for index in [i for i in state.indexes.values() if event.column in i.uses]:
            self._drop_index(state, index, where)

    def _rename_column(self, path: str, event: RenameColumn) -> None:
        state = self._state_for_change(event.table, event.schema)
        if state is None or event.new in state.columns or (state.created and event.old not in state.columns):
            return
        where = Where(path, event.span)
        state.columns = {(event.new if c == event.old else c): t for c, t in state.columns.items()}
        state.columns.setdefault(event.new, "")  # a partially known table: the type is unknown
        typed = state.column_typed_at.pop(event.old, None)
        if typed is not None:
            state.column_typed_at[event.new] = typed
        state.column_added_at.pop(event.old, None)
        state.column_added_at[event.new] = where
        state.column_dropped_at.pop(event.new, None)
        state.column_dropped_at[event.old] = where
        for index in state.indexes.values():
            index.columns = [event.new if c == event.old else c for c in index.columns]
            if event.old in index.uses:
                index.uses = (index.uses - {event.old}) | {event.new}

    def _alter_column_type(self, path: str, event: AlterColumnType) -> None:
        state = self._state_for_change(event.table, event.schema)
        if state is None or (state.created and event.column not in state.columns):
            return
        state.columns[event.column] = event.type
        state.column_typed_at[event.column] = Where(path, event.span)
        state.column_dropped_at.pop(event.column, None)

    def _rename_table(self, path: str, event: RenameTable) -> None:
        old_key = _key(event.table, event.schema)
        new_key = _key(event.new, event.schema)
        if old_key == new_key or new_key in self._tables:
            return  # PostgreSQL refuses to rename onto an existing table
        state = self._state_for_change(event.table, event.schema)
        if state is None:
            return
        del self._tables[old_key]
        state.name = event.new
        state.renamed_at = Where(path, event.span)
        self._tables[new_key] = state
        self.dropped_tables.pop(new_key, None)
        for index in state.indexes.values():
            index.table = event.new
            self._index_owner[(new_key[0], index.name)] = new_key

    def _drop_table(self, path: str, event: DropTable) -> None:
        key = _key(event.table, event.schema)
        where = Where(path, event.span)
        self._forget_table(key, where)
        self.dropped_tables[key] = where

    def _forget_table(self, key: TableKey, where: Where | None) -> None:
        state = self._tables.pop(key, None)
        if state is None:
            return
        for index in list(state.indexes.values()):
            self._index_owner.pop((state.schema, index.name), None)
            if where is not None:
                index.dropped_at = where
                self.dropped_indexes.append(index)

    def _create_index(self, path: str, event: CreateIndex) -> None:
        state = self._state_for_change(event.index.table, event.index.schema)
        if state is not None:
            self._add_index(path, event.index, state)

    def _add_index(self, path: str, index: IndexDef, state: TableState, constraint: bool = False) -> None:
        name = index.name
        if name is None:
            name = self._generated_index_name(state, index, constraint)
        elif self._name_taken(state.schema, name):
            if not index.if_not_exists:
                self.warnings.append(f"{path}:{index.span.line}: index {name} already exists; "
                                     "PostgreSQL would reject this statement, the replay ignores it")
            return
        state.indexes[name] = IndexState(
            name=name,
            table=state.name,
            schema=state.schema,
            columns=list(index.columns),
            unique=index.unique,
            partial=index.partial,
            created_at=Where(path, index.span),
            uses=set(getattr(index, "uses", None) or ()) | {c for c in index.columns if c is not None},
        )
        self._index_owner[(state.schema, name)] = _key(state.name, state.schema)

    def _name_taken(self, schema: str | None, name: str) -> bool:
        # Indexes and tables share one namespace per schema.
        return (schema, name) in self._index_owner or (schema, name) in self._tables

    def _generated_index_name(self, state: TableState, index: IndexDef, constraint: bool) -> str:
        """The name PostgreSQL makes up for an unnamed index (ChooseIndexName):
        `<table>_pkey` for a primary key, `<table>_<keys>_key` for a UNIQUE
        constraint, `<table>_<keys>_idx` otherwise, numbered 1, 2 ... while the
        name is taken."""
        kind = getattr(index, "kind", None) or ("unique" if constraint else "index")
        if kind == "primary":
            middle, label = "", "pkey"
        else:
            key_names = getattr(index, "key_names", None) or [c if c is not None else "expr" for c in index.columns]
            middle, label = _index_name_addition(_distinct_key_names(key_names)), ("key" if kind == "unique" else "idx")
        attempt = 0
        while True:
            name = pg_object_name(state.name, middle, label if attempt == 0 else f"{label}{attempt}")
            if not self._name_taken(state.schema, name):
                return name
            attempt += 1

    def _drop_index_event(self, path: str, event: DropIndex) -> None:
        where = Where(path, event.span)
        for qualified in event.names:
            owner = self._index_owner.get(_split_index_name(qualified))
            if owner is None:
                continue  # DROP INDEX IF EXISTS, or an index made outside the migrations
            state = self._tables[owner]
            index = state.indexes.get(_split_index_name(qualified)[1])
            if index is not None:
                self._drop_index(state, index, where)

    def _drop_index(self, state: TableState, index: IndexState, where: Where) -> None:
        state.indexes.pop(index.name, None)
        self._index_owner.pop((state.schema, index.name), None)
        index.dropped_at = where
        state.dropped_indexes.append(index)
        self.dropped_indexes.append(index)

    def _rename_index(self, path: str, event: RenameIndex) -> None:
        schema, old = _split_index_name(event.old)
        owner = self._index_owner.get((schema, old))
        if owner is None or (schema, event.new) in self._index_owner:
            return
        state = self._tables[owner]
        index = state.indexes.pop(old)
        del self._index_owner[(schema, old)]
        index.name = event.new
        index.renamed_at = Where(path, event.span)
        state.indexes[event.new] = index
        self._index_owner[(schema, event.new)] = owner

    # row level security

    def _row_security(self, path: str, event: RowSecurity) -> None:
        state = self._state_for_change(event.table, event.schema)
        if state is None:
            return
        where = Where(path, event.span)
        if event.action in ("enable", "disable"):
            state.rls = event.action == "enable"
            state.rls_changed_at = where
            if state.rls and self.rls_used_at is None:
                self.rls_used_at = where
        else:
            state.rls_forced = event.action == "force"

    def _create_policy(self, path: str, event: CreatePolicy) -> None:
        state = self._state_for_change(event.table, event.schema)
        if state is None or event.name in state.policies:
            return  # PostgreSQL refuses a second policy of the same name on a table
        if not _policy_clauses_allowed(event.command, event.using, event.check):
            self.warnings.append(f"{path}:{event.span.line}: PostgreSQL rejects policy {event.name}: "
                                 f"{_clause_rule(event.command)}; the replay ignores it")
            return
        where = Where(path, event.span)
        state.policies[event.name] = PolicyState(
            name=event.name, command=event.command, permissive=event.permissive, roles=tuple(event.roles),
            using=event.using, check=event.check, created_at=where, changed_at=where)
        if self.rls_used_at is None:
            self.rls_used_at = where

    def _alter_policy(self, path: str, event: AlterPolicy) -> None:
        state = self._state_for_change(event.table, event.schema)
        policy = state.policies.get(event.name) if state is not None else None
        if policy is None:
            return
        where = Where(path, event.span)
        if event.new_name is not None:
            if event.new_name in state.policies:
                return
            del state.policies[event.name]
            policy.name = event.new_name
            policy.renamed_at = where
            state.policies[event.new_name] = policy
            return
        using = event.using if event.using is not None else policy.using
        check = event.check if event.check is not None else policy.check
        if not _policy_clauses_allowed(policy.command, using, check):
            return
        policy.using, policy.check = using, check
        if event.roles is not None:
            policy.roles = tuple(event.roles)
        policy.changed_at = where

    def _drop_policy(self, path: str, event: DropPolicy) -> None:
        state = self._state_for_change(event.table, event.schema)
        policy = state.policies.pop(event.name, None) if state is not None else None
        if policy is not None:
            state.dropped_policies.append(policy)


def _policy_clauses_allowed(command: str, using: PolicyExpr | None, check: PolicyExpr | None) -> bool:
    """PostgreSQL allows only WITH CHECK on an INSERT policy and only USING on
    a SELECT or DELETE policy."""
    if command == "insert":
        return using is None
    if command in ("select", "delete"):
        return check is None
    return True


def _clause_rule(command: str) -> str:
    if command == "insert":
        return "an INSERT policy takes only WITH CHECK"
    return f"a {command.upper()} policy takes only USING"


_APPLY = {
    CreateTable: Schema._create_table,
    AddColumn: Schema._add_column,
    DropColumn: Schema._drop_column,
    RenameColumn: Schema._rename_column,
    AlterColumnType: Schema._alter_column_type,
    RenameTable: Schema._rename_table,
    DropTable: Schema._drop_table,
    CreateIndex: Schema._create_index,
    DropIndex: Schema._drop_index_event,
    RenameIndex: Schema._rename_index,
    RowSecurity: Schema._row_security,
    CreatePolicy: Schema._create_policy,
    AlterPolicy: Schema._alter_policy,
    DropPolicy: Schema._drop_policy,
}


def _distinct_key_names(names: list[str]) -> list[str]:
    """PostgreSQL's ChooseIndexColumnNames: a repeated key name gets 1, 2 ..."""
    result: list[str] = []
    for original in names:
        current, number = original, 1
        while current in result:
            suffix = str(number)
            current = original[:_MAX_IDENTIFIER - len(suffix)] + suffix
            number += 1
        result.append(current)
    return result


def _index_name_addition(names: list[str]) -> str:
    """PostgreSQL's ChooseIndexNameAddition: the key names joined by `_`,
    cut once the result reaches the identifier limit."""
    joined = ""
    for name in names:
        if joined:
            joined += "_"
        joined += name[:_MAX_IDENTIFIER]
        if len(joined) > _MAX_IDENTIFIER:
            break
    return joined


def _split_index_name(name: str) -> tuple[str | None, str]:
    schema, _, index = name.rpartition(".")
    return (None if schema in ("", "public") else schema), index


def _event_span(event: SchemaEvent) -> Span:
    return event.index.span if isinstance(event, CreateIndex) else event.span


def replay(migrations: list[tuple[str, list[SchemaEvent]]], model: TenancyModel) -> Schema:
    """Apply the events of each migration in the order given (the caller sorts)."""
    schema = Schema(model)
    for path, events in migrations:
        for event in events:
            if type(event) in _APPLY:
                schema.apply(path, event)
    return schema


# --- the org index -------------------------------------------------------------------


def is_usable_org_index(index: IndexState, table: TableState, model: TenancyModel) -> bool:
    """Does `index` serve lookups by the org column (SPEC section 5)? It must
    lead with the column, be neither partial nor on an expression, and carry
    the conventional name when the pack requires it."""
    if index.partial or index.leading_column != model.org_column:
        return False
    return not model.require_index_name or index.name == model.expected_index_name(table.name)


def usable_org_index(table: TableState, model: TenancyModel) -> IndexState | None:
    usable = [i for i in table.indexes.values() if is_usable_org_index(i, table, model)]
    return min(usable, key=lambda i: i.name) if usable else None


def why_no_org_index(table: TableState, model: TenancyModel) -> str:
    """Why `table` has no usable org index, in a few words: the change that
    took the last one away, then what is left that does not count."""
    org = model.org_column
    lost = []
    if table.lost_index is not None and table.usable_index_lost_at is not None:
        dropped = next((i for i in reversed(table.dropped_indexes) if i.name == table.lost_index), None)
        if dropped is not None and dropped.dropped_at == table.usable_index_lost_at:
            lost.append(f"{dropped.name} was dropped at {dropped.dropped_at}")
        else:
            lost.append(f"{table.lost_index} stopped counting at {table.usable_index_lost_at}")
    indexes = sorted(table.indexes.values(), key=lambda i: i.name)
    leading = [i for i in indexes if i.leading_column == org]
    left = []  # what remains that involves the org column but does not count
    misnamed = [i.name for i in leading if not i.partial]
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
    return "; ".join(lost + left) or "no index"


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


def render_schema_text(schema: Schema, model: TenancyModel) -> str:
    """`orgscope schema` as text: one paragraph per org table."""
    rows = describe(schema, model)
    org = model.org_column
    lines = [f"{len(rows)} org tables, scoped by {org} {model.org_column_type}:", ""]
    width = max((len(r["table"]) for r in rows), default=0)
    for row in rows:
        head = row["table"].ljust(width)
        if row["status"] == "unknown":
            lines.append(f"{head}  unknown (no migration creates it)")
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

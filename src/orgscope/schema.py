"""The schema replay (SPEC section 5): apply every migration's schema events
in order and keep the state and history that ORG002 / ORG004 and `orgscope
schema` judge (in rules/org_tables.py). The replay knows PostgreSQL's rules
(orgscope.postgres) but no parser and no tenancy model.

The replay follows PostgreSQL's rules where they matter to tenancy:

* IF NOT EXISTS on an existing table, column or index is a no-op, and so is
  a statement PostgreSQL would reject (adding a column or an index name that
  exists, altering a table the migrations dropped).
* RENAME TABLE moves the columns and indexes; RENAME COLUMN renames the
  column inside the indexes too; DROP COLUMN drops every index that uses the
  column; DROP TABLE drops its indexes. Index names are unique per schema.
* An unnamed index gets PostgreSQL's name (`agents_clerk_org_id_idx`, then
  `..._idx1`), so a later DROP INDEX by that name finds it.
* A column typed with an enum or a domain carries the type's current name,
  as `format_type` shows it: ALTER TYPE ... RENAME TO and SET SCHEMA change
  the type of every such column, DROP TYPE ... CASCADE drops them (without
  CASCADE PostgreSQL refuses while a column uses the type), and an enum's
  labels follow ADD VALUE [BEFORE / AFTER] and RENAME VALUE.

A table the migrations change but never create (they may start from an
existing database) is "partially known": what the migrations did to it is
kept, but `table()` does not return it and `has_column` answers None for a
column it knows nothing about.

Besides the current state the replay keeps the history the rules point at:
where each table was created or renamed, where each column was added, typed
and dropped, where each index was created and dropped, and the table's
indexes before and after every event that changed them (`index_history`),
from which a rule tells which event took away the last index it counts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from heapq import heappop, heappush

from orgscope.facts import (
    FunctionCall,
    AlterType,
    CreateType,
    DropType,
    CreateView,
    DropView,
    AddColumn,
    AlembicRevision,
    AlterColumnType,
    AlterPolicy,
    CreatePolicy,
    Expect,
    DropPolicy,
    Policy,
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
from orgscope.findings import Note
from orgscope.postgres import distinct_key_names, index_name_addition, pg_object_name, type_spelling

TableKey = tuple[str | None, str]  # (schema, table); schema None = public


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


REVISION_GRAPH = "revision graph"


def order_alembic(
    revisions: list[tuple[str, AlembicRevision]], warnings: list[Note] | None = None
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
            notes.append(Note(f"revision {revision_id} is defined more than once ({paths})", REVISION_GRAPH,
                              "revision defined more than once", f"{revision_id} ({paths})"))

    waiting = [0] * len(revisions)
    children: dict[int, list[int]] = {}
    for i, (path, revision) in enumerate(revisions):
        for parent_id in dict.fromkeys(str(p) for p in revision.down_revisions if p is not None):
            parents = by_id.get(parent_id)
            if not parents:
                notes.append(Note(f"{path}: down_revision {parent_id} is not defined by any migration; "
                                  "treating it as already applied", REVISION_GRAPH,
                                  "down_revision not defined by any migration, treated as already applied",
                                  f"{path} ({parent_id})"))
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
        paths = ", ".join(revisions[i][0] for i in stuck)
        notes.append(Note(f"revisions in a cycle of down_revisions, applied in path order: {paths}", REVISION_GRAPH,
                          "revisions in a cycle of down_revisions, applied in path order", paths))
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


@dataclass(frozen=True, slots=True)
class Refusal:
    """A statement PostgreSQL would reject on the schema the migrations build:
    the table or index it needs does not exist, a column is added twice, a
    syntax PostgreSQL does not have. The replay skips what it cannot apply."""

    where: Where
    message: str
    table: str | None = None
    schema: str | None = None

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


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
    constraint: bool = False  # a PRIMARY KEY / UNIQUE constraint's: DROP INDEX cannot drop it
    primary: bool = False

    @property
    def leading_column(self) -> str | None:
        return self.columns[0] if self.columns else None

    # A replayed index is always valid; a live one may not be (`orgscope db`).
    valid = True

    def snapshot(self) -> "IndexSnapshot":
        return IndexSnapshot(self.name, self.leading_column, self.partial)


@dataclass(frozen=True, slots=True)
class IndexSnapshot:
    """What an index was at one moment of the replay."""

    name: str
    leading_column: str | None
    partial: bool
    valid = True


@dataclass(frozen=True, slots=True)
class IndexChange:
    """One event that changed a table's indexes: the table's name and indexes
    before and after it (before is None when the table did not exist)."""

    where: "Where"
    before_name: str | None
    before: tuple[IndexSnapshot, ...]
    after_name: str
    after: tuple[IndexSnapshot, ...]


@dataclass(slots=True)
class ViewState:
    """A view over org tables; one that exposes the org column is an org table
    for the queries that read it."""

    name: str
    schema: str | None
    org_tables: list[str]
    exposes_org: bool
    created_at: Where


@dataclass(slots=True)
class PolicyState(Policy):
    """A row level security policy as the migrations leave it. `changed_at`
    is the CREATE POLICY, or the last ALTER POLICY that changed its roles or
    expressions: where a finding about what it lets through belongs."""

    created_at: Where
    changed_at: Where
    renamed_at: Where | None = None


@dataclass(slots=True)
class TypeState:
    """A user-defined type the migrations create: an enum (with its labels in
    order), a domain, or another kind."""

    name: str
    schema: str | None
    kind: str  # enum | domain | other
    labels: list[str]
    created_at: Where
    renamed_at: Where | None = None
    changed_at: Where | None = None  # the last ADD VALUE / RENAME VALUE

    @property
    def spelling(self) -> str:
        """The type as a column of it is typed (`normalise_type`)."""
        return type_spelling(self.name, self.schema)

    @property
    def qualified_name(self) -> str:
        return self.name if self.schema is None else f"{self.schema}.{self.name}"


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
    index_history: list[IndexChange] = field(default_factory=list)
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

    def __init__(self) -> None:
        self._tables: dict[TableKey, TableState] = {}
        self._index_owner: dict[tuple[str | None, str], TableKey] = {}
        self.dropped_tables: dict[TableKey, Where] = {}
        self.dropped_indexes: list[IndexState] = []
        self.warnings: list[str] = []
        self.refusals: list[Refusal] = []
        # Tables whose columns the replay cannot see (CREATE TABLE ... AS,
        # LIKE, PARTITION OF): they exist, so a statement on them is no refusal.
        self._declared: set[TableKey] = set()
        # Temporary tables, by the migration whose session they live in.
        self._temporary: set[tuple[str, TableKey]] = set()
        # The first migration that enables row level security or creates a
        # policy: the project relies on it (the pack's `rls: auto`).
        self.rls_used_at: Where | None = None
        # Views over org tables, by (schema, name): do they expose the org column?
        self.views: dict[TableKey, ViewState] = {}
        # Functions called with string arguments: each may have created tables
        # named after an argument by dynamic SQL, (argument, function, where).
        self.function_calls: list[tuple[str, str, Where]] = []
        # User-defined types by (schema, name), and where the dropped ones went.
        self.types: dict[TableKey, TypeState] = {}
        self.dropped_types: dict[TableKey, Where] = {}

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
        """Apply one event, recording the indexes of the table it touches
        before and after it."""
        if isinstance(event, Expect):
            self._check(path, event)
            return
        before_key, after_key = self._keys_touched(event)
        before_state = self._tables.get(before_key) if before_key is not None else None
        before_name = before_state.name if before_state is not None else None
        before = _snapshots(before_state)
        _APPLY[type(event)](self, path, event)
        if isinstance(event, RenameTable) and before_key in self._tables:
            after_key = before_key  # the rename did not happen
        if after_key is None:
            return
        state = self._tables.get(after_key)
        if state is None:
            return
        after = _snapshots(state)
        if before or after:  # a change from no index to no index tells nothing
            state.index_history.append(IndexChange(Where(path, _event_span(event)), before_name, before,
                                                   state.name, after))

    def _keys_touched(self, event: SchemaEvent) -> tuple[TableKey | None, TableKey | None]:
        if isinstance(event, (RowSecurity, CreatePolicy, AlterPolicy, DropPolicy, CreateView, DropView,
                              CreateType, AlterType, DropType, FunctionCall)):
            return None, None  # nothing to do with indexes (DROP TYPE CASCADE applies its DROP COLUMNs)
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
        state = self._tables.get(key)
        self._forget_table(key, where)
        if state is not None and state.created:
            self.dropped_tables[key] = where
        # else nothing the migrations built was there to drop: the table stays
        # "never created by any migration", not "dropped".

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
        if index.kind == "primary" and any(i.primary for i in state.indexes.values()):
            self.refusals.append(Refusal(Where(path, index.span), f"{state.name} has a primary key already; "
                                         "PostgreSQL rejects a second one", state.name, state.schema))
            return
        if name is None:
            name = self._generated_index_name(state, index, constraint)
        elif self._name_taken(state.schema, name):
            if not index.if_not_exists:
                self.refusals.append(Refusal(Where(path, index.span), f"index {name}: a relation of that name "
                                             "already exists; PostgreSQL rejects this statement, the replay "
                                             "ignores it", state.name, state.schema))
            return
        state.indexes[name] = IndexState(
            name=name,
            table=state.name,
            schema=state.schema,
            columns=list(index.columns),
            unique=index.unique,
            partial=index.partial,
            created_at=Where(path, index.span),
            uses=set(index.uses or ()) | {c for c in index.columns if c is not None},
            constraint=constraint or index.kind in ("primary", "unique", "exclude"),
            primary=index.kind == "primary",
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
        kind = index.kind or ("unique" if constraint else "index")
        if kind == "primary":
            middle, label = "", "pkey"
        else:
            key_names = index.key_names or [c if c is not None else "expr" for c in index.columns]
            middle = index_name_addition(distinct_key_names(key_names))
            label = {"unique": "key", "exclude": "excl"}.get(kind, "idx")
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
            if index is not None and index.constraint and not event.constraint:
                return  # PostgreSQL refuses the whole DROP INDEX: the index belongs to a constraint
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

    # types

    def _columns_of_type(self, spelling: str) -> list[tuple[TableKey, str]]:
        """Every (table, column) typed `spelling` or an array of it."""
        return [(key, column) for key, state in self._tables.items() for column, type_ in state.columns.items()
                if type_ in (spelling, spelling + "[]")]

    def _retype_columns(self, old: str, new: str) -> None:
        for key, column in self._columns_of_type(old):
            columns = self._tables[key].columns
            columns[column] = new + columns[column][len(old):]

    # what statements need

    def _check(self, path: str, expect: Expect) -> None:
        """Record a refusal when the schema built so far lacks what the
        statement needs. Only the public schema: others (auth, storage ...)
        often belong to the platform the migrations run on."""
        schema = None if expect.schema == "public" else expect.schema
        if expect.what == "declared":
            self._declared.add(_key(expect.table, schema))
            return
        if expect.what == "temporary":
            self._temporary.add((path, _key(expect.table, schema)))
            return
        if expect.table is not None and (path, _key(expect.table, schema)) in self._temporary:
            return  # the migration's own temporary table
        message = self._refusal(expect, schema)
        maker = self._maybe_made_by_call(expect) if message is not None else None
        if maker is not None:
            function, called_at = maker
            self.warnings.append(f"{path}:{expect.span.line}: {expect.statement}: no statement the replay reads "
                                 f"creates table {expect.table}; {function}(...) at {called_at} may create it by "
                                 "dynamic SQL, which the replay does not follow")
            return
        if message is not None:
            table = expect.table
            if table is None and expect.what == "index":
                owner = self._index_owner.get((schema, expect.name))
                table = owner[1] if owner else None
            if expect.what == "unused-type":
                table = self._columns_of_type(type_spelling(expect.name or "", schema))[0][0][1]
            where = "" if expect.what == "syntax" else " on the schema the migrations build"
            self.refusals.append(Refusal(Where(path, expect.span),
                                         f"{expect.statement}: {message}; PostgreSQL rejects this statement{where}",
                                         table, schema))

    def _maybe_made_by_call(self, expect: Expect) -> tuple[str, Where] | None:
        """The function call that may have created the missing table: one
        called with an argument the table's name starts with (`calls` for
        `calls_0`), after no migration created or dropped it."""
        table = expect.table
        if expect.what != "table" or table is None or (None, table) in self.dropped_tables:
            return None
        for argument, function, where in reversed(self.function_calls):
            if table == argument or table.startswith(argument + "_"):
                return function, where
        return None

    def _refusal(self, expect: Expect, schema: str | None) -> str | None:
        if expect.what == "syntax":
            return expect.message
        if schema is not None:
            return None
        if expect.what in ("type", "free-type", "unused-type", "label", "no-label"):
            return self._type_refusal(expect)
        if expect.what == "free-name":
            table = self._tables.get((None, expect.name))
            if (None, expect.name) in self._index_owner or (table is not None and table.created) \
                    or (None, expect.name) in self._declared:
                return f"a relation named {expect.name} already exists"
            return None
        if expect.what in ("index", "droppable-index"):
            if (None, expect.name) in self._index_owner:
                index = self.index(expect.name)
                if expect.statement == "DROP INDEX" and index is not None and index.constraint:
                    return (f"index {expect.name} belongs to a constraint of {index.table}; drop it with "
                            "ALTER TABLE ... DROP CONSTRAINT")
                return None
            if expect.what == "droppable-index":
                return None
            dropped = next((i for i in reversed(self.dropped_indexes) if i.name == expect.name), None)
            if dropped is not None and dropped.dropped_at is not None:
                return f"index {expect.name} was dropped at {dropped.dropped_at}"
            return f"no migration creates index {expect.name}"
        key = _key(expect.table, schema)
        state = self._tables.get(key)
        if state is None or not state.created:
            if expect.what != "table" or key in self._declared:
                # A column of a missing table: the statement's table refusal
                # says it (or ALTER TABLE IF EXISTS makes it a no-op).
                return None
            dropped = self.dropped_tables.get(key)
            if dropped is not None:
                return f"table {expect.table} was dropped at {dropped}"
            return f"table {expect.table} is never created by any migration"
        column = expect.name
        if expect.what == "column" and column not in state.columns:
            dropped_column = state.column_dropped_at.get(column)
            gone = f" (dropped or renamed at {dropped_column})" if dropped_column else ""
            return f"{expect.table} has no column {column}{gone}"
        if expect.what == "no-column" and column in state.columns:
            added = state.column_added_at.get(column)
            return f"column {column} of {expect.table} already exists" + (f" (added at {added})" if added else "")
        return None

    def _type_refusal(self, expect: Expect) -> str | None:
        name = expect.name or ""
        state = self.types.get((None, name))
        if expect.what == "free-type":
            return None if state is None else f"type {name} already exists (created at {state.created_at})"
        if expect.what == "type":
            if state is not None:
                return None
            dropped = self.dropped_types.get((None, name))
            return f"type {name} was dropped at {dropped}" if dropped else f"no migration creates type {name}"
        if expect.what == "unused-type":
            users = self._columns_of_type(type_spelling(name))
            if not users:
                return None
            (_, table), column = users[0]
            return f"column {table}.{column} has type {name} (DROP TYPE ... CASCADE would drop the column)"
        if state is None or state.kind != "enum":
            return None
        if expect.what == "label" and expect.label not in state.labels:
            return f"enum {name} has no value '{expect.label}'"
        if expect.what == "no-label" and expect.label in state.labels:
            return f"enum {name} already has the value '{expect.label}'"
        return None

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


def _create_type(self: Schema, path: str, event: CreateType) -> None:
    key = _key(event.name, event.schema)
    if key in self.types:
        return  # PostgreSQL refuses a second type of the same name
    self.types[key] = TypeState(event.name, key[0], event.kind, list(event.labels), Where(path, event.span))
    self.dropped_types.pop(key, None)


def _alter_type(self: Schema, path: str, event: AlterType) -> None:
    key = _key(event.name, event.schema)
    state = self.types.get(key)
    where = Where(path, event.span)
    if event.action in ("rename", "set_schema"):
        new_key = (key[0], event.new_name) if event.action == "rename" else (_key(event.name, event.new_schema)[0],
                                                                             event.name)
        if new_key == key or new_key in self.types or (state is None and key in self.dropped_types):
            return  # PostgreSQL refuses: the name is taken, or the type is gone
        # A type the migrations never create (they may start from an existing
        # database) still names its columns.
        old_spelling = type_spelling(key[1], key[0])
        if state is not None:
            del self.types[key]
            state.schema, state.name = new_key
            state.renamed_at = where
            self.types[new_key] = state
        self._retype_columns(old_spelling, type_spelling(new_key[1], new_key[0]))
        return
    if state is None or state.kind != "enum":
        return
    labels = state.labels
    if event.action == "add_value" and event.label is not None and event.label not in labels:
        if event.neighbour is None:
            labels.append(event.label)
        elif event.neighbour in labels:
            at = labels.index(event.neighbour)
            labels.insert(at if event.before else at + 1, event.label)
        else:
            return
        state.changed_at = where
    elif event.action == "rename_value" and event.label in labels and event.new_label not in labels:
        labels[labels.index(event.label)] = event.new_label
        state.changed_at = where


def _drop_type(self: Schema, path: str, event: DropType) -> None:
    key = _key(event.name, event.schema)
    users = self._columns_of_type(type_spelling(key[1], key[0]))
    if users and not event.cascade:
        return  # PostgreSQL refuses while a column has the type
    for table, column in users:
        state = self._tables[table]
        self.apply(path, DropColumn(table=state.name, column=column, span=event.span, schema=state.schema))
    if self.types.pop(key, None) is not None:
        self.dropped_types[key] = Where(path, event.span)


def _function_call(self: Schema, path: str, event: FunctionCall) -> None:
    self.function_calls.extend((argument, event.function, Where(path, event.span)) for argument in event.arguments)


def _create_view(self: Schema, path: str, event: CreateView) -> None:
    self.views[_key(event.name, event.schema)] = ViewState(event.name, event.schema, list(event.org_tables),
                                                            event.exposes_org, Where(path, event.span))


def _drop_view(self: Schema, path: str, event: DropView) -> None:
    self.views.pop(_key(event.name, event.schema), None)


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
    CreateView: _create_view,
    DropView: _drop_view,
    FunctionCall: _function_call,
    CreateType: _create_type,
    AlterType: _alter_type,
    DropType: _drop_type,
}


def _snapshots(state: TableState | None) -> tuple[IndexSnapshot, ...]:
    return tuple(i.snapshot() for i in state.indexes.values()) if state is not None else ()


def _split_index_name(name: str) -> tuple[str | None, str]:
    schema, _, index = name.rpartition(".")
    return (None if schema in ("", "public") else schema), index


def _event_span(event: SchemaEvent) -> Span:
    return event.index.span if isinstance(event, CreateIndex) else event.span


def replay(migrations: list[tuple[str, list[SchemaEvent]]]) -> Schema:
    """Apply the events of each migration in the order given (the caller sorts)."""
    schema = Schema()
    for path, events in migrations:
        for event in events:
            if type(event) in _APPLY or isinstance(event, Expect):
                schema.apply(path, event)
    return schema

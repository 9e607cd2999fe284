"""The neutral facts that every front end produces and every rule reads.

The SQL front end (sqlglot) and the Python front end (libcst) both turn source
code into these plain dataclasses; rules never see a sqlglot or libcst tree.
Everything here is plain data: the cache stores it as validated JSON
(orgscope.cache) and worker processes hand it back to the parent.

Vocabulary
----------
* A **Query** is one statement (a SQL statement, a supabase chain, an ORM call).
* A Query has **Blocks**: one per SELECT / UPDATE / DELETE body, CTE, UNION
  branch or subquery (SPEC section 3). A block knows its enclosing block so that
  correlated subqueries can be scoped by the outer query.
* A Block holds **Refs** (table references) and the top-level AND-conjuncts of
  its WHERE clause as **Preds**. The ON conjuncts of a join live on the Ref the
  join brings in.
* A **Write** is an INSERT / upsert / ORM create with the columns it sets.
* A **SchemaEvent** is one DDL change (from SQL or an Alembic op) for the
  schema replay.
* A **Problem** is something the front end could not analyse (ORG900).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# Comparison operators that can scope a reference (SPEC section 3, item 1).
SCOPING_OPS = frozenset({"eq", "in", "in_subquery", "any", "not_distinct"})


@dataclass(frozen=True, slots=True)
class Span:
    """A range in a file: 1-based line and column; the end is exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(slots=True)
class Column:
    """A column reference as written: `qualifier.name` or a bare `name`.

    `ref` is set when the front end already knows which Ref the column belongs
    to (a supabase filter, `Agent.clerk_org_id`); otherwise the rules resolve
    the qualifier against the aliases of the block (and enclosing blocks).
    """

    name: str
    qualifier: str | None
    span: Span
    ref: int | None = None


# Kinds of value a column can be compared with.
# The column of a `with_parent(parent[, Parent.children])` predicate, resolved
# against the model catalog: `@parent` or `@parent:Parent.children`.
WITH_PARENT = "@parent"
PARAM = "param"  # $1, %s, %(org)s, :org, ?, or a Python value interpolated into SQL
LITERAL = "literal"
CALL = "call"  # current_setting(...), a function call
SUBQUERY = "subquery"
COLUMN = "column"
UNKNOWN = "unknown"


@dataclass(slots=True)
class Value:
    kind: str
    column: Column | None = None  # set when kind == COLUMN
    # The value depends on the request (`auth.jwt() ->> 'org_id'`,
    # `current_setting(...)`, a subquery filtered by `auth.uid()`): what a row
    # level security policy must compare the org column with.
    request: bool = False


@dataclass(slots=True)
class Compare:
    """An atomic predicate `column <op> value`.

    op is one of SCOPING_OPS, or "other" for comparisons that never scope
    (`<>`, LIKE, IS NOT NULL ...). `conditional` marks a Python filter that is
    applied only on some code paths: it never constrains (SPEC section 4).
    """

    column: Column
    op: str
    value: Value
    conditional: bool = False


@dataclass(slots=True)
class Or:
    """A disjunction; each branch is a list of AND-ed predicates."""

    branches: list[list["Pred"]]


Pred = Union[Compare, Or]


@dataclass(slots=True)
class Ref:
    """One reference to a relation inside a block.

    `table` is the normalised name (unquoted identifiers lower-cased) and
    `schema` is None for the default schema (`public`). For an ORM query the
    front end may only know the model class: `model` holds its name and the
    facts stage fills `table` from the project's model catalog. `cte` marks a
    reference to a CTE or derived table (it shadows a real table of the same
    name); `columns` then lists its output columns when they are known.
    """

    id: int
    table: str | None
    span: Span
    op: str  # select | update | delete | merge | copy | truncate
    schema: str | None = None
    alias: str | None = None
    on: list[Pred] = field(default_factory=list)
    cte: bool = False
    columns: frozenset[str] | None = None
    model: str | None = None
    scoped_by: str | None = None  # name of a configured scoping helper
    sets: list[Column] = field(default_factory=list)  # UPDATE ... SET columns


@dataclass(slots=True)
class Block:
    id: int
    parent: int | None
    refs: list[Ref] = field(default_factory=list)
    where: list[Pred] = field(default_factory=list)
    # Every reference to a tenancy-model column in this block (select list,
    # predicates, SET ...), for ORG006.
    columns: list[Column] = field(default_factory=list)


@dataclass(slots=True)
class Write:
    """An INSERT, upsert or ORM create.

    `columns` maps each column the write sets to where it is written; None
    means the columns are not visible (INSERT without a column list, a payload
    built elsewhere) and no ORG005 is reported.
    """

    table: str | None
    span: Span
    op: str  # insert | upsert | create
    columns: dict[str, Span] | None
    schema: str | None = None
    model: str | None = None
    scoped_by: str | None = None
    sets: list[Column] = field(default_factory=list)  # ON CONFLICT DO UPDATE SET columns


@dataclass(slots=True)
class Query:
    kind: str  # select | insert | update | delete | merge | copy | truncate
    span: Span  # the whole statement or call: its first line takes suppressions
    text: str  # normalised statement text, for fingerprints
    origin: str  # sql | python-sql | supabase | sqlalchemy | wrapper
    blocks: list[Block] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    # The statement has interpolated SQL fragments: what is not visible may
    # hold the scope, so an unscoped reference is ORG900, not ORG001.
    dynamic: bool = False
    # What made it dynamic when that is not SQL text (a filters dict built
    # where orgscope cannot follow it): the ORG900 message names it.
    unseen: str | None = None
    # The function or procedure whose body holds the query (migrations only),
    # and whether it runs as its owner (SECURITY DEFINER bypasses row level
    # security).
    function: str | None = None
    security_definer: bool = False
    # The view whose body this query is (migrations only), where its name
    # stands, and whether the view exposes the org column (then the queries
    # on the view scope it, and it is an org table for them).
    view: str | None = None
    view_span: Span | None = None
    view_exposes_org: bool = False


@dataclass(slots=True)
class Problem:
    """Something that mentions an org table but could not be analysed."""

    span: Span
    message: str
    table: str | None = None
    statement_line: int | None = None


# --- schema replay -----------------------------------------------------------


@dataclass(slots=True)
class IndexDef:
    name: str | None
    table: str
    columns: list[str | None]  # key columns in order; None = an expression
    span: Span
    unique: bool = False
    partial: bool = False
    schema: str | None = None
    if_not_exists: bool = False
    # What the replay needs to follow PostgreSQL exactly: the kind (for the
    # name PostgreSQL makes up for an unnamed index), each key's name
    # (`lower(name)` is "lower", `(a || b)` is "expr"), and every column the
    # index depends on (keys, expressions, INCLUDE, WHERE): dropping any of
    # them drops the index.
    kind: str = "index"  # index | unique (constraint) | primary (key constraint) | exclude (constraint)
    key_names: list[str] | None = None
    uses: list[str] | None = None


@dataclass(slots=True)
class CreateTable:
    table: str
    span: Span
    columns: dict[str, str]  # name -> upper-cased type as written
    column_spans: dict[str, Span] = field(default_factory=dict)
    indexes: list[IndexDef] = field(default_factory=list)  # PK / UNIQUE constraints
    schema: str | None = None
    if_not_exists: bool = False


@dataclass(slots=True)
class AddColumn:
    table: str
    column: str
    type: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class DropColumn:
    table: str
    column: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class RenameColumn:
    table: str
    old: str
    new: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class AlterColumnType:
    table: str
    column: str
    type: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class RenameTable:
    table: str
    new: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class DropTable:
    table: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class CreateIndex:
    index: IndexDef


@dataclass(slots=True)
class DropIndex:
    names: list[str]
    span: Span
    constraint: bool = False  # ALTER TABLE ... DROP CONSTRAINT (DROP INDEX cannot drop a constraint's index)


@dataclass(slots=True)
class RenameIndex:
    old: str
    new: str
    span: Span


@dataclass(slots=True)
class Expect:
    """What a statement needs of the schema it runs on, or PostgreSQL rejects
    it: a table or index that exists, a column that exists (`column`) or does
    not yet (`no-column`). `syntax` is a form PostgreSQL rejects whatever the
    schema (`message` says which). Read before the statement's own events;
    statements inside DO bodies, often guarded, expect nothing."""

    what: str  # table | column | no-column | index | free-name | syntax | declared (exists, columns unseen)
    # | type | free-type | unused-type | label | no-label (a user-defined type and its enum labels)
    # | temporary (a temporary table: it exists for the rest of the migration)
    table: str | None
    span: Span
    statement: str  # ALTER TABLE, CREATE INDEX ... for the message
    schema: str | None = None
    name: str | None = None  # the column, index or type
    message: str = ""
    label: str | None = None  # the enum label of `label` / `no-label`


# --- row level security ------------------------------------------------------

POLICY_COMMANDS = ("select", "insert", "update", "delete")


@dataclass(slots=True)
class PolicyBranch:
    """One top-level OR branch of a policy expression (the whole expression
    when it is not an OR), as a query `SELECT 1 FROM <table> WHERE <branch>`
    so that section 3 judges it like any query."""

    text: str
    query: Query


@dataclass(slots=True)
class PolicyExpr:
    """A USING or WITH CHECK expression. `branches` is empty when the
    expression could not be parsed (it then scopes nothing)."""

    text: str
    branches: list[PolicyBranch] = field(default_factory=list)
    error: str | None = None


@dataclass(slots=True)
class Policy:
    """A row level security policy: the command and roles it applies to and
    what it lets through. The replay's policies (`schema.PolicyState`) add
    where the migrations wrote them; `orgscope db` reads these from pg_policies."""

    name: str
    command: str  # all | select | insert | update | delete
    permissive: bool
    roles: tuple[str, ...]
    using: PolicyExpr | None
    check: PolicyExpr | None


@dataclass(slots=True)
class RowSecurity:
    """ALTER TABLE ... ENABLE / DISABLE / FORCE / NO FORCE ROW LEVEL SECURITY."""

    table: str
    action: str  # enable | disable | force | no_force
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class CreatePolicy:
    name: str
    table: str
    span: Span
    command: str = "all"  # all | select | insert | update | delete
    permissive: bool = True
    roles: list[str] = field(default_factory=lambda: ["public"])
    using: PolicyExpr | None = None
    check: PolicyExpr | None = None
    schema: str | None = None


@dataclass(slots=True)
class AlterPolicy:
    """ALTER POLICY name ON table [TO roles] [USING (...)] [WITH CHECK (...)];
    what it does not mention stays as it was. `new_name` for RENAME TO."""

    name: str
    table: str
    span: Span
    roles: list[str] | None = None
    using: PolicyExpr | None = None
    check: PolicyExpr | None = None
    new_name: str | None = None
    schema: str | None = None


@dataclass(slots=True)
class DropPolicy:
    name: str
    table: str
    span: Span
    schema: str | None = None


@dataclass(slots=True)
class CreateView:
    """CREATE [OR REPLACE] [MATERIALIZED] VIEW: the org tables its query reads
    and whether it exposes the org column."""

    name: str
    span: Span
    org_tables: list[str]
    exposes_org: bool
    schema: str | None = None


@dataclass(slots=True)
class DropView:
    name: str
    span: Span
    schema: str | None = None


# --- user-defined types -------------------------------------------------------


@dataclass(slots=True)
class CreateType:
    """CREATE TYPE (an enum with its labels in order, or a composite, range or
    base type) or CREATE DOMAIN: a name that columns can be typed with."""

    name: str
    span: Span
    kind: str = "enum"  # enum | domain | other
    labels: list[str] = field(default_factory=list)
    schema: str | None = None


@dataclass(slots=True)
class AlterType:
    """ALTER TYPE / ALTER DOMAIN that changes what the catalog shows: RENAME
    TO `new_name`, SET SCHEMA `new_schema` (None: public), ADD VALUE [IF NOT
    EXISTS] `label` [BEFORE / AFTER `neighbour`], RENAME VALUE `label` TO
    `new_label`."""

    name: str
    span: Span
    action: str  # rename | set_schema | add_value | rename_value
    schema: str | None = None
    new_name: str | None = None
    new_schema: str | None = None
    label: str | None = None
    new_label: str | None = None
    neighbour: str | None = None
    before: bool = False
    if_not_exists: bool = False


@dataclass(slots=True)
class DropType:
    """DROP TYPE / DROP DOMAIN, one event per name; CASCADE drops the columns
    of that type too."""

    name: str
    span: Span
    schema: str | None = None
    cascade: bool = False


@dataclass(slots=True)
class FunctionCall:
    """A migration statement that calls a function (`SELECT f('calls', 4)`,
    `CALL f(...)`) with string arguments. Such a function may create tables
    by dynamic SQL the replay cannot follow, typically partitions named after
    an argument (`calls_0`, `calls_1` ...)."""

    function: str
    arguments: list[str]  # the string literals among its arguments
    span: Span


SchemaEvent = Union[
    FunctionCall,
    CreateType,
    AlterType,
    DropType,
    CreateView,
    DropView,
    RowSecurity,
    CreatePolicy,
    AlterPolicy,
    DropPolicy,
    CreateTable,
    AddColumn,
    DropColumn,
    RenameColumn,
    AlterColumnType,
    RenameTable,
    DropTable,
    CreateIndex,
    DropIndex,
    RenameIndex,
    Expect,
]


# --- Python project catalog --------------------------------------------------


@dataclass(slots=True)
class Relationship:
    """`org = relationship("Org", backref="agents", foreign_keys=[org_id])` on a model."""

    name: str  # the attribute
    target: str  # the related class, by its name
    foreign_keys: list[str] = field(default_factory=list)  # columns named by foreign_keys=
    backref: str | None = None  # the attribute it creates on the target


@dataclass(slots=True)
class ModelDef:
    """An SQLAlchemy model class or Table object, for the project-wide catalog."""

    name: str  # class name or the variable bound to the Table(...)
    table: str
    module: str  # dotted module path of the defining file
    span: Span
    schema: str | None = None
    # column -> what its ForeignKey references: "schema.table", or "@Class" for ForeignKey(Class.id)
    foreign_keys: dict[str, str] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)


@dataclass(slots=True)
class AlembicRevision:
    revision: str
    down_revisions: list[str]
    events: list[SchemaEvent]


# --- suppressions ------------------------------------------------------------


@dataclass(slots=True)
class Suppression:
    """`orgscope: ignore[...]` / `noqa: ...` on a line, or `ignore-file[...]`."""

    line: int
    codes: frozenset[str]  # empty = every code (only for bare orgscope: ignore)
    span: Span
    file_wide: bool = False
    reason: str = ""


# Migration tools whose files carry section markers (FileFacts.migration_tool).
GOOSE = "goose"
DBMATE = "dbmate"
LIQUIBASE = "liquibase"


@dataclass(slots=True)
class LegacyFlow:
    """A value read from the legacy column that becomes an org id
    (`org_id = row.get("clerk_org_id") or row.get("client_id")`)."""

    span: Span  # where the legacy value enters
    target: str  # the org-named variable or keyword it flows into
    statement_line: int


@dataclass(slots=True)
class FileFacts:
    """Everything a front end learned from one file."""

    path: str  # relative, with '/'
    kind: str  # sql | migration | python | alembic
    queries: list[Query] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    events: list[SchemaEvent] = field(default_factory=list)  # migrations only
    models: list[ModelDef] = field(default_factory=list)
    alembic: AlembicRevision | None = None
    suppressions: list[Suppression] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # e.g. skipped binary file
    legacy_flows: list[LegacyFlow] = field(default_factory=list)
    wrapper_calls: list[str] = field(default_factory=list)  # configured query_wrappers called here
    # The tool whose section markers a migration carries (GOOSE, DBMATE,
    # LIQUIBASE), for the migration order; None for plain SQL.
    migration_tool: str | None = None


@dataclass(frozen=True, slots=True)
class CatalogScan:
    """What the catalog phase reads from a Python file's bytes without
    parsing it: whether it can define models or an Alembic revision, whether
    it can define a data-access wrapper, and its module-level table-name
    constants. Cached by the file's stat signature, so an unchanged file is
    not read at all when only a few files are checked (pre-commit)."""

    feeds_catalog: bool
    may_define_wrapper: bool
    constants: dict[str, str] = field(default_factory=dict)

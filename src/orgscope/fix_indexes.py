"""`orgscope fix --indexes`: write the migration that creates the missing org indexes.

For every org table that ORG002 reports, one statement

    CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_<table>_clerk_org_id ON <table> (clerk_org_id);

(names from the rule pack), in one new SQL migration placed where it replays
last: in the folder of the last SQL migration, named after that folder's
scheme (`013_add_org_indexes.sql` after `012_x.sql`, a UTC timestamp in the
same format after `20240101120000_x.sql`). Nothing is ever overwritten
unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path, PurePosixPath

from orgscope.config import Config
from orgscope.discover import Discoverer
from orgscope.errors import OrgscopeError
from orgscope.model import TenancyModel, split_table_name

MIGRATION_SUFFIX = "add_org_indexes"
# `012_x.sql`, `V12__x.sql`, `20240101120000-x.sql`: an optional letter prefix,
# the number, and the separator before the description.
_NUMBERED = re.compile(r"^(?P<prefix>[A-Za-z]*)(?P<number>\d+)(?P<sep>__|[_\-.])")
# Digit-run timestamps that migration tools write, by length.
_TIMESTAMP_FORMATS = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M"}
_TIMESTAMP_STEP = {14: timedelta(seconds=1), 12: timedelta(minutes=1)}

# PostgreSQL's reserved key words (and those reserved except as function or
# type names): as a table name they must be quoted.
_RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric authorization binary both case cast check collate
    collation column concurrently constraint create cross current_catalog current_date current_role
    current_schema current_time current_timestamp current_user default deferrable desc distinct do else end
    except false fetch for foreign freeze from full grant group having ilike in initially inner intersect into
    is isnull join lateral leading left like limit localtime localtimestamp natural not notnull null offset on
    only or order outer overlaps placing primary references returning right select session_user similar some
    symmetric system_user table tablesample then to trailing true union unique user using variadic verbose
    when where window with""".split()
)
_PLAIN_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_$]*$")


@dataclass(frozen=True)
class IndexFix:
    table: str  # as the finding names it: `agents` or `archive.agents`
    index_name: str
    statement: str


@dataclass(frozen=True)
class FixPlan:
    path: Path  # absolute path of the new migration
    rel: str  # the same, relative to the config root
    text: str
    fixes: tuple[IndexFix, ...]
    skipped: tuple[str, ...]  # one line per table that could not be fixed, saying why


def quote_identifier(name: str) -> str:
    if _PLAIN_IDENTIFIER.match(name) and name not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def index_statement(model: TenancyModel, table: str, index_name: str) -> str:
    schema, bare = split_table_name(table)
    target = quote_identifier(bare) if schema is None else f"{quote_identifier(schema)}.{quote_identifier(bare)}"
    return (
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {quote_identifier(index_name)} "
        f"ON {target} ({quote_identifier(model.org_column)});"
    )


def migration_text(model: TenancyModel, fixes: list[IndexFix]) -> str:
    tables = ", ".join(fix.table for fix in fixes)
    lines = [
        "-- Org indexes for the org tables that have none (orgscope ORG002):",
        f"-- {tables}.",
        f"-- Without an index leading with {model.org_column}, every query scoped to one",
        "-- organization reads the rows of every organization.",
        "--",
        "-- CREATE INDEX CONCURRENTLY cannot run inside a transaction block: run this",
        "-- migration outside one (turn off your migration tool's per-file transaction).",
        "",
        *(fix.statement for fix in fixes),
    ]
    return "\n".join(lines) + "\n"


def plan_index_fix(paths: list[Path], config: Config, *, now: datetime | None = None) -> FixPlan | None:
    """The migration to write, or None when no org index is missing."""
    from orgscope.engine import Options, build_project_catalog, run

    model = config.load_model()
    result = run(paths, config, Options(select=("ORG002",)))
    tables = sorted({f.table for f in result.findings if f.code == "ORG002" and f.table})
    if not tables:
        return None

    catalog = build_project_catalog(paths, config)
    sql_migrations = [p for p in catalog.migration_paths if p.endswith(".sql")]
    if not sql_migrations:
        raise OrgscopeError(
            "no SQL migrations folder: orgscope found no SQL migration to put the new one beside "
            f"(migrations globs: {', '.join(config.migrations)}); with Alembic, create the indexes with "
            "op.create_index(..., postgresql_concurrently=True) in a new revision"
        )
    rel = next_migration_name(sql_migrations, now=now)
    if Discoverer(config).classify(rel) != "migration":
        raise OrgscopeError(
            f"the new migration {rel} would not match the configured migrations globs "
            f"({', '.join(config.migrations)}), so it would not be replayed; create it by hand"
        )

    fixes: list[IndexFix] = []
    skipped: list[str] = []
    schema = catalog.schema
    for table in tables:
        table_schema, bare = split_table_name(table)
        name = model.expected_index_name(bare)
        taken = schema.index(name, table_schema) if schema is not None and hasattr(schema, "index") else None
        if taken is not None:
            # IF NOT EXISTS would quietly keep the existing (unusable) index.
            skipped.append(
                f"{table}: the index name {name} is already taken by an index that does not serve "
                f"{model.org_column} lookups (created at {taken.created_at}); drop or rename it first"
            )
            continue
        fixes.append(IndexFix(table=table, index_name=name, statement=index_statement(model, table, name)))
    root = config.root.resolve()
    return FixPlan(
        path=root / rel,
        rel=rel,
        text=migration_text(model, fixes) if fixes else "",
        fixes=tuple(fixes),
        skipped=tuple(skipped),
    )


def next_migration_name(migrations: list[str], *, now: datetime | None = None) -> str:
    """The path (relative, with '/') of a new migration that replays after all of
    `migrations` (SQL migration paths relative to the config root)."""
    from orgscope.schema import natural_sort_key

    last = max(migrations, key=natural_sort_key)
    folder = PurePosixPath(last).parent
    siblings = [PurePosixPath(p).name for p in migrations if PurePosixPath(p).parent == folder]
    numbered = [(m, name) for name in siblings if (m := _NUMBERED.match(name))]
    if not numbered:
        raise OrgscopeError(
            f"cannot tell how the migrations in {folder.as_posix() or '.'} are numbered "
            f"(the last one is {PurePosixPath(last).name}); create the migration by hand"
        )
    match, _ = max(numbered, key=lambda item: natural_sort_key(item[1]))
    prefix, number, sep = match.group("prefix"), match.group("number"), match.group("sep")
    stamp_format = _TIMESTAMP_FORMATS.get(len(number))
    stamp = _parse_stamp(number, stamp_format) if stamp_format else None
    if stamp is not None:
        current = (now or datetime.now(timezone.utc)).astimezone(timezone.utc).replace(tzinfo=None)
        # A clock behind the newest migration must still sort after it.
        newest = max(
            s for m, _ in numbered
            if len(m.group("number")) == len(number) and (s := _parse_stamp(m.group("number"), stamp_format))
        )
        chosen = max(current, newest + _TIMESTAMP_STEP[len(number)])
        new_number = chosen.strftime(stamp_format)
    else:
        new_number = str(int(number) + 1).zfill(len(number))
    name = f"{prefix}{new_number}{sep}{MIGRATION_SUFFIX}.sql"
    rel = (folder / name).as_posix()
    if natural_sort_key(rel) <= natural_sort_key(last):
        raise OrgscopeError(f"cannot name a migration that runs after {last}; create the migration by hand")
    return rel


def _parse_stamp(digits: str, fmt: str) -> datetime | None:
    try:
        return datetime.strptime(digits, fmt)
    except ValueError:
        return None

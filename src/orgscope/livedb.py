"""`orgscope db --dsn URL`: the schema rules against a live database, and drift.

The static check replays the migrations; a running database may differ from
them (an index built by hand, a migration that failed half-way, a column
added in a console). This command reads the live catalog and reports:

* ORG004: an org table without the org column (a type other than the pack's
  is a warning);
* ORG002: an org table without a usable index that leads with the org column
  (not partial, not on an expression, valid: a failed CREATE INDEX
  CONCURRENTLY leaves an invalid index that no query uses);
* ORG007: an org table with row level security off (`pg_class.relrowsecurity`)
  while the pack requires it, or (`rls: auto`) the database or the
  migrations use it;
* ORG008: a policy (`pg_policies`: qual, with_check, roles, permissive) that
  lets an untrusted role see or write other organizations' rows, judged by
  the same code as the migrations' policies;
* ORG001: a query inside a SQL or PL/pgSQL function of the public schema
  (`pg_get_functiondef`) that reaches an org table unscoped;
* drift, where the live schema and the replayed migrations disagree on an org
  table: a table, column, index or policy the migrations create that the
  database lacks, one the database has that no migration creates, a column
  type that differs, row level security on in one and off in the other, a
  policy with another command, kind or roles, and what the migrations drop
  but the database still has.

It is read-only by construction: one transaction, `SET TRANSACTION READ ONLY`
first, then only SELECTs on pg_catalog, then ROLLBACK. psycopg 3 is imported
only here, so orgscope itself needs no database driver (`orgscope[db]`).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import click

from orgscope import __version__
from orgscope.errors import OrgscopeError
from orgscope.facts import Policy, PolicyExpr, Span
from orgscope.findings import SEVERITY_RANK
from orgscope.model import TenancyModel
from orgscope.postgres import catalog_type
from orgscope.rules.org_tables import judge

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
DRIFT = "drift"
DRIFT_SEVERITY = "warning"


# --- what the catalog says ---------------------------------------------------------


@dataclass
class LiveIndex:
    name: str
    leading_column: str | None  # None: the first key is an expression
    partial: bool
    valid: bool
    definition: str

    @property
    def columns(self) -> tuple[str | None, ...]:
        return (self.leading_column,)  # the catalog query reads the first key only


@dataclass
class LiveTable:
    schema: str | None  # None = public
    name: str
    columns: dict[str, str] = field(default_factory=dict)  # name -> type as format_type() spells it
    indexes: dict[str, LiveIndex] = field(default_factory=dict)
    rls: bool = False
    rls_forced: bool = False
    policies: dict[str, Policy] = field(default_factory=dict)  # rows of pg_policies

    @property
    def qualified(self) -> str:
        return f"{self.schema or 'public'}.{self.name}"

    @property
    def qualified_name(self) -> str:
        """The name as `orgscope check` writes it: `public` left out."""
        return self.name if self.schema is None else f"{self.schema}.{self.name}"


# Every statement the command sends, in order. Nothing else is ever executed.
READ_ONLY = "SET TRANSACTION READ ONLY"
COLUMNS_SQL = """
SELECT n.nspname, c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s) AND c.relname = ANY(%s)
ORDER BY n.nspname, c.relname, a.attnum
"""
INDEXES_SQL = """
SELECT n.nspname, t.relname, i.relname, lead.attname, x.indpred IS NOT NULL, x.indisvalid,
       pg_catalog.pg_get_indexdef(x.indexrelid)
FROM pg_catalog.pg_index x
JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = x.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
LEFT JOIN pg_catalog.pg_attribute lead ON lead.attrelid = t.oid AND lead.attnum = x.indkey[0] AND x.indkey[0] <> 0
WHERE n.nspname = ANY(%s) AND t.relname = ANY(%s)
ORDER BY n.nspname, t.relname, i.relname
"""


ROW_SECURITY_SQL = """
SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%s) AND c.relname = ANY(%s)
"""
POLICIES_SQL = """
SELECT schemaname, tablename, policyname, permissive, roles::text[], cmd, qual, with_check
FROM pg_catalog.pg_policies
WHERE schemaname = ANY(%s) AND tablename = ANY(%s)
ORDER BY schemaname, tablename, policyname
"""


FUNCTIONS_SQL = """
SELECT p.proname, pg_catalog.pg_get_functiondef(p.oid)
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
JOIN pg_catalog.pg_language l ON l.oid = p.prolang
WHERE n.nspname = 'public' AND l.lanname IN ('sql', 'plpgsql') AND p.prokind IN ('f', 'p')
ORDER BY p.proname, p.oid
"""


def read_catalog(conn, model: TenancyModel, functions: list[tuple[str, str]] | None = None
                 ) -> dict[tuple[str | None, str], LiveTable]:
    """The org tables of `model` as the database has them, read in one
    read-only transaction that is rolled back. `conn` is a psycopg connection
    that is not in autocommit mode. `functions`, when given, receives the
    (name, CREATE FUNCTION text) of the SQL and PL/pgSQL functions of the
    public schema."""
    schemas = sorted({schema or "public" for schema, _ in model.org_tables})
    names = sorted({name for _, name in model.org_tables})
    tables: dict[tuple[str | None, str], LiveTable] = {}
    try:
        with conn.cursor() as cur:
            cur.execute(READ_ONLY)
            cur.execute(COLUMNS_SQL, [schemas, names])
            for schema, table, column, type_ in cur.fetchall():
                key = (None if schema == "public" else schema, table)
                if key not in model.org_tables:
                    continue
                live = tables.setdefault(key, LiveTable(schema=key[0], name=table))
                if column is not None:
                    live.columns[column] = type_
            cur.execute(INDEXES_SQL, [schemas, names])
            for schema, table, index, leading, partial, valid, definition in cur.fetchall():
                key = (None if schema == "public" else schema, table)
                if key in tables:
                    tables[key].indexes[index] = LiveIndex(index, leading, bool(partial), bool(valid), definition)
            cur.execute(ROW_SECURITY_SQL, [schemas, names])
            for schema, table, enabled, forced in cur.fetchall():
                key = (None if schema == "public" else schema, table)
                if key in tables:
                    tables[key].rls, tables[key].rls_forced = bool(enabled), bool(forced)
            cur.execute(POLICIES_SQL, [schemas, names])
            for schema, table, name, permissive, roles, command, using, check in cur.fetchall():
                key = (None if schema == "public" else schema, table)
                if key in tables:
                    tables[key].policies[name] = _live_policy(key, name, permissive, roles, command, using, check,
                                                              model)
            if functions is not None:
                cur.execute(FUNCTIONS_SQL)
                functions.extend(cur.fetchall())
    finally:
        conn.rollback()
    return tables


def _live_policy(key, name: str, permissive: str, roles: list[str], command: str, using: str | None,
                 check: str | None, model: TenancyModel) -> Policy:
    from orgscope.sql.policies import policy_expression

    nowhere = Span(1, 1, 1, 1)

    def expression(text: str | None) -> PolicyExpr | None:
        return None if text is None else policy_expression(text, key[1], key[0], nowhere, model)

    return Policy(name=name, command=command.lower(), permissive=permissive == "PERMISSIVE",
                  roles=tuple(roles), using=expression(using), check=expression(check))


# --- what to report ----------------------------------------------------------------------


@dataclass
class DbFinding:
    table: str  # schema-qualified
    code: str  # ORG002 | ORG004 | drift
    severity: str
    message: str


def schema_findings(tables: dict, model: TenancyModel, severities: dict[str, str]) -> list[DbFinding]:
    """ORG004 and ORG002 on the live org tables, judged and worded as
    `orgscope check` judges the replayed migrations."""
    found = []
    for key in sorted(tables, key=lambda k: (k[0] or "", k[1])):
        live = tables[key]
        for verdict in judge(live, model):
            severity = "warning" if verdict.wrong_type else severities.get(verdict.code, "error")
            found.append(DbFinding(live.qualified, verdict.code, severity, verdict.message))
    return found


def row_security_findings(tables: dict, model: TenancyModel, severities: dict[str, str],
                          migrations_rely_on_it: bool) -> list[DbFinding]:
    """ORG007 and ORG008 on the live org tables, judged like the replayed
    migrations: RLS is required when the pack says so, or (`auto`) when the
    database or the migrations use it anywhere."""
    from orgscope.catalog import Catalog
    from orgscope.rules.org007_org_table_without_rls import how_to_enable
    from orgscope.rules.org008_policy_not_org_scoped import leak_message
    from orgscope.rules.row_security import policy_leaks
    from orgscope.schema import Schema

    uses_rls = any(t.rls or t.policies for t in tables.values())
    required = model.rls == "required" or (model.rls == "auto" and (uses_rls or migrations_rely_on_it))
    catalog = Catalog(model=model, schema=Schema())
    found = []
    for key in sorted(tables, key=lambda k: (k[0] or "", k[1])):
        live = tables[key]
        if required and not live.rls:
            found.append(DbFinding(live.qualified, "ORG007", severities.get("ORG007", "error"),
                                   f"row level security is off on {live.qualified} in the database, so every "
                                   f"request through the API reads and writes every organization's rows; run "
                                   f"{how_to_enable(live.name, live.qualified, model)}"))
        for policy, commands, leaks in policy_leaks(live, catalog, model):
            found.append(DbFinding(live.qualified, "ORG008", severities.get("ORG008", "error"),
                                   leak_message(live.qualified_name, policy, commands, leaks, model)))
    return found


def function_findings(functions: list[tuple[str, str]], model: TenancyModel, severity: str) -> list[DbFinding]:
    """ORG001 on the queries inside the database's functions, read like the
    functions of a migration (orgscope.sql.functions)."""
    from orgscope.catalog import Catalog
    from orgscope.positions import LineIndex
    from orgscope.rules.scoping import analyze
    from orgscope.schema import Schema
    from orgscope.sql.functions import function_queries
    from orgscope.sql.split import split_statements

    catalog = Catalog(model=model, schema=Schema())
    found = []
    for name, definition in functions:
        positions = LineIndex(definition)
        for stmt in split_statements(definition)[:1]:
            queries, _ = function_queries(stmt, positions, model)
            for query in queries:
                for verdict in analyze(query, catalog, model).org_verdicts():
                    if verdict.constrained or verdict.client_columns:
                        continue
                    definer = " (SECURITY DEFINER: it runs as its owner and bypasses row level security)" \
                        if query.security_definer else ""
                    found.append(DbFinding(
                        f"public.{verdict.ref.table}", "ORG001", severity,
                        f"function {query.function}{definer} reaches {verdict.ref.table} without a "
                        f"{model.org_column} predicate at line {verdict.ref.span.line} of its definition; add "
                        f"`{verdict.ref.alias or verdict.ref.table}.{model.org_column} = <org id>`"))
    return found


def drift_findings(tables: dict, schema, model: TenancyModel) -> list[DbFinding]:
    """Where the live org tables and the replayed migrations disagree."""
    found = []

    def drift(table: str, message: str) -> None:
        found.append(DbFinding(table, DRIFT, DRIFT_SEVERITY, message))

    for key in sorted(model.org_tables, key=lambda k: (k[0] or "", k[1])):
        schema_name, name = key
        qualified = f"{schema_name or 'public'}.{name}"
        live = tables.get(key)
        replayed = schema.known_table(name, schema_name)
        dropped = schema.table_dropped_at(name, schema_name)
        if replayed is None:
            if live is not None and dropped is not None:
                drift(qualified, f"the migrations drop {qualified} ({dropped}) but the database still has it")
            elif live is not None:
                drift(qualified, f"{qualified} exists in the database but no migration creates it")
            continue
        created = replayed.created
        if live is None:
            if created:
                drift(qualified, f"the migrations create {qualified} ({replayed.created_at}) "
                                 "but the database lacks it")
            continue
        for column, type_ in sorted(replayed.columns.items()):
            where = replayed.column_added_at.get(column)
            if column not in live.columns:
                drift(qualified, f"the migrations add {qualified}.{column}" + (f" ({where})" if where else "")
                      + " but the database lacks it")
            elif type_ and catalog_type(type_) != catalog_type(live.columns[column]):
                drift(qualified, f"{qualified}.{column} is {live.columns[column]} in the database, "
                                 f"{type_} in the migrations")
        for column in sorted(set(live.columns) - set(replayed.columns)):
            gone = replayed.column_dropped_at.get(column)
            if gone is not None:
                drift(qualified, f"the migrations drop {qualified}.{column} ({gone}) but the database still has it")
            elif created:
                drift(qualified, f"{qualified}.{column} exists in the database but no migration adds it")
        for index_name, index in sorted(replayed.indexes.items()):
            if index_name not in live.indexes:
                drift(qualified, f"the migrations create index {index_name} on {qualified} ({index.created_at}) "
                                 "but the database lacks it")
        if created:
            dropped_names = {i.name: i for i in replayed.dropped_indexes}
            for index_name in sorted(set(live.indexes) - set(replayed.indexes)):
                gone_index = dropped_names.get(index_name)
                if gone_index is not None and gone_index.dropped_at is not None:
                    drift(qualified, f"the migrations drop index {index_name} ({gone_index.dropped_at}) "
                                     "but the database still has it")
                else:
                    drift(qualified, f"index {index_name} on {qualified} exists in the database but no "
                                     f"migration creates it: {live.indexes[index_name].definition}")
        _row_security_drift(live, replayed, qualified, drift)
    return found


def _row_security_drift(live: LiveTable, replayed, qualified: str, drift) -> None:
    """RLS on in one and off in the other; a policy in one only, or with
    another command, kind or roles."""
    if live.rls != replayed.rls and (replayed.created or replayed.rls_changed_at is not None):
        where = f" ({replayed.rls_changed_at})" if replayed.rls_changed_at else ""
        drift(qualified, f"row level security on {qualified} is {'on' if live.rls else 'off'} in the database, "
                         f"{'on' if replayed.rls else 'off'} in the migrations{where}")
    for name, policy in sorted(replayed.policies.items()):
        theirs = live.policies.get(name)
        if theirs is None:
            drift(qualified, f"the migrations create policy {name} on {qualified} ({policy.changed_at}) "
                             "but the database lacks it")
            continue
        ours_shape = (policy.command, policy.permissive, sorted(policy.roles))
        theirs_shape = (theirs.command, theirs.permissive, sorted(theirs.roles))
        if ours_shape != theirs_shape:
            drift(qualified, f"policy {name} on {qualified} is {_shape(theirs_shape)} in the database, "
                             f"{_shape(ours_shape)} in the migrations ({policy.changed_at})")
    dropped = {p.name for p in replayed.dropped_policies}
    for name in sorted(set(live.policies) - set(replayed.policies)):
        if name in dropped:
            drift(qualified, f"the migrations drop policy {name} on {qualified} but the database still has it")
        elif replayed.created:
            drift(qualified, f"policy {name} on {qualified} exists in the database but no migration creates it")


def _shape(shape: tuple) -> str:
    command, permissive, roles = shape
    return f"FOR {command.upper()} {'PERMISSIVE' if permissive else 'RESTRICTIVE'} TO {', '.join(roles)}"


# --- the command ----------------------------------------------------------------------------


def redact(dsn: str) -> str:
    """The DSN without its password, for messages and reports."""
    try:
        parts = urlsplit(dsn)
    except ValueError:
        return "<dsn>"
    if parts.scheme and parts.password is not None:
        user = parts.username or ""
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, f"{user}:***@{host}{port}", parts.path, parts.query, parts.fragment))
    return re.sub(r"(password\s*=\s*)(\S+)", r"\1***", dsn)


def connect(dsn: str):
    try:
        import psycopg
    except ImportError:
        raise OrgscopeError(
            "orgscope db needs psycopg 3, which is not installed; install it with: pip install 'orgscope[db]'"
        ) from None
    try:
        return psycopg.connect(dsn, autocommit=False, connect_timeout=10)
    except psycopg.Error as exc:
        raise OrgscopeError(f"cannot connect to {redact(dsn)}: {_first_line(exc)}") from None
    except Exception as exc:  # a malformed DSN raises from libpq's parser
        raise OrgscopeError(f"cannot connect to {redact(dsn)}: {_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@click.command("db")
@click.option("--dsn", required=True, envvar="ORGSCOPE_DSN", metavar="URL",
              help="PostgreSQL connection string, e.g. postgresql://readonly@db.internal/app "
                   "(or the ORGSCOPE_DSN environment variable).")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--config", "config_path", metavar="FILE", help="Config file (default: found by walking up).")
@click.option("--rule-pack", metavar="FILE", help="Use this tenancy rule pack.")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Output format.")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default=None,
              help="Lowest severity that makes the exit code 1 [default: error]; drift is a warning.")
@click.option("--no-drift", is_flag=True, help="Only check the live schema; do not compare it with the migrations.")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the facts cache when replaying migrations.")
def db_command(dsn, paths, config_path, rule_pack, fmt, fail_on, no_drift, no_cache) -> None:
    """Check a live database: the org column and org index of every org table
    (ORG004, ORG002), its row level security and policies (ORG007, ORG008),
    and drift between the database and the migrations under PATHS (default:
    the current folder).

    Read-only: it opens one transaction, runs SET TRANSACTION READ ONLY, then
    only SELECTs on pg_catalog, and rolls back. It never writes, locks a table
    or reads a row of your data, so a read-only role is enough. Needs psycopg 3:
    pip install 'orgscope[db]'.

    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage, connection
    or configuration error.

    \b
    Examples:
      orgscope db --dsn postgresql://readonly@localhost:5432/app
      ORGSCOPE_DSN=postgresql://readonly@db/app orgscope db --format json
      orgscope db --dsn "$DATABASE_URL" --fail-on warning   # drift fails too
    """
    try:
        code, text = check_database(dsn, list(paths), config_path, rule_pack, fmt, fail_on, no_drift, no_cache)
    except OrgscopeError as exc:
        click.echo(f"orgscope: error: {exc}", err=True)
        sys.exit(EXIT_ERROR)
    click.echo(text, nl=False)
    sys.exit(code)


def check_database(dsn: str, paths: list[Path], config_path: str | None, rule_pack: str | None, fmt: str,
                   fail_on: str | None, no_drift: bool, no_cache: bool) -> tuple[int, str]:
    """The exit code and the report of `orgscope db`."""
    config = _load_config(config_path, rule_pack)
    model = config.load_model()
    severities = {code: config.severity.get(code, "error") for code in ("ORG002", "ORG004", "ORG007", "ORG008")}
    conn = connect(dsn)
    try:
        import psycopg

        try:
            functions: list[tuple[str, str]] = []
            tables = read_catalog(conn, model, functions)
        except psycopg.Error as exc:
            raise OrgscopeError(f"cannot read the catalog of {redact(dsn)}: {_first_line(exc)}") from None
    finally:
        conn.close()

    findings = schema_findings(tables, model, severities)
    notes = []
    migrations_rely_on_rls = False
    if not no_drift:
        from orgscope.engine import Options, build_project_catalog

        catalog = build_project_catalog(paths, config, Options(use_cache=not no_cache))
        if catalog.migration_paths:
            findings += drift_findings(tables, catalog.schema, model)
            migrations_rely_on_rls = catalog.schema.rls_used_at is not None
        else:
            notes.append("no migrations found: drift not reported")
    findings += row_security_findings(tables, model, severities, migrations_rely_on_rls)
    findings += function_findings(functions, model, config.severity.get("ORG001", "error"))
    missing = sorted(f"{s or 'public'}.{n}" for s, n in model.org_tables if (s, n) not in tables)
    if missing:
        notes.append(f"org tables not in the database: {', '.join(missing)}")

    threshold = SEVERITY_RANK[fail_on or config.fail_on]
    code = EXIT_FINDINGS if any(SEVERITY_RANK[f.severity] >= threshold for f in findings) else EXIT_OK
    return code, render(findings, notes, redact(dsn), len(tables), fmt)


def _load_config(config_path: str | None, rule_pack: str | None):
    from orgscope.config import resolve_config

    return resolve_config(config_path, rule_pack, Path.cwd())


def render(findings: list[DbFinding], notes: list[str], database: str, tables: int, fmt: str) -> str:
    by_code: dict[str, int] = {}
    for finding in findings:
        by_code[finding.code] = by_code.get(finding.code, 0) + 1
    if fmt == "json":
        data = {
            "version": __version__,
            "database": database,
            "findings": [asdict(f) for f in findings],
            "notes": notes,
            "summary": {"tables": tables, "findings": len(findings), "by_code": by_code},
        }
        return json.dumps(data, indent=2) + "\n"
    lines = [f"{f.table}: {f.code} [{f.severity}] {f.message}" for f in findings]
    lines += [f"note: {note}" for note in notes]
    if findings:
        counts = ", ".join(f"{n} {code}" for code, n in sorted(by_code.items()))
        lines.append(f"Found {len(findings)} problem{'s' if len(findings) != 1 else ''} ({counts}) "
                     f"in {database} ({tables} org tables read, read-only)")
    else:
        lines.append(f"All checks passed for {database} ({tables} org tables read, read-only)")
    return "\n".join(lines) + "\n"


__all__ = ["db_command", "read_catalog", "schema_findings", "drift_findings", "redact"]

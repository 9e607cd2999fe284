"""`orgscope fix --indexes`: one new migration that creates every missing org
index (ORG002), named after the project's migration scheme, never written
over an existing file; afterwards `orgscope check` reports no ORG002."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import cli, write_tree
from orgscope.errors import OrgscopeError
from orgscope.fix_indexes import index_statement, next_migration_name, quote_identifier
from orgscope.model import load_pack, default_pack_path

SCHEMA = {
    "db/migrations/001_init.sql": """\
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, name text);
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
        CREATE TABLE voices (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
        CREATE INDEX idx_voices_clerk_org_id ON voices (clerk_org_id);
        """,
    "db/migrations/012_calls_created.sql": "ALTER TABLE calls ADD COLUMN created_at timestamptz;\n",
    "queries/agents.sql": "SELECT id FROM agents WHERE clerk_org_id = $1;\n",
}


def codes(root: Path) -> list[tuple[str, str]]:
    result = cli(root, "check", "--no-cache", "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["table"]) for f in json.loads(result.stdout)["findings"]]


@pytest.fixture
def project(tmp_path):
    write_tree(tmp_path, SCHEMA)
    return tmp_path


def test_fix_writes_the_next_migration_and_check_is_clean_afterwards(project):
    assert codes(project) == [("ORG002", "agents"), ("ORG002", "calls")]
    result = cli(project, "fix", "--indexes")
    assert result.exit_code == 0, result.output
    written = project / "db/migrations/013_add_org_indexes.sql"
    assert "Wrote db/migrations/013_add_org_indexes.sql: 2 org index(es) for agents, calls" in result.stdout
    text = written.read_text()
    statements = [line for line in text.splitlines() if line and not line.startswith("--")]
    assert statements == [
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_agents_clerk_org_id ON agents (clerk_org_id);",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_calls_clerk_org_id ON calls (clerk_org_id);",
    ]
    assert "cannot run inside a transaction" in text
    assert codes(project) == []
    # A second run has nothing left to do and writes nothing.
    again = cli(project, "fix", "--indexes")
    assert again.exit_code == 0
    assert "nothing to fix" in again.stdout
    assert sorted(p.name for p in (project / "db/migrations").iterdir()) == [
        "001_init.sql", "012_calls_created.sql", "013_add_org_indexes.sql"]


def test_dry_run_prints_path_and_content_and_writes_nothing(project):
    before = sorted(p.name for p in (project / "db/migrations").iterdir())
    result = cli(project, "fix", "--indexes", "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Would write db/migrations/013_add_org_indexes.sql:\n")
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_calls_clerk_org_id ON calls (clerk_org_id);" in result.stdout
    assert sorted(p.name for p in (project / "db/migrations").iterdir()) == before
    assert codes(project) == [("ORG002", "agents"), ("ORG002", "calls")]


def test_timestamped_migrations_get_a_utc_timestamp_in_the_same_format(tmp_path):
    write_tree(tmp_path, {
        "supabase/migrations/20240101120000_init.sql": "CREATE TABLE tools (id uuid PRIMARY KEY, clerk_org_id text);\n",
    })
    before = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)
    result = cli(tmp_path, "fix", "--indexes")
    assert result.exit_code == 0, result.output
    [new] = [p for p in (tmp_path / "supabase/migrations").iterdir() if p.name != "20240101120000_init.sql"]
    stamp, _, rest = new.name.partition("_")
    assert rest == "add_org_indexes.sql"
    assert len(stamp) == 14
    assert datetime.strptime(stamp, "%Y%m%d%H%M%S") >= before
    # The index is there; a Supabase project also relies on row level security.
    assert codes(tmp_path) == [("ORG007", "tools")]


def test_an_existing_file_is_never_overwritten_without_force(project):
    # A file of the chosen name that is not a migration (excluded by the config).
    (project / ".orgscope.yaml").write_text("exclude: [db/migrations/013_add_org_indexes.sql]\n")
    target = project / "db/migrations/013_add_org_indexes.sql"
    target.write_text("-- keep me\n")
    result = cli(project, "fix", "--indexes")
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.stderr
    assert target.read_text() == "-- keep me\n"
    result = cli(project, "fix", "--indexes", "--force")
    assert result.exit_code == 0, result.output
    assert "idx_agents_clerk_org_id" in target.read_text()


def test_nothing_to_fix_without_migrations(tmp_path):
    write_tree(tmp_path, {"queries/a.sql": "SELECT 1;\n"})
    result = cli(tmp_path, "fix", "--indexes")
    assert (result.exit_code, result.stdout.strip()) == (
        0, "Every org table has an index leading with the org column: nothing to fix")
    assert sorted(p.name for p in tmp_path.rglob("*") if ".orgscope_cache" not in p.parts) == ["a.sql", "queries"]


def test_migrations_found_by_a_configured_glob(tmp_path):
    write_tree(tmp_path, {"schema/001_init.sql": "CREATE TABLE agents (id int, clerk_org_id text);\n",
                          ".orgscope.yaml": "migrations: ['schema/*.sql']\n"})
    result = cli(tmp_path, "fix", "--indexes")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "schema/002_add_org_indexes.sql").is_file()
    assert codes(tmp_path) == []


def test_a_new_file_outside_the_migrations_globs_is_refused(tmp_path):
    write_tree(tmp_path, {"schema/099_init.sql": "CREATE TABLE agents (id int, clerk_org_id text);\n",
                          ".orgscope.yaml": "migrations: ['schema/0*.sql']\n"})
    result = cli(tmp_path, "fix", "--indexes")
    assert result.exit_code == 2
    assert "schema/100_add_org_indexes.sql would not match the configured migrations globs" in result.stderr
    assert not (tmp_path / "schema/100_add_org_indexes.sql").exists()


def test_no_sql_migrations_folder_is_a_clear_error(tmp_path, monkeypatch):
    # Only Alembic revisions: the run reports ORG002 but there is no SQL folder to write to.
    import orgscope.engine as engine
    from orgscope.catalog import Catalog
    from orgscope.findings import Finding, RunResult
    from orgscope.schema import replay

    write_tree(tmp_path, {"app/q.sql": "SELECT 1;\n"})
    finding = Finding(path="alembic/versions/1_init.py", line=1, column=1, end_line=1, end_column=2,
                      code="ORG002", name="missing-org-index", severity="error", message="m", table="agents")
    monkeypatch.setattr(engine, "run", lambda *a, **k: RunResult([finding], 1, 0.0, "x"))
    pack = load_pack(default_pack_path())
    monkeypatch.setattr(engine, "build_project_catalog",
                        lambda *a, **k: Catalog(model=pack, schema=replay([]), migration_paths=["alembic/versions/1_init.py"]))
    result = cli(tmp_path, "fix", "--indexes")
    assert result.exit_code == 2
    assert result.stderr.startswith("orgscope: error: no SQL migrations folder")
    assert "op.create_index" in result.stderr


def test_fix_needs_to_be_told_what_to_fix(project):
    result = cli(project, "fix")
    assert result.exit_code == 2
    assert "--indexes" in result.output


def test_a_name_taken_by_an_unusable_index_is_not_silently_kept(project):
    # IF NOT EXISTS would keep the partial index and fix nothing.
    write_tree(project, {"db/migrations/002_partial.sql":
                         "CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id) WHERE name IS NOT NULL;\n"})
    result = cli(project, "fix", "--indexes")
    assert result.exit_code == 1
    assert "cannot fix agents: the index name idx_agents_clerk_org_id is already taken" in result.stderr
    text = (project / "db/migrations/013_add_org_indexes.sql").read_text()
    assert "ON calls (clerk_org_id)" in text and "ON agents" not in text
    assert codes(project) == [("ORG002", "agents")]


def test_suppressed_missing_indexes_are_left_alone(project):
    write_tree(project, {"db/migrations/001_init.sql": "-- orgscope: ignore-file[ORG002] indexed out of band\n"
                         + (project / "db/migrations/001_init.sql").read_text()})
    result = cli(project, "fix", "--indexes", "--dry-run")
    assert result.exit_code == 0
    assert "nothing to fix" in result.stdout


# --- naming ------------------------------------------------------------------------------

NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "existing, expected",
    [
        (["m/001_a.sql", "m/012_x.sql"], "m/013_add_org_indexes.sql"),
        (["m/2_a.sql", "m/10_b.sql", "m/9_c.sql"], "m/11_add_org_indexes.sql"),  # natural order, not text order
        (["m/0099_a.sql"], "m/0100_add_org_indexes.sql"),
        (["m/999_a.sql"], "m/1000_add_org_indexes.sql"),
        (["m/V1__init.sql", "m/V2__more.sql"], "m/V3__add_org_indexes.sql"),
        (["m/001-init.sql"], "m/002-add_org_indexes.sql"),
        (["db/a/001_x.sql", "db/b/001_y.sql", "db/b/002_z.sql"], "db/b/003_add_org_indexes.sql"),
        (["20240101120000_init.sql"], "20250304050607_add_org_indexes.sql"),
        (["m/202401011200_init.sql"], "m/202503040506_add_org_indexes.sql"),
        # A clock behind the newest migration still sorts after it.
        (["m/20300101000000_future.sql"], "m/20300101000001_add_org_indexes.sql"),
        # Fourteen digits that are no date are a plain number.
        (["m/00000000000041_x.sql"], "m/00000000000042_add_org_indexes.sql"),
    ],
)
def test_next_migration_name(existing, expected):
    assert next_migration_name(existing, now=NOW) == expected


def test_unnumbered_migrations_are_a_clear_error():
    with pytest.raises(OrgscopeError, match="cannot tell how the migrations in m are numbered"):
        next_migration_name(["m/init.sql", "m/agents.sql"], now=NOW)


def test_quoting_of_identifiers():
    assert quote_identifier("agents") == "agents"
    assert quote_identifier("order") == '"order"'
    assert quote_identifier("Agents") == '"Agents"'
    pack = load_pack(default_pack_path())
    assert index_statement(pack, "archive.user", "idx_user_clerk_org_id") == (
        'CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_user_clerk_org_id ON archive."user" (clerk_org_id);'
    )


def test_names_follow_a_custom_pack(tmp_path):
    write_tree(tmp_path, {
        "pack.yaml": "org_column: tenant_id\norg_tables: [projects]\nindex_name: '{table}_{column}_idx'\n",
        ".orgscope.yaml": "rule_pack: pack.yaml\n",
        "migrations/1_init.sql": "CREATE TABLE projects (id int PRIMARY KEY, tenant_id text NOT NULL);\n",
    })
    result = cli(tmp_path, "fix", "--indexes")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "migrations/2_add_org_indexes.sql").read_text()
    assert "CREATE INDEX CONCURRENTLY IF NOT EXISTS projects_tenant_id_idx ON projects (tenant_id);" in text
    assert codes(tmp_path) == []

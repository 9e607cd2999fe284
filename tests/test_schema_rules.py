"""ORG002 missing-org-index and ORG004 missing-org-column: what the replayed
migrations must leave on every org table, and where each finding points."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import pytest

from orgscope.catalog import Catalog
from orgscope.config import Config
from orgscope.model import default_pack_path, load_pack
from orgscope.positions import LineIndex
from orgscope.rules import RuleContext
from orgscope.rules import org002_missing_org_index as org002
from orgscope.rules import org004_missing_org_column as org004
from orgscope.schema import natural_sort_key, replay
from orgscope.sql.ddl import schema_events
from orgscope.sql.split import split_statements

MODEL = load_pack(default_pack_path())


def schema_findings(files: dict[str, str], model=MODEL, severities=None, config=None):
    """ORG002 and ORG004 findings for SQL migrations, replayed in natural order."""
    migrations = []
    for path in sorted(files, key=natural_sort_key):
        sql = textwrap.dedent(files[path])
        positions = LineIndex(sql)
        events = []
        for stmt in split_statements(sql):
            events.extend(schema_events(stmt, positions, model=model)[0])
        migrations.append((path, events))
    ctx = RuleContext(model=model, catalog=Catalog(model=model, schema=replay(migrations)),
                      severities=severities or {}, config=config)
    return list(org002.check(ctx)) + list(org004.check(ctx))


def where(findings):
    """(code, path, line, column) of each finding, sorted."""
    return sorted((f.code, f.path, f.line, f.column) for f in findings)


# --- ORG002 ----------------------------------------------------------------------------


def test_index_created_then_dropped_is_reported_at_the_drop():
    findings = schema_findings({
        "m/1_agents.sql": """\
            CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
            CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        """,
        "m/2_cleanup.sql": "DROP INDEX IF EXISTS idx_other, idx_agents_clerk_org_id;",
    })
    [finding] = findings
    assert where(findings) == [("ORG002", "m/2_cleanup.sql", 1, 33)]
    assert finding.table == "agents" and finding.anchor == "ORG002:agents"
    assert finding.severity == "error"
    assert finding.message == (
        "agents has no index leading with clerk_org_id (idx_agents_clerk_org_id was dropped at "
        "m/2_cleanup.sql:1); add CREATE INDEX CONCURRENTLY idx_agents_clerk_org_id ON agents (clerk_org_id)")


def test_the_last_of_several_usable_indexes_decides_the_location():
    findings = schema_findings({
        "m/1.sql": """\
            CREATE TABLE calls (id uuid, clerk_org_id text, started_at timestamptz);
            CREATE INDEX idx_a ON calls (clerk_org_id);
            CREATE INDEX idx_b ON calls (clerk_org_id, started_at);
        """,
        "m/2.sql": "DROP INDEX idx_b;",
        "m/3.sql": "\n\nDROP INDEX idx_a;",
    })
    assert where(findings) == [("ORG002", "m/3.sql", 3, 12)]


def test_index_recreated_after_a_drop_is_fine():
    assert schema_findings({
        "m/1.sql": "CREATE TABLE contacts (id uuid, clerk_org_id text);\n"
                   "CREATE INDEX idx_contacts_clerk_org_id ON contacts (clerk_org_id);",
        "m/2.sql": "DROP INDEX idx_contacts_clerk_org_id;",
        "m/10.sql": "CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_contacts_clerk_org_id ON contacts (clerk_org_id);",
    }) == []


def test_drop_and_recreate_in_the_wrong_natural_order_is_reported():
    # 10_ runs after 2_: the index is created, then dropped for good.
    findings = schema_findings({
        "m/2_create.sql": "CREATE TABLE tools (id uuid, clerk_org_id text);\n"
                          "CREATE INDEX idx_tools_clerk_org_id ON tools (clerk_org_id);",
        "m/10_drop.sql": "DROP INDEX idx_tools_clerk_org_id;",
    })
    assert where(findings) == [("ORG002", "m/10_drop.sql", 1, 12)]


def test_never_indexed_column_added_later_is_reported_at_the_add_column():
    findings = schema_findings({"m/1.sql": """\
        CREATE TABLE agents (id uuid PRIMARY KEY, name text NOT NULL);
        ALTER TABLE agents ADD COLUMN clerk_org_id text;
    """})
    assert where(findings) == [("ORG002", "m/1.sql", 2, 31)]
    assert "add CREATE INDEX CONCURRENTLY idx_agents_clerk_org_id ON agents (clerk_org_id)" in findings[0].message


def test_never_indexed_column_of_create_table_is_reported_at_the_column():
    findings = schema_findings({"m/1.sql": """\
        CREATE TABLE voices (
            id uuid PRIMARY KEY,
            clerk_org_id text NOT NULL
        );
    """})
    [finding] = findings
    assert where(findings) == [("ORG002", "m/1.sql", 3, 5)]
    # A suppression on the first line of the CREATE TABLE applies too.
    assert finding.statement_line == 1
    assert "(no index)" in finding.message


def test_index_on_a_renamed_table_follows_it():
    assert schema_findings({"m/1.sql": """\
        CREATE TABLE agent_tools (id uuid, clerk_org_id text);
        CREATE INDEX idx_agent_tools_clerk_org_id ON agent_tools (clerk_org_id);
        ALTER TABLE agent_tools RENAME TO tools;
    """}) == []


def test_renamed_table_without_an_index_points_at_its_column():
    findings = schema_findings({"m/1.sql": """\
        CREATE TABLE bots (id uuid, clerk_org_id text);
        ALTER TABLE bots RENAME TO agents;
    """})
    assert where(findings) == [("ORG002", "m/1.sql", 1, 29)]
    assert findings[0].table == "agents"


def test_column_renamed_to_the_org_column_then_indexed_is_fine():
    assert schema_findings({"m/1.sql": """\
        CREATE TABLE calls (id uuid, org_id text);
        ALTER TABLE calls RENAME COLUMN org_id TO clerk_org_id;
        CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);
    """}) == []


def test_column_indexed_then_renamed_to_the_org_column_keeps_its_index():
    assert schema_findings({"m/1.sql": """\
        CREATE TABLE calls (id uuid, org_id text);
        CREATE INDEX idx_calls_org ON calls (org_id);
        ALTER TABLE calls RENAME org_id TO clerk_org_id;
    """}) == []


def test_column_renamed_to_the_org_column_without_index_points_at_the_rename():
    findings = schema_findings({"m/1.sql": """\
        CREATE TABLE calls (id uuid, org_id text);
        ALTER TABLE calls RENAME COLUMN org_id TO clerk_org_id;
    """})
    assert where(findings) == [("ORG002", "m/1.sql", 2, 43)]


@pytest.mark.parametrize(
    "index_sql, reason",
    [
        ("CREATE INDEX idx_p ON agents (clerk_org_id) WHERE deleted_at IS NULL;", "only a partial index: idx_p"),
        ("CREATE INDEX idx_e ON agents (lower(clerk_org_id));", "only an expression index: idx_e"),
        ("CREATE INDEX idx_n ON agents (created_at, clerk_org_id);",
         "idx_n has clerk_org_id but not as its first column"),
        ("CREATE INDEX idx_p ON ONLY agents (clerk_org_id) WHERE true;", "only a partial index: idx_p"),
    ],
)
def test_indexes_that_do_not_count(index_sql, reason):
    findings = schema_findings({"m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text, created_at date, "
                                           "deleted_at date);\n" + index_sql})
    [finding] = findings
    assert (finding.code, finding.line, finding.column) == ("ORG002", 1, 31)
    assert f"({reason})" in finding.message


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE agents (id uuid, clerk_org_id text, created_at date);\n"
        "CREATE INDEX idx_any ON agents (clerk_org_id, created_at DESC);",
        "CREATE TABLE agents (id uuid, clerk_org_id text, name text, UNIQUE (clerk_org_id, name));",
        "CREATE TABLE agents (id uuid, clerk_org_id text, PRIMARY KEY (clerk_org_id, id));",
        "CREATE TABLE agents (id uuid, clerk_org_id text UNIQUE);",
        "CREATE TABLE agents (id uuid, url text);\n"
        "ALTER TABLE agents ADD COLUMN clerk_org_id text NOT NULL,\n"
        "    ADD CONSTRAINT agents_org_url UNIQUE (clerk_org_id, url);",
        "CREATE TABLE agents (id uuid, clerk_org_id text);\nCREATE INDEX ON ONLY agents ((clerk_org_id));",
        "CREATE TABLE agents (id uuid, clerk_org_id text);\n"
        "DO $$ BEGIN CREATE INDEX IF NOT EXISTS idx_a ON agents (clerk_org_id); END $$;",
    ],
)
def test_indexes_that_count(sql):
    assert schema_findings({"m/1.sql": sql}) == []


def test_required_index_name():
    strict = replace(MODEL, require_index_name=True)
    files = {"m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n"
                        "CREATE INDEX agents_org ON agents (clerk_org_id);"}
    assert schema_findings(files) == []
    [finding] = schema_findings(files, strict)
    assert finding.code == "ORG002"
    assert "agents_org is not named idx_agents_clerk_org_id" in finding.message
    assert finding.message.endswith("rename it: ALTER INDEX agents_org RENAME TO idx_agents_clerk_org_id")
    files["m/2.sql"] = "ALTER INDEX agents_org RENAME TO idx_agents_clerk_org_id;"
    assert schema_findings(files, strict) == []


def test_required_index_name_broken_by_a_table_rename_points_at_the_rename():
    strict = replace(MODEL, require_index_name=True)
    findings = schema_findings({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        ALTER TABLE agents RENAME TO tools;
    """}, strict)
    assert where(findings) == [("ORG002", "m/1.sql", 3, 30)]
    assert findings[0].table == "tools"


# --- ORG004 ------------------------------------------------------------------------------


def test_org_table_created_without_the_column():
    findings = schema_findings({"m/1.sql": "\nCREATE TABLE knowledge_bases (id uuid PRIMARY KEY, name text);"})
    [finding] = findings
    assert where(findings) == [("ORG004", "m/1.sql", 2, 14)]
    assert finding.severity == "error" and finding.table == "knowledge_bases"
    assert "knowledge_bases has no clerk_org_id column" in finding.message
    assert "ADD COLUMN clerk_org_id TEXT" in finding.message


def test_drop_column_is_reported_at_the_drop_and_not_also_as_org002():
    findings = schema_findings({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n"
                   "CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);",
        "m/2.sql": "ALTER TABLE agents DROP COLUMN clerk_org_id;",
    })
    assert where(findings) == [("ORG004", "m/2.sql", 1, 32)]
    assert "agents loses clerk_org_id here" in findings[0].message


def test_column_renamed_away_is_reported_at_the_rename():
    findings = schema_findings({"m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n"
                                           "ALTER TABLE agents RENAME clerk_org_id TO org;"})
    assert where(findings) == [("ORG004", "m/1.sql", 2, 43)]


def test_column_dropped_and_added_back_is_fine():
    assert schema_findings({
        "m/1.sql": "CREATE TABLE tools (id uuid, clerk_org_id text);",
        "m/2.sql": "ALTER TABLE tools DROP COLUMN clerk_org_id;",
        "m/10.sql": "ALTER TABLE tools ADD COLUMN clerk_org_id text;\n"
                    "CREATE INDEX idx_tools_clerk_org_id ON tools (clerk_org_id);",
    }) == []


def test_renamed_table_without_the_column_points_at_its_first_name():
    findings = schema_findings({"m/1.sql": "CREATE TABLE contacts_v2 (id uuid);\n"
                                           "ALTER TABLE contacts_v2 RENAME TO contacts;"})
    assert where(findings) == [("ORG004", "m/1.sql", 1, 14)]
    assert findings[0].table == "contacts"


def test_wrong_type_is_a_warning_at_the_column():
    findings = schema_findings({"m/1.sql": """\
        CREATE TABLE voices (
            id uuid PRIMARY KEY,
            clerk_org_id uuid NOT NULL
        );
        CREATE INDEX idx_voices_clerk_org_id ON voices (clerk_org_id);
    """})
    [finding] = findings
    assert where(findings) == [("ORG004", "m/1.sql", 3, 5)]
    assert finding.severity == "warning"
    assert finding.message == ("voices.clerk_org_id is UUID, the tenancy model expects TEXT; change it with "
                               "ALTER TABLE voices ALTER COLUMN clerk_org_id TYPE TEXT")


def test_wrong_type_set_by_alter_column_is_reported_there():
    findings = schema_findings({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text UNIQUE);",
        "m/2.sql": "ALTER TABLE agents ALTER COLUMN clerk_org_id TYPE varchar(64);",
    })
    assert where(findings) == [("ORG004", "m/2.sql", 1, 33)]
    assert "is VARCHAR(64)" in findings[0].message


@pytest.mark.parametrize("written", ["text", "TEXT", '"text"', "pg_catalog.text"])
def test_text_however_written_is_the_expected_type(written):
    assert schema_findings({"m/1.sql": f"CREATE TABLE agents (clerk_org_id {written} PRIMARY KEY);"}) == []


def test_expected_type_comes_from_the_pack_and_compares_normalised():
    pack = replace(MODEL, org_column_type="CHARACTER VARYING(64)")
    files = {"m/1.sql": "CREATE TABLE agents (clerk_org_id varchar(64) PRIMARY KEY);"}
    assert schema_findings(files, pack) == []
    assert [f.code for f in schema_findings(files)] == ["ORG004"]


def test_configured_severity_overrides_the_type_warning():
    files = {"m/1.sql": "CREATE TABLE agents (clerk_org_id uuid PRIMARY KEY);"}
    configured = Config(root=".", severity={"ORG004": "error"})
    [finding] = schema_findings(files, severities={"ORG004": "error"}, config=configured)
    assert finding.severity == "error"
    # Without a config, an entry in severities is the user's choice.
    [finding] = schema_findings(files, severities={"ORG004": "info"})
    assert finding.severity == "info"
    # The engine fills severities for every rule; only the config says what the user set.
    [finding] = schema_findings(files, severities={"ORG004": "error"}, config=Config(root="."))
    assert finding.severity == "warning"


# --- what is not reported ------------------------------------------------------------------


def test_tables_no_migration_creates_are_not_reported():
    assert schema_findings({"m/1.sql": """\
        ALTER TABLE agents ADD COLUMN clerk_org_id text;
        ALTER TABLE calls DROP COLUMN clerk_org_id;
        ALTER TABLE voices ADD COLUMN clerk_org_id uuid;
    """}) == []


def test_dropped_tables_are_not_reported():
    assert schema_findings({"m/1.sql": "CREATE TABLE campaigns (id uuid);\nDROP TABLE campaigns;"}) == []


def test_tables_outside_the_model_are_not_reported():
    assert schema_findings({"m/1.sql": "CREATE TABLE users (id uuid, client_id uuid);\n"
                                       "CREATE TABLE archive.agents (id uuid);"}) == []


def test_org_table_in_another_schema_when_the_pack_lists_it():
    pack = replace(MODEL, org_tables=MODEL.org_tables | {("archive", "agents")})
    findings = schema_findings({"m/1.sql": "CREATE TABLE archive.agents (id uuid);"}, pack)
    assert [(f.code, f.table) for f in findings] == [("ORG004", "archive.agents")]
    assert "ALTER TABLE archive.agents ADD COLUMN" in findings[0].message


def test_no_migrations_give_no_findings():
    ctx = RuleContext(model=MODEL, catalog=Catalog(model=MODEL, schema=replay([])), severities={})
    assert list(org002.check(ctx)) == [] and list(org004.check(ctx)) == []


# --- through the engine ------------------------------------------------------------------------


def test_engine_replays_migrations_in_natural_order(lint):
    findings = lint({
        "db/migrations/20240101120000_agents.sql": """\
            CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
            CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        """,
        "db/migrations/20240301090000_drop.sql": "DROP INDEX idx_agents_clerk_org_id;",
        "db/migrations/9_init.sql": "CREATE TABLE calls (id uuid PRIMARY KEY);",
    })
    assert where(findings) == [
        ("ORG002", "db/migrations/20240301090000_drop.sql", 1, 12),
        ("ORG004", "db/migrations/9_init.sql", 1, 14),
    ]


def test_engine_type_warning_and_configured_severity(lint, tmp_path):
    files = {"migrations/001.sql": "CREATE TABLE agents (id uuid, clerk_org_id uuid);\n"
                                   "CREATE INDEX ON agents (clerk_org_id);"}
    [finding] = lint(files)
    assert (finding.code, finding.severity) == ("ORG004", "warning")
    [finding] = lint(files, severity={"ORG004": "error"})
    assert (finding.code, finding.severity) == ("ORG004", "error")


@pytest.mark.parametrize("comment, codes", [("", [("ORG002", 3)]),
                                             ("-- orgscope: ignore[ORG002] queried by id only", [])])
def test_engine_applies_a_suppression_on_the_create_table_line(lint, comment, codes):
    # The finding sits on the column (line 3); the statement's first line counts too.
    findings = lint({"migrations/001.sql": f"""\
        CREATE TABLE agents ( {comment}
            id uuid PRIMARY KEY,
            clerk_org_id text NOT NULL
        );
    """})
    assert [(f.code, f.line) for f in findings] == codes


def test_engine_reports_dynamic_ddl_on_an_org_table_as_unanalyzable(lint):
    findings = lint({"migrations/001.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        DO $$ BEGIN EXECUTE 'DROP INDEX ' || 'idx_agents_clerk_org_id'; END $$;
    """})
    assert [(f.code, f.line) for f in findings] == [("ORG900", 3)]

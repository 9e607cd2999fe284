"""The schema replay (SPEC section 5): migration order, PostgreSQL's rules for
applying DDL, the history the rules point at, and `orgscope schema`."""

from __future__ import annotations

import random
import textwrap
from dataclasses import replace

import pytest

from orgscope.facts import AddColumn, AlembicRevision, CreateIndex, IndexDef, Span
from orgscope.findings import Note
from orgscope.model import default_pack_path, load_pack
from orgscope.positions import LineIndex
from orgscope.report.schema_text import render_schema_text
from orgscope.rules.org_tables import describe, index_lost_at, usable_org_index, why_no_org_index
from orgscope.schema import natural_sort_key, order_alembic, replay
from orgscope.sql.ddl import schema_events
from orgscope.sql.split import split_statements

MODEL = load_pack(default_pack_path())


def replay_sql(files: dict[str, str], model=MODEL):
    """Replay SQL migrations in the order given."""
    migrations = []
    for path, sql in files.items():
        sql = textwrap.dedent(sql)
        positions = LineIndex(sql)
        events = []
        for stmt in split_statements(sql):
            events.extend(schema_events(stmt, positions, model=model)[0])
        migrations.append((path, events))
    return replay(migrations)


# --- order -------------------------------------------------------------------------


def test_natural_sort_puts_2_before_10():
    paths = ["migrations/10_drop.sql", "migrations/2_index.sql", "migrations/1_init.sql"]
    assert sorted(paths, key=natural_sort_key) == ["migrations/1_init.sql", "migrations/2_index.sql",
                                                   "migrations/10_drop.sql"]


def test_natural_sort_compares_timestamps_as_numbers():
    paths = ["db/20240101120000_b.sql", "db/9_legacy.sql", "db/20231231235959_a.sql", "db/20240101120000_a.sql"]
    assert sorted(paths, key=natural_sort_key) == [
        "db/9_legacy.sql", "db/20231231235959_a.sql", "db/20240101120000_a.sql", "db/20240101120000_b.sql",
    ]


def test_natural_sort_goes_component_by_component():
    paths = ["m/10/a.sql", "m/2/z.sql", "m/2_x/a.sql", "m/2/b.sql", "m2/a.sql"]
    assert sorted(paths, key=natural_sort_key) == ["m/2/b.sql", "m/2/z.sql", "m/2_x/a.sql", "m/10/a.sql",
                                                   "m2/a.sql"]


def test_natural_sort_handles_versions_case_and_leading_zeros():
    paths = ["V1.10__c.sql", "v1.9__b.sql", "V1.2__a.sql"]
    assert sorted(paths, key=natural_sort_key) == ["V1.2__a.sql", "v1.9__b.sql", "V1.10__c.sql"]
    # Equal numbers with different zeros still sort the same way every time.
    assert sorted(["002_a.sql", "2_a.sql"], key=natural_sort_key) == \
        sorted(["2_a.sql", "002_a.sql"], key=natural_sort_key)


def _revision(revision, *down):
    return AlembicRevision(revision=revision, down_revisions=list(down), events=[])


def _paths(ordered):
    return [path for path, _ in ordered]


def test_alembic_follows_the_graph_not_the_file_names():
    revisions = [
        ("versions/a_add_index.py", _revision("c3", "b2")),
        ("versions/z_init.py", _revision("a1")),
        ("versions/m_add_column.py", _revision("b2", "a1")),
    ]
    random.Random(7).shuffle(revisions)
    assert _paths(order_alembic(revisions)) == ["versions/z_init.py", "versions/m_add_column.py",
                                                "versions/a_add_index.py"]


def test_alembic_branch_and_merge():
    revisions = [
        ("versions/5_merge.py", _revision("merge", "left", "right")),
        ("versions/4_right.py", _revision("right", "base")),
        ("versions/3_left.py", _revision("left", "base")),
        ("versions/1_base.py", _revision("base")),
        ("versions/6_after.py", _revision("after", "merge")),
    ]
    ordered = _paths(order_alembic(revisions))
    # Both branches after their parent (ties by path), the merge after both.
    assert ordered == ["versions/1_base.py", "versions/3_left.py", "versions/4_right.py", "versions/5_merge.py",
                       "versions/6_after.py"]
    assert _paths(order_alembic(list(reversed(revisions)))) == ordered


def test_alembic_branch_ties_break_by_natural_path_order():
    revisions = [
        ("versions/10_b.py", _revision("b", "root")),
        ("versions/2_a.py", _revision("a", "root")),
        ("versions/1_root.py", _revision("root")),
    ]
    assert _paths(order_alembic(revisions)) == ["versions/1_root.py", "versions/2_a.py", "versions/10_b.py"]


def test_alembic_missing_parent_and_cycle_do_not_crash():
    revisions = [
        ("versions/1_orphan.py", _revision("orphan", "gone")),
        ("versions/2_x.py", _revision("x", "y")),
        ("versions/3_y.py", _revision("y", "x")),
        ("versions/4_child.py", _revision("child", "orphan")),
    ]
    warnings: list[Note] = []
    ordered = _paths(order_alembic(revisions, warnings))
    assert ordered == ["versions/1_orphan.py", "versions/4_child.py", "versions/2_x.py", "versions/3_y.py"]
    assert any("gone" in w.text for w in warnings)
    assert any("cycle" in w.text and "versions/2_x.py" in w.text for w in warnings)


def test_alembic_duplicate_revision_is_reported_and_kept():
    revisions = [("versions/a.py", _revision("r1")), ("versions/b.py", _revision("r1")),
                 ("versions/c.py", _revision("r2", "r1"))]
    warnings: list[Note] = []
    assert _paths(order_alembic(revisions, warnings)) == ["versions/a.py", "versions/b.py", "versions/c.py"]
    assert any("more than once" in w.text for w in warnings)


def test_alembic_empty():
    assert order_alembic([]) == []


# --- applying DDL ------------------------------------------------------------------


def test_created_table_columns_and_types():
    schema = replay_sql({"m/1.sql": "CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text);"})
    assert schema.has_column("agents", None, "clerk_org_id") is True
    assert schema.has_column("agents", "public", "clerk_org_id") is True
    assert schema.has_column("agents", None, "client_id") is False
    assert schema.has_column("calls", None, "clerk_org_id") is None  # no migration creates calls
    assert schema.table("calls") is None
    state = schema.table("agents")
    assert state.columns == {"id": "UUID", "clerk_org_id": "TEXT"}
    assert str(state.created_at) == "m/1.sql:1"


def test_table_altered_but_never_created_is_only_partially_known():
    schema = replay_sql({"m/1.sql": "ALTER TABLE agents ADD COLUMN clerk_org_id text;\n"
                                    "ALTER TABLE agents DROP COLUMN client_id;"})
    assert schema.table("agents") is None
    assert schema.known_table("agents").columns == {"clerk_org_id": "TEXT"}
    assert schema.has_column("agents", None, "clerk_org_id") is True
    assert schema.has_column("agents", None, "client_id") is False
    assert schema.has_column("agents", None, "name") is None
    assert schema.tables() == []


def test_create_table_if_not_exists_keeps_the_first_definition():
    schema = replay_sql({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);",
        "m/2.sql": "CREATE TABLE IF NOT EXISTS agents (id uuid);",
    })
    assert schema.has_column("agents", None, "clerk_org_id") is True
    assert str(schema.table("agents").created_at) == "m/1.sql:1"


def test_add_column_if_not_exists_on_an_existing_column_is_a_no_op():
    schema = replay_sql({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);",
        "m/2.sql": "ALTER TABLE agents ADD COLUMN IF NOT EXISTS clerk_org_id uuid;",
    })
    assert schema.table("agents").columns["clerk_org_id"] == "TEXT"
    assert str(schema.table("agents").column_added_at["clerk_org_id"]) == "m/1.sql:1"


def test_create_index_if_not_exists_on_an_existing_name_is_a_no_op():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (id);
        CREATE INDEX IF NOT EXISTS idx_agents_clerk_org_id ON agents (clerk_org_id);
    """})
    assert schema.index("idx_agents_clerk_org_id").columns == ["id"]
    assert schema.warnings == []


def test_index_names_are_global_per_schema():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE TABLE calls (id uuid, clerk_org_id text);
        CREATE TABLE archive.calls (id uuid, clerk_org_id text);
        CREATE INDEX idx_org ON agents (clerk_org_id);
        CREATE INDEX idx_org ON calls (clerk_org_id);
        CREATE INDEX idx_org ON archive.calls (clerk_org_id);
    """})
    assert schema.index("idx_org").table == "agents"
    assert schema.table("calls").indexes == {}  # PostgreSQL rejects the second idx_org
    assert any("index idx_org: a relation of that name already exists" in str(r) for r in schema.refusals)
    assert schema.index("idx_org", "archive").table == "calls"


def test_unnamed_indexes_get_postgres_names_that_drop_index_finds():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX ON agents (clerk_org_id);
        CREATE INDEX ON agents (clerk_org_id);
        CREATE INDEX ON agents (lower(clerk_org_id));
        CREATE INDEX ON agents ((clerk_org_id || 'x'), clerk_org_id, clerk_org_id);
        DROP INDEX agents_clerk_org_id_idx;
    """})
    assert set(schema.table("agents").indexes) == {
        "agents_clerk_org_id_idx1", "agents_lower_idx", "agents_expr_clerk_org_id_clerk_org_id1_idx"}


def test_unnamed_constraints_get_postgres_names_numbered_when_taken():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text UNIQUE);
        ALTER TABLE calls RENAME TO calls_old;
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text UNIQUE);
        ALTER TABLE calls ADD UNIQUE (clerk_org_id);
    """})
    # calls_old keeps calls_pkey and calls_clerk_org_id_key.
    assert set(schema.table("calls_old").indexes) == {"calls_pkey", "calls_clerk_org_id_key"}
    assert set(schema.table("calls").indexes) == {"calls_pkey1", "calls_clerk_org_id_key1", "calls_clerk_org_id_key2"}


def test_generated_names_avoid_table_names_too():
    schema = replay_sql({"m/1.sql": "CREATE TABLE agents_pkey (id int);\n"
                                    "CREATE TABLE agents (id uuid PRIMARY KEY);"})
    assert list(schema.table("agents").indexes) == ["agents_pkey1"]


def test_long_generated_names_are_cut_like_postgres():
    table = "t" * 40
    schema = replay_sql({"m/1.sql": f"CREATE TABLE {table} ({'c' * 40} text);\n"
                                    f"CREATE INDEX ON {table} ({'c' * 40});"})
    [name] = schema.table(table).indexes
    assert name == "t" * 29 + "_" + "c" * 29 + "_idx" and len(name) == 63


def test_rename_table_moves_columns_and_indexes():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agent_tools (id uuid, clerk_org_id text);
        CREATE INDEX idx_tools_org ON agent_tools (clerk_org_id);
        ALTER TABLE agent_tools RENAME TO tools;
        DROP INDEX idx_tools_org;
        CREATE INDEX idx_tools_org2 ON tools (clerk_org_id);
    """})
    assert schema.table("agent_tools") is None
    tools = schema.table("tools")
    assert tools.columns == {"id": "UUID", "clerk_org_id": "TEXT"}
    assert list(tools.indexes) == ["idx_tools_org2"]
    assert [(i.name, i.table, str(i.dropped_at)) for i in tools.dropped_indexes] == [
        ("idx_tools_org", "tools", "m/1.sql:4")]
    assert str(tools.created_at) == "m/1.sql:1" and str(tools.renamed_at) == "m/1.sql:3"


def test_rename_onto_an_existing_table_changes_nothing():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE TABLE tools (id uuid, clerk_org_id text);
        CREATE INDEX idx_tools_clerk_org_id ON tools (clerk_org_id);
        ALTER TABLE tools RENAME TO agents;
    """})
    assert set(schema.table("tools").indexes) == {"idx_tools_clerk_org_id"}
    assert schema.table("agents").indexes == {} and index_lost_at(schema.table("agents"), MODEL) is None
    assert schema.table("tools").renamed_at is None


def test_rename_column_renames_it_inside_indexes():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE calls (id uuid, org_id text, started_at timestamptz);
        CREATE INDEX idx_calls_org ON calls (org_id, started_at);
        ALTER TABLE calls RENAME COLUMN org_id TO clerk_org_id;
    """})
    calls = schema.table("calls")
    assert list(calls.columns) == ["id", "clerk_org_id", "started_at"]
    assert calls.columns["clerk_org_id"] == "TEXT"
    assert calls.indexes["idx_calls_org"].columns == ["clerk_org_id", "started_at"]
    assert str(calls.column_added_at["clerk_org_id"]) == "m/1.sql:3"
    assert str(calls.column_dropped_at["org_id"]) == "m/1.sql:3"


def test_drop_column_drops_indexes_that_use_it_in_an_expression_include_or_where():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text, name text, status text, deleted_at date);
        CREATE INDEX idx_expr ON agents (clerk_org_id, lower(name));
        CREATE INDEX idx_include ON ONLY agents (clerk_org_id) INCLUDE (status);
        CREATE INDEX idx_where ON agents (clerk_org_id, id) WHERE deleted_at IS NULL;
        CREATE INDEX idx_plain ON agents (clerk_org_id);
        ALTER TABLE agents DROP COLUMN name;
        ALTER TABLE agents DROP COLUMN status;
        ALTER TABLE agents RENAME COLUMN deleted_at TO removed_at;
        ALTER TABLE agents DROP COLUMN removed_at;
    """})
    assert list(schema.table("agents").indexes) == ["idx_plain"]
    assert [(i.name, i.dropped_at.span.line) for i in schema.table("agents").dropped_indexes] == [
        ("idx_expr", 6), ("idx_include", 7), ("idx_where", 9)]


def test_drop_column_drops_every_index_that_uses_it():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text, name text, UNIQUE (name, clerk_org_id));
        CREATE INDEX idx_org ON agents (clerk_org_id);
        CREATE INDEX idx_name ON agents (name);
        ALTER TABLE agents DROP COLUMN clerk_org_id;
    """})
    agents = schema.table("agents")
    assert set(agents.indexes) == {"agents_pkey", "idx_name"}
    assert {i.name for i in agents.dropped_indexes} == {"idx_org", "agents_name_clerk_org_id_key"}
    assert str(agents.column_dropped_at["clerk_org_id"]) == "m/1.sql:4"
    assert schema.index("idx_org") is None


def test_drop_table_drops_its_indexes_and_frees_their_names():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX idx_org ON agents (clerk_org_id);
        DROP TABLE IF EXISTS agents CASCADE;
        ALTER TABLE agents ADD COLUMN late text;
        CREATE TABLE calls (id uuid, clerk_org_id text);
        CREATE INDEX idx_org ON calls (clerk_org_id);
    """})
    assert schema.table("agents") is None and schema.known_table("agents") is None
    assert str(schema.table_dropped_at("agents")) == "m/1.sql:3"
    assert schema.index("idx_org").table == "calls"
    assert schema.warnings == []


def test_table_created_again_after_a_drop_starts_afresh():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        DROP TABLE agents;
        CREATE TABLE agents (id uuid);
    """})
    assert schema.table("agents").columns == {"id": "UUID"}
    assert schema.table_dropped_at("agents") is None


def test_alter_index_rename_then_drop_by_the_new_name():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX idx_old ON agents (clerk_org_id);
        ALTER INDEX idx_old RENAME TO idx_agents_clerk_org_id;
    """})
    assert list(schema.table("agents").indexes) == ["idx_agents_clerk_org_id"]
    assert schema.index("idx_old") is None


def test_drop_constraint_drops_the_constraint_index():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text, UNIQUE (clerk_org_id, id));
        ALTER TABLE agents DROP CONSTRAINT agents_clerk_org_id_id_key;
    """})
    assert list(schema.table("agents").indexes) == ["agents_pkey"]


def test_alter_column_type_changes_the_type_and_remembers_where():
    schema = replay_sql({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id uuid);",
        "m/2.sql": "\n\nALTER TABLE agents ALTER COLUMN clerk_org_id TYPE text USING clerk_org_id::text;",
    })
    agents = schema.table("agents")
    assert agents.columns["clerk_org_id"] == "TEXT"
    assert str(agents.column_typed_at["clerk_org_id"]) == "m/2.sql:3"


def test_events_on_a_table_with_a_schema_stay_in_that_schema():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE archive.agents (id uuid);
        ALTER TABLE archive.agents ADD COLUMN clerk_org_id text;
        CREATE INDEX idx_org ON archive.agents (clerk_org_id);
    """})
    assert schema.table("agents") is None
    assert schema.has_column("agents", "archive", "clerk_org_id") is True
    assert schema.index("idx_org", "archive") is not None and schema.index("idx_org") is None


def test_replay_applies_events_from_other_front_ends():
    # An Alembic revision produces the same events, with its own spans.
    span = Span(3, 5, 3, 17)
    index = IndexDef(name="ix_agents_org", table="agents", columns=["clerk_org_id"], span=span)
    schema = replay([("versions/1.py", [AddColumn(table="agents", column="clerk_org_id", type="TEXT", span=span),
                                        CreateIndex(index)])])
    assert schema.known_table("agents").indexes["ix_agents_org"].created_at.path == "versions/1.py"


# --- the org index and its history -------------------------------------------------


def test_the_drop_that_removed_the_last_usable_index_is_remembered():
    schema = replay_sql({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n"
                   "CREATE INDEX idx_a ON agents (clerk_org_id);\n"
                   "CREATE INDEX idx_b ON agents (clerk_org_id, id);",
        "m/2.sql": "DROP INDEX idx_a;",
        "m/3.sql": "\nDROP INDEX idx_b;",
    })
    agents = schema.table("agents")
    assert usable_org_index(agents, MODEL) is None
    assert str(index_lost_at(agents, MODEL)[0]) == "m/3.sql:2"
    assert why_no_org_index(agents, MODEL) == "idx_b was dropped at m/3.sql:2"


def test_an_index_created_again_clears_the_loss():
    schema = replay_sql({
        "m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n"
                   "CREATE INDEX idx_a ON agents (clerk_org_id);",
        "m/2.sql": "DROP INDEX idx_a;",
        "m/3.sql": "CREATE INDEX idx_a ON agents (clerk_org_id);",
    })
    agents = schema.table("agents")
    assert usable_org_index(agents, MODEL).name == "idx_a"
    assert index_lost_at(agents, MODEL) is None


@pytest.mark.parametrize(
    "index_sql, reason",
    [
        ("", "no index"),
        ("CREATE INDEX idx_p ON agents (clerk_org_id) WHERE id IS NOT NULL;", "only a partial index: idx_p"),
        ("CREATE INDEX idx_e ON agents (lower(clerk_org_id));", "only an expression index: idx_e"),
        ("CREATE INDEX idx_n ON agents (id, clerk_org_id);", "idx_n has clerk_org_id but not as its first column"),
    ],
)
def test_why_there_is_no_usable_index(index_sql, reason):
    schema = replay_sql({"m/1.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n" + index_sql})
    agents = schema.table("agents")
    assert usable_org_index(agents, MODEL) is None
    assert why_no_org_index(agents, MODEL) == reason


def test_why_lists_the_drop_and_what_is_left():
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE campaigns (id uuid, clerk_org_id text, status text, archived_at date);
        CREATE INDEX idx_campaigns_clerk_org_id ON campaigns (clerk_org_id);
        CREATE INDEX idx_campaigns_active ON campaigns (clerk_org_id, status) WHERE archived_at IS NULL;
        DROP INDEX idx_campaigns_clerk_org_id;
    """})
    assert why_no_org_index(schema.table("campaigns"), MODEL) == (
        "idx_campaigns_clerk_org_id was dropped at m/1.sql:4; only a partial index: idx_campaigns_active")


def test_required_index_name_and_a_rename_that_breaks_it():
    strict = replace(MODEL, require_index_name=True)
    schema = replay_sql({"m/1.sql": """\
        CREATE TABLE agents (id uuid, clerk_org_id text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        ALTER INDEX idx_agents_clerk_org_id RENAME TO agents_org;
    """}, strict)
    agents = schema.table("agents")
    assert usable_org_index(agents, MODEL).name == "agents_org"
    assert usable_org_index(agents, strict) is None
    assert index_lost_at(agents, strict)[0].span.line == 3
    assert index_lost_at(agents, MODEL) is None


# --- orgscope schema ---------------------------------------------------------------


DEMO = {
    "db/migrations/001_init.sql": """\
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id uuid);
        CREATE INDEX idx_calls_org ON calls (clerk_org_id) WHERE id IS NOT NULL;
        CREATE TABLE voices (id uuid PRIMARY KEY);
        CREATE TABLE tools (id uuid PRIMARY KEY, clerk_org_id text, UNIQUE (clerk_org_id, id));
        CREATE TABLE campaigns (id uuid, clerk_org_id text);
        CREATE TABLE contacts (id uuid, clerk_org_id text);
        CREATE INDEX idx_contacts_clerk_org_id ON contacts (clerk_org_id);
    """,
    "db/migrations/002_more.sql": """\
        DROP TABLE campaigns;
        DROP INDEX idx_contacts_clerk_org_id;
        ALTER TABLE knowledge_bases ADD COLUMN clerk_org_id text;
    """,
}


def test_describe_reports_each_org_table():
    rows = {row["table"]: row for row in describe(replay_sql(DEMO), MODEL)}
    assert set(rows) == {t for _, t in MODEL.org_tables}
    agents = rows["agents"]
    assert (agents["status"], agents["exists"], agents["created_at"]) == ("ok", True, "db/migrations/001_init.sql:1")
    assert agents["org_column"]["type"] == "TEXT" and agents["org_column"]["type_ok"] is True
    assert agents["index"]["name"] == "idx_agents_clerk_org_id"
    assert agents["index"]["created_at"] == "db/migrations/001_init.sql:2"
    assert rows["calls"]["status"] == "missing-index"
    assert rows["calls"]["org_column"]["type_ok"] is False
    assert rows["calls"]["index_problem"] == "only a partial index: idx_calls_org"
    assert rows["voices"]["status"] == "missing-column"
    assert rows["tools"]["index"]["name"] == "tools_clerk_org_id_id_key"
    assert (rows["campaigns"]["status"], rows["campaigns"]["dropped_at"]) == ("dropped", "db/migrations/002_more.sql:1")
    assert rows["contacts"]["index_problem"] == "idx_contacts_clerk_org_id was dropped at db/migrations/002_more.sql:2"
    assert (rows["knowledge_bases"]["status"], rows["knowledge_bases"]["exists"]) == ("unknown", None)
    assert rows["knowledge_bases"]["org_column"]["added_at"] == "db/migrations/002_more.sql:3"
    assert rows["webhook_endpoints"]["status"] == "unknown"


def test_render_schema_text_says_where_and_why():
    text = render_schema_text(replay_sql(DEMO), MODEL)
    lines = text.splitlines()
    block = {line.split()[0]: i for i, line in enumerate(lines) if line and not line.startswith(" ")}
    assert "created at db/migrations/001_init.sql:1" in lines[block["agents"]]
    assert lines[block["agents"] + 2] == (
        "  index: idx_agents_clerk_org_id (clerk_org_id), created at db/migrations/001_init.sql:2")
    assert "  clerk_org_id: UUID (expected TEXT), added at db/migrations/001_init.sql:3" in text
    assert "  index: none usable (only a partial index: idx_calls_org)" in text
    assert "  clerk_org_id: missing" in text
    assert "dropped at db/migrations/002_more.sql:1" in lines[block["campaigns"]]
    assert "unknown (never created by any migration)" in lines[block["webhook_endpoints"]]
    assert "  index: none usable (idx_contacts_clerk_org_id was dropped at db/migrations/002_more.sql:2)" in text


def test_render_schema_text_with_no_migrations_lists_every_table_as_unknown():
    text = render_schema_text(replay([]), MODEL)
    assert text.count("unknown (never created by any migration)") == len(MODEL.org_tables)

"""DDL statements -> schema events (SPEC section 5): every form the replay
follows, the fallbacks for what sqlglot cannot parse, and the exact token each
event points at."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgscope.facts import (
    AddColumn,
    AlterColumnType,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    DropTable,
    RenameColumn,
    RenameIndex,
    RenameTable,
    Span,
)
from orgscope.model import default_pack_path, load_pack
from orgscope.positions import LineIndex
from orgscope.postgres import constraint_index_name, normalise_type
from orgscope.sql.ddl import schema_events
from orgscope.sql.split import split_statements

MODEL = load_pack(default_pack_path())


def read(sql: str):
    """(events, problems) of every statement of `sql`."""
    sql = textwrap.dedent(sql)
    positions = LineIndex(sql)
    events, problems = [], []
    for stmt in split_statements(sql):
        found, trouble = schema_events(stmt, positions, model=MODEL)
        events.extend(found)
        problems.extend(trouble)
    return events, problems


def events_of(sql: str):
    events, problems = read(sql)
    assert problems == []
    return events


def covered(sql: str, span: Span) -> str:
    """The text a span covers (spans of one token stay on one line)."""
    line = textwrap.dedent(sql).split("\n")[span.line - 1]
    assert span.end_line == span.line
    return line[span.column - 1:span.end_column - 1]


# --- CREATE TABLE -----------------------------------------------------------------


def test_create_table_columns_types_and_spans():
    sql = """\
        CREATE TABLE agents (
            id uuid PRIMARY KEY,
            clerk_org_id text NOT NULL,
            name varchar( 64 ) NOT NULL DEFAULT '',
            kind character varying,
            started timestamp with time zone DEFAULT now(),
            price numeric(10, 2),
            tags text[],
            quoted "text" COLLATE "C"
        );
    """
    [event] = events_of(sql)
    assert isinstance(event, CreateTable)
    assert (event.schema, event.table, event.if_not_exists) == (None, "agents", False)
    assert covered(sql, event.span) == "agents"
    assert event.columns == {
        "id": "UUID",
        "clerk_org_id": "TEXT",
        "name": "VARCHAR(64)",
        "kind": "VARCHAR",
        "started": "TIMESTAMPTZ",
        "price": "NUMERIC(10,2)",
        "tags": "TEXT[]",
        "quoted": "TEXT",
    }
    assert covered(sql, event.column_spans["clerk_org_id"]) == "clerk_org_id"
    assert event.column_spans["clerk_org_id"].line == 3


def test_create_table_if_not_exists():
    [event] = events_of("CREATE TABLE IF NOT EXISTS agents (id uuid);")
    assert event.if_not_exists is True


def test_primary_key_and_unique_constraints_create_indexes():
    sql = """\
        CREATE TABLE campaigns (
            id uuid PRIMARY KEY,
            clerk_org_id text NOT NULL,
            slug text UNIQUE,
            name text NOT NULL,
            UNIQUE (clerk_org_id, name),
            CONSTRAINT campaigns_org_slug UNIQUE (clerk_org_id, slug),
            FOREIGN KEY (id) REFERENCES other (id),
            CHECK (name <> '')
        );
    """
    [event] = events_of(sql)
    # Unnamed constraints are named by the replay, the way PostgreSQL does.
    assert [(i.name, i.kind, i.columns) for i in event.indexes] == [
        (None, "primary", ["id"]),  # the implicit PK index leads with id
        (None, "unique", ["slug"]),
        (None, "unique", ["clerk_org_id", "name"]),
        ("campaigns_org_slug", "unique", ["clerk_org_id", "slug"]),
    ]
    primary, slug, _, named = event.indexes
    assert covered(sql, primary.span) == "id" and covered(sql, slug.span) == "slug"
    assert covered(sql, named.span) == "campaigns_org_slug"
    assert all(index.unique and not index.partial for index in event.indexes)


def test_create_table_keeps_one_index_for_identical_constraints_and_the_primary_key_first():
    [event] = events_of("CREATE TABLE voices (clerk_org_id text UNIQUE, id uuid, CONSTRAINT org_u UNIQUE "
                        "(clerk_org_id), CONSTRAINT voices_pk PRIMARY KEY (id), UNIQUE (id));")
    assert [(i.name, i.kind, i.columns) for i in event.indexes] == [
        ("voices_pk", "primary", ["id"]),
        ("org_u", "unique", ["clerk_org_id"]),
    ]


def test_named_inline_and_table_primary_key():
    [event] = events_of("CREATE TABLE tools (id uuid CONSTRAINT tools_pk PRIMARY KEY, clerk_org_id text,"
                        " CONSTRAINT tools_org_pk2 PRIMARY KEY (clerk_org_id, id));")
    assert [(i.name, i.columns) for i in event.indexes] == [
        ("tools_pk", ["id"]),
        ("tools_org_pk2", ["clerk_org_id", "id"]),
    ]


@pytest.mark.parametrize(
    "name, schema, table",
    [
        ("agents", None, "agents"),
        ("AGENTS", None, "agents"),
        ('"agents"', None, "agents"),
        ('"Agents"', None, "Agents"),
        ("public.agents", None, "agents"),
        ('public."Agents"', None, "Agents"),
        ("archive.agents", "archive", "agents"),
        ('"Archive".agents', "Archive", "agents"),
    ],
)
def test_identifiers_are_normalised_like_postgres(name, schema, table):
    sql = f"CREATE TABLE {name} (Clerk_Org_Id text, \"Mixed\" text);"
    [event] = events_of(sql)
    assert (event.schema, event.table) == (schema, table)
    assert set(event.columns) == {"clerk_org_id", "Mixed"}
    assert covered(sql, event.span) == name


def test_temporary_table_is_not_part_of_the_schema():
    assert read("CREATE TEMP TABLE agents (id int); CREATE TEMPORARY TABLE calls (id int);") == ([], [])


def test_create_table_as_on_an_org_table_is_a_problem_not_an_empty_table():
    events, problems = read("CREATE TABLE agents AS SELECT * FROM legacy_agents;")
    assert events == []
    [problem] = problems
    assert problem.table == "agents" and "not visible" in problem.message


def test_create_table_as_on_another_table_is_silent():
    assert read("CREATE TABLE agents_backup AS SELECT * FROM agents;") == ([], [])


def test_create_table_like_on_an_org_table_is_a_problem():
    events, problems = read("CREATE TABLE agents (LIKE agent_template INCLUDING ALL);")
    assert events == [] and [p.table for p in problems] == ["agents"]


def test_partition_of_gives_no_table_of_its_own():
    assert read("CREATE TABLE calls_2024 PARTITION OF calls FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');") \
        == ([], [])


def test_create_table_that_sqlglot_rejects_is_read_element_by_element():
    sql = """\
        CREATE TABLE agents (
            id uuid PRIMARY KEY,
            clerk_org_id text COMPRESSION pglz,
            name varchar(20) STORAGE EXTERNAL,
            CONSTRAINT agents_org_name UNIQUE (clerk_org_id, name),
            CONSTRAINT positive CHECK (length(name) > 0) NO INHERIT
        );
    """
    [event] = events_of(sql)
    assert event.columns == {"id": "UUID", "clerk_org_id": "TEXT", "name": "VARCHAR(20)"}
    assert covered(sql, event.column_spans["clerk_org_id"]) == "clerk_org_id"
    assert [(i.name, i.kind, i.columns) for i in event.indexes] == [
        (None, "primary", ["id"]),
        ("agents_org_name", "unique", ["clerk_org_id", "name"]),
    ]


def test_create_table_with_options_sqlglot_turns_into_a_command():
    [event] = events_of("CREATE TABLE voices (id int, clerk_org_id text) INHERITS (base) TABLESPACE fast;")
    assert event.table == "voices" and set(event.columns) == {"id", "clerk_org_id"}


# --- ALTER TABLE --------------------------------------------------------------------


def test_alter_table_with_several_actions():
    sql = ("ALTER TABLE IF EXISTS ONLY public.agents ADD COLUMN IF NOT EXISTS clerk_org_id text, "
           "DROP COLUMN client_id, ALTER COLUMN kind TYPE varchar(5), ALTER COLUMN n SET DATA TYPE int4;")
    add, drop, retype, retype2 = events_of(sql)
    assert add == AddColumn(table="agents", column="clerk_org_id", type="TEXT", span=add.span)
    assert covered(sql, add.span) == "clerk_org_id"
    assert isinstance(drop, DropColumn) and drop.column == "client_id"
    assert covered(sql, drop.span) == "client_id"
    assert (retype.column, retype.type) == ("kind", "VARCHAR(5)")
    assert isinstance(retype2, AlterColumnType) and (retype2.column, retype2.type) == ("n", "INTEGER")


def test_add_and_drop_without_the_column_keyword():
    sql = "ALTER TABLE agents ADD clerk_org_id TEXT; ALTER TABLE calls DROP clerk_org_id CASCADE;"
    add, drop = events_of(sql)
    assert (type(add), add.table, add.column, add.type) == (AddColumn, "agents", "clerk_org_id", "TEXT")
    assert (type(drop), drop.table, drop.column) == (DropColumn, "calls", "clerk_org_id")


def test_add_column_with_inline_unique_creates_its_index():
    add, index = events_of("ALTER TABLE agents ADD COLUMN clerk_org_id text NOT NULL UNIQUE;")
    assert isinstance(add, AddColumn)
    assert isinstance(index, CreateIndex)
    assert (index.index.name, index.index.kind, index.index.columns, index.index.unique) == (
        None, "unique", ["clerk_org_id"], True)


def test_alter_column_type_using_keeps_only_the_type():
    [event] = events_of("ALTER TABLE agents ALTER clerk_org_id TYPE uuid USING clerk_org_id::uuid;")
    assert (event.column, event.type) == ("clerk_org_id", "UUID")


@pytest.mark.parametrize("keyword", ["RENAME COLUMN", "RENAME"])
def test_rename_column_with_or_without_the_column_keyword(keyword):
    # sqlglot reads `RENAME org_id TO ...` as a table rename; orgscope does not.
    sql = f"ALTER TABLE calls {keyword} org_id TO clerk_org_id;"
    [event] = events_of(sql)
    assert event == RenameColumn(table="calls", old="org_id", new="clerk_org_id", span=event.span)
    assert covered(sql, event.span) == "clerk_org_id"


def test_rename_table():
    sql = "ALTER TABLE IF EXISTS agent_tools RENAME TO tools;"
    [event] = events_of(sql)
    assert event == RenameTable(table="agent_tools", new="tools", span=event.span)
    assert covered(sql, event.span) == "tools"


def test_add_constraint_unique_and_primary_key():
    sql = ("ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_org_url UNIQUE (clerk_org_id, url);\n"
           "ALTER TABLE ONLY contacts ADD PRIMARY KEY (clerk_org_id, id);")
    named, unnamed = events_of(sql)
    assert (named.index.name, named.index.table, named.index.columns) == (
        "webhook_org_url", "webhook_endpoints", ["clerk_org_id", "url"])
    assert covered(sql, named.index.span) == "webhook_org_url"
    assert (unnamed.index.name, unnamed.index.kind, unnamed.index.columns) == (
        None, "primary", ["clerk_org_id", "id"])
    assert covered(sql, unnamed.index.span) == "contacts"


def test_foreign_key_and_check_constraints_create_no_index():
    assert events_of("ALTER TABLE calls ADD CONSTRAINT fk FOREIGN KEY (agent_id) REFERENCES agents (id), "
                     "ADD CONSTRAINT ck CHECK (duration > 0);") == []


def test_drop_constraint_drops_its_index():
    [event] = events_of("ALTER TABLE archive.agents DROP CONSTRAINT IF EXISTS agents_org_key;")
    assert event.names == ["archive.agents_org_key"]


def test_alter_table_sqlglot_cannot_parse_is_read_action_by_action():
    sql = ("ALTER TABLE agents ADD COLUMN clerk_org_id text, ENABLE ROW LEVEL SECURITY, "
           "ADD CONSTRAINT agents_org_key UNIQUE USING INDEX idx_agents_org, DROP CONSTRAINT old_key, "
           "ALTER COLUMN name TYPE varchar(9) USING name::varchar(9), OWNER TO app;")
    rls, add, rename_index, drop_constraint, retype = events_of(sql)
    assert (rls.table, rls.action) == ("agents", "enable")
    assert covered(sql, rls.span) == "ENABLE ROW LEVEL SECURITY"
    assert (add.column, add.type) == ("clerk_org_id", "TEXT")
    assert covered(sql, add.span) == "clerk_org_id"
    # UNIQUE USING INDEX turns the index into the constraint's, under the constraint's name.
    assert rename_index == RenameIndex(old="idx_agents_org", new="agents_org_key", span=rename_index.span)
    assert drop_constraint.names == ["old_key"]
    assert (retype.column, retype.type) == ("name", "VARCHAR(9)")


def test_actions_that_change_nothing_tracked_give_nothing_and_no_problem():
    assert read("ALTER TABLE agents ALTER COLUMN clerk_org_id SET NOT NULL;\n"
                "ALTER TABLE agents OWNER TO app;") == ([], [])


def test_unreadable_alter_on_an_org_table_is_a_problem():
    sql = "ALTER TABLE agents FROBNICATE clerk_org_id;"
    events, [problem] = read(sql)
    assert events == []
    assert problem.table == "agents" and covered(sql, problem.span) == "agents"
    assert problem.statement_line == 1


def test_unreadable_alter_on_another_table_is_silent():
    assert read("ALTER TABLE users FROBNICATE;") == ([], [])


def test_rename_constraint_renames_its_index():
    [event] = events_of("ALTER TABLE agents RENAME CONSTRAINT agents_org_key TO agents_clerk_org_key;")
    assert (event.old, event.new) == ("agents_org_key", "agents_clerk_org_key")


# --- CREATE INDEX ---------------------------------------------------------------------


def test_create_index_with_every_option():
    sql = ("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS idx_calls_org ON public.calls USING btree "
           "(clerk_org_id, started_at DESC NULLS LAST) INCLUDE (status);")
    [event] = events_of(sql)
    index = event.index
    assert (index.name, index.schema, index.table) == ("idx_calls_org", None, "calls")
    assert index.columns == ["clerk_org_id", "started_at"]  # INCLUDE columns are not keys
    assert (index.unique, index.partial, index.if_not_exists) == (True, False, True)
    assert covered(sql, index.span) == "idx_calls_org"


def test_partial_index_is_marked_partial():
    [event] = events_of("CREATE INDEX i ON calls (clerk_org_id) WHERE deleted_at IS NULL;")
    assert event.index.partial is True and event.index.columns == ["clerk_org_id"]


def test_unnamed_index_points_at_its_table():
    sql = "CREATE INDEX ON archive.calls (clerk_org_id);"
    [event] = events_of(sql)
    assert (event.index.name, event.index.schema) == (None, "archive")
    assert covered(sql, event.index.span) == "archive.calls"


@pytest.mark.parametrize(
    "keys, columns",
    [
        ("lower(clerk_org_id)", [None]),
        ("(clerk_org_id || '')", [None]),
        ("(clerk_org_id)", ["clerk_org_id"]),  # PostgreSQL treats (col) as the column
        ("clerk_org_id text_pattern_ops", ["clerk_org_id"]),
        ('clerk_org_id COLLATE "C" DESC', ["clerk_org_id"]),
        ('"Clerk_Org_Id"', ["Clerk_Org_Id"]),
        ("created_at, clerk_org_id", ["created_at", "clerk_org_id"]),
        ("lower(name), clerk_org_id", [None, "clerk_org_id"]),
    ],
)
def test_index_keys_columns_and_expressions(keys, columns):
    [event] = events_of(f"CREATE INDEX i ON agents ({keys});")
    assert event.index.columns == columns


@pytest.mark.parametrize(
    "keys, key_names",
    [
        ("clerk_org_id, clerk_org_id DESC", ["clerk_org_id", "clerk_org_id"]),
        ("lower(name)", ["lower"]),
        ("public.f(name)", ["f"]),
        ("(lower(name))", ["lower"]),
        ("(name || 'x')", ["expr"]),
        ("(lower(name) || 'x')", ["expr"]),
        ("((name))", ["name"]),
        ("(name::text)", ["name"]),
        ("((name || 'x')::varchar)", ["varchar"]),
        ("(CASE WHEN a THEN 1 END)", ["case"]),
        ("coalesce(a, b), name text_pattern_ops", ["coalesce", "name"]),
    ],
)
@pytest.mark.parametrize("only", ["", "ONLY "])
def test_index_key_names_for_unnamed_indexes(keys, key_names, only):
    # What PostgreSQL names an unnamed index after; the same from tokens (ON ONLY).
    [event] = events_of(f"CREATE INDEX ON {only}agents ({keys});")
    assert event.index.key_names == key_names


@pytest.mark.parametrize("only", ["", "ONLY "])
def test_index_records_every_column_it_depends_on(only):
    [event] = events_of(f"CREATE INDEX i ON {only}agents (clerk_org_id, lower(name), (a || b::text)) "
                        "INCLUDE (status) WHERE deleted_at IS NULL AND kind = 'x';")
    assert set(event.index.uses) == {"clerk_org_id", "name", "a", "b", "status", "deleted_at", "kind"}


@pytest.mark.parametrize("only", ["ONLY ", ""])
def test_index_forms_sqlglot_rejects_are_read_from_tokens(only):
    # `ON ONLY t` and `NULLS NOT DISTINCT` make sqlglot fail or give up.
    sql = f"CREATE UNIQUE INDEX IF NOT EXISTS idx_a ON {only}agents USING btree (clerk_org_id, lower(name)) " \
          "NULLS NOT DISTINCT WHERE archived = false;"
    [event] = events_of(sql)
    index = event.index
    assert (index.name, index.table, index.columns) == ("idx_a", "agents", ["clerk_org_id", None])
    assert (index.unique, index.partial, index.if_not_exists) == (True, True, True)
    assert covered(sql, index.span) == "idx_a"


def test_unnamed_index_on_only_points_at_its_table():
    sql = "CREATE INDEX ON ONLY calls ((clerk_org_id), created_at);"
    [event] = events_of(sql)
    assert (event.index.name, event.index.columns, event.index.partial) == (
        None, ["clerk_org_id", "created_at"], False)
    assert covered(sql, event.index.span) == "calls"


def test_index_without_columns_on_an_org_table_is_a_problem():
    events, [problem] = read("CREATE INDEX idx_agents ON agents;")
    assert events == [] and problem.table == "agents"


# --- DROP / ALTER INDEX, DROP TABLE --------------------------------------------------


def test_drop_index_with_several_names_gives_one_event_per_name():
    sql = "DROP INDEX CONCURRENTLY IF EXISTS idx_a, public.idx_b, archive.idx_c CASCADE;"
    events = events_of(sql)
    assert [e.names for e in events] == [["idx_a"], ["idx_b"], ["archive.idx_c"]]
    assert [covered(sql, e.span) for e in events] == ["idx_a", "public.idx_b", "archive.idx_c"]
    assert all(isinstance(e, DropIndex) for e in events)


def test_drop_index_quoted_name_keeps_its_case():
    [event] = events_of('DROP INDEX "Idx_Agents";')
    assert event.names == ["Idx_Agents"]


def test_alter_index_rename():
    sql = "ALTER INDEX IF EXISTS idx_old RENAME TO idx_agents_clerk_org_id;"
    [event] = events_of(sql)
    assert (event.old, event.new) == ("idx_old", "idx_agents_clerk_org_id")
    assert covered(sql, event.span) == "idx_agents_clerk_org_id"


def test_alter_index_other_actions_change_nothing():
    assert read("ALTER INDEX idx_a SET TABLESPACE fast;") == ([], [])


def test_drop_table_with_several_names():
    sql = "DROP TABLE IF EXISTS agents, archive.calls CASCADE;"
    first, second = events_of(sql)
    assert (first.schema, first.table, second.schema, second.table) == (None, "agents", "archive", "calls")
    assert isinstance(second, DropTable) and covered(sql, second.span) == "archive.calls"


# --- DO blocks -----------------------------------------------------------------------


def test_do_block_with_a_tag_applies_the_ddl_that_parses():
    sql = """\
        DO $migrate$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM information_schema.columns
                           WHERE table_name = 'agents' AND column_name = 'clerk_org_id') THEN
                ALTER TABLE agents ADD COLUMN clerk_org_id text;
            END IF;
            CREATE INDEX IF NOT EXISTS idx_agents_clerk_org_id ON agents (clerk_org_id);
            EXECUTE 'DROP INDEX IF EXISTS idx_agents_old';
        END
        $migrate$ LANGUAGE plpgsql;
    """
    add, create, drop = events_of(sql)
    assert isinstance(add, AddColumn) and covered(sql, add.span) == "clerk_org_id" and add.span.line == 5
    assert isinstance(create, CreateIndex) and covered(sql, create.index.span) == "idx_agents_clerk_org_id"
    assert isinstance(drop, DropIndex) and covered(sql, drop.span) == "idx_agents_old"


def test_do_block_with_language_first_and_plain_dollars():
    [event] = events_of("DO LANGUAGE plpgsql $$ BEGIN DROP INDEX idx_a; END $$;")
    assert event.names == ["idx_a"]


def test_do_block_with_dynamic_ddl_on_an_org_table_is_a_problem():
    sql = "DO $$ BEGIN EXECUTE format('ALTER TABLE %I ADD COLUMN clerk_org_id text', 'agents'); END $$;"
    events, [problem] = read(sql)
    assert events == [] and "DO block" in problem.message


def test_do_block_with_only_a_backfill_is_silent():
    assert read("DO $$ BEGIN UPDATE agents SET clerk_org_id = 'org_1' WHERE clerk_org_id IS NULL; END $$;") \
        == ([], [])


# --- statements that are not schema changes, and bad input ----------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM agents",
        "INSERT INTO agents (id, clerk_org_id) VALUES (1, 'org')",
        "UPDATE agents SET clerk_org_id = 'x'",
        "SET search_path = public",
        "BEGIN",
        "COMMIT",
        "GRANT SELECT ON agents TO app",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto",
        "CREATE TRIGGER t BEFORE INSERT ON agents FOR EACH ROW EXECUTE FUNCTION set_org()",
        "CREATE FUNCTION f() RETURNS void AS $$ BEGIN ALTER TABLE agents DROP COLUMN clerk_org_id; END $$ "
        "LANGUAGE plpgsql",
        "COMMENT ON TABLE agents IS 'org data; shared'",
    ],
)
def test_statements_that_change_no_table_or_index_give_nothing(sql):
    assert read(sql + ";") == ([], [])


def test_comments_with_semicolons_do_not_split_or_shift_positions():
    sql = """\
        -- the index; rebuilt below
        /* drop it; then
           create it */ DROP INDEX idx_a; -- done; really
        CREATE INDEX idx_b /* ; */ ON agents (clerk_org_id); -- trailing; comment
    """
    drop, create = events_of(sql)
    assert drop.names == ["idx_a"] and covered(sql, drop.span) == "idx_a" and drop.span.line == 3
    assert create.index.columns == ["clerk_org_id"] and covered(sql, create.index.span) == "idx_b"


def test_statement_split_without_tokens_still_gets_exact_positions():
    # An unterminated string makes the tokenizer fail; the splitter falls back
    # to a plain split and the reader tokenizes each statement itself.
    sql = "CREATE INDEX idx_a ON agents (clerk_org_id);\nALTER TABLE calls DROP COLUMN clerk_org_id;\nSELECT 'oops"
    drop_events = events_of(sql)
    create, drop = drop_events
    assert covered(sql, create.index.span) == "idx_a"
    assert covered(sql, drop.span) == "clerk_org_id" and drop.span.line == 2


@pytest.mark.parametrize(
    "sql",
    ["CREATE", "CREATE TABLE", "CREATE TABLE agents (", "ALTER TABLE", "ALTER TABLE agents ADD",
     "ALTER TABLE agents RENAME", "ALTER TABLE agents RENAME COLUMN a TO", "DROP INDEX", "DROP TABLE agents,",
     "CREATE INDEX idx ON", "CREATE INDEX ON agents (", "ALTER INDEX idx RENAME TO", "DO $$ BEGIN",
     "DO", "CREATE UNIQUE", "ALTER TABLE agents ADD CONSTRAINT c UNIQUE", "CREATE TABLE agents (id int,,)"],
)
def test_truncated_statements_never_raise(sql):
    events, problems = read(sql)
    assert isinstance(events, list) and isinstance(problems, list)


_PIECES = ["CREATE", "ALTER", "DROP", "TABLE", "INDEX", "UNIQUE", "ON", "ONLY", "IF", "NOT", "EXISTS", "agents",
           "clerk_org_id", "(", ")", ",", "ADD", "COLUMN", "RENAME", "TO", "TYPE", "DO", "$$", "'", '"', "--",
           "CONSTRAINT", "PRIMARY", "KEY", "WHERE", "USING", ".", "text", "EXECUTE", "BEGIN", "THEN", "\n"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=25))
def test_any_jumble_of_ddl_words_never_raises(words):
    events, problems = read(" ".join(words))
    assert isinstance(events, list) and isinstance(problems, list)


# --- helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written, normalised",
    [
        ("text", "TEXT"),
        ("TEXT", "TEXT"),
        ('"text"', "TEXT"),
        ("pg_catalog.text", "TEXT"),
        ("varchar(64)", "VARCHAR(64)"),
        ("character varying ( 64 )", "VARCHAR(64)"),
        ("character varying", "VARCHAR"),
        ("int", "INTEGER"),
        ("int8", "BIGINT"),
        ("timestamp(3) with time zone", "TIMESTAMPTZ(3)"),
        ("timestamp without time zone", "TIMESTAMP"),
        ("numeric(10, 2)", "NUMERIC(10,2)"),
        ("uuid", "UUID"),
        ("text []", "TEXT[]"),
        ("int[3][]", "INTEGER[]"),
        ("text ARRAY", "TEXT[]"),
    ],
)
def test_normalise_type(written, normalised):
    assert normalise_type(written) == normalised


def test_constraint_index_names_follow_postgres():
    # The names the Alembic front end gives constraints it reads.
    assert constraint_index_name("agents", ["id"], primary=True) == "agents_pkey"
    assert constraint_index_name("agents", ["clerk_org_id", "name"], primary=False) == \
        "agents_clerk_org_id_name_key"
    long = constraint_index_name("a" * 40, ["b" * 40], primary=False)
    assert len(long) == 63 and long.endswith("_key") and long.startswith("a" * 29 + "_" + "b" * 29)


@pytest.mark.parametrize(
    "sql, index",
    [
        # PostgreSQL keeps the first 63 bytes of a longer name ...
        ("CREATE INDEX idx_calls_clerk_org_id_and_a_name_that_goes_on_well_past_sixty_three ON calls (clerk_org_id)",
         "idx_calls_clerk_org_id_and_a_name_that_goes_on_well_past_sixty_"),
        # ... never half of a character (é is two bytes: the cut falls before it) ...
        ('CREATE INDEX "idx_calls_clerk_org_id_préférences_de_l_organisation_pour_lxé" ON calls (clerk_org_id)',
         "idx_calls_clerk_org_id_préférences_de_l_organisation_pour_lx"),
        # ... and a name of exactly 63 bytes as it is (control).
        ("CREATE INDEX idx_calls_clerk_org_id_exactly_sixty_three_characters_long_name ON calls (clerk_org_id)",
         "idx_calls_clerk_org_id_exactly_sixty_three_characters_long_name"),
    ],
)
def test_names_are_cut_to_63_bytes_like_postgresql(sql, index):
    (event,) = [e for e in events_of(sql) if isinstance(e, CreateIndex)]
    assert event.index.name == index

"""Row level security from the migrations (SPEC section 11): what the DDL
reader reads from policy statements, what the replay keeps, and the pack keys
`rls`, `trusted_roles` and `request_functions`.

The verdicts themselves are compared with PostgreSQL in
tests/test_pg_differential.py, and the rule documents' examples
(rules/ORG007.yaml, rules/ORG008.yaml) run in tests/test_rule_examples.py.
"""

from __future__ import annotations

import textwrap
from dataclasses import fields

import pytest

from conftest import brief, write_tree
from orgscope.catalog import build_catalog
from orgscope.config import Config
from orgscope.context import ExtractContext
from orgscope.engine import Options, run
from orgscope.errors import ConfigError
from orgscope.extract import extract_file
from orgscope.facts import AlterPolicy, CreatePolicy, DropPolicy, Policy, RowSecurity
from orgscope.livedb import LiveTable, _live_policy
from orgscope.model import default_pack_path, load_pack, pack_from_mapping
from orgscope.positions import LineIndex
from orgscope.rules.row_security import command_verdicts
from orgscope.sql.ddl import schema_events
from orgscope.sql.split import split_statements

import yaml

MODEL = load_pack(default_pack_path())
TABLE = "CREATE TABLE agents (id int, clerk_org_id text NOT NULL);\n" \
        "CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);\n"


def events(sql: str):
    positions = LineIndex(sql)
    out = []
    for stmt in split_statements(sql):
        found, problems = schema_events(stmt, positions, model=MODEL)
        assert problems == []
        out.extend(found)
    return out


def covered(sql: str, span) -> str:
    return sql.split("\n")[span.line - 1][span.column - 1:span.end_column - 1]


# --- reading the statements -------------------------------------------------------------------

READS = [
    # (statement, expected fields of its one event, the text its span covers)
    ("ALTER TABLE ONLY public.agents DISABLE ROW LEVEL SECURITY",
     RowSecurity, {"table": "agents", "action": "disable", "schema": None}, "DISABLE ROW LEVEL SECURITY"),
    ("ALTER TABLE IF EXISTS archive.calls NO FORCE ROW LEVEL SECURITY",
     RowSecurity, {"table": "calls", "action": "no_force", "schema": "archive"}, "NO FORCE ROW LEVEL SECURITY"),
    ('CREATE POLICY "Org members read" ON public.agents AS RESTRICTIVE FOR SELECT TO authenticated, "Editor" '
     "USING (clerk_org_id = auth.jwt() ->> 'org_id')",
     CreatePolicy, {"name": "Org members read", "table": "agents", "permissive": False, "command": "select",
                    "roles": ["authenticated", "Editor"]}, '"Org members read"'),
    ("CREATE POLICY p ON agents WITH CHECK (true) USING (false)",
     CreatePolicy, {"name": "p", "command": "all", "permissive": True, "roles": ["public"]}, "p"),
    ("ALTER POLICY p ON agents RENAME TO q", AlterPolicy, {"name": "p", "new_name": "q"}, "q"),
    ("ALTER POLICY p ON agents TO anon WITH CHECK (true)",
     AlterPolicy, {"name": "p", "roles": ["anon"], "using": None, "new_name": None}, "p"),
    ("DROP POLICY IF EXISTS p ON public.agents CASCADE", DropPolicy, {"name": "p", "table": "agents"}, "p"),
]


@pytest.mark.parametrize("sql, kind, fields, text", READS, ids=[r[0][:40] for r in READS])
def test_policy_statements_are_read_from_tokens_with_positions(sql, kind, fields, text):
    [event] = events(sql)
    assert isinstance(event, kind)
    assert {key: getattr(event, key) for key in fields} == fields
    assert covered(sql, event.span) == text


def test_or_branches_keep_their_text_and_false_lets_nothing_through():
    [event] = events("CREATE POLICY p ON agents USING ((current_setting('app.org', true) IS NULL\n"
                     "    OR clerk_org_id = current_setting('app.org', true))) WITH CHECK (false)")
    assert [b.text for b in event.using.branches] == [
        "current_setting('app.org', true) IS NULL", "clerk_org_id = current_setting('app.org', true)"]
    assert event.check.branches == [] and event.check.error is None


def test_an_unparsable_policy_expression_on_an_org_table_is_an_org900(lint):
    findings = lint({"migrations/001.sql": TABLE + "ALTER TABLE agents ENABLE ROW LEVEL SECURITY;\n"
                                                   "CREATE POLICY p ON agents USING (clerk_org_id = = 1);\n"})
    assert [(f.code, f.line) for f in findings] == [("ORG900", 4)]


# --- the replay --------------------------------------------------------------------------------


def replayed(sql: str):
    facts = extract_file("migrations/001.sql", textwrap.dedent(sql), "migration", ExtractContext(model=MODEL))
    return build_catalog(MODEL, [facts])


def test_policies_follow_table_renames_and_go_with_a_dropped_table():
    catalog = replayed("""
        CREATE TABLE calls_v2 (id int, clerk_org_id text);
        ALTER TABLE calls_v2 ENABLE ROW LEVEL SECURITY;
        CREATE POLICY org ON calls_v2 USING (clerk_org_id = auth.jwt() ->> 'org_id');
        ALTER TABLE calls_v2 RENAME TO calls;
        CREATE TABLE agents (id int, clerk_org_id text);
        ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
        CREATE POLICY open ON agents USING (true);
        DROP TABLE agents;
        CREATE TABLE agents (id int, clerk_org_id text);
    """)
    calls = catalog.schema.table("calls")
    assert calls.rls and list(calls.policies) == ["org"]
    assert all(v.scoped for v in command_verdicts(calls, catalog, MODEL).values())
    agents = catalog.schema.table("agents")
    assert not agents.rls and agents.policies == {}


def test_postgresql_refusals_are_not_replayed():
    catalog = replayed("""
        CREATE TABLE agents (id int, clerk_org_id text);
        ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
        CREATE POLICY org ON agents USING (clerk_org_id = auth.jwt() ->> 'org_id');
        CREATE POLICY org ON agents USING (true);
        CREATE POLICY ins ON agents FOR INSERT USING (true);
        ALTER POLICY missing ON agents USING (true);
    """)
    agents = catalog.schema.table("agents")
    assert list(agents.policies) == ["org"]  # a second "org" and an INSERT policy with USING are refused
    assert all(v.scoped for v in command_verdicts(agents, catalog, MODEL).values())
    assert any("INSERT policy takes only WITH CHECK" in w.text for w in catalog.warnings)


POLICIES_READ_BOTH_WAYS = [
    # (CREATE POLICY in a migration, the pg_policies row of the same policy)
    ("CREATE POLICY org ON agents FOR SELECT TO authenticated USING (clerk_org_id = auth.jwt() ->> 'org_id')",
     ("org", "PERMISSIVE", ["authenticated"], "SELECT", "(clerk_org_id = (auth.jwt() ->> 'org_id'::text))", None)),
    ("CREATE POLICY open ON agents FOR INSERT WITH CHECK (true)",
     ("open", "PERMISSIVE", ["public"], "INSERT", None, "true")),
    ("CREATE POLICY narrow ON agents AS RESTRICTIVE FOR ALL TO authenticated USING (clerk_org_id = auth.jwt() ->> 'org_id')",
     ("narrow", "RESTRICTIVE", ["authenticated"], "ALL", "(clerk_org_id = (auth.jwt() ->> 'org_id'::text))", None)),
]


@pytest.mark.parametrize(("sql", "row"), POLICIES_READ_BOTH_WAYS)
def test_a_policy_from_the_migrations_and_from_pg_policies_is_one_policy_judged_alike(sql, row):
    catalog = replayed(f"CREATE TABLE agents (id int, clerk_org_id text);\nALTER TABLE agents ENABLE ROW LEVEL SECURITY;\n{sql};\n")
    replayed_policy = catalog.schema.table("agents").policies[row[0]]
    live = _live_policy((None, "agents"), *row, MODEL)
    assert isinstance(replayed_policy, Policy) and type(live) is Policy
    shared = [f.name for f in fields(Policy) if f.name not in ("using", "check")]
    assert [getattr(live, name) for name in shared] == [getattr(replayed_policy, name) for name in shared]
    live_table = LiveTable(None, "agents", columns={"id": "integer", "clerk_org_id": "text"}, rls=True,
                           policies={live.name: live})
    verdicts = {cmd: v.scoped for cmd, v in command_verdicts(live_table, catalog, MODEL).items()}
    assert verdicts == {cmd: v.scoped for cmd, v in command_verdicts(catalog.schema.table("agents"), catalog,
                                                                           MODEL).items()}


# --- the pack keys --------------------------------------------------------------------------------

UNSCOPED = TABLE + "ALTER TABLE agents ENABLE ROW LEVEL SECURITY;\n" \
                   "CREATE POLICY reports ON agents FOR SELECT TO reporting USING (true);\n" \
                   "CREATE TABLE calls (id int, clerk_org_id text NOT NULL);\n" \
                   "CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n"


def pack(tmp_path, **keys) -> Config:
    raw = yaml.safe_load(default_pack_path().read_text(encoding="utf-8"))
    raw.update(keys)
    (tmp_path / "pack.yaml").write_text(yaml.safe_dump(raw), encoding="utf-8")
    return Config(root=tmp_path, rule_pack=tmp_path / "pack.yaml")


@pytest.mark.parametrize("keys, expected", [
    ({}, [("ORG008", 4, 15), ("ORG007", 5, 14)]),
    ({"rls": "off"}, [("ORG008", 4, 15)]),
    ({"trusted_roles": ["reporting"]}, [("ORG007", 5, 14)]),
])
def test_pack_keys_rls_and_trusted_roles(tmp_path, keys, expected):
    write_tree(tmp_path, {"migrations/001.sql": UNSCOPED})
    findings = run([tmp_path / "migrations"], pack(tmp_path, **keys), Options(use_cache=False)).findings
    assert sorted((f.code, f.line, f.column) for f in findings) == sorted(expected)


def test_rls_required_reports_tables_of_a_project_that_never_enables_it(tmp_path):
    write_tree(tmp_path, {"migrations/001.sql": TABLE})
    assert run([tmp_path / "migrations"], Config(root=tmp_path), Options(use_cache=False)).findings == []
    findings = run([tmp_path / "migrations"], pack(tmp_path, rls="required"), Options(use_cache=False)).findings
    assert brief(findings) == [("ORG007", 1, 14)]


def test_a_projects_own_request_function_scopes_a_policy(tmp_path):
    write_tree(tmp_path, {"migrations/001.sql": TABLE + "ALTER TABLE agents ENABLE ROW LEVEL SECURITY;\n"
                          "CREATE POLICY org ON agents USING (clerk_org_id = app.current_org_id());\n"})
    plain = run([tmp_path / "migrations"], Config(root=tmp_path), Options(use_cache=False)).findings
    assert brief(plain) == [("ORG008", 4, 15)]
    config = pack(tmp_path, request_functions=["app.current_org_id"])
    assert run([tmp_path / "migrations"], config, Options(use_cache=False)).findings == []


@pytest.mark.parametrize("keys, key", [({"rls": "sometimes"}, "rls"), ({"trusted_roles": ["bad role"]}, "trusted_roles"),
                                        ({"request_functions": ["a.b.c"]}, "request_functions")])
def test_bad_pack_keys_name_the_key(keys, key):
    raw = yaml.safe_load(default_pack_path().read_text(encoding="utf-8"))
    with pytest.raises(ConfigError) as error:
        pack_from_mapping({**raw, **keys}, "pack.yaml")
    assert error.value.key == key


# --- Alembic and the cache ----------------------------------------------------------------------------

REVISION = '''\
from alembic import op
import sqlalchemy as sa

revision = "0001"
down_revision = None


def upgrade():
    op.create_table("agents", sa.Column("id", sa.Integer), sa.Column("clerk_org_id", sa.Text, index=True))
    op.execute("ALTER TABLE agents ENABLE ROW LEVEL SECURITY")
    op.execute("""
        CREATE POLICY agents_all ON agents
            USING (auth.uid() IS NOT NULL)
    """)
'''


def test_policies_in_alembic_op_execute_are_judged_at_their_place(tmp_path):
    write_tree(tmp_path, {"migrations/versions/0001_init.py": REVISION})
    for use_cache in (True, True):  # the second run reads the facts from the cache
        findings = run([tmp_path], Config(root=tmp_path), Options(use_cache=use_cache)).findings
        assert brief(findings) == [("ORG008", 12, 23)]
        assert "`auth.uid() IS NOT NULL`" in findings[0].message or "(auth.uid() IS NOT NULL)" in findings[0].message


# --- orgscope schema ----------------------------------------------------------------------------------


def test_schema_shows_row_level_security_and_each_policys_verdict(tmp_path):
    from conftest import cli

    write_tree(tmp_path, {"migrations/001.sql": """\
        CREATE TABLE agents (id int, clerk_org_id text);
        CREATE TABLE calls_v2 (id int, clerk_org_id text);
        ALTER TABLE calls_v2 ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
        CREATE POLICY org ON calls_v2 AS RESTRICTIVE FOR SELECT USING (clerk_org_id = auth.jwt() ->> 'org_id');
        CREATE POLICY "Everyone" ON calls_v2 FOR SELECT TO authenticated USING (true);
        CREATE POLICY backfill ON calls_v2 TO service_role USING (true);
        CREATE POLICY open ON calls_v2 FOR INSERT WITH CHECK (true);
        ALTER TABLE calls_v2 RENAME TO calls;
        ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
        ALTER TABLE agents DISABLE ROW LEVEL SECURITY;
        """})
    result = cli(tmp_path, "schema")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    agents = lines[lines.index(next(l for l in lines if l.startswith("agents"))) + 1:][:4]
    assert "  row level security: off (disabled at migrations/001.sql:10)" in agents
    calls = lines[lines.index(next(l for l in lines if l.startswith("calls"))) + 1:][:7]
    assert calls[-5:] == [
        "  row level security: on, forced (enabled at migrations/001.sql:3)",
        "  policy Everyone (SELECT, to authenticated, migrations/001.sql:5): scoped",
        "  policy backfill (ALL, to service_role, migrations/001.sql:6): trusted roles only, not judged",
        "  policy open (INSERT, to public, migrations/001.sql:7): lets other organizations' rows through for INSERT",
        "  policy org (SELECT restrictive, to public, migrations/001.sql:4): scoped",
    ]
    assert any(line.startswith("voices ") for line in lines)


# --- function and procedure bodies ---------------------------------------------------------------------

FUNCTION_CASES = [
    # (migration, [(line, column, code)], words every message holds)
    ("""\
CREATE OR REPLACE FUNCTION public.get_agent(p_id uuid) RETURNS SETOF agents
LANGUAGE sql SECURITY DEFINER STABLE AS $$
    SELECT * FROM agents WHERE id = p_id;
$$;
""", [(3, 19, "ORG001")], ["public.get_agent", "SECURITY DEFINER"]),
    ("""\
CREATE FUNCTION agents_of(p_org text) RETURNS SETOF agents LANGUAGE sql AS $$
    SELECT * FROM agents WHERE clerk_org_id = p_org
$$;
CREATE FUNCTION calls_of(text) RETURNS SETOF calls LANGUAGE sql AS $$ SELECT * FROM calls WHERE clerk_org_id = $1 $$;
""", [], []),
    ("""\
CREATE PROCEDURE purge(p_id uuid) LANGUAGE plpgsql AS $body$
DECLARE
    v_org text;
BEGIN
    SELECT clerk_org_id INTO v_org FROM agents WHERE id = p_id;
    IF v_org IS NULL THEN
        RAISE EXCEPTION 'no agent';
    END IF;
    DELETE FROM calls WHERE clerk_org_id = v_org AND agent_id = p_id;
    PERFORM 1 FROM voices WHERE id = p_id;
    FOR r IN SELECT id FROM tools LOOP
        UPDATE tools SET name = 'x' WHERE clerk_org_id = v_org AND id = r.id;
    END LOOP;
    RETURN QUERY SELECT * FROM contacts;
END
$body$;
""", [(5, 41, "ORG001"), (10, 20, "ORG001"), (11, 29, "ORG001"), (14, 32, "ORG001")], ["in function purge"]),
    ("""\
CREATE FUNCTION add_agent(p_name text) RETURNS void LANGUAGE sql AS $$
    INSERT INTO agents (name) VALUES (p_name);
$$;
CREATE FUNCTION py() RETURNS void LANGUAGE plpython3u AS $$ plpy.execute("SELECT * FROM agents") $$;
""", [(2, 17, "ORG005")], []),
]


@pytest.mark.parametrize("sql, expected, words", FUNCTION_CASES, ids=["definer", "scoped", "plpgsql", "insert"])
def test_queries_in_function_bodies_are_checked_where_they_stand(lint, sql, expected, words):
    findings = lint({"migrations/001.sql": TABLE + sql})
    assert brief(findings) == sorted((code, line + 2, column) for line, column, code in expected)
    for finding in findings:
        assert all(word in finding.message for word in words), finding.message


# --- views ----------------------------------------------------------------------------------------------

VIEWS = TABLE + """\
CREATE VIEW agent_list AS SELECT a.id, a.name, a.clerk_org_id FROM agents a;
CREATE VIEW agent_names AS SELECT id, name FROM agents;
CREATE VIEW my_agents AS SELECT id, name FROM agents WHERE clerk_org_id = current_setting('app.org_id');
CREATE VIEW everything AS SELECT * FROM agents;
CREATE VIEW gone AS SELECT id FROM agents;
DROP VIEW gone;
CREATE VIEW renamed (id, clerk_org_id) AS SELECT id, clerk_org_id FROM agents;
CREATE OR REPLACE VIEW renamed (id, org) AS SELECT id, clerk_org_id FROM agents;
"""


def test_views_over_org_tables_are_org_tables_or_reported_once_at_the_view(lint):
    findings = lint({"migrations/001.sql": VIEWS, "queries/q.sql": """\
SELECT * FROM agent_list WHERE id = $1;
SELECT * FROM agent_list WHERE clerk_org_id = $1;
SELECT * FROM everything;
SELECT * FROM agent_names;
SELECT * FROM my_agents;
"""})
    assert sorted((f.path, f.line, f.column, f.code) for f in findings) == [
        ("migrations/001.sql", 4, 13, "ORG001"),  # agent_names hides the column
        ("migrations/001.sql", 10, 24, "ORG001"),  # the second definition of renamed hides it
        ("queries/q.sql", 1, 15, "ORG001"),
        ("queries/q.sql", 3, 15, "ORG001"),
    ]
    [hidden] = [f for f in findings if f.line == 4]
    assert "view agent_names reads agents but does not expose clerk_org_id" in hidden.message


def test_a_function_created_in_alembic_op_execute_is_checked_in_the_revision(tmp_path):
    write_tree(tmp_path, {"migrations/versions/0001_init.py": REVISION.replace('''    op.execute("""
        CREATE POLICY''', '''    op.execute("""
        CREATE FUNCTION agent_by_id(p_id int) RETURNS SETOF agents LANGUAGE sql SECURITY DEFINER
        AS $$ SELECT * FROM agents WHERE id = p_id $$
    """)
    op.execute("""
        CREATE POLICY''')})
    findings = run([tmp_path], Config(root=tmp_path), Options(use_cache=False)).findings
    assert brief(findings) == [("ORG001", 13, 29), ("ORG008", 16, 23)]
    assert "SECURITY DEFINER" in findings[0].message

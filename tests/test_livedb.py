"""`orgscope db --dsn URL` against a throw-away PostgreSQL (see tests/pg.py).

The live check must find what the static check finds when the database is
what the migrations say, report drift when it is not, never write, and fail
with one clear line (exit 2) when it cannot connect or has no driver.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

import pg
from orgscope.config import Config
from orgscope.engine import Options, run
from orgscope.livedb import READ_ONLY, db_command, redact
from orgscope.sql.split import split_statements

REPO = Path(__file__).resolve().parent.parent
DEMO = REPO / "examples" / "demo-app"


@pytest.fixture(scope="module")
def server():
    try:
        started = pg.start_server()
    except pg.ServerUnavailable as exc:
        pytest.skip(f"NO POSTGRESQL: orgscope db is NOT tested against a live database: {exc}")
    yield started
    started.stop()


_counter = iter(range(10_000))


def fresh_database(server, migrations: list[str], extra_sql: str = "") -> str:
    """A new database with the migrations applied in order, then extra_sql; its DSN."""
    dsn = server.create_database(f"livedb_{next(_counter)}")
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(pg.SUPABASE_BASICS)
        for text in [*migrations, extra_sql]:
            for stmt in split_statements(text, parse=False):
                conn.execute(stmt.text)
    return dsn


def write_migrations(root: Path, files: dict[str, str]) -> list[str]:
    texts = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
        texts.append(path.read_text())
    return texts


def invoke(*args: str):
    return CliRunner().invoke(db_command, list(args))


GOOD = {
    "migrations/001_agents.sql": """
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, name text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
    """,
    "migrations/002_calls.sql": """
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, agent_id uuid, legacy text);
        CREATE INDEX idx_calls_clerk_org_id_agent ON calls (clerk_org_id, agent_id);
    """,
    "migrations/10_calls_cleanup.sql": """
        ALTER TABLE calls DROP COLUMN legacy;
    """,
}


def test_a_database_that_matches_healthy_migrations_passes(server, tmp_path, monkeypatch):
    texts = write_migrations(tmp_path, GOOD)
    dsn = fresh_database(server, texts)
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", dsn, "--no-cache")
    assert result.exit_code == 0, result.output
    assert "All checks passed" in result.output and "2 org tables read" in result.output


def test_live_findings_match_the_static_check_on_the_demo_app(server):
    migrations = [p.read_text() for p in sorted((DEMO / "migrations").glob("*.sql"))]
    dsn = fresh_database(server, migrations)
    static = run([DEMO], Config(root=DEMO, select=("ORG002", "ORG004", "ORG007", "ORG008")), Options(use_cache=False))
    # Word for word, less what only the migrations' history can say (which
    # migration dropped an index).
    # A policy's branch is quoted as each side has it (pg_get_expr adds casts).
    history = re.compile(r"\w+ (?:was dropped|stopped counting) at [^;)]+(?:; )?|(?<=the branch )`[^`]*` ")
    expected = {(f.code, f.table, f.severity, history.sub("", f.message)) for f in static.findings}
    assert {code for code, *_ in expected} == {"ORG002", "ORG008"}, "the demo app is built to have these"
    assert any(history.search(f.message) for f in static.findings), "the demo app drops an org index"

    result = CliRunner().invoke(db_command, ["--dsn", dsn, "--format", "json", "--no-cache", str(DEMO)])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    # The same verdicts in the same words as `orgscope check`.
    live = {(f["code"], f["table"].removeprefix("public."), f["severity"], history.sub("", f["message"]))
            for f in data["findings"] if f["code"] != "drift"}
    assert live == expected
    assert [f for f in data["findings"] if f["code"] == "drift"] == [], "the database is exactly the migrations"
    assert data["database"] == redact(dsn)


def test_drift_in_both_directions_is_reported(server, tmp_path, monkeypatch):
    texts = write_migrations(tmp_path, GOOD)
    # The database missed the cleanup migration, lost an index, and was changed by hand.
    dsn = fresh_database(server, texts[:2], """
        DROP INDEX idx_calls_clerk_org_id_agent;
        ALTER TABLE agents ADD COLUMN notes text;
        CREATE INDEX agents_name_idx ON agents (name);
        ALTER TABLE agents ALTER COLUMN name TYPE varchar(80);
        CREATE TABLE contacts (id uuid PRIMARY KEY, clerk_org_id text);
        CREATE INDEX ON contacts (clerk_org_id);
    """)
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", dsn, "--no-cache", "--format", "json")
    data = json.loads(result.stdout)
    messages = sorted(f["message"] for f in data["findings"] if f["code"] == "drift")
    assert messages == sorted([
        "public.agents.name is character varying(80) in the database, TEXT in the migrations",
        "public.agents.notes exists in the database but no migration adds it",
        "index agents_name_idx on public.agents exists in the database but no migration creates it: "
        "CREATE INDEX agents_name_idx ON public.agents USING btree (name)",
        "the migrations create index idx_calls_clerk_org_id_agent on public.calls "
        "(migrations/002_calls.sql:3) but the database lacks it",
        "the migrations drop public.calls.legacy (migrations/10_calls_cleanup.sql:2) but the database still has it",
        "public.contacts exists in the database but no migration creates it",
    ])
    schema = sorted((f["code"], f["table"]) for f in data["findings"] if f["code"] != "drift")
    assert schema == [("ORG002", "public.calls")]
    # The lost index is an error; drift alone is a warning.
    assert result.exit_code == 1


def test_drift_is_a_warning_that_fail_on_warning_turns_into_exit_1(server, tmp_path, monkeypatch):
    texts = write_migrations(tmp_path, GOOD)
    dsn = fresh_database(server, texts, "ALTER TABLE agents ADD COLUMN notes text;")
    monkeypatch.chdir(tmp_path)
    quiet = invoke("--dsn", dsn, "--no-cache")
    assert quiet.exit_code == 0, quiet.output
    assert "public.agents: drift [warning] public.agents.notes exists in the database" in quiet.output
    assert invoke("--dsn", dsn, "--no-cache", "--fail-on", "warning").exit_code == 1
    assert invoke("--dsn", dsn, "--no-drift").exit_code == 0


def test_live_schema_rules_see_what_only_the_database_knows(server, tmp_path, monkeypatch):
    # An index left INVALID by a failed CREATE INDEX CONCURRENTLY serves no query;
    # a partial index neither; a uuid org column cannot hold Clerk ids.
    dsn = fresh_database(server, [], """
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        UPDATE pg_index SET indisvalid = false WHERE indexrelid = 'idx_agents_clerk_org_id'::regclass;
        CREATE TABLE voices (id uuid PRIMARY KEY, clerk_org_id uuid);
        CREATE INDEX ON voices (clerk_org_id) WHERE id IS NOT NULL;
        CREATE TABLE tools (id uuid PRIMARY KEY, name text);
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text);
        CREATE INDEX ON calls (lower(clerk_org_id));
    """)
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", dsn, "--format", "json", "--no-drift")
    assert result.exit_code == 1
    found = {(f["table"], f["code"], f["severity"]): f["message"] for f in json.loads(result.stdout)["findings"]}
    assert sorted(found) == [
        ("public.agents", "ORG002", "error"),
        ("public.calls", "ORG002", "error"),
        ("public.tools", "ORG004", "error"),
        ("public.voices", "ORG002", "error"),
        ("public.voices", "ORG004", "warning"),
    ]
    assert "INVALID" in found[("public.agents", "ORG002", "error")]
    assert "partial" in found[("public.voices", "ORG002", "error")]
    assert found[("public.voices", "ORG004", "warning")] == (
        "voices.clerk_org_id is uuid, the tenancy model expects TEXT; "
        "change it with ALTER TABLE voices ALTER COLUMN clerk_org_id TYPE TEXT")


ENUMS = {
    "migrations/001_calls.sql": """
        CREATE TYPE status AS ENUM ('queued', 'done');
        CREATE TYPE "Channel" AS ENUM ('phone');
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, status status, past status[],
                            channel "public"."Channel");
        CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);
    """,
    "migrations/002_rename.sql": """
        ALTER TYPE status RENAME TO call_status;
        ALTER TYPE call_status ADD VALUE 'ringing' BEFORE 'done';
        ALTER TYPE "Channel" RENAME TO "CallChannel";
    """,
}


def test_columns_of_a_renamed_enum_are_no_drift(server, tmp_path, monkeypatch):
    texts = write_migrations(tmp_path, ENUMS)
    dsn = fresh_database(server, texts)
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", dsn, "--no-cache", "--format", "json")
    assert [f["message"] for f in json.loads(result.stdout)["findings"]] == []
    assert result.exit_code == 0


def test_an_enum_renamed_only_in_the_database_is_drift(server, tmp_path, monkeypatch):
    texts = write_migrations(tmp_path, ENUMS)
    # Control: the database missed the rename migration and had its own done by hand.
    dsn = fresh_database(server, texts[:1], 'ALTER TYPE "Channel" RENAME TO channel_kind;')
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", dsn, "--no-cache", "--format", "json")
    messages = sorted(f["message"] for f in json.loads(result.stdout)["findings"] if f["code"] == "drift")
    assert messages == [
        'public.calls.channel is channel_kind in the database, "CallChannel" in the migrations',
        "public.calls.past is status[] in the database, CALL_STATUS[] in the migrations",
        "public.calls.status is status in the database, CALL_STATUS in the migrations",
    ]


class RecordingConnection:
    """Wraps a psycopg connection and records every statement sent."""

    def __init__(self, conn, log):
        self._conn = conn
        self._log = log

    def cursor(self):
        outer = self
        inner = self._conn.cursor()

        class Cursor:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                inner.close()

            def execute(self, query, params=None):
                outer._log.append(" ".join(str(query).split()))
                return inner.execute(query, params)

            def fetchall(self):
                return inner.fetchall()

        return Cursor()

    def execute(self, query, params=None):
        self._log.append(" ".join(str(query).split()))
        return self._conn.execute(query, params)

    def rollback(self):
        self._log.append("ROLLBACK")
        self._conn.rollback()

    def commit(self):
        self._log.append("COMMIT")
        self._conn.commit()

    def close(self):
        self._conn.close()


def test_only_catalog_selects_run_inside_a_read_only_transaction(server, tmp_path, monkeypatch):
    import psycopg

    texts = write_migrations(tmp_path, GOOD)
    dsn = fresh_database(server, texts)
    log: list[str] = []
    real_connect = psycopg.connect

    def recording_connect(*args, **kwargs):
        assert kwargs.get("autocommit") is False, "a transaction is needed for SET TRANSACTION READ ONLY"
        return RecordingConnection(real_connect(*args, **kwargs), log)

    monkeypatch.setattr(psycopg, "connect", recording_connect)
    monkeypatch.chdir(tmp_path)
    assert invoke("--dsn", dsn, "--no-cache").exit_code == 0
    assert log[0] == READ_ONLY
    assert log[-1] == "ROLLBACK"
    assert "COMMIT" not in log
    for statement in log[1:-1]:
        assert statement.startswith("SELECT "), statement
        assert "pg_catalog." in statement
    # And the database really refuses writes inside such a transaction.
    with real_connect(dsn, autocommit=False) as conn:
        conn.execute(READ_ONLY)
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE should_fail (id int)")


def test_help_says_read_only_and_shows_an_example():
    result = invoke("--help")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "SET TRANSACTION READ ONLY" in text
    assert "orgscope db --dsn postgresql://" in text


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_connection_failure_is_one_line_without_the_password(tmp_path, monkeypatch):
    pytest.importorskip("psycopg", reason="NO PSYCOPG: the connection error path is not tested")
    monkeypatch.chdir(tmp_path)
    dsn = f"postgresql://app:s3cret-pass@127.0.0.1:{_closed_port()}/app"
    result = invoke("--dsn", dsn)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("orgscope: error: cannot connect to postgresql://app:***@")
    assert "s3cret-pass" not in result.output


def test_a_malformed_dsn_is_one_line(tmp_path, monkeypatch):
    pytest.importorskip("psycopg", reason="NO PSYCOPG: the malformed DSN path is not tested")
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", "host=127.0.0.1 port=notaport password=hunter2")
    assert result.exit_code == 2
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
    assert "hunter2" not in result.output


def test_without_psycopg_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now raises ImportError
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", "postgresql://localhost/app")
    assert result.exit_code == 2
    assert result.output.strip() == ("orgscope: error: orgscope db needs psycopg 3, which is not installed; "
                                     "install it with: pip install 'orgscope[db]'")


def test_a_broken_config_is_exit_2(tmp_path, monkeypatch):
    (tmp_path / ".orgscope.yaml").write_text("jobs: many\n")
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", "postgresql://localhost/app")
    assert result.exit_code == 2
    assert ".orgscope.yaml: jobs" in result.output


@pytest.mark.parametrize(
    "dsn, shown",
    [
        ("postgresql://u:pw@h:5432/d", "postgresql://u:***@h:5432/d"),
        ("postgresql://u@h/d", "postgresql://u@h/d"),
        ("host=h user=u password=pw dbname=d", "host=h user=u password=*** dbname=d"),
    ],
)
def test_redact_hides_only_the_password(dsn, shown):
    assert redact(dsn) == shown


RLS = {
    "migrations/001_agents.sql": """
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
        CREATE POLICY agents_org ON agents TO authenticated USING (clerk_org_id = (SELECT auth.jwt() ->> 'org_id'));
        CREATE POLICY agents_debug ON agents FOR SELECT USING (true);
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
        CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);
        ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
        CREATE POLICY calls_org ON calls USING (clerk_org_id = current_setting('app.org_id', true));
    """,
    "migrations/002_cleanup.sql": """
        DROP POLICY agents_debug ON agents;
    """,
}


def test_row_level_security_is_judged_live_and_its_drift_reported(server, tmp_path, monkeypatch):
    texts = write_migrations(tmp_path, RLS)
    # The database missed the cleanup, and someone switched RLS off and
    # changed a policy by hand.
    dsn = fresh_database(server, texts[:1], """
        ALTER TABLE calls DISABLE ROW LEVEL SECURITY;
        DROP POLICY calls_org ON calls;
        CREATE POLICY calls_org ON calls AS RESTRICTIVE TO anon USING (true);
        CREATE POLICY calls_open ON calls FOR INSERT TO authenticated WITH CHECK (true);
        CREATE FUNCTION agent_by_id(p_id uuid) RETURNS SETOF agents LANGUAGE sql SECURITY DEFINER
            AS $$ SELECT * FROM agents WHERE id = p_id $$;
        CREATE FUNCTION agents_of(p_org text) RETURNS SETOF agents LANGUAGE plpgsql
            AS $$ BEGIN RETURN QUERY SELECT * FROM agents WHERE clerk_org_id = p_org; END $$;
    """)
    monkeypatch.chdir(tmp_path)
    result = invoke("--dsn", dsn, "--no-cache", "--format", "json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    judged = sorted((f["code"], f["table"], f["message"].split(":")[0]) for f in data["findings"]
                    if f["code"] != "drift")
    assert judged == [
        ("ORG001", "public.agents", "function public.agent_by_id (SECURITY DEFINER"),
        ("ORG007", "public.calls", "row level security is off on public.calls in the database, so every request "
                                   "through the API reads and writes every organization's rows; run `ALTER TABLE "
                                   "public.calls ENABLE ROW LEVEL SECURITY` with a policy such as `CREATE POLICY "
                                   "calls_org ON public.calls TO authenticated USING (clerk_org_id = (SELECT "
                                   "auth.jwt() ->> 'org_id'))`"),
        ("ORG008", "public.agents", "policy agents_debug on agents lets every role (PUBLIC) read (SELECT) "
                                    "rows of every organization"),
        ("ORG008", "public.calls", "policy calls_open on calls lets authenticated insert (INSERT) rows "
                                   "of every organization"),
    ]
    drift = sorted(f["message"] for f in data["findings"] if f["code"] == "drift")
    assert drift == sorted([
        "row level security on public.calls is off in the database, on in the migrations "
        "(migrations/001_agents.sql:9)",
        "policy calls_org on public.calls is FOR ALL RESTRICTIVE TO anon in the database, "
        "FOR ALL PERMISSIVE TO public in the migrations (migrations/001_agents.sql:10)",
        "policy calls_open on public.calls exists in the database but no migration creates it",
        "the migrations drop policy agents_debug on public.agents but the database still has it",
    ])

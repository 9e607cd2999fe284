"""Property tests: whatever one file holds, orgscope never lies and never breaks.

For arbitrary bytes, arbitrary text, and realistic SQL and Python damaged by
random edits (characters and tokens inserted, deleted, duplicated), a run over
a folder that holds such a file next to a sibling with a real violation:

* never raises and finishes in bounded time (file_timeout bounds each file,
  a hypothesis deadline bounds the whole example);
* reports the sibling's violation, at its exact place;
* produces output every reader can read, in every format (JSON and SARIF and
  GitLab parse as JSON, JUnit as XML, GitHub as workflow commands);
* exits 0 or 1, never 2.

The default profile keeps this file fast enough for every CI run. For a long
hunt run the thorough profile (thousands of examples per property):

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import json
import os
import tempfile
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from orgscope.cli import main
from orgscope.config import Config
from orgscope.engine import Options, exit_code, run
from orgscope.report import FORMATS, render
from orgscope.rules import rule_docs

REPO = Path(__file__).resolve().parent.parent

settings.register_profile(
    "thorough",
    max_examples=3000,
    deadline=timedelta(seconds=30),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
THOROUGH = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"
if THOROUGH:
    settings.load_profile("thorough")


def fuzz_settings(fast_examples: int) -> settings:
    """Few examples by default, the profile's many under HYPOTHESIS_PROFILE=thorough."""
    return settings(
        max_examples=settings.default.max_examples if THOROUGH else fast_examples,
        deadline=timedelta(seconds=30 if THOROUGH else 10),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


SIBLING = ("queries/sibling.sql", "-- the one real violation\nSELECT * FROM agents WHERE id = $1;\n")
SIBLING_FINDING = ("queries/sibling.sql", 2, 15, "ORG001")
# Where the fuzzed file goes: a query file, a migration, a Python module.
PLACES = {"sql": "queries/fuzz.sql", "migration": "migrations/001_fuzz.sql", "python": "app/fuzz.py"}


# --- the realistic corpus -------------------------------------------------------------


def _rule_document_sql() -> list[str]:
    texts = []
    for path in sorted((REPO / "rules").glob("ORG*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        for kind in ("bad", "good"):
            for example in doc.get(kind) or []:
                texts.extend(str(t) for p, t in (example.get("files") or {}).items() if p.endswith(".sql"))
    return texts


def _demo_sql() -> list[str]:
    folder = REPO / "examples" / "demo-app"
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*/*.sql"))]


SQL_CORPUS = _rule_document_sql() + _demo_sql() + [
    "WITH a AS (SELECT * FROM agents WHERE clerk_org_id = $1) SELECT * FROM a JOIN calls c ON c.agent_id = a.id;",
    "UPDATE calls SET status = 'done' WHERE id = %(id)s AND clerk_org_id = %(org)s;",
    "MERGE INTO contacts t USING staging s ON t.id = s.id WHEN MATCHED THEN UPDATE SET name = s.name;",
    "DO $$ BEGIN EXECUTE 'CREATE INDEX idx_tools_clerk_org_id ON tools (clerk_org_id)'; END $$;",
    "SELECT * FROM agents WHERE clerk_org_id = ANY($1) OR NOT (id = $2) -- orgscope: ignore[ORG001] reason\n;",
    "COPY (SELECT * FROM voices) TO STDOUT; TRUNCATE knowledge_bases;",
]

PYTHON_CORPUS = [
    '''\
from sqlalchemy import select, text

async def list_agents(session, org_id):
    rows = await session.execute(text("SELECT * FROM agents WHERE clerk_org_id = :org"), {"org": org_id})
    return rows.all()


def one_call(conn, call_id):
    return conn.execute("SELECT * FROM calls WHERE id = %s", (call_id,)).fetchone()
''',
    '''\
def contacts(sb, org_id, folder=None):
    q = sb.table("contacts").select("*")
    if org_id:
        q = q.eq("clerk_org_id", org_id)
    if folder is not None:
        q = q.eq("folder_id", folder)
    return q.execute()


def add_voice(sb, payload):
    row = {"name": payload["name"], "client_id": payload["client"]}
    return sb.table("voices").insert(row).execute()
''',
    '''\
from sqlalchemy.orm import Mapped, mapped_column, DeclarativeBase

class Base(DeclarativeBase):
    pass

class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[int] = mapped_column(primary_key=True)
    clerk_org_id: Mapped[str] = mapped_column(index=True)

def get(session, pk):
    return session.get(Agent, pk)

def listing(session, org):
    return session.query(Agent).filter(Agent.clerk_org_id == org).all()
''',
    '''\
TABLE = "campaigns"

def build(cur, org, order_by):
    sql = "SELECT id, name FROM campaigns"
    sql += " WHERE clerk_org_id = %s"
    sql += f" ORDER BY {order_by}"
    cur.execute(sql, (org,))
    cur.execute(f"UPDATE {TABLE} SET archived = true WHERE id = {org}")
    return """
        DELETE FROM webhook_endpoints
        WHERE client_id = %s
    """.format()
''',
    '''\
"""add clerk_org_id to tools

Revision ID: 3f2a
"""
from alembic import op
import sqlalchemy as sa

revision = "3f2a"
down_revision = "1b7c"

def upgrade():
    op.add_column("tools", sa.Column("clerk_org_id", sa.Text(), nullable=True))
    op.create_index("idx_tools_clerk_org_id", "tools", ["clerk_org_id"])

def downgrade():
    op.drop_index("idx_tools_clerk_org_id", table_name="tools")
    op.drop_column("tools", "clerk_org_id")
''',
]

SQL_TOKENS = [
    "(", ")", "'", '"', "$$", "$tag$", "--", "/*", "*/", ";", ",", ".", "=", "*", "\\", "\n", "\t", " ",
    "SELECT", "FROM", "WHERE", "JOIN", "ON", "AND", "OR", "NOT", "IN", "ANY(", "WITH", "AS", "UNION",
    "CREATE", "INDEX", "TABLE", "ALTER", "DROP", "RENAME", "TO", "COLUMN", "DO", "BEGIN", "END",
    "agents", "calls", "clerk_org_id", "client_id", "clerk_organization_id", "$1", "%s", ":org", "?",
    "orgscope: ignore[ORG001]", "noqa: ORG002", "orgscope: ignore-file[ORG004]", "\ufeff", "é", "\u200b",
    "\r\n", "((((((((", "))))))))",
]
PYTHON_TOKENS = [
    "(", ")", "[", "]", "{", "}", ":", ",", ".", "'", '"', '"""', "'''", "f'", 'f"', "rb'", "\\", "#",
    "\n", "    ", "\t", "def ", "class ", "async ", "await ", "lambda", "if ", "else:", "return ", "yield ",
    "import ", "from ", "=", "+", "%", "+=", "==", "**", "@", "print ", "{x}", "{}", "%s", "%(org)s",
    ".eq(", ".table(", "select(", "text(", ".execute(", "__tablename__ = ", "down_revision = ",
    '"SELECT * FROM agents WHERE id = %s"', '"clerk_org_id"', '"client_id"', "# orgscope: ignore[ORG001]",
    "\ufeff", "é", "\r\n",
]


@st.composite
def mutated(draw, corpus: list[str], tokens: list[str]) -> str:
    """A corpus text after a few random edits: insert a token or a character,
    delete a range, duplicate a range, or swap two ranges."""
    text = draw(st.sampled_from(corpus))
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        n = len(text)
        at = draw(st.integers(min_value=0, max_value=n))
        edit = draw(st.sampled_from(["token", "char", "delete", "duplicate", "swap"]))
        if edit == "token":
            text = text[:at] + draw(st.sampled_from(tokens)) + text[at:]
        elif edit == "char":
            text = text[:at] + draw(st.characters(blacklist_categories=("Cs",))) + text[at:]
        elif n:
            size = draw(st.integers(min_value=1, max_value=max(1, min(40, n - at or 1))))
            piece = text[at:at + size]
            if edit == "delete":
                text = text[:at] + text[at + size:]
            elif edit == "duplicate":
                text = text[:at] + piece + piece + text[at + size:]
            else:
                other = draw(st.integers(min_value=0, max_value=n))
                rest = text[:at] + text[at + size:]
                other = min(other, len(rest))
                text = rest[:other] + piece + rest[other:]
    return text


# --- the property ---------------------------------------------------------------------------


def check_folder_with(kind: str, content: str | bytes) -> None:
    """Run orgscope on the fuzzed file plus the sibling and assert the promises."""
    with tempfile.TemporaryDirectory(prefix="orgscope-fuzz-") as folder:
        root = Path(folder)
        for rel, data in (SIBLING, (PLACES[kind], content)):
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        config = Config(root=root, file_timeout=5.0)
        result = run([root], config, Options(use_cache=False, jobs=1))

        places = {(f.path, f.line, f.column, f.code) for f in result.findings}
        assert SIBLING_FINDING in places, f"the sibling's violation was lost: {sorted(places)}"
        assert exit_code(result, "error") in (0, 1)
        for finding in result.findings:
            assert finding.line >= 1 and finding.column >= 1, finding
            assert finding.path in (SIBLING[0], PLACES[kind]), finding
        for fmt in FORMATS:
            assert_readable(fmt, render(fmt, result, root=root, docs=rule_docs()), len(result.findings))


def assert_readable(fmt: str, output: str, findings: int) -> None:
    """The output parses the way its consumer reads it and carries every finding."""
    if fmt == "json":
        data = json.loads(output)
        assert len(data["findings"]) == findings
    elif fmt == "sarif":
        data = json.loads(output)
        assert data["version"] == "2.1.0" and len(data["runs"][0]["results"]) == findings
    elif fmt == "gitlab":
        assert len(json.loads(output)) == findings
    elif fmt == "junit":
        tree = ET.fromstring(output)
        assert tree.tag in ("testsuites", "testsuite")
    elif fmt == "github":
        for line in output.splitlines():
            assert line.startswith("::"), line
            assert "\n" not in line and "\r" not in line
    else:  # text, concise: one str, no stray carriage returns that rewrite a terminal line
        assert isinstance(output, str)


@fuzz_settings(80)
@given(kind=st.sampled_from(sorted(PLACES)), content=st.binary(max_size=4000))
def test_arbitrary_bytes(kind, content):
    check_folder_with(kind, content)


@fuzz_settings(80)
@given(kind=st.sampled_from(sorted(PLACES)), content=st.text(max_size=3000))
def test_arbitrary_text(kind, content):
    check_folder_with(kind, content)


@fuzz_settings(120)
@given(kind=st.sampled_from(["sql", "migration"]), content=mutated(SQL_CORPUS, SQL_TOKENS))
def test_mutated_sql(kind, content):
    check_folder_with(kind, content)


@fuzz_settings(120)
@given(content=mutated(PYTHON_CORPUS, PYTHON_TOKENS))
def test_mutated_python(content):
    check_folder_with("python", content)


@fuzz_settings(60)
@given(content=st.lists(st.sampled_from(SQL_TOKENS), max_size=120).map("".join))
def test_token_soup_sql(content):
    # Only keywords and punctuation, in any order: the hardest input for a
    # statement splitter and a recursive parser.
    assume(content.strip())
    check_folder_with("sql", content)


# --- the command line, twice ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "sarif", "junit"])
def test_cli_on_hostile_folder_exits_1_with_parsable_output(tmp_path, monkeypatch, fmt):
    files = {
        SIBLING[0]: SIBLING[1].encode(),
        "queries/binary.sql": bytes(range(256)) * 8,
        "queries/latin1.sql": "SELECT * FROM calls WHERE name = 'Ω';".encode("utf-16"),
        "app/broken.py": b"def f(:\n    return db.execute('SELECT * FROM agents')\n",
        "migrations/001_broken.sql": b"CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text;\n" + b"(" * 5000,
    }
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--no-cache", "--format", fmt])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    if fmt == "junit":
        ET.fromstring(result.stdout)
    else:
        data = json.loads(result.stdout)
        if fmt == "json":
            places = {(f["path"], f["line"], f["column"], f["code"]) for f in data["findings"]}
            assert SIBLING_FINDING in places

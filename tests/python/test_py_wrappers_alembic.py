"""Data-access wrappers, scoping helpers, Alembic revisions and bad input."""

from __future__ import annotations

import pytest
from pyfacts import at, compares, only, wrapper

from orgscope.facts import AddColumn, CreateIndex, CreateTable, DropColumn, DropIndex, RenameColumn, RenameTable

WRAPPERS = (
    wrapper("select", "select", table=0, filters=1),
    wrapper("update", "update", table=0, filters=1, payload=2),
    wrapper("insert", "insert", table=0, payload=1),
)


def test_wrapper_filters_dict_built_key_by_key(facts_of):
    facts = facts_of(
        '''
        def find(db, org_id, name):
            filters = {}
            filters["clerk_org_id"] = org_id
            if name:
                filters["name"] = name
            return db.select("agents", filters)
        ''',
        query_wrappers=WRAPPERS,
    )
    query = only(facts.queries)
    assert (query.origin, query.kind, only(query.blocks[0].refs).table) == ("wrapper", "select", "agents")
    conditional = {c.column.name: c.conditional for c in compares(query)}
    assert conditional == {"clerk_org_id": False, "name": True}
    assert at(compares(query)[0].column.span) == (3, 14)


def test_wrapper_org_key_set_inside_if_is_conditional(facts_of):
    facts = facts_of(
        '''
        def find(db, org_id):
            filters = {"deleted": False}
            if org_id:
                filters["clerk_org_id"] = org_id
            return db.select("calls", filters)
        ''',
        query_wrappers=WRAPPERS,
    )
    scope = next(c for c in compares(only(facts.queries)) if c.column.name == "clerk_org_id")
    assert scope.conditional


def test_wrapper_update_and_insert_payloads(facts_of):
    facts = facts_of(
        '''
        def save(db, call_id, org, data):
            db.update("calls", {"id": call_id}, {"status": "done", "client_id": 3})
            db.insert("voices", {"name": "v", "clerk_org_id": org})
            db.insert("voices", data)
        ''',
        query_wrappers=WRAPPERS,
    )
    update, insert, opaque = facts.queries
    assert [c.name for c in only(update.blocks[0].refs).sets] == ["status", "client_id"]
    assert [c.column.name for c in compares(update)] == ["id"]
    assert sorted(only(insert.writes).columns) == ["clerk_org_id", "name"]
    assert only(opaque.writes).columns is None


def test_wrapper_with_filters_that_are_not_visible_is_dynamic(facts_of):
    facts = facts_of(
        '''
        def find(db, filters):
            return db.select("agents", filters)
        ''',
        query_wrappers=WRAPPERS,
    )
    assert only(facts.queries).dynamic


def test_scoping_helpers_wrap_or_build_a_query(facts_of):
    facts = facts_of(
        '''
        from app.db import scoped

        def a(sb, org):
            q = scoped(sb.table("agents").select("*"), org)
            return q.execute()

        def b(sb, org):
            return org_table(sb, "calls", org).select("id").execute()

        def c(sb, org):
            return sb.table("voices").select("*").execute()
        ''',
        scoping_helpers=("app.db.scoped", "org_table"),
    )
    assert [(only(q.blocks[0].refs).table, only(q.blocks[0].refs).scoped_by) for q in facts.queries] == [
        ("agents", "app.db.scoped"),
        ("calls", "org_table"),
        ("voices", None),
    ]


REVISION = '''
"""add the org column"""
from alembic import op
import sqlalchemy as sa

revision = "0002_org"
down_revision = "0001_init"


def upgrade():
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("clerk_org_id", sa.String(64), nullable=False),
    )
    op.add_column("agents", sa.Column("clerk_org_id", sa.Text()))
    op.create_index(op.f("idx_agents_clerk_org_id"), "agents", ["clerk_org_id"])
    op.create_index("idx_agents_lower", "agents", [sa.text("lower(name)")], postgresql_where=sa.text("x"))
    op.alter_column("voices", "org", new_column_name="clerk_org_id")
    op.rename_table("kb", "knowledge_bases")
    op.drop_column("tools", "clerk_org_id")
    op.execute("DROP INDEX idx_calls_clerk_org_id")
    op.execute("UPDATE agents SET clerk_org_id = 'x'")


def downgrade():
    op.drop_table("contacts")
'''


def test_alembic_revision_events_in_order(facts_of):
    facts = facts_of(REVISION, path="migrations/versions/0002_org.py")
    assert facts.kind == "alembic"
    revision = facts.alembic
    assert (revision.revision, revision.down_revisions) == ("0002_org", ["0001_init"])
    events = revision.events
    assert [type(e) for e in events] == [
        CreateTable, AddColumn, CreateIndex, CreateIndex, RenameColumn, RenameTable, DropColumn, DropIndex
    ]
    create = events[0]
    assert (create.table, at(create.span), create.columns) == (
        "contacts", (11, 10), {"id": "INTEGER", "clerk_org_id": "VARCHAR(64)"}
    )
    assert [(i.columns, i.unique) for i in create.indexes] == [(["id"], True)]
    assert (events[1].table, events[1].column, events[1].type, at(events[1].span)) == (
        "agents", "clerk_org_id", "TEXT", (15, 40)
    )
    index = events[2].index
    assert (index.name, index.columns, index.partial, at(index.span)) == (
        "idx_agents_clerk_org_id", ["clerk_org_id"], False, (16, 27)
    )
    assert (events[3].index.columns, events[3].index.partial) == ([None], True)
    assert (events[4].old, events[4].new) == ("org", "clerk_org_id")
    assert (events[7].names, at(events[7].span)) == (["idx_calls_clerk_org_id"], (21, 28))
    # a revision's DML is not query-checked by default
    assert facts.queries == []


def test_down_revision_none_and_tuple(facts_of):
    first = facts_of('revision = "a"\ndown_revision = None\ndef upgrade():\n    pass\n')
    merge = facts_of('revision = "m"\ndown_revision = ("a", "b")\ndef upgrade():\n    pass\n')
    assert first.alembic.down_revisions == [] and merge.alembic.down_revisions == ["a", "b"]


def test_a_module_without_upgrade_is_not_a_revision(facts_of):
    facts = facts_of('revision = "a"\ndown_revision = None\n')
    assert facts.kind == "python" and facts.alembic is None


@pytest.mark.parametrize(
    "source",
    [
        'print "SELECT * FROM agents"\n',  # Python 2
        "def broken(:\n    return 'agents'\n",
    ],
)
def test_unparsable_file_mentioning_an_org_table_is_a_problem(facts_of, source):
    facts = facts_of(source)
    problem = only(facts.problems)
    assert problem.message.startswith("cannot parse Python:")
    assert problem.span.line == 1
    assert facts.queries == []


def test_unparsable_file_without_org_words_is_a_note(facts_of):
    facts = facts_of("x = (\n", path="scripts/tool.py")
    assert facts.problems == []
    assert facts.notes == ["not valid Python, skipped: scripts/tool.py:1"]


@pytest.mark.parametrize(
    "source",
    [
        "",
        "\x00\x01 agents",
        "x = " + "(" * 300 + ")" * 300 + "\n",
        "sql = " + " + ".join(['"SELECT * FROM agents "'] * 2000) + "\n",
        "q = sb.table(\n",
        'f"{"\n',
        "s = '\\N{NOT A NAME} SELECT * FROM agents'\n",
    ],
    ids=["empty", "nul-bytes", "deep-parens", "2000-term-concatenation", "unclosed-call", "broken-fstring",
         "bad-escape"],
)
def test_bad_input_never_raises(facts_of, source):
    facts = facts_of(source)
    assert facts.path == "app/db/agents.py"

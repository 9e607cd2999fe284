"""`orgscope schema --format json`: the shape the README documents, on a small
history written for goose, and the same tables and indexes as the text form."""

from __future__ import annotations

import json
import re

import pytest

from conftest import cli, write_tree

HISTORY = {
    "db/migrations/00001_agents.sql": """\
        -- +goose Up
        CREATE TYPE status AS ENUM ('new', 'done');
        CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, status status);
        CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
        ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
        ALTER TABLE agents FORCE ROW LEVEL SECURITY;
        CREATE POLICY agents_org ON agents TO authenticated USING (clerk_org_id = (SELECT auth.jwt() ->> 'org_id'));
        CREATE POLICY agents_open ON agents FOR SELECT TO authenticated USING (true);
        -- +goose Down
        DROP TABLE agents;
        """,
    "db/migrations/00002_calls.sql": """\
        -- +goose Up
        CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text);
        CREATE INDEX calls_org_partial ON calls (clerk_org_id) WHERE id IS NOT NULL;
        CREATE TABLE settings (key text PRIMARY KEY, value text);
        ALTER TABLE contacts ADD COLUMN note text;
        ALTER TYPE status RENAME TO agent_status;
        -- +goose Down
        DROP TABLE calls;
        """,
    "db/migrations/00003_drop.sql": """\
        -- +goose Up
        CREATE TABLE tools (id uuid, clerk_org_id text);
        DROP TABLE tools;
        -- +goose Down
        SELECT 1;
        """,
}

TOP_KEYS = ["version", "org_column", "org_column_type", "migrations", "not_replayed", "tables", "types", "notes"]
TABLE_KEYS = ["name", "schema", "org_table", "status", "created_at", "renamed_at", "dropped_at", "columns",
              "indexes", "row_level_security", "policies", "org"]
INDEX_KEYS = ["name", "columns", "unique", "partial", "primary", "constraint", "created_at"]
POLICY_KEYS = ["name", "command", "permissive", "roles", "using", "check", "created_at", "changed_at", "verdict",
               "leaks_for"]


@pytest.fixture
def project(tmp_path):
    write_tree(tmp_path, HISTORY)
    return tmp_path


def schema_json(root) -> dict:
    result = cli(root, "schema", "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_documented_shape(project):
    data = schema_json(project)
    assert list(data) == TOP_KEYS
    assert data["migrations"] == [{
        "folder": "db/migrations", "tool": "goose", "tool_name": "goose", "order": "numeric version order",
        "applies": "-- +goose Up sections only",
        "files": ["db/migrations/00001_agents.sql", "db/migrations/00002_calls.sql", "db/migrations/00003_drop.sql"],
    }]
    tables = {t["name"]: t for t in data["tables"]}
    assert all(list(t) == TABLE_KEYS for t in data["tables"])
    # Every org table of the model, and every table a migration touches.
    assert set(tables) == {"agents", "calls", "campaigns", "contact_folders", "contacts", "knowledge_bases",
                           "settings", "tools", "voices", "webhook_endpoints"}

    agents = tables["agents"]
    assert (agents["status"], agents["created_at"], agents["org_table"]) == \
        ("created", "db/migrations/00001_agents.sql:3", True)
    assert agents["columns"] == [
        {"name": "id", "type": "UUID", "added_at": "db/migrations/00001_agents.sql:3"},
        {"name": "clerk_org_id", "type": "TEXT", "added_at": "db/migrations/00001_agents.sql:3"},
        {"name": "status", "type": "AGENT_STATUS", "added_at": "db/migrations/00001_agents.sql:3"},
    ]
    assert all(list(i) == INDEX_KEYS for i in agents["indexes"])
    assert [(i["name"], i["columns"], i["primary"], i["created_at"]) for i in agents["indexes"]] == [
        ("agents_pkey", ["id"], True, "db/migrations/00001_agents.sql:3"),
        ("idx_agents_clerk_org_id", ["clerk_org_id"], False, "db/migrations/00001_agents.sql:4"),
    ]
    assert agents["row_level_security"] == {"enabled": True, "forced": True,
                                            "changed_at": "db/migrations/00001_agents.sql:5"}
    assert all(list(p) == POLICY_KEYS for p in agents["policies"])
    assert [(p["name"], p["command"], p["roles"], p["verdict"], p["leaks_for"]) for p in agents["policies"]] == [
        ("agents_open", "select", ["authenticated"], "leaks", ["select"]),
        ("agents_org", "all", ["authenticated"], "scoped", []),
    ]
    assert agents["org"]["status"] == "ok" and agents["org"]["index"]["name"] == "idx_agents_clerk_org_id"

    calls = tables["calls"]
    assert calls["org"]["status"] == "missing-index" and "partial" in calls["org"]["index_problem"]
    assert [(i["name"], i["partial"]) for i in calls["indexes"]] == [("calls_org_partial", True), ("calls_pkey", False)]
    assert calls["row_level_security"] == {"enabled": False, "forced": False, "changed_at": None}

    settings = tables["settings"]
    assert (settings["org_table"], settings["status"], settings["org"]) == (False, "created", None)

    # Never created, whether a migration changes it or none mentions it, against dropped.
    assert (tables["contacts"]["status"], tables["contacts"]["columns"]) == \
        ("never-created", [{"name": "note", "type": "TEXT", "added_at": "db/migrations/00002_calls.sql:5"}])
    assert (tables["voices"]["status"], tables["voices"]["org"]["status"]) == ("never-created", "unknown")
    assert (tables["tools"]["status"], tables["tools"]["dropped_at"], tables["tools"]["columns"]) == \
        ("dropped", "db/migrations/00003_drop.sql:3", [])

    assert data["types"] == [{"name": "agent_status", "schema": None, "kind": "enum", "labels": ["new", "done"],
                              "created_at": "db/migrations/00001_agents.sql:2",
                              "renamed_at": "db/migrations/00002_calls.sql:6"}]
    # The statement that fails on the schema the migrations build, on the table it touches.
    assert [(n["kind"], n["path"], n["line"], n["table"]) for n in data["notes"]] == [
        ("refused", "db/migrations/00002_calls.sql", 5, "contacts")]
    assert "table contacts is never created by any migration" in data["notes"][0]["message"]


def test_no_migrations_lists_every_org_table_as_never_created(tmp_path):
    write_tree(tmp_path, {"app.py": "x = 1\n"})
    data = schema_json(tmp_path)
    assert data["migrations"] == [] and data["notes"] == [] and data["types"] == []
    assert {t["status"] for t in data["tables"]} == {"never-created"}
    assert all(t["org_table"] for t in data["tables"])


_TEXT_TABLE = re.compile(r"^(\w+)\s+(created at|dropped at|unknown)")
_TEXT_INDEX = re.compile(r"^  index: (\S+) \(")


def test_text_and_json_agree_on_tables_and_indexes(project):
    data = schema_json(project)
    text = cli(project, "schema").output
    from_text: dict[str, dict] = {}
    current = None
    for line in text.splitlines():
        if (match := _TEXT_TABLE.match(line)) is not None:
            current = from_text[match.group(1)] = {"status": match.group(2), "index": None}
        elif current is not None and (match := _TEXT_INDEX.match(line)) is not None:
            current["index"] = match.group(1)
    words = {"created": "created at", "dropped": "dropped at", "never-created": "unknown"}
    from_json = {t["name"]: {"status": words[t["status"]], "index": (t["org"]["index"] or {}).get("name")}
                 for t in data["tables"] if t["org_table"]}
    assert from_text == from_json
    assert from_text["agents"]["index"] == "idx_agents_clerk_org_id"  # the comparison compares something
    # The text's notes are the JSON's.
    assert [n for n in data["notes"] if n["path"]][0]["message"] in text


def test_text_stays_the_default(project):
    assert cli(project, "schema").output == cli(project, "schema", "--format", "text").output
    assert not cli(project, "schema").output.lstrip().startswith("{")

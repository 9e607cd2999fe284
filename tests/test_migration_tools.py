"""Migrations as each tool writes them: the part of a file the tool applies
going forward, the files it applies, and its order (tests/cases/migration_tools.yaml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgscope.catalog import build_catalog
from orgscope.extract import ExtractContext, extract_file
from orgscope.model import default_pack_path, load_pack
from orgscope.sql.sections import forward_text

MODEL = load_pack(default_pack_path())
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "migration_tools.yaml").read_text())


def catalog_of(files: dict[str, str]):
    ctx = ExtractContext(model=MODEL)
    return build_catalog(MODEL, [extract_file(path, text, "migration", ctx) for path, text in files.items()])


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_each_tool_replays_what_it_applies_in_its_order(case):
    catalog = catalog_of(case["files"])
    plan = catalog.plan
    assert [s.tool for s in plan.sets] == [case["tool"]]
    assert plan.ordered == case["order"]
    assert sorted(path for path, _ in plan.skipped) == sorted(case.get("not_replayed", []))
    assert [t.name for t in catalog.schema.tables()] == case["tables"]
    for table, columns in case.get("columns", {}).items():
        assert sorted(catalog.schema.table(table).columns) == columns


def test_a_blanked_section_keeps_every_line_and_column_in_place():
    text = "-- +goose Down\nDROP TABLE agents;\n-- +goose Up\n  CREATE TABLE agents (id uuid);\n"
    forward = forward_text(text)
    assert len(forward.text) == len(text)
    assert forward.text.splitlines()[3] == "  CREATE TABLE agents (id uuid);"
    assert forward.text.splitlines()[1].strip() == ""
    facts = extract_file("m/1_a.sql", text, "migration", ExtractContext(model=MODEL))
    assert (facts.events[0].span.line, facts.events[0].span.column) == (4, 16)


@pytest.mark.parametrize("text, note", [
    ("CREATE TABLE agents (id uuid);\n-- +goose Up\nCREATE TABLE calls (id uuid);\n",
     "SQL before the first -- +goose Up is not applied by goose"),
    ("-- migrate:down\nDROP TABLE agents;\n", "no -- migrate:up section: dbmate applies nothing"),
    ("--liquibase formatted sql\nCREATE TABLE agents (id uuid);\n", "SQL before the first --changeset"),
])
def test_sql_the_tool_does_not_apply_is_noted(text, note):
    facts = extract_file("m/1_a.sql", text, "migration", ExtractContext(model=MODEL))
    assert any(note in n for n in facts.notes), facts.notes


def test_comments_before_the_first_section_are_not_noted():
    facts = extract_file("m/1_a.sql", "-- agents\n/* setup */\n-- +goose Up\nSELECT 1;\n", "migration",
                         ExtractContext(model=MODEL))
    assert facts.notes == []


def test_two_files_with_one_version_are_noted():
    catalog = catalog_of({"m/1_a.up.sql": "CREATE TABLE agents (id uuid);\n",
                          "m/001_b.up.sql": "CREATE TABLE calls (id uuid);\n"})
    assert any("same version" in w.text for w in catalog.warnings)
    assert not any("same version" in w.text for w in catalog_of({"m/1_a.up.sql": "", "m/2_b.up.sql": ""}).warnings)


def test_folders_for_different_tools_are_separate_sets_in_path_order():
    catalog = catalog_of({
        "supabase/migrations/20240101000000_a.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n",
        "backend/migrations/2_b.up.sql": "CREATE TABLE calls (id uuid);\n",
        "backend/migrations/2_b.down.sql": "DROP TABLE calls;\n",
    })
    assert [(s.folder, s.tool) for s in catalog.plan.sets] == [
        ("backend/migrations", "golang-migrate"), ("supabase/migrations", "supabase")]


def test_orgscope_schema_says_which_tool_which_order_and_what_it_left_out(tmp_path):
    from conftest import cli, write_tree

    write_tree(tmp_path, {
        "db/migrations/1_agents.up.sql": "CREATE TABLE agents (id uuid, clerk_org_id text);\n",
        "db/migrations/1_agents.down.sql": "DROP TABLE agents;\n",
        "goose/migrations/00001_calls.sql": "-- +goose Up\nCREATE TABLE calls (id uuid);\n-- +goose Down\nDROP TABLE calls;\n",
    })
    result = cli(tmp_path, "schema")
    assert result.exit_code == 0, result.output
    assert "migrations in goose/migrations: goose, numeric version order, 1 file; -- +goose Up sections only" in result.output
    assert "migrations in db/migrations: golang-migrate / sqlx, numeric version order, 1 file" in result.output
    assert "db/migrations/1_agents.down.sql: a down migration, applied only when migrating down" in result.output
    assert "agents             created at db/migrations/1_agents.up.sql:1" in result.output


def test_flyway_and_liquibase_default_folders_are_migrations_without_config(tmp_path):
    from conftest import cli, write_tree

    write_tree(tmp_path, {
        "src/main/resources/db/migration/V1_9__agents.sql": "CREATE TABLE agents (id uuid);\n",
        "src/main/resources/db/migration/V1_10__agents_org.sql": "ALTER TABLE agents ADD COLUMN clerk_org_id text;\n",
        "src/main/resources/db/changelog/calls.sql": "--liquibase formatted sql\n--changeset a:1\n"
                                                     "CREATE TABLE calls (id uuid, clerk_org_id text);\n",
        "queries/agents.sql": "SELECT * FROM agents WHERE clerk_org_id = $1;\n",
    })
    result = cli(tmp_path, "schema")
    assert "migrations in src/main/resources/db/migration: Flyway," in result.output
    assert "migrations in src/main/resources/db/changelog: Liquibase," in result.output
    assert "agents             created at src/main/resources/db/migration/V1_9__agents.sql:1" in result.output
    assert "added at src/main/resources/db/migration/V1_10__agents_org.sql:1" in result.output
    assert "queries" not in result.output  # a query file is not a migration

"""Quoted mixed-case names follow PostgreSQL: quoted exact, unquoted folded
(tests/cases/quoted_names.yaml), in the pack, the migrations, SQL queries,
SQLAlchemy models and supabase chains."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgscope.errors import ConfigError
from orgscope.model import pack_from_mapping

DATA = yaml.safe_load((Path(__file__).parent / "cases" / "quoted_names.yaml").read_text())


@pytest.mark.parametrize("case", DATA["cases"], ids=[c["name"] for c in DATA["cases"]])
def test_quoted_names_are_exact_and_unquoted_names_fold(lint, tmp_path, case):
    (tmp_path / "pack.yaml").write_text(DATA["pack"])
    findings = lint(case["files"], rule_pack=tmp_path / "pack.yaml")
    assert sorted([f.code, f.path, f.line] for f in findings) == sorted(case["findings"])


@pytest.mark.parametrize("written, name", [
    ('"tenantId"', "tenantId"),
    ("tenantId", "tenantid"),
    ('"tenant""s id"', 'tenant"s id'),
    ("clerk_org_id", "clerk_org_id"),
])
def test_the_pack_reads_a_column_name_as_postgresql_does(written, name):
    model = pack_from_mapping({"org_column": written, "org_tables": ['"Workflow"', "Agents", 'app."APIToken"']},
                              "pack.yaml")
    assert model.org_column == name
    assert model.org_tables == {(None, "Workflow"), (None, "agents"), ("app", "APIToken")}


@pytest.mark.parametrize("written", ["tenant id", '"tenantId', '"', "a.b", "1abc", ""])
def test_a_column_name_that_is_no_identifier_is_a_clear_error(written):
    with pytest.raises(ConfigError, match="org_column"):
        pack_from_mapping({"org_column": written, "org_tables": ["agents"]}, "pack.yaml")


@pytest.mark.parametrize("written", ['"Work"flow"', "a.b.c", "agents;"])
def test_a_table_name_that_is_no_name_is_a_clear_error(written):
    with pytest.raises(ConfigError, match="org_tables"):
        pack_from_mapping({"org_column": "clerk_org_id", "org_tables": [written]}, "pack.yaml")


def test_the_index_fix_quotes_what_postgresql_would_fold(tmp_path):
    from conftest import cli, write_tree

    write_tree(tmp_path, {
        "pack.yaml": DATA["pack"],
        ".orgscope.yaml": "rule_pack: pack.yaml\n",
        "migrations/001_init.sql": 'CREATE TABLE "Workflow" ("id" TEXT, "tenantId" TEXT);\n',
    })
    result = cli(tmp_path, "fix", "--indexes", "--dry-run")
    assert 'CREATE INDEX CONCURRENTLY IF NOT EXISTS "idx_Workflow_tenantId" ON "Workflow" ("tenantId");' \
        in result.output, result.output

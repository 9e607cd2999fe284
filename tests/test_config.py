"""Config and rule-pack loading: every mistake is one clear line naming file and key, exit 2."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from orgscope.cli import main

VIOLATION = "SELECT * FROM agents WHERE id = $1;\n"


@pytest.fixture
def repo(tmp_path, monkeypatch):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "q.sql").write_text(VIOLATION)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _check(*args):
    return CliRunner().invoke(main, ["check", "--no-cache", "--format", "concise", *args])


@pytest.mark.parametrize(
    "config, key",
    [
        ("unknown_key: 1\n", "unknown_key"),
        ("select: ORG001\n", "select"),
        ("select: [ORG999]\n", "select"),
        ("ignore: [NOPE1]\n", "ignore"),
        ("severity: {ORG001: fatal}\n", "severity.ORG001"),
        ("severity: {ORG777: error}\n", "severity.ORG777"),
        ("check_migration_queries: maybe\n", "check_migration_queries"),
        ("rule_pack: missing.yaml\n", "rule_pack"),
        ("dialect: oracle\n", "dialect"),
        ("fail_on: critical\n", "fail_on"),
        ("max_file_bytes: -5\n", "max_file_bytes"),
        ("query_wrappers: [{call: select, op: fetch}]\n", "query_wrappers[0].op"),
        ("query_wrappers: [{call: insert, op: insert}]\n", "query_wrappers[0].payload"),
        ("migrations: [1, 2]\n", "migrations"),
        ("- just\n- a list\n", None),
        ("key: [unclosed\n", None),
    ],
)
def test_broken_yaml_config(repo, config, key):
    (repo / ".orgscope.yaml").write_text(config)
    result = _check()
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert ".orgscope.yaml" in lines[0]
    if key:
        assert key in lines[0]


def test_pyproject_section_is_found_by_walking_up(repo):
    (repo / "pyproject.toml").write_text('[tool.orgscope]\nignore = ["ORG001"]\n')
    sub = repo / "queries"
    os.chdir(sub)
    result = _check()
    assert result.exit_code == 0, result.output
    # Paths are relative to the folder that holds the config.
    os.chdir(repo)
    (repo / "pyproject.toml").write_text("[tool.orgscope]\nselect = [\"ORG001\"]\n")
    os.chdir(sub)
    result = _check()
    assert result.exit_code == 1
    assert "queries/q.sql:1:15: ORG001" in result.output


def test_broken_pyproject_names_the_file(repo):
    (repo / "pyproject.toml").write_text("[tool.orgscope]\nselect = [\n")
    result = _check()
    assert result.exit_code == 2
    assert "pyproject.toml" in result.output


def test_command_line_overrides_the_file(repo):
    (repo / ".orgscope.yaml").write_text("ignore: [ORG001]\n")
    assert _check().exit_code == 0
    # A code selected on the command line is checked even though the file ignores it.
    assert _check("--select", "ORG001").exit_code == 1
    (repo / ".orgscope.yaml").write_text("severity: {ORG001: warning}\n")
    assert _check().exit_code == 0
    assert _check("--fail-on", "warning").exit_code == 1


def test_unknown_code_on_the_command_line_is_exit_2(repo):
    result = _check("--select", "ORG001,BOGUS")
    assert result.exit_code == 2
    assert "BOGUS" in result.output


@pytest.mark.parametrize(
    "pack, key",
    [
        ("org_column: tenant_id\n", "org_tables"),
        ("org_column: tenant_id\norg_tables: []\n", "org_tables"),
        ("org_column: 'tenant id'\norg_tables: [projects]\n", "org_column"),
        ("org_column: tenant_id\norg_tables: [projects]\ncolour: red\n", "colour"),
        ("org_column: tenant_id\norg_tables: projects\n", "org_tables"),
        ("org_column: tenant_id\norg_tables: ['a.b.c']\n", "org_tables"),
        ("org_column: tenant_id\norg_tables: [p]\nmapping: {table: t}\n", "mapping.column"),
        ("org_column: tenant_id\norg_tables: [p]\nindex_name: 'idx_{nope}'\n", "index_name"),
        ("org_column: [unclosed\n", None),
    ],
)
def test_broken_rule_pack(repo, pack, key):
    (repo / "pack.yaml").write_text(pack)
    (repo / ".orgscope.yaml").write_text("rule_pack: pack.yaml\n")
    result = _check()
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "pack.yaml" in lines[0]
    if key:
        assert key in lines[0]


def test_a_users_own_pack_with_another_column_and_tables(repo):
    (repo / "pack.yaml").write_text(
        "name: projects\norg_column: tenant_id\norg_tables: [projects, tasks]\nlegacy_column: owner_id\n"
    )
    (repo / ".orgscope.yaml").write_text("rule_pack: pack.yaml\n")
    (repo / "queries" / "q.sql").write_text(
        "SELECT * FROM projects WHERE id = $1;\n"
        "SELECT * FROM tasks WHERE tenant_id = $1;\n"
        "SELECT * FROM agents WHERE id = $1;\n"
        "SELECT * FROM tasks WHERE owner_id = $1;\n"
    )
    result = _check()
    assert result.exit_code == 1
    lines = sorted(line.split(" ")[0] + " " + line.split(" ")[1] for line in result.output.splitlines() if ": ORG" in line)
    assert lines == ["queries/q.sql:1:15: ORG001", "queries/q.sql:4:27: ORG003"]
    assert "tenant_id" in result.output

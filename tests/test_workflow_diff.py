"""The pull-request gate: `orgscope check --diff-base REV` reports findings on
the lines a branch changed since it left REV, plus the schema findings when
the branch touches a migration. Every test runs real git in a throw-away
repository."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from orgscope.cli import main
from orgscope.errors import OrgscopeError
from orgscope.gitdiff import changed_lines

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed: cannot test --diff-base")

GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
}

MIGRATION = """\
CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, name text);
CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);
CREATE TABLE calls (id uuid PRIMARY KEY, clerk_org_id text NOT NULL, agent_id uuid);
CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);
"""
OLD_QUERIES = """\
-- name: list_agents
SELECT id, name FROM agents WHERE clerk_org_id = $1;

-- name: legacy_export
SELECT * FROM calls;

-- name: get_agent
SELECT id, name
FROM agents
WHERE id = $1
  AND clerk_org_id = $2;
"""


@pytest.fixture(autouse=True)
def isolated_git(monkeypatch):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def put(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def repo(tmp_path):
    """main: a scoped schema and a query file with one old leak (legacy_export);
    HEAD is a feature branch that has not changed anything yet."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    put(root, ".gitignore", ".orgscope_cache/\n*.local.sql\n")
    put(root, "migrations/001_init.sql", MIGRATION)
    put(root, "queries/agents.sql", OLD_QUERIES)
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    git(root, "checkout", "-q", "-b", "feature")
    return root


def commit(root: Path, message: str = "change") -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def gate(root: Path, *args: str, base: str = "main"):
    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, ["check", "--no-cache", "--format", "json", "--diff-base", base, *args])
    finally:
        os.chdir(old)


def reported(result) -> list[tuple[str, str, int]]:
    assert result.exit_code in (0, 1), result.output
    return [(f["code"], f["path"], f["line"]) for f in json.loads(result.stdout)["findings"]]


# --- what counts as changed ----------------------------------------------------------


def test_changed_lines_of_a_modified_file(repo):
    text = OLD_QUERIES.replace("SELECT * FROM calls;", "SELECT id FROM calls;")
    put(repo, "queries/agents.sql", text + "\nSELECT 1;\n")
    diff = changed_lines(repo, "main")
    assert diff.lines == {"queries/agents.sql": {5, 12, 13}}
    assert diff.base == git(repo, "rev-parse", "main").strip()


def test_a_deleted_line_marks_its_neighbours(repo):
    put(repo, "queries/agents.sql", OLD_QUERIES.replace("  AND clerk_org_id = $2;\n", ""))
    assert changed_lines(repo, "main").lines == {"queries/agents.sql": {10, 11}}


def test_untracked_files_are_wholly_changed_and_ignored_ones_are_not(repo):
    put(repo, "queries/new.sql", "SELECT 1;\nSELECT 2;\nSELECT 3;\n")
    put(repo, "queries/scratch.local.sql", "SELECT * FROM agents;\n")
    diff = changed_lines(repo, "main")
    assert set(diff.lines) == {"queries/new.sql"}
    assert {1, 2, 3} <= diff.lines["queries/new.sql"]


def test_deleted_files_are_listed(repo):
    (repo / "migrations/001_init.sql").unlink()
    diff = changed_lines(repo, "main")
    assert diff.deleted == {"migrations/001_init.sql"}
    assert diff.lines == {"migrations/001_init.sql": set()}


def test_changes_on_the_base_branch_after_the_fork_do_not_count(repo):
    put(repo, "queries/feature.sql", "SELECT 1;\n")
    commit(repo, "feature work")
    git(repo, "checkout", "-q", "main")
    put(repo, "queries/agents.sql", OLD_QUERIES + "SELECT * FROM agents;\n")
    commit(repo, "main moved on")
    git(repo, "checkout", "-q", "feature")
    # The diff is against the merge-base, not against main's tip.
    assert changed_lines(repo, "main").lines == {"queries/feature.sql": {1}}


def test_paths_are_relative_to_the_config_root(repo):
    put(repo, "service/.orgscope.yaml", "fail_on: error\n")
    put(repo, "service/queries/q.sql", "SELECT 1;\n")
    put(repo, "queries/outside.sql", "SELECT 1;\n")
    diff = changed_lines(repo / "service", "main")
    assert diff.lines["queries/q.sql"] == {1, 2}
    assert "../queries/outside.sql" in diff.lines


def test_paths_with_spaces_and_non_ascii_letters(repo):
    put(repo, "queries/ägents list.sql", OLD_QUERIES)
    commit(repo, "a file git has to quote")
    git(repo, "branch", "-f", "main")
    put(repo, "queries/ägents list.sql", OLD_QUERIES + "SELECT 2;\n")
    assert changed_lines(repo, "main").lines == {"queries/ägents list.sql": {12}}
    assert reported(gate(repo)) == []


def test_a_rename_without_edits_changes_no_line_but_moves_the_path(repo):
    git(repo, "mv", "queries/agents.sql", "queries/renamed.sql")
    diff = changed_lines(repo, "main")
    assert diff.lines == {"queries/renamed.sql": set(), "queries/agents.sql": set()}
    assert diff.deleted == {"queries/agents.sql"}
    assert reported(gate(repo)) == []


def test_renaming_a_migration_counts_as_touching_the_schema(repo):
    put(repo, "migrations/001_init.sql", MIGRATION.replace("CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n", ""))
    put(repo, "migrations/002_calls_index.sql", "CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n")
    commit(repo, "index in its own migration")
    git(repo, "branch", "-f", "main")
    # Renamed to run first, the index is created before its table exists.
    git(repo, "mv", "migrations/002_calls_index.sql", "migrations/000_calls_index.sql")
    assert [code for code, _, _ in reported(gate(repo))] == ["ORG002"]


def test_not_a_git_repository(tmp_path):
    with pytest.raises(OrgscopeError, match="not inside a git repository"):
        changed_lines(tmp_path, "main")


def test_unknown_revision(repo):
    with pytest.raises(OrgscopeError, match="unknown revision 'origin/nope' for --diff-base"):
        changed_lines(repo, "origin/nope")


def test_unrelated_histories_have_no_merge_base(repo):
    git(repo, "checkout", "-q", "--orphan", "other")
    commit(repo, "unrelated")
    with pytest.raises(OrgscopeError, match="no common ancestor.*fetch-depth: 0"):
        changed_lines(repo, "main")


# --- the gate from the command line -----------------------------------------------------


def test_old_findings_are_not_reported_when_nothing_changed(repo):
    result = gate(repo)
    assert reported(result) == []
    assert result.exit_code == 0
    # Without the gate the old leak is there.
    os.chdir(repo)
    try:
        full = CliRunner().invoke(main, ["check", "--no-cache", "--format", "json"])
    finally:
        os.chdir(repo.parent)
    assert reported(full) == [("ORG001", "queries/agents.sql", 5)]


def test_a_new_leak_in_a_changed_file_and_in_a_new_file(repo):
    put(repo, "queries/agents.sql", OLD_QUERIES + "\n-- name: delete_agent\nDELETE FROM agents WHERE id = $1;\n")
    put(repo, "queries/calls.sql", "SELECT * FROM calls WHERE agent_id = $1;\n")
    result = gate(repo)
    assert reported(result) == [("ORG001", "queries/agents.sql", 14), ("ORG001", "queries/calls.sql", 1)]
    assert result.exit_code == 1


def test_committed_and_uncommitted_changes_both_count(repo):
    put(repo, "queries/calls.sql", "SELECT * FROM calls WHERE agent_id = $1;\n")
    commit(repo)
    put(repo, "queries/agents.sql", OLD_QUERIES + "SELECT * FROM agents;\n")
    assert reported(gate(repo)) == [("ORG001", "queries/agents.sql", 12), ("ORG001", "queries/calls.sql", 1)]


def test_removing_the_org_predicate_of_a_multiline_query_is_reported(repo):
    # The changed line is gone; the finding is on the FROM line two lines up.
    put(repo, "queries/agents.sql", OLD_QUERIES.replace("WHERE id = $1\n  AND clerk_org_id = $2;", "WHERE id = $1;"))
    assert reported(gate(repo)) == [("ORG001", "queries/agents.sql", 9)]


def test_an_edit_inside_a_statement_reports_its_finding(repo):
    put(repo, "queries/agents.sql", OLD_QUERIES.replace("SELECT * FROM calls;", "SELECT *\nFROM calls\nLIMIT 100;"))
    assert reported(gate(repo)) == [("ORG001", "queries/agents.sql", 6)]


def test_a_change_next_to_an_old_leak_does_not_report_it(repo):
    put(repo, "queries/agents.sql", OLD_QUERIES.replace("-- name: get_agent", "-- name: get_agent_by_id"))
    assert reported(gate(repo)) == []


def test_schema_findings_are_reported_when_a_migration_changes(repo):
    # The org index of calls disappears in a new migration.
    put(repo, "migrations/002_drop.sql", "DROP INDEX idx_calls_clerk_org_id;\n")
    assert reported(gate(repo)) == [("ORG002", "migrations/002_drop.sql", 1)]


def test_old_schema_findings_stay_quiet_and_new_ones_surface_when_a_migration_changes(repo):
    put(repo, "migrations/001_init.sql", MIGRATION.replace("CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n", ""))
    commit(repo, "no calls index")
    git(repo, "branch", "-f", "main")  # the missing index is now old news on main
    put(repo, "queries/new.sql", "SELECT id FROM calls WHERE clerk_org_id = $1;\n")
    assert reported(gate(repo)) == []  # no migration touched: the old ORG002 stays quiet
    put(repo, "migrations/002_users.sql", "CREATE TABLE users (id uuid PRIMARY KEY, client_id uuid);\n")
    assert reported(gate(repo)) == []  # a migration changed, but the missing calls index is as old as main
    put(repo, "migrations/003_voices.sql", "CREATE TABLE voices (id uuid PRIMARY KEY, clerk_org_id text);\n")
    assert reported(gate(repo)) == [("ORG002", "migrations/003_voices.sql", 1)]


def test_deleting_the_migration_that_made_the_index_is_reported(repo):
    put(repo, "migrations/001_init.sql", MIGRATION.replace("CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n", ""))
    put(repo, "migrations/002_calls_index.sql", "CREATE INDEX idx_calls_clerk_org_id ON calls (clerk_org_id);\n")
    commit(repo, "index in its own migration")
    git(repo, "branch", "-f", "main")
    (repo / "migrations/002_calls_index.sql").unlink()
    # The finding sits in a file this branch did not change.
    assert reported(gate(repo)) == [("ORG002", "migrations/001_init.sql", 3)]


def test_gate_with_a_baseline_reports_a_new_copy_of_a_baselined_statement(repo):
    os.chdir(repo)
    try:
        assert CliRunner().invoke(main, ["check", "--no-cache", "--write-baseline", "baseline.json"]).exit_code == 0
    finally:
        os.chdir(repo.parent)
    commit(repo, "baseline")
    git(repo, "branch", "-f", "main")
    # The same leaking statement again: its fingerprint is the second of its
    # kind in the file, whatever the gate filters out.
    put(repo, "queries/agents.sql", OLD_QUERIES + "\n-- name: legacy_export_again\nSELECT * FROM calls;\n")
    result = gate(repo, "--baseline", "baseline.json")
    assert reported(result) == [("ORG001", "queries/agents.sql", 14)]


def test_gate_errors_are_one_line_and_exit_2(repo, tmp_path):
    result = gate(repo, base="no-such-branch")
    assert result.exit_code == 2
    assert result.stderr.strip() == "orgscope: error: unknown revision 'no-such-branch' for --diff-base"
    plain = tmp_path / "plain"
    plain.mkdir()
    put(plain, "q.sql", "SELECT * FROM agents;\n")
    result = gate(plain)
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_that_becomes_unanalysable_is_reported_wherever_the_change_is(repo):
    put(repo, ".orgscope.yaml", "max_file_bytes: 400\n")
    commit(repo, "config")
    git(repo, "branch", "-f", "main")
    put(repo, "queries/agents.sql", OLD_QUERIES + "-- a long comment that takes the file over the limit\n" * 4)
    result = gate(repo)
    assert reported(result) == [("ORG900", "queries/agents.sql", 1)]
    # A statement that does not parse is reported only when the change is on it.
    put(repo, "queries/agents.sql", OLD_QUERIES.replace("SELECT * FROM calls;", "SELECT * FROM calls WHERE;"))
    put(repo, ".orgscope.yaml", "max_file_bytes: 0\n")
    assert reported(gate(repo)) == [("ORG900", "queries/agents.sql", 5)]
    put(repo, "queries/agents.sql", OLD_QUERIES.replace("SELECT * FROM calls;", "SELECT * FROM calls WHERE;")
        .replace("-- name: list_agents", "-- name: list_all_agents"))
    commit(repo, "broken statement")
    git(repo, "branch", "-f", "main")
    put(repo, "queries/agents.sql", (repo / "queries/agents.sql").read_text() + "SELECT 1;\n")
    assert reported(gate(repo)) == []

"""orgscope as a pre-commit hook (SPEC sections 4 and 9).

pre-commit passes only the staged files, yet orgscope judges them with what
the whole project knows (the replayed migrations, the model catalog), reports
only on the staged files, and reports schema findings only when a migration
is among them. The last test installs the hook from this checkout with
pre-commit itself and commits in a throw-away repository.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import brief

THIS_REPO = Path(__file__).resolve().parents[1]

MIGRATION = """\
CREATE TABLE agents (id uuid PRIMARY KEY, clerk_org_id text NOT NULL);
CREATE TABLE memberships (id uuid PRIMARY KEY, agent_id uuid, clerk_org_id text NOT NULL);
"""
# `clerk_org_id` is ambiguous here only because the migration gave memberships
# the column too: PostgreSQL would refuse it, and it scopes neither table.
AMBIGUOUS = "SELECT a.id FROM agents a JOIN memberships m ON m.agent_id = a.id WHERE clerk_org_id = $1;\n"
SCOPED = "SELECT id FROM agents WHERE clerk_org_id = $1;\n"
LEAK = "SELECT id FROM agents WHERE id = $1;\n"

PROJECT = {
    "migrations/001_init.sql": MIGRATION,
    "queries/ambiguous.sql": AMBIGUOUS,
    "queries/scoped.sql": SCOPED,
    "queries/leak.sql": LEAK,
}


def test_staged_query_knows_the_schema_of_files_not_staged(lint):
    findings = lint(PROJECT, paths=["queries/ambiguous.sql"])
    assert [(f.path, f.code) for f in findings] == [("queries/ambiguous.sql", "ORG001")]


def test_without_the_migration_the_same_query_would_pass(lint):
    # The counterpart of the test above: the finding comes from the project's schema.
    assert lint({"queries/ambiguous.sql": AMBIGUOUS}) == []


def test_only_the_given_files_are_reported(lint):
    assert lint(PROJECT, paths=["queries/scoped.sql"]) == []
    assert brief(lint(PROJECT, paths=["queries/leak.sql", "queries/scoped.sql"])) == [("ORG001", 1, 16)]


def test_schema_findings_only_when_a_migration_is_given(lint):
    # agents has no org index: ORG002 belongs to the migration.
    assert "ORG002" not in {f.code for f in lint(PROJECT, paths=["queries/leak.sql"])}
    findings = lint(PROJECT, paths=["migrations/001_init.sql"])
    assert [(f.path, f.code, f.table) for f in findings] == [("migrations/001_init.sql", "ORG002", "agents")]


def test_the_hook_manifest():
    [hook] = yaml.safe_load((THIS_REPO / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "orgscope"
    assert hook["entry"] == "orgscope check"
    assert hook["language"] == "python"
    assert hook["types_or"] == ["python", "sql"]
    assert hook["require_serial"] is True
    assert hook.get("pass_filenames", True) is True


# --- the real thing ----------------------------------------------------------------------

HAS_PRE_COMMIT = importlib.util.find_spec("pre_commit") is not None


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.skipif(shutil.which("git") is None, reason="SKIPPED LOUDLY: git is not installed, the pre-commit hook is untested")
@pytest.mark.skipif(not HAS_PRE_COMMIT, reason="SKIPPED LOUDLY: pre-commit is not installed (pip install -e '.[test]'), "
                    "the pre-commit hook is untested")
def test_pre_commit_installs_the_hook_from_this_checkout_and_blocks_a_leak(tmp_path):
    """pre-commit builds a virtualenv, pip-installs this repository at its
    committed HEAD (it needs PyPI for the dependencies), and runs the hook on
    each commit: a clean commit goes through, an unscoped query is refused
    with the finding printed."""
    if not (THIS_REPO / ".git").exists():
        pytest.skip("SKIPPED LOUDLY: this checkout is not a git repository; pre-commit cannot install from it")
    env = {
        **os.environ,
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "PRE_COMMIT_COLOR": "never",
        "NO_COLOR": "1",
    }
    for key in list(env):
        if key.startswith("GIT_") and key not in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM"):
            env.pop(key)  # a surrounding git hook's GIT_DIR / GIT_INDEX_FILE must not leak in
    head = _run(["git", "rev-parse", "HEAD"], THIS_REPO, env)
    assert head.returncode == 0, head.stderr
    rev = head.stdout.strip()

    repo = tmp_path / "app"
    repo.mkdir()

    def git(*args: str) -> subprocess.CompletedProcess:
        return _run(["git", *args], repo, env)

    assert git("init", "-q").returncode == 0
    git("config", "user.name", "Dev")
    git("config", "user.email", "dev@example.com")
    config = {"repos": [{"repo": str(THIS_REPO), "rev": rev, "hooks": [{"id": "orgscope"}]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    (repo / ".gitignore").write_text(".orgscope_cache/\n")
    (repo / "migrations").mkdir()
    (repo / "queries").mkdir()
    (repo / "migrations/001_init.sql").write_text(
        MIGRATION + "CREATE INDEX idx_agents_clerk_org_id ON agents (clerk_org_id);\n"
    )
    (repo / "queries/agents.sql").write_text(SCOPED)
    installed = _run([sys.executable, "-m", "pre_commit", "install"], repo, env)
    assert installed.returncode == 0, installed.stdout + installed.stderr

    git("add", ".")
    clean = git("commit", "-m", "clean schema and scoped query")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "orgscope" in clean.stdout + clean.stderr  # the hook ran (and passed)

    (repo / "queries/leak.sql").write_text("-- name: get_agent\n" + LEAK)
    git("add", "queries/leak.sql")
    leak = git("commit", "-m", "add a leaking query")
    output = leak.stdout + leak.stderr
    assert leak.returncode != 0, output
    assert "queries/leak.sql:2:16: ORG001" in output
    assert "Failed" in output
    assert git("rev-list", "--count", "HEAD").stdout.strip() == "1"  # the commit was refused

    # The staged query is judged with the schema of files that are not staged.
    (repo / "queries/leak.sql").write_text(AMBIGUOUS)
    git("add", "queries/leak.sql")
    ambiguous = git("commit", "-m", "a query scoped by an ambiguous column")
    assert ambiguous.returncode != 0
    assert "queries/leak.sql:1:18: ORG001" in ambiguous.stdout + ambiguous.stderr

    (repo / "queries/leak.sql").write_text(SCOPED)
    git("add", "queries/leak.sql")
    fixed = git("commit", "-m", "scope the query")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert git("rev-list", "--count", "HEAD").stdout.strip() == "2"

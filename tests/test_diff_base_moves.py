"""`--diff-base` reports what the branch made new: a finding whose fingerprint
(rule, path, table, normalised statement) already exists at the merge-base is
not reported, so moving a query or a function never fails a pull request."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")

GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "Dev",
           "GIT_AUTHOR_EMAIL": "dev@example.com", "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"}

MIGRATION = "CREATE TABLE agents (id int, clerk_org_id text);\nCREATE INDEX ON agents (clerk_org_id);\n"
OLD_SQL = "SELECT * FROM agents WHERE clerk_org_id = $1;\n\nSELECT * FROM agents WHERE id = $1;\n"
OLD_PY = '''\
def scoped(db, org):
    """A long function, so that git keeps it in place and moves the short one."""
    rows = db.execute("SELECT * FROM agents WHERE clerk_org_id = %s", (org,))
    names = [row.name for row in rows]
    names.sort()
    return names


def leak(db):
    return db.execute("SELECT * FROM agents WHERE id = %s", (1,))
'''

# name -> (files on the branch, findings `path:line CODE` expected from --diff-base main)
CASES = {
    "a query reformatted onto three lines": (
        {"q.sql": OLD_SQL.replace("SELECT * FROM agents WHERE id = $1;", "SELECT *\nFROM agents\nWHERE id = $1;")},
        []),
    "a function wrapped in a class": (
        {"app.py": OLD_PY.replace("def leak(db):\n    return", "class Repo:\n    def leak(db):\n        return")},
        []),
    "a function moved above another": (
        {"app.py": OLD_PY.split("\n\n\n")[1] + "\n\n" + OLD_PY.split("\n\n\n")[0] + "\n"}, []),
    "control: a new unscoped query": (
        {"q.sql": OLD_SQL + "SELECT * FROM agents WHERE name = $1;\n"}, ["q.sql:4 ORG001"]),
    "control: the old leak copied once more": (
        {"q.sql": OLD_SQL + "SELECT * FROM agents WHERE id = $1;\n"}, ["q.sql:4 ORG001"]),
    "control: a scoped query made unscoped": (
        {"q.sql": OLD_SQL.replace("clerk_org_id = $1", "id = $2")}, ["q.sql:1 ORG001"]),
}


def _git(root: Path, *args: str) -> None:
    proc = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("branch, expected", list(CASES.values()), ids=list(CASES))
def test_only_findings_new_since_the_merge_base_are_reported(tmp_path, branch, expected):
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "001.sql").write_text(MIGRATION)
    (tmp_path / "q.sql").write_text(OLD_SQL)
    (tmp_path / "app.py").write_text(OLD_PY)
    _git(tmp_path, "init", "-q", "-b", "main")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "base")
    _git(tmp_path, "checkout", "-qb", "feature")
    for rel, text in branch.items():
        (tmp_path / rel).write_text(text)
    _git(tmp_path, "commit", "-qam", "change")
    done = subprocess.run([sys.executable, "-m", "orgscope", "check", "--format", "json", "--diff-base", "main"],
                          cwd=tmp_path, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, timeout=120)
    found = [f"{f['path']}:{f['line']} {f['code']}" for f in json.loads(done.stdout)["findings"]]
    assert found == expected, done.stderr
    assert done.returncode == (1 if expected else 0)
    full = subprocess.run([sys.executable, "-m", "orgscope", "check", "--format", "json", "--no-cache"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert json.loads(full.stdout)["findings"], "the old leaks are still there without --diff-base"

"""Discovery fails closed (SPEC section 8): a path that is not there is an
error, standard input is a path (`-`), a run that checked nothing says so in
every format, and inside git the files are git's, so a tracked folder that
happens to be called `env/` or `build/` is checked."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import write_tree
from orgscope.report import FORMATS

UNSCOPED = "SELECT * FROM agents WHERE id = $1;\n"
SCOPED = "SELECT * FROM agents WHERE clerk_org_id = $1;\n"
PY_UNSCOPED = 'def f(db):\n    return db.execute("SELECT * FROM agents WHERE id = %s", (1,))\n'


def orgscope(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orgscope", *args], cwd=root, input=stdin,
                          capture_output=True, text=True, timeout=120)


def _codes(stdout: str) -> list[str]:
    """`path:line:col: CODE` of each concise finding line."""
    return [line.split(" [")[0] for line in stdout.splitlines() if " [" in line]


@pytest.mark.parametrize("missing", ["does-not-exist/", "queries/gone.sql", "queries/*.sql"])
def test_a_path_that_does_not_exist_is_one_line_and_exit_2(tmp_path, missing):
    write_tree(tmp_path, {"queries/a.sql": UNSCOPED})
    done = orgscope(tmp_path, "check", "--no-cache", "queries/a.sql", missing)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"orgscope: error: {missing.rstrip('/')}: no such file or directory\n"
    control = orgscope(tmp_path, "check", "--no-cache", "--format", "concise", "queries/a.sql")
    assert control.returncode == 1 and _codes(control.stdout) == ["queries/a.sql:1:15: ORG001"]


STDIN_CASES = [
    # (--stdin-filename or None, text, concise findings)
    (None, UNSCOPED, ["-:1:15: ORG001"]),
    (None, SCOPED, []),
    ("queries/report.sql", UNSCOPED, ["queries/report.sql:1:15: ORG001"]),
    ("app/db.py", PY_UNSCOPED, ["app/db.py:2:38: ORG001"]),
    ("app/db.py", "def f(db):\n    return db.execute('SELECT 1')\n", []),
    # The text stands in for the file on disk: what is on disk is not judged.
    ("queries/on_disk.sql", SCOPED, []),
]


@pytest.mark.parametrize("name, text, expected", STDIN_CASES)
def test_dash_reads_standard_input(tmp_path, name, text, expected):
    write_tree(tmp_path, {"queries/on_disk.sql": UNSCOPED,
                          "migrations/001.sql": "CREATE TABLE agents (id int, clerk_org_id text);\n"})
    args = ["check", "--no-cache", "--format", "concise", "-"] + (["--stdin-filename", name] if name else [])
    done = orgscope(tmp_path, *args, stdin=text)
    assert _codes(done.stdout) == expected, done.stdout + done.stderr
    assert done.returncode == (1 if expected else 0)
    assert "checked 1 file" in done.stdout


def test_stdin_filename_needs_a_source_kind(tmp_path):
    done = orgscope(tmp_path, "check", "-", "--stdin-filename", "notes.txt", stdin=UNSCOPED)
    assert done.returncode == 2 and "orgscope checks *.py and *.sql files" in done.stderr


# format -> does the output itself carry the note (gitlab's list of issues and json-lines' findings
# have no room for one; the JSON object of SPEC section 9 has fixed keys and says `"files": 0`)
NOTE_IN_OUTPUT = {"text": True, "concise": True, "json": True, "json-lines": False, "sarif": True, "github": True,
                  "junit": True, "gitlab": False}


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_run_that_checked_no_file_says_so_in_every_format(tmp_path, fmt):
    write_tree(tmp_path, {"docs/readme.md": "nothing to check\n", "queries/a.sql": UNSCOPED})
    done = orgscope(tmp_path, "check", "--no-cache", "--format", fmt, "docs")
    assert done.returncode == 0
    assert "no file was checked" in done.stderr
    assert ("no file was checked" in done.stdout.lower()) == NOTE_IN_OUTPUT[fmt]
    assert "All checks passed" not in done.stdout
    if fmt == "json":
        assert json.loads(done.stdout)["summary"]["files"] == 0
    control = orgscope(tmp_path, "check", "--no-cache", "--format", fmt, "queries")
    assert "no file was checked" not in control.stderr + control.stdout.lower()


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


GIT_TREE = {
    "app/env/db.py": PY_UNSCOPED,  # tracked: checked although named like a virtualenv
    "app/build/q.sql": UNSCOPED,  # tracked: checked although named like a build folder
    "app/new.sql": UNSCOPED,  # untracked, not ignored: checked
    "app/ignored.sql": UNSCOPED,  # untracked, in .gitignore: not checked
    "app/local.sql": UNSCOPED,  # untracked, in .git/info/exclude: not checked
    ".venv/lib/site.py": PY_UNSCOPED,  # untracked virtualenv, ignored: not checked
}
IN_GIT = ["app/build/q.sql:1:15: ORG001", "app/env/db.py:2:38: ORG001", "app/new.sql:1:15: ORG001"]
# Outside git the built-in skip list and .gitignore decide.
OUTSIDE_GIT = ["app/local.sql:1:15: ORG001", "app/new.sql:1:15: ORG001"]


def _git_tree(root: Path, *, repository: bool) -> None:
    write_tree(root, {**GIT_TREE, ".gitignore": "app/ignored.sql\n.venv/\n"})
    if repository:
        _git(root, "init", "-q")
        (root / ".git" / "info").mkdir(exist_ok=True)
        (root / ".git" / "info" / "exclude").write_text("app/local.sql\n")
        _git(root, "add", ".gitignore", "app/env/db.py", "app/build/q.sql")


@pytest.mark.parametrize("repository, expected", [(True, IN_GIT), (False, OUTSIDE_GIT)], ids=["git", "no git"])
def test_inside_git_the_files_are_what_git_tracks_or_would_add(tmp_path, repository, expected):
    _git_tree(tmp_path, repository=repository)
    for args in ([], ["app"], ["."]):
        done = orgscope(tmp_path, "check", "--no-cache", "--format", "concise", *args)
        assert _codes(done.stdout) == expected, (args, done.stdout, done.stderr)


def test_outside_git_gitignore_files_at_every_level_and_links_decide_the_files(tmp_path):
    from orgscope.config import Config
    from orgscope.discover import Discoverer

    write_tree(tmp_path, {
        ".gitignore": "ign/\n",
        "a/.gitignore": "*.sql\n!keep.sql\n",
        "a/q.py": "", "a/keep.sql": "", "a/drop.sql": "",
        "a/b/.gitignore": "c/\n", "a/b/n.py": "", "a/b/c/m.py": "",
        "ign/z.py": "", "venv/v.py": "", "x/y.py": "", "migrations/001.sql": "",
    })
    (tmp_path / "a/b/link.py").symlink_to("../../x/y.py")  # a linked file is its target, found once
    (tmp_path / "a/b/dir_link").symlink_to("../../x", target_is_directory=True)  # a folder link is not followed
    found = [(f.rel, f.kind) for f in Discoverer(Config(root=tmp_path)).files([tmp_path], [])]
    assert found == [("a/b/n.py", "python"), ("a/keep.sql", "sql"), ("a/q.py", "python"),
                     ("migrations/001.sql", "migration"), ("x/y.py", "python")]

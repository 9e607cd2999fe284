"""SPEC section 7: baselines let an existing codebase adopt the gate and fail
only on new findings. The entries must survive lines moving and edits
elsewhere, and a new violation must never hide behind an old entry."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_tree
from orgscope.baseline import load_baseline, render_baseline
from orgscope.cli import main
from orgscope.config import Config
from orgscope.engine import Options, run
from orgscope.errors import OrgscopeError

LEAK = "SELECT id, name FROM agents WHERE id = $1;\n"
SCOPED = "SELECT id FROM calls WHERE clerk_org_id = $1;\n"


def check(root: Path, *args: str):
    """`orgscope check` in `root`, as a user runs it."""
    import os

    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, ["check", "--no-cache", *args])
    finally:
        os.chdir(old)


def findings(root: Path, *args: str) -> list[dict]:
    result = check(root, "--format", "json", *args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)["findings"]


@pytest.fixture
def repo(tmp_path):
    write_tree(tmp_path, {"queries/agents.sql": LEAK + SCOPED})
    return tmp_path


def write(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(textwrap.dedent(text), encoding="utf-8")


# --- writing -------------------------------------------------------------------


def test_write_baseline_records_every_finding_and_exits_zero(repo):
    result = check(repo, "--write-baseline", "baseline.json")
    assert result.exit_code == 0, result.output
    assert "Wrote 1 finding to the baseline baseline.json" in result.stdout
    data = json.loads((repo / "baseline.json").read_text())
    assert data["version"] == 1
    [entry] = data["findings"]
    assert set(entry) == {"code", "path", "table", "fingerprint", "message"}
    assert (entry["code"], entry["path"], entry["table"]) == ("ORG001", "queries/agents.sql", "agents")
    assert entry["fingerprint"] == findings(repo)[0]["fingerprint"]


def test_baseline_file_is_stable_and_sorted(repo):
    write(repo, "queries/b.sql", "SELECT * FROM voices;\nSELECT * FROM tools;\n")
    write(repo, "queries/a.sql", "DELETE FROM contacts WHERE id = $1;\n")
    assert check(repo, "--write-baseline", "one.json").exit_code == 0
    # Moving lines changes no entry: the file has no line numbers.
    write(repo, "queries/b.sql", "\n\n-- tools and voices\nSELECT * FROM voices;\n\nSELECT * FROM tools;\n")
    assert check(repo, "--write-baseline", "two.json").exit_code == 0
    one = (repo / "one.json").read_bytes()
    assert one == (repo / "two.json").read_bytes()
    entries = json.loads(one)["findings"]
    keys = [(e["path"], e["code"], e["table"]) for e in entries]
    assert keys == sorted(keys)
    assert [e["path"] for e in entries] == ["queries/a.sql", "queries/agents.sql", "queries/b.sql", "queries/b.sql"]


def test_write_baseline_refuses_to_overwrite_without_force(repo):
    (repo / "baseline.json").write_text("keep me\n")
    result = check(repo, "--write-baseline", "baseline.json")
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.stderr
    assert (repo / "baseline.json").read_text() == "keep me\n"
    result = check(repo, "--write-baseline", "baseline.json", "--force")
    assert result.exit_code == 0
    assert json.loads((repo / "baseline.json").read_text())["findings"][0]["code"] == "ORG001"


def test_write_baseline_of_a_clean_project_is_an_empty_list(tmp_path):
    write_tree(tmp_path, {"q.sql": SCOPED})
    assert check(tmp_path, "--write-baseline", "b.json").exit_code == 0
    assert json.loads((tmp_path / "b.json").read_text()) == {"version": 1, "findings": []}


def test_write_baseline_cannot_be_combined_with_filters(repo):
    check(repo, "--write-baseline", "b.json")
    for extra in (["--baseline", "b.json"], ["--diff-base", "HEAD"]):
        result = check(repo, "--write-baseline", "c.json", *extra)
        assert result.exit_code == 2
        assert not (repo / "c.json").exists()
    assert check(repo, "--force").exit_code == 2  # --force means nothing without --write-baseline


# --- checking against a baseline --------------------------------------------------


def baselined(repo: Path) -> None:
    assert check(repo, "--write-baseline", "baseline.json").exit_code == 0


def test_baselined_findings_are_not_reported(repo):
    baselined(repo)
    result = check(repo, "--baseline", "baseline.json")
    assert result.exit_code == 0, result.output
    assert "ORG001" not in result.stdout
    assert "All checks passed" in result.stdout


@pytest.mark.parametrize(
    "edited",
    [
        pytest.param("-- a header\n-- over several lines\n\n" + LEAK + SCOPED, id="lines-inserted-above"),
        pytest.param(LEAK + "SELECT id, status FROM calls WHERE clerk_org_id = $1 LIMIT 10;\n",
                     id="another-query-edited"),
        pytest.param(SCOPED + "\n\n" + LEAK, id="statements-reordered"),
        pytest.param("SELECT id,\n       name\n  FROM agents\n WHERE id = $1;\n" + SCOPED,
                     id="whitespace-reformatted-inside-the-statement"),
        pytest.param(LEAK.replace("SELECT", "select").replace("FROM", "from").replace("WHERE", "where") + SCOPED,
                     id="keyword-case-changed"),
    ],
)
def test_a_baselined_finding_survives_edits(repo, edited):
    baselined(repo)
    write(repo, "queries/agents.sql", edited)
    assert [f["code"] for f in findings(repo)] == ["ORG001"]  # still there without the baseline
    result = check(repo, "--baseline", "baseline.json")
    assert result.exit_code == 0, result.output
    assert "ORG001" not in result.stdout
    assert "no longer match" not in result.stdout  # the entry matched


def test_a_new_identical_violation_in_another_statement_is_reported(repo):
    baselined(repo)
    write(repo, "queries/agents.sql", LEAK + SCOPED + "\n" + LEAK)
    new = findings(repo, "--baseline", "baseline.json")
    assert [(f["code"], f["line"]) for f in new] == [("ORG001", 4)]


def test_a_new_violation_on_the_same_table_is_reported(repo):
    baselined(repo)
    write(repo, "queries/agents.sql", LEAK + SCOPED + "UPDATE agents SET name = $2 WHERE id = $1;\n")
    new = findings(repo, "--baseline", "baseline.json")
    assert [(f["code"], f["line"], f["table"]) for f in new] == [("ORG001", 3, "agents")]


def test_the_same_statement_in_another_file_is_not_covered(repo):
    baselined(repo)
    write(repo, "queries/copy.sql", LEAK)
    new = findings(repo, "--baseline", "baseline.json")
    assert [(f["path"], f["code"]) for f in new] == [("queries/copy.sql", "ORG001")]


def test_a_fixed_finding_is_reported_as_an_unmatched_entry(repo):
    baselined(repo)
    write(repo, "queries/agents.sql", "SELECT id, name FROM agents WHERE id = $1 AND clerk_org_id = $2;\n")
    result = check(repo, "--baseline", "baseline.json")
    assert result.exit_code == 0
    assert "1 baseline entry no longer matches" in result.stdout


def test_unmatched_entries_count_only_what_this_run_checked(repo):
    write(repo, "queries/other.sql", "SELECT * FROM voices;\n")
    baselined(repo)
    config = Config(root=repo)
    baseline = load_baseline(repo / "baseline.json")
    # A run over one file (pre-commit) does not call the other file's entry fixed.
    result = run([repo / "queries/agents.sql"], config, Options(use_cache=False), baseline=baseline)
    assert (result.findings, result.baseline_unmatched) == ([], 0)
    # Nor does a run of other rules.
    result = run([repo], config, Options(select=("ORG003",), use_cache=False), baseline=baseline)
    assert result.baseline_unmatched == 0
    # Fixing the finding does, and so does deleting the file that held one,
    # even in a run over other files.
    write(repo, "queries/other.sql", "SELECT * FROM voices WHERE clerk_org_id = $1;\n")
    result = run([repo], config, Options(use_cache=False), baseline=baseline)
    assert (result.findings, result.baseline_unmatched) == ([], 1)
    (repo / "queries/other.sql").unlink()
    result = run([repo / "queries/agents.sql"], config, Options(use_cache=False), baseline=baseline)
    assert (result.findings, result.baseline_unmatched) == ([], 1)


def test_json_output_with_a_baseline_lists_only_new_findings(repo):
    baselined(repo)
    write(repo, "queries/agents.sql", LEAK + SCOPED + "SELECT * FROM tools;\n")
    assert [f["table"] for f in findings(repo, "--baseline", "baseline.json")] == ["tools"]


# --- bad baseline files ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content, words",
    [
        (None, "baseline file not found"),
        (b"{not json", "invalid JSON at line 1"),
        (b"\xff\xfe\x00binary", "not UTF-8"),
        (b"[]", "expected a JSON object"),
        (b'{"version": 99, "findings": []}', "unsupported version 99"),
        (b'{"version": 1, "findings": {}}', "'findings' must be a list"),
        (b'{"version": 1, "findings": [{"code": "ORG001", "path": "q.sql"}]}', "findings[0].fingerprint"),
        (b'{"version": 1, "findings": ["x"]}', "findings[0] must be an object"),
        (b'{"version": 1, "findings": [{"code": "ORG001", "path": "q.sql", "fingerprint": "f", "table": 3}]}',
         "findings[0].table"),
    ],
)
def test_a_missing_or_corrupt_baseline_is_one_line_and_exit_2(repo, content, words):
    if content is not None:
        (repo / "baseline.json").write_bytes(content)
    result = check(repo, "--baseline", "baseline.json")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("orgscope: error: baseline.json: ")
    assert words in lines[0]
    assert "Traceback" not in result.output


def test_a_folder_as_baseline_is_a_clear_error(repo):
    (repo / "baseline.json").mkdir()
    with pytest.raises(OrgscopeError, match="folder"):
        load_baseline(repo / "baseline.json")


def test_render_baseline_keeps_one_entry_per_fingerprint(repo):
    result = run([repo], Config(root=repo), Options(use_cache=False))
    doubled = render_baseline(result.findings + result.findings)
    assert json.loads(doubled)["findings"] == json.loads(render_baseline(result.findings))["findings"]


def test_python_findings_survive_reformatting(tmp_path):
    write(tmp_path, "app.py", '''\
        def get(cur, sb, agent_id):
            cur.execute("SELECT * FROM agents WHERE id = %s", (agent_id,))
            return sb.table("agents").select("*").eq("id", agent_id).execute()
        ''')
    baselined(tmp_path)
    assert len(json.loads((tmp_path / "baseline.json").read_text())["findings"]) == 2
    write(tmp_path, "app.py", '''\
        import os


        def get(cur, sb, agent_id):
            cur.execute(
                "SELECT * FROM agents "
                "WHERE id = %s",
                (agent_id,),
            )
            return (
                sb.table("agents")
                .select("*")
                .eq("id", agent_id)
                .execute()
            )


        def delete(sb, agent_id):
            return sb.table("agents").delete().eq("id", agent_id).execute()
        ''')
    new = findings(tmp_path, "--baseline", "baseline.json")
    assert [(f["code"], f["line"]) for f in new] == [("ORG001", 19)]


def test_writing_the_baseline_over_a_folder_is_a_clear_error(repo):
    (repo / "baseline.json").mkdir()
    for extra in ([], ["--force"]):
        result = check(repo, "--write-baseline", "baseline.json", *extra)
        assert result.exit_code == 2
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
    assert (repo / "baseline.json").is_dir()

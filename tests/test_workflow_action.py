"""The composite GitHub Action (action.yml): its inputs, and its run step
executed by bash as the runner would, with this orgscope installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

THIS_REPO = Path(__file__).resolve().parents[1]
ACTION = yaml.safe_load((THIS_REPO / "action.yml").read_text())
STEPS = {step["name"]: step for step in ACTION["runs"]["steps"]}

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed: cannot run the action's steps")


def test_inputs_and_steps():
    assert ACTION["runs"]["using"] == "composite"
    assert set(ACTION["inputs"]) == {"paths", "args", "version", "python"}
    assert ACTION["inputs"]["paths"]["default"] == "."
    assert all(step["shell"] == "bash" for step in STEPS.values())
    # Inputs reach the scripts through the environment, never pasted into the
    # script text where a crafted value would run as shell code.
    for step in STEPS.values():
        assert "${{" not in step["run"]


def test_install_step_is_valid_bash():
    proc = subprocess.run(["bash", "-n"], input=STEPS["Install orgscope"]["run"], text=True, capture_output=True)
    assert proc.returncode == 0, proc.stderr


def run_step(cwd: Path, paths: str, args: str) -> subprocess.CompletedProcess:
    # The orgscope of the interpreter running the tests (its virtualenv need not be on PATH).
    beside = Path(sys.executable).parent / "orgscope"
    orgscope = str(beside) if beside.exists() else shutil.which("orgscope")
    assert orgscope, "the orgscope command is not installed"
    env = {**os.environ, "ORGSCOPE": orgscope, "INPUT_PATHS": paths, "INPUT_ARGS": args}
    return subprocess.run(["bash", "-c", STEPS["Run orgscope"]["run"]], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "queries").mkdir()
    (tmp_path / "queries" / "leak.sql").write_text("SELECT * FROM agents WHERE id = $1;\n")
    (tmp_path / "queries" / "ok.sql").write_text("SELECT * FROM agents WHERE clerk_org_id = $1;\n")
    return tmp_path


def test_run_step_annotates_findings_and_fails(workspace):
    proc = run_step(workspace, ".", "--no-cache")
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.startswith("::error file=queries/leak.sql,line=1,")
    assert "ORG001" in proc.stdout


def test_run_step_passes_paths_and_args_through_without_globbing(workspace):
    proc = run_step(workspace, "queries/ok.sql", "--no-cache --select ORG001")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # A glob in an input is a literal path, not every file it would match:
    # no file has that name, which is an error, not a pass.
    proc = run_step(workspace, "queries/*.sql", "--no-cache")
    assert proc.returncode == 2
    assert proc.stderr == "orgscope: error: queries/*.sql: no such file or directory\n"
    assert "ORG001" not in proc.stdout


def test_run_step_reports_usage_errors(workspace):
    proc = run_step(workspace, ".", "--select NOPE")
    assert proc.returncode == 2
    assert "unknown rule code" in proc.stderr


def test_the_documented_workflow_uses_the_action_inputs():
    doc = (THIS_REPO / "README.md").read_text()
    blocks = [textwrap.dedent(b.split("```", 1)[0]) for b in doc.split("```yaml\n")[1:]]
    workflows = [yaml.safe_load(b) for b in blocks if "jobs:" in b]
    assert workflows, "README.md shows no GitHub Actions workflow"
    for workflow in workflows:
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "orgscope" in str(step.get("uses", "")):
                    assert set(step.get("with", {})) <= set(ACTION["inputs"])


# args -> (exit code, does stdout hold annotations, the file the report went to or None)
FORMAT_CASES = {
    "no format asked: annotations": ("--no-cache", True, None),
    "SARIF to a file": ("--no-cache --format sarif --output report.sarif", False, "report.sarif"),
    "--output-format=json": ("--no-cache --output-format=json --output report.json", False, "report.json"),
    "-f concise": ("--no-cache -f concise", False, None),
}


@pytest.mark.parametrize("args, annotations, report", list(FORMAT_CASES.values()), ids=list(FORMAT_CASES))
def test_run_step_appends_the_github_format_only_when_none_was_asked(workspace, args, annotations, report):
    proc = run_step(workspace, ".", args)
    assert proc.returncode == 1, proc.stderr
    assert ("::error " in proc.stdout) == annotations
    if report is not None:
        text = (workspace / report).read_text()
        assert "::error" not in text and text.lstrip().startswith("{")


def test_install_step_installs_only_the_actions_own_revision(tmp_path):
    script = STEPS["Install orgscope"]["run"]
    assert "==" not in script and '"$ACTION_PATH"' in script
    env = {**os.environ, "INPUT_VERSION": "9.9.9", "INPUT_PYTHON": "false", "ACTION_PATH": str(THIS_REPO),
           "GITHUB_OUTPUT": str(tmp_path / "out")}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "not 9.9.9" in proc.stdout and "pin the action" in proc.stdout

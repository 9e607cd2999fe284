"""The command line as a developer meets it: exit codes 0/1/2, the output
options, `orgscope init`, `--version` and every command's help."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from pathlib import Path

import click
import pytest

from conftest import cli, write_tree
from orgscope import __version__
from orgscope.cli import main
from orgscope.config import Config, find_config, load_config
from orgscope.init_config import configurable_keys, toml_section, yaml_stub
from orgscope.rules import known_codes

FILES = {
    "queries/agents.sql": """\
        SELECT id FROM agents WHERE id = $1;
        SELECT id FROM calls WHERE client_id = $1;
        DELETE FROM voices WHERE id = $1;
        """,
    "queries/clean.sql": "SELECT id FROM agents WHERE clerk_org_id = $1;\n",
}


@pytest.fixture
def project(tmp_path):
    write_tree(tmp_path, FILES)
    return tmp_path


def check(root: Path, *args: str):
    return cli(root, "check", "--no-cache", *args)


# --- exit codes -------------------------------------------------------------------------


def test_exit_codes(project, tmp_path_factory):
    assert check(project).exit_code == 1
    clean = tmp_path_factory.mktemp("clean")
    write_tree(clean, {"q.sql": FILES["queries/clean.sql"]})
    result = check(clean)
    assert (result.exit_code, result.stdout.startswith("All checks passed")) == (0, True)
    (project / ".orgscope.yaml").write_text("fail_on: sometimes\n")
    result = check(project)
    assert result.exit_code == 2
    assert result.stderr.startswith("orgscope: error: ") and "fail_on" in result.stderr


def test_fail_on_warning_counts_warnings(project):
    (project / ".orgscope.yaml").write_text("severity: {ORG001: warning, ORG003: warning}\n")
    assert check(project).exit_code == 0
    assert check(project, "--fail-on", "warning").exit_code == 1


# --- output options ---------------------------------------------------------------------


def test_statistics_counts_findings_per_rule(project):
    result = check(project, "--statistics")
    assert result.exit_code == 1
    assert statistics_rows(result.stdout) == [["2", "ORG001", "unscoped-query"], ["1", "ORG003", "client-id-scoping"]]
    assert statistics_rows(check(project).stdout) == []


def statistics_rows(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines() if re.match(r"^\s+\d+\s+ORG\d{3}\s", line)]


def test_quiet_prints_nothing_but_keeps_the_exit_code(project):
    result = check(project, "--quiet")
    assert (result.exit_code, result.output) == (1, "")
    result = check(project, "-q", "--select", "ORG006")
    assert (result.exit_code, result.output) == (0, "")


def test_show_source_shows_the_line_and_a_caret(project):
    shown = check(project).stdout
    assert " 1 | SELECT id FROM agents WHERE id = $1;" in shown
    assert "   |                ^^^^^^" in shown
    hidden = check(project, "--no-show-source").stdout
    assert "queries/agents.sql:1:16: ORG001" in hidden
    assert "|" not in hidden and "^" not in hidden


def test_output_writes_the_report_to_a_file(project):
    result = check(project, "--format", "json", "--output", "report.json")
    assert (result.exit_code, result.stdout) == (1, "")
    report = json.loads((project / "report.json").read_text())
    assert report["summary"]["findings"] == 3
    # The report file is replaced on the next run.
    result = check(project, "--format", "concise", "--output", "report.json")
    assert (result.exit_code, result.stdout) == (1, "")
    assert (project / "report.json").read_text().startswith("queries/agents.sql:1:16: ORG001 [error]")


def test_select_and_ignore(project):
    codes = lambda result: [f["code"] for f in json.loads(result.stdout)["findings"]]  # noqa: E731
    result = check(project, "--format", "json", "--select", "ORG003")
    assert (result.exit_code, codes(result)) == (1, ["ORG003"])
    result = check(project, "--format", "json", "--ignore", "ORG001,ORG003")
    assert (result.exit_code, codes(result)) == (0, [])
    result = check(project, "--format", "json", "--select", "org001", "--select", "ORG003")
    assert codes(result) == ["ORG001", "ORG003", "ORG001"]


def test_unknown_rule_code_is_a_usage_error(project):
    result = check(project, "--select", "ORG999")
    assert result.exit_code == 2
    assert "unknown rule code 'ORG999'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# --- version and help ---------------------------------------------------------------------


def test_version(project):
    result = cli(project, "--version")
    assert (result.exit_code, result.stdout.strip()) == (0, f"orgscope, version {__version__}")


@pytest.mark.parametrize("command", ["", *sorted(main.commands)])
def test_every_help_says_what_it_does_with_an_example(project, command):
    result = cli(project, *([command] if command else []), "--help")
    assert result.exit_code == 0
    assert "Example" in result.stdout
    assert re.search(rf"^\s+orgscope {command}", result.stdout, re.MULTILINE)  # an example command line


def test_the_workflow_commands_are_there():
    assert {"check", "fix", "init"} <= set(main.commands)
    params = {p.name for p in main.commands["check"].params if isinstance(p, click.Option)}
    assert {"diff_base", "baseline_path", "write_baseline_path", "force"} <= params


# --- init ------------------------------------------------------------------------------------


def defaults_loaded_from(path: Path) -> Config:
    return load_config(path, path.parent, known_codes())


def comparable(config: Config) -> dict:
    return {key: getattr(config, key) for key in configurable_keys()}


def test_init_writes_a_commented_yaml_that_loads_and_changes_nothing(tmp_path):
    result = cli(tmp_path, "init")
    assert result.exit_code == 0, result.output
    path = tmp_path / ".orgscope.yaml"
    assert find_config(tmp_path) == path
    config = defaults_loaded_from(path)
    assert comparable(config) == comparable(Config(root=tmp_path))
    text = path.read_text()
    for key in configurable_keys():
        assert re.search(rf"^#\s+{key}: ", text, re.MULTILINE), key


def test_the_defaults_written_in_the_stub_are_the_real_defaults(tmp_path):
    """Uncommenting every `# key: value` line must load and give the defaults."""
    uncommented = re.sub(r"^# (\w+: )", r"\1", yaml_stub(), flags=re.MULTILINE)
    path = tmp_path / ".orgscope.yaml"
    path.write_text(uncommented)
    raw_keys = re.findall(r"^(\w+):", uncommented, re.MULTILINE)
    assert set(raw_keys) == set(configurable_keys()) - {"rule_pack", "cache_dir"}  # examples, not defaults
    assert comparable(defaults_loaded_from(path)) == comparable(Config(root=tmp_path))

    pyproject = tmp_path / "sub" / "pyproject.toml"
    pyproject.parent.mkdir()
    pyproject.write_text(re.sub(r"^# (\w+ = )", r"\1", toml_section(), flags=re.MULTILINE))
    assert comparable(defaults_loaded_from(pyproject)) == comparable(Config(root=tmp_path))


def test_every_config_key_is_documented():
    documented = set(configurable_keys())
    assert documented == {f.name for f in fields(Config)} - {"root", "source"}
    assert all(key in yaml_stub() and key in toml_section() for key in documented)


def test_init_never_overwrites_without_force(tmp_path):
    path = tmp_path / ".orgscope.yaml"
    path.write_text("fail_on: warning\n")
    result = cli(tmp_path, "init")
    assert result.exit_code == 2
    assert "already exists; pass --force" in result.stderr
    assert path.read_text() == "fail_on: warning\n"
    assert cli(tmp_path, "init", "--force").exit_code == 0
    assert path.read_text() == yaml_stub()


def test_init_pyproject_appends_a_section_and_keeps_the_rest(tmp_path):
    original = '[project]\nname = "app"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 100'  # no final newline
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(original)
    result = cli(tmp_path, "init", "--pyproject")
    assert result.exit_code == 0, result.output
    text = pyproject.read_text()
    assert text.startswith(original + "\n\n[tool.orgscope]\n")
    assert find_config(tmp_path) == pyproject
    assert comparable(defaults_loaded_from(pyproject)) == comparable(Config(root=tmp_path))
    # The project still checks, with the new (empty) section.
    write_tree(tmp_path, {"q.sql": "SELECT id FROM agents WHERE clerk_org_id = $1;\n"})
    assert check(tmp_path).exit_code == 0


def test_init_pyproject_never_clobbers_an_existing_section(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    original = '[tool.orgscope]\nfail_on = "warning"\n'
    pyproject.write_text(original)
    for args in (["--pyproject"], ["--pyproject", "--force"]):
        result = cli(tmp_path, "init", *args)
        assert result.exit_code == 2
        assert pyproject.read_text() == original
    assert "already has a [tool.orgscope] section" in cli(tmp_path, "init", "--pyproject").stderr


def test_init_pyproject_creates_the_file_and_refuses_broken_toml(tmp_path):
    assert cli(tmp_path, "init", "--pyproject").exit_code == 0
    assert (tmp_path / "pyproject.toml").read_text() == toml_section()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "pyproject.toml").write_text("[project\nname = 1\n")
    result = cli(broken, "init", "--pyproject")
    assert result.exit_code == 2
    assert "invalid TOML" in result.stderr
    assert (broken / "pyproject.toml").read_text() == "[project\nname = 1\n"

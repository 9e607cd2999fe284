"""The options ruff users reach for, each with the control beside it."""

from __future__ import annotations

import io
import json
import time

import pytest

from conftest import cli, write_tree

TREE = {
    "queries/a.sql": "SELECT * FROM agents WHERE id = $1;\nSELECT * FROM agents WHERE id = 1 AND;\n",
    "tests/t.sql": "SELECT * FROM agents WHERE id = $1;\n",
    "queries/ok.sql": "SELECT * FROM agents WHERE clerk_org_id = $1;\n",
}
ALL_FOUND = ["queries/a.sql:1 ORG001", "queries/a.sql:2 ORG900", "tests/t.sql:1 ORG001"]

# (config file or None, arguments, expected findings, exit code)
CASES = {
    "control: everything": (None, [], ALL_FOUND, 1),
    "--exit-zero": (None, ["--exit-zero"], ALL_FOUND, 0),
    "--select by prefix": (None, ["--select", "ORG9"], ["queries/a.sql:2 ORG900"], 0),
    "--select ALL --ignore ORG0": (None, ["--select", "ALL", "--ignore", "ORG0"], ["queries/a.sql:2 ORG900"], 0),
    "--ignore by prefix": (None, ["--ignore", "ORG00"], ["queries/a.sql:2 ORG900"], 0),
    "--extend-select adds to the config's select": (
        "select: [ORG9]\n", ["--extend-select", "ORG001"], ALL_FOUND, 1),
    "control: the config's select alone": ("select: [ORG9]\n", [], ["queries/a.sql:2 ORG900"], 0),
    "--extend-ignore": (None, ["--extend-ignore", "ORG900"], ["queries/a.sql:1 ORG001", "tests/t.sql:1 ORG001"], 1),
    "per-file-ignores": (
        "per-file-ignores:\n  'tests/**': [ORG0]\n", [], ["queries/a.sql:1 ORG001", "queries/a.sql:2 ORG900"], 1),
    "per-file-ignores with ALL": ("per_file_ignores:\n  'queries/*.sql': [ALL]\n", [], ["tests/t.sql:1 ORG001"], 1),
    "--config KEY=VALUE": (None, ["--config", 'ignore = ["ORG001"]'], ["queries/a.sql:2 ORG900"], 0),
    "--config KEY=VALUE over the file": (
        "ignore: [ORG001]\n", ["--config", "ignore = []"], ALL_FOUND, 1),
    "--isolated reads no config file": ("ignore: [ORG001]\n", ["--isolated"], ALL_FOUND, 1),
    "control: the config file is read": (
        "ignore: [ORG001]\n", [], ["queries/a.sql:2 ORG900"], 0),
    "--isolated keeps --config overrides": (
        "ignore: [ORG001]\n", ["--isolated", "--config", "select = ['ORG001']"],
        ["queries/a.sql:1 ORG001", "tests/t.sql:1 ORG001"], 1),
    "--output-format is --format": (None, ["--output-format", "json"], ALL_FOUND, 1),
}


@pytest.mark.parametrize("config, args, expected, code", list(CASES.values()), ids=list(CASES))
def test_ruff_options(tmp_path, config, args, expected, code):
    write_tree(tmp_path, {**TREE, **({".orgscope.yaml": config} if config else {})})
    fmt = [] if "--output-format" in args else ["--format", "json"]
    result = cli(tmp_path, "check", "--no-cache", *fmt, *args)
    found = [f"{f['path']}:{f['line']} {f['code']}" for f in json.loads(result.output)["findings"]]
    assert (found, result.exit_code) == (expected, code), result.output


@pytest.mark.parametrize("args, message", [
    (["--select", "ORGX"], "unknown rule code 'ORGX'"),
    (["--config", "fail_on = 'loud'"], "--config: fail_on"),
    (["--config", "not toml at all ="], "neither a file nor a TOML"),
    (["--config", "per_file_ignores = {'x' = ['NOPE']}"], "per_file_ignores.x"),
])
def test_bad_option_values_are_one_line_and_exit_2(tmp_path, args, message):
    write_tree(tmp_path, TREE)
    result = cli(tmp_path, "check", "--no-cache", *args)
    assert result.exit_code == 2 and message in result.output, result.output


def test_show_files_lists_what_would_be_checked(tmp_path):
    write_tree(tmp_path, {**TREE, "README.md": "not checked\n", "migrations/001.sql": "SELECT 1;\n"})
    result = cli(tmp_path, "check", "--show-files")
    listed = [line.split("  ") for line in result.output.splitlines()]
    assert [(path.removeprefix(str(tmp_path) + "/"), kind) for path, kind in listed] == [
        ("migrations/001.sql", "(migration)"), ("queries/a.sql", "(sql)"), ("queries/ok.sql", "(sql)"),
        ("tests/t.sql", "(sql)")]
    assert result.exit_code == 0


def test_show_settings_prints_the_resolved_settings(tmp_path):
    write_tree(tmp_path, {**TREE, ".orgscope.yaml": "fail_on: warning\n"})
    out = cli(tmp_path, "check", "--show-settings", "--config", "jobs = 3", "--cache-dir", "c").output
    assert f"config file: {tmp_path / '.orgscope.yaml'}" in out
    assert "  fail_on: warning" in out and "  jobs: 3" in out and f"cache folder: {tmp_path / 'c'}" in out


def test_json_lines_is_one_finding_object_a_line(tmp_path):
    write_tree(tmp_path, TREE)
    lines = cli(tmp_path, "check", "--no-cache", "--format", "json-lines").output.splitlines()
    whole = json.loads(cli(tmp_path, "check", "--no-cache", "--format", "json").output)["findings"]
    assert [json.loads(line) for line in lines] == whole and len(lines) == 3


@pytest.mark.parametrize("env, color", [
    ({}, False),  # control: not a terminal
    ({"FORCE_COLOR": "1"}, True),
    ({"NO_COLOR": "1"}, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, False),
])
def test_force_color_and_no_color(tmp_path, monkeypatch, env, color):
    for key in ("FORCE_COLOR", "NO_COLOR"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    write_tree(tmp_path, TREE)
    assert ("\x1b[" in cli(tmp_path, "check", "--no-cache").output) == color


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize("tty, enabled, seconds, shown", [
    (True, True, 0.3, True),
    (True, True, 0.0, False),  # control: a quick run says nothing
    (False, True, 0.3, False),  # a pipe or a file: never
    (True, False, 0.3, False),  # a machine format: never
])
def test_progress_line_only_on_a_terminal_for_a_slow_run(tty, enabled, seconds, shown):
    from orgscope.cli import ProgressLine

    stream = _Terminal(tty)
    with ProgressLine(stream, enabled=enabled, after=0.1):
        time.sleep(seconds)
    text = stream.getvalue()
    assert ("checking" in text) == shown
    assert text == "" or text.endswith("\r\x1b[K")  # erased before the report


def test_machine_formats_get_no_progress_line():
    from orgscope.cli import HUMAN_FORMATS
    from orgscope.report import FORMATS

    assert set(HUMAN_FORMATS) == {"text", "concise"} and set(HUMAN_FORMATS) < set(FORMATS)


def test_the_readme_option_table_lists_exactly_the_check_options():
    import re
    from pathlib import Path

    from orgscope.cli import check

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = readme.split("### `orgscope check` options", 1)[1].split("\n\n", 2)[1]
    documented = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", "\n".join(
        line.split("|")[1] for line in table.splitlines() if line.startswith("| `"))))
    options = {name for param in check.params for name in param.opts + param.secondary_opts
               if name.startswith("--")}
    assert documented == options


DATA_LAYER = {
    "app/db.py": (
        "class DatabaseService:\n"
        "    def __init__(self, client):\n"
        "        self.client = client\n"
        "    def select(self, table, filters=None):\n"
        "        q = self.client.table(table).select('*')\n"
        "        for key, value in (filters or {}).items():\n"
        "            q = q.eq(key, value)\n"
        "        return q.execute().data\n"
    ),
}


@pytest.mark.parametrize("tree, expected", [
    (DATA_LAYER, ["  inferred query wrappers: 1", "DatabaseService.select (select, adds the org filter: never)"]),
    ({"app/plain.py": "def select(table, filters):\n    return table, filters\n"}, ["  inferred query wrappers: 0"]),
])
def test_show_settings_lists_the_inferred_data_access_layer(tmp_path, tree, expected):
    write_tree(tmp_path, tree)
    out = cli(tmp_path, "check", "--show-settings").output
    for line in expected:
        assert line in out
    if "app/db.py" in tree:
        assert "app/db.py:4" in out  # where the wrapper was inferred

"""The output formats: what each one promises the person or tool reading it."""

from __future__ import annotations

import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgscope.errors import OrgscopeError
from conftest import write_tree
from orgscope.config import Config
from orgscope.engine import Options, run
from orgscope.findings import Finding, Note
from orgscope.report import FORMATS, RunResult, render
from orgscope.report.common import displayable
from orgscope.report import text as text_format
from orgscope.report.text import SOURCE_WINDOW
from orgscope.rules import RuleDoc, rule_docs

# A message with everything that needs escaping somewhere: % (GitHub), a line
# break (GitHub, one-line formats), a comma and colon (GitHub properties) and
# <&> (XML).
TRICKY_MESSAGE = "100% of agents, <&> read\nwithout: clerk_org_id (was %0A)"

AGENTS_SQL = "-- name: get_agent\nSELECT id, name\nFROM agents a\nWHERE a.id = $1;\n"
DB_PY = 'def list_calls(sb):\n\treturn\tsb.table("calls").select("*")\n'
VOICES_SQL = "INSERT INTO voices (id, client_id) VALUES ($1, $2);\n"
WIDE_SQL = "SELECT '日本語' AS label FROM contacts;\n"


def rule_doc(code: str, name: str, severity: str, *, why: str = "", fix: str = "") -> RuleDoc:
    return RuleDoc(
        code=code,
        name=name,
        severity=severity,
        summary=f"{name.replace('-', ' ')} on an org table.",
        why=why or f"Without the fix, {name} leaks rows of one organization to another.",
        fix=fix or "Add `clerk_org_id = $n` to the query.",
        bad=[{"description": "bad", "files": {"queries/q.sql": "SELECT * FROM agents WHERE id = $1;\n"}}],
        good=[{"description": "good", "files": {"queries/q.sql": "SELECT * FROM agents WHERE clerk_org_id = $1;\n"}}],
    )


DOCS = {
    "ORG001": rule_doc("ORG001", "unscoped-query", "error"),
    "ORG003": rule_doc("ORG003", "client-id-scoping", "error"),
    "ORG005": rule_doc("ORG005", "insert-without-org", "error"),
    "ORG900": rule_doc("ORG900", "unanalyzable", "warning"),
    "ORG901": rule_doc("ORG901", "unused-suppression", "warning"),
}


def finding_at(path: str, source: str, token: str, code: str, severity: str, message: str, **extra) -> Finding:
    """A finding on the first occurrence of `token` in `source` (columns count characters)."""
    offset = source.index(token)
    line = source.count("\n", 0, offset) + 1
    column = offset - (source.rfind("\n", 0, offset) + 1) + 1
    return Finding(
        path=path,
        line=line,
        column=column,
        end_line=line,
        end_column=column + len(token),
        code=code,
        name=DOCS[code].name if code in DOCS else code.lower(),
        severity=severity,
        message=message,
        table=extra.pop("table", None),
        fingerprint=extra.pop("fingerprint", f"fp-{code}-{path}-{line}"),
        **extra,
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for path, text in {
        "queries/agents.sql": AGENTS_SQL,
        "app/db.py": DB_PY,
        "queries/voices.sql": VOICES_SQL,
        "queries/wide.sql": WIDE_SQL,
    }.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.fixture
def findings() -> list[Finding]:
    """Several files, codes and severities; one finding whose file is gone."""
    gone = Finding("old/removed.sql", 3, 1, 3, 7, "ORG900", "unanalyzable", "info", "could not parse", fingerprint="g")
    found = [
        finding_at("app/db.py", DB_PY, '"calls"', "ORG001", "error", "calls is read without clerk_org_id"),
        finding_at("queries/agents.sql", AGENTS_SQL, "agents", "ORG001", "error", TRICKY_MESSAGE, table="agents"),
        finding_at("queries/voices.sql", VOICES_SQL, "client_id", "ORG003", "error", "voices gets client_id"),
        finding_at("queries/voices.sql", VOICES_SQL, "voices", "ORG005", "warning", "voices lacks clerk_org_id"),
        finding_at("queries/wide.sql", WIDE_SQL, "contacts", "ORG001", "error", "contacts is read unscoped"),
        gone,
    ]
    return sorted(found, key=Finding.sort_key)


def run_result(findings: list[Finding], **overrides) -> RunResult:
    values = {"findings": findings, "files": 7, "seconds": 0.12345, "version": "0.1.0"}
    values.update(overrides)
    return RunResult(**values)


def text_block(output: str, header_start: str) -> list[str]:
    """The lines of the text output from the header that starts with `header_start` to the next blank line."""
    lines = output.split("\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    end = lines.index("", start)
    return lines[start:end]


def caret_target(block: list[str]) -> str:
    """The part of the shown source line that the caret line underlines."""
    source, caret = block[1], block[2]
    first = caret.index("^")
    return source[first : caret.rindex("^") + 1]


# --- text ---------------------------------------------------------------------


def test_text_shows_location_source_line_and_caret_under_the_token(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS)
    block = text_block(out, "queries/agents.sql:3:6: ORG001 ")
    assert len(block) == 3
    assert block[1].endswith("FROM agents a")
    assert block[1].lstrip().startswith("3 |")
    assert caret_target(block) == "agents"


def test_text_caret_stays_aligned_when_the_line_has_tabs(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS)
    # The column counts the tab as one character, as the front ends do.
    block = text_block(out, "app/db.py:2:18: ORG001 ")
    assert "\t" not in block[1] and "\t" not in block[2]
    assert caret_target(block) == '"calls"'


def test_text_caret_counts_wide_characters_as_two_cells(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS)
    source, caret = text_block(out, "queries/wide.sql:1:")[1:]
    wide_before = sum(unicodedata.east_asian_width(c) == "W" for c in source[: source.index("contacts")])
    assert wide_before == 3
    assert caret.index("^") == source.index("contacts") + wide_before
    assert caret.count("^") == len("contacts")


def test_text_finding_in_a_file_that_is_gone_has_no_source_line(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS)
    assert text_block(out, "old/removed.sql:3:1: ORG900 could not parse") == [
        "old/removed.sql:3:1: ORG900 could not parse"
    ]


def test_text_line_past_the_end_of_the_file_or_a_directory_path_has_no_source(project):
    past_end = Finding("queries/agents.sql", 99, 1, 99, 2, "ORG001", "unscoped-query", "error", "gone line")
    directory = Finding("queries", 1, 1, 1, 2, "ORG001", "unscoped-query", "error", "a directory")
    out = render("text", run_result([past_end, directory]), root=project, docs=DOCS)
    assert "|" not in out


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX only")
def test_text_does_not_block_on_a_path_that_is_a_named_pipe(tmp_path):
    os.mkfifo(tmp_path / "pipe.sql")
    found = Finding("pipe.sql", 1, 1, 1, 2, "ORG900", "unanalyzable", "warning", "not a file")
    out = render("text", run_result([found]), root=tmp_path, docs=DOCS)
    assert text_block(out, "pipe.sql:1:1:") == ["pipe.sql:1:1: ORG900 not a file"]


def test_text_does_not_read_a_huge_file_again_for_its_source_line(tmp_path, monkeypatch):
    monkeypatch.setattr(text_format, "MAX_SOURCE_BYTES", 1000)
    (tmp_path / "small.sql").write_text("SELECT * FROM agents;\n", encoding="utf-8")
    (tmp_path / "huge.sql").write_text("SELECT * FROM agents;\n" * 100, encoding="utf-8")
    found = [
        Finding(name, 1, 15, 1, 21, "ORG001", "unscoped-query", "error", "agents")
        for name in ("huge.sql", "small.sql")
    ]
    out = render("text", run_result(found), root=tmp_path, docs=DOCS)
    assert len(text_block(out, "huge.sql:1:15:")) == 1
    assert caret_target(text_block(out, "small.sql:1:15:")) == "agents"


def test_text_message_stays_on_its_header_line(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS)
    header = text_block(out, "queries/agents.sql:3:6:")[0]
    assert header == "queries/agents.sql:3:6: ORG001 100% of agents, <&> read without: clerk_org_id (was %0A)"


def test_text_summary_counts_findings_and_files(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS)
    lines = out.rstrip("\n").split("\n")
    assert lines[-1] == "Found 6 findings in 5 files (checked 7 files in 0.12 s)"
    assert lines[-2] == ""
    assert out.endswith("\n") and not out.endswith("\n\n")


def test_text_summary_uses_the_singular_for_one(project, findings):
    one = [f for f in findings if f.path == "queries/agents.sql"]
    out = render("text", run_result(one, files=1, seconds=2), root=project, docs=DOCS)
    assert out.rstrip("\n").split("\n")[-1] == "Found 1 finding in 1 file (checked 1 file in 2.00 s)"


def test_text_without_findings_says_all_checks_passed(project):
    out = render("text", run_result([], files=4, seconds=0.5), root=project, docs=DOCS)
    assert out == "All checks passed (checked 4 files in 0.50 s)\n"


def test_text_prints_notes_and_unmatched_baseline_entries_after_the_summary(project, findings):
    result = run_result(findings, notes=["skipped binary file logo.sql"], baseline_unmatched=2)
    tail = render("text", result, root=project, docs=DOCS).rstrip("\n").split("\n")[-3:]
    assert tail[0].startswith("Found 6 findings")
    assert tail[1] == "note: skipped binary file logo.sql"
    assert tail[2].startswith("note: 2 baseline entries no longer match any finding")

    single = render("text", run_result([], baseline_unmatched=1), root=project, docs=DOCS)
    assert "note: 1 baseline entry no longer matches any finding" in single


def test_text_statistics_lists_rules_most_frequent_first(project):
    def some(code: str, name: str, count: int) -> list[Finding]:
        return [Finding("q.sql", n + 1, 1, n + 1, 2, code, name, "error", "m") for n in range(count)]

    found = [
        *some("ORG001", "unscoped-query", 1),
        *some("ORG900", "unanalyzable", 12),
        *some("ORG003", "client-id-scoping", 2),
    ]
    table = re.compile(r"^ +\d+  ORG\d{3}  ")
    out = render("text", run_result(found), root=project, docs=DOCS, statistics=True)
    assert [line for line in out.split("\n") if table.match(line)] == [
        "  12  ORG900  unanalyzable",
        "   2  ORG003  client-id-scoping",
        "   1  ORG001  unscoped-query",
    ]
    plain = render("text", run_result(found), root=project, docs=DOCS)
    assert not [line for line in plain.split("\n") if table.match(line)]


def test_text_without_source_is_one_line_per_finding_and_the_summary(project, findings):
    out = render("text", run_result(findings), root=project, docs=DOCS, show_source=False)
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == len(findings) + 2  # findings, a blank line, the summary
    assert not any(" | " in line for line in lines)


def test_text_colours_only_when_asked(project, findings):
    plain = render("text", run_result(findings), root=project, docs=DOCS)
    assert "\x1b" not in plain
    coloured = render("text", run_result(findings), root=project, docs=DOCS, color=True)
    assert "\x1b[1;31mORG001\x1b[0m" in coloured  # errors in red
    assert "\x1b[1;33mORG005\x1b[0m" in coloured  # warnings in yellow
    # Without the escape codes it is the same text.
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_text_never_sends_control_characters_from_the_input_to_the_terminal(tmp_path):
    (tmp_path / "evil.sql").write_text("SELECT 1 /* \x1b[2J\u202e */ FROM agents;\n", encoding="utf-8")
    evil = Finding("evil.sql", 1, 27, 1, 33, "ORG001", "unscoped-query", "error", "agents \x1b]0;title\x07 read")
    out = render("text", run_result([evil]), root=tmp_path, docs=DOCS)
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert caret_target(text_block(out, "evil.sql:1:27:")) == "agents"


def test_text_lines_end_only_at_newlines_and_crlf_is_not_shown(tmp_path):
    # A form feed is not a line break for orgscope's positions (nor for this format).
    source = "SELECT 1;\x0c-- page\r\nSELECT * FROM calls;\r\n"
    (tmp_path / "q.sql").write_text(source, encoding="utf-8", newline="")
    found = finding_at("q.sql", source, "calls", "ORG001", "error", "calls")
    assert found.line == 2
    block = text_block(render("text", run_result([found]), root=tmp_path, docs=DOCS), "q.sql:2:")
    assert block[1].endswith("SELECT * FROM calls;")
    assert caret_target(block) == "calls"


def test_text_ignores_a_byte_order_mark_when_placing_the_caret(tmp_path):
    (tmp_path / "q.sql").write_bytes("\ufeffSELECT * FROM agents;\n".encode("utf-8"))
    found = finding_at("q.sql", "SELECT * FROM agents;\n", "agents", "ORG001", "error", "agents")
    block = text_block(render("text", run_result([found]), root=tmp_path, docs=DOCS), "q.sql:1:15:")
    assert caret_target(block) == "agents"


def test_text_long_line_is_shown_as_a_window_around_the_token(tmp_path):
    source = "SELECT " + ", ".join(f"c{i}" for i in range(400)) + " FROM agents WHERE id = $1;\n"
    (tmp_path / "q.sql").write_text(source, encoding="utf-8")
    found = finding_at("q.sql", source, "agents", "ORG001", "error", "agents")
    block = text_block(render("text", run_result([found]), root=tmp_path, docs=DOCS), "q.sql:1:")
    shown = block[1].split(" | ", 1)[1]
    assert len(shown) <= SOURCE_WINDOW + 2 and shown.startswith("\u2026")
    assert caret_target(block) == "agents"


def test_text_caret_for_a_multi_line_token_runs_to_the_end_of_its_first_line(tmp_path):
    source = "SELECT * FROM agents\n  a WHERE true;\n"
    (tmp_path / "q.sql").write_text(source, encoding="utf-8")
    found = Finding("q.sql", 1, 10, 2, 4, "ORG001", "unscoped-query", "error", "agents")
    block = text_block(render("text", run_result([found]), root=tmp_path, docs=DOCS), "q.sql:1:10:")
    assert caret_target(block) == "FROM agents"


def test_text_caret_is_at_least_one_wide_even_for_a_position_past_the_line(tmp_path):
    (tmp_path / "q.sql").write_text("SELECT\n", encoding="utf-8")
    found = Finding("q.sql", 1, 40, 1, 40, "ORG900", "unanalyzable", "warning", "unexpected end")
    block = text_block(render("text", run_result([found]), root=tmp_path, docs=DOCS), "q.sql:1:40:")
    assert block[2].count("^") == 1
    assert block[2].index("^") == len(block[1])  # just after "SELECT"


# Notes about the revision graph: printed once after the summary, each one in the machine formats.
GRAPH_TREE = {
    "queries/agents.sql": "SELECT * FROM agents;\n",
    **{f"migrations/versions/r{i}.py": f'revision = "r{i}"\ndown_revision = "gone{i}"\n\n\ndef upgrade():\n    pass\n'
       for i in range(5)},
    **{f"migrations/versions/{name}.py": 'revision = "twice"\ndown_revision = None\n\n\ndef upgrade():\n    pass\n'
       for name in ("d1", "d2")},
}
GRAPH_NOTES = [f"migrations/versions/r{i}.py: down_revision gone{i} is not defined" for i in range(5)] + [
    "revision twice is defined more than once (migrations/versions/d1.py, migrations/versions/d2.py)"]


@pytest.fixture
def graph_result(tmp_path):
    write_tree(tmp_path, GRAPH_TREE)
    result = run([tmp_path], Config(root=tmp_path), Options(use_cache=False))
    result.notes.append(Note("ignored the cache x: it is a symlink"))  # a note of no group
    return tmp_path, result


def test_text_prints_the_summary_then_the_revision_graph_notes_once(graph_result):
    root, result = graph_result
    lines = render("text", result, root=root, docs=DOCS).rstrip("\n").split("\n")
    summary = next(i for i, line in enumerate(lines) if line.startswith("Found 1 finding"))
    assert lines[summary + 1:] == [
        "note: revision graph: 6 notes (each one in the json and sarif formats)",
        "  1 revision defined more than once: twice (migrations/versions/d1.py, migrations/versions/d2.py)",
        "  5 down_revision not defined by any migration, treated as already applied: "
        "migrations/versions/r0.py (gone0), migrations/versions/r1.py (gone1), migrations/versions/r2.py (gone2) "
        "and 2 more",
        "note: ignored the cache x: it is a symlink",
    ]
    assert not any("is not defined" in line for line in lines)


def test_text_prints_a_lone_graph_note_as_it_is(tmp_path):
    write_tree(tmp_path, {"migrations/versions/r0.py": GRAPH_TREE["migrations/versions/r0.py"]})
    out = render("text", run([tmp_path], Config(root=tmp_path), Options(use_cache=False)), root=tmp_path, docs=DOCS)
    assert out.rstrip("\n").split("\n")[-1] == ("note: migrations/versions/r0.py: down_revision gone0 is not defined "
                                                  "by any migration; treating it as already applied")


@pytest.mark.parametrize("fmt", ["json", "sarif", "github", "junit"])
def test_machine_formats_carry_every_note(fmt, graph_result):
    root, result = graph_result
    out = render(fmt, result, root=root, docs=DOCS)
    if fmt == "json":
        texts = json.loads(out)["notes"]
    elif fmt == "sarif":
        texts = [n["message"]["text"] for n in json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"]]
    elif fmt == "github":
        texts = [line for line in out.splitlines() if line.startswith("::notice")]
    else:
        texts = ET.fromstring(out).find("testsuite/system-out").text.split("\n")
    assert len(texts) == len(GRAPH_NOTES) + 1
    for note in GRAPH_NOTES + ["ignored the cache x"]:
        assert sum(note in text for text in texts) == 1, (note, texts)


# --- concise ------------------------------------------------------------------


def test_concise_is_one_line_per_finding_and_a_summary(project, findings):
    out = render("concise", run_result(findings), root=project, docs=DOCS)
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == len(findings) + 1
    pattern = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<code>ORG\d{3}) \[(?P<sev>\w+)\] .+$")
    for line, finding in zip(lines, findings):
        match = pattern.match(line)
        assert match, line
        assert (match["path"], int(match["line"]), int(match["col"]), match["code"], match["sev"]) == (
            finding.path, finding.line, finding.column, finding.code, finding.severity,
        )
    assert lines[-1] == "Found 6 findings in 5 files (checked 7 files in 0.12 s)"


# --- json ---------------------------------------------------------------------

SPEC_FINDING_KEYS = [
    "path", "line", "column", "end_line", "end_column", "code", "name", "severity", "message", "table", "fingerprint",
]


def test_json_has_exactly_the_keys_of_the_spec_in_a_stable_order(project, findings):
    data = json.loads(render("json", run_result(findings), root=project, docs=DOCS))
    assert list(data) == ["version", "findings", "summary", "notes"]
    assert data["version"] == "0.1.0"
    assert [list(item) for item in data["findings"]] == [SPEC_FINDING_KEYS] * len(findings)
    assert list(data["summary"]) == ["files", "findings", "by_code", "seconds"]


def test_json_values_match_the_findings(project, findings):
    data = json.loads(render("json", run_result(findings), root=project, docs=DOCS))
    for item, finding in zip(data["findings"], findings):
        assert item == {key: getattr(finding, key) for key in SPEC_FINDING_KEYS}
    assert any(item["message"] == TRICKY_MESSAGE for item in data["findings"])
    summary = data["summary"]
    assert summary["files"] == 7 and summary["findings"] == 6 and summary["seconds"] == 0.123
    assert summary["by_code"] == {"ORG001": 3, "ORG003": 1, "ORG005": 1, "ORG900": 1}
    assert list(summary["by_code"]) == sorted(summary["by_code"])


def test_json_stays_valid_with_a_broken_duration_and_an_undecodable_path(project):
    odd = Finding("bad-\udcff.sql", 1, 1, 1, 2, "ORG900", "unanalyzable", "warning", "binary?")
    out = render("json", run_result([odd], seconds=float("nan")), root=project, docs=DOCS)

    def reject(constant):
        raise AssertionError(f"not JSON: {constant}")

    data = json.loads(out, parse_constant=reject)
    assert data["summary"]["seconds"] == 0
    assert data["findings"][0]["path"] == "bad-\udcff.sql"


# --- sarif --------------------------------------------------------------------

SARIF_LEVELS = {"none", "note", "warning", "error"}


def assert_valid_sarif(log: dict) -> None:
    """The properties the SARIF 2.1.0 schema and GitHub code scanning require."""
    assert log["version"] == "2.1.0"
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert isinstance(log["runs"], list) and len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "orgscope"
    assert isinstance(driver["version"], str)
    # No page the project does not own (a package index name anyone may register).
    assert "informationUri" not in driver
    rules = driver["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    for rule in rules:
        for key in ("shortDescription", "fullDescription", "help"):
            assert isinstance(rule[key]["text"], str) and rule[key]["text"]
        assert len(rule["shortDescription"]["text"]) <= 1024
        assert len(rule["fullDescription"]["text"]) <= 1024
        assert rule["defaultConfiguration"]["level"] in SARIF_LEVELS
    for result in run["results"]:
        assert isinstance(result["message"]["text"], str) and result["message"]["text"]
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in SARIF_LEVELS
        assert len(result["locations"]) >= 1
        physical = result["locations"][0]["physicalLocation"]
        artifact = physical["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        # A relative reference that no reader mistakes for a scheme ("a:b.sql")
        # or cuts at a fragment ("#"): reserved characters are percent-encoded.
        assert urlsplit(artifact["uri"]).scheme == ""
        assert re.fullmatch(r"(?:[A-Za-z0-9._~!$&'()*+,;=@/-]|%[0-9A-F]{2})+", artifact["uri"]), artifact["uri"]
        region = physical["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"] and region["endColumn"] >= 1
        if region["endLine"] == region["startLine"]:
            assert region["endColumn"] > region["startColumn"]
        fingerprints = result["partialFingerprints"]
        assert fingerprints and all(isinstance(v, str) and v for v in fingerprints.values())
    base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert base.startswith("file:///") and base.endswith("/")


def test_sarif_has_every_required_property(project, findings):
    log = json.loads(render("sarif", run_result(findings), root=project, docs=DOCS))
    assert_valid_sarif(log)


def test_sarif_lists_every_documented_rule_with_its_metadata(project, findings):
    run = json.loads(render("sarif", run_result(findings), root=project, docs=DOCS))["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert set(rules) == set(DOCS)
    unscoped = rules["ORG001"]
    assert unscoped["name"] == "unscoped-query"
    assert unscoped["shortDescription"]["text"] == DOCS["ORG001"].summary
    assert unscoped["fullDescription"]["text"] == DOCS["ORG001"].why
    assert unscoped["help"]["text"] == DOCS["ORG001"].fix
    assert DOCS["ORG001"].fix in unscoped["help"]["markdown"]
    assert "```sql\nSELECT * FROM agents WHERE id = $1;\n```" in unscoped["help"]["markdown"]
    assert unscoped["defaultConfiguration"]["level"] == "error"
    assert "security" in unscoped["properties"]["tags"]
    # The run's severity, which the config may have changed from the document's.
    org900 = {f.severity for f in findings if f.code == "ORG900"} or {DOCS["ORG900"].severity}
    assert rules["ORG900"]["defaultConfiguration"]["level"] == {"error": "error", "warning": "warning",
                                                                 "info": "note"}[org900.pop()]
    assert "security" not in rules["ORG900"]["properties"]["tags"]


def test_sarif_results_carry_level_location_and_fingerprint(project, findings):
    run = json.loads(render("sarif", run_result(findings), root=project, docs=DOCS))["runs"][0]
    results = run["results"]
    assert len(results) == len(findings)
    for result, finding in zip(results, findings):
        assert result["ruleId"] == finding.code
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding.severity]
        assert result["message"]["text"] == finding.message
        location = result["locations"][0]["physicalLocation"]
        assert unquote(location["artifactLocation"]["uri"]) == finding.path
        assert location["region"] == {
            "startLine": finding.line,
            "startColumn": finding.column,
            "endLine": finding.end_line,
            "endColumn": finding.end_column,
        }
        assert result["partialFingerprints"] == {"orgscopeFingerprint/v1": finding.fingerprint}


def test_sarif_keeps_odd_paths_and_unknown_rules_consistent(project):
    odd = [
        Finding("a:b #1%.sql", 0, 0, 0, 0, "ORG001", "unscoped-query", "error", "x", fingerprint="same"),
        Finding("a:b #1%.sql", 5, 3, 5, 3, "ORG777", "future-rule", "info", "", fingerprint="same"),
    ]
    log = json.loads(render("sarif", run_result(odd), root=project, docs=DOCS))
    assert_valid_sarif(log)
    results = log["runs"][0]["results"]
    assert [unquote(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in results] == [
        "a:b #1%.sql"
    ] * 2
    # Code scanning merges results that share a fingerprint: they must differ.
    prints = [r["partialFingerprints"]["orgscopeFingerprint/v1"] for r in results]
    assert len(set(prints)) == 2


def test_sarif_descriptions_are_cut_to_what_github_accepts(project):
    long_doc = rule_doc("ORG001", "unscoped-query", "error", why="x" * 5000)
    log = json.loads(render("sarif", run_result([]), root=project, docs={"ORG001": long_doc}))
    assert_valid_sarif(log)


def test_sarif_with_the_bundled_rule_documents_is_valid(project, findings):
    bundled = rule_docs()  # every rule of the table has its document: a missing one fails here
    log = json.loads(render("sarif", run_result(findings), root=project, docs=bundled))
    assert_valid_sarif(log)
    assert [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]] == list(bundled)


# --- github -------------------------------------------------------------------

COMMAND = re.compile(r"^::(?P<command>error|warning|notice) (?P<properties>[^:]*)::(?P<message>.*)$")


def unescape(value: str) -> str:
    for escaped, char in (("%3A", ":"), ("%2C", ","), ("%0D", "\r"), ("%0A", "\n"), ("%25", "%")):
        value = value.replace(escaped, char)
    return value


def parse_command(line: str) -> tuple[str, dict[str, str], str]:
    match = COMMAND.match(line)
    assert match, line
    properties = dict(item.split("=", 1) for item in match["properties"].split(","))
    return match["command"], {k: unescape(v) for k, v in properties.items()}, unescape(match["message"])


def test_github_is_one_escaped_command_per_finding(project, findings):
    out = render("github", run_result(findings), root=project, docs=DOCS)
    lines = out.rstrip("\n").split("\n")
    assert len(lines) == len(findings)
    for line, finding in zip(lines, findings):
        command, properties, message = parse_command(line)
        assert command == {"error": "error", "warning": "warning", "info": "notice"}[finding.severity]
        assert properties["file"] == finding.path
        assert properties["line"] == str(finding.line)
        assert properties["col"] == str(finding.column)
        assert properties["endLine"] == str(finding.end_line)
        # Exclusive, as in JSON and SARIF.
        assert properties["endColumn"] == str(finding.end_column)
        assert properties["title"] == f"{finding.code} {finding.name}"
        assert message == finding.message
    assert "::100%25 of agents, <&> read%0Awithout: clerk_org_id (was %250A)" in out


def test_github_escapes_commas_and_colons_in_properties(project):
    odd = Finding("a,b:c%.sql", 2, 1, 4, 3, "ORG001", "unscoped-query", "error", "m", fingerprint="f")
    line = render("github", run_result([odd]), root=project, docs=DOCS).rstrip("\n")
    assert line.startswith("::error file=a%2Cb%3Ac%25.sql,line=2,endLine=4,title=")
    # A range over several lines carries no columns (GitHub rejects them).
    _, properties, _ = parse_command(line)
    assert properties["file"] == "a,b:c%.sql"
    assert "col" not in properties and "endColumn" not in properties


@settings(max_examples=200, deadline=None)
@given(path=st.text(min_size=1), message=st.text())
def test_github_escaping_round_trips_any_text(path, message):
    found = Finding(path, 1, 1, 1, 2, "ORG001", "unscoped-query", "warning", message, fingerprint="f")
    out = render("github", run_result([found]), root=Path("."), docs=DOCS)
    assert out.count("\n") == 1 and "\r" not in out
    _, properties, parsed_message = parse_command(out.rstrip("\n"))
    # Text without unprintable characters (line breaks aside) comes back exactly.
    text = re.sub("[\r\n]", "", path + message)
    if displayable(text) == text:
        assert properties["file"] == path
        assert parsed_message == message


# --- junit --------------------------------------------------------------------


def test_junit_has_a_failed_case_per_finding(project, findings):
    root = ET.fromstring(render("junit", run_result(findings), root=project, docs=DOCS))
    suite = root.find("testsuite")
    assert suite is not None and suite.get("name") == "orgscope"
    cases = suite.findall("testcase")
    assert [case.get("classname") for case in cases] == [f.path for f in findings]
    assert [case.get("name") for case in cases] == [f"{f.path}:{f.line}:{f.column} {f.code}" for f in findings]
    failures = suite.findall("testcase/failure")
    assert len(failures) == len(cases) == len(findings)
    assert suite.get("tests") == suite.get("failures") == str(len(findings)) == root.get("tests")
    voices = [case for case in cases if case.get("classname") == "queries/voices.sql"]
    assert [case.find("failure").get("type") for case in voices] == ["ORG005", "ORG003"]


def test_junit_escapes_markup_in_messages(project, findings):
    root = ET.fromstring(render("junit", run_result(findings), root=project, docs=DOCS))
    agents = next(case for case in root.iter("testcase") if case.get("classname") == "queries/agents.sql")
    failure = agents.find("failure")
    assert failure.get("message") == "100% of agents, <&> read without: clerk_org_id (was %0A)"
    assert failure.text.startswith("queries/agents.sql:3:6: ORG001")
    assert TRICKY_MESSAGE in failure.text


@settings(max_examples=200, deadline=None)
@given(path=st.text(min_size=1), message=st.text())
def test_junit_is_well_formed_xml_for_any_text(path, message):
    found = Finding(path, 1, 1, 1, 2, "ORG001", "unscoped-query", "error", message, fingerprint="f")
    root = ET.fromstring(render("junit", run_result([found], notes=[message]), root=Path("."), docs=DOCS))
    assert len(root.findall("testsuite/testcase/failure")) == 1


# --- gitlab -------------------------------------------------------------------


def test_gitlab_is_a_list_of_code_quality_issues(project, findings):
    issues = json.loads(render("gitlab", run_result(findings), root=project, docs=DOCS))
    assert isinstance(issues, list) and len(issues) == len(findings)
    for issue, finding in zip(issues, findings):
        assert {"description", "check_name", "fingerprint", "severity", "location"} <= set(issue)
        assert issue["check_name"] == finding.code
        assert finding.code in issue["description"]
        assert issue["severity"] == {"error": "critical", "warning": "minor", "info": "info"}[finding.severity]
        assert issue["location"]["path"] == finding.path
        assert issue["location"]["lines"]["begin"] == finding.line
    assert len({issue["fingerprint"] for issue in issues}) == len(issues)


def test_gitlab_fingerprints_are_unique_and_stable_when_findings_repeat(project):
    twice = [
        Finding("q.sql", 1, 1, 1, 2, "ORG001", "unscoped-query", "error", "m", fingerprint="dup"),
        Finding("q.sql", 9, 1, 9, 2, "ORG001", "unscoped-query", "error", "m", fingerprint="dup"),
        Finding("q.sql", 20, 1, 20, 2, "ORG001", "unscoped-query", "error", "m"),
        Finding("q.sql", 30, 1, 30, 2, "ORG001", "unscoped-query", "error", "m"),
    ]
    first = [i["fingerprint"] for i in json.loads(render("gitlab", run_result(twice), root=project, docs=DOCS))]
    again = [i["fingerprint"] for i in json.loads(render("gitlab", run_result(twice), root=project, docs=DOCS))]
    assert len(set(first)) == 4 and all(first)
    assert first == again
    assert first[0] == "dup"  # the first keeps the fingerprint a baseline knows


# --- every format -------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_valid_without_findings(fmt, project):
    out = render(fmt, run_result([], files=3), root=project, docs=DOCS)
    if fmt in ("text", "concise"):
        assert out == "All checks passed (checked 3 files in 0.12 s)\n"
    elif fmt == "json":
        data = json.loads(out)
        assert data["findings"] == [] and data["summary"]["findings"] == 0 and data["summary"]["by_code"] == {}
    elif fmt == "sarif":
        log = json.loads(out)
        assert_valid_sarif(log)
        assert log["runs"][0]["results"] == [] and len(log["runs"][0]["tool"]["driver"]["rules"]) == len(DOCS)
    elif fmt == "github":
        assert out == ""
    elif fmt == "junit":
        root = ET.fromstring(out)
        cases = root.findall("testsuite/testcase")
        assert len(cases) == 1 and not cases[0].findall("failure")
        assert root.find("testsuite").get("failures") == "0"
    elif fmt == "gitlab":
        assert json.loads(out) == []
    elif fmt == "json-lines":
        assert out == ""
    else:  # a new format needs its own check here
        pytest.fail(f"no check for format {fmt}")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_survives_odd_findings(fmt, project):
    odd = [
        Finding("queries", 0, 0, -1, 0, "ORG001", "unscoped-query", "error", ""),  # a directory, no positions
        Finding("x\udcff\n.sql", 2, 5, 1, 1, "ORG999", "", "critical", "\x00\x1b<]]>", table="t\ud800"),
        Finding("/abs/file.sql", 1, 1, 1, 2, "ORG005", "insert-without-org", "warning", "abs"),
    ]
    out = render(fmt, run_result(odd, notes=["bad \ud800 note"]), root=project / "missing", docs=DOCS)
    out.encode("utf-8")  # printable: no lone surrogates reach the output


def test_unknown_format_is_a_clear_error(project):
    with pytest.raises(OrgscopeError, match="unknown output format 'xml'.*text, concise, json"):
        render("xml", run_result([]), root=project, docs=DOCS)

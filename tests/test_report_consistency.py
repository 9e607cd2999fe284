"""The formats agree with each other and with the configuration: counts,
columns, severities and messages a user reads in CI."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from conftest import cli, write_tree

QUERIES = {
    "queries/a.sql": "SELECT * FROM agents WHERE id = $1;\nSELECT * FROM calls WHERE id = $1;\n",
    "queries/b.sql": "SELECT * FROM agents WHERE id = $1;\n",
    "queries/ok.sql": "SELECT * FROM agents WHERE clerk_org_id = $1;\n",
}


def _check(root, *args):
    return cli(root, "check", "--no-cache", *args)


@pytest.mark.parametrize("files, findings", [(QUERIES, 3), ({"queries/ok.sql": QUERIES["queries/ok.sql"]}, 0)],
                         ids=["three findings in two files", "control: none"])
def test_junit_counts_one_thing(tmp_path, files, findings):
    write_tree(tmp_path, files)
    suite = ET.fromstring(_check(tmp_path, "--format", "junit").output).find("testsuite")
    cases = suite.findall("testcase")
    failures = [case for case in cases if case.find("failure") is not None]
    assert int(suite.get("failures")) == len(failures) == findings
    assert int(suite.get("tests")) == len(cases) == max(findings, 1)


@pytest.mark.parametrize("fmt", ["text", "concise"])
def test_statistics_in_text_and_concise(tmp_path, fmt):
    write_tree(tmp_path, QUERIES)
    out = _check(tmp_path, "--format", fmt, "--statistics").output
    assert "  3  ORG001  unscoped-query" in out.splitlines()
    assert "ORG001  unscoped-query" not in _check(tmp_path, "--format", fmt).output  # control: not asked


def test_github_end_column_is_exclusive_like_json_and_sarif(tmp_path):
    write_tree(tmp_path, QUERIES)
    first = json.loads(_check(tmp_path, "--format", "json").output)["findings"][0]
    region = json.loads(_check(tmp_path, "--format", "sarif").output)["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"]["region"]
    annotation = _check(tmp_path, "--format", "github").output.splitlines()[0]
    assert (first["column"], first["end_column"]) == (15, 21)  # `agents`
    assert (region["startColumn"], region["endColumn"]) == (15, 21)
    assert "col=15,endLine=1,endColumn=21," in annotation


def _security_severity(root, *args) -> dict:
    rules = json.loads(_check(root, "--format", "sarif", *args).output)["runs"][0]["tool"]["driver"]["rules"]
    return {rule["id"]: rule.get("properties", {}).get("security-severity") for rule in rules}


@pytest.mark.parametrize("override, expected", [
    ("", {"ORG001": "8.0", "ORG900": None}),  # control: the documents' severities
    ("severity: {ORG001: warning}\n", {"ORG001": None, "ORG900": None}),
    ("severity: {ORG900: error}\n", {"ORG001": "8.0", "ORG900": "8.0"}),
])
def test_sarif_security_severity_follows_the_configured_severity(tmp_path, override, expected):
    write_tree(tmp_path, {**QUERIES, ".orgscope.yaml": override or "{}\n",
                          "queries/c.sql": "SELECT * FROM agents WHERE id = 1 AND;\n"})
    got = _security_severity(tmp_path, "--select", "ORG001,ORG900")
    assert {code: got[code] for code in expected} == expected


def test_sarif_names_no_package_index_page(tmp_path):
    write_tree(tmp_path, QUERIES)
    assert "pypi.org" not in _check(tmp_path, "--format", "sarif").output


BAD_SQL = [
    "SELECT * FROM agents WHERE id = 1 AND;",
    "SELECT * FROM agents a JOIN ON x;",
    "SELECT * FROM agents WHERE id IN (SELECT FROM);",
    "SELECT * FROM agents WHERE id = 1 ORDER BY;",
    "SELECT * FROM agents WHERE id = $1 GROUP BY ROLLUP(;",
    "SELECT 'oops FROM agents WHERE id = 1;",
]


@pytest.mark.parametrize("sql", BAD_SQL)
def test_org900_speaks_sql_not_parser_internals(tmp_path, sql):
    write_tree(tmp_path, {"queries/bad.sql": sql + "\n"})
    findings = json.loads(_check(tmp_path, "--format", "json").output)["findings"]
    [message] = [f["message"] for f in findings if f["code"] == "ORG900"]
    assert message.startswith("cannot parse SQL: ")
    for leak in ("<Token", "TokenType", "<class", "sqlglot", "Line ", "Col:", "Error tokenizing"):
        assert leak not in message, message


@pytest.mark.parametrize("column, phrase", [
    ("org_id", "without an org_id predicate"),
    ("account_id", "without an account_id predicate"),
    ("tenant_id", "without a tenant_id predicate"),
    ("clerk_org_id", "without a clerk_org_id predicate"),
])
def test_org001_names_the_packs_column_with_its_article(tmp_path, column, phrase):
    write_tree(tmp_path, {".orgscope.yaml": "rule_pack: pack.yaml\n",
                          "pack.yaml": f"name: custom\norg_column: {column}\norg_tables: [projects]\n",
                          "q.sql": "SELECT * FROM projects WHERE id = $1;\n"})
    [finding] = json.loads(_check(tmp_path, "--format", "json").output)["findings"]
    assert phrase in finding["message"] and f"projects.{column} = <org id>" in finding["message"]

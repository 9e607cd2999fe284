"""A statement that PostgreSQL would reject on the schema the migrations build
is a note, and an ORG900 warning when it touches an org table
(tests/cases/refused_statements.yaml); `orgscope schema` tells a table no
migration creates from one that was dropped."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from orgscope.catalog import build_catalog
from orgscope.context import ExtractContext
from orgscope.extract import extract_file
from orgscope.model import default_pack_path, load_pack

MODEL = load_pack(default_pack_path())
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "refused_statements.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_refused_statements_are_noted(case):
    facts = extract_file("m/1_a.sql", case["sql"], "migration", ExtractContext(model=MODEL))
    schema = build_catalog(MODEL, [facts]).schema
    refusals = schema.refusals
    assert len(refusals) == len(case["refusals"]), [str(r) for r in refusals]
    for refusal, (line, words) in zip(refusals, case["refusals"]):
        assert refusal.where.span.line == line and words in refusal.message, str(refusal)
    # What the replay cannot tell either way is a note that claims no rejection.
    assert len(schema.warnings) == len(case.get("notes", [])), schema.warnings
    for note, (line, words) in zip(schema.warnings, case.get("notes", [])):
        assert note.startswith(f"m/1_a.sql:{line}: ") and words in note and "rejects" not in note, note


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_refused_statements_on_org_tables_are_org900_warnings(lint, case):
    findings = lint({"migrations/1_a.sql": case["sql"]})
    org900 = [f for f in findings if f.code == "ORG900"]
    assert [f.line for f in org900] == case["org900"]
    assert all(f.severity == "warning" and "not the one the migrations build" in f.message for f in org900)


def test_schema_tells_never_created_from_dropped(tmp_path):
    from conftest import cli, write_tree

    write_tree(tmp_path, {"migrations/1_a.sql": textwrap.dedent("""\
        DROP TABLE IF EXISTS contacts;
        CREATE TABLE calls (id uuid, clerk_org_id text);
        DROP TABLE calls;
    """)})
    result = cli(tmp_path, "schema")
    assert "contacts           unknown (never created by any migration)" in result.output
    assert "calls              dropped at migrations/1_a.sql:3" in result.output
    assert "migrations/1_a.sql:1: DROP TABLE" not in result.output  # IF EXISTS: no refusal

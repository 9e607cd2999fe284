"""Enums and domains in the schema replay (tests/cases/enum_types.yaml): a
column carries its type's current name, as PostgreSQL's catalog shows it, so
ALTER TYPE ... RENAME TO / SET SCHEMA, DROP TYPE and the enum's labels are
followed; what PostgreSQL would refuse is a note. The same cases run against
a real server in tests/test_pg_differential.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgscope.catalog import build_catalog
from orgscope.context import ExtractContext
from orgscope.extract import extract_file
from orgscope.model import default_pack_path, load_pack

MODEL = load_pack(default_pack_path())
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "enum_types.yaml").read_text())


def replayed(sql: str):
    facts = extract_file("m/1_a.sql", sql, "migration", ExtractContext(model=MODEL))
    assert not facts.problems, facts.problems
    return build_catalog(MODEL, [facts]).schema


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_column_types_follow_the_types_they_name(case):
    schema = replayed(case["sql"])
    for table, columns in case["columns"].items():
        state = schema.table(table)
        assert state is not None, f"{table} is not in the replay"
        assert state.columns == columns
    assert set(case["columns"]) <= {t.name for t in schema.tables()}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_enum_labels_follow_add_and_rename_value(case):
    schema = replayed(case["sql"])
    enums = {t.qualified_name: t.labels for t in schema.types.values() if t.kind == "enum"}
    assert enums == case["enums"]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_type_statements_postgresql_refuses_are_noted(case):
    refusals = replayed(case["sql"]).refusals
    assert len(refusals) == len(case["refusals"]), [str(r) for r in refusals]
    for refusal, (line, words) in zip(refusals, case["refusals"]):
        assert refusal.where.span.line == line and words in refusal.message, str(refusal)

"""SPEC section 3 on SQL query files: every case of tests/cases/sql_queries.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "sql_queries.yaml").read_text())


def _expected(items: list[str]) -> list[tuple[str, int, int]]:
    out = []
    for item in items:
        code, _, where = item.partition(" ~ ")[0].partition("@")
        line, _, column = where.partition(":")
        out.append((code, int(line), int(column)))
    return sorted(out)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_query_case(case, lint):
    findings = lint({"queries/q.sql": case["sql"]})
    got = sorted((f.code, f.line, f.column) for f in findings)
    assert got == _expected(case["expect"]), case["sql"]
    for item in case["expect"]:  # "CODE@line:column ~ words its message must contain"
        where, _, words = item.partition(" ~ ")
        if words:
            messages = [f.message for f in findings if f"{f.code}@{f.line}:{f.column}" == where]
            assert any(words in m for m in messages), (where, words, messages)


def test_every_case_has_a_unique_name():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))

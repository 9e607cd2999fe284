"""The Python front end as data: every case of tests/cases/python_queries.yaml
is one Python file and the exact findings `orgscope check` reports on it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

CASES = yaml.safe_load((Path(__file__).parents[1] / "cases" / "python_queries.yaml").read_text(encoding="utf-8"))


def _expected(items: list[str]) -> list[tuple[str, str]]:
    """("CODE@line:column", words its message must contain)."""
    return sorted((where.strip(), words.strip()) for where, _, words in (item.partition("~") for item in items))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_python_case(case, lint):
    findings = lint({"app/q.py": case["python"]}, **case.get("config", {}))
    got = sorted(f"{f.code}@{f.line}:{f.column}" for f in findings)
    expected = _expected(case["expect"])
    assert got == [where for where, _ in expected], [f"{f.code}@{f.line}:{f.column} {f.message}" for f in findings]
    for where, words in expected:
        messages = [f.message for f in findings if f"{f.code}@{f.line}:{f.column}" == where]
        assert not words or any(words in m for m in messages), (where, words, messages)


def test_every_case_has_a_unique_name():
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))

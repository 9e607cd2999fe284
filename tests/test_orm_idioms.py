"""SQLAlchemy, Flask-SQLAlchemy, Alembic and Django migrations as real
projects write them: each case in `cases/orm_idioms.yaml` is a small tree and
the findings orgscope must report on it (`CODE path:line`), nothing more."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import write_tree
from orgscope.config import Config
from orgscope.engine import Options, run

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "orm_idioms.yaml").read_text(encoding="utf-8"))
SHARED = CASES["shared"]


@pytest.mark.parametrize("case", CASES["cases"], ids=[c["name"] for c in CASES["cases"]])
def test_orm_idiom(case, tmp_path):
    files = {rel: SHARED[rel] for rel in case.get("uses", [])}
    files.update(case["files"])
    write_tree(tmp_path, files)
    config = dict(case.get("config", {}))
    if "rule_pack" in config:
        config["rule_pack"] = tmp_path / config["rule_pack"]
    result = run([tmp_path], Config(root=tmp_path, **config), Options(use_cache=False))
    found = sorted(f"{f.code} {f.path}:{f.line}" for f in result.findings)
    expected = [e.partition(" ~ ") for e in case["findings"]]  # "CODE path:line ~ words of its message"
    assert found == sorted(e[0] for e in expected), [f"{f.code} {f.path}:{f.line} {f.message}" for f in result.findings]
    for where, _, words in expected:
        if words:
            messages = [f.message for f in result.findings if f"{f.code} {f.path}:{f.line}" == where]
            assert any(words in m for m in messages), (where, words, messages)
    for text in case.get("notes_lack", []):
        assert not [n for n in result.notes if text in n.text], result.notes

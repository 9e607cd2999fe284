"""SPEC section 10 with no configuration: every case of tests/cases/zero_config.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from orgscope.config import Config
from orgscope.engine import Options, run

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "zero_config.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_zero_config_case(case, tmp_path):
    for rel, source in case["files"].items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    result = run([tmp_path], Config(root=tmp_path), Options(use_cache=False))
    found = sorted(f"{f.path}:{f.line}:{f.column} {f.code}" for f in result.findings)
    assert found == sorted(case["expect"]), "\n".join(f"{f.path}:{f.line}:{f.column} {f.code} {f.message}"
                                                     for f in result.findings)

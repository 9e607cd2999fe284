"""orgscope's own source is real Python that nobody wrote for a test: it
talks about agents and calls everywhere, builds SQL strings, imports with
parentheses and nests `with` items. Analysing it must never fail inside
orgscope: an internal error costs that file its findings."""

from __future__ import annotations

from pathlib import Path

from orgscope.config import Config
from orgscope.engine import Options, run

REPO = Path(__file__).resolve().parent.parent


def test_orgscope_analyses_its_own_source_without_an_internal_error(tmp_path):
    result = run([REPO / "src", REPO / "bench"], Config(root=REPO), Options(use_cache=False))
    assert result.files > 50
    failures = [f"{f.path}:{f.line} {f.message[:120]}" for f in result.findings
                if f.code == "ORG900" and ("internal error" in f.message or "took longer" in f.message)]
    assert failures == []

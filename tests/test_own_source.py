"""orgscope's own source is real Python that nobody wrote for a test: it
talks about agents and calls everywhere, builds SQL strings, imports with
parentheses and nests `with` items. Analysing it must never fail inside
orgscope: an internal error costs that file its findings. And the positions
generated a statement at a time must be those of the whole-module pass."""

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


def test_statement_positions_of_its_own_source_are_the_whole_module_pass_positions():
    # Every module of orgscope and its benchmark, every statement generated:
    # the positions a fact would get are those of libcst's whole-module pass.
    import ast

    import libcst as cst

    from orgscope.python.positions import NodePositions, compute_positions

    checked = 0
    for path in sorted((REPO / "src").rglob("*.py")) + sorted((REPO / "bench").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        module = cst.parse_module(text)
        positions = NodePositions(module, ast.parse(text), text)
        if not positions._anchors:
            continue  # an empty module
        for anchor in list(positions._anchors.values()):
            positions._generate(anchor)
        assert not positions._whole, path
        whole = compute_positions(module)
        wrong = [node for node, where in positions._computed.items() if node in whole and whole[node] != where]
        assert wrong == [], path
        checked += 1
    assert checked > 50

"""The cache, the worker processes and the candidate gate are optimisations:
they must never change what `orgscope check` reports.

A small tree from the benchmark generator (with planted violations in raw SQL,
supabase, SQLAlchemy and query files) is checked without a cache, with a cold
cache, with a warm cache, with one worker and with two, and the JSON findings
must be identical every time. The gate (which Python modules go to libcst) is
checked against parsing every module the prefilter passes, on generated trees
(with and without prose that names the org tables everywhere) and on
hand-written ones: every rule document's examples, the demo app, and a table
of modules whose query is easy to overlook (tests/cases/candidate_gate.yaml).
Positions computed a statement at a time are checked against the
whole-module pass on the same trees.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orgscope.config import Config
from orgscope.engine import Options, run
from orgscope.model import bundled_rules_dir, default_pack_path, load_pack
from orgscope.python import extract as python_extract
from orgscope.python.gate import CandidateGate
from orgscope.python.positions import NodePositions
from orgscope.suppress import scan
from orgscope.workers import PARALLEL_THRESHOLD
from conftest import AGENT_MODEL, write_tree

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
GATE_CASES = yaml.safe_load((REPO / "tests" / "cases" / "candidate_gate.yaml").read_text(encoding="utf-8"))


def _load_generator():
    """bench/generate.py as a module (bench/ is scripts, not a package)."""
    name = "orgscope_bench_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look themselves up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def check(tree: Path, *args: str, gate: bool = True) -> list[dict]:
    """The findings of `orgscope check --format json` run in `tree`; `gate`
    False parses every Python module the prefilter passes."""
    env = {k: v for k, v in os.environ.items() if k != "ORGSCOPE_NO_GATE"}
    if not gate:
        env["ORGSCOPE_NO_GATE"] = "1"
    proc = subprocess.run(
        [sys.executable, "-m", "orgscope", "check", "--format", "json", *args],
        cwd=tree, capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)["findings"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench") / "repo"
    # Small, yet both extraction phases (migrations and models, then the
    # remaining files that mention the tenancy model: about 35 here) have
    # more files than the engine's threshold for starting workers, so
    # `--jobs 2` really runs them in worker processes. One DB-touching module
    # in two carries a violation, so every mode has findings from both front
    # ends to agree on.
    manifest = _load_generator().generate(root, files=120, seed=7, migration_count=30, violation_every=2)
    assert manifest["migrations"] >= PARALLEL_THRESHOLD
    return root, manifest


@pytest.fixture(scope="module")
def reference(tree):
    root, _ = tree
    return check(root, "--no-cache", "--jobs", "1")


def test_reference_run_finds_every_planted_violation(tree, reference):
    _, manifest = tree
    reported = {(f["path"], f["code"]) for f in reference}
    planted = {(v["path"], v["code"]) for v in manifest["violations"]}
    assert planted, "the generator planted nothing"
    assert planted <= reported
    assert any(path.endswith(".py") for path, _ in planted)
    assert any(path.endswith(".sql") for path, _ in planted)


def test_cache_and_workers_never_change_the_findings(tree, reference):
    root, _ = tree
    cache = root / ".orgscope_cache"
    assert not cache.exists()

    assert check(root, "--no-cache", "--jobs", "2") == reference
    assert not cache.exists(), "--no-cache wrote a cache"

    in_tree = ("--cache-dir", str(cache))
    assert check(root, "--jobs", "2", *in_tree) == reference  # cold: builds the cache
    assert any(cache.iterdir()), "a cold run left no cache"

    assert check(root, "--jobs", "2", *in_tree) == reference  # warm
    assert check(root, "--jobs", "1", *in_tree) == reference  # warm, one process


def test_checking_a_few_files_reports_what_the_full_run_reports_for_them(tree, reference):
    # The pre-commit case: only some paths are given, the catalog (models,
    # replayed schema) still comes from the whole project.
    root, manifest = tree
    paths = sorted({v["path"] for v in manifest["violations"]})[:3]
    expected = [f for f in reference if f["path"] in paths]
    assert expected
    assert check(root, *paths) == expected


def test_the_generator_is_deterministic_for_a_seed(tmp_path):
    generator = _load_generator()
    one, two, other = tmp_path / "one", tmp_path / "two", tmp_path / "other"
    for folder, seed in ((one, 3), (two, 3), (other, 4)):
        generator.generate(folder, files=40, seed=seed, migration_count=25)

    def contents(folder: Path) -> dict[str, bytes]:
        return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}

    assert contents(one) == contents(two)
    assert contents(one) != contents(other)
    for rel, data in contents(one).items():
        if rel.endswith(".py"):
            compile(data, rel, "exec", dont_inherit=True)  # generated code is valid Python


# --- the candidate gate ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def prose_tree(tmp_path_factory):
    """Ordinary modules that name agents, calls and voices in docstrings,
    comments, log messages and identifiers, as a voice-agent product's do."""
    root = tmp_path_factory.mktemp("bench-prose") / "repo"
    manifest = _load_generator().generate(root, files=160, seed=11, migration_count=30, violation_every=2,
                                          prose=True)
    return root, manifest


def test_the_gate_never_changes_the_findings_of_a_generated_tree(tree, prose_tree, reference):
    root, _ = tree
    assert check(root, "--no-cache", "--jobs", "2", gate=False) == reference
    prose_root, manifest = prose_tree
    with_gate = check(prose_root, "--no-cache", "--jobs", "2")
    assert with_gate == check(prose_root, "--no-cache", "--jobs", "2", gate=False)
    planted = {(v["path"], v["code"]) for v in manifest["violations"]}
    assert planted and planted <= {(f["path"], f["code"]) for f in with_gate}


def test_the_gate_sends_the_database_modules_to_libcst_and_keeps_the_prose_away(prose_tree):
    root, manifest = prose_tree
    model = load_pack(default_pack_path())
    names = frozenset(manifest["model_classes"])
    gate = CandidateGate.for_model(model, names)
    texts = {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in (root / "app").rglob("*.py")}
    mentions = {rel for rel, text in texts.items() if model.mentions(text, names)}
    admitted = {rel for rel in mentions if gate.admits(texts[rel])}
    database = {rel for rel in texts if "_repo_" in rel}
    assert database <= admitted
    # Nearly every ordinary module names an org table, yet none of them holds a query.
    ordinary = mentions - database - {rel for rel in texts if rel.endswith("models.py")}
    assert len(ordinary) > 2 * len(database)
    assert not admitted & ordinary


def _findings(root: Path, gate: bool, monkeypatch, whole_positions: bool = False) -> list[tuple]:
    """Findings of an in-process run; `whole_positions` computes every
    module's positions in one whole-module pass instead of a statement at a
    time."""
    if gate:
        monkeypatch.delenv("ORGSCOPE_NO_GATE", raising=False)
    else:
        monkeypatch.setenv("ORGSCOPE_NO_GATE", "1")
    with monkeypatch.context() as patch:
        if whole_positions:
            patch.setattr(python_extract, "NodePositions", lambda module, tree, text: NodePositions(module, None, text))
        result = run([root], Config(root=root), Options(use_cache=False))
    return [(f.path, f.code, f.line, f.column, f.end_line, f.end_column, f.statement_line, f.message)
            for f in result.findings]


def _rule_examples() -> list:
    params = []
    for document in sorted(bundled_rules_dir().glob("ORG*.yaml")):
        raw = yaml.safe_load(document.read_text(encoding="utf-8"))
        for kind in ("bad", "good"):
            for number, example in enumerate(raw.get(kind) or [], start=1):
                params.append(pytest.param(example["files"], id=f"{raw['code']}-{kind}-{number}"))
    return params


@pytest.mark.parametrize("files", _rule_examples())
def test_the_gate_and_positions_on_demand_never_change_the_findings_of_a_rule_example(files, tmp_path, monkeypatch):
    write_tree(tmp_path, files)
    found = _findings(tmp_path, True, monkeypatch)
    assert found == _findings(tmp_path, False, monkeypatch)
    assert found == _findings(tmp_path, True, monkeypatch, whole_positions=True)


def test_the_gate_and_positions_on_demand_never_change_the_findings_of_the_demo_app(tmp_path, monkeypatch):
    demo = REPO / "examples" / "demo-app"
    write_tree(tmp_path, {p.relative_to(demo).as_posix(): p.read_text(encoding="utf-8")
                          for p in demo.rglob("*") if p.is_file() and p.suffix in (".py", ".sql")})
    with_gate = _findings(tmp_path, True, monkeypatch)
    assert with_gate and with_gate == _findings(tmp_path, False, monkeypatch)
    assert with_gate == _findings(tmp_path, True, monkeypatch, whole_positions=True)


def test_positions_on_demand_never_change_the_findings_of_a_generated_tree(tree, prose_tree, monkeypatch):
    for root, _ in (tree, prose_tree):
        found = _findings(root, True, monkeypatch)
        assert any(path.endswith(".py") for path, *_ in found)
        assert found == _findings(root, True, monkeypatch, whole_positions=True)


@pytest.mark.parametrize("case", GATE_CASES, ids=[c["name"] for c in GATE_CASES])
def test_the_gate_on_modules_whose_query_is_easy_to_miss(case, tmp_path, monkeypatch):
    write_tree(tmp_path, {"app/models.py": AGENT_MODEL, "app/mod.py": case["source"]})
    gate = CandidateGate.for_model(load_pack(default_pack_path()), frozenset({"Agent", "Base"}))
    assert gate.admits(case["source"], bool(scan(case["source"], "python"))) is case["parsed"]

    def of_module(found):
        return sorted([code, line] for path, code, line, *_ in found if path == "app/mod.py")

    with_gate = of_module(_findings(tmp_path, True, monkeypatch))
    if "findings" in case:
        assert with_gate == sorted(case["findings"])
    without = of_module(_findings(tmp_path, False, monkeypatch))
    assert without == sorted(with_gate + case.get("without_gate", []))

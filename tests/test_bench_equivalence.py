"""The cache and the worker processes are optimisations: they must never change
what `orgscope check` reports.

A small tree from the benchmark generator (with planted violations in raw SQL,
supabase, SQLAlchemy and query files) is checked without a cache, with a cold
cache, with a warm cache, with one worker and with two, and the JSON findings
must be identical every time.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from orgscope.workers import PARALLEL_THRESHOLD

BENCH = Path(__file__).resolve().parent.parent / "bench"


def _load_generator():
    """bench/generate.py as a module (bench/ is scripts, not a package)."""
    name = "orgscope_bench_generate"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCH / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look themselves up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def check(tree: Path, *args: str) -> list[dict]:
    """The findings of `orgscope check --format json` run in `tree`."""
    proc = subprocess.run(
        [sys.executable, "-m", "orgscope", "check", "--format", "json", *args],
        cwd=tree, capture_output=True, text=True, timeout=300,
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

"""Shared fixtures: write a tiny repository and run the real engine on it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from orgscope.config import Config
from orgscope.engine import Options, run


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")


@pytest.fixture
def lint(tmp_path):
    """lint({"queries/a.sql": "..."}, **config) -> list of findings."""

    def _lint(files: dict[str, str], *, paths: list[str] | None = None, options: Options | None = None, **config):
        write_tree(tmp_path, files)
        cfg = Config(root=tmp_path, **config)
        targets = [tmp_path / p for p in paths] if paths else [tmp_path]
        return run(targets, cfg, options or Options(use_cache=False)).findings

    return _lint


def brief(findings) -> list[tuple[str, int, int]]:
    """(code, line, column) of each finding, sorted."""
    return sorted((f.code, f.line, f.column) for f in findings)

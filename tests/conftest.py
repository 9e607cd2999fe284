"""Shared fixtures: write a tiny repository and run the real engine on it."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from orgscope.config import Config
from orgscope.engine import Options, run
from orgscope.context import ExtractContext
from orgscope.model import default_pack_path, load_pack
from orgscope.python.extract import extract_python


@pytest.fixture(autouse=True)
def _own_user_cache(tmp_path_factory, monkeypatch):
    """The per-user cache folder of each test is its own, never the real one."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("user-cache")))


# The smallest SQLAlchemy model of an org table, for trees that need one.
AGENT_MODEL = """\
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Agent(Base):
    __tablename__ = "agents"
    id: Mapped[str] = mapped_column(primary_key=True)
    clerk_org_id: Mapped[str]
"""


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


# --- the Python front end: facts of a source text, as the engine would get them ---


@pytest.fixture(scope="session")
def model():
    return load_pack(default_pack_path())


@pytest.fixture
def facts_of(model):
    """facts_of(source, module=..., query_wrappers=..., scoping_helpers=...) -> FileFacts.

    The source is dedented, so tests can indent it; line 1 is the line after
    the opening triple quote when the text starts with a newline.
    """

    def _facts(source: str, path: str = "app/db/agents.py", **ctx):
        ctx.setdefault("module", path[:-3].replace("/", "."))
        context = ExtractContext(model=model, **ctx)
        return extract_python(path, textwrap.dedent(source).lstrip("\n"), context)

    return _facts


def cli(root: Path, *args: str):
    """Run the orgscope command line in `root`, as a user in that folder would."""
    from click.testing import CliRunner

    from orgscope.cli import main

    old = Path.cwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(main, list(args))
    finally:
        os.chdir(old)


def store_files(folder: Path) -> dict[str, Path]:
    """The files of a facts cache folder by name relative to it (scans.json,
    facts/catalog.json, facts/<xx>.json), without .gitignore."""
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*.json"))}

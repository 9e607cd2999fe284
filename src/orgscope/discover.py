"""Stage one of the pipeline: which files, and what each one is.

Walks the given paths (never following directory symlinks, so a link loop
cannot trap the walk), honours `.gitignore` files (with pathspec), the
configured include / exclude globs and the usual virtualenv, build and cache
folders, and classifies each file as a SQL migration, a SQL query file or a
Python module. Alembic revisions are recognised later, from their content.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pathspec

from orgscope.config import Config

SKIP_DIRS = frozenset(
    {
        ".git", ".hg", ".svn", ".venv", "venv", ".env", "env", "node_modules", "__pycache__", ".tox", ".nox",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".hypothesis", "site-packages", "build", "dist", ".eggs",
        ".orgscope_cache", ".idea", ".vscode",
    }
)
SOURCE_SUFFIXES = (".sql", ".py")


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: Path  # absolute
    rel: str  # relative to the config root, with '/'
    kind: str  # sql | migration | python


class Discoverer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.migrations = pathspec.GitIgnoreSpec.from_lines(config.migrations)
        self.include = pathspec.GitIgnoreSpec.from_lines(config.include) if config.include else None
        self.exclude = pathspec.GitIgnoreSpec.from_lines(config.exclude)
        self._ignore_cache: dict[Path, pathspec.PathSpec | None] = {}

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return Path(os.path.relpath(path.resolve(), self.root)).as_posix()

    def classify(self, rel: str) -> str | None:
        if rel.endswith(".sql"):
            return "migration" if self.migrations.match_file(rel) else "sql"
        if rel.endswith(".py"):
            return "python"
        return None

    def wanted(self, rel: str) -> bool:
        if self.exclude.match_file(rel):
            return False
        return self.include is None or self.include.match_file(rel)

    def files(self, paths: list[Path], notes: list[str]) -> list[SourceFile]:
        """Every source file under `paths`, sorted by relative path, no duplicates."""
        found: dict[str, SourceFile] = {}
        for given in paths:
            path = given if given.is_absolute() else Path.cwd() / given
            if path.is_dir():
                self._walk(path, found, notes)
            elif path.is_file():
                rel = self.relative(path)
                kind = self.classify(rel)
                if kind is not None and not self.exclude.match_file(rel):
                    found[rel] = SourceFile(path, rel, kind)
            elif not path.exists() and not path.is_symlink():
                notes.append(f"path not found: {given}")
            elif path.is_symlink():
                notes.append(f"skipped broken symlink: {given}")
        return [found[k] for k in sorted(found)]

    def _walk(self, top: Path, found: dict[str, SourceFile], notes: list[str]) -> None:
        stack = [top]
        while stack:
            folder = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                notes.append(f"cannot read folder {self.relative(folder)}: {exc.strerror or exc}")
                continue
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_file = entry.is_file()  # a file symlink is fine: it cannot loop
                except OSError:
                    continue
                path = Path(entry.path)
                rel = self.relative(path)
                if is_dir:
                    if entry.name in SKIP_DIRS or entry.name.endswith(".egg-info"):
                        continue
                    if self._ignored(rel + "/", path.parent):
                        continue
                    stack.append(path)
                elif is_file and entry.name.endswith(SOURCE_SUFFIXES):
                    if self._ignored(rel, path.parent) or not self.wanted(rel):
                        continue
                    kind = self.classify(rel)
                    if kind is not None:
                        found[rel] = SourceFile(path, rel, kind)

    def _ignored(self, rel: str, folder: Path) -> bool:
        """Matched by a .gitignore in the root or any folder between it and the file."""
        folder = folder.resolve()
        chain = []
        current = folder
        while True:
            chain.append(current)
            if current == self.root or current.parent == current:
                break
            current = current.parent
        for base in chain:
            spec = self._gitignore(base)
            if spec is None:
                continue
            try:
                sub = (folder / Path(rel).name).relative_to(base).as_posix()
            except ValueError:
                continue
            if rel.endswith("/"):
                sub += "/"
            if spec.match_file(sub):
                return True
        return False

    def _gitignore(self, folder: Path) -> pathspec.PathSpec | None:
        if folder not in self._ignore_cache:
            spec = None
            ignore_file = folder / ".gitignore"
            try:
                if ignore_file.is_file():
                    lines = ignore_file.read_text(encoding="utf-8", errors="replace").splitlines()
                    spec = pathspec.GitIgnoreSpec.from_lines(lines)
            except OSError:
                spec = None
            self._ignore_cache[folder] = spec
        return self._ignore_cache[folder]

"""Stage one of the pipeline: which files, and what each one is.

Inside a git work tree the files are the ones git tracks plus the untracked
ones it does not ignore (`git ls-files -co --exclude-standard`, one process
per folder given): a tracked `app/env/db.py` is checked like any other file,
and `.gitignore` and `.git/info/exclude` mean what they mean to git. Outside
git, the given paths are walked (never following directory symlinks, so a
link loop cannot trap the walk), honouring `.gitignore` files (with pathspec)
and skipping the usual virtualenv, build and cache folders. Either way the
configured include / exclude globs apply, and each file is classified as a
SQL migration, a SQL query file or a Python module. Alembic revisions are
recognised later, from their content.

A path that does not exist is an error, never an empty, passing run.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pathspec

from orgscope.config import Config
from orgscope.errors import OrgscopeError

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
    content: bytes | None = None  # the text given on standard input (`-`), instead of the file's


def kind_of_name(name: str, migrations: pathspec.PathSpec) -> str | None:
    if name.endswith(".sql"):
        return "migration" if migrations.match_file(name) else "sql"
    if name.endswith(".py"):
        # a Python migration module (`migrations: ["**/migrations/*.py"]`)
        return "migration" if migrations.match_file(name) else "python"
    return None


class Discoverer:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.migrations = pathspec.GitIgnoreSpec.from_lines(config.migrations)
        self.include = pathspec.GitIgnoreSpec.from_lines(config.include) if config.include else None
        self.exclude = pathspec.GitIgnoreSpec.from_lines(config.exclude)
        self._ignore_cache: dict[Path, pathspec.PathSpec | None] = {}
        self._git_cache: dict[Path, list[str] | None] = {}
        self._chains: dict[Path, list[tuple[str, pathspec.PathSpec]]] = {}

    def relative(self, path: Path) -> str:
        try:
            return path.resolve().relative_to(self.root).as_posix()
        except ValueError:
            return Path(os.path.relpath(path.resolve(), self.root)).as_posix()

    def classify(self, rel: str) -> str | None:
        return kind_of_name(rel, self.migrations)

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
                listed = self._git_listing(path)
                if listed is None:
                    self._walk(path, found, notes)
                else:
                    self._add_listed(path, listed, found, notes)
            elif path.is_file() or path.is_symlink():
                # A broken link named on the command line is read, and its
                # read error becomes that file's ORG900: named, never skipped.
                rel = self.relative(path) if path.is_file() else self._link_rel(path)
                kind = self.classify(rel)
                if kind is not None and not self.exclude.match_file(rel):
                    found[rel] = SourceFile(path, rel, kind)
            else:
                raise OrgscopeError(f"{given}: no such file or directory")
        return [found[k] for k in sorted(found)]

    def _link_rel(self, path: Path) -> str:
        return Path(os.path.relpath(path.parent.resolve() / path.name, self.root)).as_posix()

    def _git_listing(self, folder: Path) -> list[str] | None:
        """What git tracks or would add under `folder` (names relative to it),
        or None when `folder` is not in a git work tree or git is missing."""
        if folder in self._git_cache:
            return self._git_cache[folder]
        try:
            # No fsmonitor hook and no optional locks: listing must run nothing
            # and change nothing in the repository.
            proc = subprocess.run(
                ["git", "-c", "core.fsmonitor=false", "-c", "core.quotePath=false",
                 "ls-files", "-co", "--exclude-standard", "-z"],
                cwd=folder, capture_output=True, check=False, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
            )
        except OSError:
            listed = None
        else:
            listed = os.fsdecode(proc.stdout).split("\0") if proc.returncode == 0 else None
        self._git_cache[folder] = listed
        return listed

    def _add_listed(self, folder: Path, names: list[str], found: dict[str, SourceFile], notes: list[str]) -> None:
        prefix = self.relative(folder)
        prefix = "" if prefix == "." else prefix + "/"
        for name in names:
            if not name:
                continue
            if name.endswith("/"):  # an untracked repository inside this one: walked as plain folders
                self._walk(folder / name.rstrip("/"), found, notes)
                continue
            if not name.endswith(SOURCE_SUFFIXES):
                continue
            rel = prefix + name
            if not self.wanted(rel):
                continue
            path = folder / name
            if not path.is_file():  # deleted from the work tree, or a link to a folder
                continue
            kind = self.classify(rel)
            if kind is not None:
                found[rel] = SourceFile(path, rel, kind)

    def _walk(self, top: Path, found: dict[str, SourceFile], notes: list[str]) -> None:
        # Folder links are not followed, so a path below `top` is `top`'s
        # relative path and the names on the way; only a file link is resolved.
        stack = [(top, self.relative(top))]
        while stack:
            folder, folder_rel = stack.pop()
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                notes.append(f"cannot read folder {folder_rel}: {exc.strerror or exc}")
                continue
            for entry in entries:
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    is_file = entry.is_file()  # a file symlink is fine: it cannot loop
                    is_link = entry.is_symlink()
                except OSError:
                    continue
                path = Path(entry.path)
                if is_link or folder_rel.startswith(".."):
                    rel = self.relative(path)
                else:
                    rel = entry.name if folder_rel == "." else f"{folder_rel}/{entry.name}"
                if is_dir:
                    if entry.name in SKIP_DIRS or entry.name.endswith(".egg-info"):
                        continue
                    if self._ignored(rel + "/", folder):
                        continue
                    stack.append((path, rel))
                elif is_file and entry.name.endswith(SOURCE_SUFFIXES):
                    if self._ignored(rel, folder) or not self.wanted(rel):
                        continue
                    kind = self.classify(rel)
                    if kind is not None:
                        found[rel] = SourceFile(path, rel, kind)

    def _ignored(self, rel: str, folder: Path) -> bool:
        """Matched by a .gitignore in the root or any folder between it and the file."""
        name = Path(rel).name + ("/" if rel.endswith("/") else "")
        for prefix, spec in self._ignore_chain(folder):
            if spec.match_file(prefix + name):
                return True
        return False

    def _ignore_chain(self, folder: Path) -> list[tuple[str, pathspec.PathSpec]]:
        """The .gitignore specs that apply in `folder`, each with the folder's
        path relative to the spec's own (resolved once per folder, not per file)."""
        chain = self._chains.get(folder)
        if chain is None:
            resolved = folder.resolve()
            chain = []
            current = resolved
            while True:
                spec = self._gitignore(current)
                if spec is not None:
                    inside = resolved.relative_to(current).as_posix()
                    chain.append(("" if inside == "." else inside + "/", spec))
                if current == self.root or current.parent == current:
                    break
                current = current.parent
            self._chains[folder] = chain
        return chain

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

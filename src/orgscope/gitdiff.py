"""Which lines a branch changed, for the pull-request gate (`--diff-base REV`).

The changes are those of the working tree against `git merge-base REV HEAD`,
the point where the branch left REV: what a pull request would show. Files
that git does not track yet (and does not ignore) count as wholly changed.

A pure deletion (`@@ -5,2 +4,0 @@`) leaves no line behind; the lines on each
side of the gap count as changed, so removing the `WHERE clerk_org_id = $1`
line of a query still brings that query's finding back.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from orgscope.errors import OrgscopeError

_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(?P<start>\d+)(?:,(?P<count>\d+))? @@")
_OCTAL = re.compile(r"\\([0-7]{3})")
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", '"': '"', "\\": "\\"}


@dataclass
class DiffResult:
    """Changed line numbers per path (relative to the config root, with '/').

    A deleted file, or the old path of a moved one, is in `deleted` and maps
    to an empty set, as does a file moved without edits; an untracked file
    maps to every one of its lines.
    """

    base: str  # the merge-base commit
    lines: dict[str, set[int]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    root: Path = Path(".")
    top: Path = Path(".")  # the work tree's top level

    def text_at_base(self, rel: str) -> str | None:
        """The file as it was at the merge-base (for a deleted file), or None."""
        spec = f"{self.base}:./{rel}"
        try:
            return _git(self.root, "show", spec, what=f"read {rel} at the merge-base")
        except OrgscopeError:
            return None


def changed_lines(root: Path, rev: str) -> DiffResult:
    """Lines changed in the working tree of the repository holding `root`
    since the merge-base of `rev` and HEAD."""
    root = Path(root).resolve()
    toplevel = _git(root, "rev-parse", "--show-toplevel", what="find the git repository").strip()
    if not toplevel:
        raise OrgscopeError(f"{root} is not inside a git repository; --diff-base needs one")
    top = Path(toplevel).resolve()
    commit = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}",
                  what=f"resolve --diff-base {rev!r}", unknown=f"unknown revision {rev!r} for --diff-base").strip()
    head = _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}", what="resolve HEAD",
                unknown="the repository has no commit yet (HEAD is unborn); --diff-base needs one").strip()
    base = _git(root, "merge-base", commit, head, what=f"find the merge-base of {rev!r} and HEAD",
                unknown=(f"{rev!r} and HEAD have no common ancestor; in a shallow clone fetch more history "
                         f"(actions/checkout: fetch-depth: 0)")).strip()

    # Fixed prefixes, no colour, no external diff or textconv driver, and
    # rename detection on: whatever the user's git config says.
    patch = _git(top, "-c", "core.quotePath=true", "diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv",
                 "--find-renames", "--src-prefix=a/", "--dst-prefix=b/", base, "--", what="diff against the base")
    result = DiffResult(base=base, root=root, top=top)
    _parse_patch(patch, top, root, result)

    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z", what="list untracked files")
    for name in filter(None, untracked.split("\0")):
        rel = _relative(top / name, root)
        if rel is not None:
            result.lines[rel] = _all_lines(top / name)
    return result


def write_base_tree(diff: DiffResult, into: Path) -> Path:
    """The files git tracked at the merge-base, written under `into` (`git
    archive`, so the work tree, the index and HEAD are left alone); returns
    the folder there that corresponds to the config root."""
    try:
        inside = diff.root.relative_to(diff.top).as_posix()
    except ValueError:
        inside = "."
    archive = subprocess.run(
        ["git", "archive", "--format=tar", diff.base, "--", inside],
        cwd=diff.top, capture_output=True, check=False, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"},
    )
    if archive.returncode != 0:
        message = archive.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise OrgscopeError(f"git failed to read the merge-base's files: {message[-1] if message else archive.returncode}")
    into.mkdir(parents=True, exist_ok=True)
    extract = subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, capture_output=True, check=False)
    if extract.returncode != 0:
        raise OrgscopeError(f"cannot unpack the merge-base's files: {extract.stderr.decode(errors='replace').strip()}")
    folder = into / inside
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _parse_patch(patch: str, top: Path, root: Path, result: DiffResult) -> None:
    old_path: str | None = None
    current: set[int] | None = None
    for line in patch.splitlines():
        if line.startswith("diff --git "):
            old_path, current = None, None
        elif line.startswith("rename from "):
            # A moved file no longer exists at its old path (a renamed
            # migration may also replay in another order).
            rel = _relative(top / _patch_path(line[len("rename from "):], ""), root)
            if rel is not None:
                result.deleted.add(rel)
                result.lines.setdefault(rel, set())
        elif line.startswith("rename to "):
            rel = _relative(top / _patch_path(line[len("rename to "):], ""), root)
            if rel is not None:
                result.lines.setdefault(rel, set())
        elif line.startswith("--- "):
            old_path = _patch_path(line[4:], "a/")
        elif line.startswith("+++ "):
            new_path = _patch_path(line[4:], "b/")
            if new_path is None:  # deleted file
                rel = _relative(top / old_path, root) if old_path else None
                if rel is not None:
                    result.deleted.add(rel)
                    result.lines.setdefault(rel, set())
                current = None
                continue
            rel = _relative(top / new_path, root)
            current = result.lines.setdefault(rel, set()) if rel is not None else None
        elif current is not None and (match := _HUNK.match(line)):
            start = int(match.group("start"))
            count = 1 if match.group("count") is None else int(match.group("count"))
            if count:
                current.update(range(start, start + count))
            else:
                # Lines were removed after line `start`: both neighbours changed.
                current.update(n for n in (start, start + 1) if n >= 1)


def _patch_path(text: str, prefix: str) -> str | None:
    """The path of a `--- a/x` / `+++ b/x` header; None for /dev/null."""
    text = text.rstrip("\t")
    if text == "/dev/null":
        return None
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        text = _unquote(text[1:-1])
    return text[len(prefix):] if text.startswith(prefix) else text


def _unquote(text: str) -> str:
    """Undo git's C-style quoting of a path (octal escapes are UTF-8 bytes)."""
    out = bytearray()
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            octal = _OCTAL.match(text, i)
            if octal:
                out.append(int(octal.group(1), 8))
                i += 4
                continue
            out += _ESCAPES.get(text[i + 1], text[i + 1]).encode("utf-8")
            i += 2
            continue
        out += ch.encode("utf-8")
        i += 1
    return out.decode("utf-8", errors="surrogateescape")


def _relative(path: Path, root: Path) -> str | None:
    """`path` relative to the config root with '/', as findings spell it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


def _all_lines(path: Path) -> set[int]:
    try:
        data = path.read_bytes()
    except OSError:
        return set()
    return set(range(1, data.count(b"\n") + 2))


def _git(cwd: Path, *args: str, what: str, unknown: str | None = None) -> str:
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"},
            check=False,
        )
    except FileNotFoundError:
        raise OrgscopeError("git is not installed or not on PATH; --diff-base needs it") from None
    except OSError as exc:
        raise OrgscopeError(f"cannot run git to {what}: {exc}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", errors="replace").strip().splitlines()
        if "not a git repository" in " ".join(message).lower():
            raise OrgscopeError(f"{cwd} is not inside a git repository; --diff-base needs one")
        if unknown is not None:
            raise OrgscopeError(unknown)
        detail = message[-1] if message else f"exit code {proc.returncode}"
        raise OrgscopeError(f"git failed to {what}: {detail}")
    return proc.stdout.decode("utf-8", errors="surrogateescape")


def touches_migrations(diff: DiffResult, classify) -> bool:
    """Did the branch add, change or delete a migration?

    `classify(rel)` is discovery's verdict on a path (`migration` for a SQL
    migration); a Python file counts when it reads like an Alembic revision,
    now or, when deleted, at the merge-base.
    """
    for rel in diff.lines:
        if classify(rel) == "migration":
            return True
        if rel.endswith(".py"):
            text = diff.text_at_base(rel) if rel in diff.deleted else _read_text(diff.root / rel)
            if text is not None and looks_like_alembic_revision(text):
                return True
    return False


def looks_like_alembic_revision(text: str) -> bool:
    return "down_revision" in text and "def upgrade" in text


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None

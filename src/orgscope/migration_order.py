"""Which migration tool a folder is written for, and the order it applies.

Each tool has its own idea of which files are migrations and in what order
they run, and replaying them any other way builds a schema the application
never sees. The tool is recognised from the layout (and, for goose, dbmate
and Liquibase, from the section markers the SQL front end found):

| tool | layout | applied | order |
|---|---|---|---|
| Prisma | `<dir>/<name>/migration.sql` | every folder | folder name |
| diesel | `<dir>/<name>/up.sql`, `down.sql` | up.sql | folder name |
| Supabase | `supabase/migrations/<digits>_<name>.sql` | names of that form | file name |
| Flyway | `V<version>__<name>.sql`, `U...`, `R__...` | V, then R | version (1.10 after 1.9), R by name |
| golang-migrate, sqlx | `<digits>_<name>.up.sql`, `.down.sql` | .up.sql | numeric version |
| goose | `-- +goose Up` in the files | every `<digits>_` file | numeric version |
| dbmate | `-- migrate:up` in the files | every `<digits>_` file | numeric version |
| yoyo | `<name>.sql`, `<name>.rollback.sql` | not .rollback.sql | file name |
| Liquibase | `--liquibase formatted sql` headers | every file | file name (includeAll) |
| none of these | | every file | natural sort of the path |

Folders are independent migration sets, applied one after the other in the
natural order of their paths. A file a tool would not apply (a down file, a
name that does not match its pattern) is listed with the reason instead of
being replayed.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from orgscope.facts import DBMATE, GOOSE, LIQUIBASE
from orgscope.schema import natural_sort_key

PRISMA = "prisma"
DIESEL = "diesel"
SUPABASE = "supabase"
FLYWAY = "flyway"
GOLANG_MIGRATE = "golang-migrate"
YOYO = "yoyo"
PLAIN = "plain"

_ORDER_WORDS = {
    PRISMA: "folder name order",
    DIESEL: "folder name order",
    SUPABASE: "file name order",
    FLYWAY: "Flyway version order (1.10 after 1.9), repeatable R__ migrations last",
    GOLANG_MIGRATE: "numeric version order",
    GOOSE: "numeric version order",
    DBMATE: "numeric version order",
    YOYO: "file name order",
    LIQUIBASE: "file name order (as includeAll)",
    PLAIN: "natural sort of the path (numbers as numbers)",
}
TOOL_NAMES = {
    PRISMA: "Prisma", DIESEL: "diesel", SUPABASE: "Supabase", FLYWAY: "Flyway",
    GOLANG_MIGRATE: "golang-migrate / sqlx", GOOSE: "goose", DBMATE: "dbmate", YOYO: "yoyo",
    LIQUIBASE: "Liquibase", PLAIN: "no particular tool",
}

_VERSIONED = re.compile(r"^(?P<version>\d+)_")
_UP_DOWN = re.compile(r"^(?P<version>\d+)_.*\.(?P<direction>up|down)\.sql$")
_SUPABASE_NAME = re.compile(r"^\d+_.*\.sql$")
_FLYWAY = re.compile(r"^(?P<prefix>[VUR])(?P<version>[0-9][0-9._]*)?__(?P<description>.*)\.sql$")


@dataclass
class MigrationSet:
    """One folder of migrations for one tool, in the order the tool applies them."""

    folder: str
    tool: str
    paths: list[str] = field(default_factory=list)

    @property
    def order(self) -> str:
        return _ORDER_WORDS[self.tool]

    @property
    def tool_name(self) -> str:
        return TOOL_NAMES[self.tool]


@dataclass
class MigrationPlan:
    sets: list[MigrationSet] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why the tool does not apply it)
    notes: list[str] = field(default_factory=list)

    @property
    def ordered(self) -> list[str]:
        return [path for migration_set in self.sets for path in migration_set.paths]


def plan_migrations(files: list[tuple[str, str | None]]) -> MigrationPlan:
    """The order to replay SQL migrations in. `files` holds each path with the
    tool whose section markers the file carries (None for plain SQL)."""
    folders: dict[tuple[str, str | None], list[str]] = {}
    markers = dict(files)
    for path, _ in files:
        folder, name = posixpath.split(path)
        if name == "migration.sql":
            folders.setdefault((posixpath.dirname(folder), PRISMA), []).append(path)
        elif name in ("up.sql", "down.sql"):
            folders.setdefault((posixpath.dirname(folder), DIESEL), []).append(path)
        else:
            folders.setdefault((folder, None), []).append(path)

    plan = MigrationPlan()
    for (folder, tool), paths in folders.items():
        tool = tool or _folder_tool(folder, paths, markers)
        migration_set = MigrationSet(folder, tool)
        keyed = []
        for path in paths:
            key, why_not = _tool_key(tool, path)
            if why_not is not None:
                plan.skipped.append((path, why_not))
            else:
                keyed.append((key, path))
        migration_set.paths = [path for _, path in sorted(keyed)]
        if migration_set.paths:
            plan.sets.append(migration_set)
        _check_versions(migration_set, plan)
    if any(s.tool != PLAIN for s in plan.sets):
        plan.sets.sort(key=lambda s: natural_sort_key(s.folder))
    else:
        # No tool recognised: one natural order over every path, as before
        # tools were told apart (nested folders interleave by name).
        everything = sorted((p for s in plan.sets for p in s.paths), key=natural_sort_key)
        plan.sets = [MigrationSet(_common_folder(everything), PLAIN, everything)] if everything else []
    plan.skipped.sort(key=lambda item: natural_sort_key(item[0]))
    return plan


def _folder_tool(folder: str, paths: list[str], markers: dict[str, str | None]) -> str:
    names = [posixpath.basename(p) for p in paths]
    if any(_UP_DOWN.match(n) for n in names):
        return GOLANG_MIGRATE
    if folder == "supabase/migrations" or folder.endswith("/supabase/migrations"):
        return SUPABASE
    flyway = [n for n in names if _FLYWAY.match(n)]
    if any(n.startswith("V") for n in flyway) and 2 * len(flyway) >= len(names):
        return FLYWAY
    tools = [markers.get(p) for p in paths]
    for tool in (GOOSE, DBMATE, LIQUIBASE):
        if 2 * tools.count(tool) >= len(tools):
            return tool
    if any(n.endswith(".rollback.sql") for n in names):
        return YOYO
    return PLAIN


def _tool_key(tool: str, path: str) -> tuple[tuple, str | None]:
    """The file's place in its tool's order, or why the tool does not apply it."""
    folder, name = posixpath.split(path)
    if tool in (PRISMA, DIESEL):
        if name == "down.sql":
            return (), "a diesel down.sql, applied only when reverting"
        return (posixpath.basename(folder),), None
    if tool == SUPABASE:
        if not _SUPABASE_NAME.match(name):
            return (), "Supabase applies only files named <timestamp>_<name>.sql"
        return (name,), None
    if tool == FLYWAY:
        match = _FLYWAY.match(name)
        if match is None or (match.group("prefix") != "R" and not match.group("version")):
            return (), "Flyway applies only V<version>__<name>.sql and R__<name>.sql"
        if match.group("prefix") == "U":
            return (), "a Flyway undo migration, applied only by flyway undo"
        if match.group("prefix") == "R":
            return (1, (), match.group("description"), name), None
        return (0, _flyway_version(match.group("version")), "", name), None
    if tool == GOLANG_MIGRATE:
        match = _UP_DOWN.match(name)
        if match is None:
            return (), "golang-migrate / sqlx here apply only <version>_<name>.up.sql"
        if match.group("direction") == "down":
            return (), "a down migration, applied only when migrating down"
        return (int(match.group("version")), name), None
    if tool in (GOOSE, DBMATE):
        match = _VERSIONED.match(name)
        if match is None:
            return (), f"{TOOL_NAMES[tool]} applies only files named <version>_<name>.sql"
        return (int(match.group("version")), name), None
    if tool == YOYO:
        if name.endswith(".rollback.sql"):
            return (), "a yoyo rollback, applied only by yoyo rollback"
        return (name,), None
    if tool == LIQUIBASE:
        return (name,), None
    return natural_sort_key(path), None


def _flyway_version(version: str) -> tuple[int, ...]:
    """`1_10` and `1.10` are 1.10; trailing zeros do not count (1.0 == 1)."""
    parts = [int(p) for p in re.split(r"[._]", version) if p]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def _check_versions(migration_set: MigrationSet, plan: MigrationPlan) -> None:
    """Two files with one version: the tool refuses to run, so say so."""
    if migration_set.tool not in (FLYWAY, GOLANG_MIGRATE, GOOSE, DBMATE):
        return
    seen: dict[object, str] = {}
    for path in migration_set.paths:
        key = _tool_key(migration_set.tool, path)[0]
        version = key[:2] if migration_set.tool == FLYWAY else key[0]
        if migration_set.tool == FLYWAY and key[0] == 1:
            continue
        if version in seen:
            plan.notes.append(f"{path}: same version as {seen[version]}; "
                              f"{TOOL_NAMES[migration_set.tool]} refuses to run with both")
        else:
            seen[version] = path


def _common_folder(paths: list[str]) -> str:
    return posixpath.commonpath(paths) if len(paths) > 1 else posixpath.dirname(paths[0])


_SECTION_WORDS = {GOOSE: "-- +goose Up sections only", DBMATE: "-- migrate:up sections only",
                  LIQUIBASE: "changesets for PostgreSQL only, --rollback lines are comments"}


def describe_plan(plan: MigrationPlan) -> dict:
    """The plan as data, for `orgscope schema --format json`."""
    return {
        "sets": [{"folder": s.folder, "tool": s.tool, "tool_name": s.tool_name, "order": s.order,
                  "applies": _SECTION_WORDS.get(s.tool, "whole files"), "files": list(s.paths)}
                 for s in plan.sets],
        "not_replayed": [{"path": path, "reason": reason} for path, reason in plan.skipped],
        "notes": list(plan.notes),
    }


def render_plan_text(plan: MigrationPlan) -> str:
    """Which tool each migration folder is read for, the order used, and the
    files that tool would not apply."""
    if not plan.sets and not plan.skipped:
        return "no SQL migrations\n"
    lines = []
    for s in plan.sets:
        count = f"{len(s.paths)} file{'s' if len(s.paths) != 1 else ''}"
        sections = f"; {_SECTION_WORDS[s.tool]}" if s.tool in _SECTION_WORDS else ""
        lines.append(f"migrations in {s.folder or '.'}: {s.tool_name}, {s.order}, {count}{sections}")
    if plan.skipped:
        lines.append(f"not replayed ({len(plan.skipped)}):")
        lines.extend(f"  {path}: {reason}" for path, reason in plan.skipped)
    lines.extend(plan.notes)
    return "\n".join(lines) + "\n"

"""`orgscope init`: write a commented configuration to start from.

Every key appears commented out, with its default value and what it does, so
the file changes nothing until a line is uncommented. The defaults are taken
from `Config` itself, so the stub cannot drift from what orgscope does.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from orgscope.config import Config
from orgscope.context import QueryWrapper
from orgscope.errors import OrgscopeError
from orgscope.writes import write_atomic

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

YAML_NAME = ".orgscope.yaml"
PYPROJECT_NAME = "pyproject.toml"

# What each key means, in the order the stub lists them. A key without a
# default value to show (rule_pack) gets an example instead.
KEY_HELP: dict[str, str] = {
    "rule_pack": "Your own tenancy rule pack (org tables, org column, legacy column). Default: the bundled pack.",
    "migrations": "Globs of the SQL migrations whose DDL is replayed for ORG002 / ORG004.",
    "include": "Only check files matching one of these globs (empty: every *.py and *.sql file).",
    "exclude": "Never check files matching these globs (on top of .gitignore and virtualenv/build folders).",
    "dialect": "The SQL dialect; PostgreSQL is the one supported.",
    "select": "Only run these rules (empty: every rule), for example ORG001 and ORG003.",
    "ignore": "Do not run these rules.",
    "extend_select": "Rules checked on top of select (codes, prefixes such as ORG0, or ALL).",
    "extend_ignore": "Rules not checked, on top of ignore.",
    "per_file_ignores": "Rules not reported in the files a glob matches, for example {\"tests/**\": [\"ORG001\"]}.",
    "severity": "Severity per rule code: error, warning or info (for example ORG006 as a warning).",
    "check_migration_queries": "Also check the queries inside migrations (off: backfills span organizations).",
    "query_wrappers": (
        "Your data-access layer's query calls: the call's name, the positions of its table and its filters "
        "or payload arguments, and its op (select, update, delete, insert or upsert)."
    ),
    "scoping_helpers": "Functions that scope a query to the org, by dotted or bare name (for example app.db.scoped).",
    "fail_on": "Lowest severity that makes the exit code 1: error, warning or info.",
    "max_file_bytes": "Larger files are reported as unanalyzable (ORG900) instead of parsed; 0 means no limit.",
    "file_timeout": "Seconds one file may take before it is reported as unanalyzable (ORG900).",
    "cache_dir": ("A cache folder relative to this file, instead of the per-user cache folder (a cache file that "
                  "git tracks is never read)."),
    "jobs": "Worker processes; 0 means one per CPU core.",
}
_EXAMPLE_ONLY = {"rule_pack": "tenancy/pack.yaml", "cache_dir": ".orgscope_cache"}


def configurable_keys() -> list[str]:
    """The keys a configuration file may set (every Config field but the derived ones)."""
    return [f.name for f in fields(Config) if f.name not in ("root", "source")]


def _defaults() -> dict[str, object]:
    default = Config(root=Path("."))
    values = {}
    for key in configurable_keys():
        value = getattr(default, key)
        if key == "per_file_ignores":
            values[key] = dict(value)  # stored as pairs, written as a mapping
        else:
            values[key] = list(value) if isinstance(value, tuple) else value
    return values


def _flow(value: object) -> str:
    """A value written the same way in YAML flow style and in TOML."""
    return json.dumps(value)


_INTRO = [
    "# orgscope configuration. Every key is optional and shown with its default;",
    "# uncomment a line to change it. Paths are relative to this file.",
]


@dataclass(frozen=True)
class Findings:
    """What `orgscope init` learned from the project itself, shown commented."""

    wrappers: tuple[QueryWrapper, ...] = ()  # inferred from the code
    hand_run_folders: tuple[str, ...] = ()  # scripts/ folders whose SQL is run by hand


def yaml_stub(found: Findings = Findings()) -> str:
    head = [*_INTRO, "# The rules and their documentation: orgscope rules, orgscope rule ORG001."]
    return _stub(head, found, example='#   {key}: {value}', default="# {key}: {value}", item="#   - {value}")


def toml_section(found: Findings = Findings()) -> str:
    return _stub(["[tool.orgscope]", *_INTRO], found, example='#   {key} = "{value}"', default="# {key} = {value}",
                 item="#   {value},")


def _stub(head: list[str], found: Findings, *, example: str, default: str, item: str) -> str:
    """Every configurable key, commented, with its help and default (or an
    example), and what the project itself suggests for it."""
    lines = list(head)
    defaults = _defaults()
    for key in configurable_keys():
        lines += ["", f"# {KEY_HELP[key]}"]
        if key in _EXAMPLE_ONLY:
            lines.append(example.format(key=key, value=_EXAMPLE_ONLY[key]))
        elif key == "query_wrappers" and found.wrappers:
            lines.append("# orgscope inferred these from the code; list one here only to add or correct one:")
            lines.append(default.format(key=key, value="[") if "=" in default else f"# {key}:")
            for wrapper in found.wrappers:
                adds = {"always": ", adds the org filter itself", "conditional": ", adds the org filter when asked"}
                note = f"  # {wrapper.source}{adds.get(wrapper.org, '')}"
                lines.append(item.format(value=_wrapper_entry(wrapper, toml="=" in default)) + note)
            if "=" in default:
                lines.append("# ]")
        elif key == "exclude" and found.hand_run_folders:
            globs = [f"{folder}/**" for folder in found.hand_run_folders]
            lines.append("# These folders look like SQL run by hand (backfills span organizations); to skip them:")
            lines.append(default.format(key=key, value=_flow(globs)))
        else:
            lines.append(default.format(key=key, value=_flow(defaults[key])))
    return "\n".join(lines) + "\n"


def _wrapper_entry(wrapper: QueryWrapper, toml: bool) -> str:
    """An inferred wrapper as a `query_wrappers` item: `Class.method` matches its instances."""
    parts = wrapper.call.split(".")
    call = ".".join(parts[-2:]) if wrapper.owner else parts[-1]
    fields = [("call", json.dumps(call)), ("op", wrapper.op), ("table", str(wrapper.table))]
    fields += [(k, str(v)) for k, v in (("filters", wrapper.filters), ("payload", wrapper.payload)) if v is not None]
    if toml:
        return "{ " + ", ".join(f"{k} = {json.dumps(v) if k == 'op' else v}" for k, v in fields) + " }"
    return "{" + ", ".join(f"{k}: {v}" for k, v in fields) + "}"


def hand_run_folders(files: list[str]) -> tuple[str, ...]:
    """Folders named `scripts` (at any depth) holding SQL or Python: hand-run jobs."""
    found = set()
    for rel in files:
        parts = rel.split("/")
        for i, part in enumerate(parts[:-1]):
            if part == "scripts":
                found.add("/".join(parts[: i + 1]))
                break
    return tuple(sorted(found))


def write_yaml_config(folder: Path, *, force: bool = False, found: Findings = Findings()) -> Path:
    path = Path(folder) / YAML_NAME
    _write(path, yaml_stub(found), overwrite=force)
    return path


def _write(path: Path, text: str, *, overwrite: bool) -> None:
    try:
        write_atomic(path, text, overwrite=overwrite)
    except OSError as exc:
        raise OrgscopeError(f"{path}: cannot write it: {exc.strerror or exc}") from None


def append_pyproject_section(folder: Path, found: Findings = Findings()) -> Path:
    """Append `[tool.orgscope]` to pyproject.toml (created when missing). An
    existing section is never touched, with or without --force."""
    path = Path(folder) / PYPROJECT_NAME
    try:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise OrgscopeError(f"{path}: cannot read it: {exc}") from None
    try:
        data = tomllib.loads(current)
    except tomllib.TOMLDecodeError as exc:
        raise OrgscopeError(f"{path}: invalid TOML ({exc}); fix it before adding [tool.orgscope]") from None
    tool = data.get("tool")
    if isinstance(tool, dict) and "orgscope" in tool:
        raise OrgscopeError(f"{path} already has a [tool.orgscope] section; edit it there")
    if not current or current.endswith("\n\n"):
        separator = ""
    else:
        separator = "\n" if current.endswith("\n") else "\n\n"
    text = current + separator + toml_section(found)
    try:
        tomllib.loads(text)  # never write a pyproject.toml that no longer parses
    except tomllib.TOMLDecodeError as exc:
        raise OrgscopeError(f"{path}: appending [tool.orgscope] would make it invalid ({exc})") from None
    _write(path, text, overwrite=True)
    return path

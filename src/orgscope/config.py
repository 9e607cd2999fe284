"""Find, load and validate the configuration.

Config lives in `[tool.orgscope]` of a pyproject.toml or in `.orgscope.yaml`,
found by walking up from the current directory. Every problem is a ConfigError
that names the file and the key.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from orgscope.context import QueryWrapper
from orgscope.errors import ConfigError
from orgscope.model import TenancyModel, default_pack_path, load_pack
from orgscope import yaml_text

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

SEVERITIES = ("error", "warning", "info")
# Flyway's and Liquibase's default folders are db/migration and db/changelog.
DEFAULT_MIGRATIONS = ("**/migrations/**/*.sql", "**/db/migration/**/*.sql", "**/db/changelog/**/*.sql")
DIALECTS = ("postgres",)  # the SQL orgscope is tested against


@dataclass(frozen=True)
class Config:
    root: Path  # the directory that holds the config (else the cwd)
    source: str | None = None  # the config file, when there is one
    rule_pack: Path | None = None
    migrations: tuple[str, ...] = DEFAULT_MIGRATIONS
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    dialect: str = "postgres"
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    extend_select: tuple[str, ...] = ()
    extend_ignore: tuple[str, ...] = ()
    # glob -> rule selectors not reported in the files it matches (paths relative to root)
    per_file_ignores: tuple[tuple[str, tuple[str, ...]], ...] = ()
    severity: dict[str, str] = field(default_factory=dict)
    check_migration_queries: bool = False
    query_wrappers: tuple[QueryWrapper, ...] = ()
    scoping_helpers: tuple[str, ...] = ()
    fail_on: str = "error"
    max_file_bytes: int = 5_000_000
    file_timeout: float = 20.0
    cache_dir: str | None = None  # None: the per-user cache folder
    jobs: int = 0  # 0 = one worker per core

    def with_overrides(self, **values: Any) -> "Config":
        return replace(self, **{k: v for k, v in values.items() if v is not None})

    def load_model(self) -> TenancyModel:
        return load_pack(self.rule_pack or default_pack_path())


# key -> (expected python type, description used in errors)
_KEYS: dict[str, tuple[Any, str]] = {
    "rule_pack": (str, "a path"),
    "migrations": (list, "a list of globs"),
    "include": (list, "a list of globs"),
    "exclude": (list, "a list of globs"),
    "dialect": (str, "a dialect name"),
    "select": (list, "a list of rule codes"),
    "ignore": (list, "a list of rule codes"),
    "extend_select": (list, "a list of rule codes"),
    "extend_ignore": (list, "a list of rule codes"),
    "per_file_ignores": (dict, "a mapping of glob to a list of rule codes"),
    "severity": (dict, "a mapping of rule code to severity"),
    "check_migration_queries": (bool, "true or false"),
    "query_wrappers": (list, "a list of wrapper descriptions"),
    "scoping_helpers": (list, "a list of function names"),
    "fail_on": (str, "a severity"),
    "max_file_bytes": (int, "a number of bytes"),
    "file_timeout": ((int, float), "a number of seconds"),
    "cache_dir": (str, "a path"),
    "jobs": (int, "a number of workers"),
}
_WRAPPER_OPS = ("select", "update", "delete", "insert", "upsert")


def find_config(start: Path) -> Path | None:
    """The nearest .orgscope.yaml, or pyproject.toml with [tool.orgscope]."""
    for folder in [start, *start.parents]:
        candidate = folder / ".orgscope.yaml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_tool_section(pyproject):
            return pyproject
    return None


def _has_tool_section(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # A broken pyproject that mentions orgscope is still ours to report.
        try:
            return "[tool.orgscope]" in pyproject.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return isinstance(data.get("tool"), dict) and "orgscope" in data["tool"]


def load_config(path: Path | None, cwd: Path, known_codes: set[str],
                overrides: dict[str, Any] | None = None) -> Config:
    """Load `path` (or the defaults when None), then the `--config KEY=VALUE`
    overrides on top, validating every key of both."""
    values: dict[str, Any] = {}
    root, source = cwd, None
    if path is not None:
        source = str(path)
        raw = _read_raw(path)
        if not isinstance(raw, dict):
            raise ConfigError(source, None, "the configuration must be a mapping of keys to values")
        root = path.resolve().parent
        values = validated_values(raw, source, root, known_codes)
    if overrides:
        values.update(validated_values(overrides, "--config", root, known_codes))
    return Config(root=root, source=source, **values)


def validated_values(raw: dict[str, Any], where: str, root: Path, known_codes: set[str]) -> dict[str, Any]:
    """The Config fields that `raw` (a config file's mapping) sets, each checked."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        key = str(key).replace("-", "_")
        if key not in _KEYS:
            raise ConfigError(where, key, f"unknown key (known keys: {', '.join(sorted(_KEYS))})")
        expected, words = _KEYS[key]
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(where, key, f"expected {words}, got {type(value).__name__} {value!r}")
        values[key] = value

    for key in ("migrations", "include", "exclude", "select", "ignore", "extend_select", "extend_ignore",
                "scoping_helpers"):
        if key in values:
            if not all(isinstance(item, str) and item for item in values[key]):
                raise ConfigError(where, key, "every item must be a non-empty string")
            values[key] = tuple(values[key])
    for key in ("select", "ignore", "extend_select", "extend_ignore"):
        for code in values.get(key, ()):
            check_code(code, known_codes, where, key)
    if "severity" in values:
        for code, level in values["severity"].items():
            check_code(str(code), known_codes, where, f"severity.{code}")
            if level not in SEVERITIES:
                raise ConfigError(where, f"severity.{code}", f"expected one of {', '.join(SEVERITIES)}, got {level!r}")
        values["severity"] = {str(c).upper(): lvl for c, lvl in values["severity"].items()}
    if "fail_on" in values and values["fail_on"] not in SEVERITIES:
        raise ConfigError(where, "fail_on", f"expected one of {', '.join(SEVERITIES)}")
    if "dialect" in values and values["dialect"] not in DIALECTS:
        raise ConfigError(where, "dialect", f"unsupported dialect (supported: {', '.join(DIALECTS)})")
    for key in ("max_file_bytes", "jobs"):
        if key in values and values[key] < 0:
            raise ConfigError(where, key, "must not be negative")
    if "file_timeout" in values and values["file_timeout"] <= 0:
        raise ConfigError(where, "file_timeout", "must be a positive number of seconds")
    if "query_wrappers" in values:
        values["query_wrappers"] = tuple(
            _wrapper(item, where, f"query_wrappers[{i}]") for i, item in enumerate(values["query_wrappers"])
        )
    if "rule_pack" in values:
        pack = (root / values["rule_pack"]).resolve()
        if not pack.is_file():
            raise ConfigError(where, "rule_pack", f"rule pack file not found: {values['rule_pack']}")
        values["rule_pack"] = pack
    if "per_file_ignores" in values:
        values["per_file_ignores"] = _per_file_ignores(values["per_file_ignores"], where, known_codes)
    return values


def resolve_config(config_path: str | None, rule_pack: str | None, cwd: Path, start: Path | None = None, *,
                   overrides: dict[str, Any] | None = None, isolated: bool = False) -> Config:
    """The configuration a command runs with: `--config`, or the config file
    nearest to `start` (default: `cwd`), then `--rule-pack` on top. Without a
    config file the root is the git top level above `start`, else `cwd`."""
    from orgscope.rules import known_codes

    start = start or cwd
    path = Path(config_path) if config_path else None if isolated else find_config(start)
    if config_path and not path.is_file():
        raise ConfigError(config_path, None, "configuration file not found")
    config = load_config(path, git_top_level(start) or cwd, known_codes(), overrides)
    if rule_pack:
        pack = Path(rule_pack)
        if not pack.is_file():
            raise ConfigError(rule_pack, "--rule-pack", "rule pack file not found")
        config = config.with_overrides(rule_pack=pack.resolve())
    return config


def git_top_level(start: Path) -> Path | None:
    """The work tree holding `start`: the nearest folder with a `.git` (no git process needed)."""
    for folder in [start, *start.parents]:
        if (folder / ".git").exists():
            return folder
    return None


def configs_for_paths(paths: list[Path], config_path: str | None, rule_pack: str | None, cwd: Path, *,
                      overrides: dict[str, Any] | None = None,
                      isolated: bool = False) -> list[tuple[Config, list[Path]]]:
    """Each checked path with the configuration that governs it: the config
    file found walking up from the path itself (so `orgscope check backend`
    from the repository root uses backend/.orgscope.yaml, and pre-commit,
    which passes paths from the root, sees a sub-folder's config). Paths under
    one config are checked together; `--config` governs every path."""
    settings = {"overrides": overrides, "isolated": isolated}
    if config_path or not paths:
        return [(resolve_config(config_path, rule_pack, cwd, **settings), paths)]
    groups: dict[tuple, tuple[Config, list[Path]]] = {}
    for given in paths:
        path = given if given.is_absolute() else cwd / given
        start = path if path.is_dir() else path.parent
        start = start.resolve() if start.exists() else start.absolute()
        found = None if isolated else find_config(start)
        key = ("config", found.resolve()) if found else ("root", git_top_level(start) or cwd)
        if key not in groups:
            groups[key] = (resolve_config(None, rule_pack, cwd, start, **settings), [])
        groups[key][1].append(given)
    return list(groups.values())


def parse_override(text: str) -> dict[str, Any]:
    """`--config 'key = value'` (TOML, as in ruff) as a one-key mapping."""
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("--config", None, f"{text!r} is neither a file nor a TOML `key = value` pair ({exc})") from None
    return parsed


def check_code(code: str, known_codes: set[str], where: str, key: str) -> None:
    """`code` selects at least one rule: a code, a prefix of codes (ORG0) or ALL."""
    if not expand_codes((code,), known_codes):
        raise ConfigError(where, key, f"unknown rule code {code!r} (known: ALL, a prefix such as ORG0, or one of "
                                      f"{', '.join(sorted(known_codes))})")


def expand_codes(selectors, known_codes) -> set[str]:
    """The rule codes that selectors name: ALL, a code, or a prefix of codes (as in ruff)."""
    codes: set[str] = set()
    for selector in selectors:
        wanted = selector.strip().upper()
        if wanted == "ALL":
            codes |= set(known_codes)
        elif wanted:
            codes |= {code for code in known_codes if code.startswith(wanted)}
    return codes


def _per_file_ignores(value: dict, where: str, known_codes: set[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    pairs = []
    for glob, codes in value.items():
        key = f"per_file_ignores.{glob}"
        if not isinstance(glob, str) or not glob:
            raise ConfigError(where, "per_file_ignores", "every key must be a non-empty glob")
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not all(isinstance(c, str) and c for c in codes):
            raise ConfigError(where, key, "expected a list of rule codes")
        for code in codes:
            check_code(code, known_codes, where, key)
        pairs.append((glob, tuple(c.upper() for c in codes)))
    return tuple(pairs)


def _read_raw(path: Path) -> Any:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, None, f"cannot read the configuration: {exc}") from None
    if path.name == "pyproject.toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(where, None, f"invalid TOML: {exc}") from None
        section = data.get("tool", {}).get("orgscope") if isinstance(data.get("tool"), dict) else None
        if section is None:
            raise ConfigError(where, "tool.orgscope", "missing [tool.orgscope] section")
        return section
    try:
        data = yaml_text.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(where, None, f"invalid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    return {} if data is None else data


def _wrapper(item: Any, where: str, key: str) -> QueryWrapper:
    if not isinstance(item, dict):
        raise ConfigError(where, key, "expected a mapping such as {call: select, table: 0, filters: 1, op: select}")
    allowed = {"call", "op", "table", "filters", "payload"}
    for name in item:
        if name not in allowed:
            raise ConfigError(where, f"{key}.{name}", f"unknown key (known keys: {', '.join(sorted(allowed))})")
    call = item.get("call")
    if not isinstance(call, str) or not call:
        raise ConfigError(where, f"{key}.call", "expected the name of the wrapper function or method")
    op = item.get("op")
    if op not in _WRAPPER_OPS:
        raise ConfigError(where, f"{key}.op", f"expected one of {', '.join(_WRAPPER_OPS)}, got {op!r}")
    for name in ("table", "filters", "payload"):
        value = item.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ConfigError(where, f"{key}.{name}", "expected the index of a positional argument (0, 1, ...)")
    if op in ("insert", "upsert") and item.get("payload") is None:
        raise ConfigError(where, f"{key}.payload", f"an {op} wrapper needs the index of its payload argument")
    return QueryWrapper(
        call=call, op=op, table=item.get("table", 0), filters=item.get("filters"), payload=item.get("payload")
    )

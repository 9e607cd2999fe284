"""The tenancy model: which tables are org-scoped, by which column.

The model is data (a YAML rule pack), not code, so a team with `tenant_id` on
other tables points the config at its own pack. This module loads and
validates a pack and answers the questions the rules ask of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Iterator

import yaml

from orgscope.errors import ConfigError
from orgscope.postgres import sql_name_parts
from orgscope import yaml_text

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
_FUNCTION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*(\.([A-Za-z_][A-Za-z0-9_$]*|\*))?$")
RLS_MODES = ("auto", "required", "off")
# Supabase's own roles: service_role bypasses row level security, postgres and
# supabase_admin own the tables.
DEFAULT_TRUSTED_ROLES = frozenset({"service_role", "postgres", "supabase_admin"})
DEFAULT_REQUEST_FUNCTIONS = frozenset({"auth.*", "current_setting", "current_user", "session_user", "current_role"})


def bundled_rules_dir() -> Path:
    """The rules/ folder: inside the installed wheel, or at the top of a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "_rules"
    if installed.is_dir():
        return installed
    return here.parent.parent / "rules"


def default_pack_path() -> Path:
    return bundled_rules_dir() / "pack.yaml"


def split_table_name(name: str) -> tuple[str | None, str]:
    """A table name as a Python library passes it (SQLAlchemy's
    `__tablename__`, supabase's `.table()`): exact, since both quote what
    is not lower case. `public.agents` -> (None, "agents");
    `archive.Workflow` -> ("archive", "Workflow")."""
    schema, _, table = name.rpartition(".")
    return (None if schema in ("", "public") else schema), table




# --- "does this text mention ...": the one test, used by every stage -----------
#
# Two questions, each answered here only:
# * `mentions`: could this text be about the tenancy model? Names count whole
#   (`functools` does not mention `tools`), but `_` separates, so
#   `AGENTS_TABLE`, `list_agents` and `idx_agents_clerk_org_id` do mention
#   `agents`. This decides which files are parsed and whether a part that
#   cannot be analysed is reported (ORG900) or passed over.
# * `find_names`: where does the text name one of these as a whole SQL or
#   Python identifier (letters, digits, `_`, `$`)? This places a finding.


@dataclass(frozen=True, slots=True)
class Mention:
    start: int
    end: int
    name: str  # lower-cased


def mentions(text: str, words: frozenset[str], names: frozenset[str] = frozenset()) -> bool:
    """Does the text name one of `words` (any case: SQL folds table and column
    names) or `names` (class names, exact case) as a whole name, `_` separating?"""
    if words and _names_in(text.lower(), _alternation(words)):
        return True
    return bool(names) and _names_in(text, _alternation(names))


def find_names(text: str, names: Iterable[str]) -> Iterator[Mention]:
    """Each place the text names one of `names` (any case) as a whole identifier."""
    for found in _identifier_pattern(frozenset(names)).finditer(text):
        yield Mention(found.start(), found.end(), found.group(0).lower())


_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _names_in(text: str, pattern: re.Pattern) -> bool:
    # A plain alternation plus a boundary test in Python is several times
    # faster than look-around assertions (and far faster than IGNORECASE):
    # this runs on every file of the tree.
    end = len(text)
    for match in pattern.finditer(text):
        start, stop = match.span()
        if (start == 0 or text[start - 1] not in _ALNUM) and (stop == end or text[stop] not in _ALNUM):
            return True
    return False


@lru_cache(maxsize=8)
def _alternation(words: frozenset[str]) -> re.Pattern:
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


_QUALIFIER = re.compile(r'"?([A-Za-z_][\w$]*)"?\s*\.$')


@lru_cache(maxsize=16)
def _identifier_pattern(names: frozenset[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w$])(?:{alternatives})(?![\w$])", re.IGNORECASE)


@dataclass(frozen=True)
class TenancyModel:
    name: str
    org_column: str
    org_column_type: str
    org_tables: frozenset[tuple[str | None, str]]
    legacy_column: str
    client_tables: frozenset[tuple[str | None, str]]
    mapping_table: str | None
    mapping_column: str | None
    index_name: str = "idx_{table}_{column}"
    require_index_name: bool = False
    source: str = "<default>"
    # Lower-cased words whose presence makes a file worth parsing.
    trigger_words: frozenset[str] = field(default=frozenset())
    # Row level security (SPEC section 11): auto | required | off; the roles
    # whose policies are not judged; the functions whose value comes from the
    # request (`auth.*` covers every function of the schema auth).
    rls: str = "auto"
    trusted_roles: frozenset[str] = DEFAULT_TRUSTED_ROLES
    request_functions: frozenset[str] = DEFAULT_REQUEST_FUNCTIONS

    def is_request_function(self, name: str) -> bool:
        """`auth.jwt`, `current_setting`: a function whose value comes from the request."""
        name = name.lower()
        schema = name.rpartition(".")[0]
        return name in self.request_functions or (bool(schema) and f"{schema}.*" in self.request_functions)

    def is_org_table(self, table: str | None, schema: str | None = None) -> bool:
        return table is not None and (schema, table) in self.org_tables

    def mentions(self, text: str, class_names: frozenset[str] = frozenset()) -> bool:
        """Could the text be about the tenancy model: does it name an org table,
        a tenancy column or one of `class_names` (model classes)?"""
        return mentions(text, self.trigger_words, class_names)

    def org_table_mention(self, text: str) -> Mention | None:
        """The first place the text names an org table (`agents`, `public.agents`;
        not `agents_archive`, nor `archive.agents` unless the pack lists it)."""
        for found in find_names(text, {t for _, t in self.org_tables}):
            # Found in any case: the org table whose name matches (a quoted
            # "Workflow" is only that table, but a mention is a mention).
            found = Mention(found.start, found.end, self._org_table_names.get(found.name, found.name))
            before = text[max(0, found.start - 80):found.start].rstrip()
            schema = None
            if before.endswith("."):
                qualifier = _QUALIFIER.search(before)
                if qualifier is None:
                    continue
                schema = qualifier.group(1).lower()
            if (None if schema == "public" else schema, found.name) in self.org_tables:
                return found
        return None

    @property
    def _org_table_names(self) -> dict[str, str]:
        return {t.lower(): t for _, t in self.org_tables}

    def is_mapping_table(self, table: str | None, schema: str | None = None) -> bool:
        return schema is None and table is not None and table == self.mapping_table

    @property
    def tenancy_columns(self) -> frozenset[str]:
        cols = {self.org_column, self.legacy_column}
        if self.mapping_column:
            cols.add(self.mapping_column)
        return frozenset(cols)

    def expected_index_name(self, table: str) -> str:
        return self.index_name.format(table=table, column=self.org_column)

    def has_column_by_model(self, table: str, schema: str | None, column: str) -> bool | None:
        """What the model alone says about `table.column` (None = it does not say)."""
        key = (schema, table)
        if column == self.org_column:
            if key in self.org_tables:
                return True
            if key in self.client_tables or self.is_mapping_table(table, schema):
                return False
            return None
        if column == self.mapping_column:
            if self.is_mapping_table(table, schema):
                return True
            if key in self.org_tables or key in self.client_tables:
                return False
            return None
        if column == self.legacy_column:
            # Org tables still carry the legacy column (which is why it gets
            # misused); the client tables are scoped by it.
            if key in self.org_tables:
                return True
            if key in self.client_tables and not self.is_mapping_table(table, schema):
                return True
            return None
        return None


_PACK_KEYS = {
    "name": str,
    "org_column": str,
    "org_column_type": str,
    "index_name": str,
    "require_index_name": bool,
    "org_tables": list,
    "legacy_column": str,
    "client_tables": list,
    "mapping": dict,
    "rls": str,
    "trusted_roles": list,
    "request_functions": list,
}
_REQUIRED = ("org_column", "org_tables")


def load_pack(path: Path) -> TenancyModel:
    """Load and validate a rule pack; raise ConfigError naming file and key."""
    where = str(path)
    try:
        raw = yaml_text.load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(where, "rule_pack", "rule pack file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(where, None, f"cannot read rule pack: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(where, None, f"invalid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    return pack_from_mapping(raw, where)


def pack_from_mapping(raw: object, where: str) -> TenancyModel:
    if not isinstance(raw, dict):
        raise ConfigError(where, None, "a rule pack must be a mapping of keys to values")
    for key, value in raw.items():
        if key not in _PACK_KEYS:
            known = ", ".join(sorted(_PACK_KEYS))
            raise ConfigError(where, str(key), f"unknown key (known keys: {known})")
        expected = _PACK_KEYS[key]
        if not isinstance(value, expected) or (expected is str and not value.strip()):
            raise ConfigError(where, key, f"expected {_type_word(expected)}, got {type(value).__name__}")
    for key in _REQUIRED:
        if key not in raw:
            raise ConfigError(where, key, "missing required key")

    org_column = _identifier(raw["org_column"], where, "org_column")
    legacy_column = _identifier(raw.get("legacy_column", "client_id"), where, "legacy_column")
    org_tables = _tables(raw["org_tables"], where, "org_tables")
    if not org_tables:
        raise ConfigError(where, "org_tables", "the pack lists no org tables; nothing would be checked")
    client_tables = _tables(raw.get("client_tables", []), where, "client_tables")
    mapping = raw.get("mapping") or {}
    mapping_table = mapping_column = None
    if mapping:
        for key in mapping:
            if key not in ("table", "column"):
                raise ConfigError(where, f"mapping.{key}", "unknown key (known keys: column, table)")
        mapping_table = _identifier(mapping.get("table"), where, "mapping.table")
        mapping_column = _identifier(mapping.get("column"), where, "mapping.column")
    index_name = raw.get("index_name", "idx_{table}_{column}")
    try:
        index_name.format(table="t", column="c")
    except (KeyError, IndexError, ValueError):
        raise ConfigError(where, "index_name", "may only use the placeholders {table} and {column}") from None

    rls = raw.get("rls", "auto")
    if rls not in RLS_MODES:
        raise ConfigError(where, "rls", f"expected one of {', '.join(RLS_MODES)}, got {rls!r}")
    trusted = _names(raw.get("trusted_roles", sorted(DEFAULT_TRUSTED_ROLES)), where, "trusted_roles", _IDENTIFIER)
    request_functions = DEFAULT_REQUEST_FUNCTIONS | _names(raw.get("request_functions", []), where,
                                                           "request_functions", _FUNCTION_NAME)

    # The prefilter reads lower-cased text: its words are lower-cased too.
    words = {org_column.lower(), legacy_column.lower()} | {t.lower() for _, t in org_tables}
    if mapping_column:
        words.add(mapping_column.lower())
    return TenancyModel(
        name=str(raw.get("name", Path(where).stem)),
        org_column=org_column,
        org_column_type=raw.get("org_column_type", "TEXT").upper(),
        org_tables=frozenset(org_tables),
        legacy_column=legacy_column,
        client_tables=frozenset(client_tables),
        mapping_table=mapping_table,
        mapping_column=mapping_column,
        index_name=index_name,
        require_index_name=bool(raw.get("require_index_name", False)),
        source=where,
        trigger_words=frozenset(words),
        rls=rls,
        trusted_roles=trusted,
        request_functions=request_functions,
    )


def _type_word(expected: type) -> str:
    return {str: "a non-empty string", bool: "true or false", list: "a list", dict: "a mapping"}[expected]


def _identifier(value: object, where: str, key: str) -> str:
    """A column or table name as PostgreSQL reads it: quoted exact, else lower-cased."""
    parts = sql_name_parts(value) if isinstance(value, str) else None
    if parts is None or len(parts) != 1:
        raise ConfigError(where, key, f"expected a SQL identifier such as clerk_org_id or '\"tenantId\"', "
                                      f"got {value!r}")
    return parts[0]


def _names(value: list, where: str, key: str, pattern: re.Pattern) -> frozenset[str]:
    for item in value:
        if not isinstance(item, str) or not pattern.match(item):
            raise ConfigError(where, key, f"expected a name such as {'auth.uid' if key == 'request_functions' else 'service_role'}, got {item!r}")
    return frozenset(item.lower() for item in value)


def _tables(value: object, where: str, key: str) -> list[tuple[str | None, str]]:
    if not isinstance(value, list):
        raise ConfigError(where, key, "expected a list of table names")
    tables = []
    for item in value:
        parts = sql_name_parts(item) if isinstance(item, str) else None
        if not parts or len(parts) > 2:
            raise ConfigError(where, key, "expected a table name such as agents, archive.agents or "
                                          f"'\"Workflow\"', got {item!r}")
        schema = parts[0] if len(parts) == 2 and parts[0] != "public" else None
        tables.append((schema, parts[-1]))
    return tables

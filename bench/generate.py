"""Generate a realistic multi-tenant SaaS repository for benchmarking orgscope.

    python bench/generate.py OUT [--files 5000] [--seed 1] [--migrations 400] [--prose]

The tree looks like the backend of a voice-agent product:

* `app/<package>/<module>.py` with `__init__.py` files: mostly ordinary
  application code (classes, functions, docstrings, prose that talks about
  agents and calls), and about one module in eight that reaches the database
  through raw SQL strings (psycopg / asyncpg style, f-strings, multi-line
  strings), supabase-py chains or SQLAlchemy queries;
* a few `models.py` files with the SQLAlchemy models, imported elsewhere;
* `migrations/NNNN_<name>.sql`: the schema history (CREATE TABLE, ADD COLUMN
  clerk_org_id, CREATE / DROP INDEX, comments, DO $$ blocks, backfills);
* `queries/*.sql`: aiosql-style query files.

About one DB-touching file in twenty carries a tenancy violation. Every
planted violation is listed in `bench-manifest.json` at the top of the tree
(orgscope reads only .py and .sql files, so the manifest is never linted).

The output depends only on the seed and the options: every file is generated
from its own random stream, seeded by the seed and the file's index.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

# --- the tenancy model of rules/pack.yaml -------------------------------------------------

ORG_TABLES = {
    "agents": ["id", "name", "voice_id", "prompt", "language", "status", "created_at", "updated_at"],
    "calls": ["id", "agent_id", "contact_id", "campaign_id", "status", "duration_seconds", "started_at",
              "ended_at", "recording_url", "created_at"],
    "voices": ["id", "name", "provider", "external_id", "gender", "created_at"],
    "knowledge_bases": ["id", "name", "description", "document_count", "created_at"],
    "tools": ["id", "name", "kind", "config", "agent_id", "created_at"],
    "contacts": ["id", "first_name", "last_name", "phone", "email", "folder_id", "created_at"],
    "contact_folders": ["id", "name", "parent_id", "created_at"],
    "campaigns": ["id", "name", "agent_id", "status", "scheduled_at", "created_at"],
    "webhook_endpoints": ["id", "url", "secret", "events", "active", "created_at"],
}
CLIENT_TABLES = {
    "users": ["id", "email", "name", "client_id", "created_at"],
    "api_keys": ["id", "key_hash", "client_id", "last_used_at"],
    "audit_log": ["id", "client_id", "action", "payload", "created_at"],
    "application_logs": ["id", "client_id", "level", "message", "created_at"],
    "idempotency_keys": ["id", "key", "client_id", "created_at"],
    "credit_transactions": ["id", "client_id", "amount", "reason", "created_at"],
}
OTHER_TABLES = ["plans", "feature_flags", "countries", "phone_numbers", "invoices", "usage_records",
                "provider_accounts", "rate_limits", "job_runs", "email_templates", "schema_notes",
                "transcription_jobs", "billing_events", "sip_trunks", "oauth_states", "export_jobs"]

# SQLAlchemy model classes, grouped by the models.py that defines them.
MODEL_FILES = {
    "app/core/models.py": {"Agent": "agents", "Voice": "voices", "Tool": "tools",
                           "KnowledgeBase": "knowledge_bases"},
    "app/telephony/models.py": {"Call": "calls", "Campaign": "campaigns"},
    "app/crm/models.py": {"Contact": "contacts", "ContactFolder": "contact_folders",
                          "WebhookEndpoint": "webhook_endpoints"},
    "app/accounts/models.py": {"User": "users", "ApiKey": "api_keys", "Plan": "plans"},
}
MODEL_OF = {table: (name, path) for path, models in MODEL_FILES.items() for name, table in models.items()}
ORG_MODELS = {name: table for models in MODEL_FILES.values() for name, table in models.items()
              if table in ORG_TABLES}


def label_column(table: str) -> str:
    """A human-readable text column of an org table (what a form would edit)."""
    return next(c for c in ORG_TABLES[table] if c in ("name", "first_name", "url", "status"))

# --- vocabulary for ordinary code ---------------------------------------------------------

VERBS = ["load", "fetch", "build", "parse", "render", "compute", "validate", "normalize", "merge", "sync",
         "dispatch", "schedule", "resolve", "encode", "decode", "refresh", "export", "collect", "filter",
         "group", "summarize", "format", "apply", "register", "retry", "split", "prepare", "emit", "flush",
         "check", "clean", "convert", "estimate", "rank", "match", "archive", "restore", "enqueue"]
NOUNS = ["invoice", "payment", "session", "token", "message", "transcript", "recording", "route", "queue",
         "event", "metric", "report", "template", "setting", "payload", "window", "segment", "locale",
         "number", "provider", "region", "quota", "subscription", "usage", "batch", "chunk", "header",
         "request", "response", "job", "task", "entry", "record", "snapshot", "digest", "limit", "user",
         "prompt", "utterance", "latency", "webhook", "callback", "config", "schedule", "language"]
ADJECTIVES = ["pending", "active", "stale", "raw", "cached", "remote", "local", "default", "partial",
              "daily", "hourly", "primary", "fallback", "next", "current", "previous", "signed", "final"]
MODULE_ROLES = ["service", "utils", "handlers", "views", "tasks", "schemas", "client", "logic"]
SUFFIXES = ["Service", "Manager", "Builder", "Parser", "Policy", "Store", "Cache", "Registry", "Handler",
            "Formatter", "Scheduler", "Resolver", "Exporter", "Tracker"]
STDLIB = ["logging", "json", "re", "os", "time", "uuid", "hashlib", "itertools", "functools", "asyncio",
          "datetime", "collections", "pathlib", "enum", "typing", "dataclasses", "contextlib", "math"]
PACKAGE_WORDS = ["billing", "telephony", "crm", "accounts", "core", "analytics", "notifications",
                 "scheduling", "reporting", "integrations", "exports", "imports", "search", "routing",
                 "transcripts", "recordings", "metrics", "admin", "onboarding", "settings", "storage",
                 "queueing", "workers", "api", "webhooks", "auth", "pricing", "compliance", "dialer",
                 "speech", "llm", "prompts", "sessions", "audit", "usage", "limits", "sync", "email",
                 "sms", "i18n", "health", "tasks", "events", "files", "media", "cdn", "geo", "quality"]

# Prose in docstrings and comments. The domain sentences name the product's
# things (agents, calls, voices, tools): real code in such a product does.
NEUTRAL_PROSE = [
    "Keep the public surface small and predictable.",
    "The result is cached for the lifetime of the request.",
    "Values that cannot be parsed are skipped with a warning.",
    "Retries use exponential backoff with jitter.",
    "This runs inside the worker loop, so it must not block.",
    "The order of the returned items is stable.",
    "Empty input gives an empty result rather than an error.",
    "Timestamps are stored in UTC and rendered in the user's locale.",
    "The provider sometimes returns duplicates; they are merged here.",
    "Large payloads are split into chunks before they are sent.",
    "Only the fields listed in the schema are kept.",
    "Raises ValueError when the input is malformed.",
]
DOMAIN_PROSE = [
    "The agent hands over to a human when the caller asks for one.",
    "Outbound calls are throttled per region to respect carrier limits.",
    "Each agent keeps its own prompt and voice settings.",
    "Tools are invoked by the agent during the conversation.",
    "Campaigns dial their contacts in batches.",
    "Voices come from several speech providers with different latencies.",
    "A call that drops before the greeting is retried once.",
    "The agent's knowledge is refreshed when documents change.",
]


# --prose: the talk of a voice-agent product's ordinary code. Most modules that
# never reach the database still name its tables in docstrings, comments, log
# messages, metrics keys and identifiers; some sentences even start with a SQL
# keyword, and a model's name starts a sentence ("Call the carrier ...").
TALK_PROSE = [
    "Select which agents to call next from the waiting contacts.",
    "Update the voices of every agent when the provider changes its catalogue.",
    "Delete calls from the local buffer once the recording is uploaded.",
    "Merge the campaigns of a contact so that it is dialled once.",
    "With several tools attached, the agent picks one per turn.",
    "Call the carrier again when the first attempt fails.",
    "Agents, calls and voices are fetched from the API, never from here.",
    "Counts of calls per agent feed the dashboard.",
    "The voices and tools of an agent are shown in the editor.",
    "Contacts in a campaign are dialled in the order they were imported.",
]
TALK_WORDS = ["agents", "calls", "voices", "tools", "contacts", "campaigns"]
TALK_SINGULAR = {"agents": "agent", "calls": "call", "voices": "voice", "tools": "tool", "contacts": "contact",
                 "campaigns": "campaign"}


def _talk_block(out: Lines, rng: random.Random, names: list[str]) -> None:
    """A statement of ordinary code that talks about the product's tables
    without touching the database."""
    var = rng.choice(names)
    word = rng.choice(TALK_WORDS)
    one = TALK_SINGULAR[word]
    kind = rng.randrange(8)
    if kind == 0:
        out.add(f"# Skip {word} that were already handled by another {one} worker.",
                f"{word} = [entry for entry in {var} or () if entry]")
    elif kind == 1:
        out.add(f'logger.info("dispatching %d {word} for {one} %s", len({var} or ()), {rng.choice(names)})')
    elif kind == 2:
        out.add(f'logger.debug(f"{one} {{{var}}}: {word} refreshed")')
    elif kind == 3:
        out.add(f'{var} = {{"{word}": len(str({var})), "{one}_id": {rng.choice(names)}, "region": None}}')
    elif kind == 4:
        out.add(f"active_{word} = {var} or []", f"if not active_{word}:",
                f'    logger.warning("no {word} for this {one}; nothing to {rng.choice(VERBS)}")')
    elif kind == 5:
        out.add(f"# The {word} of one {one} never mix with another's.",
                f"count_{word} = sum(1 for _ in ({var} or ()))")
    elif kind == 6:
        out.add(f'{var} = "{one}:{{}}:{{}}".format({rng.choice(names)}, {rng.choice(names)})')
    else:
        out.add(f'{var} = "too many {word} for {one} %s" % ({rng.choice(names)},)')


def _ident(rng: random.Random) -> str:
    return f"{rng.choice(VERBS)}_{rng.choice(NOUNS)}"


def _class_name(rng: random.Random) -> str:
    return rng.choice(ADJECTIVES).capitalize() + rng.choice(NOUNS).capitalize() + rng.choice(SUFFIXES)


class Lines:
    """A list of source lines with an indentation level."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.level = 0

    def add(self, *texts: str) -> None:
        for text in texts:
            for line in text.split("\n"):
                self.lines.append(("    " * self.level + line) if line else "")

    def blank(self, count: int = 1) -> None:
        self.lines.extend([""] * count)

    @property
    def next_line(self) -> int:
        return len(self.lines) + 1

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


# --- ordinary application code ------------------------------------------------------------


def _docstring(out: Lines, rng: random.Random, prose: list[str], summary: str) -> None:
    extra = rng.sample(prose, k=rng.randint(0, 2))
    if not extra:
        out.add(f'"""{summary}"""')
        return
    out.add(f'"""{summary}', "")
    for sentence in extra:
        out.add(sentence)
    out.add('"""')


def _statement_block(out: Lines, rng: random.Random, names: list[str]) -> None:
    """One realistic statement (or small compound statement) using local `names`."""
    var = rng.choice(names)
    other = rng.choice(names)
    kind = rng.randrange(10)
    if kind == 0:
        out.add(f"if {var} is None:", f"    {var} = {rng.choice(['[]', '{}', '0', 'DEFAULT_LIMIT', '()'])}")
    elif kind == 1:
        out.add(f"for item in {var} or ():", "    if not item:", "        continue",
                f"    {other} = {_ident(rng)}(item, {rng.choice(names)})")
    elif kind == 2:
        out.add("try:", f"    {var} = {_ident(rng)}({other})",
                "except (ValueError, KeyError) as exc:",
                f'    logger.warning("could not {rng.choice(VERBS)} {rng.choice(NOUNS)}: %s", exc)',
                f"    {var} = None")
    elif kind == 3:
        out.add(f"{var} = {{key: value for key, value in dict({other} or {{}}).items() if value is not None}}")
    elif kind == 4:
        out.add(f'logger.debug("{rng.choice(VERBS)} {rng.choice(NOUNS)} %s -> %s", {var}, {other})')
    elif kind == 5:
        out.add(f"{var} = [{_ident(rng)}(entry) for entry in {other} or () if entry]")
    elif kind == 6:
        out.add(f"if isinstance({var}, str) and {var}.strip():",
                f"    {var} = {var}.strip().lower()", "else:", f"    {var} = str({var})")
    elif kind == 7:
        out.add(f"while {var} and len(str({var})) > MAX_SIZE:", f"    {var} = str({var})[: MAX_SIZE // 2]")
    elif kind == 8:
        out.add(f'{var} = "{rng.choice(NOUNS)}:{{}}:{{}}".format({other}, {rng.choice(names)})')
    else:
        out.add(f"{var} = min(int({other} or 0) + {rng.randint(1, 9)}, DEFAULT_LIMIT)")


def _function(out: Lines, rng: random.Random, prose: list[str], *, method: bool = False,
              is_async: bool = False, talk: bool = False) -> None:
    name = _ident(rng)
    if talk and rng.random() < 0.3:
        name = f"{rng.choice(VERBS)}_{rng.choice(TALK_WORDS)}"
    params = rng.sample(["payload", "items", "limit", "region", "locale", "timeout", "options", "token",
                         "user", "value", "batch", "window"], k=rng.randint(1, 4))
    args = ", ".join((["self"] if method else []) + [f"{p}=None" if i else p for i, p in enumerate(params)])
    prefix = "async def" if is_async else "def"
    out.add(f"{prefix} {name}({args}):")
    out.level += 1
    _docstring(out, rng, prose, f"{rng.choice(VERBS).capitalize()} the {rng.choice(ADJECTIVES)} "
                                f"{rng.choice(NOUNS)} for the given {params[0]}.")
    names = list(params) + ["result"]
    out.add(f"result = {rng.choice(['None', '[]', '{}', params[0]])}")
    for _ in range(rng.randint(2, 9)):
        if talk and rng.random() < 0.35:
            _talk_block(out, rng, names)
        else:
            _statement_block(out, rng, names)
    if is_async:
        out.add("await asyncio.sleep(0)")
    out.add(f"return {rng.choice(names)}")
    out.level -= 1
    out.blank()


def _class(out: Lines, rng: random.Random, prose: list[str], talk: bool = False) -> None:
    name = _class_name(rng)
    if rng.random() < 0.35:
        out.add("@dataclass", f"class {name}:")
        out.level += 1
        _docstring(out, rng, prose, f"A {rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} and its metadata.")
        out.blank()
        fields = []
        for field_name in rng.sample(NOUNS, k=rng.randint(3, 7)):
            annotation = rng.choice(["str", "int", "float", "bool", "str | None"])
            default = rng.choice(["", "", {"str": " = ''", "str | None": " = None"}.get(annotation, " = 0")])
            fields.append((bool(default), f"{field_name}: {annotation}{default}"))
        # A dataclass field without a default may not follow one with a default.
        for _, line in sorted(fields, key=lambda item: item[0]):
            out.add(line)
        out.blank()
        _function(out, rng, prose, method=True, talk=talk)
        out.level -= 1
        out.blank()
        return
    out.add(f"class {name}:")
    out.level += 1
    _docstring(out, rng, prose, f"{rng.choice(VERBS).capitalize()}s {rng.choice(NOUNS)}s for the "
                                f"{rng.choice(PACKAGE_WORDS)} package.")
    out.blank()
    out.add("def __init__(self, settings=None, timeout=DEFAULT_TIMEOUT):",
            "    self.settings = settings or {}", "    self.timeout = timeout",
            f"    self._{rng.choice(NOUNS)}s = {{}}")
    out.blank()
    for _ in range(rng.randint(2, 6)):
        _function(out, rng, prose, method=True, is_async=rng.random() < 0.15, talk=talk)
    out.level -= 1
    out.blank()


def _module_header(out: Lines, rng: random.Random, prose: list[str], siblings: list[str],
                   extra_imports: list[str] = ()) -> None:
    _docstring(out, rng, prose, f"{rng.choice(VERBS).capitalize()} and {rng.choice(VERBS)} "
                                f"{rng.choice(NOUNS)}s.")
    out.add("", "from __future__ import annotations", "")
    for module in sorted(set(rng.sample(STDLIB, k=rng.randint(2, 5)) + ["logging", "asyncio"])):
        out.add(f"import {module}")
    out.add("from dataclasses import dataclass")
    out.blank()
    for sibling in siblings:
        out.add(f"from {sibling.rsplit('.', 1)[0]} import {sibling.rsplit('.', 1)[1]}  # noqa: F401")
    for line in extra_imports:
        out.add(line)
    out.blank()
    out.add("logger = logging.getLogger(__name__)", "",
            f"DEFAULT_TIMEOUT = {rng.choice([5, 10, 15, 30, 60])}",
            f"DEFAULT_LIMIT = {rng.choice([50, 100, 200, 500])}",
            f"MAX_SIZE = {rng.choice([1024, 4096, 65536])}")
    out.blank(2)


def ordinary_module(rng: random.Random, siblings: list[str], talk: bool = False) -> str:
    """Application code that never reaches the database. About one module in
    four talks about the product's agents and calls in its docstrings; with
    `talk` (--prose) nine in ten name the tables in docstrings, comments, log
    messages, metrics keys and identifiers."""
    if talk:
        talk = rng.random() < 0.9
        prose = NEUTRAL_PROSE + ((DOMAIN_PROSE + TALK_PROSE) if talk else [])
    else:
        prose = NEUTRAL_PROSE + (DOMAIN_PROSE if rng.random() < 0.25 else [])
    out = Lines()
    _module_header(out, rng, prose, siblings)
    target = rng.randint(100, 400)
    while out.next_line < target:
        if rng.random() < 0.4:
            _class(out, rng, prose, talk)
        else:
            _function(out, rng, prose, is_async=rng.random() < 0.2, talk=talk)
        out.blank()
    return out.text()


# --- models -------------------------------------------------------------------------------


def models_module(path: str) -> str:
    out = Lines()
    out.add('"""SQLAlchemy models of this package."""', "", "from __future__ import annotations", "",
            "from datetime import datetime", "",
            "from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text",
            "from sqlalchemy.orm import Mapped, mapped_column", "", "from app.db import Base", "", "")
    for name, table in MODEL_FILES[path].items():
        columns = ORG_TABLES.get(table) or CLIENT_TABLES.get(table) or ["id", "name", "created_at"]
        out.add(f"class {name}(Base):", f'    """A row of {table}."""', "", f'    __tablename__ = "{table}"', "")
        for column in columns:
            if column == "id":
                out.add("    id: Mapped[str] = mapped_column(String, primary_key=True)")
            elif column.endswith("_at"):
                out.add(f"    {column}: Mapped[datetime] = mapped_column(DateTime(timezone=True))")
            elif column.endswith("_id"):
                out.add(f"    {column}: Mapped[str | None] = mapped_column(String)")
            elif column in ("document_count", "duration_seconds", "amount"):
                out.add(f"    {column}: Mapped[int] = mapped_column(Integer, default=0)")
            elif column == "active":
                out.add(f"    {column}: Mapped[bool] = mapped_column(Boolean, default=True)")
            else:
                out.add(f"    {column}: Mapped[str | None] = mapped_column(Text)")
        if table in ORG_TABLES:
            out.add("    client_id: Mapped[str | None] = mapped_column(String)  # legacy",
                    "    clerk_org_id: Mapped[str] = mapped_column(Text, index=True)")
        out.blank(2)
    return out.text()


DB_BASE = '''"""Database handles shared by the repositories."""

from __future__ import annotations

import os

from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Base class of every model."""


engine = create_async_engine(os.environ.get("DATABASE_URL", "postgresql+asyncpg://localhost/app"))
SessionLocal = async_sessionmaker(engine, expire_on_commit=False)
'''

# --- DB-touching modules ------------------------------------------------------------------


@dataclass
class Planted:
    path: str
    line: int
    code: str
    table: str
    style: str


@dataclass
class DbModule:
    path: str
    out: Lines = field(default_factory=Lines)
    planted: list[Planted] = field(default_factory=list)

    def plant(self, code: str, table: str, style: str) -> None:
        self.planted.append(Planted(self.path, self.out.next_line, code, table, style))


def _cols(rng: random.Random, table: str, k: int = 3) -> str:
    columns = ORG_TABLES.get(table) or CLIENT_TABLES.get(table)
    return ", ".join(["id"] + rng.sample([c for c in columns if c != "id"], k=min(k, len(columns) - 1)))


def _org_pair(rng: random.Random) -> tuple[str, str]:
    """An org table and a second one that references it (for joins)."""
    return rng.choice([("calls", "agents"), ("campaigns", "agents"), ("tools", "agents"),
                       ("contacts", "contact_folders"), ("calls", "contacts"), ("calls", "campaigns")])


_FK = {("calls", "agents"): "agent_id", ("campaigns", "agents"): "agent_id", ("tools", "agents"): "agent_id",
       ("contacts", "contact_folders"): "folder_id", ("calls", "contacts"): "contact_id",
       ("calls", "campaigns"): "campaign_id"}


class _Params:
    """Bind-parameter spelling of one driver."""

    def __init__(self, style: str) -> None:
        self.style = style
        self.n = 0

    def __call__(self, name: str) -> str:
        self.n += 1
        if self.style == "asyncpg":
            return f"${self.n}"
        if self.style == "named":
            return f"%({name})s"
        return "%s"


def _raw_sql_query(rng: random.Random, style: str, violation: str | None) -> tuple[str, str, list[str], str]:
    """(function name, SQL text, parameter names, table) of one raw query."""
    p = _Params(style)
    table = rng.choice(list(ORG_TABLES))
    if violation == "ORG001":
        return (f"get_{table[:-1]}_by_id", f"SELECT {_cols(rng, table)} FROM {table} WHERE id = {p('item_id')}",
                ["item_id"], table)
    if violation == "ORG003":
        return (f"list_{table}_for_client",
                f"SELECT {_cols(rng, table)} FROM {table} WHERE client_id = {p('client_id')} ORDER BY created_at DESC",
                ["client_id"], table)
    if violation == "ORG005":
        cols = [c for c in ORG_TABLES[table] if c not in ("created_at", "updated_at")][:3]
        values = ", ".join(p(c) for c in cols)
        return (f"create_{table[:-1]}", f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values})", cols, table)
    kind = rng.randrange(8)
    if kind == 0:
        org, item = p("org_id"), p("item_id")
        sql = f"SELECT {_cols(rng, table)} FROM {table} WHERE clerk_org_id = {org} AND id = {item}"
        return f"get_{table[:-1]}", sql, ["org_id", "item_id"], table
    if kind == 1:
        child, parent = _org_pair(rng)
        fk = _FK[(child, parent)]
        org = p("org_id")
        limit = p("limit")
        sql = (f"SELECT c.id, c.created_at, p.name\n"
               f"FROM {child} c\n"
               f"JOIN {parent} p ON p.id = c.{fk} AND p.clerk_org_id = c.clerk_org_id\n"
               f"WHERE c.clerk_org_id = {org}\n"
               f"ORDER BY c.created_at DESC\n"
               f"LIMIT {limit}")
        return f"list_{child}_with_{parent}", sql, ["org_id", "limit"], child
    if kind == 2:
        column = rng.choice([c for c in ORG_TABLES[table] if c not in ("id", "created_at")])
        value, item, org = p("value"), p("item_id"), p("org_id")
        sql = f"UPDATE {table} SET {column} = {value} WHERE id = {item} AND clerk_org_id = {org}"
        return f"set_{table[:-1]}_{column}", sql, ["value", "item_id", "org_id"], table
    if kind == 3:
        item, org = p("item_id"), p("org_id")
        return (f"delete_{table[:-1]}", f"DELETE FROM {table} WHERE id = {item} AND clerk_org_id = {org}",
                ["item_id", "org_id"], table)
    if kind == 4:
        cols = [c for c in ORG_TABLES[table] if c not in ("created_at", "updated_at")][:3] + ["clerk_org_id"]
        values = ", ".join(p(c) for c in cols)
        return (f"insert_{table[:-1]}", f"INSERT INTO {table} ({', '.join(cols)})\nVALUES ({values})\nRETURNING id",
                cols, table)
    if kind == 5:
        org = p("org_id")
        org2 = p("org_id") if style != "asyncpg" else org
        since = p("since")
        sql = ("WITH recent AS (\n"
               "    SELECT agent_id, count(*) AS n\n"
               "    FROM calls\n"
               f"    WHERE clerk_org_id = {org} AND started_at > {since}\n"
               "    GROUP BY agent_id\n"
               ")\n"
               "SELECT a.id, a.name, r.n\n"
               "FROM agents a\n"
               "JOIN recent r ON r.agent_id = a.id\n"
               f"WHERE a.clerk_org_id = {org2}")
        return "busiest_agents", sql, ["org_id", "since"] + (["org_id"] if style != "asyncpg" else []), "agents"
    if kind == 6:
        org, org2, name = p("org_id"), p("org_id"), p("folder")
        sql = (f"SELECT id, first_name, phone FROM contacts WHERE clerk_org_id = {org} AND folder_id IN "
               f"(SELECT id FROM contact_folders WHERE clerk_org_id = {org2} AND name = {name})")
        return "contacts_in_folder", sql, ["org_id", "org_id", "folder"], "contacts"
    client_table = rng.choice(list(CLIENT_TABLES))
    client = p("client_id")
    return (f"recent_{client_table}", f"SELECT {_cols(rng, client_table, 2)} FROM {client_table} "
                                      f"WHERE client_id = {client} ORDER BY id DESC LIMIT 100",
            ["client_id"], client_table)


def _string_literal(sql: str, rng: random.Random, indent: str) -> str:
    """The SQL as Python source: one line, triple-quoted, or implicitly concatenated."""
    if "\n" in sql:
        inner = "\n".join(indent + "    " + line for line in sql.split("\n"))
        return f'"""\n{inner}\n{indent}"""'
    if len(sql) > 70 and rng.random() < 0.5:
        words = sql.split(" ")
        half = len(words) // 2
        return f'(\n{indent}    "{" ".join(words[:half])} "\n{indent}    "{" ".join(words[half:])}"\n{indent})'
    return f'"{sql}"'


def _raw_sql_function(mod: DbModule, rng: random.Random, style: str, violation: str | None) -> None:
    out = mod.out
    param_style = rng.choice(["plain", "named"]) if style == "psycopg" else "asyncpg"
    name, sql, params, table = _raw_sql_query(rng, param_style, violation)
    unique = sorted(set(params), key=params.index)
    if violation:
        mod.plant(violation, table, style)
    if style == "asyncpg":
        method = "execute" if sql.startswith(("UPDATE", "DELETE")) else rng.choice(["fetch", "fetchrow"])
        out.add(f"async def {name}(conn, {', '.join(unique)}):")
        out.add(f'    """{rng.choice(NEUTRAL_PROSE)}"""')
        literal = _string_literal(sql, rng, "    ")
        if rng.random() < 0.4:
            out.add(f"    query = {literal}")
            out.add(f"    return await conn.{method}(query, {', '.join(params)})")
        else:
            out.add(f"    return await conn.{method}({literal}, {', '.join(params)})")
    else:
        out.add(f"def {name}(conn, {', '.join(unique)}):")
        out.add(f'    """{rng.choice(NEUTRAL_PROSE)}"""')
        literal = _string_literal(sql, rng, "        ")
        if param_style == "named":
            args = "{" + ", ".join(f'"{p}": {p}' for p in unique) + "}"
        else:
            args = "(" + ", ".join(params) + ("," if len(params) == 1 else "") + ")"
        out.add("    with conn.cursor() as cur:")
        out.add(f"        cur.execute({literal}, {args})")
        if sql.startswith("SELECT") or sql.startswith("WITH") or "RETURNING" in sql:
            out.add(f"        return cur.{rng.choice(['fetchall', 'fetchone'])}()")
        else:
            out.add("        return cur.rowcount")
    out.blank(2)


def _fstring_function(mod: DbModule, rng: random.Random) -> None:
    """A query built with an f-string: a module constant for the columns, a
    value interpolated in a value position, and a local `sql +=` extension."""
    out = mod.out
    table = rng.choice(["agents", "calls", "campaigns"])  # the tables with a status column
    out.add(f"def search_{table}(conn, org_id, status=None, limit=50):",
            f'    """Search {table} of one organization, newest first."""',
            f'    sql = f"SELECT {{{table.upper()}_COLUMNS}} FROM {table} WHERE clerk_org_id = %s"',
            "    params = [org_id]",
            "    if status:",
            '        sql += " AND status = %s"',
            "        params.append(status)",
            '    sql += f" ORDER BY created_at DESC LIMIT {int(limit)}"',
            "    with conn.cursor() as cur:",
            "        cur.execute(sql, params)",
            "        return cur.fetchall()")
    out.blank(2)


def _supabase_function(mod: DbModule, rng: random.Random, violation: str | None) -> None:
    out = mod.out
    table = rng.choice(list(ORG_TABLES))
    singular = table[:-1]
    if violation == "ORG001":
        mod.plant("ORG001", table, "supabase")
        out.add(f"def get_{singular}(sb, item_id):",
                f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                f'    response = sb.table("{table}").select("*").eq("id", item_id).single().execute()',
                "    return response.data")
    elif violation == "ORG005":
        mod.plant("ORG005", table, "supabase")
        out.add(f"def create_{singular}(sb, name):",
                f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                f'    return sb.table("{table}").insert({{"{label_column(table)}": name}}).execute().data')
    elif violation == "ORG003":
        mod.plant("ORG003", table, "supabase")
        out.add(f"def list_{table}_of_client(sb, client_id):",
                f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                f'    return sb.table("{table}").select("*").eq("client_id", client_id).execute().data')
    else:
        kind = rng.randrange(5)
        if kind == 0:
            out.add(f"def get_{singular}(sb, org_id, item_id):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    "    response = (",
                    f'        sb.table("{table}")',
                    f'        .select("{_cols(rng, table)}")',
                    '        .eq("clerk_org_id", org_id)',
                    '        .eq("id", item_id)',
                    "        .maybe_single()",
                    "        .execute()",
                    "    )",
                    "    return response.data")
        elif kind == 1:
            column = label_column(table)
            out.add(f"def list_{table}(sb, org_id, {column}=None, limit=50):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f'    query = sb.table("{table}").select("*").eq("clerk_org_id", org_id)',
                    f"    if {column}:",
                    f'        query = query.eq("{column}", {column})',
                    '    return query.order("created_at", desc=True).limit(limit).execute().data')
        elif kind == 2:
            out.add(f"def create_{singular}(sb, org_id, name):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f'    payload = {{"{label_column(table)}": name, "clerk_org_id": org_id}}',
                    f'    return sb.table("{table}").insert(payload).execute().data')
        elif kind == 3:
            out.add(f"def rename_{singular}(sb, org_id, item_id, name):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f'    return (sb.table("{table}").update({{"{label_column(table)}": name}})',
                    '            .eq("clerk_org_id", org_id).eq("id", item_id).execute().data)')
        else:
            out.add(f"def delete_{singular}(sb, org_id, item_id):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f'    sb.table("{table}").delete().match({{"id": item_id, "clerk_org_id": org_id}}).execute()')
    out.blank(2)


def _sqlalchemy_function(mod: DbModule, rng: random.Random, models: list[str], violation: str | None) -> None:
    out = mod.out
    model = rng.choice(models)
    table = ORG_MODELS[model]
    lower = table[:-1]
    if violation == "ORG001":
        mod.plant("ORG001", table, "sqlalchemy")
        out.add(f"async def get_{lower}(session, item_id):",
                f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                f"    return await session.get({model}, item_id)")
    elif violation == "ORG005":
        mod.plant("ORG005", table, "sqlalchemy")
        out.add(f"async def add_{lower}(session, name):",
                f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                f"    row = {model}(id=str(uuid.uuid4()), {label_column(table)}=name)",
                "    session.add(row)",
                "    await session.flush()",
                "    return row")
    elif violation == "ORG003":
        mod.plant("ORG003", table, "sqlalchemy")
        out.add(f"async def list_{table}_of_client(session, client_id):",
                f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                f"    result = await session.execute(select({model}).where({model}.client_id == client_id))",
                "    return result.scalars().all()")
    else:
        kind = rng.randrange(5)
        if kind == 0:
            out.add(f"async def get_{lower}(session, org_id, item_id):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f"    stmt = select({model}).where({model}.clerk_org_id == org_id, {model}.id == item_id)",
                    "    result = await session.execute(stmt)",
                    "    return result.scalar_one_or_none()")
        elif kind == 1:
            out.add(f"def list_{table}(session, org_id, limit=50):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    "    return (",
                    f"        session.query({model})",
                    f"        .filter({model}.clerk_org_id == org_id)",
                    f"        .order_by({model}.created_at.desc())",
                    "        .limit(limit)",
                    "        .all()",
                    "    )")
        elif kind == 2:
            out.add(f"async def rename_{lower}(session, org_id, item_id, name):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f"    stmt = (update({model})",
                    f"            .where({model}.id == item_id, {model}.clerk_org_id == org_id)",
                    f"            .values({label_column(table)}=name))",
                    "    await session.execute(stmt)")
        elif kind == 3:
            out.add(f"async def add_{lower}(session, org_id, name):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f"    row = {model}(id=str(uuid.uuid4()), {label_column(table)}=name, clerk_org_id=org_id)",
                    "    session.add(row)",
                    "    await session.flush()",
                    "    return row")
        else:
            out.add(f"async def delete_{lower}(session, org_id, item_id):",
                    f'    """{rng.choice(NEUTRAL_PROSE)}"""',
                    f"    await session.execute(delete({model}).where(and_({model}.clerk_org_id == org_id, "
                    f"{model}.id == item_id)))")
    out.blank(2)


VIOLATIONS = {
    "psycopg": ["ORG001", "ORG003", "ORG005"],
    "asyncpg": ["ORG001", "ORG005", "ORG003"],
    "supabase": ["ORG001", "ORG005", "ORG003"],
    "sqlalchemy": ["ORG001", "ORG003", "ORG005"],
}


def db_module(path: str, rng: random.Random, style: str, violation: str | None, siblings: list[str]) -> DbModule:
    mod = DbModule(path)
    out = mod.out
    prose = NEUTRAL_PROSE + DOMAIN_PROSE
    extra: list[str] = []
    models: list[str] = []
    if style == "sqlalchemy":
        models_path = rng.choice(list(MODEL_FILES)[:3])  # the org-table models
        models = sorted(MODEL_FILES[models_path])
        extra = ["import uuid", "",
                 "from sqlalchemy import and_, delete, select, update",
                 # Written as a formatter writes a long import: one name a line, in parentheses.
                 f"from {models_path[:-3].replace('/', '.')} import (",
                 *(f"    {model}," for model in models), ")"]
    elif style == "supabase":
        extra = ["from supabase import Client"]
    elif style == "asyncpg":
        extra = ["import asyncpg  # noqa: F401"]
    else:
        extra = ["import psycopg  # noqa: F401"]
    _module_header(out, rng, prose, siblings, extra)
    if style == "psycopg":
        for table in ("agents", "calls", "campaigns", "contacts"):
            out.add(f'{table.upper()}_COLUMNS = "{_cols(rng, table)}"')
        out.blank(2)
    queries = rng.randint(3, 8)
    planted_at = rng.randrange(queries) if violation else -1
    for index in range(queries):
        this = violation if index == planted_at else None
        if style in ("psycopg", "asyncpg"):
            if style == "psycopg" and this is None and rng.random() < 0.2:
                _fstring_function(mod, rng)
            else:
                _raw_sql_function(mod, rng, style, this)
        elif style == "supabase":
            _supabase_function(mod, rng, this)
        else:
            _sqlalchemy_function(mod, rng, models, this)
        if rng.random() < 0.5:
            _function(out, rng, prose)
            out.blank()
    target = rng.randint(100, 300)
    while out.next_line < target:
        _function(out, rng, prose, is_async=rng.random() < 0.3)
        out.blank()
    return mod


# --- SQL ----------------------------------------------------------------------------------


def _create_table(table: str, columns: list[str], *, org_column: bool, client_column: bool) -> str:
    defs = ["    id TEXT PRIMARY KEY"]
    for column in columns:
        if column == "id" or column == "client_id":
            continue
        if column.endswith("_at"):
            defs.append(f"    {column} TIMESTAMPTZ NOT NULL DEFAULT now()")
        elif column in ("document_count", "duration_seconds", "amount"):
            defs.append(f"    {column} INTEGER NOT NULL DEFAULT 0")
        elif column == "active":
            defs.append(f"    {column} BOOLEAN NOT NULL DEFAULT true")
        else:
            defs.append(f"    {column} TEXT")
    if client_column:
        defs.append("    client_id TEXT REFERENCES clients(id)")
    if org_column:
        defs.append("    clerk_org_id TEXT NOT NULL")
    return f"CREATE TABLE IF NOT EXISTS {table} (\n" + ",\n".join(defs) + "\n);\n"


_UPDATED_AT_FUNCTION = """CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger AS $$
BEGIN
    NEW.updated_at = now();
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def migrations(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """The schema history: (file name, text) in order.

    The org tables start out scoped by client_id (the legacy model); a later
    migration adds clerk_org_id and its index to each, newer org tables are
    created with it, and the remaining migrations are the everyday churn of a
    product: new columns, new and dropped indexes, DO blocks, backfills.
    """
    files: list[tuple[str, str]] = []

    def add(name: str, text: str) -> None:
        files.append((f"{len(files) + 1:04d}_{name}.sql", text))

    legacy = ["agents", "calls", "voices", "tools", "contacts", "campaigns"]
    later = ["knowledge_bases", "contact_folders", "webhook_endpoints"]
    add("init", "-- The first schema: clients and their users.\n"
        "CREATE TABLE IF NOT EXISTS clients (\n    id TEXT PRIMARY KEY,\n    name TEXT NOT NULL,\n"
        "    plan TEXT,\n    created_at TIMESTAMPTZ NOT NULL DEFAULT now()\n);\n\n"
        + "\n".join(_create_table(t, c, org_column=False, client_column=True) for t, c in CLIENT_TABLES.items())
        + "\n" + _UPDATED_AT_FUNCTION)
    for table in legacy:
        add(f"create_{table}", f"-- {table}, scoped by client for now.\n"
            + _create_table(table, ORG_TABLES[table], org_column=False, client_column=True)
            + f"CREATE INDEX IF NOT EXISTS idx_{table}_client_id ON {table} (client_id);\n")
    add("clerk_organizations", "-- Link each legacy client to its Clerk organization.\n"
        "ALTER TABLE clients ADD COLUMN IF NOT EXISTS clerk_organization_id TEXT;\n"
        "CREATE UNIQUE INDEX IF NOT EXISTS idx_clients_clerk_organization_id ON clients (clerk_organization_id);\n")
    for table in legacy:
        add(f"{table}_clerk_org_id", f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS clerk_org_id TEXT;\n\n"
            f"-- Backfill from the client mapping (spans every org on purpose).\n"
            f"UPDATE {table} t SET clerk_org_id = c.clerk_organization_id FROM clients c WHERE c.id = t.client_id;\n\n"
            f"CREATE INDEX IF NOT EXISTS idx_{table}_clerk_org_id ON {table} (clerk_org_id);\n")
    for table in later:
        add(f"create_{table}", _create_table(table, ORG_TABLES[table], org_column=True, client_column=True)
            + f"CREATE INDEX IF NOT EXISTS idx_{table}_clerk_org_id ON {table} (clerk_org_id, created_at);\n")

    tables = list(ORG_TABLES) + list(CLIENT_TABLES)
    other_created: list[str] = []
    dropped_org_index: dict[str, str] = {}  # org table -> migration must restore its index
    indexes: list[tuple[str, str]] = []  # droppable (index, table) on non-org columns
    serial = 0
    churn = ["add_column"] * 8 + ["create_index"] * 4 + ["drop_index"] * 3 + ["do_block"] * 2 + \
        ["trigger", "comment", "backfill", "seed", "alter_type", "create_table", "create_table", "org_index"]
    while len(files) < count:
        serial += 1
        if dropped_org_index:
            # Restore an org index replaced in the previous migration (as a composite).
            table, name = dropped_org_index.popitem()
            add(f"{table}_org_index_v2", f"-- Composite replacement of {name}.\n"
                f"CREATE INDEX IF NOT EXISTS {name}_v2 ON {table} (clerk_org_id, created_at DESC);\n")
            continue
        kind = rng.choice(churn)
        if kind == "create_table" and len(other_created) < len(OTHER_TABLES):
            table = OTHER_TABLES[len(other_created)]
            other_created.append(table)
            add(f"create_{table}", f"-- {table.replace('_', ' ')}.\n"
                + _create_table(table, ["id", "name", "status", "created_at"], org_column=False, client_column=False))
        elif kind == "create_index":
            table = rng.choice(tables)
            name = f"idx_{table}_created_at_{serial}"
            indexes.append((name, table))
            add(f"index_{table}_created_at", f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} "
                f"ON {table} (created_at DESC);\n")
        elif kind == "drop_index" and indexes:
            name, table = indexes.pop(rng.randrange(len(indexes)))
            add(f"drop_{name}", f"-- {name} is not used by any query plan.\nDROP INDEX IF EXISTS {name};\n")
        elif kind == "do_block":
            table = rng.choice(list(ORG_TABLES))
            column = f"{rng.choice(NOUNS)}_{serial}"
            add(f"{table}_{column}_guarded", "DO $$\nBEGIN\n"
                f"    IF NOT EXISTS (SELECT 1 FROM information_schema.columns\n"
                f"                   WHERE table_name = '{table}' AND column_name = '{column}') THEN\n"
                f"        ALTER TABLE {table} ADD COLUMN {column} TEXT;\n"
                "    END IF;\nEND\n$$;\n")
        elif kind == "org_index":
            table = rng.choice(legacy)
            name = f"idx_{table}_clerk_org_id"
            dropped_org_index[table] = name
            add(f"{table}_drop_org_index", "-- Replaced by a composite index in the next migration.\n"
                f"DROP INDEX IF EXISTS {name};\n")
        elif kind == "trigger":
            table = rng.choice(list(ORG_TABLES))
            add(f"{table}_updated_at_trigger", f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS updated_at "
                f"TIMESTAMPTZ NOT NULL DEFAULT now();\n"
                f"DROP TRIGGER IF EXISTS {table}_updated_at ON {table};\n"
                f"CREATE TRIGGER {table}_updated_at BEFORE UPDATE ON {table}\n"
                f"    FOR EACH ROW EXECUTE FUNCTION set_updated_at();\n")
        elif kind == "comment":
            table = rng.choice(list(ORG_TABLES))
            add(f"{table}_comment", f"COMMENT ON TABLE {table} IS 'Org-scoped: every row belongs to one "
                "organization.';\n")
        elif kind == "backfill":
            table = rng.choice(list(ORG_TABLES))
            add(f"{table}_backfill_{serial}", "-- One-off data fix across every organization.\n"
                f"UPDATE {table} SET created_at = now() WHERE created_at IS NULL;\n")
        elif kind == "seed" and "plans" in other_created:
            add(f"seed_plan_{serial}", f"INSERT INTO plans (id, name, status) VALUES ('plan_{serial}', "
                f"'{rng.choice(ADJECTIVES)}', 'active') ON CONFLICT DO NOTHING;\n")
        elif kind == "alter_type":
            table = rng.choice(list(CLIENT_TABLES))
            add(f"{table}_created_at_type", f"ALTER TABLE {table} ALTER COLUMN created_at TYPE TIMESTAMPTZ;\n")
        else:
            table = rng.choice(tables + other_created)
            column = f"{rng.choice(ADJECTIVES)}_{rng.choice(NOUNS)}_{serial}"
            add(f"{table}_{column}", f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} "
                f"{rng.choice(['TEXT', 'INTEGER', 'BOOLEAN DEFAULT false', 'JSONB', 'TIMESTAMPTZ'])};\n")
    if dropped_org_index:  # never end without the replacement index
        table, name = dropped_org_index.popitem()
        files[-1] = (files[-1][0], files[-1][1] + f"CREATE INDEX IF NOT EXISTS {name}_v2 ON {table} (clerk_org_id);\n")
    return files


def query_file(rng: random.Random, violations: int) -> tuple[str, list[tuple[int, str, str]]]:
    """An aiosql query file; returns its text and the (line, code, table) planted."""
    lines: list[str] = [f"-- Queries of the {rng.choice(PACKAGE_WORDS)} pages.", ""]
    planted: list[tuple[int, str, str]] = []
    count = rng.randint(6, 14)
    bad_at = set(rng.sample(range(count), k=min(violations, count)))
    for n in range(count):
        if n in bad_at:
            table = rng.choice(["agents", "calls", "campaigns"])  # they have a status column
            code = rng.choice(["ORG001", "ORG003"])
            lines.append(f"-- name: report-{table.replace('_', '-')}-{n}")
            planted.append((len(lines) + 1, code, table))
            if code == "ORG001":
                lines += [f"SELECT {_cols(rng, table)}", f"FROM {table}", "WHERE status = :status;", ""]
            else:
                lines += [f"SELECT {_cols(rng, table)}", f"FROM {table}", "WHERE client_id = :client_id;", ""]
            continue
        _, sql, _, table = _raw_sql_query(rng, "aiosql", None)
        sql = _named_to_colon(sql)
        lines.append(f"-- name: {table.replace('_', '-')}-{n}{'^' if 'id =' in sql else ''}")
        lines += sql.split("\n")
        lines[-1] += ";"
        lines.append("")
    return "\n".join(lines), planted


def _named_to_colon(sql: str) -> str:
    # _Params("aiosql") spells parameters %s; aiosql files use :name.
    count = 0
    out = []
    for piece in sql.split("%s"):
        out.append(piece)
        count += 1
        out.append(f":p{count}")
    return "".join(out[:-1])


# --- the tree -----------------------------------------------------------------------------


def _rng(seed: int, *key: object) -> random.Random:
    return random.Random(":".join(map(str, (seed, *key))))


def generate(out: Path, files: int = 5000, seed: int = 1, migration_count: int = 400,
             violation_every: int = 20, prose: bool = False) -> dict:
    """Write the tree into `out` (which must not exist or be empty) and return the manifest.

    One DB-touching module in `violation_every` carries a violation. With
    `prose`, most ordinary modules name the org tables in their prose and
    identifiers (the DB-touching modules and the planted violations are the
    same as without it).
    """
    if files < 20:
        raise ValueError("--files must be at least 20")
    if violation_every < 1:
        raise ValueError("--violation-every must be at least 1")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise ValueError(f"{out} is not empty")
    layout = _rng(seed, "layout")
    written: dict[str, str] = {}
    planted: list[Planted] = []

    packages = ["core", "telephony", "crm", "accounts"]
    extra = [w for w in PACKAGE_WORDS if w not in packages]
    layout.shuffle(extra)
    want = max(4, files // 60)
    while len(packages) < want:
        word = extra[(len(packages) - 4) % len(extra)]
        suffix = (len(packages) - 4) // len(extra)
        packages.append(word if suffix == 0 else f"{word}{suffix + 1}")

    written["app/__init__.py"] = '"""The application package."""\n'
    written["app/db.py"] = DB_BASE
    for path in MODEL_FILES:
        written[path] = models_module(path)
    for package in packages:
        written[f"app/{package}/__init__.py"] = f'"""The {package} package."""\n'

    remaining = files - len(written)
    db_every = 8  # one module in eight touches the database
    db_index = 0
    style_cycle = ["psycopg", "supabase", "asyncpg", "sqlalchemy"]
    module_names: list[str] = []
    for i in range(remaining):
        package = packages[i % len(packages)]
        rng = _rng(seed, "module", i)
        is_db = i % db_every == 3
        noun = rng.choice(NOUNS)
        role = "repo" if is_db else rng.choice(MODULE_ROLES)
        stem = f"{noun}_{role}_{i}"
        path = f"app/{package}/{stem}.py"
        siblings = rng.sample(module_names, k=min(len(module_names), rng.randint(0, 3)))
        if is_db:
            # One DB-touching file in `violation_every` carries a violation;
            # the planted ones rotate through every style and every code.
            if db_index % violation_every == min(11, violation_every - 1):
                group = db_index // violation_every
                style = style_cycle[group % 4]
                violation = VIOLATIONS[style][group % 3]
            else:
                style = style_cycle[(db_index + rng.randrange(2)) % 4]
                violation = None
            mod = db_module(path, rng, style, violation, siblings)
            written[path] = mod.out.text()
            planted.extend(mod.planted)
            db_index += 1
        else:
            written[path] = ordinary_module(rng, siblings, talk=prose)
        module_names.append(f"app.{package}.{stem}")

    history = migrations(_rng(seed, "migrations"), migration_count)
    for name, text in history:
        written[f"migrations/{name}"] = text
    query_files = max(2, files // 250)
    for n in range(query_files):
        rng = _rng(seed, "queries", n)
        path = f"queries/{PACKAGE_WORDS[n % len(PACKAGE_WORDS)]}_{n}.sql"
        bad = 1 if n % 3 == 0 else 0
        text, bad_lines = query_file(rng, bad)
        written[path] = text
        planted.extend(Planted(path, line, code, table, "sql") for line, code, table in bad_lines)

    for rel in sorted(written):
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(written[rel], encoding="utf-8")
    manifest = {
        "seed": seed,
        "files": files,
        "prose": prose,
        "python_files": sum(1 for p in written if p.endswith(".py")),
        "db_files": db_index,
        "migrations": len(history),
        "query_files": query_files,
        "model_classes": sorted(name for models in MODEL_FILES.values() for name in models),
        "org_tables": sorted(ORG_TABLES),
        "violations": [p.__dict__ for p in sorted(planted, key=lambda p: (p.path, p.line))],
    }
    (out / "bench-manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to create (must not exist or be empty)")
    parser.add_argument("--files", type=int, default=5000, help="number of Python files (default 5000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--migrations", type=int, default=400, help="number of SQL migrations (default 400)")
    parser.add_argument("--violation-every", type=int, default=20,
                        help="one DB-touching file in N carries a violation (default 20)")
    parser.add_argument("--prose", action="store_true",
                        help="most ordinary modules name the org tables in docstrings, comments, logs and identifiers")
    parser.add_argument("--force", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    if args.force and args.out.exists():
        shutil.rmtree(args.out)
    try:
        manifest = generate(args.out, args.files, args.seed, args.migrations, args.violation_every, args.prose)
    except (ValueError, OSError) as exc:
        print(f"generate: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {manifest['python_files']} Python files ({manifest['db_files']} touch the database), "
          f"{manifest['migrations']} migrations, {manifest['query_files']} query files, "
          f"{len(manifest['violations'])} planted violations into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

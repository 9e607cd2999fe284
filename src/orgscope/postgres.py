"""PostgreSQL's own rules that orgscope follows: how it reads a name (quoted
exact, unquoted folded to lower case), how it spells column types
and how it names the objects it names itself (truncation to 63 characters,
the names of unnamed indexes and constraints).

Plain functions on strings, no parser: the DDL reader, the schema replay,
the rules and `orgscope db` all use them, so each is written once.
"""

from __future__ import annotations

import re

# --- names as written -------------------------------------------------------------

_NAME_PART = re.compile(r'\s*(?:"((?:[^"]|"")+)"|([A-Za-z_][A-Za-z0-9_$]*))\s*')


def sql_name_parts(text: str) -> list[str] | None:
    """A dotted name as PostgreSQL reads it: `"tenantId"` is exact, `Agents`
    folds to `agents`, `archive."Workflow"` has two parts. None when the
    text is not such a name."""
    parts: list[str] = []
    position = 0
    while True:
        match = _NAME_PART.match(text, position)
        if match is None:
            return None
        quoted, plain = match.groups()
        parts.append(truncate_identifier(quoted.replace('""', '"') if quoted is not None else plain.lower()))
        position = match.end()
        if position == len(text):
            return parts
        if text[position] != ".":
            return None
        position += 1


# PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes.
MAX_IDENTIFIER = 63


def truncate_identifier(name: str) -> str:
    """A name as PostgreSQL keeps it: cut to 63 bytes of UTF-8, never inside
    a character (`CREATE INDEX <81 characters>` makes an index named by the
    first 63, and DROP INDEX by the long name finds it)."""
    encoded = name.encode("utf-8")
    if len(encoded) <= MAX_IDENTIFIER:
        return name
    return encoded[:MAX_IDENTIFIER].decode("utf-8", errors="ignore")


def normalise_type(written: str) -> str:
    """A column type as written, upper-cased, with PostgreSQL's synonyms folded.

    `text` -> `TEXT`, `varchar( 64 )` -> `VARCHAR(64)`, `character varying`
    -> `VARCHAR`, `"text"` / `pg_catalog.text` -> `TEXT`, `int4` -> `INTEGER`,
    `timestamp with time zone` -> `TIMESTAMPTZ`. A quoted name that is not
    what an unquoted one folds to stays quoted and exact (`"Role"`, another
    type than `role`), and `public.` is left out, as `format_type` writes a
    type of the search path: both sides of every type comparison (the pack's
    `org_column_type`, `orgscope db`, the replay's own type renames) use it.
    """
    text = _fold_quoted(written).strip()
    text = " ".join(text.split())
    text = re.sub(r"\s*([(,\[.])\s*", r"\1", text)
    text = re.sub(r"\s*([)\]])", r"\1", text)
    text = re.sub(r"^(?:PG_CATALOG|PUBLIC)\.", "", text)
    # PostgreSQL does not enforce array sizes or dimensions: int[3][] is int[].
    text = re.sub(r"(?:\[\d*\])+$", "[]", text)
    text = re.sub(r"\s+ARRAY(?:\[\d*\])?$", "[]", text)
    for pattern, replacement in _TYPE_SYNONYMS:
        text = pattern.sub(replacement, text)
    return text


_QUOTED_NAME = re.compile(r'"((?:[^"]|"")*)"')
_FOLDED_NAME = re.compile(r"[a-z_][a-z0-9_$]*\Z")


def _fold_quoted(written: str) -> str:
    """Upper-case what is not quoted; a quoted name that an unquoted one
    folds to (`"text"`) reads as that name, any other keeps its quotes."""
    out = []
    position = 0
    for match in _QUOTED_NAME.finditer(written):
        out.append(written[position:match.start()].upper())
        name = match.group(1).replace('""', '"')
        out.append(name.upper() if _FOLDED_NAME.match(name) else f'"{match.group(1)}"')
        position = match.end()
    out.append(written[position:].upper())
    return "".join(out)


def type_spelling(name: str, schema: str | None = None) -> str:
    """How `normalise_type` spells the user-defined type `schema.name` (the
    parts as PostgreSQL reads them, `public` as None): `"Role"`, `MOOD`,
    `ARCHIVE.MOOD`."""
    def part(text: str) -> str:
        return text.upper() if _FOLDED_NAME.match(text) else '"' + text.replace('"', '""') + '"'

    return part(name) if schema in (None, "public") else f"{part(schema)}.{part(name)}"


# PostgreSQL stores the serial types as integers with a default.
_SERIALS = {"SMALLSERIAL": "SMALLINT", "SERIAL": "INTEGER", "BIGSERIAL": "BIGINT"}


def catalog_type(written: str) -> str:
    """A column type as the catalog keeps it, normalised: `serial` is
    `INTEGER` there (with a default), `bigserial` `BIGINT`."""
    normalised = normalise_type(written)
    return _SERIALS.get(normalised, normalised)


_TYPE_SYNONYMS = [
    (re.compile(r"^(?:CHARACTER|CHAR) VARYING\b"), "VARCHAR"),
    (re.compile(r"^CHARACTER\b"), "CHAR"),
    (re.compile(r"^TIMESTAMP(\(\d+\))? WITH TIME ZONE\b"), r"TIMESTAMPTZ\1"),
    (re.compile(r"^TIMESTAMP(\(\d+\))? WITHOUT TIME ZONE\b"), r"TIMESTAMP\1"),
    (re.compile(r"^TIME(\(\d+\))? WITH TIME ZONE\b"), r"TIMETZ\1"),
    (re.compile(r"^TIME(\(\d+\))? WITHOUT TIME ZONE\b"), r"TIME\1"),
    (re.compile(r"^(?:INT|INT4)\b"), "INTEGER"),
    (re.compile(r"^INT8\b"), "BIGINT"),
    (re.compile(r"^INT2\b"), "SMALLINT"),
    (re.compile(r"^BOOL\b"), "BOOLEAN"),
    (re.compile(r"^FLOAT8\b"), "DOUBLE PRECISION"),
    (re.compile(r"^FLOAT4\b"), "REAL"),
    (re.compile(r"^DECIMAL\b"), "NUMERIC"),
    (re.compile(r"^SERIAL4\b"), "SERIAL"),
    (re.compile(r"^SERIAL8\b"), "BIGSERIAL"),
    (re.compile(r"^SERIAL2\b"), "SMALLSERIAL"),
]


def constraint_index_name(table: str, columns: list[str], primary: bool) -> str:
    """PostgreSQL's first choice of name for the index of an unnamed PRIMARY
    KEY / UNIQUE constraint: `<table>_pkey`, `<table>_<col>_<col>_key`
    (truncated to 63 characters the way PostgreSQL does it)."""
    if primary:
        return pg_object_name(table, "", "pkey")
    return pg_object_name(table, "_".join(columns), "key")


def pg_object_name(name1: str, name2: str, label: str) -> str:
    """`name1_name2_label` as PostgreSQL's makeObjectName builds it: the
    longer part is shortened until the whole fits in 63 characters."""
    overhead = len(label) + 1 + (1 if name2 else 0)
    available = MAX_IDENTIFIER - overhead
    len1, len2 = len(name1), len(name2)
    while len1 + len2 > available:
        if len1 > len2:
            len1 -= 1
        else:
            len2 -= 1
    parts = [name1[:len1]] + ([name2[:len2]] if name2 else []) + [label]
    return "_".join(parts)


def distinct_key_names(names: list[str]) -> list[str]:
    """PostgreSQL's ChooseIndexColumnNames: a repeated key name gets 1, 2 ..."""
    result: list[str] = []
    for original in names:
        current, number = original, 1
        while current in result:
            suffix = str(number)
            current = original[:MAX_IDENTIFIER - len(suffix)] + suffix
            number += 1
        result.append(current)
    return result


def index_name_addition(names: list[str]) -> str:
    """PostgreSQL's ChooseIndexNameAddition: the key names joined by `_`,
    cut once the result reaches the identifier limit."""
    joined = ""
    for name in names:
        if joined:
            joined += "_"
        joined += name[:MAX_IDENTIFIER]
        if len(joined) > MAX_IDENTIFIER:
            break
    return joined

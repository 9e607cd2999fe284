"""User-defined types: CREATE / ALTER / DROP TYPE and DOMAIN, read from tokens.

A column typed with an enum or a domain carries the type's name, and the
catalog shows the name the type has now: after `ALTER TYPE status RENAME TO
call_status` every such column is `call_status`, after `SET SCHEMA archive`
it is `archive.call_status`. The replay follows these (orgscope.schema), so
this module reads what it needs: the type's name, an enum's labels in order,
and the renames, moves, added and renamed labels, and drops.

ALTER TYPE actions that change nothing the catalog shows of a column
(OWNER TO, ADD / RENAME ATTRIBUTE, SET (...)) give no event.
"""

from __future__ import annotations

from sqlglot.tokens import TokenType

from orgscope.facts import AlterType, CreateType, DropType, SchemaEvent
from orgscope.sql import tokens as tok


def create_type_events(reader) -> list[SchemaEvent]:
    """CREATE TYPE name [AS ENUM (...) | AS (...) | AS RANGE (...) | (...)]
    or CREATE DOMAIN name [AS] type ...; `reader` is the DDL reader
    (orgscope.sql.ddl._Reader) of the statement."""
    cursor = tok.Cursor(reader.tokens)
    while not cursor.done() and cursor.word() not in ("TYPE", "DOMAIN"):
        cursor.pos += 1
    domain = cursor.accept("DOMAIN")
    cursor.accept("TYPE")
    named = cursor.name()
    if named is None:
        reader.unread += 1
        return []
    parts, first, last = named
    kind = "domain" if domain else "other"
    labels: list[str] = []
    if not domain and cursor.accept("AS", "ENUM"):
        kind = "enum"
        labels = [t.text for t in reader.tokens[cursor.index():] if t.token_type == TokenType.STRING]
    name, schema = parts[-1], tok.schema_of(parts)
    span = reader.span(first, last)
    reader.expect("free-type", None, schema, span, f"CREATE {'DOMAIN' if domain else 'TYPE'}", name=name)
    return [CreateType(name=name, span=span, kind=kind, labels=labels, schema=schema)]


def alter_type_events(reader) -> list[SchemaEvent]:
    cursor = tok.Cursor(reader.tokens)
    cursor.accept("ALTER")
    statement = f"ALTER {cursor.accept_any('TYPE', 'DOMAIN')}"
    named = cursor.name()
    if named is None:
        reader.unread += 1
        return []
    parts, first, last = named
    name, schema = parts[-1], tok.schema_of(parts)
    span = reader.span(first, last)
    event = AlterType(name=name, span=span, action="", schema=schema)
    if cursor.accept("RENAME", "TO"):
        new = cursor.name()
        if new is None:
            reader.unread += 1
            return []
        event.action, event.new_name = "rename", tok.ident(new[2])
        reader.expect("type", None, schema, span, statement, name=name)
        reader.expect("free-type", None, schema, reader.span(new[1], new[2]), statement, name=event.new_name)
    elif cursor.accept("SET", "SCHEMA"):
        new = cursor.name()
        if new is None:
            reader.unread += 1
            return []
        event.action, event.new_schema = "set_schema", tok.schema_of([tok.ident(new[2]), name])
        reader.expect("type", None, schema, span, statement, name=name)
        reader.expect("free-type", None, event.new_schema, reader.span(new[1], new[2]), statement, name=name)
    elif cursor.accept("ADD", "VALUE"):
        event.action = "add_value"
        event.if_not_exists = cursor.accept("IF", "NOT", "EXISTS")
        event.label = _string(cursor)
        where = cursor.accept_any("BEFORE", "AFTER")
        if event.label is None or (where and (neighbour := _string(cursor)) is None):
            reader.unread += 1
            return []
        if where:
            event.neighbour, event.before = neighbour, where == "BEFORE"
        reader.expect("type", None, schema, span, statement, name=name)
        if not event.if_not_exists:
            reader.expect("no-label", None, schema, span, statement, name=name, label=event.label)
        if event.neighbour is not None:
            reader.expect("label", None, schema, span, statement, name=name, label=event.neighbour)
    elif cursor.accept("RENAME", "VALUE"):
        event.action = "rename_value"
        event.label = _string(cursor)
        event.new_label = _string(cursor) if cursor.accept("TO") else None
        if event.label is None or event.new_label is None:
            reader.unread += 1
            return []
        reader.expect("type", None, schema, span, statement, name=name)
        reader.expect("label", None, schema, span, statement, name=name, label=event.label)
        reader.expect("no-label", None, schema, span, statement, name=name, label=event.new_label)
    else:
        return []  # OWNER TO, attributes, SET (...): nothing a column shows
    return [event]


def drop_type_events(reader) -> list[SchemaEvent]:
    """DROP TYPE / DOMAIN [IF EXISTS] a, b [CASCADE | RESTRICT]."""
    cursor = tok.Cursor(reader.tokens)
    cursor.accept("DROP")
    statement = f"DROP {cursor.accept_any('TYPE', 'DOMAIN')}"
    if_exists = cursor.accept("IF", "EXISTS")
    names = []
    while True:
        named = cursor.name()
        if named is None:
            reader.unread += 1
            return []
        names.append(named)
        if not cursor.accept(","):
            break
    cascade = cursor.accept("CASCADE")
    events: list[SchemaEvent] = []
    for parts, first, last in names:
        name, schema, span = parts[-1], tok.schema_of(parts), reader.span(first, last)
        if not if_exists:
            reader.expect("type", None, schema, span, statement, name=name)
        if not cascade:
            reader.expect("unused-type", None, schema, span, statement, name=name)
        events.append(DropType(name=name, span=span, schema=schema, cascade=cascade))
    return events


def _string(cursor: tok.Cursor) -> str | None:
    token = cursor.token()
    if token is None or token.token_type != TokenType.STRING:
        return None
    cursor.pos += 1
    return token.text

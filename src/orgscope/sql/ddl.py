"""DDL statements -> schema events for the replay (SPEC section 5).

sqlglot parses most PostgreSQL DDL; this module reads its tree where it can
and falls back to the statement's tokens where it cannot:

* `DROP INDEX a, b` is rejected by sqlglot, so both DROP forms (TABLE and
  INDEX) are read from tokens, which keeps them alike and gives one event per
  dropped name, located at that name.
* `ALTER TABLE ... RENAME x TO y` (without COLUMN) is misread as a table
  rename by sqlglot, so every RENAME form is read from tokens.
* An ALTER TABLE with an action sqlglot does not know becomes an
  `exp.Command`; its actions are then re-parsed one at a time, and an action
  that still fails is read from tokens.
* A CREATE TABLE or CREATE INDEX that fails to parse (`ON ONLY t`,
  `NULLS NOT DISTINCT`) is read from tokens, element by element.
* `DO $tag$ ... $tag$` bodies are split into statements and every statement
  that parses on its own is applied ("best effort"), including the DDL after
  a PL/pgSQL `BEGIN` / `THEN` / `ELSE` and a literal `EXECUTE '...'`.

An unnamed index or PRIMARY KEY / UNIQUE constraint keeps the name None: the
replay names it the way PostgreSQL does, which depends on the names already
taken. `IndexDef` carries what that and DROP COLUMN need.

Identifiers are normalised like PostgreSQL does: unquoted ones lower-cased,
quoted ones kept as written; the `public` schema becomes None. Types are
spelled by `normalise_type`: upper-cased, PostgreSQL's synonyms folded
(`character varying` -> `VARCHAR`), a quoted name such as `"Role"` exact.
User-defined types (enums, domains) and their changes are read by
`types.py`.

A statement that is not DDL for a table, index, policy, view or type
(SELECT, SET, GRANT, CREATE FUNCTION, COMMENT ON ...) gives nothing. A DDL statement gives a
Problem (ORG900) only when it mentions an org table and nothing at all could
be recovered from it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from orgscope.facts import (
    FunctionCall,
    AddColumn,
    AlterColumnType,
    CreateIndex,
    CreateTable,
    DropColumn,
    DropIndex,
    Expect,
    DropTable,
    IndexDef,
    Problem,
    RenameColumn,
    RenameIndex,
    RenameTable,
    SchemaEvent,
    Span,
)
from orgscope.model import TenancyModel, default_pack_path, find_names, load_pack
from orgscope.positions import LineIndex
from orgscope.postgres import normalise_type, truncate_identifier
from orgscope.sql.policies import PolicyReader, RowSecurity, row_security_action
from orgscope.sql import tokens as tok
from orgscope.sql.types import alter_type_events, create_type_events, drop_type_events
from orgscope.sql.views import drop_view_events, view_event
from orgscope.sql.split import DOLLAR_TAG, Statement, get_dialect, split_statements

# How deep DO bodies may nest inside each other before we stop looking.
_MAX_NESTING = 4

_PLAIN_LITERAL = re.compile(r"\s*'([^']*)'\s*\Z")

# Words that end a column's type inside a column definition.
_TYPE_ENDS = frozenset(
    {
        "CONSTRAINT", "NOT", "NULL", "DEFAULT", "PRIMARY", "UNIQUE", "REFERENCES", "CHECK",
        "COLLATE", "GENERATED", "DEFERRABLE", "INITIALLY", "USING", "STORAGE", "COMPRESSION",
    }
)
# ALTER TABLE actions that change nothing the replay tracks.
_NO_EFFECT_ACTIONS = frozenset(
    {
        "ENABLE", "DISABLE", "FORCE", "NO", "OWNER", "SET", "RESET", "CLUSTER", "VALIDATE",
        "INHERIT", "REPLICA", "ATTACH", "DETACH", "OF", "NOT",
    }
)
# Words that open a table constraint (rather than a column) in CREATE TABLE.
_TABLE_CONSTRAINT_STARTS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN", "EXCLUDE", "LIKE"})
# Words of expression and index syntax that are never column names there
# (many column names, such as name, type or date, are keywords to the tokenizer).
_SYNTAX_WORDS = frozenset(
    {
        "AND", "OR", "NOT", "IS", "NULL", "TRUE", "FALSE", "IN", "LIKE", "ILIKE", "SIMILAR", "TO", "ESCAPE",
        "BETWEEN", "SYMMETRIC", "CASE", "WHEN", "THEN", "ELSE", "END", "ASC", "DESC", "NULLS", "FIRST", "LAST",
        "COLLATE", "WHERE", "INCLUDE", "WITH", "TABLESPACE", "DISTINCT", "FROM", "ANY", "ALL", "SOME",
        "ARRAY", "CAST", "AS", "EXISTS", "UNKNOWN", "INTERVAL", "AT", "TIME", "ZONE", "OPERATOR",
    }
)
# After these PL/pgSQL words a DO body may hold a DDL statement.
_PLPGSQL_LEADS = frozenset({"BEGIN", "THEN", "ELSE", "LOOP", "DECLARE"})


_FUNCTION_CALL = re.compile(r"\s*(?:SELECT|CALL)\s+[\w.\"]+\s*\([^)]*'", re.IGNORECASE)


def calls_function(text: str) -> bool:
    """Could the statement be `SELECT f('...')` / `CALL f('...')`, a function
    called with a string argument (see _Reader._function_call)? A quick test on
    the text, so that no other SELECT of a migration is tokenized."""
    return _FUNCTION_CALL.match(text) is not None


_SELECT_INTO = re.compile(r"\bINTO\b", re.IGNORECASE)


def selects_into(text: str) -> bool:
    """Could the SELECT be SELECT ... INTO a new table (see _Reader._select_into)?"""
    return _SELECT_INTO.search(text) is not None


def schema_events(
    stmt: Statement,
    text_positions: LineIndex,
    dialect: str = "postgres",
    *,
    model: TenancyModel | None = None,
    expectations: bool = False,
) -> tuple[list[SchemaEvent], list[Problem]]:
    """The schema changes of one statement, and what could not be understood.

    `stmt` comes from `split_statements(file_text, dialect)`; `text_positions`
    indexes the whole file text. `model` names the org tables (for Problems);
    the bundled pack is used when it is not given. With `expectations`, the
    events also say what the statement needs of the schema (facts.Expect),
    before its changes.
    """
    reader = _Reader(stmt, text_positions, dialect, model or _bundled_model(), depth=0)
    events, problems = reader.read()
    if not expectations:
        events = [e for e in events if not isinstance(e, Expect)]
    return events, problems


@lru_cache(maxsize=1)
def _bundled_model() -> TenancyModel:
    return load_pack(default_pack_path())


# --- the reader ----------------------------------------------------------------


@dataclass
class _Tree:
    """A parse tree and the amount to subtract from its node offsets to make
    them relative to the statement text."""

    expr: exp.Expression
    shift: int


class _Reader:
    """Reads one statement. Offsets are relative to `stmt.text` throughout;
    `self.start` turns them into offsets of the file text."""

    def __init__(self, stmt: Statement, positions: LineIndex, dialect: str, model: TenancyModel,
                 depth: int) -> None:
        self.stmt = stmt
        self.text = stmt.text
        self.start = stmt.start
        self.positions = positions
        self.dialect = dialect
        self.model = model
        self.depth = depth
        self.tokens = self._relative_tokens(stmt)
        self.by_start = {token.start: i for i, token in enumerate(self.tokens)}
        self.events: list[SchemaEvent] = []
        self.problems: list[Problem] = []
        # Parts of the statement that could not be read (an unknown action).
        self.unread = 0

    def expect(self, what: str, table: str | None, schema: str | None, span: Span, statement: str,
               name: str | None = None, message: str = "", label: str | None = None) -> None:
        """What this statement needs of the schema (facts.Expect). Not inside a
        DO body: what runs there is often guarded by IF or EXCEPTION."""
        if self.depth == 0:
            self.events.append(Expect(what=what, table=table, span=span, statement=statement, schema=schema,
                                      name=name, message=message, label=label))

    def _relative_tokens(self, stmt: Statement) -> list[Token]:
        if stmt.tokens is not None:
            shift = stmt.start - stmt.base
            return [tok.shifted(t, -shift) for t in stmt.tokens] if shift else list(stmt.tokens)
        try:
            return list(get_dialect(self.dialect).tokenize(stmt.text))
        except TokenError:
            return []
        except Exception:  # a tokenizer bug must not stop the run
            return []

    # positions

    def span(self, first: Token, last: Token | None = None) -> Span:
        last = last or first
        return self.positions.span(self.start + first.start, self.start + last.end + 1)

    def node_span(self, tree: _Tree, node: exp.Expression | None, fallback: Token | None = None) -> Span:
        """The span of an Identifier / Table / Column node of `tree`."""
        idents = [node] if isinstance(node, exp.Identifier) else (
            [p for p in (node.args.get("catalog"), node.args.get("db"), node.this) if isinstance(p, exp.Identifier)]
            if isinstance(node, (exp.Table, exp.Column)) else []
        )
        metas = [i.meta for i in idents if "start" in i.meta and "end" in i.meta]
        if metas:
            start = min(m["start"] for m in metas) - tree.shift
            end = max(m["end"] for m in metas) - tree.shift
            return self.positions.span(self.start + start, self.start + end + 1)
        return self.span(fallback or self.tokens[0])

    def token_at(self, tree: _Tree, ident: exp.Identifier) -> int | None:
        """The index of the token an Identifier node was read from."""
        start = ident.meta.get("start")
        return None if start is None else self.by_start.get(start - tree.shift)

    # parsing

    def parse(self, tokens: list[Token]) -> exp.Expression | None:
        """Parse a subset of this statement's tokens (relative offsets)."""
        try:
            parsed = get_dialect(self.dialect).parser(error_level=ErrorLevel.RAISE).parse(tokens, self.text)
        except (ParseError, TokenError):
            return None
        except Exception:  # a parser bug must not stop the run
            return None
        return next((e for e in parsed if e is not None), None)

    def tree(self) -> _Tree | None:
        if self.stmt.expr is None:
            return None
        return _Tree(self.stmt.expr, self.stmt.start - self.stmt.base)

    # entry

    def read(self) -> tuple[list[SchemaEvent], list[Problem]]:
        if not self.tokens:
            return [], []
        cursor = tok.Cursor(self.tokens)
        first = cursor.word()
        if first == "DO":
            self._do()
        elif first == "CREATE":
            cursor.accept("CREATE")
            cursor.accept("OR", "REPLACE")
            cursor.accept_any("GLOBAL", "LOCAL")
            if cursor.accept_any("TEMP", "TEMPORARY"):
                # A temporary table lives for one session: the rest of this migration.
                if cursor.accept("TABLE"):
                    cursor.accept("IF", "NOT", "EXISTS")
                    self._temporary(cursor)
                return self.events, []
            cursor.accept("UNLOGGED")
            if cursor.at("TABLE"):
                self._create_table()
            elif cursor.at("INDEX") or cursor.at("UNIQUE", "INDEX"):
                self._create_index()
            elif cursor.at("POLICY"):
                self.events.extend(PolicyReader(self).create_policy())
            elif cursor.at("VIEW") or cursor.at("MATERIALIZED", "VIEW") or cursor.at("RECURSIVE", "VIEW"):
                self.events.extend(view_event(self))
            elif cursor.at("TYPE") or cursor.at("DOMAIN"):
                self.events.extend(create_type_events(self))
            else:
                return [], []
        elif first == "ALTER":
            if cursor.at("ALTER", "TABLE"):
                self._alter_table()
            elif cursor.at("ALTER", "INDEX"):
                self._alter_index()
            elif cursor.at("ALTER", "POLICY"):
                self.events.extend(PolicyReader(self).alter_policy())
            elif cursor.at("ALTER", "TYPE") or cursor.at("ALTER", "DOMAIN"):
                self.events.extend(alter_type_events(self))
            else:
                return [], []
        elif first == "DROP":
            if cursor.at("DROP", "TABLE") or cursor.at("DROP", "INDEX"):
                self._drop()
            elif cursor.at("DROP", "POLICY"):
                self.events.extend(PolicyReader(self).drop_policy())
            elif cursor.at("DROP", "VIEW") or cursor.at("DROP", "MATERIALIZED", "VIEW"):
                self.events.extend(drop_view_events(self))
            elif cursor.at("DROP", "TYPE") or cursor.at("DROP", "DOMAIN"):
                self.events.extend(drop_type_events(self))
            else:
                return [], []
        elif first in ("SELECT", "CALL", "WITH") and self.depth == 0:
            if first in ("SELECT", "WITH") and selects_into(self.text):
                self._select_into()
            else:
                self._function_call()
        elif self.depth > 0:
            self._plpgsql_statement()
        else:
            return [], []
        changes = [e for e in self.events if not isinstance(e, Expect)]
        if not changes and self.unread and not self.problems:
            self._problem_if_org("could not read this DDL statement; the schema replay skips it")
        return self.events, self.problems

    # problems

    def _org_mention(self) -> tuple[int, int, str | None] | None:
        """Where this statement first names an org table or the org column:
        (start, end, org table or None), offsets relative to the statement."""
        tables = {t for _, t in self.model.org_tables}
        words = tables | {self.model.org_column}
        for token in self.tokens:
            if token.token_type != TokenType.STRING and tok.is_name(token) and tok.ident(token) in words:
                name = tok.ident(token)
                return token.start, token.end + 1, name if name in tables else None
        # Inside a DO body (one string token), then inside a longer name such
        # as idx_agents_clerk_org_id.
        found = next(find_names(self.text, words), None)
        if found is not None:
            return found.start, found.end, found.name if found.name in tables else None
        at = self.text.lower().find(self.model.org_column)
        return None if at == -1 else (at, at + len(self.model.org_column), None)

    def _problem_if_org(self, message: str) -> None:
        mention = self._org_mention()
        if mention is None:
            return
        start, end, table = mention
        self.problems.append(
            Problem(
                span=self.positions.span(self.start + start, self.start + end),
                message=message,
                table=table,
                statement_line=self.positions.position(self.start)[0],
            )
        )

    # CREATE TABLE

    def _create_table(self) -> None:
        tree = self.tree()
        create = tree.expr if tree is not None else None
        if isinstance(create, exp.Create) and str(create.args.get("kind", "")).upper() == "TABLE":
            self._create_table_from_tree(tree)
        else:
            self._create_table_from_tokens()
        for i, event in enumerate(self.events):
            if isinstance(event, CreateTable) and not event.if_not_exists and self.depth == 0:
                # Tables and indexes share one namespace per schema.
                self.events.insert(i, Expect(what="free-name", table=event.table, span=event.span,
                                             statement="CREATE TABLE", schema=event.schema, name=event.table))
                break

    def _create_table_from_tree(self, tree: _Tree) -> None:
        create = tree.expr
        target = create.this
        table_node = target.this if isinstance(target, exp.Schema) else target
        if not isinstance(table_node, exp.Table) or not isinstance(table_node.this, exp.Identifier):
            self.unread += 1
            return
        schema, table = _table_name(table_node)
        table_span = self.node_span(tree, table_node)
        properties = create.args.get("properties")
        props = properties.expressions if isinstance(properties, exp.Properties) else []
        if any(isinstance(p, exp.TemporaryProperty) for p in props):
            return
        if any(isinstance(p, exp.PartitionedOfProperty) for p in props):
            # A partition: its columns are the parent's. It exists all the same.
            self.expect("declared", table, schema, table_span, "CREATE TABLE")
            return
        elements = target.expressions if isinstance(target, exp.Schema) else []
        if create.args.get("expression") is not None or any(isinstance(e, exp.LikeProperty) for e in elements):
            if self.model.is_org_table(table, schema):
                self.problems.append(Problem(
                    span=table_span,
                    message=f"the columns of {table} are not visible (CREATE TABLE ... AS / LIKE); "
                    "the schema replay skips this table",
                    table=table,
                    statement_line=self.positions.position(self.start)[0],
                ))
            self.expect("declared", table, schema, table_span, "CREATE TABLE")
            return
        event = CreateTable(table=table, span=table_span, columns={}, schema=schema,
                            if_not_exists=bool(create.args.get("exists")))
        for element in elements:
            self._table_element(tree, element, event)
        event.indexes = _merge_constraint_indexes(event.indexes)
        self.events.append(event)

    def _table_element(self, tree: _Tree, element: exp.Expression, event: CreateTable) -> None:
        if isinstance(element, exp.ColumnDef):
            column = self._column_def(tree, element, event.table, event.schema, event.span)
            if column is None:
                return
            name, type_, span, indexes = column
            event.columns[name] = type_
            event.column_spans[name] = span
            event.indexes.extend(indexes)
            return
        index = self._constraint_index(tree, element, event.table, event.schema, event.span)
        if index is not None:
            event.indexes.append(index)

    def _column_def(self, tree: _Tree, node: exp.ColumnDef, table: str, schema: str | None, table_span: Span
                    ) -> tuple[str, str, Span, list[IndexDef]] | None:
        ident = node.this
        if not isinstance(ident, exp.Identifier):
            return None
        name = _ident_name(ident)
        span = self.node_span(tree, ident)
        type_ = self._type_after(self.token_at(tree, ident), node.args.get("kind"))
        indexes = []
        for constraint in node.args.get("constraints") or []:
            if not isinstance(constraint, exp.ColumnConstraint):
                continue
            kind = constraint.args.get("kind")
            primary = isinstance(kind, exp.PrimaryKeyColumnConstraint)
            if not primary and not isinstance(kind, exp.UniqueColumnConstraint):
                continue
            named = constraint.this if isinstance(constraint.this, exp.Identifier) else None
            indexes.append(IndexDef(
                name=_ident_name(named) if named is not None else None, table=table, columns=[name],
                span=self.node_span(tree, named) if named is not None else span,
                unique=True, schema=schema, kind="primary" if primary else "unique",
                key_names=[name], uses=[name],
            ))
        return name, type_, span, indexes

    def _constraint_index(self, tree: _Tree, node: exp.Expression, table: str, schema: str | None,
                          fallback_span: Span) -> IndexDef | None:
        """The index a table-level PRIMARY KEY / UNIQUE / EXCLUDE constraint creates."""
        name_node = None
        if isinstance(node, exp.Constraint):
            name_node = node.this if isinstance(node.this, exp.Identifier) else None
            node = next((e for e in node.expressions if isinstance(
                e, (exp.PrimaryKey, exp.UniqueColumnConstraint, exp.ExcludeColumnConstraint))), None)
        if isinstance(node, exp.ExcludeColumnConstraint):
            return self._exclusion_index(tree, node, name_node, table, schema, fallback_span)
        if isinstance(node, exp.PrimaryKey):
            primary = True
            idents = node.expressions
        elif isinstance(node, exp.UniqueColumnConstraint) and isinstance(node.this, exp.Schema):
            primary = False
            idents = node.this.expressions
        else:
            return None
        columns = [_ident_name(i) if isinstance(i, exp.Identifier) else _column_name(i) for i in idents]
        if not columns or any(c is None for c in columns):
            return None
        keys = [c for c in columns if c is not None]
        include = node.args.get("include")
        included = [_ident_name(i) for i in (include.args.get("include") or [])
                    if isinstance(i, exp.Identifier)] if isinstance(include, exp.IndexParameters) else []
        return IndexDef(
            name=_ident_name(name_node) if name_node is not None else None,
            table=table, columns=list(keys),
            span=self.node_span(tree, name_node) if name_node is not None else fallback_span,
            unique=True, schema=schema, kind="primary" if primary else "unique",
            key_names=list(keys), uses=keys + included,
        )

    def _exclusion_index(self, tree: _Tree, node: exp.ExcludeColumnConstraint, name_node: exp.Identifier | None,
                         table: str, schema: str | None, fallback_span: Span) -> IndexDef | None:
        """EXCLUDE [USING method] (key WITH op, ...) [WHERE (...)]: an index
        like any other, named `<table>_<keys>_excl` when the constraint is not."""
        params = node.this
        if not isinstance(params, exp.IndexParameters) or not params.args.get("columns"):
            return None
        keys = [key.this if isinstance(key, exp.WithOperator) else key for key in params.args["columns"]]
        columns = [_key_column(key) for key in keys]
        where = params.args.get("where")
        uses = {_ident_name(c.this) for part in [*keys, where] if isinstance(part, exp.Expression)
                for c in part.find_all(exp.Column) if isinstance(c.this, exp.Identifier)}
        return IndexDef(
            name=_ident_name(name_node) if name_node is not None else None,
            table=table, columns=columns,
            span=self.node_span(tree, name_node) if name_node is not None else fallback_span,
            partial=where is not None, schema=schema, kind="exclude",
            key_names=[c if c is not None else _function_key_name(key) for c, key in zip(columns, keys)],
            uses=sorted(uses),
        )

    def _type_after(self, name_index: int | None, kind: exp.Expression | None) -> str:
        """The type written after a column name, up to its constraints."""
        if name_index is not None:
            written = self._type_tokens(name_index + 1)
            if written:
                return normalise_type(written)
        if isinstance(kind, exp.DataType):
            return normalise_type(kind.sql(dialect=self.dialect))
        return ""

    def _type_tokens(self, index: int, stops: frozenset[str] = _TYPE_ENDS) -> str:
        first = last = None
        for token, depth in tok.with_depth(self.tokens[index:]):
            kind = token.token_type
            if depth == 0 and (kind in (TokenType.COMMA, TokenType.R_PAREN) or (
                    kind not in tok.QUOTED and token.text.upper().split()[:1] and token.text.upper().split()[0] in stops)):
                break
            first = first or token
            last = token
        if first is None or last is None:
            return ""
        return self.text[first.start:last.end + 1]

    def _create_table_from_tokens(self) -> None:
        """CREATE TABLE that sqlglot rejects: read the name from tokens, then
        parse each element of the column list on its own."""
        cursor = tok.Cursor(self.tokens)
        while not cursor.done() and not cursor.accept("TABLE"):
            cursor.pos += 1
        if_not_exists = cursor.accept("IF", "NOT", "EXISTS")
        named = cursor.name()
        if named is None:
            self.unread += 1
            return
        parts, first, last = named
        schema, table = tok.schema_of(parts), parts[-1]
        table_span = self.span(first, last)
        open_index = cursor.index()
        if open_index >= len(self.tokens) or self.tokens[open_index].token_type != TokenType.L_PAREN:
            if self.model.is_org_table(table, schema):
                self._problem_if_org("could not read the columns of this CREATE TABLE")
            else:
                self.unread += 1
            return
        close_index = tok.closing_paren(self.tokens, open_index)
        if close_index is None:
            self.unread += 1
            return
        head = self.tokens[:open_index + 1]
        tail = [self.tokens[close_index]]
        event = CreateTable(table=table, span=table_span, columns={}, schema=schema, if_not_exists=if_not_exists)
        for element in tok.split_top_level(self.tokens[open_index + 1:close_index]):
            parsed = self.parse(head + element + tail)
            target = parsed.this if isinstance(parsed, exp.Create) else None
            if isinstance(target, exp.Schema) and target.expressions:
                for node in target.expressions:
                    self._table_element(_Tree(parsed, 0), node, event)
            elif tok.Cursor(element).word() in _TABLE_CONSTRAINT_STARTS:
                continue  # a constraint sqlglot could not read: no index we can trust
            elif tok.is_name(element[0]):
                # A column whose definition sqlglot cannot parse: keep its name and type.
                index = self.by_start[element[0].start]
                name = tok.ident(element[0])
                event.columns[name] = normalise_type(self._type_tokens(index + 1))
                event.column_spans[name] = self.span(element[0])
        event.indexes = _merge_constraint_indexes(event.indexes)
        self.events.append(event)

    # CREATE INDEX

    def _create_index(self) -> None:
        tree = self.tree()
        if tree is not None and isinstance(tree.expr, exp.Create) and isinstance(tree.expr.this, exp.Index):
            index = self._index_from_tree(tree)
        else:
            index = self._index_from_tokens()
        if index is None:
            self.unread += 1
        else:
            self.expect("table", index.table, index.schema, index.span, "CREATE INDEX")
            for column in dict.fromkeys(c for c in index.columns if c is not None):
                self.expect("column", index.table, index.schema, index.span, "CREATE INDEX", name=column)
            self.events.append(CreateIndex(index))

    def _index_from_tree(self, tree: _Tree) -> IndexDef | None:
        create = tree.expr
        index = create.this
        table_node = index.args.get("table")
        params = index.args.get("params")
        if not isinstance(table_node, exp.Table) or not isinstance(params, exp.IndexParameters):
            return None
        schema, table = _table_name(table_node)
        name_node = index.this if isinstance(index.this, exp.Identifier) else None
        keys = params.args.get("columns") or []
        columns = [_key_column(key) for key in keys]
        if not columns:
            return None
        uses = {_ident_name(c.this) for key in keys for c in key.find_all(exp.Column)
                if isinstance(c.this, exp.Identifier)}
        for part in (params.args.get("include") or []) + [params.args.get("where")]:
            if isinstance(part, exp.Identifier):
                uses.add(_ident_name(part))
            elif isinstance(part, exp.Expression):
                uses.update(_ident_name(c.this) for c in part.find_all(exp.Column)
                            if isinstance(c.this, exp.Identifier))
        key_names = None
        table_token = self.token_at(tree, table_node.this) if isinstance(table_node.this, exp.Identifier) else None
        if table_token is not None:
            key_groups = self._key_groups(table_token + 1)
            if key_groups is not None and len(key_groups) == len(columns):
                key_names = [_key_name(group) for group in key_groups]
        return IndexDef(
            name=_ident_name(name_node) if name_node is not None else None,
            table=table,
            columns=columns,
            span=self.node_span(tree, name_node if name_node is not None else table_node),
            unique=bool(create.args.get("unique")),
            partial=params.args.get("where") is not None,
            schema=schema,
            if_not_exists=bool(create.args.get("exists")),
            key_names=key_names,
            uses=sorted(uses),
        )

    def _key_groups(self, start: int) -> list[list[Token]] | None:
        """The keys of the first parenthesised list at or after token `start`."""
        open_index = next((i for i in range(start, len(self.tokens))
                           if self.tokens[i].token_type == TokenType.L_PAREN), None)
        close_index = tok.closing_paren(self.tokens, open_index) if open_index is not None else None
        if open_index is None or close_index is None:
            return None
        return tok.split_top_level(self.tokens[open_index + 1:close_index])

    def _index_from_tokens(self) -> IndexDef | None:
        """CREATE INDEX that sqlglot rejects (`ON ONLY t`, `NULLS NOT DISTINCT`)."""
        cursor = tok.Cursor(self.tokens)
        cursor.accept("CREATE")
        unique = cursor.accept("UNIQUE")
        if not cursor.accept("INDEX"):
            return None
        cursor.accept("CONCURRENTLY")
        if_not_exists = cursor.accept("IF", "NOT", "EXISTS")
        name_token = None
        if not cursor.at("ON"):
            named = cursor.name()
            if named is None:
                return None
            name_token = named[1]
        if not cursor.accept("ON"):
            return None
        cursor.accept("ONLY")
        table_name = cursor.name()
        if table_name is None:
            return None
        parts, first, last = table_name
        cursor.accept("*")
        if cursor.accept("USING"):
            cursor.name()
        open_index = cursor.index()
        if open_index >= len(self.tokens) or self.tokens[open_index].token_type != TokenType.L_PAREN:
            return None
        close_index = tok.closing_paren(self.tokens, open_index)
        if close_index is None:
            return None
        key_groups = tok.split_top_level(self.tokens[open_index + 1:close_index])
        columns = [_key_column_tokens(key) for key in key_groups]
        if not columns:
            return None
        uses = {name for key in key_groups for name in _referenced_names(key)}
        partial = False
        rest = self.tokens[close_index + 1:]
        for i, (token, depth) in enumerate(tok.with_depth(rest)):
            if depth == 0 and token.token_type not in tok.QUOTED and token.text.upper() in ("WHERE", "INCLUDE"):
                # What follows INCLUDE / WHERE names columns the index depends on.
                partial = partial or token.text.upper() == "WHERE"
                uses.update(_referenced_names(rest[i + 1:]))
        return IndexDef(
            name=tok.ident(name_token) if name_token is not None else None,
            table=parts[-1],
            columns=columns,
            span=self.span(name_token) if name_token is not None else self.span(first, last),
            unique=unique,
            partial=partial,
            schema=tok.schema_of(parts),
            if_not_exists=if_not_exists,
            key_names=[_key_name(key) for key in key_groups],
            uses=sorted(uses),
        )

    # ALTER TABLE

    def _alter_table(self) -> None:
        cursor = tok.Cursor(self.tokens)
        cursor.accept("ALTER", "TABLE")
        if_exists = cursor.accept("IF", "EXISTS")
        cursor.accept("ONLY")
        named = cursor.name()
        if named is None:
            self.unread += 1
            return
        parts, first, last = named
        schema, table = tok.schema_of(parts), parts[-1]
        cursor.accept("*")
        if cursor.at("ALL", "IN"):
            return  # ALTER TABLE ALL IN TABLESPACE: moves storage only
        if not if_exists:
            self.expect("table", table, schema, self.span(first, last), "ALTER TABLE")
        header_end = cursor.index()
        for group in tok.split_top_level(self.tokens[header_end:]):
            words = [t.text.upper() for t in group[:5] if t.token_type not in tok.QUOTED]
            if words[:2] == ["ADD", "CONSTRAINT"] and words[2:5] == ["IF", "NOT", "EXISTS"]:
                self.expect("syntax", table, schema, self.span(group[0], group[4]), "ALTER TABLE",
                            message="ADD CONSTRAINT IF NOT EXISTS is not PostgreSQL syntax")
        if cursor.at("RENAME"):
            self._rename_in_table(cursor, table, schema)
            return
        for group in tok.split_top_level(self.tokens[header_end:]):
            action = row_security_action(group)
            if action is not None:
                self.events.append(RowSecurity(table=table, action=action, span=self.span(group[0], group[-1]),
                                               schema=schema))
        tree = self.tree()
        if tree is not None and isinstance(tree.expr, exp.Alter) and tree.expr.args.get("actions"):
            for action in tree.expr.args["actions"]:
                self._alter_action(tree, action, table, schema, self.span(first, last))
            return
        # sqlglot gave up on the whole statement: one action at a time.
        header = self.tokens[:header_end]
        for group in tok.split_top_level(self.tokens[header_end:]):
            parsed = self.parse(header + group)
            if isinstance(parsed, exp.Alter) and parsed.args.get("actions"):
                for action in parsed.args["actions"]:
                    self._alter_action(_Tree(parsed, 0), action, table, schema, self.span(first, last))
            else:
                self._alter_action_from_tokens(group, table, schema, self.span(first, last))

    def _alter_action(self, tree: _Tree, action: exp.Expression, table: str, schema: str | None,
                      table_span: Span) -> None:
        if isinstance(action, exp.ColumnDef):
            column = self._column_def(tree, action, table, schema, table_span)
            if column is None:
                self.unread += 1
                return
            name, type_, span, indexes = column
            if not action.args.get("exists"):
                self.expect("no-column", table, schema, span, "ADD COLUMN", name=name)
            self.events.append(AddColumn(table=table, column=name, type=type_, span=span, schema=schema))
            self.events.extend(CreateIndex(index) for index in indexes)
        elif isinstance(action, exp.Drop):
            kind = str(action.args.get("kind") or "").upper()
            for target in action.args.get("tables") or []:
                name_ident = target.this if isinstance(target, (exp.Column, exp.Table)) else None
                if not isinstance(name_ident, exp.Identifier):
                    continue
                if kind == "COLUMN":
                    span = self.node_span(tree, name_ident)
                    if not action.args.get("exists"):
                        self.expect("column", table, schema, span, "DROP COLUMN", name=_ident_name(name_ident))
                    self.events.append(DropColumn(table=table, column=_ident_name(name_ident), span=span,
                                                  schema=schema))
                elif kind == "CONSTRAINT":
                    # Dropping a PRIMARY KEY / UNIQUE constraint drops its index.
                    self.events.append(DropIndex(names=[_qualified(schema, _ident_name(name_ident))],
                                                 span=self.node_span(tree, name_ident), constraint=True))
        elif isinstance(action, exp.AlterColumn):
            ident = action.this
            dtype = action.args.get("dtype")
            if isinstance(ident, exp.Identifier) and dtype is not None:
                type_index = self._type_keyword_after(self.token_at(tree, ident))
                written = self._type_tokens(type_index + 1) if type_index is not None else ""
                type_ = normalise_type(written) if written else normalise_type(dtype.sql(dialect=self.dialect))
                self.expect("column", table, schema, self.node_span(tree, ident), "ALTER COLUMN",
                            name=_ident_name(ident))
                self.events.append(AlterColumnType(table=table, column=_ident_name(ident), type=type_,
                                                   span=self.node_span(tree, ident), schema=schema))
        elif isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                index = self._constraint_index(tree, constraint, table, schema, table_span)
                if index is not None:
                    self.events.append(CreateIndex(index))
        elif isinstance(action, exp.RenameColumn):
            old, new = action.this, action.args.get("to")
            old_ident = old.this if isinstance(old, exp.Column) else old
            new_ident = new.this if isinstance(new, exp.Column) else new
            if isinstance(old_ident, exp.Identifier) and isinstance(new_ident, exp.Identifier):
                self.expect("column", table, schema, self.node_span(tree, old_ident), "RENAME COLUMN",
                            name=_ident_name(old_ident))
                self.expect("no-column", table, schema, self.node_span(tree, new_ident), "RENAME COLUMN",
                            name=_ident_name(new_ident))
                self.events.append(RenameColumn(table=table, old=_ident_name(old_ident), new=_ident_name(new_ident),
                                                span=self.node_span(tree, new_ident), schema=schema))
        # Any other action sqlglot understood (SET, OWNER, defaults ...) changes
        # nothing the replay tracks.

    def _type_keyword_after(self, index: int | None) -> int | None:
        """The index of the TYPE keyword of `ALTER COLUMN c [SET DATA] TYPE t`."""
        if index is None:
            return None
        for i in range(index + 1, min(index + 5, len(self.tokens))):
            token = self.tokens[i]
            if token.token_type not in tok.QUOTED and token.text.upper() == "TYPE":
                return i
        return None

    def _alter_action_from_tokens(self, group: list[Token], table: str, schema: str | None, table_span: Span
                                  ) -> None:
        cursor = tok.Cursor(group)
        if cursor.accept("ADD"):
            if cursor.at("CONSTRAINT") or cursor.at("PRIMARY") or cursor.at("UNIQUE") or cursor.at("FOREIGN") \
                    or cursor.at("CHECK") or cursor.at("EXCLUDE"):
                self._add_constraint_from_tokens(cursor, table, schema, table_span)
                return
            cursor.accept("COLUMN")
            if_not_exists = cursor.accept("IF", "NOT", "EXISTS")
            named = cursor.name()
            if named is None:
                self.unread += 1
                return
            token = named[1]
            if not if_not_exists:
                self.expect("no-column", table, schema, self.span(token), "ADD COLUMN", name=tok.ident(token))
            type_ = normalise_type(self._type_tokens(self.by_start[token.start] + 1))
            self.events.append(AddColumn(table=table, column=tok.ident(token), type=type_, span=self.span(token),
                                         schema=schema))
        elif cursor.accept("DROP"):
            constraint = cursor.accept("CONSTRAINT")
            if not constraint:
                cursor.accept("COLUMN")
            if_exists = cursor.accept("IF", "EXISTS")
            named = cursor.name()
            if named is None:
                self.unread += 1
                return
            token = named[1]
            if not constraint and not if_exists:
                self.expect("column", table, schema, self.span(token), "DROP COLUMN", name=tok.ident(token))
            if constraint:
                self.events.append(DropIndex(names=[_qualified(schema, tok.ident(token))], span=self.span(token),
                                             constraint=True))
            else:
                self.events.append(DropColumn(table=table, column=tok.ident(token), span=self.span(token),
                                              schema=schema))
        elif cursor.accept("ALTER"):
            if cursor.at("CONSTRAINT"):
                return
            cursor.accept("COLUMN")
            named = cursor.name()
            if named is None:
                self.unread += 1
                return
            token = named[1]
            cursor.accept("SET", "DATA")
            type_token = cursor.token()
            if cursor.accept("TYPE") and type_token is not None:
                self.expect("column", table, schema, self.span(token), "ALTER COLUMN", name=tok.ident(token))
                written = self._type_tokens(self.by_start[type_token.start] + 1)
                self.events.append(AlterColumnType(table=table, column=tok.ident(token), type=normalise_type(written),
                                                   span=self.span(token), schema=schema))
        elif cursor.word() not in _NO_EFFECT_ACTIONS:
            self.unread += 1

    def _add_constraint_from_tokens(self, cursor: tok.Cursor, table: str, schema: str | None, table_span: Span) -> None:
        name_token = None
        if cursor.accept("CONSTRAINT"):
            named = cursor.name()
            if named is None:
                self.unread += 1
                return
            name_token = named[1]
        if cursor.accept("EXCLUDE"):
            self._exclusion_from_tokens(cursor, name_token, table, schema, table_span)
            return
        primary = cursor.accept("PRIMARY", "KEY")
        if not primary and not cursor.accept("UNIQUE"):
            return  # FOREIGN KEY, CHECK: no index
        cursor.accept("NULLS", "NOT", "DISTINCT") or cursor.accept("NULLS", "DISTINCT")
        if cursor.accept("USING", "INDEX"):
            # The existing index becomes the constraint's index, under the constraint's name.
            named = cursor.name()
            if named is not None and name_token is not None and tok.ident(named[1]) != tok.ident(name_token):
                self.events.append(RenameIndex(old=_qualified(schema, tok.ident(named[1])), new=tok.ident(name_token),
                                               span=self.span(name_token)))
            return
        open_index = cursor.index()
        tokens = cursor.tokens
        if open_index >= len(tokens) or tokens[open_index].token_type != TokenType.L_PAREN:
            self.unread += 1
            return
        close_index = tok.closing_paren(tokens, open_index)
        if close_index is None:
            self.unread += 1
            return
        columns = [_key_column_tokens(key) for key in tok.split_top_level(tokens[open_index + 1:close_index])]
        keys = [c for c in columns if c is not None]
        if not columns or len(keys) != len(columns):
            self.unread += 1
            return
        self.events.append(CreateIndex(IndexDef(
            name=tok.ident(name_token) if name_token is not None else None, table=table, columns=list(keys),
            span=self.span(name_token) if name_token is not None else table_span,
            unique=True, schema=schema, kind="primary" if primary else "unique", key_names=list(keys), uses=keys,
        )))

    def _exclusion_from_tokens(self, cursor: tok.Cursor, name_token: Token | None, table: str, schema: str | None,
                               table_span: Span) -> None:
        """EXCLUDE [USING method] (key WITH operator, ...) [INCLUDE (...)] [WHERE (...)]."""
        if cursor.accept("USING"):
            cursor.name()
        tokens = cursor.tokens
        open_index = cursor.index()
        close_index = tok.closing_paren(tokens, open_index) if open_index < len(tokens) \
            and tokens[open_index].token_type == TokenType.L_PAREN else None
        if close_index is None:
            self.unread += 1
            return
        keys = []
        for element in tok.split_top_level(tokens[open_index + 1:close_index]):
            at = max((i for i, (t, depth) in enumerate(tok.with_depth(element))
                      if depth == 0 and t.token_type not in tok.QUOTED and t.text.upper() == "WITH"), default=len(element))
            keys.append(element[:at])
        rest = tokens[close_index + 1:]
        columns = [_key_column_tokens(key) for key in keys]
        where = any(t.token_type not in tok.QUOTED and t.text.upper() == "WHERE" for t in rest)
        self.events.append(CreateIndex(IndexDef(
            name=tok.ident(name_token) if name_token is not None else None, table=table, columns=columns,
            span=self.span(name_token) if name_token is not None else table_span, partial=where, schema=schema,
            kind="exclude", key_names=[_key_name(key) for key in keys],
            uses=sorted({n for part in [*keys, rest] for n in _referenced_names(part)}),
        )))

    def _rename_in_table(self, cursor: tok.Cursor, table: str, schema: str | None) -> None:
        """RENAME [COLUMN] a TO b / RENAME TO t / RENAME CONSTRAINT a TO b.
        PostgreSQL allows no other action beside a RENAME."""
        cursor.accept("RENAME")
        if cursor.accept("TO"):
            named = cursor.name()
            if named is None:
                self.unread += 1
                return
            token = named[2]
            self.events.append(RenameTable(table=table, new=tok.ident(token), span=self.span(token), schema=schema))
            return
        if cursor.accept("CONSTRAINT"):
            old, new = cursor.name(), (cursor.accept("TO") and cursor.name())
            if old and new:
                # A PRIMARY KEY / UNIQUE constraint's index is renamed with it.
                self.events.append(RenameIndex(old=_qualified(schema, tok.ident(old[1])), new=tok.ident(new[1]),
                                               span=self.span(new[1])))
            return
        cursor.accept("COLUMN")
        old = cursor.name()
        new = cursor.accept("TO") and cursor.name()
        if not old or not new:
            self.unread += 1
            return
        self.expect("column", table, schema, self.span(old[1]), "RENAME COLUMN", name=tok.ident(old[1]))
        self.expect("no-column", table, schema, self.span(new[1]), "RENAME COLUMN", name=tok.ident(new[1]))
        self.events.append(RenameColumn(table=table, old=tok.ident(old[1]), new=tok.ident(new[1]),
                                        span=self.span(new[1]), schema=schema))

    # ALTER INDEX

    def _alter_index(self) -> None:
        cursor = tok.Cursor(self.tokens)
        cursor.accept("ALTER", "INDEX")
        if_exists = cursor.accept("IF", "EXISTS")
        named = cursor.name()
        if named is None:
            self.unread += 1
            return
        if not cursor.accept("RENAME", "TO"):
            return  # SET TABLESPACE, ATTACH PARTITION ...: nothing the replay tracks
        new = cursor.name()
        if new is None:
            self.unread += 1
            return
        parts = named[0]
        if not if_exists:
            self.expect("index", None, tok.schema_of(parts), self.span(named[1], named[2]), "ALTER INDEX",
                        name=parts[-1])
        self.expect("free-name", None, tok.schema_of(parts), self.span(new[2]), "ALTER INDEX", name=tok.ident(new[2]))
        self.events.append(RenameIndex(old=_qualified(tok.schema_of(parts), parts[-1]), new=tok.ident(new[2]),
                                       span=self.span(new[2])))

    # DROP TABLE / DROP INDEX

    def _drop(self) -> None:
        cursor = tok.Cursor(self.tokens)
        cursor.accept("DROP")
        is_table = cursor.accept("TABLE")
        if not is_table:
            cursor.accept("INDEX")
            cursor.accept("CONCURRENTLY")
        if_exists = cursor.accept("IF", "EXISTS")
        while True:
            named = cursor.name()
            if named is None:
                self.unread += 1
                return
            parts, first, last = named
            schema = tok.schema_of(parts)
            if not is_table:
                # IF EXISTS does not help when the index belongs to a constraint.
                self.expect("index" if not if_exists else "droppable-index", None, schema, self.span(first, last),
                            "DROP INDEX", name=parts[-1])
            elif not if_exists:
                self.expect("table", parts[-1], schema, self.span(first, last), "DROP TABLE")
            if is_table:
                self.events.append(DropTable(table=parts[-1], span=self.span(first, last), schema=schema))
            else:
                self.events.append(DropIndex(names=[_qualified(schema, parts[-1])], span=self.span(first, last)))
            if not cursor.accept(","):
                return

    def _temporary(self, cursor: tok.Cursor) -> None:
        named = cursor.name()
        if named is not None:
            parts, first, last = named
            self.expect("temporary", parts[-1], tok.schema_of(parts), self.span(first, last), "CREATE TABLE")

    def _select_into(self) -> None:
        """SELECT ... INTO [TEMP] [TABLE] name FROM ...: a new table whose
        columns the replay does not see (or a temporary one, for this migration)."""
        cursor = tok.Cursor(self.tokens)
        depth_of = {i: depth for i, (_, depth) in enumerate(tok.with_depth(self.tokens))}
        verb = None  # the statement's own verb, outside parentheses: only SELECT ... INTO makes a table
        while not cursor.done() and not (cursor.word() == "INTO" and depth_of.get(cursor.index()) == 0):
            if depth_of.get(cursor.index()) == 0 and cursor.word() in ("SELECT", "INSERT", "MERGE", "UPDATE", "DELETE"):
                verb = cursor.word()
            cursor.pos += 1
        if verb != "SELECT" or not cursor.accept("INTO"):
            return
        temporary = cursor.accept_any("TEMP", "TEMPORARY")
        cursor.accept("UNLOGGED")
        cursor.accept("TABLE")
        if temporary:
            self._temporary(cursor)
        elif (named := cursor.name()) is not None:
            parts, first, last = named
            self.expect("declared", parts[-1], tok.schema_of(parts), self.span(first, last), "SELECT INTO")

    # SELECT f(...) / CALL f(...)

    def _function_call(self) -> None:
        """`SELECT name(args)` without FROM, or `CALL name(args)`: a function
        that may create tables the replay cannot see (facts.FunctionCall)."""
        tokens = self.tokens
        if tokens[0].token_type == TokenType.COMMAND and len(tokens) > 1:
            # sqlglot keeps what follows CALL as one string: read it as tokens.
            offset = tokens[0].end + 1
            try:
                tokens = [tokens[0]] + [tok.shifted(t, offset) for t in get_dialect(self.dialect).tokenize(
                    self.text[offset:])]
            except TokenError:
                return
        cursor = tok.Cursor(tokens)
        cursor.accept_any("SELECT", "CALL")
        named = cursor.name()
        at = cursor.index()
        if named is None or at >= len(tokens) or tokens[at].token_type != TokenType.L_PAREN:
            return
        close = tok.closing_paren(tokens, at)
        if close is None or any(t.token_type not in tok.QUOTED and t.text.upper() == "FROM" for t in tokens[close + 1:]):
            return
        arguments = [t.text for t in tokens[at + 1:close] if t.token_type == TokenType.STRING]
        if arguments:
            self.events.append(FunctionCall(function=".".join(named[0]), arguments=arguments,
                                            span=self.span(named[1], named[2])))

    # DO blocks

    def _do(self) -> None:
        """Apply what parses on its own inside `DO [LANGUAGE x] $tag$ ... $tag$`."""
        if self.depth >= _MAX_NESTING:
            return
        opening = DOLLAR_TAG.search(self.text)
        if opening is None:
            return  # DO 'string body': rare, and not worth guessing at
        closing = self.text.find(opening.group(0), opening.end())
        body_end = closing if closing != -1 else len(self.text)
        self._apply_body(self.text[opening.end():body_end], opening.end())
        if not self.events and re.search(r"\b(?:CREATE|ALTER|DROP)\s+(?:UNIQUE\s+)?(?:TABLE|INDEX)\b",
                                        self.text, re.IGNORECASE):
            self._problem_if_org("could not apply the DDL inside this DO block; the schema replay skips it")

    def _apply_body(self, body: str, body_offset: int) -> None:
        for inner in split_statements(body, self.dialect, offset=self.start + body_offset):
            reader = _Reader(inner, self.positions, self.dialect, self.model, depth=self.depth + 1)
            # A problem inside a DO body is reported once, for the whole block (see _do).
            events, _ = reader.read()
            self.events.extend(events)

    def _plpgsql_statement(self) -> None:
        """Inside a DO body: find DDL after BEGIN / THEN / ELSE, or in
        `EXECUTE 'literal'`, and read it as a statement of its own."""
        for i, token in enumerate(self.tokens):
            if token.token_type in tok.QUOTED:
                continue
            word = token.text.upper()
            previous = self.tokens[i - 1].text.upper() if i > 0 else ""
            if word in ("CREATE", "ALTER", "DROP", "DO") and previous in _PLPGSQL_LEADS:
                self._read_from(i)
                return
            if word == "EXECUTE":
                # Only a plain '...' literal maps 1:1 onto the file text; a
                # format(...) or a concatenation is dynamic SQL.
                literal = _PLAIN_LITERAL.match(self.text, token.end + 1)
                if literal is not None:
                    self._apply_body(literal.group(1), literal.start(1))
                return

    def _read_from(self, index: int) -> None:
        rest = self.tokens[index:]
        offset = rest[0].start
        text = self.text[offset:]
        tokens = [tok.shifted(t, -offset) for t in rest]
        inner = Statement(text=text, start=self.start + offset, expr=None, tokens=tokens, base=self.start + offset)
        sub = _Reader(inner, self.positions, self.dialect, self.model, depth=self.depth)
        inner.expr = sub.parse(sub.tokens)
        events, _ = sub.read()
        self.events.extend(events)


# --- names and index keys --------------------------------------------------------


def _ident_name(ident: exp.Identifier) -> str:
    return truncate_identifier(ident.this if ident.quoted else ident.this.lower())


def _column_name(node: exp.Expression) -> str | None:
    if isinstance(node, exp.Column) and not node.table and isinstance(node.this, exp.Identifier):
        return _ident_name(node.this)
    return None


def _table_name(node: exp.Table) -> tuple[str | None, str]:
    table = _ident_name(node.this) if isinstance(node.this, exp.Identifier) else str(node.name).lower()
    db = node.args.get("db")
    schema = _ident_name(db) if isinstance(db, exp.Identifier) else None
    return (None if schema == "public" else schema), table


def _qualified(schema: str | None, name: str) -> str:
    return name if schema is None else f"{schema}.{name}"


def _function_key_name(key: exp.Expression) -> str:
    """What PostgreSQL names an expression key after: its function (`lower`),
    else `expr`."""
    node = key.this if isinstance(key, exp.Ordered) else key
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    if isinstance(node, exp.Func) and not isinstance(node, (exp.Binary, exp.Cast)):
        return node.sql_name().lower()
    return "expr"


def _key_column(key: exp.Expression) -> str | None:
    """The column an index key is on, or None for an expression key.

    PostgreSQL treats `(col)` and `col COLLATE x` as plain column keys, and an
    operator class does not change the column; anything else is an expression.
    """
    node = key.this if isinstance(key, exp.Ordered) else key
    while isinstance(node, (exp.Opclass, exp.Collate, exp.Paren)):
        node = node.this
    return _column_name(node)


def _key_column_tokens(key: list[Token]) -> str | None:
    """`_key_column` for a key read from tokens: `col [opclass] [ASC|DESC]
    [NULLS ...] [COLLATE x]` or `(col)` is a column, the rest an expression."""
    if not key:
        return None
    if key[0].token_type == TokenType.L_PAREN:
        close = tok.closing_paren(key, 0)
        inner = key[1:close] if close is not None else []
        return tok.ident(inner[0]) if len(inner) == 1 and tok.is_name(inner[0]) else None
    if not tok.is_name(key[0]):
        return None
    if len(key) > 1 and key[1].token_type in (TokenType.L_PAREN, TokenType.DOT):
        return None  # a function call or a qualified name
    if any(t.token_type not in tok.QUOTED and not tok.WORD.match(t.text.replace(" ", "_")) for t in key[1:]):
        return None  # an operator: an expression
    return tok.ident(key[0])


def _merge_constraint_indexes(indexes: list[IndexDef]) -> list[IndexDef]:
    """The indexes PostgreSQL builds for one CREATE TABLE's constraints: the
    primary key's first, and one index for constraints on the same columns
    (it keeps a name when one of them has it)."""
    primary = [i for i in indexes if getattr(i, "kind", "") == "primary"][:1]
    merged: list[IndexDef] = list(primary)
    for index in indexes:
        if any(index is p for p in primary):
            continue
        twin = next((m for m in merged if m.columns == index.columns and m.partial == index.partial
                     and "exclude" not in (m.kind, index.kind)), None)
        if twin is None:
            merged.append(index)
        elif twin.name is None and index.name is not None:
            twin.name, twin.span = index.name, index.span
    return merged


def _referenced_names(tokens: list[Token]) -> set[str]:
    """Names in an index key, INCLUDE list or WHERE clause that can be columns:
    not function names, not type names after `::`, not collations."""
    names = set()
    for i, token in enumerate(tokens):
        if not tok.is_name(token) or (token.token_type != TokenType.IDENTIFIER and token.text.upper() in _SYNTAX_WORDS):
            continue
        following = tokens[i + 1].token_type if i + 1 < len(tokens) else None
        previous = tokens[i - 1] if i > 0 else None
        if following in (TokenType.L_PAREN, TokenType.DOT):
            continue
        if previous is not None and (previous.token_type == TokenType.DCOLON or previous.text.upper() == "COLLATE"):
            continue
        names.add(tok.ident(token))
    return names


def _key_name(key: list[Token]) -> str:
    """The name PostgreSQL gives an index key when it names an unnamed index:
    the column, the function an expression calls, else `expr`."""
    if len(key) >= 2 and key[0].token_type == TokenType.L_PAREN:
        close = tok.closing_paren(key, 0)
        if close is not None:
            return _expression_name(key[1:close]) or "expr"
    if key and tok.is_name(key[0]):
        named = _call_or_name(key)
        if named is not None:
            return named[0]
    return "expr"


def _expression_name(tokens: list[Token]) -> str | None:
    """PostgreSQL's FigureColname for the common cases: a column, a function
    call, CASE, a cast (its operand, else the type), a parenthesised one of
    those; None for anything else (an operator expression)."""
    if not tokens:
        return None
    if tokens[0].token_type == TokenType.L_PAREN and tok.closing_paren(tokens, 0) == len(tokens) - 1:
        return _expression_name(tokens[1:-1])
    casts = [i for i, (t, depth) in enumerate(tok.with_depth(tokens)) if t.token_type == TokenType.DCOLON and depth == 0]
    if casts:
        operand = _expression_name(tokens[:casts[-1]])
        type_names = [t for t in tokens[casts[-1] + 1:] if tok.is_name(t)]
        return operand or (tok.ident(type_names[-1]) if type_names else None)
    if tokens[0].token_type not in tok.QUOTED and tokens[0].text.upper() == "CASE":
        return "case"
    if tok.is_name(tokens[0]):
        named = _call_or_name(tokens)
        if named is not None and named[1] == len(tokens):
            return named[0]
    return None


def _call_or_name(tokens: list[Token]) -> tuple[str, int] | None:
    """A leading `name`, `a.b` or `f(...)`: its name and how many tokens it takes."""
    i = 0
    name = tok.ident(tokens[0])
    while i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT and tok.is_name(tokens[i + 2]):
        i += 2
        name = tok.ident(tokens[i])
    if i + 1 < len(tokens) and tokens[i + 1].token_type == TokenType.L_PAREN:
        close = tok.closing_paren(tokens, i + 1)
        return (name, close + 1) if close is not None else None
    return name, i + 1

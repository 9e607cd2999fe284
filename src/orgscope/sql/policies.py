"""Row level security statements -> schema events (SPEC section 11).

sqlglot reads `CREATE POLICY`, `ALTER POLICY`, `DROP POLICY` and `ALTER TABLE
... ENABLE ROW LEVEL SECURITY` only as commands, so they are read from the
statement's tokens, with positions, like the other DDL the parser rejects.

A policy's USING and WITH CHECK expressions become `PolicyExpr` facts: each
top-level OR branch is turned into the query `SELECT 1 FROM <table> WHERE
<branch>`, so that the section 3 analysis judges a policy exactly like a
query on its table (an unqualified org column is the table's own).
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from orgscope.facts import (
    AlterPolicy,
    CreatePolicy,
    DropPolicy,
    PolicyBranch,
    PolicyExpr,
    Query,
    RowSecurity,
    SchemaEvent,
    Span,
)
from orgscope.model import TenancyModel
from orgscope.sql import tokens as tok
from orgscope.sql.split import get_dialect, plain_parse_error

_COMMANDS = {"ALL": "all", "SELECT": "select", "INSERT": "insert", "UPDATE": "update", "DELETE": "delete"}
# ALTER TABLE actions on row level security, as words.
RLS_ACTIONS = {
    ("ENABLE", "ROW", "LEVEL", "SECURITY"): "enable",
    ("DISABLE", "ROW", "LEVEL", "SECURITY"): "disable",
    ("FORCE", "ROW", "LEVEL", "SECURITY"): "force",
    ("NO", "FORCE", "ROW", "LEVEL", "SECURITY"): "no_force",
}


class _Fixed:
    """Positions for a synthetic query: every node maps to the policy's span."""

    def __init__(self, span: Span) -> None:
        self._span = span

    def span(self, start: int, end: int) -> Span:
        return self._span


def policy_expression(text: str, table: str, schema: str | None, span: Span, model: TenancyModel,
                      dialect: str = "postgres") -> PolicyExpr:
    """The facts of a USING / WITH CHECK expression on `schema.table`: one
    branch per top-level OR branch, none for `false` (nothing gets through)."""
    from orgscope.sql.extract import _Builder, _disjuncts, _unparen

    written = " ".join(text.split())
    target = f'"{schema}"."{table}"' if schema else f'"{table}"'
    try:
        parsed = get_dialect(dialect).parser(error_level=ErrorLevel.RAISE).parse(
            get_dialect(dialect).tokenize(f"SELECT 1 FROM {target} WHERE ({text})"), text)
    except (ParseError, TokenError) as exc:
        return PolicyExpr(written, error=plain_parse_error(str(exc).splitlines()[0]) if str(exc) else "syntax error")
    except Exception as exc:  # a parser bug must not stop the run
        return PolicyExpr(written, error=f"{type(exc).__name__}: {exc}")
    select = parsed[0] if parsed else None
    where = select.args.get("where") if isinstance(select, exp.Select) else None
    if where is None:
        return PolicyExpr(written, error="not an expression")
    expression = _unparen(where.this)
    parts = _disjuncts(expression) if isinstance(expression, exp.Or) else [expression]
    result = PolicyExpr(written)
    texts = _top_level_disjuncts(text, dialect)
    if len(texts) != len(parts):
        texts = [part.sql(dialect=dialect) for part in parts]
    for part, branch_text in zip(parts, texts):
        if isinstance(part, exp.Boolean) and not part.this:
            continue  # `false` lets nothing through: no branch
        branch = exp.select("1").from_(select.args["from_"].this.copy()).where(part.copy())
        query = Query(kind="select", span=span, text=branch_text.lower(), origin="policy")
        try:
            _Builder(query, _Fixed(span), 0, model).statement(branch)
        except RecursionError:
            return PolicyExpr(written, error="expression too deeply nested to analyse")
        result.branches.append(PolicyBranch(text=branch_text, query=query))
    return result


def _top_level_disjuncts(text: str, dialect: str) -> list[str]:
    """The OR branches of `text` as written (outer parentheses removed)."""

    try:
        tokens = list(get_dialect(dialect).tokenize(text))
    except Exception:
        return []
    while tokens and tokens[0].token_type == TokenType.L_PAREN and tok.closing_paren(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return [" ".join(text[p[0].start:p[-1].end + 1].split()) for p in tok.split_top_level(tokens, TokenType.OR)]


class PolicyReader:
    """Reads one policy or row level security statement of a DDL reader
    (`orgscope.sql.ddl._Reader`): its tokens, text and positions."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.tokens: list[Token] = reader.tokens
        self.events: list[SchemaEvent] = []

    # --- helpers -------------------------------------------------------------

    def _cursor(self):

        return tok.Cursor(self.tokens)

    def _table(self, cursor) -> tuple[str, str | None] | None:

        named = cursor.name()
        if named is None:
            return None
        parts = named[0]
        return parts[-1], tok.schema_of(parts)

    def _expression(self, cursor, table: str, schema: str | None, span: Span) -> PolicyExpr | None:
        """The parenthesised expression at the cursor, moving past it."""

        open_index = cursor.index()
        if open_index >= len(self.tokens) or self.tokens[open_index].token_type != TokenType.L_PAREN:
            return None
        close_index = tok.closing_paren(self.tokens, open_index)
        if close_index is None or close_index == open_index + 1:
            return None
        text = self.reader.text[self.tokens[open_index + 1].start:self.tokens[close_index - 1].end + 1]
        while not cursor.done() and cursor.index() <= close_index:
            cursor.pos += 1
        expression = policy_expression(text, table, schema, span, self.reader.model, self.reader.dialect)
        if expression.error is not None and self.reader.model.is_org_table(table, schema):
            self.reader._problem_if_org(f"could not read the policy expression ({expression.error}); "
                                        "orgscope cannot judge what it scopes")
        return expression

    def _roles(self, cursor) -> list[str]:

        roles = []
        while not cursor.done():
            token = cursor.token()
            roles.append(tok.ident(token) if token.token_type == TokenType.IDENTIFIER else token.text.lower())
            cursor.pos += 1
            if not cursor.accept(","):
                break
        return roles

    def _name_and_table(self, cursor):
        """`name ON [schema.]table`: the name, its token, the table and schema."""

        token = cursor.token()
        if token is None or token.token_type == TokenType.STRING:
            return None
        cursor.pos += 1
        if not cursor.accept("ON"):
            return None
        table = self._table(cursor)
        if table is None:
            return None
        return tok.ident(token), token, table[0], table[1]

    # --- statements --------------------------------------------------------------

    def create_policy(self) -> list[SchemaEvent]:
        cursor = self._cursor()
        cursor.accept("CREATE")
        cursor.accept("OR", "REPLACE")
        cursor.accept("POLICY")
        head = self._name_and_table(cursor)
        if head is None:
            self.reader.unread += 1
            return []
        name, token, table, schema = head
        event = CreatePolicy(name=name, table=table, schema=schema, span=self.reader.span(token))
        self._clauses(cursor, event, table, schema)
        return [event]

    def _clauses(self, cursor, event, table: str, schema: str | None) -> None:
        """AS, FOR, TO, USING and WITH CHECK, in any order PostgreSQL accepts."""
        while not cursor.done():
            if cursor.accept("AS"):
                kind = cursor.accept_any("PERMISSIVE", "RESTRICTIVE")
                if kind is None:
                    self.reader.unread += 1
                    return
                event.permissive = kind == "PERMISSIVE"
            elif cursor.accept("FOR"):
                command = cursor.accept_any(*_COMMANDS)
                if command is None:
                    self.reader.unread += 1
                    return
                event.command = _COMMANDS[command]
            elif cursor.accept("TO"):
                event.roles = self._roles(cursor)
            elif cursor.accept("USING"):
                event.using = self._expression(cursor, table, schema, event.span)
            elif cursor.accept("WITH", "CHECK"):
                event.check = self._expression(cursor, table, schema, event.span)
            else:
                self.reader.unread += 1
                return

    def _head(self, cursor, *words: str):
        """`words [IF EXISTS] name ON table`, or None (counted as unread)."""
        cursor.accept(*words)
        cursor.accept("IF", "EXISTS")
        head = self._name_and_table(cursor)
        if head is None:
            self.reader.unread += 1
        return head

    def alter_policy(self) -> list[SchemaEvent]:

        cursor = self._cursor()
        head = self._head(cursor, "ALTER", "POLICY")
        if head is None:
            return []
        name, token, table, schema = head
        if cursor.accept("RENAME", "TO"):
            new = cursor.token()
            if new is None:
                self.reader.unread += 1
                return []
            return [AlterPolicy(name=name, table=table, schema=schema, span=self.reader.span(new),
                                new_name=tok.ident(new))]
        event = AlterPolicy(name=name, table=table, schema=schema, span=self.reader.span(token))
        self._clauses(cursor, event, table, schema)
        return [event]

    def drop_policy(self) -> list[SchemaEvent]:
        cursor = self._cursor()
        head = self._head(cursor, "DROP", "POLICY")
        if head is None:
            return []
        name, token, table, schema = head
        return [DropPolicy(name=name, table=table, schema=schema, span=self.reader.span(token))]


def row_security_action(group: list[Token]) -> str | None:
    """`enable` for the tokens `ENABLE ROW LEVEL SECURITY` of an ALTER TABLE action, ..."""
    if any(t.token_type in (TokenType.IDENTIFIER, TokenType.STRING) for t in group):
        return None
    return RLS_ACTIONS.get(tuple(w for t in group for w in t.text.upper().split()))


__all__ = ["PolicyReader", "policy_expression", "row_security_action", "RowSecurity"]

"""Split SQL text into statements and parse each one on its own.

The sqlglot tokenizer already understands comments, quoted identifiers,
string literals and dollar-quoted bodies, so semicolons inside any of them
never split a statement. Each statement is parsed from its own tokens (no
second tokenizing pass), so a syntax error stays inside its statement.
Token offsets are offsets into the whole text: positions need no fixing up.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError
from sqlglot.tokens import Token, TokenType

from orgscope.sql.clickhouse import without_table_modifiers

# sqlglot logs a warning for every statement it falls back to a Command for;
# orgscope reports what matters itself.
logging.getLogger("sqlglot").setLevel(logging.ERROR)


@dataclass(slots=True)
class Statement:
    """One statement: its text, where it starts, and its parse (or why not)."""

    text: str  # the statement's own text, without the trailing semicolon
    start: int  # offset of text[0] in the whole text
    expr: exp.Expression | None  # None when it could not be parsed
    error: str | None = None  # the parser's message when expr is None
    tokens: list[Token] | None = None
    # Add this to an offset recorded in expr (node meta, token start) to get
    # the offset in the caller's text.
    base: int = 0

    @property
    def first_word(self) -> str:
        match = _FIRST_WORD.match(self.text)
        return match.group(1).upper() if match else ""


_FIRST_WORD = re.compile(r"\s*\(*\s*([A-Za-z]+)")


@lru_cache(maxsize=8)
def get_dialect(name: str) -> Dialect:
    return Dialect.get_or_raise(name)


def split_statements(text: str, dialect: str = "postgres", *, parse: bool = True, offset: int = 0,
                     wanted=None) -> list[Statement]:
    """Statements of `text` in order. `offset` is added to every start (for
    statements nested in a larger text, such as a DO body). `wanted(words)`
    may decline to parse a statement (it is then returned unparsed, with no
    error), which keeps the prefilter cheap.
    """
    d = get_dialect(dialect)
    try:
        tokens = d.tokenize(text)
    except TokenError as exc:
        return _split_on_semicolons(text, d, parse, offset, str(exc), wanted)
    statements: list[Statement] = []
    chunk: list[Token] = []
    for token in tokens + [None]:  # type: ignore[operator]
        if token is None or token.token_type == TokenType.SEMICOLON:
            if chunk:
                statements.append(_statement(text, chunk, d, parse, offset, wanted))
            chunk = []
        else:
            chunk.append(token)
    return statements


def _statement(text: str, chunk: list[Token], d: Dialect, parse: bool, offset: int, wanted) -> Statement:
    start = _token_start(text, chunk[0])
    end = chunk[-1].end + 1
    body = text[start:end]
    stmt = Statement(text=body, start=start + offset, expr=None, tokens=chunk, base=offset)
    if not parse or (wanted is not None and not wanted(body)):
        return stmt
    try:
        expressions = d.parser(error_level=ErrorLevel.RAISE).parse(without_table_modifiers(chunk), text)
    except (ParseError, TokenError) as exc:
        stmt.error = _first_line(exc)
        return stmt
    except Exception as exc:  # sqlglot bugs must not stop the run
        stmt.error = f"{type(exc).__name__}: {_first_line(exc)}"
        return stmt
    stmt.expr = next((e for e in expressions if e is not None), None)
    if stmt.expr is None:
        stmt.error = "empty statement"
    return stmt


def _token_start(text: str, token: Token) -> int:
    """A token's start offset; leading comments attached to it are not part of it."""
    return token.start


def _first_line(exc: Exception) -> str:
    message = str(exc).splitlines()[0] if str(exc) else "syntax error"
    return plain_parse_error(message)


_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: -?\d+, col: -?\d+, "
                         r"start: -?\d+, end: -?\d+, comments: \[.*?\]>")
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '(?:[\w.]+\.)?(\w+)'>")
_CLASS_REPR = re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>")


def plain_parse_error(message: str) -> str:
    """sqlglot's message in the words of SQL: no ANSI codes, no positions of
    its own (orgscope reports real ones), no class names, no token reprs and
    no snippet cut mid-word."""
    message = re.sub(r"\x1b\[[0-9;]*m", "", message)
    message = re.sub(r"\.?\s*Line -?\d+, Col: -?\d+\.?", "", message).strip()
    if message.startswith("Error tokenizing"):
        return "the statement cannot be split into tokens (an unclosed quote, comment or dollar quote?)"
    message = _MISSING.sub(lambda m: f"incomplete {m.group(2).upper()} (a required part is missing)", message)
    message = _TOKEN_REPR.sub(lambda m: _token_words(m.group(1), m.group(2)), message)
    return _CLASS_REPR.sub(lambda m: m.group(1).upper(), message) or "syntax error"


def _token_words(kind: str, text: str) -> str:
    return "the end of the statement" if kind == "SENTINEL" or not text.strip() else repr(text)


def _split_on_semicolons(text: str, d: Dialect, parse: bool, offset: int, error: str, wanted) -> list[Statement]:
    """Fallback for text the tokenizer rejects (say, an unterminated string):
    split on semicolons outside quotes/comments as best we can, and parse what
    parses on its own."""
    statements = []
    for start, end in _naive_ranges(text):
        body = text[start:end]
        if not body.strip():
            continue
        lead = len(body) - len(strip_sql_comments(body))
        body = body[lead:].rstrip()
        if not body:
            continue
        stmt = Statement(text=body, start=start + lead + offset, expr=None, base=start + lead + offset)
        if parse and (wanted is None or wanted(body)):
            try:
                stmt.expr = sqlglot.parse_one(body, dialect=d)
            except Exception as exc:
                stmt.error = _first_line(exc) or error
        statements.append(stmt)
    return statements


DOLLAR_TAG = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


def _naive_ranges(text: str):
    """(start, end) of each semicolon-separated piece, skipping semicolons in
    quotes, comments and dollar-quoted bodies. An unterminated one ends its
    piece at the end of its line: the broken statement is reported, and the
    statements after it are still read (not swallowed into a string that
    never closes)."""
    start = i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        closer = None
        if ch in "'\"":
            closer, skip = ch, i + 1
        elif text.startswith("/*", i):
            closer, skip = "*/", i + 2  # an unclosed one ends at its line, below
        elif (after := _comment_end(text, i)) is not None:
            i = after
            continue
        elif ch == "$" and (tag := DOLLAR_TAG.match(text, i)):
            closer, skip = tag.group(0), tag.end()
        if closer is not None:
            j = text.find(closer, skip)
            if j != -1:
                i = j + len(closer)
                continue
            line_end = text.find("\n", i)
            if line_end == -1:
                break
            yield start, line_end
            i = start = line_end + 1
        elif ch == ";":
            yield start, i
            i += 1
            start = i
        else:
            i += 1
    yield start, n


def strip_sql_comments(text: str) -> str:
    """Text without leading whitespace and SQL comments (for 'starts with' tests)."""
    i = 0
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
        elif (after := _comment_end(text, i)) is not None:
            i = after
        else:
            break
    return text[i:]


def _comment_end(text: str, i: int) -> int | None:
    """Where the SQL comment that starts at `i` ends (an unterminated one runs
    to the end); None when no comment starts there."""
    if text.startswith("--", i):
        j = text.find("\n", i)
        return len(text) if j == -1 else j + 1
    if text.startswith("/*", i):
        j = text.find("*/", i + 2)
        return len(text) if j == -1 else j + 2
    return None

"""Reading PostgreSQL DDL token by token: names, keywords, parentheses.

Shared by the DDL reader (ddl.py) and the policy reader (policies.py) for the
statements sqlglot does not parse into a tree.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator

from sqlglot.tokens import Token, TokenType

from orgscope.postgres import truncate_identifier

QUOTED = (TokenType.IDENTIFIER, TokenType.STRING)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")


def is_name(token: Token) -> bool:
    return token.token_type == TokenType.IDENTIFIER or (
        token.token_type != TokenType.STRING and bool(WORD.match(token.text))
    )


def ident(token: Token) -> str:
    """A name token as PostgreSQL sees it: quoted kept, unquoted lower-cased,
    either cut to 63 bytes."""
    return truncate_identifier(token.text if token.token_type == TokenType.IDENTIFIER else token.text.lower())


def schema_of(parts: list[str]) -> str | None:
    """The schema of a qualified name's parts (`db.schema.table` keeps `schema`)."""
    if len(parts) < 2:
        return None
    schema = parts[-2]
    return None if schema == "public" else schema


def shifted(token: Token, delta: int) -> Token:
    return Token(token.token_type, token.text, token.line, token.col, token.start + delta, token.end + delta,
                 token.comments)


class Cursor:
    """Keyword matching over tokens; a token such as `PRIMARY KEY` counts as
    two words, a quoted identifier is never a keyword."""

    def __init__(self, tokens: list[Token]) -> None:
        self.words: list[tuple[str | None, int]] = []  # (keyword, token index)
        for i, token in enumerate(tokens):
            if token.token_type in QUOTED:
                self.words.append((None, i))
            else:
                for word in token.text.upper().split() or [""]:
                    self.words.append((word, i))
        self.tokens = tokens
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.words)

    def token(self, ahead: int = 0) -> Token | None:
        at = self.pos + ahead
        return self.tokens[self.words[at][1]] if at < len(self.words) else None

    def word(self, ahead: int = 0) -> str | None:
        at = self.pos + ahead
        return self.words[at][0] if at < len(self.words) else None

    def at(self, *words: str) -> bool:
        return all(self.word(k) == w for k, w in enumerate(words))

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.pos += len(words)
            return True
        return False

    def accept_any(self, *words: str) -> str | None:
        word = self.word()
        if word in words:
            self.pos += 1
            return word
        return None

    def name(self) -> tuple[list[str], Token, Token] | None:
        """A possibly qualified name: its normalised parts and first/last token."""
        first = self.token()
        if first is None or not is_name(first) or self._splits_token():
            return None
        parts = [ident(first)]
        last = first
        self.pos += 1
        while self.word() == "." and self.token(1) is not None and is_name(self.token(1)):
            last = self.token(1)
            parts.append(ident(last))
            self.pos += 2
        return parts, first, last

    def _splits_token(self) -> bool:
        # The second word of a multi-word token (`KEY` of `PRIMARY KEY`) is no name.
        return self.pos > 0 and self.words[self.pos - 1][1] == self.words[self.pos][1]

    def index(self) -> int:
        """The token index of the current word (len(tokens) at the end)."""
        return self.words[self.pos][1] if self.pos < len(self.words) else len(self.tokens)


def with_depth(tokens: Iterable[Token]) -> Iterator[tuple[Token, int]]:
    """Each token with the number of parentheses open before it: a `(` stands
    at the depth around it, its `)` one deeper, what is between them deeper still."""
    depth = 0
    for token in tokens:
        yield token, depth
        if token.token_type == TokenType.L_PAREN:
            depth += 1
        elif token.token_type == TokenType.R_PAREN:
            depth -= 1


def split_top_level(tokens: list[Token], separator: TokenType = TokenType.COMMA) -> list[list[Token]]:
    """Tokens split at commas (or `separator`) outside parentheses."""
    groups: list[list[Token]] = [[]]
    for token, depth in with_depth(tokens):
        if token.token_type == separator and depth == 0:
            groups.append([])
        else:
            groups[-1].append(token)
    return [g for g in groups if g]


def closing_paren(tokens: list[Token], open_index: int) -> int | None:
    for offset, (token, depth) in enumerate(with_depth(tokens[open_index:])):
        if token.token_type == TokenType.R_PAREN and depth == 1:
            return open_index + offset
    return None

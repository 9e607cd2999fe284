"""ClickHouse's table modifiers in a statement read as PostgreSQL.

`FROM events FINAL` and `FROM events AS e SAMPLE 1/10 OFFSET 1/2` change which
versions of a table's rows, or how many of them, a query reads; never whose.
The PostgreSQL parser would take FINAL for an alias (a fix would then name
`final.clerk_org_id`) and reject SAMPLE, so these tokens are left out of what
it is given. sqlglot's ClickHouse dialect reads the modifiers, but neither the
bind parameters Python drivers write (`%(org)s`, `$1`) nor a bare table (it
wraps it in a node of its own), so the rest of the statement stays PostgreSQL;
ClickHouse's own query parameter `{org:String}`, which PostgreSQL reads as a
one-field struct, is a bind value.
"""

from __future__ import annotations

from sqlglot import exp
from sqlglot.tokens import Token, TokenType

from orgscope.sql.tokens import QUOTED, is_name

_MODIFIERS = frozenset({"FINAL", "SAMPLE"})
# Words that may follow a table reference (and so its modifiers).
_AFTER_TABLE = frozenset({
    "WHERE", "PREWHERE", "ON", "USING", "JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "GLOBAL", "ANY", "ALL",
    "ASOF", "SEMI", "ANTI", "ARRAY", "GROUP", "ORDER", "LIMIT", "HAVING", "WINDOW", "UNION", "EXCEPT", "INTERSECT",
    "SETTINGS", "FORMAT", "SAMPLE",
})
_OPENS_TABLE = (TokenType.FROM, TokenType.JOIN, TokenType.COMMA)


def without_table_modifiers(tokens: list[Token]) -> list[Token]:
    """`tokens` without the FINAL and SAMPLE clauses that follow a table reference."""
    if not any(t.token_type == TokenType.VAR and t.text.upper() in _MODIFIERS for t in tokens):
        return tokens
    # `FROM agents final WHERE final.name = ...` is PostgreSQL's alias `final`.
    qualifiers = {t.text.lower() for t, after in zip(tokens, tokens[1:]) if after.token_type == TokenType.DOT}
    dropped: set[int] = set()
    for i, token in enumerate(tokens):
        word = token.text.upper()
        if token.token_type != TokenType.VAR or word not in _MODIFIERS:
            continue
        before = i - 1
        while before in dropped:  # `FROM t FINAL SAMPLE 0.1`
            before -= 1
        if not _ends_table_reference(tokens, before):
            continue
        end = i + 1 if word == "FINAL" else _sample_end(tokens, i + 1)
        if end is None or not _after_table(tokens, end) or (word == "FINAL" and "final" in qualifiers):
            continue
        dropped.update(range(i, end))
    return [t for i, t in enumerate(tokens) if i not in dropped] if dropped else tokens


def _ends_table_reference(tokens: list[Token], k: int) -> bool:
    """tokens[k] ends `FROM name[.name]* [[AS] alias]` (or the same after JOIN or a comma)."""
    start = _dotted_start(tokens, k)
    if start is None:
        return False
    if _opens_table(tokens, start - 1):
        return True
    if start != k:  # a qualified name is no alias
        return False
    before_alias = k - 2 if k >= 1 and tokens[k - 1].token_type == TokenType.ALIAS else k - 1
    start = _dotted_start(tokens, before_alias)
    return start is not None and _opens_table(tokens, start - 1)


def _dotted_start(tokens: list[Token], k: int) -> int | None:
    if k < 0 or not is_name(tokens[k]):
        return None
    while k >= 2 and tokens[k - 1].token_type == TokenType.DOT and is_name(tokens[k - 2]):
        k -= 2
    return k


def _opens_table(tokens: list[Token], k: int) -> bool:
    return k >= 0 and tokens[k].token_type in _OPENS_TABLE


def _sample_end(tokens: list[Token], i: int) -> int | None:
    """The index after `SAMPLE k [OFFSET m]` (k and m numbers or ratios `1/10`); None if it is not one."""
    i = _ratio_end(tokens, i)
    if i is not None and i < len(tokens) and tokens[i].token_type == TokenType.OFFSET:
        return _ratio_end(tokens, i + 1)
    return i


def _ratio_end(tokens: list[Token], i: int) -> int | None:
    if i >= len(tokens) or tokens[i].token_type != TokenType.NUMBER:
        return None
    if i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.SLASH and tokens[i + 2].token_type == TokenType.NUMBER:
        return i + 3
    return i + 1


def _after_table(tokens: list[Token], i: int) -> bool:
    if i >= len(tokens) or tokens[i].token_type in (TokenType.COMMA, TokenType.R_PAREN):
        return True
    token = tokens[i]
    words = token.text.upper().split()
    return token.token_type not in QUOTED and bool(words) and words[0] in _AFTER_TABLE


def is_query_parameter(node: exp.Expression) -> bool:
    """`{name:Type}` (`{org:String}`, `{orgs:Array(String)}`), read as a one-field struct."""
    if not isinstance(node, exp.Struct) or len(node.expressions) != 1:
        return False
    field = node.expressions[0]
    return (isinstance(field, exp.PropertyEQ) and isinstance(field.this, exp.Identifier)
            and isinstance(field.expression, (exp.Column, exp.Func)))

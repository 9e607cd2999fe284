"""SQL inside functions and procedures defined in migrations (SPEC section 11).

A function body runs at request time, often as `SECURITY DEFINER` (as its
owner, past every row level security policy), so its queries are
query-checked by section 3 even though migrations' own DML is not. sqlglot
reads `CREATE FUNCTION` only as a command: the name, parameters, language,
security and the `$tag$`-quoted body come from the tokens.

* `LANGUAGE sql`: each statement of the body is a query.
* `LANGUAGE plpgsql`: the body is cut at its block words (BEGIN, THEN, ELSE,
  LOOP, EXCEPTION ...); a piece that starts with a query word, `PERFORM` or
  `RETURN QUERY` is a query. Conditions (`IF EXISTS (SELECT ...)`) and
  dynamic SQL (`EXECUTE format(...)`) are not read.

Parameters and declared variables are bind values, so `WHERE clerk_org_id =
p_org` scopes. Positions point into the migration file.
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from orgscope.facts import Problem, Query
from orgscope.sql import tokens as tok
from orgscope.sql.split import Statement, split_statements

_MODES = frozenset({"IN", "OUT", "INOUT", "VARIADIC"})
# Words of PL/pgSQL that end one piece of a body and start the next.
_BLOCK_WORDS = frozenset({"BEGIN", "THEN", "ELSE", "LOOP", "DECLARE", "EXCEPTION", "END"})
_QUERY_WORDS = frozenset({"SELECT", "WITH", "INSERT", "UPDATE", "DELETE", "MERGE"})


def is_function(stmt: Statement) -> bool:
    words = [t.text.upper() for t in (stmt.tokens or [])[:5]]
    return words[:1] == ["CREATE"] and any(w in ("FUNCTION", "PROCEDURE") for w in words[1:5])


def function_queries(stmt: Statement, positions, model, dialect: str = "postgres") -> tuple[list[Query], list[Problem]]:
    """The queries of a CREATE FUNCTION / PROCEDURE body, with their function."""
    from orgscope.sql.extract import analyze_statement

    tokens = list(stmt.tokens or [])
    head = _head(tokens)
    if head is None:
        return [], []
    name, params, language, definer, body = head
    if language not in ("sql", "plpgsql") or body is None:
        return [], []
    body_text, body_start = body
    offset = stmt.base + body_start  # token offsets are relative to the text split at `stmt.base`
    pieces = _sql_pieces(body_text, offset, dialect) if language == "sql" else \
        _plpgsql_pieces(body_text, offset, dialect)
    queries: list[Query] = []
    problems: list[Problem] = []
    names = frozenset(params) | pieces[1]
    for piece in pieces[0]:
        found, trouble = analyze_statement(piece, positions, model=model, origin="sql", params=names)
        for query in found:
            query.function = name
            query.security_definer = definer
        queries.extend(found)
        problems.extend(trouble)
    return queries, problems


def _head(tokens: list[Token]):
    """(name, parameter names, language, SECURITY DEFINER, (body, its offset))."""
    i = next((k for k, t in enumerate(tokens) if t.text.upper() in ("FUNCTION", "PROCEDURE")), None)
    if i is None or i + 1 >= len(tokens):
        return None
    i += 1
    name_parts = [tokens[i].text]
    while i + 2 < len(tokens) and tokens[i + 1].token_type == TokenType.DOT:
        name_parts.append(tokens[i + 2].text)
        i += 2
    i += 1
    params: list[str] = []
    if i < len(tokens) and tokens[i].token_type == TokenType.L_PAREN:
        close = tok.closing_paren(tokens, i)
        if close is None:
            return None
        for group in tok.split_top_level(tokens[i + 1:close]):
            words = [t for t in group if t.text.upper() not in _MODES] or group
            if len(words) >= 2 and words[0].token_type in (TokenType.VAR, TokenType.IDENTIFIER):
                params.append(words[0].text if words[0].token_type == TokenType.IDENTIFIER else words[0].text.lower())
        i = close + 1
    language, definer, body = None, False, None
    for k in range(i, len(tokens)):
        word = tokens[k].text.upper()
        if word == "LANGUAGE" and k + 1 < len(tokens):
            # `LANGUAGE sql SECURITY DEFINER`: the tokenizer may read `sql SECURITY` as one keyword.
            language = tokens[k + 1].text.strip("'\"").lower().split()[0]
        elif word.split()[-1:] == ["SECURITY"] and k + 1 < len(tokens):
            definer = tokens[k + 1].text.upper() == "DEFINER"
        elif tokens[k].token_type == TokenType.HEREDOC_STRING and body is None:
            body = tokens[k]
    if body is None:
        return ".".join(name_parts), params, language, definer, None
    return ".".join(name_parts), params, language, definer, (body.text, _body_offset(body))


def _body_offset(token: Token) -> int:
    """Where the body text starts: after the opening `$tag$` of the token."""
    return token.start + (token.end + 1 - token.start - len(token.text)) // 2


def _sql_pieces(body: str, offset: int, dialect: str) -> tuple[list[Statement], frozenset[str]]:
    statements = [s for s in split_statements(body, dialect, offset=offset)
                  if s.tokens and s.tokens[0].text.upper() in _QUERY_WORDS]
    return statements, frozenset()


def _plpgsql_pieces(body: str, offset: int, dialect: str) -> tuple[list[Statement], frozenset[str]]:
    """The query pieces of a PL/pgSQL body, and the variables it declares."""
    pieces: list[Statement] = []
    variables: set[str] = set()
    declaring = False
    for statement in split_statements(body, dialect, parse=False):
        for tokens in _cut(statement.tokens or []):
            first = tokens[0].text.upper()
            if first in ("DECLARE", "BEGIN") and len(tokens) == 1:
                declaring = first == "DECLARE"
                continue
            if declaring:
                # `v_org text := ...`; the tokenizer may hand the rest of a
                # DECLARE over as one string token.
                words = " ".join(t.text for t in tokens).split()
                if len(words) >= 2:
                    variables.add(words[0].lower())
                continue
            start_index = _query_start(tokens)
            if start_index is None:
                continue
            piece_tokens = tokens[start_index:]
            start, end = piece_tokens[0].start, piece_tokens[-1].end + 1
            text = body[start:end]
            if piece_tokens[0].text.upper() == "PERFORM":  # PERFORM runs a SELECT and drops its rows
                text = "SELECT " + text[len("PERFORM"):]
            pieces.extend(split_statements(text, dialect, offset=offset + start))
    return pieces, frozenset(variables)


def _cut(tokens: list[Token]) -> list[list[Token]]:
    """A body statement cut at the block words outside parentheses; DECLARE
    and BEGIN stay as groups of their own (they open and close declarations)."""
    out: list[list[Token]] = [[]]
    for token, depth in tok.with_depth(tokens):
        word = token.text.upper()
        if depth == 0 and token.token_type != TokenType.STRING and word in _BLOCK_WORDS:
            if word in ("DECLARE", "BEGIN"):
                out.append([token])
            out.append([])
            continue
        out[-1].append(token)
    return [group for group in out if group]


def _query_start(tokens: list[Token]) -> int | None:
    """The index of the token a query starts at: a query word, PERFORM, or
    the query after RETURN QUERY; None for anything else."""
    first = tokens[0].text.upper()
    if first in _QUERY_WORDS or first == "PERFORM":
        return 0
    if first == "RETURN" and len(tokens) > 2 and tokens[1].text.upper() == "QUERY":
        return 2 if tokens[2].text.upper() in _QUERY_WORDS else None
    if first == "FOR":  # FOR r IN SELECT ... LOOP
        words = [t.text.upper() for t in tokens]
        at = words.index("IN") + 1 if "IN" in words else None
        return at if at is not None and at < len(words) and words[at] in _QUERY_WORDS else None
    return None
